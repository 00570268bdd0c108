"""nbgrader's own commands grade through the judge: the parts nbgrader_config.py plugs into them.

``nbgrader autograde`` and formgrader's Autograde button run nbgrader's ``Autograde``
converter, and Generate Feedback its ``GenerateFeedback``; both are lists of parts that
the course's configuration names. There, instead of the parts that execute the
student's notebook in an unguarded kernel:

- ``SubmissionExporter`` (``Autograde.exporter_class``) reads a notebook nbgrader could
  not (invalid JSON, say) as an empty one, so the judge, which reads the submission
  itself, grades it with the reason, as ``grade`` does;
- no sanitizing step: the judge restores the test cells from release/ itself;
- ``JudgeSubmission``, in place of ``Execute``: grades the submission exactly as
  ``python -m autograder grade`` does (the same job, seed, limits and sandbox) and hands
  on the judged notebook, whose test cells hold the verdicts; a submission the grader
  fails on is not graded (the step raises), never a zero;
- nbgrader's own ``SaveAutoGrades`` then scores those cells by its rule;
- ``RecordVerdicts`` records what ``grade`` records: the comments in the gradebook, the
  sealed details beside it, the feedback page;
- ``tidy`` (post-convert hook of both) leaves in autograded/ and feedback/ what ``grade``
  leaves there: the notebook or page, timestamp.txt and submission_secret.txt;
- ``FeedbackExporter`` (``GenerateFeedback.exporter_class``) renders the judge's page.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter, NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from .course import Course, db_url_from_config
from .intake import METADATA_FILES, read_submission, ungraded_notebooks
from .sandbox import SandboxLimits
from .seeds import load_secret
from .settings import Limits, Settings, sandbox_limits


class JudgeFailure(Exception):
    """The judge could not grade this submission (the grader's side): nothing is recorded for it."""


def _course(part, assignment: str) -> Course:
    """The assignment in the course directory of the converter a preprocessor or exporter belongs to."""
    while part is not None:
        coursedir = getattr(part, "coursedir", None)
        if coursedir is not None:
            return Course.from_directory(coursedir, assignment)
        part = getattr(part, "parent", None)
    raise RuntimeError("this preprocessor runs only inside an nbgrader converter (autograde, generate_feedback)")


def _inert(notebook, release=None):
    """A notebook of the student's that nothing grades, made safe to show: no outputs (they never ran
    here), no grading markup, markdown and raw cells as text unless they are the release's own."""
    from .sandbox.outputs import safe_cell
    from .sanitize import Allowance

    trusted = {c.get("id"): c.source for c in release.cells if c.cell_type == "markdown"} if release else {}
    allowance = Allowance()
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            safe_cell(cell, trusted.get(cell.get("id")), allowance)
    return notebook


class SubmissionExporter(NotebookExporter):
    """nbgrader's notebook exporter, which reads any file: what is not a notebook becomes an empty one."""

    def from_filename(self, filename, resources=None, **kw):
        try:
            return super().from_filename(filename, resources, **kw)
        except Exception:  # noqa: BLE001 - the judge reads the file itself and names what is wrong with it
            return self.from_notebook_node(nbformat.v4.new_notebook(), resources, **kw)


class JudgeSubmission(NbGraderPreprocessor):
    """Grade the submission with the judge, as ``python -m autograder grade`` does; the judged notebook out."""

    cell_timeout = Float(
        Limits.cell_timeout, help="CPU seconds one student cell, or one function's cases, may use"
    ).tag(config=True)
    submission_timeout = Float(Limits.submission_timeout, help="CPU seconds one submission may use in all").tag(
        config=True
    )
    memory_limit = Integer(SandboxLimits.memory_mb, help="address space of one sandboxed kernel, in MB").tag(
        config=True
    )
    sandbox = Bool(True, help="run the student's kernel in the sandbox (off: WITHOUT isolation)").tag(config=True)
    warm_kernels = Bool(True, help="fork kernels from a process that imported the libraries already").tag(config=True)

    def settings(self, course: Course) -> Settings:
        limits = Limits(self.cell_timeout, self.submission_timeout)
        return Settings(
            course_dir=course.root,
            assignment=course.assignment,
            layout=course,
            db_url=db_url_from_config(course.root),
            workers=1,
            limits=limits,
            sandbox=sandbox_limits(limits, self.memory_limit) if self.sandbox else None,
            warm_kernels=self.warm_kernels,
        )

    def preprocess(self, nb, resources):
        from .grading.job import CourseBundle
        from .grading.worker import grade
        from .pipeline import job_for

        info = resources["nbgrader"]
        if info["notebook"] != info["assignment"]:  # another notebook of the assignment (the appendix): no grade
            resources["autograder"] = None
            release = _course(self, info["assignment"]).step("release") / f"{info['notebook']}.ipynb"
            return _inert(nb, nbformat.read(release, as_version=4) if release.is_file() else None), resources
        course = _course(self, info["assignment"])
        settings = self.settings(course)
        secret = load_secret(course.secret_file)
        submission = read_submission(course.step("submitted", info["student"]))
        job = job_for(settings, CourseBundle.from_course(course), secret, info["student"], submission)
        result = grade(job)
        if not result.graded:
            raise JudgeFailure(f"{info['student']} was not graded: {result.status}")
        resources["autograder"] = {"result": result, "secret": secret, "submission": submission}
        return nbformat.reads(result.notebook_json, as_version=4), resources


class RecordVerdicts(NbGraderPreprocessor):
    """After nbgrader's SaveAutoGrades: record the judge's verdicts as ``grade`` does."""

    def preprocess(self, nb, resources):
        from .grading.feedback import markdown_of
        from .pipeline import record
        from .results import ResultStore

        judged = resources["autograder"]
        if judged is None:
            return nb, resources
        result, submission = judged["result"], judged["submission"]
        info = resources["nbgrader"]
        course = _course(self, info["assignment"])
        release = course.release_notebook
        trusted = markdown_of(release.read_text(encoding="utf-8")) if release.is_file() else frozenset()
        with _gradebook(self, info["db_url"], course) as gradebook:
            store = ResultStore(gradebook, course.results, judged["secret"])
            record(store, course, result, submission.secret if submission else None, trusted)
        return nb, resources


class FeedbackExporter(HTMLExporter):
    """Generate Feedback's exporter: the judge's page of the autograded notebook, with the judge's verdicts."""

    def from_notebook_node(self, nb, resources=None, **kw):
        from .grading.feedback import markdown_of, render, render_ungraded
        from .results import ResultStore

        resources = dict(resources or {})
        resources["output_extension"] = ".html"
        info = resources["nbgrader"]
        course = _course(self, info["assignment"])
        release = course.step("release") / f"{info['notebook']}.ipynb"
        trusted = markdown_of(release.read_text(encoding="utf-8")) if release.is_file() else frozenset()
        if info["notebook"] != course.assignment:
            return render_ungraded(nb, info["notebook"], trusted), resources
        with _gradebook(self, info["db_url"], course) as gradebook:
            store = ResultStore(gradebook, course.results, load_secret(course.secret_file))
            result = store.result(info["student"])
        if result is None:
            raise JudgeFailure(f"{info['student']} has no grade for {course.assignment}: autograde it first")
        result.notebook_json = nbformat.writes(nb)
        return render(result, course.assignment, trusted, result.standing), resources


def _gradebook(part, db_url: str, course: Course):
    """The gradebook as the converter's configuration names it: its course id, its late-submission plugin."""
    from .gradebook import GradebookAccess

    config, coursedir = None, None
    while part is not None and coursedir is None:
        config, coursedir = getattr(part, "config", config), getattr(part, "coursedir", None)
        part = getattr(part, "parent", None)
    course_id = coursedir.course_id if coursedir is not None else ""
    return GradebookAccess(db_url, course.assignment, course_id, config)


def tidy(assignment=None, student=None, notebooks=()) -> None:
    """After Autograde and GenerateFeedback: autograded/ and feedback/ keep what ``grade`` writes there (the
    notebook, its page, timestamp.txt, submission_secret.txt), not the helper files nbgrader copies along."""
    paths = [Path(notebook) for notebook in notebooks]
    keep = {*METADATA_FILES, *(f"{path.stem}{suffix}" for path in paths for suffix in (".ipynb", ".html"))}
    for path in paths:
        root, student_id, assignment_id = path.parents[3], path.parents[1].name, path.parent.name
        course = Course.of(root, assignment_id)  # the folders as the course's config names them
        # the pages of the notebooks nothing grades (the appendix): nbgrader's exchange needs one for each
        pages = {f"{nb}.html" for nb in ungraded_notebooks(course.step("submitted", student_id), assignment_id)}
        for step in ("autograded", "feedback"):
            folder = course.step(step, student_id)
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name not in keep | (pages if step == "feedback" else set()) and (
                    entry.is_file() or entry.is_symlink()
                ):
                    with contextlib.suppress(OSError):
                        entry.unlink()
