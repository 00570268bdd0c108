"""planar_utils against the reference values and its own promises."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sklearn.linear_model

from planar_utils import (
    gradient_check,
    load_extra_datasets,
    load_planar_dataset,
    plot_decision_boundary,
    sigmoid,
)


def flower_as_specified():
    """The data set exactly as docs/reference-values.md specifies it, with the global generator."""
    np.random.seed(1)
    X, Y = np.zeros((400, 2)), np.zeros((400, 1), dtype="uint8")
    for j in range(2):
        ix = range(200 * j, 200 * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + np.random.randn(200) * 0.2
        r = 4 * np.sin(4 * t) + np.random.randn(200) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def test_flower_is_bit_for_bit_the_reference_data():
    """Does load_planar_dataset reproduce the specified generation exactly, shapes and dtypes included?"""
    X, Y = load_planar_dataset()
    X_ref, Y_ref = flower_as_specified()
    assert X.shape == (2, 400) and X.dtype == np.float64
    assert Y.shape == (1, 400) and Y.dtype == np.uint8
    assert np.array_equal(X, X_ref) and np.array_equal(Y, Y_ref)
    assert Y.sum() == 200


def test_flower_leaves_the_global_generator_alone():
    """Does loading the data leave numpy's global random state as it was?"""
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    load_planar_dataset()
    assert np.array_equal(np.random.get_state()[1], before)


def test_logistic_regression_scores_47_percent():
    """Does LogisticRegressionCV with defaults label 47 % of the flower correctly?"""
    X, Y = load_planar_dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        clf = sklearn.linear_model.LogisticRegressionCV().fit(X.T, Y.ravel())
    assert round(float(np.mean(clf.predict(X.T) == Y.ravel())) * 100) == 47


def test_extra_datasets_are_seeded_and_well_formed():
    """Are the five extra data sets identical on every call, 200 points of 2 features, binary labels?"""
    first, second = load_extra_datasets(), load_extra_datasets()
    assert list(first) == ["noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles", "no_structure"]
    for name, (X, y) in first.items():
        assert X.shape == (200, 2), name
        assert y.shape == (200,), name
        assert set(np.unique(y)) == {0, 1}, name
        assert np.array_equal(X, second[name][0]) and np.array_equal(y, second[name][1]), name


def test_sigmoid_matches_the_formula_and_never_warns():
    """Does sigmoid equal 1/(1+exp(-z)) and stay silent and finite for huge |z|?"""
    z = np.linspace(-30, 30, 601)
    assert np.allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = sigmoid(np.array([-1e4, -800.0, 0.0, 800.0, 1e4]))
    assert np.array_equal(extreme, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert sigmoid(0.0) == 0.5


def test_plot_decision_boundary_draws_into_a_given_axes():
    """Does the plot go into the Axes passed, with labelled axes and a filled contour?"""
    X, Y = load_planar_dataset()
    fig, axes = plt.subplots(1, 2)
    returned = plot_decision_boundary(lambda x: x[:, 0] > 0, X, Y, ax=axes[1])
    assert returned is axes[1]
    assert axes[1].get_xlabel() and axes[1].get_ylabel()
    assert axes[1].collections and not axes[0].collections
    plt.close(fig)


@pytest.mark.parametrize("shape_of_model_output", [(-1,), (1, -1), (-1, 1)])
def test_plot_decision_boundary_accepts_any_label_layout(shape_of_model_output):
    """Do (k,), (1, k) and (k, 1) predictions all work?"""
    X, Y = load_planar_dataset()
    fig, ax = plt.subplots()
    plot_decision_boundary(lambda x: (x[:, 1] > 0).reshape(shape_of_model_output), X, Y, ax=ax)
    plt.close(fig)


def test_plot_decision_boundary_explains_mis_shaped_inputs():
    """Is a transposed X, a wrong-length y or a bad model reported with a specific message?"""
    X, Y = load_planar_dataset()
    with pytest.raises(ValueError, match=r"shape \(2, m\).*transpose"):
        plot_decision_boundary(lambda x: x[:, 0] > 0, X.T, Y)
    with pytest.raises(ValueError, match="one label per column"):
        plot_decision_boundary(lambda x: x[:, 0] > 0, X, Y[:, :10])
    with pytest.raises(ValueError, match="one label per row"):
        plot_decision_boundary(lambda x: x[:10, 0] > 0, X, Y)
    with pytest.raises(TypeError, match="callable"):
        plot_decision_boundary("predict", X, Y)


def test_gradient_check_accepts_the_reference_and_catches_a_wrong_gradient(reference, capsys):
    """Does the gradient check pass correct gradients and flag exactly the wrong one?"""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 5))
    Y = np.array([[0, 1, 1, 0, 1]], dtype="uint8")
    parameters = {
        "W1": rng.standard_normal((3, 2)),
        "b1": rng.standard_normal((3, 1)),
        "W2": rng.standard_normal((1, 3)),
        "b2": rng.standard_normal((1, 1)),
    }
    forward, cost, backward = (
        reference["forward_propagation"],
        reference["compute_cost"],
        reference["backward_propagation"],
    )
    good = gradient_check(forward, cost, backward, parameters, X, Y)
    assert max(good.values()) < 1e-7

    def backward_without_tanh_derivative(parameters, cache, X, Y):
        grads = backward(parameters, cache, X, Y)
        m = X.shape[1]
        dZ1 = parameters["W2"].T @ (cache["A2"] - Y)  # forgot * (1 - A1**2)
        return dict(grads, dW1=dZ1 @ X.T / m)

    assert "dW1: relative difference < 1e-07  ok" in capsys.readouterr().out
    bad = gradient_check(forward, cost, backward_without_tanh_derivative, parameters, X, Y)
    assert bad["W1"] > 1e-2 and bad["W2"] < 1e-7
    printed = capsys.readouterr().out
    assert f"dW1: relative difference {bad['W1']:.1e}  CHECK THIS GRADIENT" in printed
    assert "dW2: relative difference < 1e-07  ok" in printed


def test_the_gradient_check_says_what_stops_it_in_the_editions_language(reference, capsys, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((2, 4)), np.array([[0, 1, 1, 0]], dtype="uint8")
    parameters = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)), "W2": rng.standard_normal((1, 3))}
    parameters["b2"] = np.zeros((1, 1))
    forward, cost, backward = (reference[n] for n in ("forward_propagation", "compute_cost", "backward_propagation"))

    def backward_without_dW1(*args):
        grads = dict(backward(*args))
        del grads["dW1"]
        return grads

    def backward_raising(*args):
        raise ValueError("shapes do not align")

    (tmp_path / "course_language").write_text("zh\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert gradient_check(forward, cost, backward_without_dW1, parameters, X, Y) is None
    assert "无法读取 backward_propagation 返回的 dW1（KeyError）" in capsys.readouterr().out
    assert gradient_check(forward, cost, backward_raising, parameters, X, Y) is None
    assert "backward_propagation 抛出了 ValueError：shapes do not align" in capsys.readouterr().out
