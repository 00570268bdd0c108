"""Command line: ``python -m autograder grade | demo``.

Exit status 0 when the run completed (failed submissions are recorded, not fatal);
2 when the grader itself could not run, with a message saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import ASSIGNMENT, GRADED_FUNCTIONS
from .judge import Limits
from .pipeline import GradingError, RunSummary, Settings, db_url_from_config, default_assignment, run

SHORT_NAMES = {"layer_sizes": "sizes", "initialize_parameters": "init", "forward_propagation": "fwd",
               "compute_cost": "cost", "backward_propagation": "bwd", "update_parameters": "update",
               "nn_model": "model", "predict": "predict"}


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: one per core)")
    parser.add_argument("--cell-timeout", type=float, default=10.0,
                        help="seconds one student cell, or one function's test cases, may run (default 10)")
    parser.add_argument("--submission-timeout", type=float, default=120.0,
                        help="seconds one submission may take in all (default 120)")
    parser.add_argument("--regrade", action="store_true",
                        help="grade every submission again, not only those not yet graded")
    parser.add_argument("--no-feedback", action="store_true", help="skip nbgrader's feedback HTML")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels WITHOUT isolation (untrusted code then runs as you; flagged in the results)")
    parser.add_argument("--cold-kernels", action="store_true",
                        help="start every kernel from scratch instead of forking it from a warm process")
    parser.add_argument("--memory-limit", type=int, default=2048, metavar="MB",
                        help="address space of one sandboxed kernel (default 2048 MB)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade the planar-classification assignment with nbgrader.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade every submission under COURSE/submitted/*/ASSIGNMENT/")
    grade.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course directory (default: .)")
    grade.add_argument("--assignment", help="assignment id (default: the only one in source/)")
    grade.add_argument("--secret-file", type=Path,
                       help="file holding the secret that derives hidden cases (default: COURSE/.autograder/secret)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="grade on this Dask cluster instead of local worker processes")
    _add_grading_options(grade)
    demo = commands.add_parser("demo", help="grade a bundled demo class in build/demo")
    demo.add_argument("--dir", type=Path, default=Path("build") / "demo", help="where to build the demo course")
    _add_grading_options(demo)
    bench = commands.add_parser("bench", help="time stock nbgrader autograde against grade on a synthetic class")
    bench.add_argument("--students", type=int, default=20, help="class size (default 20)")
    bench.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers for grade")
    bench.add_argument("--dir", type=Path, default=Path("build") / "bench", help="where to build the classes")
    bench.add_argument("--skip-stock", action="store_true", help="time grade only")
    bench.add_argument("--no-sandbox", action="store_true", help="time grade without the sandbox")
    bench.add_argument("--variants", action="store_true",
                       help="instead: time grade with/without the sandbox and warm/cold kernels, side by side")
    return parser


def settings_from(args, course: Path, assignment: str | None) -> Settings:
    course = course.resolve()
    if not course.is_dir():
        raise GradingError(f"course directory {course} does not exist")
    assignment = assignment or default_assignment(course)
    if min(args.workers, args.cell_timeout, args.submission_timeout, args.memory_limit) <= 0:
        raise GradingError("--workers, --cell-timeout, --submission-timeout and --memory-limit must be positive")
    limits = {"memory_mb": args.memory_limit, "cpu_seconds": int(args.submission_timeout) + 60}
    return Settings(
        course_dir=course, assignment=assignment, db_url=db_url_from_config(course),
        workers=args.workers, limits=Limits(args.cell_timeout, args.submission_timeout),
        secret_file=getattr(args, "secret_file", None), regrade=args.regrade,
        feedback=not args.no_feedback, sandbox=None if args.no_sandbox else {"limits": limits},
        scheduler=getattr(args, "scheduler", None), warm_kernels=not args.cold_kernels,
    )


def grade_with_progress(settings: Settings, console: Console) -> RunSummary:
    with Progress(TextColumn("[bold]grading[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=False) as progress:
        task = progress.add_task("", total=None)

        def on_progress(event, done, total, result):
            if event == "start":
                progress.update(task, total=total)
            else:
                progress.update(task, completed=done, description=f"{result.student}: {result.total:g}")

        return run(settings, on_progress)


def _shown(path: Path) -> str:
    """A path relative to the current directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_summary(summary: RunSummary, settings: Settings, console: Console) -> None:
    table = Table(title=f"{settings.assignment}: {len(summary.results)} submissions", show_lines=False)
    table.add_column("student")
    table.add_column("total", justify="right")
    for name in GRADED_FUNCTIONS:
        table.add_column(SHORT_NAMES[name], justify="right")
    table.add_column("status")
    for result in sorted(summary.results, key=lambda r: r.student):
        scores = {f.name: f for f in result.functions}
        cells = []
        for name in GRADED_FUNCTIONS:
            function = scores[name]
            cells.append(f"[green]{function.score:g}[/]" if function.outcome == "passed" else f"[red]{function.score:g}[/]")
        status = result.status if result.status == "ok" else f"[yellow]{result.status}[/]"
        table.add_row(result.student, f"{result.total:g}", *cells, status)
    console.print(table)
    console.print(f"graded {summary.graded_now} submission(s) in {summary.seconds:.1f} s"
                  + (f"; {summary.resumed} were already graded (use --regrade to grade them again)"
                     if summary.resumed else ""))
    for folder, reason in summary.skipped:
        console.print(f"[yellow]skipped submitted/{folder}: {reason}[/]")
    if any(not r.sandboxed for r in summary.results):
        console.print("[bold red]warning: submissions were graded WITHOUT the sandbox[/]")
    console.print(f"grades:    {_shown(summary.csv_path)}")
    console.print(f"report:    {_shown(summary.csv_path.parent / 'summary.html')} (with score_histogram.png, "
                  "pass_rates.png)")
    database = settings.db_url.removeprefix("sqlite:///")
    console.print(f"gradebook: {_shown(Path(database)) if database != settings.db_url else settings.db_url}")
    feedback = settings.course_dir / "feedback"
    if settings.feedback:
        console.print(f"feedback:  {_shown(feedback)}" if summary.feedback_ok
                      else "[red]feedback: nbgrader generate_feedback failed; run it by hand to see why[/]")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=150)
    if args.command == "bench":
        from .bench import main as bench, variants

        if args.variants:
            return variants(args.students, args.workers, args.dir.resolve())
        return bench(args.students, args.workers, args.dir.resolve(), stock=not args.skip_stock,
                     sandbox=not args.no_sandbox)
    try:
        if args.command == "demo":
            from .demo import build_demo_course

            course = build_demo_course(args.dir)
            console.print(f"demo class built in {_shown(course)}")
            settings = settings_from(args, course, ASSIGNMENT)
        else:
            settings = settings_from(args, args.course, args.assignment)
        summary = grade_with_progress(settings, console)
    except GradingError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 2
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: grades recorded so far are kept; run again to resume")
        return 130
    print_summary(summary, settings, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
