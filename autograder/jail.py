"""Build the sandbox around a grading kernel, then exec it. Linux only.

Run by the grader as ``unshare --mount --net --pid --ipc --uts --fork --kill-child
python -m autograder.jail CONFIG -- KERNEL COMMAND`` (with ``--user --map-root-user``
when the grader is not root). Inside those fresh namespaces it:

1. builds a new root on a small tmpfs holding read-only binds of the system
   directories, the Python installation and the virtual environment, and nothing
   else of the host (no course, no gradebook, no secret, no other submission);
2. gives the kernel a size-limited tmpfs as its working directory, filled with the
   submission's files, a private /tmp and /dev/shm, and its socket directory;
3. pivots into that root and detaches the old one, mounts /proc for the new PID
   namespace (where the kernel is PID 1: when it ends, everything it started ends);
4. sets resource limits, drops to an unprivileged uid with no-new-privileges,
   and execs the kernel.

The network namespace has only a loopback interface that stays down.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import platform
import resource
import shutil
import stat
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group",
             "fonts")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def bind(source: str, target: str, writable: bool = False) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
    mount("none", target, None, flags)


def _mirror(root: str, path: str, is_dir: bool) -> str:
    """Create ``path`` inside ``root`` (directory or empty file) and return it."""
    inside = root + path
    if is_dir:
        os.makedirs(inside, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        open(inside, "a").close()
    return inside


def build_root(config: dict) -> str:
    root = config["root"]
    os.makedirs(root, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    # The private /tmp and /dev/shm first: anything bound below them (a virtual environment
    # or a working directory under /tmp) must land on top of them, not be hidden by them.
    limits = config["limits"]
    for path in ("/tmp", "/dev/shm"):
        mount("tmpfs", _mirror(root, path, True), "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['tmp_mb']}m,mode=1777")
    read_only = [*SYSTEM_DIRS, *config["read_only"]]
    for path in read_only:
        if os.path.isdir(path) and not os.path.islink(path):
            bind(path, _mirror(root, path, True))
        elif os.path.islink(path):  # e.g. /lib -> usr/lib on merged-/usr systems
            os.makedirs(os.path.dirname(root + path), exist_ok=True)
            os.symlink(os.readlink(path), root + path)
    for name in ETC_FILES:
        path = f"/etc/{name}"
        if os.path.exists(path):
            bind(path, _mirror(root, path, os.path.isdir(path)))
    for name in DEVICES:
        bind(f"/dev/{name}", _mirror(root, f"/dev/{name}", False), writable=True)
    workdir = _mirror(root, config["workdir"], True)
    mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['disk_mb']}m,mode=700")
    for name in os.listdir(config["workdir"]):
        source = os.path.join(config["workdir"], name)
        if os.path.isfile(source) and not os.path.islink(source):
            shutil.copyfile(source, os.path.join(workdir, name))
    bind(config["runtime"], _mirror(root, config["runtime"], True), writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    return root


def enter(root: str) -> None:
    """pivot_root into ``root``, drop the old root, mount /proc, make / read-only."""
    old = root + "/.old-root"
    os.makedirs(old, exist_ok=True)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unsupported machine {platform.machine()}")
    _check(_libc.syscall(number, root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def set_limits(limits: dict) -> None:
    mib = 1024 * 1024
    for name, value in (("RLIMIT_AS", limits["memory_mb"] * mib), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["disk_mb"] * mib),
                        ("RLIMIT_NOFILE", 256), ("RLIMIT_CORE", 0)):
        limit = getattr(resource, name)
        resource.setrlimit(limit, (value, value))


def drop_privileges(uid: int | None, paths: list[str]) -> None:
    if uid is not None:
        for path in paths:
            os.chown(path, uid, uid)
            for name in os.listdir(path):
                if not stat.S_ISSOCK(os.lstat(os.path.join(path, name)).st_mode):
                    os.chown(os.path.join(path, name), uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    # Changing uid clears the parent-death signal unshare --kill-child set: set it again,
    # so the kernel (and with it the whole PID namespace) dies when its launcher does.
    _check(_libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PDEATHSIG)")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def main(argv: list[str]) -> None:
    config = json.loads(argv[0])
    command = argv[argv.index("--") + 1:]
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    root = build_root(config)
    enter(root)
    drop_privileges(config.get("uid"), [config["workdir"], config["runtime"]])
    set_limits(config["limits"])
    os.chdir(config["workdir"])
    os.execve(command[0], command, config["env"])


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        sys.exit(70)
