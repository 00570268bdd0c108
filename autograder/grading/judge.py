"""Grade one submission: run the student's cells, probe each graded function, judge here.

The kernel only runs the student's code and reports what the graded functions
returned; expected values are computed by the reference (in its own bounded
process) and compared in this process. The result is plain data plus the
autograded notebook, for the one process that writes the gradebook.

Two kinds of failure are kept apart. What the submission does (wrong results,
errors, endless loops, a dead kernel, an unreadable notebook) is its grade. What
fails on the grader's side (a kernel that cannot start, the reference failing, an
internal error) makes the result "not graded": it is reported and graded again on
the next run, never recorded as the student's zero.
"""

from __future__ import annotations

import builtins
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

from test_utils import WrongResult, check_result

from .. import GRADED_FUNCTIONS
from ..context import worker
from ..course import Course, Submission
from ..markup import is_answer, is_test
from ..markup import points as test_points
from ..results import FunctionResult, Kind, Outcome, Problem, SubmissionResult, not_graded
from ..sandbox import Execution, GradingKernel, SandboxLimits, scratch_dir
from ..settings import Limits
from . import codec, wording
from .cases import USES_HELPERS, Case, HelperCallRejected, check_helper_call, draw_cases, visible_case
from .fingerprints import fingerprints
from .probe import CALL, NEXT, REPORT, STOP, Report, case_payload, parse_helper_call, parse_report, probe_source
from .refserver import ReferenceFailure, ReferenceProcess
from .submission import (
    SubmissionProblem,
    attempted,
    changed_tests,
    find_notebook,
    machinery_touched,
    read_notebook,
    release_from_source,
    restore,
    skipped,
    write_verdicts,
)

MAX_HELPER_CALLS = 20_000  # stand-in calls in one function's probe (nn_model makes about 200)
KERNEL_START_ATTEMPTS = 2


@dataclasses.dataclass
class CourseBundle:
    """What grading needs of the course, as data: it travels to workers on other machines."""

    assignment: str
    source_notebook: str  # the instructor notebook (JSON): solutions, hence the reference
    release_notebook: str  # the student version (JSON): the test cells to restore
    helpers: dict  # file name -> bytes: the non-notebook files of source/<assignment>/

    @classmethod
    def from_course(cls, course: Course) -> CourseBundle:
        source = course.source_notebook.read_text(encoding="utf-8")
        release = (
            course.release_notebook.read_text(encoding="utf-8")
            if course.release_notebook.is_file()
            else nbformat.writes(release_from_source(nbformat.reads(source, as_version=4)))
        )
        helpers = {
            p.name: p.read_bytes()
            for p in sorted(course.step("source").iterdir())
            if p.is_file() and p.suffix != ".ipynb"
        }
        return cls(course.assignment, source, release, helpers)


@dataclasses.dataclass
class Job:
    """Everything a worker needs to grade one submission (plain data, picklable)."""

    student: str
    seed: int
    course: CourseBundle
    submission: Submission | None  # None: the folder vanished
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: SandboxLimits | None = None  # the sandbox's limits; None: run without one
    warm_kernels: bool = True  # fork kernels from a process that imported the libraries already
    feedback: bool = True  # render the student's feedback page too
    identity: str | None = None  # which submission this is (course.submission_name), kept with its result


OUTCOME_KINDS = {Outcome.TIMEOUT: Kind.TIMEOUT, Outcome.KERNEL_DIED: Kind.KERNEL_DIED, Outcome.MEMORY: Kind.MEMORY}


class GraderFault(Exception):
    """Grading failed on the grader's side; the submission is not graded (the message says why)."""


# -- running it -------------------------------------------------------------------------------


