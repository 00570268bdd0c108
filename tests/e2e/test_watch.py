"""Feedback on submit, end to end: an exchange in a temporary folder, students submitting with their own
configuration, the service grading each submission as it arrives and releasing its feedback.

Every command is the real one (`nbgrader release_assignment`, `submit`, `fetch_feedback`; `python -m
autograder watch` as a separate process), so what is tested is what a class gets: feedback fetched by
the student, the rate limit with its "queued" page, and the service killed with SIGKILL in the middle
of a grading and started again, after which each submission is graded once, with the right score.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import ASSIGNMENT, nbgrader_cli
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course

from ..conftest import TOTAL, page_score, score, shown

COURSE_ID = "planar-classification"


@pytest.fixture()
def classroom(tmp_path):
    return make_classroom(tmp_path)


def released(tmp_path, assignments=(ASSIGNMENT,)) -> tuple[Path, Path]:
    """(course, exchange): an exchange in ``tmp_path`` where the instructor has released ``assignments``."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    course = new_course(tmp_path / "course")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
        config.write("c.ExchangeCollect.check_owner = False  # one OS user plays every student here\n")
    for assignment in assignments:
        for command in (["generate_assignment", assignment, "--force"], ["release_assignment", assignment]):
            result = nbgrader_cli.run(*command, cwd=course, timeout=600)
            assert result.returncode == 0, result.stdout + result.stderr
    return course, exchange


