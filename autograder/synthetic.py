"""Synthetic submissions: the release notebook with chosen answers filled in.

Used by the demo class, the benchmark and the tests, so that a "student" is
always built the same way a real one is: from the notebook students receive.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from . import GRADED_FUNCTIONS
from .reference import solution_cells

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def solution_answers(source_notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Answer-cell sources of the instructor notebook, without the solution markers."""
    return {grade_id: _SOLUTION_MARKERS.sub("", source)
            for grade_id, source in solution_cells(source_notebook).items()}


def fill_answers(release_notebook: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the release notebook with the given answer cells replaced (by grade id)."""
    unknown = set(answers) - set(GRADED_FUNCTIONS)
    if unknown:
        raise KeyError(f"no answer cell for {sorted(unknown)}")
    notebook = copy.deepcopy(release_notebook)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.metadata.nbgrader.get("solution"):
            cell.source = answers[grade_id]
    return notebook


def write_submission(notebook: nbformat.NotebookNode, course_dir: Path, student: str,
                     assignment: str) -> Path:
    """Place a notebook where nbgrader expects a collected submission."""
    folder = Path(course_dir) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    return path
