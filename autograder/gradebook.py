"""nbgrader's gradebook, written by the grader's own process only, one transaction per submission.

A submission counts as graded when all its test cells have an automatic score;
since they are written in a single commit, a grader killed at any moment leaves
each submission either fully recorded or not at all, and a rerun picks up the rest.
Any SQLAlchemy URL nbgrader accepts works (SQLite by default, PostgreSQL for large
courses).
"""

from __future__ import annotations

import copy
import os
import sqlite3
from pathlib import Path

import nbformat
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
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import nbgrader_cli
from .course import Course, CourseError, load_config, sqlite_path
from .markup import function_of, test_id
from .results import SubmissionResult, comment_for
from .settings import GradingError


class GradebookError(Exception):
    """The gradebook cannot be used; the message says why and what to do."""


def _shown(db_url: str) -> str:
    """The URL without a password, for messages."""
    head, at, tail = db_url.rpartition("@")
    if not at or "://" not in head:
        return db_url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{tail}" if ":" in credentials else db_url


def create_if_new(db_url: str) -> None:
    """Give a new, empty database nbgrader's tables and the alembic revision they are at.

    It is what nbgrader's Gradebook does for a new database, in process: nbgrader asks
    the ``alembic`` command for the revision, which costs a second and needs the
    environment's scripts on PATH.
    """
    import nbgrader.dbutil
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect

    engine = create_engine(db_url)
    try:
        if inspect(engine).get_table_names():
            return
        config = Config()
        config.set_main_option("script_location", nbgrader.dbutil.ALEMBIC_DIR)
        head = ScriptDirectory.from_config(config).get_current_head()
        Base.metadata.create_all(bind=engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
    finally:
        engine.dispose()


class GradebookAccess:
    """One open gradebook for one assignment, used by the grader's main process only."""

    def __init__(self, db_url: str, assignment: str):
        self.db_url = db_url
        self.assignment = assignment
        path = sqlite_path(db_url)
        if path is not None and path.exists():
            _check_sqlite_file(path)
        try:
            create_if_new(db_url)
            self._gradebook = Gradebook(db_url)
        except (SQLAlchemyError, OSError) as error:
            raise GradebookError(
                f"cannot open the gradebook {_shown(db_url)}: {_first_line(error)}. Check "
                "the path and that no other program holds it locked."
            ) from error

    def close(self) -> None:
        self._gradebook.close()

    def __enter__(self) -> GradebookAccess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def session(self):
        return self._gradebook.db

    # -- the assignment ---------------------------------------------------------------------------
    def is_registered(self) -> bool:
        try:
            notebook = self._gradebook.find_notebook(self.assignment, self.assignment)
        except MissingEntry:
            return False
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error
        return bool(notebook.grade_cells)

    def register(self, source_notebook: Path, config=None) -> None:
        """Register the assignment's notebook and cells as ``nbgrader generate_assignment`` does.

        The same preprocessors run, in process and on a copy of the source notebook, so
        the gradebook gets nbgrader's own cell records and checksums, and release/ is
        left as it is.
        """
        from nbgrader.preprocessors import (
            CheckCellMetadata,
            ClearOutput,
            ClearSolutions,
            ComputeChecksums,
            IncludeHeaderFooter,
            InstantiateTests,
            LockCells,
            SaveCells,
        )

        notebook = nbformat.read(source_notebook, as_version=4)
        resources = {
            "nbgrader": {"db_url": self.db_url, "assignment": self.assignment, "notebook": source_notebook.stem}
        }
        try:
            self._gradebook.update_or_create_assignment(self.assignment)
            notebook = copy.deepcopy(notebook)
            for step in (
                IncludeHeaderFooter,
                InstantiateTests,
                LockCells,
                ClearSolutions,
                ClearOutput,
                CheckCellMetadata,
                ComputeChecksums,
                SaveCells,
            ):
                notebook, resources = step(config=config).preprocess(notebook, resources)
        except SQLAlchemyError as error:
            raise GradebookError(
                f"could not register {self.assignment} in the gradebook: {_first_line(error)}"
            ) from error
        except Exception as error:  # nbgrader's own complaint about the notebook
            raise GradebookError(
                f"could not register {self.assignment} in the gradebook: {type(error).__name__}: {_first_line(error)}"
            ) from error
        self.session.expire_all()

    def check_writable(self) -> None:
        """Raise GradebookError unless a write transaction can be opened now."""
        path = sqlite_path(self.db_url)
        try:
            if path is not None:
                for target in (path, path.parent):
                    if target.exists() and not os.access(target, os.W_OK):
                        raise GradebookError(
                            f"the gradebook {path} is not writable (check the permissions of {target})"
                        )
                connection = sqlite3.connect(path, timeout=5)
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.rollback()
                finally:
                    connection.close()
            else:
                with self._gradebook.engine.begin() as connection:
                    connection.execute(text("SELECT 1"))
        except sqlite3.Error as error:
            raise GradebookError(
                f"the gradebook {path} cannot be written now: {error}. Is another program "
                "(formgrader, a second grader) writing it?"
            ) from error
        except SQLAlchemyError as error:
            raise GradebookError(
                f"the gradebook {_shown(self.db_url)} cannot be written now: {_first_line(error)}"
            ) from error

    # -- submissions -------------------------------------------------------------------------------
    def _submissions(self):
        return self.session.query(SubmittedAssignment).join(Assignment).filter(Assignment.name == self.assignment)

    def graded_students(self) -> set[str]:
        """Students whose submission has every test cell scored."""
        return set(self.scores())

    def scores(self) -> dict[str, dict[str, dict]]:
        """student -> function -> {score, points, comment} of every graded submission."""
        try:
            found = {}
            for submission in self._submissions():
                grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
                if not grades or any(grade.auto_score is None for grade in grades):
                    continue
                comments = {c.cell.name: c.auto_comment for n in submission.notebooks for c in n.comments}
                cells = {}
                for grade in grades:
                    name = function_of(grade.cell.name)
                    cells[name] = {
                        "score": float(grade.score),
                        "points": float(grade.max_score),
                        "comment": comments.get(name),
                    }
                found[submission.student_id] = cells
            return found
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

    def record(self, result: SubmissionResult) -> None:
        """Write one submission's scores and verdicts in a single commit (replacing earlier ones)."""
        scores = {test_id(f.name): f.score for f in result.functions}
        comments = {f.name: comment_for(f) for f in result.functions}
        session = self.session
        try:
            assignment_row = session.query(Assignment).filter(Assignment.name == self.assignment).one()
            student = session.get(Student, result.student)
            if student is None:
                student = Student(id=result.student)
                session.add(student)
            if student.last_name is None and student.first_name is None:
                # formgrader shows "last, first" and "None, None" for a student without names: the id instead,
                # until the roster is imported (nbgrader db student import); names already there are kept
                student.last_name, student.first_name = result.student, ""
            submission = self._submissions().filter(SubmittedAssignment.student_id == result.student).one_or_none()
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
            raise GradebookError(f"could not record {result.student} in the gradebook: {_first_line(error)}") from error


def _check_sqlite_file(path: Path) -> None:
    """A file that is no SQLite database is left alone and named, instead of being 'repaired'."""
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as error:
        raise GradebookError(f"cannot read the gradebook {path}: {error.strerror}") from error
    if header and header != b"SQLite format 3\x00":
        raise GradebookError(
            f"cannot open the gradebook {path}: the file is not an SQLite database. Move it "
            "away (or restore a backup) and run again."
        )


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _parse_timestamp(value: str | None):
    if not value:
        return None
    try:
        return parse_utc(value)
    except (ValueError, OverflowError):
        return None


# -- opening it for a run ------------------------------------------------------------------------


def open_gradebook(db_url: str, course: Course):
    """The gradebook, registering the assignment if it is new (with nbgrader's preprocessors configured
    as the course's nbgrader_config.py says), as the run's ``GradingError`` if it cannot be."""
    try:
        with nbgrader_cli.scripts_on_path():
            gradebook = GradebookAccess(db_url, course.assignment)
        gradebook.check_writable()
        if not gradebook.is_registered():
            gradebook.register(course.source_notebook, load_config(course.root))
        return gradebook
    except (GradebookError, CourseError) as error:
        raise GradingError(str(error)) from error


class StagedGradebook:
    """A new SQLite gradebook made beside its place and moved there only once the run may go on.

    Creating and registering take a moment, done while the workers start; if a check then
    stops the run, no gradebook file is left behind (nothing recorded).
    """

    def __init__(self, path: Path, course: Course):
        self.path = path
        self.staged = path.with_name(f".{path.name}.new-{os.getpid()}")
        self.staged.unlink(missing_ok=True)
        open_gradebook(f"sqlite:///{self.staged}", course).close()

    def commit(self, db_url: str, course: Course):
        os.replace(self.staged, self.path)  # atomic; the file is complete and closed
        return open_gradebook(db_url, course)

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)
