"""Everything a kernel sends is untrusted input: fuzzed, each channel must answer or refuse, never break.

The channels: the probe's reports and the stand-ins' calls (``probe``, ``codec``,
``cases.check_helper_call``, and the ``ProbeSession`` that answers them), the
zygote's answers (``ZygoteLauncher._answer``) and the Jupyter messages themselves
(``GradingKernel._receive``, ``CellOutputs.add``). Whatever arrives, the grader's side
either returns or raises the one error its caller turns into the student's verdict.
"""

from __future__ import annotations

import copy
import json
import string

import nbformat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder import ASSIGNMENT
from autograder.grading import codec
from autograder.grading.cases import HelperCallRejected, check_helper_call, draw_cases, visible_case
from autograder.grading.job import CourseBundle, GraderFault, Job
from autograder.grading.judge import Grader
from autograder.grading.probe import CALL, NEXT, REPORT, STOP, parse_helper_call, parse_report
from autograder.grading.session import ProbeSession
from autograder.grading.worker import _written
from autograder.sandbox.kernel import GradingKernel, ProtocolError
from autograder.sandbox.launchers import ZygoteLauncher
from autograder.sandbox.outputs import MAX_OUTPUTS_PER_CELL, CellOutputs, NotebookBudget
from course_spec import SPEC

# As many examples as the profile says (tests/conftest.py: 300, or 30 in make test-fast).
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow])

# Text as JSON can carry it: lone surrogates ("\\ud800") included, which UTF-8 cannot write.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(any_text, inner, max_size=5),
    max_leaves=30,
)
arrays = st.builds(
    lambda shape, dtype: np.zeros(shape, dtype=dtype),
    st.tuples(st.integers(0, 6), st.integers(0, 6)),
    st.sampled_from(["float64", "float32", "int64", "uint8", "bool"]),
)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**500), 10**500) | st.floats() | st.text(max_size=10) | arrays,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "dW1", "Z1", "A1", "A2", "x"]), inner, max_size=5)
    ),
    max_leaves=20,
)
HELPERS = [*SPEC.names, "print", ""]


@FUZZ
@given(json_values)
def test_the_codec_rebuilds_or_refuses_any_json(value):
    try:
        codec.from_plain(value)
    except ValueError:
        pass


@FUZZ
@given(st.text(max_size=200) | json_values.map(json.dumps))
def test_a_report_is_read_or_refused(text):
    try:
        report = parse_report(text)
    except ValueError:
        return
    assert report.status in ("returned", "raised", "missing", "unreportable")
    assert len(report.ename) <= 100 and len(report.evalue) <= 2000 and len(report.traceback) <= 4000


@FUZZ
@given(
    st.sampled_from(HELPERS), st.lists(plain_values, max_size=5), st.dictionaries(st.text(max_size=15), plain_values)
)
def test_a_stand_in_call_is_checked_or_refused(helper, args, kwargs):
    dims = {"n_x": 2, "n_h": 3, "n_y": 1, "m": 5}
    try:
        call = parse_helper_call(codec.dumps({"helper": helper, "args": args, "kwargs": kwargs}))
    except ValueError:
        return
    try:
        checked, extra = check_helper_call(call.helper, call.args, call.kwargs, dims)
    except HelperCallRejected:
        return
    assert extra == {} and isinstance(checked, tuple)


class LocalReference:
    """The reference in this process, failing as the bounded process would (ReferenceFailure)."""

    def __init__(self, reference):
        self.reference = reference

    def call(self, name, args, kwargs=None, timeout=None):
        from autograder.grading.refserver import ReferenceFailure

        try:
            with np.errstate(all="ignore"):
                return self.reference[name](*copy.deepcopy(args), **copy.deepcopy(kwargs or {}))
        except Exception as error:  # noqa: BLE001
            raise ReferenceFailure(str(error)) from None


@pytest.fixture(scope="module")
def grader(reference):
    job = Job("student", 7, CourseBundle(ASSIGNMENT, "", "", {}), None)
    points = dict.fromkeys(("nn_model", "compute_cost", "predict"), 10.0)
    return Grader(job, LocalReference(reference), None, points)


