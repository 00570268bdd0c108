"""The student's feedback page: the summary it opens with, its frame in the edition's language, the page of a
notebook nothing grades; student text stays text."""

import html
import re

import pytest

from autograder import EDITIONS
from autograder.grading import wording
from autograder.grading.feedback import reason, render, render_not_graded, summary_table
from autograder.results import FunctionResult, Outcome, SubmissionResult

from ..conftest import POINTS, ROOT

TANH_HINT = {"en": "tanh's derivative is missing", "zh": "缺少 tanh 的导数"}


def ben(assignment: str) -> SubmissionResult:
    """Every function right but backward_propagation, which forgot tanh's derivative (the message the judge
    writes, hint included), with the release notebook as the notebook graded."""
    language = EDITIONS[assignment]
    wrong = wording.say(language, "wrong", label=wording.say(language, "visible_case"), text='grads["dW1"] is off')
    hint = wording.say(language, "case_hint", hint=TANH_HINT[language] + ": dZ1 = W2^T dZ2 * (1 - A1^2)")
    functions = [
        FunctionResult(name, points, points, Outcome.PASSED)
        if name != "backward_propagation"
        else FunctionResult(name, points, 0, Outcome.FAILED, wrong + hint, mistake="grad_no_tanh_derivative")
        for name, points in POINTS.items()
    ]
    notebook = (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    return SubmissionResult("ben", [], functions, notebook_json=notebook)


def test_the_reason_is_the_classic_mistake_when_one_is_recognised():
    """Is the one-line reason the hint alone, and the message itself (on one line, cut) when there is none?"""
    result = ben("planar_data_classification")
    backward = next(f for f in result.functions if f.name == "backward_propagation")
    assert reason(backward, "planar_data_classification").startswith("tanh's derivative is missing")
    long = FunctionResult("predict", 10, 0, Outcome.FAILED, "the visible case:\n" + "x" * 400)
    assert reason(long, "planar_data_classification").startswith("the visible case: xxx")
    assert len(reason(long, "planar_data_classification")) == 160
    assert reason(FunctionResult("predict", 10, 10, Outcome.PASSED), "planar_data_classification") == ""


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
def test_the_page_opens_with_the_summary_in_the_editions_words(assignment):
    """Does the page start with the table (before any cell), name the function that lost points and why, link each
    row to its cells, and say every word of nbgrader's frame in the edition's language?"""
    language = EDITIONS[assignment]
    page = render(ben(assignment), assignment)
    assert "could not be shown" not in page
    summary = page.index('id="summary"')
    assert summary < page.index('class="cell ')  # before the first cell of the notebook
    table = page[summary : page.index("</table>", summary)]
    row = re.search(r'<tr class="summary-lost">(.*?)</tr>', table).group(1)
    assert 'href="#comment-backward_propagation"' in row and 'href="#test_backward_propagation"' in row
    assert f"0 / {POINTS['backward_propagation']:g}" in row and wording.say(language, "verdict_failed") in row
    assert TANH_HINT[language] in html.unescape(row)
    assert table.count('class="summary-passed"') == len(POINTS) - 1
    for word in ("page_score", "page_student_answer", "page_test_cell", "page_top", "page_function", "page_why"):
        assert wording.say(language, word) in page
    if language == "zh":
        for english in ("Score:", "Student's answer", "Test cell", "Grade cell", "(Top)", "Comments:"):
            assert english not in page
    assert 'href="#test_backward_propagation">Test cell</a>' not in page  # nbgrader's table of links is gone


def test_student_text_in_the_summary_stays_text():
    """A message quoting the student's own key (dict keys are shown) cannot become markup in the table."""
    function = FunctionResult("predict", 10, 0, Outcome.FAILED, "key <script>alert(1)</script> `<b>x</b>`")
    result = SubmissionResult("x", [], [function])
    table = summary_table(result, "planar_data_classification")
    assert "<script>" not in table and "<b>" not in table
    assert "&lt;script&gt;" in table and "<code>&lt;b&gt;x&lt;/b&gt;</code>" in table


@pytest.mark.parametrize("assignment", sorted(EDITIONS))
def test_a_notebook_nothing_grades_gets_a_page_that_leads_to_the_feedback(assignment):
    page = render_not_graded("appendix<i>", assignment)
    assert "<i>" not in page and "appendix&lt;i&gt;" in page
    assert f"href='{assignment}.html'" in page
    assert wording.say(EDITIONS[assignment], "open_feedback", assignment=assignment) in page


def _parsed(page: str) -> str:
    from bs4 import BeautifulSoup

    return str(BeautifulSoup(page, features="html.parser"))


def test_the_page_is_nbconverts_without_its_second_parse_and_images_still_get_an_alternative_text(monkeypatch):
    """The feedback exporter skips HTMLExporter's BeautifulSoup pass over a page without images and highlights
    each cell once per process: the page is the same document as nbconvert's own exporter makes; a page with an
    image still gets nbconvert's alt text."""
    import nbformat

    from autograder.grading import feedback

    assignment = "planar_data_classification"
    result = ben(assignment)
    ours = render(result, assignment)
    notebook = nbformat.reads(result.notebook_json, as_version=4)
    plot = next(cell for cell in notebook.cells if cell.cell_type == "code")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    result.notebook_json = nbformat.writes(notebook)
    with_image = render(result, assignment)
    assert '<img alt="No description has been provided for this image"' in with_image

    # made in this process (as the warm-up page is), then in a forked child that takes the cells' highlighting from it
    monkeypatch.setattr(feedback, "_HIGHLIGHTED", {})
    assert feedback._notebook_page(result, assignment, frozenset()) == with_image
    assert 0 < len(feedback._HIGHLIGHTED) <= feedback.MAX_HIGHLIGHTED
    assert render(result, assignment) == with_image

    monkeypatch.setattr(feedback, "_exporter_class", lambda exporter: exporter)  # nbconvert's own HTMLExporter
    feedback._course_exporter.cache_clear()
    try:
        assert _parsed(ours) == _parsed(render(ben(assignment), assignment))
        assert _parsed(with_image) == _parsed(render(result, assignment))
    finally:
        feedback._course_exporter.cache_clear()


def test_highlighted_cells_kept_for_later_pages_are_bounded(monkeypatch):
    """A process that makes many pages keeps at most MAX_HIGHLIGHTED cells' highlighting; pages are the same."""
    from autograder.grading import feedback

    assignment = "planar_data_classification"
    monkeypatch.setattr(feedback, "_HIGHLIGHTED", {})
    monkeypatch.setattr(feedback, "MAX_HIGHLIGHTED", 3)
    first = feedback._notebook_page(ben(assignment), assignment, frozenset())  # in this process, as warm_up makes one
    assert len(feedback._HIGHLIGHTED) == 3
    assert feedback._notebook_page(ben(assignment), assignment, frozenset()) == first
    assert len(feedback._HIGHLIGHTED) == 3 and render(ben(assignment), assignment) == first
