"""The probe, run here in a plain namespace as the kernel runs it, with the grader's side played by the test."""

import json

import numpy as np
import pytest

from autograder.grading import codec
from autograder.grading.probe import (
    CALL,
    MAX_ENAME_CHARS,
    MAX_EVALUE_CHARS,
    MAX_REPORT_CHARS,
    NEXT,
    REPORT,
    STOP,
    TURN,
    Report,
    case_payload,
    parse_helper_call,
    parse_report,
    probe_source,
)


def run_probe(namespace, name, cases, helpers=(), answer_call=None, install=True):
    """Execute the probe for ``name`` with ``input`` answered as the grader would; the reports."""
    pending, reports = list(cases), []

    def grader_input(prompt):
        if prompt.startswith(TURN):  # the first request of the function's turn names it
            turn, _, prompt = prompt[len(TURN) :].partition("\n")
            assert turn == name
        if prompt == NEXT:
            return case_payload(*pending.pop(0)) if pending else STOP
        if prompt.startswith(REPORT):
            reports.append(parse_report(prompt[len(REPORT) :]))
            return case_payload(*pending.pop(0)) if pending else STOP
        if prompt.startswith(CALL):
            return codec.dumps(answer_call(codec.loads(prompt[len(CALL) :])))
        raise AssertionError(f"unexpected prompt {prompt[:40]!r}")

    import builtins

    saved = builtins.input
    builtins.input = grader_input
    try:
        exec(probe_source([(name, helpers)], install), namespace)
    finally:
        builtins.input = saved
    return reports


def test_each_case_is_called_and_reported_and_the_probe_leaves_no_name():
    namespace = {"layer_sizes": lambda X, Y: (X.shape[0], 4, Y.shape[0])}
    reports = run_probe(
        namespace,
        "layer_sizes",
        [((np.zeros((5, 3)), np.zeros((2, 3))), {}), ((np.zeros((1, 1)), np.zeros((1, 1))), {})],
    )
    assert [r.value for r in reports] == [(5, 4, 2), (1, 4, 1)]
    assert set(namespace) == {"layer_sizes", "__builtins__"}


def test_once_given_the_probe_a_kernel_is_sent_one_line_that_calls_it_on_its_own_namespace():
    run_probe({"layer_sizes": lambda X, Y: (1, 2, 3)}, "layer_sizes", [])  # gives this process the probe
    later = probe_source([(name, ()) for name in ("compute_cost", "layer_sizes", "predict")], install=False)
    assert "\n" not in later and len(later) < 250
    namespace = {"compute_cost": lambda A2, Y, p: 0.25}
    [report] = run_probe(namespace, "compute_cost", [((np.ones((1, 2)), np.ones((1, 2)), {}), {})], install=False)
    assert report.value == 0.25 and set(namespace) == {"compute_cost", "__builtins__"}


def test_one_probe_takes_its_functions_in_turn_a_missing_one_included():
    """Each function's turn begins once the previous one's last report was answered "stop", with a request that
    names it."""
    namespace = {"layer_sizes": lambda X, Y: (X.shape[0], 4, Y.shape[0]), "compute_cost": lambda A2, Y, p: 0.5}
    pending = {"layer_sizes": [((np.zeros((5, 3)), np.zeros((2, 3))), {})], "compute_cost": [((1, 2, {}), {})] * 2}
    order = ["layer_sizes", "predict", "compute_cost"]
    turns, log = [], []

    def grader_input(prompt):
        if prompt.startswith(TURN):
            name, _, prompt = prompt[len(TURN) :].partition("\n")
            turns.append(name)
        name = turns[-1]
        if prompt.startswith(REPORT):
            report = parse_report(prompt[len(REPORT) :])
            log.append((name, report.status, report.value))
        if pending.get(name) and (prompt == NEXT or prompt.startswith(REPORT)):
            return case_payload(*pending[name].pop(0))
        return STOP

    import builtins

    saved, builtins.input = builtins.input, grader_input
    try:
        exec(probe_source([(name, ()) for name in order]), namespace)
    finally:
        builtins.input = saved
    assert turns == order and log == [
        ("layer_sizes", "returned", (5, 4, 2)),
        ("predict", "missing", None),
        ("compute_cost", "returned", 0.5),
        ("compute_cost", "returned", 0.5),
    ]
    assert set(namespace) == {"layer_sizes", "compute_cost", "__builtins__"}


def test_a_missing_function_and_an_exception_are_reported_as_such():
    assert run_probe({}, "predict", [((1,), {})]) == [Report("missing")]

    def predict(parameters, X):
        raise ValueError("no")

    [report] = run_probe({"predict": predict}, "predict", [(({}, np.zeros((2, 1))), {})])
    assert (report.status, report.ename, report.evalue) == ("raised", "ValueError", "no")


