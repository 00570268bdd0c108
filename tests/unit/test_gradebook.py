"""The gradebook as the grader writes it: created in process, one commit per submission, read back whole."""

import shutil

import pytest
from nbgrader.utils import parse_utc

from autograder import ASSIGNMENT
from autograder.gradebook import GradebookAccess, GradebookError, create_if_new
from autograder.results import FunctionResult, Outcome, SubmissionResult

from ..conftest import POINTS, ROOT, TOTAL, score


@pytest.fixture
def gradebook(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    create_if_new(url)
    source = tmp_path / f"{ASSIGNMENT}.ipynb"
    shutil.copy(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", source)
    with GradebookAccess(url, ASSIGNMENT) as access:
        assert not access.is_registered()
        access.register(source)
        assert access.is_registered()
        yield access


def result(student, failing=()):
    return SubmissionResult(
        student,
        [],
        [
            FunctionResult(
                name,
                points,
                0.0 if name in failing else points,
                Outcome.FAILED if name in failing else Outcome.PASSED,
                "wrong" if name in failing else "",
            )
            for name, points in POINTS.items()
        ],
        timestamp="2026-11-26 10:00:00.000000 UTC",
    )


def test_a_recorded_submission_reads_back_with_scores_and_comments(gradebook):
    gradebook.record(result("ana", failing=("predict",)))
    scores = gradebook.scores()["ana"]
    assert {name: cell["score"] for name, cell in scores.items()} == dict(POINTS, predict=0.0)
    assert scores["predict"]["comment"] == "wrong" and scores["nn_model"]["comment"] == "Passed."
    assert gradebook.graded_students() == {"ana"}


def test_recording_again_replaces_and_never_duplicates(gradebook):
    gradebook.record(result("ana", failing=("predict",)))
    gradebook.record(result("ana"))
    assert sum(cell["score"] for cell in gradebook.scores()["ana"].values()) == TOTAL
    assert len(list(gradebook._submissions())) == 1


def test_creating_twice_keeps_what_was_recorded(gradebook):
    gradebook.record(result("ana"))
    create_if_new(gradebook.db_url)
    assert gradebook.graded_students() == {"ana"}


def test_a_gradebook_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "gradebook.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(GradebookError, match="gradebook"):
        with GradebookAccess(f"sqlite:///{path}", ASSIGNMENT) as access:
            access.is_registered()


def ta_grades(gradebook, student="ana"):
    """What formgrader writes: a manual score, extra credit, a comment."""
    grade = next(g for n in gradebook._submissions().one().notebooks for g in n.grades if g.cell.name == "test_predict")
    grade.manual_score, grade.extra_credit = 7.0, 1.0
    comment = next(c for n in gradebook._submissions().one().notebooks for c in n.comments if c.cell.name == "predict")
    comment.manual_comment = "See me about predict."
    gradebook.session.commit()


def test_a_persons_grading_is_kept_and_shown_and_the_judges_record_is_unchanged(gradebook):
    """Does a regrade keep a TA's manual score, extra credit and comment, flag the cell for review as
    SaveAutoGrades does, and leave the judge's automatic scores and comments as they were?"""
    gradebook.record(result("ana", failing=("predict",)))
    ta_grades(gradebook)
    standing = gradebook.record(result("ana", failing=("predict",)))
    grade = next(g for n in gradebook._submissions().one().notebooks for g in n.grades if g.cell.name == "test_predict")
    assert (grade.auto_score, grade.manual_score, grade.extra_credit, grade.needs_manual_grade) == (0.0, 7.0, 1.0, True)
    assert gradebook.scores()["ana"]["predict"] == {
        "score": 0.0,
        "points": float(POINTS["predict"]),
        "comment": "wrong",
    }
    assert standing.score == score("predict") + 7 + 1 and standing.final == score("predict") + 8
    assert standing.cells["predict"]["comment"] == "See me about predict." and standing.by_a_person


def test_the_late_penalty_is_nbgraders_with_the_configured_plugin(gradebook):
    """Is the penalty what AssignLatePenalties computes with the course's LateSubmissionPlugin, from the
    due date, the student's extension and the timestamp?"""
    from nbgrader.api import Assignment
    from traitlets.config import Config

    row = gradebook.session.query(Assignment).one()
    row.duedate = parse_utc("2026-11-25 10:00:00 UTC")
    gradebook.session.commit()
    gradebook.config = Config({"LateSubmissionPlugin": {"penalty_method": "zero"}})
    late = gradebook.record(result("ana", failing=("predict",)))  # submitted 2026-11-26 10:00: a day late
    assert (late.late_penalty, late.seconds_late, late.final) == (score("predict"), 86400.0, 0.0)
    gradebook._gradebook.grant_extension(ASSIGNMENT, "ana", days=2)
    assert gradebook.record(result("ana", failing=("predict",))).late_penalty == 0.0


def test_students_are_ids_not_names_and_the_assignment_is_the_courses(tmp_path):
    """Is a student recorded without names, and is a default_course assignment moved to the config's course?"""
    from nbgrader.api import Assignment, Student

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    source = tmp_path / f"{ASSIGNMENT}.ipynb"
    shutil.copy(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", source)
    with GradebookAccess(url, ASSIGNMENT) as old:  # what an older grader made: default_course
        old.register(source)
    with GradebookAccess(url, ASSIGNMENT, "planar-classification") as access:
        access.adopt_course()
        assert access.session.query(Assignment).one().course_id == "planar-classification"
        access.record(result("ana"))
        assert (access.session.get(Student, "ana").last_name, access.session.get(Student, "ana").first_name) == (
            None,
            None,
        )
    with GradebookAccess(url, ASSIGNMENT, "another-course") as other:
        with pytest.raises(GradebookError, match="planar-classification"):
            other.adopt_course()


def test_student_patterns_are_globs_and_one_matching_nobody_is_an_error():
    """Does --student take nbgrader's glob patterns, and name who there is when a pattern matches nobody?"""
    from autograder.course import Course
    from autograder.pipeline import chosen
    from autograder.settings import GradingError

    course = Course(ROOT, ASSIGNMENT)
    assert chosen(["ana", "bob", "zoe"], ("z*", "ana"), course) == ["ana", "zoe"]
    with pytest.raises(GradingError, match=r"--student q\*: no submission .* ana, bob"):
        chosen(["ana", "bob"], ("q*",), course)


def test_points_changed_after_grading_follow_source_and_a_new_cell_is_refused_as_nbgrader_refuses(gradebook, tmp_path):
    """Do changed points reach the gradebook's maximum on the next registration, and is a cell added after
    grading refused with nbgrader's own message, as generate_assignment refuses it?"""
    import nbformat

    gradebook.record(result("ana"))
    source = tmp_path / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    test = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_predict")
    test.metadata.nbgrader["points"] = 20
    nbformat.write(notebook, source)
    assert gradebook.source_changed([source])
    gradebook.register(source)
    gradebook.mirror_submissions()
    assert not gradebook.source_changed([source])
    assert gradebook.record(result("ana")).max_score == 110
    written = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nanswer\n### END SOLUTION", id="written")
    written.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "task": False}
    written.metadata["nbgrader"].update(grade_id="explain", points=5, schema_version=3)
    notebook.cells.append(written)
    nbformat.write(notebook, source)
    with pytest.raises(GradebookError, match="Cannot add or remove cells"):
        gradebook.register(source)
