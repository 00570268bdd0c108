"""The code sent into a student's kernel to call one graded function on one case.

A probe calls one graded function on each of its cases in turn and reports each
result as it comes; the grader answers "stop" after a wrong one. It carries inputs
in and results out as plain data (see ``codec``). It holds
no expected output and no reference code: when the function under test needs other
graded functions (nn_model, predict), the probe gives it stand-ins that ask the
grader over the kernel's input channel, and the grader answers with the reference's
result. Everything the probe defines lives inside one function, so it neither
reads nor leaves names in the student's namespace.
"""

from __future__ import annotations

import inspect
import json
import textwrap

from . import codec

CALL = "\x00autograder-call:"
REPORT = "\x00autograder-report:"

_CODEC_SOURCE = textwrap.indent(inspect.getsource(codec), "    ")

_PROBE = '''
def __autograder_probe__(name, payloads, helpers):
{codec}
    import sys
    import traceback
    import types

    def stand_in(helper):
        def call(*args, **kwargs):
            answer = loads(input({call!r} + dumps({{"helper": helper, "args": list(args), "kwargs": kwargs}})))
            if isinstance(answer, dict) and "raise" in answer:
                raise TypeError(answer["raise"])
            return answer["value"]
        call.__name__ = helper
        return call

    def report(status, **fields):
        fields["status"] = status
        try:
            text = json.dumps(fields, separators=(",", ":"))
        except Exception:
            text = json.dumps({{"status": "unreportable"}})
        return input({report!r} + text) == "continue"

    function = globals().get(name)
    if function is None:
        return report("missing")
    if helpers and isinstance(function, types.FunctionType):
        namespace = dict(function.__globals__)
        namespace.update({{helper: stand_in(helper) for helper in helpers}})
        clone = types.FunctionType(function.__code__, namespace, function.__name__,
                                   function.__defaults__, function.__closure__)
        clone.__kwdefaults__ = function.__kwdefaults__
        function = clone
    for payload in payloads:
        request = loads(payload)
        try:
            value = function(*request["args"], **request["kwargs"])
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            going_on = report("raised", ename=type(error).__name__, evalue=str(error)[:2000],
                              memory=isinstance(error, MemoryError),
                              traceback=traceback.format_exc()[-4000:])
        else:
            going_on = report("returned", value=to_plain(value))
        if not going_on:
            return


try:
    __autograder_probe__({name!r}, {payloads!r}, {helpers!r})
finally:
    del __autograder_probe__
'''


def probe_source(name: str, calls: list[tuple[tuple, dict]], helpers: tuple = ()) -> str:
    """Kernel code that calls ``name(*args, **kwargs)`` for each call and reports each result."""
    payloads = [codec.dumps({"args": list(args), "kwargs": kwargs}) for args, kwargs in calls]
    return _PROBE.format(codec=_CODEC_SOURCE, call=CALL, report=REPORT, name=name,
                         payloads=payloads, helpers=tuple(helpers))


def parse_report(text: str) -> dict:
    """The probe's report as a dict, with the returned value rebuilt (ValueError if malformed)."""
    report = json.loads(text)
    if not isinstance(report, dict) or report.get("status") not in (
            "returned", "raised", "missing", "unreportable"):
        raise ValueError("malformed report")
    if report["status"] == "returned":
        report["value"] = codec.from_plain(report.get("value"))
    return report
