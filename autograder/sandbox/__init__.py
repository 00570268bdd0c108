"""Where grading kernels run: their environment and, on Linux, their isolation.

With the sandbox on (the default), each kernel is confined by ``jail.py``: fresh
namespaces (a user namespace too when the grader is not root), no network, a file
system holding only the system, Python and the submission's own files, no
capability, a seccomp filter, resource limits, an unprivileged uid, and, where the
machine has them, a control group bounding the submission's processes, CPU share
and memory as a whole (rootless, without one, the kernel may start no process: its
address space is the bound). ``probe_sandbox`` proves it on a real kernel before
anyone is graded. See docs/design.md, "The sandbox", for what it guarantees and what not.

Modules: ``jail`` (confinement, one ``confine``), ``zygote`` (warm kernels),
``launchers`` (how a kernel process comes to be), ``kernel`` (executing code in it),
``outputs`` (what it displays, bounded and safe), ``cgroups`` (control groups).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import platform
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from ..context import worker
from . import cgroups
from .kernel import Execution, GradingKernel
from .launchers import JailLauncher, PlainLauncher, ZygoteLauncher
from .outputs import NotebookBudget

# As root, each kernel runs as a uid drawn from these, which no account on the machine uses.
UNPRIVILEGED_UIDS = range(600_000, 1_600_000)
PING = "\x00autograder-ping"

__all__ = [
    "Execution",
    "GradingKernel",
    "NotebookBudget",
    "SandboxLimits",
    "SandboxUnavailable",
    "kernel_factory",
    "probe_sandbox",
    "scratch_dir",
]


@dataclasses.dataclass
class SandboxLimits:
    memory_mb: int = 2048  # address space of one process
    cpu_seconds: int = 300  # CPU time of one process
    processes: int = 32  # processes and threads of the whole submission (an idle kernel has about 12)
    disk_mb: int = 256  # the submission's working directory
    tmp_mb: int = 64  # /tmp and /dev/shm


class SandboxUnavailable(Exception):
    """Isolation cannot be had; the message names what is missing.

    ``unsupported``: this machine cannot have it at all (not Linux, an unknown architecture,
    user namespaces refused to ordinary users), as opposed to a kernel that failed to start
    this time, which giving up the sandbox would not be the answer to.
    """

    def __init__(self, message: str, unsupported: bool = False):
        super().__init__(message)
        self.unsupported = unsupported


def kernel_environment(workdir: Path) -> dict:
    """A small, explicit environment: no instructor secrets, single-threaded BLAS."""
    keep = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "IPYTHONDIR": str(workdir / ".ipython"),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(workdir / ".matplotlib"),
            "NBGRADER_EXECUTION": "autograde",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the debugger's start-up warning, which nobody reads here
        }
    )
    return env


def read_only_paths() -> list[str]:
    """What the kernel must read: the Python installation and the virtual environment."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(p for p in paths if not any(p.startswith(s) for s in ("/usr", "/lib", "/bin")))


