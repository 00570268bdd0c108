"""Grade a class: find submissions, grade them in workers, record each as it finishes.

Workers return plain results; only this process writes files and the gradebook,
and each submission is committed in one transaction after its files are written,
so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

from . import ASSIGNMENT, EDITIONS, GRADED_FUNCTIONS
from . import gradebook as gb
from .judge import CourseBundle, FunctionResult, Job, Limits, SubmissionResult, grade, read_submission, read_timestamp

STUDENT_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
STATE_DIR = ".autograder"  # the grader's own files in the course: secret, results (never seen by kernels)


class GradingError(Exception):
    """The grader cannot run; the message says why and what to do."""


@dataclasses.dataclass
class Settings:
    course_dir: Path
    assignment: str
    db_url: str
    workers: int = max(1, os.cpu_count() or 1)
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: dict | None = dataclasses.field(default_factory=dict)  # None: no isolation
    secret_file: Path | None = None
    regrade: bool = False
    feedback: bool = True
    scheduler: str | None = None  # a Dask scheduler address: grade on that cluster
    warm_kernels: bool = True
    @property
    def reports_dir(self) -> Path:
        return self.course_dir / "reports" / self.assignment

    @property
    def state_dir(self) -> Path:
        return self.course_dir / STATE_DIR / self.assignment


@dataclasses.dataclass
class RunSummary:
    results: list  # SubmissionResult of every graded student, this run and earlier ones
    graded_now: int
    resumed: int
    skipped: list  # (folder, reason) for folders that are not submissions
    seconds: float
    csv_path: Path
    feedback_ok: bool


# -- course layout -----------------------------------------------------------------------------

def discover(course_dir: Path, assignment: str) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """(student, submission folder) pairs under submitted/, and folders that were skipped."""
    submitted = course_dir / "submitted"
    found, skipped = [], []
    if not submitted.is_dir():
        return found, skipped
    for folder in sorted(submitted.iterdir()):
        if not folder.is_dir():
            continue
        if not STUDENT_ID.match(folder.name):
            skipped.append((folder.name, "not a valid student id"))
            continue
        if (folder / assignment).exists():
            found.append((folder.name, folder / assignment))
    return found, skipped


def default_assignment(course_dir: Path) -> str:
    """The only assignment in source/, or else the only one that has submissions."""
    source = course_dir / "source"
    names = sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    if len(names) == 1:
        return names[0]
    submitted = [name for name in names if any((course_dir / "submitted").glob(f"*/{name}"))]
    if len(submitted) == 1:
        return submitted[0]
    raise GradingError(f"{source} holds {len(names)} assignments ({', '.join(names) or 'none'})"
                       f"{f', {len(submitted)} with submissions' if names else ''}; name one with --assignment")


def db_url_from_config(course_dir: Path) -> str:
    """The gradebook URL of the course's nbgrader_config.py (sqlite:///gradebook.db if unset)."""
    config_file = course_dir / "nbgrader_config.py"
    url = "sqlite:///gradebook.db"
    if config_file.is_file():
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader(config_file.name, path=str(course_dir)).load_config()
        url = config.CourseDirectory.get("db_url", url) if "CourseDirectory" in config else url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{(course_dir / url[len('sqlite:///'):]).resolve()}"
    return url


# -- secrets and seeds ---------------------------------------------------------------------------

