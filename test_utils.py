"""The machinery of the visible tests and of the grader: one comparison, its messages, the diagnosis.

``check_result(name, got, expected)`` is the one comparison of the course: the visible
tests (public_tests.py) use it with the walk-through's expected values, the grader
with the reference's results on its hidden cases. What passes one passes the other.
When a result is wrong, ``diagnose`` names the classic mistake it matches, if one
does. Every message is in the language a caller passes (one of course.toml's editions); the
texts are data, one catalogue per language (i18n/<language>/messages.json; a student's folder
gets them as test_messages.json, written by ``make release``), and so are the results the
classic mistakes give on the visible cases (test_fingerprints.json, written by
``python -m tools.fingerprints``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import traceback
import unicodedata
import warnings
from collections.abc import Mapping

import numpy as np

from course_spec import SPEC

HERE = os.path.dirname(os.path.abspath(__file__))

# The course's tolerance of float comparisons, and each function's where it differs (course.toml).
RTOL, ATOL = _COURSE_TOLERANCE = (SPEC.course_rtol, SPEC.course_atol)
TOLERANCE = {f.name: {"rtol": f.rtol, "atol": f.atol} for f in SPEC.functions if (f.rtol, f.atol) != _COURSE_TOLERANCE}

# The graded functions that each graded function calls (nn_model and predict here).
HELPERS = {function.name: function.calls for function in SPEC.functions if function.calls}
LANGUAGES = SPEC.languages


def _data(name: str):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return json.load(handle)


def arrays(value):
    """JSON's lists as numpy arrays (and dicts and tuples of them), as the graded functions return them."""
    if isinstance(value, dict):
        return {key: arrays(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(arrays(item) for item in value)
    return np.array(value) if isinstance(value, list) else value


def _catalogues() -> dict:
    """{language: {"tests": ..., "mistakes": ..., "grader": ...}} for every language of the course.

    In the course, i18n/<language>/messages.json; in a student's folder, test_messages.json, which
    ``make release`` writes from those (the visible tests' and mistakes' parts).
    """
    if os.path.isdir(os.path.join(HERE, "i18n")):
        found = {}
        for language in LANGUAGES:
            try:
                found[language] = _data(os.path.join("i18n", language, "messages.json"))
            except FileNotFoundError:
                raise ValueError(
                    f"course.toml has an edition in {language!r} but i18n/{language}/messages.json is missing"
                ) from None
        return found
    return _data("test_messages.json")


# Every text a test can print, and the hint of each classic mistake, in each language (code and numbers stay).
CATALOGUES = _catalogues()
MESSAGES = {
    key: {lang: CATALOGUES[lang]["tests"][key] for lang in LANGUAGES} for key in CATALOGUES[LANGUAGES[0]]["tests"]
}
MISTAKES = {
    key: {lang: CATALOGUES[lang]["mistakes"][key] for lang in LANGUAGES} for key in CATALOGUES[LANGUAGES[0]]["mistakes"]
}


def course_language(folder: str = ".") -> str:
    """The language of the edition in ``folder`` (its file course_language says which), else the first edition's."""
    try:
        with open(os.path.join(folder, "course_language"), encoding="utf-8") as handle:
            language = handle.read().strip()
    except OSError:
        return LANGUAGES[0]
    if language not in LANGUAGES:
        raise ValueError(f"course_language says {language!r}; the course's languages are {', '.join(LANGUAGES)}")
    return language


def say(message_id: str, language: str = LANGUAGES[0], /, **fields) -> str:
    """A message (or a mistake's hint) in ``language``, one of the course's."""
    if language not in LANGUAGES:
        raise ValueError(f"no messages in {language!r}; the course's languages are {', '.join(LANGUAGES)}")
    texts = MESSAGES.get(message_id) or MISTAKES[message_id]
    return texts[language].format(**fields)


# -- failures that read as a few lines -----------------------------------------------------------

# Columns of a failure's lines: nbgrader's Validate dialog shows 90, indented by 4, and a notebook's output about as
# many; longer lines would scroll sideways.
WIDTH = 80
_TOKENS = re.compile(r"\s+|[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+")


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int = WIDTH, indent: str = "  ") -> str:
    """``text`` in lines of at most ``width`` columns (a Chinese character takes two), broken at spaces or between
    Chinese characters, the lines after the first indented; its own line breaks kept, a longer word kept whole."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKENS.findall(paragraph):
            if line.strip() and _columns(line + token.rstrip()) > width:
                lines.append(line.rstrip())
                line = indent
                if token.isspace():
                    continue
            line += token
        lines.append(line.rstrip())
    return "\n".join(lines)


def _coloured(label: str, text: str, colour: str) -> str:
    """``label: text`` wrapped, the label in ``colour`` (ANSI), as IPython shows an exception's name."""
    wrapped = wrap(f"{label}: {text}")
    return f"\x1b[{colour}m{label}\x1b[0m{wrapped[len(label) :]}"


class TestFailure(AssertionError):
    """A visible test failed; shown as a few lines (what is wrong, what to do), not a traceback.

    IPython calls ``_render_traceback_`` to show an exception, so the failure does not
    drag the test helpers' code along with it.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, message: str, hint: str = "", language: str = "en"):
        super().__init__(message + (f"\n{say('hint', language)}: {hint}" if hint else ""))
        self.message = message
        self.hint = hint
        self.language = language

    def _render_traceback_(self) -> list[str]:
        lines = [_coloured(type(self).__name__, self.message, "0;31")]
        if self.hint:
            lines.append(_coloured(say("hint", self.language), self.hint, "0;33"))
        return lines


class NotImplementedYet(TestFailure):
    """The function still holds the placeholder of the release notebook."""


class WrongResult(TestFailure):
    """A result that differs from the expected one.

    ``message`` may quote values (the visible case); ``brief`` says the same without
    any value, for cases whose inputs and results stay hidden; ``mistake`` names the
    classic mistake the result matches, if one does, and ``hint`` says it in words.
    """

    def __init__(
        self, message: str, brief: str | None = None, mistake: str | None = None, hint: str = "", language: str = "en"
    ):
        super().__init__(message, hint, language)
        self.brief = brief if brief is not None else message
        self.mistake = mistake


class HelperFails(TestFailure):
    """A function under test calls another graded function that fails its own test."""


def call_student(language: str, function, *args, **kwargs):
    """Call a student's function and return its result.

    Messages are in ``language``. Warnings and anything written to stderr are replayed on stdout as notes (a
    warning is not a mistake, and nbgrader would zero a cell that prints to
    stderr); the placeholder's NotImplementedError becomes a clear message; any
    other error shows its traceback through the student's code only.
    """
    name = getattr(function, "__name__", "the function")
    stderr = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(say("not_implemented", language, name=name)) from None
        except TestFailure:
            raise
        except Exception as error:
            _show_only_student_frames(error, name, language)
            raise
    for w in caught:
        print(wrap(say("warned", language, name=name, warning=f"{w.category.__name__}: {w.message}")))
    if stderr.getvalue():
        print(wrap(say("wrote_stderr", language, name=name, text=stderr.getvalue().strip()[:500])))
    return result


def _show_only_student_frames(error: BaseException, name: str, language: str) -> None:
    """Make IPython show ``error`` with the frames of the student's code only."""
    tb = error.__traceback__.tb_next if error.__traceback__ is not None else None  # drop call_student

    def render() -> list[str]:
        header = f"\x1b[0;31m{say('raised', language, name=name, ename=type(error).__name__)}\x1b[0m"
        try:
            shell = get_ipython()  # noqa: F821 - defined inside IPython
            lines = shell.InteractiveTB.structured_traceback(type(error), error, tb)
        except Exception:  # noqa: BLE001 - outside IPython, or an IPython without that formatter
            lines = traceback.format_exception(type(error), error, tb)
        return [header, *lines]

    try:
        error._render_traceback_ = render
    except AttributeError:  # an exception type that takes no attributes: shown in full
        pass


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


# -- naming the mistake ----------------------------------------------------------------------------


def _close(a, b, rtol=1e-4, atol=1e-9) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        scale = float(np.max(np.abs(b))) if b.size else 0.0  # as in check_value: cancellation near zero
        return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=rtol, atol=max(atol, rtol * scale))))
    except (TypeError, ValueError):
        return False


