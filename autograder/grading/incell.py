"""Hidden checks that run inside the notebook, for stock ``nbgrader autograde``.

The source notebook's hidden-test regions call these. They execute in the
student's kernel, so they are only as trustworthy as that kernel; the cases and
the comparison are the same ones the autograder judges outside the kernel.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from collections.abc import Callable

from test_utils import call_student, course_language, say

from .cases import USES_HELPERS, compare_result, draw_cases, expected_result, with_helpers
from .reference import load_reference

# Stock autograding uses one fixed seed; set AUTOGRADER_SEED to draw other cases.
DEFAULT_SEED = 20261125


def _seed() -> int:
    return int(os.environ.get("AUTOGRADER_SEED", DEFAULT_SEED))


def isolated(function: Callable) -> Callable:
    """``function`` with the reference versions of the graded helpers it calls."""
    name = getattr(function, "__name__", "")
    helpers = USES_HELPERS.get(name, ())
    reference = load_reference()
    return with_helpers(function, {helper: reference[helper] for helper in helpers})


def check_hidden_cases(name: str, function: Callable) -> None:
    """Run ``function`` on the hidden cases of ``name``; raise on the first wrong result."""
    reference = load_reference()
    target = with_helpers(function, {helper: reference[helper] for helper in USES_HELPERS.get(name, ())})
    cases = draw_cases(name, _seed())
    language = course_language()
    for number, case in enumerate(cases, start=1):
        with contextlib.redirect_stdout(io.StringIO()):  # what a hidden case prints stays hidden
            expected = expected_result(name, case, reference)
            got = call_student(language, target, *copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        try:
            compare_result(name, got, expected, case, language)
        except AssertionError as error:
            raise AssertionError(f"hidden case {number} ({case.description}): {error}") from None
    print(say("hidden_passed", language, name=name, count=len(cases)))
