"""Reports next to the grades CSV: a score histogram, pass rates per function, a summary page.

Everything a student can influence (ids, statuses, messages quoting their errors)
is escaped in the HTML.
"""

from __future__ import annotations

import html
import os
import statistics
from pathlib import Path

from . import GRADED_FUNCTIONS
from .judge import SubmissionResult

SLOWEST = 10


def pass_rates(results: list[SubmissionResult]) -> dict[str, float]:
    """Fraction of submissions in which each function passed."""
    if not results:
        return dict.fromkeys(GRADED_FUNCTIONS, 0.0)
    passed = {name: 0 for name in GRADED_FUNCTIONS}
    for result in results:
        for function in result.functions:
            passed[function.name] += function.outcome == "passed"
    return {name: passed[name] / len(results) for name in GRADED_FUNCTIONS}


def class_statistics(results: list[SubmissionResult]) -> dict[str, float]:
    totals = [r.total for r in results]
    if not totals:
        return {"submissions": 0}
    return {"submissions": len(totals), "mean": statistics.fmean(totals), "median": statistics.median(totals),
            "min": min(totals), "max": max(totals),
            "stdev": statistics.pstdev(totals), "full marks": sum(t == 100 for t in totals),
            "incomplete": sum(r.status != "ok" for r in results)}


def _plots(folder: Path, results: list[SubmissionResult], rates: dict[str, float]) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    histogram = folder / "score_histogram.png"
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist([r.total for r in results], bins=range(0, 106, 5), color="tab:blue", edgecolor="white")
    ax.set_xlabel("total score")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(f"Scores of {len(results)} submissions")
    fig.tight_layout()
    fig.savefig(histogram, dpi=100)
    plt.close(fig)

    chart = folder / "pass_rates.png"
    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(GRADED_FUNCTIONS)[::-1]
    values = [rates[name] * 100 for name in names]
    bars = ax.barh(names, values, color="tab:green")
    ax.bar_label(bars, labels=[f"{v:.0f} %" for v in values], padding=3)
    ax.set_xlim(0, 110)
    ax.set_xlabel("submissions passing (%)")
    ax.set_title("Pass rate per graded function")
    fig.tight_layout()
    fig.savefig(chart, dpi=100)
    plt.close(fig)
    return histogram, chart


def _feedback_link(folder: Path, feedback_dir: Path, student: str, assignment: str) -> str:
    target = feedback_dir / student / assignment / f"{assignment}.html"
    if not target.exists():
        return "-"
    return f'<a href="{html.escape(os.path.relpath(target, folder))}">feedback</a>'


def write_reports(folder: Path, results: list[SubmissionResult], feedback_dir: Path, assignment: str) -> Path:
    """Write the PNG charts and summary.html into ``folder``; return the HTML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    rates = pass_rates(results)
    stats = class_statistics(results)
    histogram, chart = _plots(folder, results, rates) if results else (None, None)
    e = html.escape
    rows_stats = "".join(f"<tr><th>{e(k)}</th><td>{round(v, 1):g}</td></tr>" for k, v in stats.items())
    rows_rates = "".join(f"<tr><td>{e(name)}</td><td>{rates[name] * 100:.0f} %</td></tr>" for name in GRADED_FUNCTIONS)

    def problems(result):
        """Points lost per function; a problem of the whole submission is in its status only."""
        return [f"{f.name}: {f.message or f.outcome}" for f in result.functions
                if f.outcome != "passed" and f.message != result.status]

    failing = [r for r in sorted(results, key=lambda r: (r.total, r.student)) if r.status != "ok" or problems(r)]
    rows_failing = "".join(
        f"<tr><td>{e(r.student)}</td><td>{r.total:g}</td><td>{e(r.status)}</td>"
        f"<td>{'<br>'.join(e(p[:300]) for p in problems(r))}</td>"
        f"<td>{_feedback_link(folder, feedback_dir, r.student, assignment)}</td></tr>" for r in failing)
    slowest = sorted(results, key=lambda r: -r.seconds)[:SLOWEST]
    rows_slow = "".join(f"<tr><td>{e(r.student)}</td><td>{r.seconds:.1f} s</td><td>{e(r.status)}</td></tr>"
                        for r in slowest)
    rows_all = "".join(
        f"<tr><td>{e(r.student)}</td><td>{r.total:g}</td>"
        f"<td>{_feedback_link(folder, feedback_dir, r.student, assignment)}</td></tr>"
        for r in sorted(results, key=lambda r: r.student))
    images = (f'<img src="{histogram.name}" alt="score histogram"> <img src="{chart.name}" alt="pass rates">'
              if histogram else "<p>No submissions.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(assignment)}: grading summary</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}}img{{max-width:48%}}</style></head>
<body><h1>{e(assignment)}: grading summary</h1>
<h2>Class</h2><table>{rows_stats}</table>
{images}
<h2>Pass rate per function</h2><table><tr><th>function</th><th>passing</th></tr>{rows_rates}</table>
<h2>Incomplete or failing submissions ({len(failing)})</h2>
<table><tr><th>student</th><th>total</th><th>status</th><th>points lost</th><th></th></tr>{rows_failing}</table>
<h2>Slowest submissions</h2><table><tr><th>student</th><th>time</th><th>status</th></tr>{rows_slow}</table>
<h2>All submissions</h2><table><tr><th>student</th><th>total</th><th></th></tr>{rows_all}</table>
<p>Grades as CSV: <a href="grades.csv">grades.csv</a></p>
</body></html>
"""
    path = folder / "summary.html"
    path.write_text(page, encoding="utf-8")
    return path
