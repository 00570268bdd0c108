"""How the hidden cases of vector_basics draw their values (course.toml names this module)."""

import numpy as np

from autograder.grading.cases import Case


def _standardize(rng: np.random.Generator, size: dict) -> Case:
    X = rng.normal(3.0, 2.0, (size["n"], size["m"]))
    return Case((X,), {}, f"X {X.shape}")


def _softmax(rng: np.random.Generator, size: dict) -> Case:
    Z = rng.standard_normal((size["k"], size["m"])) * 30  # large: an unstable softmax overflows
    return Case((Z,), {}, f"Z {Z.shape}")


def _softmax_loss(rng: np.random.Generator, size: dict) -> Case:
    k, m = size["k"], size["m"]
    Z = rng.standard_normal((k, m))
    Y = np.zeros((k, m))
    Y[rng.integers(0, k, m), np.arange(m)] = 1.0
    return Case((Z, Y), {}, f"Z {Z.shape}", {"k": k, "m": m})


RECIPES = {"standardize": _standardize, "softmax": _softmax, "softmax_loss": _softmax_loss}
