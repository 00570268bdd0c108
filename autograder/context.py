"""What a grading process keeps from one submission to the next: one object, in one place.

A grading worker (a process of the local pool, a Dask worker, or the Jupyter server that
runs nbgrader's Autograde) grades many submissions. Starting a kernel or a reference
process costs far more than judging, so a few things outlive each submission: the
worker's scratch folder, its connection to a zygote (warm kernels), a reference
process started ahead, and the reference process of each course notebook. They are
all here, so that what a worker holds is seen at a glance; the modules that own each thing (``sandbox``, ``sandbox.launchers``,
``grading.refserver``, ``grading.worker``) keep their logic and read their part from
``worker()``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class Zygote:
    """The worker's zygote: the run's shared one (``socket_path``) or a private child (``process``)."""

    process: Any = None  # subprocess.Popen of a private zygote
    socket: Any = None  # socket.socket connected to it
    socket_path: str | None = None  # the shared zygote's socket, when the run has one
    log: Path | None = None


@dataclasses.dataclass
class Worker:
    scratch: Path | None = None  # sandbox.scratch_dir: this process's folder, held by a lock
    scratch_lock: int | None = None
    zygote: Zygote = dataclasses.field(default_factory=Zygote)
    spare_reference: Any = None  # grading.refserver: a reference process started ahead, without its notebook
    references: dict = dataclasses.field(default_factory=dict)  # grading.worker: source notebook -> process


_WORKER = Worker()


def worker() -> Worker:
    """This process's state."""
    return _WORKER
