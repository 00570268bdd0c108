"""The classic mistakes of this exercise, as a student would make them in the solution code.

Each entry: mistake id (as public_tests.MISTAKES names it) -> (function, edit of the
instructor's solution, whether the visible case shows it). Some mistakes cannot show
on the visible case (its biases are zero, its learning rate is the default, its n_h
is 4): only the hidden cases catch them.
"""

from __future__ import annotations


def replace(*pairs):
    def edit(source: str) -> str:
        for old, new in pairs:
            if old not in source:
                raise ValueError(f"the solution no longer contains {old!r}")
            source = source.replace(old, new)
        return source

    return edit


MISTAKES = {
    # layer_sizes
    "sizes_examples": ("layer_sizes", replace(("X.shape[0]", "X.shape[1]"), ("Y.shape[0]", "Y.shape[1]")), True),
    "sizes_swapped": (
        "layer_sizes",
        replace(("n_x = X.shape[0]", "n_x = Y.shape[0]"), ("n_y = Y.shape[0]", "n_y = X.shape[0]")),
        True,
    ),
    "sizes_hidden": ("layer_sizes", replace(("n_h = 4", "n_h = 5")), True),
    # initialize_parameters
    "init_zero_weights": (
        "initialize_parameters",
        replace(
            ("W1 = np.random.randn(n_h, n_x) * 0.01", "W1 = np.zeros((n_h, n_x))"),
            ("W2 = np.random.randn(n_y, n_h) * 0.01", "W2 = np.zeros((n_y, n_h))"),
        ),
        True,
    ),
    "init_unscaled": (
        "initialize_parameters",
        replace(("randn(n_h, n_x) * 0.01", "randn(n_h, n_x)"), ("randn(n_y, n_h) * 0.01", "randn(n_y, n_h)")),
        True,
    ),
    "init_swapped_shape": ("initialize_parameters", replace(("randn(n_h, n_x)", "randn(n_x, n_h)")), True),
    "init_nonzero_bias": (
        "initialize_parameters",
        replace(("b1 = np.zeros((n_h, 1))", "b1 = np.random.randn(n_h, 1) * 0.01")),
        True,
    ),
    "init_uniform": (
        "initialize_parameters",
        replace(
            ("np.random.randn(n_h, n_x)", "np.random.rand(n_h, n_x)"),
            ("np.random.randn(n_y, n_h)", "np.random.rand(n_y, n_h)"),
        ),
        True,
    ),
    "init_order": (
        "initialize_parameters",
        replace(
            ("    W1 = np.random.randn(n_h, n_x) * 0.01\n", ""),
            (
                "    W2 = np.random.randn(n_y, n_h) * 0.01\n",
                "    W2 = np.random.randn(n_y, n_h) * 0.01\n    W1 = np.random.randn(n_h, n_x) * 0.01\n",
            ),
        ),
        True,
    ),
    # forward_propagation
    "forward_sigmoid_hidden": ("forward_propagation", replace(("A1 = np.tanh(Z1)", "A1 = sigmoid(Z1)")), True),
    "forward_no_hidden_activation": ("forward_propagation", replace(("A1 = np.tanh(Z1)", "A1 = Z1")), True),
    "forward_no_output_sigmoid": ("forward_propagation", replace(("A2 = sigmoid(Z2)", "A2 = Z2")), True),
    "forward_tanh_output": ("forward_propagation", replace(("A2 = sigmoid(Z2)", "A2 = np.tanh(Z2)")), True),
    "forward_no_bias": ("forward_propagation", replace(("Z1 = W1 @ X + b1", "Z1 = W1 @ X")), False),
    # compute_cost
    "cost_no_mean": ("compute_cost", replace(("cost = -np.sum(logprobs) / m", "cost = -np.sum(logprobs)")), True),
    "cost_sign": ("compute_cost", replace(("cost = -np.sum(logprobs) / m", "cost = np.sum(logprobs) / m")), True),
    "cost_rounded": (
        "compute_cost",
        replace(("cost = -np.sum(logprobs) / m", "cost = np.round(-np.sum(logprobs) / m, 2)")),
        True,
    ),
    "cost_one_term": (
        "compute_cost",
        replace(("logprobs = Y * np.log(A2) + (1 - Y) * np.log(1 - A2)", "logprobs = Y * np.log(A2)")),
        True,
    ),
    "cost_swapped_logs": (
        "compute_cost",
        replace(
            (
                "logprobs = Y * np.log(A2) + (1 - Y) * np.log(1 - A2)",
                "logprobs = Y * np.log(1 - A2) + (1 - Y) * np.log(A2)",
            )
        ),
        True,
    ),
    # backward_propagation
    "grad_no_tanh_derivative": ("backward_propagation", replace((" * (1 - A1 ** 2)", "")), True),
    "grad_derivative_a1": ("backward_propagation", replace(("(1 - A1 ** 2)", "A1")), True),
    "grad_sigmoid_derivative": ("backward_propagation", replace(("(1 - A1 ** 2)", "(A1 * (1 - A1))")), True),
    "grad_derivative_z1": ("backward_propagation", replace(("(1 - A1 ** 2)", '(1 - cache["Z1"] ** 2)')), False),
    "grad_no_mean": ("backward_propagation", replace(("dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ A1.T")), True),
    "grad_sign": ("backward_propagation", replace(("dZ2 = A2 - Y", "dZ2 = Y - A2")), True),
    "grad_keepdims": (
        "backward_propagation",
        replace(("db2 = np.sum(dZ2, axis=1, keepdims=True) / m", "db2 = np.sum(dZ2, axis=1) / m")),
        True,
    ),
    "grad_transposed": ("backward_propagation", replace(("dW1 = dZ1 @ X.T / m", "dW1 = X @ dZ1.T / m")), True),
    "grad_in_dz1": ("backward_propagation", replace(("(1 - A1 ** 2)", "(1 - A1)")), True),
    # update_parameters
    "update_sign": (
        "update_parameters",
        replace(
            *[
                (f'parameters["{k}"] - learning_rate', f'parameters["{k}"] + learning_rate')
                for k in ("W1", "b1", "W2", "b2")
            ]
        ),
        True,
    ),
    "update_no_step": (
        "update_parameters",
        replace(
            *[
                (f'parameters["{k}"] - learning_rate * grads["d{k}"]', f'parameters["{k}"]')
                for k in ("W1", "b1", "W2", "b2")
            ]
        ),
        True,
    ),
    "update_fixed_rate": (
        "update_parameters",
        replace(*[(f'- learning_rate * grads["d{k}"]', f'- 1.2 * grads["d{k}"]') for k in ("W1", "b1", "W2", "b2")]),
        False,
    ),
    # nn_model
    "model_untrained": ("nn_model", replace(("    for i in range(num_iterations):", "    for i in range(0):")), True),
    "model_fixed_hidden": (
        "nn_model",
        replace(("initialize_parameters(n_x, n_h, n_y)", "initialize_parameters(n_x, 4, n_y)")),
        False,
    ),
    # predict
    "predict_probabilities": ("predict", replace(("predictions = A2 > 0.5", "predictions = A2")), True),
    "predict_inverted": ("predict", replace(("predictions = A2 > 0.5", "predictions = A2 <= 0.5")), True),
}
