"""A fork server for grading kernels: import the heavy libraries once, fork a fresh kernel per submission.

Started by a grading worker as ``python -I zygote.py``; it imports IPython's kernel,
numpy, matplotlib and scikit-learn, then reads one JSON request per line on stdin
and answers with the pid of a new kernel. Each kernel is a forked child that has
never run any student's code: it builds the same sandbox as ``jail.py`` (when asked)
in fresh namespaces and then runs the IPython kernel in-process. What it saves per
submission is the import time, about a second of CPU.

Requests: {"connection_file": ..., "workdir": ..., "env": {...}, "jail": CONFIG or null}.
Answers: {"pid": N} or {"error": "..."}.
"""

import json
import os
import signal
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG = 1

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.remove(HERE) if HERE in sys.path else None
sys.path.insert(0, HERE)
import jail  # noqa: E402 - the sandbox steps, shared with the launcher (same folder)

sys.path.remove(HERE)
_libc = jail._libc


def preload() -> None:
    """What every grading kernel imports: done once here, shared by every fork."""
    import IPython  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import numpy  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import sklearn.linear_model  # noqa: F401


def _die_with_parent() -> None:
    jail._check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")


def _enter_namespaces(rootless: bool) -> None:
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    uid, gid = os.getuid(), os.getgid()
    jail._check(_libc.unshare(flags | (CLONE_NEWUSER if rootless else 0)), "unshare")
    if rootless:  # become root of the new user namespace, mapped to ourselves outside
        with open("/proc/self/setgroups", "w") as handle:
            handle.write("deny")
        with open("/proc/self/uid_map", "w") as handle:
            handle.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as handle:
            handle.write(f"0 {gid} 1")


def run_kernel(request: dict) -> None:
    """In the forked child: become the kernel (never returns)."""
    os.environ.clear()
    os.environ.update(request["env"])
    config = request.get("jail")
    if config is not None:
        jail.mount("none", "/", None, jail.MS_REC | jail.MS_PRIVATE)
        root = jail.build_root(config)
        jail.enter(root)
        jail.drop_privileges(config.get("uid"), [config["workdir"], config["runtime"]])
        jail.set_limits(config["limits"])
    os.chdir(request["workdir"])
    sys.path.insert(0, "")  # as for `python -m ipykernel_launcher`: the notebook's folder first
    sys.dont_write_bytecode = True
    import random

    import numpy

    random.seed()
    numpy.random.seed()  # as a fresh process would be: not the state every fork shares
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--HistoryManager.enabled=False",
                    "--IPKernelApp.log_level=50"])
    app.start()


def spawn(request: dict) -> int:
    """Fork the waiter; it enters fresh namespaces and forks the kernel as their PID 1."""
    waiter = os.fork()
    if waiter:
        return waiter
    try:
        _die_with_parent()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        if request.get("jail") is not None:
            _enter_namespaces(rootless=os.geteuid() != 0)
        kernel = os.fork()
        if kernel == 0:
            try:
                _die_with_parent()
                run_kernel(request)
            except BaseException as error:  # noqa: BLE001 - reported on stderr, then gone
                print(f"grading kernel: {type(error).__name__}: {error}", file=sys.stderr)
            finally:
                os._exit(70)
        _, status = os.waitpid(kernel, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException as error:  # noqa: BLE001
        print(f"grading kernel launcher: {type(error).__name__}: {error}", file=sys.stderr)
        os._exit(71)


def main() -> None:
    _die_with_parent()
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = {"pid": spawn(json.loads(line))}
        except Exception as error:  # noqa: BLE001 - the worker falls back or reports it
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
