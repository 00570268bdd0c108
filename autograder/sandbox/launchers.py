"""How a grading kernel's process comes to be: plainly, jailed from a cold start, or forked from a zygote.

Every launcher returns a ``Launched``: the process the grader watches (the kernel's
launcher, whose death is the kernel's), how the grader reaches a path of the
kernel's file system, the CPU time the kernel's sandbox has used, and a way to end
the processes the student's code left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import cgroups

HERE = Path(__file__).resolve().parent
JAIL = HERE / "jail.py"
ZYGOTE = HERE / "zygote.py"
TICKS = os.sysconf("SC_CLK_TCK")
# A cold kernel: the notebook's folder goes on the path only once the kernel has started, so a
# student's file cannot stand in for a module the kernel imports while starting.
BOOT = ("import sys; from ipykernel.kernelapp import IPKernelApp; app = IPKernelApp.instance(); "
        "app.initialize(sys.argv[1:]); sys.path.insert(0, ''); app.start()")
# The same for a kernel outside the sandbox, which must end with its grading worker.
BOOT_TIED = ("import ctypes, ctypes.util, os, sys; parent = os.getppid(); "
             "ctypes.CDLL(ctypes.util.find_library('c')).prctl(1, 9, 0, 0, 0); "
             "os.getppid() == parent or os._exit(1); " + BOOT)
KERNEL_ARGS = ["--HistoryManager.enabled=False", "--IPKernelApp.log_level=50"]


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _children(pid: int) -> list[int]:
    return [p for p in _all_pids() if (_stat(p) or ["", "0"])[1] == str(pid)]


def _cpu(pids, children_too: bool = False) -> float:
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children_too else 0)
    return ticks / TICKS


def _is_namespace_init(pid: int) -> bool:
    """Is ``pid`` PID 1 of its own PID namespace (the kernel, in the sandbox)?"""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    return len(ids) > 1 and ids[-1] == "1"
    except OSError:
        pass
    return False


class Launched:
    """A running kernel, seen from the grader."""

    def __init__(self, pid: int, popen: subprocess.Popen | None = None, sandboxed: bool = False,
                 group: cgroups.KernelGroup | None = None, log: Path | None = None):
        self.pid = pid
        self.popen = popen
        self.sandboxed = sandboxed
        self.group = group
        self.log = log
        self._namespace: str | None = None

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return alive(self.pid)

    def path(self, inside: str) -> str:
        """Where the grader finds the kernel's ``inside`` path (through /proc when sandboxed)."""
        return f"/proc/{self.pid}/root{inside}" if self.sandboxed else inside

    def kernel_pid(self) -> int | None:
        if not self.sandboxed:
            return self.pid
        return next((p for p in _children(self.pid) if _is_namespace_init(p)), None)

    def _sandbox_pids(self) -> list[int]:
        """Every process of the kernel's PID namespace, seen from the host."""
        if self.group is not None:
            return self.group.pids()
        kernel = self.kernel_pid()
        if kernel is None:
            return []
        try:
            self._namespace = self._namespace or os.readlink(f"/proc/{kernel}/ns/pid")
        except OSError:
            return []
        found = []
        for pid in _all_pids():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/ns/pid") == self._namespace:
                    found.append(pid)
        return found

    def cpu_seconds(self) -> float:
        """CPU time used by the kernel and everything it started."""
        if self.group is not None:
            return self.group.cpu_seconds()
        if self.sandboxed:
            kernel = self.kernel_pid()
            others = [p for p in self._sandbox_pids() if p != kernel]
            return (_cpu([kernel], children_too=True) if kernel else 0.0) + _cpu(others)
        return _cpu([self.pid], children_too=True) + _cpu(_children(self.pid))

    def reap(self) -> int:
        """Kill every process of the sandbox except the kernel and its launcher."""
        if not self.sandboxed:
            return 0
        kernel = self.kernel_pid()
        strays = [p for p in self._sandbox_pids()
                  if p not in (kernel, self.pid) and alive(p) and not _is_namespace_init(p)]
        for pid in strays:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return len(strays)

    def failure(self) -> str:
        """Why the sandbox could not start the kernel, as its launcher said (empty if unknown)."""
        if self.log is None:
            return ""
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if "sandbox:" in line]
        except OSError:
            return ""
        return lines[-1].split("sandbox:", 1)[1].strip()[:300] if lines else ""

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.popen is not None:
                os.killpg(self.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=10)
            else:
                os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while alive(self.pid) and time.monotonic() < deadline:
                    time.sleep(0.01)
        if self.group is not None:
            self.group.remove()
            self.group = None


