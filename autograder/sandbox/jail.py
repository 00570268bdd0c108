"""Confine a grading kernel, then run it. Linux only; of the package it imports only ``processes`` (beside it).

Used two ways: the zygote (``zygote.py``) imports it and calls ``enter_namespaces``
and ``confine`` in the processes it forks; for a cold start the grader runs it as a
script, ``python -I jail.py CONFIG -- KERNEL COMMAND``, which does the same and then
execs the kernel. The steps, in this order:

1. join the kernel's control group (before leaving the host's view of /sys);
2. enter fresh mount, network, PID, IPC, UTS and cgroup namespaces, plus a user namespace
   when the grader is not root (the kernel's uid 1000 inside maps to the grader's);
3. build a new root on a small tmpfs: read-only binds of the system, the Python
   installation and the virtual environment, and nothing else of the host (no
   course, gradebook, secret or other submission); a size-limited tmpfs holding the
   submission's files; private /tmp and /dev/shm; a 1 MB tmpfs for the kernel's
   sockets and connection file, which the grader reaches as /proc/PID/root/...;
   /proc of the new PID namespace (mounted before pivot_root, as a user namespace
   requires);
4. pivot into it, detach the old root, make / read-only;
5. drop every capability and the bounding set, lock the securebits, change to an
   unprivileged uid (as root: one drawn at random per kernel), set resource limits,
   forbid new privileges, and install a seccomp filter that refuses mounting, new
   namespaces (user namespaces included), ptrace, keyrings, BPF, io_uring, kernel
   modules and clearing the parent-death signal. Rootless, no control group bounds the
   submission's memory as a whole, so the filter also refuses new processes (threads
   stay) and memory that no address space counts (System V IPC, memfd): the kernel's
   ``RLIMIT_AS`` and its tmpfs sizes are then the whole bound.

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
import struct
import sys

if __package__:  # imported as autograder.sandbox.jail
    from . import processes
else:  # run as a script (python -I jail.py) or imported by the zygote: processes.py is beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import processes

    sys.path.pop(0)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME = 0x10000000, 0x20000000, 0x40000000, 0x00000080
CLONE_THREAD = 0x00010000
NAMESPACE_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
)
PR_SET_PDEATHSIG, PR_SET_SECUREBITS, PR_CAPBSET_DROP = 1, 28, 24
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 22, 47, 4
SECCOMP_MODE_FILTER = 2
# SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_KEEP_CAPS_LOCKED, SECBIT_NO_CAP_AMBIENT_RAISE and their locks
SECUREBITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
INSIDE_UID = 1000  # the kernel's uid inside a user namespace (the grader's outside)

SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group", "fonts")
DEVICES = ("null", "zero", "full", "random", "urandom")
# Files and folders per tmpfs the kernel can write: each costs about 1.3 KB of the Linux kernel's memory that no
# size= counts (200 000 empty files took 255 MB; the default allows half the machine's pages, millions of them).
TMPFS_INODES = 16384

# System calls refused inside the sandbox (errno EPERM), by architecture.
_REFUSED = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "pidfd_getfd",
    "lookup_dcookie",
    "syslog",
    "vhangup",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "io_uring_setup",  # asynchronous system calls run outside this filter's view
    "io_uring_enter",
    "io_uring_register",
    "kcmp",
)
# Refused too when rootless (EPERM): without a control group nothing bounds the sum of several processes' address
# spaces, nor memory held outside any address space (System V segments, semaphore sets and message queues of the
# kernel's IPC namespace; memfd files, which RLIMIT_FSIZE bounds one by one but not together). clone is allowed
# only for threads (CLONE_THREAD: same address space, same RLIMIT_AS); aarch64 has no fork or vfork call.
_REFUSED_ROOTLESS = ("fork", "vfork", "shmget", "semget", "msgget", "memfd_create", "memfd_secret")
SYSCALLS = {
    "x86_64": {
        "audit_arch": 0xC000003E,
        "clone": 56,
        "clone3": 435,
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "unshare": 272,
        "setns": 308,
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "keyctl": 250,
        "add_key": 248,
        "request_key": 249,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "kexec_load": 246,
        "kexec_file_load": 320,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "reboot": 169,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "quotactl": 179,
        "open_by_handle_at": 304,
        "name_to_handle_at": 303,
        "open_tree": 428,
        "move_mount": 429,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "pidfd_getfd": 438,
        "lookup_dcookie": 212,
        "syslog": 103,
        "vhangup": 153,
        "sethostname": 170,
        "setdomainname": 171,
        "iopl": 172,
        "ioperm": 173,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kcmp": 312,
        "fork": 57,
        "vfork": 58,
        "shmget": 29,
        "semget": 64,
        "msgget": 68,
        "memfd_create": 319,
        "memfd_secret": 447,
        "prctl": 157,
        "pivot_root_syscall": 155,
    },
    "aarch64": {
        "audit_arch": 0xC00000B7,
        "clone": 220,
        "clone3": 435,
        "mount": 40,
        "umount2": 39,
        "pivot_root": 41,
        "chroot": 51,
        "unshare": 97,
        "setns": 268,
        "ptrace": 117,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "keyctl": 219,
        "add_key": 217,
        "request_key": 218,
        "bpf": 280,
        "perf_event_open": 241,
        "userfaultfd": 282,
        "kexec_load": 104,
        "kexec_file_load": 294,
        "init_module": 105,
        "finit_module": 273,
        "delete_module": 106,
        "reboot": 142,
        "swapon": 224,
        "swapoff": 225,
        "acct": 89,
        "quotactl": 60,
        "open_by_handle_at": 265,
        "name_to_handle_at": 264,
        "open_tree": 428,
        "move_mount": 429,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "mount_setattr": 442,
        "pidfd_getfd": 438,
        "lookup_dcookie": 18,
        "syslog": 116,
        "vhangup": 58,
        "sethostname": 161,
        "setdomainname": 162,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "kcmp": 272,
        "shmget": 194,
        "semget": 190,
        "msgget": 186,
        "memfd_create": 279,
        "memfd_secret": 447,
        "prctl": 167,
        "pivot_root_syscall": 41,
    },
}

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class SandboxError(OSError):
    """A step of confinement failed; the message names it."""


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise SandboxError(error, f"{what}: {os.strerror(error)}")


def _arch() -> dict:
    table = SYSCALLS.get(platform.machine())
    if table is None:
        raise SandboxError(0, f"the sandbox does not support this machine ({platform.machine()})")
    return table


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def bind(source: str, target: str, writable: bool = False, device: bool = False) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if device else MS_NODEV) | (0 if writable else MS_RDONLY)
    mount("none", target, None, flags)


# -- 1 and 2: control group and namespaces -----------------------------------------------------------


def join_cgroup(procs_files: list[str]) -> None:
    for path in procs_files:
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))


def enter_namespaces(rootless: bool) -> None:
    """Fresh namespaces for this (single-threaded) process; its next child is PID 1 of the new PID namespace.

    Called after joining the kernel's control group: the new cgroup namespace makes that group the
    kernel's "/", so its path (and anything about the grader in it) is not visible from inside.
    """
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP
    uid, gid = os.getuid(), os.getgid()
    try:
        _check(_libc.unshare(flags | (CLONE_NEWUSER if rootless else 0)), "unshare")
    except SandboxError as error:
        if rootless:
            raise SandboxError(
                error.errno,
                f"{error.strerror}: this machine does not let ordinary users create "
                "user namespaces (see docs/design.md: as an ordinary user)",
            ) from None
        raise
    if rootless:  # uid 1000 inside is the grader outside; the process keeps its capabilities inside
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{INSIDE_UID} {uid} 1"),
            ("gid_map", f"{INSIDE_UID} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)


# -- 3 and 4: the new root ---------------------------------------------------------------------------


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
    limits = config["limits"]
    os.makedirs(root, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    # The private /tmp and /dev/shm first: anything bound below them (a virtual environment
    # or a working directory under /tmp) must land on top of them, not be hidden by them.
    for path in ("/tmp", "/dev/shm"):
        mount(
            "tmpfs",
            _mirror(root, path, True),
            "tmpfs",
            MS_NOSUID | MS_NODEV,
            f"size={limits['tmp_mb']}m,nr_inodes={TMPFS_INODES},mode=1777",
        )
    for path in [*SYSTEM_DIRS, *config["read_only"]]:
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
        bind(f"/dev/{name}", _mirror(root, f"/dev/{name}", False), writable=True, device=True)
    workdir = _mirror(root, config["workdir"], True)
    mount(
        "tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['disk_mb']}m,nr_inodes={TMPFS_INODES},mode=700"
    )
    for name in os.listdir(config["workdir"]):
        source = os.path.join(config["workdir"], name)
        if os.path.isfile(source) and not os.path.islink(source):
            shutil.copyfile(source, os.path.join(workdir, name))
    runtime = _mirror(root, config["runtime"], True)  # the kernel's sockets: bounded, gone with the sandbox
    mount("tmpfs", runtime, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,nr_inodes=256,mode=700")
    with open(root + config["connection_file"], "w") as handle:
        json.dump(config["connection"], handle)
    # A new /proc for the new PID namespace, while the host's is still visible (a user namespace
    # may mount procfs only where a full procfs is already mounted).
    mount("proc", _mirror(root, "/proc", True), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    return root


def enter(root: str) -> None:
    """pivot_root into ``root``, drop the old root, make / read-only."""
    old = root + "/.old-root"
    os.makedirs(old, exist_ok=True)
    _check(_libc.syscall(_arch()["pivot_root_syscall"], root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")
    mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


# -- 5: privileges, limits, system calls --------------------------------------------------------------


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return 40


def drop_privileges(uid: int | None, own: list[str]) -> None:
    """No capability now or after any exec, and an unprivileged uid for root graders."""
    _check(_libc.prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0), "prctl(SECUREBITS)")
    for capability in range(_last_capability() + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), f"prctl(CAPBSET_DROP {capability})")
    if uid is not None:
        for path in own:
            os.chown(path, uid, uid)
            for name in os.listdir(path):
                if not stat.S_ISSOCK(os.lstat(os.path.join(path, name)).st_mode):
                    os.chown(os.path.join(path, name), uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = ctypes.create_string_buffer(24)  # two empty {effective, permitted, inheritable} sets
    _check(_libc.syscall(126 if platform.machine() == "x86_64" else 91, header, data), "capset")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(CAP_AMBIENT_CLEAR_ALL)")
    # Changing uid clears the parent-death signal set earlier: set it again.
    processes.die_with_parent()
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def set_limits(limits: dict, count_processes: bool) -> None:
    mib = 1024 * 1024
    values = [
        ("RLIMIT_AS", limits["memory_mb"] * mib),
        ("RLIMIT_CPU", limits["cpu_seconds"]),
        ("RLIMIT_FSIZE", limits["disk_mb"] * mib),
        ("RLIMIT_NOFILE", 256),
        ("RLIMIT_CORE", 0),
    ]
    if count_processes:  # without a pids control group: per uid (per user namespace when rootless)
        values.append(("RLIMIT_NPROC", limits["processes"]))
    for name, value in values:
        resource.setrlimit(getattr(resource, name), (value, value))


def seccomp_program(rootless: bool = False) -> bytes:
    """A classic BPF program: EPERM for the refused calls, namespace-creating clones and changes of the
    parent-death signal; ENOSYS for clone3. ``rootless``: EPERM also for the calls of ``_REFUSED_ROOTLESS``
    and for every clone that does not make a thread."""
    table = _arch()
    allow, deny, nosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # RET_ALLOW, RET_ERRNO|EPERM, |ENOSYS
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06

    def op(code, k, jt=0, jf=0):
        return struct.pack("HBBI", code, jt, jf, k)

    names = _REFUSED + (_REFUSED_ROOTLESS if rootless else ())
    refused = sorted({table[name] for name in names if name in table})
    body = [op(ld_abs, 4), op(jeq, table["audit_arch"], 1, 0), op(ret, deny), op(ld_abs, 0)]
    if platform.machine() == "x86_64":
        body += [op(jge, 0x40000000, 0, 1), op(ret, deny)]  # the x32 ABI's numbers
    for number in refused:
        body += [op(jeq, number, 0, 1), op(ret, deny)]
    body += [  # the parent-death signal stays: a kernel cannot choose to outlive its launcher
        op(jeq, table["prctl"], 0, 4),
        op(ld_abs, 16),
        op(jeq, PR_SET_PDEATHSIG, 0, 1),
        op(ret, deny),
        op(ret, allow),
    ]
    body += [
        op(jeq, table["clone3"], 0, 1),
        op(ret, nosys),  # its flags are out of reach: glibc falls back to clone
        op(jeq, table["clone"], 0, 5 if rootless else 3),
        op(ld_abs, 16),
        op(jset, NAMESPACE_FLAGS, 0, 1),
        op(ret, deny),
    ]
    if rootless:  # a thread, or nothing
        body += [op(jset, CLONE_THREAD, 1, 0), op(ret, deny)]
    body += [op(ret, allow)]
    return b"".join(body)


def install_seccomp(rootless: bool) -> None:
    program = seccomp_program(rootless)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0), "prctl(SECCOMP)")


def confine(config: dict) -> None:
    """Steps 3 to 5, in PID 1 of fresh namespaces: afterwards this process is the jailed kernel-to-be."""
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    root = build_root(config)
    enter(root)
    rootless = config.get("rootless", False)
    drop_privileges(None if rootless else config.get("uid"), [config["workdir"], config["runtime"]])
    set_limits(config["limits"], count_processes=not config.get("cgroup_procs"))
    install_seccomp(rootless)
    os.chdir(config["workdir"])
    # From here on the kernel writes only into the sandbox: nothing it prints reaches a host file.
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str]) -> int:
    """The cold launcher: join, enter, fork PID 1, confine it, exec the kernel; wait and pass on its status."""
    config = json.loads(argv[0])
    command = argv[argv.index("--") + 1 :]
    processes.die_with_parent()
    join_cgroup(config.get("cgroup_procs") or [])
    enter_namespaces(config.get("rootless", False))
    child = os.fork()
    if child == 0:
        try:
            processes.die_with_parent()
            confine(config)
            os.execve(command[0], command, config["env"])
        except BaseException as error:  # noqa: BLE001 - reported on stderr, then gone
            print(f"sandbox: {error}", file=sys.stderr, flush=True)
        finally:
            os._exit(70)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) & 0xFF


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as error:
        print(f"sandbox: {error}", file=sys.stderr, flush=True)
        sys.exit(70)
