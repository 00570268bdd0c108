"""What one grading run is asked to do, typed: the course, the limits, the sandbox, where to grade.

The command line builds a ``Settings``; the pipeline and the workers read it and
nothing else. The CPU policy of the sandbox follows from the submission timeout
here, not in the command line.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

from .course import Course
from .sandbox import SandboxLimits

# A kernel's processes together may use this much more CPU time than the submission's budget
# (start-up, probes, the student's cells): past it the sandbox's own limit ends the kernel.
CPU_MARGIN_SECONDS = 60
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)  # submissions graded at once: one per core


class GradingError(Exception):
    """The grader cannot run, or cannot go on; the message says why and what to do."""


@dataclasses.dataclass
class Limits:
    """Time limits, in CPU seconds of the submission's own sandbox (a busy neighbour costs nothing).

    ``c.Execute.timeout`` of nbgrader_config.py is stock nbgrader's wall-clock limit and
    is not read here.
    """

    cell_timeout: float = 10.0  # one student cell, or one function's cases
    submission_timeout: float = 120.0  # the whole submission


def sandbox_limits(limits: Limits, memory_mb: int = SandboxLimits.memory_mb) -> SandboxLimits:
    """The sandbox's own limits for a run with these time limits."""
    return SandboxLimits(memory_mb=memory_mb, cpu_seconds=int(limits.submission_timeout) + CPU_MARGIN_SECONDS)


DERIVED = SandboxLimits()  # a marker: Settings() derives its sandbox's limits from its time limits


@dataclasses.dataclass
class Settings:
    course_dir: Path
    assignment: str
    db_url: str
    workers: int = DEFAULT_WORKERS
    limits: Limits = dataclasses.field(default_factory=Limits)
    # None: no isolation; by default, the sandbox's limits follow from ``limits`` (``sandbox_limits``)
    sandbox: SandboxLimits | None = dataclasses.field(default_factory=lambda: DERIVED)
    secret_file: Path | None = None
    regrade: bool = False
    students: tuple[str, ...] | None = None  # grade only these
    feedback: bool = True
    scheduler: str | None = None  # a Dask scheduler address: grade on that cluster
    security: object | None = None  # distributed.Security for a tls:// scheduler
    warm_kernels: bool = True
    layout: Course | None = None  # the course as an nbgrader command sees it; None: as course_dir's config says

    def __post_init__(self):
        if self.sandbox is DERIVED:
            self.sandbox = sandbox_limits(self.limits)

    @functools.cached_property
    def course(self) -> Course:
        """The assignment's course, laid out as its nbgrader_config.py says (read once)."""
        return self.layout or Course.of(self.course_dir, self.assignment)
