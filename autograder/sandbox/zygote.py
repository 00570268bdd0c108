"""A fork server for grading kernels: import the heavy libraries once, fork a fresh kernel per submission.

Started once per grading run as ``python -I zygote.py --listen SOCKET`` by the grader,
serving all its local workers over a Unix socket in a folder only the grader can enter,
or as ``python -I zygote.py --fd FD`` by a worker of its own (a socket pair). It imports
IPython's kernel, numpy, matplotlib and scikit-learn, then answers each request (one
SOCK_SEQPACKET message) with the pid of a new kernel's launcher and, attached to the
answer, a pidfd of it: the worker signals that descriptor, never a number. The kernels a
connection asked for are killed when that connection closes: a worker that dies takes
its kernels with it.

Each kernel is a forked child that has never run any student's code: the launcher
closes every descriptor the zygote holds (no exec happens, so close-on-exec would not),
joins the kernel's control group and enters fresh namespaces (``jail.enter_namespaces``),
then forks the kernel as PID 1 of the new PID namespace, which confines itself
(``jail.confine``, the same steps as a cold start) and runs the IPython kernel
in-process. What this saves per submission is the import time, about a second of CPU.

Requests: {"connection_file": ..., "workdir": ..., "env": {...}, "jail": CONFIG or null}.
Answers: {"pid": N} with the pidfd, or {"error": "..."}.
"""

import contextlib
import json
import os
import select
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import jail  # noqa: E402 - the confinement steps, shared with the cold launcher (same folder)
import processes  # noqa: E402 - pidfds, and dying with the parent

sys.path.remove(HERE)

_SOCKETS: list[socket.socket] = []  # every socket of the zygote's: detached in forked launchers


def preload() -> None:
    """What every grading kernel imports: done once here, shared by every fork."""
    import ipykernel.debugger  # what IPKernelApp.initialize would import in every kernel
    import ipykernel.heartbeat
    import ipykernel.iostream
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell  # noqa: F401
    import IPython  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import matplotlib_inline.backend_inline  # noqa: F401
    import numpy  # noqa: F401
    import sklearn.linear_model  # noqa: F401 - the notebook's first cell imports it


def run_kernel(request: dict) -> None:
    """In the forked kernel: confine, then become the IPython kernel (never returns)."""
    os.environ.clear()
    os.environ.update(request["env"])
    config = request.get("jail")
    if config is not None:
        jail.confine(config)
    os.chdir(request["workdir"])
    sys.dont_write_bytecode = True
    import random

    import numpy

    random.seed()
    numpy.random.seed()  # as a fresh process would be: not the state every fork shares
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--HistoryManager.enabled=False", "--IPKernelApp.log_level=50"])
    # The notebook's folder on the path only now, as for `python -m ipykernel_launcher`, so a
    # student's file cannot stand in for a module the kernel itself imports while starting.
    sys.path.insert(0, "")
    app.start()


def _close_inherited() -> None:
    """In a forked launcher: close every descriptor of the zygote's but stdin, stdout and stderr.

    No exec happens between the zygote and the kernel, so close-on-exec does not apply: the
    listening socket and every worker's connection would otherwise reach the student's code.
    The Python socket objects are detached first, so nothing closes their numbers again later.
    """
    for sock in list(_SOCKETS):
        with contextlib.suppress(OSError):
            sock.detach()
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def spawn(request: dict) -> tuple[int, int]:
    """Fork the launcher; it joins the control group, enters fresh namespaces and forks the kernel.

    Returns its pid and a pidfd of it (opened while it is certainly ours: our child, not reaped
    yet, since it waits for the byte we send once the pidfd is open).
    """
    ready_r, ready_w = os.pipe()
    launcher = os.fork()
    if launcher:
        os.close(ready_r)
        try:
            pidfd = os.pidfd_open(launcher)
        finally:
            os.write(ready_w, b"1")
            os.close(ready_w)
        return launcher, pidfd
    try:
        processes.die_with_parent()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.read(ready_r, 1)
        _close_inherited()  # ready_r and ready_w included
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        os.close(devnull)
        config = request.get("jail")
        if config is not None:
            jail.join_cgroup(config.get("cgroup_procs") or [])
            jail.enter_namespaces(config.get("rootless", False))
        kernel = os.fork()
        if kernel == 0:
            try:
                processes.die_with_parent()
                run_kernel(request)
            except BaseException as error:  # noqa: BLE001 - reported on stderr, then gone
                print(f"sandbox: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            finally:
                os._exit(70)
        _, status = os.waitpid(kernel, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException as error:  # noqa: BLE001
        print(f"sandbox: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        os._exit(71)


MAX_REQUEST = 1 << 20


def answer(data: bytes) -> tuple[dict, int | None]:
    """The reply to one request, and the launcher's pidfd to pass along with it."""
    try:
        request = json.loads(data)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        pid, pidfd = spawn(request)
        return {"pid": pid}, pidfd
    except Exception as error:  # noqa: BLE001 - the worker falls back or reports it
        return {"error": f"{type(error).__name__}: {error}"}, None


def serve(listener: socket.socket | None, connections: list[socket.socket]) -> None:
    """Serve requests on SOCK_SEQPACKET connections (one request, one reply); accept more on ``listener``.

    The launchers a connection asked for are killed when it closes: a worker that dies
    takes its kernels with it.
    """
    poller = select.poll()
    by_fd: dict[int, socket.socket] = {}
    launched: dict[int, list[int]] = {}  # connection fd -> pidfds of its launchers

    def add(connection: socket.socket) -> None:
        _SOCKETS.append(connection)
        by_fd[connection.fileno()] = connection
        launched[connection.fileno()] = []
        poller.register(connection, select.POLLIN)

    def drop(fd: int) -> None:
        for pidfd in launched.pop(fd, []):
            processes.kill(pidfd)
            processes.close(pidfd)
        poller.unregister(fd)
        connection = by_fd.pop(fd)
        _SOCKETS.remove(connection)
        connection.close()

    if listener is not None:
        _SOCKETS.append(listener)
        poller.register(listener, select.POLLIN)
    for connection in connections:
        add(connection)
    while by_fd or listener is not None:
        for fd, _ in poller.poll():
            if listener is not None and fd == listener.fileno():
                connection, _ = listener.accept()
                add(connection)
                continue
            connection = by_fd.get(fd)
            if connection is None:
                continue
            try:
                data = connection.recv(MAX_REQUEST)
            except OSError:
                data = b""
            if not data:
                drop(fd)
                continue
            reply, pidfd = answer(data)
            if pidfd is not None:
                for ended in [p for p in launched[fd] if processes.exited(p)]:
                    launched[fd].remove(ended)
                    processes.close(ended)
                launched[fd].append(pidfd)
            try:
                socket.send_fds(connection, [json.dumps(reply).encode()], [pidfd] if pidfd is not None else [])
            except OSError:
                drop(fd)


def main() -> None:
    processes.die_with_parent()
    if os.getppid() == 1:  # the process that started it died before the line above took effect
        os._exit(1)
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(sys.argv[2])
        listener.listen(64)
        serve(listener, [])
    elif len(sys.argv) == 3 and sys.argv[1] == "--fd":
        serve(None, [socket.socket(fileno=int(sys.argv[2]))])
    else:
        sys.exit("usage: zygote.py --listen SOCKET | --fd FD")


if __name__ == "__main__":
    main()
