"""The one comparison of the visible tests and of the grader, and the names they take from its companions.

``check_result(name, got, expected)`` is the one comparison of the course: the visible
tests (public_tests.py) use it with the walk-through's expected values, the grader
with the reference's results on its hidden cases. What passes one passes the other.
When a result is wrong, ``diagnose`` (test_mistakes.py) names the classic mistake it
matches, if one does; the failure is a few lines (test_failures.py) in the language a caller
passes, one of course.toml's editions (test_text.py holds the texts).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course_spec import SPEC
from test_failures import HelperFails, NotImplementedYet, TestFailure, WrongResult, call_student
from test_mistakes import FINGERPRINTS, cost_problem, diagnose
from test_text import LANGUAGES, MESSAGES, MISTAKES, course_language, say, wrap

__all__ = [  # what the visible tests, the notebooks' helpers and the grader take from here
    "ATOL",
    "COMPARISONS",
    "FINGERPRINTS",
    "HELPERS",
    "LANGUAGES",
    "MESSAGES",
    "MISTAKES",
    "RTOL",
    "TOLERANCE",
    "HelperFails",
    "NotImplementedYet",
    "TestFailure",
    "WrongResult",
    "arrays",
    "call_student",
    "check_array",
    "check_dict",
    "check_result",
    "check_value",
    "course_language",
    "cost_problem",
    "diagnose",
    "say",
    "wrap",
]

# The course's tolerance of float comparisons, and each function's where it differs (course.toml).
RTOL, ATOL = _COURSE_TOLERANCE = (SPEC.course_rtol, SPEC.course_atol)
TOLERANCE = {f.name: {"rtol": f.rtol, "atol": f.atol} for f in SPEC.functions if (f.rtol, f.atol) != _COURSE_TOLERANCE}

# The graded functions that each graded function calls (nn_model and predict here).
HELPERS = {function.name: function.calls for function in SPEC.functions if function.calls}


def arrays(value):
    """JSON's lists as numpy arrays (and dicts and tuples of them), as the graded functions return them."""
    if isinstance(value, dict):
        return {key: arrays(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(arrays(item) for item in value)
    return np.array(value) if isinstance(value, list) else value


# -- the comparison --------------------------------------------------------------------------------


def _where(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _type_name(value) -> str:
    return type(value).__name__


def check_array(label: str, got, shape: tuple, kind: str = "float", language: str = "en") -> None:
    """Raise WrongResult unless ``got`` is an array of this shape with sound values.

    kind "float": a floating-point array without NaN or inf; kind "labels": bool or
    numbers holding only 0 and 1.
    """
    shape = tuple(shape)
    if not isinstance(got, np.ndarray):
        raise WrongResult(
            say("not_array", language, label=label, shape=shape, type=_type_name(got)),
            say("not_array_brief", language, label=label, shape=shape),
        )
    if got.shape != shape:
        raise WrongResult(
            say("shape", language, label=label, got=got.shape, shape=shape),
            say("shape_brief", language, label=label, shape=shape),
        )
    if kind == "labels":
        if not (got.dtype == bool or got.dtype.kind in "iuf"):
            raise WrongResult(say("dtype_labels", language, label=label, dtype=got.dtype))
        with np.errstate(invalid="ignore"):
            bad = ~np.isin(got.astype(float), (0.0, 1.0))
        if bad.any():
            first = tuple(np.argwhere(bad)[0])
            brief = say("not_labels", language, label=label)
            raise WrongResult(
                brief + say("not_labels_at", language, label=label, where=_where(first), value=repr(got[first].item())),
                brief,
            )
        return
    if got.dtype.kind != "f":
        hint = say("dtype_int_hint", language) if got.dtype.kind in "iub" else ""
        raise WrongResult(say("dtype_float", language, label=label, dtype=got.dtype) + hint)
    for what, mask in (("NaN", np.isnan(got)), ("inf", np.isinf(got))):
        if mask.any():
            first = tuple(np.argwhere(mask)[0])
            raise WrongResult(
                say("nonfinite", language, label=label, count=int(mask.sum()), what=what, where=_where(first)),
                say("nonfinite_brief", language, label=label, what=what),
            )


def check_value(
    label: str, got, expected, rtol: float = RTOL, atol: float = ATOL, kind: str = "float", language: str = "en"
) -> None:
    """Raise WrongResult naming what is wrong with ``got`` against ``expected``.

    kind: "float" for real-valued arrays and scalars, "labels" for 0/1 predictions
    (bool, int or float holding only 0 and 1 are all accepted).
    """
    expected = np.asarray(expected)
    if expected.ndim == 0:
        _check_scalar(label, got, float(expected), rtol, atol, language)
        return
    check_array(label, got, expected.shape, kind=kind, language=language)
    if kind == "labels":
        values = got.astype(float)
        wrong = values != expected.astype(float)
        if wrong.any():
            first = tuple(np.argwhere(wrong)[0])
            raise WrongResult(
                say("labels_wrong", language, label=label, count=int(wrong.sum()), size=wrong.size)
                + say(
                    "labels_first", language, where=_where(first), got=values[first], expected=float(expected[first])
                ),
                say("labels_wrong_brief", language, label=label),
            )
        return
    # An entry near zero is often a sum of terms of the array's own size that cancel, so its rounding error
    # scales with the array, not with the entry: float32 work (7 digits) passes, a real mistake does not.
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    close = np.isclose(got, expected, rtol=rtol, atol=max(atol, rtol * scale))
    if not close.all():
        difference = np.abs(got.astype(float) - expected)
        worst = tuple(np.unravel_index(np.argmax(np.where(close, 0, difference)), got.shape))
        raise WrongResult(
            say("values", language, label=label, count=int((~close).sum()), size=close.size)
            + say(
                "values_worst",
                language,
                label=label,
                where=_where(worst),
                got=float(got[worst]),
                expected=float(expected[worst]),
                off=_off(float(got[worst]) - float(expected[worst]), language),
            ),
            say("values_brief", language, label=label),
        )


def _off(difference: float, language: str) -> str:
    """How far a value is from the expected one, in words: "0.193 too low"."""
    return say("too_high" if difference > 0 else "too_low", language, gap=abs(difference))


def _check_scalar(label: str, got, expected: float, rtol: float, atol: float, language: str) -> None:
    if isinstance(got, np.ndarray) and got.ndim > 0:
        hint = say("scalar_squeeze", language) if got.size == 1 else ""
        raise WrongResult(
            say("scalar_array", language, label=label, shape=got.shape) + hint,
            say("scalar_array_brief", language, label=label),
        )
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
        raise WrongResult(say("scalar_type", language, label=label, type=_type_name(got)))
    if isinstance(got, np.ndarray) and got.dtype.kind not in "iuf":
        raise WrongResult(say("scalar_type", language, label=label, type=f"an array of dtype {got.dtype}"))
    value = float(got)
    if not np.isfinite(value):
        raise WrongResult(
            say("scalar_nonfinite", language, label=label, got=value), say("scalar_wrong", language, label=label)
        )
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise WrongResult(
            say(
                "scalar_values",
                language,
                label=label,
                got=value,
                expected=expected,
                off=_off(value - expected, language),
            ),
            say("scalar_wrong", language, label=label),
        )


def check_dict(
    label: str, got, expected: Mapping, rtol: float = RTOL, atol: float = ATOL, language: str = "en"
) -> None:
    """Check a dict of arrays key by key (extra keys are allowed; any mapping will do)."""
    if not isinstance(got, Mapping):
        raise WrongResult(say("not_dict", language, label=label, keys=sorted(expected), type=_type_name(got)))
    missing = [key for key in expected if key not in got]
    if missing:
        has = [str(key)[:40] for key in list(got)[:8]] + (["..."] if len(got) > 8 else [])
        raise WrongResult(
            say("missing_keys", language, label=label, missing=missing, has=has),
            say("missing_keys_brief", language, label=label, missing=missing),
        )
    for key, value in expected.items():
        check_value(f'{label}["{key}"]', got[key], value, rtol=rtol, atol=atol, language=language)


def _check_sizes(got, expected, language: str) -> None:
    if not isinstance(got, tuple) or len(got) != 3:
        raise WrongResult(
            say(
                "sizes_tuple",
                language,
                type=_type_name(got) if not isinstance(got, tuple) else f"a tuple of {len(got)}",
            ),
            say("sizes_tuple_brief", language),
        )
    for label, value, want in zip(("n_x", "n_h", "n_y"), got, expected):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise WrongResult(say("size_not_int", language, label=label, type=_type_name(value)))
        if value != want:
            raise WrongResult(
                say("size_wrong", language, label=label, got=int(value), expected=int(want)),
                say("size_wrong_brief", language, label=label),
            )


def _check_forward(got, expected, language: str) -> None:
    if not isinstance(got, tuple) or len(got) != 2:
        raise WrongResult(say("pair", language, type=_type_name(got)))
    (A2, cache), (expected_A2, expected_cache) = got, expected
    check_dict("cache", cache, expected_cache, language=language)
    check_value("A2", A2, expected_A2, language=language)
    if A2 is not cache["A2"] and not np.array_equal(A2, cache["A2"]):
        raise WrongResult(say("a2_not_cached", language))


def _check_dict_result(got, expected, function, language: str) -> None:
    # a dict of arrays is named after the table of shapes it holds (course.toml): grads, parameters
    label = next((name for name, entries in SPEC.shapes.items() if set(entries) == set(expected)), "result")
    check_dict(label, got, expected, rtol=function.rtol, atol=function.atol, language=language)


# How a result is compared, by what the function returns (course.toml's `returns`).
COMPARISONS = {
    "sizes": lambda got, expected, function, language: _check_sizes(got, expected, language),
    "pair": lambda got, expected, function, language: _check_forward(got, expected, language),
    "value": lambda got, expected, function, language: check_value(
        "cost", got, expected, rtol=function.rtol, atol=function.atol, language=language
    ),
    "array": lambda got, expected, function, language: check_value(
        "result", got, expected, rtol=function.rtol, atol=function.atol, language=language
    ),
    "labels": lambda got, expected, function, language: check_value(
        "predictions", got, expected, kind="labels", language=language
    ),
    "dict": _check_dict_result,
}


def check_result(
    name: str,
    got,
    expected,
    args: tuple = (),
    kwargs: Mapping | None = None,
    fingerprints: Mapping | None = None,
    language: str = "en",
) -> None:
    """The one comparison: raise WrongResult unless ``got`` is what ``name`` should return.

    ``args`` and ``kwargs`` are the inputs of the call, ``fingerprints`` the results of
    classic mistakes on them (see ``diagnose``); both only serve to name the mistake.
    ``language`` is the one its messages are in ("en" or "zh").
    """
    try:
        function = SPEC.function(name)
    except KeyError as error:  # never a silent comparison of the wrong kind
        raise ValueError(error.args[0]) from None
    try:
        COMPARISONS[function.returns](got, expected, function, language)
    except WrongResult as failure:
        mistake = diagnose(name, got, expected, args, kwargs or {}, fingerprints or {}, language)
        failure.language = language
        if mistake is not None:
            failure.mistake, hint = mistake
            failure.hint = hint
            failure.args = (f"{failure.message}\n{say('hint', language)}: {hint}",)
        raise
