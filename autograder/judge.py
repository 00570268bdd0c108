"""Grade one submission: run the student's cells, probe each graded function, judge here.

The kernel only runs the student's code and reports what the graded functions
returned; expected values are computed and compared in this process. The result
is plain data plus the autograded notebook, for the one process that writes the
gradebook.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from nbgrader.utils import determine_grade

import testCases

from . import GRADED_FUNCTIONS, codec
from .cases import USES_HELPERS, Case, compare_result, draw_cases, expected_result
from .kernel import Execution, GradingKernel
from .probe import CALL, REPORT, parse_report, probe_source
from .reference import grade_id, load_reference_text

# The reference seeds numpy's global generator (initialize_parameters), as do the visible
# test cases: computations on it are serialised when a worker grades in several threads.
REFERENCE_LOCK = threading.Lock()

SKIP_TAG = "explore"  # cells tagged so are exploration, not needed for grading
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_REPORT_CHARS = 20 * 1024 * 1024
MAX_EXTRA_FILE_BYTES = 5 * 1024 * 1024


@dataclasses.dataclass
class Limits:
    cell_timeout: float = 10.0  # seconds for one student cell or one probe
    submission_timeout: float = 120.0  # seconds for the whole submission


@dataclasses.dataclass
class CourseBundle:
    """What grading needs of the course, as data: it travels to workers on other machines."""

    assignment: str
    source_notebook: str  # the instructor notebook (JSON): solutions, hence the reference
    release_notebook: str  # the student version (JSON): the test cells to restore
    helpers: dict  # file name -> bytes: the non-notebook files of source/<assignment>/

    @classmethod
    def from_course(cls, course_dir: Path, assignment: str) -> "CourseBundle":
        source_dir = Path(course_dir) / "source" / assignment
        source = (source_dir / f"{assignment}.ipynb").read_text(encoding="utf-8")
        release_path = Path(course_dir) / "release" / assignment / f"{assignment}.ipynb"
        release = release_path.read_text(encoding="utf-8") if release_path.is_file() else \
            nbformat.writes(_release_from_source(nbformat.reads(source, as_version=4)))
        helpers = {p.name: p.read_bytes() for p in sorted(source_dir.iterdir())
                   if p.is_file() and p.suffix != ".ipynb"}
        return cls(assignment, source, release, helpers)


@dataclasses.dataclass
class Job:
    """Everything a worker needs to grade one submission (plain data, picklable)."""

    student: str
    seed: int
    course: CourseBundle
    files: dict | None  # the submission folder: file name -> bytes (None: no folder)
    timestamp: str | None = None
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: dict | None = None  # options for the sandbox, None to run without one
    warm_kernels: bool = True  # fork kernels from a process that imported the libraries already


@dataclasses.dataclass
class FunctionResult:
    name: str
    points: float
    score: float
    outcome: str  # passed, failed, error, timeout, kernel died, memory limit, missing, not run
    message: str = ""
    seconds: float = 0.0


@dataclasses.dataclass
class SubmissionResult:
    student: str
    status: str  # "ok" or the reasons the submission could not be graded in full
    functions: list
    seconds: float
    notebook_json: str | None = None  # the autograded notebook
    timestamp: str | None = None
    sandboxed: bool = True

    @property
    def total(self) -> float:
        return sum(f.score for f in self.functions)


class SubmissionProblem(Exception):
    """The submission cannot be graded at all; the message is the status."""


# -- reading the submission ----------------------------------------------------------------

def find_notebook(files: dict | None, assignment: str) -> tuple[str, str]:
    """The name of the notebook to grade, and a note when it is not the expected one."""
    expected = f"{assignment}.ipynb"
    if files is None:
        raise SubmissionProblem("missing submission folder")
    if expected in files:
        return expected, ""
    candidates = sorted(name for name in files if name.endswith(".ipynb"))
    if len(candidates) == 1:
        return candidates[0], f"misnamed notebook {candidates[0]} (graded anyway)"
    if not candidates:
        raise SubmissionProblem(f"missing notebook: no {expected} in the submission")
    raise SubmissionProblem(f"missing notebook: no {expected}, and {len(candidates)} other notebooks")


def read_notebook(raw: bytes | None) -> nbformat.NotebookNode:
    if raw is None:
        raise SubmissionProblem(f"malformed notebook: larger than the {MAX_NOTEBOOK_BYTES} bytes allowed")
    if len(raw) == 0:
        raise SubmissionProblem("malformed notebook: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionProblem("malformed notebook: not a text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem(f"malformed notebook: invalid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict) or "cells" not in data:
        raise SubmissionProblem("malformed notebook: not a Jupyter notebook")
    if data.get("nbformat") != 4:
        raise SubmissionProblem(f"malformed notebook: nbformat {data.get('nbformat')!r}, expected 4")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - any schema problem is the submission's
        raise SubmissionProblem(f"malformed notebook: {str(error).splitlines()[0][:200]}") from None
    return notebook


def read_submission(folder: Path) -> dict | None:
    """The regular files of a submission folder (links and subfolders ignored), within size limits.

    A notebook over the limit is kept as None (reported as too large), other large files are left out.
    """
    if not folder.is_dir():
        return None
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or path.name == "timestamp.txt":
            continue
        size = path.stat().st_size
        if path.suffix == ".ipynb":
            files[path.name] = path.read_bytes() if size <= MAX_NOTEBOOK_BYTES else None
        elif size <= MAX_EXTRA_FILE_BYTES:
            files[path.name] = path.read_bytes()
    return files


# -- the notebook that is executed and stored -----------------------------------------------

def restore(student: nbformat.NotebookNode, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's notebook with the instructor's test cells, whatever was done to them.

    Test cells come from the release (the visible part, as students saw it): edited
    ones are replaced, deleted or renamed ones re-added after their function's answer
    cell. nbgrader markup the release does not have is removed, so a student cannot
    invent grade cells; duplicated ids keep their first cell only.
    """
    release_cells = {grade_id(c): c for c in release.cells if grade_id(c)}
    notebook = copy.deepcopy(student)
    seen = set()
    for cell in notebook.cells:
        cell_id = grade_id(cell)
        if cell_id is None:
            continue
        original = release_cells.get(cell_id)
        is_answer = original is not None and original.metadata.nbgrader.get("solution")
        if original is None or cell_id in seen or (is_answer and cell.cell_type != "code"):
            del cell.metadata["nbgrader"]
            continue
        seen.add(cell_id)
        if is_answer:
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata.nbgrader)
        else:  # a test cell: the instructor's, verbatim
            cell.source = original.source
            cell.metadata = copy.deepcopy(original.metadata)
            cell.cell_type = "code"
    for name in GRADED_FUNCTIONS:
        test_id = f"test_{name}"
        if test_id in seen:
            continue
        index = next((i + 1 for i, c in enumerate(notebook.cells) if grade_id(c) == name), len(notebook.cells))
        notebook.cells.insert(index, copy.deepcopy(release_cells[test_id]))
        seen.add(test_id)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _skipped(cell) -> bool:
    return SKIP_TAG in cell.get("metadata", {}).get("tags", [])


