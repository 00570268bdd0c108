"""Hidden cases stay hidden: what a student sees of them is the grader's own words.

A function that prints its inputs and raises them in its message gets, in its
feedback, gradebook comment and autograded notebook, only which case failed (by
its sizes) and how; the instructor's report keeps everything. Each new submission
draws new cases, so answers looked up from one submission's cases are worth
nothing in the next, while regrading the same submission gives the same grades.
"""

import copy
import csv
import json
import sqlite3

import numpy as np
import pytest

from autograder import ASSIGNMENT, GRADED_FUNCTIONS
from autograder.course import db_url_from_config
from autograder.grading.cases import draw_cases
from autograder.grading.reference import load_reference
from autograder.intake import read_submission, submission_name
from autograder.pipeline import run
from autograder.seeds import load_secret, seed_for
from autograder.settings import Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import TOTAL, score

LEAKY_COST = """
def compute_cost(A2, Y, parameters):
    print("LEAK" + "-PRINT", A2.tolist(), Y.tolist())  # split: the marker is only in what runs
    if A2.shape != (1, 3):  # a hidden case: put its inputs in the error message
        raise ValueError("LEAK" + "-RAISE " + repr(A2.tolist()))
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)
"""


def lookup_cost(table):
    """compute_cost as a table of answers to the cases one submission saw, and nothing else."""
    return f"""
TABLE = {table!r}

def compute_cost(A2, Y, parameters):
    return TABLE.get(repr(np.round(A2, 12).tolist()), 0.0)
"""


def settings_for(course):
    return Settings(
        course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course), workers=2, limits=Limits(5, 60)
    )


def comments(course, student):
    with sqlite3.connect(course / "gradebook.db") as connection:
        return " ".join(
            row[0] or ""
            for row in connection.execute(
                "SELECT comment.auto_comment FROM comment JOIN submitted_notebook ON comment.notebook_id = "
                "submitted_notebook.id JOIN submitted_assignment ON submitted_notebook.assignment_id = "
                "submitted_assignment.id WHERE submitted_assignment.student_id = ?",
                (student,),
            )
        )


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("hidden") / "course")
    release, answers = course_notebooks()
    write_submission(fill_answers(release, dict(answers, compute_cost=LEAKY_COST)), course, "leaky", ASSIGNMENT)
    summary = run(settings_for(course))
    return course, summary


def test_a_hidden_case_fails_in_the_graders_words_only(leaky):
    course, summary = leaky
    result = summary.results[0]
    cost = next(f for f in result.functions if f.name == "compute_cost")
    assert cost.score == 0
    assert cost.message.startswith("hidden case 1 (m=") and cost.message.endswith("compute_cost raised ValueError")
    student_sees = [
        comments(course, "leaky"),
        (course / "autograded" / "leaky" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text(),
        (course / "feedback" / "leaky" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(),
    ]
    secret = load_secret(course / ".autograder" / "secret")
    submission = read_submission(course / "submitted" / "leaky" / ASSIGNMENT)
    hidden = draw_cases("compute_cost", seed_for(secret, ASSIGNMENT, "leaky", submission_name(submission)))
    values = [f"{v:.6f}" for case in hidden for v in np.ravel(case.args[0])]
    for text in student_sees:
        assert "LEAK-RAISE" not in text and "LEAK-PRINT" not in text
        assert not any(value in text for value in values)


def test_the_instructor_sees_everything(leaky):
    course, summary = leaky
    cost = next(f for f in summary.results[0].functions if f.name == "compute_cost")
    assert "LEAK-RAISE" in cost.detail
    assert "LEAK-RAISE" in (course / "reports" / ASSIGNMENT / "summary.html").read_text()


def test_answers_looked_up_from_one_submission_are_worth_nothing_in_the_next(tmp_path):
    """The attack: see the hidden inputs of submission 1, hand in their answers as submission 2."""
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    reference = load_reference()
    secret = load_secret(course / ".autograder" / "secret")
    folder = course / "submitted" / "mallory" / ASSIGNMENT
    write_submission(fill_answers(release, answers), course, "mallory", ASSIGNMENT)
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    seen = read_submission(folder)
    cases = draw_cases("compute_cost", seed_for(secret, ASSIGNMENT, "mallory", submission_name(seen)))
    table = {
        repr(np.round(case.args[0], 12).tolist()): reference["compute_cost"](*copy.deepcopy(case.args))
        for case in cases
    }
    A2, Y, parameters = __import__("testCases").compute_cost_test_case()
    table[repr(np.round(A2, 12).tolist())] = reference["compute_cost"](A2, Y, parameters)
    lookup = fill_answers(release, dict(answers, compute_cost=lookup_cost(table)))

    write_submission(lookup, course, "mallory", ASSIGNMENT)  # same timestamp: the cases it looked up
    first = run(settings_for(course))
    assert first.results[0].total == TOTAL  # the table does answer the cases of that submission...

    (folder / "timestamp.txt").write_text("2026-11-21 09:00:00.000000 UTC")  # ...and a new submission
    settings = settings_for(course)
    settings.regrade = True
    second = run(settings)
    cost = next(f for f in second.results[0].functions if f.name == "compute_cost")
    assert cost.score == 0 and cost.message.startswith("hidden case 1")

    again = run(settings)  # regrading the same submission: the same grades
    assert [f.score for f in again.results[0].functions] == [f.score for f in second.results[0].functions]
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        assert next(csv.DictReader(handle))["compute_cost"] == "0"
    assert (
        json.loads((course / ".autograder" / ASSIGNMENT / "results" / "mallory.json").read_text())["timestamp"]
        == "2026-11-21 09:00:00.000000 UTC"
    )


def test_a_size_dependent_bug_gets_one_grade_whoever_hands_it_in(tmp_path):
    """The same notebook with b2 of shape (n_y, n_y) and W2 of one row, handed in by twelve students under
    two course secrets: every one of them gets the same scores (once, 3 in 12 got full marks)."""
    release, answers = course_notebooks()
    buggy = answers["initialize_parameters"].replace("b2 = np.zeros((n_y, 1))", "b2 = np.zeros((n_y, n_y))")
    buggy = buggy.replace("randn(n_y, n_h)", "randn(1, n_h)")
    assert buggy != answers["initialize_parameters"]
    notebook = fill_answers(release, dict(answers, initialize_parameters=buggy))
    totals = set()
    for secret in ("first secret of the course", "second secret of the course"):
        course = new_course(tmp_path / secret.split()[0])
        (course / ".autograder").mkdir()
        (course / ".autograder" / "secret").write_text(secret)
        for number in range(6):
            write_submission(notebook, course, f"student{number}", ASSIGNMENT)
        summary = run(settings_for(course))
        totals |= {tuple(f.score for f in result.functions) for result in summary.results}
    assert len(totals) == 1
    (scores,) = totals
    assert scores[GRADED_FUNCTIONS.index("initialize_parameters")] == 0 and sum(scores) == score(
        "initialize_parameters"
    )
