"""Naming the classic mistake a wrong result matches, so a failure can say where to look.

Relations that hold for any input come first (a cost m times too large, a transposed or
flattened gradient, a step up the gradient), one function of them per graded function;
then the results the classic mistakes give on the visible cases (test_fingerprints.json,
written by ``python -m tools.fingerprints``); then where in the result the mistake must be.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Mapping

import numpy as np

from course_spec import SPEC
from test_text import _data, say

RTOL, ATOL = SPEC.course_rtol, SPEC.course_atol


def _close(a, b, rtol=1e-4, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        scale = float(np.max(np.abs(b))) if b.size else 0.0  # as in check_value: cancellation near zero
        return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=rtol, atol=max(atol, rtol * scale))))
    except (TypeError, ValueError):
        return False


def _matches(got, fingerprint) -> bool:
    """Does ``got`` equal a mistake's result (a number, an array, or a tuple or dict of them)?"""
    if isinstance(fingerprint, Mapping):
        return isinstance(got, Mapping) and all(k in got and _matches(got[k], v) for k, v in fingerprint.items())
    if isinstance(fingerprint, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(fingerprint)
            and all(_matches(g, f) for g, f in zip(got, fingerprint))
        )
    if isinstance(got, (tuple, list, Mapping, str)) or got is None:
        return False
    return _close(got, fingerprint)


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def _examples(name: str, args: tuple) -> int | None:
    """m, the number of examples of a call, read from its inputs."""
    try:
        if name == "compute_cost":
            return int(np.shape(args[1])[1])
        if name == "backward_propagation":
            return int(np.shape(args[2])[1])
    except (IndexError, TypeError):
        return None
    return None


def _keys(got, expected):
    """(key, got value, expected value) of the float entries of a dict result, or of a bare value."""
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return []
        return [(key, got[key], value) for key, value in expected.items() if key in got]
    return [(None, got, expected)]


def diagnose(
    name: str,
    got,
    expected,
    args: tuple = (),
    kwargs: Mapping | None = None,
    fingerprints: Mapping | None = None,
    language: str = "en",
) -> tuple[str, str] | None:
    """(mistake id, hint) when a wrong result matches a classic mistake, else None.

    Relations that hold for any input are tried first (a cost m times too large, a
    transposed or flattened gradient, a step up the gradient); then ``fingerprints``:
    the results the classic mistakes give on these inputs; then where the mistake
    must be (the part of the result that is right and the part that is not).
    """
    kwargs = kwargs or {}
    try:
        found = _relation(name, got, expected, args, kwargs)
        if found is None:
            found = next(
                ((mistake, {}) for mistake, fingerprint in (fingerprints or {}).items() if _matches(got, fingerprint)),
                None,
            )
        if found is None:
            found = _localise(name, got, expected)
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy: an odd result just gets none
        return None
    if found is None:
        return None
    mistake, fields = found
    return mistake, say(mistake, language, **fields)


def _sizes(got, expected, args, kwargs, m):
    if isinstance(got, tuple) and len(got) == 3:
        X, Y = args[0], args[1]
        if tuple(got) == (X.shape[1], expected[1], Y.shape[1]):
            return "sizes_examples", {}
        if tuple(got) == (Y.shape[0], expected[1], X.shape[0]):
            return "sizes_swapped", {}
        if got[0] == expected[0] and got[2] == expected[2]:
            return "sizes_hidden", {}
    return None


def _cost(got, expected, args, kwargs, m):
    if np.ndim(expected) == 0 and not isinstance(got, (str, bytes)):
        value, want = float(np.squeeze(got)), float(expected)
        if m and m > 1 and _close(value, m * want):
            return "cost_no_mean", {}
        if _close(value, -want):
            return "cost_sign", {}
        if any(value == round(want, digits) for digits in range(5)):
            return "cost_rounded", {}
    return None


def _initialization(got, expected, args, kwargs, m):
    if not isinstance(got, Mapping):
        return None
    weights = [got.get(k) for k in ("W1", "W2")]
    if all(isinstance(w, np.ndarray) and w.size and not w.any() for w in weights):
        return "init_zero_weights", {}
    for key in ("W1", "W2"):
        g = got.get(key)
        if (
            isinstance(g, np.ndarray)
            and g.ndim == 2
            and g.shape != expected[key].shape
            and g.shape == expected[key].shape[::-1]
        ):
            return "init_swapped_shape", {"key": key}
    if all(_close(got.get(k), 100 * np.asarray(expected[k])) for k in ("W1", "W2")):
        return "init_unscaled", {}
    if any(
        isinstance(got.get(k), np.ndarray) and np.shape(got.get(k)) == np.shape(expected[k]) and np.any(got.get(k))
        for k in ("b1", "b2")
    ):
        return "init_nonzero_bias", {}
    return None


def _forward(got, expected, args, kwargs, m):
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], Mapping)):
        return None
    cache, (_, expected_cache) = got[1], expected
    Z1, Z2 = expected_cache["Z1"], expected_cache["Z2"]
    if _close(cache.get("A1"), _sigmoid(Z1)):
        return "forward_sigmoid_hidden", {}
    if _close(cache.get("A1"), Z1) and not _close(Z1, np.tanh(Z1)):
        return "forward_no_hidden_activation", {}
    near = [
        (float(np.max(np.abs(np.asarray(got[0], dtype=float) - candidate))), mistake)
        for candidate, mistake in ((Z2, "forward_no_output_sigmoid"), (np.tanh(Z2), "forward_tanh_output"))
        if _close(got[0], candidate)
    ]
    if near:  # both look alike where Z2 is small: the closer one
        return min(near)[1], {}
    parameters = args[1] if len(args) > 1 else {}
    for key, bias in (("Z1", "b1"), ("Z2", "b2")):
        if np.any(parameters.get(bias)) and _close(cache.get(key), expected_cache[key] - parameters[bias]):
            return "forward_no_bias", {"key": key}
    return None


