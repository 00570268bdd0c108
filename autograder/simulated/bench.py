"""Benchmarks that print figures: the grader against stock nbgrader, its start-up, how it scales.

    python -m autograder bench [--students 12] [--workers W]   # stock autograde vs grade, same class
    python -m autograder bench --scaling                       # grade alone: 12, 48 and 192 submissions
    python -m autograder bench --variants                      # sandbox or not, warm or cold kernels
    python -m autograder bench --paths                         # one submission: grade, nbgrader, formgrader
    python -m autograder bench --floor                         # grade against the same work in plain processes
    python -m autograder bench --submission                    # one submission's CPU on a warm worker
    python -m autograder bench --watch                         # feedback on submit: one at a time, a burst of 50
    python -m autograder bench --watch --burst 200             # a deadline rush: 200 students within a minute

A class is N synthetic submissions built from the release notebook (correct, one
function wrong, two hard-coded answers, other idioms, in turn). Both graders run as
the commands an instructor types, on copies of the same class, one after the other;
stock nbgrader's autograde with the course's configuration (serial, every cell
executed, hidden tests in the kernel), the grader with its defaults, both without
feedback pages (stock autograde makes none). Every student's total must agree.

The grader reports its own phases (``grade --stats``): start-up before the first
submission is sent (imports, workers, gradebook, workers ready), the grading
itself, and the reports. Memory is sampled every 0.1 s over the grader and all its
processes (workers, zygotes, reference processes, kernels).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .. import ASSIGNMENT, nbgrader_cli
from ..grading.reference import COURSE_ROOT
from .demo import answers_of
from .synthetic import course_notebooks, fill_answers, new_course, use_stock_nbgrader, write_submission

# Demo students whose notebooks stock nbgrader and the grader must score alike
# (no infinite loops, crashes or tampering, which only the grader survives).
MIX = ("ada", "ben", "gus", "ivy")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass
class Timing:
    seconds: float
    totals: dict
    stats: dict = dataclasses.field(default_factory=dict)  # grade --stats
    peak_mb: float = 0.0  # all processes of the run, sampled

    def rate(self) -> float:
        return len(self.totals) / self.seconds if self.seconds else float("inf")


def build_class(folder: Path, students: int, root: Path = COURSE_ROOT) -> Path:
    """A course in ``folder`` (wiped first) with ``students`` submissions."""
    folder = Path(folder).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    new_course(folder, root)
    release, solutions = course_notebooks(ASSIGNMENT, root)
    answers = answers_of(solutions)
    for number in range(students):
        kind = MIX[number % len(MIX)]
        write_submission(fill_answers(release, answers[kind]), folder, f"{kind}-{number:04d}", ASSIGNMENT)
    return folder


def gradebook_totals(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student_id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


def _nbgrader(course: Path, *args: str) -> None:
    result = nbgrader_cli.run(*args, "--log-level=ERROR", cwd=course)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-3000:]}")


class MemorySampler:
    """The largest total resident memory of a process and all its descendants, sampled."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0
        self.current = 0  # the last sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(parent, []).append(int(entry))
        found, todo = [self.pid], [self.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            total = 0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/statm") as handle:
                        total += int(handle.read().split()[1]) * PAGE
                except (OSError, ValueError, IndexError):
                    pass
            self.current = total
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def time_stock(course: Path) -> Timing:
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")  # registers the assignment; not timed
    started = time.monotonic()
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return Timing(time.monotonic() - started, gradebook_totals(course))


def time_grade(course: Path, workers: int, sandbox: bool = True, warm: bool = True) -> Timing:
    """``python -m autograder grade`` on a fresh course, as an instructor runs it (nothing prepared)."""
    stats = Path(tempfile.mkstemp(suffix=".json")[1])
    command = (
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--course",
            str(course),
            "--assignment",
            ASSIGNMENT,
            "--no-feedback",
            "--workers",
            str(workers),
            "--stats",
            str(stats),
        ]
        + ([] if sandbox else ["--no-sandbox"])
        + ([] if warm else ["--cold-kernels"])
    )
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = MemorySampler(process.pid)
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    peak = sampler.stop()
    if process.returncode != 0:
        raise RuntimeError(f"grade failed:\n{output[-3000:]}")
    data = json.loads(stats.read_text())
    stats.unlink()
    return Timing(seconds, gradebook_totals(course), data, peak)


