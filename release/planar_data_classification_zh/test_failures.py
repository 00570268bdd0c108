"""How a visible test fails: a few lines that say what is wrong (not a traceback of the tests' code), and the
call of a student's function that turns its placeholder, its warnings and its errors into such lines."""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings

from test_text import say, wrap


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