def test_variables_named_as_builtins_the_probe_uses_do_not_break_it():
    """An honest notebook may say ``type = "binary"`` or ``len = 3`` at the top: the probe runs with globals of
    its own, so its ``type``, ``len`` and ``str`` are still the builtins."""
    names = {name: "the student's" for name in ("type", "len", "str", "list", "dict", "isinstance", "repr")}
    namespace = dict(names, compute_cost=lambda A2, Y, p: 0.25)
    [report] = run_probe(namespace, "compute_cost", [((np.ones((1, 2)), np.ones((1, 2)), {}), {})])
    assert report == Report("returned", 0.25) and set(namespace) == {*names, "compute_cost", "__builtins__"}


def test_a_variable_named_input_or_globals_does_not_break_the_probe():
    namespace = {"input": "the student's", "globals": 3, "compute_cost": lambda A2, Y, p: 0.5}
    [report] = run_probe(namespace, "compute_cost", [((np.ones((1, 2)), np.ones((1, 2)), {}), {})])
    assert report.value == 0.5


def test_stand_ins_ask_the_grader_and_raise_what_it_refuses():
    def nn_model(X, Y, n_h):
        return initialize_parameters(2, n_h, 1)  # noqa: F821 - the stand-in the probe provides

    calls = []

    def answer(request):
        calls.append(request)
        return {"value": {"W1": np.ones((request["args"][1], 2))}} if request["args"][1] < 9 else {"raise": "too big"}

    [good] = run_probe({"nn_model": nn_model}, "nn_model", [((0, 0, 4), {})], ("initialize_parameters",), answer)
    assert good.value["W1"].shape == (4, 2)
    assert calls == [{"helper": "initialize_parameters", "args": [2, 4, 1], "kwargs": {}}]
    [refused] = run_probe({"nn_model": nn_model}, "nn_model", [((0, 0, 9), {})], ("initialize_parameters",), answer)
    assert (refused.status, refused.evalue) == ("raised", "too big")


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"status": "won"}', '{"status": "returned", "value": {"__x__": 1}}', "[" * 50_000 + "]" * 50_000],
)
def test_a_forged_or_broken_report_is_refused(text):
    with pytest.raises((ValueError, TypeError, KeyError)):
        parse_report(text)


def test_report_texts_of_the_wrong_type_are_dropped_and_long_ones_cut():
    report = parse_report(json.dumps({"status": "raised", "ename": ["x"], "evalue": {"a": 1}}))
    assert (report.ename, report.evalue) == ("Exception", "")
    report = parse_report(json.dumps({"status": "raised", "ename": "E" * 10**6, "evalue": "v" * 10**6}))
    assert (len(report.ename), len(report.evalue)) == (MAX_ENAME_CHARS, MAX_EVALUE_CHARS)


def test_a_report_larger_than_its_cap_is_refused_before_it_is_parsed():
    with pytest.raises(ValueError, match="too large"):
        parse_report(json.dumps({"status": "raised", "ename": "E", "evalue": "x" * MAX_REPORT_CHARS}))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[1, 2]",
        codec.dumps([1, 2]),
        codec.dumps({"helper": 3, "args": [], "kwargs": {}}),
        codec.dumps({"helper": "forward_propagation", "args": {}, "kwargs": {}}),
        codec.dumps({"helper": "h", "args": [[0] * 20_000], "kwargs": {}}),
        codec.dumps({"helper": "h", "args": [], "kwargs": {"k" * 200: 1}}),
    ],
)
def test_a_malformed_or_oversized_helper_call_is_refused(text):
    with pytest.raises(ValueError):
        parse_helper_call(text)


def test_lone_surrogates_in_a_report_or_a_call_become_writable_text():
    """JSON escapes can carry text UTF-8 cannot write; what the grader parses is always writable."""
    report = parse_report('{"status": "raised", "ename": "E\\udfff", "evalue": "bad \\ud800 value"}')
    assert (report.ename, report.evalue) == ("E\ufffd", "bad \ufffd value")
    report = parse_report('{"status": "returned", "value": "x\\udc00"}')
    assert report.value == "x\ufffd"
    text = codec.dumps({"helper": "h@", "args": ["@"], "kwargs": {"k@": 1}}).replace("@", "\\ud800")
    call = parse_helper_call(text)
    assert (call.helper, call.args, call.kwargs) == ("h\ufffd", ("\ufffd",), {"k\ufffd": 1})
    for text in (report.ename, report.evalue, call.helper):
        text.encode("utf-8")
