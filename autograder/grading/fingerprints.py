"""The classic mistakes of this exercise, as code: what each one returns on a given input.

``test_utils.diagnose`` names a mistake from the result it produces. Some mistakes can
be recognised from the result alone (a cost m times too large); the others by their
fingerprint: the result the mistaken code gives on the same input. The grader
computes fingerprints here, on its hidden cases; the visible tests read them, as
numbers, for their own cases (test_fingerprints.json, written by ``python -m
tools.fingerprints``), so students never see the mistaken code, which would give the
right code away.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _dz1_variants(parameters, cache):
    W2, A1, A2 = parameters["W2"], cache["A1"], cache["A2"]
    return (
        {
            "grad_no_tanh_derivative": lambda dZ2: W2.T @ dZ2,
            "grad_derivative_a1": lambda dZ2: (W2.T @ dZ2) * A1,
            "grad_sigmoid_derivative": lambda dZ2: (W2.T @ dZ2) * A1 * (1 - A1),
            "grad_derivative_z1": lambda dZ2: (W2.T @ dZ2) * (1 - cache["Z1"] ** 2),
        },
        A1,
        A2,
    )


def _backward(parameters, cache, X, Y):
    variants, A1, A2 = _dz1_variants(parameters, cache)
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    found = {}
    for mistake, dz1 in variants.items():
        if mistake == "grad_derivative_z1" and "Z1" not in cache:
            continue
        dZ1 = dz1(dZ2)
        found[mistake] = {"dW1": dZ1 @ X.T / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m, "dW2": dW2, "db2": db2}
    return found


def _cost(A2, Y, parameters):
    m = Y.shape[1]
    return {
        "cost_one_term": float(-np.sum(Y * np.log(A2)) / m),
        "cost_swapped_logs": float(-np.sum(Y * np.log(1 - A2) + (1 - Y) * np.log(A2)) / m),
    }


def _initialize(n_x, n_h, n_y):
    state = np.random.get_state()
    try:
        np.random.seed(2)
        uniform = {"W1": np.random.rand(n_h, n_x) * 0.01, "W2": np.random.rand(n_y, n_h) * 0.01}
        np.random.seed(2)
        W2 = np.random.randn(n_y, n_h) * 0.01
        W1 = np.random.randn(n_h, n_x) * 0.01
    finally:
        np.random.set_state(state)
    return {"init_uniform": uniform, "init_order": {"W1": W1, "W2": W2}}


_VARIANTS = {
    "backward_propagation": _backward,
    "compute_cost": _cost,
    "initialize_parameters": _initialize,
}


def fingerprints(name: str, args: tuple, kwargs: dict | None = None, call=None) -> dict:
    """mistake id -> what the mistaken code returns for ``name(*args, **kwargs)``.

    ``call(function, args, kwargs)`` runs the reference, for mistakes that are defined by it.
    """
    variant = _VARIANTS.get(name)
    if variant is None:
        if name == "nn_model" and call is not None and len(args) >= 3:
            return _untrained(args, call)
        return {}
    with np.errstate(all="ignore"):
        return variant(*args, **(kwargs or {}))


def _untrained(args, call) -> dict:
    """nn_model that returns the initial parameters: initialisation, and no step of gradient descent."""
    X, Y, n_h = args[:3]
    try:
        initial = call("initialize_parameters", (X.shape[0], int(n_h), Y.shape[0]), {})
    except Exception:  # noqa: BLE001 - no fingerprint, no diagnosis
        return {}
    return {"model_untrained": initial}
