"""Is a page inert? Read as a browser reads it (an HTML parser, not patterns on the text)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

SAFE_LINK_SCHEMES = {"", "http", "https", "mailto"}  # "": a link within the page or beside it
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcset", "background"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.policy: str | None = None
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "content-security-policy":
            self.policy = self.policy or attributes.get("content", "")
        if tag == "script":
            self._in_script = True
            if "src" in attributes:
                self.problems.append(f"a script loaded from {attributes['src']!r}")
        if tag in ("iframe", "object", "embed", "frame", "base", "form"):
            self.problems.append(f"a <{tag}>")
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"an event handler {name}= on <{tag}>")
            if name in URL_ATTRIBUTES:
                scheme = urlsplit(value.strip()).scheme.lower()
                if tag == "img" and name == "src":
                    if scheme != "data":
                        self.problems.append(f"an image loaded from {value[:80]!r}")
                elif scheme not in SAFE_LINK_SCHEMES:
                    self.problems.append(f"a {scheme}: URL in <{tag} {name}>")
            if name == "style" and "url(" in value.replace(" ", "").lower():
                self.problems.append(f"a style that loads a URL on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def problems(page: str, scripts_allowed: bool = False) -> list[str]:
    """What in ``page`` could run or load something; [] for an inert page. A page must also carry a
    Content-Security-Policy that forbids scripts (or, with ``scripts_allowed``, allows only its own by hash)."""
    reader = _Reader()
    reader.feed(page)
    reader.close()
    found = list(reader.problems)
    if reader.scripts and not scripts_allowed:
        found.append(f"{len(reader.scripts)} inline script(s)")
    policy = reader.policy or ""
    if "default-src 'none'" not in policy:
        found.append("no Content-Security-Policy with default-src 'none'")
    if "'unsafe-inline'" in policy.split("script-src", 1)[-1].split(";")[0] and "script-src" in policy:
        found.append("scripts allowed inline by the policy")
    return found
