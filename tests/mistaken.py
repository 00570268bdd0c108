"""The classic mistakes of this exercise, as a student would make them in the solution code.

Each entry: mistake id (as test_utils.MISTAKES, the "mistakes" of i18n/<language>/messages.json, names it) -> (function, edit of the
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


# Bugs that show only for some sizes or some values: on the visible case most of them give the right
# answer. Each must be wrong for every submission, whatever its seed (tests/unit/test_plan.py).
# name -> (function, edit of the instructor's solution)
SIZE_BUGS = {
    # layer_sizes
    "sizes_output_fixed_to_1": ("layer_sizes", replace(("n_y = Y.shape[0]", "n_y = 1"))),
    "sizes_input_fixed_to_2": ("layer_sizes", replace(("n_x = X.shape[0]", "n_x = 2"))),
    "sizes_hidden_from_input": ("layer_sizes", replace(("n_h = 4", "n_h = 4 if X.shape[0] < 3 else X.shape[0]"))),
    # initialize_parameters
    "init_b2_square": ("initialize_parameters", replace(("b2 = np.zeros((n_y, 1))", "b2 = np.zeros((n_y, n_y))"))),
    "init_w2_one_row": ("initialize_parameters", replace(("randn(n_y, n_h)", "randn(1, n_h)"))),
    "init_w2_transposed": ("initialize_parameters", replace(("randn(n_y, n_h) * 0.01", "randn(n_h, n_y).T * 0.01"))),
    "init_b1_input_size": ("initialize_parameters", replace(("b1 = np.zeros((n_h, 1))", "b1 = np.zeros((n_x, 1))"))),
    "init_hidden_fixed_to_4": (
        "initialize_parameters",
        replace(
            ("randn(n_h, n_x)", "randn(4, n_x)"),
            ("zeros((n_h, 1))", "zeros((4, 1))"),
            ("randn(n_y, n_h)", "randn(n_y, 4)"),
        ),
    ),
    "init_b2_scalar_shape": ("initialize_parameters", replace(("b2 = np.zeros((n_y, 1))", "b2 = np.zeros((1, 1))"))),
    # forward_propagation
    "forward_bias_mean": ("forward_propagation", replace(("Z1 = W1 @ X + b1", "Z1 = W1 @ X + b1.mean()"))),
    "forward_output_bias_dropped": ("forward_propagation", replace(("Z2 = W2 @ A1 + b2", "Z2 = W2 @ A1"))),
    "forward_first_bias_only": ("forward_propagation", replace(("Z1 = W1 @ X + b1", "Z1 = W1 @ X + b1[0]"))),
    # compute_cost
    "cost_m_from_rows": (
        "compute_cost",
        replace(("cost = -np.sum(logprobs) / m", "cost = -np.sum(logprobs) / Y.shape[0]")),
    ),
    "cost_m_from_parameters": (
        "compute_cost",
        replace(("cost = -np.sum(logprobs) / m", "cost = -np.sum(logprobs) / parameters['W1'].shape[1]")),
    ),
    "cost_m_from_hidden": (
        "compute_cost",
        replace(("cost = -np.sum(logprobs) / m", "cost = -np.sum(logprobs) / parameters['W1'].shape[0]")),
    ),
    "cost_m_fixed_to_3": ("compute_cost", replace(("cost = -np.sum(logprobs) / m", "cost = -np.sum(logprobs) / 3"))),
    "cost_first_example": ("compute_cost", replace(("cost = -np.sum(logprobs) / m", "cost = -logprobs[0, 0]"))),
    # backward_propagation
    "grad_m_from_rows": ("backward_propagation", replace(("    m = X.shape[1]\n", "    m = X.shape[0]\n"))),
    "grad_m_from_labels_rows": ("backward_propagation", replace(("    m = X.shape[1]\n", "    m = Y.shape[0]\n"))),
    "grad_db1_wrong_axis": (
        "backward_propagation",
        replace(
            (
                "db1 = np.sum(dZ1, axis=1, keepdims=True) / m",
                "db1 = np.sum(dZ1, axis=0, keepdims=True).T[:dZ1.shape[0]] / m",
            )
        ),
    ),
    "grad_dw1_divided_by_inputs": (
        "backward_propagation",
        replace(("dW1 = dZ1 @ X.T / m", "dW1 = dZ1 @ X.T / X.shape[0]")),
    ),
    "grad_m_fixed_to_3": ("backward_propagation", replace(("    m = X.shape[1]\n", "    m = 3\n"))),
    # update_parameters
    "update_rate_dropped": (
        "update_parameters",
        replace(*[(f'- learning_rate * grads["d{k}"]', f'- grads["d{k}"]') for k in ("W1", "b1", "W2", "b2")]),
    ),
    "update_rate_only_on_weights": (
        "update_parameters",
        replace(*[(f'- learning_rate * grads["d{k}"]', f'- 1.2 * grads["d{k}"]') for k in ("b1", "b2")]),
    ),
    "update_default_rate_ignored_once": (
        "update_parameters",
        replace(('W1 = parameters["W1"] - learning_rate', 'W1 = parameters["W1"] - 1.2')),
    ),
    # nn_model
    "model_input_fixed_to_2": (
        "nn_model",
        replace(("initialize_parameters(n_x, n_h, n_y)", "initialize_parameters(2, n_h, n_y)")),
    ),
    "model_iterations_fixed": ("nn_model", replace(("for i in range(num_iterations):", "for i in range(5):"))),
    "model_one_iteration_short": (
        "nn_model",
        replace(("for i in range(num_iterations):", "for i in range(num_iterations - 1):")),
    ),
    "model_own_learning_rate": (
        "nn_model",
        replace(("update_parameters(parameters, grads)", "update_parameters(parameters, grads, learning_rate=0.5)")),
    ),
    "model_sizes_swapped": (
        "nn_model",
        replace(("initialize_parameters(n_x, n_h, n_y)", "initialize_parameters(n_h, n_x, n_y)")),
    ),
    # predict
    "predict_threshold_high": ("predict", replace(("predictions = A2 > 0.5", "predictions = A2 > 0.6"))),
    "predict_threshold_low": ("predict", replace(("predictions = A2 > 0.5", "predictions = A2 > 0.45"))),
    "predict_threshold_on_z2": ("predict", replace(("predictions = A2 > 0.5", 'predictions = cache["Z2"] > 0.5'))),
    "predict_all_ones": ("predict", replace(("predictions = A2 > 0.5", "predictions = np.ones_like(A2, dtype=bool)"))),
    "predict_majority": (
        "predict",
        replace(("predictions = A2 > 0.5", "predictions = np.full(A2.shape, A2.mean() > 0.5)")),
    ),
}
