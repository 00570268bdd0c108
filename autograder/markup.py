"""nbgrader's cell markup: the one place that reads it.

A cell's ``metadata.nbgrader`` says what the cell is to nbgrader (an answer, a test,
its grade id and points). Notebooks from students can hold anything there, so
``clean`` drops markup that is not nbgrader's shape before anything else reads it;
after that, nbgrader's own predicates (``nbgrader.utils``) answer every question.
"""

from __future__ import annotations

import math
import numbers

from nbgrader.utils import is_grade, is_solution

_FLAGS = ("grade", "solution", "locked", "task")


def well_formed(markup) -> bool:
    """Whether ``markup`` has nbgrader's shape: a mapping whose known keys hold values of the right type."""
    if not isinstance(markup, dict):
        return False
    for key, value in markup.items():
        if key in _FLAGS and not isinstance(value, bool):
            return False
        if key == "grade_id" and not isinstance(value, str):
            return False
        if key in ("points", "schema_version") and (
            isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
        ):
            return False
    return True


def clean(notebook) -> list[str]:
    """Drop every cell's markup that is not nbgrader's shape; return the ids of the cells it was dropped from."""
    dropped = []
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata and not well_formed(cell.metadata["nbgrader"]):
            del cell.metadata["nbgrader"]
            dropped.append(str(cell.get("id", "?")))
    return dropped


def grade_id(cell) -> str | None:
    """The grade id of a cell, None for a cell without markup."""
    markup = cell.get("metadata", {}).get("nbgrader")
    return markup.get("grade_id") if isinstance(markup, dict) else None


def is_test(cell) -> bool:
    """A test cell: graded, not an answer (its source is the instructor's)."""
    return bool(is_grade(cell)) and not is_solution(cell)


def is_answer(cell) -> bool:
    """An autograded answer: a code cell the student writes, not graded by itself."""
    return cell.cell_type == "code" and bool(is_solution(cell)) and not is_grade(cell)


TEST_PREFIX = "test_"  # a function's test cell has the grade id test_<function>; its answer cell, <function>


def test_id(function: str) -> str:
    """The grade id of the test cell of a graded function."""
    return TEST_PREFIX + function


def function_of(cell_id: str) -> str:
    """The graded function a grade id belongs to (a test cell's or an answer cell's)."""
    return cell_id.removeprefix(TEST_PREFIX)


def checked_function(cell) -> str | None:
    """The graded function a test cell checks, else None (a test cell the judge has no function for is left
    to nbgrader's manual grading)."""
    from . import GRADED_FUNCTIONS

    cell_id = grade_id(cell) or ""
    function = function_of(cell_id)
    return function if is_test(cell) and cell_id.startswith(TEST_PREFIX) and function in GRADED_FUNCTIONS else None


def points(notebook) -> dict[str, float]:
    """Points of each graded function, from the notebook's test cells."""
    return {
        function: float(cell.metadata.nbgrader.get("points", 0))
        for cell in notebook.cells
        if (function := checked_function(cell)) is not None
    }


def answers(notebook) -> dict[str, str]:
    """Grade id -> source of every autograded answer cell."""
    return {grade_id(cell): cell.source for cell in notebook.cells if is_answer(cell)}
