"""The grader's side of a kernel's sockets: every byte the kernel sends passes here and is counted.

zmq delivers a multipart message whole, so it holds every part of one that has not
ended, and its limits are per part: a kernel that sends part after part and never the
last would grow the grading process without bound. So zmq never talks to a kernel
directly: it connects to sockets of this relay, which connects to the kernel's and
copies bytes both ways, reading the ZMTP frames the kernel sends. Past a message's
budget (its frames added up), its number of frames, or the submission's budget (every
byte of every kernel the submission had), the relay stops reading from the kernel and
cuts every connection, and ``Traffic.exceeded`` says why: the kernel is then ended and
the student gets an error verdict. What the grading process can hold of a kernel's
sending is therefore at most the submission's budget.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading

MAX_COMMAND_BYTES = 64 * 1024  # a ZMTP command (READY, PING): small
MAX_FRAMES_PER_MESSAGE = 1000  # a Jupyter message has a handful
CHUNK = 256 * 1024


class Traffic:
    """What a submission's kernels may send, and what they have sent."""

    def __init__(self, per_message: int, per_submission: int):
        self.per_message = per_message
        self.per_submission = per_submission
        self.total = 0
        self.exceeded: str | None = None  # why the current kernel was cut off, once it was
        self.starting = False  # a kernel starting (no student code runs): only the per-message budget holds

    @property
    def exhausted(self) -> bool:
        """Has the submission sent all it may? (Its next kernel may start, but runs nothing more.)"""
        return self.total > self.per_submission

    def charge(self, size: int) -> bool:
        self.total += size
        if self.exhausted and not self.starting and self.exceeded is None:
            self.exceeded = f"the kernel sent more than {self.per_submission // (1024 * 1024)} MB in all"
        return self.exceeded is None


class Frames:
    """ZMTP 3 framing read off the bytes one connection of a kernel sends: how large each message is."""

    GREETING = 64

    def __init__(self, traffic: Traffic):
        self.traffic = traffic
        self.greeting = b""
        self.header = b""
        self.body_left = 0
        self.message = 0  # bytes of the message under way
        self.frames = 0  # frames of the message under way

    def feed(self, data: bytes) -> str | None:
        """Read ``data``; why the kernel broke its budget or the framing, or None."""
        position = 0
        while position < len(data):
            if len(self.greeting) < self.GREETING:
                take = data[position : position + self.GREETING - len(self.greeting)]
                self.greeting += take
                position += len(take)
                if len(self.greeting) > 10 and (self.greeting[0] != 0xFF or self.greeting[10] < 3):
                    return "the kernel does not speak ZMTP 3"
                continue
            if self.body_left:
                take = min(self.body_left, len(data) - position)
                self.body_left -= take
                position += take
                continue
            self.header += data[position : position + 1]
            position += 1
            flags = self.header[0]
            if flags & ~0x07:
                return "a frame with unknown flags"
            size_bytes = 8 if flags & 0x02 else 1
            while len(self.header) < 1 + size_bytes and position < len(data):
                self.header += data[position : position + 1]
                position += 1
            if len(self.header) < 1 + size_bytes:
                break
            size = int.from_bytes(self.header[1:], "big")
            self.header = b""
            self.body_left = size
            if flags & 0x04:  # a command, not part of a message
                if size > MAX_COMMAND_BYTES:
                    return f"a command of {size} bytes"
                continue
            self.message += size
            self.frames += 1
            if self.message > self.traffic.per_message:
                return f"a message of more than {self.traffic.per_message // (1024 * 1024)} MB"
            if self.frames > MAX_FRAMES_PER_MESSAGE:
                return f"a message of more than {MAX_FRAMES_PER_MESSAGE} parts"
            if not flags & 0x01:  # the last frame of the message
                self.message = self.frames = 0
        return None


