"""Same code, same grade: the hidden cases cover the specification, so no verdict depends on the seed.

Each function's cases have a designed plan of sizes (``cases.PLAN``) and values drawn
per submission. A catalogue of bugs that show only for some sizes or some values
(tests/mistaken.py: the classic mistakes and the size-dependent ones) must be judged
wrong for every one of 200 seeds; the instructor's solution right for every one (``make test-fast``
tries the first 20 seeds, ``make test`` all 200).
Judging here is the grader's: the visible case, then the hidden ones, each result
carried across the kernel boundary by the codec and compared by ``check_result``, with
nn_model and predict calling stand-ins that accept only the calls the case allows.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

import test_utils
from autograder import GRADED_FUNCTIONS
from autograder.grading import codec
from autograder.grading.cases import PLAN, USES_HELPERS, HelperCallRejected, check_helper_call, draw_cases, visible_case
from autograder.grading.session import MAX_HELPER_CALLS
from autograder.simulated.synthetic import course_notebooks
from planar_utils import sigmoid

from ..mistaken import MISTAKES, SIZE_BUGS
from ..sweeps import seed_sweep

SEEDS = seed_sweep(200, quick=20)
BUGS = {**{name: (f, edit) for name, (f, edit, _) in MISTAKES.items()}, **SIZE_BUGS}


@pytest.fixture(scope="module")
def solutions():
    return course_notebooks()[1]


def define(source: str, name: str):
    namespace = {"np": np, "sigmoid": sigmoid}
    exec(source, namespace)
    return namespace[name]


def stand_ins(name: str, case, reference) -> dict:
    """The helpers as the probe's stand-ins serve them: checked against the case, counted, the reference's answer."""
    calls = itertools.count(1)

    def stand_in(helper):
        def call(*args, **kwargs):
            if next(calls) > MAX_HELPER_CALLS:
                raise TypeError("too many calls")
            try:
                checked, _ = check_helper_call(helper, args, kwargs, case.dims)
            except HelperCallRejected as error:
                raise TypeError(str(error)) from None
            return reference[helper](*copy.deepcopy(checked))

        return call

    return {helper: stand_in(helper) for helper in USES_HELPERS.get(name, ())}


def verdict(name: str, function, reference, seed: int) -> str:
    """ "right" or "wrong", as the grader would judge ``function`` for a submission with this seed."""
    from autograder.grading.cases import with_helpers

    cases = ([visible_case(name)] if visible_case(name) else []) + draw_cases(name, seed)
    for case in cases:
        expected = reference[name](*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        target = with_helpers(function, stand_ins(name, case, reference))
        try:
            with np.errstate(all="ignore"):
                got = codec.loads(codec.dumps(target(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))))
            test_utils.check_result(name, got, expected, case.args, case.kwargs)
        except Exception:  # noqa: BLE001 - raising, or a wrong result: the function loses its points
            return "wrong"
    return "right"


@pytest.mark.parametrize("seeds", SEEDS)
@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_catalogued_bug_is_wrong_whatever_the_seed(bug, seeds, solutions, reference):
    name, edit = BUGS[bug]
    function = define(edit(solutions[name]), name)
    lucky = [seed for seed in seeds if verdict(name, function, reference, seed) == "right"]
    assert lucky == [], f"{bug} passes for {len(lucky)} of {len(seeds)} submissions (seeds {lucky[:10]})"


@pytest.mark.parametrize("seeds", SEEDS)
@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_the_solution_is_right_whatever_the_seed(name, seeds, solutions, reference):
    function = define(solutions[name], name)
    assert [seed for seed in seeds if verdict(name, function, reference, seed) != "right"] == []


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_every_submission_gets_the_same_sizes_and_its_own_values(name):
    def sizes(cases):
        return [(case.description, sorted(case.kwargs), _shapes(case.args)) for case in cases]

    first = draw_cases(name, 0)
    assert all(sizes(draw_cases(name, seed)) == sizes(first) for seed in range(1, 50))
    if name != "initialize_parameters":  # its only inputs are sizes
        assert repr(_values(draw_cases(name, 1))) != repr(_values(draw_cases(name, 2)))


def _shapes(value):
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, dict):
        return {key: _shapes(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_shapes(item) for item in value]
    return type(value).__name__


def _values(cases):
    return [np.round(np.concatenate([np.ravel(a) for a in _arrays(case.args)]), 10).tolist() for case in cases]


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value.astype(float)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)


@pytest.mark.parametrize("name", sorted(PLAN))
def test_the_plan_separates_every_size_the_specification_names(name):
    """In every case, n_x, n_h, n_y and m differ pairwise (n_y is 1 where the specification fixes it)."""
    for size in PLAN[name]:
        dims = {key: size.get(key) for key in ("n_x", "n_h", "n_y", "m") if size.get(key) is not None}
        if name not in ("layer_sizes", "initialize_parameters"):
            dims["n_y"] = 1
        if name == "layer_sizes":
            dims["n_h"] = 4
        assert len(set(dims.values())) == len(dims), (name, size)
    if name in ("layer_sizes", "initialize_parameters"):
        assert {size["n_y"] > 1 for size in PLAN[name]} == {True, False}
    if name in ("initialize_parameters", "forward_propagation", "backward_propagation", "nn_model", "predict"):
        assert all(size["n_h"] != 4 for size in PLAN[name])
    if name == "nn_model":
        assert any(size["n_x"] != 2 for size in PLAN[name])
        assert len({size["num_iterations"] for size in PLAN[name]}) == len(PLAN[name])
    if name == "update_parameters":
        assert [size["learning_rate"] == "default" for size in PLAN[name]].count(True) == 1
