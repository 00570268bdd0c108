"""The course's files as the maintainers' tools see them: where they are, and how they are written."""

from pathlib import Path

import nbformat

from autograder import ASSIGNMENT as ASSIGNMENT  # the tools name it from here
from autograder import EDITIONS, SPEC
from autograder.course import Course

ROOT = Path(__file__).resolve().parent.parent
# Every edition is its own nbgrader assignment (course.toml); the first is written by hand, the
# others are generated from it and their language's catalogues in i18n/ (tools.translate).
ASSIGNMENTS = list(EDITIONS)
SOURCE = Course(ROOT, ASSIGNMENTS[0]).source_notebook
# language -> the source notebook of its edition, for each translated edition
TRANSLATED = {edition.language: Course(ROOT, edition.assignment).source_notebook for edition in SPEC.editions[1:]}
# English notebooks, executed to store their outputs; translations copy them.
EXECUTED_NOTEBOOKS = [SOURCE, *sorted((ROOT / "notebooks").glob("*.ipynb"))]
# Translations whose outputs differ (the tests speak the edition's language): executed after translating.
EXECUTED_TRANSLATIONS = list(TRANSLATED.values())
# Notebooks stored with outputs, which nbval re-executes and compares.
STORED_NOTEBOOKS = [
    *EXECUTED_NOTEBOOKS,
    *TRANSLATED.values(),
    *(path for language in TRANSLATED for path in sorted((ROOT / "notebooks" / language).glob("*.ipynb"))),
]


def write_or_check(module: str, doc: str, write, check, argv=None, current: str = "") -> int:
    """The command line of a tool that writes a generated file and checks it: ``python -m MODULE write|check``.
    ``check`` returns the problems (printed as errors, exit 1); ``current`` is said when there are none."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n")[0])
    parser.add_argument("command", choices=["write", "check"])
    if parser.parse_args(argv).command == "write":
        write()
        return 0
    problems = check()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if current and not problems:
        print(current)
    return 1 if problems else 0


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Validate, then write in the stored layout (nbformat's, with a final newline)."""
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
