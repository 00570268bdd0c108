"""How a grading kernel's process comes to be: plainly, jailed from a cold start, or forked from a zygote.

Every launcher returns a ``Launched``: the process the grader watches (the kernel's
launcher, whose death is the kernel's), how the grader reaches a path of the
kernel's file system, the CPU time the kernel's sandbox has used, and a way to end
the processes the student's code left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..context import worker
from . import cgroups, processes

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
    f"import os, sys; parent = os.getppid(); sys.path.insert(0, {str(HERE)!r}); import processes; "
    "sys.path.pop(0); processes.die_with_parent(parent); " + BOOT
)
KERNEL_ARGS = ["--HistoryManager.enabled=False", "--IPKernelApp.log_level=50"]


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


def _cpu(pids, children_too: bool = False) -> float:
    ticks = 0
    for pid in pids:
        fields = processes.stat_fields(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children_too else 0)
    return ticks / TICKS


class Launched:
    """A running kernel, seen from the grader.

    The grader holds a pidfd of the kernel's launcher (from the launcher's parent: the
    zygote, or this process for a cold start), and finds the kernel as the launcher's one
    child, also through a pidfd. Every signal goes through those descriptors or to
    processes proven to be in the sandbox (its control group, its PID namespace): no pid
    read from anything the kernel can write is ever signalled.
    """

    def __init__(
        self,
        pid: int,
        pidfd: int,
        popen: subprocess.Popen | None = None,
        sandboxed: bool = False,
        group: cgroups.KernelGroup | None = None,
        log: Path | None = None,
    ):
        self.pid = pid
        self.pidfd = pidfd
        self.popen = popen
        self.sandboxed = sandboxed
        self.group = group
        self.log = log
        self._namespace: str | None = None
        self._kernel: tuple[int, int] | None = None  # (pid, pidfd) of the kernel

    def alive(self) -> bool:
        return self.pidfd is not None and not processes.exited(self.pidfd)

    def path(self, inside: str) -> str:
        """Where the grader finds the kernel's ``inside`` path (through /proc when sandboxed)."""
        return f"/proc/{self.pid}/root{inside}" if self.sandboxed else inside

    def open_socket(self, inside: str) -> int | None:
        """An O_PATH descriptor of the kernel's socket at ``inside``, None while there is none.

        The kernel owns the folder of its sockets and can put a link where a socket was; a
        link reached through /proc/PID/root resolves against the grader's root, so every
        component is opened without following links, from the sandbox's root down.
        """
        parts = [part for part in inside.split("/") if part]
        try:
            if not self.sandboxed:
                fd = os.open(os.path.dirname(inside) or "/", os.O_PATH | os.O_DIRECTORY)
                parts = parts[-1:]
            else:
                fd = os.open(f"/proc/{self.pid}/root", os.O_PATH | os.O_DIRECTORY)
        except OSError:  # the process has ended (or the folder is not there yet)
            return None
        if self.sandboxed and processes.exited(self.pidfd):  # the pid may name another process by now
            os.close(fd)
            return None
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                inner = os.open(part, os.O_PATH | os.O_NOFOLLOW | (0 if last else os.O_DIRECTORY), dir_fd=fd)
                os.close(fd)
                fd = inner
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
                return None
            return fd
        except OSError:
            os.close(fd)
            return None

    def kernel_pid(self) -> int | None:
        """The kernel's pid on the host (PID 1 of the sandbox's namespace), found once."""
        if not self.sandboxed:
            return self.pid
        if self._kernel is not None and processes.exited(self._kernel[1]):
            processes.close(self._kernel[1])
            self._kernel = None
        if self._kernel is None and self.alive():
            found = processes.child_pidfd(self.pidfd, self.pid)
            if found is not None and _is_namespace_init(found[0]):
                self._kernel = found
            elif found is not None:
                processes.close(found[1])
        return self._kernel[0] if self._kernel else None

    def _in_namespace(self, pid: int) -> bool:
        with contextlib.suppress(OSError):
            return self._namespace is not None and os.readlink(f"/proc/{pid}/ns/pid") == self._namespace
        return False

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
        return [pid for pid in processes.all_pids() if self._in_namespace(pid)]

    def cpu_seconds(self) -> float:
        """CPU time used by the kernel and everything it started."""
        if self.group is not None:
            return self.group.cpu_seconds()
        if self.sandboxed:
            kernel = self.kernel_pid()
            others = [p for p in self._sandbox_pids() if p != kernel]
            return (_cpu([kernel], children_too=True) if kernel else 0.0) + _cpu(others)
        return _cpu([self.pid], children_too=True) + _cpu(processes.children(self.pid))

    def reap(self) -> int:
        """Kill every process of the sandbox except the kernel and its launcher."""
        if not self.sandboxed:
            return 0
        kernel = self.kernel_pid()
        if self.group is not None:
            pids = self.group.pids()
            if len(pids) <= 2:  # the launcher and the kernel: the common case, decided without /proc
                return 0
            belongs = self.group.holds
        else:
            pids = self._sandbox_pids()
            belongs = self._in_namespace
        strays = [p for p in pids if p not in (kernel, self.pid) and not _is_namespace_init(p)]
        return sum(processes.kill_if(pid, belongs) for pid in strays)

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
        """End the whole sandbox: the kernel (PID 1 of its namespace: all it started goes with it), its
        launcher, and what is left in its control group; each wait is bounded."""
        if self._kernel is not None:
            processes.kill(self._kernel[1])
            processes.close(self._kernel[1])
            self._kernel = None
        if self.pidfd is not None:
            processes.end(self.pidfd)
            processes.close(self.pidfd)
            self.pidfd = None
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
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
        return Launched(popen.pid, os.pidfd_open(popen.pid), popen)

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

    def __init__(self, scratch: Path, limits: dict, uids: range | None, read_only: list[str]):
        self.scratch = scratch
        self.limits = limits
        self.uids = uids  # as root: each kernel runs as an unused uid drawn from these (None: rootless)
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
            group = cgroups.KernelGroup(self.limits["processes"], memory)
        runtime = str(Path(connection["ip"]).parent)
        return {
            "root": str(root),
            "workdir": str(workdir),
            "runtime": runtime,
            "connection": connection,
            "connection_file": self.connection_file(connection),
            "read_only": self.read_only,
            "limits": self.limits,
            # drawn, not derived: nothing about the grader (a pid, a worker's number) can be read from it
            "uid": self.uids[secrets.randbelow(len(self.uids))] if self.uids else None,
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
        return Launched(popen.pid, os.pidfd_open(popen.pid), popen, sandboxed=True, group=group, log=self.log)

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
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        shutil.rmtree(Path(self.path).parent, ignore_errors=True)  # its socket's folder: a service opens many

    _early: ZygoteServer | None = None

    @classmethod
    def start_early(cls, argv: list[str]) -> None:
        """For ``grade`` with warm local kernels: start the run's zygote before the grader imports its own
        modules, so its imports (numpy, IPython, scikit-learn: the longest part of starting) use the core the
        grader's imports leave idle. ``Session`` takes it (``take_early``); unused, it ends with the grader."""
        wanted = argv[:1] == ["grade"] and not {"-h", "--help", "--cold-kernels"} & set(argv)
        if not wanted or any(arg.startswith("--scheduler") for arg in argv):
            return
        from . import scratch_dir

        try:
            cls._early = cls(scratch_dir())
        except OSError:  # the run starts its own, and says why it cannot
            return
        atexit.register(cls.take_early_and_close)

    @classmethod
    def take_early(cls) -> ZygoteServer | None:
        early, cls._early = cls._early, None
        return early

    @classmethod
    def take_early_and_close(cls) -> None:
        early = cls.take_early()
        if early is not None:
            early.close()


ZYGOTE_PATIENCE = 60.0  # seconds for a zygote to import its libraries and answer a request


class ZygoteLauncher:
    """Forks kernels from a zygote, which imported the heavy libraries once.

    The zygote is the grading run's shared one when the worker was told its socket
    (``use_shared``), else a private one this worker starts on first use and which
    lives as long as the worker. Either runs the same confinement as ``launcher`` (a
    JailLauncher or a PlainLauncher); if none can be had, ``launcher`` starts the
    kernels itself. Its answers are checked (one JSON object, one pidfd naming the pid
    it gives) and every wait for them is bounded.
    """

    def __init__(self, launcher):
        self.launcher = launcher
        self.sandboxed = launcher.sandboxed

    def runtime_dir(self) -> str:
        return self.launcher.runtime_dir()

    @staticmethod
    def use_shared(path: str, log: Path) -> None:
        zygote = worker().zygote
        zygote.socket_path, zygote.log = path, log

    @staticmethod
    def start() -> None:
        """Start this worker's private zygote, without waiting for it to import its libraries."""
        zygote = worker().zygote
        if zygote.socket_path is not None or (zygote.process is not None and zygote.process.poll() is None):
            return
        from . import kernel_environment, scratch_dir

        scratch = scratch_dir()
        zygote.log = scratch / "zygote.log"
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with zygote.log.open("a") as log, theirs:
            zygote.process = subprocess.Popen(
                [sys.executable, "-I", "-B", str(ZYGOTE), "--fd", str(theirs.fileno())],  # it dies with us
                env=kernel_environment(scratch),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                pass_fds=(theirs.fileno(),),
            )
        ZygoteLauncher._drop_socket()
        zygote.socket = mine

    @staticmethod
    def _drop_socket() -> None:
        zygote = worker().zygote
        if zygote.socket is not None:
            zygote.socket.close()
            zygote.socket = None

    @classmethod
    def _connection(cls) -> socket.socket | None:
        zygote = worker().zygote
        if zygote.socket_path is not None:
            if zygote.socket is None:
                zygote.socket = cls._connect(zygote.socket_path)
            return zygote.socket
        if zygote.process is None or zygote.process.poll() is not None:
            cls.start()
        return zygote.socket

    @classmethod
    def _request(cls, request: dict) -> tuple[int, int] | None:
        """Ask the zygote for a kernel: (launcher pid, its pidfd), or None when no zygote can give one."""
        zygote = worker().zygote
        try:
            connection = cls._connection()
            if connection is None:
                return None
            connection.settimeout(ZYGOTE_PATIENCE)
            connection.sendall(json.dumps(request).encode())
            data, fds, _, _ = socket.recv_fds(connection, 65536, 1)
            return cls._answer(data, fds)
        except (OSError, ValueError):
            cls._drop_socket()
            if zygote.socket_path is not None:  # the shared zygote cannot be had: a private one from now on
                zygote.socket_path = None
                return cls._request(request)
            if zygote.process is not None:
                zygote.process.kill()
                zygote.process = None
            return None

    @staticmethod
    def _answer(data: bytes, fds: list[int]) -> tuple[int, int] | None:
        """The launcher of an answer {"pid": N} that came with a pidfd of N; anything else is refused."""
        try:
            reply = json.loads(data) if data else None
            pid = reply.get("pid") if isinstance(reply, dict) else None
            if len(fds) == 1 and type(pid) is int and pid > 1 and processes.pid_of(fds[0]) == pid:
                return pid, fds.pop()
            if not data:
                raise ValueError("the zygote closed the connection")
            return None
        finally:
            for fd in fds:
                processes.close(fd)

    @staticmethod
    def _connect(path: str, patience: float = ZYGOTE_PATIENCE) -> socket.socket:
        """Connect to the shared zygote, which listens once it has imported its libraries."""
        deadline = time.monotonic() + patience
        while True:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                connection.connect(path)
                return connection
            except OSError:
                connection.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def launch(self, connection: dict, workdir: Path, env: dict) -> Launched:
        group = None
        if self.sandboxed:
            config, group = self.launcher.config(connection, workdir, env)
            connection_file = config["connection_file"]
        else:
            config, connection_file = None, self.launcher.connection_file(connection)
        request = {"connection_file": connection_file, "workdir": str(workdir), "env": env, "jail": config}
        answer = self._request(request)
        if answer is None:
            if group is not None:
                group.remove()
            return self.launcher.launch(connection, workdir, env)
        pid, pidfd = answer
        return Launched(pid, pidfd, sandboxed=self.sandboxed, group=group, log=worker().zygote.log)

    def close(self) -> None:
        self.launcher.close()
