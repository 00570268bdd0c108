"""The instructor's summary page: statistics, pass rates, who needs attention, common mistakes, escaping."""

import statistics

from autograder.course import Course
from autograder.intake import Skipped
from autograder.reports import class_statistics, common_mistakes, needs_attention, pass_rates, write_reports
from autograder.results import FunctionResult, Kind, Outcome, Problem, SubmissionResult, not_graded

from .. import inert
from ..conftest import POINTS, TOTAL, score

NAMES = list(POINTS)


def submission(student, failing=(), problems=(), seconds=1.0, mistake=None, attempted=True, outcome=Outcome.FAILED):
    functions = [
        FunctionResult(
            name,
            points,
            0 if name in failing else points,
            outcome if name in failing else Outcome.PASSED,
            "wrong" if name in failing else "",
            mistake=(mistake or {}).get(name),
        )
        for name, points in POINTS.items()
    ]
    return SubmissionResult(student, list(problems), functions, seconds, attempted=attempted)


CLASS = [
    submission("a"),
    submission("b", failing=("backward_propagation",), mistake={"backward_propagation": "grad_no_tanh_derivative"}),
    submission(
        "c",
        failing=("backward_propagation", "predict"),
        seconds=9.0,
        mistake={"backward_propagation": "grad_no_tanh_derivative"},
    ),
    submission("d", failing=("compute_cost",), mistake={"compute_cost": "cost_no_mean"}),
    submission(
        "<script>alert(1)</script>",
        failing=tuple(NAMES),
        problems=[Problem(Kind.MALFORMED, "malformed <b>notebook</b>")],
        outcome=Outcome.NOT_RUN,
    ),
    submission(
        "untouched",
        failing=tuple(NAMES),
        problems=[Problem(Kind.NOT_ATTEMPTED, "not attempted: unchanged")],
        attempted=False,
        outcome=Outcome.NOT_RUN,
    ),
    not_graded("e", "the grading kernel could not start", dict(POINTS)),
]


def test_pass_rates_count_graded_submissions_per_function():
    rates = pass_rates(CLASS)
    assert rates["backward_propagation"] == 2 / 6
    assert rates["predict"] == 3 / 6
    assert rates["layer_sizes"] == 4 / 6


def test_class_statistics_count_not_attempted_as_incomplete_and_not_graded_apart():
    stats = class_statistics(CLASS)
    assert stats["submissions"] == 7 and stats["graded"] == 6 and stats["not graded"] == 1
    assert stats["full marks"] == 1 and stats["incomplete"] == 3  # malformed, untouched, not graded
    graded = [
        TOTAL,
        score("backward_propagation"),
        score("backward_propagation", "predict"),
        score("compute_cost"),
        0,
        0,
    ]
    assert stats["mean"] == sum(graded) / 6 and stats["median"] == statistics.median(graded) and stats["min"] == 0


def test_common_mistakes_are_counted_per_function_with_who_made_them():
    mistakes = common_mistakes(CLASS)
    assert mistakes["backward_propagation"] == [("tanh's derivative is missing", 2, ["b", "c"])]
    assert mistakes["compute_cost"][0] == ("your cost is m times too large", 1, ["d"])
    assert ("wrong result (no classic mistake recognised)", 1, ["c"]) in mistakes["predict"]
    assert "untouched" not in str(mistakes)  # an untouched notebook teaches nothing about mistakes


def test_who_needs_attention_comes_with_what_to_do():
    attention = needs_attention(CLASS, [Skipped("alice\\n", "not a valid student id")])
    by_student = {item.student: item for item in attention}
    assert set(by_student) == {"<script>alert(1)</script>", "untouched", "e", "alice\\n"}
    assert "run the same command again" in by_student["e"].todo
    assert "skipped folder" in by_student["alice\\n"].what


def test_the_page_is_complete_and_escapes_student_text(tmp_path):
    (tmp_path / "feedback" / "a" / "x").mkdir(parents=True)
    (tmp_path / "feedback" / "a" / "x" / "x.html").write_text("feedback")
    page = write_reports(
        tmp_path / "reports" / "x", CLASS, [Skipped("alice\\n", "not a valid student id")], Course(tmp_path, "x")
    ).read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "malformed &lt;b&gt;notebook&lt;/b&gt;" in page
    assert "Needs attention (4)" in page and "not graded (run again)" in page
    assert "tanh&#39;s derivative is missing" in page
    assert 'href="../../feedback/a/x/x.html"' in page
    assert "<svg" in page and "Pass rate per graded function" in page
    assert page.count("<tr") >= len(CLASS) + 4
    assert inert.problems(page, scripts_allowed=True) == []  # its one script is allowed by hash, nothing else


def test_the_pages_one_script_is_the_one_its_policy_allows(tmp_path):
    import base64
    import hashlib
    import html
    import re

    page = write_reports(tmp_path / "reports" / "x", CLASS, [], Course(tmp_path, "x")).read_text()
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1))
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


def test_a_mistake_label_names_what_its_function_computes():
    from autograder.reports import mistake_label

    assert mistake_label("initialize_parameters", "init_swapped_shape") == "the two sizes of W1 or W2 are swapped"
    assert mistake_label("forward_propagation", "forward_no_bias") == "Z1 or Z2 lacks the bias"
    assert mistake_label("backward_propagation", "grad_keepdims") == "a gradient lost its column shape"
    assert (
        mistake_label("initialize_parameters", "init_uniform")
        == "the weights come from np.random.rand (uniform on [0, 1))"
    )


def test_the_gradebooks_side_is_in_grades_csv_summary_and_the_students_page(tmp_path):
    """Do grades.csv, summary.html and the feedback page show nbgrader's late penalty, the gradebook's score
    and a TA's comment, and does the page carry the mark that tells it from an out-of-date one?"""
    import csv

    import nbformat

    from autograder import ASSIGNMENT
    from autograder.grading.feedback import gradebook_mark, render
    from autograder.reports import write_csv
    from autograder.results import Standing

    from ..conftest import ROOT

    late = submission("late", failing=("compute_cost",))
    late.standing = Standing(
        score=93.0,
        max_score=110.0,
        late_penalty=18.6,
        seconds_late=47 * 3600.0,
        cells={
            "explain_tanh": {
                "score": 3.0,
                "points": 5.0,
                "manual": True,
                "comment": "Say why.",
                "needs_manual_grade": True,
            }
        },
    )
    with write_csv(tmp_path / "grades.csv", [late], []).open() as handle:
        row = next(csv.DictReader(handle))
    assert (row["total"], row["late_penalty"], row["seconds_late"], row["score"]) == ("90", "18.6", "169200", "74.4")
    assert row["needs_manual_grade"] == "explain_tanh"
    summary = write_reports(tmp_path / "reports", [late], [], Course(tmp_path, "x")).read_text()
    assert "47.0 hours late" in summary and ">-18.6<" in summary and ">74.4*<" in summary
    notebook = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    written = nbformat.v4.new_markdown_cell("tanh is centred", id="written")
    written.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain_tanh", "points": 5}
    notebook.cells.append(written)
    late.notebook_json = nbformat.writes(notebook)
    page = render(late, ASSIGNMENT, frozenset(), late.standing)
    assert "(Score: 74.4 / 110.0)" in page and "Late submission penalty (Score: -18.6)" in page
    assert "Submitted 47.0 hours after the due date." in page and "Say why." in page
    assert gradebook_mark(late.standing) in page
    assert "autograder: gradebook" not in render(late, ASSIGNMENT)  # the judge's page alone carries no mark
