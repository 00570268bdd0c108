"""The notebooks as files: release generated from source, markup, placeholders, stock nbgrader."""

import nbformat
import pytest

from autograder import ASSIGNMENT, GRADED_FUNCTIONS, nbgrader_cli
from autograder.simulated.synthetic import (
    course_notebooks,
    fill_answers,
    new_course,
    use_stock_nbgrader,
    write_submission,
)
from tools import notebooks

from ..conftest import POINTS, ROOT, TOTAL

RELEASE = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def nbgrader_cells(notebook):
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in notebook.cells if "nbgrader" in cell.metadata}


def test_release_is_what_nbgrader_generates_from_source():
    """Is release/ byte for byte a fresh `nbgrader generate_assignment` of source/?"""
    assert notebooks.release_differences(ASSIGNMENT) == []


def test_what_jupyter_leaves_in_release_is_not_a_difference_but_a_stray_file_is():
    """Opening the release notebook in JupyterLab creates .ipynb_checkpoints/: make check must not mind."""
    checkpoints = ROOT / "release" / ASSIGNMENT / ".ipynb_checkpoints"
    stray = ROOT / "release" / ASSIGNMENT / "my_notes.txt"
    created = not checkpoints.exists()
    try:
        checkpoints.mkdir(exist_ok=True)
        (checkpoints / f"{ASSIGNMENT}-checkpoint.ipynb").write_text("{}")
        stray.write_text("scratch")
        assert notebooks.release_differences(ASSIGNMENT) == [
            f"release/{ASSIGNMENT}/my_notes.txt is not generated from source/: remove it, or add it to "
            f"source/{ASSIGNMENT}/ (run: make release)"
        ]
    finally:
        stray.unlink()
        if created:
            import shutil

            shutil.rmtree(checkpoints)


def test_stored_notebooks_are_in_stored_form():
    """Do the stored-output notebooks carry only text outputs, stable ids and nbgrader metadata?"""
    assert notebooks.storage_differences() == []


def test_stored_form_rejects_figures_mixed_with_text_and_stderr():
    """Does the normaliser refuse a cell that prints and draws, or writes to stderr?"""
    cell = nbformat.v4.new_code_cell("x", id="mixed")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a"),
        nbformat.v4.new_output("display_data", data={"image/png": "", "text/plain": "<Figure>"}),
    ]
    with pytest.raises(notebooks.NotebookError, match="mixed both prints and draws"):
        notebooks.normalize(nbformat.v4.new_notebook(cells=[cell]))
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="Warning")]
    with pytest.raises(notebooks.NotebookError, match="mixed wrote to stderr"):
        notebooks.normalize(nbformat.v4.new_notebook(cells=[cell]))


def test_release_markup_points_and_hidden_parts():
    """Are the eight answer and test cells there with the agreed grade ids and points, and nothing hidden?"""
    release = nbformat.read(RELEASE, as_version=4)
    cells = nbgrader_cells(release)
    for name in GRADED_FUNCTIONS:
        assert cells[name].metadata.nbgrader["solution"] is True
        assert "raise NotImplementedError()" in cells[name].source
        assert "### START CODE HERE ###" in cells[name].source
        test_cell = cells[f"test_{name}"]
        assert test_cell.metadata.nbgrader["points"] == POINTS[name]
        assert test_cell.metadata.nbgrader["locked"] is True
    assert sum(c.metadata.nbgrader.get("points", 0) for c in cells.values()) == TOTAL
    text = RELEASE.read_text()
    for leaked in ("BEGIN SOLUTION", "HIDDEN TESTS", "from autograder", "check_hidden_cases", "isolated("):
        assert leaked not in text
    assert all(not cell.get("outputs") for cell in release.cells if cell.cell_type == "code")


def test_release_placeholders_fail_with_helpful_messages():
    """Does every test cell of the untouched release fail with 'not implemented yet', not noise?"""
    from nbclient import NotebookClient

    release = nbformat.read(RELEASE, as_version=4)
    NotebookClient(
        release,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(RELEASE.parent)}},
    ).execute()
    cells = nbgrader_cells(release)
    for name in GRADED_FUNCTIONS:
        errors = [o for o in cells[f"test_{name}"].outputs if o.output_type == "error"]
        assert len(errors) == 1, name
        assert errors[0].ename == "NotImplementedYet", (name, errors[0].ename)
        assert f"{name} is not implemented yet" in errors[0].evalue


@pytest.fixture(scope="module")
def stock_course(tmp_path_factory):
    """A scratch course with two submissions graded by stock `nbgrader autograde` (the judge's parts taken out
    of its configuration): the in-notebook hidden tests work for a course that does not use the judge."""
    course = use_stock_nbgrader(new_course(tmp_path_factory.mktemp("course")))
    release, answers = course_notebooks()
    write_submission(fill_answers(release, answers), course, "perfect", ASSIGNMENT)
    write_submission(release, course, "untouched", ASSIGNMENT)
    for command in (["generate_assignment", ASSIGNMENT], ["autograde", ASSIGNMENT]):
        result = nbgrader_cli.run(*command, "--force", cwd=course)
        assert result.returncode == 0, result.stdout + result.stderr
    return course


@pytest.mark.parametrize("student, expected", [("perfect", POINTS), ("untouched", dict.fromkeys(POINTS, 0))])
def test_stock_nbgrader_autograde_scores(stock_course, student, expected):
    """Does stock nbgrader give the instructor's solution 100 and the untouched release 0?"""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{stock_course / 'gradebook.db'}") as gradebook:
        scores = {
            name: gradebook.find_grade(f"test_{name}", ASSIGNMENT, ASSIGNMENT, student).score
            for name in GRADED_FUNCTIONS
        }
        total = gradebook.find_submission(ASSIGNMENT, student).score
    assert scores == expected
    assert total == sum(expected.values())
