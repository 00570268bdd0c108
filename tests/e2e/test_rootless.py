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
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT
from autograder.sandbox import SandboxLimits, kernel_environment, read_only_paths
from autograder.sandbox.jail import TMPFS_INODES
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from .. import crafted, kernel_view
from ..conftest import ROOT, TOTAL, sandbox_leftovers, score, shown
from ..users import USER, ensure_user

SANDBOX = ROOT / "autograder" / "sandbox"

ATTACK = r"""
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
print("unshare-call", libc.unshare(0x10000000 | 0x00020000), ctypes.get_errno())
print("mount-call", libc.mount(b"none", sys.prefix.encode(), None, 32 | 4096, None), ctypes.get_errno())
site = [p for p in sys.path if p.endswith("site-packages")][0]
for command in (["mount", "-o", "remount,rw", sys.prefix], ["unshare", "-r", "true"],
                ["unshare", "-rm", "sh", "-c", "mount -o remount,rw " + sys.prefix]):
    try:
        print("exit status", subprocess.run(command, capture_output=True).returncode)
    except OSError as error:  # rootless, the kernel starts no process
        print("not started", error.errno)
try:
    with open(os.path.join(site, "zz-planted.pth"), "w") as handle:
        handle.write("import os; os.system('touch /tmp/planted-by-a-student')\n")
    print("PLANTED")
except OSError as error:
    print("blocked:", error)
"""