def _gradients(got, expected, args, kwargs, m):
    if not isinstance(got, Mapping):
        return None
    entries = _keys(got, expected)
    scaled = [k for k, g, e in entries if _close(g, m * np.asarray(e)) and not _close(g, e)] if m and m > 1 else []
    if scaled:
        return "grad_no_mean", {"key": scaled[0]}
    if entries and all(_close(g, -np.asarray(e)) for _, g, e in entries):
        return "grad_sign", {}
    for key, g, e in entries:
        e = np.asarray(e)
        if isinstance(g, np.ndarray) and g.shape != e.shape:
            if g.ndim == 1 and _close(g, e.ravel()):
                return "grad_keepdims", {"key": key}
            if g.ndim == 2 and _close(g.T, e):
                return "grad_transposed", {"key": key}
    return None


def _update(got, expected, args, kwargs, m):
    if not (isinstance(got, Mapping) and len(args) >= 2):
        return None
    parameters, grads = args[0], args[1]
    rate = kwargs.get("learning_rate", args[2] if len(args) > 2 else 1.2)

    def stepped(rate_, sign=-1):
        return all(_close(got[k], np.asarray(parameters[k]) + sign * rate_ * np.asarray(grads["d" + k])) for k in keys)

    keys = [k for k in expected if k in got]
    if keys and stepped(rate, +1):
        return "update_sign", {}
    if keys and all(_close(got[k], parameters[k]) for k in keys):
        return "update_no_step", {}
    if keys and rate != 1.2 and stepped(1.2):
        return "update_fixed_rate", {}
    return None


def _model(got, expected, args, kwargs, m):
    if isinstance(got, Mapping) and len(args) >= 3:
        W1 = got.get("W1")
        if isinstance(W1, np.ndarray) and W1.ndim == 2 and args[2] != 4 and W1.shape[0] == 4:
            return "model_fixed_hidden", {}
    return None


def _predictions(got, expected, args, kwargs, m):
    if isinstance(got, np.ndarray) and got.shape == np.shape(expected):
        values = got.astype(float)
        if (
            np.all((values >= 0) & (values <= 1))
            and not np.all(np.isin(values, (0.0, 1.0)))
            and np.array_equal(values > 0.5, np.asarray(expected, dtype=bool))
        ):
            return "predict_probabilities", {}
        if np.array_equal(values, 1 - np.asarray(expected, dtype=float)):
            return "predict_inverted", {}
    return None


# The relations each graded function's classic mistakes have with the right result, whatever the inputs.
RELATIONS = {
    "layer_sizes": _sizes,
    "initialize_parameters": _initialization,
    "forward_propagation": _forward,
    "compute_cost": _cost,
    "backward_propagation": _gradients,
    "update_parameters": _update,
    "nn_model": _model,
    "predict": _predictions,
}


def _relation(name, got, expected, args, kwargs):
    relation = RELATIONS.get(name)
    return relation(got, expected, args, kwargs, _examples(name, args)) if relation else None


def _localise(name, got, expected):
    if name == "backward_propagation" and isinstance(got, Mapping):
        right = {key for key, g, e in _keys(got, expected) if _close(g, e, rtol=RTOL, atol=ATOL)}
        if right == {"dW2", "db2"}:
            return "grad_in_dz1", {}
    return None


def cost_problem(compute_cost, Y, parameters, language: str = "en") -> str | None:
    """Why ``compute_cost`` cannot serve a gradient check yet, or None when it looks right.

    Two guesses whose cost is known whatever the labels: 0.5 for every example costs
    log 2, and 0.8 on the right class (0.2 on the wrong one) costs -log 0.8.
    """
    Y = np.asarray(Y)
    guesses = (
        (np.full(Y.shape, 0.5), np.log(2), "cost_at_half"),
        (np.where(Y == 1, 0.8, 0.2), -np.log(0.8), "cost_at_guess"),
    )
    for A2, expected, key in guesses:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cost = float(np.squeeze(compute_cost(A2, Y, parameters)))
        except NotImplementedError:
            return say("not_implemented", language, name="compute_cost")
        except Exception as error:  # noqa: BLE001 - any failure is the problem to report
            return f"compute_cost raised {type(error).__name__}: {error}"
        if not np.isclose(cost, expected, rtol=1e-6, atol=1e-9):
            text = say(key, language, cost=cost, expected=expected)
            mistake = diagnose("compute_cost", cost, expected, (A2, Y, parameters), language=language)
            return text + (f"; {mistake[1].rstrip('.。')}" if mistake else "")
    return None


def _fingerprint(value):
    """A stored fingerprint: {"tuple": [...]} back to a tuple, lists to arrays."""
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(_fingerprint(item) for item in value["tuple"])
    if isinstance(value, dict):
        return {key: _fingerprint(item) for key, item in value.items()}
    return np.array(value) if isinstance(value, list) else value


FINGERPRINTS = {name: _fingerprint(found) for name, found in _data("test_fingerprints.json").items()}
