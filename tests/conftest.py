"""Shared fixtures: the course root, the reference solutions, a headless matplotlib."""

from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

from course_spec import SPEC

matplotlib.use("Agg")

# Property tests try 300 examples each (and take their time: no deadline); make test-fast passes
# --hypothesis-profile=quick for 30. Loaded here, before the test modules build their settings from it.
settings.register_profile("full", max_examples=300, deadline=None)
settings.register_profile("quick", max_examples=30, deadline=None)
settings.load_profile("full")

ROOT = Path(__file__).resolve().parent.parent
# A second course's files (tests/e2e/test_spec.py releases and grades it): not tests, and its notebook is no
# stored-output notebook for nbval (its hidden-test cells run under its own COURSE_SPEC only).
collect_ignore = ["second_course"]
# The points of each graded function, as the course specifies them (course.toml, in the order of the notebook),
# and the total: tests compute every expected score from these, never from numbers of their own.
POINTS = dict(SPEC.points)
TOTAL = SPEC.total


def repoint(text: str, changes: dict) -> str:
    """course.toml's text with the points of some functions changed."""
    import re

    for name, points in changes.items():
        start = text.index(f'name = "{name}"')
        line = re.compile(r"^points = [0-9.]+$", re.M).search(text, start)
        text = text[: line.start()] + f"points = {points}" + text[line.end() :]
    return text


def score(*lost: str) -> float:
    """The total of a student who loses the points of exactly these functions."""
    return TOTAL - sum(POINTS[name] for name in lost)


def shown(value: float) -> str:
    """A score as grades.csv and the log write it (100, 82.5)."""
    return f"{value:g}"


def page_score(value: float) -> str:
    """A score as the feedback page's header shows it, out of the course's total."""
    return f"Score: {float(value)} / {float(TOTAL)}"


def pytest_collection_modifyitems(items):
    """Tests under tests/e2e/ start kernels, nbgrader or servers: marked so ``-m "not e2e"`` skips them."""
    for item in items:
        if "e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def reference():
    """The graded functions as the source notebook's solution cells define them."""
    from autograder.grading.reference import load_reference

    return load_reference()


def sandbox_leftovers() -> list[str]:
    """Processes in a PID namespace below ours (kernels, and what they started) and kernels' control groups."""
    from autograder.sandbox import cgroups, processes

    def depth(pid) -> int:
        try:
            with open(f"/proc/{pid}/status") as handle:
                return next(len(line.split()) - 1 for line in handle if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            return 0

    ours = depth("self")
    found = [f"process {pid}" for pid in processes.all_pids() if depth(pid) > ours and processes.alive(pid)]
    return found + [f"control group {path}" for path in cgroups.group_folders()]


def pytest_sessionfinish(session, exitstatus):
    """After the whole suite, nothing of any sandbox is left: no kernel process, no control group."""
    import time

    deadline = time.monotonic() + 10
    while (leftovers := sandbox_leftovers()) and time.monotonic() < deadline:
        time.sleep(0.5)  # a kernel being ended as the last test finishes
    if leftovers:
        print(f"\nsandbox leftovers after the suite: {leftovers}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
