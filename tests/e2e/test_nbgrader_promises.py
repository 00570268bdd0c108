"""The judge keeps nbgrader's promises: the same submissions, graded by stock nbgrader 0.9.6 (its own Execute)
and by the judge, end with the same gradebook.

One course, as an instructor who has run nbgrader for years would set it up: a due date
(``nbgrader db assignment add --duedate``), a 10 %-per-day ``LateSubmissionPlugin`` in
nbgrader_config.py, a written answer (a manually graded markdown cell, 5 points) and a task
cell (5 points) added to source/ and released with ``nbgrader generate_assignment``. Three
students: one two days late, one on time whose work a TA grades by hand (a manual score,
extra credit, a comment), one who left the written answer untouched. Stock nbgrader and the
judge (``python -m autograder grade``, and ``nbgrader autograde`` through the judge) must
record the same automatic scores, manual-grading flags, comments and late penalties, keep the
TA's grading on a regrade, and show it on the student's page.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT, nbgrader_cli
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, use_stock_nbgrader
from course_spec import SPEC

from ..conftest import ROOT, TOTAL, repoint, score

DUE = "2026-11-25 10:00:00 UTC"
SUBMITTED = {
    "late": "2026-11-27 09:00:00.000000 UTC",  # 47 hours late: two days begun, 20 %
    "tagraded": "2026-11-25 09:00:00.000000 UTC",
    "blank": "2026-11-24 12:00:00.000000 UTC",
}
STUDENTS = tuple(SUBMITTED)
WRITTEN = "explain_tanh"  # the written answer (markdown, graded by a person)
TASK = "describe_boundary"  # the task cell

PLUGIN = """

# A late penalty of 10 % of the score for each day begun after the due date.
import math as _math

from nbgrader.plugins import LateSubmissionPlugin as _LateSubmissionPlugin


class TenPercentPerDay(_LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return 0.1 * score * _math.ceil(total_seconds_late / 86400)


c.AssignLatePenalties.plugin_class = TenPercentPerDay
"""


def written_cells() -> list:
    """The cells an instructor adds to source/: a written answer and a task, both graded by a person."""
    answer = nbformat.v4.new_markdown_cell(
        "### BEGIN SOLUTION\ntanh is centred on zero, so the next layer learns faster.\n### END SOLUTION",
        id=WRITTEN,
    )
    answer.metadata["nbgrader"] = {
        "grade": True,
        "solution": True,
        "locked": False,
        "task": False,
        "grade_id": WRITTEN,
        "points": 5,
        "schema_version": 3,
    }
    task = nbformat.v4.new_markdown_cell(
        "Describe the decision boundary your model draws (in your own words).", id=TASK
    )
    task.metadata["nbgrader"] = {
        "grade": False,
        "solution": False,
        "locked": True,
        "task": True,
        "grade_id": TASK,
        "points": 5,
        "schema_version": 3,
    }
    return [answer, task]


def nbgrader(course: Path, *args: str):
    result = nbgrader_cli.run(*args, cwd=course, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def autograder(course: Path, *args: str, spec: Path | None = None):
    """grade, with the course's specification, or the one at ``spec``."""
    env = nbgrader_cli.environment()
    if spec is not None:
        env["COURSE_SPEC"] = str(spec)
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "2", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )


