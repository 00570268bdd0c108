"""The worker's entry point: grade one job, and never raise (a grader-side failure is "not graded")."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from .. import GRADED_FUNCTIONS
from ..context import worker
from ..markup import points as test_points
from ..results import FunctionResult, Kind, Outcome, Problem, SubmissionResult, not_graded
from ..sandbox import scratch_dir
from . import wording
from .job import CourseBundle, GraderFault, Job
from .judge import Grader
from .refserver import ReferenceProcess
from .submission import (
    SubmissionProblem,
    attempted,
    changed_tests,
    find_notebook,
    machinery_touched,
    read_notebook,
    restore,
    write_verdicts,
)


def reference_for(bundle: CourseBundle) -> ReferenceProcess:
    """The worker's reference process of the course's notebook (one at a time: another course's is closed)."""
    references = worker().references
    process = references.get(bundle.source_notebook)
    if process is None:
        for old in references.values():
            old.close()
        references.clear()
        process = references[bundle.source_notebook] = ReferenceProcess(bundle.source_notebook)
    return process


def grade(job: Job) -> SubmissionResult:
    """Grade one submission. Never raises: a grader-side failure comes back as "not graded"."""
    started = time.monotonic()
    release = nbformat.reads(job.course.release_notebook, as_version=4)
    in_release = test_points(release)
    points = {name: in_release[name] for name in GRADED_FUNCTIONS}  # preflight checked they are all there
    sandboxed = job.sandbox is not None
    timestamp = job.submission.timestamp if job.submission else None
    try:
        result = _grade(job, release, points, sandboxed, timestamp)
    except GraderFault as fault:
        result = not_graded(job.student, str(fault), points, sandboxed, timestamp)
    except Exception as error:  # noqa: BLE001 - the grader's own bug: reported, never a zero
        import traceback

        result = not_graded(
            job.student,
            f"internal error: {type(error).__name__}: {error}",
            points,
            sandboxed,
            timestamp,
            detail=traceback.format_exc(),
        )
    result.seconds = time.monotonic() - started
    result.submission = job.identity
    if job.feedback and result.graded and result.notebook_json is not None:
        from .feedback import markdown_of, render, warm_up

        warm_up(job.course.release_notebook, job.course.assignment)
        result.feedback_html = render(result, job.course.assignment, markdown_of(job.course.release_notebook))
    return result


def _grade(job: Job, release, points: dict, sandboxed: bool, timestamp: str | None) -> SubmissionResult:
    files = job.submission.files if job.submission else None
    notes = [Problem(Kind.FILES_NOT_READ, job.submission.note())] if job.submission and job.submission.note() else []
    try:
        name, misnamed = find_notebook(files, job.course.assignment)
        student_notebook = read_notebook(files[name])
    except SubmissionProblem as problem:
        return _unrunnable(job, release, points, problem.problem, notes, sandboxed, timestamp)
    if misnamed:
        notes.insert(0, Problem(Kind.MISNAMED, misnamed))
    if not attempted(student_notebook, release):
        return _unrunnable(
            job,
            release,
            points,
            Problem(Kind.NOT_ATTEMPTED, "not attempted: the release notebook came back unchanged"),
            notes,
            sandboxed,
            timestamp,
            attempted_=False,
        )
    notebook = restore(student_notebook, release)
    changed = changed_tests(student_notebook, release)
    if changed:
        notes.append(
            Problem(Kind.TESTS_CHANGED, f"test cells changed (graded with the release's): {', '.join(changed[:4])}")
        )
    touched = machinery_touched(notebook, release)
    if touched:
        notes.append(Problem(Kind.MACHINERY, f"code that reaches for the grading machinery: {'; '.join(touched[:3])}"))
    workdir = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch_dir()))
    try:
        _prepare_workdir(workdir, files, job.course.helpers)
        from ..sandbox import kernel_factory

        grader = Grader(job, reference_for(job.course), kernel_factory(workdir, job.sandbox, job.warm_kernels), points)
        results = grader.run(notebook)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_verdicts(notebook, results, grader.language)
    problems = notes + grader.problems
    if grader.visible_only:
        problems.append(
            Problem(
                Kind.VISIBLE_ONLY,
                f"right on the visible case only: {', '.join(grader.visible_only)} (answers fitted to the example, "
                "or a bug that other sizes show)",
            )
        )
    return SubmissionResult(
        job.student,
        list(dict.fromkeys(problems)),
        results,
        notebook_json=_written(notebook),
        timestamp=timestamp,
        sandboxed=sandboxed,
    )


def _written(notebook) -> str:
    """The autograded notebook as JSON, validated once as a whole (its outputs are built without validating
    each, ``sandbox.outputs.new_output``): an invalid one is the grader's fault, never written as a grade."""
    invalid: dict = {}
    text = nbformat.writes(notebook, capture_validation_error=invalid)
    if invalid:
        raise GraderFault(f"the autograded notebook is not valid: {str(invalid['ValidationError'])[:300]}")
    return text


def _unrunnable(
    job: Job,
    release,
    points: dict,
    reason: Problem,
    notes: list[Problem],
    sandboxed: bool,
    timestamp: str | None,
    attempted_: bool = True,
) -> SubmissionResult:
    """Zero for every function, with the reason in every test cell so the feedback explains it."""
    functions = [FunctionResult(name, value, 0.0, Outcome.NOT_RUN, reason.text) for name, value in points.items()]
    notebook = restore(release, release)
    write_verdicts(notebook, functions, wording.language(job.course.assignment))
    return SubmissionResult(
        job.student,
        [reason, *notes],
        functions,
        notebook_json=_written(notebook),
        timestamp=timestamp,
        sandboxed=sandboxed,
        attempted=attempted_,
    )


def _prepare_workdir(workdir: Path, files: dict, helpers: dict) -> None:
    """The student's extra files, then the course's helper files over them (as nbgrader does)."""
    for name, data in files.items():
        if data is not None and not name.endswith(".ipynb") and "/" not in name and name not in (".", ".."):
            (workdir / name).write_bytes(data)
    for name, data in helpers.items():
        (workdir / name).write_bytes(data)
