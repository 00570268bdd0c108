"""nbval with our sanitize rules: it masks only the float-library digits, nothing else."""

import json
import shutil
import subprocess
import sys

from tools import notebooks

from ..conftest import ROOT


def test_nbval_fails_on_a_wrong_number_and_ignores_masked_digits(tmp_path):
    """With two stored outputs edited, does exactly the cell with the unmasked change fail?"""
    folder = tmp_path / "nb"
    shutil.copytree(notebooks.SOURCE.parent, folder)  # symlinked helpers become copies
    path = folder / notebooks.SOURCE.name
    notebook = json.loads(path.read_text())
    edits = {
        "logreg-fit": ("47 %", "48 %"),  # a real number: must fail
        "train": ("iteration 8000: 0.219", "iteration 8000: 0.219999"),
    }  # masked: must pass
    for cell in notebook["cells"]:
        if cell["id"] in edits:
            old, new = edits[cell["id"]]
            text = "".join(cell["outputs"][0]["text"])
            assert old in text
            cell["outputs"][0]["text"] = text.replace(old, new, 1)
    path.write_text(json.dumps(notebook, indent=1))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval",
            str(path),
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "-rf",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1, result.stdout[-3000:]
    assert "48 %" in result.stdout
