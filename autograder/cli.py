"""Command line: ``python -m autograder grade | watch | demo | bench``.

Exit status: 0 when every submission was graded; 3 when some could not be graded
for a reason on the grader's side (they are listed; run again to grade exactly
those); 2 when the grader could not run at all, with a message saying why; 130
when interrupted (grades recorded so far are kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import ASSIGNMENT, GRADED_FUNCTIONS, SHORT_NAMES
from .course import CourseError, db_url_from_config, default_assignment
from .course import assignments as course_assignments
from .pipeline import RunSummary, run
from .results import Kind, Outcome
from .sandbox import SandboxLimits
from .settings import DEFAULT_WORKERS, GradingError, Limits, Settings, sandbox_limits
from .watch import LATE_WORK, POLICIES, WatchSettings

EXIT_OK, EXIT_GRADER, EXIT_NOT_GRADED, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_STATUS = (
    f"exit status: {EXIT_OK} when every submission was graded, whatever the submissions did; "
    f"{EXIT_NOT_GRADED} when some were not graded because of the grader (they are listed: run the same "
    f"command again to grade exactly those); {EXIT_GRADER} when the grader could not run, with a message "
    f"saying why; {EXIT_INTERRUPTED} when interrupted (grades recorded so far are kept)"
)


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="submissions graded at once (default: one per core)"
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=Limits.cell_timeout,
        help="CPU seconds one student cell, or one function's test cases, may use (default %(default)g)",
    )
    parser.add_argument(
        "--submission-timeout",
        type=float,
        default=Limits.submission_timeout,
        help="CPU seconds one submission may use in all (default %(default)g)",
    )
    parser.add_argument(
        "--regrade",
        action="store_true",
        help="grade again what is already graded (all, or the --student ones; watch grades each new submission anyway)",
    )
    parser.add_argument("--no-feedback", action="store_true", help="skip the students' feedback pages")
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels WITHOUT isolation (untrusted code then runs as you; flagged in the results)",
    )
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel from scratch instead of forking it from a warm process",
    )
    parser.add_argument(
        "--memory-limit",
        type=int,
        default=SandboxLimits.memory_mb,
        metavar="MB",
        help="address space of one sandboxed kernel (default %(default)d MB)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description="Grade the planar-classification assignment with nbgrader."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser(
        "grade", help="grade every submission under COURSE/submitted/*/ASSIGNMENT/", epilog=EXIT_STATUS
    )
    grade.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course directory (default: .)")
    grade.add_argument(
        "--assignment", help="assignment id (default: the only one in source/, or else the only one with submissions)"
    )
    grade.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="grade only this student: an id or a pattern as nbgrader takes them ('z*'; repeat for several)",
    )
    grade.add_argument(
        "--secret-file",
        type=Path,
        help="file holding the secret that derives hidden cases (default: COURSE/.autograder/secret)",
    )
    grade.add_argument(
        "--stats",
        type=Path,
        metavar="FILE",
        help="write the run's timings and peak memory as JSON to FILE (bench reads it)",
    )
    _add_cluster_options(grade)
    _add_grading_options(grade)
    watch = commands.add_parser(
        "watch", help="grade each submission as it reaches the exchange and release its feedback (a service)"
    )
    watch.add_argument("--course", type=Path, default=Path("."), help="the nbgrader course directory (default: .)")
    watch.add_argument(
        "--assignment",
        action="append",
        metavar="ID",
        help="watch this assignment (repeat for several; default: every assignment in source/)",
    )
    watch.add_argument(
        "--limit",
        type=int,
        default=WatchSettings.limit,
        help="gradings per student in any window (default %(default)d)",
    )
    watch.add_argument(
        "--window",
        type=float,
        default=WatchSettings.window,
        metavar="SECONDS",
        help="the rate limit's window (default %(default)g)",
    )
    watch.add_argument(
        "--policy",
        choices=POLICIES,
        default=WatchSettings.policy,
        help="which submission the gradebook keeps: the latest, as nbgrader does (default), or the best",
    )
    watch.add_argument(
        "--late",
        choices=LATE_WORK,
        default=WatchSettings.late,
        help="work after the due date (nbgrader's, with extensions): grade it with the late penalty (default), "
        "or keep it ungraded as collect --before-duedate does",
    )
    watch.add_argument(
        "--interval",
        type=float,
        default=WatchSettings.interval,
        metavar="SECONDS",
        help="between looks at the exchange (default %(default)g)",
    )
    watch.add_argument("--status", action="store_true", help="print the service's queue and stop")
    _add_cluster_options(watch)
    _add_grading_options(watch)
    demo = commands.add_parser("demo", help="grade a bundled demo class in build/demo")
    demo.add_argument("--dir", type=Path, default=Path("build") / "demo", help="where to build the demo course")
    _add_grading_options(demo)
    bench = commands.add_parser("bench", help="time stock nbgrader autograde against grade on a synthetic class")
    bench.add_argument("--students", type=int, default=12, help="class size (default 12)")
    bench.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="workers for grade")
    bench.add_argument("--dir", type=Path, default=Path("build") / "bench", help="where to build the classes")
    bench.add_argument("--skip-stock", action="store_true", help="time grade only")
    bench.add_argument("--no-sandbox", action="store_true", help="time grade without the sandbox")
    bench.add_argument(
        "--variants",
        action="store_true",
        help="instead: time grade with/without the sandbox and warm/cold kernels, side by side",
    )
    bench.add_argument(
        "--scaling", action="store_true", help="instead: time grade alone on classes of growing size, with peak memory"
    )
    bench.add_argument(
        "--watch",
        action="store_true",
        help="instead: seconds from a submission reaching the exchange to its feedback (watch), one and 50 at once",
    )
    bench.add_argument(
        "--burst",
        type=int,
        metavar="N",
        help="with --watch: a deadline rush instead, N students submitting within a minute (none lost, each "
        "graded once, in arrival order, memory flat)",
    )
    bench.add_argument(
        "--notebook",
        action="store_true",
        help="instead: Run All of the student's notebook against a plain-numpy training, in one run",
    )
    bench.add_argument(
        "--floor",
        action="store_true",
        help="instead: grade against the same work in plain processes (no kernel, sandbox, gradebook or pages)",
    )
    bench.add_argument(
        "--submission",
        action="store_true",
        help="instead: CPU per submission on one warm worker (machine, worker, kernel), with and without its page",
    )
    bench.add_argument(
        "--paths",
        action="store_true",
        help="instead: one submission by each path to a grade (grade, nbgrader autograde, formgrader's button)",
    )
    bench.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[12, 48, 192],
        metavar="N",
        help="class sizes for --scaling (default: 12 48 192)",
    )
    return parser


def _add_cluster_options(command) -> None:
    """A Dask cluster to grade on, with the same TLS rules for every command that grades."""
    command.add_argument(
        "--scheduler",
        metavar="tls://HOST:PORT",
        help="grade on this Dask cluster instead of local worker processes (TLS with client "
        "certificates: --tls-* or Dask's distributed.comm.tls configuration)",
    )
    command.add_argument("--tls-ca-file", type=Path, help="the CA certificate the cluster's certificates are signed by")
    command.add_argument("--tls-cert", type=Path, help="this client's certificate (PEM)")
    command.add_argument(
        "--tls-key", type=Path, help="this client's private key (PEM; omit if in the certificate file)"
    )
    command.add_argument(
        "--insecure-scheduler",
        action="store_true",
        help="allow a tcp:// scheduler: anyone who can reach it runs code on its workers",
    )


def settings_from(args, course: Path, assignment: str | None) -> Settings:
    course = course.resolve()
    if not course.is_dir():
        raise GradingError(f"course directory {course} does not exist")
    try:
        assignment = assignment or default_assignment(course)
        db_url = db_url_from_config(course)
    except CourseError as error:
        raise GradingError(str(error)) from error
    if min(args.workers, args.cell_timeout, args.submission_timeout, args.memory_limit) <= 0:
        raise GradingError("--workers, --cell-timeout, --submission-timeout and --memory-limit must be positive")
    limits = Limits(args.cell_timeout, args.submission_timeout)
    students = tuple(getattr(args, "student", None) or ()) or None
    scheduler = getattr(args, "scheduler", None)
    security = _security(args) if scheduler else None
    return Settings(
        course_dir=course,
        assignment=assignment,
        db_url=db_url,
        workers=args.workers,
        limits=limits,
        secret_file=getattr(args, "secret_file", None),
        regrade=args.regrade,
        students=students,
        feedback=not args.no_feedback,
        sandbox=None if args.no_sandbox else sandbox_limits(limits, args.memory_limit),
        scheduler=scheduler,
        security=security,
        warm_kernels=not args.cold_kernels,
    )


def _security(args):
    """The TLS settings for a Dask scheduler; an unencrypted one is refused unless asked for."""
    if args.scheduler.startswith("tcp://") or "://" not in args.scheduler:
        if not args.insecure_scheduler:
            raise GradingError(
                f"refusing the unencrypted scheduler {args.scheduler}: anyone who can reach it can "
                "run code on its workers. Start the cluster with TLS and client certificates and "
                "pass tls://... with --tls-ca-file, --tls-cert and --tls-key (see docs/instructors.md), or "
                "--insecure-scheduler for a cluster nobody else can reach"
            )
        return None
    if not args.tls_ca_file and not args.tls_cert:
        return None  # Dask's own configuration (distributed.comm.tls.*) provides them
    from distributed.security import Security

    for path in (args.tls_ca_file, args.tls_cert, args.tls_key):
        if path is not None and not path.is_file():
            raise GradingError(f"no such certificate or key file: {path}")
    return Security(
        tls_ca_file=str(args.tls_ca_file) if args.tls_ca_file else None,
        tls_client_cert=str(args.tls_cert) if args.tls_cert else None,
        tls_client_key=str(args.tls_key) if args.tls_key else None,
        require_encryption=True,
    )


def grade_with_progress(settings: Settings, console: Console) -> RunSummary:
    with Progress(
        TextColumn("[bold]grading[/]"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=not console.is_terminal,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_progress(event, done, total, result):
            if event == "start":
                progress.update(task, total=total)
            else:
                shown = f"{result.total:g}" if result.graded else "not graded"
                progress.update(task, completed=done, description=escape(f"{result.student[:20]}: {shown}"))

        return run(settings, on_progress)


def _shown(path: Path) -> str:
    """A path relative to the current directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# One or two words per kind of problem, for the table; the whole status is printed below it.
