"""course.toml, read and checked: a mistake in it is named, an unknown function is never compared silently."""

import pytest

from course_spec import SPEC, SpecError, parse
from test_utils import check_result

from ..conftest import ROOT


def test_a_spec_error_names_the_function_and_what_is_wrong():
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    with pytest.raises(SpecError, match="function predict: calls relu, which is not another graded function"):
        parse(text.replace('calls = ["forward_propagation"]', 'calls = ["relu"]'))
    with pytest.raises(SpecError, match="function compute_cost: returns must be one of"):
        parse(text.replace('returns = "value"', 'returns = "number"'))
    with pytest.raises(SpecError, match="layer_sizes specified twice"):
        parse(text + '\n[[function]]\nname = "layer_sizes"\npoints = 1\nreturns = "sizes"\nhidden = [{m = 1}]\n')


def test_the_spec_is_what_the_course_reads():
    import autograder
    from autograder.grading.cases import PLAN

    assert autograder.GRADED_FUNCTIONS == tuple(f.name for f in SPEC.functions)
    assert list(PLAN) == list(SPEC.names) and SPEC.total == 100
    assert [e.language for e in SPEC.editions] == ["en", "zh"]


def test_an_unknown_function_is_an_error_not_a_dict_comparison():
    with pytest.raises(ValueError, match="'relu_backward' is not a graded function"):
        check_result("relu_backward", {"a": 1}, {"a": 1})
