"""The command line: exit codes, messages, flags, the demo, and reproducible grades."""

import csv
import subprocess
import sys

import pytest

from autograder import ASSIGNMENT
from autograder.grading.cases import draw_cases
from autograder.seeds import seed_for
from autograder.simulated.demo import STUDENTS as DEMO_STUDENTS
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import ROOT, TOTAL, score, shown


def autograder(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


@pytest.fixture
def small_course(tmp_path):
    """A course with two students: one perfect, one who forgot the tanh derivative."""
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    write_submission(fill_answers(release, answers), course, "alice", ASSIGNMENT)
    buggy = dict(answers, backward_propagation=answers["backward_propagation"].replace(" * (1 - A1 ** 2)", ""))
    write_submission(fill_answers(release, buggy), course, "bob", ASSIGNMENT)
    return course


def read_csv(course):
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_missing_course_is_a_clear_error():
    result = autograder("grade", "--course", "/nonexistent/course")
    assert result.returncode == 2
    assert "course directory /nonexistent/course does not exist" in result.stdout


def test_course_without_source_is_a_clear_error(tmp_path):
    result = autograder("grade", "--course", str(tmp_path))
    assert result.returncode == 2
    assert "holds 0 assignments" in result.stdout and "--assignment" in result.stdout


def test_corrupt_gradebook_is_a_clear_error_and_left_alone(small_course):
    (small_course / "gradebook.db").write_bytes(b"this is not a database" * 100)
    result = autograder("grade", "--course", str(small_course))
    assert result.returncode == 2
    assert "cannot open the gradebook" in result.stdout
    assert (small_course / "gradebook.db").read_bytes() == b"this is not a database" * 100


def test_no_sandbox_grades_but_says_so_everywhere(small_course):
    result = autograder("grade", "--course", str(small_course), "--no-sandbox", "--no-feedback")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WITHOUT the sandbox" in result.stdout
    rows = read_csv(small_course)
    assert {name: row["sandboxed"] for name, row in rows.items()} == {"alice": "NO", "bob": "NO"}
    assert (rows["alice"]["total"], rows["bob"]["total"]) == (shown(TOTAL), shown(score("backward_propagation")))


def test_regrading_with_the_same_secret_gives_the_same_grades(small_course):
    first = autograder("grade", "--course", str(small_course), "--no-feedback")
    assert first.returncode == 0, first.stdout + first.stderr
    before = read_csv(small_course)
    again = autograder("grade", "--course", str(small_course), "--no-feedback")
    assert "2 were already graded" in again.stdout
    regraded = autograder("grade", "--course", str(small_course), "--no-feedback", "--regrade")
    assert "graded 2 submission(s)" in regraded.stdout
    after = read_csv(small_course)
    assert {s: r["total"] for s, r in before.items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
    }
    assert {s: r["total"] for s, r in after.items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
    }
    assert (small_course / ".autograder" / "secret").stat().st_mode & 0o077 == 0


def test_hidden_cases_differ_per_student_and_per_secret():
    """Does each student (and each secret) get other hidden inputs, and the same ones again?"""

    def inputs(secret, student):
        case = draw_cases("forward_propagation", seed_for(secret, ASSIGNMENT, student))[0]
        return case.args[0].tolist()

    assert inputs(b"secret-one-16bytes", "alice") == inputs(b"secret-one-16bytes", "alice")
    assert inputs(b"secret-one-16bytes", "alice") != inputs(b"secret-one-16bytes", "bob")
    assert inputs(b"secret-one-16bytes", "alice") != inputs(b"secret-two-16bytes", "alice")


def test_demo_grades_every_demo_student_as_documented(tmp_path):
    result = autograder("demo", "--dir", str(tmp_path / "demo"), "--cell-timeout", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = read_csv(tmp_path / "demo")
    assert {s: float(r["total"]) for s, r in rows.items()} == {s: t for s, (_, t) in DEMO_STUDENTS.items()}
    assert "grades:" in result.stdout and "feedback:" in result.stdout
    assert not (ROOT / "submitted").exists()
