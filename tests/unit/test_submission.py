"""Reading a student's notebook and restoring the instructor's test cells: the first trust boundary."""

import json

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.grading.submission import (
    ScoresDisagree,
    SubmissionProblem,
    attempted,
    find_notebook,
    machinery_touched,
    read_notebook,
    restore,
    write_verdicts,
)
from autograder.markup import checked_function, grade_id, points
from autograder.results import FunctionResult, Outcome

from ..conftest import POINTS, ROOT

RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@pytest.fixture
def release():
    return nbformat.read(RELEASE, as_version=4)


def cell_of(notebook, cell_id):
    return next(c for c in notebook.cells if grade_id(c) == cell_id)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (None, "larger than the 20 MB allowed"),
        (b"", "the file is empty"),
        (b"\xff\xfe\x00", "not a text file"),
        (b'{"cells": [', "invalid JSON"),
        (b"[1, 2]", "not a Jupyter notebook"),
        (b'{"cells": [], "nbformat": 3}', "nbformat 3, expected 4"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed notebook"),
        (
            b'{"cells": [{"cell_type": "nonsense"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
            "malformed notebook",
        ),
    ],
)
def test_unreadable_notebooks_are_the_students_problem_with_a_reason(raw, status):
    with pytest.raises(SubmissionProblem, match="malformed notebook") as problem:
        read_notebook(raw)
    assert status in str(problem.value)


def test_the_expected_notebook_or_the_only_other_one_is_graded():
    expected = f"{ASSIGNMENT}.ipynb"
    assert find_notebook({expected: b"", "x.ipynb": b""}, ASSIGNMENT) == (expected, "")
    assert find_notebook({"mine.ipynb": b"", "data.csv": b""}, ASSIGNMENT) == (
        "mine.ipynb",
        "misnamed notebook mine.ipynb (graded anyway)",
    )
    for files, why in [({"a.ipynb": b"", "b.ipynb": b""}, "2 other notebooks"), ({}, "no "), (None, "missing")]:
        with pytest.raises(SubmissionProblem, match=why):
            find_notebook(files, ASSIGNMENT)


def test_deleted_edited_and_forged_test_cells_come_back_as_the_instructors(release):
    student = nbformat.from_dict(json.loads(json.dumps(release)))
    student.cells = [c for c in student.cells if grade_id(c) != "test_compute_cost"]  # deleted
    cell_of(student, "test_predict").source = "pass  # the test, edited away"
    forged = nbformat.v4.new_code_cell("print('All tests passed')")
    forged.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 100, "solution": False}
    student.cells.append(forged)

    restored = restore(student, release)

    for name in GRADED_FUNCTIONS:
        assert cell_of(restored, f"test_{name}").source == cell_of(release, f"test_{name}").source
    assert "nbgrader" not in restored.cells[-1].metadata  # no invented grade cell
    assert restored.metadata == release.metadata
    assert all(c.outputs == [] for c in restored.cells if c.cell_type == "code")
    ids = [grade_id(c) for c in restored.cells if grade_id(c)]
    assert ids.index("test_compute_cost") == ids.index("compute_cost") + 1  # right after its answer


def test_a_duplicated_test_cell_counts_once(release):
    student = nbformat.from_dict(json.loads(json.dumps(release)))
    student.cells.append(nbformat.from_dict(json.loads(json.dumps(cell_of(release, "test_layer_sizes")))))
    restored = restore(student, release)
    assert [grade_id(c) for c in restored.cells].count("test_layer_sizes") == 1


def test_the_students_markdown_is_made_inert(release):
    student = nbformat.from_dict(json.loads(json.dumps(release)))
    student.cells.append(nbformat.v4.new_markdown_cell('<script>alert(1)</script><a href="javascript:x">y</a>'))
    text = restore(student, release).cells[-1].source
    assert "<script>" not in text and "javascript:" not in text