def print_phases(timing: Timing) -> None:
    phases = timing.stats["timings"]
    grading = phases.get("grading", 0.0)
    startup = {k: v for k, v in phases.items() if k not in ("grading", "stop", "reports")}
    print(f"  start-up {sum(startup.values()):.1f} s: " + ", ".join(f"{k} {v:.2f}" for k, v in startup.items()))
    print(
        f"  grading {grading:.1f} s; reports {phases.get('reports', 0):.2f} s; fixed cost (all but grading, "
        f"interpreter and exit included) {timing.seconds - grading:.1f} s"
    )
    print(
        f"  peak memory: grader process {timing.stats['peak_mb']:.0f} MB, with all its processes "
        f"{timing.peak_mb:.0f} MB"
    )


def main(students: int, workers: int, folder: Path, stock: bool = True, sandbox: bool = True) -> int:
    print(f"class of {students} submissions ({', '.join(MIX)} in turn), {workers} worker(s)")
    timings = {}
    if stock:
        timings["stock nbgrader autograde"] = time_stock(use_stock_nbgrader(build_class(folder / "stock", students)))
    ours = timings["python -m autograder grade"] = time_grade(build_class(folder / "grade", students), workers, sandbox)
    width = max(map(len, timings))
    for name, timing in timings.items():
        print(f"{name:<{width}}  {timing.seconds:8.1f} s  {timing.rate():6.2f} submissions/s")
    print_phases(ours)
    if stock:
        theirs = timings["stock nbgrader autograde"]
        print(f"{'speed-up':<{width}}  {theirs.seconds / ours.seconds:8.1f} x")
        disagreements = {
            s: (theirs.totals.get(s), ours.totals.get(s))
            for s in theirs.totals | ours.totals
            if theirs.totals.get(s) != ours.totals.get(s)
        }
        if disagreements:
            print(f"scores DISAGREE for {len(disagreements)} student(s): {disagreements}")
            return 1
        print(f"scores agree for all {students} students")
    return 0


def scaling(workers: int, folder: Path, sizes=(12, 48, 192)) -> int:
    """Time and peak memory of grade for growing classes: cost should grow linearly, memory stay flat."""
    print(f"grade alone, {workers} worker(s), classes of {', '.join(map(str, sizes))} ({', '.join(MIX)} in turn)")
    rows = []
    for size in sizes:
        timing = time_grade(build_class(folder / f"scaling-{size}", size), workers)
        grading = timing.stats["timings"]["grading"]
        rows.append((size, timing, grading))
        print(
            f"{size:5d} submissions  {timing.seconds:7.1f} s  {timing.rate():5.2f} submissions/s  "
            f"grading {grading:6.1f} s ({size / grading:5.2f}/s)  fixed {timing.seconds - grading:4.1f} s  "
            f"peak {timing.stats['peak_mb']:4.0f} MB (all processes {timing.peak_mb:4.0f} MB)"
        )
    (small, first, grading_small), (large, last, grading_large) = rows[0], rows[-1]
    marginal = (grading_large - grading_small) / (large - small)
    print(
        f"marginal cost {marginal:.3f} s per submission ({1 / marginal:.2f} submissions/s); grading time per "
        f"submission {grading_small / small:.3f} s at {small} and {grading_large / large:.3f} s at {large} "
        f"(x{(grading_large / large) / (grading_small / small):.2f}: linear if close to 1)"
    )
    print(
        f"peak memory of all processes {first.peak_mb:.0f} MB at {small} and {last.peak_mb:.0f} MB at {large} "
        f"(x{last.peak_mb / first.peak_mb:.2f}: flat if close to 1)"
    )
    return 0


def variants(students: int, workers: int, folder: Path, rounds: int = 2) -> int:
    """Time grade with and without the sandbox, with warm and cold kernels, interleaved."""
    print(f"class of {students} submissions, {workers} worker(s), {rounds} round(s) of each variant, interleaved")
    names = {
        (True, True): "sandbox, warm kernels",
        (False, True): "no sandbox, warm kernels",
        (True, False): "sandbox, cold kernels",
        (False, False): "no sandbox, cold kernels",
    }
    seconds = {key: [] for key in names}
    for _ in range(rounds):
        for sandbox, warm in names:
            course = build_class(folder / "variant", students)
            seconds[(sandbox, warm)].append(time_grade(course, workers, sandbox, warm).seconds)
    best = {key: min(values) for key, values in seconds.items()}
    width = max(map(len, names.values()))
    for key, name in names.items():
        print(f"{name:<{width}}  {best[key]:7.1f} s  {best[key] / students:6.2f} s per submission")
    print(
        f"sandbox overhead: {best[(True, True)] / best[(False, True)]:.2f}x with warm kernels, "
        f"{best[(True, False)] / best[(False, False)]:.2f}x with cold ones"
    )
    print(f"warm kernels: {best[(True, False)] / best[(True, True)]:.2f}x faster than cold ones (sandboxed)")
    return 0


