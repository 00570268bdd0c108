"""The visible tests of vector_basics: each prints and checks the visible case (plain numpy, nothing shared)."""

import numpy as np

from testCases import softmax_loss_test_case, softmax_test_case, standardize_test_case

EXPECTED = {
    "standardize": np.array(
        [
            [-1.06904496765, -0.534522483825, 0.0, 1.603567451475],
            [-0.4472135955, -1.3416407865, 0.4472135955, 1.3416407865],
        ]
    ),
    "softmax": np.array(
        [
            [0.665240955775, 0.333333333333, 0.665240955775],
            [0.244728471055, 0.333333333333, 0.244728471055],
            [0.09003057317, 0.333333333333, 0.09003057317],
        ]
    ),
    "softmax_loss": 0.2512644604327,
}


def _check(name, got):
    np.testing.assert_allclose(got, EXPECTED[name], rtol=1e-6, atol=1e-8)
    print(f"All tests passed for {name}.")


def standardize_test(target):
    _check("standardize", target(*standardize_test_case()))


def softmax_test(target):
    _check("softmax", target(*softmax_test_case()))


def softmax_loss_test(target):
    _check("softmax_loss", target(*softmax_loss_test_case()))
