"""The sandbox holds: no privileges inside, no effect on neighbours, nothing left behind.

Each test tries the attack for real, on real grading kernels.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import ASSIGNMENT
from autograder.classes.synthetic import course_notebooks, fill_answers, new_course, write_submission
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.sandbox import SandboxLimits, kernel_factory, scratch_dir
from autograder.sandbox.jail import seccomp_program
from autograder.settings import Limits, Settings

PRIVILEGES = r"""
import ctypes, os, subprocess, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print("caps", status["CapEff"].strip(), status["CapPrm"].strip(), status["CapBnd"].strip())
print("nnp", status["NoNewPrivs"].strip(), "seccomp", status["Seccomp"].strip())
libc = ctypes.CDLL(None, use_errno=True)
print("unshare-user", libc.unshare(0x10000000), ctypes.get_errno())
print("unshare-mount", libc.unshare(0x00020000), ctypes.get_errno())
print("mount-call", libc.mount(b"none", b"/", None, 32 | 4096, None), ctypes.get_errno())
for command in (["unshare", "-r", "true"], ["mount", "-o", "remount,rw", sys.prefix]):
    print(command[0], subprocess.run(command, capture_output=True).returncode)
try:
    os.setuid(0)
    print("setuid ok")
except OSError as error:
    print("setuid", error.errno)
site = [p for p in sys.path if p.endswith("site-packages")][0]
try:
    open(os.path.join(site, "planted.pth"), "w").write("import os\n")
    print("planted")
except OSError as error:
    print("plant", error.errno)
"""


def run_in_kernel(code, warm=True):
    workdir = Path(tempfile.mkdtemp(dir=scratch_dir()))
    kernel = kernel_factory(workdir, SandboxLimits(), warm)()
    try:
        kernel.start()
        execution = kernel.execute(code, 30)
        return execution.status, "".join(o.get("text", "") for o in execution.outputs)
    finally:
        kernel.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_inside_the_sandbox_there_is_no_privilege_to_use(warm):
    """No capability, no new user or mount namespace, no mounting, no setuid, read-only venv."""
    status, text = run_in_kernel(PRIVILEGES, warm)
    assert status == "ok", text
    lines = dict(line.split(" ", 1) for line in text.strip().splitlines())
    assert lines["caps"] == "0000000000000000 0000000000000000 0000000000000000"
    assert lines["nnp"] == "1 seccomp 2"
    assert lines["unshare-user"] == "-1 1" and lines["unshare-mount"] == "-1 1" and lines["mount-call"] == "-1 1"
    assert lines["unshare"] != "0" and lines["mount"] != "0"
    assert lines["setuid"] == "1"
    assert lines["plant"] in ("30", "13")  # EROFS, or EACCES
    assert not any((Path(p) / "planted.pth").exists() for p in sys.path if p.endswith("site-packages"))


def test_the_system_call_filter_is_built_for_this_machine():
    program = seccomp_program()
    assert len(program) % 8 == 0 and 40 < len(program) // 8 < 200


ATTACK = "import os\nfor _ in range(60):\n    if os.fork() == 0:\n        while True:\n            pass\n"


def test_a_submission_cannot_slow_its_neighbours_into_timeouts(tmp_path):
    """60 busy processes in one submission, and the machine's cores busy too: the others still get 100."""
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    import nbformat

    attacker = fill_answers(release, answers)
    attacker.cells.insert(3, nbformat.v4.new_code_cell(ATTACK, id="busy-loops"))
    write_submission(attacker, course, "attacker", ASSIGNMENT)
    for number in range(4):
        write_submission(fill_answers(release, answers), course, f"neighbour{number}", ASSIGNMENT)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        settings = Settings(
            course_dir=course,
            assignment=ASSIGNMENT,
            db_url=db_url_from_config(course),
            workers=2,
            limits=Limits(cell_timeout=5, submission_timeout=60),
            feedback=False,
        )
        summary = run(settings)
    finally:
        for hog in hogs:
            hog.kill()
    totals = {r.student: r.total for r in summary.results}
    assert totals == {"attacker": 100, **{f"neighbour{n}": 100 for n in range(4)}}, [
        (r.student, r.status, [f.message for f in r.functions if f.score == 0]) for r in summary.results
    ]
    attacker = next(r for r in summary.results if r.student == "attacker")
    assert attacker.status == "timeout in cell busy-loops"  # its own busy loops used up its own CPU time


def test_leftovers_of_dead_graders_are_removed(tmp_path):
    """Are the scratch folders a killed grader left behind removed by the next one?"""
    base = Path(tempfile.gettempdir()) / f"autograder-{os.getuid()}"
    base.mkdir(exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = base / f"{dead.pid}-stale"
    (stale / "root-1").mkdir(parents=True)
    (stale / "zygote.log").write_text("x" * 1000)
    mine = base / f"{os.getpid()}-mine"
    mine.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-c", "from autograder.sandbox import scratch_dir; scratch_dir()"], check=True)
    assert not stale.exists() and mine.exists()
    mine.rmdir()


def test_a_kernel_ends_with_its_sandbox(tmp_path):
    """When the kernel is closed, no process of its sandbox survives."""
    workdir = Path(tempfile.mkdtemp(dir=scratch_dir()))
    kernel = kernel_factory(workdir, SandboxLimits(), True)()
    kernel.start()
    kernel.execute("import subprocess\nsubprocess.Popen(['sleep', '987654'], start_new_session=True)", 10)
    launcher = kernel.process.pid
    kernel.close()
    time.sleep(0.5)
    assert subprocess.run(["pgrep", "-f", "sleep 987654"], capture_output=True).stdout == b""
    assert not Path(f"/proc/{launcher}").exists() or "Z" in Path(f"/proc/{launcher}/stat").read_text().split()[2]