def paths(folder: Path) -> int:
    """One submission graded by each path to a grade, side by side: what an instructor waits for.

    ``grade --student``, ``nbgrader autograde --student`` (through the judge, as the course's
    configuration sets it), formgrader's Autograde button (a click: one HTTP request to a running
    Jupyter server; the first click starts the judge's processes, the second finds them ready),
    and stock ``nbgrader autograde`` of the same submission for comparison. Every path must give
    the judge's total.
    """
    print("one submission (ada, correct), each path to a grade")
    ada, ben = f"{MIX[0]}-0000", f"{MIX[1]}-0001"
    rows = []
    course = build_class(folder / "paths-grade", 2)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--student", ada, "--no-feedback"],
        capture_output=True,
        text=True,
        env=nbgrader_cli.environment(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"grade failed:\n{result.stdout[-3000:]}")
    rows.append(("python -m autograder grade --student ada", time.monotonic() - started, gradebook_totals(course)))
    course = build_class(folder / "paths-nbgrader", 2)
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    started = time.monotonic()
    _nbgrader(course, "autograde", ASSIGNMENT, "--student", ada)
    rows.append(("nbgrader autograde --student ada", time.monotonic() - started, gradebook_totals(course)))
    course = build_class(folder / "paths-formgrader", 2)
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    server = nbgrader_cli.FormgraderServer(course, folder / "paths-formgrader.log")
    try:
        for student, when in ((ada, "first"), (ben, "second")):
            started = time.monotonic()
            answer = server.autograde(ASSIGNMENT, student)
            if not answer.get("success"):
                raise RuntimeError(f"formgrader's Autograde failed:\n{answer.get('log', '')[-3000:]}")
            rows.append((f"formgrader Autograde, {when} click", time.monotonic() - started, gradebook_totals(course)))
    finally:
        server.stop()
    course = use_stock_nbgrader(build_class(folder / "paths-stock", 2))
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    started = time.monotonic()
    _nbgrader(course, "autograde", ASSIGNMENT, "--student", ada)
    rows.append(("stock nbgrader autograde --student ada", time.monotonic() - started, gradebook_totals(course)))
    width = max(len(name) for name, _, _ in rows)
    for name, seconds, _ in rows:
        print(f"{name:<{width}}  {seconds:6.1f} s")
    judged = {totals.get(ada) for name, _, totals in rows if "stock" not in name}
    if len(judged) != 1:
        print(f"the judge's paths DISAGREE: {judged}")
        return 1
    print(f"every path through the judge gives ada {judged.pop()}")
    return 0


