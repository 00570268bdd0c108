"""The texts of the visible tests and of the grader, in each language of the course, and lines that fit.

Every text a test prints, the hint of each classic mistake and the grader's words are data, one
catalogue per language (i18n/<language>/messages.json in the course; a student's folder gets the
tests' and mistakes' parts as test_messages.json, written by ``make release``). ``say`` picks one;
``wrap`` breaks it into lines that fit nbgrader's Validate dialog and a notebook's output.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata

from course_spec import SPEC

HERE = os.path.dirname(os.path.abspath(__file__))
LANGUAGES = SPEC.languages


def _data(name: str):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return json.load(handle)


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


# -- lines that fit --------------------------------------------------------------------------------

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
