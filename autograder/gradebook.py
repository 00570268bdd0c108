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
from sqlalchemy.orm import object_session

from . import GRADED_FUNCTIONS, nbgrader_cli
from .course import Course, CourseError, load_config, sqlite_path
from .markup import function_of, grade_id, test_id
from .results import Standing, SubmissionResult, comment_for
from .settings import GradingError

# The grade cells whose score the judge gives; every other grade or task cell is left to nbgrader's manual grading.
JUDGED = frozenset(test_id(function) for function in GRADED_FUNCTIONS)
DEFAULT_COURSE = "default_course"  # what nbgrader's Gradebook calls a course it was given no id for


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
    """One open gradebook for one assignment, used by the grader's main process only.

    ``course_id`` is the course's (``c.CourseDirectory.course_id``), under which the assignment is registered;
    ``config`` the course's nbgrader configuration, which names the ``LateSubmissionPlugin``.
    """

    def __init__(self, db_url: str, assignment: str, course_id: str = DEFAULT_COURSE, config=None):
        self.db_url = db_url
        self.assignment = assignment
        self.course_id = course_id or DEFAULT_COURSE
        self.config = config
        path = sqlite_path(db_url)
        if path is not None and path.exists():
            _check_sqlite_file(path)
        try:
            create_if_new(db_url)
            self._gradebook = Gradebook(db_url, self.course_id)
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
    def is_registered(self, notebooks=()) -> bool:
        """Whether the assignment's notebook (with its cells) and every notebook named in ``notebooks`` are."""
        try:
            notebook = self._gradebook.find_notebook(self.assignment, self.assignment)
            for name in notebooks:
                self._gradebook.find_notebook(name, self.assignment)
        except MissingEntry:
            return False
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error
        return bool(notebook.grade_cells)

    def due_date(self, student: str):
        """The student's due date for the assignment: nbgrader's (the assignment's, with the student's
        extension once they have a submission), None when there is none."""
        try:
            try:
                return self._gradebook.find_submission(self.assignment, student).duedate
            except MissingEntry:
                return self._gradebook.find_assignment(self.assignment).duedate
        except MissingEntry:
            return None
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

    def source_changed(self, notebooks) -> list[str]:
        """What source/ changed against the gradebook's cells ("test_predict: 10 -> 20 points", "explain: added"):
        an instructor's fix after grading, which the next run registers, as ``generate_assignment`` would."""
        from nbgrader.utils import is_grade, is_task

        changes = []
        try:
            for path in notebooks:
                wanted = {
                    grade_id(cell): float(cell.metadata.nbgrader.get("points", 0))
                    for cell in nbformat.read(path, as_version=4).cells
                    if grade_id(cell) and (is_grade(cell) or is_task(cell))
                }
                try:
                    notebook = self._gradebook.find_notebook(path.stem, self.assignment)
                except MissingEntry:
                    changes.append(f"{path.name}: not registered")
                    continue
                have = {cell.name: float(cell.max_score) for cell in (*notebook.grade_cells, *notebook.task_cells)}
                changes += [f"{name}: added" for name in wanted.keys() - have.keys()]
                changes += [f"{name}: removed" for name in have.keys() - wanted.keys()]
                changes += [
                    f"{name}: {have[name]:g} -> {wanted[name]:g} points"
                    for name in wanted.keys() & have.keys()
                    if wanted[name] != have[name]
                ]
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error
        return sorted(changes)

    def adopt_course(self) -> None:
        """The assignment under the course's id: a gradebook an earlier grader registered under nbgrader's
        ``default_course`` is moved to the config's course; one of another course is a clear error."""
        try:
            row = self.session.query(Assignment).filter(Assignment.name == self.assignment).one_or_none()
            if row is None or row.course_id == self.course_id:
                return
            if row.course_id != DEFAULT_COURSE:
                raise GradebookError(
                    f"the gradebook {_shown(self.db_url)} holds {self.assignment} of the course {row.course_id!r}, "
                    f"but nbgrader_config.py says c.CourseDirectory.course_id = {self.course_id!r}: use that "
                    "course's gradebook, or set the course id it was made with"
                )
            row.course_id = self.course_id
            self.session.commit()
        except SQLAlchemyError as error:
            self.session.rollback()
            raise GradebookError(f"cannot update the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

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

    def mirror_submissions(self) -> None:
        """Every submission gets the notebooks the assignment has now (one registered after it was recorded,
        say the appendix), as nbgrader's ``add_submission`` would have made them, so that nbgrader's own
        preprocessors find each."""
        try:
            assignment_row = self.session.query(Assignment).filter(Assignment.name == self.assignment).one()
            for submission in self._submissions():
                have = {submitted.notebook.name for submitted in submission.notebooks}
                for submitted in submission.notebooks:
                    with self.session.no_autoflush:
                        _complete(submitted)
                for notebook in assignment_row.notebooks:
                    if notebook.name not in have:
                        self.session.add(_mirror(notebook, submission))
            self.session.commit()
        except SQLAlchemyError as error:
            self.session.rollback()
            raise GradebookError(f"cannot update the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

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
        """student -> function -> {score, points, comment} of every submission the judge's cells are scored in:
        the judge's own record (the automatic score and comment), whatever a person added beside it."""
        try:
            found = {}
            for submission in self._submissions():
                grades = [
                    grade
                    for notebook in submission.notebooks
                    if notebook.notebook.name == self.assignment
                    for grade in notebook.grades
                    if grade.cell.name in JUDGED
                ]
                if not grades or any(grade.auto_score is None for grade in grades):
                    continue
                comments = {c.cell.name: c.auto_comment for n in submission.notebooks for c in n.comments}
                cells = {}
                for grade in grades:
                    name = function_of(grade.cell.name)
                    cells[name] = {
                        "score": float(grade.auto_score),
                        "points": float(grade.max_score),
                        "comment": comments.get(name),
                    }
                found[submission.student_id] = cells
            return found
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

    def timestamps(self) -> dict[str, str | None]:
        """student -> the recorded submission's timestamp, as ``as_recorded`` writes it (None: none recorded)."""
        try:
            rows = self._submissions().with_entities(SubmittedAssignment.student_id, SubmittedAssignment.timestamp)
            return {student: (when.isoformat() if when is not None else None) for student, when in rows}
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

    @staticmethod
    def as_recorded(timestamp: str | None) -> str | None:
        """A submission's timestamp as ``record`` stores it and ``timestamps`` reads it back."""
        when = _parse_timestamp(timestamp)
        return when.isoformat() if when is not None else None

    def standings(self) -> dict[str, Standing]:
        """student -> what the gradebook holds beside the judge's verdicts (``results.Standing``)."""
        try:
            return {submission.student_id: _standing(submission, self.assignment) for submission in self._submissions()}
        except SQLAlchemyError as error:
            raise GradebookError(f"cannot read the gradebook {_shown(self.db_url)}: {_first_line(error)}") from error

    def record(self, result: SubmissionResult, before_commit=None) -> Standing:
        """Write one submission's verdicts in a single commit, as nbgrader's ``SaveAutoGrades`` and
        ``AssignLatePenalties`` do after its ``Execute``, with the judge's scores in place of execution's.

        What a person wrote (manual scores, extra credit, manual comments, extensions) is kept; a grade cell
        the judge does not score (a written answer, a task, a test the judge has no cases for) has no
        automatic score and needs manual grading. ``before_commit(standing)`` runs before the commit (the
        files of the submission are written there), so a submission is recorded only with its files on disk.
        """
        from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution, is_task

        scores = {test_id(f.name): f.score for f in result.functions}
        comments = {f.name: comment_for(f) for f in result.functions}
        handed_in = _cells_of(result.notebook_json)
        session = self.session
        try:
            assignment_row = session.query(Assignment).filter(Assignment.name == self.assignment).one()
            student = session.get(Student, result.student)
            if student is None:
                student = Student(id=result.student)  # an id, not a name: nbgrader db student import adds names
                session.add(student)
            submission = self._submissions().filter(SubmittedAssignment.student_id == result.student).one_or_none()
            with session.no_autoflush:  # build the whole tree, then add it at once
                if submission is None:
                    submission = SubmittedAssignment(assignment=assignment_row, student=student)
                    session.add(submission)
                have = {submitted.notebook.name for submitted in submission.notebooks}
                for notebook in assignment_row.notebooks:  # as nbgrader's add_submission mirrors the assignment
                    if notebook.name not in have:
                        session.add(_mirror(notebook, submission))
            submission.timestamp = _parse_timestamp(result.timestamp)
            for submitted in submission.notebooks:
                judged = submitted.notebook.name == self.assignment
                for grade in submitted.grades:
                    score = scores.get(grade.cell.name) if judged else None
                    cell = handed_in.get(grade.cell.name) if judged else None
                    if grade.cell.name not in scores and cell is not None and is_grade(cell) and is_solution(cell):
                        score = determine_grade(cell)[0]  # nbgrader's rule: an answer left as handed out scores 0
                    grade.auto_score = score
                    # SaveAutoGrades' rule: a person's score, or no automatic one, wants a person's look
                    grade.needs_manual_grade = grade.manual_score is not None or score is None
                for comment in submitted.comments:
                    name = comment.cell.name
                    if judged and name in comments:
                        comment.auto_comment = comments[name]
                    else:  # SaveAutoGrades' rule for an answer the judge does not read
                        cell = handed_in.get(name) if judged else None
                        unchanged = cell is not None and cell.metadata.nbgrader.get("checksum") == compute_checksum(
                            cell
                        )
                        comment.auto_comment = "No response." if unchanged and not is_task(cell) else None
            session.flush()
            self._assign_late_penalties(submission)
            standing = _standing(submission, self.assignment)
            if before_commit is not None:
                before_commit(standing)
            session.commit()
            return standing
        except SQLAlchemyError as error:
            session.rollback()
            raise GradebookError(f"could not record {result.student} in the gradebook: {_first_line(error)}") from error
        except BaseException:
            session.rollback()
            raise

    def _assign_late_penalties(self, submission) -> None:
        """nbgrader's ``AssignLatePenalties``, with the course's ``LateSubmissionPlugin``, on every notebook of
        the submission: the due date (with the student's extension) and the timestamp decide."""
        from nbgrader.preprocessors import AssignLatePenalties

        assign = AssignLatePenalties(config=self.config) if self.config is not None else AssignLatePenalties()
        assign.init_plugin()
        late = submission.total_seconds_late
        for notebook in submission.notebooks:
            self.session.expire(notebook, ["score"])
            notebook.late_submission_penalty = None
            if late > 0:
                penalty = assign.plugin_inst.late_submission_penalty(submission.student_id, notebook.score, late)
                if penalty is not None:
                    notebook.late_submission_penalty = assign._check_late_penalty(notebook, penalty)
        self.session.flush()


def _mirror(notebook, submission) -> SubmittedNotebook:
    """A submitted notebook with a Grade and Comment for each cell, as nbgrader's ``add_submission`` makes it."""
    submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
    _complete(submitted)
    return submitted


def _complete(submitted) -> None:
    """Add the Grade and Comment rows a submitted notebook lacks for cells registered after it was made."""
    notebook = submitted.notebook
    graded = {grade.cell.id for grade in submitted.grades}
    commented = {comment.cell.id for comment in submitted.comments}
    for cell in (*notebook.grade_cells, *notebook.task_cells):
        if cell.id not in graded:
            Grade(cell=cell, notebook=submitted)
    for cell in (*notebook.solution_cells, *notebook.task_cells):
        if cell.id not in commented:
            Comment(cell=cell, notebook=submitted)


def _cells_of(notebook_json: str | None) -> dict:
    """grade id -> cell of the autograded notebook (what the student handed in, restored)."""
    if not notebook_json:
        return {}
    try:  # the worker's own nbformat.writes of version 4: read (lines joined) without validating it again
        notebook = nbformat.v4.reads(notebook_json)
        return {name: cell for cell in notebook.cells if (name := grade_id(cell))}
    except Exception:  # noqa: BLE001 - a notebook that cannot be read has no answers to look at
        return {}


def _standing(submission, assignment: str) -> Standing:
    """A submission as nbgrader's gradebook scores it (its own SQL: ``score``, ``max_score``, lateness)."""
    session = object_session(submission)
    if session is not None:
        session.expire(submission, ["score", "max_score", "late_submission_penalty"])
        session.flush()
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                session.expire(grade, ["score"])
    cells = {}
    for notebook in submission.notebooks:
        if notebook.notebook.name != assignment:
            continue
        comments = {c.cell.name: c.manual_comment for c in notebook.comments}
        for grade in notebook.grades:
            cells[grade.cell.name] = {
                "score": float(grade.score),
                "points": float(grade.max_score),
                "manual": grade.manual_score is not None or grade.extra_credit is not None,
                "comment": comments.get(grade.cell.name) or None,
                "needs_manual_grade": bool(grade.needs_manual_grade),
            }
        for name, comment in comments.items():
            if name not in cells and comment:
                cells[name] = {"score": None, "points": None, "manual": False, "comment": comment}
                cells[name]["needs_manual_grade"] = False
    return Standing(
        score=float(submission.score),
        max_score=float(submission.max_score),
        late_penalty=float(submission.late_submission_penalty or 0.0),
        seconds_late=float(submission.total_seconds_late),
        cells=cells,
    )


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
    """The gradebook, registering the assignment as nbgrader's ``generate_assignment`` does (every notebook
    of source/<assignment>/, under the config's course id, with nbgrader's preprocessors configured as the
    course's nbgrader_config.py says) when it is new or source/ changed, as the run's ``GradingError`` if
    it cannot be."""
    gradebook = None
    try:
        config = load_config(course.root)
        course_id = config.get("CourseDirectory", {}).get("course_id", "") or DEFAULT_COURSE
        with nbgrader_cli.scripts_on_path():
            gradebook = GradebookAccess(db_url, course.assignment, course_id, config)
        gradebook.check_writable()
        gradebook.adopt_course()
        notebooks = sorted(course.step("source").glob("*.ipynb"))
        changes = gradebook.source_changed(notebooks)
        if changes or not gradebook.is_registered([path.stem for path in notebooks]):
            try:
                for path in notebooks:
                    gradebook.register(path, config)
            except GradebookError as error:
                raise GradebookError(
                    f"{error}. source/{course.assignment} changed after grading ({'; '.join(changes)}): nbgrader "
                    "takes new points of a cell, not cells added or removed once there are submissions"
                ) from error
            gradebook.mirror_submissions()
        return gradebook
    except (GradebookError, CourseError) as error:
        if gradebook is not None:
            gradebook.close()
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
