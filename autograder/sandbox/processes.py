"""Processes the grader can prove are its own: pidfds, never a pid read from a channel a kernel can reach.

A pid is only a number: the process it named may have ended and the number gone to
another. A pidfd names one process for as long as the descriptor is open, so every
signal the sandbox sends goes through one (``pidfd_send_signal``), opened either by
the process's parent (a child cannot be reused before it is reaped) or for a pid
whose membership (a control group, a PID namespace) is checked after the pidfd is
open and while the process is still alive.

``die_with_parent`` is here too: every process the grader starts (workers, the
reference process, the zygote, the jail, an unsandboxed kernel) ends with its parent.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Be killed (SIGKILL) when the parent process ends, even by SIGKILL.

    ``parent``: the pid the parent had before this call; if it is not the parent any more,
    it ended before the request took effect, and this process ends now.
    """
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def open_pidfd(pid: int) -> int | None:
    """A pidfd of ``pid`` (close-on-exec), or None when there is no such process (or pid <= 1)."""
    if not isinstance(pid, int) or pid <= 1:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def exited(pidfd: int) -> bool:
    """Has the process ended (a pidfd becomes readable when it exits, reaped or not)?"""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(0))


def pid_of(pidfd: int) -> int | None:
    """The pid a pidfd names (from its fdinfo), None if it is not a live pidfd."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as handle:
            for line in handle:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError, IndexError):
        pass
    return None


def kill(pidfd: int) -> None:
    """SIGKILL the process a pidfd names (nothing if it is gone)."""
    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)


def wait_exit(pidfd: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process to end; True if it did."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(max(0, int(timeout * 1000))))


def close(pidfd: int | None) -> None:
    if pidfd is not None:
        with contextlib.suppress(OSError):
            os.close(pidfd)


def kill_if(pid: int, belongs: Callable[[int], bool]) -> bool:
    """SIGKILL ``pid`` if it belongs to the sandbox, as checked while a pidfd holds it; True if sent.

    The check reads ``/proc/<pid>`` after the pidfd is open; if the process is still alive
    afterwards, that was this very process, not another that inherited the number.
    """
    pidfd = open_pidfd(pid)
    if pidfd is None:
        return False
    try:
        if belongs(pid) and not exited(pidfd):
            kill(pidfd)
            return True
        return False
    finally:
        close(pidfd)


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    """The children of ``pid`` (its main thread's), from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except (OSError, ValueError):
        return [p for p in all_pids() if (stat_fields(p) or ["", "0"])[1] == str(pid)]


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def parent(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[1]) if fields else None


def child_pidfd(parent_pidfd: int, parent_pid: int) -> tuple[int, int] | None:
    """(pid, pidfd) of the one child of a live process we hold a pidfd of, or None.

    While the parent lives, its children cannot be reparented, so a child whose parent
    is still ``parent_pid`` once its pidfd is open (and the parent still alive) is that child.
    """
    for pid in children(parent_pid):
        pidfd = open_pidfd(pid)
        if pidfd is None:
            continue
        if parent(pid) == parent_pid and not exited(parent_pidfd):
            return pid, pidfd
        close(pidfd)
    return None


def end(pidfd: int, timeout: float = 10.0) -> bool:
    """SIGKILL and wait (bounded) for the end of the process; True if it ended."""
    kill(pidfd)
    deadline = time.monotonic() + timeout
    while not exited(pidfd):
        if not wait_exit(pidfd, max(0.0, deadline - time.monotonic())):
            return False
    return True
