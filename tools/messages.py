"""The message catalogues (i18n/<language>/messages.json): complete in every language, and shipped to students.

    python -m tools.messages write   # (re)write each edition's test_messages.json in source/
    python -m tools.messages check   # fail on a missing or extra text, or a stale copy

A student's folder gets the visible tests' texts and the classic mistakes' hints of every language
as test_messages.json, written from the catalogues (``make release`` does it); the grader reads the
catalogues themselves.
"""

from __future__ import annotations

import json
import sys

from course_spec import SPEC
from tools.paths import ROOT, write_or_check

CATALOGUES = ROOT / "i18n"
SHIPPED = ("tests", "mistakes")  # what a student's folder needs; "grader" stays with the grader


def _read(language: str) -> dict:
    return json.loads((CATALOGUES / language / "messages.json").read_text(encoding="utf-8"))


def problems() -> list[str]:
    """Texts missing in a language, or extra, against the first language's catalogue."""
    found = []
    first = SPEC.languages[0]
    reference = _read(first)
    for language in SPEC.languages[1:]:
        path = f"i18n/{language}/messages.json"
        if not (CATALOGUES / language / "messages.json").is_file():
            found.append(f"{path} is missing (course.toml has an edition in {language!r})")
            continue
        catalogue = _read(language)
        for part, texts in reference.items():
            theirs = catalogue.get(part, {})
            found += [f"{path}: {part}.{key} is not translated" for key in texts if key not in theirs]
            found += [
                f"{path}: {part}.{key} is not in i18n/{first}/messages.json" for key in theirs if key not in texts
            ]
    return found


def shipped_text() -> str:
    """test_messages.json as a student's folder gets it."""
    texts = {language: {part: _read(language)[part] for part in SHIPPED} for language in SPEC.languages}
    return json.dumps(texts, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _copies():
    return [ROOT / "source" / edition.assignment / "test_messages.json" for edition in SPEC.editions]


def write() -> None:
    text = shipped_text()
    for path in _copies():
        if path.is_symlink():
            path.unlink()
        path.write_text(text, encoding="utf-8")


def check() -> list[str]:
    found = problems()
    text = shipped_text()
    for path in _copies():
        if path.is_symlink() or not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(f"{path.relative_to(ROOT)} is not what i18n/ gives (run: make release)")
    return found


def main(argv: list[str] | None = None) -> int:
    return write_or_check("tools.messages", __doc__, write, check, argv)


if __name__ == "__main__":
    sys.exit(main())
