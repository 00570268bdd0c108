"""The course on disk: where nbgrader's configuration puts each step's folders, and that configuration.

What is in ``submitted/`` (who submitted, what, read safely) is ``intake``'s; the grader's secret and
the seeds of hidden cases are ``seeds``'.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

STATE_DIR = ".autograder"  # the grader's own files in the course: secret, details (never seen by kernels)


class CourseError(Exception):
    """The course cannot be graded as laid out; the message says why and what to do."""


STEPS = ("source", "release", "submitted", "autograded", "feedback")
DEFAULT_STRUCTURE = "{nbgrader_step}/{student_id}/{assignment_id}"


@dataclasses.dataclass(frozen=True)
class Course:
    """One assignment in an nbgrader course directory, laid out as its nbgrader_config.py says.

    Paths come from nbgrader's own ``CourseDirectory`` (its ``format_path`` and its
    ``<step>_directory`` settings); ``Course.of`` reads them from the course's config.
    Plain data, so a course travels to a worker.
    """

    root: Path
    assignment: str
    folders: tuple[tuple[str, str], ...] = ()  # (step, folder) where the config renames a step's folder
    groupshared: bool = False  # c.CourseDirectory.groupshared: files for the group to write as well

    def __post_init__(self):
        object.__setattr__(self, "root", Path(os.path.abspath(self.root)))  # as nbgrader's CourseDirectory.root

    @classmethod
    def of(cls, root: Path | str, assignment: str, config=None) -> Course:
        """The course at ``root`` as configured (``config``: a traitlets Config; default: the course's file)."""
        from nbgrader.coursedir import CourseDirectory

        config = load_config(Path(root)) if config is None else config
        return cls.from_directory(CourseDirectory(config=config, root=str(root)), assignment)

    @classmethod
    def from_directory(cls, directory, assignment: str) -> Course:
        """The assignment in an nbgrader ``CourseDirectory`` (an nbgrader command's ``coursedir``)."""
        if directory.directory_structure != DEFAULT_STRUCTURE:
            raise CourseError(
                f"c.CourseDirectory.directory_structure is {directory.directory_structure!r}: the grader reads "
                f"courses laid out as nbgrader's default, {DEFAULT_STRUCTURE!r}"
            )
        folders = tuple((step, getattr(directory, f"{step}_directory")) for step in STEPS)
        renamed = tuple((step, folder) for step, folder in folders if folder != step)
        return cls(Path(directory.root), assignment, renamed, bool(directory.groupshared))

    @property
    def feedback_mode(self) -> int:
        """nbgrader's permissions for feedback files: readable by all (release_feedback copies the mode)."""
        return 0o664 if self.groupshared else 0o644

    def folder(self, step: str) -> Path:
        """The folder of one step (``root/submitted``, say), holding one folder per student or assignment."""
        return self.root / dict(self.folders).get(step, step)

    def step(self, name: str, student: str | None = None) -> Path:
        """``root/<step>/<student>/<assignment>`` (or ``root/<step>/<assignment>`` without a student)."""
        from nbgrader.coursedir import CourseDirectory

        folder = dict(self.folders).get(name, name)
        return Path(CourseDirectory(root=str(self.root)).format_path(folder, student or ".", self.assignment))

    @property
    def source_notebook(self) -> Path:
        return self.step("source") / f"{self.assignment}.ipynb"

    @property
    def release_notebook(self) -> Path:
        return self.step("release") / f"{self.assignment}.ipynb"

    @property
    def reports(self) -> Path:
        return self.root / "reports" / self.assignment

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR / self.assignment

    @property
    def results(self) -> Path:
        """The sealed details of each student's graded submission, beside the gradebook's scores."""
        return self.state / "results"

    @property
    def secret_file(self) -> Path:
        return self.root / STATE_DIR / "secret"


def sqlite_path(db_url: str) -> Path | None:
    """The file of an SQLite URL, None for other databases."""
    prefix = "sqlite:///"
    return Path(db_url[len(prefix) :]) if db_url.startswith(prefix) else None


# -- the course's configuration ----------------------------------------------------------------------


def load_config(course_dir: Path):
    """The course's nbgrader_config.py as a traitlets Config (empty when there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config_file = Path(course_dir) / "nbgrader_config.py"
    if not config_file.is_file():
        return Config()
    try:
        return PyFileConfigLoader(config_file.name, path=str(course_dir)).load_config()
    except Exception as error:  # any error in the instructor's config file
        raise CourseError(f"cannot load {config_file}: {type(error).__name__}: {error}") from error


def db_url_from_config(course_dir: Path, config=None) -> str:
    """The gradebook URL of the course's nbgrader_config.py (sqlite:///gradebook.db if unset).

    A relative SQLite path is taken relative to the course directory, as nbgrader does.
    """
    config = load_config(course_dir) if config is None else config
    url = "sqlite:///gradebook.db"
    if "CourseDirectory" in config:
        url = config.CourseDirectory.get("db_url", url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{(Path(course_dir) / url[len('sqlite:///') :]).resolve()}"
    return url


def assignments(course_dir: Path) -> tuple[Path, list[str]]:
    """The course's source folder, and the assignments in it."""
    source = Course.of(course_dir, "").folder("source")
    return source, sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def default_assignment(course_dir: Path) -> str:
    """The only assignment in source/, or else the only one that has submissions."""
    source, names = assignments(course_dir)
    if len(names) == 1:
        return names[0]
    submitted = [name for name in names if any(Course.of(course_dir, name).folder("submitted").glob(f"*/{name}"))]
    if len(submitted) == 1:
        return submitted[0]
    raise CourseError(
        f"{source} holds {len(names)} assignments ({', '.join(names) or 'none'})"
        f"{f', {len(submitted)} with submissions' if names else ''}; name one with --assignment"
    )