def load_secret(path: Path) -> bytes:
    """The grader's secret, created (readable by its owner only) on first use."""
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) < 16:
            raise GradingError(f"the secret in {path} is too short (16 bytes at least)")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def seed_for(secret: bytes, assignment: str, student: str) -> int:
    """The hidden-case seed of one student: the same for the same secret, unguessable without it.

    Every edition of the assignment draws the cases of the original, so a student's code
    gets the same verdicts in either language.
    """
    assignment = ASSIGNMENT if assignment in EDITIONS else assignment
    digest = hmac.new(secret, f"{assignment}/{student}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


# -- results on disk ------------------------------------------------------------------------------

def _save_result(settings: Settings, result: SubmissionResult) -> None:
    course = settings.course_dir
    if result.notebook_json is not None:
        folder = course / "autograded" / result.student / settings.assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{settings.assignment}.ipynb").write_text(result.notebook_json, encoding="utf-8")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    data = dataclasses.asdict(result)
    data.pop("notebook_json")
    (settings.state_dir / f"{result.student}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _load_result(settings: Settings, student: str) -> SubmissionResult | None:
    path = settings.state_dir / f"{student}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["functions"] = [FunctionResult(**f) for f in data["functions"]]
        return SubmissionResult(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_csv(path: Path, results: Iterable[SubmissionResult]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "total", *GRADED_FUNCTIONS, "status", "seconds", "sandboxed"])
        for result in sorted(results, key=lambda r: r.student):
            scores = {f.name: f.score for f in result.functions}
            writer.writerow([result.student, _number(result.total),
                             *(_number(scores.get(name, 0.0)) for name in GRADED_FUNCTIONS),
                             result.status, f"{result.seconds:.2f}", "yes" if result.sandboxed else "NO"])
    return path


def _number(value: float) -> str:
    return f"{value:g}"


# -- the run -----------------------------------------------------------------------------------------

def _failed(job: Job, error: BaseException) -> SubmissionResult:
    """A result for a submission whose worker itself failed (not the student's doing)."""
    functions = [FunctionResult(name, 0.0, 0.0, "not run", f"grader error: {error}") for name in GRADED_FUNCTIONS]
    return SubmissionResult(job.student, f"grader error: {type(error).__name__}: {error}", functions, 0.0,
                            sandboxed=job.sandbox is not None)


def run(settings: Settings, on_progress: Callable[[str, int, int, SubmissionResult | None], None] | None = None,
        executor_factory=None) -> RunSummary:
    """Grade every submission of the assignment that is not graded yet (all with ``regrade``)."""
    started = time.monotonic()
    course = settings.course_dir
    _put_own_scripts_on_path()
    if not (course / "source" / settings.assignment / f"{settings.assignment}.ipynb").is_file():
        raise GradingError(f"no source notebook source/{settings.assignment}/{settings.assignment}.ipynb "
                           f"in {course}")
    try:
        if not gb.is_registered(settings.db_url, settings.assignment):
            gb.register(course, settings.db_url, settings.assignment)
        done = set() if settings.regrade else gb.graded_students(settings.db_url, settings.assignment)
    except gb.GradebookError as error:
        raise GradingError(str(error)) from error
    if settings.sandbox is not None:
        from .sandbox import SandboxUnavailable, check

        try:
            check()
        except SandboxUnavailable as error:
            raise GradingError(f"{error}. To grade without isolation anyway, pass --no-sandbox.") from error
    secret = load_secret(settings.secret_file or course / STATE_DIR / "secret")
    submissions, skipped = discover(course, settings.assignment)
    bundle = CourseBundle.from_course(course, settings.assignment)
    jobs = [Job(student, seed_for(secret, settings.assignment, student), bundle, read_submission(folder),
                read_timestamp(folder), settings.limits, settings.sandbox, settings.warm_kernels)
            for student, folder in submissions if student not in done]
    results = {}
    for student, _ in submissions:
        if student in done:
            previous = _load_result(settings, student)
            if previous is not None:
                results[student] = previous
    total = len(jobs)
    if on_progress:
        on_progress("start", 0, total, None)
    factory = executor_factory or (_dask_executor(settings.scheduler) if settings.scheduler else
                                   lambda n: concurrent.futures.ProcessPoolExecutor(
                                       max_workers=n, mp_context=multiprocessing.get_context("spawn")))
    finished = 0
    if jobs:
        with factory(max(1, min(settings.workers, len(jobs)))) as executor:
            futures = {executor.submit(grade, job): job for job in jobs}
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - recorded against this submission only
                    result = _failed(job, error)
                _save_result(settings, result)
                try:
                    gb.record(settings.db_url, settings.assignment, result)
                except gb.GradebookError as error:
                    for other in futures:
                        other.cancel()
                    raise GradingError(f"{error}. Grades recorded so far are kept; rerun to resume.") from error
                results[result.student] = result
                finished += 1
                if on_progress:
                    on_progress("graded", finished, total, result)
    csv_path = write_csv(settings.reports_dir / "grades.csv", results.values())
    feedback_ok = generate_feedback(settings) if settings.feedback and results else True
    from .reports import write_reports

    write_reports(settings.reports_dir, list(results.values()), course / "feedback", settings.assignment)
    return RunSummary(list(results.values()), finished, len(submissions) - len(jobs), skipped,
                      time.monotonic() - started, csv_path, feedback_ok)


def _dask_executor(address: str):
    """A factory of concurrent.futures executors running on the Dask cluster at ``address``."""
    import contextlib

    try:
        from distributed import Client
    except ImportError as error:
        raise GradingError("--scheduler needs dask.distributed (pip install distributed)") from error

    @contextlib.contextmanager
    def executor(_workers: int):
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise GradingError(f"cannot reach the Dask scheduler at {address}: {error}") from error
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()

    return executor


def _put_own_scripts_on_path() -> None:
    """nbgrader starts console scripts of its own (alembic when it creates a gradebook)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"


def generate_feedback(settings: Settings) -> bool:
    """nbgrader's feedback HTML for every autograded student; False if nbgrader failed."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", settings.assignment, "--force",
         f"--db={settings.db_url}", "--log-level=ERROR", f"--CourseDirectory.root={settings.course_dir}"],
        cwd=settings.course_dir, capture_output=True, text=True,
    )
    return result.returncode == 0
