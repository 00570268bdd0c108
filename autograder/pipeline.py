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
from collections.abc import Callable
from pathlib import Path

import nbformat

from . import GRADED_FUNCTIONS
from .course import (
    Course,
    CourseError,
    Skipped,
    discover,
    load_secret,
    points,
    read_submission,
    seed_for,
    sqlite_path,
    submission_name,
)
from .grading.judge import CourseBundle, Job, grade
from .results import ResultStore, SubmissionResult, not_graded, write_atomically
from .sandbox import SandboxLimits
from .settings import GradingError, Settings

MAX_ATTEMPTS = 3  # a submission whose worker dies this often in one run is left "not graded"
MIN_FREE_BYTES = 32 * 1024 * 1024
FREE_BYTES_PER_SUBMISSION = 2 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


# -- preflight ------------------------------------------------------------------------------------


def check_course(course: Course) -> CourseBundle:
    """The course's notebooks as the grader needs them; GradingError naming what is missing."""
    if not course.source_notebook.is_file():
        raise GradingError(f"no source notebook source/{course.assignment}/{course.assignment}.ipynb in {course.root}")
    try:
        bundle = CourseBundle.from_course(course.root, course.assignment)
        release = nbformat.reads(bundle.release_notebook, as_version=4)
    except Exception as error:  # any reason the course's notebooks cannot be used
        raise GradingError(f"cannot read the notebooks of {course.assignment}: {error}") from error
    missing = [name for name in GRADED_FUNCTIONS if name not in points(release)]
    if missing:
        raise GradingError(
            f"the release notebook of {course.assignment} has no test cell for "
            f"{', '.join(missing)} (grade ids test_<function>); regenerate release/"
        )
    return bundle


def check_reference(bundle: CourseBundle, reference=None) -> None:
    """The solutions load, in their bounded process, and pass their own visible tests.

    Run in each worker, on the reference process it grades with; GradingError says what is wrong.
    """
    from public_tests import EXPECTED, WrongResult, check_result

    from .grading.cases import visible_case
    from .grading.refserver import ReferenceFailure, ReferenceProcess

    own = reference is None
    reference = reference or ReferenceProcess(bundle.source_notebook)
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
                raise GradingError(
                    f"the solution of {name} in {where} fails its own visible test: {error.message}"
                ) from None
    except ReferenceFailure as error:
        raise GradingError(f"the solutions in {where} cannot be used: {error}") from None
    finally:
        if own:
            reference.close()


def check_disk(course: Course, submissions: int) -> None:
    need = MIN_FREE_BYTES + FREE_BYTES_PER_SUBMISSION * submissions
    for where in (course.root, Path(tempfile.gettempdir())):
        free = shutil.disk_usage(where).free
        if free < need:
            raise GradingError(
                f"not enough free disk space in {where}: {free // 2**20} MB free, "
                f"{need // 2**20} MB needed for {submissions} submission(s)"
            )


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


def open_gradebook(db_url: str, course: Course, config=None):
    """The gradebook, registering the assignment if it is new (nbgrader is imported here, not earlier:
    its import takes most of a second, which the workers' start-up hides)."""
    from .gradebook import GradebookAccess, GradebookError

    try:
        with own_scripts_on_path():
            gradebook = GradebookAccess(db_url, course.assignment)
        gradebook.check_writable()
        if not gradebook.is_registered():
            gradebook.register(course.source_notebook, config)
        return gradebook
    except GradebookError as error:
        raise GradingError(str(error)) from error


class StagedGradebook:
    """A new SQLite gradebook made beside its place and moved there only once the run may go on.

    Creating and registering take a moment, done while the workers start; if a check then
    stops the run, no gradebook file is left behind (nothing recorded).
    """

    def __init__(self, path: Path, course: Course):
        self.path = path
        self.staged = path.with_name(f".{path.name}.new-{os.getpid()}")
        self.staged.unlink(missing_ok=True)
        open_gradebook(f"sqlite:///{self.staged}", course).close()

    def commit(self, db_url: str, course: Course):
        os.replace(self.staged, self.path)  # atomic; the file is complete and closed
        return open_gradebook(db_url, course)

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)


# -- workers ---------------------------------------------------------------------------------------


