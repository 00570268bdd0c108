"""One control group per grading kernel: what a submission may use as a whole.

Limits per process (rlimits) let one submission fork dozens of busy loops; a
control group bounds the submission as a whole: its processes and threads
(``pids.max``), its share of the CPU (at most one core), its memory, and it tells
how much CPU time the submission used, which is what timeouts are judged by, so a
busy neighbour cannot make a correct submission time out.

Both kinds of hierarchy are handled: cgroup v2 (``cpu.max``, ``pids.max``,
``memory.max``, ``cpu.stat``), where the grader works at the root of the unified
hierarchy, and cgroup v1 (``cpu.cfs_quota_us``, ``pids.max``,
``memory.limit_in_bytes``, ``cpuacct.usage``), where each kernel's group is
created below the grader's own group of each controller. Creating groups needs
root; elsewhere ``available()`` says why not and the sandbox falls back to
rlimits and per-process CPU accounting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import time
from pathlib import Path

from . import processes

PARENT = "autograder"
PERIOD_US = 100_000
CONTROLLERS = ("cpu", "cpuacct", "pids", "memory")
LOCK_CONTROLLER = "pids"  # whose folder the owner locks (v1); the one folder under v2


def _mounts() -> tuple[Path | None, dict[str, Path]]:
    """The cgroup2 mount (if it offers controllers) and the v1 mount of each controller."""
    unified, v1 = None, {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount_point, fstype, options = Path(fields[4]), tail[0], tail[2].split(",")
        if fstype == "cgroup2":
            unified = mount_point
        elif fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options:
                    v1.setdefault(controller, mount_point)
    if unified is not None:
        try:
            offered = (unified / "cgroup.controllers").read_text().split()
        except OSError:
            offered = []
        if not {"cpu", "pids", "memory"} <= set(offered):
            unified = None
    return unified, v1


def _own_v1_path(controller: str) -> str:
    """The grader's own group in a v1 hierarchy (kernels' groups nest below it)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path.lstrip("/")
    except (OSError, ValueError):
        pass
    return ""


def available() -> str | None:
    """None when per-kernel control groups can be made here, else why not."""
    if os.geteuid() != 0:
        return "control groups need root (as an ordinary user, processes are bounded per user namespace instead)"
    unified, v1 = _mounts()
    if unified is not None:
        return None
    missing = [c for c in CONTROLLERS if c not in v1]
    if missing:
        return f"this machine mounts no cgroup controller for {', '.join(missing)}"
    return None


