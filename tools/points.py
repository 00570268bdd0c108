"""The points of the notebooks, written from the course's specification (course.toml) and checked against it.

The points of a graded function appear in its test cell (nbgrader's metadata, which is what
nbgrader and the grader score with) and in the notebook's opening table of functions and
points. Both are course.toml's: ``make release`` writes them into source/ (and so into the
translations and release/), ``make check`` refuses a notebook that says otherwise, naming the
line of course.toml that holds the right number.
"""

from __future__ import annotations

import re

import nbformat

from autograder.markup import TEST_PREFIX, function_of, grade_id, is_test
from course_spec import SPEC

# A row of the opening table: | `name` | points |
_ROW = re.compile(r"^(\|\s*`(?P<name>\w+)`\s*\|\s*)(?P<points>[0-9.]+)(\s*\|\s*)$", re.M)


def _shown(points: float) -> str:
    return f"{points:g}"


def neutral(text: str) -> str:
    """``text`` with the points of the table rows of graded functions left out (a translation follows
    the English text, not the points, which course.toml writes into every edition)."""
    return _ROW.sub(
        lambda m: m.group(0) if m["name"] not in SPEC.points else f"{m.group(1)}{{points}}{m.group(4)}", text
    )


def _table(text: str) -> str:
    return _ROW.sub(
        lambda m: (
            m.group(0) if m["name"] not in SPEC.points else f"{m.group(1)}{_shown(SPEC.points[m['name']])}{m.group(4)}"
        ),
        text,
    )


def _graded(cell) -> str | None:
    """The graded function a test cell tests (by its grade id test_<name>), or None; any name, so that a test cell
    of a function course.toml does not list is found too (``markup.checked_function`` knows only the listed)."""
    cell_id = grade_id(cell) or ""
    return (
        function_of(cell_id) if cell.cell_type == "code" and is_test(cell) and cell_id.startswith(TEST_PREFIX) else None
    )


def differences(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """Where ``notebook`` says other points than course.toml, or tests what course.toml does not grade."""
    found, tested = [], []
    for cell in notebook.cells:
        function = _graded(cell)
        if function is not None:
            tested.append(function)
            if function not in SPEC.points:
                found.append(
                    f"{name}: test cell {cell.get('id')} grades {function}, which course.toml does not list "
                    f"(add a [[function]] table for it, or remove the cell)"
                )
                continue
            has, want = cell.metadata.nbgrader.get("points"), SPEC.points[function]
            if has != want:
                found.append(
                    f"{name}: test cell {cell.get('id')} gives {function} {has} points, course.toml line "
                    f"{SPEC.line(function, 'points')} gives {_shown(want)}: points are course.toml's "
                    "(edit it there, then run: make release)"
                )
        elif cell.cell_type == "markdown" and _table(cell.source) != cell.source:
            wrong = [
                m["name"]
                for m in _ROW.finditer(cell.source)
                if m["name"] in SPEC.points and m["points"] != _shown(SPEC.points[m["name"]])
            ]
            found.append(
                f"{name}: the table of points in markdown cell {cell.get('id')} differs from course.toml for "
                + ", ".join(f"{n} (line {SPEC.line(n, 'points')})" for n in wrong)
                + ": points are course.toml's (run: make release)"
            )
    missing = [function for function in SPEC.names if function not in tested]
    if missing:
        found.append(f"{name}: course.toml grades {', '.join(missing)}, which no test cell of the notebook tests")
    return found


def apply(notebook: nbformat.NotebookNode) -> bool:
    """Write course.toml's points into the test cells and the table of ``notebook``; True if it changed."""
    changed = False
    for cell in notebook.cells:
        function = _graded(cell)
        if function in SPEC.points and cell.metadata.nbgrader.get("points") != SPEC.points[function]:
            cell.metadata.nbgrader["points"] = SPEC.points[function]
            changed = True
        elif cell.cell_type == "markdown" and _table(cell.source) != cell.source:
            cell.source = _table(cell.source)
            changed = True
    return changed