class Grader:
    """Grades one submission in one kernel (restarted when the student's code kills it)."""

    def __init__(self, job: Job, reference: ReferenceProcess, kernel_factory, points: dict[str, float]):
        self.job = job
        self.points = points  # of each graded function, from the release's test cells
        self.reference = reference
        self.kernel_factory = kernel_factory
        self.kernel: GradingKernel | None = None
        self.wall_deadline = 0.0
        self.definitions: list = []  # student cells that ran, replayed after a restart
        self.problems: list[Problem] = []
        self.visible_only: list[str] = []  # functions right on the visible case and wrong on a hidden one
        self.language = wording.language(job.course.assignment)

    def say(self, text_id: str, **fields) -> str:
        return wording.say(self.language, text_id, **fields)

    def _budget(self) -> float:
        """Seconds of CPU time the next cell or probe may use (0 when the submission's are spent).

        Limits are CPU time of the submission's own sandbox, so a busy neighbour cannot
        make it run out; a generous wall-clock deadline catches a kernel that only waits.
        """
        if time.monotonic() > self.wall_deadline or self.kernel.traffic.exhausted:
            return 0.0
        left = self.job.limits.submission_timeout - self.kernel.cpu_seconds()
        return max(0.0, min(self.job.limits.cell_timeout, left))

    def _spent(self, prefix: str) -> str:
        """Why nothing more runs: the submission's time, or what its kernels may send, is spent."""
        if self.kernel.traffic.exhausted:
            return self.say(f"{prefix}traffic_up", mb=self.kernel.traffic.per_submission // (1024 * 1024))
        return self.say(f"{prefix}time_up")

    def run(self, notebook: nbformat.NotebookNode) -> list[FunctionResult]:
        self.wall_deadline = time.monotonic() + 3 * self.job.limits.submission_timeout + 60
        self.kernel = self.kernel_factory()
        try:
            self._start()
            self._run_definitions(notebook)
            return self._judge_all()
        finally:
            self.kernel.close()

    def _start(self, restart: bool = False) -> None:
        """A fresh kernel; one that fails to start twice is the grader's failure, not the student's."""
        error = None
        for _ in range(KERNEL_START_ATTEMPTS):
            try:
                self.kernel.restart() if restart else self.kernel.start()
                return
            except Exception as failure:  # noqa: BLE001 - retried, then reported as not graded
                error, restart = failure, True
        raise GraderFault(f"the grading kernel could not start ({error})")

    def _run_definitions(self, notebook) -> None:
        count = 0
        for cell in notebook.cells:
            if cell.cell_type != "code" or is_test(cell):
                continue
            if skipped(cell):
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=self.say("cell_explore") + "\n")]
                continue
            if self._budget() <= 0:
                cell.outputs = [_note(self._spent("cell_"))]
                continue
            if count >= MAX_CELLS and not is_answer(cell):  # each cell costs the grader some work: a notebook of
                cell.outputs = [_note(self.say("cell_too_many", count=MAX_CELLS))]  # thousands is cut, answers run
                continue
            result = self.kernel.execute(cell.source, self._budget())
            count += 1
            cell.execution_count = count
            cell.outputs = result.outputs
            if result.status in ("ok", "error"):
                self.definitions.append(cell.source)
            elif result.status == "timeout":
                cell.outputs.append(_note(self.say("cell_stopped", seconds=self.job.limits.cell_timeout)))
                self.problems.append(Problem(Kind.TIMEOUT, f"timeout in cell {cell.get('id', '?')}"))
                if not self.kernel.alive():  # it did not come back from the interrupt
                    self._restart()
            elif result.status == "protocol":  # the cell forged messages: the kernel was ended
                cell.outputs.append(_note(self.say("cell_protocol")))
                self.problems.append(Problem(Kind.PROTOCOL, f"grading protocol broken in cell {cell.get('id', '?')}"))
                self._restart()
            else:  # the cell killed the kernel: start again without it
                cell.outputs.append(_note(self.say("cell_died")))
                self.problems.append(Problem(Kind.KERNEL_DIED, f"kernel died in cell {cell.get('id', '?')}"))
                self._restart()

    def _restart(self) -> None:
        """A fresh kernel with the student's definitions replayed, as far as time allows."""
        self._start(restart=True)
        for source in self.definitions:
            if self._budget() <= 0:
                return
            self.kernel.execute(source, self._budget(), keep_outputs=False)
            if not self.kernel.alive():  # the replayed cell ended it again: go on without it
                self._start(restart=True)

    def _expected(self, name: str, cases: list[Case]) -> list:
        try:
            return [self.reference.call(name, case.args, case.kwargs) for case in cases]
        except ReferenceFailure as error:
            raise GraderFault(f"the reference could not compute {name}'s expected results ({error})") from None

    def _judge_all(self) -> list[FunctionResult]:
        """Every function's visible case first, then the hidden ones of those that passed it.

        In this order nothing the student's code keeps of a hidden case (its inputs, say) can
        come back in a visible case's message, which quotes the student's own values and errors.
        """
        first = {}
        for name in GRADED_FUNCTIONS:
            visible = visible_case(name)
            first[name] = self._probe(name, [visible]) if visible else (None, 0.0)
        results = []
        for name in GRADED_FUNCTIONS:
            failure, seconds = first[name]
            if failure is None:
                failure, more = self._probe(name, draw_cases(name, self.job.seed))
                seconds += more
                if failure is not None and visible_case(name) and failure.outcome in (Outcome.FAILED, Outcome.ERROR):
                    self.visible_only.append(name)
            results.append(self._result(name, failure, seconds))
        return results

    def _probe(self, name: str, cases: list[Case]) -> tuple[Verdict | None, float]:
        """Run ``cases`` of one function in one probe, each report judged as it arrives: (the first
        failure or None, seconds)."""
        started = time.monotonic()
        if self._budget() <= 0:
            return Verdict(
                Outcome.TIMEOUT if not self.kernel.traffic.exhausted else Outcome.ERROR, self._spent("")
            ), 0.0
        session = ProbeSession(self, name, cases, self._expected(name, cases))
        execution = self.kernel.execute(
            probe_source(name, USES_HELPERS.get(name, ())),
            self._budget(),
            on_input=session.on_input,
            keep_outputs=False,
        )
        failure = session.failure() or (None if session.complete() else self._no_report(name, execution, session))
        if failure is not None and failure.outcome in (Outcome.TIMEOUT, Outcome.KERNEL_DIED, Outcome.MEMORY):
            self.problems.append(Problem(OUTCOME_KINDS[failure.outcome], f"{failure.outcome} in {name}"))
        if not self.kernel.alive() or (
            failure is not None and failure.outcome in (Outcome.KERNEL_DIED, Outcome.MEMORY)
        ):
            self._restart()
        return failure, time.monotonic() - started

    def _result(self, name: str, failure: Verdict | None, seconds: float) -> FunctionResult:
        points = self.points[name]
        if failure is None:
            return FunctionResult(name, points, points, Outcome.PASSED, "", seconds)
        detail = failure.detail or failure.message
        return FunctionResult(name, points, 0, failure.outcome, failure.message, seconds, detail, failure.mistake)

    def verdict(
        self, name: str, report: Report | None, case: Case | None, expected, label: str, rejected
    ) -> Verdict | None:
        """None if the reported result is right, else the Verdict.

        For a hidden case the student's message is in the grader's own words: which case
        (by its sizes) and what kind of failure; never a value, an output, an exception
        text or any name the student's code chose. ``detail`` adds those for the instructor.
        """
        hidden = case is not None and case.hidden
        if report is None:
            return Verdict(Outcome.ERROR, self.say("unreadable", label=label), f"{label}: the report could not be read")
        if report.status == "missing":
            return Verdict(Outcome.MISSING, self.say("missing", name=name))
        if report.status == "raised":
            detail = f"{label}: {name} raised {report.ename}: {report.evalue}\n{report.traceback}"
            if report.memory:
                return Verdict(Outcome.MEMORY, self.say("memory", label=label, name=name), detail)
            if report.ename == "NotImplementedError":
                return Verdict(Outcome.ERROR, self.say("not_implemented", name=name), detail)
            if rejected is not None:
                return Verdict(Outcome.ERROR, rejected.message, detail)
            shown = self._exception_name(report.ename) if hidden else f"{report.ename}: {report.evalue[:500]}"
            return Verdict(Outcome.ERROR, self.say("raised", label=label, name=name, error=shown), detail)
        if report.status == "unreportable":
            return Verdict(Outcome.ERROR, self.say("unreportable", label=label, name=name))
        got = report.value
        if isinstance(got, codec.Unsupported):
            shown = self._type_name(got.type_name) if hidden else got.type_name
            return Verdict(
                Outcome.FAILED,
                self.say("returned_type", label=label, name=name, type=shown),
                f"{label}: {got.type_name}",
            )
        try:
            check_result(name, got, expected, case.args, case.kwargs, self._fingerprints(name, case), self.language)
        except WrongResult as error:
            text = error.brief if hidden else error.message
            hint = self.say("hint", hint=error.hint) if error.hint else ""
            return Verdict(
                Outcome.FAILED,
                self.say("wrong", label=label, text=text) + hint,
                f"{label}: {error.message}" + (f" (hint: {error.hint})" if error.hint else ""),
                error.mistake,
            )
        except Exception as error:  # noqa: BLE001 - an odd value is a wrong answer
            return Verdict(
                Outcome.FAILED,
                self.say("unexpected", label=label, name=name),
                f"{label}: {type(error).__name__}: {error}",
            )
        return None

    def _exception_name(self, ename: str) -> str:
        """An exception's class name as a hidden case may show it: Python's and numpy's own, else in words."""
        return ename if ename in KNOWN_EXCEPTIONS else self.say("own_exception")

    def _type_name(self, type_name: str) -> str:
        """A returned value's type as a hidden case may show it: a built-in's name, else in words."""
        if type_name in KNOWN_TYPES:
            return type_name
        if type_name.startswith("numpy array of dtype"):
            return self.say("non_numeric_array")
        return self.say("own_type")

    def _fingerprints(self, name: str, case: Case) -> dict:
        """The results of the classic mistakes on this case (see ``fingerprints``)."""
        return fingerprints(name, case.args, case.kwargs, self.reference.call)

    def _no_report(self, name: str, execution: Execution, session: ProbeSession) -> Verdict:
        """Why a case produced no report: the kernel's own account."""
        label = session.pending_label()
        if execution.status == "timeout":
            return Verdict(
                Outcome.TIMEOUT, self.say("timeout", label=label, name=name, seconds=self.job.limits.cell_timeout)
            )
        if execution.status == "died":
            return Verdict(Outcome.KERNEL_DIED, self.say("died", label=label, name=name))
        if execution.status == "protocol":
            return Verdict(Outcome.ERROR, self.say("protocol", label=label, name=name), execution.evalue)
        if execution.ename == "MemoryError":
            return Verdict(Outcome.MEMORY, self.say("memory", label=label, name=name))
        why = execution.ename if execution.ename in KNOWN_EXCEPTIONS else self.say("intercepted")
        return Verdict(
            Outcome.ERROR, self.say("no_report", label=label, why=why), f"{execution.ename}: {execution.evalue}"
        )


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Why one function lost its points: the outcome, the student's words, the instructor's detail."""

    outcome: Outcome
    message: str
    detail: str = ""
    mistake: str | None = None


@dataclasses.dataclass(frozen=True)
class Rejection:
    """A stand-in call the grader refused, and what the student is told about it."""

    message: str


KNOWN_EXCEPTIONS = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
) | {"LinAlgError", "AxisError", "TooHardError", "UFuncTypeError", "DTypePromotionError", "HelperFails", "WrongResult"}
KNOWN_TYPES = (
    frozenset(
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and not issubclass(value, BaseException)
    )
    | {
        "NoneType",
        "function",
        "builtin_function_or_method",
        "method",
        "generator",
        "module",
        "ellipsis",
        "NotImplementedType",
        "too deeply nested value",
    }
    | {f"numpy {t.__name__}" for t in set(np.sctypeDict.values())}
)


_CALL_OF = '{{"__dict__":[["helper","{}"]'  # how a stand-in's call starts (codec.dumps of its dict)


class ProbeSession:
    """One function's probe, seen from the grader: the cases handed out one at a time, the
    stand-ins' calls answered, each report judged as it arrives.

    ``on_input`` takes whatever the kernel sends (every byte of it untrusted) and always
    answers: anything it cannot read is the student's error for the case at hand, never an
    exception in the grader. Only a failure of the reference (GraderFault) goes up.
    """

    def __init__(self, grader: Grader, name: str, cases: list[Case], expected: list):
        self.grader = grader
        self.name = name
        self.cases = cases
        self.expected = expected
        self.labels = []
        hidden = 0
        for case in cases:
            if case.hidden:
                hidden += 1
                self.labels.append(grader.say("hidden_case", number=hidden, description=case.description))
            else:
                self.labels.append(grader.say("visible_case"))
        self.sent = 0  # cases handed out
        self.calls = 0  # stand-in calls answered
        self.rejected: Rejection | None = None  # the current case's refused stand-in call, if any
        self.verdicts: list[Verdict | None] = []  # per reported case: None if it passed

    def complete(self) -> bool:
        return len(self.verdicts) == len(self.cases)

    def failure(self) -> Verdict | None:
        return next((v for v in self.verdicts if v is not None), None)

    def pending_label(self) -> str:
        """The label of the case that has no report yet."""
        return self.labels[len(self.verdicts)] if self.sent and len(self.verdicts) < len(self.labels) else self.name

    def on_input(self, prompt: str) -> str:
        try:
            return self._answer(prompt)
        except GraderFault:
            raise
        except Exception as error:  # noqa: BLE001 - what the kernel sent could not be handled: its error
            if self.sent and len(self.verdicts) < self.sent:
                label = self.labels[len(self.verdicts)]
                self.verdicts.append(
                    Verdict(
                        Outcome.ERROR,
                        self.grader.say("unreadable", label=label),
                        f"{type(error).__name__}: {error}"[:500],
                    )
                )
            return STOP

    def _answer(self, prompt: str) -> str:
        if prompt == NEXT:
            return self._next() if self.sent == 0 else STOP
        if prompt.startswith(REPORT):
            if self.verdicts and len(self.verdicts) >= self.sent:
                return STOP  # a report for a case not handed out (or a second one before any case)
            report = self._read(prompt[len(REPORT) :])
            if self.sent == 0:  # reported before asking for a case: only "missing" is expected
                self.verdicts.append(self.grader.verdict(self.name, report, None, None, self.name, None))
                return STOP
            index = len(self.verdicts)
            self.verdicts.append(
                self.grader.verdict(
                    self.name, report, self.cases[index], self.expected[index], self.labels[index], self.rejected
                )
            )
            return self._next()
        if prompt.startswith(CALL) and 0 < self.sent and len(self.verdicts) < self.sent:
            self.calls += 1
            return self._serve(prompt[len(CALL) :])
        return ""

    def _next(self) -> str:
        if self.sent >= len(self.cases) or (self.verdicts and self.verdicts[-1] is not None):
            return STOP
        case = self.cases[self.sent]
        self.sent += 1
        self.rejected = None
        return case_payload(case.args, case.kwargs)

    @staticmethod
    def _read(text: str) -> Report | None:
        try:
            return parse_report(text)
        except (ValueError, TypeError, KeyError, RecursionError, OverflowError):
            return None

    def _serve(self, text: str) -> str:
        """Answer a stand-in with the reference's result, if the call fits the case; else refuse it."""
        case = self.cases[self.sent - 1]
        label = self.labels[self.sent - 1]
        say = self.grader.say
        if self.calls > MAX_HELPER_CALLS:
            return self._refuse(
                say("labelled", label=label, text=say("too_many_calls", name=self.name, count=MAX_HELPER_CALLS))
            )
        try:
            call = parse_helper_call(text)
        except (ValueError, TypeError, RecursionError, OverflowError) as error:
            why = say("unreadable_call") if case.hidden else f"{say('unreadable_call')} ({str(error)[:200]})"
            helper = next((h for h in USES_HELPERS.get(self.name, ()) if text[:60].startswith(_CALL_OF.format(h))), "?")
            return self._refuse(say("rejected", label=label, name=self.name, helper=helper, why=why))
        helper = call.helper if call.helper in USES_HELPERS.get(self.name, ()) else None
        try:
            if helper is None:
                raise HelperCallRejected(say("not_available"))
            args, kwargs = check_helper_call(helper, call.args, call.kwargs, case.dims)
        except HelperCallRejected as error:
            why = error.brief if case.hidden else str(error)
            return self._refuse(say("rejected", label=label, name=self.name, helper=helper or "?", why=why))
        try:
            value = self.grader.reference.call(helper, args, kwargs)
        except ReferenceFailure as error:
            raise GraderFault(f"the reference could not answer {self.name}'s call of {helper} ({error})") from None
        return codec.dumps({"value": value})

    def _refuse(self, message: str) -> str:
        self.rejected = Rejection(message)
        return codec.dumps({"raise": message})