def _start_worker(parent: int, warm: bool, zygote: tuple | None = None) -> None:
    """Worker initializer: end when the grader ends, even if it is killed with SIGKILL; start the zygote.

    The zygote (warm kernels) and the reference process start importing their libraries
    now, while this worker is still importing its own.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util
        import signal

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the grader died before the line above took effect
        os._exit(1)
    from .grading.refserver import ReferenceProcess

    ReferenceProcess.prestart()  # the reference's imports, meanwhile
    if warm:
        from .sandbox.launchers import ZygoteLauncher

        if zygote is not None:  # the run's shared zygote
            ZygoteLauncher.use_shared(*zygote)
        else:
            ZygoteLauncher.start()


def _local_executor(workers: int, warm: bool = True, zygote=None) -> concurrent.futures.Executor:
    shared = (zygote.path, zygote.log) if zygote is not None else None
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), warm, shared),
    )


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
        hint = (
            "; a tls:// scheduler needs this client's certificates (--tls-ca-file, --tls-cert, --tls-key)"
            if settings.scheduler.startswith("tls://")
            else ""
        )
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


def _agree_with_nbgrader(result: SubmissionResult) -> None:
    """The scores the gradebook gets are nbgrader's reading of the autograded notebook (they agree by
    construction; if they ever did not, nbgrader's rule wins and the function's message says so)."""
    if result.notebook_json is None:
        return
    from .grading.submission import scores_by_nbgrader

    by_nbgrader = scores_by_nbgrader(result.notebook_json)
    for function in result.functions:
        score = by_nbgrader.get(function.name, function.score)
        if score != function.score:
            function.detail += f" (scored {score:g} by nbgrader's rule, not {function.score:g})"
            function.score = score


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


def csv_cell(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(path: Path, results: list[SubmissionResult], skipped: list[Skipped]) -> Path:
    rows = [["student", "total", *GRADED_FUNCTIONS, "status", "seconds", "sandboxed"]]
    for result in sorted(results, key=lambda r: r.student):
        scores = {f.name: f.score for f in result.functions}
        graded = result.graded
        rows.append(
            [
                csv_cell(result.student),
                _number(result.total) if graded else "",
                *((_number(scores.get(name, 0.0)) if graded else "") for name in GRADED_FUNCTIONS),
                csv_cell(result.status),
                f"{result.seconds:.2f}",
                "yes" if result.sandboxed else "NO",
            ]
        )
    for folder in skipped:
        rows.append(
            [
                csv_cell(folder.name),
                "",
                *("" for _ in GRADED_FUNCTIONS),
                csv_cell(f"not graded: skipped folder: {folder.reason}"),
                "",
                "",
            ]
        )
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
    from . import STARTED

    started = time.monotonic()
    timings = Timings(imports=started - STARTED)
    course = settings.course
    client = executor = gradebook = zygote = staged = None
    try:
        if settings.warm_kernels and not settings.scheduler:
            # One zygote for all local workers: its imports are the largest part of starting up.
            from .sandbox import scratch_dir
            from .sandbox.launchers import ZygoteServer

            zygote = ZygoteServer(scratch_dir())
        with timings.phase("course"):
            try:
                bundle = check_course(course)
                students, skipped = discover(course)
            except CourseError as error:
                raise GradingError(str(error)) from error
        with timings.phase("workers"):
            if settings.scheduler:
                client = _dask_client(settings)
                executor = client.get_executor(pure=False)
            else:
                executor = _local_executor(max(1, settings.workers), settings.warm_kernels, zygote)
            # One worker proves the machine (a sandboxed kernel, the solutions); submitting a task to
            # each of the others starts them now, and with them their zygotes and reference processes.
            checks = [executor.submit(prepare_worker, bundle, settings.sandbox, settings.warm_kernels)]
            if client is None:
                checks += [executor.submit(os.getpid) for _ in range(max(1, settings.workers) - 1)]
        with timings.phase("course"):
            if settings.students is not None:
                students = [s for s in students if s in settings.students]
            check_disk(course, len(students))
            check_gradebook_location(settings.db_url)
            secret_path = settings.secret_file or course.secret_file
            try:
                secret = load_secret(secret_path)
            except (CourseError, OSError) as error:
                raise GradingError(f"cannot use the grader's secret {secret_path}: {error}") from error
        with timings.phase("gradebook"):
            path = sqlite_path(settings.db_url)
            if path is not None and not path.exists():
                staged = StagedGradebook(path, course)
                done = set()
            else:
                gradebook = open_gradebook(settings.db_url, course)
                done = set() if settings.regrade else gradebook.graded_students()
            todo = [student for student in students if student not in done]
        with timings.phase("workers ready"):
            if todo:  # with nobody to grade, nothing to prove
                _check_sandbox(checks, settings)
            if staged is not None:
                gradebook = staged.commit(settings.db_url, course)
                staged = None
            store = ResultStore(gradebook, course.state / "results")
        with timings.phase("grading"):
            summary = _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, zygote)
            results = store.load() + summary["not_graded"]
    finally:
        with timings.phase("stop"):
            if client is None:
                _stop(executor)
            else:
                client.close()
            if gradebook is not None:
                gradebook.close()
            if staged is not None:
                staged.discard()
            if zygote is not None:
                zygote.close()
    with timings.phase("reports"):
        csv_path = _written(lambda: write_csv(course.reports / "grades.csv", results, skipped), "grades.csv")
        from .reports import write_reports

        report = _written(
            lambda: write_reports(course.reports, results, skipped, course.root, course.assignment), "summary.html"
        )
    return RunSummary(
        results,
        summary["graded"],
        len(students) - len(todo),
        skipped,
        time.monotonic() - started,
        csv_path,
        report,
        dict(timings),
    )


def _written(write: Callable[[], Path], what: str) -> Path:
    try:
        return write()
    except OSError as error:
        raise _disk_error(error, what) from error


def prepare_worker(bundle: CourseBundle, sandbox: SandboxLimits | None, warm: bool) -> None:
    """In a worker, before any submission, while the main process prepares the run: prove a kernel
    starts as submissions will get it (which warms the zygote), and that the solutions load and
    pass their visible tests in the reference process this worker grades with."""
    from .sandbox import probe_sandbox

    probe_sandbox(sandbox, warm)
    from .grading import judge

    check_reference(bundle, judge.reference_for(bundle))


def _check_sandbox(checks: list, settings: Settings) -> None:
    """Wait for the workers' proofs that real (sandboxed) kernels start and answer."""
    from .sandbox import SandboxUnavailable

    for check in checks:
        try:
            check.result(timeout=180)
        except SandboxUnavailable as error:
            advice = " To grade without isolation anyway, pass --no-sandbox." if settings.sandbox is not None else ""
            raise GradingError(f"{error}.{advice}") from None
        except GradingError:  # the solutions, as the worker's reference process found them
            raise
        except concurrent.futures.TimeoutError:
            raise GradingError("the check that grading kernels start did not finish within 180 s") from None
        except Exception as error:  # noqa: BLE001 - a worker that cannot even run the check
            raise GradingError(
                f"the grading workers could not start a kernel: {type(error).__name__}: {error}"
            ) from None