def build(folder: Path, stock: bool) -> Path:
    """The course, released by nbgrader itself, with a due date and the three submissions."""
    course = new_course(folder)
    (course / "nbgrader_config.py").open("a").write(PLUGIN)
    if stock:
        use_stock_nbgrader(course)
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.extend(written_cells())
    nbformat.write(notebook, source)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "db", "assignment", "add", ASSIGNMENT, f"--duedate={DUE}")
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    _, answers = course_notebooks()
    wrong = answers["compute_cost"].replace("    cost = -np.sum(logprobs) / m", "    cost = 0.5")
    for student, timestamp in SUBMITTED.items():
        handed_in = fill_answers(release, dict(answers, compute_cost=wrong) if student == "late" else answers)
        for cell in handed_in.cells:
            if cell.get("id") == WRITTEN and student != "blank":
                cell.source = f"{student}: tanh is zero-centred <b>and</b> its gradient is larger near 0."
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(handed_in, folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text(timestamp)
    return course


def gradebook_of(course: Path) -> dict:
    """student -> what nbgrader's own API reads: each cell's automatic score, manual score, extra credit and
    manual-grading flag, each comment, the penalty and the score."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            found[student] = {
                "grades": {
                    g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                    for g in notebook.grades
                },
                "comments": {
                    c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments if c.name in (WRITTEN, TASK)
                },
                "penalty": submission.late_submission_penalty,
                "score": submission.score,
                "max_score": submission.max_score,
            }
    return found


def ta_grades(course: Path) -> None:
    """What a TA writes in formgrader: a manual score on the written answer and on the task, extra credit on a
    test, a comment (the columns formgrader's REST API sets)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, "tagraded").manual_score = 4.0
        gradebook.find_grade(TASK, ASSIGNMENT, ASSIGNMENT, "tagraded").manual_score = 5.0
        gradebook.find_grade("test_predict", ASSIGNMENT, ASSIGNMENT, "tagraded").extra_credit = 2.0
        gradebook.find_comment(
            WRITTEN, ASSIGNMENT, ASSIGNMENT, "tagraded"
        ).manual_comment = "Good: say why it is faster."
        gradebook.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, "late").manual_score = 3.0
        gradebook.db.commit()


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    """Stock nbgrader 0.9.6 on the course: autograde, a TA's grading, autograde again (--force)."""
    course = build(tmp_path_factory.mktemp("stock") / "course", stock=True)
    nbgrader(course, "autograde", ASSIGNMENT)
    first = gradebook_of(course)
    ta_grades(course)
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return first, gradebook_of(course)


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """The judge on the same course: grade, the same TA's grading, grade again (a plain run, then --regrade)."""
    course = build(tmp_path_factory.mktemp("judge") / "course", stock=False)
    result = autograder(course)
    assert result.returncode == 0, result.stdout + result.stderr
    first = gradebook_of(course)
    ta_grades(course)
    by_the_ta = gradebook_of(course)
    again = autograder(course)
    assert again.returncode == 0, again.stdout + again.stderr
    assert gradebook_of(course) == by_the_ta  # a plain run grades nobody again, as stock's autograde skips them
    regrade = autograder(course, "--regrade")
    assert regrade.returncode == 0, regrade.stdout + regrade.stderr
    return course, first, by_the_ta, again.stdout, gradebook_of(course)


def test_the_judge_records_what_stock_nbgrader_records(stock, judged):
    """Are the automatic scores, manual-grading flags, comments, penalties and scores stock's, before and
    after a TA's grading?"""
    stock_first, stock_after = stock
    course, first, _, _, after = judged
    for student in STUDENTS:
        for key, value in stock_first[student].items():
            assert (student, key, first[student][key]) == (student, key, value)
    assert first["late"]["penalty"] == pytest.approx(0.2 * score("compute_cost"))  # two days begun
    assert first["late"]["grades"][WRITTEN] == (None, None, None, True)
    assert first["late"]["grades"][TASK] == (None, None, None, True)
    assert first["blank"]["comments"][WRITTEN] == ("No response.", None)
    assert first["late"]["max_score"] == TOTAL + 10
    for student in STUDENTS:
        for key, value in stock_after[student].items():
            assert (student, key, after[student][key]) == (student, key, value)
    assert after["tagraded"]["grades"][WRITTEN] == (None, 4.0, None, True)
    assert after["tagraded"]["score"] == TOTAL + 4 + 5 + 2
    assert after["late"]["penalty"] == pytest.approx(
        0.2 * (score("compute_cost") + 3)
    )  # the penalty follows the manual score


def test_a_tas_grading_is_never_unverified_and_reaches_the_student(judged):
    """Does a plain run after a TA's grading grade nobody again, and does the page show the gradebook's score,
    the TA's comment, the written answer and the late penalty?"""
    course, _, _, plain_output, _ = judged
    assert "graded 0 submission(s)" in plain_output
    assert "unverified" not in plain_output
    page = (course / "feedback" / "tagraded" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert f"(Score: {float(TOTAL + 4 + 5 + 2)} / {float(TOTAL + 10)})" in page
    assert "Good: say why it is faster." in page
    late = (course / "feedback" / "late" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert f"Late submission penalty (Score: -{round(0.2 * (score('compute_cost') + 3), 2):g})" in late
    assert "hours after the due date" in late
    autograded = nbformat.read(course / "autograded" / "late" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answer = next(cell for cell in autograded.cells if cell.get("id") == WRITTEN)
    assert answer.cell_type == "markdown" and "late: tanh is zero-centred" in answer.source
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["late"]["total"], rows["late"]["late_penalty"], rows["late"]["score"]) == ("90", "18.6", "74.4")
    assert rows["blank"]["needs_manual_grade"] == TASK  # an answer left blank scores 0, as stock says
    summary = (course / "reports" / ASSIGNMENT / "summary.html").read_text()
    assert "47.0 hours late" in summary and ">-18.6<" in summary and ">74.4*<" in summary


def test_nbgrader_autograde_through_the_judge_records_the_same(tmp_path, stock):
    """Does `nbgrader autograde` with the course's configuration (the judge in place of Execute) record what
    stock nbgrader records, penalty included?"""
    course = build(tmp_path / "course", stock=False)
    nbgrader(course, "autograde", ASSIGNMENT)
    assert gradebook_of(course) == stock[0]


def test_the_gradebook_is_the_courses_and_ids_are_not_names(judged):
    """Is the assignment under the config's course id, are ids left out of the names, and does
    generate_assignment --force still work on the gradebook the grader made?"""
    from nbgrader.api import Gradebook

    course = judged[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        assert assignment.course_id == "planar-classification"
        assert {n.name for n in assignment.notebooks} == {ASSIGNMENT, "appendix"}
        assert all(gradebook.find_student(s).last_name is None for s in STUDENTS)
    shutil.rmtree(course / "release")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_student_patterns_are_nbgraders(judged):
    """Does --student take a glob, and is a pattern that matches nobody an error?"""
    course = judged[0]
    nobody = autograder(course, "--student", "z*", "--no-feedback")
    assert nobody.returncode == 2 and "z*" in nobody.stderr + nobody.stdout
    some = autograder(course, "--student", "l*", "--regrade", "--no-feedback")
    assert some.returncode == 0, some.stdout + some.stderr
    assert "graded 1 submission(s)" in some.stdout


def test_a_fix_after_grading_takes_effect_or_is_refused_by_name(judged):
    """Are points changed by hand in source/ refused, naming course.toml's line; do points changed in course.toml
    reach the gradebook on the next regrade once release/ is regenerated; and are a stale release/ and an edited
    hidden-test region refused with the cell's name?"""
    from nbgrader.api import Gradebook

    course = judged[0]
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    original = source.read_text()
    notebook = nbformat.read(source, as_version=4)
    test = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_compute_cost")
    test.metadata.nbgrader["points"] = 20
    nbformat.write(notebook, source)
    by_hand = autograder(course, "--regrade", "--no-feedback")
    said = by_hand.stderr + by_hand.stdout
    assert by_hand.returncode == 2 and "test_compute_cost has 20 points in source/" in said
    assert (
        f"course.toml (line {SPEC.line('compute_cost', 'points')}) gives compute_cost {SPEC.points['compute_cost']:g}"
        in said
    )
    spec = course / "course.toml"  # the instructor's change, made where points belong
    spec.write_text(repoint((ROOT / "course.toml").read_text(encoding="utf-8"), {"compute_cost": 20}))
    stale = autograder(course, "--regrade", "--no-feedback", spec=spec)
    assert stale.returncode == 2 and "test_compute_cost has 20 points in source/" in stale.stderr + stale.stdout
    assert "regenerate release/" in stale.stderr + stale.stdout
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    fixed = autograder(course, "--regrade", "--no-feedback", spec=spec)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_assignment(ASSIGNMENT).max_score == TOTAL + 10 + 20 - SPEC.points["compute_cost"]
        assert gradebook.find_grade("test_compute_cost", ASSIGNMENT, ASSIGNMENT, "tagraded").auto_score == 20
        assert gradebook.find_grade("test_compute_cost", ASSIGNMENT, ASSIGNMENT, "late").auto_score == 0
    test.source = test.source.replace("### END HIDDEN TESTS", "assert compute_cost is not None\n### END HIDDEN TESTS")
    nbformat.write(notebook, source)
    edited = autograder(course, "--regrade", "--no-feedback", spec=spec)
    assert edited.returncode == 2
    assert "hidden tests of test_compute_cost" in edited.stderr + edited.stdout
    assert "autograder/grading/cases.py" in edited.stderr + edited.stdout
    source.write_text(original)
