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

from . import ASSIGNMENT, GRADED_FUNCTIONS

COURSE_ROOT = Path(__file__).resolve().parent.parent


def source_notebook(course_dir: Path | str = COURSE_ROOT, assignment: str = ASSIGNMENT) -> Path:
    """Path of the instructor notebook ``source/<assignment>/<assignment>.ipynb``."""
    return Path(course_dir) / "source" / assignment / f"{assignment}.ipynb"


def grade_id(cell) -> str | None:
    """The nbgrader grade id of a cell, or None for a cell without nbgrader markup."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_cells(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Map grade id -> source of every autograded-answer code cell."""
    cells = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            cells[meta["grade_id"]] = cell.source
    return cells


def load_reference(path: Path | str | None = None) -> types.MappingProxyType:
    """Execute the solution cells of the source notebook; return the graded functions.

    Raises LookupError naming any graded function the notebook does not define.
    """
    path = Path(path) if path is not None else source_notebook()
    return load_reference_text(path.read_text(encoding="utf-8"), str(path))


@functools.lru_cache(maxsize=4)
def load_reference_text(text: str, name: str = "the source notebook") -> types.MappingProxyType:
    """As load_reference, from the notebook's JSON text."""
    notebook = nbformat.reads(text, as_version=4)
    namespace: dict = {"np": np, "sigmoid": sigmoid, "__name__": "reference"}
    for grade_id, source in solution_cells(notebook).items():
        exec(compile(source, f"<reference {grade_id}>", "exec"), namespace)
    missing = [name for name in GRADED_FUNCTIONS if not callable(namespace.get(name))]
    if missing:
        raise LookupError(f"{name} defines no solution for {', '.join(missing)}")
    return types.MappingProxyType({name: namespace[name] for name in GRADED_FUNCTIONS})
