"""The visible tests of the eight graded functions: your values next to the expected ones.

Each ``<function>_test(target)`` runs the walk-through's case (from testCases.py) on your
function, prints what it returned next to what it should return and, when they differ,
stops with a few lines: what is wrong and, when the result matches a classic mistake of
this exercise, which one and where to look. The comparison and its messages are in
test_utils.py (the grader uses the very same on its hidden cases).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping

import numpy as np

from course_spec import SPEC
from test_utils import (
    FINGERPRINTS,
    HELPERS,
    HelperFails,
    TestFailure,
    arrays,
    call_student,
    check_result,
    course_language,
    say,
)
from testCases import (
    backward_propagation_test_case,
    compute_cost_test_case,
    forward_propagation_test_case,
    initialize_parameters_test_case,
    layer_sizes_test_case,
    nn_model_test_case,
    predict_test_case,
    update_parameters_test_case,
)

__all__ = [f"{name}_test" for name in SPEC.names]  # what the notebook's `from public_tests import *` takes

LANGUAGE = course_language()  # the edition's: "zh" beside the Chinese notebook, else "en"

# Expected outputs of the visible cases (the walk-through's printed values), in the form
# each function returns them.
EXPECTED = arrays(
    {
        "layer_sizes": (5, 4, 2),
        "initialize_parameters": {
            "W1": [
                [-0.00416758, -0.00056267],
                [-0.02136196, 0.01640271],
                [-0.01793436, -0.00841747],
                [0.00502881, -0.01245288],
            ],
            "b1": [[0.0], [0.0], [0.0], [0.0]],
            "W2": [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]],
            "b2": [[0.0]],
        },
        # The walk-through prints the means of Z1, A1, Z2 and A2: -0.000499755777742,
        # -0.000496963353232, 0.000438187450959 and 0.500109546852; these are the arrays.
        "forward_propagation": (
            [[0.5002307023, 0.4998583053, 0.500239633]],
            {
                "Z1": [
                    [-0.006165861996, 0.002062604884, 0.00349620481],
                    [-0.05229879383, 0.02726334641, -0.02646868795],
                    [-0.02009991333, 0.003686916997, 0.02884555528],
                    [0.0215300737, -0.01385322413, 0.02600470982],
                ],
                "A1": [
                    [-0.00616578386, 0.002062601959, 0.003496190565],
                    [-0.05225116402, 0.02725659356, -0.02646250844],
                    [-0.02009720693, 0.003686900291, 0.02883755747],
                    [0.02152674761, -0.013852338, 0.02599884955],
                ],
                "Z2": [[0.000922809274, -0.0005667787953, 0.0009585318743]],
                "A2": [[0.5002307023, 0.4998583053, 0.500239633]],
            },
        ),
        "compute_cost": 0.6930587610394646,
        "backward_propagation": {
            "dW1": [
                [0.01018708, -0.00708701],
                [0.00873447, -0.0060768],
                [-0.00530847, 0.00369379],
                [-0.02206365, 0.01535126],
            ],
            "db1": [[-0.00069728], [-0.00060606], [0.000364], [0.00151207]],
            "dW2": [[0.00363613, 0.03153604, 0.01162914, -0.01318316]],
            "db2": [[0.06589489]],
        },
        "update_parameters": {
            "W1": [
                [-0.00643025, 0.01936718],
                [-0.02410458, 0.03978052],
                [-0.01653973, -0.02096177],
                [0.01046864, -0.05990141],
            ],
            "b1": [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]],
            "W2": [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]],
            "b2": [[0.00010457]],
        },
        "nn_model": {
            "W1": [
                [-0.65848169, 1.21866811],
                [-0.76204273, 1.39377573],
                [0.5792005, -1.10397703],
                [0.76773391, -1.41477129],
            ],
            "b1": [[0.287592], [0.3511264], [-0.2431246], [-0.35772805]],
            "W2": [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]],
            "b2": [[0.20459656]],
        },
        "predict": [[1, 0, 1]],
    }
)


def _show(rows) -> None:
    """Print name, yours and expected side by side."""
    yours_word, expected_word = say("yours", LANGUAGE), say("expected", LANGUAGE)
    for label, yours, expected in rows:
        try:
            yours_text = np.array2string(np.asarray(yours), precision=8) if yours is not None else "-"
        except Exception:  # noqa: BLE001 - whatever the student returned, the test goes on
            yours_text = repr(yours)[:200]
        expected_text = np.array2string(np.asarray(expected), precision=8)
        if "\n" in yours_text or "\n" in expected_text:
            print(f"{label}\n  {yours_word}:\n{yours_text}\n  {expected_word}:\n{expected_text}")
        else:
            print(f"{label:<10} {yours_word}: {yours_text:<40} {expected_word}: {expected_text}")


def _show_dict(got, expected: Mapping) -> None:
    if isinstance(got, Mapping):
        _show((key, got.get(key), value) for key, value in expected.items())


def _check(name: str, got, args: tuple, kwargs: Mapping | None = None) -> None:
    """Stop with a message if ``got`` is not the expected result. ``args``: a fresh copy of the case's
    inputs (your function may have changed the ones it was given), to tell which classic mistake it is."""
    check_result(name, got, EXPECTED[name], args, kwargs, fingerprints=FINGERPRINTS.get(name), language=LANGUAGE)


def _mean(value):
    """The mean of ``value``, or None if it has none (missing, or not numbers)."""
    try:
        return np.mean(value)
    except Exception:  # noqa: BLE001 - shown as missing; the check says why
        return None


def _passed(name: str) -> None:
    print(say("passed", LANGUAGE, name=name))


def _global_names(code) -> set:
    """The global names a function's code (and the code nested in it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _global_names(constant)
    return names


