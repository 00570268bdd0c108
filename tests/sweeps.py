"""Sweeps over seeds, split so that ``make test-fast`` stays quick and ``make test`` checks every seed.

The first seeds of a sweep run in every tier; the rest are marked ``slow`` (``make test-fast`` leaves
them out, ``make test`` and CI run them). Together the two parts are the whole sweep, so the full
suite checks exactly what one unsplit sweep would.
"""

import pytest


def seed_sweep(seeds: int, quick: int) -> list:
    """Parameters for ``@pytest.mark.parametrize("seeds", ...)``: seeds 0..quick-1, then quick..seeds-1 (slow)."""
    return [
        pytest.param(range(quick), id=f"seeds-0-{quick - 1}"),
        pytest.param(range(quick, seeds), id=f"seeds-{quick}-{seeds - 1}", marks=pytest.mark.slow),
    ]
