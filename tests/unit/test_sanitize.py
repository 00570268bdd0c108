"""A student's markdown reaches a browser only as cleaned HTML that every renderer passes through inert."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from autograder.grading.feedback import RenderingFailed, bounded
from autograder.sanitize import MAX_MARKDOWN_CHARS, Allowance, inert_markdown, with_csp
from tests import inert

POLICY = "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
ATTACKS = [
    '[x](javascript\\:alert("backslash"))',
    "[x](JaVaScRiPt:alert(1))",
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![beacon](https://example.invalid/beacon.png)",
    '<img src="x" onerror="alert(1)">',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://example.invalid"></iframe>',
    '<div style="background:url(https://example.invalid/x)">x</div>',
    '$\\href{javascript:alert("tex")}{x}$',
    "<form action='https://example.invalid'><button>go</button></form>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_known_attack_is_inert_as_the_feedback_page_and_formgrader_render_it(attack):
    source = inert_markdown(attack)
    for page in (source, markdown2html_mistune(source)):  # the cell as stored, and as nbconvert renders it
        assert inert.problems(POLICY + page) == []
        assert "$" not in page and "\\" not in page  # no TeX left for MathJax's \href


def test_ordinary_markdown_keeps_its_look():
    source = inert_markdown("# Title\n\nSome *text*, `code` and a [link](https://example.org).\n\n- a\n- b")
    rendered = markdown2html_mistune(source)
    for piece in ("<h1>Title</h1>", "<em>text</em>", "<code>code</code>", 'href="https://example.org"', "<li>a</li>"):
        assert piece in rendered


def test_an_image_attachment_is_inlined_and_an_svg_one_dropped():
    png = "iVBORw0KGgo="
    source = inert_markdown("![a](attachment:a.png) ![b](attachment:b.svg)", {"a.png": {"image/png": png}, "b.svg": {}})
    assert f'src="data:image/png;base64,{png}"' in source and "b.svg" not in source


def test_a_huge_cell_is_cut_and_says_so():
    source = inert_markdown("\\begin{}" * 1_000_000)
    assert "the grader shows the first 64 KB of this cell" in source
    assert len(source) < 4 * MAX_MARKDOWN_CHARS


PIECES = list("[]()<>!:\\$`*_ \n\"'&#;=/.-0x") + [
    "javascript",
    "<img ",
    "<a ",
    "src=",
    "href=",
    "data:",
    " on",
    "&#x09;",
]


@settings()  # the profile's examples (tests/conftest.py: 300, or 30 in make test-fast)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_whatever_the_markdown_the_rendered_cell_is_inert(text):
    source = inert_markdown(text)
    assert "\n" not in source
    rendered = markdown2html_mistune(source)
    assert inert.problems(POLICY + rendered) == []
    assert "$" not in rendered and "\\" not in rendered


def test_a_page_gets_a_policy_that_forbids_scripts_and_loads():
    page = with_csp("<html><head><title>x</title></head><body></body></html>")
    assert inert.problems(page) == []
    assert page.index("Content-Security-Policy") < page.index("<title>")


def test_a_page_that_takes_too_long_or_grows_too_large_is_given_up():
    began = time.monotonic()
    with pytest.raises(RenderingFailed, match="longer than 1 s"):
        bounded(lambda: time.sleep(30) or "never", seconds=1)
    assert time.monotonic() - began < 10
    with pytest.raises(RenderingFailed, match="larger than"):
        bounded(lambda: "x" * (3 * 1024 * 1024), max_bytes=2 * 1024 * 1024)
    with pytest.raises(RenderingFailed, match="could not be made"):
        bounded(lambda: 1 / 0)
    assert bounded(lambda: "a page é") == "a page é"


def test_a_notebook_past_its_markdown_allowance_shows_the_rest_as_plain_text():
    allowance = Allowance(100)
    first = inert_markdown("*a* " * 30, allowance=allowance)
    rest = inert_markdown("[x](https://example.org) <b>b</b>", allowance=allowance)
    assert "<em>a</em>" in first and allowance.left <= 0
    assert rest.startswith('<div class="tex2jax_ignore mathjax_ignore"><pre>[x](https://example.org) &lt;b&gt;')
    assert inert.problems(POLICY + markdown2html_mistune(rest)) == []
