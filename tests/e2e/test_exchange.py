"""The instructor's whole nbgrader loop, for real, with stock nbgrader commands and the grader.

release_assignment -> students fetch_assignment, work, submit -> collect ->
python -m autograder grade -> release_feedback -> students fetch_feedback -> export,
in both editions, through an exchange directory in a temporary folder; and
zip_collect, the other way submissions arrive.
"""

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT, nbgrader_cli
from autograder.grading import wording
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course

from ..conftest import TOTAL, score, shown

COURSE_ID = "planar-classification"
EDITIONS = [ASSIGNMENT, f"{ASSIGNMENT}_zh"]


def command(*args, cwd, check=True, home=None):
    """Run a command with this environment's scripts first on PATH (nbgrader starts some of its own).

    ``home``: a student's own home folder (nbgrader keeps a cache of their submissions there).
    """
    env = nbgrader_cli.environment(**({"HOME": str(home)} if home is not None else {}))
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


def nbgrader(*args, cwd, check=True, home=None):
    return command(sys.executable, "-m", "nbgrader", *args, cwd=cwd, check=check, home=home)


def no_warnings(result):
    """Nothing nbgrader logs at WARNING or above (but what these tests do on purpose)."""
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if ("WARNING" in line or "ERROR" in line or "CRITICAL" in line)
    ]


def work(notebook_path: Path, answers: dict) -> None:
    """What a student does: fill in the answer cells of the fetched notebook."""
    fetched = nbformat.read(notebook_path, as_version=4)
    release, _ = course_notebooks(notebook_path.stem)
    filled = fill_answers(fetched, answers)
    nbformat.write(filled, notebook_path)
    assert release.cells[0].source == fetched.cells[0].source


@pytest.fixture
def loop(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    course = new_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(
            f"\nc.Exchange.root = {str(exchange)!r}\n"
            "c.ExchangeCollect.check_owner = False  # one OS user plays every student in this test\n"
        )
    students = {}
    for student in ("alice", "bob"):
        home = tmp_path / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        )
        students[student] = home
    return course, students


@pytest.mark.parametrize("assignment", EDITIONS)
def test_release_to_exported_grades_and_fetched_feedback(loop, assignment):
    course, homes = loop
    _, answers = course_notebooks(assignment)
    buggy = dict(
        answers,
        compute_cost=answers["compute_cost"].replace(
            "    cost = -np.sum(logprobs) / m", "    cost = -np.sum(logprobs)"
        ),
    )
    work_of = {"alice": answers, "bob": buggy}

    released = nbgrader("release_assignment", assignment, cwd=course)
    assert no_warnings(released) == []
    for student, home in homes.items():
        nbgrader("fetch_assignment", assignment, "--student", student, cwd=home, home=home)
        work(home / assignment / f"{assignment}.ipynb", work_of[student])
        nbgrader("submit", assignment, "--student", student, cwd=home, home=home)
    collected = nbgrader("collect", assignment, cwd=course)
    assert no_warnings(collected) == []
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]

    graded = command(sys.executable, "-m", "autograder", "grade", "--assignment", assignment, cwd=course)
    assert "graded 2 submission(s)" in graded.stdout

    released_feedback = nbgrader("release_feedback", assignment, cwd=course)
    assert no_warnings(released_feedback) == []
    expected = {"alice": shown(TOTAL), "bob": shown(score("compute_cost"))}
    for student, home in homes.items():
        nbgrader("fetch_feedback", assignment, "--student", student, cwd=home, home=home)
        pages = list((home / assignment / "feedback").glob(f"*/{assignment}.html"))
        assert len(pages) == 1, list((home / assignment).rglob("*"))
        page = pages[0].read_text()
        word = wording.say(wording.language(assignment), "page_score")  # the page's frame speaks the edition's
        assert f"({word}: {float(expected[student])} / {float(TOTAL)})" in page
        assert "BEGIN HIDDEN TESTS" not in page and "check_hidden_cases" not in page

    exported = nbgrader("export", cwd=course)
    assert no_warnings(exported) == []
    with (course / "grades.csv").open() as handle:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    for student, total in expected.items():
        assert float(rows[(assignment, student)]["raw_score"]) == float(total)


def test_zip_collect_then_grade(tmp_path):
    """Submissions that arrive as archives (an LMS download) are collected and graded alike."""
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    downloaded = course / "downloaded" / ASSIGNMENT / "archive"
    downloaded.mkdir(parents=True)
    with zipfile.ZipFile(downloaded / "submissions.zip", "w") as archive:
        for student, work_done in (("carol", answers), ("dave", {})):
            archive.writestr(
                f"{student}_attempt_2026-11-20-10-00-00_{ASSIGNMENT}.ipynb",
                nbformat.writes(fill_answers(release, work_done)),
            )
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(
            "\nc.FileNameCollectorPlugin.named_regexp = "
            r"r'.+/(?P<student_id>[^/_]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>[^/]+\.ipynb)'"
            "\n"
        )
    nbgrader("zip_collect", ASSIGNMENT, cwd=course)
    assert (course / "submitted" / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    graded = command(sys.executable, "-m", "autograder", "grade", cwd=course)
    assert "graded 2 submission(s)" in graded.stdout
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["carol"]["total"] == shown(TOTAL)
    assert rows["dave"]["total"] == "0" and rows["dave"]["status"].startswith("not attempted")
    assert (course / "feedback" / "carol" / ASSIGNMENT / "timestamp.txt").is_file()
    shutil.rmtree(course / "downloaded")