def _plain_training(X, Y, n_h: int = 4, iterations: int = 10_000, rate: float = 1.2) -> float:
    """Seconds for the course's network trained in plain numpy: the unit the notebook's run time is counted in."""
    import numpy as np

    rng = np.random.RandomState(2)
    W1, b1 = rng.randn(n_h, X.shape[0]) * 0.01, np.zeros((n_h, 1))
    W2, b2 = rng.randn(1, n_h) * 0.01, np.zeros((1, 1))
    m = X.shape[1]
    started = time.perf_counter()
    for _ in range(iterations):
        A1 = np.tanh(W1 @ X + b1)
        A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
        -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m  # the cost, computed as nn_model does
        dZ2 = A2 - Y
        dW2, db2 = dZ2 @ A1.T / m, np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * (1 - A1**2)
        dW1, db1 = dZ1 @ X.T / m, np.sum(dZ1, axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - rate * dW1, b1 - rate * db1, W2 - rate * dW2, b2 - rate * db2
    return time.perf_counter() - started


def notebook(assignment: str = ASSIGNMENT, rounds: int = 5) -> int:
    """Run All of the student's notebook with correct answers, against one plain-numpy training, in one run.

    The notebook is the release students get with the instructor's answers filled in, run by nbclient
    in its own folder's copy; its time is the sum of its cells' execution (the kernel's start is not
    Run All's). The unit is a 10 000-iteration training of the same network on the flower in plain
    numpy, timed here just before and after (best of those). Target: Run All at most 16 units.
    """
    from datetime import datetime

    from nbclient import NotebookClient

    from planar_utils import load_planar_dataset

    release, solutions = course_notebooks(assignment)
    X, Y = load_planar_dataset()
    units, runs = [], []
    for _ in range(rounds):
        units.append(_plain_training(X, Y))
        filled = fill_answers(release, answers_of(solutions)["ada"])
        with tempfile.TemporaryDirectory() as folder:
            shutil.copytree(COURSE_ROOT / "release" / assignment, folder, dirs_exist_ok=True)
            NotebookClient(
                filled, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}}
            ).execute()
        cells = []
        for cell in filled.cells:
            timing = cell.get("metadata", {}).get("execution", {})
            if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
                begun = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
                ended = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                cells.append(((ended - begun).total_seconds(), cell.get("id", "?")))
        runs.append(cells)
        units.append(_plain_training(X, Y))
    unit = min(units)
    cells = min(runs, key=lambda run: sum(seconds for seconds, _ in run))
    total = sum(seconds for seconds, _ in cells)
    print(f"{assignment}: Run All with correct answers (best of {rounds}), against plain-numpy training")
    print(f"plain numpy, 10 000 iterations of the 2-4-1 network on the flower: {unit:.2f} s (best of {len(units)})")
    print(f"Run All: {total:.1f} s over {len(cells)} cells = {total / unit:.1f} trainings (target: at most 16)")
    for seconds, cell_id in sorted(cells, reverse=True)[:12]:
        print(f"  {cell_id:<28} {seconds:6.2f} s  {seconds / unit:5.1f} trainings")
    return 0 if total / unit <= 16 else 1


LATENCY_TARGET = (1.5, 2.5)  # seconds: one submission at a time, median and 95th percentile (issue 33)
BURST_MARGIN = 2.0  # seconds: a burst's 95th percentile may exceed the floor's cost of its work by this much


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(share * len(ordered))) - 1)]


