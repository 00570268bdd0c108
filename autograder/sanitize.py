"""What a student wrote, made safe for a browser: markdown rendered, then cleaned by a real sanitizer.

A student's markdown cell reaches three browsers: the feedback page, summary.html's links
to it, and formgrader's view of the autograded notebook (on the Jupyter server's own
origin). Patterns on the markdown cannot make it safe (``[x](javascript\\:…)`` is a link
once the renderer has read the backslash), so the markdown is rendered to HTML here and
the HTML is cleaned by ammonia (nh3) against an allowlist of tags, attributes and URL
schemes; images are kept only as inline data, so opening a page loads nothing.

The cleaned HTML goes back into the cell as one line of markup inside a ``<div>``: every
markdown renderer passes such a block through untouched, with no newline, ``$`` or
backslash left for a math renderer (nbconvert's, MathJax) to read as TeX.

Each cell is cut at ``MAX_MARKDOWN_CHARS`` before it is rendered, so the time the
renderer and the sanitizer take is bounded whatever the student wrote.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re

import nh3

MAX_MARKDOWN_CHARS = 64 * 1024  # of one cell's markdown; the rest is cut (and the cell says so)
MAX_NOTEBOOK_MARKDOWN_CHARS = 512 * 1024  # of all a notebook's markdown rendered; the rest is shown as text
MAX_IMAGE_CHARS = 1024 * 1024  # of one inline image (base64)

TAGS = frozenset(
    "a abbr b blockquote br code dd del details div dl dt em h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre "
    "q s samp small span strike strong sub summary sup table tbody td tfoot th thead tr tt u ul var".split()
)
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "data"})  # data: for images only (see _attribute)
IGNORED_BY_MATH = "tex2jax_ignore mathjax_ignore"  # MathJax 2 and 3 leave such a block alone
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*\Z")
CUT_NOTE = "[the grader shows the first {kib} KB of this cell]"


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    """Images only from inline data (nothing loaded when the page opens); data: never as a link."""
    if tag == "img" and attribute == "src":
        return value if len(value) <= MAX_IMAGE_CHARS and _DATA_IMAGE.match(value) else None
    if attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


@functools.lru_cache(maxsize=1)
def _markdown():
    import mistune

    # Raw HTML is let through here: the sanitizer, not the renderer, decides what stays.
    return mistune.create_markdown(escape=False, plugins=["strikethrough", "table"])


def clean_html(fragment: str) -> str:
    """An HTML fragment with only the allowlisted tags, attributes and URL schemes left."""
    return nh3.clean(
        fragment,
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        attribute_filter=_attribute,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_html(text: str, attachments: dict | None = None) -> str:
    """A student's markdown as safe HTML: cut, rendered, ``attachment:`` images inlined, cleaned."""
    cut = len(text) > MAX_MARKDOWN_CHARS
    if cut:
        text = text[:MAX_MARKDOWN_CHARS]
    if attachments:
        text = re.sub(r"attachment:([^\s)\"'<>]+)", lambda m: _inline(attachments.get(m.group(1))), text)
    cleaned = clean_html(_markdown()(text))
    if cut:
        cleaned += f"<p><em>{html.escape(CUT_NOTE.format(kib=MAX_MARKDOWN_CHARS // 1024))}</em></p>"
    return cleaned


def _inline(bundle) -> str:
    """An attachment as a data URL (an unknown or unkept one: nothing, so the sanitizer drops the image)."""
    if isinstance(bundle, dict):
        for mime in ("image/png", "image/jpeg", "image/gif"):
            data = bundle.get(mime)
            if isinstance(data, str):
                return f"data:{mime};base64,{data.strip()}"
    return "#"


def inert_block(cleaned: str) -> str:
    """Cleaned HTML as a markdown cell's source that every renderer passes through as it is: one line in a
    ``<div>``, newlines, ``$`` and backslashes as character references (no TeX for a math renderer)."""
    line = cleaned.replace("\\", "&#92;").replace("$", "&#36;").replace("\r", "").replace("\n", "&#10;")
    return f'<div class="{IGNORED_BY_MATH}">{line}</div>'


class Allowance:
    """How much more of one notebook's markdown is rendered; past it, cells are shown as their plain text
    (escaped, which takes time in proportion to their size), so a notebook of many huge cells is bounded too."""

    def __init__(self, chars: int = MAX_NOTEBOOK_MARKDOWN_CHARS):
        self.left = chars


def inert_markdown(text: str, attachments: dict | None = None, allowance: Allowance | None = None) -> str:
    """A student's markdown cell source made inert: what the cell shows, as safe HTML (see the module)."""
    if allowance is not None and allowance.left <= 0:
        shown = html.escape(text[:MAX_MARKDOWN_CHARS], quote=False)
        cut = (
            f"<p><em>{html.escape(CUT_NOTE.format(kib=MAX_MARKDOWN_CHARS // 1024))}</em></p>"
            if len(text) > MAX_MARKDOWN_CHARS
            else ""
        )
        return inert_block(f"<pre>{shown}</pre>{cut}")
    if allowance is not None:
        allowance.left -= min(len(text), MAX_MARKDOWN_CHARS)
    return inert_block(markdown_html(text, attachments))


def content_security_policy(scripts: tuple[str, ...] = ()) -> str:
    """A policy that forbids every load and every script but ``scripts`` (the page's own, allowed by hash)."""
    allowed = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; form-action 'none'; "
        f"base-uri 'none'{f'; script-src {allowed}' if allowed else ''}"
    )


CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">'


def with_csp(page: str) -> str:
    """A page that forbids scripts and loads from anywhere, whatever it contains (the policy goes first in
    ``<head>``, before anything it governs)."""
    match = re.search(r"<head[^>]*>", page, re.I)
    if match is None:
        return CSP_META + page
    return page[: match.end()] + CSP_META + page[match.end() :]
