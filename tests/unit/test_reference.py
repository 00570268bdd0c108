"""The instructor's solutions and the test-case inputs against docs/reference-values.md.

The literals here are copied from docs/reference-values.md, not from public_tests.py, so
that a typo in either place is caught.
"""

import contextlib
import io

import numpy as np
import pytest

import testCases
from course_spec import SPEC
from planar_utils import load_planar_dataset

INITIAL_W1 = [
    [-0.00416758, -0.00056267],
    [-0.02136196, 0.01640271],
    [-0.01793436, -0.00841747],
    [0.00502881, -0.01245288],
]
INITIAL_W2 = [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]]


def assert_close(got, expected, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def test_every_test_case_is_defined_and_named_as_in_the_walk_through():
    """Are the eight *_test_case functions there, under the walk-through's names?"""
    for name in SPEC.names:
        assert callable(getattr(testCases, f"{name}_test_case"))


def test_test_cases_draw_the_specified_inputs():
    """Do the seeded cases draw exactly 'seed 1 then randn(...)' as specified?"""
    np.random.seed(1)
    X_ref, Y_ref = np.random.randn(5, 3), np.random.randn(2, 3)
    X, Y = testCases.layer_sizes_test_case()
    assert np.array_equal(X, X_ref) and np.array_equal(Y, Y_ref)

    np.random.seed(1)
    X_ref = np.random.randn(2, 3)
    Y_ref = np.random.randn(1, 3)
    X, Y = testCases.nn_model_test_case()
    assert np.array_equal(X, X_ref) and np.array_equal(Y, (Y_ref > 0).astype("uint8"))
    parameters, cache, X, Y = testCases.backward_propagation_test_case()
    assert np.array_equal(X, X_ref) and np.array_equal(Y, Y_ref)
    assert_close(parameters["W1"], INITIAL_W1)
    assert_close(cache["A2"], [[0.5002307, 0.49985831, 0.50023963]])
    assert testCases.initialize_parameters_test_case() == (2, 4, 1)


def test_layer_sizes(reference):
    assert reference["layer_sizes"](*testCases.layer_sizes_test_case()) == (5, 4, 2)


def test_initialize_parameters(reference):
    parameters = reference["initialize_parameters"](2, 4, 1)
    assert_close(parameters["W1"], INITIAL_W1)
    assert_close(parameters["W2"], INITIAL_W2)
    assert np.array_equal(parameters["b1"], np.zeros((4, 1)))
    assert np.array_equal(parameters["b2"], np.zeros((1, 1)))


def test_forward_propagation(reference):
    X, parameters = testCases.forward_propagation_test_case()
    A2, cache = reference["forward_propagation"](X, parameters)
    means = [np.mean(cache["Z1"]), np.mean(cache["A1"]), np.mean(cache["Z2"]), np.mean(A2)]
    assert_close(means, [-0.000499755777742, -0.000496963353232, 0.000438187450959, 0.500109546852], rtol=1e-9)


def test_compute_cost_on_both_label_variants(reference):
    """Does the cost match for the walk-through's raw labels and for 0/1 labels?"""
    A2, Y, parameters = testCases.compute_cost_test_case_raw_labels()
    assert reference["compute_cost"](A2, Y, parameters) == pytest.approx(0.692919893776, rel=1e-10)
    A2, Y, parameters = testCases.compute_cost_test_case()
    cost = reference["compute_cost"](A2, Y, parameters)
    assert isinstance(cost, float) and cost == pytest.approx(0.6930587610394646, rel=1e-12)


def test_backward_propagation(reference):
    grads = reference["backward_propagation"](*testCases.backward_propagation_test_case())
    assert_close(
        grads["dW1"],
        [[0.01018708, -0.00708701], [0.00873447, -0.0060768], [-0.00530847, 0.00369379], [-0.02206365, 0.01535126]],
        rtol=1e-6,
    )
    assert_close(grads["db1"], [[-0.00069728], [-0.00060606], [0.000364], [0.00151207]], rtol=1e-5)
    assert_close(grads["dW2"], [[0.00363613, 0.03153604, 0.01162914, -0.01318316]], rtol=1e-6)
    assert_close(grads["db2"], [[0.06589489]], rtol=1e-6)


def test_update_parameters(reference):
    parameters = reference["update_parameters"](*testCases.update_parameters_test_case())
    assert_close(
        parameters["W1"],
        [[-0.00643025, 0.01936718], [-0.02410458, 0.03978052], [-0.01653973, -0.02096177], [0.01046864, -0.05990141]],
        rtol=1e-6,
    )
    assert_close(
        parameters["b1"], [[-1.02420756e-06], [1.27373948e-05], [8.32996807e-07], [-3.20136836e-06]], rtol=1e-6, atol=0
    )
    assert_close(parameters["W2"], [[-0.01041081, -0.04463285, 0.01758031, 0.04747113]], rtol=1e-6)
    assert_close(parameters["b2"], [[0.00010457]], rtol=0, atol=5e-9)  # printed to 8 decimals


def test_nn_model(reference):
    parameters = reference["nn_model"](*testCases.nn_model_test_case(), 4, num_iterations=10000)
    assert_close(
        parameters["W1"],
        [[-0.65848169, 1.21866811], [-0.76204273, 1.39377573], [0.5792005, -1.10397703], [0.76773391, -1.41477129]],
        rtol=1e-6,
    )
    assert_close(parameters["b1"], [[0.287592], [0.3511264], [-0.2431246], [-0.35772805]], rtol=1e-6)
    assert_close(parameters["W2"], [[-2.45566237, -3.27042274, 2.00784958, 3.36773273]], rtol=1e-6)
    assert_close(parameters["b2"], [[0.20459656]], rtol=1e-6)


def test_predict(reference):
    predictions = reference["predict"](*testCases.predict_test_case())
    assert predictions.shape == (1, 3)
    assert np.mean(predictions) == pytest.approx(0.666666666667)


def test_training_on_the_flower_reproduces_the_log_and_90_75_percent(reference):
    """Does training print the reference costs (to the digits that are stable) and reach 90.75 %?"""
    X, Y = load_planar_dataset()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        parameters = reference["nn_model"](X, Y, 4, num_iterations=10000, print_cost=True)
    costs = [float(line.rsplit(":", 1)[1]) for line in out.getvalue().splitlines()]
    expected = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504, 0.219481, 0.218565]
    assert costs[:8] == expected[:8]
    assert costs[8:] == pytest.approx(expected[8:], abs=1e-4)  # float-library dependent (reference)
    assert np.mean(reference["predict"](parameters, X) == Y) * 100 == 90.75


SWEEP = {1: 67.5, 2: 67.25, 3: 90.75, 4: 90.5, 5: 91.25, 20: 90.0, 50: 90.75}


@pytest.mark.parametrize(
    ("n_h", "accuracy"),
    [pytest.param(n_h, accuracy, marks=[pytest.mark.slow] if n_h > 5 else []) for n_h, accuracy in SWEEP.items()],
)
def test_hidden_layer_sweep_matches_for_small_networks(reference, n_h, accuracy):
    """Do 1 to 5 hidden units reproduce the walk-through exactly, and 20 and 50 (slow) within a point?"""
    X, Y = load_planar_dataset()
    parameters = reference["nn_model"](X, Y, n_h, num_iterations=5000)
    got = np.mean(reference["predict"](parameters, X) == Y) * 100
    if n_h <= 5:
        assert got == accuracy
    else:
        assert abs(got - accuracy) <= 1.0