def watch(folder: Path, single: int = 8, burst: int = 50, rush: int | None = None, rush_seconds: float = 60.0) -> int:
    """Feedback on submit: seconds from a submission reaching the exchange to its feedback being there.

    A course with an exchange of its own and ``python -m autograder watch`` running beside it;
    submissions are written into the exchange's inbound folder as ``nbgrader submit`` writes them
    (appearing at once, by a rename), first one at a time, each after the previous one's feedback,
    then ``burst`` at once, whose 95th percentile is compared with the floor's cost of the same work
    (plain processes, one per core). The feedback is there when the page named for the submission's
    secret (``release_feedback``'s name) holds its grade.

    With ``rush``: a deadline rush instead, ``rush`` submissions of as many students spread evenly over
    ``rush_seconds``: every one must get its feedback, be graded once (journal and gradebook), in the
    order they came (how far out of it is printed), with the service's memory sampled throughout.
    """
    import secrets as secrets_module
    import statistics

    from nbgrader.utils import notebook_hash

    course = build_class(folder / "watch", 0)
    exchange = folder / "watch-exchange"
    shutil.rmtree(exchange, ignore_errors=True)
    exchange.mkdir(parents=True)
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
        config.write("c.ExchangeCollect.check_owner = False  # one account plays every student here\n")
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    _nbgrader(course, "release_assignment", ASSIGNMENT)
    from ..watch import exchange_of

    _, course_id, _ = exchange_of(course)  # the course id the service reads, as it reads it
    inbound = exchange / course_id / "inbound"
    feedback = exchange / course_id / "feedback"
    release, solutions = course_notebooks(ASSIGNMENT)
    notebooks = {kind: fill_answers(release, answers) for kind, answers in answers_of(solutions).items() if kind in MIX}
    cores = os.cpu_count() or 1
    floor_seconds = None if rush else _floor_of_burst(folder, course, notebooks, single, burst, cores)
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograder",
            "watch",
            "--course",
            str(course),
            "--interval",
            "0.5",
            "--limit",
            "1000",
            "--workers",
            str(cores),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=nbgrader_cli.environment(),
    )
    memory = MemorySampler(service.pid)
    import nbformat

    def hand_in(number: int) -> tuple[float, Path]:
        kind = MIX[number % len(MIX)]
        student = f"{kind}-{number:04d}"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{number:06d} UTC"
        secret = secrets_module.token_hex(64)
        staging = folder / f"staging-{number}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        nbformat.write(notebooks[kind], staging / f"{ASSIGNMENT}.ipynb")
        (staging / "timestamp.txt").write_text(stamp)
        (staging / "submission_secret.txt").write_text(secret)
        staging.rename(inbound / f"{student}+{ASSIGNMENT}+{stamp}+{secrets_module.token_hex(4)}")
        return time.monotonic(), feedback / f"{notebook_hash(secret=secret, notebook_id=ASSIGNMENT)}.html"

    def arrived(page: Path) -> bool:
        try:
            return "Score:" in page.read_text(errors="replace")
        except OSError:
            return False

    def wait(handed: list[tuple[float, Path]], patience: float = 900, handing=None) -> list[float]:
        """Seconds from each hand-in to its feedback (``handed`` may still grow while ``handing`` is alive)."""
        seconds: list = []
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            seconds += [None] * (len(handed) - len(seconds))
            for index, (began, page) in enumerate(handed[: len(seconds)]):
                if seconds[index] is None and arrived(page):
                    seconds[index] = time.monotonic() - began
            if None not in seconds and not (handing and handing.is_alive()):
                return seconds
            time.sleep(0.05)
        raise RuntimeError(f"feedback did not arrive for {seconds.count(None)} submission(s)")

    def describe(name: str, seconds: list[float], target: str = "") -> None:
        ordered = sorted(seconds)
        print(
            f"{name:<28} median {statistics.median(ordered):5.1f} s   95th percentile {_percentile(ordered, 0.95):5.1f} s"
            f"   (fastest {ordered[0]:.1f}, slowest {ordered[-1]:.1f}){target}"
        )

    try:
        print(f"feedback on submit: python -m autograder watch, {cores} core(s)")
        wait([hand_in(9999)])  # the first submission starts the service's workers: not counted
        if rush:
            return _rush(course, hand_in, wait, memory, rush, rush_seconds)
        one_at_a_time = [wait([hand_in(number)])[0] for number in range(single)]
        burst_seconds = wait([hand_in(single + number) for number in range(burst)])
    finally:
        service.terminate()
        service.wait(timeout=300)
        memory.stop()
    low, high = LATENCY_TARGET
    met = statistics.median(one_at_a_time) <= low and _percentile(one_at_a_time, 0.95) <= high
    describe(
        f"one at a time ({single})",
        one_at_a_time,
        f"   target: median <= {low:g} s, 95th <= {high:g} s: {'met' if met else 'NOT met'}",
    )
    bound = floor_seconds + BURST_MARGIN
    describe(
        f"a burst of {burst}",
        burst_seconds,
        f"   target: 95th <= {bound:.1f} s (the floor's {floor_seconds:.1f} s for the same work on {cores} "
        f"core(s) + {BURST_MARGIN:g}): {'met' if _percentile(burst_seconds, 0.95) <= bound else 'NOT met'}",
    )
    return 0


def _floor_of_burst(folder: Path, course: Path, notebooks: dict, first: int, burst: int, cores: int) -> float:
    """Seconds the floor (``_floor_one`` in one plain process per core) takes for the burst's submissions."""
    import multiprocessing

    import nbformat

    from ..course import Course
    from ..markup import points as test_points
    from ..seeds import seed_for

    points = test_points(nbformat.read(Course(course, ASSIGNMENT).release_notebook, as_version=4))
    kept = folder / "floor-of-burst"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    jobs = []
    for number in range(first, first + burst):
        kind = MIX[number % len(MIX)]
        path = kept / f"{kind}-{number:04d}.ipynb"
        nbformat.write(notebooks[kind], path)
        jobs.append((str(path), seed_for(b"floor", ASSIGNMENT, path.stem), points))
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        pool.starmap(_floor_one, jobs)
    return time.monotonic() - started