# -- running it -------------------------------------------------------------------------------

class Grader:
    """Grades one submission in one kernel (restarted when the student's code kills it)."""

    def __init__(self, job: Job, reference, kernel_factory):
        self.job = job
        self.reference = reference
        self.kernel_factory = kernel_factory
        self.kernel: GradingKernel | None = None
        self.deadline = 0.0
        self.definitions: list = []  # student cells that ran, replayed after a restart
        self.problems: list[str] = []

    # time
    def _budget(self) -> float:
        return min(self.job.limits.cell_timeout, self.deadline - time.monotonic())

    def run(self, notebook: nbformat.NotebookNode) -> list[FunctionResult]:
        self.deadline = time.monotonic() + self.job.limits.submission_timeout
        self.kernel = self.kernel_factory()
        try:
            self.kernel.start()
            self._run_definitions(notebook)
            return [self._judge(name, notebook) for name in GRADED_FUNCTIONS]
        finally:
            self.kernel.close()

    def _run_definitions(self, notebook) -> None:
        count = 0
        for cell in notebook.cells:
            if cell.cell_type != "code" or _is_test(cell):
                continue
            if _skipped(cell):
                cell.outputs = [nbformat.v4.new_output(
                    "stream", name="stdout", text=f"[not run while grading: tagged '{SKIP_TAG}']\n")]
                continue
            if self._budget() <= 0:
                cell.outputs = [_note("not run: the submission's time limit was reached")]
                continue
            result = self.kernel.execute(cell.source, self._budget())
            count += 1
            cell.execution_count = count
            cell.outputs = result.outputs
            if result.status in ("ok", "error"):
                self.definitions.append(cell.source)
            elif result.status == "timeout":
                cell.outputs.append(_note(f"stopped: this cell ran longer than {self.job.limits.cell_timeout:g} s"))
                self.problems.append(f"timeout in cell {cell.get('id', '?')}")
            else:  # the cell killed the kernel: start again without it
                cell.outputs.append(_note("the kernel died while running this cell; it was skipped"))
                self.problems.append(f"kernel died in cell {cell.get('id', '?')}")
                self._restart()

    def _restart(self) -> None:
        """A fresh kernel with the student's definitions replayed, as far as time allows."""
        self.kernel.restart()
        for source in self.definitions:
            if self._budget() <= 0:
                return
            if self.kernel.execute(source, self._budget()).status == "died":
                self.kernel.restart()

    def _cases(self, name: str) -> list[Case]:
        """The visible case (as testCases builds it), then the hidden ones of this student."""
        cases = draw_cases(name, self.job.seed)
        if name != "nn_model":  # its visible case trains 10 000 iterations; the hidden ones suffice
            with REFERENCE_LOCK:
                visible_args = getattr(testCases, f"{name}_test_case")()
            cases.insert(0, Case(tuple(visible_args), {}, "the visible case"))
        return cases

    def _judge(self, name: str, notebook) -> FunctionResult:
        """Run all cases of one function in one probe; each report is judged as it arrives."""
        started = time.monotonic()
        points = _points(notebook, name)
        helpers = USES_HELPERS.get(name, ())
        if self._budget() <= 0:
            return FunctionResult(name, points, 0, "timeout", "not graded: the submission's time limit was reached")
        cases = self._cases(name)
        with REFERENCE_LOCK:
            expected = [expected_result(name, case, self.reference) for case in cases]
        labels, hidden = [], 0
        for case in cases:
            if case.description == "the visible case":
                labels.append(case.description)
            else:
                hidden += 1
                labels.append(f"hidden case {hidden} ({case.description})")
        verdicts: list = []  # per reported case: None if it passed, else (outcome, message)

        def on_input(prompt: str) -> str:
            if prompt.startswith(REPORT):
                if len(verdicts) >= len(cases) or len(prompt) > MAX_REPORT_CHARS:
                    return "stop"
                index = len(verdicts)
                verdicts.append(self._verdict(name, prompt[len(REPORT):], expected[index], labels[index]))
                return "continue" if verdicts[-1] is None else "stop"
            if prompt.startswith(CALL) and len(verdicts) < len(cases):
                return self._serve_helper(prompt[len(CALL):], helpers)
            return ""

        execution = self.kernel.execute(probe_source(name, [(c.args, c.kwargs) for c in cases], helpers),
                                        self._budget(), on_input=on_input)
        failure = next((v for v in verdicts if v is not None), None)
        if failure is None and len(verdicts) < len(cases):
            failure = self._no_report(name, execution, labels[len(verdicts)])
        seconds = time.monotonic() - started
        if failure is None:
            return FunctionResult(name, points, points, "passed", "", seconds)
        outcome, message = failure
        if outcome in ("timeout", "kernel died", "memory limit"):
            self.problems.append(f"{outcome} in {name}")
            if not self.kernel.alive() or outcome != "timeout":
                self._restart()
        return FunctionResult(name, points, 0, outcome, message, seconds)

    def _serve_helper(self, text: str, helpers: tuple) -> str:
        """Answer a stand-in helper: the reference's result, as plain data."""
        try:
            request = codec.loads(text)
            helper = request["helper"]
            if helper not in helpers:
                raise ValueError(f"{helper} is not available here")
            with REFERENCE_LOCK:
                value = self.reference[helper](*request["args"], **request["kwargs"])
            return codec.dumps({"value": value})
        except Exception as error:  # noqa: BLE001 - reported back to the student's code
            return codec.dumps({"raise": f"{type(error).__name__}: {error}"[:500]})

    def _verdict(self, name: str, text: str, expected, label: str):
        """None if the reported result is right, else (outcome, message)."""
        try:
            report = parse_report(text)
        except (ValueError, TypeError, KeyError) as error:
            return "error", f"{label}: the result could not be read ({error})"
        status = report["status"]
        if status == "missing":
            return "missing", f"{name} is not defined in the notebook"
        if status == "raised":
            if report.get("memory") is True:
                return "memory limit", f"{label}: {name} ran out of memory"
            if report.get("ename") == "NotImplementedError":
                return "error", f"{name} is not implemented yet (it raises NotImplementedError)"
            return "error", f"{label}: {name} raised {report.get('ename')}: {report.get('evalue')}"
        if status == "unreportable":
            return "error", f"{label}: {name} returned a value that cannot be reported"
        got = report["value"]
        if isinstance(got, codec.Unsupported):
            return "failed", f"{label}: {name} returned a {got.type_name}"
        try:
            compare_result(name, got, expected)
        except AssertionError as error:
            return "failed", f"{label}: {error}"
        except Exception as error:  # noqa: BLE001 - an odd value is a wrong answer
            return "failed", f"{label}: {name} returned an unexpected value ({type(error).__name__})"
        return None

    def _no_report(self, name: str, execution: Execution, label: str):
        """Why a case produced no report: the kernel's own account."""
        if execution.status == "timeout":
            return "timeout", f"{label}: {name} did not finish within {self.job.limits.cell_timeout:g} s"
        if execution.status == "died":
            return "kernel died", f"{label}: the kernel died while {name} ran"
        if execution.ename == "MemoryError":
            return "memory limit", f"{label}: {name} ran out of memory"
        return "error", f"{label}: no result was reported ({execution.ename or 'the probe was intercepted'})"


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=f"[grader] {text}\n")


