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
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import csv
import dataclasses
import errno
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import nbformat

from . import GRADED_FUNCTIONS
from .course import Course, CourseError, Skipped, discover, load_secret, read_submission, seed_for, submission_name
from .gradebook import GradebookAccess, GradebookError, points, sqlite_path
from .judge import CourseBundle, Job, Limits, grade
from .results import ResultStore, SubmissionResult, not_graded, write_atomically

MAX_ATTEMPTS = 3  # a submission whose worker dies this often in one run is left "not graded"
MIN_FREE_BYTES = 32 * 1024 * 1024
FREE_BYTES_PER_SUBMISSION = 2 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class GradingError(Exception):
    """The grader cannot run, or cannot go on; the message says why and what to do."""


@dataclasses.dataclass
class Settings:
    course_dir: Path
    assignment: str
    db_url: str
    workers: int = max(1, os.cpu_count() or 1)
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: dict | None = dataclasses.field(default_factory=dict)  # None: no isolation
    secret_file: Path | None = None
    regrade: bool = False
    students: tuple[str, ...] | None = None  # grade only these
    feedback: bool = True
    scheduler: str | None = None  # a Dask scheduler address: grade on that cluster
    security: object | None = None  # distributed.Security for a tls:// scheduler
    warm_kernels: bool = True

    @property
    def course(self) -> Course:
        return Course(self.course_dir, self.assignment)


@dataclasses.dataclass
class RunSummary:
    results: list[SubmissionResult]  # every graded submission (the gradebook's), and this run's not graded
    graded_now: int
    resumed: int
    skipped: list[Skipped]
    seconds: float
    csv_path: Path
    report_path: Path
    startup_seconds: float = 0.0  # from the start of run() to the first submission sent to a worker

    @property
    def not_graded(self) -> list[SubmissionResult]:
        return [r for r in self.results if not r.graded]


# -- preflight ------------------------------------------------------------------------------------

def check_course(course: Course) -> CourseBundle:
    """The course's notebooks as the grader needs them; GradingError naming what is missing."""
    if not course.source_notebook.is_file():
        raise GradingError(f"no source notebook source/{course.assignment}/{course.assignment}.ipynb in "
                           f"{course.root}")
    try:
        bundle = CourseBundle.from_course(course.root, course.assignment)
        release = nbformat.reads(bundle.release_notebook, as_version=4)
    except Exception as error:  # noqa: BLE001 - any reason the course's notebooks cannot be used
        raise GradingError(f"cannot read the notebooks of {course.assignment}: {error}") from error
    missing = [name for name in GRADED_FUNCTIONS if name not in points(release)]
    if missing:
        raise GradingError(f"the release notebook of {course.assignment} has no test cell for "
                           f"{', '.join(missing)} (grade ids test_<function>); regenerate release/")
    return bundle


def check_reference(bundle: CourseBundle) -> None:
    """The solutions load, in their bounded process, and pass their own visible tests."""
    from public_tests import EXPECTED, WrongResult, check_result

    from .cases import visible_case
    from .refserver import ReferenceFailure, ReferenceProcess

    reference = ReferenceProcess(bundle.source_notebook)
    where = f"source/{bundle.assignment}/{bundle.assignment}.ipynb"
    try:
        for name in GRADED_FUNCTIONS:
            case = visible_case(name)
            if case is None:  # nn_model: its visible case trains 10 000 steps; the hidden ones are run instead
                continue
            got = reference.call(name, case.args, case.kwargs, timeout=30)
            try:
                check_result(name, got, EXPECTED[name])
            except WrongResult as error:
                raise GradingError(f"the solution of {name} in {where} fails its own visible test: "
                                   f"{error.message}") from None
    except ReferenceFailure as error:
        raise GradingError(f"the solutions in {where} cannot be used: {error}") from None
    finally:
        reference.close()


def check_disk(course: Course, submissions: int) -> None:
    need = MIN_FREE_BYTES + FREE_BYTES_PER_SUBMISSION * submissions
    for where in (course.root, Path(tempfile.gettempdir())):
        free = shutil.disk_usage(where).free
        if free < need:
            raise GradingError(f"not enough free disk space in {where}: {free // 2**20} MB free, "
                               f"{need // 2**20} MB needed for {submissions} submission(s)")