def _rush(course: Path, hand_in, wait, memory, count: int, spread: float) -> int:
    """``count`` submissions of as many students, spread evenly over ``spread`` seconds (a deadline rush)."""
    before = memory.current / 2**20
    handed: list[tuple[float, Path]] = []
    began = time.monotonic()

    def hand_all() -> None:
        for number in range(count):
            time.sleep(max(0.0, began + spread * number / count - time.monotonic()))
            handed.append(hand_in(number))

    handing = threading.Thread(target=hand_all, daemon=True)
    handing.start()
    seconds = wait(handed, patience=spread + 1800, handing=handing)
    after = memory.current / 2**20
    finished = [start + waited for (start, _), waited in zip(handed, seconds)]
    order = sorted(range(count), key=lambda index: finished[index])
    out_of_order = max(abs(place - index) for place, index in enumerate(order))
    journal = course / ".autograder" / "watch" / "journal.jsonl"
    gradings: dict = {}
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("event") == "graded":
            gradings[entry["student"]] = gradings.get(entry["student"], 0) + 1
    recorded = gradebook_totals(course)
    once = all(n == 1 for n in gradings.values()) and len(gradings) == count + 1 and len(recorded) == count + 1
    ordered = sorted(seconds)
    print(
        f"a rush of {count} students in {spread:g} s: {count - seconds.count(None)} feedback pages, none lost; "
        f"{'each graded once' if once else 'NOT each graded once'} ({len(recorded) - 1} in the gradebook)"
    )
    print(
        f"  from the exchange to feedback: p50 {_percentile(ordered, 0.5):.1f} s, p95 {_percentile(ordered, 0.95):.1f} s,"
        f" max {ordered[-1]:.1f} s; feedback in arrival order within {out_of_order} place(s)"
    )
    print(
        f"  memory of the service and all its processes: {before:.0f} MB before, {after:.0f} MB after, "
        f"peak {memory.peak / 2**20:.0f} MB (x{after / before if before else float('nan'):.2f}: flat if close to 1)"
    )
    return 0 if once else 1


# -- one submission on a warm worker -------------------------------------------------------------------


def _machine_cpu() -> float:
    """CPU seconds the whole machine has spent (user, nice, system), from /proc/stat."""
    with open("/proc/stat") as stat:
        return sum(int(field) for field in stat.readline().split()[1:4]) / os.sysconf("SC_CLK_TCK")


def submission(students: int, folder: Path, rounds: int = 2) -> int:
    """What one submission costs on a warm worker, with and without its feedback page: this process is the
    worker (its zygote and reference process started, its first page made), grading the class one submission
    after another, ``rounds`` times; each round prints CPU seconds per submission of the whole machine, of
    this worker and of the submissions' kernels (their sandboxes' own count), and wall-clock seconds.
    Start-up is left out: this is the cost ``watch`` pays for each submission once it is warm."""
    from .. import sandbox as sandbox_module
    from ..course import Course
    from ..grading.job import CourseBundle, Job
    from ..grading.refserver import ReferenceProcess
    from ..grading.worker import grade
    from ..intake import read_submission
    from ..preflight import prepare_worker
    from ..sandbox.launchers import ZygoteLauncher
    from ..settings import Limits, sandbox_limits

    course = build_class(folder / "submission", students)
    bundle = CourseBundle.from_course(Course(course, ASSIGNMENT))
    limits = Limits()
    sandbox = sandbox_limits(limits)
    ReferenceProcess.prestart()  # as a worker starts (workers._start_worker), its zygote of its own
    ZygoteLauncher.start()
    prepare_worker(bundle, sandbox, True, feedback=True)
    kernel_cpu = [0.0]
    close = sandbox_module.GradingKernel.close

    def counted_close(kernel) -> None:
        kernel_cpu[0] += kernel.cpu_seconds()
        close(kernel)

    sandbox_module.GradingKernel.close = counted_close
    folders = sorted((course / "submitted").iterdir())
    print(f"one submission on a warm worker: {students} submissions ({', '.join(MIX)} in turn), one at a time")
    try:
        for feedback in (False, True):
            for number in range(1, rounds + 1):
                kernel_cpu[0] = 0.0
                machine, mine, wall = _machine_cpu(), time.process_time(), time.monotonic()
                for student in folders:
                    found = read_submission(student / ASSIGNMENT)
                    job = Job(student.name, number, bundle, found, limits, sandbox, True, feedback, identity="bench")
                    if not grade(job).graded:
                        raise RuntimeError(f"{student.name} was not graded")
                each = [_machine_cpu() - machine, time.process_time() - mine, kernel_cpu[0], time.monotonic() - wall]
                machine_s, worker_s, kernel_s, wall_s = (value / students for value in each)
                print(
                    f"{'with its page' if feedback else 'without a page':15} round {number}: CPU per submission "
                    f"{machine_s:.2f} s (worker {worker_s:.2f}, kernel {kernel_s:.2f}, the rest {machine_s - worker_s - kernel_s:.2f}), "
                    f"wall {wall_s:.2f} s"
                )
    finally:
        sandbox_module.GradingKernel.close = close
    return 0