class PlainLauncher:
    """Kernels as plain processes of the grader's user, WITHOUT isolation (``--no-sandbox``)."""

    sandboxed = False

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self._runtimes: list[Path] = []

    def runtime_dir(self) -> str:
        path = Path(tempfile.mkdtemp(prefix="kernel-", dir=self.scratch))
        path.chmod(0o700)
        self._runtimes.append(path)
        return str(path)

    def connection_file(self, connection: dict) -> str:
        path = Path(connection["ip"]).parent / "kernel.json"
        path.write_text(json.dumps(connection))
        return str(path)

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        command = [sys.executable, "-I", "-B", "-c", BOOT_TIED, "-f", self.connection_file(connection), *KERNEL_ARGS]
        popen = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        return Launched(popen.pid, popen)

    def close(self) -> None:
        for path in self._runtimes:
            with contextlib.suppress(OSError):
                for child in path.iterdir():
                    child.unlink()
                path.rmdir()
        self._runtimes.clear()


class JailLauncher:
    """Kernels confined by ``jail.py``: fresh namespaces, a private root, limits, a control group."""

    sandboxed = True

    def __init__(self, scratch: Path, limits: dict, uid: int | None, read_only: list[str]):
        self.scratch = scratch
        self.limits = limits
        self.uid = uid
        self.read_only = read_only
        self.rootless = os.geteuid() != 0
        self.use_cgroups = cgroups.available() is None
        self.log = scratch / "sandbox.log"
        self._count = 0

    def runtime_dir(self) -> str:
        return f"/run/autograder-{secrets.token_hex(6)}"

    def connection_file(self, connection: dict) -> str:
        return str(Path(connection["ip"]).parent / "kernel.json")

    def config(self, connection: dict, workdir: Path, env: dict) -> tuple[dict, cgroups.KernelGroup | None]:
        self._count += 1
        root = self.scratch / f"root-{self._count}"
        root.mkdir(exist_ok=True)
        group = None
        if self.use_cgroups:
            memory = self.limits["memory_mb"] + self.limits["disk_mb"] + 2 * self.limits["tmp_mb"] + 64
            group = cgroups.KernelGroup(f"{os.getpid()}-{secrets.token_hex(4)}", self.limits["processes"], memory)
        runtime = str(Path(connection["ip"]).parent)
        return {"root": str(root), "workdir": str(workdir), "runtime": runtime, "connection": connection,
                "connection_file": self.connection_file(connection), "read_only": self.read_only,
                "limits": self.limits, "uid": self.uid, "rootless": self.rootless, "env": env,
                "cgroup_procs": group.procs_files() if group else []}, group

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        config, group = self.config(connection, workdir, env)
        command = [sys.executable, "-I", str(JAIL), json.dumps(config), "--",  # the jail dies with this worker
                   sys.executable, "-I", "-B", "-c", BOOT, "-f", config["connection_file"], *KERNEL_ARGS]
        with self.log.open("a") as log:
            popen = subprocess.Popen(command, cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=log, start_new_session=True)
        return Launched(popen.pid, popen, sandboxed=True, group=group, log=self.log)

    def close(self) -> None:
        for root in self.scratch.glob("root-*"):
            with contextlib.suppress(OSError):
                root.rmdir()


class ZygoteLauncher:
    """Forks kernels from this worker's zygote, which imported the heavy libraries once.

    The zygote starts on first use and lives as long as the worker (it dies with it).
    It runs the same confinement as ``launcher`` (a JailLauncher or a PlainLauncher).
    If it cannot be had, kernels are started by ``launcher`` itself instead.
    """

    _process: subprocess.Popen | None = None

    def __init__(self, launcher):
        self.launcher = launcher
        self.sandboxed = launcher.sandboxed

    def runtime_dir(self) -> str:
        return self.launcher.runtime_dir()

    @classmethod
    def _zygote(cls, scratch: Path, env: dict) -> subprocess.Popen | None:
        if cls._process is not None and cls._process.poll() is None:
            return cls._process
        log = (scratch.parent / "zygote.log").open("a")
        process = subprocess.Popen([sys.executable, "-I", "-B", str(ZYGOTE)], env=env, cwd="/",  # dies with us
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        log.close()
        ready = process.stdout.readline()
        if '"ready"' not in ready:
            process.kill()
            return None
        cls._process = process
        return process

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        zygote = self._zygote(self.launcher.scratch, env)
        if zygote is None:
            return self.launcher.launch(connection, workdir, env)
        group = None
        if self.sandboxed:
            config, group = self.launcher.config(connection, workdir, env)
            connection_file = config["connection_file"]
        else:
            config, connection_file = None, self.launcher.connection_file(connection)
        request = {"connection_file": connection_file, "workdir": str(workdir), "env": env, "jail": config}
        try:
            zygote.stdin.write(json.dumps(request) + "\n")
            answer = json.loads(zygote.stdout.readline() or "{}")
        except (OSError, ValueError):
            answer = {}
        if "pid" not in answer:
            if group is not None:
                group.remove()
            return self.launcher.launch(connection, workdir, env)
        return Launched(int(answer["pid"]), sandboxed=self.sandboxed, group=group,
                        log=self.launcher.scratch.parent / "zygote.log")

    def close(self) -> None:
        self.launcher.close()
