"""A grading kernel: execute code within a CPU-time budget, notice death, answer input requests.

The kernel talks to the grader over IPC sockets: in the sandbox they live in a
small tmpfs of the kernel's own, which the grader reaches through
``/proc/<launcher>/root``, so nothing the kernel can write is on the host's disk.

Time limits are judged by the CPU time of the kernel's own sandbox (its control
group, or its processes), so a busy neighbour cannot make a submission time out;
a wall-clock cap on top catches a kernel that waits forever.

jupyter_client's ``KernelManager`` and nbclient's ``NotebookClient`` are not used:
the execute loop answers the kernel's ``input()`` requests while the code runs
(the probes' channel to the grader), which nbclient does not do, and the kernels
are started by launchers that fork them from a warm zygote into a sandbox, which
a provisioner's start-a-command model does not fit.
"""

from __future__ import annotations

import dataclasses
import queue
import secrets
import time
from collections.abc import Callable

import zmq
from jupyter_client import BlockingKernelClient

from .outputs import CellOutputs, NotebookBudget

POLL_SECONDS = 0.1
WALL_FACTOR = 3  # a cell may take this many times its CPU budget in wall time (waiting on the grader, say)
WALL_EXTRA = 20.0


@dataclasses.dataclass
class Execution:
    """What one execute request came to."""

    status: str  # "ok", "error", "timeout", "died"
    outputs: list
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0  # CPU seconds of the sandbox


def connection_info(runtime: str) -> dict:
    """A kernel connection over IPC sockets in ``runtime`` (as the kernel sees it)."""
    return {
        "transport": "ipc",
        "ip": f"{runtime}/ipc",
        "shell_port": 1,
        "iopub_port": 2,
        "stdin_port": 3,
        "control_port": 4,
        "hb_port": 5,
        "key": secrets.token_hex(32),
        "signature_scheme": "hmac-sha256",
        "kernel_name": "",
    }