def _matches(got, fingerprint) -> bool:
    """Does ``got`` equal a mistake's result (a number, an array, or a tuple or dict of them)?"""
    if isinstance(fingerprint, Mapping):
        return isinstance(got, Mapping) and all(k in got and _matches(got[k], v) for k, v in fingerprint.items())
    if isinstance(fingerprint, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(fingerprint)
            and all(_matches(g, f) for g, f in zip(got, fingerprint))
        )
    if isinstance(got, (tuple, list, Mapping, str)) or got is None:
        return False
    return _close(got, fingerprint)


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def _examples(name: str, args: tuple) -> int | None:
    """m, the number of examples of a call, read from its inputs."""
    try:
        if name == "compute_cost":
            return int(np.shape(args[1])[1])
        if name == "backward_propagation":
            return int(np.shape(args[2])[1])
    except (IndexError, TypeError):
        return None
    return None


def _keys(got, expected):
    """(key, got value, expected value) of the float entries of a dict result, or of a bare value."""
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return []
        return [(key, got[key], value) for key, value in expected.items() if key in got]
    return [(None, got, expected)]


def diagnose(
    name: str,
    got,
    expected,
    args: tuple = (),
    kwargs: Mapping | None = None,
    fingerprints: Mapping | None = None,
    language: str = "en",
) -> tuple[str, str] | None:
    """(mistake id, hint) when a wrong result matches a classic mistake, else None.

    Relations that hold for any input are tried first (a cost m times too large, a
    transposed or flattened gradient, a step up the gradient); then ``fingerprints``:
    the results the classic mistakes give on these inputs; then where the mistake
    must be (the part of the result that is right and the part that is not).
    """
    kwargs = kwargs or {}
    try:
        found = _relation(name, got, expected, args, kwargs)
        if found is None:
            found = next(
                ((mistake, {}) for mistake, fingerprint in (fingerprints or {}).items() if _matches(got, fingerprint)),
                None,
            )
        if found is None:
            found = _localise(name, got, expected)
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy: an odd result just gets none
        return None
    if found is None:
        return None
    mistake, fields = found
    return mistake, say(mistake, language, **fields)


