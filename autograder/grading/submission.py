"""A student's notebook as the grader reads, restores and returns it.

Reading is strict about what a notebook is (any failure is the student's
``SubmissionProblem``, with a status in plain words); restoring puts the release's test
cells back, whatever the student did to them; the verdicts go into the test cells,
where nbgrader's own rule scores them.
"""

from __future__ import annotations

import copy
import json
import re

import nbformat
from nbgrader.utils import is_solution

from .. import GRADED_FUNCTIONS
from ..intake import MAX_NOTEBOOK_BYTES
from ..markup import checked_function, clean, grade_id, is_test, test_id
from ..results import FunctionResult, Kind, Outcome, Problem
from ..sandbox.outputs import new_output, safe_cell, valid_text
from ..sanitize import Allowance
from . import wording

SKIP_TAG = "explore"  # cells tagged so are exploration, not needed for grading


class SubmissionProblem(Exception):
    """The submission cannot be run at all (the student's doing); ``problem`` says what, typed."""

    def __init__(self, kind: Kind, text: str):
        super().__init__(text)
        self.problem = Problem(kind, text)


# -- reading the submission ----------------------------------------------------------------


def find_notebook(files: dict | None, assignment: str) -> tuple[str, str]:
    """The name of the notebook to grade, and a note when it is not the expected one."""
    expected = f"{assignment}.ipynb"
    if files is None:
        raise SubmissionProblem(Kind.MISSING_NOTEBOOK, "missing submission folder")
    if expected in files:
        return expected, ""
    candidates = sorted(name for name in files if name.endswith(".ipynb"))
    if len(candidates) == 1:
        return candidates[0], f"misnamed notebook {candidates[0]} (graded anyway)"
    if not candidates:
        raise SubmissionProblem(Kind.MISSING_NOTEBOOK, f"missing notebook: no {expected} in the submission")
    raise SubmissionProblem(
        Kind.MISSING_NOTEBOOK, f"missing notebook: no {expected}, and {len(candidates)} other notebooks"
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_notebook(raw: bytes | None) -> nbformat.NotebookNode:
    if raw is None:
        raise SubmissionProblem(
            Kind.MALFORMED, f"malformed notebook: larger than the {MAX_NOTEBOOK_BYTES // 2**20} MB allowed"
        )
    if len(raw) == 0:
        raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: not a text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem(
            Kind.MALFORMED, f"malformed notebook: invalid JSON at line {error.lineno} ({error.msg.removesuffix(' at')})"
        ) from None
    except RecursionError:
        raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: nested too deeply to be a notebook") from None
    if not isinstance(data, dict) or "cells" not in data:
        raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: not a Jupyter notebook")
    if data.get("nbformat") != 4:
        raise SubmissionProblem(
            Kind.MALFORMED, f"malformed notebook: nbformat {str(data.get('nbformat'))[:20]}, expected 4"
        )
    if _SURROGATE_ESCAPE.search(text):  # JSON can say what UTF-8 cannot: written again without it
        try:
            text = json.dumps(valid_text(data), ensure_ascii=False)
        except RecursionError:
            raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: nested too deeply to be a notebook") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except RecursionError:
        raise SubmissionProblem(Kind.MALFORMED, "malformed notebook: nested too deeply to be a notebook") from None
    except Exception as error:  # noqa: BLE001 - any schema problem is the submission's
        raise SubmissionProblem(Kind.MALFORMED, f"malformed notebook: {str(error).splitlines()[0][:200]}") from None
    clean(notebook)  # markup that is not nbgrader's is no markup: restore puts the release's back
    return notebook


# -- the notebook that is executed and stored -----------------------------------------------


def restore(student: nbformat.NotebookNode, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's notebook with the instructor's test cells, whatever was done to them, safe to render.

    nbgrader's ``OverwriteCells`` (with ``add_missing_cells``) does the same from the
    gradebook, but it matches cells by checksum and cell type only and takes the source
    notebook's cells, hidden tests included; here the release's (visible) cells are
    restored, renamed and moved cells are handled, and markup the release does not have
    is removed so a student cannot invent grade cells. Duplicated ids keep their first cell.
    The notebook's metadata is the release's, and the student's own markdown and raw cells
    are made inert (see ``sandbox.outputs.safe_cell``).
    """
    release_cells = {grade_id(c): c for c in release.cells if grade_id(c)}
    release_text = {c.get("id"): c.source for c in release.cells if c.cell_type == "markdown"}
    notebook = copy.deepcopy(student)
    notebook.metadata = copy.deepcopy(release.metadata)
    seen = set()
    allowance = Allowance()
    for index, cell in enumerate(notebook.cells):
        safe_cell(cell, release_text.get(cell.get("id")), allowance)
        cell_id = grade_id(cell)
        if cell_id is None:
            cell.metadata.pop("nbgrader", None)
            continue
        original = release_cells.get(cell_id)
        # the student's own: an answer the judge reads, or a written answer (markdown or code) a person grades
        answer = original is not None and bool(is_solution(original))
        if original is None or cell_id in seen or (answer and cell.cell_type != original.cell_type):
            del cell.metadata["nbgrader"]
            continue
        seen.add(cell_id)
        if answer:
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata.nbgrader)
        elif cell.cell_type == original.cell_type:  # a test or task cell: the instructor's, verbatim
            cell.source = original.source
            cell.metadata = copy.deepcopy(original.metadata)
        else:
            notebook.cells[index] = copy.deepcopy(original)
    for name in GRADED_FUNCTIONS:
        test = test_id(name)
        if test in seen:
            continue
        index = next((i + 1 for i, c in enumerate(notebook.cells) if grade_id(c) == name), len(notebook.cells))
        notebook.cells.insert(index, copy.deepcopy(release_cells[test]))
        seen.add(test)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def changed_tests(student: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """The release's test cells the student edited or removed (restored before grading), as "test_x edited"."""
    theirs = {}
    for cell in student.cells:
        theirs.setdefault(grade_id(cell), cell)
    changes = []
    for cell in release.cells:
        if checked_function(cell) is None:
            continue
        cell_id = grade_id(cell)
        mine = theirs.get(cell_id)
        if mine is None:
            changes.append(f"{cell_id} removed")
        elif mine.source.strip() != cell.source.strip():
            changes.append(f"{cell_id} edited")
    return changes


# What student code has no reason to touch in this course: the grading machinery and the test functions.
_MACHINERY = (
    ("input_transformers", "IPython's input transformers"),
    ("run_cell", "IPython's run_cell"),
    ("showtraceback", "IPython's showtraceback"),
    ("set_custom_exc", "IPython's exception handler"),
    ("excepthook", "sys.excepthook"),
    ("builtins", "the builtins"),
    ("public_tests", "the visible tests' module"),
    ("test_utils", "the visible tests' comparison"),
    ("test_text", "the visible tests' messages"),
    ("test_failures", "the visible tests' failures"),
    ("test_mistakes", "the diagnosis of classic mistakes"),
    ("course_spec", "the course's specification"),
    ("autograder", "the grader"),
    ("get_ipython().kernel", "the kernel's channels"),
)
_TEST_REDEFINED = re.compile(r"(\bdef\s+\w+_test\b|\b\w+_test\s*=(?!=)|globals\(\)\s*\[)")


def machinery_touched(notebook: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Cells of the student's whose code reaches for the grading machinery: what the instructor should look at.

    A hint, not a verdict (the sandbox and the judge make such code harmless): "cell added-0: IPython's run_cell".
    The release's own cells, as they were handed out, are not the student's.
    """
    handed_out = {cell.source.strip() for cell in release.cells if cell.cell_type == "code"}
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or is_test(cell) or cell.source.strip() in handed_out:
            continue
        touched = {what for needle, what in _MACHINERY if needle in cell.source}
        if _TEST_REDEFINED.search(cell.source):
            touched.add("the visible test functions")
        touched = sorted(touched)
        if touched:
            found.append(f"cell {cell.get('id', '?')}: {', '.join(touched)}")
    return found


def attempted(student: nbformat.NotebookNode, release: nbformat.NotebookNode) -> bool:
    """False when every code cell of the submission is a code cell of the release, unchanged."""
    release_code = {cell.source.strip() for cell in release.cells if cell.cell_type == "code"}
    return any(cell.source.strip() not in release_code for cell in student.cells if cell.cell_type == "code")


def skipped(cell) -> bool:
    return SKIP_TAG in cell.get("metadata", {}).get("tags", [])


def write_verdicts(notebook, results: list[FunctionResult], language: str = "en") -> None:
    """Put each verdict into its test cell: its output says why, and it is what nbgrader scores.

    A passed function's cell prints; a failed one's holds an error, so nbgrader's
    ``determine_grade`` gives the first full points and the second 0: the score set here,
    checked against nbgrader's rule cell by cell (a disagreement is the grader's fault).
    """
    from nbgrader.utils import determine_grade

    by_name = {r.name: r for r in results}
    for cell in notebook.cells:
        name = checked_function(cell)
        if name is None:
            continue
        result = by_name[name]
        if result.outcome == Outcome.PASSED:
            cell.outputs = [
                new_output("stream", name="stdout", text=wording.say(language, "all_passed", name=result.name) + "\n")
            ]
        else:
            ename = {
                Outcome.TIMEOUT: "Timeout",
                Outcome.KERNEL_DIED: "KernelDied",
                Outcome.MEMORY: "MemoryLimit",
                Outcome.MISSING: "NameError",
                Outcome.NOT_RUN: "NotRun",
            }.get(result.outcome, "AssertionError")
            cell.outputs = [
                new_output("error", ename=ename, evalue=result.message, traceback=[f"{ename}: {result.message}"])
            ]
        result.score = result.points if result.outcome == Outcome.PASSED else 0.0
        by_nbgrader = float(determine_grade(cell)[0] or 0.0)
        if by_nbgrader != result.score:
            raise ScoresDisagree(f"{name}: the grader says {result.score}, nbgrader's rule {by_nbgrader}")


class ScoresDisagree(Exception):
    """The notebook written would make nbgrader score a function differently from the grader (a grader bug)."""


def release_from_source(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a source notebook, when release/ is absent (only its test cells matter)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    notebook, resources = ClearSolutions().preprocess(copy.deepcopy(notebook), {})
    notebook, resources = ClearHiddenTests().preprocess(notebook, resources)
    return notebook
