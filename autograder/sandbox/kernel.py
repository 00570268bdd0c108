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

import contextlib
import dataclasses
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Literal, Protocol, get_args

import zmq
from jupyter_client import BlockingKernelClient

from . import processes
from .outputs import CellOutputs, NotebookBudget, valid_text
from .relay import Relay, Traffic

POLL_SECONDS = 0.1
CPU_CHECK_SECONDS = 0.05  # how often (wall time) a running cell's CPU time is read: a file read each time
WALL_FACTOR = 3  # a cell may take this many times its CPU budget in wall time (waiting on the grader, say)
WALL_EXTRA = 20.0
MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # of one message a kernel sends, all its parts (see relay.py)
MAX_SUBMISSION_TRAFFIC = 256 * 1024 * 1024  # of everything a submission's kernels send
# Values (objects, arrays, their items) in one message's JSON, counted before it is parsed: 30 MB of "{}," is
# ten million dicts, over a gigabyte once parsed. What a kernel sends the grader has a few dozen (its outputs,
# and the probes' reports, are strings).
MAX_MESSAGE_VALUES = 100_000
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')  # possessive (Python 3.11): linear, whatever the text


def json_values(frame: bytes) -> int:
    """About how many values the JSON ``frame`` holds (commas and brackets outside its strings), in time and
    memory linear in its size whatever it holds; strings are skipped only when the plain count is too high."""
    raw = bytes(frame)
    count = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if count <= MAX_MESSAGE_VALUES:
        return count
    outside = _JSON_STRING.sub(b'""', raw)
    return outside.count(b",") + outside.count(b"[") + outside.count(b"{")


MAX_PROMPT_CHARS = 4 * 1024 * 1024  # an input() prompt: a probe's report or helper call
SEND_TIMEOUT_MS = 5000


class ProtocolError(Exception):
    """The kernel sent something that is not a Jupyter message the grader expects (forged, malformed, too big)."""


# How an execute request ended: "protocol" when the kernel broke the protocol and was ended.
Ending = Literal["ok", "error", "timeout", "died", "protocol"]
ENDINGS = get_args(Ending)


@dataclasses.dataclass
class Execution:
    """What one execute request came to."""

    status: Ending
    outputs: list
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0  # CPU seconds of the sandbox

    def __post_init__(self):
        if self.status not in ENDINGS:
            raise ValueError(f"no such ending: {self.status!r}")


CHANNELS = ("shell", "iopub", "stdin", "control")  # the grader's channels (no heartbeat)


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


class Laps(Protocol):
    """What ``GradingKernel.execute`` needs of code that does several things in turn, each with its own budget."""

    total: float  # CPU seconds for all the laps together
    deadline: float  # time.monotonic() by which all the laps end, however long each may wait

    def turned(self) -> bool:
        """Has a new lap begun since the last call? (Asked after each answer to an input request.)"""
        ...


