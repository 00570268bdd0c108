"""Visible tests of the eight graded functions, with messages that say what is wrong.

Each ``<function>_test(target)`` runs the walk-through's case (from testCases.py),
prints the student's values next to the expected ones, and raises an
``AssertionError`` naming the first problem: a missing key, a wrong shape or dtype,
NaN or inf, or the entry that differs and by how much.

The comparison helpers (``check_value``, ``check_dict``) are also what the
autograder uses on hidden cases, so a student sees the same kind of message in
their feedback.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

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

RTOL = 1e-5
ATOL = 1e-7

# Expected outputs of the visible cases (the walk-through's printed values).
EXPECTED = {
    "layer_sizes": (5, 4, 2),
    "initialize_parameters": {
        "W1": [[-0.00416758, -0.00056267], [-0.02136196, 0.01640271],
               [-0.01793436, -0.00841747], [0.00502881, -0.01245288]],
        "b1": [[0.0], [0.0], [0.0], [0.0]],
        "W2": [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]],
        "b2": [[0.0]],
    },
    # Means of Z1, A1, Z2 and A2.
    "forward_propagation": (-0.000499755777742, -0.000496963353232,
                            0.000438187450959, 0.500109546852),
    "compute_cost": 0.6930587610394646,
    "backward_propagation": {
        "dW1": [[0.01018708, -0.00708701], [0.00873447, -0.0060768],
                [-0.00530847, 0.00369379], [-0.02206365, 0.01535126]],
        "db1": [[-0.00069728], [-0.00060606], [0.000364], [0.00151207]],
        "dW2": [[0.00363613, 0.03153604, 0.01162914, -0.01318316]],
        "db2": [[0.06589489]],
    },
    "update_parameters": {
        "W1": [[-0.00643025, 0.01936718], [-0.02410458, 0.03978052],
               [-0.01653973, -0.02096177], [0.01046864, -0.05990141]],
        "b1": [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]],
        "W2": [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]],
        "b2": [[0.00010457]],
    },
    "nn_model": {
        "W1": [[-0.65848169, 1.21866811], [-0.76204273, 1.39377573],
               [0.5792005, -1.10397703], [0.76773391, -1.41477129]],
        "b1": [[0.287592], [0.3511264], [-0.2431246], [-0.35772805]],
        "W2": [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]],
        "b2": [[0.20459656]],
    },
    "predict": [[1, 0, 1]],
}


class NotImplementedYet(AssertionError):
    """The function still holds the placeholder of the release notebook."""


def call_student(function, *args, **kwargs):
    """Call a student's function and return its result.

    Warnings and anything written to stderr are replayed on stdout as notes (a
    warning is not a mistake, and nbgrader would zero a cell that prints to
    stderr); the placeholder's NotImplementedError becomes a clear message.
    """
    name = getattr(function, "__name__", "the function")
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(
                f"{name} is not implemented yet: replace the line "
                "`raise NotImplementedError()` with your code."
            ) from None
    for w in caught:
        print(f"note: {name} warned: {w.category.__name__}: {w.message}")
    if stderr.getvalue():
        print(f"note: {name} wrote to stderr: {stderr.getvalue().strip()[:500]}")
    return result


def _where(index) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def check_array(name: str, got, shape: tuple, kind: str = "float") -> None:
    """Raise AssertionError unless ``got`` is an array of this shape with sound values.

    kind "float": a floating-point array without NaN or inf; kind "labels": bool or
    numbers holding only 0 and 1.
    """
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name} should be a numpy array of shape {shape}, got {type(got).__name__}")
    if got.shape != tuple(shape):
        raise AssertionError(f"{name} has shape {got.shape}, expected {tuple(shape)}")
    if kind == "labels":
        if not (got.dtype == bool or np.issubdtype(got.dtype, np.number)):
            raise AssertionError(f"{name} has dtype {got.dtype}; predictions must be 0/1 numbers or booleans")
        bad = ~np.isin(got.astype(float), (0.0, 1.0))
        if bad.any():
            first = tuple(np.argwhere(bad)[0])
            raise AssertionError(f"{name} must hold only 0 and 1; {name}{_where(first)} is {got[first]!r}")
        return
    if not np.issubdtype(got.dtype, np.floating):
        raise AssertionError(
            f"{name} has dtype {got.dtype}, expected a float array"
            + (" (did you use integer zeros? np.zeros gives floats)" if got.dtype.kind in "iub" else "")
        )
    for label, mask in (("NaN", np.isnan(got)), ("inf", np.isinf(got))):
        if mask.any():
            first = tuple(np.argwhere(mask)[0])
            raise AssertionError(
                f"{name} contains {int(mask.sum())} {label} value(s), first at {name}{_where(first)}"
            )


def check_value(name: str, got, expected, rtol: float = RTOL, atol: float = ATOL,
                kind: str = "float") -> None:
    """Raise AssertionError naming what is wrong with ``got`` against ``expected``.

    kind: "float" for real-valued arrays and scalars, "labels" for 0/1 predictions
    (bool, int or float holding only 0 and 1 are all accepted).
    """
    expected = np.asarray(expected)
    if expected.ndim == 0:
        if isinstance(got, np.ndarray) and got.ndim > 0:
            raise AssertionError(
                f"{name} should be a single number, got an array of shape {got.shape}"
                + (" (use np.squeeze or float())" if got.size == 1 else "")
            )
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
            raise AssertionError(f"{name} should be a number, got {type(got).__name__}: {got!r:.80}")
        got_value = float(got)
        if not np.isfinite(got_value):
            raise AssertionError(f"{name} is {got_value}, expected {float(expected):.10g}")
        if not np.isclose(got_value, float(expected), rtol=rtol, atol=atol):
            raise AssertionError(
                f"{name} is {got_value:.10g}, expected {float(expected):.10g} "
                f"(off by {got_value - float(expected):.3g})"
            )
        return

    check_array(name, got, expected.shape, kind=kind)
    if kind == "labels":
        values = got.astype(float)
        wrong = values != expected.astype(float)
        if wrong.any():
            first = tuple(np.argwhere(wrong)[0])
            raise AssertionError(
                f"{name} is wrong at {int(wrong.sum())} of {wrong.size} examples; "
                f"first at {_where(first)}: got {values[first]:g}, expected {expected[first]:g}"
            )
        return
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if not close.all():
        diff = np.abs(got - expected)
        worst = tuple(np.unravel_index(np.argmax(np.where(close, 0, diff)), got.shape))
        raise AssertionError(
            f"{name} differs from the expected values at {int((~close).sum())} of {close.size} "
            f"entries; the largest difference is at {name}{_where(worst)}: got "
            f"{got[worst]:.8g}, expected {expected[worst]:.8g} (off by {got[worst] - expected[worst]:.3g})"
        )


def check_dict(name: str, got, expected: dict, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Check a dict of arrays key by key (extra keys are allowed)."""
    if not isinstance(got, dict):
        raise AssertionError(f"{name} should be a dict with keys {sorted(expected)}, got {type(got).__name__}")
    missing = [key for key in expected if key not in got]
    if missing:
        raise AssertionError(f"{name} is missing the key(s) {missing}; it has {sorted(map(str, got))}")
    for key, value in expected.items():
        check_value(f'{name}["{key}"]', got[key], value, rtol=rtol, atol=atol)


