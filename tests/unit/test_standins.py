"""Stand-in helpers (nn_model's and predict's view of the other graded functions) accept only
the calls the real function could make in the case being judged (tests/e2e/test_refserver.py:
the reference itself runs in its own process, bounded in time and memory)."""

import numpy as np
import pytest

from autograder.grading.cases import HelperCallRejected, check_helper_call

DIMS = {"n_x": 2, "n_h": 3, "n_y": 1, "m": 5}


def parameters(n_h=3, n_x=2, dtype=float):
    return {
        "W1": np.ones((n_h, n_x), dtype),
        "b1": np.zeros((n_h, 1), dtype),
        "W2": np.ones((1, n_h), dtype),
        "b2": np.zeros((1, 1), dtype),
    }


def test_the_calls_of_a_correct_nn_model_are_accepted():
    X, Y = np.ones((2, 5)), np.ones((1, 5), dtype="uint8")
    assert check_helper_call("layer_sizes", (X, Y), {}, DIMS)[0][0] is X
    assert check_helper_call("initialize_parameters", (np.int64(2), 3, 1), {}, DIMS)[0] == (2, 3, 1)
    check_helper_call("forward_propagation", (X, parameters()), {}, DIMS)
    cache = {"Z1": np.ones((3, 5)), "A1": np.ones((3, 5)), "Z2": np.ones((1, 5)), "A2": np.ones((1, 5))}
    check_helper_call("backward_propagation", (parameters(), cache, X, Y), {}, DIMS)
    grads = {"d" + k: v for k, v in parameters().items()}
    args, _ = check_helper_call("update_parameters", (parameters(), grads), {"learning_rate": 0.5}, DIMS)
    assert args[2] == 0.5
    assert check_helper_call("update_parameters", (parameters(), grads), {}, DIMS)[0][2] == 1.2


@pytest.mark.parametrize(
    "helper, args, kwargs, why",
    [
        # tiny arrays that broadcast to a 40000 x 40000 matrix inside the reference
        (
            "forward_propagation",
            (
                np.ones((2, 5)),
                {
                    "W1": np.ones((40000, 1)),
                    "b1": np.ones((1, 40000)),
                    "W2": np.ones((1, 40000)),
                    "b2": np.ones((1, 1)),
                },
            ),
            {},
            r'parameters\["W1"\] has shape \(40000, 1\); in this case it has shape \(3, 2\)',
        ),
        # integer matrices make numpy multiply without BLAS, for minutes
        ("forward_propagation", (np.ones((2, 5), "uint8"), parameters(dtype="uint8")), {}, "dtype uint8"),
        ("forward_propagation", (np.ones((2000, 2000), "uint8"), parameters()), {}, r"shape \(2000, 2000\)"),
        ("initialize_parameters", (2, 10**9, 1), {}, "n_h is 1000000000; in this case it is 3"),
        ("initialize_parameters", (2.0, 3, 1), {}, "n_x is 2.0"),
        (
            "update_parameters",
            (parameters(), {"d" + k: v for k, v in parameters().items()}),
            {"learning_rate": "fast"},
            "learning_rate should be a number",
        ),
        ("update_parameters", (parameters(), {}), {}, 'grads has no key "dW1"'),
        (
            "forward_propagation",
            (np.ones((2, 5)),),
            {"params": parameters()},
            "missing a required argument: 'parameters'",
        ),
        ("layer_sizes", (np.ones((2, 5)), np.ones((1, 5))), {"Z": 1}, "unexpected keyword argument 'Z'"),
        ("layer_sizes", (np.ones((2, 5)),), {"X": np.ones((2, 5))}, "multiple values for argument 'X'"),
        ("forward_propagation", (np.ones((2, 5)), parameters(), 1), {}, "too many positional arguments"),
        ("compute_cost", (np.ones((1, 5)),), {}, "missing a required argument: 'Y'"),
        ("predict", (), {}, "not available"),
    ],
)
def test_calls_the_real_function_could_not_make_are_refused(helper, args, kwargs, why):
    with pytest.raises(HelperCallRejected, match=why):
        check_helper_call(helper, args, kwargs, DIMS)
