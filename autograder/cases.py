"""Hidden test cases: drawn from a seed, judged against the reference implementation.

A case holds only plain data (numbers, arrays, dicts of arrays), so it can cross
a process boundary as it is. ``draw_cases(name, seed)`` is deterministic in
(name, seed): the same seed gives the same cases on every machine.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import zlib
from typing import Any, Callable, Mapping

import numpy as np

from public_tests import check_dict, check_value

from . import GRADED_FUNCTIONS

# nn_model and predict call the other graded functions; they are judged with the
# reference versions of those in place, so a bug elsewhere costs its own points only.
USES_HELPERS = {
    "nn_model": ("layer_sizes", "initialize_parameters", "forward_propagation",
                 "compute_cost", "backward_propagation", "update_parameters"),
    "predict": ("forward_propagation",),
}

CASES_PER_FUNCTION = 3


@dataclasses.dataclass
class Case:
    """One call of a graded function: ``function(*args, **kwargs)``."""

    args: tuple
    kwargs: dict
    description: str


def _labels(rng: np.random.Generator, m: int) -> np.ndarray:
    Y = (rng.random((1, m)) > 0.5).astype("uint8")
    Y[0, 0], Y[0, -1] = 0, 1  # both classes present
    return Y


def _parameters(rng: np.random.Generator, n_x: int, n_h: int, n_y: int = 1, scale: float = 1.0) -> dict:
    return {
        "W1": rng.standard_normal((n_h, n_x)) * scale,
        "b1": rng.standard_normal((n_h, 1)) * scale,
        "W2": rng.standard_normal((n_y, n_h)) * scale,
        "b2": rng.standard_normal((n_y, 1)) * scale,
    }


def _draw_one(name: str, rng: np.random.Generator, index: int) -> Case:
    n_x = int(rng.integers(2, 6))
    n_h = int(rng.integers(2, 7))
    m = int(rng.integers(4, 12))
    X = rng.standard_normal((n_x, m))
    if name == "layer_sizes":
        n_y = int(rng.integers(1, 4))
        return Case((X, rng.standard_normal((n_y, m))), {}, f"X {X.shape}, Y ({n_y}, {m})")
    if name == "initialize_parameters":
        n_y = int(rng.integers(1, 3))
        return Case((n_x, n_h, n_y), {}, f"n_x={n_x}, n_h={n_h}, n_y={n_y}")
    if name == "forward_propagation":
        return Case((X, _parameters(rng, n_x, n_h)), {}, f"X {X.shape}, n_h={n_h}")
    if name == "compute_cost":
        A2 = rng.uniform(0.05, 0.95, (1, m))
        return Case((A2, _labels(rng, m), _parameters(rng, n_x, n_h)), {}, f"m={m}")
    if name == "backward_propagation":
        parameters = _parameters(rng, n_x, n_h, scale=0.5)
        Z1 = parameters["W1"] @ X + parameters["b1"]
        A1 = np.tanh(Z1)
        Z2 = parameters["W2"] @ A1 + parameters["b2"]
        cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": 1 / (1 + np.exp(-Z2))}
        return Case((parameters, cache, X, _labels(rng, m)), {}, f"X {X.shape}, n_h={n_h}")
    if name == "update_parameters":
        parameters = _parameters(rng, n_x, n_h)
        grads = {"d" + key: value for key, value in _parameters(rng, n_x, n_h, scale=0.1).items()}
        if index == 0:
            return Case((parameters, grads), {}, f"n_x={n_x}, n_h={n_h}, default learning rate")
        rate = float(np.round(rng.uniform(0.05, 2.0), 3))
        return Case((parameters, grads), {"learning_rate": rate}, f"n_x={n_x}, n_h={n_h}, learning_rate={rate}")
    if name == "nn_model":
        X = rng.standard_normal((2, m + 6))
        iterations = int(rng.integers(10, 30))
        return Case((X, _labels(rng, m + 6), n_h), {"num_iterations": iterations, "print_cost": False},
                    f"X {X.shape}, n_h={n_h}, {iterations} iterations")
    if name == "predict":
        X = rng.standard_normal((n_x, 3 * m))
        return Case((_parameters(rng, n_x, n_h), X), {}, f"X {X.shape}, n_h={n_h}")
    raise KeyError(f"no hidden cases for {name!r}; graded functions are {', '.join(GRADED_FUNCTIONS)}")


def draw_cases(name: str, seed: int, count: int = CASES_PER_FUNCTION) -> list[Case]:
    """The hidden cases of one graded function for this seed."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return [_draw_one(name, rng, index) for index in range(count)]


def with_helpers(function: Callable, helpers: Mapping[str, Callable]) -> Callable:
    """A copy of ``function`` whose global names in ``helpers`` resolve to those instead.

    The copy reads every other global from a snapshot of the function's own
    globals; callables that are not plain functions are returned unchanged.
    """
    if not isinstance(function, types.FunctionType):
        return function
    namespace = dict(function.__globals__)
    namespace.update(helpers)
    clone = types.FunctionType(function.__code__, namespace, function.__name__,
                               function.__defaults__, function.__closure__)
    clone.__kwdefaults__ = function.__kwdefaults__
    return clone


def expected_result(name: str, case: Case, reference: Mapping[str, Callable]) -> Any:
    """What the reference returns for this case (on its own copy of the inputs)."""
    return reference[name](*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))


def compare_result(name: str, got: Any, expected: Any) -> None:
    """Raise AssertionError saying how ``got`` differs from the reference's ``expected``."""
    if name == "layer_sizes":
        if not isinstance(got, tuple) or len(got) != 3:
            raise AssertionError(f"layer_sizes should return a tuple (n_x, n_h, n_y), got {got!r:.80}")
        for label, value, want in zip(("n_x", "n_h", "n_y"), got, expected):
            if not isinstance(value, (int, np.integer)) or value != want:
                raise AssertionError(f"{label} is {value!r}, expected {want}")
    elif name == "forward_propagation":
        if not isinstance(got, tuple) or len(got) != 2:
            raise AssertionError(f"forward_propagation should return (A2, cache), got {type(got).__name__}")
        check_value("A2", got[0], expected[0])
        check_dict("cache", got[1], expected[1])
    elif name == "compute_cost":
        check_value("cost", got, expected)
    elif name == "predict":
        check_value("predictions", got, expected, kind="labels")
    elif name == "nn_model":
        check_dict("parameters", got, expected, rtol=1e-4, atol=1e-6)
    else:
        label = "grads" if name == "backward_propagation" else "parameters"
        check_dict(label, got, expected)