def check_gradebook_location(db_url: str) -> None:
    """Before a new SQLite gradebook is created: can it be?"""
    path = sqlite_path(db_url)
    if path is not None and not path.exists():
        if not path.parent.is_dir():
            raise GradingError(f"the gradebook's folder {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK):
            raise GradingError(f"the gradebook {path} cannot be created: {path.parent} is not writable")


@contextlib.contextmanager
def own_scripts_on_path():
    """nbgrader starts console scripts of its own (alembic, when it creates a gradebook)."""
    scripts = str(Path(sys.executable).parent)
    before = os.environ.get("PATH", "")
    if scripts in before.split(os.pathsep):
        yield
        return
    os.environ["PATH"] = f"{scripts}{os.pathsep}{before}"
    try:
        yield
    finally:
        os.environ["PATH"] = before


def open_gradebook(settings: Settings, course: Course, config=None) -> GradebookAccess:
    try:
        with own_scripts_on_path():
            gradebook = GradebookAccess(settings.db_url, settings.assignment)
        gradebook.check_writable()
        if not gradebook.is_registered():
            gradebook.register(course.source_notebook, config)
        return gradebook
    except GradebookError as error:
        raise GradingError(str(error)) from error


# -- workers ---------------------------------------------------------------------------------------

def _die_with(parent: int) -> None:
    """Worker initializer: end when the grader ends, even if it is killed with SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util
        import signal

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the grader died before the line above took effect
        os._exit(1)


def _local_executor(workers: int) -> concurrent.futures.Executor:
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with, initargs=(os.getpid(),))


def _stop(executor: concurrent.futures.Executor | None) -> None:
    """Stop an executor now: no waiting for the submissions it is grading."""
    if executor is None:
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())  # ProcessPoolExecutor's own
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()


def _dask_client(settings: Settings):
    try:
        from distributed import Client
    except ImportError as error:
        raise GradingError("--scheduler needs dask.distributed (pip install distributed)") from error
    try:
        return Client(settings.scheduler, timeout="10s", security=settings.security)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        hint = ("; a tls:// scheduler needs this client's certificates (--tls-ca-file, --tls-cert, --tls-key)"
                if settings.scheduler.startswith("tls://") else "")
        raise GradingError(f"cannot reach the Dask scheduler at {settings.scheduler}: {error}{hint}") from error


# -- writing results --------------------------------------------------------------------------------

def _write_files(course: Course, result: SubmissionResult, submission_secret: bytes | None) -> None:
    """The autograded notebook and the feedback page, with the files nbgrader's feedback steps need."""
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
        write_atomically(feedback / f"{course.assignment}.html", result.feedback_html.encode("utf-8"))
        for name, data in extras.items():
            write_atomically(feedback / name, data)


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
        return GradingError(f"the disk is full: {what} could not be written. Grades recorded so far are kept; "
                            "free some space and run again to grade the rest.")
    return GradingError(f"{what} could not be written ({error.strerror or error}). Grades recorded so far are "
                        "kept; run again to grade the rest.")


def csv_cell(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(path: Path, results: list[SubmissionResult], skipped: list[Skipped]) -> Path:
    rows = [["student", "total", *GRADED_FUNCTIONS, "status", "seconds", "sandboxed"]]
    for result in sorted(results, key=lambda r: r.student):
        scores = {f.name: f.score for f in result.functions}
        graded = result.graded
        rows.append([csv_cell(result.student), _number(result.total) if graded else "",
                     *((_number(scores.get(name, 0.0)) if graded else "") for name in GRADED_FUNCTIONS),
                     csv_cell(result.status), f"{result.seconds:.2f}", "yes" if result.sandboxed else "NO"])
    for folder in skipped:
        rows.append([csv_cell(folder.name), "", *("" for _ in GRADED_FUNCTIONS),
                     csv_cell(f"not graded: skipped folder: {folder.reason}"), "", ""])
    text = _csv_text(rows)
    write_atomically(path, text.encode("utf-8"))
    return path


def _csv_text(rows) -> str:
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"


# -- the run -----------------------------------------------------------------------------------------

ProgressCallback = Callable[[str, int, int, "SubmissionResult | None"], None]


def run(settings: Settings, on_progress: ProgressCallback | None = None) -> RunSummary:
    """Grade every submission of the assignment that is not graded yet (all with ``regrade``)."""
    started = time.monotonic()
    course = settings.course
    try:
        bundle = check_course(course)
        students, skipped = discover(course)
    except CourseError as error:
        raise GradingError(str(error)) from error
    if settings.students is not None:
        students = [s for s in students if s in settings.students]
    check_reference(bundle)
    check_disk(course, len(students))
    check_gradebook_location(settings.db_url)
    secret_path = settings.secret_file or course.secret_file
    try:
        secret = load_secret(secret_path)
    except (CourseError, OSError) as error:
        raise GradingError(f"cannot use the grader's secret {secret_path}: {error}") from error

    client = _dask_client(settings) if settings.scheduler else None
    executor: concurrent.futures.Executor | None = None
    gradebook = None
    try:
        if client is not None:
            executor = client.get_executor(pure=False)
        else:
            executor = _local_executor(max(1, settings.workers))
        _check_sandbox(executor, settings)
        gradebook = open_gradebook(settings, course)
        store = ResultStore(gradebook, course.state / "results")
        done = set() if settings.regrade else store.graded()
        todo = [student for student in students if student not in done]
        summary = _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, started)
        results = store.load() + summary["not_graded"]
    finally:
        if client is None:
            _stop(executor)
        else:
            client.close()
        if gradebook is not None:
            gradebook.close()
    csv_path = _written(lambda: write_csv(course.reports / "grades.csv", results, skipped), "grades.csv")
    from .reports import write_reports

    report = _written(lambda: write_reports(course.reports, results, skipped, course.root, course.assignment),
                      "summary.html")
    return RunSummary(results, summary["graded"], len(students) - len(todo), skipped,
                      time.monotonic() - started, csv_path, report, summary["startup"])


def _written(write: Callable[[], Path], what: str) -> Path:
    try:
        return write()
    except OSError as error:
        raise _disk_error(error, what) from error


def _check_sandbox(executor, settings: Settings) -> None:
    """A real jailed kernel starts on the workers and answers a probe, before anyone is graded."""
    if settings.sandbox is None:
        return
    from .sandbox import SandboxUnavailable, probe_sandbox

    try:
        executor.submit(probe_sandbox, settings.sandbox, settings.warm_kernels).result(timeout=180)
    except SandboxUnavailable as error:
        raise GradingError(f"{error}. To grade without isolation anyway, pass --no-sandbox.") from None
    except concurrent.futures.TimeoutError:
        raise GradingError("the sandbox check did not finish within 180 s") from None
    except Exception as error:  # noqa: BLE001 - a worker that cannot even run the check
        raise GradingError(f"the grading workers could not check the sandbox: {type(error).__name__}: "
                           f"{error}") from None


def _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, started) -> dict:
    """Dispatch ``todo`` with a bounded number in flight; record each result as it comes."""
    total = len(todo)
    pending = collections.deque(todo)
    attempts: collections.Counter = collections.Counter()
    in_flight: dict = {}
    secrets_of: dict[str, bytes | None] = {}
    not_graded_now: list[SubmissionResult] = []
    graded = 0
    startup = None
    limit = 2 * max(1, settings.workers) + 1
    point_values = points(nbformat.reads(bundle.release_notebook, as_version=4))
    if on_progress:
        on_progress("start", 0, total, None)

    def finished(result: SubmissionResult) -> None:
        nonlocal graded
        if result.graded:
            try:
                _write_files(course, result, secrets_of.get(result.student))
                store.record(result)
            except OSError as error:
                raise _disk_error(error, f"the results of {result.student}") from error
            except GradebookError as error:
                raise GradingError(f"{error}. Grades recorded so far are kept; run again to resume.") from error
            graded += 1
        else:
            not_graded_now.append(result)
            _log_not_graded(course, result)
        if on_progress:
            on_progress("graded", graded + len(not_graded_now), total, result)

    while pending or in_flight:
        if executor is None:
            executor = _local_executor(max(1, settings.workers))
        while pending and len(in_flight) < limit:
            student = pending.popleft()
            try:
                submission = read_submission(course.step("submitted", student))
            except OSError as error:
                finished(not_graded(student, f"the submission could not be read ({error.strerror})",
                                    point_values, settings.sandbox is not None))
                continue
            secrets_of[student] = submission.secret if submission else None
            seed = seed_for(secret, settings.assignment, student, submission_name(submission) if submission else "")
            job = Job(student, seed, bundle, submission, settings.limits, settings.sandbox, settings.warm_kernels,
                      settings.feedback)
            in_flight[executor.submit(grade, job)] = student
            if startup is None:
                startup = time.monotonic() - started
        done, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
        broken = None

        def worker_failed(student: str, error: BaseException) -> None:
            attempts[student] += 1
            if attempts[student] < MAX_ATTEMPTS:
                pending.appendleft(student)
            else:
                finished(not_graded(student, f"its grading worker failed {MAX_ATTEMPTS} times "
                                             f"({type(error).__name__}: {str(error)[:200]})",
                                    point_values, settings.sandbox is not None))

        for future in done:
            student = in_flight.pop(future)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - the worker failed, not the submission
                if isinstance(error, concurrent.futures.BrokenExecutor):
                    broken = error
                worker_failed(student, error)
                continue
            finished(result)
        if broken is not None and client is None:
            for future, student in list(in_flight.items()):  # they went down with the pool
                in_flight.pop(future)
                worker_failed(student, broken)
            _stop(executor)
            executor = None
    return {"graded": graded, "not_graded": not_graded_now, "startup": startup or 0.0}
