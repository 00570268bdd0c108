"""A gradebook in PostgreSQL, as a large course would keep it: graded, killed mid-run, resumed.

The test starts a throwaway server of its own (initdb and pg_ctl into a temporary
folder, as an ordinary user, listening on a Unix socket only), points a course's
nbgrader_config.py at it, and checks that every student is recorded once, with the
right score, after the grader was killed with SIGKILL and run again.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import ASSIGNMENT
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import POINTS, TOTAL
from ..users import ensure_user

STUDENTS = [f"s{n:02d}" for n in range(8)]
ROLE = "grader"


def server_program(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    return found[-1] if found and found[-1] else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server; yields the SQLAlchemy URL of an empty database."""
    initdb, pg_ctl, createdb = (server_program(n) for n in ("initdb", "pg_ctl", "createdb"))
    if not (initdb and pg_ctl and createdb):
        pytest.skip(
            "PostgreSQL's server programs are not installed (Debian package postgresql; .ci/run installs it for CI)"
        )
    base = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    base.chmod(0o755)
    prefix = []
    if os.geteuid() == 0:  # initdb refuses root: the server runs as an ordinary user
        user = ensure_user()
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", user.pw_name, "--"]
    data, log = base / "data", base / "server.log"
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", ROLE, "--no-sync"], check=True, capture_output=True
    )
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-c listen_addresses='' -c unix_socket_directories='{base}' -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run([*prefix, createdb, "-h", str(base), "-U", ROLE, "gradebook"], check=True, capture_output=True)
        yield f"postgresql+psycopg://{ROLE}@/gradebook?host={base}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def recorded(url):
    """(student, total) of every submission with all its test cells scored."""
    import psycopg

    host, dbname = url.split("host=")[1], url.split("@/")[1].split("?")[0]
    with psycopg.connect(host=host, user=ROLE, dbname=dbname) as connection:
        try:
            rows = connection.execute(
                "SELECT submitted_assignment.student_id, SUM(grade.auto_score), COUNT(grade.auto_score), "
                "COUNT(*) FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
                "GROUP BY submitted_assignment.id, submitted_assignment.student_id"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []
    return sorted((student, total) for student, total, scored, cells in rows if scored == cells)


def grade(course):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "1", "--no-feedback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_postgresql_gradebook_survives_a_killed_grader(tmp_path, postgres):
    course = new_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {postgres!r}\n")
    release, answers = course_notebooks()
    buggy = dict(answers, compute_cost=answers["compute_cost"].replace("-np.sum(logprobs) / m", "-np.sum(logprobs)"))
    for number, student in enumerate(STUDENTS):
        write_submission(fill_answers(release, buggy if number % 3 == 0 else answers), course, student, ASSIGNMENT)
    expected = [(s, float(TOTAL - POINTS["compute_cost"] if n % 3 == 0 else TOTAL)) for n, s in enumerate(STUDENTS)]

    first = grade(course)
    deadline = time.monotonic() + 300
    while len(recorded(postgres)) < 2 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = len(recorded(postgres))
    assert 2 <= killed_at < len(STUDENTS), "the kill came too late to test resuming"

    second = grade(course)
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    assert int(re.search(r"(\d+) were already graded", output).group(1)) == killed_at
    assert recorded(postgres) == expected  # each student once, with the right score
    assert (course / "gradebook.db").exists() is False


def test_one_students_unstorable_text_never_stops_anyone_elses_record(tmp_path, postgres):
    """Does an error message with a NUL (which PostgreSQL refuses in text) and control characters still let
    every student be recorded, that student included, with the text cleaned?"""
    import psycopg

    host = postgres.split("host=")[1]
    with psycopg.connect(host=host, user=ROLE, dbname="gradebook", autocommit=True) as connection:
        connection.execute("CREATE DATABASE unstorable")
    url = postgres.replace("/gradebook?", "/unstorable?")
    course = new_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
    release, answers = course_notebooks()
    nul = "def compute_cost(A2, Y, parameters):\n    raise ValueError('cost\\x00 is \\x1b[31m\\x07 here')\n"
    for student, changes in (("a1", {}), ("nul", {"compute_cost": nul}), ("z9", {})):
        write_submission(fill_answers(release, dict(answers, **changes)), course, student, ASSIGNMENT)
    run = grade(course)
    output, _ = run.communicate(timeout=600)
    assert run.returncode == 0, output
    total = sum(POINTS.values())
    assert recorded(url) == [("a1", total), ("nul", total - POINTS["compute_cost"]), ("z9", total)]
    with psycopg.connect(host=host, user=ROLE, dbname="unstorable") as connection:
        comments = [row[0] for row in connection.execute("SELECT auto_comment FROM comment").fetchall() if row[0]]
    said = next(c for c in comments if "cost" in c and "here" in c)
    assert "\x00" not in said and "\x1b" not in said and "\ufffd" in said
