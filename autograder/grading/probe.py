"""The code sent into a student's kernel to call graded functions on their cases.

A probe takes the functions it is given in turn. For each, it asks the grader for a
case, calls the function on it, reports the result and gets the next case in answer
(or "stop" after a wrong one, or the last one). Cases
arrive one at a time over the kernel's input channel, so no frame of the kernel
ever holds a case that has not run yet. Inputs and results cross as plain data
(see ``codec``). The probe holds no expected output and no reference code: when
the function under test needs other graded functions (nn_model, predict), it gets
stand-ins that ask the grader over the same channel, and the grader answers with
the reference's result. Everything the probe defines lives inside one function,
so it neither reads nor leaves names in the student's namespace.

That function is sent once per kernel (``install``): the kernel keeps it in a module of its
own (``MODULE``, a name no import statement can spell), and every later probe is one line
that calls it. A kernel hashes, tokenizes and compiles whatever it is sent, and the
function's 10 kB cost a kernel about 20 ms of CPU each time it came, 16 times a submission.
(Each execution costs a kernel and the grader some milliseconds of their own besides: the
grader sends one probe for all the functions' visible cases, one for their hidden ones, and
a function's budget of time is still its own, see ``session.Turns``.)
The student's code can reach that module, as it can reach ``builtins.input`` which every
probe has always used: what it could forge is its own report, which is judged against the
reference's values all the same. A probe that finds the module gone is sent again whole.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import textwrap
from typing import Any

from ..sandbox.outputs import valid_text
from . import codec
from .cases import with_helpers

CALL = "\x00autograder-call:"
REPORT = "\x00autograder-report:"
NEXT = "\x00autograder-next"
TURN = "\x00autograder-turn:"  # + a function's name and a newline, before the first request of its turn
STOP = "stop"
MODULE = "\x00autograder-probe"  # where the kernel keeps the probe between calls

_CODEC_SOURCE = textwrap.indent(inspect.getsource(codec), "    ")
_WITH_HELPERS_SOURCE = textwrap.indent(inspect.getsource(with_helpers), "    ")

_PROBE = '''
def __autograder_probe__(functions, namespace):
    from builtins import input  # the builtin, whatever the student named a variable
{codec}
    import traceback
    import types
    from typing import Callable
{with_helpers}

    def stand_in(helper):
        def call(*args, **kwargs):
            answer = loads(input({call!r} + dumps({{"helper": helper, "args": list(args), "kwargs": kwargs}})))
            if isinstance(answer, dict) and "raise" in answer:
                raise TypeError(answer["raise"])
            return answer["value"]
        call.__name__ = helper
        return call

    def report(status, turn="", **fields):
        """Send one case's result; the answer is the next case, or "stop"."""
        fields["status"] = status
        try:
            text = json.dumps(fields, separators=(",", ":"))
        except Exception:
            text = json.dumps({{"status": "unreportable"}})
        return input(turn + {report!r} + text)

    memory = False
    for name, helpers in functions:
        turn = {turn!r} + name + "\\n"  # the first request of each function's turn says whose turn it is
        function = namespace.get(name)
        if function is None:
            report("missing", turn)
            continue
        if helpers:
            function = with_helpers(function, {{helper: stand_in(helper) for helper in helpers}})
        answer = input(turn + {next!r})
        while answer != {stop!r}:
            request = loads(answer)
            del answer
            try:
                value = function(*request["args"], **request["kwargs"])
            except KeyboardInterrupt:
                raise
            except BaseException as error:
                memory = isinstance(error, MemoryError)
                answer = report("raised", ename=type(error).__name__, evalue=str(error)[:2000],
                                memory=memory, traceback=traceback.format_exc()[-4000:])
            else:
                answer = report("returned", value=to_plain(value))
            del request
        del function
        if memory:  # the grader gives the functions after this one a fresh kernel
            return


try:
    __import__("sys").modules[{module!r}] = __import__("types").ModuleType({module!r})
    __import__("sys").modules[{module!r}].run = __autograder_probe__
finally:
    del __autograder_probe__
