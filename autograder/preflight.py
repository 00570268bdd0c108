"""Before anyone is graded: what is the instructor's side is checked, and any failure stops the run.

The solutions load and pass their own visible tests (in each worker's reference
process), the disk has room, the gradebook can be created and written, and a real
kernel starts in the sandbox and answers, on the workers themselves. Each check
raises ``GradingError`` saying what is wrong; nothing is recorded before they pass.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from . import GRADED_FUNCTIONS, SPEC
from .course import Course, sqlite_path
from .grading.job import CourseBundle
from .grading.worker import reference_for
from .markup import checked_function, points, test_id
from .sandbox import SandboxLimits
from .settings import GradingError, Settings

MIN_FREE_BYTES = 32 * 1024 * 1024
FREE_BYTES_PER_SUBMISSION = 2 * 1024 * 1024


def check_course(course: Course) -> CourseBundle:
    """The course's notebooks as the grader needs them; GradingError naming what is missing."""
    if not course.source_notebook.is_file():
        raise GradingError(
            f"no source notebook {os.path.relpath(course.source_notebook, course.root)} in {course.root}"
        )
    try:
        bundle = CourseBundle.from_course(course)
        release = nbformat.reads(bundle.release_notebook, as_version=4)
    except Exception as error:  # any reason the course's notebooks cannot be used
        raise GradingError(f"cannot read the notebooks of {course.assignment}: {error}") from error
    missing = [name for name in GRADED_FUNCTIONS if name not in points(release)]
    if missing:
        raise GradingError(
            f"the release notebook of {course.assignment} has no test cell for "
            f"{', '.join(missing)} (grade ids test_<function>); regenerate release/"
        )
    check_source_tests(nbformat.read(course.source_notebook, as_version=4), release, course)
    return bundle


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def judges_call(function: str, line: str) -> bool:
    """Whether a line of a hidden-test region is the course's own: a comment, the import of the judge's
    in-notebook check, the reference helpers standing in (``isolated``), the call to the judge's cases."""
    line = line.strip()
    return (
        not line
        or line.startswith("#")
        or re.fullmatch(r"from autograder\.grading\.incell import [\w, ]+", line) is not None
        or line == f"{function} = isolated({function})"
        or line == f'check_hidden_cases("{function}", {function})'
    )


def check_source_tests(source, release, course: Course) -> None:
    """An instructor's change to a test cell after the release is never silently ignored: points that
    differ between source/ and release/ (regenerate release/), or a hidden-test region that is not the call
    to the judge's cases (the judge's hidden cases live in autograder/grading/cases.py), stop the run."""
    released = points(release)
    for cell in source.cells:
        function = checked_function(cell)
        if function is None:
            continue
        name = test_id(function)
        wanted = float(cell.metadata.nbgrader.get("points", 0))
        if wanted != SPEC.points[function]:
            raise GradingError(
                f"{name} has {wanted:g} points in source/{course.assignment} but course.toml (line "
                f"{SPEC.line(function, 'points')}) gives {function} {SPEC.points[function]:g}: points are course.toml's "
                "(run make release, which writes them into the notebooks)"
            )
        if released.get(function) != wanted:
            raise GradingError(
                f"{name} has {wanted:g} points in source/{course.assignment} but {released.get(function, 0):g} in "
                f"release/: regenerate release/ (make release, or nbgrader generate_assignment {course.assignment} "
                "--force) so that the students' notebook, the grader and the gradebook agree"
            )
        foreign = [line for region in HIDDEN.findall(cell.source) for line in region.splitlines()]
        foreign = [line.strip() for line in foreign if not judges_call(function, line)]
        if foreign:
            raise GradingError(
                f"the hidden tests of {name} in source/{course.assignment} hold {foreign[0]!r}, which the judge "
                "never runs (the region only calls its cases): a new hidden case belongs in "
                "autograder/grading/cases.py; the region keeps only the call "
                f'check_hidden_cases("{function}", {function})'
            )


def check_reference(bundle: CourseBundle, reference=None) -> None:
    """The solutions load, in their bounded process, and pass their own visible tests.

    Run in each worker, on the reference process it grades with; GradingError says what is wrong.
    """
    from public_tests import EXPECTED
    from test_utils import WrongResult, check_result

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


def prepare_worker(bundle: CourseBundle, sandbox: SandboxLimits | None, warm: bool, feedback: bool = False) -> None:
    """In a worker, before any submission, while the main process prepares the run: prove a kernel
    starts as submissions will get it (which warms the zygote), and that the solutions load and
    pass their visible tests in the reference process this worker grades with."""
    from .sandbox import probe_sandbox

    probe_sandbox(sandbox, warm)
    check_reference(bundle, reference_for(bundle))
    warm_worker(bundle, feedback)


def warm_worker(bundle: CourseBundle, feedback: bool) -> int:
    """In a worker, at its start: the feedback renderer warmed (``feedback.warm_up``) when pages are made;
    the worker's pid."""
    if feedback:
        from .grading.feedback import warm_up

        warm_up(bundle.release_notebook, bundle.assignment)
    return os.getpid()


def check_sandbox(checks: list, settings: Settings) -> None:
    """Wait for the workers' proofs that real (sandboxed) kernels start and answer."""
    from .sandbox import SandboxUnavailable

    for check in checks:
        try:
            check.result(timeout=180)
        except SandboxUnavailable as error:
            if settings.sandbox is None:
                advice = ""
            elif error.unsupported:
                advice = (
                    " How to allow it (unprivileged user namespaces): docs/design.md, 'As an ordinary user'."
                    " To grade without isolation anyway, pass --no-sandbox."
                )
            else:
                advice = " Nothing was graded; run the same command again (giving up the sandbox would not help)."
            raise GradingError(f"{error}.{advice}") from None
        except GradingError:  # the solutions, as the worker's reference process found them
            raise
        except concurrent.futures.TimeoutError:
            raise GradingError("the check that grading kernels start did not finish within 180 s") from None
        except Exception as error:  # noqa: BLE001 - a worker that cannot even run the check
            raise GradingError(
                f"the grading workers could not start a kernel: {type(error).__name__}: {error}"
            ) from None