def _relation(name, got, expected, args, kwargs):
    m = _examples(name, args)
    if name == "layer_sizes" and isinstance(got, tuple) and len(got) == 3:
        X, Y = args[0], args[1]
        if tuple(got) == (X.shape[1], expected[1], Y.shape[1]):
            return "sizes_examples", {}
        if tuple(got) == (Y.shape[0], expected[1], X.shape[0]):
            return "sizes_swapped", {}
        if got[0] == expected[0] and got[2] == expected[2]:
            return "sizes_hidden", {}
    if name == "compute_cost" and np.ndim(expected) == 0 and not isinstance(got, (str, bytes)):
        value, want = float(np.squeeze(got)), float(expected)
        if m and m > 1 and _close(value, m * want):
            return "cost_no_mean", {}
        if _close(value, -want):
            return "cost_sign", {}
        if any(value == round(want, digits) for digits in range(5)):
            return "cost_rounded", {}
    if name == "initialize_parameters" and isinstance(got, Mapping):
        weights = [got.get(k) for k in ("W1", "W2")]
        if all(isinstance(w, np.ndarray) and w.size and not w.any() for w in weights):
            return "init_zero_weights", {}
        for key in ("W1", "W2"):
            g = got.get(key)
            if (
                isinstance(g, np.ndarray)
                and g.ndim == 2
                and g.shape != expected[key].shape
                and g.shape == expected[key].shape[::-1]
            ):
                return "init_swapped_shape", {"key": key}
        if all(_close(got.get(k), 100 * np.asarray(expected[k])) for k in ("W1", "W2")):
            return "init_unscaled", {}
        if any(
            isinstance(got.get(k), np.ndarray) and np.shape(got.get(k)) == np.shape(expected[k]) and np.any(got.get(k))
            for k in ("b1", "b2")
        ):
            return "init_nonzero_bias", {}
    if name == "forward_propagation" and isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], Mapping):
        cache, (_, expected_cache) = got[1], expected
        Z1, Z2 = expected_cache["Z1"], expected_cache["Z2"]
        if _close(cache.get("A1"), _sigmoid(Z1)):
            return "forward_sigmoid_hidden", {}
        if _close(cache.get("A1"), Z1) and not _close(Z1, np.tanh(Z1)):
            return "forward_no_hidden_activation", {}
        near = [
            (float(np.max(np.abs(np.asarray(got[0], dtype=float) - candidate))), mistake)
            for candidate, mistake in ((Z2, "forward_no_output_sigmoid"), (np.tanh(Z2), "forward_tanh_output"))
            if _close(got[0], candidate)
        ]
        if near:  # both look alike where Z2 is small: the closer one
            return min(near)[1], {}
        parameters = args[1] if len(args) > 1 else {}
        for key, bias in (("Z1", "b1"), ("Z2", "b2")):
            if np.any(parameters.get(bias)) and _close(cache.get(key), expected_cache[key] - parameters[bias]):
                return "forward_no_bias", {"key": key}
    if name == "backward_propagation" and isinstance(got, Mapping):
        entries = _keys(got, expected)
        if m and m > 1 and any(_close(g, m * np.asarray(e)) and not _close(g, e) for _, g, e in entries):
            key = next(k for k, g, e in entries if _close(g, m * np.asarray(e)) and not _close(g, e))
            return "grad_no_mean", {"key": key}
        if entries and all(_close(g, -np.asarray(e)) for _, g, e in entries):
            return "grad_sign", {}
        for key, g, e in entries:
            e = np.asarray(e)
            if isinstance(g, np.ndarray) and g.shape != e.shape:
                if g.ndim == 1 and _close(g, e.ravel()):
                    return "grad_keepdims", {"key": key}
                if g.ndim == 2 and _close(g.T, e):
                    return "grad_transposed", {"key": key}
    if name == "update_parameters" and isinstance(got, Mapping) and len(args) >= 2:
        parameters, grads = args[0], args[1]
        rate = kwargs.get("learning_rate", args[2] if len(args) > 2 else 1.2)
        keys = [k for k in expected if k in got]
        if keys and all(_close(got[k], np.asarray(parameters[k]) + rate * np.asarray(grads["d" + k])) for k in keys):
            return "update_sign", {}
        if keys and all(_close(got[k], parameters[k]) for k in keys):
            return "update_no_step", {}
        if (
            keys
            and rate != 1.2
            and all(_close(got[k], np.asarray(parameters[k]) - 1.2 * np.asarray(grads["d" + k])) for k in keys)
        ):
            return "update_fixed_rate", {}
    if name == "nn_model" and isinstance(got, Mapping) and len(args) >= 3:
        W1 = got.get("W1")
        if isinstance(W1, np.ndarray) and W1.ndim == 2 and args[2] != 4 and W1.shape[0] == 4:
            return "model_fixed_hidden", {}
    if name == "predict" and isinstance(got, np.ndarray) and got.shape == np.shape(expected):
        values = got.astype(float)
        if (
            np.all((values >= 0) & (values <= 1))
            and not np.all(np.isin(values, (0.0, 1.0)))
            and np.array_equal(values > 0.5, np.asarray(expected, dtype=bool))
        ):
            return "predict_probabilities", {}
        if np.array_equal(values, 1 - np.asarray(expected, dtype=float)):
            return "predict_inverted", {}
    return None


