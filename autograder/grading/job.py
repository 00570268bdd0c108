"""One grading job as plain data: what a worker needs of the course and of one submission."""

from __future__ import annotations

import dataclasses

import nbformat

from ..course import Course
from ..intake import Submission
from ..sandbox import SandboxLimits
from ..settings import Limits
from .submission import release_from_source


@dataclasses.dataclass
class CourseBundle:
    """What grading needs of the course, as data: it travels to workers on other machines."""

    assignment: str
    source_notebook: str  # the instructor notebook (JSON): solutions, hence the reference
    release_notebook: str  # the student version (JSON): the test cells to restore
    helpers: dict  # file name -> bytes: the non-notebook files of source/<assignment>/

    @classmethod
    def from_course(cls, course: Course) -> CourseBundle:
        source = course.source_notebook.read_text(encoding="utf-8")
        release = (
            course.release_notebook.read_text(encoding="utf-8")
            if course.release_notebook.is_file()
            else nbformat.writes(release_from_source(nbformat.reads(source, as_version=4)))
        )
        helpers = {
            p.name: p.read_bytes()
            for p in sorted(course.step("source").iterdir())
            if p.is_file() and p.suffix != ".ipynb"
        }
        return cls(course.assignment, source, release, helpers)


@dataclasses.dataclass
class Job:
    """Everything a worker needs to grade one submission (plain data, picklable)."""

    student: str
    seed: int
    course: CourseBundle
    submission: Submission | None  # None: the folder vanished
    limits: Limits = dataclasses.field(default_factory=Limits)
    sandbox: SandboxLimits | None = None  # the sandbox's limits; None: run without one
    warm_kernels: bool = True  # fork kernels from a process that imported the libraries already
    feedback: bool = True  # render the student's feedback page too
    identity: str | None = None  # which submission this is (intake.submission_name), kept with its result


class GraderFault(Exception):
    """Grading failed on the grader's side; the submission is not graded (the message says why)."""
