"""Data sets, plotting and the sigmoid used by the planar-classification course.

Arrays follow the course's convention: one example per column, so ``X`` has shape
``(n_features, m)`` and ``Y`` has shape ``(1, m)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit

__all__ = [
    "sigmoid",
    "load_planar_dataset",
    "load_extra_datasets",
    "plot_decision_boundary",
    "gradient_check",
]


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), elementwise, without overflow warnings.

    SciPy's ``expit`` (installed with scikit-learn) computes it stably for any z, in one
    pass: exp never sees a large positive argument.
    """
    return expit(np.asarray(z, dtype=float))


def load_planar_dataset(m: int = 400, petals: float = 4.0):
    """The "flower": two interleaved classes of m/2 points each, in the plane.

    Class j takes angles around [3.12 j, 3.12 (j + 1)] and radius 4 sin(4 t) plus
    noise, drawn from ``RandomState(1)``; the global numpy generator is untouched.

    Returns:
        X: float64 array of shape (2, m), the coordinates.
        Y: uint8 array of shape (1, m), the labels (0 = red, 1 = blue).
    """
    if m <= 0 or m % 2:
        raise ValueError(f"m must be a positive even number, got {m}")
    rng = np.random.RandomState(1)
    per_class = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(per_class * j, per_class * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, per_class) + rng.randn(per_class) * 0.2
        r = petals * np.sin(4 * t) + rng.randn(per_class) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def load_extra_datasets(n_samples: int = 200):
    """Five more 2-D binary problems, each with a fixed seed so every run agrees.

    Returns a dict mapping a name to ``(X, y)`` in scikit-learn's layout
    (X: (n_samples, 2), y: (n_samples,)); transpose X to feed the network.
    Names: "noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles", "no_structure".
    """
    from sklearn import datasets

    rng = np.random.RandomState(0)
    X_blobs, y_blobs = datasets.make_blobs(n_samples=n_samples, random_state=5, n_features=2, centers=6)
    return {
        "noisy_circles": datasets.make_circles(n_samples=n_samples, factor=0.5, noise=0.3, random_state=1),
        "noisy_moons": datasets.make_moons(n_samples=n_samples, noise=0.2, random_state=2),
        "blobs": (X_blobs, y_blobs % 2),
        "gaussian_quantiles": datasets.make_gaussian_quantiles(
            mean=None,
            cov=0.5,
            n_samples=n_samples,
            n_features=2,
            n_classes=2,
            shuffle=True,
            random_state=3,
        ),
        "no_structure": (rng.rand(n_samples, 2), (rng.rand(n_samples) > 0.5).astype(int)),
    }


