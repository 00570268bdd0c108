"""Keep the course's notebooks reviewable: execute and store them, generate release/, check.

    python -m tools.notebooks execute   # re-run the English notebooks, keep text outputs, re-translate
    python -m tools.notebooks release   # release/ = nbgrader generate_assignment of source/
    python -m tools.notebooks check     # fail if either of the above would change a file

Stored notebooks keep only what nbval compares: text outputs (streams coalesced),
no figures (cells that draw are stored unexecuted, so nbval runs them without
comparing), cell metadata limited to nbgrader's and tags, notebook metadata limited to the
kernel. A cell that writes to stderr or fails makes ``execute`` stop: a reference
notebook must run clean.
"""

from __future__ import annotations

import argparse
import copy
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import nbgrader_cli
from tools import docs, fingerprints, messages, points, translate
from tools.paths import (
    ASSIGNMENT,
    ASSIGNMENTS,
    EXECUTED_NOTEBOOKS,
    EXECUTED_TRANSLATIONS,
    ROOT,
    SOURCE,
    STORED_NOTEBOOKS,
    write_notebook,
)

__all__ = [
    "ASSIGNMENT",
    "ASSIGNMENTS",
    "ROOT",
    "SOURCE",
    "NotebookError",
    "normalize",
    "execute",
    "write",
    "generate_release",
    "release_differences",
    "storage_differences",
]
KEPT_CELL_METADATA = ("nbgrader", "tags")
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},  # until the notebook runs (see normalize)
}


class NotebookError(Exception):
    """A notebook is not in the state the course needs; the message says why."""


def _coalesce(outputs: list) -> list:
    merged: list = []
    for output in outputs:
        if (
            output.output_type == "stream"
            and merged
            and merged[-1].output_type == "stream"
            and merged[-1].name == output.name
        ):
            merged[-1].text += output.text
        else:
            merged.append(output)
    return merged


