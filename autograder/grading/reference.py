"""The reference implementation, read from the solution cells of the source notebook.

Keeping the solutions only in the notebook means the instructor edits them in one
place; everything that needs a reference (hidden tests, the grader, the unit tests)
executes those cells here, in a namespace holding only numpy and ``sigmoid``.
"""

from __future__ import annotations

import functools
import types
from pathlib import Path

import nbformat
import numpy as np

from planar_utils import sigmoid

from .. import ASSIGNMENT, GRADED_FUNCTIONS
from ..course import Course
from ..markup import answers

COURSE_ROOT = Path(__file__).resolve().parents[2]  # the course this package ships in (autograder/grading/..)


def source_notebook(course_dir: Path | str = COURSE_ROOT, assignment: str = ASSIGNMENT) -> Path:
    """Path of the instructor notebook ``source/<assignment>/<assignment>.ipynb``."""
    return Course(Path(course_dir), assignment).source_notebook


def load_reference(path: Path | str | None = None) -> types.MappingProxyType:
    """Execute the solution cells of the source notebook; return the graded functions.

    Raises ReferenceBroken naming the cell that fails, or the graded functions not defined.
    """
    path = Path(path) if path is not None else source_notebook()
    return load_reference_text(path.read_text(encoding="utf-8"), str(path))


class ReferenceBroken(Exception):
    """The source notebook's solutions do not load; the message names the cell and the error."""


@functools.lru_cache(maxsize=4)
def load_reference_text(text: str, name: str = "the source notebook") -> types.MappingProxyType:
    """As load_reference, from the notebook's JSON text.

    Raises ReferenceBroken naming the solution cell that does not compile or run, or
    the graded functions no solution cell defines.
    """
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - any reason the notebook cannot be read
        raise ReferenceBroken(f"{name} cannot be read: {str(error).splitlines()[0][:200]}") from None
    namespace: dict = {"np": np, "sigmoid": sigmoid, "__name__": "reference"}
    for grade_id, source in answers(notebook).items():
        try:
            exec(compile(source, f"<solution cell {grade_id}>", "exec"), namespace)
        except SyntaxError as error:
            raise ReferenceBroken(
                f"the solution cell {grade_id!r} of {name} does not compile: {error.msg} "
                f"(line {error.lineno} of the cell)"
            ) from None
        except Exception as error:  # noqa: BLE001 - the instructor's cell fails when it runs
            raise ReferenceBroken(
                f"the solution cell {grade_id!r} of {name} fails when it runs: {type(error).__name__}: {error}"
            ) from None
    missing = [function for function in GRADED_FUNCTIONS if not callable(namespace.get(function))]
    if missing:
        raise ReferenceBroken(f"{name} defines no solution for {', '.join(missing)}")
    return types.MappingProxyType({function: namespace[function] for function in GRADED_FUNCTIONS})
