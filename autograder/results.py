"""What grading produces: per-function and per-submission results, and the one store that keeps them.

The gradebook is the single source of truth for which submissions are graded and
for every score. Next to it, one JSON file per student keeps what the gradebook
has no column for (the problems, each function's outcome and the instructor's
version of its message, the time it took); it is written before the gradebook
commit and trusted only while its scores equal the gradebook's, so a missing,
corrupt or stale file can never drop or change a student's grade.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import json
import os
import re
import tempfile
from pathlib import Path


class Outcome(str, enum.Enum):
    """How one graded function fared."""

    PASSED = "passed"
    FAILED = "failed"  # returned a wrong result
    ERROR = "error"  # raised, or returned something that cannot be judged
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel died"
    MEMORY = "memory limit"
    MISSING = "missing"  # not defined in the notebook
    NOT_RUN = "not run"  # the submission could not be run at all (unreadable notebook, ...)
    NOT_GRADED = "not graded"  # the grader failed, not the student: nothing is recorded

    def __str__(self) -> str:
        return self.value


MAX_MESSAGE_CHARS = 2_000
MAX_DETAIL_CHARS = 8_000
MAX_STATUS_CHARS = 2_000


# What no database takes in text (PostgreSQL refuses NUL), and what no reader wants: C0 controls but tab and
# newline, DEL, and lone surrogates (UTF-8 cannot write them).
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _bounded(text: str, limit: int) -> str:
    """``text`` as every backend stores it (unstorable characters as U+FFFD), cut at ``limit`` characters."""
    text = _UNSTORABLE.sub("\ufffd", str(text))
    return text if len(text) <= limit else text[: limit - 12] + " [... cut]"


@dataclasses.dataclass
class FunctionResult:
    name: str
    points: float
    score: float
    outcome: Outcome
    message: str = ""  # what the student may see: no hidden input, value or output of student code
    seconds: float = 0.0
    detail: str = ""  # what the instructor may see in addition (values, exception texts)
    mistake: str | None = None  # the classic mistake the result matches, if any

    def __post_init__(self):
        self.outcome = Outcome(self.outcome)
        # Whatever a submission made the grader say, no result carries more than this into the reports.
        self.message = _bounded(self.message, MAX_MESSAGE_CHARS)
        self.detail = _bounded(self.detail, MAX_DETAIL_CHARS)


class Kind(str, enum.Enum):
    """What kind of thing happened to a submission, beside its scores: what the reports sort by."""

    NOT_GRADED = "not graded"  # the grader failed: nothing recorded, graded again on the next run
    UNVERIFIED = "unverified"  # a record the grader cannot vouch for and cannot grade again
    NOT_ATTEMPTED = "not attempted"
    MALFORMED = "malformed notebook"
    MISSING_NOTEBOOK = "missing notebook"
    MISNAMED = "misnamed notebook"
    FILES_NOT_READ = "files not read"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel died"
    MEMORY = "memory limit"
    PROTOCOL = "grading protocol broken"
    TESTS_CHANGED = "test cells changed"
    MACHINERY = "reaches for the grading machinery"
    VISIBLE_ONLY = "right on the visible case only"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing that happened to a submission: its kind, and the sentence that says it in full."""

    kind: Kind
    text: str

    def __post_init__(self):
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "text", _bounded(self.text, MAX_STATUS_CHARS))

    def __str__(self) -> str:
        return self.text


