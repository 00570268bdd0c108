"""A grading kernel: execute code with a deadline, notice death, answer input requests.

The kernel talks to the grader over IPC sockets in a private directory (not TCP),
so no other local user can join the channel.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import nbformat
import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

MAX_OUTPUT_CHARS = 20_000  # kept per executed cell; the rest is dropped with a note


@dataclasses.dataclass
class Execution:
    """What one execute request came to."""

    status: str  # "ok", "error", "timeout", "died"
    outputs: list
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0


class PopenLauncher:
    """Starts the kernel as a new process: ``prefix(runtime) + python -m ipykernel_launcher``."""

    def __init__(self, prefix: Callable[[Path], Sequence[str]] | None = None):
        self.prefix = prefix

    def launch(self, connection_file: str, runtime: Path, workdir: Path, env: dict) -> "Process":
        command = [*(self.prefix(runtime) if self.prefix else []), sys.executable, "-m", "ipykernel_launcher",
                   "-f", connection_file, "--HistoryManager.enabled=False", "--IPKernelApp.log_level=50"]
        popen = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        return Process(popen.pid, popen)

    def close(self) -> None:
        pass


class Process:
    """A running kernel (or its launcher) that can be checked and killed."""

    def __init__(self, pid: int, popen: subprocess.Popen | None = None):
        self.pid = pid
        self.popen = popen

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(self.pid)

    def kill(self) -> None:
        try:
            if self.popen is not None:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
            else:
                os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while self.alive() and time.monotonic() < deadline:
                    time.sleep(0.01)
        except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            pass


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class GradingKernel:
    """One Python kernel for one submission, started in ``workdir``.

    ``launcher`` starts the process (a plain subprocess, possibly under the sandbox's
    launcher, or a fork of the zygote); ``env`` is the kernel's whole environment.
    """

    def __init__(self, workdir: Path, launcher=None, env: dict | None = None, startup_timeout: float = 60):
        self.workdir = Path(workdir)
        self.launcher = launcher or PopenLauncher()
        self.env = dict(env if env is not None else os.environ)
        self.startup_timeout = startup_timeout
        self.process: Process | None = None
        self.client: BlockingKernelClient | None = None
        self._runtime = Path(tempfile.mkdtemp(prefix="grading-kernel-"))
        os.chmod(self._runtime, 0o700)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        connection_file = str(self._runtime / f"kernel-{os.getpid()}-{time.monotonic_ns()}.json")
        write_connection_file(connection_file, transport="ipc", ip=str(self._runtime / "ipc"))
        self.process = self.launcher.launch(connection_file, self._runtime, self.workdir, self.env)
        client = BlockingKernelClient(connection_file=connection_file)
        client.load_connection_file()
        client.start_channels()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                client.wait_for_ready(timeout=1)
                break
            except RuntimeError:
                if not self.process.alive() or time.monotonic() > deadline:
                    client.stop_channels()
                    self.process.kill()
                    raise RuntimeError("the grading kernel did not start") from None
        self.client = client

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def restart(self) -> None:
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        if self.process is not None:
            self.process.kill()
        self.process = self.client = None

    def close(self) -> None:
        self.shutdown()
        shutil.rmtree(self._runtime, ignore_errors=True)
        shutil.rmtree(f"{self._runtime}.root", ignore_errors=True)

    # -- execution --------------------------------------------------------------------
    def execute(self, code: str, timeout: float,
                on_input: Callable[[str], str] | None = None) -> Execution:
        """Run ``code``; stop at ``timeout`` seconds (interrupt, then restart if needed).

        ``on_input(prompt)`` answers the code's ``input()`` calls; without it they get "".
        """
        if not self.alive():
            return Execution("died", [], "DeadKernel", "the kernel is not running")
        client = self.client
        started = time.monotonic()
        deadline = started + timeout
        msg_id = client.execute(code, store_history=False, allow_stdin=True)
        outputs: list = []
        kept = [0]
        reply = None
        idle = False
        poller = zmq.Poller()
        channels = {client.stdin_channel.socket: "stdin", client.iopub_channel.socket: "iopub",
                    client.shell_channel.socket: "shell"}
        for socket in channels:
            poller.register(socket, zmq.POLLIN)
        while reply is None or not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out(outputs, started, timeout)
            ready = dict(poller.poll(timeout=min(remaining, 0.2) * 1000))
            if not ready:
                if not self.process.alive():
                    return Execution("died", outputs, "DeadKernel", "the kernel died",
                                     time.monotonic() - started)
                continue
            for socket in ready:
                channel = channels[socket]
                try:
                    message = getattr(client, f"get_{channel}_msg")(timeout=0)
                except queue.Empty:
                    continue
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "stdin":
                    if message["msg_type"] == "input_request":
                        answer = on_input(message["content"].get("prompt", "")) if on_input else ""
                        client.input(answer)
                elif channel == "shell":
                    reply = message
                elif message["msg_type"] == "status":
                    idle = message["content"]["execution_state"] == "idle"
                else:
                    _collect(outputs, message, kept)
        content = reply["content"]
        seconds = time.monotonic() - started
        if content.get("status") == "ok":
            return Execution("ok", outputs, seconds=seconds)
        return Execution("error", outputs, content.get("ename", "Error"), content.get("evalue", ""), seconds)

    def _timed_out(self, outputs: list, started: float, timeout: float) -> Execution:
        """Interrupt; a kernel that does not come back within a few seconds is restarted.

        The interrupt goes as a message on the control channel, since a signal would
        reach the sandbox's launcher rather than the kernel.
        """
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        try:
            self.client.wait_for_ready(timeout=5)
        except RuntimeError:
            self.restart()
        # Drain what the interrupted request still sends, so it cannot leak into the next one.
        for get in (self.client.get_iopub_msg, self.client.get_shell_msg, self.client.get_stdin_msg):
            while True:
                try:
                    get(timeout=0.05)
                except queue.Empty:
                    break
        return Execution("timeout", outputs, "Timeout", f"stopped after {timeout:g} s",
                         time.monotonic() - started)


def _collect(outputs: list, message: dict, kept: list) -> None:
    """Turn an iopub message into an nbformat output, within the size budget."""
    kind = message["msg_type"]
    content = message["content"]
    if kind == "clear_output":
        outputs.clear()
        return
    if kind not in ("stream", "display_data", "execute_result", "error"):
        return
    if kind == "stream":
        text = content.get("text", "")
    elif kind == "error":
        text = content.get("evalue", "")
    else:
        text = str(content.get("data", {}).get("text/plain", ""))
    size = len(text) + (200_000 if kind in ("display_data", "execute_result")
                        and any(k.startswith("image/") for k in content.get("data", {})) else 0)
    if kept[0] + size > MAX_OUTPUT_CHARS:
        if kept[0] <= MAX_OUTPUT_CHARS:
            kept[0] = MAX_OUTPUT_CHARS + 1
            outputs.append(nbformat.v4.new_output(
                "stream", name="stdout", text="\n[output truncated by the grader]\n"))
        return
    kept[0] += size
    if kind == "stream":
        outputs.append(nbformat.v4.new_output("stream", name=content.get("name", "stdout"), text=text))
    elif kind == "error":
        outputs.append(nbformat.v4.new_output("error", ename=content.get("ename", ""),
                                              evalue=content.get("evalue", ""),
                                              traceback=content.get("traceback", [])[:50]))
    else:
        output = nbformat.v4.new_output(kind, data=content.get("data", {}),
                                        metadata=content.get("metadata", {}))
        if kind == "execute_result":
            output.execution_count = content.get("execution_count")
        outputs.append(output)
