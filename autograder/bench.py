"""Benchmark: stock ``nbgrader autograde`` against ``grade`` on the same synthetic class.

    python -m autograder bench [--students N] [--workers W]

Builds a class of N submissions (a rotating mix of perfect, buggy, blank,
hard-coded and other-idiom notebooks), grades one copy with stock nbgrader
(its plain configuration: serial, every cell executed, hidden tests in the kernel)
and another with ``grade``, checks that every student gets the same total from
both, and prints both times, their ratio and submissions per second.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import ASSIGNMENT
from .demo import _answers
from .reference import COURSE_ROOT
from .synthetic import course_notebooks, fill_answers, new_course, write_submission

# Demo students whose notebooks stock nbgrader and the grader must score alike
# (no infinite loops, crashes or tampering, which only the grader survives).
MIX = ("ada", "ben", "cleo", "gus", "ivy")


@dataclasses.dataclass
class Timing:
    seconds: float
    totals: dict

    def rate(self) -> float:
        return len(self.totals) / self.seconds if self.seconds else float("inf")


def build_class(folder: Path, students: int, root: Path = COURSE_ROOT) -> Path:
    """A course in ``folder`` (wiped first) with ``students`` submissions."""
    folder = Path(folder).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    new_course(folder, root)
    release, solutions = course_notebooks(ASSIGNMENT, root)
    answers = _answers(solutions)
    for number in range(students):
        kind = MIX[number % len(MIX)]
        write_submission(fill_answers(release, answers[kind]), folder, f"{kind}-{number:04d}", ASSIGNMENT)
    return folder


def gradebook_totals(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def _nbgrader(course: Path, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"], cwd=course,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def time_stock(course: Path) -> Timing:
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")  # registers the assignment; not timed
    started = time.monotonic()
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return Timing(time.monotonic() - started, gradebook_totals(course))


def time_grade(course: Path, workers: int, sandbox: bool, warm: bool = True) -> Timing:
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")  # registers the assignment; not timed
    command = [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--assignment", ASSIGNMENT,
               "--no-feedback", "--workers", str(workers)] + ([] if sandbox else ["--no-sandbox"]) \
        + ([] if warm else ["--cold-kernels"])
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"grade failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return Timing(seconds, gradebook_totals(course))


def variants(students: int, workers: int, folder: Path, rounds: int = 2) -> int:
    """Time grade with and without the sandbox, with warm and cold kernels, interleaved."""
    print(f"class of {students} submissions, {workers} worker(s), {rounds} round(s) of each variant, interleaved")
    names = {(True, True): "sandbox, warm kernels", (False, True): "no sandbox, warm kernels",
             (True, False): "sandbox, cold kernels", (False, False): "no sandbox, cold kernels"}
    seconds = {key: [] for key in names}
    for _ in range(rounds):
        for (sandbox, warm) in names:
            course = build_class(folder / "variant", students)
            seconds[(sandbox, warm)].append(time_grade(course, workers, sandbox, warm).seconds)
    best = {key: min(values) for key, values in seconds.items()}
    width = max(map(len, names.values()))
    for key, name in names.items():
        print(f"{name:<{width}}  {best[key]:7.1f} s  {best[key] / students:6.2f} s per submission")
    print(f"sandbox overhead: {best[(True, True)] / best[(False, True)]:.2f}x with warm kernels, "
          f"{best[(True, False)] / best[(False, False)]:.2f}x with cold ones")
    print(f"warm kernels: {best[(True, False)] / best[(True, True)]:.2f}x faster than cold ones (sandboxed)")
    return 0


def main(students: int, workers: int, folder: Path, stock: bool = True, sandbox: bool = True) -> int:
    print(f"class of {students} submissions ({', '.join(MIX)} in turn), {workers} worker(s)")
    timings = {}
    if stock:
        timings["stock nbgrader autograde"] = time_stock(build_class(folder / "stock", students))
    timings["python -m autograder grade"] = time_grade(build_class(folder / "grade", students), workers, sandbox)
    width = max(map(len, timings))
    for name, timing in timings.items():
        print(f"{name:<{width}}  {timing.seconds:8.1f} s  {timing.rate():6.2f} submissions/s")
    if stock:
        ours, theirs = timings["python -m autograder grade"], timings["stock nbgrader autograde"]
        print(f"{'speed-up':<{width}}  {theirs.seconds / ours.seconds:8.1f} x")
        disagreements = {s: (theirs.totals.get(s), ours.totals.get(s)) for s in theirs.totals | ours.totals
                         if theirs.totals.get(s) != ours.totals.get(s)}
        if disagreements:
            print(f"scores DISAGREE for {len(disagreements)} student(s): {disagreements}")
            return 1
        print(f"scores agree for all {students} students")
    return 0
