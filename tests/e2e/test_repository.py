"""The repository carries every file the project needs.

An ignore rule meant for course-root output (``reports/``) once also hid the
``autograder/reports/`` package: everything passed here and failed on a clean
clone.  This test catches that class of mistake before CI does.
"""

import subprocess

from ..conftest import ROOT

PROJECT_FOLDERS = ["autograder", "tests", "tools", "source", "release", "notebooks", ".ci"]
SCRATCH = ("__pycache__/", ".pyc", ".ipynb_checkpoints/", ".pytest_cache/", ".egg-info/")


def test_no_project_file_is_ignored_by_git():
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--", *PROJECT_FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    hidden = [path for path in listed if not any(part in path for part in SCRATCH)]
    assert hidden == [], f"git ignores files the project needs: {hidden}"
