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
import dataclasses
import errno
import os
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
from .preflight import check_course, check_disk, check_gradebook_location, check_sandbox, prepare_worker
from .results import Kind, ResultStore, SubmissionResult, not_graded, write_atomically
from .seeds import load_secret, seed_for
from .settings import GradingError, Settings
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
                client = dask_client(settings)
                executor = client.get_executor(pure=False)
            else:
                executor = local_executor(max(1, settings.workers), settings.warm_kernels, zygote)
            # One worker proves the machine (a sandboxed kernel, the solutions); submitting a task to
            # each of the others starts them now, and with them their zygotes and reference processes.
            checks = [executor.submit(prepare_worker, bundle, settings.sandbox, settings.warm_kernels)]
            if client is None:
                checks += [executor.submit(os.getpid) for _ in range(max(1, settings.workers) - 1)]
        with timings.phase("course"):
            if settings.students is not None:
                students = chosen(students, settings.students, course)
            check_disk(course, len(students))
            check_gradebook_location(settings.db_url)
            secret_path = settings.secret_file or course.secret_file
            try:
                secret = load_secret(secret_path)
            except (CourseError, OSError) as error:
                raise GradingError(f"cannot use the grader's secret {secret_path}: {error}") from error
        with timings.phase("gradebook"):
            from .gradebook import StagedGradebook, open_gradebook  # nbgrader and SQLAlchemy: 2 s, not before

            path = sqlite_path(settings.db_url)
            identities: dict[str, str] = {}  # the submission each student has now, when it was graded before
            if path is not None and not path.exists():
                staged = StagedGradebook(path, course)
                done = set()
            else:
                gradebook = open_gradebook(settings.db_url, course)
                recorded = gradebook.graded_students()
                identities = submission_identities(course, recorded)
                # Only what the grader can vouch for counts as graded: a record written by anything else (stock
                # nbgrader, a hand edit), whose details are gone, or of an older submission is graded again.
                store = ResultStore(gradebook, course.results, secret)
                done = set() if settings.regrade else store.verified(identities) & set(recorded)
            todo = [student for student in students if student not in done]
        with timings.phase("workers ready"):
            if todo:  # with nobody to grade, nothing to prove
                check_sandbox(checks, settings)
            if staged is not None:
                gradebook = staged.commit(settings.db_url, course)
                staged = None
            store = ResultStore(gradebook, course.results, secret)
        with timings.phase("grading"):
            summary = _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, zygote)
            identities.update(summary["identities"])
            results = store.load(identities) + summary["not_graded"]
    finally:
        with timings.phase("stop"):
            if client is None:
                stop(executor)
            else:
                client.close()
            if gradebook is not None:
                gradebook.close()
            if staged is not None:
                staged.discard()
            if zygote is not None:
                zygote.close()
    with timings.phase("reports"):
        from .reports import write_csv, write_reports

        if settings.feedback:
            _written(lambda: refresh_pages(course, results, bundle), "the feedback pages")

        csv_path = _written(lambda: write_csv(course.reports / "grades.csv", results, skipped), "grades.csv")

        report = _written(lambda: write_reports(course.reports, results, skipped, course), "summary.html")
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


def _grade_all(settings, course, bundle, secret, todo, store, executor, client, on_progress, zygote=None) -> dict:
    """Dispatch ``todo`` with a bounded number in flight; record each result as it comes."""
    from .gradebook import GradebookError
    from .grading.feedback import markdown_of

    total = len(todo)
    pending = collections.deque(todo)
    attempts: collections.Counter = collections.Counter()
    in_flight: dict = {}
    secrets_of: dict[str, bytes | None] = {}
    identities: dict[str, str] = {}
    not_graded_now: list[SubmissionResult] = []
    graded = 0
    limit = 2 * max(1, settings.workers) + 1
    point_values = points(nbformat.reads(bundle.release_notebook, as_version=4))
    trusted = markdown_of(bundle.release_notebook)
    if on_progress:
        on_progress("start", 0, total, None)

    def finished(result: SubmissionResult) -> None:
        nonlocal graded
        if result.graded:
            try:
                record(store, course, result, secrets_of.get(result.student), trusted)
            except OSError as error:
                raise _disk_error(error, f"the results of {result.student}") from error
            except GradebookError as error:
                raise GradingError(f"{error}. Grades recorded so far are kept; run again to resume.") from error
            except Exception as error:  # noqa: BLE001 - the grader's bug on this result: the others go on
                import traceback

                result = not_graded(
                    result.student,
                    f"internal error while recording: {type(error).__name__}: {str(error)[:200]}",
                    point_values,
                    result.sandboxed,
                    result.timestamp,
                    traceback.format_exc(),
                )
        if result.graded:
            graded += 1
        else:
            not_graded_now.append(result)
            _log_not_graded(course, result)
        if on_progress:
            on_progress("graded", graded + len(not_graded_now), total, result)

    while pending or in_flight:
        if executor is None:
            executor = local_executor(max(1, settings.workers), settings.warm_kernels, zygote)
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
            job = job_for(settings, bundle, secret, student, submission)
            if submission is not None:
                identities[student] = job.identity
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
            stop(executor)
            executor = None
    return {"graded": graded, "not_graded": not_graded_now, "identities": identities}
