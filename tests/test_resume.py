"""Killing the grader with SIGKILL mid-run, then running it again: nothing lost, nothing twice."""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import nbformat

from autograder import ASSIGNMENT
from autograder.synthetic import fill_answers, solution_answers, write_submission

from .conftest import ROOT

STUDENTS = [f"s{n:02d}" for n in range(8)]


def graded_count(db):
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return connection.execute(
                "SELECT COUNT(DISTINCT submitted_notebook.assignment_id) FROM grade "
                "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                "WHERE grade.auto_score IS NOT NULL").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def grade(course, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "1",
                             "--no-feedback"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)


def test_sigkill_then_rerun_grades_each_submission_once(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copytree(ROOT / "release", course / "release")
    release = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answers = solution_answers(nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4))
    for student in STUDENTS:
        write_submission(fill_answers(release, answers), course, student, ASSIGNMENT)

    first = grade(course)
    db = course / "gradebook.db"
    deadline = time.monotonic() + 240
    while graded_count(db) < 2 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = graded_count(db)
    assert 2 <= killed_at < len(STUDENTS), "the kill came too late to test resuming"

    time.sleep(1)  # the killed grader's launchers and kernels die with it (parent-death signals)
    leftovers = subprocess.run(["pgrep", "-af", "autograder/jail.py|autograder/zygote.py|grading-kernel-"],
                               capture_output=True, text=True).stdout
    assert leftovers == ""

    second = grade(course)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    graded_now = int(re.search(r"graded (\d+) submission", output).group(1))
    resumed = int(re.search(r"(\d+) were already graded", output).group(1))
    assert resumed >= killed_at
    assert graded_now + resumed == len(STUDENTS)

    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id").fetchall()
        scores = connection.execute("SELECT SUM(grade.auto_score) FROM grade JOIN submitted_notebook ON "
                                    "grade.notebook_id = submitted_notebook.id GROUP BY submitted_notebook.id"
                                    ).fetchall()
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(rows) == [(student, 1) for student in STUDENTS]
    assert scores == [(100.0,)] * len(STUDENTS)
