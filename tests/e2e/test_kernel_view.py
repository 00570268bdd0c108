"""The kernel's view is an allowlist: everything a graded kernel can see, checked from inside it.

A student whose notebook runs ``tests/kernel_view.OBSERVE`` is graded through the real
pipeline, with warm (forked from the zygote) and cold kernels, as root here and as an
ordinary user in test_rootless.py, locally here and on Dask in test_dask.py. Whatever
the kernel finds that is not on the list (a descriptor that is not its own, an
environment variable, a mount, a capability, a process, a socket) fails the test.
"""

import os
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.sandbox import kernel_environment, read_only_paths
from autograder.settings import Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from .. import kernel_view
from ..conftest import TOTAL

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user, test_rootless.py checks the view")


def inspector_course(folder, students=("inspector", "inspector2")):
    """A course whose students hand in correct work plus the observing cell."""
    course = new_course(folder)
    release, answers = course_notebooks()
    for student in students:
        notebook = fill_answers(release, answers)
        notebook.cells.insert(3, nbformat.v4.new_code_cell(kernel_view.OBSERVE, id="observe"))
        write_submission(notebook, course, student, ASSIGNMENT)
    return course


def views(course, students=("inspector", "inspector2")) -> dict:
    found = {}
    for student in students:
        path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        cell = next(c for c in nbformat.read(path, as_version=4).cells if c.get("id") == "observe")
        found[student] = kernel_view.parse("".join(o.get("text", "") for o in cell.outputs))
    return found


def check(found: dict, rootless: bool) -> None:
    allowed_env = set(kernel_environment(Path("/")))  # the keys only; values name the working directory
    for student, view in found.items():
        assert kernel_view.violations(view, rootless, allowed_env, read_only_paths()) == [], student


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_kernel_sees_only_what_is_on_the_allowlist(tmp_path, warm):
    course = inspector_course(tmp_path / "course")
    summary = run(
        Settings(
            course_dir=course,
            assignment=ASSIGNMENT,
            db_url=db_url_from_config(course),
            workers=2,
            limits=Limits(cell_timeout=10, submission_timeout=60),
            feedback=False,
            warm_kernels=warm,
        )
    )
    assert [r.total for r in summary.results] == [TOTAL, TOTAL]
    found = views(course)
    check(found, rootless=False)
    # drawn, not derived from anything of the grader's: two kernels, two uids
    assert found["inspector"]["ids"][0] != found["inspector2"]["ids"][0]
    assert str(os.getpid()) not in found["inspector"]["cwd"]


def test_the_allowlist_catches_what_it_must():
    """Would the check see an inherited socket, a host path, a capability, a visible process?"""
    view = {
        "fds": {
            "0": {"target": "/dev/null"},
            "5": {"target": "socket:[1]", "family": 1, "own_netns": False, "name": ""},
            "6": {"target": "/tmp/autograder-0/secret"},
            "7": {"target": "pipe:[9]"},
        },
        "env": ["PATH", "AWS_SECRET"],
        "mounts": [["/", "ro", "tmpfs"], ["/course", "rw", "ext4"]],
        "caps": {"CapEff": "0000000000000001"},
        "seccomp": "0",
        "nnp": "0",
        "cgroup": ["0::/autograder/k-1"],
        "pids": [1, 2],
        "ids": [0, 0, 0, 0, []],
        "interfaces": ["eth0", "lo"],
        "loopback_flags": 1,
        "connect": "connected",
        "inet": [["tcp", "0100007F:1F90", "0100007F:0050", "01"]],
        "unix_paths": ["/tmp/zygote/socket"],
        "cwd": "/work",
    }
    found = kernel_view.violations(view, False, {"PATH"}, [])
    for expected in ("descriptor 5", "descriptor 6", "descriptor 7", "AWS_SECRET", "mount /course", "CapEff"):
        assert any(expected in item for item in found), expected
    for expected in ("seccomp 0", "control group", "processes visible", "ids", "network interfaces", "127.0.0.1"):
        assert any(expected in item for item in found), expected
    assert any("tcp socket" in item for item in found) and any("/tmp/zygote/socket" in item for item in found)
