"""Correct code earns full marks, however it is written: the visible test and the grader agree.

Each idiom of tests/idioms.py passes its visible test, and its results, carried
across the kernel boundary by the codec as the grader receives them, pass the
grader's comparison on the visible case and on hidden cases.
"""

import copy

import numpy as np
import pytest

import public_tests
import test_utils
from autograder.grading import codec
from autograder.grading.cases import USES_HELPERS, draw_cases, visible_case, with_helpers
from planar_utils import sigmoid

from ..idioms import IDIOMS
from ..sweeps import seed_sweep

CASES = [(idiom, name) for idiom, answers in IDIOMS.items() for name in answers]


def define(source: str, name: str, reference):
    namespace = {"np": np, "sigmoid": sigmoid}
    exec(source, namespace)
    return with_helpers(namespace[name], {h: reference[h] for h in USES_HELPERS.get(name, ())})


@pytest.mark.parametrize(("idiom", "name"), CASES)
def test_idiom_passes_its_visible_test(reference, idiom, name, capsys):
    public_tests.TESTS[name](define(IDIOMS[idiom][name], name, reference))
    assert f"All tests passed for {name}." in capsys.readouterr().out


# Many seeds: a near-zero entry where terms cancel once failed float32 work on one seed in thirty.
@pytest.mark.parametrize("seeds", seed_sweep(400, quick=40))
@pytest.mark.parametrize(("idiom", "name"), CASES)
def test_idiom_passes_the_graders_check_across_the_kernel_boundary(reference, idiom, name, seeds):
    """Does the value the grader decodes pass the same comparison, on the visible and hidden cases?"""
    function = define(IDIOMS[idiom][name], name, reference)
    cases = ([visible_case(name)] if visible_case(name) else []) + [c for s in seeds for c in draw_cases(name, s)]
    for case in cases:
        got = codec.loads(codec.dumps(function(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))))
        expected = reference[name](*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        test_utils.check_result(name, got, expected, case.args, case.kwargs)


@pytest.mark.parametrize(
    "value",
    [
        np.float64(0.25),
        np.float32(0.25),
        np.int64(4),
        np.uint8(1),
        np.bool_(True),
        np.array(0.25),
        np.array(3, dtype=np.int32),
        0.25,
        4,
        True,
    ],
)
def test_scalars_stay_scalars_of_their_type(value):
    back = codec.loads(codec.dumps(value))
    assert type(back) is type(value)
    assert np.shape(back) == np.shape(value) and back == value
    if isinstance(value, np.generic):
        assert back.dtype == value.dtype


def test_numpy_scalar_cost_passes_where_it_failed_before(reference):
    """A cost returned as np.float64 (the walk-through's np.squeeze) was decoded as a 1-element array."""
    A2, Y, parameters = public_tests.compute_cost_test_case()
    got = codec.loads(codec.dumps(np.squeeze(reference["compute_cost"](A2, Y, parameters) * np.ones((1, 1)))))
    test_utils.check_result("compute_cost", got, reference["compute_cost"](A2, Y, parameters))


def test_mappings_and_tuple_subclasses_cross_as_dicts_and_tuples():
    import collections

    Sizes = collections.namedtuple("Sizes", "n_x n_h n_y")
    assert codec.loads(codec.dumps(Sizes(2, 4, 1))) == (2, 4, 1)
    ordered = collections.OrderedDict(W1=np.ones((2, 2)))
    back = codec.loads(codec.dumps(ordered))
    assert type(back) is dict and np.array_equal(back["W1"], np.ones((2, 2)))
