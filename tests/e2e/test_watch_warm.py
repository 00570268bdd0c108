"""A warm `watch`: what a grading run starts is kept between rounds, and a worker lost mid-grading costs nothing.

The service runs as a separate process, as in test_watch; its worker processes are found as its children that
multiprocessing spawned.
"""

import json
import os
import signal
import time

import pytest

from autograder.simulated.synthetic import course_notebooks
from tests.e2e.test_faults import _workers_of
from tests.e2e.test_watch import fetched, graded_lines, log, make_classroom, recorded, service, wait_for


@pytest.fixture()
def classroom(tmp_path):
    return make_classroom(tmp_path)


def journal_gradings(course, student: str) -> int:
    path = course / ".autograder" / "watch" / "journal.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return sum(1 for e in entries if e.get("event") == "graded" and e.get("student") == student)


def test_a_warm_service_grades_round_after_round_on_the_same_workers(classroom):
    """Are two submissions that arrive apart graded by the same worker processes, started once?"""
    course, exchange, submit = classroom
    watcher = service(course)
    try:
        alice = submit("alice")
        wait_for(lambda: len(graded_lines(course, "alice")) == 1, what="the first grading")
        first = sorted(_workers_of(watcher.pid))
        assert len(first) == 2
        time.sleep(1.5)  # a few idle rounds between the two
        bob = submit("bob")
        wait_for(lambda: len(graded_lines(course, "bob")) == 1, what="the second grading")
        assert sorted(_workers_of(watcher.pid)) == first
        assert log(course).count("on warm workers") == 1  # one start-up for both
        assert "Score: 100.0 / 100.0" in fetched(alice, "alice")[0]
        assert "Score: 100.0 / 100.0" in fetched(bob, "bob")[0]
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)


def test_a_worker_killed_mid_submission_is_replaced_and_the_submission_graded_once(classroom):
    """Are the workers, killed with SIGKILL while grading a slow submission, replaced, and the submission they
    held graded later, once, with its score, by the same running service?"""
    course, exchange, submit = classroom
    _, answers = course_notebooks()
    slow = "import time\n_began = time.time()\nwhile time.time() - _began < 4:\n    pass\n" + answers["compute_cost"]
    watcher = service(course)
    try:
        dora = submit("dora", {"compute_cost": slow})
        wait_for(lambda: "grading 1 submission(s)" in log(course), what="the grading to start")
        time.sleep(1.5)  # inside the student's slow cell
        workers = _workers_of(watcher.pid)
        assert workers and graded_lines(course, "dora") == []
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(graded_lines(course, "dora")) == 1, what="the grading after the workers died")
        time.sleep(2)  # more rounds: not graded again
        assert watcher.poll() is None  # the service lives on
        assert not set(_workers_of(watcher.pid)) & set(workers)  # new workers
        assert len(graded_lines(course, "dora")) == 1 and journal_gradings(course, "dora") == 1
        assert recorded(course) == 1
        assert "Score: 100.0 / 100.0" in fetched(dora, "dora")[0]
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)