SHORT = {
    Kind.NOT_GRADED: "NOT GRADED",
    Kind.UNVERIFIED: "UNVERIFIED",
    Kind.NOT_ATTEMPTED: "not attempted",
    Kind.MALFORMED: "malformed",
    Kind.MISSING_NOTEBOOK: "no notebook",
    Kind.MISNAMED: "misnamed",
    Kind.FILES_NOT_READ: "files skipped",
    Kind.TIMEOUT: "timeout",
    Kind.KERNEL_DIED: "kernel died",
    Kind.MEMORY: "memory limit",
    Kind.PROTOCOL: "protocol",
    Kind.TESTS_CHANGED: "tests edited",
    Kind.MACHINERY: "tampering?",
    Kind.VISIBLE_ONLY: "visible only",
}


def short_status(result) -> str:
    """One or two words for the table (its first kind of problem, and how many more)."""
    words = list(dict.fromkeys(SHORT[p.kind] for p in result.problems))
    if not words:
        return "ok"
    return words[0] + (f" +{len(words) - 1}" if len(words) > 1 else "")


def _gradebook_side(student: str, standing) -> str:
    """One student's score as the gradebook has it: "ana 74.4/110 (late -18.6, 1 cell to grade by hand)"."""
    notes = [f"late -{standing.late_penalty:g}"] if standing.seconds_late else []
    if standing.pending:
        notes.append(f"{len(standing.pending)} cell{'' if len(standing.pending) == 1 else 's'} to grade by hand")
    return f"{student} {standing.final:g}/{standing.max_score:g}" + (f" ({', '.join(notes)})" if notes else "")