MAX_CELLS = 500  # code cells of a notebook that are run, besides its answers (the course's has about 20)


def _note(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=f"{text}\n")


# -- the worker's entry point --------------------------------------------------------------------


def reference_for(bundle: CourseBundle) -> ReferenceProcess:
    """The worker's reference process of the course's notebook (one at a time: another course's is closed)."""
    references = worker().references
    process = references.get(bundle.source_notebook)
    if process is None:
        for old in references.values():
            old.close()
        references.clear()
        process = references[bundle.source_notebook] = ReferenceProcess(bundle.source_notebook)
    return process


def grade(job: Job) -> SubmissionResult:
    """Grade one submission. Never raises: a grader-side failure comes back as "not graded"."""
    started = time.monotonic()
    release = nbformat.reads(job.course.release_notebook, as_version=4)
    in_release = test_points(release)
    points = {name: in_release[name] for name in GRADED_FUNCTIONS}  # preflight checked they are all there
    sandboxed = job.sandbox is not None
    timestamp = job.submission.timestamp if job.submission else None
    try:
        result = _grade(job, release, points, sandboxed, timestamp)
    except GraderFault as fault:
        result = not_graded(job.student, str(fault), points, sandboxed, timestamp)
    except Exception as error:  # noqa: BLE001 - the grader's own bug: reported, never a zero
        import traceback

        result = not_graded(
            job.student,
            f"internal error: {type(error).__name__}: {error}",
            points,
            sandboxed,
            timestamp,
            detail=traceback.format_exc(),
        )
    result.seconds = time.monotonic() - started
    result.submission = job.identity
    if job.feedback and result.graded and result.notebook_json is not None:
        from .feedback import markdown_of, render, warm_up

        warm_up(job.course.release_notebook, job.course.assignment)
        result.feedback_html = render(result, job.course.assignment, markdown_of(job.course.release_notebook))
    return result


