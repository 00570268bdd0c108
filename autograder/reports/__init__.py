"""The instructor's summary page, next to grades.csv: the class at a glance, then who needs attention.

``summary.html`` is rendered from the template beside this file (jinja2, with
autoescaping: everything a student can influence, ids, statuses and messages, is
escaped). Its charts are inline SVG, so the page is one self-contained file.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import io
import os
import re
import statistics
import urllib.parse
from pathlib import Path

import jinja2

from test_utils import MISTAKES

from .. import GRADED_FUNCTIONS, SHORT_NAMES
from ..course import Course
from ..intake import Skipped
from ..results import Kind, Outcome, SubmissionResult, write_atomically
from ..sanitize import content_security_policy

TEMPLATE = "summary.html.j2"
SCRIPT = "sort.js"  # the page's one script (sorting), allowed by its hash alone


def pass_rates(results: list[SubmissionResult]) -> dict[str, float]:
    """Fraction of graded submissions in which each function passed."""
    graded = [r for r in results if r.graded]
    if not graded:
        return dict.fromkeys(GRADED_FUNCTIONS, 0.0)
    passed = collections.Counter(f.name for r in graded for f in r.functions if f.outcome == Outcome.PASSED)
    return {name: passed[name] / len(graded) for name in GRADED_FUNCTIONS}


def class_statistics(results: list[SubmissionResult]) -> dict[str, float]:
    """Totals of the graded submissions; "incomplete" counts those not graded in full (untouched ones too)."""
    graded = [r for r in results if r.graded]
    totals = [r.total for r in graded]
    stats = {"submissions": len(results), "graded": len(graded), "not graded": len(results) - len(graded)}
    if totals:
        full = max(r.max_total for r in graded)
        stats.update(
            {
                "mean": statistics.fmean(totals),
                "median": statistics.median(totals),
                "min": min(totals),
                "max": max(totals),
                "stdev": statistics.pstdev(totals),
                "full marks": sum(t == full for t in totals),
            }
        )
    stats["incomplete"] = sum(not r.complete for r in results)
    return stats


OUTCOME_LABELS = {
    Outcome.FAILED: "wrong result (no classic mistake recognised)",
    Outcome.ERROR: "raised an error, or called another function wrongly",
    Outcome.MISSING: "not defined in the notebook (deleted, renamed, or its cell never ran)",
    Outcome.TIMEOUT: "did not finish in time (an endless loop?)",
    Outcome.KERNEL_DIED: "killed the kernel",
    Outcome.MEMORY: "ran out of memory",
}

# What to do about each kind of problem a graded submission can carry.
ADVICE = {
    Kind.MACHINERY: "read the cells the status names: the sandbox kept them harmless and the grade counts only what "
    "the judge saw, but the student may need a word",
    Kind.TESTS_CHANGED: "the release's tests were restored and graded; the student's edits are in submitted/",
    Kind.VISIBLE_ONLY: "compare those functions with the visible test's expected values: answers fitted to the "
    "example score nothing on the hidden cases",
    Kind.MALFORMED: "ask the student to submit the notebook again",
    Kind.MISSING_NOTEBOOK: "ask the student to submit the notebook again",
}


# What a hint's {key} stands for, in a label that names no single array.
_KEY_NOUNS = {"initialize_parameters": "W1 or W2", "forward_propagation": "Z1 or Z2"}


def mistake_label(function: str, mistake: str) -> str:
    """The classic mistake in a few words: its English hint up to the first colon or semicolon."""
    hint = MISTAKES[mistake]["en"].format(key=_KEY_NOUNS.get(function, "a gradient"))
    return re.split(r"[:;]", hint, maxsplit=1)[0]


def common_mistakes(results: list[SubmissionResult]) -> dict[str, list[tuple[str, int, list[str]]]]:
    """function -> [(what went wrong, how many students, who)], most frequent first.

    Failures that match a classic mistake are counted by it; the others by their outcome.
    """
    found: dict[str, collections.Counter] = {name: collections.Counter() for name in GRADED_FUNCTIONS}
    who: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for result in results:
        if not (result.graded and result.attempted):
            continue
        for function in result.functions:
            if function.outcome == Outcome.PASSED or function.outcome == Outcome.NOT_RUN:
                continue
            if function.mistake and function.mistake in MISTAKES:
                label = mistake_label(function.name, function.mistake)
            else:
                label = OUTCOME_LABELS.get(function.outcome, str(function.outcome))
            found[function.name][label] += 1
            who[(function.name, label)].append(result.student)
    return {
        name: [(label, count, sorted(who[(name, label)])) for label, count in counter.most_common()]
        for name, counter in found.items()
        if counter
    }


@dataclasses.dataclass
class Attention:
    student: str
    what: str
    todo: str
    graded: bool = True  # False: nothing was recorded (the grader's failure, or a folder it skipped)


def skipped_status(folder) -> str:
    return f"not graded: skipped folder: {folder.reason}"


def needs_attention(results: list[SubmissionResult], skipped: list) -> list[Attention]:
    """Who needs the instructor, why, and what to do about it: the grader's failures first."""
    found = []
    for result in sorted(results, key=lambda r: r.student):
        if not result.graded:
            found.append(
                Attention(
                    result.student,
                    result.status,
                    "run the same command again; it grades exactly the submissions not graded",
                    graded=False,
                )
            )
        elif result.has(Kind.UNVERIFIED):
            found.append(
                Attention(
                    result.student,
                    result.status,
                    f"python -m autograder grade --regrade --student {result.student} (these scores are not the "
                    "grader's: graded by something else, edited, or of an older submission)",
                )
            )
        elif not result.attempted:
            found.append(
                Attention(
                    result.student,
                    result.status,
                    "the student handed in the notebook they received: check they submitted the right file",
                )
            )
        elif result.problems:
            advice = list(dict.fromkeys(ADVICE[p.kind] for p in result.problems if p.kind in ADVICE))
            todo = "; ".join(advice) or "look at the autograded notebook; the student's feedback explains it"
            found.append(Attention(result.student, result.status, todo))
    for folder in skipped:
        found.append(
            Attention(
                folder.name,
                skipped_status(folder),
                "rename or replace the folder under submitted/, then run again",
                graded=False,
            )
        )
    return found


