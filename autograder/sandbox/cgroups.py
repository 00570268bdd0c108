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
import os
import signal
import time
from pathlib import Path

PARENT = "autograder"
PERIOD_US = 100_000


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
            for controller in ("cpu", "cpuacct", "pids", "memory"):
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
    missing = [c for c in ("cpu", "cpuacct", "pids", "memory") if c not in v1]
    if missing:
        return f"this machine mounts no cgroup controller for {', '.join(missing)}"
    return None


class KernelGroup:
    """The control group of one kernel: created before the kernel starts, removed after it ends."""

    def __init__(self, name: str, processes: int, memory_mb: int, cpus: float = 1.0):
        unified, v1 = _mounts()
        self.unified = unified is not None
        if self.unified:
            parent = unified / PARENT
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):  # enabling is needed once; already on is fine
                (unified / "cgroup.subtree_control").write_text("+cpu +pids +memory")
                (parent / "cgroup.subtree_control").write_text("+cpu +pids +memory")
            self.paths = {"all": parent / name}
        else:
            self.paths = {c: v1[c] / _own_v1_path(c) / PARENT / name for c in ("cpu", "cpuacct", "pids", "memory")}
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
        try:
            return [int(p) for p in (self._path("pids") / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self) -> None:
        """Kill what is left in the group and remove it."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for path in set(self.paths.values()):
            with contextlib.suppress(OSError):
                path.rmdir()


def remove_stale(alive) -> None:
    """Remove the empty groups of earlier runs whose grader is gone (``alive(pid)`` says which are not)."""
    unified, v1 = _mounts()
    parents = (
        [unified / PARENT]
        if unified is not None
        else [v1[c] / _own_v1_path(c) / PARENT for c in ("cpu", "cpuacct", "pids", "memory") if c in v1]
    )
    for parent in parents:
        try:
            children = list(parent.iterdir())
        except OSError:
            continue
        for child in children:
            owner = child.name.split("-", 1)[0]
            if child.is_dir() and owner.isdigit() and not alive(int(owner)):
                with contextlib.suppress(OSError):
                    child.rmdir()