def plot_decision_boundary(model: Callable[[np.ndarray], np.ndarray], X, y, ax=None, resolution: int = 300):
    """Shade the plane by the class ``model`` predicts and scatter the data on top.

    Args:
        model: called with points as rows, shape (k, 2); returns k labels in any
            shape holding k values ((k,), (1, k) or (k, 1)), e.g.
            ``lambda x: predict(parameters, x.T)`` or ``clf.predict``.
        X: coordinates, shape (2, m).
        y: labels, shape (1, m) or (m,).
        ax: a matplotlib Axes to draw into (for subplot grids); the current one if None.
        resolution: grid points along each axis.

    Returns the Axes drawn into.
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(
            f"X must have shape (2, m) with one example per column, got {X.shape}"
            + (" (transpose it with X.T)" if X.ndim == 2 and X.shape[1] == 2 else "")
        )
    m = X.shape[1]
    if y.size != m or (y.ndim == 2 and 1 not in y.shape) or y.ndim > 2:
        raise ValueError(f"y must hold one label per column of X, shape (1, {m}), got {y.shape}")
    if not callable(model):
        raise TypeError(f"model must be callable on points of shape (k, 2), got {type(model).__name__}")

    ax = plt.gca() if ax is None else ax
    pad = 1.0
    x_min, x_max = X[0].min() - pad, X[0].max() + pad
    y_min, y_max = X[1].min() - pad, X[1].max() + pad
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    Z = np.asarray(model(grid))
    if Z.size != grid.shape[0]:
        raise ValueError(
            f"model returned {Z.size} values for {grid.shape[0]} points; it must return "
            "one label per row of its (k, 2) input"
        )
    ax.contourf(xx, yy, Z.reshape(xx.shape).astype(float), cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[0], X[1], c=y.ravel(), s=20, cmap=plt.cm.Spectral, edgecolors="k", linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def gradient_check(
    forward_propagation,
    compute_cost,
    backward_propagation,
    parameters: dict,
    X,
    Y,
    epsilon: float = 1e-7,
    threshold: float = 1e-7,
) -> dict | None:
    """Compare backward_propagation's gradients with centred finite differences.

    The cost is J(theta) = compute_cost(forward_propagation(X, theta)[0], Y, theta);
    each parameter entry is nudged by +/- epsilon in turn. The numbers are only as good
    as the cost they differentiate, so compute_cost is checked first: if it is wrong,
    that is what gets reported, and the gradients are not judged (returns None).
    Otherwise prints one line per parameter and returns {name: relative difference},
    where the relative difference is |analytic - numeric| / (|analytic| + |numeric|).
    """
    from test_utils import cost_problem, course_language, say, wrap

    language = course_language()  # the edition's, beside the notebook
    problem = cost_problem(compute_cost, Y, parameters, language)
    if problem is not None:
        print(wrap(say("cost_first", language, problem=problem.rstrip(".。"))))
        return None
    try:
        return _check_gradients(
            forward_propagation, compute_cost, backward_propagation, parameters, X, Y, epsilon, threshold, language
        )
    except _CheckStopped as stopped:  # it runs before the test cell: it names the problem and lets Run All go on
        print(wrap(say("check_stopped", language, reason=str(stopped))))
        return None


class _CheckStopped(Exception):
    """A function the check calls cannot be used yet; the message says which and why."""


def _call(name: str, function, *args, language: str = "en"):
    from test_utils import say

    try:
        return function(*args)
    except NotImplementedError:
        raise _CheckStopped(say("not_implemented", language, name=name)) from None
    except Exception as error:  # noqa: BLE001 - any failure: the test cell below shows it in full
        raise _CheckStopped(
            say("check_raised", language, name=name, ename=type(error).__name__, evalue=str(error)[:200])
        ) from None


def _check_gradients(
    forward_propagation, compute_cost, backward_propagation, parameters, X, Y, epsilon, threshold, language
):
    from test_utils import say

    def cost_at(params):
        A2, _ = _call("forward_propagation", forward_propagation, X, params, language=language)
        return float(np.squeeze(_call("compute_cost", compute_cost, A2, Y, params, language=language)))

    params = {name: np.array(value, dtype=float) for name, value in parameters.items()}
    _, cache = _call("forward_propagation", forward_propagation, X, params, language=language)
    grads = _call("backward_propagation", backward_propagation, params, cache, X, Y, language=language)
    differences = {}
    for name in ("W1", "b1", "W2", "b2"):
        numeric = np.zeros_like(params[name])
        for index in np.ndindex(params[name].shape):
            original = params[name][index]
            params[name][index] = original + epsilon
            plus = cost_at(params)
            params[name][index] = original - epsilon
            minus = cost_at(params)
            params[name][index] = original
            numeric[index] = (plus - minus) / (2 * epsilon)
        try:
            analytic = np.asarray(grads["d" + name], dtype=float)
        except (KeyError, TypeError, ValueError) as error:
            raise _CheckStopped(say("gradient_unreadable", language, name=name, ename=type(error).__name__)) from None
        if analytic.shape != numeric.shape:
            raise _CheckStopped(
                say("gradient_shape", language, name=name, shape=analytic.shape, expected=numeric.shape)
            )
        scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
        differences[name] = float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0
        line = "gradient_line_ok" if differences[name] < threshold else "gradient_line_bad"
        print(say(line, language, name=name, difference=differences[name], threshold=threshold))
    return differences