def _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, zygote=None) -> dict:
    """Dispatch ``todo`` with a bounded number in flight; record each result as it comes."""
    from .gradebook import GradebookError

    total = len(todo)
    pending = collections.deque(todo)
    attempts: collections.Counter = collections.Counter()
    in_flight: dict = {}
    secrets_of: dict[str, bytes | None] = {}
    not_graded_now: list[SubmissionResult] = []
    graded = 0
    limit = 2 * max(1, settings.workers) + 1
    point_values = points(nbformat.reads(bundle.release_notebook, as_version=4))
    if on_progress:
        on_progress("start", 0, total, None)

    def finished(result: SubmissionResult) -> None:
        nonlocal graded
        if result.graded:
            _agree_with_nbgrader(result)
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
            executor = _local_executor(max(1, settings.workers), settings.warm_kernels, zygote)
        while pending and len(in_flight) < limit:
            student = pending.popleft()
            try:
                submission = read_submission(course.step("submitted", student))
            except OSError as error:
                finished(
                    not_graded(
                        student,
                        f"the submission could not be read ({error.strerror})",
                        point_values,
                        settings.sandbox is not None,
                    )
                )
                continue
            secrets_of[student] = submission.secret if submission else None
            seed = seed_for(secret, settings.assignment, student, submission_name(submission) if submission else "")
            job = Job(
                student,
                seed,
                bundle,
                submission,
                settings.limits,
                settings.sandbox,
                settings.warm_kernels,
                settings.feedback,
            )
            in_flight[executor.submit(grade, job)] = student
        done, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
        broken = None

        def worker_failed(student: str, error: BaseException) -> None:
            attempts[student] += 1
            if attempts[student] < MAX_ATTEMPTS:
                pending.appendleft(student)
            else:
                finished(
                    not_graded(
                        student,
                        f"its grading worker failed {MAX_ATTEMPTS} times ({type(error).__name__}: {str(error)[:200]})",
                        point_values,
                        settings.sandbox is not None,
                    )
                )

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
    return {"graded": graded, "not_graded": not_graded_now}
