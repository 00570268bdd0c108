"""The sandbox holds: no privileges inside, no effect on neighbours, nothing left behind.

Each test tries the attack for real, on real grading kernels.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import ASSIGNMENT
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.sandbox import SandboxLimits, cgroups, kernel_factory, scratch_dir
from autograder.sandbox.jail import seccomp_program
from autograder.settings import Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

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


@contextlib.contextmanager
def started_kernel(warm=True):
    """A grading kernel in its sandbox, started in a scratch folder; closed and its folder removed after."""
    workdir = Path(tempfile.mkdtemp(dir=scratch_dir()))
    kernel = kernel_factory(workdir, SandboxLimits(), warm)()
    try:
        kernel.start()
        yield kernel
    finally:
        kernel.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run_in_kernel(code, warm=True):
    with started_kernel(warm) as kernel:
        execution = kernel.execute(code, 30)
        return execution.status, "".join(o.get("text", "") for o in execution.outputs)


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


# Busy children (as many as its process limit allows) and a busy parent: the cell can only end by its own CPU time.
ATTACK = "import os\nfor _ in range(60):\n    try:\n        if os.fork() == 0:\n            break\n    except OSError:\n        break\nwhile True:\n    pass\n"


def test_a_submission_cannot_slow_its_neighbours_into_timeouts(tmp_path):
    """Busy processes up to a submission's limit, and the machine's cores busy too: the others still get 100."""
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


LIVE_GRADER = (
    "import sys, time; from autograder.sandbox import cgroups, scratch_dir\n"
    "group = cgroups.KernelGroup(8, 64) if cgroups.available() is None else None\n"
    "print(scratch_dir(), group.name if group else '', flush=True); time.sleep(600)\n"
)
LEFT_BEHIND = (
    "import os, subprocess; from autograder.sandbox import cgroups, scratch_dir\n"
    "group = cgroups.KernelGroup(8, 64)\n"
    "join = ' '.join(group.procs_files())\n"
    "sleeper = subprocess.Popen(['sh', '-c', f'for f in {join}; do echo $$ > $f; done; exec sleep 654321'])\n"
    "while not group.pids(): pass\n"
    "print(scratch_dir(), group.name, flush=True); os.kill(os.getpid(), 9)\n"
)


def _started(code: str, *prefix: str) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen([*prefix, sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split()


def test_leftovers_of_graders_that_are_gone_are_removed_and_a_live_graders_are_not():
    """Are the scratch folders and control groups of a grader killed with SIGKILL removed by the next one, with
    the processes left in them, while those of a live grader in a PID namespace of its own are left alone?"""
    # Another grader, alive, in its own PID namespace: its pids mean nothing here, its locks do.
    namespace = ["unshare", "--pid", "--fork", "--kill-child"] if os.geteuid() == 0 else []
    other, (theirs, their_group) = _started(LIVE_GRADER, *namespace)
    stale = [Path(tempfile.gettempdir()) / f"autograder-{os.getuid()}" / "99999999-killed"]
    stale[0].mkdir(parents=True)
    (stale[0] / "zygote.log").write_text("x" * 1000)
    stale.append(Path(tempfile.mkdtemp(prefix="autograder-kernel-")))  # where graders before the relay kept links
    (stale[-1] / "ipc-1").symlink_to("/proc/self/fd/3")
    stale_group = None
    if cgroups.available() is None:
        killed, (folder, stale_group) = _started(LEFT_BEHIND)
        killed.wait()
        stale.append(Path(folder))
    try:
        subprocess.run([sys.executable, "-c", "from autograder.sandbox import scratch_dir; scratch_dir()"], check=True)
        assert not any(path.exists() for path in stale) and Path(theirs).exists()
        if stale_group is not None:
            names = {p.name for p in cgroups.group_folders()}
            assert stale_group not in names and their_group in names
            assert subprocess.run(["pgrep", "-f", "sleep 654321"], capture_output=True).stdout == b""
    finally:
        other.kill()
        other.wait()
    subprocess.run([sys.executable, "-c", "from autograder.sandbox import scratch_dir; scratch_dir()"], check=True)
    assert not Path(theirs).exists()
    assert their_group not in {p.name for p in cgroups.group_folders()}


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


def test_the_graders_time_answering_a_kernel_counts_against_its_budget():
    """Input requests the grader takes 0.1 s each to answer (as the reference answers stand-ins): a kernel that
    asks 100 of them, using almost no CPU itself, runs out of its 2 s."""
    with started_kernel() as kernel:
        slow = lambda prompt: time.sleep(0.1) or "ok"  # noqa: E731
        result = kernel.execute("for _ in range(100):\n    input('ask')\nprint('done')", 2, on_input=slow)
        assert result.status == "timeout", result
        assert kernel.execute("print('fine')", 5).status == "ok"


class _Laps:
    """Budgets of an execution that does three things in turn: a lap begins at each "next" the code asks."""

    def __init__(self, total, deadline=float("inf")):
        self.total = total
        self.deadline = deadline
        self.asked = 0
        self._turned = False

    def on_input(self, prompt):
        self.asked += 1
        self._turned = prompt == "next"
        return "go"

    def turned(self):
        turned, self._turned = self._turned, False
        return turned


LAPS = """
import time
def busy(seconds):
    began = time.process_time()
    while time.process_time() - began < seconds:
        pass
for _ in range(3):
    busy(0.6)
    input("next")
print("done")
"""


def test_a_probe_of_several_functions_gives_each_its_own_budget_within_the_total():
    """Three laps of 0.6 s of CPU: each within its 1 s, so they run; the same code with one budget of 1 s for all,
    or with a total of 1.5 s, is stopped."""
    with started_kernel() as kernel:
        laps = _Laps(total=10)
        result = kernel.execute(LAPS, 1, on_input=laps.on_input, laps=laps)
        assert (result.status, laps.asked, result.seconds > 1.7) == ("ok", 3, True), result
        one = _Laps(total=10)
        assert kernel.execute(LAPS, 1, on_input=one.on_input).status == "timeout"
        assert one.asked == 1  # stopped in its second lap
        capped = _Laps(total=1.5)
        assert kernel.execute(LAPS, 1, on_input=capped.on_input, laps=capped).status == "timeout"
        assert capped.asked == 2  # stopped in its third lap, past the total


def test_a_probe_of_several_functions_that_only_waits_ends_by_its_deadline():
    """Laps that sleep (no CPU used) each stay within their own wall-clock allowance (3 x 1 s + 20 s), so only
    the deadline of all the laps together stops them: after 3 s, not after the 4 x 2 s they would take."""
    with started_kernel() as kernel:
        laps = _Laps(total=10, deadline=time.monotonic() + 3)
        began = time.monotonic()
        code = "import time\nfor _ in range(4):\n    time.sleep(2)\n    input('next')\n"
        result = kernel.execute(code, 1, on_input=laps.on_input, laps=laps)
        assert result.status == "timeout" and laps.asked == 1 and time.monotonic() - began < 7, result
