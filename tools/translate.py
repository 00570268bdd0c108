"""Editions in other languages, generated from the English notebooks and a translation catalogue.

    python -m tools.translate build    # write the Chinese notebooks from the English ones
    python -m tools.translate check    # fail on stale, missing or orphan translations

A catalogue (``i18n/zh/<notebook>.json``) maps each markdown cell id to its
translation and to the SHA-256 of the English text it translates. Code cells,
outputs, cell ids and nbgrader metadata are copied from the English notebook
unchanged, so both editions share every test and grade id. When an English
markdown cell changes, its hash no longer matches and ``check`` names the cell.

To update a translation: edit the English cell, run ``check`` to see which cells
went stale, fix their ``text`` in the catalogue, then run
``build --accept CELL_ID ...``, which records that the translations of those cells
now follow the current English, and rewrites the generated notebooks.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

from tools import points
from tools.paths import ASSIGNMENT, EXECUTED_TRANSLATIONS, ROOT, SOURCE, TRANSLATED, write_notebook

CATALOGUES = ROOT / "i18n"

# Each translated edition (course.toml): the English notebooks, their catalogues, and the notebooks
# generated from both. Adding a language: an [[edition]] in course.toml, i18n/<language>/ with the
# catalogues (messages.json, one per notebook), then `make notebooks release`.
EDITIONS = {
    language: [
        (SOURCE, CATALOGUES / language / f"{ASSIGNMENT}.json", source),
        *(
            (
                english,
                CATALOGUES / language / f"{english.stem}.json",
                english.parent / language / f"{english.stem}_{language}.ipynb",
            )
            for english in sorted((ROOT / "notebooks").glob("*.ipynb"))
        ),
    ]
    for language, source in TRANSLATED.items()
}


# Chinese sentences take full-width punctuation; code, math, links and URLs keep ASCII.
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_VERBATIM = re.compile(
    r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)\n]*\)|<[^>\n]*>|https?://\S+"
    r"|\{[^{}\n]*\}",
    re.S,
)  # code, math, links, tags, URLs, and {fields} of messages
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}


def fullwidth_punctuation(text: str) -> str:
    """``text`` with the ASCII punctuation of its Chinese lines made full-width (code and math untouched).

    On a line with Chinese in it, , : ; ! ? outside code, math and links become full-width,
    and so does a pair of parentheses; a line without Chinese is left alone.
    """
    masked = list(text)
    for match in _VERBATIM.finditer(text):
        for index in range(match.start(), match.end()):
            masked[index] = "\0"
    result = list(text)
    start = 0
    for line in "".join(masked).split("\n"):
        end = start + len(line)
        if _CJK.search(line):
            opened = []
            for index in range(start, end):
                char = masked[index]
                if char in ",:;!?":
                    if char == ":" and masked[index + 1 : index + 3] == ["/", "/"]:
                        continue
                    result[index] = _FULL_WIDTH[char]
                elif char == "(":
                    opened.append(index)
                elif char == ")" and opened:
                    result[opened.pop()] = "（"
                    result[index] = "）"
        start = end + 1
    text = "".join(result)
    # No space between Chinese and full-width parentheses: 公式（1）到（4）
    text = re.sub(r"(?<=[\u4e00-\u9fff]) (?=（)", "", text)
    text = re.sub(r"(?<=）) (?=[\u4e00-\u9fff])", "", text)
    return re.sub(r"(?<=[，：；！？]) +(?=\S)", "", text)  # full-width marks carry their own space


class TranslationError(Exception):
    """A catalogue does not match its English notebook; the message names the cells."""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_catalogue(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_catalogue(path: Path, catalogue: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(catalogue, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def problems(english: nbformat.NotebookNode, catalogue: dict, name: str) -> list[str]:
    """Missing, stale and orphan translations of one notebook."""
    found = []
    markdown = {cell.id: cell.source for cell in english.cells if cell.cell_type == "markdown"}
    for cell_id, text in markdown.items():
        entry = catalogue.get(cell_id)
        if entry is None or not entry.get("text", "").strip():
            found.append(f"{name}: markdown cell {cell_id!r} has no translation")
        elif fullwidth_punctuation(entry["text"]) != entry["text"]:
            found.append(
                f"{name}: the translation of {cell_id!r} has ASCII punctuation in Chinese sentences "
                "(write ， ： ； （ ） ！ ？; code and math keep ASCII)"
            )
        elif entry.get("source_sha") != sha(points.neutral(text)):
            found.append(
                f"{name}: markdown cell {cell_id!r} changed in English since it was translated "
                f"(translated {entry.get('source_sha')}, now {sha(points.neutral(text))}); update its text, then "
                f"run: python -m tools.translate build --accept {cell_id}"
            )
    for cell_id in catalogue:
        if cell_id not in markdown:
            found.append(f"{name}: the catalogue translates {cell_id!r}, which is no markdown cell of the notebook")
    return found


def translate(english: nbformat.NotebookNode, catalogue: dict, out_path: Path) -> nbformat.NotebookNode:
    """The English notebook with its markdown replaced by the catalogue's text.

    A notebook executed on its own after translation (its tests speak its language)
    keeps its stored outputs for every code cell that did not change.
    """
    edition = copy.deepcopy(english)
    for cell in edition.cells:
        if cell.cell_type == "markdown":
            cell.source = catalogue[cell.id]["text"]
    points.apply(edition)  # course.toml's points, whatever numbers the translation was written with
    if out_path in EXECUTED_TRANSLATIONS and out_path.exists():
        stored = {c.id: c for c in nbformat.read(out_path, as_version=4).cells if c.cell_type == "code"}
        for cell in edition.cells:
            previous = stored.get(cell.id)
            if cell.cell_type == "code" and previous is not None and previous.source == cell.source:
                cell.outputs, cell.execution_count = previous.outputs, previous.execution_count
    return edition


def prepare_folders() -> None:
    """Each translated edition's folders, as the first edition's: its source folder with the same links to the
    helper modules (and to its own appendix), the file course_language naming its language, and
    notebooks/<language>/ with the helpers its notebooks import. A new language needs nothing else by hand."""
    first = SOURCE.parent
    for language, source in TRANSLATED.items():
        folder = source.parent
        folder.mkdir(parents=True, exist_ok=True)
        for link in first.iterdir():
            if link.is_symlink() and link.suffix != ".ipynb" and not (folder / link.name).is_symlink():
                (folder / link.name).symlink_to(link.readlink())
        notebooks = ROOT / "notebooks" / language
        notebooks.mkdir(exist_ok=True)
        for link in (ROOT / "notebooks").iterdir():
            if link.is_symlink() and not (notebooks / link.name).is_symlink():
                (notebooks / link.name).symlink_to(Path("..") / link.readlink())
        for english in sorted((ROOT / "notebooks").glob("*.ipynb")):
            name = f"{english.stem}_{language}.ipynb"
            if not (folder / name).is_symlink():
                (folder / name).symlink_to(Path("../../notebooks") / language / name)
        marker = folder / "course_language"
        if not marker.is_file() or marker.read_text(encoding="utf-8").strip() != language:
            marker.write_text(language + "\n", encoding="utf-8")


def build(accept: list[str]) -> list[Path]:
    written = []
    prepare_folders()
    for editions in EDITIONS.values():
        for english_path, catalogue_path, out_path in editions:
            english = nbformat.read(english_path, as_version=4)
            catalogue = load_catalogue(catalogue_path)
            texts = {c.id: c.source for c in english.cells if c.cell_type == "markdown"}
            for cell_id in accept:
                if cell_id in catalogue and cell_id in texts:
                    catalogue[cell_id]["source_sha"] = sha(points.neutral(texts[cell_id]))
            save_catalogue(catalogue_path, catalogue)
            found = problems(english, catalogue, catalogue_path.name)
            if found:
                raise TranslationError("\n".join(found))
            out_path.parent.mkdir(parents=True, exist_ok=True)
            write_notebook(translate(english, catalogue, out_path), out_path)
            written.append(out_path)
    return written


def check() -> list[str]:
    found = []
    for editions in EDITIONS.values():
        for english_path, catalogue_path, out_path in editions:
            english = nbformat.read(english_path, as_version=4)
            catalogue = load_catalogue(catalogue_path)
            these = problems(english, catalogue, str(catalogue_path.relative_to(ROOT)))
            found += these
            if not these:
                expected = nbformat.writes(translate(english, catalogue, out_path)) + "\n"
                if not out_path.exists() or out_path.read_text(encoding="utf-8") != expected:
                    found.append(f"{out_path.relative_to(ROOT)} is out of date (run: python -m tools.translate build)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.translate", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "check"])
    parser.add_argument(
        "--accept",
        nargs="*",
        default=[],
        metavar="CELL_ID",
        help="with build: record that these cells' translations follow the current English",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for path in build(args.accept):
                print(f"wrote {path.relative_to(ROOT)}")
            return 0
        found = check()
    except TranslationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if not found:
        print("translations are complete and current")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