def _histogram(results: list[SubmissionResult]) -> list[dict]:
    """Bars of 10 points: [{label, count, fraction}]."""
    graded = [r for r in results if r.graded]
    bins = collections.Counter(min(int(r.total // 10), 9) for r in graded)
    most = max(bins.values(), default=1)
    return [
        {"label": f"{10 * b}–{10 * b + 10 if b < 9 else 100}", "count": bins[b], "fraction": bins[b] / most}
        for b in range(10)
    ]


def _link(folder: Path, target: Path) -> str | None:
    if not target.exists():
        return None
    return urllib.parse.quote(os.path.relpath(target, folder))


def write_reports(folder: Path, results: list[SubmissionResult], skipped: list, course: Course) -> Path:
    """Write summary.html into ``folder``; return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    assignment = course.assignment
    rows = []
    for result in sorted(results, key=lambda r: r.student):
        rows.append(
            {
                "result": result,
                "scores": {f.name: f for f in result.functions},
                "feedback": _link(folder, course.step("feedback", result.student) / f"{assignment}.html"),
                "notebook": _link(folder, course.step("autograded", result.student) / f"{assignment}.ipynb"),
            }
        )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    script = (Path(__file__).parent / SCRIPT).read_text(encoding="utf-8")
    page = environment.get_template(TEMPLATE).render(
        policy=content_security_policy(scripts=(script,)),
        script=script,
        assignment=assignment,
        generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        functions=GRADED_FUNCTIONS,
        short_names=SHORT_NAMES,
        stats=class_statistics(results),
        rates=pass_rates(results),
        histogram=_histogram(results),
        attention=needs_attention(results, skipped),
        mistakes=common_mistakes(results),
        rows=rows,
        sandboxed=all(r.sandboxed for r in results),
    )
    path = folder / "summary.html"
    path.write_text(page, encoding="utf-8")
    return path


# -- grades.csv ------------------------------------------------------------------------------------


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """Text a spreadsheet shows as text, never evaluates as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(path: Path, results: list[SubmissionResult], skipped: list[Skipped]) -> Path:
    # total: the judge's; late_penalty, seconds_late, score (after a person's grading and the penalty) and the
    # cells waiting for manual grading: the gradebook's, as nbgrader export computes them
    rows = [
        [
            "student",
            "total",
            *GRADED_FUNCTIONS,
            "status",
            "seconds",
            "sandboxed",
            "late_penalty",
            "seconds_late",
            "score",
            "needs_manual_grade",
        ]
    ]
    for result in sorted(results, key=lambda r: r.student):
        scores = {f.name: f.score for f in result.functions}
        graded = result.graded
        rows.append(
            [
                csv_cell(result.student),
                _number(result.total) if graded else "",
                *((_number(scores.get(name, 0.0)) if graded else "") for name in GRADED_FUNCTIONS),
                csv_cell(result.status),
                f"{result.seconds:.2f}",
                "yes" if result.sandboxed else "NO",
                *_standing_columns(result.standing if graded else None),
            ]
        )
    for folder in skipped:
        rows.append(
            [
                csv_cell(folder.name),
                "",
                *("" for _ in GRADED_FUNCTIONS),
                csv_cell(skipped_status(folder)),
                "",
                "",
                *_standing_columns(None),
            ]
        )
    text = _csv_text(rows)
    write_atomically(path, text.encode("utf-8"))
    return path


def _standing_columns(standing) -> list[str]:
    """late_penalty, seconds_late, score and the grade ids waiting for manual grading ("" when not graded)."""
    if standing is None:
        return ["", "", "", ""]
    return [
        _number(standing.late_penalty),
        f"{standing.seconds_late:.0f}",
        _number(standing.final),
        csv_cell(" ".join(standing.pending)),
    ]


def _csv_text(rows) -> str:

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
