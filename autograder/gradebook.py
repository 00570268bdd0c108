"""nbgrader's gradebook, written by the grader's own process only, one transaction per submission.

A submission counts as graded when all its test cells have an automatic score;
since they are written in a single commit, a grader killed at any moment leaves
each submission either fully recorded or not at all, and a rerun picks up the rest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nbgrader.api import (
    Assignment,
    Comment,
    Grade,
    Gradebook,
    MissingEntry,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
)
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SQLAlchemyError

from .judge import SubmissionResult


class GradebookError(Exception):
    """The gradebook cannot be used; the message says why and what to do."""


def _open(db_url: str) -> Gradebook:
    try:
        return Gradebook(db_url)
    except (SQLAlchemyError, OSError) as error:
        raise GradebookError(f"cannot open the gradebook {db_url}: {error}. Check the path and that "
                             "no other program holds it locked.") from error


def is_registered(db_url: str, assignment: str) -> bool:
    with _open(db_url) as gradebook:
        try:
            notebook = gradebook.find_notebook(assignment, assignment)
        except MissingEntry:
            return False
        return bool(notebook.grade_cells)


def register(course_dir: Path, db_url: str, assignment: str) -> None:
    """Register the assignment's notebook and cells from source/, as generate_assignment does.

    nbgrader runs on a scratch copy, so the course's own release/ is left as it is.
    """
    scratch = Path(tempfile.mkdtemp(prefix="register-"))
    try:
        (scratch / "source").mkdir()
        shutil.copytree(course_dir / "source" / assignment, scratch / "source" / assignment)
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
             f"--db={db_url}", "--log-level=WARN", f"--CourseDirectory.root={scratch}"],
            cwd=scratch, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise GradebookError(f"could not register {assignment} in the gradebook:\n"
                                 f"{(result.stdout + result.stderr)[-2000:]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def graded_students(db_url: str, assignment: str) -> set[str]:
    """Students whose submission of ``assignment`` has every test cell scored."""
    with _open(db_url) as gradebook:
        session = gradebook.db
        graded = set()
        for submission in session.query(SubmittedAssignment).join(Assignment).filter(
                Assignment.name == assignment):
            grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
            if grades and all(grade.auto_score is not None for grade in grades):
                graded.add(submission.student_id)
        return graded


def record(db_url: str, assignment: str, result: SubmissionResult) -> None:
    """Write one submission's scores and verdicts in a single commit (replacing earlier ones)."""
    scores = {f"test_{f.name}": f.score for f in result.functions}
    comments = {f.name: f.message or ("Passed." if f.outcome == "passed" else f.outcome)
                for f in result.functions}
    with _open(db_url) as gradebook:
        session = gradebook.db
        try:
            assignment_row = session.query(Assignment).filter(Assignment.name == assignment).one()
            student = session.get(Student, result.student)
            if student is None:
                student = Student(id=result.student)
                session.add(student)
            submission = session.query(SubmittedAssignment).filter(
                SubmittedAssignment.assignment_id == assignment_row.id,
                SubmittedAssignment.student_id == result.student).one_or_none()
            if submission is None:
                with session.no_autoflush:  # build the whole tree, then add it at once
                    submission = SubmittedAssignment(assignment=assignment_row, student=student)
                    for notebook in assignment_row.notebooks:
                        submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                        for cell in notebook.grade_cells:
                            Grade(cell=cell, notebook=submitted)
                        for cell in notebook.solution_cells:
                            Comment(cell=cell, notebook=submitted)
                session.add(submission)
            submission.timestamp = _parse_timestamp(result.timestamp)
            for submitted in submission.notebooks:
                for grade in submitted.grades:
                    grade.auto_score = scores.get(grade.cell.name, 0.0)
                    grade.needs_manual_grade = grade.manual_score is not None
                for comment in submitted.comments:
                    comment.auto_comment = comments.get(comment.cell.name)
            session.commit()
        except SQLAlchemyError as error:
            session.rollback()
            raise GradebookError(f"could not record {result.student} in the gradebook: {error}") from error


def _parse_timestamp(text: str | None):
    if not text:
        return None
    try:
        return parse_utc(text)
    except (ValueError, OverflowError):
        return None