# -- the floor: the same work with nothing around it --------------------------------------------------


def _floor_one(path: str, seed: int, points: dict) -> float:
    """One submission's total, judged in this plain process: its code cells run in a namespace of their own,
    then each function on its visible case and hidden cases against the reference, compared as grade does."""
    import contextlib
    import copy
    import io

    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    from ..grading.cases import USES_HELPERS, compare_result, draw_cases, expected_result, visible_case, with_helpers
    from ..grading.reference import load_reference
    from ..grading.submission import skipped
    from ..markup import is_test

    class NoMagic:  # %matplotlib inline and the like: nothing to do in a plain process
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    notebook = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__", "get_ipython": NoMagic}
    python = TransformerManager().transform_cell
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for cell in notebook.cells:
            if cell.cell_type == "code" and not is_test(cell) and not skipped(cell):
                try:
                    exec(compile(python(cell.source), "<cell>", "exec"), namespace)
                except Exception:  # noqa: BLE001 - a broken cell, as in a kernel: the next one runs
                    pass
    reference = load_reference()
    total = 0.0
    for name, value in points.items():
        function = namespace.get(name)
        cases = [c for c in [visible_case(name)] if c is not None] + draw_cases(name, seed)
        try:
            target = with_helpers(function, {h: reference[h] for h in USES_HELPERS.get(name, ())})
            with contextlib.redirect_stdout(io.StringIO()):
                for case in cases:
                    expected = expected_result(name, case, reference)
                    got = target(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
                    compare_result(name, got, expected, case)
        except Exception:  # noqa: BLE001 - wrong, missing or raising: no points
            continue
        total += value
    return total


def floor(students: int, workers: int, folder: Path) -> int:
    """``grade`` against its floor: for the same class, the same work (the submissions' code cells, each
    function's visible and hidden cases and their reference) in one plain Python process per core, with no
    kernel, no sandbox, no gradebook and no pages. Both measured here, one after the other."""
    import multiprocessing

    import nbformat

    from ..course import Course
    from ..markup import points as test_points
    from ..seeds import load_secret, seed_for

    course = build_class(folder / "floor", students)
    release = nbformat.read(Course(course, ASSIGNMENT).release_notebook, as_version=4)
    points = test_points(release)
    secret = load_secret(Course(course, ASSIGNMENT).secret_file)
    jobs = []
    for student_folder in sorted((course / "submitted").iterdir()):
        seed = seed_for(secret, ASSIGNMENT, student_folder.name)  # hidden values drawn as grade draws them
        jobs.append((student_folder.name, str(student_folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), seed))
    print(f"class of {students} submissions ({', '.join(MIX)} in turn), {workers} core(s)")
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        totals = pool.starmap(_floor_one, [(path, seed, points) for _, path, seed in jobs])
    floor_seconds = time.monotonic() - started
    floor_totals = {student: total for (student, _, _), total in zip(jobs, totals)}
    ours = time_grade(build_class(folder / "grade", students), workers)
    floor_rate, grade_rate = students / floor_seconds, ours.rate()
    grading = ours.stats["timings"].get("grading", 0.0)
    print(f"floor (plain processes)       {floor_seconds:8.1f} s  {floor_rate:6.2f} submissions/s")
    print(f"python -m autograder grade    {ours.seconds:8.1f} s  {grade_rate:6.2f} submissions/s")
    print_phases(ours)
    if grading:
        print(f"  grading phase alone: {students / grading:.2f} submissions/s ({100 * floor_seconds / grading:.0f} %)")
    disagree = {s: (floor_totals[s], ours.totals.get(s)) for s in floor_totals if floor_totals[s] != ours.totals.get(s)}
    if disagree:
        print(f"totals differ from the floor's for {len(disagree)} student(s) (the floor is not sandboxed): {disagree}")
    print(
        f"grading at {100 * grade_rate / floor_rate:.0f} % of the floor ({grade_rate:.2f} submissions/s against {floor_rate:.2f})"
    )
    return 0
