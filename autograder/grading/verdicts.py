"""What a function's report means: right, or the Verdict that says why not, in the grader's words.

For a hidden case the student's message says which case (by its sizes) and what kind of failure,
never a value, an output, an exception text or a name the student's code chose; the instructor's
detail says all of it.
"""

from __future__ import annotations

import builtins
import dataclasses

import numpy as np

from test_utils import WrongResult, check_result

from ..results import Outcome
from ..sandbox import Execution
from . import codec
from .cases import Case
from .probe import Report


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


def judge_report(
    say,
    language: str,
    name: str,
    report: Report | None,
    case: Case | None,
    expected,
    label: str,
    rejected,
    fingerprints,
) -> Verdict | None:
    """None if the reported result is right, else the Verdict.

    For a hidden case the student's message is in the grader's own words: which case
    (by its sizes) and what kind of failure; never a value, an output, an exception
    text or any name the student's code chose. ``detail`` adds those for the instructor.
    """
    hidden = case is not None and case.hidden
    if report is None:
        return Verdict(Outcome.ERROR, say("unreadable", label=label), f"{label}: the report could not be read")
    if report.status == "missing":
        return Verdict(Outcome.MISSING, say("missing", name=name))
    if report.status == "raised":
        detail = f"{label}: {name} raised {report.ename}: {report.evalue}\n{report.traceback}"
        if report.memory:
            return Verdict(Outcome.MEMORY, say("memory", label=label, name=name), detail)
        if report.ename == "NotImplementedError":
            return Verdict(Outcome.ERROR, say("not_implemented", name=name), detail)
        if rejected is not None:
            return Verdict(Outcome.ERROR, rejected.message, detail)
        shown = exception_name(say, report.ename) if hidden else f"{report.ename}: {report.evalue[:500]}"
        return Verdict(Outcome.ERROR, say("case_raised", label=label, name=name, error=shown), detail)
    if report.status == "unreportable":
        return Verdict(Outcome.ERROR, say("unreportable", label=label, name=name))
    got = report.value
    if isinstance(got, codec.Unsupported):
        shown = type_name(say, got.type_name) if hidden else got.type_name
        return Verdict(
            Outcome.FAILED,
            say("returned_type", label=label, name=name, type=shown),
            f"{label}: {got.type_name}",
        )
    try:
        check_result(name, got, expected, case.args, case.kwargs, fingerprints(), language)
    except WrongResult as error:
        text = error.brief if hidden else error.message
        hint = say("case_hint", hint=error.hint) if error.hint else ""
        return Verdict(
            Outcome.FAILED,
            say("wrong", label=label, text=text) + hint,
            f"{label}: {error.message}" + (f" (hint: {error.hint})" if error.hint else ""),
            error.mistake,
        )
    except Exception as error:  # noqa: BLE001 - an odd value is a wrong answer
        return Verdict(
            Outcome.FAILED,
            say("unexpected", label=label, name=name),
            f"{label}: {type(error).__name__}: {error}",
        )
    return None


def exception_name(say, ename: str) -> str:
    """An exception's class name as a hidden case may show it: Python's and numpy's own, else in words."""
    return ename if ename in KNOWN_EXCEPTIONS else say("own_exception")


def type_name(say, type_name: str) -> str:
    """A returned value's type as a hidden case may show it: a built-in's name, else in words."""
    if type_name in KNOWN_TYPES:
        return type_name
    if type_name.startswith("numpy array of dtype"):
        return say("non_numeric_array")
    return say("own_type")


def no_report(say, name: str, execution: Execution, label: str, cell_timeout: float) -> Verdict:
    """Why a case produced no report: the kernel's own account."""
    if execution.status == "timeout":
        return Verdict(Outcome.TIMEOUT, say("timeout", label=label, name=name, seconds=cell_timeout))
    if execution.status == "died":
        return Verdict(Outcome.KERNEL_DIED, say("died", label=label, name=name))
    if execution.status == "protocol":
        return Verdict(Outcome.ERROR, say("protocol", label=label, name=name), execution.evalue)
    if execution.ename == "MemoryError":
        return Verdict(Outcome.MEMORY, say("memory", label=label, name=name))
    why = execution.ename if execution.ename in KNOWN_EXCEPTIONS else say("intercepted")
    return Verdict(Outcome.ERROR, say("no_report", label=label, why=why), f"{execution.ename}: {execution.evalue}")