@pytest.mark.parametrize(
    "markup",
    [
        "x",
        5,
        [1],
        None,
        {"grade_id": 5},
        {"grade_id": ["a"], "grade": True},
        {"grade": "yes"},
        {"points": float("nan")},
    ],
)
def test_markup_that_is_not_nbgraders_is_dropped_and_the_release_restored(release, markup):
    data = json.loads(RELEASE.read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if (cell["metadata"].get("nbgrader") or {}).get("grade_id") in ("compute_cost", "test_compute_cost"):
            cell["metadata"]["nbgrader"] = markup
    student = read_notebook(json.dumps(data).encode())
    restored = restore(student, release)
    assert points(restored) == points(release)
    assert sorted(grade_id(c) for c in restored.cells if checked_function(c)) == sorted(
        grade_id(c) for c in release.cells if checked_function(c)
    )


def test_untouched_release_is_not_attempted(release):
    assert not attempted(release, release)
    student = nbformat.from_dict(json.loads(json.dumps(release)))
    cell_of(student, "layer_sizes").source = "def layer_sizes(X, Y):\n    return 2, 4, 1\n"
    assert attempted(student, release)


def test_verdicts_are_what_nbgrader_scores(release):
    notebook = restore(release, release)
    results = [
        FunctionResult(name, points, 0, Outcome.PASSED if i % 2 else Outcome.TIMEOUT, "why")
        for i, (name, points) in enumerate(POINTS.items())
    ]
    write_verdicts(notebook, results)
    expected = {r.name: r.points if r.outcome == Outcome.PASSED else 0.0 for r in results}
    assert {r.name: r.score for r in results} == expected
    by_nbgrader = {
        checked_function(cell): float(determine_grade(cell)[0] or 0.0)
        for cell in notebook.cells
        if checked_function(cell) is not None
    }
    assert by_nbgrader == expected


def test_a_verdict_nbgrader_would_score_otherwise_is_the_graders_fault(release):
    notebook = restore(release, release)
    results = [FunctionResult(name, points * 2, 0, Outcome.PASSED) for name, points in POINTS.items()]
    with pytest.raises(ScoresDisagree, match="the grader says"):
        write_verdicts(notebook, results)


def test_text_json_can_carry_and_utf8_cannot_is_replaced_so_the_notebook_can_be_written():
    data = json.loads(RELEASE.read_text(encoding="utf-8"))
    data["cells"][0]["source"] = "a lone \ud800 surrogate"
    raw = json.dumps(data).encode()  # escaped as \ud800: valid JSON
    notebook = read_notebook(raw)
    assert notebook.cells[0].source == "a lone \ufffd surrogate"
    nbformat.writes(notebook).encode("utf-8")


@pytest.mark.parametrize(
    "code, named",
    [
        ("import test_utils\ntest_utils.check_result = lambda *a, **k: None", "the visible tests' comparison"),
        ("import public_tests\npublic_tests.compute_cost_test = print", "the visible tests' module"),
        ("get_ipython().run_cell = None", "IPython's run_cell"),
    ],
)
def test_code_that_reaches_for_the_tests_or_the_kernel_is_named(code, named):
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(code)])
    touched = machinery_touched(notebook, release)
    assert len(touched) == 1 and named in touched[0]
    assert machinery_touched(release, release) == []  # the release's own cells are not the student's


def test_written_answers_are_kept_and_task_cells_are_the_instructors(release):
    """Does restore keep a student's markdown answer (a manually graded cell) as markdown, restore a task
    cell the student turned into code, and leave a test cell of no graded function alone?"""
    written = nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", id="explain")
    written.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain_tanh", "points": 5}
    task = nbformat.v4.new_markdown_cell("Describe the boundary.", id="task")
    task.metadata["nbgrader"] = {"task": True, "grade_id": "describe", "points": 5, "locked": True}
    extra = nbformat.v4.new_code_cell("assert True", id="extra")
    extra.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_extra", "points": 2}
    release.cells += [written, task, extra]
    student = nbformat.reads(nbformat.writes(release), as_version=4)
    cell_of(student, "explain_tanh").source = "tanh is centred on zero"
    turned = cell_of(student, "describe")
    turned.cell_type, turned.source, turned.outputs, turned.execution_count = "code", "print(1)", [], None
    restored = restore(student, release)
    answer = cell_of(restored, "explain_tanh")
    assert answer.cell_type == "markdown" and "tanh is centred on zero" in answer.source  # kept, as inert HTML
    assert answer.source.startswith('<div class="tex2jax_ignore mathjax_ignore">')  # formgrader shows it safely
    assert determine_grade(answer) == (None, 5.0)  # a person grades it
    assert (cell_of(restored, "describe").cell_type, cell_of(restored, "describe").source) == (
        "markdown",
        "Describe the boundary.",
    )
    assert checked_function(cell_of(restored, "test_extra")) is None
    assert set(points(restored)) == set(GRADED_FUNCTIONS)
