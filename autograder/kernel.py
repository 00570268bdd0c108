"""A grading kernel: execute code with a deadline, notice death, answer input requests.

The kernel talks to the grader over IPC sockets in a private directory (not TCP),
so no other local user can join the channel.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import nbformat
import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

MAX_OUTPUT_CHARS = 20_000  # kept per executed cell; the rest is dropped with a note


@dataclasses.dataclass
class Execution:
    """What one execute request came to."""

    status: str  # "ok", "error", "timeout", "died"
    outputs: list
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0


class GradingKernel:
    """One Python kernel for one submission, started in ``workdir``.

    ``launch_prefix(runtime_dir)`` gives what to put before the kernel's command line
    (the sandbox's launcher); ``env`` replaces the kernel's environment.
    """

    def __init__(self, workdir: Path, launch_prefix: Callable[[Path], Sequence[str]] | None = None,
                 env: dict | None = None, startup_timeout: float = 60):
        self.workdir = Path(workdir)
        self.launch_prefix = launch_prefix
        self.env = env
        self.startup_timeout = startup_timeout
        self.manager: KernelManager | None = None
        self.client = None
        self._runtime = Path(tempfile.mkdtemp(prefix="grading-kernel-"))
        os.chmod(self._runtime, 0o700)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        connection_file = self._runtime / f"kernel-{os.getpid()}-{time.monotonic_ns()}.json"
        manager = KernelManager(transport="ipc", ip=str(self._runtime / "ipc"),
                                connection_file=str(connection_file))
        prefix = list(self.launch_prefix(self._runtime)) if self.launch_prefix else []
        command = [*prefix, sys.executable, "-m", "ipykernel_launcher",
                   "-f", "{connection_file}", "--HistoryManager.enabled=False",
                   "--IPKernelApp.log_level=50"]
        manager._kernel_spec = KernelSpec(argv=command, display_name="grading kernel", language="python",
                                          interrupt_mode="message")
        env = dict(self.env if self.env is not None else os.environ)
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        manager.start_kernel(cwd=str(self.workdir), env=env)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
            raise
        self.manager, self.client = manager, client

    def alive(self) -> bool:
        return self.manager is not None and self.manager.is_alive()

    def restart(self) -> None:
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        if self.manager is not None:
            try:
                self.manager.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - a kernel that is already gone is fine
                pass
            self.manager.cleanup_resources()
        self.manager = self.client = None

    def close(self) -> None:
        self.shutdown()
        shutil.rmtree(self._runtime, ignore_errors=True)
        shutil.rmtree(f"{self._runtime}.root", ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

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
                if not self.manager.is_alive():
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