def normalize(notebook: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The stored form of an executed notebook (a copy); raises NotebookError on bad cells."""
    notebook = copy.deepcopy(notebook)
    # The kernel's own language_info as the kernel reported it when the notebook ran: JupyterLab writes it
    # into the notebook on opening, so anything less makes every student's notebook "unsaved" at once.
    language = notebook.metadata.get("language_info", {})
    notebook.metadata = copy.deepcopy(NOTEBOOK_METADATA)
    if language.get("name") == "python" and "version" in language:
        notebook.metadata["language_info"] = dict(language)
    seen = set()
    for cell in notebook.cells:
        if not cell.get("id"):
            raise NotebookError(f"{name}: a {cell.cell_type} cell has no id")
        if cell.id in seen:
            raise NotebookError(f"{name}: cell id {cell.id!r} appears twice")
        seen.add(cell.id)
        cell.metadata = {key: cell.metadata[key] for key in KEPT_CELL_METADATA if key in cell.metadata}
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
        if cell.cell_type != "code":
            continue
        outputs = _coalesce(cell.outputs)
        for output in outputs:
            if output.output_type == "error":
                raise NotebookError(f"{name}: cell {cell.id} failed: {output.ename}: {output.evalue}")
            if output.output_type == "stream" and output.name == "stderr":
                raise NotebookError(f"{name}: cell {cell.id} wrote to stderr: {output.text[:300]}")
        figures = [o for o in outputs if any(k.startswith("image/") for k in o.get("data", {}))]
        if figures and len(figures) != len(outputs):
            raise NotebookError(f"{name}: cell {cell.id} both prints and draws; split it so its text can be compared")
        if figures:
            cell.outputs, cell.execution_count = [], None
        else:
            cell.outputs = outputs
    return notebook


def execute(path: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its own folder, as Restart & Run All does."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return notebook


write = write_notebook


def generate_release(assignment: str, course_dir: Path = ROOT, out_dir: Path | None = None) -> Path:
    """Run ``nbgrader generate_assignment`` on a scratch copy of the course; return its release dir."""
    scratch = Path(tempfile.mkdtemp(prefix="release-"))
    shutil.copy(course_dir / "nbgrader_config.py", scratch)
    shutil.copytree(course_dir / "source", scratch / "source", symlinks=False)
    result = nbgrader_cli.run(
        "generate_assignment",
        assignment,
        "--force",
        f"--db=sqlite:///{scratch / 'gradebook.db'}",
        "--log-level=WARN",
        cwd=scratch,
    )
    if result.returncode != 0:
        raise NotebookError(f"nbgrader generate_assignment failed:\n{result.stdout}{result.stderr}")
    generated = scratch / "release" / assignment
    if out_dir is not None:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.copytree(generated, out_dir)
        shutil.rmtree(scratch)
        return out_dir
    return generated


def release_differences(assignment: str = ASSIGNMENT) -> list[str]:
    """Files in which release/ differs from a fresh generation of source/ (empty when current)."""
    committed = ROOT / "release" / assignment
    generated = generate_release(assignment)
    try:
        if not committed.is_dir():
            return [f"{committed.relative_to(ROOT)} is missing"]
        # What Jupyter and Python leave next to a notebook a student opened is not part of it.
        compared = filecmp.dircmp(generated, committed, ignore=[".ipynb_checkpoints", "__pycache__"])
        fix = "(run: make release)"
        problems = [f"release/{assignment} is missing {name} {fix}" for name in compared.left_only]
        problems += [
            f"release/{assignment}/{name} is not generated from source/: remove it, or add it to "
            f"source/{assignment}/ {fix}"
            for name in compared.right_only
        ]
        problems += [
            f"release/{assignment}/{name} is out of date {fix}"
            for name in compared.common_files
            if not filecmp.cmp(generated / name, committed / name, shallow=False)
        ]
        return problems
    finally:
        shutil.rmtree(generated.parent.parent)


def storage_differences(paths=STORED_NOTEBOOKS) -> list[str]:
    """Stored notebooks that carry figures, stray metadata or unstable outputs."""
    problems = []
    for path in paths:
        name = str(path.relative_to(ROOT))
        try:
            stored = nbformat.read(path, as_version=4)
            if nbformat.writes(normalize(stored, name)) != nbformat.writes(stored):
                problems.append(f"{name} is not in stored form (run: python -m tools.notebooks execute)")
        except (NotebookError, nbformat.ValidationError) as error:
            problems.append(str(error))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.notebooks", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["execute", "release", "check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "execute":
            for path in EXECUTED_NOTEBOOKS:
                write(normalize(execute(path), path.name), path)
                print(f"executed and stored {path.relative_to(ROOT)}")
            for path in translate.build([]):
                print(f"translated {path.relative_to(ROOT)}")
            for path in EXECUTED_TRANSLATIONS:
                write(normalize(execute(path), path.name), path)
                print(f"executed and stored {path.relative_to(ROOT)}")
        elif args.command == "release":
            english = nbformat.read(SOURCE, as_version=4)
            if points.apply(english):  # course.toml's points, into the source and (translated) its editions
                write_notebook(english, SOURCE)
                print(f"wrote course.toml's points into {SOURCE.relative_to(ROOT)}")
            for path in translate.build([]):
                print(f"translated {path.relative_to(ROOT)}")
            fingerprints.write()
            messages.write()
            docs.write()  # the docs' tables of course.toml's functions, points and plan
            for assignment in ASSIGNMENTS:
                generate_release(assignment, out_dir=ROOT / "release" / assignment)
                print(f"generated release/{assignment}")
        else:
            problems = [
                problem
                for path in STORED_NOTEBOOKS
                for problem in points.differences(nbformat.read(path, as_version=4), str(path.relative_to(ROOT)))
                if path.parent.parent == ROOT / "source"  # the graded notebooks (not notebooks/)
            ]
            problems += storage_differences() + translate.check() + fingerprints.check() + messages.check()
            problems += [p for assignment in ASSIGNMENTS for p in release_differences(assignment)]
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            if problems:
                return 1
            print("notebooks are in stored form and release/ matches source/")
    except (NotebookError, translate.TranslationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
