"""Hidden cases: reproducible, varied, and fair to every correct idiom."""

import copy

import numpy as np
import pytest

import public_tests
from autograder import GRADED_FUNCTIONS
from autograder.grading.cases import USES_HELPERS, compare_result, draw_cases, expected_result, with_helpers


def judge(name, function, reference, seed=7):
    """Run ``function`` on the hidden cases as the grader does; return the first failure or None."""
    target = with_helpers(function, {h: reference[h] for h in USES_HELPERS.get(name, ())})
    for case in draw_cases(name, seed):
        expected = expected_result(name, case, reference)
        try:
            compare_result(name, target(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)), expected)
        except AssertionError as error:
            return str(error)
    return None


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_reference_passes_its_hidden_cases(reference, name):
    assert judge(name, reference[name], reference) is None


@pytest.mark.parametrize("name", [n for n in GRADED_FUNCTIONS if n != "initialize_parameters"])
def test_cases_are_reproducible_and_depend_on_the_seed(name):
    """Does one seed always give the same cases, and another seed other values (initialize_parameters has
    sizes alone for inputs)?"""

    def fingerprint(cases):
        return repr([(c.description, c.kwargs) for c in cases]) + repr(
            [np.round(np.concatenate([np.ravel(a) for a in _arrays(c.args)]), 12).tolist() for c in cases]
        )

    assert fingerprint(draw_cases(name, 1)) == fingerprint(draw_cases(name, 1))
    assert fingerprint(draw_cases(name, 1)) != fingerprint(draw_cases(name, 2))


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value.astype(float)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)
    else:
        yield np.array([float(value)])


def test_hard_coded_visible_answers_earn_nothing(reference):
    """Does returning the visible case's expected output fail every hidden case?"""
    expected = public_tests.EXPECTED
    hard_coded = {
        "layer_sizes": lambda X, Y: (5, 4, 2),
        "initialize_parameters": lambda *a: {k: np.array(v) for k, v in expected["initialize_parameters"].items()},
        "compute_cost": lambda A2, Y, parameters: expected["compute_cost"],
        "backward_propagation": lambda *a: {k: np.array(v) for k, v in expected["backward_propagation"].items()},
        "update_parameters": lambda *a, **k: {key: np.array(v) for key, v in expected["update_parameters"].items()},
        "nn_model": lambda *a, **k: {key: np.array(v) for key, v in expected["nn_model"].items()},
        "predict": lambda parameters, X: np.array(expected["predict"]),
    }
    for name, function in hard_coded.items():
        assert judge(name, function, reference) is not None, name


def test_hidden_cases_catch_a_fixed_hidden_size(reference):
    """Does an n_h ignored in nn_model (always 4) fail?"""

    def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
        return reference["nn_model"](X, Y, 4, num_iterations, print_cost)

    assert "shape" in judge("nn_model", nn_model, reference)


def test_hidden_cases_catch_an_ignored_learning_rate(reference):
    def update_parameters(parameters, grads, learning_rate=1.2):
        return reference["update_parameters"](parameters, grads)

    assert judge("update_parameters", update_parameters, reference) is not None


def test_correct_idioms_all_pass(reference):
    """np.dot instead of @, in-place updates, np.multiply costs, int predictions, own sigmoid."""

    def forward_propagation(X, parameters):
        Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
        A1 = np.tanh(Z1)
        Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
        A2 = 1 / (1 + np.exp(-Z2))
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

    def compute_cost(A2, Y, parameters):
        m = Y.shape[1]
        logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
        return np.squeeze(-np.sum(logprobs) / m)  # a 0-d array

    def update_parameters(parameters, grads, learning_rate=1.2):
        for key in ("W1", "b1", "W2", "b2"):
            parameters[key] -= learning_rate * grads["d" + key]
        return parameters

    def predict(parameters, X):
        A2, _ = forward_propagation(X, parameters)
        return np.round(A2).astype(int)

    for name, function in [
        ("forward_propagation", forward_propagation),
        ("compute_cost", compute_cost),
        ("update_parameters", update_parameters),
        ("predict", predict),
    ]:
        assert judge(name, function, reference) is None, name