def _prompt(content: dict) -> str:
    """An input request's prompt, cut just past its cap (so an oversized report is still seen, and refused)."""
    prompt = content.get("prompt", "")
    return prompt[: MAX_PROMPT_CHARS + 1] if isinstance(prompt, str) else ""


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
        self._sockets: list[int] = []  # O_PATH descriptors of the kernel's sockets, while connected
        self._links: str | None = None  # the grader's own folder of the relay's sockets to them
        self._relay: Relay | None = None
        self.traffic = Traffic(MAX_MESSAGE_BYTES, MAX_SUBMISSION_TRAFFIC)  # what all its kernels may send
        self._cpu_before = 0.0  # CPU seconds of kernels this one replaced

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        self.traffic.exceeded, self.traffic.starting = None, True
        try:
            self._start()
        finally:
            self.traffic.starting = False

    def _start(self) -> None:
        runtime = self.launcher.runtime_dir()
        connection = connection_info(runtime)
        self.process = self.launcher.launch(connection, self.workdir, self.env)
        client = BlockingKernelClient()
        # The sockets appear when the sandbox is built: retry connecting every 10 ms, not zmq's 100 ms.
        client.context.setsockopt(zmq.RECONNECT_IVL, 10)
        # Whatever the student's code sends, the grader never holds more than this of one message.
        client.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        # A kernel that broke its own channels must not block the grader: sends give up after a while.
        client.context.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
        deadline = time.monotonic() + self.startup_timeout
        client.load_connection_info(dict(connection, ip=self._pin_sockets(connection, deadline)))
        client.start_channels(hb=False)  # the grader watches the kernel's process, not a heartbeat
        while not self._answers(client):
            if not self.process.alive() or time.monotonic() > deadline:
                client.stop_channels()
                self._unpin_sockets()
                why = self.process.failure()
                self.process.kill()
                raise RuntimeError(f"the grading kernel did not start{f' ({why})' if why else ''}")
        self.client = client

    def _pin_sockets(self, connection: dict, deadline: float) -> str:
        """Hold each of the kernel's sockets by a descriptor, once the kernel has made them (before any
        code of the student's runs), and return the ``ip`` of links to those descriptors in a folder only
        the grader can write: whatever the kernel later puts at its sockets' paths, every connection
        and reconnection goes to the sockets it made at start-up, never to another path on the host."""
        ports = [connection[f"{name}_port"] for name in CHANNELS]
        while True:
            fds = [self.process.open_socket(f"{connection['ip']}-{port}") for port in ports]
            if all(fd is not None for fd in fds):
                break
            for fd in fds:
                processes.close(fd)
            if not self.process.alive() or time.monotonic() > deadline:
                why = self.process.failure()
                self.process.kill()
                raise RuntimeError(f"the grading kernel did not start{f' ({why})' if why else ''}")
            time.sleep(0.005)
        self._sockets = fds
        from . import scratch_dir  # the process's own folder: what a killed grader left is removed by the next

        self._links = tempfile.mkdtemp(prefix="relay-", dir=scratch_dir())
        # zmq connects to the relay, which reaches each socket through its descriptor and counts what comes back
        self._relay = Relay({port: f"/proc/self/fd/{fd}" for port, fd in zip(ports, fds)}, self._links, self.traffic)
        return f"{self._links}/ipc"

    def _unpin_sockets(self) -> None:
        if self._relay is not None:
            self._relay.close()
            self._relay = None
        for fd in self._sockets:
            processes.close(fd)
        self._sockets = []
        if self._links is not None:
            shutil.rmtree(self._links, ignore_errors=True)
            self._links = None

    def _message(self, client, channel, msg_id: str, timeout: float):
        """The next message on ``channel`` answering ``msg_id``, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not channel.socket.poll(timeout=left * 1000):
                return None
            try:
                message = self._receive(channel.socket, "a channel", client)
            except ProtocolError:  # a forged, malformed or oversized message answers nothing
                continue
            parent = message.get("parent_header") if isinstance(message, dict) else None
            if isinstance(parent, dict) and parent.get("msg_id") == msg_id:
                return message
        return None

    def _answers(self, client) -> bool:
        """Does the kernel answer on shell and publish on iopub (so no output is lost to a late subscription)?

        jupyter_client's ``wait_for_ready`` does the same but polls in steps of 0.2 s; this
        waits for the messages themselves, which saves about a quarter of a second per kernel.
        """
        try:
            msg_id = client.kernel_info()
        except zmq.ZMQError:
            return False
        if self._message(client, client.shell_channel, msg_id, 1.0) is None:
            return False
        return self._message(client, client.iopub_channel, msg_id, 0.5) is not None

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def restart(self) -> None:
        self.shutdown()
        self.start()

    def shutdown(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        self._unpin_sockets()
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
        self,
        code: str,
        timeout: float,
        on_input: Callable[[str], str] | None = None,
        keep_outputs: bool = True,
        laps: Laps | None = None,
    ) -> Execution:
        """Run ``code``; stop it after ``timeout`` seconds of the sandbox's CPU time.

        ``on_input(prompt)`` answers the code's ``input()`` calls; without it they get "".
        The time spent answering counts as the submission's CPU time: what the grader does
        on a kernel's behalf (the reference's answers to stand-in calls) is the kernel's to pay.
        ``keep_outputs=False``: what the code displays is dropped (and costs the notebook nothing).
        With ``laps``, code that does several things in turn (a probe of several functions) gets
        ``timeout`` seconds for each, and ``laps.total`` for all, and all end by ``laps.deadline``: a lap
        begins each time ``laps.turned()`` says so after an answer.
        Every message is untrusted: one the grader cannot read ends the kernel (status "protocol").
        """
        if not self.alive():
            return Execution("died", [], "DeadKernel", "the kernel is not running")
        client = self.client
        cpu_start = self.cpu_seconds()
        charged = 0.0  # seconds the grader spent answering this code's input requests
        total = laps.total if laps is not None else timeout
        lap_start = 0.0  # seconds used when the current lap began
        last_deadline = laps.deadline if laps is not None else float("inf")

        def lap_deadline() -> float:  # the wall-clock time a lap may take, within the laps' own deadline
            return min(time.monotonic() + WALL_FACTOR * timeout + WALL_EXTRA, last_deadline)

        wall_deadline = lap_deadline()
        outputs = CellOutputs(self.budget if keep_outputs else NotebookBudget(0))
        try:
            msg_id = client.execute(code, store_history=False, allow_stdin=True)
        except zmq.ZMQError:
            return self._unresponsive(outputs, 0.0)
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
        used, next_check = 0.0, 0.0
        try:
            while reply is None or not idle:
                now = time.monotonic()
                if now >= next_check:  # not at every message: a probe exchanges hundreds
                    used, next_check = self.cpu_seconds() - cpu_start + charged, now + CPU_CHECK_SECONDS
                if self.traffic.exceeded is not None:
                    return self._violated(outputs, self.traffic.exceeded, used)
                if used - lap_start > timeout or used > total or time.monotonic() > wall_deadline:
                    return self._timed_out(outputs, used, timeout)
                ready = dict(poller.poll(timeout=POLL_SECONDS * 1000))
                if not ready:
                    if not self.process.alive():
                        return Execution("died", outputs.finish(), "DeadKernel", "the kernel died", used)
                    continue
                for socket in ready:
                    channel = channels[socket]
                    try:
                        message = self._receive(socket, channel)
                    except ProtocolError as error:
                        return self._violated(outputs, str(error), used)
                    if message is None or message["parent_header"].get("msg_id") != msg_id:
                        continue
                    kind, content = message["msg_type"], message["content"]
                    if channel == "stdin":
                        if kind == "input_request":
                            began = time.monotonic()
                            answer = on_input(_prompt(content)) if on_input else ""
                            charged += time.monotonic() - began
                            if laps is not None and laps.turned():
                                used = lap_start = self.cpu_seconds() - cpu_start + charged
                                wall_deadline = lap_deadline()
                            try:
                                client.input(answer)
                            except zmq.ZMQError:
                                return self._unresponsive(outputs, used)
                    elif channel == "shell":
                        reply = message
                    elif kind == "status":
                        idle = content.get("execution_state") == "idle"
                    else:
                        outputs.add(message)
        finally:
            self.reap()
        content = reply["content"]
        seconds = self.cpu_seconds() - cpu_start + charged
        if content.get("status") == "ok":
            return Execution("ok", outputs.finish(), seconds=seconds)
        return Execution(
            "error",
            outputs.finish(),
            str(content.get("ename", "Error"))[:200],
            str(content.get("evalue", ""))[:2000],
            seconds,
        )

    def _receive(self, socket, channel: str, client=None) -> dict | None:
        """One message off ``socket``, checked to be a well-formed Jupyter message (ProtocolError if not).

        Every message the grader reads of a kernel comes through here (``client``: while it starts, the one
        being connected), its size in values checked before it is parsed. The session is used straight off
        the socket: the channels' own get_msg goes through asyncio for every message, which costs more than
        the message.
        """
        session = (client or self.client).session
        try:
            frames = socket.recv_multipart(zmq.NOBLOCK)
        except zmq.ZMQError:
            return None
        try:
            _, frames = session.feed_identities(frames)
            values = sum(json_values(frame) for frame in frames[1:5])  # header, parent, metadata, content
            if values > MAX_MESSAGE_VALUES:
                raise ProtocolError(f"a message of more than {MAX_MESSAGE_VALUES} values on {channel}")
            message = session.deserialize(frames)
        except ProtocolError:
            raise
        except Exception as error:  # noqa: BLE001 - a bad signature, a replayed or malformed message
            raise ProtocolError(f"an unreadable message on {channel} ({type(error).__name__})") from None
        if message is None:
            return None
        if not (
            isinstance(message, dict)
            and isinstance(message.get("parent_header"), dict)
            and isinstance(message.get("msg_type"), str)
            and isinstance(message.get("content"), dict)
        ):
            raise ProtocolError(f"a malformed message on {channel}")
        try:
            message["content"] = valid_text(message["content"])
        except RecursionError:
            raise ProtocolError(f"a message nested too deeply on {channel}") from None
        return message

    def _unresponsive(self, outputs: CellOutputs, used: float) -> Execution:
        """The kernel takes no more messages (its own code broke its channels): it is ended, as if it had died."""
        self.shutdown()
        return Execution("died", outputs.finish(), "DeadKernel", "the kernel stopped taking messages", used)

    def _violated(self, outputs: CellOutputs, why: str, used: float) -> Execution:
        """The kernel broke the protocol: it is ended (a restart gives a fresh one), the outputs so far kept."""
        self.shutdown()
        return Execution("protocol", outputs.finish(), "ProtocolError", why[:200], used)

    def _timed_out(self, outputs: CellOutputs, used: float, timeout: float) -> Execution:
        """Interrupt; a kernel that does not come back within a few seconds is ended (the caller starts
        a fresh one, with what it needs replayed).

        The interrupt goes as a message on the control channel, since a signal would
        reach the sandbox's launcher rather than the kernel.
        """
        with contextlib.suppress(zmq.ZMQError):
            self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        deadline = time.monotonic() + 5
        while not self._answers(self.client):
            if time.monotonic() > deadline or not self.process.alive():
                self.shutdown()
                return Execution("timeout", outputs.finish(), "Timeout", f"stopped after {timeout:g} s", used)
        # Drain what the interrupted request still sends, so it cannot leak into the next one (read as every
        # message is: one the grader must refuse ends the kernel).
        for channel in (self.client.iopub_channel, self.client.shell_channel, self.client.stdin_channel):
            for _ in range(10_000):
                if not channel.socket.poll(timeout=50):
                    break
                try:
                    self._receive(channel.socket, "a channel")
                except ProtocolError:
                    self.shutdown()
                    return Execution("timeout", outputs.finish(), "Timeout", f"stopped after {timeout:g} s", used)
        return Execution("timeout", outputs.finish(), "Timeout", f"stopped after {timeout:g} s", used)