class KernelGroup:
    """The control group of one kernel: created before the kernel starts, removed after it ends.

    Its owner holds an exclusive lock (``flock``) on the group's folder from creation to
    removal, so another grader on this machine, whatever PID namespace it runs in, can tell
    a live grader's group from one left behind: it takes the lock only when the owner is gone.
    """

    def __init__(self, processes: int, memory_mb: int, cpus: float = 1.0, name: str | None = None):
        unified, v1 = _mounts()
        self.unified = unified is not None
        for _ in range(10):
            self.name = name or f"k-{secrets.token_hex(6)}"
            if self.unified:
                parent = unified / PARENT
                parent.mkdir(exist_ok=True)
                with contextlib.suppress(OSError):  # enabling is needed once; already on is fine
                    (unified / "cgroup.subtree_control").write_text("+cpu +pids +memory")
                    (parent / "cgroup.subtree_control").write_text("+cpu +pids +memory")
                self.paths = {"all": parent / self.name}
            else:
                self.paths = {c: _v1_parent(v1, c) / self.name for c in CONTROLLERS}
            self._lock = _create_locked(self._path(LOCK_CONTROLLER))
            if self._lock is not None:
                break
        else:
            raise OSError(f"could not create a control group under {self._path(LOCK_CONTROLLER).parent}")
        for path in set(self.paths.values()):
            path.mkdir(parents=True, exist_ok=True)
        self._set("pids", "pids.max", str(processes))
        quota = int(PERIOD_US * cpus)
        if self.unified:
            self._set("cpu", "cpu.max", f"{quota} {PERIOD_US}")
            self._set("memory", "memory.max", str(memory_mb * 2**20))
            with contextlib.suppress(OSError):
                self._set("memory", "memory.swap.max", "0")
        else:
            self._set("cpu", "cpu.cfs_period_us", str(PERIOD_US))
            self._set("cpu", "cpu.cfs_quota_us", str(quota))
            self._set("memory", "memory.limit_in_bytes", str(memory_mb * 2**20))

    def _path(self, controller: str) -> Path:
        return self.paths["all"] if self.unified else self.paths[controller]

    def _set(self, controller: str, name: str, value: str) -> None:
        (self._path(controller) / name).write_text(value)

    def procs_files(self) -> list[str]:
        """The files a process writes its pid into to join every controller's group."""
        return sorted({str(path / "cgroup.procs") for path in self.paths.values()})

    def cpu_seconds(self) -> float:
        """CPU time used by everything in the group so far."""
        try:
            if self.unified:
                for line in (self._path("cpu") / "cpu.stat").read_text().splitlines():
                    key, value = line.split()
                    if key == "usage_usec":
                        return int(value) / 1e6
                return 0.0
            return int((self._path("cpuacct") / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return 0.0

    def pids(self) -> list[int]:
        return _pids(self._path("pids"))

    def holds(self, pid: int) -> bool:
        """Is ``pid`` in this group (as /proc/<pid>/cgroup says)?"""
        return _member(pid, self.name)

    def remove(self) -> None:
        """Kill what is left in the group and remove it (the lock is released last)."""
        _empty_and_remove(list(self.paths.values()), self._path(LOCK_CONTROLLER), self.name)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _v1_parent(v1: dict, controller: str) -> Path:
    return v1[controller] / _own_v1_path(controller) / PARENT


def _create_locked(path: Path) -> int | None:
    """Make ``path`` and hold an exclusive lock on it; None if someone else's cleanup removed it meanwhile."""
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _pids(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _member(pid: int, name: str) -> bool:
    try:
        with open(f"/proc/{pid}/cgroup") as handle:
            return any(line.rstrip("\n").endswith(f"/{PARENT}/{name}") for line in handle)
    except OSError:
        return False


def _empty_and_remove(paths: list[Path], lock_path: Path, name: str) -> None:
    """Kill every process of a group (each proven a member while a pidfd holds it), then remove its
    folders, the locked one last. Bounded: a process that will not die leaves the group in place."""
    for _ in range(100):
        pids = _pids(lock_path)
        if not pids:
            break
        kill_file = lock_path / "cgroup.kill"  # cgroup v2: one write ends them all
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        for pid in pids:
            processes.kill_if(pid, lambda p: _member(p, name))
        time.sleep(0.02)
    for path in sorted(set(paths), key=lambda p: p == lock_path):
        with contextlib.suppress(OSError):
            path.rmdir()


def _layout() -> tuple[dict[str, Path], str] | None:
    """The parent folder of the kernels' groups per controller, and the controller whose folders are locked."""
    unified, v1 = _mounts()
    if unified is not None:
        return {"all": unified / PARENT}, "all"
    if all(c in v1 for c in CONTROLLERS):
        return {c: _v1_parent(v1, c) for c in CONTROLLERS}, LOCK_CONTROLLER
    return None


def group_folders() -> list[Path]:
    """The kernels' groups on this machine (their locked folders), of every grader."""
    layout = _layout()
    if layout is None:
        return []
    parents, lock_controller = layout
    with contextlib.suppress(OSError):
        return sorted(p for p in parents[lock_controller].iterdir() if p.is_dir())
    return []


def remove_stale() -> None:
    """End and remove the groups of graders that are gone: those whose lock can be taken.

    A live grader holds the lock of each of its groups, so its groups are never touched,
    whatever PID namespace this process or that grader runs in.
    """
    layout = _layout()
    if layout is None:
        return
    for parents, lock_controller in [layout]:
        names = set()
        for parent in parents.values():
            with contextlib.suppress(OSError):
                names |= {child.name for child in parent.iterdir() if child.is_dir()}
        for name in sorted(names):
            lock_path = parents[lock_controller] / name
            paths = [parent / name for parent in parents.values() if (parent / name).is_dir()]
            if lock_path.is_dir():
                try:
                    fd = os.open(lock_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue  # its grader is alive
                try:
                    _empty_and_remove(paths, lock_path, name)
                finally:
                    os.close(fd)
            else:  # the locked folder is removed last: these are what a removal left behind
                for path in paths:
                    for pid in _pids(path):
                        processes.kill_if(pid, lambda p, n=name: _member(p, n))
                    with contextlib.suppress(OSError):
                        path.rmdir()
