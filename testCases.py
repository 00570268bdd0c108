"""Inputs of the visible test cases, one function per graded function.

Each ``*_test_case()`` rebuilds the walk-through's inputs exactly (most of them by
seeding numpy's global generator with 1 and drawing in a fixed order), so the
expected outputs printed in the notebook can be reproduced by anyone.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "layer_sizes_test_case",
    "initialize_parameters_test_case",
    "forward_propagation_test_case",
    "compute_cost_test_case",
    "backward_propagation_test_case",
    "update_parameters_test_case",
    "nn_model_test_case",
    "predict_test_case",
]

# W1, W2 as initialize_parameters(2, 4, 1) returns them; several cases start from here.
_W1_INIT = [
    [-0.00416758, -0.00056267],
    [-0.02136196, 0.01640271],
    [-0.01793436, -0.00841747],
    [0.00502881, -0.01245288],
]
_W2_INIT = [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]]
_A2 = [[0.5002307, 0.49985831, 0.50023963]]


def _initial_parameters() -> dict:
    return {
        "W1": np.array(_W1_INIT),
        "b1": np.zeros((4, 1)),
        "W2": np.array(_W2_INIT),
        "b2": np.zeros((1, 1)),
    }


def layer_sizes_test_case():
    """X_assess (5, 3) and Y_assess (2, 3): seed 1, then two draws."""
    np.random.seed(1)
    X_assess = np.random.randn(5, 3)
    Y_assess = np.random.randn(2, 3)
    return X_assess, Y_assess


def initialize_parameters_test_case():
    """n_x, n_h, n_y = 2, 4, 1."""
    return 2, 4, 1


def forward_propagation_test_case():
    """X_assess (2, 3) from seed 1, and the parameters initialize_parameters(2, 4, 1) gives."""
    np.random.seed(1)
    X_assess = np.random.randn(2, 3)
    return X_assess, _initial_parameters()


def compute_cost_test_case():
    """A2 (1, 3), Y_assess (1, 3) of uint8 0/1 labels (seed 1, randn > 0), and the parameters.

    The walk-through used raw randn values as labels; a cost is only meaningful for
    0/1 labels, so this case thresholds them (see compute_cost_test_case_raw_labels).
    """
    np.random.seed(1)
    Y_assess = (np.random.randn(1, 3) > 0).astype("uint8")
    return np.array(_A2), Y_assess, _initial_parameters()


def compute_cost_test_case_raw_labels():
    """The walk-through's exact case: Y_assess is randn(1, 3), not 0/1 (cost 0.692919893776)."""
    np.random.seed(1)
    Y_assess = np.random.randn(1, 3)
    return np.array(_A2), Y_assess, _initial_parameters()


def backward_propagation_test_case():
    """parameters, cache (Z1, A1, Z2, A2), X_assess (2, 3) and Y_assess (1, 3)."""
    np.random.seed(1)
    X_assess = np.random.randn(2, 3)
    Y_assess = np.random.randn(1, 3)
    cache = {
        "A1": np.array(
            [
                [-0.00616578, 0.0020626, 0.00349619],
                [-0.05225116, 0.02725659, -0.02646251],
                [-0.02009721, 0.0036869, 0.02883756],
                [0.02152675, -0.01385234, 0.02599885],
            ]
        ),
        "A2": np.array(_A2),
        # Z1 and Z2 are carried as in the walk-through; backward_propagation does not need them.
        "Z1": np.array(
            [
                [-0.00616586, 0.0020626, 0.0034962],
                [-0.05229879, 0.02726335, -0.02646869],
                [-0.02009991, 0.00368692, 0.02884556],
                [0.02153007, -0.01385322, 0.02600471],
            ]
        ),
        "Z2": np.array([[0.00092281, -0.00056678, 0.00095853]]),
    }
    return _initial_parameters(), cache, X_assess, Y_assess


def update_parameters_test_case():
    """parameters and grads of a network mid-training; the learning rate is 1.2."""
    parameters = {
        "W1": np.array(
            [
                [-0.00615039, 0.0169021],
                [-0.02311792, 0.03137121],
                [-0.0169217, -0.01752545],
                [0.00935436, -0.05018221],
            ]
        ),
        "b1": np.array([[-8.97523455e-07], [8.15562092e-06], [6.04810633e-07], [-2.54560700e-06]]),
        "W2": np.array([[-0.0104319, -0.04019007, 0.01607211, 0.04440255]]),
        "b2": np.array([[9.14954378e-05]]),
    }
    grads = {
        "dW1": np.array(
            [
                [0.00023322, -0.00205423],
                [0.00082222, -0.00700776],
                [-0.00031831, 0.0028636],
                [-0.00092857, 0.00809933],
            ]
        ),
        "db1": np.array([[1.05570087e-07], [-3.81814487e-06], [-1.90155145e-07], [5.46467802e-07]]),
        "dW2": np.array([[-1.75740039e-05, 3.70231337e-03, -1.25683095e-03, -2.55715317e-03]]),
        "db2": np.array([[-1.08923140e-05]]),
    }
    return parameters, grads


def nn_model_test_case():
    """X_assess (2, 3) and Y_assess (1, 3) of uint8 0/1 labels: seed 1, randn, randn > 0.

    The walk-through's labels were raw randn values; training on them diverges
    (log(0), overflow in exp), so this case thresholds them.
    """
    np.random.seed(1)
    X_assess = np.random.randn(2, 3)
    Y_assess = (np.random.randn(1, 3) > 0).astype("uint8")
    return X_assess, Y_assess


def predict_test_case():
    """parameters (the update_parameters_test_case input) and X_assess (2, 3) from seed 1."""
    np.random.seed(1)
    X_assess = np.random.randn(2, 3)
    parameters, _ = update_parameters_test_case()
    return parameters, X_assess
