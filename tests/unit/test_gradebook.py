"""The gradebook as the grader writes it: created in process, one commit per submission, read back whole."""

import shutil

import pytest

from autograder import ASSIGNMENT
from autograder.gradebook import GradebookAccess, GradebookError, create_if_new
from autograder.results import FunctionResult, Outcome, SubmissionResult

from ..conftest import POINTS, ROOT


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
    assert sum(cell["score"] for cell in gradebook.scores()["ana"].values()) == 100
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
