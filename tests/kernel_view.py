"""What a grading kernel can see of the world, observed from inside it, and the allowlist it is held to.

``OBSERVE`` is a notebook cell: a student's code could run it. It prints one line,
``KERNEL-VIEW {json}``: open descriptors, environment, mounts, capabilities, seccomp,
control group, visible processes, ids, network interfaces and sockets. ``violations``
compares that with what a kernel may have and names everything else.
"""

from __future__ import annotations

import json

OBSERVE = r"""
import fcntl, json, os, socket, struct
def _netns(s):
    return s.getsockopt(socket.SOL_SOCKET, 71, 8).hex()  # SO_NETNS_COOKIE
_mine = _netns(socket.socket(socket.AF_UNIX))
_fds = {}
for _entry in os.listdir("/proc/self/fd"):
    try:
        _target = os.readlink(f"/proc/self/fd/{_entry}")
    except OSError:
        continue
    _info = {"target": _target}
    if _target.startswith("socket:"):
        _s = socket.socket(fileno=os.dup(int(_entry)))
        _info.update(family=int(_s.family), own_netns=_netns(_s) == _mine,
                     name=str(_s.getsockname()) if _s.family == socket.AF_UNIX else "")
        _s.close()
    _fds[_entry] = _info
_status = dict((k, v.strip()) for k, v in (l.split(":", 1) for l in open("/proc/self/status") if ":" in l))
_mounts = []
for _line in open("/proc/self/mountinfo"):
    _left, _, _right = _line.partition(" - ")
    _mounts.append([_left.split()[4], _left.split()[5], _right.split()[0]])
_probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    _lo = struct.unpack("16sH", fcntl.ioctl(_probe, 0x8913, struct.pack("16sH", b"lo", 0)))[1]
except OSError as _error:
    _lo = str(_error)
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2).close()
    _connect = "connected"
except OSError as _error:
    _connect = type(_error).__name__
_inet = []
for _name in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
    try:
        _inet += [[_name] + l.split()[1:4] for l in open(f"/proc/net/{_name}").read().splitlines()[1:]]
    except OSError:
        pass
print("KERNEL-VIEW " + json.dumps({
    "fds": _fds,
    "env": sorted(os.environ),
    "mounts": _mounts,
    "caps": {k: _status[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
    "seccomp": _status["Seccomp"],
    "nnp": _status["NoNewPrivs"],
    "cgroup": open("/proc/self/cgroup").read().splitlines(),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()],
    "interfaces": sorted(n for _, n in socket.if_nameindex()),
    "loopback_flags": _lo,
    "connect": _connect,
    "inet": _inet,
    "unix_paths": sorted({l.split()[7] for l in open("/proc/net/unix").read().splitlines()[1:] if len(l.split()) > 7}),
    "cwd": os.getcwd(),
}, separators=(",", ":")))
"""

# What ipykernel and scikit-learn set as they start, on top of the grader's kernel_environment and the
# locale it passes on.
IPYKERNEL_ENV = {"CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "GIT_PAGER", "PAGER", "TERM", "PYDEVD_USE_FRAME_EVAL"}
IPYKERNEL_ENV |= {"KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK"}
PASSED_ON = {"LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
ZERO_CAPS = "0000000000000000"


def parse(printed: str) -> dict:
    line = next(line for line in printed.splitlines() if line.startswith("KERNEL-VIEW "))
    return json.loads(line[len("KERNEL-VIEW ") :])


def violations(view: dict, rootless: bool, workdir_env: set[str], read_only: list[str]) -> list[str]:
    """Everything in ``view`` that is not on the allowlist (empty when the kernel sees only what it may)."""
    from autograder.sandbox import UNPRIVILEGED_UIDS
    from autograder.sandbox.jail import DEVICES, ETC_FILES, INSIDE_UID, SYSTEM_DIRS

    found = []
    fds = view["fds"]
    pipes = [info["target"] for info in fds.values() if info["target"].startswith("pipe:")]
    for fd, info in sorted(fds.items(), key=lambda item: int(item[0])):
        target = info["target"]
        if target in ("/dev/null", "anon_inode:[eventfd]", "anon_inode:[eventpoll]"):
            continue
        if target.startswith("pipe:") and pipes.count(target) >= 2:  # both ends its own
            continue
        if target.startswith("socket:") and (
            info["own_netns"] or (info["family"] == 1 and info["name"].startswith("/run/autograder-"))
        ):  # created in its own network namespace, or its end of a grader's connection to its own sockets
            continue
        found.append(f"descriptor {fd} -> {target} {info}")
    allowed_env = workdir_env | IPYKERNEL_ENV | PASSED_ON
    found += [f"environment variable {key}" for key in view["env"] if key not in allowed_env]
    allowed_ro = {"/", *SYSTEM_DIRS, *read_only, *(f"/etc/{name}" for name in ETC_FILES)}
    allowed_rw = {"/tmp", "/dev/shm", view["cwd"], *(f"/dev/{name}" for name in DEVICES)}
    for point, options, fstype in view["mounts"]:
        if point in allowed_ro and "ro" in options.split(","):
            continue
        if point in allowed_rw or (point.startswith("/run/autograder-") and fstype == "tmpfs"):
            continue
        if point == "/proc" and fstype == "proc":
            continue
        found.append(f"mount {point} ({options}, {fstype})")
    found += [f"capability set {name} = {value}" for name, value in view["caps"].items() if value != ZERO_CAPS]
    if view["seccomp"] != "2" or view["nnp"] != "1":
        found.append(f"seccomp {view['seccomp']}, no new privileges {view['nnp']}")
    found += [f"control group {line}" for line in view["cgroup"] if not line.endswith(":/")]
    if view["pids"] != [1]:
        found.append(f"processes visible: {view['pids']}")
    uid, euid, gid, egid, groups = view["ids"]
    if rootless:  # the instructor's own ids, mapped to 1000 (a supplementary group the same as the primary)
        if [uid, euid, gid, egid] != [INSIDE_UID] * 4 or groups not in ([], [INSIDE_UID]):
            found.append(f"ids {view['ids']}")
    elif not (uid == euid == gid == egid and uid in UNPRIVILEGED_UIDS and groups == []):
        found.append(f"ids {view['ids']}")
    if view["interfaces"] != ["lo"] or not isinstance(view["loopback_flags"], int) or view["loopback_flags"] & 1:
        found.append(f"network interfaces {view['interfaces']}, loopback flags {view['loopback_flags']}")
    if view["connect"] == "connected":
        found.append("a connection to 127.0.0.1 succeeded")
    for kind, local, remote, state in view["inet"]:
        if not (kind in ("tcp", "tcp6") and state == "0A"):  # a listening socket of its own, in its own namespace
            found.append(f"{kind} socket {local} -> {remote} ({state})")
    found += [f"unix socket {path}" for path in view["unix_paths"] if not path.startswith("/run/autograder-")]
    return found
