"""nbgrader's own commands, run as subprocesses of this environment, the environment they need, and its
formgrader served by a Jupyter server (for the benchmark and the tests that click its buttons over HTTP).

nbgrader starts console scripts of its own (``alembic`` when it creates a gradebook,
``jupyter`` for nbconvert): this Python's ``bin/`` goes first on their PATH, so they
are the ones installed beside it, however the grader itself was started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def environment(base: dict | None = None, **extra: str) -> dict:
    """``base`` (default: this process's environment) with this Python's scripts first on PATH."""
    env = dict(os.environ if base is None else base, **extra)
    scripts = str(Path(sys.executable).parent)
    path = env.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        env["PATH"] = f"{scripts}{os.pathsep}{path}" if path else scripts
    return env


def run(*args: str, cwd: Path | str, env: dict | None = None, timeout: float | None = None):
    """``python -m nbgrader ARGS`` in ``cwd``; the CompletedProcess, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def scripts_on_path() -> Iterator[None]:
    """Within the block, nbgrader called in this process finds its scripts too (PATH restored after)."""
    before = os.environ.get("PATH")
    os.environ["PATH"] = environment()["PATH"]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = before


class FormgraderServer:
    """A Jupyter server with nbgrader's formgrader serving one course, reached over HTTP with a token."""

    def __init__(self, course: Path, log: Path, patience: float = 120):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.token = secrets.token_hex(16)
        self._log = Path(log).open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "server",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={course}",
            ],  # fmt: skip
            cwd=course,
            env=environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + patience
        while True:
            try:
                self.request("GET", "/formgrader/api/status")
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"the Jupyter server did not start: {Path(log).read_text()[-3000:]}") from None
                time.sleep(0.5)

    def request(self, method: str, path: str) -> dict:
        """One call of formgrader's API (its buttons' requests); the JSON answer."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read() or b"{}")

    def autograde(self, assignment: str, student: str) -> dict:
        """What the Autograde button of Manage Submissions does."""
        return self.request("POST", f"/formgrader/api/submission/{assignment}/{student}/autograde")

    def generate_feedback(self, assignment: str, student: str) -> dict:
        return self.request("POST", f"/formgrader/api/assignment/{assignment}/{student}/generate_feedback")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