def _grade(job: Job, release, points: dict, sandboxed: bool, timestamp: str | None) -> SubmissionResult:
    files = job.submission.files if job.submission else None
    notes = [Problem(Kind.FILES_NOT_READ, job.submission.note())] if job.submission and job.submission.note() else []
    try:
        name, misnamed = find_notebook(files, job.course.assignment)
        student_notebook = read_notebook(files[name])
    except SubmissionProblem as problem:
        return _unrunnable(job, release, points, problem.problem, notes, sandboxed, timestamp)
    if misnamed:
        notes.insert(0, Problem(Kind.MISNAMED, misnamed))
    if not attempted(student_notebook, release):
        return _unrunnable(
            job,
            release,
            points,
            Problem(Kind.NOT_ATTEMPTED, "not attempted: the release notebook came back unchanged"),
            notes,
            sandboxed,
            timestamp,
            attempted_=False,
        )
    notebook = restore(student_notebook, release)
    changed = changed_tests(student_notebook, release)
    if changed:
        notes.append(
            Problem(Kind.TESTS_CHANGED, f"test cells changed (graded with the release's): {', '.join(changed[:4])}")
        )
    touched = machinery_touched(notebook, release)
    if touched:
        notes.append(Problem(Kind.MACHINERY, f"code that reaches for the grading machinery: {'; '.join(touched[:3])}"))
    workdir = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch_dir()))
    try:
        _prepare_workdir(workdir, files, job.course.helpers)
        from ..sandbox import kernel_factory

        grader = Grader(job, reference_for(job.course), kernel_factory(workdir, job.sandbox, job.warm_kernels), points)
        results = grader.run(notebook)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_verdicts(notebook, results, grader.language)
    problems = notes + grader.problems
    if grader.visible_only:
        problems.append(
            Problem(
                Kind.VISIBLE_ONLY,
                f"right on the visible case only: {', '.join(grader.visible_only)} (answers fitted to the example, "
                "or a bug that other sizes show)",
            )
        )
    return SubmissionResult(
        job.student,
        list(dict.fromkeys(problems)),
        results,
        notebook_json=nbformat.writes(notebook),
        timestamp=timestamp,
        sandboxed=sandboxed,
    )


def _unrunnable(
    job: Job,
    release,
    points: dict,
    reason: Problem,
    notes: list[Problem],
    sandboxed: bool,
    timestamp: str | None,
    attempted_: bool = True,
) -> SubmissionResult:
    """Zero for every function, with the reason in every test cell so the feedback explains it."""
    functions = [FunctionResult(name, value, 0.0, Outcome.NOT_RUN, reason.text) for name, value in points.items()]
    notebook = restore(release, release)
    write_verdicts(notebook, functions, wording.language(job.course.assignment))
    return SubmissionResult(
        job.student,
        [reason, *notes],
        functions,
        notebook_json=nbformat.writes(notebook),
        timestamp=timestamp,
        sandboxed=sandboxed,
        attempted=attempted_,
    )


def _prepare_workdir(workdir: Path, files: dict, helpers: dict) -> None:
    """The student's extra files, then the course's helper files over them (as nbgrader does)."""
    for name, data in files.items():
        if data is not None and not name.endswith(".ipynb") and "/" not in name and name not in (".", ".."):
            (workdir / name).write_bytes(data)
    for name, data in helpers.items():
        (workdir / name).write_bytes(data)
