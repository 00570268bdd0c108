"""A fork server for grading kernels: import the heavy libraries once, fork a fresh kernel per submission.

Started as ``python -I zygote.py`` by a grading worker (requests on stdin), or once
per grading run as ``python -I zygote.py --listen SOCKET`` by the grader, serving all
its local workers over a Unix socket in a folder only the grader can enter. It
imports IPython's kernel, numpy, matplotlib and scikit-learn, then reads one JSON
request per line and answers with the pid of a new kernel's launcher. The kernels a
connection asked for are killed when that connection closes: a worker that dies
takes its kernel with it. Each kernel is a forked child
that has never run any student's code: the launcher joins the kernel's control
group and enters fresh namespaces (``jail.enter_namespaces``), then forks the
kernel as PID 1 of the new PID namespace, which confines itself
(``jail.confine``, the same steps as a cold start) and runs the IPython kernel
in-process. What this saves per submission is the import time, about a second of CPU.

Requests: {"connection_file": ..., "workdir": ..., "env": {...}, "jail": CONFIG or null}.
Answers: {"pid": N} or {"error": "..."}.
"""

import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import jail  # noqa: E402 - the confinement steps, shared with the cold launcher (same folder)

sys.path.remove(HERE)


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


def spawn(request: dict) -> int:
    """Fork the launcher; it joins the control group, enters fresh namespaces and forks the kernel."""
    launcher = os.fork()
    if launcher:
        return launcher
    try:
        jail.die_with_parent()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        config = request.get("jail")
        if config is not None:
            jail.join_cgroup(config.get("cgroup_procs") or [])
            jail.enter_namespaces(config.get("rootless", False))
        kernel = os.fork()
        if kernel == 0:
            try:
                jail.die_with_parent()
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


def answer(line: str) -> dict:
    try:
        return {"pid": spawn(json.loads(line))}
    except Exception as error:  # noqa: BLE001 - the worker falls back or reports it
        return {"error": f"{type(error).__name__}: {error}"}


def serve_stdin() -> None:
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(answer(line)), flush=True)


def serve_socket(path: str) -> None:
    """Serve every worker's connection; kill the launchers of a connection that closes."""
    import selectors
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print(json.dumps({"ready": True}), flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    buffers: dict = {}
    launched: dict = {}
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                selector.register(connection, selectors.EVENT_READ)
                buffers[connection], launched[connection] = b"", []
                continue
            connection = key.fileobj
            data = connection.recv(65536)
            if not data:  # the worker is gone: so are the kernels it asked for
                for pid in launched.pop(connection):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                selector.unregister(connection)
                connection.close()
                buffers.pop(connection)
                continue
            buffers[connection] += data
            while b"\n" in buffers[connection]:
                line, buffers[connection] = buffers[connection].split(b"\n", 1)
                reply = answer(line.decode())
                if "pid" in reply:
                    launched[connection] = [p for p in launched[connection] if _alive(p)] + [reply["pid"]]
                connection.sendall((json.dumps(reply) + "\n").encode())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main() -> None:
    jail.die_with_parent()
    if os.getppid() == 1:  # the process that started it died before the line above took effect
        os._exit(1)
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        serve_socket(sys.argv[2])
    else:
        serve_stdin()


if __name__ == "__main__":
    main()