def _points(notebook, name: str) -> float:
    for cell in notebook.cells:
        if grade_id(cell) == f"test_{name}":
            return float(cell.metadata.nbgrader["points"])
    raise LookupError(f"no test cell for {name}")


def _write_verdicts(notebook, results: list[FunctionResult]) -> None:
    """Put each verdict into its test cell, where nbgrader's rules turn it into a score."""
    by_name = {r.name: r for r in results}
    for cell in notebook.cells:
        cell_id = grade_id(cell) or ""
        if not (_is_test(cell) and cell_id.startswith("test_")):
            continue
        result = by_name[cell_id[len("test_"):]]
        if result.outcome == "passed":
            cell.outputs = [nbformat.v4.new_output(
                "stream", name="stdout", text=f"{result.name}: all visible and hidden tests passed.\n")]
        else:
            ename = {"timeout": "Timeout", "kernel died": "KernelDied", "memory limit": "MemoryLimit",
                     "missing": "NameError", "not run": "NotGraded"}.get(result.outcome, "AssertionError")
            cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=result.message,
                                                   traceback=[f"{ename}: {result.message}"])]
        result.score = determine_grade(cell)[0] or 0.0


# -- the worker's entry point --------------------------------------------------------------------

def grade(job: Job) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission did."""
    started = time.monotonic()
    release = nbformat.reads(job.course.release_notebook, as_version=4)
    zeros = [FunctionResult(n, _points(release, n), 0, "not run") for n in GRADED_FUNCTIONS]
    sandboxed = job.sandbox is not None
    try:
        name, note = find_notebook(job.files, job.course.assignment)
        student_notebook = read_notebook(job.files[name])
    except SubmissionProblem as problem:
        for result in zeros:
            result.message = str(problem)
        # The release with the reason in every test cell, so the student's feedback explains the 0.
        notebook = restore(release, release)
        _write_verdicts(notebook, zeros)
        return SubmissionResult(job.student, str(problem), zeros, time.monotonic() - started,
                                nbformat.writes(notebook), timestamp=job.timestamp, sandboxed=sandboxed)
    notebook = restore(student_notebook, release)
    reference = load_reference_text(job.course.source_notebook)
    workdir = Path(tempfile.mkdtemp(prefix="submission-"))
    try:
        _prepare_workdir(workdir, job.files, job.course.helpers)
        from .sandbox import kernel_factory
        grader = Grader(job, reference, kernel_factory(workdir, job.sandbox, job.warm_kernels))
        try:
            results = grader.run(notebook)
        except Exception as error:  # noqa: BLE001 - e.g. the kernel could not start
            for result in zeros:
                result.message = f"not graded: {type(error).__name__}: {error}"
            return SubmissionResult(job.student, f"grader error: {error}", zeros, time.monotonic() - started,
                                    timestamp=job.timestamp, sandboxed=sandboxed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _write_verdicts(notebook, results)
    problems = ([note] if note else []) + grader.problems
    return SubmissionResult(job.student, "; ".join(dict.fromkeys(problems)) or "ok", results,
                            time.monotonic() - started, nbformat.writes(notebook), job.timestamp,
                            sandboxed=sandboxed)


def _release_from_source(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a source notebook, when release/ is absent (only its test cells matter)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    notebook, resources = ClearSolutions().preprocess(copy.deepcopy(notebook), {})
    notebook, resources = ClearHiddenTests().preprocess(notebook, resources)
    return notebook


def _prepare_workdir(workdir: Path, files: dict, helpers: dict) -> None:
    """The student's extra files, then the course's helper files over them (as nbgrader does)."""
    for name, data in files.items():
        if data is not None and not name.endswith(".ipynb") and "/" not in name and name not in (".", ".."):
            (workdir / name).write_bytes(data)
    for name, data in helpers.items():
        (workdir / name).write_bytes(data)


def read_timestamp(submission_dir: Path) -> str | None:
    """nbgrader's timestamp.txt of a collected submission, if any."""
    try:
        return (submission_dir / "timestamp.txt").read_text().strip()[:100] or None
    except OSError:
        return None