def _show(rows) -> None:
    """Print name, yours and expected side by side."""
    for label, yours, expected in rows:
        yours_text = np.array2string(np.asarray(yours), precision=8) if yours is not None else "-"
        expected_text = np.array2string(np.asarray(expected), precision=8)
        if "\n" in yours_text or "\n" in expected_text:
            print(f"{label}\n  yours:\n{yours_text}\n  expected:\n{expected_text}")
        else:
            print(f"{label:<10} yours: {yours_text:<40} expected: {expected_text}")


def _passed(name: str) -> None:
    print(f"All tests passed for {name}.")


def _check_dict_result(function: str, label: str, got, expected: dict, **tolerance) -> None:
    """Show a dict result key by key next to the expected one, then check it."""
    if isinstance(got, dict):
        _show((key, got.get(key), value) for key, value in expected.items())
    check_dict(label, got, expected, **tolerance)
    _passed(function)


def layer_sizes_test(target) -> None:
    X_assess, Y_assess = layer_sizes_test_case()
    result = call_student(target, X_assess, Y_assess)
    if not isinstance(result, tuple) or len(result) != 3:
        raise AssertionError(f"layer_sizes should return a tuple (n_x, n_h, n_y), got {result!r:.80}")
    _show(zip(("n_x", "n_h", "n_y"), result, EXPECTED["layer_sizes"]))
    for label, got, expected in zip(("n_x", "n_h", "n_y"), result, EXPECTED["layer_sizes"]):
        if not isinstance(got, (int, np.integer)) or got != expected:
            raise AssertionError(f"{label} is {got!r}, expected {expected}")
    _passed("layer_sizes")


