"""Shared fixtures: the course root, the reference solutions, a headless matplotlib."""

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def reference():
    """The graded functions as the source notebook's solution cells define them."""
    from autograder.reference import load_reference

    return load_reference()
