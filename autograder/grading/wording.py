"""The grader's own words, in the language of the edition being graded.

Everything a student reads about their grade (the test cells of the autograded
notebook, the feedback page, the gradebook's comments) is written here or by
``test_utils`` (the same comparison and diagnoses as the visible tests). For a
hidden case these words are all the student gets: which case, by its sizes, and
what kind of failure.
"""

from __future__ import annotations

import test_utils
from test_text import CATALOGUES, LANGUAGES

from .. import EDITIONS

# The grader's texts, by language (i18n/<language>/messages.json, "grader"); a text the visible
# tests also say (that a function is not implemented) is theirs ("tests").
TEXTS = {language: catalogue["grader"] for language, catalogue in CATALOGUES.items()}
_SHARED = ("not_implemented",)


# The words of the feedback page's frame, as the template names them (``feedback.frame_words``).
PAGE_WORDS = tuple(key for key in TEXTS[LANGUAGES[0]] if key.startswith("page_"))


def language(assignment: str) -> str:
    """The language of an edition (the first edition's for an assignment course.toml does not name)."""
    return EDITIONS.get(assignment, LANGUAGES[0])


def say(language_: str, text_id: str, **fields) -> str:
    if text_id in _SHARED:
        return test_utils.say(text_id, language_, **fields)
    if language_ not in TEXTS:
        raise ValueError(f"no messages in {language_!r}; the course's languages are {', '.join(TEXTS)}")
    return TEXTS[language_][text_id].format(**fields)


def page_words(language_: str) -> dict[str, str]:
    """The feedback page's frame in one language: PAGE_WORDS, by key."""
    return {key: say(language_, key) for key in PAGE_WORDS}