def _localise(name, got, expected):
    if name == "backward_propagation" and isinstance(got, Mapping):
        right = {key for key, g, e in _keys(got, expected) if _close(g, e, rtol=RTOL, atol=ATOL)}
        if right == {"dW2", "db2"}:
            return "grad_in_dz1", {}
    return None


def cost_problem(compute_cost, Y, parameters, language: str = "en") -> str | None:
    """Why ``compute_cost`` cannot serve a gradient check yet, or None when it looks right.

    Two guesses whose cost is known whatever the labels: 0.5 for every example costs
    log 2, and 0.8 on the right class (0.2 on the wrong one) costs -log 0.8.
    """
    Y = np.asarray(Y)
    guesses = (
        (np.full(Y.shape, 0.5), np.log(2), "cost_at_half"),
        (np.where(Y == 1, 0.8, 0.2), -np.log(0.8), "cost_at_guess"),
    )
    for A2, expected, key in guesses:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cost = float(np.squeeze(compute_cost(A2, Y, parameters)))
        except NotImplementedError:
            return say("not_implemented", language, name="compute_cost")
        except Exception as error:  # noqa: BLE001 - any failure is the problem to report
            return f"compute_cost raised {type(error).__name__}: {error}"
        if not np.isclose(cost, expected, rtol=1e-6, atol=1e-9):
            text = say(key, language, cost=cost, expected=expected)
            mistake = diagnose("compute_cost", cost, expected, (A2, Y, parameters), language=language)
            return text + (f"; {mistake[1].rstrip('.。')}" if mistake else "")
    return None


def _fingerprint(value):
    """A stored fingerprint: {"tuple": [...]} back to a tuple, lists to arrays."""
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(_fingerprint(item) for item in value["tuple"])
    if isinstance(value, dict):
        return {key: _fingerprint(item) for key, item in value.items()}
    return np.array(value) if isinstance(value, list) else value


FINGERPRINTS = {name: _fingerprint(found) for name, found in _data("test_fingerprints.json").items()}