def initialize_parameters_test(target) -> None:
    n_x, n_h, n_y = initialize_parameters_test_case()
    parameters = call_student(target, n_x, n_h, n_y)
    _check_dict_result("initialize_parameters", "parameters", parameters, EXPECTED["initialize_parameters"])


def forward_propagation_test(target) -> None:
    X_assess, parameters = forward_propagation_test_case()
    result = call_student(target, X_assess, parameters)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"forward_propagation should return (A2, cache), got {type(result).__name__}")
    A2, cache = result
    if not isinstance(cache, dict):
        raise AssertionError(f"cache should be a dict with keys Z1, A1, Z2, A2, got {type(cache).__name__}")
    for key, shape in (("Z1", (4, 3)), ("A1", (4, 3)), ("Z2", (1, 3)), ("A2", (1, 3))):
        if key not in cache:
            raise AssertionError(f'cache is missing the key "{key}"; it has {sorted(map(str, cache))}')
        check_array(f'cache["{key}"]', cache[key], shape)
    means = [np.mean(cache[key]) for key in ("Z1", "A1", "Z2")] + [np.mean(A2)]
    _show(zip(("mean(Z1)", "mean(A1)", "mean(Z2)", "mean(A2)"), means, EXPECTED["forward_propagation"]))
    check_array("A2", A2, (1, 3))
    for label, got, expected in zip(("mean(Z1)", "mean(A1)", "mean(Z2)", "mean(A2)"),
                                    means, EXPECTED["forward_propagation"]):
        check_value(label, got, expected)
    if A2 is not cache["A2"] and not np.array_equal(A2, cache["A2"]):
        raise AssertionError('the returned A2 differs from cache["A2"]')
    _passed("forward_propagation")


def compute_cost_test(target) -> None:
    A2, Y_assess, parameters = compute_cost_test_case()
    cost = call_student(target, A2, Y_assess, parameters)
    _show([("cost", cost, EXPECTED["compute_cost"])])
    check_value("cost", cost, EXPECTED["compute_cost"])
    _passed("compute_cost")


def backward_propagation_test(target) -> None:
    parameters, cache, X_assess, Y_assess = backward_propagation_test_case()
    grads = call_student(target, parameters, cache, X_assess, Y_assess)
    _check_dict_result("backward_propagation", "grads", grads, EXPECTED["backward_propagation"])


def update_parameters_test(target) -> None:
    parameters, grads = update_parameters_test_case()
    result = call_student(target, parameters, grads)
    _check_dict_result("update_parameters", "parameters", result, EXPECTED["update_parameters"])


def nn_model_test(target) -> None:
    X_assess, Y_assess = nn_model_test_case()
    parameters = call_student(target, X_assess, Y_assess, 4, num_iterations=10000, print_cost=False)
    _check_dict_result("nn_model", "parameters", parameters, EXPECTED["nn_model"], rtol=1e-4, atol=1e-6)


def predict_test(target) -> None:
    parameters, X_assess = predict_test_case()
    predictions = call_student(target, parameters, X_assess)
    _show([("predictions", predictions, EXPECTED["predict"])])
    check_value("predictions", predictions, EXPECTED["predict"], kind="labels")
    print(f"predictions mean = {np.mean(predictions):.12g}")
    _passed("predict")
