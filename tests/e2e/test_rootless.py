"""Grading as an ordinary user: the rootless sandbox works, and holds.

As root (CI), the test makes an ordinary user (useradd), gives it a copy of the
course and this checkout's environment (tests/rootless.py), and grades as that
user (runuser). Run by an ordinary user, it grades as that user directly.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT
from autograder.classes.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import ROOT
from ..users import USER, ensure_user

SANDBOX = ROOT / "autograder" / "sandbox"

ATTACK = r"""
import os, subprocess, sys
site = [p for p in sys.path if p.endswith("site-packages")][0]
for command in (["mount", "-o", "remount,rw", sys.prefix], ["unshare", "-r", "true"],
                ["unshare", "-rm", "sh", "-c", "mount -o remount,rw " + sys.prefix]):
    print("exit status", subprocess.run(command, capture_output=True).returncode)
try:
    with open(os.path.join(site, "zz-planted.pth"), "w") as handle:
        handle.write("import os; os.system('touch /tmp/planted-by-a-student')\n")
    print("PLANTED")
except OSError as error:
    print("blocked:", error)
"""


@pytest.fixture(scope="module")
def setup():
    """(course, how to run a command as the ordinary user)."""
    base = Path(tempfile.mkdtemp(prefix="autograder-rootless-"))
    base.chmod(0o755)
    course = new_course(base / "course")
    release, answers = course_notebooks()
    write_submission(fill_answers(release, answers), course, "alice", ASSIGNMENT)
    wrong = dict(answers, backward_propagation=answers["backward_propagation"].replace(" * (1 - A1 ** 2)", ""))
    write_submission(fill_answers(release, wrong), course, "bob", ASSIGNMENT)
    mallory = fill_answers(release, answers)
    mallory.cells.insert(3, nbformat.v4.new_code_cell(ATTACK, id="remount-and-plant"))
    write_submission(mallory, course, "mallory", ASSIGNMENT)
    env = ["env", f"PATH={Path(sys.executable).parent}:/usr/bin:/bin", "TMPDIR=/tmp"]
    if os.geteuid() == 0:
        user = ensure_user()
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(base)], check=True)
        exposed = [sys.prefix, os.path.realpath(sys.base_prefix), str(ROOT)]
        prefix = [
            sys.executable,
            str(ROOT / "tests" / "rootless.py"),
            USER,
            *exposed,
            "--",
            *env,
            f"HOME={user.pw_dir}",
        ]
    else:
        prefix = env

    def as_user(*command, **kwargs):
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=900, cwd=base, **kwargs)

    yield course, as_user
    shutil.rmtree(base, ignore_errors=True)


def test_an_ordinary_user_grades_with_the_sandbox_and_it_holds(setup):
    course, as_user = setup
    whoami = as_user("id", "-u").stdout.strip()
    assert whoami != "0"
    result = as_user(sys.executable, "-m", "autograder", "grade", "--course", str(course), "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: r["total"] for s, r in rows.items()} == {"alice": "100", "bob": "80", "mallory": "100"}
    assert {r["sandboxed"] for r in rows.values()} == {"yes"}
    notebook = nbformat.read(course / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    attack = next(cell for cell in notebook.cells if cell.get("id") == "remount-and-plant")
    printed = "".join(output.get("text", "") for output in attack.outputs)
    assert "blocked: [Errno 30] Read-only file system" in printed and "PLANTED" not in printed
    assert printed.count("exit status") == 3 and "exit status 0" not in printed
    assert not any((Path(p) / "zz-planted.pth").exists() for p in sys.path if p.endswith("site-packages"))
    assert not Path("/tmp/planted-by-a-student").exists()


def test_without_user_namespaces_grading_stops_and_says_what_is_missing(setup):
    """Where ordinary users may not create user namespaces (a sysctl, AppArmor): exit 2, nothing recorded."""
    course, as_user = setup
    refuse = (
        "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); import jail; "
        "jail._check(jail._libc.prctl(jail.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'nnp'); jail.install_seccomp(); "
        "sys.argv[0] = 'autograder'; runpy.run_module('autograder', run_name='__main__')"
    )
    fresh = course.parent / "fresh"
    as_user("cp", "-r", str(course), str(fresh))
    as_user("rm", "-rf", str(fresh / "gradebook.db"), str(fresh / "autograded"))
    result = as_user(sys.executable, "-c", refuse, str(SANDBOX), "grade", "--course", str(fresh))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "does not let ordinary users create user namespaces" in result.stdout
    assert not (fresh / "gradebook.db").exists()