class Relay:
    """Listens at ``folder/ipc-<port>`` for each of ``targets`` (port -> path of the kernel's socket) and relays
    every connection zmq makes there to the kernel's socket, in one thread, charging ``traffic``."""

    def __init__(self, targets: dict[int, str], folder: str, traffic: Traffic):
        self.traffic = traffic
        self.selector = selectors.DefaultSelector()
        self._closing = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        self.selector.register(self._wake_read, selectors.EVENT_READ, ("wake", None))
        self.listeners = []
        for port, target in targets.items():
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(f"{folder}/ipc-{port}")
            listener.listen(8)
            listener.setblocking(False)
            self.listeners.append(listener)
            self.selector.register(listener, selectors.EVENT_READ, ("listen", target))
        self.pairs: list[_Pair] = []
        self.thread = threading.Thread(target=self._serve, name="kernel-relay", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self._closing:
                for key, events in self.selector.select(timeout=1.0):
                    kind, data = key.data
                    if kind == "wake":
                        with contextlib.suppress(OSError):
                            os.read(self._wake_read, 64)
                    elif kind == "listen":
                        self._accept(key.fileobj, data)
                    else:
                        data.ready(key.fileobj, events)
                    if self.traffic.exceeded is not None:
                        self._cut()
                        return
        except Exception as error:  # noqa: BLE001 - the relay's own failure ends the kernel's connections
            if self.traffic.exceeded is None:
                self.traffic.exceeded = f"the connection to the kernel failed ({type(error).__name__})"
            self._cut()

    def _accept(self, listener, target: str) -> None:
        try:
            grader_side, _ = listener.accept()
        except (BlockingIOError, OSError):
            return
        kernel_side = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            kernel_side.connect(target)
        except OSError:
            grader_side.close()
            kernel_side.close()
            return
        pair = _Pair(self, grader_side, kernel_side)
        self.pairs.append(pair)

    def _cut(self) -> None:
        for pair in self.pairs:
            pair.close()
        self.pairs.clear()
        for listener in self.listeners:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(listener)
            listener.close()
        self.listeners.clear()

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self.thread.join(timeout=5)
        self._cut()
        self.selector.close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


class _Pair:
    """One connection: zmq's end (the grader) and the kernel's, with what is waiting to be written each way."""

    def __init__(self, relay: Relay, grader_side: socket.socket, kernel_side: socket.socket):
        self.relay = relay
        self.grader, self.kernel = grader_side, kernel_side
        self.frames = Frames(relay.traffic)
        self.to_kernel = b""
        self.to_grader = b""
        for side in (self.grader, self.kernel):
            side.setblocking(False)
        self.closed = False
        self._update()

    def _update(self) -> None:
        """Read a side only while nothing read from it waits to be written (the relay holds one chunk at most)."""
        for side, waiting_out, waiting_in in (
            (self.grader, self.to_grader, self.to_kernel),
            (self.kernel, self.to_kernel, self.to_grader),
        ):
            events = (0 if waiting_in else selectors.EVENT_READ) | (selectors.EVENT_WRITE if waiting_out else 0)
            if not events:
                self._unregister(side)
                continue
            try:
                self.relay.selector.modify(side, events, ("pair", self))
            except KeyError:
                self.relay.selector.register(side, events, ("pair", self))

    def _unregister(self, side) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.relay.selector.unregister(side)

    def ready(self, side, events) -> None:
        if self.closed:
            return
        try:
            if events & selectors.EVENT_WRITE:
                self._flush(side)
            if events & selectors.EVENT_READ and not self.closed:
                self._read(side)
        except OSError:
            self.close()
            return
        if not self.closed:
            self._update()

    def _read(self, side) -> None:
        try:
            data = side.recv(CHUNK)
        except BlockingIOError:
            return
        if not data:
            self.close()
            return
        if side is self.kernel:
            why = self.frames.feed(data)
            if why is None and not self.relay.traffic.charge(len(data)):
                why = self.relay.traffic.exceeded
            if why is not None:
                self.relay.traffic.exceeded = self.relay.traffic.exceeded or why
                self.close()
                return
            self.to_grader += data
            self._flush(self.grader)
        else:
            self.to_kernel += data
            self._flush(self.kernel)

    def _flush(self, side) -> None:
        try:
            if side is self.grader and self.to_grader:
                self.to_grader = self.to_grader[side.send(self.to_grader) :]
            elif side is self.kernel and self.to_kernel:
                self.to_kernel = self.to_kernel[side.send(self.to_kernel) :]
        except BlockingIOError:
            pass  # written when the side is writable again

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for side in (self.grader, self.kernel):
            self._unregister(side)
            with contextlib.suppress(OSError):
                side.shutdown(socket.SHUT_RDWR)
            side.close()