@dataclasses.dataclass
class Standing:
    """What nbgrader's gradebook holds for a submission beside the judge's verdicts, as nbgrader computes it:
    a person's grading (manual scores, extra credit, comments), cells left to manual grading, and lateness.

    ``cells``: grade id -> {"score" (the gradebook's: manual over automatic, with extra credit), "points",
    "comment" (the TA's, or None), "needs_manual_grade"}, for the assignment's notebook.
    """

    score: float  # nbgrader's score before the late penalty (its SubmittedAssignment.score)
    max_score: float
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    cells: dict = dataclasses.field(default_factory=dict)

    @property
    def final(self) -> float:
        """The score after the late penalty: what ``nbgrader export`` calls the score."""
        return self.score - self.late_penalty

    @property
    def pending(self) -> list[str]:
        """Grade ids of the cells that wait for a person's grading."""
        return [name for name, cell in self.cells.items() if cell["needs_manual_grade"]]

    @property
    def by_a_person(self) -> bool:
        """Whether anything a person put in the gradebook shows on the student's page."""
        return any(cell.get("manual") or cell.get("comment") for cell in self.cells.values())

    def digest(self) -> str:
        """A fingerprint of what the student's page shows of the gradebook (to tell a page that is out of date)."""
        text = json.dumps(
            [self.score, self.max_score, self.late_penalty, self.seconds_late, self.cells], sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def shown(self) -> bool:
        """Whether the student's page must show more than the judge's verdicts (lateness, a person's grading)."""
        return bool(self.late_penalty or self.seconds_late or self.pending or self.by_a_person)


@dataclasses.dataclass
class SubmissionResult:
    student: str
    problems: list[Problem]  # what happened beside the scores, in order (none: "ok")
    functions: list[FunctionResult]
    seconds: float = 0.0
    notebook_json: str | None = None  # the autograded notebook
    timestamp: str | None = None
    sandboxed: bool = True
    graded: bool = True  # False: the grader failed; the result is reported, never recorded
    attempted: bool = True  # False: the release notebook came back untouched
    feedback_html: str | None = None  # the student's feedback page
    submission: str | None = None  # which submission was graded (intake.submission_name), to tell a newer one
    standing: Standing | None = None  # the gradebook's side (read from it, never kept in the details)

    def __post_init__(self):
        self.problems = [p if isinstance(p, Problem) else Problem(**p) for p in self.problems]

    @property
    def status(self) -> str:
        """The problems in plain words, "ok" when there are none (the CSV's status, the summary's)."""
        return "; ".join(dict.fromkeys(p.text for p in self.problems)) or "ok"

    def has(self, *kinds: Kind) -> bool:
        return any(p.kind in kinds for p in self.problems)

    @property
    def total(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_total(self) -> float:
        return sum(f.points for f in self.functions)

    @property
    def complete(self) -> bool:
        """Graded in full: every function judged, nothing the instructor must look at."""
        return self.graded and self.attempted and not self.problems

    def details(self) -> dict:
        """The JSON-ready form kept next to the gradebook (no notebook, no feedback)."""
        data = dataclasses.asdict(self)
        data.pop("notebook_json")
        data.pop("feedback_html")
        data.pop("standing")
        for function in data["functions"]:
            function["outcome"] = str(function["outcome"])
        data["problems"] = [{"kind": str(p.kind), "text": p.text} for p in self.problems]
        return data

    @classmethod
    def from_details(cls, data: dict) -> SubmissionResult:
        data = dict(data)
        data["functions"] = [FunctionResult(**f) for f in data["functions"]]
        data["problems"] = [Problem(**p) for p in data["problems"]]
        return cls(**data)


def not_graded(
    student: str,
    reason: str,
    points: dict[str, float],
    sandboxed: bool = True,
    timestamp: str | None = None,
    detail: str = "",
) -> SubmissionResult:
    """The result of a submission whose grading failed for a reason that is not the student's.

    ``detail`` (a traceback, say) is for the maintainer; it is shown in the instructor's report.
    """
    functions = [
        FunctionResult(name, value, 0.0, Outcome.NOT_GRADED, f"not graded: {reason}", detail=detail)
        for name, value in points.items()
    ]
    return SubmissionResult(
        student,
        [Problem(Kind.NOT_GRADED, f"not graded: {reason}")],
        functions,
        timestamp=timestamp,
        sandboxed=sandboxed,
        graded=False,
    )


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``path`` so that it holds either its old content or all of ``data``, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def comment_for(function: FunctionResult) -> str:
    """The gradebook comment of a function's verdict (what formgrader and the feedback show)."""
    return function.message or ("Passed." if function.outcome == Outcome.PASSED else str(function.outcome))


class ResultStore:
    """Results of one assignment: the gradebook's scores joined with the details kept beside it.

    The details are sealed with the grader's secret (an HMAC over the student, the
    submission and every score and comment), so a record is vouched for only when the
    seal holds, the gradebook's scores and comments are the sealed ones, and the
    submission in ``submitted/`` is still the one graded. Anything else (a score written
    by stock nbgrader or by hand, details that are gone, a newer submission) is
    "unverified": ``verified`` and ``_check`` say why, and the grader grades it again.
    """

    def __init__(self, gradebook, folder: Path, secret: bytes):
        self.gradebook = gradebook  # autograder.gradebook.GradebookAccess
        self.folder = Path(folder)
        self.secret = secret

    def _path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def _seal(self, data: dict) -> str:
        sealed = {
            "student": data["student"],
            "submission": data.get("submission"),
            "functions": [[f["name"], f["score"], f["points"], f["message"], f["outcome"]] for f in data["functions"]],
        }
        text = json.dumps(sealed, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()

    def save_details(self, result: SubmissionResult) -> None:
        data = result.details()
        data["seal"] = self._seal(data)
        write_atomically(self._path(result.student), json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))

    def record(self, result: SubmissionResult, before_commit=None) -> Standing:
        """Details first, then the gradebook in one commit: the commit is what makes it graded.

        ``before_commit(standing)``: what must be on disk before (the autograded notebook, the feedback page),
        given what the gradebook will hold (a person's grading kept, the late penalty).
        """
        if not result.graded:
            raise ValueError(f"{result.student}: a result that is not graded is never recorded")
        self.save_details(result)
        result.standing = self.gradebook.record(result, before_commit)
        return result.standing

    def load(self, submissions: dict[str, str | None] | None = None) -> list[SubmissionResult]:
        """Every graded submission, with the gradebook's scores; those the grader cannot vouch for are
        marked "unverified" with the reason and the command that grades them again.

        ``submissions``: each student's submission now in ``submitted/`` (intake.submission_name).
        """
        results = []
        standings, times = self.gradebook.standings(), self.gradebook.timestamps()
        for student, cells in sorted(self.gradebook.scores().items()):
            details, problem = self._check(student, cells, (submissions or {}).get(student, ...), times.get(student))
            found = details if problem is None else _unverified(student, cells, problem)
            found.standing = standings.get(student)
            results.append(found)
        return results

    def result(self, student: str) -> SubmissionResult | None:
        """One student's graded result (unverified if the grader cannot vouch for it), None if not graded."""
        cells = self.gradebook.scores().get(student)
        if cells is None:
            return None
        details, problem = self._check(student, cells, ..., self.gradebook.timestamps().get(student))
        found = details if problem is None else _unverified(student, cells, problem)
        found.standing = self.gradebook.standings().get(student)
        return found

    def verified(self, submissions: dict[str, str | None]) -> set[str]:
        """The students whose record in the gradebook is the grader's, for the submission they have now."""
        times = self.gradebook.timestamps()
        return {
            student
            for student, cells in self.gradebook.scores().items()
            if self._check(student, cells, submissions.get(student, ...), times.get(student))[1] is None
        }

    def _check(
        self, student: str, cells: dict, submission, recorded_at: str | None
    ) -> tuple[SubmissionResult | None, str | None]:
        """(the stored details, None) when they vouch for the gradebook's record, else (None, why not).

        ``recorded_at``: the timestamp of the submission the gradebook holds. Details of a newer submission
        with the same scores, written just before a crash took the gradebook's commit, vouch for nothing:
        the gradebook still has the older submission's time, and with it perhaps another late penalty."""
        try:
            data = json.loads(self._path(student).read_text(encoding="utf-8"))
            details = SubmissionResult.from_details({k: v for k, v in data.items() if k != "seal"})
        except FileNotFoundError:
            return None, "the grader's record of it is missing"
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None, "the grader's record of it is unreadable"
        if details.student != student or not hmac.compare_digest(str(data.get("seal", "")), self._seal(data)):
            return None, "the grader's record of it is not sealed by this course's secret"
        by_name = {f.name: f for f in details.functions}
        if set(by_name) != set(cells) or any(by_name[n].score != cell["score"] for n, cell in cells.items()):
            return None, "the gradebook's scores are not the grader's (graded by something else, or edited)"
        if any((cell["comment"] or "") != comment_for(by_name[n]) for n, cell in cells.items()):
            return None, "the gradebook's comments are not the grader's (graded by something else, or edited)"
        if self.gradebook.as_recorded(details.timestamp) != recorded_at:
            return None, "the gradebook holds another submission's time (its recording was cut short)"
        if submission is not ... and submission != details.submission:
            return None, "a newer submission was collected" if submission else "its submission is no longer there"
        return details, None


def _unverified(student: str, cells: dict, problem: str) -> SubmissionResult:
    functions = [
        FunctionResult(
            name,
            cell["points"],
            cell["score"],
            Outcome.PASSED if cell["score"] >= cell["points"] else Outcome.FAILED,
            cell["comment"] or "",
        )
        for name, cell in cells.items()
    ]
    return SubmissionResult(
        student,
        [
            Problem(
                Kind.UNVERIFIED,
                f"unverified: {problem}; these scores are the gradebook's, not the grader's. "
                f"`python -m autograder grade --regrade --student {student}` grades it",
            )
        ],
        functions,
    )
