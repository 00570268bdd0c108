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
BOOT = (
    "import sys; from ipykernel.kernelapp import IPKernelApp; app = IPKernelApp.instance(); "
    "app.initialize(sys.argv[1:]); sys.path.insert(0, ''); app.start()"
)
# The same for a kernel outside the sandbox, which must end with its grading worker.
BOOT_TIED = (
    "import ctypes, ctypes.util, os, sys; parent = os.getppid(); "
    "ctypes.CDLL(ctypes.util.find_library('c')).prctl(1, 9, 0, 0, 0); "
    "os.getppid() == parent or os._exit(1); " + BOOT
)
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

    def __init__(
        self,
        pid: int,
        popen: subprocess.Popen | None = None,
        sandboxed: bool = False,
        group: cgroups.KernelGroup | None = None,
        log: Path | None = None,
    ):
        self.pid = pid
        self.popen = popen
        self.sandboxed = sandboxed
        self.group = group
        self.log = log
        self._namespace: str | None = None
        self._kernel: int | None = None

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return alive(self.pid)

    def path(self, inside: str) -> str:
        """Where the grader finds the kernel's ``inside`` path (through /proc when sandboxed)."""
        return f"/proc/{self.pid}/root{inside}" if self.sandboxed else inside

    def kernel_pid(self) -> int | None:
        """The kernel's pid on the host (PID 1 of the sandbox's namespace), found once."""
        if not self.sandboxed:
            return self.pid
        if self._kernel is None or not alive(self._kernel):
            candidates = self.group.pids() if self.group is not None else _children(self.pid)
            self._kernel = next((p for p in candidates if _is_namespace_init(p)), None)
        return self._kernel

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
        if self.group is not None:
            pids = self.group.pids()
            if len(pids) <= 2:  # the launcher and the kernel: the common case, decided without /proc
                return 0
        else:
            pids = self._sandbox_pids()
        strays = [p for p in pids if p not in (kernel, self.pid) and alive(p) and not _is_namespace_init(p)]
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
        popen = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
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
        return {
            "root": str(root),
            "workdir": str(workdir),
            "runtime": runtime,
            "connection": connection,
            "connection_file": self.connection_file(connection),
            "read_only": self.read_only,
            "limits": self.limits,
            "uid": self.uid,
            "rootless": self.rootless,
            "env": env,
            "cgroup_procs": group.procs_files() if group else [],
        }, group

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        config, group = self.config(connection, workdir, env)
        command = [
            sys.executable,
            "-I",
            str(JAIL),
            json.dumps(config),
            "--",  # the jail dies with this worker
            sys.executable,
            "-I",
            "-B",
            "-c",
            BOOT,
            "-f",
            config["connection_file"],
            *KERNEL_ARGS,
        ]
        with self.log.open("a") as log:
            popen = subprocess.Popen(
                command,
                cwd="/",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        return Launched(popen.pid, popen, sandboxed=True, group=group, log=self.log)

    def close(self) -> None:
        for root in self.scratch.glob("root-*"):
            with contextlib.suppress(OSError):
                root.rmdir()


class ZygoteServer:
    """The grading run's zygote, shared by all its local workers over a Unix socket (started by the grader)."""

    def __init__(self, scratch: Path):
        from . import kernel_environment

        self.path = str(Path(tempfile.mkdtemp(prefix="zygote-", dir=scratch)) / "socket")  # one per run
        self.log = scratch / "zygote.log"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(ZYGOTE), "--listen", self.path],
                env=kernel_environment(scratch),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # workers wait for the socket, not for its "ready" line
                stderr=log,
            )

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class ZygoteLauncher:
    """Forks kernels from a zygote, which imported the heavy libraries once.

    The zygote is the grading run's shared one when the worker was told its socket
    (``use_shared``), else a private one this worker starts on first use and which
    lives as long as the worker. Either runs the same confinement as ``launcher`` (a
    JailLauncher or a PlainLauncher); if none can be had, ``launcher`` starts the
    kernels itself.
    """

    _process: subprocess.Popen | None = None
    _ready = False
    _socket_path: str | None = None
    _socket = None
    _log: Path | None = None

    def __init__(self, launcher):
        self.launcher = launcher
        self.sandboxed = launcher.sandboxed

    def runtime_dir(self) -> str:
        return self.launcher.runtime_dir()

    @classmethod
    def use_shared(cls, path: str, log: Path) -> None:
        cls._socket_path, cls._log = path, log

    @classmethod
    def start(cls) -> None:
        """Start this worker's private zygote, without waiting for it to import its libraries."""
        if cls._socket_path is not None or (cls._process is not None and cls._process.poll() is None):
            return
        from . import kernel_environment, scratch_dir

        scratch = scratch_dir()
        cls._log = scratch / "zygote.log"
        with cls._log.open("a") as log:
            cls._process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(ZYGOTE)],  # it dies with us
                env=kernel_environment(scratch),
                cwd="/",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                bufsize=1,
            )
        cls._ready = False

    @classmethod
    def _request(cls, request: dict) -> dict:
        """Ask the zygote for a kernel: {"pid": N}, or {} when there is no zygote to ask."""
        line = json.dumps(request) + "\n"
        try:
            if cls._socket_path is not None:
                if cls._socket is None:
                    cls._socket = cls._connect(cls._socket_path)
                    cls._reader = cls._socket.makefile("r")
                cls._socket.sendall(line.encode())
                return json.loads(cls._reader.readline() or "{}")
            zygote = cls._zygote()
            if zygote is None:
                return {}
            zygote.stdin.write(line)
            return json.loads(zygote.stdout.readline() or "{}")
        except (OSError, ValueError):
            if cls._socket_path is not None:  # the shared zygote cannot be had: a private one from now on
                cls._socket_path = cls._socket = None
                return cls._request(request)
            return {}

    @staticmethod
    def _connect(path: str, patience: float = 60.0):
        """Connect to the shared zygote, which listens once it has imported its libraries."""
        import socket

        deadline = time.monotonic() + patience
        while True:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(path)
                return connection
            except OSError:
                connection.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @classmethod
    def _zygote(cls) -> subprocess.Popen | None:
        if cls._process is None or cls._process.poll() is not None:
            cls.start()
        if not cls._ready:
            if '"ready"' not in cls._process.stdout.readline():
                cls._process.kill()
                cls._process = None
                return None
            cls._ready = True
        return cls._process

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        group = None
        if self.sandboxed:
            config, group = self.launcher.config(connection, workdir, env)
            connection_file = config["connection_file"]
        else:
            config, connection_file = None, self.launcher.connection_file(connection)
        request = {"connection_file": connection_file, "workdir": str(workdir), "env": env, "jail": config}
        answer = self._request(request)
        if "pid" not in answer:
            if group is not None:
                group.remove()
            return self.launcher.launch(connection, workdir, env)
        return Launched(int(answer["pid"]), sandboxed=self.sandboxed, group=group, log=self._log)

    def close(self) -> None:
        self.launcher.close()
