"""One probe's conversation with the kernel: the cases it asks for, the stand-in calls it makes, its reports.

The kernel's requests arrive on its input channel; each is answered here (the next case, a
stand-in's result, or a refusal), and each report is judged as it arrives.
"""

from __future__ import annotations

import time
from typing import Protocol

from ..results import Outcome
from . import codec
from .cases import USES_HELPERS, Case, HelperCallRejected, check_helper_call
from .job import GraderFault
from .probe import CALL, NEXT, REPORT, STOP, TURN, Report, case_payload, parse_helper_call, parse_report
from .refserver import ReferenceFailure, ReferenceProcess
from .verdicts import Rejection, Verdict


class Judging(Protocol):
    """What a session needs of the grader that runs it (``judge.Grader``)."""

    reference: ReferenceProcess

    def say(self, text_id: str, **fields) -> str: ...

    def verdict(self, name: str, report: Report | None, case: Case | None, expected, label: str, rejected): ...


MAX_HELPER_CALLS = 20_000  # stand-in calls in one function's probe (nn_model makes about 200)
_CALL_OF = '{{"__dict__":[["helper","{}"]'  # how a stand-in's call starts (codec.dumps of its dict)


class ProbeSession:
    """One function's probe, seen from the grader: the cases handed out one at a time, the
    stand-ins' calls answered, each report judged as it arrives.

    ``on_input`` takes whatever the kernel sends (every byte of it untrusted) and always
    answers: anything it cannot read is the student's error for the case at hand, never an
    exception in the grader. Only a failure of the reference (GraderFault) goes up.
    """

    def __init__(self, grader: Judging, name: str, cases: list[Case], expected: list):
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
        self.prompts = 0  # requests the kernel made (none: the probe never ran)
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
        self.prompts += 1
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


class Turns:
    """Several functions' probes in one execution, each function's in turn (``probe.probe_source``).

    The probe's first request of each function's turn names that function (``TURN``); every
    request goes to the session whose turn it is. A turn passes only on a request that names
    the next function: a session that has said "stop" (after a forged report, say) keeps the
    turn until the probe goes on, so what the student's code sends in one function's turn
    does not reach another's session by mistake. Code that forges the next turn's request
    itself (it runs in the probe's process and can) takes that function's turn with it: it can
    answer those cases only with code of its own, as it could by rebinding the function's
    name, and what goes wrong then is charged to that function. A session's time is its own:
    ``turned`` tells the kernel that a new lap of the budget begins (``GradingKernel.execute``),
    ``total`` caps them all and ``deadline`` ends them. An execution ends with some turns
    passed, one in progress (``current``), the rest not begun.
    """

    def __init__(self, sessions: list[ProbeSession], total: float, deadline: float):
        self.sessions = sessions
        self.total = total
        self.deadline = deadline  # the submission's wall-clock deadline: no turn waits past it
        self.index = -1  # whose turn it is (-1: no turn has begun)
        self.seconds = [0.0] * len(sessions)  # wall-clock seconds of each session's turn
        self._began = 0.0
        self._turned = False

    @property
    def begun(self) -> bool:
        """Did the probe begin a turn at all? (It does not when it never ran.)"""
        return self.index >= 0

    @property
    def passed(self) -> list[ProbeSession]:
        """The sessions whose turn has passed: the probe went on to the next function."""
        return self.sessions[: max(self.index, 0)]

    @property
    def current(self) -> ProbeSession:
        """The session whose turn it was when the execution ended (the first one if none began)."""
        return self.sessions[max(self.index, 0)]

    def on_input(self, prompt: str) -> str:
        if prompt.startswith(TURN):
            name, _, prompt = prompt[len(TURN) :].partition("\n")
            following = self.index + 1
            if following < len(self.sessions) and self.sessions[following].name == name:
                self._clock()
                self.index, self._turned = following, True
        if self.index < 0:
            return STOP  # a request before any turn: nothing is handed out
        return self.sessions[self.index].on_input(prompt)

    def turned(self) -> bool:
        turned, self._turned = self._turned, False
        return turned

    def stop_clock(self) -> None:
        """The execution ended: so does the turn in progress."""
        self._clock()

    def _clock(self) -> None:
        now = time.monotonic()
        if self.index >= 0:
            self.seconds[self.index] += now - self._began
        self._began = now