class GradingKernel:
    """One Python kernel for one submission, started by ``launcher`` in ``workdir``."""

    def __init__(self, workdir, launcher, env: dict, startup_timeout: float = 60, budget: NotebookBudget | None = None):
        self.workdir = workdir
        self.launcher = launcher
        self.env = env
        self.startup_timeout = startup_timeout
        self.budget = budget or NotebookBudget()
        self.process = None  # a launchers.Launched
        self.client: BlockingKernelClient | None = None
        self._cpu_before = 0.0  # CPU seconds of kernels this one replaced

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        runtime = self.launcher.runtime_dir()
        connection = connection_info(runtime)
        self.process = self.launcher.launch(connection, self.workdir, self.env)
        client = BlockingKernelClient()
        # The sockets appear when the sandbox is built: retry connecting every 10 ms, not zmq's 100 ms.
        client.context.setsockopt(zmq.RECONNECT_IVL, 10)
        client.load_connection_info(dict(connection, ip=self.process.path(connection["ip"])))
        client.start_channels()
        deadline = time.monotonic() + self.startup_timeout
        while not self._answers(client):
            if not self.process.alive() or time.monotonic() > deadline:
                client.stop_channels()
                why = self.process.failure()
                self.process.kill()
                raise RuntimeError(f"the grading kernel did not start{f' ({why})' if why else ''}")
        self.client = client

    @staticmethod
    def _message(channel, msg_id: str, timeout: float):
        """The next message on ``channel`` answering ``msg_id``, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not channel.socket.poll(timeout=left * 1000):
                return None
            try:
                message = channel.get_msg(timeout=0)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return message
        return None

    def _answers(self, client) -> bool:
        """Does the kernel answer on shell and publish on iopub (so no output is lost to a late subscription)?

        jupyter_client's ``wait_for_ready`` does the same but polls in steps of 0.2 s; this
        waits for the messages themselves, which saves about a quarter of a second per kernel.
        """
        msg_id = client.kernel_info()
        if self._message(client.shell_channel, msg_id, 1.0) is None:
            return False
        return self._message(client.iopub_channel, msg_id, 0.5) is not None

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def restart(self) -> None:
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        if self.process is not None:
            self._cpu_before += self.process.cpu_seconds()
            self.process.kill()
        self.process = self.client = None

    def close(self) -> None:
        self.shutdown()
        self.launcher.close()

    def cpu_seconds(self) -> float:
        """CPU time the submission's kernels have used so far, restarts included."""
        return self._cpu_before + (self.process.cpu_seconds() if self.process is not None else 0.0)

    def reap(self) -> int:
        """End any process the student's code left running (the course needs none); how many."""
        return self.process.reap() if self.process is not None else 0

    # -- execution --------------------------------------------------------------------
    def execute(
        self, code: str, timeout: float, on_input: Callable[[str], str] | None = None, keep_outputs: bool = True
    ) -> Execution:
        """Run ``code``; stop it after ``timeout`` seconds of the sandbox's CPU time.

        ``on_input(prompt)`` answers the code's ``input()`` calls; without it they get "".
        ``keep_outputs=False``: what the code displays is dropped (and costs the notebook nothing).
        """
        if not self.alive():
            return Execution("died", [], "DeadKernel", "the kernel is not running")
        client = self.client
        cpu_start = self.cpu_seconds()
        wall_deadline = time.monotonic() + WALL_FACTOR * timeout + WALL_EXTRA
        msg_id = client.execute(code, store_history=False, allow_stdin=True)
        outputs = CellOutputs(self.budget if keep_outputs else NotebookBudget(0))
        reply = None
        idle = False
        poller = zmq.Poller()
        channels = {
            client.stdin_channel.socket: "stdin",
            client.iopub_channel.socket: "iopub",
            client.shell_channel.socket: "shell",
        }
        for socket in channels:
            poller.register(socket, zmq.POLLIN)
        try:
            while reply is None or not idle:
                used = self.cpu_seconds() - cpu_start
                if used > timeout or time.monotonic() > wall_deadline:
                    return self._timed_out(outputs, used, timeout)
                ready = dict(poller.poll(timeout=POLL_SECONDS * 1000))
                if not ready:
                    if not self.process.alive():
                        return Execution(
                            "died", outputs.finish(), "DeadKernel", "the kernel died", self.cpu_seconds() - cpu_start
                        )
                    continue
                for socket in ready:
                    channel = channels[socket]
                    # The session straight off the socket: the channels' own get_msg goes through asyncio
                    # for every message, which costs more than the message.
                    _, message = client.session.recv(socket, mode=zmq.NOBLOCK)
                    if message is None:
                        continue
                    if message["parent_header"].get("msg_id") != msg_id:
                        continue
                    if channel == "stdin":
                        if message["msg_type"] == "input_request":
                            answer = on_input(str(message["content"].get("prompt", ""))) if on_input else ""
                            client.input(answer)
                    elif channel == "shell":
                        reply = message
                    elif message["msg_type"] == "status":
                        idle = message["content"]["execution_state"] == "idle"
                    else:
                        outputs.add(message)
        finally:
            self.reap()
        content = reply["content"]
        seconds = self.cpu_seconds() - cpu_start
        if content.get("status") == "ok":
            return Execution("ok", outputs.finish(), seconds=seconds)
        return Execution(
            "error",
            outputs.finish(),
            str(content.get("ename", "Error"))[:200],
            str(content.get("evalue", ""))[:2000],
            seconds,
        )

    def _timed_out(self, outputs: CellOutputs, used: float, timeout: float) -> Execution:
        """Interrupt; a kernel that does not come back within a few seconds is restarted.

        The interrupt goes as a message on the control channel, since a signal would
        reach the sandbox's launcher rather than the kernel.
        """
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        deadline = time.monotonic() + 5
        while not self._answers(self.client):
            if time.monotonic() > deadline or not self.process.alive():
                self.restart()
                break
        # Drain what the interrupted request still sends, so it cannot leak into the next one.
        for get in (self.client.get_iopub_msg, self.client.get_shell_msg, self.client.get_stdin_msg):
            while True:
                try:
                    get(timeout=0.05)
                except queue.Empty:
                    break
        return Execution("timeout", outputs.finish(), "Timeout", f"stopped after {timeout:g} s", used)
