"""The grading session's dispatch (``pipeline.Session.step``), driven with fake worker pools: no kernel, no sandbox."""

import concurrent.futures
import concurrent.futures.process

from autograder import pipeline
from autograder.results import FunctionResult, Outcome, SubmissionResult
from autograder.settings import Settings


class Pool:
    """A worker pool whose jobs finish at once with a full score, or never (``hangs``: the students it holds)."""

    def __init__(self, hangs=()):
        self.hangs = set(hangs)
        self.sent: list[str] = []
        self.stopped = False

    def submit(self, function, job):
        self.sent.append(job.student)
        future = concurrent.futures.Future()
        if job.student not in self.hangs:
            future.set_result(SubmissionResult(job.student, [], [FunctionResult("f", 10, 10, Outcome.PASSED)]))
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        self.stopped = True


def session(tmp_path, monkeypatch, pools: list[Pool]) -> tuple[pipeline.Session, list[str]]:
    """A session already open (its pool the first of ``pools``; a replaced pool is the next one), recording into
    a list instead of a gradebook."""
    recorded: list[str] = []
    monkeypatch.setattr(pipeline, "read_submission", lambda folder: None)
    monkeypatch.setattr(
        pipeline, "record", lambda store, course, result, secret, trusted: recorded.append(result.student)
    )
    monkeypatch.setattr(pipeline, "local_executor", lambda *args: pools.pop(0))
    settings = Settings(course_dir=tmp_path, assignment="a", db_url="sqlite://", workers=1, sandbox=None)
    opened = pipeline.Session(settings)
    opened.executor, opened.bundle, opened.secret = pools.pop(0), None, b"secret"
    opened.point_values, opened.trusted = {"f": 10.0}, frozenset()
    opened.hang_after = 0.2
    return opened, recorded


def test_a_submission_whose_worker_hangs_is_sent_to_a_new_pool_and_recorded_once(tmp_path, monkeypatch):
    """Is a job with no result after ``hang_after`` seconds taken from the hung pool (stopped) and graded by a new
    one, once, with the others in order?"""
    hung, fresh = Pool(hangs={"bob"}), Pool()
    grading, recorded = session(tmp_path, monkeypatch, [hung, fresh])
    grading.add(["ana", "bob", "cy"])
    while grading.busy:
        grading.step(0.05)
    assert hung.stopped and hung.sent == ["ana", "bob", "cy"]
    assert fresh.sent == ["bob"]
    assert sorted(recorded) == ["ana", "bob", "cy"] and grading.not_graded_now == []


def test_a_submission_that_hangs_every_time_is_not_graded_never_a_zero(tmp_path, monkeypatch):
    """After ``MAX_ATTEMPTS`` hung workers, is the submission "not graded" (nothing recorded) and the session idle?"""
    pools = [Pool(hangs={"bob"}) for _ in range(pipeline.MAX_ATTEMPTS + 1)]
    grading, recorded = session(tmp_path, monkeypatch, pools)
    grading.add(["bob"])
    while grading.busy:
        grading.step(0.05)
    assert recorded == []
    assert [r.student for r in grading.not_graded_now] == ["bob"] and not grading.not_graded_now[0].graded


class BrokenWhileIdle(Pool):
    """A pool one of whose workers died while it had nothing to do: the next submit raises, as a process pool's does."""

    def submit(self, function, job):
        raise concurrent.futures.process.BrokenProcessPool("a worker died while idle")


def test_a_pool_broken_while_idle_is_replaced_and_nobody_is_charged(tmp_path, monkeypatch):
    """A worker killed between rounds (out of memory, by hand): is the next submission sent to a new pool, graded
    once, without an attempt charged, instead of the error ending the service?"""
    broken, fresh = BrokenWhileIdle(), Pool()
    grading, recorded = session(tmp_path, monkeypatch, [broken, fresh])
    grading.add(["ana", "bob"])
    while grading.busy:
        grading.step(0.05)
    assert broken.stopped and fresh.sent == ["ana", "bob"]
    assert recorded == ["ana", "bob"] and dict(grading.attempts) == {}


def test_a_warm_session_keeps_no_list_of_what_was_not_graded(tmp_path, monkeypatch):
    """A service's session logs each submission not graded (and the service tries it again) but keeps none: its
    memory stays flat however often a grader-side failure comes back."""
    pools = [Pool(hangs={"bob"}) for _ in range(pipeline.MAX_ATTEMPTS + 1)]
    grading, recorded = session(tmp_path, monkeypatch, pools)
    grading.warm = True
    grading.add(["bob"])
    while grading.busy:
        grading.step(0.05)
    assert recorded == [] and grading.not_graded_now == [] and grading.not_graded_total == 1


def test_a_task_hung_on_a_cluster_is_sent_again_and_one_hung_every_time_is_not_graded(tmp_path, monkeypatch):
    """On a Dask cluster nothing can stop a hung task's worker from here: is the task given up (cancelled) and
    sent again, the others recorded once, and one that hangs every time "not graded", the session idle?"""
    cluster = Pool(hangs={"bob"})
    grading, recorded = session(tmp_path, monkeypatch, [cluster])
    grading.client = object()  # a cluster: the same executor throughout
    grading.add(["ana", "bob", "cy"])
    for _ in range(200):  # bounded: before, a hung task kept the session busy for ever
        if not grading.busy:
            break
        grading.step(0.05)
    assert not grading.busy and not cluster.stopped and cluster.sent.count("bob") == pipeline.MAX_ATTEMPTS
    assert sorted(recorded) == ["ana", "cy"]
    assert [r.student for r in grading.not_graded_now] == ["bob"] and not grading.not_graded_now[0].graded