def make_classroom(tmp_path):
    """(course, exchange, a function that makes a student submit answers): the instructor has released."""
    course, exchange = released(tmp_path)
    release, answers = course_notebooks()

    def submit(student: str, changes: dict | None = None) -> Path:
        """The student's own folder and configuration, their answers, `nbgrader submit`."""
        import nbformat

        home = tmp_path / "students" / student
        (home / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        (home / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n"
            f"c.Exchange.cache = {str(home / 'cache')!r}\n"  # each student's own (one OS user plays them all here)
        )
        nbformat.write(
            fill_answers(release, dict(answers, **(changes or {}))), home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        )
        result = nbgrader_cli.run("submit", ASSIGNMENT, "--student", student, cwd=home, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return home

    return course, exchange, submit


def service(course: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograder",
            "watch",
            "--course",
            str(course),
            "--interval",
            "0.5",
            "--workers",
            "2",
            *options,
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=nbgrader_cli.environment(),
    )


def log(course: Path) -> str:
    path = course / ".autograder" / "watch" / "watch.log"
    return path.read_text() if path.exists() else ""


def wait_for(condition, timeout: float = 180, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.3)


def fetched(home: Path, student: str) -> list[str]:
    """The assignment's feedback pages the student has, after `nbgrader fetch_feedback` (the appendix's aside)."""
    result = nbgrader_cli.run("fetch_feedback", ASSIGNMENT, "--student", student, cwd=home, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return [p.read_text() for p in sorted((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))]


def graded_lines(course: Path, student: str) -> list[str]:
    return [line for line in log(course).splitlines() if " graded: " in line and f": {student} " in line]


def test_each_submission_is_graded_as_it_arrives_and_its_feedback_fetched(classroom):
    course, exchange, submit = classroom
    watcher = service(course)
    try:
        alice = submit("alice")
        bob = submit("bob", {"compute_cost": "def compute_cost(A2, Y, parameters):\n    return 0.5\n"})
        wait_for(lambda: len(graded_lines(course, "bob")) == 1 and len(graded_lines(course, "alice")) == 1, what="both")
        wait_for(lambda: log(course).count("feedback released") == 2, what="their feedback")
        assert page_score(TOTAL) in fetched(alice, "alice")[0]
        assert page_score(score("compute_cost")) in fetched(bob, "bob")[0]
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=120) == 0  # SIGTERM: the round finishes, the service stops cleanly
    finally:
        watcher.kill()
    status = subprocess.run(
        [sys.executable, "-m", "autograder", "watch", "--course", str(course), "--status"],
        capture_output=True,
        text=True,
        env=nbgrader_cli.environment(),
    )
    assert "NOT running" in status.stdout and "queue: empty" in status.stdout
    lines = log(course).splitlines()
    assert any(" seen: alice " in line for line in lines) and any(" graded: alice " in line for line in lines)


def test_a_student_over_the_limit_is_told_when_and_graded_then(classroom):
    course, exchange, submit = classroom
    watcher = service(course, "--limit", "1", "--window", "20")
    try:
        carol = submit("carol", {"compute_cost": "def compute_cost(A2, Y, parameters):\n    return 0.5\n"})
        wait_for(lambda: len(graded_lines(course, "carol")) == 1, what="the first grading")
        submit("carol")  # the fix, at once: over the limit of one grading in 20 s
        wait_for(lambda: "rate-limited: carol" in log(course), what="the rate limit")
        pages = fetched(carol, "carol")
        assert any("is queued" in page and "graded at about" in page for page in pages)
        status = subprocess.run(
            [sys.executable, "-m", "autograder", "watch", "--course", str(course), "--status"],
            capture_output=True,
            text=True,
            env=nbgrader_cli.environment(),
        )
        assert "carol" in status.stdout and "graded 20" in status.stdout  # the queue, with the time
        began = time.monotonic()
        wait_for(lambda: len(graded_lines(course, "carol")) == 2, timeout=240, what="the second grading")
        assert time.monotonic() - began > 5  # it waited for its turn
        pages = fetched(carol, "carol")
        assert any(page_score(TOTAL) in page for page in pages)
        assert not any("is queued" in page for page in pages)  # the queued page was replaced
    finally:
        watcher.kill()


def recorded(course: Path) -> int:
    """Submissions the gradebook holds a whole grade of (the grader writes each in one transaction)."""
    import sqlite3

    try:
        with sqlite3.connect(course / "gradebook.db", timeout=1) as db:
            return db.execute(
                "SELECT COUNT(*) FROM submitted_assignment s WHERE NOT EXISTS (SELECT 1 FROM grade g JOIN "
                "submitted_notebook n ON g.notebook_id = n.id WHERE n.assignment_id = s.id AND g.auto_score IS NULL)"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("moment", ["grading", "recorded"])
def test_the_service_killed_mid_grading_grades_each_submission_once(classroom, moment):
    """SIGKILL as a grading starts, or once the first submission is in the gradebook (before the service has
    written down that it is done): after a restart each submission is recorded once, with its score."""
    course, exchange, submit = classroom
    homes = {student: submit(student) for student in ("dan", "eve")}
    watcher = service(course)
    if moment == "grading":
        wait_for(lambda: "grading " in log(course), what="a grading to start")
    else:
        wait_for(lambda: recorded(course) >= 1, what="a first record")
    os.kill(watcher.pid, signal.SIGKILL)
    watcher.wait()
    time.sleep(1)
    watcher = service(course)  # started again, as systemd would
    try:
        wait_for(
            lambda: (
                all(len(graded_lines(course, s)) >= 1 for s in homes) and log(course).count("feedback released") >= 2
            ),
            what="both graded after the restart",
        )
        time.sleep(3)  # a few more rounds: nothing is graded again
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)
    journal = [
        json.loads(line) for line in (course / ".autograder" / "watch" / "journal.jsonl").read_text().splitlines()
    ]
    for student, home in homes.items():
        assert [e["student"] for e in journal if e["event"] == "graded"].count(student) == 1
        assert page_score(TOTAL) in fetched(home, student)[0]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted((s.student_id, s.score) for s in gradebook.assignment_submissions(ASSIGNMENT)) == [
            ("dan", TOTAL),
            ("eve", TOTAL),
        ]


def test_under_the_best_policy_a_worse_submission_gets_feedback_and_the_gradebook_keeps_the_best(classroom):
    course, exchange, submit = classroom
    watcher = service(course, "--policy", "best")
    try:
        frank = submit("frank")
        wait_for(lambda: len(graded_lines(course, "frank")) == 1, what="the first grading")
        submit("frank", {"compute_cost": "def compute_cost(A2, Y, parameters):\n    return 0.5\n"})
        wait_for(lambda: len(graded_lines(course, "frank")) == 2, what="the second grading")
        wait_for(
            lambda: f"the gradebook holds their best submission again ({shown(TOTAL)})" in log(course),
            what="the best kept",
        )
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)
    pages = fetched(frank, "frank")
    assert sorted(page_score(TOTAL) in p for p in pages) == [False, True]  # feedback on both submissions
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert [s.score for s in gradebook.assignment_submissions(ASSIGNMENT)] == [TOTAL]
    csv = (course / "reports" / ASSIGNMENT / "grades.csv").read_text()
    assert f"frank,{shown(TOTAL)}," in csv


def test_nothing_a_student_puts_in_the_exchange_reaches_the_service_the_log_or_a_page(classroom):
    """Are forged, linked, multi-line and FIFO submissions refused (once, for good), with everyone else graded,
    the service never frozen and SIGTERM still working?"""
    from tests.users import ensure_user

    course, exchange, submit = classroom
    with (course / "nbgrader_config.py").open("a") as config:  # as on a real multi-user machine
        config.write("c.ExchangeCollect.check_owner = True\n")
    ensure_user()
    genuine = "autograder-ci"
    from autograder.seeds import load_secret

    secret = load_secret(course / ".autograder" / "secret").decode()  # made now, as the grader would make it
    forged_line = "2030-01-01T00:00:00Z graded: bin planar_data_classification (submitted x): 100/100"
    inbound = exchange / COURSE_ID / "inbound"

    def folder_of(student: str) -> Path:
        return next(inbound.glob(f"{student}+{ASSIGNMENT}+*"))

    def owned_by(student: str, account: str) -> Path:
        folder = folder_of(student)
        subprocess.run(["chown", "-R", account, str(folder)], check=True)
        return folder

    homes = {s: submit(s) for s in (genuine, "man")}
    submit("daemon", {"layer_sizes": "def layer_sizes(X, Y):\n    return 0\n"})
    for student in ("bin", "sys", "games"):
        submit(student)
    owned_by(genuine, genuine)
    owned_by("daemon", genuine)  # another account submits in daemon's name
    owned_by("man", "man")
    os.mkfifo(folder_of("man") / "pipe")  # beside the notebook: skipped, the notebook graded
    for student in ("bin", "sys", "games"):
        owned_by(student, student)
    (folder_of("bin") / "timestamp.txt").unlink()
    (folder_of("bin") / "timestamp.txt").symlink_to(course / ".autograder" / "secret")
    (folder_of("sys") / "timestamp.txt").write_text(f"2026-01-01 00:00:00.000000 UTC\n{forged_line}")
    (folder_of("games") / "timestamp.txt").unlink()
    os.mkfifo(folder_of("games") / "timestamp.txt")

    watcher = service(course)
    try:
        wait_for(lambda: len(graded_lines(course, genuine)) == 1 and len(graded_lines(course, "man")) == 1, what="both")
        wait_for(lambda: log(course).count("refused: ") >= 4, what="the refusals")
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=60) == 0  # nothing froze it
    finally:
        watcher.kill()
    text = log(course)
    assert "claims to be daemon's but is owned by autograder-ci" in text
    assert "timestamp.txt cannot be read as nbgrader's (symbolic link)" in text
    assert "timestamp.txt cannot be read as nbgrader's (FIFO)" in text
    assert "timestamp.txt is not nbgrader's" in text
    assert "not collected: man" in text and "pipe (FIFO)" in text
    assert secret not in text and not any(line.startswith(forged_line[:20]) for line in text.splitlines())
    assert not graded_lines(course, "daemon") and not graded_lines(course, "bin")
    assert page_score(TOTAL) in fetched(homes[genuine], genuine)[0]
    assert page_score(TOTAL) in fetched(homes["man"], "man")[0]
    published = "".join(p.read_text(errors="replace") for p in (exchange / COURSE_ID / "feedback").glob("*.html"))
    assert secret not in published
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted((s.student_id, s.score) for s in gradebook.assignment_submissions(ASSIGNMENT)) == [
            (genuine, TOTAL),
            ("man", TOTAL),
        ]
    refusals = text.count("refused: ")
    watcher = service(course)  # started again: the quarantined folders are not looked at again
    try:
        wait_for(lambda: log(course).count("watching ") == 2, what="the restart")
        time.sleep(3)
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=60) == 0
    assert log(course).count("refused: ") == refusals


