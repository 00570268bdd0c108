"""The README and docs/ as a reader finds them on a code-hosting site: links that resolve, plain Markdown,
and generated regions that say what the code says."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from tools import docs

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKER = re.compile(r"<!-- (?:generated: [\w-]+|end generated) -->")


def prose(text: str) -> str:
    """The page without its code blocks and code spans, where nothing is a link or HTML."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text, lower-cased, punctuation dropped, spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").replace("**", "").replace("*", "")
    text = text.strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LMN" or unicodedata.category(c) == "Pc"
    )
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor of a page, numbered as GitHub numbers repeated headings (-1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = github_slug(match.group(1))
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def relative_links(page: Path) -> list[str]:
    targets = [m.group(1) for m in LINK.finditer(prose(page.read_text(encoding="utf-8")))]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    """Does every relative link name a file that exists, and every #anchor a heading of that file?"""
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {path}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pages_are_plain_markdown(page):
    """Is the only HTML outside code the generated regions' marker comments?"""
    text = MARKER.sub("", prose(page.read_text(encoding="utf-8")))
    assert re.findall(r"</?[A-Za-z!][^>\n]*>", text) == []


def test_generated_regions_are_current():
    """Does every generated region say what tools.docs would write now?"""
    assert docs.stale() == []


def test_the_generated_regions_are_where_readers_look():
    """Are the points in the README, the hidden cases in the students' page and the usage in the instructors'?"""
    regions = {
        page.name: re.findall(r"<!-- generated: ([\w-]+) -->", page.read_text(encoding="utf-8")) for page in PAGES
    }
    assert "functions" in regions["README.md"]
    assert "hidden-cases" in regions["students.md"]
    assert {"grade-help", "watch-help"} <= set(regions["instructors.md"])


def test_a_stale_or_unknown_region_is_found():
    """Would check notice a hand-edited region, and name one it does not know?"""
    page = "<!-- generated: functions -->\n| hand | made |\n<!-- end generated -->\n"
    assert docs.render(page) != page
    with pytest.raises(KeyError, match="unknown generated region 'nope'"):
        docs.render("<!-- generated: nope -->\n<!-- end generated -->\n")


def test_the_slug_is_githubs():
    """Are headings with code, punctuation and repeats given GitHub's anchors?"""
    assert github_slug("Feedback on submit: `watch`") == "feedback-on-submit-watch"
    assert github_slug("Run All of the student's notebook: `bench --notebook`") == (
        "run-all-of-the-students-notebook-bench---notebook"
    )
    assert github_slug("Due dates, late work, manual grading and regrading") == (
        "due-dates-late-work-manual-grading-and-regrading"
    )


def test_the_readme_fits_one_sitting():
    """Is the README at most 200 lines, starting with the two set-up commands?"""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    assert lines[2:6] == [
        "```sh",
        "make demo    # set up .venv, then grade the bundled demo class of nine students",
        "make test    # set up .venv, then run every test and nbval on the stored notebooks",
        "```",
    ]