def _session(grader, name):
    cases = ([visible_case(name)] if visible_case(name) else []) + draw_cases(name, 3)
    expected = [grader.reference.call(name, case.args, case.kwargs) for case in cases]
    return ProbeSession(grader, name, cases, expected)


prompts = st.one_of(
    st.just(NEXT),
    st.text(max_size=50),
    json_values.map(lambda v: REPORT + json.dumps(v)),
    st.fixed_dictionaries(
        {"status": st.sampled_from(["returned", "raised", "missing", "x"]), "value": json_values}
    ).map(lambda v: REPORT + json.dumps(v)),
    json_values.map(lambda v: CALL + json.dumps(v)),
    st.builds(
        lambda h, a, k: CALL + codec.dumps({"helper": h, "args": a, "kwargs": k}),
        st.sampled_from(HELPERS),
        st.lists(plain_values, max_size=4),
        st.dictionaries(st.sampled_from(["learning_rate", "X", "parameters", "zz"]), plain_values, max_size=2),
    ),
    st.text(alphabet=string.printable, max_size=30).map(lambda t: CALL + t),
)


@FUZZ
@given(st.sampled_from(["nn_model", "compute_cost", "predict"]), st.lists(prompts, min_size=1, max_size=12))
def test_a_probe_session_answers_whatever_the_kernel_sends(grader, name, sequence):
    """Any sequence of input requests gets answers (strings) and verdicts; nothing is raised in the grader."""
    session = _session(grader, name)
    for prompt in sequence:
        try:
            answer = session.on_input(prompt)
        except GraderFault as fault:  # a checked call made the reference fail: a flaw of the checks
            raise AssertionError(f"a kernel's input made the reference fail: {fault}") from None
        assert isinstance(answer, str)
    assert len(session.verdicts) <= len(session.cases)
    for verdict in session.verdicts:
        assert verdict is None or (len(verdict.message) < 5000 and verdict.outcome)


def test_an_honest_session_passes_and_a_forged_report_fails(grader, reference):
    session = _session(grader, "compute_cost")
    answer = session.on_input(NEXT)
    while answer != STOP:
        request = codec.loads(answer)
        value = reference["compute_cost"](*request["args"], **request["kwargs"])
        answer = session.on_input(REPORT + json.dumps({"status": "returned", "value": codec.to_plain(value)}))
    assert session.complete() and session.failure() is None
    forged = _session(grader, "compute_cost")
    forged.on_input(NEXT)
    assert forged.on_input(REPORT + json.dumps({"status": "returned", "value": 0.5})) == STOP
    assert forged.failure() is not None


@FUZZ
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_a_zygote_answer_is_a_verified_launcher_or_refused(data):
    try:
        answer = ZygoteLauncher._answer(data, [])
    except ValueError:
        return
    assert answer is None  # without a pidfd naming its pid, no answer is a launcher


class FakeSession:
    def __init__(self, outcome):
        self.outcome = outcome

    @staticmethod
    def feed_identities(frames):
        return [], frames

    def deserialize(self, frames):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakeSocket:
    """One message's frames (signature, header, parent, metadata, content), as the kernel's socket gives them."""

    def __init__(self, frames=(b"signature", b"{}", b"{}", b"{}", b"{}")):
        self.frames = list(frames)

    def recv_multipart(self, flags=0):
        return self.frames


class FakeClient:
    def __init__(self, outcome):
        self.session = FakeSession(outcome)