def _lock(path: Path) -> int | None:
    """An exclusive lock on the folder ``path``, held until the descriptor is closed (or the process ends)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _private_base() -> Path:
    """``$TMPDIR/autograder-<uid>``, the folder of every grader of this user, if it is that user's own: a real
    folder (no link), owned by the user, that nobody else may enter. Another account can make that name
    first in a shared /tmp (a link, a file, a folder of its own): then this process uses a private folder of
    a name nobody can guess, and what graders left in the usual one is left alone."""
    base = Path(tempfile.gettempdir()) / f"autograder-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700)
    try:
        info = os.lstat(base)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return base
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix=f"autograder-{os.getuid()}-"))


def _private_bases_left() -> list[Path]:
    """Private folders (``_private_base``'s second choice) of this user older than a minute: what graders that
    are gone left in them is removed like the rest, and the folder with it."""
    found = []
    for folder in Path(tempfile.gettempdir()).glob(f"autograder-{os.getuid()}-*"):
        with contextlib.suppress(OSError):
            info = os.lstat(folder)
            if (
                stat.S_ISDIR(info.st_mode)
                and info.st_uid == os.getuid()
                and not info.st_mode & 0o077
                and time.time() - info.st_mtime > 60
            ):
                found.append(folder)
    return found


def scratch_dir() -> Path:
    """This process's own scratch folder; those of processes that are gone are removed on first use.

    The folder is locked by its process for as long as it lives, so the folders left by
    graders that are gone are told apart from live ones by the lock, not by a pid (which
    another PID namespace would not see, or would see belonging to someone else).
    """
    state = worker()
    if state.scratch is None or not state.scratch.is_dir():
        base = _private_base()
        for folder in [base, *_private_bases_left()]:
            for old in folder.iterdir():
                if old.is_dir() and not old.is_symlink() and old != state.scratch:
                    lock = _lock(old)
                    if lock is not None:
                        shutil.rmtree(old, ignore_errors=True)
                        os.close(lock)
            if folder != base:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # a live grader's holds its locked folder: not empty, left alone
        for legacy in Path(tempfile.gettempdir()).glob("autograder-kernel-*"):  # links of graders before the relay
            if legacy.is_dir() and not legacy.is_symlink() and legacy.lstat().st_uid == os.getuid():
                shutil.rmtree(legacy, ignore_errors=True)
        with contextlib.suppress(OSError):
            cgroups.remove_stale()
        if state.scratch_lock is not None:
            os.close(state.scratch_lock)
        while True:
            folder = Path(tempfile.mkdtemp(prefix="run-", dir=base))  # no pid: kernels see paths below it
            state.scratch_lock = _lock(folder)
            if state.scratch_lock is not None:
                break
        state.scratch = folder
    return state.scratch


def check() -> None:
    """Raise SandboxUnavailable if this machine cannot run the sandbox at all (before trying a kernel)."""
    if platform.system() != "Linux":
        raise SandboxUnavailable(f"the sandbox needs Linux namespaces; this is {platform.system()}", unsupported=True)
    if platform.machine() not in ("x86_64", "aarch64"):
        raise SandboxUnavailable(
            f"the sandbox's system-call filter knows x86_64 and aarch64, not {platform.machine()}", unsupported=True
        )


def kernel_factory(workdir: Path, limits: SandboxLimits | None, warm: bool = True):
    """A callable that makes the kernel for one submission (sandboxed within ``limits``; None: not sandboxed).

    ``warm``: fork kernels from a zygote that has already imported the heavy libraries.
    """
    env = kernel_environment(workdir)
    scratch = Path(tempfile.mkdtemp(prefix="kernel-", dir=scratch_dir()))
    if limits is None:
        launcher = PlainLauncher(scratch)
    else:
        check()
        uids = UNPRIVILEGED_UIDS if os.geteuid() == 0 else None
        launcher = JailLauncher(scratch, dataclasses.asdict(limits), uids, read_only_paths())
    if warm:
        launcher = ZygoteLauncher(launcher)
    budget = NotebookBudget()
    return lambda: GradingKernel(workdir, launcher, env, budget=budget)


def probe_sandbox(limits: SandboxLimits | None, warm: bool = True) -> None:
    """Start one real grading kernel as submissions will get it and check that it answers.

    Raises SandboxUnavailable saying what failed. Run before anyone is graded, on the
    workers themselves, so a machine where kernels cannot start grades nobody.
    """
    try:
        check()
    except SandboxUnavailable:
        if limits is not None:
            raise
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-check-", dir=scratch_dir()))
    kernel = None
    try:
        kernel = kernel_factory(workdir, limits, warm)()
        try:
            kernel.start()
        except Exception as error:  # noqa: BLE001 - whatever stops the kernel is what is missing
            unsupported = "user namespaces" in str(error)
            raise SandboxUnavailable(
                f"a sandboxed grading kernel does not start on this machine ({error})", unsupported
            ) from None
        execution = kernel.execute(
            f"print(6 * 7, input({PING!r}))", 30, on_input=lambda prompt: "pong" if prompt == PING else ""
        )
        text = "".join(o.get("text", "") for o in execution.outputs)
        if execution.status != "ok" or "42 pong" not in text:
            raise SandboxUnavailable(
                f"a sandboxed grading kernel started but does not run code "
                f"({execution.status}: {execution.ename} {execution.evalue} {text[:200]})"
            )
    finally:
        if kernel is not None:
            kernel.close()
        shutil.rmtree(workdir, ignore_errors=True)
