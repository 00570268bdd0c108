"""Grade one submission: run the student's cells in a kernel, probe each graded function, judge here.

The kernel only runs the student's code and reports what the graded functions
returned; expected values are computed by the reference (in its own bounded
process) and compared in this process. The result is plain data plus the
autograded notebook, for the one process that writes the gradebook.

The pieces: ``job`` (what a worker is given), ``session`` (one probe's conversation with the
kernel), ``verdicts`` (what a report means, in the grader's words), ``worker`` (the entry point
that never raises). Two kinds of failure are kept apart. What the submission does (wrong results,
errors, endless loops, a dead kernel, an unreadable notebook) is its grade. What
fails on the grader's side (a kernel that cannot start, the reference failing, an
internal error) makes the result "not graded": it is reported and graded again on
the next run, never recorded as the student's zero.
"""

from __future__ import annotations

import time

import nbformat

from .. import GRADED_FUNCTIONS
from ..markup import is_answer, is_test
from ..results import FunctionResult, Kind, Outcome, Problem
from ..sandbox import Execution, GradingKernel
from ..sandbox.outputs import new_output
from . import verdicts, wording
from .cases import USES_HELPERS, Case, draw_cases, visible_case
from .fingerprints import fingerprints
from .job import GraderFault, Job
from .probe import Report, probe_source
from .refserver import ReferenceFailure, ReferenceProcess
from .session import ProbeSession, Turns
from .submission import skipped
from .verdicts import Verdict

KERNEL_START_ATTEMPTS = 2
OUTCOME_KINDS = {Outcome.TIMEOUT: Kind.TIMEOUT, Outcome.KERNEL_DIED: Kind.KERNEL_DIED, Outcome.MEMORY: Kind.MEMORY}


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
        self.probe_installed = False  # whether this kernel holds the probe (``probe.probe_source``)
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
        return min(self.job.limits.cell_timeout, self._left())

    def _left(self) -> float:
        """Seconds of CPU time the submission has left (0 when its time, or what it may send, is spent)."""
        if time.monotonic() > self.wall_deadline or self.kernel.traffic.exhausted:
            return 0.0
        return max(0.0, self.job.limits.submission_timeout - self.kernel.cpu_seconds())

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
        self.probe_installed = False
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
                cell.outputs = [new_output("stream", name="stdout", text=self.say("cell_explore") + "\n")]
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
        visible = {name: [case] for name in GRADED_FUNCTIONS if (case := visible_case(name)) is not None}
        first = self._probe_all(visible)
        hidden = {
            name: draw_cases(name, self.job.seed)
            for name in GRADED_FUNCTIONS
            if name not in first or first[name][0] is None
        }
        second = self._probe_all(hidden)
        results = []
        for name in GRADED_FUNCTIONS:
            failure, seconds = first.get(name, (None, 0.0))
            if failure is None:
                failure, more = second[name]
                seconds += more
                if failure is not None and name in visible and failure.outcome in (Outcome.FAILED, Outcome.ERROR):
                    self.visible_only.append(name)
            results.append(self._result(name, failure, seconds))
        return results

    def _probe_all(self, plan: dict[str, list[Case]]) -> dict[str, tuple[Verdict | None, float]]:
        """Each function's ``cases``, in one probe for all of them where nothing goes wrong: {name: (the first
        failure or None, seconds)}. Each report is judged as it arrives; each function has its own budget
        (``session.Turns``). When the probe ends in a function's turn (a timeout, a dead kernel, an error
        the probe did not catch), that function gets the kernel's account of it, the kernel is restarted
        if it must be, and the functions after it get a probe of their own."""
        expected = {name: self._expected(name, cases) for name, cases in plan.items()}
        verdicts: dict[str, tuple[Verdict | None, float]] = {}
        waiting = list(plan)
        while waiting:
            if self._budget() <= 0:
                spent = Verdict(
                    Outcome.TIMEOUT if not self.kernel.traffic.exhausted else Outcome.ERROR, self._spent("")
                )
                verdicts.update((name, (spent, 0.0)) for name in waiting)
                break
            only_called = self.probe_installed
            turns, execution = self._send_probe(waiting, plan, expected)
            if only_called and not turns.begun and execution.status == "error" and self.kernel.alive():
                # The probe this kernel was given is gone (the student's code removed it): give it again.
                self.probe_installed = False
                turns, execution = self._send_probe(waiting, plan, expected)
            ended = Execution("ok", [])  # how the turns that passed ended: the probe went on
            taken = len(turns.passed) + 1  # those, and the one in progress when the execution ended
            for number, session in enumerate(turns.sessions[:taken]):
                failure = self._verdict(session, execution if session is turns.current else ended)
                verdicts[session.name] = (failure, turns.seconds[number])
                if failure is not None and failure.outcome in OUTCOME_KINDS:
                    self.problems.append(
                        Problem(OUTCOME_KINDS[failure.outcome], f"{failure.outcome} in {session.name}")
                    )
            waiting = waiting[taken:]
            ending, _ = verdicts[turns.current.name]
            if not self.kernel.alive() or (
                ending is not None and ending.outcome in (Outcome.KERNEL_DIED, Outcome.MEMORY)
            ):
                self._restart()
        return verdicts

    def _verdict(self, session: ProbeSession, execution: Execution) -> Verdict | None:
        """A function's verdict once its turn is over: its first failure, else None if every case was
        reported, else the kernel's account of why a case was not."""
        return session.failure() or (None if session.complete() else self._no_report(session.name, execution, session))

    def _send_probe(self, names: list[str], plan: dict, expected: dict) -> tuple[Turns, Execution]:
        sessions = [ProbeSession(self, name, plan[name], expected[name]) for name in names]
        turns = Turns(sessions, self._left(), self.wall_deadline)
        execution = self.kernel.execute(
            probe_source([(name, USES_HELPERS.get(name, ())) for name in names], install=not self.probe_installed),
            self._budget(),
            on_input=turns.on_input,
            keep_outputs=False,
            laps=turns,
        )
        turns.stop_clock()
        if turns.begun:  # the probe ran, so the kernel holds it (until it restarts)
            self.probe_installed = True
        return turns, execution

    def _result(self, name: str, failure: Verdict | None, seconds: float) -> FunctionResult:
        points = self.points[name]
        if failure is None:
            return FunctionResult(name, points, points, Outcome.PASSED, "", seconds)
        detail = failure.detail or failure.message
        return FunctionResult(name, points, 0, failure.outcome, failure.message, seconds, detail, failure.mistake)

    def verdict(
        self, name: str, report: Report | None, case: Case | None, expected, label: str, rejected
    ) -> Verdict | None:
        """None if the reported result is right, else the Verdict (``verdicts.judge_report``)."""
        return verdicts.judge_report(
            self.say,
            self.language,
            name,
            report,
            case,
            expected,
            label,
            rejected,
            lambda: self._fingerprints(name, case),
        )

    def _fingerprints(self, name: str, case: Case) -> dict:
        """The results of the classic mistakes on this case (see ``fingerprints``)."""
        return fingerprints(name, case.args, case.kwargs, self.reference.call)

    def _no_report(self, name: str, execution: Execution, session: ProbeSession) -> Verdict:
        """Why a case produced no report: the kernel's own account."""
        return verdicts.no_report(self.say, name, execution, session.pending_label(), self.job.limits.cell_timeout)


MAX_CELLS = 500  # code cells of a notebook that are run, besides its answers (the course's has about 20)


def _note(text: str):
    return new_output("stream", name="stdout", text=f"{text}\n")