@FUZZ
@given(
    json_values
    | st.fixed_dictionaries(
        {
            "parent_header": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
            "msg_type": st.sampled_from(["stream", "error", "display_data", "execute_result", "clear_output", "x"]),
            "content": st.dictionaries(
                st.sampled_from(["name", "text", "data", "ename", "evalue", "traceback", "execution_count"]),
                json_values,
                max_size=5,
            ),
        }
    )
)
def test_a_jupyter_message_is_read_or_is_a_protocol_error(message):
    kernel = GradingKernel.__new__(GradingKernel)
    kernel.client = FakeClient(message)
    try:
        received = kernel._receive(FakeSocket(), "iopub")
    except ProtocolError:
        return
    if received is None:
        return
    json.dumps(received["content"], ensure_ascii=False).encode("utf-8")  # writable, whatever it held
    outputs = CellOutputs(NotebookBudget())
    outputs.add(received)  # whatever the content holds
    kept = outputs.finish()
    json.dumps(kept, ensure_ascii=False).encode("utf-8")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", outputs=kept)])
    _written(notebook)  # a valid notebook, whatever the kernel sent: an invalid one would be "not graded" for ever


@pytest.mark.parametrize("count", [-1, True, 2**70, "3", 1.5])
def test_an_execution_count_nbformat_would_refuse_is_none(count):
    """``get_ipython().execution_count = -1`` makes the kernel send a count below 0 (a forged message, a bool):
    the output keeps none, and the notebook stays valid, so the submission is graded."""
    outputs = CellOutputs(NotebookBudget())
    outputs.add(_message("execute_result", data={"text/plain": "42"}, execution_count=count))
    [kept] = outputs.finish()
    assert kept.execution_count is (None if count != 2**70 else count)
    _written(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("42", outputs=[kept])]))


def _message(kind, **content):
    return {"msg_type": kind, "content": content, "parent_header": {}}


def test_a_flood_of_outputs_keeps_at_most_a_cells_allowance():
    budget = NotebookBudget()
    outputs = CellOutputs(budget)
    for _ in range(20_000):
        outputs.add(_message("error", ename="E", evalue="", traceback=[]))
        outputs.add(_message("display_data", data={"text/plain": "x"}))
    kept = outputs.finish()
    assert len(kept) <= MAX_OUTPUTS_PER_CELL + 1 and "outputs beyond" in kept[-1].text
    assert len(json.dumps(kept)) < 100_000 and budget.left > 0


def test_prints_to_one_stream_make_one_output():
    outputs = CellOutputs(NotebookBudget())
    for i in range(1_000):
        outputs.add(_message("stream", name="stdout", text=f"{i}\n"))
    outputs.add(_message("stream", name="stderr", text="warning\n"))
    kept = outputs.finish()
    assert [o.name for o in kept] == ["stdout", "stderr"] and kept[0].text.startswith("0\n1\n2\n")


@pytest.mark.parametrize("error", [ValueError("Invalid Signature"), KeyError("header"), TypeError("x")])
def test_an_unreadable_jupyter_message_is_a_protocol_error(error):
    kernel = GradingKernel.__new__(GradingKernel)
    kernel.client = FakeClient(error)
    with pytest.raises(ProtocolError):
        kernel._receive(FakeSocket(), "iopub")


def test_a_zygote_answer_names_its_launcher_by_pidfd_or_is_refused():
    """A pid alone is never trusted: it must come with a pidfd naming that very process (and never be <= 1)."""
    import os

    me = os.getpid()  # a live process to name, without starting one
    for pid in (me + 1, 1, 0, -1, str(me), True):
        fd = os.pidfd_open(me)
        assert ZygoteLauncher._answer(json.dumps({"pid": pid}).encode(), [fd]) is None, pid
        with pytest.raises(OSError):
            os.fstat(fd)  # closed, not leaked
    fd = os.pidfd_open(me)
    assert ZygoteLauncher._answer(json.dumps({"pid": me}).encode(), [fd]) == (me, fd)
    os.close(fd)


def test_a_message_of_too_many_values_is_refused_before_it_is_parsed():
    kernel = GradingKernel.__new__(GradingKernel)
    kernel.client = FakeClient(AssertionError("never parsed"))
    content = b'{"name": "stdout", "text": "x", "a": [' + b"{}," * 200_000 + b"{}]}"
    with pytest.raises(ProtocolError, match="more than 100000 values"):
        kernel._receive(FakeSocket([b"signature", b"{}", b"{}", b"{}", content]), "iopub")
