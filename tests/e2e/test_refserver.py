"""The reference never runs unguarded on what a student chooses: its own process, bounded in time and memory."""

import time

import numpy as np
import pytest

from autograder.grading.cases import draw_cases
from autograder.grading.reference import source_notebook
from autograder.grading.refserver import ReferenceFailure, ReferenceProcess


@pytest.fixture(scope="module")
def reference_process():
    process = ReferenceProcess(source_notebook().read_text(encoding="utf-8"), memory_mb=512, timeout=10)
    yield process
    process.close()


def test_the_reference_process_answers(reference_process, reference):
    case = draw_cases("backward_propagation", 3)[0]
    got = reference_process.call("backward_propagation", case.args, case.kwargs)
    want = reference["backward_propagation"](*case.args)
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_the_reference_is_stopped_when_it_runs_too_long_and_comes_back(reference_process):
    X = np.ones((2, 5))
    Y = np.ones((1, 5))
    started = time.monotonic()
    with pytest.raises(ReferenceFailure, match="did not answer within 1 s"):
        reference_process.call("nn_model", (X, Y, 4), {"num_iterations": 10**9}, timeout=1)
    assert time.monotonic() - started < 30  # cut off, not the hours 10**9 steps would take (a wide margin)
    assert reference_process.call("layer_sizes", (X, Y), {}) == (2, 4, 1)


def test_the_reference_is_stopped_when_it_needs_too_much_memory(reference_process):
    huge = {"W1": np.ones((40000, 1)), "b1": np.ones((1, 40000)), "W2": np.ones((1, 40000)), "b2": np.ones((1, 1))}
    with pytest.raises(ReferenceFailure, match="512 MB"):
        reference_process.call("forward_propagation", (np.ones((1, 1)), huge), {})
    assert reference_process.call("layer_sizes", (np.ones((3, 2)), np.ones((1, 2))), {}) == (3, 4, 1)
