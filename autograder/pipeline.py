"""Grade a class: check what the grader needs, grade each submission in a worker, record each as it ends.

1. Preflight: everything that is the instructor's side (the solutions load and pass
   their own visible tests, the disk has room, the gradebook can be written, the
   sandbox really starts a kernel) is checked before anyone is graded; a failure
   stops the run with the reason and records nothing.
2. Dispatch: submissions are read one job at a time (bounded memory) and graded in
   worker processes or on a Dask cluster. A worker that dies is replaced and its
   submissions are tried again; what still fails is "not graded", never a zero.
3. Record: only this process writes files and the gradebook, one commit per
   submission after its files are on disk, so an interrupted run resumes where it
   stopped and a rerun grades exactly what is not graded yet.

``Session`` is what a run starts (1), and its dispatch and records (2, 3): ``run`` opens one for a class and
closes it; ``watch`` keeps one open between its rounds and hands it each submission as it arrives.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import errno
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from .course import Course, CourseError, sqlite_path
from .grading.feedback import render_not_graded
from .grading.job import Job
from .grading.worker import grade
from .intake import Skipped, discover, read_submission, submission_identities, submission_name, ungraded_notebooks
from .markup import points
from .preflight import (
    check_course,
    check_disk,
    check_gradebook_location,
    check_sandbox,
    prepare_worker,
    warm_worker,
)
from .results import Kind, ResultStore, SubmissionResult, not_graded, write_atomically
from .seeds import load_secret, seed_for
from .settings import CPU_MARGIN_SECONDS, GradingError, Settings
from .workers import dask_client, local_executor, stop

MAX_ATTEMPTS = 3  # a submission whose worker dies this often in one run is left "not graded"


@dataclasses.dataclass
class RunSummary:
    results: list[SubmissionResult]  # every graded submission (the gradebook's), and this run's not graded
    graded_now: int
    resumed: int
    skipped: list[Skipped]
    seconds: float
    csv_path: Path
    report_path: Path
    timings: dict = dataclasses.field(default_factory=dict)  # seconds per phase of the run (Timings)

    @property
    def not_graded(self) -> list[SubmissionResult]:
        return [r for r in self.results if not r.graded]


# -- writing results --------------------------------------------------------------------------------


def _write_files(course: Course, result: SubmissionResult, submission_secret: bytes | None) -> None:
    """The autograded notebook and the feedback page, with the files nbgrader's feedback steps need.

    The feedback has nbgrader's permissions (``Course.feedback_mode``: 0644, or 0664 for a group-shared course):
    ``release_feedback`` copies them into the exchange, where the student must be able to read the page.
    """
    autograded = course.step("autograded", result.student)
    extras = {"timestamp.txt": (result.timestamp or "").encode()} if result.timestamp else {}
    if submission_secret is not None:
        extras["submission_secret.txt"] = submission_secret
    if result.notebook_json is not None:
        write_atomically(autograded / f"{course.assignment}.ipynb", result.notebook_json.encode("utf-8"))
        for name, data in extras.items():
            write_atomically(autograded / name, data)
    if result.feedback_html is not None:
        feedback = course.step("feedback", result.student)
        for notebook in ungraded_notebooks(course.step("submitted", result.student), course.assignment):
            page = render_not_graded(notebook, course.assignment)  # nbgrader shows feedback only if all have one
            write_atomically(feedback / f"{notebook}.html", page.encode("utf-8"), course.feedback_mode)
        write_atomically(
            feedback / f"{course.assignment}.html", result.feedback_html.encode("utf-8"), course.feedback_mode
        )
        for name, data in extras.items():
            write_atomically(feedback / name, data, course.feedback_mode)


def record(store: ResultStore, course: Course, result: SubmissionResult, secret: bytes | None, trusted) -> None:
    """Record one graded submission with its files: the gradebook's changes are made, the files written
    (the feedback page again when it must show what the gradebook adds: lateness, a person's grading),
    then the commit. ``trusted``: the release's markdown (``feedback.markdown_of``)."""

    def write_files(standing) -> None:
        if result.feedback_html is not None and standing is not None and standing.shown:
            from .grading.feedback import render

            result.feedback_html = render(result, course.assignment, trusted, standing)
        _write_files(course, result, secret)

    store.record(result, write_files)


def refresh_pages(course: Course, results: list[SubmissionResult], bundle) -> Path:
    """Pages out of date with the gradebook (a TA graded by hand, a due date moved since the page was made)
    are made again from the autograded notebook, so the page ``release_feedback`` sends shows the gradebook."""
    from .grading.feedback import gradebook_mark, markdown_of, render

    trusted = None
    for result in results:
        standing = result.standing
        page = course.step("feedback", result.student) / f"{course.assignment}.html"
        notebook = course.step("autograded", result.student) / f"{course.assignment}.ipynb"
        if standing is None or not result.graded or result.has(Kind.UNVERIFIED) or not notebook.is_file():
            continue
        try:
            current = page.read_text(encoding="utf-8")
        except OSError:
            continue
        if gradebook_mark(standing) in current or (not standing.shown and "<!-- autograder: gradebook" not in current):
            continue
        trusted = markdown_of(bundle.release_notebook) if trusted is None else trusted
        result.notebook_json = notebook.read_text(encoding="utf-8")
        write_atomically(page, render(result, course.assignment, trusted, standing).encode(), course.feedback_mode)
        result.notebook_json = None
    return course.folder("feedback")


def _log_not_graded(course: Course, result: SubmissionResult) -> None:
    """Keep why a submission was not graded, with any traceback, for whoever maintains the grader."""
    import datetime

    detail = next((f.detail for f in result.functions if f.detail), "")
    entry = f"{datetime.datetime.now().isoformat(timespec='seconds')} {result.student}: {result.status}\n{detail}\n"
    with contextlib.suppress(OSError):
        course.state.mkdir(parents=True, exist_ok=True)
        with (course.state / "not-graded.log").open("a", encoding="utf-8") as log:
            log.write(entry)


def _disk_error(error: OSError, what: str) -> GradingError:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return GradingError(
            f"the disk is full: {what} could not be written. Grades recorded so far are kept; "
            "free some space and run again to grade the rest."
        )
    return GradingError(
        f"{what} could not be written ({error.strerror or error}). Grades recorded so far are "
        "kept; run again to grade the rest."
    )


# -- the run -----------------------------------------------------------------------------------------

ProgressCallback = Callable[[str, int, int, "SubmissionResult | None"], None]


class Timings(dict):
    """Seconds spent in each phase of a run, in order (the grader's own account, for bench)."""

    @contextlib.contextmanager
    def phase(self, name: str):
        begun = time.monotonic()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.monotonic() - begun


def run(settings: Settings, on_progress: ProgressCallback | None = None) -> RunSummary:
    """Grade every submission of the assignment that is not graded yet (all with ``regrade``).

    The workers start, and each proves the sandbox on a real kernel (which also warms it)
    and checks the solutions in its reference process, while this process checks the
    course, the disk and the gradebook.
    """
    started = time.monotonic()
    with Session(settings, on_progress) as session:
        with session.timings.phase("grading"):
            session.add(session.todo)
            while session.busy:
                session.step()
        identities = dict(session.recorded_identities, **session.identities)
        results = session.store.load(identities) + session.not_graded_now
    timings = session.timings
    with timings.phase("reports"):
        csv_path, report = write_all_reports(settings, session.course, results, session.skipped, session.bundle)
    return RunSummary(
        results,
        session.graded,
        len(session.students) - len(session.todo),
        session.skipped,
        time.monotonic() - started,
        csv_path,
        report,
        dict(timings),
    )


def write_all_reports(settings: Settings, course: Course, results, skipped, bundle) -> tuple[Path, Path]:
    """The feedback pages out of date with the gradebook, grades.csv and summary.html."""
    from .reports import write_csv, write_reports

    if settings.feedback:
        _written(lambda: refresh_pages(course, results, bundle), "the feedback pages")
    csv_path = _written(lambda: write_csv(course.reports / "grades.csv", results, skipped), "grades.csv")
    report = _written(lambda: write_reports(course.reports, results, skipped, course), "summary.html")
    return csv_path, report


class Session:
    """What a grading run starts, kept open: the worker processes (with the zygote and their reference
    processes), the proven sandbox, the checked course and the open gradebook.

    ``run`` opens one for a class and closes it; ``watch`` keeps one open across its rounds (``warm``: the
    sandbox is proven at once) and hands it each submission as it arrives. ``add`` queues students;
    ``step`` sends what is queued to the workers (a bounded number in flight, in the order added), waits a
    while for one to finish and records what did, one commit each. A worker that dies, or holds a submission
    past ``hang_after`` seconds, is replaced with the others, and the submissions they held are tried again
    (``MAX_ATTEMPTS`` times), never a zero.
    """

    def __init__(self, settings: Settings, on_progress: ProgressCallback | None = None, warm: bool = False):
        from . import STARTED

        self.settings = settings
        self.course = settings.course
        self.on_progress = on_progress
        self.warm = warm
        self.timings = Timings(imports=time.monotonic() - STARTED)
        self.client = self.executor = self.gradebook = self.zygote = self.store = None
        self.bundle = self.secret = None
        self.students: list[str] = []
        self.skipped: list[Skipped] = []
        self.todo: list[str] = []  # of ``students``, those not graded yet (all with ``regrade``)
        self.recorded_identities: dict[str, str] = {}  # the submission each student had when it was recorded
        self.identities: dict[str, str] = {}  # the submission each student sent to grading has
        self.not_graded_now: list[SubmissionResult] = []
        self.not_graded_total = 0
        self.graded = 0
        self.total = 0  # students added
        self.pending: collections.deque[str] = collections.deque()
        self.in_flight: dict = {}  # future -> (student, when it was sent)
        self.attempts: collections.Counter = collections.Counter()
        self.secrets_of: dict[str, bytes | None] = {}
        self.hang_after = 3 * (settings.limits.submission_timeout + CPU_MARGIN_SECONDS)  # wall seconds of one job
        self._checks: list = []
        self._proven = False

    def __enter__(self) -> Session:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        settings, course, timings = self.settings, self.course, self.timings
        if settings.warm_kernels and not settings.scheduler:
            # One zygote for all local workers: its imports are the largest part of starting up.
            from .sandbox import scratch_dir
            from .sandbox.launchers import ZygoteServer

            self.zygote = ZygoteServer.take_early() or ZygoteServer(scratch_dir())
        with timings.phase("course"):
            try:
                self.bundle = check_course(course)
                students, self.skipped = discover(course)
            except CourseError as error:
                raise GradingError(str(error)) from error
        with timings.phase("workers"):
            if settings.scheduler:
                self.client = dask_client(settings)
                self.executor = self.client.get_executor(pure=False)
            else:
                self.executor = local_executor(max(1, settings.workers), settings.warm_kernels, self.zygote)
            # One worker proves the machine (a sandboxed kernel, the solutions); submitting a task to
            # each of the others starts them now, and with them their zygotes and reference processes.
            self._checks = [
                self.executor.submit(
                    prepare_worker, self.bundle, settings.sandbox, settings.warm_kernels, settings.feedback
                )
            ]
            if self.client is None:
                self._checks += [
                    self.executor.submit(warm_worker, self.bundle, settings.feedback)
                    for _ in range(max(1, settings.workers) - 1)
                ]
        with timings.phase("course"):
            if settings.students is not None:
                students = chosen(students, settings.students, course)
            self.students = students
            check_disk(course, len(students))
            check_gradebook_location(settings.db_url)
            secret_path = settings.secret_file or course.secret_file
            try:
                self.secret = load_secret(secret_path)
            except (CourseError, OSError) as error:
                raise GradingError(f"cannot use the grader's secret {secret_path}: {error}") from error
        staged = None
        with timings.phase("gradebook"):
            from .gradebook import StagedGradebook, open_gradebook  # nbgrader and SQLAlchemy: 2 s, not before

            path = sqlite_path(settings.db_url)
            if path is not None and not path.exists():
                staged = StagedGradebook(path, course)
                done = set()
            else:
                self.gradebook = open_gradebook(settings.db_url, course)
                recorded = self.gradebook.graded_students()
                self.recorded_identities = submission_identities(course, recorded)
                # Only what the grader can vouch for counts as graded: a record written by anything else (stock
                # nbgrader, a hand edit), whose details are gone, or of an older submission is graded again.
                store = ResultStore(self.gradebook, course.results, self.secret)
                done = set() if settings.regrade else store.verified(self.recorded_identities) & set(recorded)
            self.todo = [student for student in students if student not in done]
        with timings.phase("workers ready"):
            try:
                if self.todo or self.warm:  # with nobody to grade, nothing to prove
                    self.prove()
                if staged is not None:
                    self.gradebook = staged.commit(settings.db_url, course)
                    staged = None
            finally:
                if staged is not None:
                    staged.discard()
            self.store = ResultStore(self.gradebook, course.results, self.secret)
        from .grading.feedback import markdown_of

        self.point_values = points(nbformat.reads(self.bundle.release_notebook, as_version=4))
        self.trusted = markdown_of(self.bundle.release_notebook)

    def prove(self) -> None:
        """Wait for the workers' proof that the sandbox starts kernels and the solutions pass (once)."""
        if not self._proven:
            check_sandbox(self._checks, self.settings)
            self._proven = True

    def between_rounds(self) -> None:
        """End the gradebook's read transaction: the next round sees what others wrote (a TA's grade, a moved due
        date), and an idle service holds no transaction open on the database."""
        if self.gradebook is not None:
            self.gradebook.session.rollback()

    def worker_pids(self) -> list[int]:
        """The local worker processes (none on a cluster)."""
        return sorted((getattr(self.executor, "_processes", None) or {}).keys())

    def close(self) -> None:
        with self.timings.phase("stop"):
            if self.client is None:
                stop(self.executor)
            else:
                self.client.close()
            self.executor = self.client = None
            if self.gradebook is not None:
                self.gradebook.close()
                self.gradebook = None
            if self.zygote is not None:
                self.zygote.close()
                self.zygote = None

    # -- grading ----------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self.pending or self.in_flight)

    def add(self, students) -> None:
        """Queue ``students`` for grading, after those queued already."""
        students = list(students)
        self.pending.extend(students)
        self.total += len(students)
        if self.on_progress and self.total == len(students):
            self.on_progress("start", 0, self.total, None)

    def step(self, timeout: float | None = None) -> None:
        """Send what is queued to the workers, wait at most ``timeout`` seconds (None: until one finishes, or
        one is found hung) and record every submission that finished."""
        if self.executor is None and self.client is None:
            self.executor = local_executor(max(1, self.settings.workers), self.settings.warm_kernels, self.zygote)
        limit = 2 * max(1, self.settings.workers) + 1
        while self.pending and len(self.in_flight) < limit:
            self._send(self.pending.popleft())
        if not self.in_flight:
            return
        wait = self.hang_after if timeout is None else timeout
        done, _ = concurrent.futures.wait(self.in_flight, timeout=wait, return_when=concurrent.futures.FIRST_COMPLETED)
        broken = None
        for future in sorted(done, key=lambda f: self.in_flight[f][1]):  # those done together: in the order sent
            student, _ = self.in_flight.pop(future)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - the worker failed, not the submission
                if isinstance(error, concurrent.futures.BrokenExecutor):
                    broken = error
                self._worker_failed(student, error)
                continue
            self._finished(result)
        now = time.monotonic()
        hung = [student for student, sent in self.in_flight.values() if now - sent > self.hang_after]
        if hung and self.client is not None:
            # On a cluster a hung task cannot be stopped from here, nor its worker replaced: the job is given up
            # (cancelled, its thread left to the cluster) and sent again, charged, like one of a broken pool.
            for future, (student, sent) in list(self.in_flight.items()):
                if now - sent > self.hang_after:
                    self.in_flight.pop(future)
                    future.cancel()
                    self._worker_failed(student, TimeoutError(f"no result after {self.hang_after:g} s"))
        if (broken is not None or hung) and self.client is None:
            error = broken or TimeoutError(f"no result after {self.hang_after:g} s")
            for future, (student, _) in list(self.in_flight.items()):  # they go down with the pool
                self.in_flight.pop(future)
                self._worker_failed(student, error)
            stop(self.executor)
            self.executor = None

    def _send(self, student: str) -> None:
        try:
            submission = read_submission(self.course.step("submitted", student))
        except OSError as error:
            self._finished(
                not_graded(
                    student,
                    f"the submission could not be read ({error.strerror})",
                    self.point_values,
                    self.settings.sandbox is not None,
                )
            )
            return
        self.secrets_of[student] = submission.secret if submission else None
        job = job_for(self.settings, self.bundle, self.secret, student, submission)
        if submission is not None:
            self.identities[student] = job.identity
        try:
            future = self.executor.submit(grade, job)
        except concurrent.futures.BrokenExecutor:
            if self.client is not None:
                raise
            # A worker died while the pool had nothing to do (killed, out of memory): nobody's fault here, so
            # a new pool, and the job sent to it uncharged; what else the old pool held was charged when found.
            stop(self.executor)
            self.executor = local_executor(max(1, self.settings.workers), self.settings.warm_kernels, self.zygote)
            future = self.executor.submit(grade, job)
        self.in_flight[future] = (student, time.monotonic())

    def _worker_failed(self, student: str, error: BaseException) -> None:
        self.attempts[student] += 1
        if self.attempts[student] < MAX_ATTEMPTS:
            self.pending.appendleft(student)
        else:
            self.attempts.pop(student)
            self._finished(
                not_graded(
                    student,
                    f"its grading worker failed {MAX_ATTEMPTS} times ({type(error).__name__}: {str(error)[:200]})",
                    self.point_values,
                    self.settings.sandbox is not None,
                )
            )

    def _finished(self, result: SubmissionResult) -> None:
        from .gradebook import GradebookError

        self.attempts.pop(result.student, None)
        if result.graded:
            try:
                record(self.store, self.course, result, self.secrets_of.get(result.student), self.trusted)
            except OSError as error:
                raise _disk_error(error, f"the results of {result.student}") from error
            except GradebookError as error:
                raise GradingError(f"{error}. Grades recorded so far are kept; run again to resume.") from error
            except Exception as error:  # noqa: BLE001 - the grader's bug on this result: the others go on
                import traceback

                result = not_graded(
                    result.student,
                    f"internal error while recording: {type(error).__name__}: {str(error)[:200]}",
                    self.point_values,
                    result.sandboxed,
                    result.timestamp,
                    traceback.format_exc(),
                )
        self.secrets_of.pop(result.student, None)
        if result.graded:
            self.graded += 1
        else:
            if not self.warm:  # a service keeps nothing per submission (each is logged, and tried again)
                self.not_graded_now.append(result)
            self.not_graded_total += 1
            _log_not_graded(self.course, result)
        if self.on_progress:
            self.on_progress("graded", self.graded + self.not_graded_total, self.total, result)

    def reports(self) -> None:
        """grades.csv and summary.html of every graded student, and the pages out of date with the gradebook (for
        a service, between batches: ``run`` writes its own)."""
        recorded = self.gradebook.graded_students()
        results = self.store.load(submission_identities(self.course, recorded))
        _, self.skipped = discover(self.course)
        write_all_reports(self.settings, self.course, results, self.skipped, self.bundle)
        self.between_rounds()


def chosen(students: list[str], patterns, course: Course) -> list[str]:
    """The students whose ids match one of ``patterns``, nbgrader's ``--student`` globs (``z*``, ``ana``);
    a pattern that matches nobody is an error that says who there is."""
    import fnmatch

    found = [s for s in students if any(fnmatch.fnmatchcase(s, pattern) for pattern in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(s, p) for s in students)]
    if unmatched:
        shown = ", ".join(students[:10]) + (f" and {len(students) - 10} more" if len(students) > 10 else "")
        raise GradingError(
            f"--student {' '.join(unmatched)}: no submission of {course.assignment} in "
            f"{course.folder('submitted')} matches (there are {len(students)}: {shown or 'none'})"
        )
    return found


def _written(write: Callable[[], Path], what: str) -> Path:
    try:
        return write()
    except OSError as error:
        raise _disk_error(error, what) from error


def job_for(settings: Settings, bundle, secret: bytes, student: str, submission) -> Job:
    """The job that grades one submission: its seed comes from the secret, the student and the submission."""
    identity = submission_name(submission) if submission else ""
    return Job(
        student,
        seed_for(secret, settings.assignment, student, identity),
        bundle,
        submission,
        settings.limits,
        settings.sandbox,
        settings.warm_kernels,
        settings.feedback,
        identity=identity or None,
    )
