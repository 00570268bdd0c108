"""Feedback on submit: a service that grades each submission as it reaches the exchange.

``python -m autograder watch`` runs beside the course (the instructor's machine, or a
JupyterHub service). It looks at the exchange's inbound folder as soon as something arrives
there (``Arrivals``: inotify, or every ``--interval`` seconds where there is none), as ``nbgrader
collect`` would, reading it as hostile input (``autograder.exchange``), and for each new
submission, in the order they came:

1. collects it into ``submitted/<student>/<assignment>/`` (as ``collect --update`` does);
2. hands it at once to the assignment's warm grading session (``pipeline.Session``: the worker
   processes with the zygote and their reference processes, the proven sandbox, the open gradebook,
   started with the first submission and kept between rounds), which grades it with the judge;
3. releases its feedback into the exchange under the submission's own name, as
   ``release_feedback`` does, so ``nbgrader fetch_feedback`` (and JupyterLab's
   Assignments tab) shows it within seconds.

A student gets at most ``limit`` gradings in any ``window`` seconds: a submission over
the limit is kept, a page saying when it will be graded is released in its place, and
it is graded when its turn comes. Which submission counts is the instructor's choice:
the latest, as nbgrader does, or the best so far.

Nothing is lost and nothing is graded twice, whatever stops the service: the gradebook
is the record of what is graded (a submission recorded there is only released, never
graded again), and a journal beside it (``.autograder/watch/journal.jsonl``) keeps
which submissions are done and when, for the rate limit. A grader fault leaves the
submission pending ("not graded", retried on a later round), never a zero; a worker that dies
or hangs is replaced and the submission it held graded again. One submission of a student is
graded at a time, so the gradebook records them in order. SIGTERM lets the gradings under way
finish and stops.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import errno
import html
import json
import os
import shutil
import signal
import time
from pathlib import Path

from nbgrader.utils import notebook_hash, parse_utc

from . import exchange
from .course import STATE_DIR, Course, load_config
from .grading import wording
from .intake import printable, student_id_problem
from .pipeline import Session
from .results import write_atomically
from .sandbox import processes
from .sanitize import with_csp
from .settings import GradingError, Settings

DEFAULT_EXCHANGE = "/usr/local/share/nbgrader/exchange"
POLICIES = ("latest", "best")
LATE_WORK = ("grade", "keep")  # after the due date: graded with nbgrader's late penalty, or kept ungraded
QUEUED_MARK = "<!-- autograder: queued -->"
MAX_FOLDERS_PER_ACCOUNT = 100  # of one account's folders in the inbound, the newest are looked at each round
MAX_REFUSALS = 1000  # refused folders journaled and logged per account; past them, only skipped
UNFINISHED_AFTER = 600.0  # seconds a folder may go without its timestamp.txt before it is refused
GRADER_SIDE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM)  # never the student's doing


@dataclasses.dataclass(frozen=True)
class Inbound:
    """One submission in the exchange's inbound folder, as ``nbgrader submit`` left it."""

    student: str
    assignment: str
    when: datetime.datetime  # when it was submitted (from the folder's name)
    folder: Path
    timestamp: str  # the text of its timestamp.txt: what names the submission (intake.submission_name)
    secret: str  # its submission_secret.txt: what names its feedback in the exchange
    inode: tuple[int, int] | None = None  # the folder that was checked (collect reads that one, or none)

    @property
    def identity(self) -> str:
        return f"timestamp:{self.timestamp}"


@dataclasses.dataclass
class WatchSettings:
    """What the service is asked to do; the grading itself is ``grading`` (``grade``'s settings)."""

    grading: Settings
    assignments: tuple[str, ...]
    exchange: Path
    course_id: str
    limit: int = 4  # gradings per student ...
    window: float = 3600.0  # ... in any window of this many seconds
    policy: str = "latest"  # or "best"
    interval: float = 2.0  # seconds between looks at the exchange
    check_owner: bool = True  # a folder is graded only if its owner is the student it names (nbgrader's option)
    late: str = "grade"  # work after the due date: "grade" (with the late penalty) or "keep" (ungraded)
    log: Path | None = None  # the event log (default: .autograder/watch/watch.log)

    @property
    def state(self) -> Path:
        return self.grading.course_dir / STATE_DIR / "watch"

    @property
    def inbound(self) -> Path:
        return self.exchange / self.course_id / "inbound"

    @property
    def outbound_feedback(self) -> Path:
        return self.exchange / self.course_id / "feedback"


def exchange_of(course_dir: Path) -> tuple[Path, str, bool]:
    """The exchange folder, the course id and ``check_owner`` (``ExchangeCollect``'s, or ``CollectApp``'s, as
    ``nbgrader collect`` reads it) of the course's nbgrader_config.py (nbgrader's defaults)."""
    config = load_config(course_dir)
    root = config.get("Exchange", {}).get("root", DEFAULT_EXCHANGE)
    course_id = config.get("CourseDirectory", {}).get("course_id", "")
    if not course_id:
        raise GradingError("nbgrader_config.py sets no c.CourseDirectory.course_id: the exchange needs one")
    check_owner = config.get("ExchangeCollect", {}).get(
        "check_owner", config.get("CollectApp", {}).get("check_owner", True)
    )
    return Path(root), course_id, bool(check_owner)