def test_work_after_the_due_date_is_kept_ungraded_or_graded_with_nbgraders_penalty(classroom):
    """With a due date behind us and nbgrader's "zero" penalty: does `--late keep` keep a submission ungraded
    and tell the student, and does the default grade it with the penalty AssignLatePenalties gives?"""
    course, exchange, submit = classroom
    with (course / "nbgrader_config.py").open("a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    result = nbgrader_cli.run(
        "db", "assignment", "add", ASSIGNMENT, "--duedate=2020-01-01 00:00:00 UTC", cwd=course, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    watcher = service(course, "--late", "keep")
    try:
        alice = submit("alice")
        wait_for(lambda: "kept ungraded: after the due date" in log(course), what="alice kept")
        assert "came after the due date (2020-01-01 00:00 UTC)" in fetched(alice, "alice")[0]
        assert not (course / "submitted" / "alice").exists()
    finally:
        watcher.terminate()
        watcher.wait(timeout=120)
    watcher = service(course)  # the default: late work graded, with the penalty
    try:
        bob = submit("bob")
        wait_for(lambda: len(graded_lines(course, "bob")) == 1, what="bob graded")
        wait_for(lambda: "feedback released: bob" in log(course), what="bob's feedback")
        page = fetched(bob, "bob")[0]
        assert page_score(0) in page and f"Late submission penalty (Score: -{float(TOTAL)})" in page
        assert graded_lines(course, "alice") == []  # kept stays kept
    finally:
        watcher.terminate()
        watcher.wait(timeout=120)
