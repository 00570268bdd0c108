"""The reference implementation in a process of its own, bounded in time and memory.

Everything the grader asks of the reference (expected results of the cases, the
stand-ins' answers while nn_model and predict are judged) runs here, so neither a
slip in the instructor's solutions (an endless loop mid-edit) nor an input a student
steered into a stand-in can stall or exhaust the grading worker: a call that runs
too long or too big ends this process, which restarts on the next call.

Run by the grader as ``python -I -m autograder.grading.refserver READ_FD WRITE_FD MEMORY_MB``;
it receives the source notebook's JSON first, then one (function, args, kwargs) per
call, and answers ("ok", value) or ("error", text). Messages are pickles between two
processes of the grader; nothing of a student's crosses here undecoded.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from ..context import worker
from ..sandbox.processes import die_with_parent

MEMORY_MB = 1024  # the reference process's address space (a spare one is started with it)


class ReferenceFailure(Exception):
    """The reference could not answer: it failed, ran too long or needed too much memory."""


class ReferenceProcess:
    """A lazily started reference process; one per grading worker."""

    def __init__(self, source_notebook: str, memory_mb: int = MEMORY_MB, timeout: float = 20.0):
        self.source_notebook = source_notebook
        self.memory_mb = memory_mb
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def prestart(cls) -> None:
        """Start a reference process now, to be given its notebook on first use (it takes a while to import)."""
        state = worker()
        if state.spare_reference is None:
            state.spare_reference = cls._spawn(MEMORY_MB)

    @staticmethod
    def _spawn(memory_mb: int) -> tuple[subprocess.Popen, _Pair]:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-m",
                "autograder.grading.refserver",
                str(to_child_r),
                str(from_child_w),
                str(memory_mb),
            ],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_environment(),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        return process, _Pair(from_child_r, to_child_w)

    def _start(self) -> None:
        state = worker()
        spare, state.spare_reference = state.spare_reference, None
        if spare is not None and spare[0].poll() is None and self.memory_mb == MEMORY_MB:
            self._process, self._connection = spare
        else:
            if spare is not None:
                spare[0].kill()
                spare[0].wait()
            self._process, self._connection = self._spawn(self.memory_mb)
        self._connection.send(self.source_notebook)
        status, value = self._receive(60)
        if status != "ok":
            self.close()
            raise ReferenceFailure(f"the reference did not load: {value}")

    def _receive(self, timeout: float):
        if not self._connection.poll(timeout):
            self.close()
            raise ReferenceFailure(f"the reference did not answer within {timeout:g} s")
        try:
            return self._connection.recv()
        except (EOFError, OSError):
            self.close()
            raise ReferenceFailure(f"the reference process ended (over its {self.memory_mb} MB of memory?)") from None

    def call(self, name: str, args: tuple, kwargs: dict | None = None, timeout: float | None = None):
        """The reference's ``name(*args, **kwargs)``; ReferenceFailure when it cannot answer."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            try:
                self._connection.send((name, args, kwargs or {}))
            except OSError:
                self.close()
                raise ReferenceFailure("the reference process ended") from None
            status, value = self._receive(timeout or self.timeout)
        if status != "ok":
            raise ReferenceFailure(value)
        return value

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _Pair:
    """Two one-way pipes as one connection."""

    def __init__(self, read_fd: int, write_fd: int):
        self._in = Connection(read_fd, writable=False)
        self._out = Connection(write_fd, readable=False)

    def send(self, value) -> None:
        self._out.send(value)

    def recv(self):
        return self._in.recv()

    def poll(self, timeout: float) -> bool:
        return self._in.poll(timeout)

    def close(self) -> None:
        self._in.close()
        self._out.close()


def _environment() -> dict:
    """Single-threaded numerical libraries: the reference's arrays are small."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def serve(read_fd: int, write_fd: int, memory_mb: int) -> None:
    die_with_parent()  # ends with its worker
    connection = _Pair(read_fd, write_fd)
    import warnings

    import numpy as np

    from .reference import load_reference_text

    warnings.simplefilter("ignore")  # a reference that overflows on a student's input still answers
    try:
        reference = load_reference_text(connection.recv())  # imported ahead; the notebook comes when needed
    except Exception as error:  # noqa: BLE001 - reported to the grader
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    connection.send(("ok", None))
    while True:
        try:
            name, args, kwargs = connection.recv()
        except EOFError:
            return
        try:
            with np.errstate(all="ignore"):
                answer = ("ok", reference[name](*args, **kwargs))
        except MemoryError:
            answer = ("error", f"the reference's {name} needed more than {memory_mb} MB")
        except Exception as error:  # noqa: BLE001 - reported to the grader
            answer = ("error", f"the reference's {name} raised {type(error).__name__}: {str(error)[:300]}")
        connection.send(answer)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