# Without a control group, only the kernel's parent-death signal and the grader's pidfd end it: try to keep it alive.
OUTLIVE = r"""
import ctypes, subprocess, threading, time
libc = ctypes.CDLL(None, use_errno=True)
print("clear pdeathsig", libc.prctl(1, 0, 0, 0, 0), ctypes.get_errno())
threading.Thread(target=time.sleep, args=(778877,)).start()
try:
    subprocess.Popen(["sh", "-c", "sleep 778877"], start_new_session=True)
except OSError as error:  # rootless, the kernel starts no process
    print("not started", error.errno)
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
    inspector = fill_answers(release, answers)
    inspector.cells.insert(3, nbformat.v4.new_code_cell(kernel_view.OBSERVE, id="observe"))
    write_submission(inspector, course, "inspector", ASSIGNMENT)
    outliver = fill_answers(release, answers)
    outliver.cells.insert(3, nbformat.v4.new_code_cell(OUTLIVE, id="outlive"))
    write_submission(outliver, course, "outliver", ASSIGNMENT)
    env = ["env", f"PATH={Path(sys.executable).parent}:/usr/bin:/bin", "TMPDIR=/tmp"]
    uid = os.getuid()
    if os.geteuid() == 0:
        user = ensure_user()
        uid = user.pw_uid
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

    as_user.uid = uid
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
    assert {s: r["total"] for s, r in rows.items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
        "mallory": shown(TOTAL),
        "inspector": shown(TOTAL),
        "outliver": shown(TOTAL),
    }
    assert {r["sandboxed"] for r in rows.values()} == {"yes"}
    notebook = nbformat.read(course / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    attack = next(cell for cell in notebook.cells if cell.get("id") == "remount-and-plant")
    printed = "".join(output.get("text", "") for output in attack.outputs)
    assert "blocked: [Errno 30] Read-only file system" in printed and "PLANTED" not in printed
    assert "unshare-call -1 1" in printed and "mount-call -1 1" in printed  # EPERM
    assert printed.count("not started 1") == 3, printed
    assert not any((Path(p) / "zz-planted.pth").exists() for p in sys.path if p.endswith("site-packages"))
    assert not Path("/tmp/planted-by-a-student").exists()


def test_without_user_namespaces_grading_stops_and_says_what_is_missing(setup):
    """Where ordinary users may not create user namespaces (a sysctl, AppArmor): exit 2, nothing recorded."""
    course, as_user = setup
    refuse = (  # a filter that refuses unshare() alone, as a machine without user namespaces for users does
        "import ctypes, platform, runpy, struct, sys; sys.path.insert(0, sys.argv.pop(1)); import jail; "
        "table = jail.SYSCALLS[platform.machine()]; op = lambda code, k, jt=0, jf=0: struct.pack('HBBI', code, jt, jf, k); "
        "program = b''.join([op(0x20, 0), op(0x15, table['unshare'], 0, 1), op(0x06, 0x00050001), op(0x06, 0x7FFF0000)]); "
        "buffer = ctypes.create_string_buffer(program, len(program)); "
        "fprog = struct.pack('HxxxxxxP', len(program) // 8, ctypes.addressof(buffer)); "
        "jail._check(jail._libc.prctl(jail.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'nnp'); "
        "jail._check(jail._libc.prctl(jail.PR_SET_SECCOMP, 2, ctypes.c_char_p(fprog), 0, 0), 'seccomp'); "
        "sys.argv[0] = 'autograder'; runpy.run_module('autograder', run_name='__main__')"
    )
    fresh = course.parent / "fresh"
    as_user("cp", "-r", str(course), str(fresh))
    as_user("rm", "-rf", str(fresh / "gradebook.db"), str(fresh / "autograded"))
    result = as_user(sys.executable, "-c", refuse, str(SANDBOX), "grade", "--course", str(fresh))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "does not let ordinary users create user namespaces" in result.stdout
    assert not (fresh / "gradebook.db").exists()


def _observed(course) -> dict:
    path = course / "autograded" / "inspector" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.get("id") == "observe")
    return kernel_view.parse("".join(o.get("text", "") for o in cell.outputs))


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_rootless_kernel_sees_only_what_is_on_the_allowlist_and_nothing_outlives_it(setup, warm):
    course, as_user = setup
    fresh = course.parent / f"view-{'warm' if warm else 'cold'}"
    as_user("cp", "-r", str(course), str(fresh))
    as_user("rm", "-rf", str(fresh / "gradebook.db"), str(fresh / "autograded"), str(fresh / ".autograder"))
    options = [] if warm else ["--cold-kernels"]
    result = as_user(
        sys.executable,
        "-m",
        "autograder",
        "grade",
        "--course",
        str(fresh),
        "--student",
        "inspector",
        "--student",
        "outliver",
        *options,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    allowed_env = set(kernel_environment(Path("/")))
    assert kernel_view.violations(_observed(fresh), True, allowed_env, read_only_paths()) == []
    notebook = nbformat.read(fresh / "autograded" / "outliver" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells if c.get("id") == "outlive" for o in c.outputs)
    assert "clear pdeathsig -1 1" in printed and "not started 1" in printed
    assert subprocess.run(["pgrep", "-f", "sleep 778877"], capture_output=True).stdout == b""
    assert [leftover for leftover in sandbox_leftovers() if leftover.startswith("process")] == []


class PeakMemory(threading.Thread):
    """The most memory the processes of one sandbox held at once: resident sizes summed per PID namespace (each
    kernel is PID 1 of its own), sampled every 50 ms over the processes of ``uid`` outside the grader's namespace;
    and the most threads one sandbox ran."""

    def __init__(self, uid: int):
        super().__init__(daemon=True)
        self.uid, self.done = uid, threading.Event()
        self.sandboxes: dict[str, tuple[int, int]] = {}  # PID namespace -> (most bytes, most threads)
        self.ours = os.readlink("/proc/self/ns/pid")

    def run(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.done.is_set():
            held: dict[str, list[int]] = {}
            for entry in os.listdir("/proc"):
                try:
                    if not entry.isdigit() or os.stat(f"/proc/{entry}").st_uid != self.uid:
                        continue
                    namespace = os.readlink(f"/proc/{entry}/ns/pid")
                    with open(f"/proc/{entry}/statm") as handle:
                        resident = int(handle.read().split()[1]) * page
                    threads = len(os.listdir(f"/proc/{entry}/task"))
                except (OSError, IndexError, ValueError):
                    continue  # ended meanwhile
                if namespace != self.ours:
                    total = held.setdefault(namespace, [0, 0])
                    total[0] += resident
                    total[1] += threads
            for namespace, (memory, threads) in held.items():
                before = self.sandboxes.get(namespace, (0, 0))
                self.sandboxes[namespace] = (max(before[0], memory), max(before[1], threads))
            time.sleep(0.05)

    @property
    def peak(self) -> int:
        return max((memory for memory, _ in self.sandboxes.values()), default=0)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


def test_a_submission_holds_no_more_memory_than_one_process_may(setup):
    """Rootless, no control group sums a submission's processes: do three children of 1.5 GiB fail to start, and
    with them every other way past one process's address space, so the student gets an error verdict for the
    function that tried, and the others in the run their exact scores?"""
    course, as_user = setup
    hoard = course.parent / "hoard"
    as_user("cp", "-r", str(course), str(hoard))
    as_user("rm", "-rf", str(hoard / "gradebook.db"), str(hoard / "autograded"), str(hoard / ".autograder"))
    for student in ("mallory", "inspector", "outliver"):
        as_user("rm", "-rf", str(hoard / "submitted" / student))
    release, answers = course_notebooks()
    hoarder = fill_answers(
        release,
        dict(
            answers,
            predict=answers["predict"].replace("    predictions =", crafted.HOARD_IN_CHILDREN + "    predictions =", 1),
        ),
    )
    hoarder.cells.insert(3, nbformat.v4.new_code_cell(crafted.HOARD_ELSEWHERE, id="hoard-elsewhere"))
    staged = course.parent / "hoarder.ipynb"
    nbformat.write(hoarder, staged)
    staged.chmod(0o644)
    folder = hoard / "submitted" / "hoarder" / ASSIGNMENT
    as_user("mkdir", "-p", str(folder))
    as_user("cp", str(staged), str(folder / f"{ASSIGNMENT}.ipynb"))
    with PeakMemory(as_user.uid) as memory:
        result = as_user(sys.executable, "-m", "autograder", "grade", "--course", str(hoard), "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    notebook = nbformat.read(hoard / "autograded" / "hoarder" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    texts = {c.get("id"): "".join(o.get("text", "") for o in c.get("outputs", [])) for c in notebook.cells}
    print("each sandbox's peak (MiB, threads):", sorted((m >> 20, t) for m, t in memory.sandboxes.values()))
    print("the hoarder tried:", texts["hoard-elsewhere"])
    assert len(memory.sandboxes) >= 3  # alice's, bob's and the hoarder's kernels were seen
    assert memory.peak < SandboxLimits.memory_mb * 2**20, f"{memory.peak / 2**20:.0f} MiB"
    printed = dict(line.split(" ", 1) for line in texts["hoard-elsewhere"].splitlines())
    for name in ("fork", "posix_spawn", "shmget", "semget", "msgget", "memfd_create"):
        assert printed.get(name) == "-1 1", (name, printed)  # EPERM
    assert int(printed["files"]) < TMPFS_INODES, printed
    assert int(printed["threads"]) <= 1, printed  # 1.5 GiB each, one address space
    with (hoard / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: r["total"] for s, r in rows.items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
        "hoarder": shown(score("predict")),
    }
    assert rows["hoarder"]["predict"] == "0" and "not graded" not in rows["hoarder"]["status"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{hoard / 'gradebook.db'}") as gradebook:
        graded = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "hoarder")
        verdict = next(c.auto_comment for c in graded.comments if "predict" in c.cell.name)
    print("predict's verdict:", verdict)
    assert "PermissionError" in verdict, verdict
