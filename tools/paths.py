"""The course's files as the maintainers' tools see them: where they are, and how they are written."""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "planar_data_classification"
# Every edition is its own nbgrader assignment; the Chinese one is generated (tools.translate).
ASSIGNMENTS = [ASSIGNMENT, f"{ASSIGNMENT}_zh"]
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SOURCE_ZH = ROOT / "source" / ASSIGNMENTS[1] / f"{ASSIGNMENTS[1]}.ipynb"
# English notebooks, executed to store their outputs; translations copy them.
EXECUTED_NOTEBOOKS = [SOURCE, *sorted((ROOT / "notebooks").glob("*.ipynb"))]
# Translations whose outputs differ (the tests speak the edition's language): executed after translating.
EXECUTED_TRANSLATIONS = [SOURCE_ZH]
# Notebooks stored with outputs, which nbval re-executes and compares.
STORED_NOTEBOOKS = [*EXECUTED_NOTEBOOKS, SOURCE_ZH, *sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))]


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Validate, then write in the stored layout (nbformat's, with a final newline)."""
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