'''

# Sent as one string literal (IPython's input transformers tokenize a cell line by line, which cost about
# 25 ms of a probe's 40 for these 200 lines), run with globals of its own: the probe's names (``type``,
# ``len``, ``loads``...) are the builtins and its own, whatever the student's namespace calls that.
_INSTALL = (
    "__import__('builtins').exec(__import__('builtins').compile({code!r}, '<autograder probe>', 'exec'), "
    "{{'__builtins__': __import__('builtins')}})\n"
)
_CALL = "__import__('sys').modules[{module!r}].run({functions!r}, __import__('builtins').globals())"


def probe_source(functions: list[tuple[str, tuple]], install: bool = True) -> str:
    """Kernel code that takes each ``(name, helpers)`` in turn, calls ``name`` on each case the grader
    sends and reports each result; with ``install``, it first gives the kernel the probe (once per
    kernel: later probes only call it)."""
    call = _CALL.format(module=MODULE, functions=[(name, tuple(helpers)) for name, helpers in functions])
    if not install:
        return call
    code = _PROBE.format(
        codec=_CODEC_SOURCE,
        with_helpers=_WITH_HELPERS_SOURCE,
        call=CALL,
        report=REPORT,
        next=NEXT,
        turn=TURN,
        stop=STOP,
        module=MODULE,
    )
    return _INSTALL.format(code=code) + call


def case_payload(args: tuple, kwargs: dict) -> str:
    """What the grader answers to ask for one call."""
    return codec.dumps({"args": list(args), "kwargs": kwargs})


# -- what comes back: untrusted text from the student's kernel ----------------------------------------

MAX_REPORT_CHARS = 2 * 1024 * 1024  # a report: a result of a handful of small arrays, base64
MAX_CALL_CHARS = 2 * 1024 * 1024
MAX_ENAME_CHARS = 100
MAX_EVALUE_CHARS = 2000
MAX_TRACEBACK_CHARS = 4000


@dataclasses.dataclass(frozen=True)
class Report:
    """One case's result as the probe reported it, every field checked and bounded."""

    status: str  # "returned", "raised", "missing", "unreportable"
    value: Any = None  # "returned": the rebuilt value (codec.Unsupported for what the codec does not carry)
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    memory: bool = False  # "raised": it was a MemoryError


@dataclasses.dataclass(frozen=True)
class HelperCall:
    """A stand-in's request: call the reference's ``helper(*args, **kwargs)``."""

    helper: str
    args: tuple
    kwargs: dict


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _loads(text: str, what: str):
    """JSON the kernel sent, with its lone surrogates (JSON escapes can carry them) made U+FFFD."""
    try:
        return valid_text(json.loads(text))
    except RecursionError:
        raise ValueError(f"{what} nested too deeply") from None


def parse_report(text: str) -> Report:
    """The probe's report (ValueError if it is malformed or too large, however it was forged)."""
    if not isinstance(text, str) or len(text) > MAX_REPORT_CHARS:
        raise ValueError("report too large")
    report = _loads(text, "report")
    if not isinstance(report, dict) or report.get("status") not in ("returned", "raised", "missing", "unreportable"):
        raise ValueError("malformed report")
    status = report["status"]
    if status == "returned":
        return Report(status, codec.from_plain(report.get("value")))
    if status == "raised":
        return Report(
            status,
            ename=_text(report.get("ename"), MAX_ENAME_CHARS) or "Exception",
            evalue=_text(report.get("evalue"), MAX_EVALUE_CHARS),
            traceback=_text(report.get("traceback"), MAX_TRACEBACK_CHARS),
            memory=report.get("memory") is True,
        )
    return Report(status)


def parse_helper_call(text: str) -> HelperCall:
    """A stand-in's request (ValueError if it is malformed or too large)."""
    if not isinstance(text, str) or len(text) > MAX_CALL_CHARS:
        raise ValueError("call too large")
    # Not codec.loads: the codec's source also runs in the kernel, where valid_text is not.
    request = codec.from_plain(_loads(text, "call"))
    if not (
        isinstance(request, dict)
        and isinstance(request.get("helper"), str)
        and isinstance(request.get("args"), list)
        and isinstance(request.get("kwargs"), dict)
    ):
        raise ValueError("malformed call")
    return HelperCall(request["helper"], tuple(request["args"]), request["kwargs"])
