"""Synthetic submissions: the release notebook with chosen answers filled in.

Used by the demo class, the benchmark and the tests, so that a "student" is
always built the same way a real one is: from the notebook students receive.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat

from .. import ASSIGNMENT, GRADED_FUNCTIONS
from ..course import Course
from ..grading.reference import COURSE_ROOT
from ..markup import answers, grade_id, is_answer

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def new_course(folder: Path, root: Path = COURSE_ROOT) -> Path:
    """A scratch nbgrader course in ``folder``: this repository's config, source/ and release/."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", folder)
    shutil.copytree(root / "source", folder / "source")  # the helper links become files
    shutil.copytree(root / "release", folder / "release")
    return folder


STOCK_NBGRADER = """

# Stock nbgrader, for comparison only (autograder.simulated.synthetic.use_stock_nbgrader): the judge's
# parts are taken out, so `nbgrader autograde` executes notebooks as nbgrader does out of the box.
for _section, _keys in {
    "Autograde": ("exporter_class", "sanitize_preprocessors", "autograde_preprocessors", "post_convert_hook"),
    "GenerateFeedback": ("exporter_class", "preprocessors", "post_convert_hook"),
}.items():
    for _key in _keys:
        c[_section].pop(_key, None)
"""


def use_stock_nbgrader(course: Path) -> Path:
    """Make a scratch course's nbgrader run stock (its own Execute, no judge): for the benchmark's comparison
    and the tests of the in-notebook hidden tests. Never for a real course."""
    with (Path(course) / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(STOCK_NBGRADER)
    return Path(course)


def course_notebooks(assignment: str = ASSIGNMENT, root: Path = COURSE_ROOT):
    """The release notebook students receive, and the instructor's answers (solution markers removed)."""
    course = Course(root, assignment)
    release = nbformat.read(course.release_notebook, as_version=4)
    source = nbformat.read(course.source_notebook, as_version=4)
    return release, solution_answers(source)


def solution_answers(source_notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Answer-cell sources of the instructor notebook, without the solution markers."""
    return {cell_id: _SOLUTION_MARKERS.sub("", source) for cell_id, source in answers(source_notebook).items()}


def fill_answers(release_notebook: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the release notebook with the given answer cells replaced (by grade id)."""
    unknown = set(answers) - set(GRADED_FUNCTIONS)
    if unknown:
        raise KeyError(f"no answer cell for {sorted(unknown)}")
    notebook = copy.deepcopy(release_notebook)
    for cell in notebook.cells:
        cell_id = grade_id(cell)
        if cell_id in answers and is_answer(cell):
            cell.source = answers[cell_id]
    return notebook


def write_submission(notebook: nbformat.NotebookNode, course_dir: Path, student: str, assignment: str) -> Path:
    """Place a notebook where nbgrader expects a collected submission."""
    folder = Course(course_dir, assignment).step("submitted", student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    return path
