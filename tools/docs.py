"""The documentation's generated regions: what derives from code is written by this tool, never by hand.

    python -m tools.docs write   # regenerate every region in README.md and docs/*.md
    python -m tools.docs check   # fail if a region is stale or unknown (make check runs it)

A region is the text between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
NAME is one of ``REGIONS``. Each region's data comes from one small source function
below, so a source can change (the course specification) without touching the rest.
"""

from __future__ import annotations

import argparse
import re
import sys

from tools.paths import ROOT, write_or_check

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REGION = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)
HELP_WIDTH = 100  # --help is wrapped at this width whatever the terminal, so the region is stable


# -- the sources: one function each ------------------------------------------------------------------


def graded_functions() -> dict[str, float]:
    """Each graded function and its points, in the notebook's order (course.toml)."""
    from course_spec import SPEC

    return SPEC.points


def hidden_case_plan() -> dict[str, tuple[dict, ...]]:
    """The sizes of each graded function's hidden cases (course.toml's `hidden`)."""
    from course_spec import SPEC

    return {function.name: function.hidden for function in SPEC.functions}


def command_parser(command: str) -> argparse.ArgumentParser:
    """The argparse parser of ``python -m autograder COMMAND`` (autograder.cli)."""
    from autograder.cli import build_parser

    subcommands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subcommands.choices[command]


# -- the regions -------------------------------------------------------------------------------------


def _points(value: float) -> str:
    return f"{value:g}"


def functions_table() -> str:
    functions = graded_functions()
    rows = [f"| `{name}` | {_points(value)} |" for name, value in functions.items()]
    total = _points(sum(functions.values()))
    return "\n".join(["| graded function | points |", "|---|---:|", *rows, f"| **total** | **{total}** |"])


def _size(size: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in size.items())


def hidden_cases_table() -> str:
    plan = hidden_case_plan()
    count = max(len(sizes) for sizes in plan.values())
    header = "| function | " + " | ".join(f"hidden case {i + 1}" for i in range(count)) + " |"
    rows = [f"| `{name}` | " + " | ".join(_size(size) for size in sizes) + " |" for name, sizes in plan.items()]
    return "\n".join([header, "|---|" + "---|" * count, *rows])


def usage(command: str) -> str:
    parser = command_parser(command)
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=HELP_WIDTH)
    parser.color = False  # Python 3.14 colours help on a terminal; the docs hold plain text
    return "```text\n$ python -m autograder " + command + " --help\n" + parser.format_help().rstrip() + "\n```"


REGIONS = {
    "functions": functions_table,
    "hidden-cases": hidden_cases_table,
    "grade-help": lambda: usage("grade"),
    "watch-help": lambda: usage("watch"),
}


# -- writing and checking ----------------------------------------------------------------------------


def render(text: str, name: str = "page") -> str:
    """The page with every region regenerated; KeyError naming an unknown region."""
    cache: dict[str, str] = {}

    def fill(match: re.Match) -> str:
        region = match.group(2)
        if region not in REGIONS:
            raise KeyError(f"{name}: unknown generated region {region!r} (known: {', '.join(REGIONS)})")
        if region not in cache:
            cache[region] = REGIONS[region]().rstrip("\n") + "\n"
        return match.group(1) + cache[region] + match.group(4)

    return REGION.sub(fill, text)


def stale(pages=PAGES) -> list[str]:
    """Problems: pages whose generated regions are not what ``write`` would write (empty when current)."""
    problems = []
    for page in pages:
        name = page.relative_to(ROOT).as_posix()
        text = page.read_text(encoding="utf-8")
        try:
            if render(text, name) != text:
                problems.append(f"{name} has a stale generated region (run: python -m tools.docs write)")
        except KeyError as error:
            problems.append(str(error.args[0]))
        if text.count("<!-- generated: ") != text.count("<!-- end generated -->"):
            problems.append(f"{name}: a generated region is not closed by <!-- end generated -->")
    return problems


def write(pages=PAGES) -> None:
    """Regenerate every region of ``pages`` in place."""
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = render(text, page.relative_to(ROOT).as_posix())
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"regenerated {page.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    return write_or_check(
        "tools.docs", __doc__, write, stale, argv, current="generated regions of README.md and docs/ are current"
    )


if __name__ == "__main__":
    sys.exit(main())
