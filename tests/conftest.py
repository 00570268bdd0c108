"""Shared fixtures: the course root, the reference solutions, a headless matplotlib."""

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
# The points of each graded function, as the course specifies them (in the order of the notebook).
POINTS = {
    "layer_sizes": 5,
    "initialize_parameters": 10,
    "forward_propagation": 15,
    "compute_cost": 10,
    "backward_propagation": 20,
    "update_parameters": 10,
    "nn_model": 20,
    "predict": 10,
}


def pytest_collection_modifyitems(items):
    """Tests under tests/e2e/ start kernels, nbgrader or servers: marked so ``-m "not e2e"`` skips them."""
    for item in items:
        if "e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def reference():
    """The graded functions as the source notebook's solution cells define them."""
    from autograder.grading.reference import load_reference

    return load_reference()
