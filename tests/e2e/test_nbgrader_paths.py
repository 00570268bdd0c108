"""Every path to a grade goes through the judge: `nbgrader autograde`, formgrader's buttons, and `grade` after them.

Three students: one who tampers (every function returns None, and the first cell replaces
the visible tests and the in-notebook hidden check with prints of "All tests passed"), one
correct, one with a wrong compute_cost. `python -m autograder grade` on a copy of the
course says what each must get; `nbgrader autograde` on the command line and formgrader's
Autograde button (a real Jupyter server with nbgrader's extension, called over HTTP with a
token) must record exactly that, with the judge's comments and feedback page; and a
`grade` run afterwards must vouch for those records and report the same. A record stock
nbgrader wrote is graded again.
"""

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import ASSIGNMENT, nbgrader_cli
from autograder.simulated.synthetic import (
    course_notebooks,
    fill_answers,
    new_course,
    use_stock_nbgrader,
    write_submission,
)

from ..conftest import POINTS, ROOT, TOTAL

TAMPER = (
    f"NAMES = {tuple(POINTS)!r}\n"
    + r"""
import builtins
def _passed(*args, **kwargs):
    print("All tests passed.")
for _name in NAMES:
    globals()[_name + "_test"] = _passed
try:
    import autograder.grading.incell as _incell
    _incell.check_hidden_cases = lambda *args, **kwargs: print("Hidden tests passed.")
except ImportError:
    pass
"""
)
STUDENTS = ("tamper", "correct", "wrong")


def build(folder: Path) -> Path:
    import nbformat

    course = new_course(folder)
    release, answers = course_notebooks()
    nothing = {name: source.replace("    return ", "    return None  #") for name, source in answers.items()}
    tamper = fill_answers(release, nothing)
    tamper.cells.insert(3, nbformat.v4.new_code_cell(TAMPER, id="tamper"))
    write_submission(tamper, course, "tamper", ASSIGNMENT)
    write_submission(fill_answers(release, answers), course, "correct", ASSIGNMENT)
    wrong = answers["compute_cost"].replace("    cost = -np.sum(logprobs) / m", "    cost = 0.5")
    write_submission(fill_answers(release, dict(answers, compute_cost=wrong)), course, "wrong", ASSIGNMENT)
    # the appendix comes back too, as students submit the whole folder: ungraded, shown inert
    shutil.copy(course / "release" / ASSIGNMENT / "appendix.ipynb", course / "submitted" / "correct" / ASSIGNMENT)
    for student in STUDENTS:
        folder = course / "submitted" / student / ASSIGNMENT
        (folder / "timestamp.txt").write_text("2026-11-27 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(secrets.token_hex(16))
    return course


def records(course: Path) -> dict:
    """student -> {function: [score, comment]}, as nbgrader's own gradebook API reads them."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            try:
                notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except MissingEntry:
                continue
            comments = {comment.name: comment.auto_comment for comment in notebook.comments}
            found[student] = {
                grade.name.removeprefix("test_"): [grade.auto_score, comments.get(grade.name.removeprefix("test_"))]
                for grade in notebook.grades
            }
    return found


def autograder(course: Path, *args: str):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "2", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=nbgrader_cli.environment(),
    )


def nbgrader(course: Path, *args: str):
    result = nbgrader_cli.run(*args, cwd=course, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def page(course: Path, student: str) -> Path:
    return course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """What `python -m autograder grade` records for each student: the truth both other paths must give."""
    course = build(tmp_path_factory.mktemp("grade") / "course")
    result = autograder(course)
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(course)
    assert sum(score for score, _ in found["tamper"].values()) == 0
    assert sum(score for score, _ in found["correct"].values()) == TOTAL
    assert sum(score for score, _ in found["wrong"].values()) == TOTAL - POINTS["compute_cost"]
    return found


def check_judged(course: Path, expected: dict) -> None:
    """The gradebook holds the judge's scores and comments; the feedback is the judge's page, as grade writes it."""
    assert records(course) == expected
    for student in STUDENTS:
        html = page(course, student).read_text()
        assert "BEGIN HIDDEN TESTS" not in html
        for score, comment in expected[student].values():
            if score == 0:
                assert comment.split(":")[0] in html
        assert page(course, student).stat().st_mode & 0o777 == 0o644
        for step in ("autograded", "feedback"):
            kept = {p.name for p in (course / step / student / ASSIGNMENT).iterdir()}
            kept -= {f"{ASSIGNMENT}.ipynb", f"{ASSIGNMENT}.html", "appendix.ipynb", "appendix.html"}
            assert kept == {"timestamp.txt", "submission_secret.txt"}


def check_appendix(course: Path) -> None:
    """The appendix a student handed back is graded by nothing and shown inert: no outputs, no markup of theirs."""
    import nbformat

    notebook = nbformat.read(course / "autograded" / "correct" / ASSIGNMENT / "appendix.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    assert all("nbgrader" not in cell.metadata for cell in notebook.cells)


def check_grade_vouches(course: Path, expected: dict) -> None:
    """A grade run afterwards grades nothing again and reports the same scores and statuses (the tamperer's
    flagged for the instructor, the others "ok")."""
    result = autograder(course)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graded 0 submission(s)" in result.stdout
    import csv

    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    for student in STUDENTS:
        assert float(rows[student]["total"]) == sum(score for score, _ in expected[student].values())
        status = rows[student]["status"]
        assert (
            status.startswith("code that reaches for the grading machinery") if student == "tamper" else status == "ok"
        )


def test_nbgrader_autograde_gives_the_judges_grades(tmp_path, expected):
    course = build(tmp_path / "course")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "autograde", ASSIGNMENT)
    check_judged(course, expected)
    check_appendix(course)
    before = page(course, "wrong").read_bytes()
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    assert page(course, "wrong").read_bytes() == before  # Generate Feedback keeps the judge's page
    check_judged(course, expected)
    check_grade_vouches(course, expected)


def test_formgraders_buttons_give_the_judges_grades(tmp_path, expected):
    course = build(tmp_path / "course")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    server = nbgrader_cli.FormgraderServer(course, tmp_path / "server.log")
    try:
        for student in STUDENTS:
            answer = server.autograde(ASSIGNMENT, student)
            assert answer["success"], answer.get("log", "")[-3000:]
        check_judged(course, expected)
        before = page(course, "tamper").read_bytes()
        for student in STUDENTS:
            answer = server.generate_feedback(ASSIGNMENT, student)
            assert answer["success"], answer.get("log", "")[-3000:]
        assert page(course, "tamper").read_bytes() == before
        check_judged(course, expected)
    finally:
        server.stop()
    check_grade_vouches(course, expected)


def test_a_record_stock_nbgrader_wrote_is_graded_again(tmp_path, expected):
    """Stock nbgrader (its own Execute) gives the tamperer full marks; grade does not vouch for it, grades it
    again, and records the judge's scores."""
    course = use_stock_nbgrader(build(tmp_path / "course"))
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "autograde", ASSIGNMENT)
    assert sum(score for score, _ in records(course)["tamper"].values()) == TOTAL  # what stock nbgrader believed
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")  # the course's own configuration
    result = autograder(course)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graded 3 submission(s)" in result.stdout
    assert records(course) == expected
