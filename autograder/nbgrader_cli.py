"""nbgrader's own commands, run as subprocesses of this environment, and the environment they need.

nbgrader starts console scripts of its own (``alembic`` when it creates a gradebook,
``jupyter`` for nbconvert): this Python's ``bin/`` goes first on their PATH, so they
are the ones installed beside it, however the grader itself was started.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
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
