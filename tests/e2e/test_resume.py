"""Killing the grader with SIGKILL mid-run, then running it again: nothing lost, nothing twice, nothing left."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

from autograder import ASSIGNMENT
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import TOTAL

STUDENTS = [f"s{n:02d}" for n in range(8)]


def graded_count(db):
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as connection:
            return connection.execute(
                "SELECT COUNT(DISTINCT submitted_notebook.assignment_id) FROM grade "
                "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                "WHERE grade.auto_score IS NOT NULL"
            ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def descendants(pid):
    """Every process below ``pid``, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def grade(course, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "1", "--no-feedback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def test_sigkill_then_rerun_grades_each_submission_once(tmp_path):
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    for student in STUDENTS:
        write_submission(fill_answers(release, answers), course, student, ASSIGNMENT)

    first = grade(course)
    db = course / "gradebook.db"
    deadline = time.monotonic() + 240
    while graded_count(db) < 2 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    below = descendants(first.pid)  # workers, zygotes, reference processes, launchers, kernels
    assert len(below) >= 4, below
    os.kill(first.pid, signal.SIGKILL)  # the grader alone, as the OOM killer or `kill -9` would
    first.wait()
    killed_at = graded_count(db)
    assert 2 <= killed_at < len(STUDENTS), "the kill came too late to test resuming"

    deadline = time.monotonic() + 10  # they die with it (parent-death signals all the way down)
    while any(alive(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in below if alive(pid)] == []

    second = grade(course)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    graded_now = int(re.search(r"graded (\d+) submission", output).group(1))
    resumed = int(re.search(r"(\d+) were already graded", output).group(1))
    assert resumed >= killed_at
    assert graded_now + resumed == len(STUDENTS)

    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"
        ).fetchall()
        scores = connection.execute(
            "SELECT SUM(grade.auto_score) FROM grade JOIN submitted_notebook ON "
            "grade.notebook_id = submitted_notebook.id GROUP BY submitted_notebook.id"
        ).fetchall()
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(rows) == [(student, 1) for student in STUDENTS]
    assert scores == [(float(TOTAL),)] * len(STUDENTS)