def print_summary(summary: RunSummary, settings: Settings, console: Console) -> None:
    """The class at a glance, readable at 80 columns; every status in full below the table."""
    results = sorted(summary.results, key=lambda r: r.student)
    table = Table(
        title=escape(f"{settings.assignment}: {len(results)} submissions"),
        box=None,
        padding=(0, 1),
        pad_edge=False,
        title_justify="left",
    )
    table.add_column("student", overflow="ellipsis", no_wrap=True, max_width=14)
    table.add_column("total", justify="right", no_wrap=True)
    for name in GRADED_FUNCTIONS:
        table.add_column(SHORT_NAMES[name], justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    notes = []
    for result in results:
        cells = []
        for function in result.functions:
            if not result.graded:
                cells.append(Text("-", style="dim"))
            else:
                cells.append(
                    Text(f"{function.score:g}", style="green" if function.outcome == Outcome.PASSED else "red")
                )
        status = short_status(result)
        if result.problems:
            notes.append((result.student, result.status))
            status = f"[{len(notes)}] {status}"  # the number first: a long status is cut at its end
        style = "green" if status == "ok" else "bold red" if not result.graded else "yellow"
        table.add_row(
            Text(result.student), Text(f"{result.total:g}" if result.graded else "-"), *cells, Text(status, style=style)
        )
    console.print(table)
    console.print(
        Text("  ".join(f"{short}={name}" for name, short in SHORT_NAMES.items()), style="dim"), overflow="fold"
    )
    for number, (student, status) in enumerate(notes, start=1):
        console.print(Text(f"[{number}] {student}: {status}"), soft_wrap=True)
    for folder in summary.skipped:
        console.print(Text(f"skipped submitted/{folder.name}: {folder.reason}", style="yellow"), soft_wrap=True)
    beside = [r for r in results if r.graded and r.standing is not None and r.standing.shown]
    if beside:  # what the gradebook adds to the judge's totals: lateness, a person's grading
        console.print(
            Text("in the gradebook: " + "; ".join(_gradebook_side(r.student, r.standing) for r in beside)),
            soft_wrap=True,
        )
    graded_now = summary.graded_now
    console.print(
        Text(
            f"graded {graded_now} submission(s) in {summary.seconds:.1f} s"
            + (f"; {summary.resumed} were already graded (--regrade grades them again)" if summary.resumed else "")
        ),
        soft_wrap=True,
    )
    not_graded = summary.not_graded
    if not_graded:
        console.print(
            Text(
                f"{len(not_graded)} submission(s) NOT GRADED because of the grader, not the student "
                "(see above); nothing was recorded for them. Run the same command again to grade "
                "exactly those.",
                style="bold red",
            ),
            soft_wrap=True,
        )
    if any(not r.sandboxed for r in results):
        console.print("[bold red]warning: submissions were graded WITHOUT the sandbox[/]")
    console.print(f"grades:    {escape(_shown(summary.csv_path))}", soft_wrap=True)
    console.print(f"report:    {escape(_shown(summary.report_path))}", soft_wrap=True)
    database = settings.db_url.removeprefix("sqlite:///")
    shown = _shown(Path(database)) if database != settings.db_url else settings.db_url.split("@")[-1]
    console.print(f"gradebook: {escape(shown)}", soft_wrap=True)
    if settings.feedback:
        console.print(f"feedback:  {escape(_shown(settings.course.folder('feedback')))}", soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(highlight=False)
    if args.command == "bench":
        from .simulated.bench import floor, notebook, paths, scaling, submission, variants
        from .simulated.bench import main as bench
        from .simulated.bench import watch as watch_bench

        if args.variants:
            return variants(args.students, args.workers, args.dir.resolve())
        if args.scaling:
            return scaling(args.workers, args.dir.resolve(), tuple(args.sizes))
        if args.paths:
            return paths(args.dir.resolve())
        if args.submission:
            return submission(args.students, args.dir.resolve())
        if args.floor:
            return floor(args.students, args.workers, args.dir.resolve())
        if args.notebook:
            return notebook()
        if args.watch:
            return watch_bench(args.dir.resolve(), rush=args.burst)
        return bench(
            args.students, args.workers, args.dir.resolve(), stock=not args.skip_stock, sandbox=not args.no_sandbox
        )
    if args.command == "watch":
        return watch(args, console)
    try:
        if args.command == "demo":
            from .simulated.demo import build_demo_course

            course = build_demo_course(args.dir)
            console.print(f"demo class built in {escape(_shown(course))}")
            settings = settings_from(args, course, ASSIGNMENT)
        else:
            settings = settings_from(args, args.course, args.assignment)
        summary = grade_with_progress(settings, console)
    except GradingError as error:
        console.print(Text("error: ", style="bold red") + Text(str(error)), soft_wrap=True)
        return EXIT_GRADER
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: grades recorded so far are kept; run again to resume")
        return EXIT_INTERRUPTED
    print_summary(summary, settings, console)
    if getattr(args, "stats", None):
        write_stats(args.stats, summary)
    return EXIT_NOT_GRADED if summary.not_graded else EXIT_OK


def watch(args, console: Console) -> int:
    from .watch import Watcher, exchange_of, print_status

    if args.status:
        return print_status(args.course.resolve())
    try:
        course = args.course.resolve()
        source, names = course_assignments(course)
        assignments = tuple(args.assignment or names)
        if not assignments:
            raise GradingError(f"no assignment in {source}")
        if min(args.limit, args.window, args.interval) <= 0 or args.policy not in POLICIES:
            raise GradingError("--limit, --window and --interval must be positive")
        settings = settings_from(args, course, assignments[0])
        exchange, course_id, check_owner = exchange_of(course)
        if not (exchange / course_id / "inbound").is_dir():
            raise GradingError(
                f"no inbound folder {exchange / course_id / 'inbound'}: release an assignment first "
                "(nbgrader release_assignment), or set c.Exchange.root in nbgrader_config.py"
            )
    except GradingError as error:
        console.print(Text("error: ", style="bold red") + Text(str(error)), soft_wrap=True)
        return EXIT_GRADER
    return Watcher(
        WatchSettings(
            settings,
            assignments,
            exchange,
            course_id,
            args.limit,
            args.window,
            args.policy,
            args.interval,
            check_owner=check_owner,
            late=args.late,
        )
    ).serve()


def write_stats(path: Path, summary: RunSummary) -> None:
    """The run's own account: seconds per phase, submissions graded, the main process's peak memory."""
    import json
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path.write_text(
        json.dumps(
            {"timings": summary.timings, "graded": summary.graded_now, "seconds": summary.seconds, "peak_mb": peak_mb},
            indent=1,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