def _check_helpers(name: str, target) -> None:
    """Stop with a clear message when ``target`` calls a graded function that fails its own test."""
    code = getattr(target, "__code__", None)
    if code is None:
        return
    used = _global_names(code)
    if "NotImplementedError" in used:  # still the release's placeholder: say that, not what it calls
        return
    namespace = getattr(target, "__globals__", {})
    for helper in HELPERS[name]:
        if helper not in used:
            continue
        function = namespace.get(helper)
        if function is None:
            raise HelperFails(say("helper_missing", LANGUAGE, function=name, helper=helper), language=LANGUAGE)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                TESTS[helper](function)
        except Exception as error:  # noqa: BLE001 - whatever made the helper's test fail
            reason = error.message if isinstance(error, TestFailure) else f"{type(error).__name__}: {error}"
            reason = reason.splitlines()[0]
            raise HelperFails(
                say(
                    "helper_fails",
                    LANGUAGE,
                    function=name,
                    helper=helper,
                    reason=reason if len(reason) <= 160 else reason[:157] + "...",
                ),
                language=LANGUAGE,
            ) from None


def layer_sizes_test(target) -> None:
    X_assess, Y_assess = layer_sizes_test_case()
    result = call_student(LANGUAGE, target, X_assess, Y_assess)
    if isinstance(result, tuple) and len(result) == 3:
        _show(zip(("n_x", "n_h", "n_y"), result, EXPECTED["layer_sizes"]))
    _check("layer_sizes", result, layer_sizes_test_case())
    _passed("layer_sizes")


def initialize_parameters_test(target) -> None:
    n_x, n_h, n_y = initialize_parameters_test_case()
    parameters = call_student(LANGUAGE, target, n_x, n_h, n_y)
    _show_dict(parameters, EXPECTED["initialize_parameters"])
    _check("initialize_parameters", parameters, (n_x, n_h, n_y))
    _passed("initialize_parameters")


def forward_propagation_test(target) -> None:
    X_assess, parameters = forward_propagation_test_case()
    result = call_student(LANGUAGE, target, X_assess, parameters)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping):
        _, expected_cache = EXPECTED["forward_propagation"]
        means = [_mean(result[1].get(key)) for key in ("Z1", "A1", "Z2")] + [_mean(result[0])]
        expected_means = [np.mean(expected_cache[key]) for key in ("Z1", "A1", "Z2", "A2")]
        _show(zip(("mean(Z1)", "mean(A1)", "mean(Z2)", "mean(A2)"), means, expected_means))
    _check("forward_propagation", result, forward_propagation_test_case())
    _passed("forward_propagation")


def compute_cost_test(target) -> None:
    A2, Y_assess, parameters = compute_cost_test_case()
    cost = call_student(LANGUAGE, target, A2, Y_assess, parameters)
    _show([("cost", cost, EXPECTED["compute_cost"])])
    _check("compute_cost", cost, compute_cost_test_case())
    _passed("compute_cost")


def backward_propagation_test(target) -> None:
    parameters, cache, X_assess, Y_assess = backward_propagation_test_case()
    grads = call_student(LANGUAGE, target, parameters, cache, X_assess, Y_assess)
    _show_dict(grads, EXPECTED["backward_propagation"])
    _check("backward_propagation", grads, backward_propagation_test_case())
    _passed("backward_propagation")


def update_parameters_test(target) -> None:
    parameters, grads = update_parameters_test_case()
    result = call_student(LANGUAGE, target, parameters, grads)
    _show_dict(result, EXPECTED["update_parameters"])
    _check("update_parameters", result, update_parameters_test_case())
    _passed("update_parameters")


def nn_model_test(target) -> None:
    _check_helpers("nn_model", target)
    X_assess, Y_assess = nn_model_test_case()
    n_h = 4  # the walk-through's case: 4 hidden units, 10 000 steps of gradient descent
    kwargs = {"num_iterations": 10000, "print_cost": False}
    parameters = call_student(LANGUAGE, target, X_assess, Y_assess, n_h, **kwargs)
    _show_dict(parameters, EXPECTED["nn_model"])
    _check("nn_model", parameters, (*nn_model_test_case(), n_h), kwargs)
    _passed("nn_model")


def predict_test(target) -> None:
    _check_helpers("predict", target)
    parameters, X_assess = predict_test_case()
    predictions = call_student(LANGUAGE, target, parameters, X_assess)
    _show([("predictions", predictions, EXPECTED["predict"])])
    _check("predict", predictions, predict_test_case())
    print(f"predictions mean = {np.mean(predictions):.12g}")
    _passed("predict")


# Each graded function's visible test, by name (course.toml lists them; each is defined above).
TESTS = {name: globals()[f"{name}_test"] for name in SPEC.names}