class Journal:
    """What the service did, one JSON line per event, appended and flushed to the disk as it happens."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.entries: list[dict] = []
        self._unwritten: list[dict] = []
        self._of: dict[tuple, list[dict]] = {}  # (assignment, student) -> their graded and kept-late entries
        self._refused: set[str] = set()
        self._restoring: set[tuple] = set()
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    self._index(json.loads(line))
                except (ValueError, TypeError, AttributeError):
                    continue  # a line cut by a crash

    def _index(self, entry: dict) -> None:
        """Keep an entry, found by student when it is a grading (every round asks, for every student)."""
        if entry.get("event") in ("graded", "kept late"):
            self._of.setdefault((entry.get("assignment"), entry.get("student")), []).append(entry)
        elif entry.get("event") == "refused" and isinstance(entry.get("folder"), str):
            self._refused.add(entry["folder"])
        elif entry.get("event") == "restoring":
            self._restoring.add((entry.get("assignment"), entry.get("student")))
        elif entry.get("event") == "restored":
            self._restoring.discard((entry.get("assignment"), entry.get("student")))
        self.entries.append(entry)

    def add(self, sync: bool = True, **entry) -> None:
        """Journal an event, on the disk before this returns (``sync``), or with the next ``flush``."""
        entry["at"] = time.time()
        self._index(entry)
        self._unwritten.append(entry)
        if sync:
            self.flush()

    def flush(self) -> None:
        """Write what is journaled and not yet on the disk, in one append."""
        if not self._unwritten:
            return
        with self.path.open("a", encoding="utf-8") as handle:  # ASCII: a folder name of undecodable bytes too
            handle.write("".join(json.dumps(entry) + "\n" for entry in self._unwritten))
            handle.flush()
            os.fsync(handle.fileno())
        self._unwritten.clear()

    def done(self, assignment: str, student: str) -> set[str]:
        """The submissions of a student that were graded and released, or kept ungraded as late."""
        return {e["identity"] for e in self._of.get((assignment, student), ())}

    def gradings_since(self, assignment: str, student: str, since: float) -> list[float]:
        return sorted(
            e["at"] for e in self._of.get((assignment, student), ()) if e.get("event") == "graded" and e["at"] >= since
        )

    def unrestored(self) -> list[tuple[str, str]]:
        """(assignment, student) whose best submission is being put back and graded again, not yet done."""
        return sorted(self._restoring)

    def refused(self) -> set[str]:
        """The folders of the exchange that were quarantined."""
        return self._refused

    def best(self, assignment: str, student: str) -> dict | None:
        """The best graded submission of a student so far (the earliest of equal totals)."""
        graded = [e for e in self._of.get((assignment, student), ()) if e.get("event") == "graded"]
        return max(graded, key=lambda e: (e["total"], -e["at"]), default=None)


GRADING_MARK = "<!-- autograder: grading -->"
REPORTS_AFTER = 1.0  # seconds of no grading before the reports are written
STATUS_EVERY = 10.0  # seconds: the status file is written at least this often, and whenever the queue changes
FIRST_ESTIMATE = 10.0  # seconds from "seen" to feedback until the journal has gradings: the first starts the workers


class Watcher:
    def __init__(self, settings: WatchSettings):
        self.settings = settings
        self.journal = Journal(settings.state / "journal.jsonl")
        self.log_path = settings.log or settings.state / "watch.log"
        self.stopping = False
        self.retry_after: dict[tuple[str, str], float] = {}  # (assignment, identity) -> when to try again
        self.queued_pages: set[str] = set()  # identities whose "queued" page is out
        self.unfinished: dict[str, float] = {}  # folders without their timestamp.txt yet -> when first seen
        self.accepted: dict[str, tuple] = {}  # folder -> (its stat when read, its Inbound): not read again each look
        self.refusals = collections.Counter(  # refused folders of each account, journaled (MAX_REFUSALS at most)
            e.get("account") for e in self.journal.entries if e.get("event") == "refused"
        )
        self.skipped: set[str] = set()  # refused folders of accounts past MAX_REFUSALS: not journaled, not looked at
        self.crowded: set = set()  # accounts (or students) with more folders than are looked at, logged once
        self.started: dict[str, float] = {}  # identity -> when its grading started (for the next estimates)
        self.sessions: dict[str, Session] = {}  # assignment -> its warm grading session, kept between rounds
        self.retry_open: dict[str, float] = {}  # assignment -> when to try starting its session again
        self.in_flight: dict[tuple[str, str], Inbound] = {}  # (assignment, student) -> the submission being graded
        self.restoring: dict[tuple[str, str], bool] = {}  # (assignment, student): the best, queued to be graded again
        self.restore_after: dict[tuple[str, str], float] = {}  # a restore that failed: tried again after this time
        self._status = None  # the queue last written, and when
        self.reports_due: dict[str, float] = {}  # assignment -> since when its session is idle, reports not written

    # -- what is in the exchange ------------------------------------------------------------------
    def inbound(self) -> list[Inbound]:
        """Every acceptable submission of the watched assignments, oldest first. The exchange is hostile input
        (see ``autograder.exchange``): a folder that is refused is quarantined, with one log line, for good."""
        found = []
        try:
            entries = list(os.scandir(self.settings.inbound))
        except OSError:
            return []
        now = time.time()
        present = {entry.name for entry in entries}
        self.unfinished = {name: when for name, when in self.unfinished.items() if name in present}
        self.skipped &= present
        self.accepted = {name: seen for name, seen in self.accepted.items() if name in present}
        refused = self.journal.refused() | self.skipped
        try:
            for entry in self._looked_at(entries, refused):
                parts = entry.name.rsplit("+", 3)
                student, assignment = parts[0], parts[1]
                try:
                    info = entry.stat(follow_symlinks=False)  # from the scan: no further system call
                    key = (info.st_dev, info.st_ino, info.st_uid, info.st_mtime_ns)
                    seen = self.accepted.get(entry.name)
                    if seen is None or seen[0] != key:  # read once, while the folder stays as it was
                        seen = self.accepted[entry.name] = (
                            key,
                            self._read_inbound(entry, student, assignment, parts[2]),
                        )
                    found.append(seen[1])
                    self.unfinished.pop(entry.name, None)
                except exchange.NotYet as why:  # nbgrader submit writes timestamp.txt and the secret last
                    if now - self.unfinished.setdefault(entry.name, now) > UNFINISHED_AFTER:
                        self.quarantine(
                            entry, f"never finished ({why} after {UNFINISHED_AFTER / 60:g} minutes)", student
                        )
                except exchange.Unacceptable as why:
                    self.quarantine(entry, str(why), student)
                except OSError as error:  # gone, or unreadable for now: looked at again next round
                    if error.errno not in (errno.ENOENT, errno.EACCES, errno.EPERM):
                        why = f"cannot be read ({errno.errorcode.get(error.errno, error.errno)})"
                        self.quarantine(entry, why, student)
        finally:
            self.journal.flush()  # the round's refusals, in one write
        return sorted(found, key=lambda s: (s.when, s.student))

    def _looked_at(self, entries: list[os.DirEntry], refused: set[str]) -> list[os.DirEntry]:
        """The folders of the watched assignments worth a look this round: not refused, and of one account (or,
        when owners are not checked, of one student) only the newest ``MAX_FOLDERS_PER_ACCOUNT``, so no account
        can slow the service down for the others by filling the inbound folder."""
        by_account: dict = {}
        for entry in entries:
            parts = entry.name.rsplit("+", 3) if "+" in entry.name else []
            if len(parts) < 3 or entry.name in refused or parts[1] not in self.settings.assignments:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            account = info.st_uid if self.settings.check_owner else parts[0]
            by_account.setdefault(account, []).append((info.st_mtime, entry.name, entry))
        chosen = []
        for account, folders in by_account.items():
            if len(folders) > MAX_FOLDERS_PER_ACCOUNT and account not in self.crowded:
                self.crowded.add(account)
                self.log(
                    f"{len(folders)} folders in the exchange of one {'account' if self.settings.check_owner else 'student'}"
                    f" ({printable(str(account))}): only the newest {MAX_FOLDERS_PER_ACCOUNT} are looked at"
                )
            chosen += [entry for _, _, entry in sorted(folders, key=lambda f: f[:2])[-MAX_FOLDERS_PER_ACCOUNT:]]
        return chosen

    def _read_inbound(self, entry: os.DirEntry, student: str, assignment: str, stamp: str) -> Inbound:
        if student_id_problem(student):
            raise exchange.Unacceptable(f"not a student id ({student_id_problem(student)})")
        try:
            when = parse_utc(stamp)
        except (ValueError, TypeError, OverflowError):
            raise exchange.Unacceptable("the folder's name holds no nbgrader timestamp") from None
        folder_fd = exchange.open_folder(Path(entry.path))
        try:
            if self.settings.check_owner:
                exchange.check_owner(folder_fd, student)
            timestamp = exchange.read_text(folder_fd, "timestamp.txt", exchange.TIMESTAMP)
            secret = exchange.read_text(folder_fd, "submission_secret.txt", exchange.SECRET)
            inode = exchange.identity(folder_fd)
        finally:
            os.close(folder_fd)
        try:
            parse_utc(timestamp)
        except (ValueError, TypeError, OverflowError):
            raise exchange.Unacceptable("timestamp.txt holds no time nbgrader could have written") from None
        return Inbound(student, assignment, when, Path(entry.path), timestamp, secret, inode)

    def quarantine(self, entry, why: str, student: str) -> None:
        """A folder of the exchange that is never graded: journaled (so a restart does not look at it again)
        and logged once, in words of the grader's (the folder's name printable, its content never shown).
        An account (or, when owners are not checked, a student) gets ``MAX_REFUSALS`` such lines; past them its
        refused folders are only skipped, so nobody can grow the journal and the log without bound."""
        name = entry if isinstance(entry, str) else entry.name
        account = self._account(entry, student)
        self.refusals[account] += 1
        if self.refusals[account] > MAX_REFUSALS:
            self.skipped.add(name)
            if self.refusals[account] == MAX_REFUSALS + 1:
                self.log(f"refused more than {MAX_REFUSALS} folders of {printable(str(account))}: the rest are skipped")
            return
        self.journal.add(sync=False, event="refused", folder=name, why=why, account=account)  # written at round end
        self.log(f"refused: {printable(name)}: {why}; left in the exchange, never graded")

    def _account(self, entry, student: str):
        """Whose folder it is: its owner's uid where owners are checked, else the student it names."""
        if self.settings.check_owner and not isinstance(entry, str):
            with contextlib.suppress(OSError):
                return entry.stat(follow_symlinks=False).st_uid
        return student

    def pending(self, now: float) -> tuple[list[Inbound], list[tuple[Inbound, float]]]:
        """(submissions to grade now, [(submission, when its turn comes)]): each student's oldest not done."""
        ready, waiting = [], []
        by_student: dict[tuple[str, str], list[Inbound]] = {}
        for submission in self.inbound():
            by_student.setdefault((submission.assignment, submission.student), []).append(submission)
        for (assignment, student), submissions in sorted(by_student.items()):
            done = self.journal.done(assignment, student)
            todo = [s for s in submissions if s.identity not in done]
            if not todo:
                continue
            submission = todo[0]
            if (assignment, student) in self.in_flight or (assignment, student) in self.restoring:
                continue  # one submission of a student at a time: the gradebook records them in order
            if self.retry_after.get((assignment, submission.identity), 0) > now:
                continue
            recent = self.journal.gradings_since(assignment, student, now - self.settings.window)
            if len(recent) < self.settings.limit:
                ready.append(submission)
            else:
                waiting.append((submission, recent[len(recent) - self.settings.limit] + self.settings.window))
        ready.sort(key=lambda s: (s.when, s.student))  # first come, first graded: nobody starves in a rush
        return ready, waiting

    # -- one round --------------------------------------------------------------------------------
    def round(self) -> int:
        """Send what is due to the grading workers; tell the others when; return how many were sent."""
        now = time.time()
        ready, waiting = self.pending(now)
        for submission, when in waiting:
            if submission.identity not in self.queued_pages:
                self.release_queued(submission, when)
        self.write_status(ready + list(self.in_flight.values()), waiting)
        sent = 0
        if self.settings.policy == "best" and not self.stopping:
            self.restore_pending()
        for assignment in self.settings.assignments:
            batch = [s for s in ready if s.assignment == assignment]
            if batch and not self.stopping:
                sent += self.dispatch(assignment, batch)
        return sent

    @property
    def busy(self) -> bool:
        return any(session.busy for session in self.sessions.values())

    def session(self, assignment: str) -> Session | None:
        """The assignment's warm grading session (workers, zygote, reference processes, the proven sandbox, the
        open gradebook), opened on first use and kept open; None, logged, if it cannot start (tried again later)."""
        if assignment in self.sessions:
            return self.sessions[assignment]
        if self.retry_open.get(assignment, 0) > time.time():
            return None
        settings = dataclasses.replace(self.settings.grading, assignment=assignment, students=(), regrade=True)

        def progress(event, done, total, result) -> None:
            if event == "graded" and result is not None:
                try:
                    self.graded_one(assignment, result)
                except Exception as error:  # noqa: BLE001 - the service goes on; the submission is looked at again
                    self.log(
                        f"{printable(result.student)}: its feedback could not be released "
                        f"({type(error).__name__}: {str(error)[:200]}); tried again next round"
                    )

        session = Session(settings, progress, warm=True)
        try:
            session.__enter__()
        except GradingError as error:
            self.log(f"the grader could not run ({error}); tried again in {self.settings.interval * 10:g} s")
            self.retry_open[assignment] = time.time() + self.settings.interval * 10
            return None
        self.sessions[assignment] = session
        pids = ", ".join(map(str, session.worker_pids())) or "a cluster"
        self.log(f"grading {assignment} on warm workers ({pids}), kept between rounds")
        return session

    def close_session(self, assignment: str, why: str = "") -> None:
        """Stop an assignment's session; the submissions it held are not graded, and tried again later."""
        session = self.sessions.pop(assignment, None)
        if session is None:
            return
        session.close()
        for key in [key for key in self.in_flight if key[0] == assignment]:
            self.finish(session.course, self.in_flight.pop(key), None, why)
        for key in [key for key in self.restoring if key[0] == assignment]:
            self.restoring.pop(key)
        if why:
            self.retry_open[assignment] = time.time() + self.settings.interval * 10

    def dispatch(self, assignment: str, batch: list[Inbound]) -> int:
        """Collect a batch and hand it to the warm workers at once; each submission's feedback goes out as soon
        as it is recorded (``graded_one``)."""
        session = self.session(assignment)
        if session is None:
            return 0
        course = session.course
        session.between_rounds()  # a fresh look at the gradebook
        recorded = self.recorded(session, batch)
        if self.settings.late == "keep":
            batch = [s for s in batch if not self.kept_late(session, s)]
        to_grade = []
        for submission in batch:
            if submission.identity in recorded:  # recorded before a crash stopped the service: released, not regraded
                self.finish(course, submission, recorded[submission.identity], already=True)
            elif self.collect(course, submission):
                self.event("seen", submission)
                to_grade.append(submission)
        if to_grade:
            ahead = sum(1 for key in self.in_flight if key[0] == assignment)
            estimate = self.estimate(ahead + len(to_grade))
            for submission in to_grade:  # in place of the feedback until it is out: being graded, and until when
                self.release_grading(submission, estimate)
                self.in_flight[(assignment, submission.student)] = submission
            self.log(f"grading {len(to_grade)} submission(s) of {assignment}: {', '.join(s.student for s in to_grade)}")
            session.add(s.student for s in to_grade)
        session.between_rounds()
        return len(to_grade)

    def drain(self, timeout: float | None) -> None:
        """Wait at most ``timeout`` seconds for gradings to finish, and release what finished; a session with
        nothing left to grade writes the reports."""
        busy = [(a, s) for a, s in self.sessions.items() if s.busy]
        for assignment, session in busy:
            try:
                session.step(None if timeout is None else timeout / len(busy))
            except GradingError as error:
                self.log(f"the grader stopped ({error}); tried again in {self.settings.interval * 10:g} s")
                self.close_session(assignment, "the grader stopped")
                continue
            if not session.busy:
                self.reports_due.setdefault(assignment, time.monotonic())

    def write_reports(self, quiet: float = REPORTS_AFTER) -> None:
        """grades.csv, summary.html and the pages out of date with the gradebook, of every assignment whose grading
        has been idle ``quiet`` seconds (not between the submissions of a rush, nor in a submission's way)."""
        for assignment, since in list(self.reports_due.items()):
            session = self.sessions.get(assignment)
            if session is None or session.busy:
                self.reports_due.pop(assignment)
                continue
            if time.monotonic() - since < quiet:
                continue
            self.reports_due.pop(assignment)
            try:
                session.reports()
            except Exception as error:  # noqa: BLE001 - the reports are made again after the next batch
                self.log(f"the reports could not be written ({type(error).__name__}: {str(error)[:200]})")

    def graded_one(self, assignment: str, result) -> None:
        """A grading finished (recorded in the gradebook when graded): its feedback out, journaled."""
        key = (assignment, result.student)
        if key in self.restoring:
            self.restoring.pop(key)
            if result.graded:
                self.journal.add(event="restored", assignment=assignment, student=result.student)
                self.log(f"{result.student}: the gradebook holds their best submission again ({result.total:g})")
            else:
                self.restore_after[key] = time.time() + self.settings.interval * 10
                self.log(f"{result.student}: their best submission could not be graded again; tried again later")
            return
        submission = self.in_flight.pop(key, None)
        if submission is not None:
            self.finish(self.sessions[assignment].course, submission, result)

    def finish(self, course: Course, submission: Inbound, result, why: str = "", already: bool = False) -> None:
        assignment = submission.assignment
        if result is None or not result.graded:
            why = result.status if result is not None else (why or "no result")
            self.event("not graded", submission, detail=f"{why[:300]}; tried again later")
            self.retry_after[(assignment, submission.identity)] = time.time() + self.settings.interval * 10
            return
        score = f"{result.total:g}/{result.max_total:g}"
        if already:
            score += " (already in the gradebook; not graded again)"
        try:
            self.release(course, submission)
        except OSError as error:  # the exchange's feedback folder unwritable, or full: not journaled, so the
            # next round finds the submission again, recorded in the gradebook, and releases it without grading it
            self.log(
                f"{printable(submission.student)}: feedback of {submission.assignment} not released "
                f"({error.strerror or error}); tried again next round"
            )
            return
        self.event("graded", submission, detail=score)
        started = self.started.pop(submission.identity, None)
        self.journal.add(
            event="graded",
            assignment=assignment,
            student=submission.student,
            identity=submission.identity,
            total=result.total,
            **({"seconds": round(time.time() - started, 2)} if started is not None else {}),
        )
        if self.settings.policy == "best":
            self.keep_best(course, submission, result.total)

    def kept_late(self, session: Session, submission: Inbound) -> bool:
        """Under ``--late keep``: a submission after the student's due date (the assignment's, with their
        extension, as the gradebook has them) is kept in the exchange, ungraded, and the student told so;
        submitted/ keeps their last one before the due date, as ``collect --before-duedate`` does."""
        due = self.due_date(session, submission.student)
        try:
            when = parse_utc(submission.timestamp)
        except (ValueError, TypeError, OverflowError):
            return False
        if due is None or when <= due:
            return False
        text = wording.say(
            wording.language(submission.assignment),
            "late_kept",
            timestamp=submission.timestamp,
            due=f"{due:%Y-%m-%d %H:%M}",
        )
        self.release_ungraded(submission)
        self._publish(
            notebook_hash(secret=submission.secret, notebook_id=submission.assignment),
            notice_page(submission.assignment, text).encode(),
        )
        self.journal.add(
            event="kept late",
            assignment=submission.assignment,
            student=submission.student,
            identity=submission.identity,
        )
        self.event("kept ungraded: after the due date", submission, detail=f"due {due:%Y-%m-%d %H:%M:%S} UTC")
        return True

    def due_date(self, session: Session, student: str):
        """The student's due date (naive UTC, as nbgrader keeps it), None when the assignment has none."""
        from .gradebook import GradebookError

        try:
            return session.gradebook.due_date(student)
        except GradebookError:
            return None

    def recorded(self, session: Session, batch: list[Inbound]) -> dict:
        """Submissions of the batch already in the gradebook (as the grader's own record): identity -> result."""
        from .intake import submission_identities

        identities = submission_identities(session.course, {s.student for s in batch})
        if not identities:
            return {}
        verified = session.store.verified(identities)
        found = {}
        for submission in batch:
            if submission.student in verified and identities.get(submission.student) == submission.identity:
                found[submission.identity] = session.store.result(submission.student)
        return found

    # -- the exchange and the course ----------------------------------------------------------------
    def collect(self, course: Course, submission: Inbound) -> bool:
        """Copy the submission into submitted/, replacing what was there (``collect --update``): its regular
        files only (``exchange.copy_submission``). False, with the folder quarantined, if it is refused."""
        target = course.step("submitted", submission.student)
        staging = target.with_name(f".{target.name}.collecting")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder_fd = exchange.open_folder(submission.folder)
            try:  # the very folder that was checked, checked again, read through the same descriptor
                if exchange.identity(folder_fd) != submission.inode:
                    raise exchange.Unacceptable("the folder was replaced after it was checked")
                if self.settings.check_owner:
                    exchange.check_owner(folder_fd, submission.student)
                skipped = exchange.copy_submission(
                    folder_fd,
                    staging,
                    {"timestamp.txt": submission.timestamp, "submission_secret.txt": submission.secret},
                )
            finally:
                os.close(folder_fd)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            if error.errno in GRADER_SIDE_ERRORS:  # the course's disk, not the student's folder: tried again
                self.event(
                    "not graded", submission, detail=f"it could not be collected ({error.strerror}); tried again"
                )
                return False
            self.quarantine(
                submission.folder.name,
                f"cannot be read ({errno.errorcode.get(error.errno, error.errno)})",
                submission.student,
            )
            return False
        except exchange.Unacceptable as why:
            shutil.rmtree(staging, ignore_errors=True)
            self.quarantine(submission.folder.name, str(why), submission.student)
            return False
        if skipped:
            self.event(
                "not collected", submission, detail="; ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return True

    def release(self, course: Course, submission: Inbound) -> None:
        """The feedback page, where ``fetch_feedback`` looks for this submission's (``release_feedback``'s name)."""
        page = course.step("feedback", submission.student) / f"{submission.assignment}.html"
        if not page.is_file():
            return
        self.release_ungraded(submission)
        name = notebook_hash(secret=submission.secret, notebook_id=submission.assignment)
        self._publish(name, page.read_bytes())
        self.event("feedback released", submission)

    def release_ungraded(self, submission: Inbound) -> None:
        """A page for each notebook of the submission nothing grades (the appendix): nbgrader's exchange reports
        feedback, and JupyterLab's Assignments tab offers it, only when every notebook in the submission has one."""
        from .grading import feedback
        from .intake import ungraded_notebooks

        try:  # the folder that was checked, through a descriptor (never a link put in its place)
            folder_fd = exchange.open_folder(submission.folder)
        except (OSError, exchange.Unacceptable):
            return
        try:
            names = (
                ungraded_notebooks(folder_fd, submission.assignment)
                if exchange.identity(folder_fd) == (submission.inode)
                else []
            )
        finally:
            os.close(folder_fd)
        for notebook in names:
            page = feedback.render_not_graded(notebook, submission.assignment)
            self._publish(notebook_hash(secret=submission.secret, notebook_id=notebook), page.encode("utf-8"))

    def estimate(self, batch: int) -> float:
        """Seconds from a grading's start to its feedback: the median of the last gradings (a first guess before
        any), for each round of as many submissions as there are workers."""
        recent = [e["seconds"] for e in self.journal.entries if e.get("event") == "graded" and "seconds" in e][-5:]
        one = sorted(recent)[len(recent) // 2] if recent else FIRST_ESTIMATE
        workers = max(1, self.settings.grading.workers or 1)
        return max(1.0, one) * -(-batch // workers)

    def release_grading(self, submission: Inbound, seconds: float) -> None:
        """In place of the feedback, while the submission is graded: that it is, and about when its feedback comes
        (the Assignments tab then shows feedback to fetch at once, and again when the real page replaces this)."""
        now = time.time()
        self.started[submission.identity] = now
        if submission.identity in self.queued_pages:
            return  # its "queued" page says when it is graded already, and stays until its feedback replaces it
        utc = datetime.UTC
        text = wording.say(
            wording.language(submission.assignment),
            "grading",
            timestamp=submission.timestamp,
            started=f"{datetime.datetime.fromtimestamp(now, tz=utc):%H:%M:%S}",
            at=f"{datetime.datetime.fromtimestamp(now + seconds, tz=utc):%H:%M:%S}",
            seconds=f"{seconds:.0f}",
        )
        self.release_ungraded(submission)
        page = notice_page(submission.assignment, text, GRADING_MARK)
        self._publish(notebook_hash(secret=submission.secret, notebook_id=submission.assignment), page.encode())

    def release_queued(self, submission: Inbound, when: float) -> None:
        """In place of the feedback, until it is graded: when that will be, and why."""
        at = datetime.datetime.fromtimestamp(when, tz=datetime.UTC)
        minutes = self.settings.window / 60
        text = wording.say(
            wording.language(submission.assignment),
            "queued",
            timestamp=submission.timestamp,
            limit=self.settings.limit,
            gradings=_gradings(self.settings.limit),
            minutes=f"{minutes:g}",
            at=f"{at:%Y-%m-%d %H:%M}",
        )
        page = notice_page(submission.assignment, text, QUEUED_MARK)
        self.release_ungraded(submission)
        self._publish(notebook_hash(secret=submission.secret, notebook_id=submission.assignment), page.encode())
        self.queued_pages.add(submission.identity)
        self.event("rate-limited", submission, detail=f"graded at about {at:%H:%M:%S} UTC")

    def _publish(self, name: str, data: bytes) -> None:
        """A page where ``fetch_feedback`` finds it. The folder is made as ``release_feedback`` makes it (0711:
        a page is read by its name, which takes the submission's secret; nobody can list the others')."""
        folder = self.settings.outbound_feedback
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o711)
        write_atomically(folder / f"{name}.html", data, 0o644)

    def recover_best(self) -> None:
        """On start, under the "best" policy: a service stopped between a worse grading and journaling that the best
        one must be put back leaves submitted/ holding the worse; the best is put back now. (Once journaled, a
        restore is carried on by ``restore_pending`` until it is done.)"""
        from .intake import submission_identity

        students = {(e["assignment"], e["student"]) for e in self.journal.entries if e.get("event") == "graded"}
        for assignment, student in sorted(students):
            if (assignment, student) in self.journal.unrestored():
                continue
            best = self.journal.best(assignment, student)
            course = Course.of(self.settings.grading.course_dir, assignment)
            archive = self.settings.state / "best" / assignment / student
            if best and archive.is_dir() and submission_identity(course.step("submitted", student)) != best["identity"]:
                latest = max(
                    (
                        e
                        for e in self.journal.entries
                        if e.get("event") == "graded"
                        and e.get("student") == student
                        and e.get("assignment") == assignment
                    ),
                    key=lambda e: e["at"],
                )
                self.keep_best(course, Inbound(student, assignment, None, archive, "", ""), latest["total"])

    def keep_best(self, course: Course, submission: Inbound, total: float) -> None:
        """Under the "best" policy: a worse submission got its feedback; the gradebook keeps the best one (put back
        in submitted/ and graded again by the warm workers: the same submission and seed, the same grade)."""
        best = self.journal.best(submission.assignment, submission.student)
        archive = self.settings.state / "best" / submission.assignment / submission.student
        if best is None or best["identity"] == submission.identity:
            self.copy_whole(course.step("submitted", submission.student), archive)
            return
        if total >= best["total"] or not archive.is_dir():
            return
        self.log(f"{submission.student}: keeps the grade of their best submission ({best['total']:g})")
        self.journal.add(event="restoring", assignment=submission.assignment, student=submission.student)
        self.put_back(submission.assignment, submission.student)

    def put_back(self, assignment: str, student: str) -> None:
        """The archived best submission back in submitted/, and graded again (a journaled restore, until done)."""
        key = (assignment, student)
        session = self.session(assignment)
        if session is None:
            self.restore_after[key] = time.time() + self.settings.interval * 10
            return
        archive = self.settings.state / "best" / assignment / student
        if not archive.is_dir():  # nothing to put back (the archive was lost): the gradebook keeps what it has
            self.journal.add(event="restored", assignment=assignment, student=student)
            self.log(f"{student}: their best submission is no longer archived; the gradebook keeps the last one")
            return
        self.copy_whole(archive, Course.of(self.settings.grading.course_dir, assignment).step("submitted", student))
        self.restoring[key] = True
        self.restore_after.pop(key, None)
        session.add([student])

    def restore_pending(self) -> None:
        """Restores journaled and not done (a service stopped, a grading failed): carried on when due."""
        now = time.time()
        for key in self.journal.unrestored():
            if (
                key not in self.restoring
                and self.restore_after.get(key, 0) <= now
                and key[0] in self.settings.assignments
            ):
                self.put_back(*key)

    def copy_whole(self, source: Path, target: Path) -> None:
        """``target`` becomes a copy of ``source``, never a part of one: copied aside, then renamed into place (a
        service killed in between leaves the old folder, or none, and the copy aside, removed next time)."""
        aside = self.settings.state / "staging"
        aside.mkdir(parents=True, exist_ok=True)
        staging, old = aside / f"{target.name}.new", aside / f"{target.name}.old"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        shutil.copytree(source, staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)

    # -- what an instructor reads -------------------------------------------------------------------
    def event(self, what: str, submission: Inbound, detail: str = "") -> None:
        self.log(
            f"{what}: {printable(submission.student)} {submission.assignment} (submitted {submission.timestamp})"
            + (f": {detail}" if detail else "")
        )

    def log(self, line: str) -> None:
        """One line of the log: control characters escaped, whatever a student's text put in it."""
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = f"{stamp} {printable(line)}"
        print(text, flush=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    def write_status(self, ready: list[Inbound], waiting: list[tuple[Inbound, float]]) -> None:
        """The queue for ``--status``: written when it changed, else every ``STATUS_EVERY`` seconds (the service
        looks at the exchange many times a second while submissions arrive)."""
        queue = [(s.student, s.assignment, s.timestamp) for s in ready] + [
            (s.student, s.assignment, s.timestamp, when) for s, when in waiting
        ]
        if self._status is not None and self._status[0] == queue and time.time() - self._status[1] < STATUS_EVERY:
            return
        self._status = (queue, time.time())
        status = {
            "updated": time.time(),
            "pid": os.getpid(),
            "policy": self.settings.policy,
            "limit": self.settings.limit,
            "window": self.settings.window,
            "queue": [
                {"student": s.student, "assignment": s.assignment, "submitted": s.timestamp, "graded at": None}
                for s in ready
            ]
            + [
                {"student": s.student, "assignment": s.assignment, "submitted": s.timestamp, "graded at": when}
                for s, when in waiting
            ],
        }
        write_atomically(self.settings.state / "status.json", json.dumps(status, indent=1).encode())

    # -- the service --------------------------------------------------------------------------------
    def serve(self) -> int:
        """Rounds until SIGTERM or SIGINT; the gradings under way finish first (``finish_round``)."""

        def stop(signum, frame):
            self.stopping = True
            self.log(f"stopping ({signal.Signals(signum).name}): the gradings under way finish first")

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        s = self.settings
        self.log(
            f"watching {s.inbound} for {', '.join(s.assignments)}: at most {_gradings(s.limit)} per student every "
            f"{s.window:g} s, the {s.policy} submission counts; work after the due date is "
            + ("graded with the late penalty" if s.late == "grade" else "kept ungraded")
        )
        if s.policy == "best":
            self.recover_best()
        arrivals = Arrivals(s.inbound)
        if arrivals.why_not:
            self.log(f"no file-system events ({arrivals.why_not}): looking every {s.interval:g} s")
        try:
            while not self.stopping:
                self.round()
                if not self.busy:
                    self.write_reports()
                    pause = REPORTS_AFTER if self.reports_due else s.interval
                    arrivals.wait(min(s.interval, pause), lambda: self.stopping)
                    continue
                # While grading: results released as they come, and a look at the exchange when something arrives
                # (every QUICK seconds while it settles) or the interval ends.
                pause_end = time.monotonic() + (Arrivals.QUICK if arrivals.settling() else s.interval)
                while self.busy and not self.stopping:
                    self.drain(0.2)
                    if arrivals.arrived() or time.monotonic() >= pause_end:
                        break
            self.finish_round()
        finally:
            arrivals.close()
            for assignment in list(self.sessions):
                self.close_session(assignment)
        self.log("stopped")
        return 0

    def finish_round(self) -> None:
        """On SIGTERM: the gradings under way finish and their feedback goes out; what was not sent to a worker yet
        is left in the exchange, found again when the service starts."""
        for assignment, session in self.sessions.items():
            for student in session.pending:
                self.in_flight.pop((assignment, student), None)
                self.restoring.pop((assignment, student), None)
            session.pending.clear()
        while self.busy:
            self.drain(None)
        self.write_reports(quiet=0)


class Arrivals:
    """What wakes the service: an event in the inbound folder (inotify through watchdog), noticed within a
    fraction of a second, else the interval's end (polling, where events are not to be had, as on NFS).

    The folder alone is watched, not what is below it (a student's folder of many folders must not use up the
    machine's watches): ``nbgrader submit`` makes the folder, then writes its files, timestamp.txt last, so
    after an event the service looks again every ``QUICK`` seconds for ``SETTLE`` seconds."""

    QUICK = 0.1
    SETTLE = 5.0

    def __init__(self, folder: Path):
        import threading

        self.event = threading.Event()
        self.quick_until = 0.0
        self.observer = None
        self.why_not = ""
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            wake = self.event

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event):
                    wake.set()

            self.observer = Observer()
            self.observer.schedule(Handler(), str(folder), recursive=False)
            self.observer.daemon = True
            self.observer.start()
        except Exception as error:  # noqa: BLE001 - no inotify, too many watches, a folder not there yet
            self.observer = None
            self.why_not = f"{type(error).__name__}: {str(error)[:120]}"

    def wait(self, interval: float, stopping) -> None:
        """Until something arrives, the pause is over (``QUICK`` while settling, else ``interval``), or the
        service is stopping."""
        now = time.monotonic()
        deadline = now + (self.QUICK if now < self.quick_until else interval)
        while not stopping() and (left := deadline - time.monotonic()) > 0:
            if self.event.wait(timeout=min(0.2, left)):
                self.event.clear()
                self.quick_until = time.monotonic() + self.SETTLE
                return

    def arrived(self) -> bool:
        """Has something arrived since the last look (then the service looks every ``QUICK`` s for a while)?"""
        if not self.event.is_set():
            return False
        self.event.clear()
        self.quick_until = time.monotonic() + self.SETTLE
        return True

    def settling(self) -> bool:
        return time.monotonic() < self.quick_until

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)


def print_status(course_dir: Path) -> int:
    """The queue as the running service last wrote it."""
    path = Path(course_dir) / STATE_DIR / "watch" / "status.json"
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        print(f"no status: the service has not run in {course_dir} ({path} is missing)")
        return 1
    age = time.time() - status["updated"]
    alive = _alive(status.get("pid"))
    print(
        f"service {'running' if alive else 'NOT running'} (pid {status.get('pid')}); status of {age:.0f} s ago; "
        f"at most {_gradings(status['limit'])} per student every {status['window']:g} s; the {status['policy']} "
        "submission counts"
    )
    if not status["queue"]:
        print("queue: empty")
    for item in status["queue"]:
        when = (
            "now"
            if item["graded at"] is None
            else datetime.datetime.fromtimestamp(item["graded at"], tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        )
        print(f"  {item['student']:<20} {item['assignment']:<32} submitted {item['submitted']}  graded {when}")
    return 0


def notice_page(assignment: str, text: str, mark: str = "") -> str:
    """A page that stands in for the feedback (``mark`` says which kind), in the edition's language, saying
    ``text`` (escaped; scripts and loads forbidden)."""
    return with_csp(
        f"<!DOCTYPE html><html lang='{wording.language(assignment)}'><head><meta charset='utf-8'>{mark}"
        f"<title>{html.escape(assignment)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
        f"<h1>{html.escape(assignment)}</h1><p>{html.escape(text)}</p></body></html>"
    )


def _gradings(limit: int) -> str:
    return f"{limit} grading{'' if limit == 1 else 's'}"


def _alive(pid) -> bool:
    """Is ``pid`` (read from the status file: anything) a live process?"""
    return type(pid) is int and pid > 0 and processes.alive(pid)
