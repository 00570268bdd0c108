"""Correct code written in the other ways students write it: each must earn full marks.

Every entry is a whole answer cell (the function, as a student would leave it). The
unit tests run each one through the visible test and the grader's comparison on
the same input; the crafted class grades each one end to end.
"""

WALKTHROUGH = {
    # The walk-through's own style: np.dot, np.multiply, np.power, np.squeeze, asserts, np.round.
    "layer_sizes": """
def layer_sizes(X, Y):
    n_x = X.shape[0]
    n_h = 4
    n_y = Y.shape[0]
    return (n_x, n_h, n_y)
""",
    "initialize_parameters": """
def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(2)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros(shape=(n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros(shape=(n_y, 1))
    assert (W1.shape == (n_h, n_x))
    assert (b2.shape == (n_y, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return parameters
""",
    "forward_propagation": """
def forward_propagation(X, parameters):
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    assert (A2.shape == (1, X.shape[1]))
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache
""",
    "compute_cost": """
def compute_cost(A2, Y, parameters):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply((1 - Y), np.log(1 - A2))
    cost = - np.sum(logprobs) / m
    cost = np.squeeze(cost)  # a numpy float64, as the walk-through returns it
    assert (isinstance(cost, float))
    return cost
""",
    "backward_propagation": """
def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    W1 = parameters["W1"]
    W2 = parameters["W2"]
    A1 = cache["A1"]
    A2 = cache["A2"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return grads
""",
    "update_parameters": """
def update_parameters(parameters, grads, learning_rate=1.2):
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    dW1, db1, dW2, db2 = grads["dW1"], grads["db1"], grads["dW2"], grads["db2"]
    W1 = W1 - learning_rate * dW1
    b1 = b1 - learning_rate * db1
    W2 = W2 - learning_rate * dW2
    b2 = b2 - learning_rate * db2
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return parameters
""",
    "nn_model": """
def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    np.random.seed(3)
    n_x = layer_sizes(X, Y)[0]
    n_y = layer_sizes(X, Y)[2]
    parameters = initialize_parameters(n_x, n_h, n_y)
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    for i in range(0, num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y, parameters)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if print_cost and i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    return parameters
""",
    "predict": """
def predict(parameters, X):
    A2, cache = forward_propagation(X, parameters)
    predictions = np.round(A2)  # floats 0. and 1.
    return predictions
""",
}

NUMPY_SCALARS = {
    "layer_sizes": """
def layer_sizes(X, Y):
    n_x, n_h, n_y = np.shape(X)[0], np.int64(4), np.int64(Y.shape[0])  # numpy integers
    return (np.int64(n_x), n_h, n_y)
""",
    "compute_cost": """
def compute_cost(A2, Y, parameters):
    m = Y.shape[1]
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2), keepdims=True)
    return np.squeeze(cost)  # a 0-d array
""",
}

MAPPINGS = {
    # namedtuple sizes and OrderedDict results, which are a tuple and dicts
    "layer_sizes": """
import collections
Sizes = collections.namedtuple("Sizes", "n_x n_h n_y")

def layer_sizes(X, Y):
    return Sizes(X.shape[0], 4, Y.shape[0])
""",
    "initialize_parameters": """
import collections

def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(2)
    parameters = collections.OrderedDict()
    parameters["W1"] = np.random.randn(n_h, n_x) * 0.01
    parameters["b1"] = np.zeros((n_h, 1))
    parameters["W2"] = np.random.randn(n_y, n_h) * 0.01
    parameters["b2"] = np.zeros((n_y, 1))
    return parameters
""",
    "backward_propagation": """
import collections

def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    return collections.OrderedDict(dW1=dZ1 @ X.T / m, db1=dZ1.sum(axis=1, keepdims=True) / m,
                                   dW2=dZ2 @ cache["A1"].T / m, db2=dZ2.sum(axis=1, keepdims=True) / m)
""",
    "update_parameters": """
import collections

def update_parameters(parameters, grads, learning_rate=1.2):
    return collections.OrderedDict((key, parameters[key] - learning_rate * grads["d" + key])
                                   for key in ("W1", "b1", "W2", "b2"))
""",
}

FLOAT32 = {
    "forward_propagation": """
def forward_propagation(X, parameters):
    W1, b1, W2, b2 = (parameters[k].astype(np.float32) for k in ("W1", "b1", "W2", "b2"))
    Z1 = W1 @ X.astype(np.float32) + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
""",
    "compute_cost": """
def compute_cost(A2, Y, parameters):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)  # a Python float
""",
    "predict": """
def predict(parameters, X):
    A2, _ = forward_propagation(X, parameters)
    return (A2 > 0.5).astype(np.float32)
""",
}

IDIOMS = {"walkthrough": WALKTHROUGH, "numpy-scalars": NUMPY_SCALARS, "mappings": MAPPINGS, "float32": FLOAT32}
