"""grade --scheduler on a real dask.distributed LocalCluster on loopback."""

import pytest

from autograder import ASSIGNMENT
from autograder.judge import Limits
from autograder.course import db_url_from_config
from autograder.pipeline import GradingError, Settings, run
from autograder.synthetic import course_notebooks, fill_answers, new_course, write_submission

distributed = pytest.importorskip("distributed")


def course_with(tmp_path, students):
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    buggy = dict(answers, compute_cost=answers["compute_cost"].replace("    cost = -np.sum(logprobs) / m",
                                                                       "    cost = 0.5"))
    for number in range(students):
        write_submission(fill_answers(release, answers if number % 2 == 0 else buggy), course,
                         f"student{number}", ASSIGNMENT)
    return course


def test_grading_on_a_dask_cluster_records_every_submission_once(tmp_path):
    """Do two Dask workers grade in their sandboxes while the client alone writes the gradebook?"""
    course = course_with(tmp_path, 4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        settings = Settings(course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course),
                            limits=Limits(cell_timeout=10, submission_timeout=60), scheduler=cluster.scheduler_address,
                            feedback=False)
        summary = run(settings)
        workers = {w.pid for w in cluster.workers.values()} if hasattr(cluster, "workers") else set()
    totals = {r.student: r.total for r in summary.results}
    assert totals == {"student0": 100, "student1": 90, "student2": 100, "student3": 90}
    assert all(r.sandboxed for r in summary.results)
    from nbgrader.api import Gradebook

    with Gradebook(settings.db_url) as gradebook:
        assert sorted((s.student_id, s.score) for s in gradebook.assignment_submissions(ASSIGNMENT)) == \
            [("student0", 100), ("student1", 90), ("student2", 100), ("student3", 90)]
    assert workers  # the cluster really had worker processes


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    course = course_with(tmp_path, 1)
    settings = Settings(course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course),
                        scheduler="tcp://127.0.0.1:9", feedback=False)
    with pytest.raises(GradingError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run(settings)
