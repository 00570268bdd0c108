"""The visible tests: they pass correct code and explain wrong code precisely."""

import sys

import numpy as np
import pytest

import public_tests
import test_text
import test_utils
from autograder.grading.cases import with_helpers
from course_spec import SPEC


def run(test_name, function):
    getattr(public_tests, f"{test_name}_test")(function)


@pytest.mark.parametrize("name", SPEC.names)
def test_reference_passes_and_reports(reference, name, capsys):
    """Does each visible test pass the reference and print yours-vs-expected?"""
    run(name, reference[name])
    out = capsys.readouterr().out
    assert f"All tests passed for {name}." in out
    assert "expected" in out


def test_placeholder_says_not_implemented(capsys):
    """Does a release placeholder fail with a clear message instead of a bare traceback?"""

    def layer_sizes(X, Y):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"layer_sizes is not implemented yet: replace the line"):
        run("layer_sizes", layer_sizes)


def test_wrong_entry_is_located(reference):
    """Is the wrong entry named, with got, expected and the difference?"""

    def initialize_parameters(n_x, n_h, n_y):
        parameters = reference["initialize_parameters"](n_x, n_h, n_y)
        parameters["W1"] = parameters["W1"].copy()
        parameters["W1"][2, 1] += 0.5
        return parameters

    with pytest.raises(
        AssertionError,
        match=r'parameters\["W1"\]\[2, 1\]: got 0\.49158253, '
        r"expected -0\.00841747 \(0\.5 too high\)",
    ):
        run("initialize_parameters", initialize_parameters)


def test_transposed_weights_are_a_shape_error():
    """Is W1 of shape (n_x, n_h) reported as a shape problem?"""

    def initialize_parameters(n_x, n_h, n_y):
        np.random.seed(2)
        return {
            "W1": np.random.randn(n_x, n_h) * 0.01,
            "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.01,
            "b2": np.zeros((n_y, 1)),
        }

    with pytest.raises(AssertionError, match=r'parameters\["W1"\] has shape \(2, 4\), expected \(4, 2\)'):
        run("initialize_parameters", initialize_parameters)


def test_missing_key_and_wrong_type_are_named(reference):
    def backward_propagation(parameters, cache, X, Y):
        grads = reference["backward_propagation"](parameters, cache, X, Y)
        del grads["db1"]
        return grads

    with pytest.raises(AssertionError, match=r"grads is missing the key\(s\) \['db1'\]"):
        run("backward_propagation", backward_propagation)
    with pytest.raises(AssertionError, match="grads should be a dict"):
        run("backward_propagation", lambda *args: [1, 2, 3])


def test_nan_is_reported_as_nan(reference):
    def forward_propagation(X, parameters):
        A2, cache = reference["forward_propagation"](X, parameters)
        cache = dict(cache, Z1=cache["Z1"] * np.nan)
        return A2, cache

    with pytest.raises(AssertionError, match=r'cache\["Z1"\] contains 12 NaN value\(s\), first at'):
        run("forward_propagation", forward_propagation)


def test_cost_must_be_a_scalar_and_a_number(reference):
    """Is a (1, 1) cost or a string refused, with a hint?"""

    def compute_cost(A2, Y, parameters):
        return np.array([[reference["compute_cost"](A2, Y, parameters)]])

    with pytest.raises(AssertionError, match=r"single number.*shape \(1, 1\).*np\.squeeze"):
        run("compute_cost", compute_cost)
    with pytest.raises(AssertionError, match="should be a number, got str"):
        run("compute_cost", lambda A2, Y, parameters: "0.6930587610394646")


@pytest.mark.parametrize(
    "convert", [lambda p: p, lambda p: p.astype(int), lambda p: p.astype(float), lambda p: p.astype("uint8")]
)
def test_any_0_1_representation_of_predictions_passes(reference, convert):
    run("predict", lambda parameters, X: convert(reference["predict"](parameters, X)))


def test_predictions_other_than_0_1_are_refused(reference):
    def predict(parameters, X):
        return reference["forward_propagation"](X, parameters)[0]  # probabilities, not labels

    with pytest.raises(AssertionError, match="must hold only 0 and 1"):
        run("predict", predict)


def test_warnings_and_stderr_become_notes_on_stdout(reference, capsys):
    """Does correct code that warns or writes to stderr pass, with nothing on stderr?"""

    def compute_cost(A2, Y, parameters):
        np.exp(np.array([1000.0]))  # overflow warning
        print("debugging", file=sys.stderr)
        return reference["compute_cost"](A2, Y, parameters)

    run("compute_cost", compute_cost)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "note: compute_cost warned: RuntimeWarning" in captured.out
    assert "note: compute_cost wrote to stderr: debugging" in captured.out


def test_nn_model_is_checked_with_the_helpers_it_is_given(reference):
    """Does nn_model's test blame the broken helper, and pass nn_model once correct helpers stand in?"""

    def broken_forward(X, parameters):
        raise ValueError("student bug")

    namespace = dict(reference)
    namespace["forward_propagation"] = broken_forward
    exec(
        "def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):\n"
        "    n_x, _, n_y = layer_sizes(X, Y)\n"
        "    parameters = initialize_parameters(n_x, n_h, n_y)\n"
        "    for i in range(num_iterations):\n"
        "        A2, cache = forward_propagation(X, parameters)\n"
        "        grads = backward_propagation(parameters, cache, X, Y)\n"
        "        parameters = update_parameters(parameters, grads)\n"
        "    return parameters\n",
        namespace,
    )
    with pytest.raises(
        test_utils.HelperFails, match=r"nn_model calls your forward_propagation, whose test above fails: fix it first"
    ):
        run("nn_model", namespace["nn_model"])
    run("nn_model", with_helpers(namespace["nn_model"], {"forward_propagation": reference["forward_propagation"]}))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_failure_reads_within_the_validate_dialogs_width(language):
    """Does a long failure (tanh's derivative missing, as the visible test words it) wrap to 80 columns, a Chinese
    character counting two, with no word cut and both lines of the traceback kept?"""
    import re

    message = test_utils.say("values", language, label='grads["dW1"]', count=6, size=8) + ("; " + "0.0087531387 " * 8)
    failure = test_utils.WrongResult(
        message, hint=test_utils.say("grad_no_tanh_derivative", language), language=language
    )
    lines = failure._render_traceback_()
    assert len(lines) == 2 and lines[0].startswith("\x1b[0;31mWrongResult\x1b[0m: ")
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for block in lines for line in block.split("\n")]
    assert len(shown) > 2 and max(test_text._columns(line) for line in shown) <= test_text.WIDTH
    words = " ".join(line.strip() for line in shown[:-1])
    assert "0.0087531387 " * 7 in words + " "  # numbers are never cut in two
    assert "".join(line.strip() for line in shown).replace(" ", "") == (
        f"WrongResult:{message}{test_utils.say('hint', language)}:{failure.hint}"
    ).replace(" ", "")  # nothing lost
