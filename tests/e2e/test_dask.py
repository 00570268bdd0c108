"""grade --scheduler on a real dask.distributed LocalCluster on loopback, over TLS with client certificates."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import ASSIGNMENT
from autograder.course import db_url_from_config
from autograder.pipeline import run
from autograder.settings import GradingError, Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

distributed = pytest.importorskip("distributed")
from distributed.security import Security  # noqa: E402

from ..conftest import TOTAL, page_score, score  # noqa: E402


def course_with(tmp_path, students):
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    buggy = dict(
        answers, compute_cost=answers["compute_cost"].replace("    cost = -np.sum(logprobs) / m", "    cost = 0.5")
    )
    for number in range(students):
        write_submission(
            fill_answers(release, answers if number % 2 == 0 else buggy), course, f"student{number}", ASSIGNMENT
        )
    return course


@pytest.fixture(scope="module")
def cluster():
    security = Security.temporary()
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tls://",
        security=security,
        dashboard_address=None,
    ) as cluster:
        yield cluster, security


def test_grading_on_a_tls_cluster_records_every_submission_once(tmp_path, cluster):
    """Do two Dask workers grade in their sandboxes while the client alone writes the gradebook?"""
    local, security = cluster
    assert local.scheduler_address.startswith("tls://")
    course = course_with(tmp_path, 4)
    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        limits=Limits(cell_timeout=10, submission_timeout=60),
        scheduler=local.scheduler_address,
        security=security,
        feedback=False,
    )
    summary = run(settings)
    totals = {r.student: r.total for r in summary.results}
    assert totals == {
        "student0": TOTAL,
        "student1": score("compute_cost"),
        "student2": TOTAL,
        "student3": score("compute_cost"),
    }
    assert all(r.sandboxed for r in summary.results)
    from nbgrader.api import Gradebook

    with Gradebook(settings.db_url) as gradebook:
        assert sorted((s.student_id, s.score) for s in gradebook.assignment_submissions(ASSIGNMENT)) == [
            ("student0", TOTAL),
            ("student1", score("compute_cost")),
            ("student2", TOTAL),
            ("student3", score("compute_cost")),
        ]


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_kernel_on_a_dask_worker_sees_only_what_is_on_the_allowlist(tmp_path, cluster, warm):
    from autograder.sandbox import kernel_environment, read_only_paths

    from .. import kernel_view
    from .test_kernel_view import inspector_course, views

    local, security = cluster
    course = inspector_course(tmp_path / "course")
    summary = run(
        Settings(
            course_dir=course,
            assignment=ASSIGNMENT,
            db_url=db_url_from_config(course),
            limits=Limits(cell_timeout=10, submission_timeout=60),
            scheduler=local.scheduler_address,
            security=security,
            feedback=False,
            warm_kernels=warm,
        )
    )
    assert [r.total for r in summary.results] == [TOTAL, TOTAL]
    allowed_env = set(kernel_environment(Path("/")))
    for student, view in views(course).items():
        assert kernel_view.violations(view, os.geteuid() != 0, allowed_env, read_only_paths()) == [], student


def test_a_client_without_certificates_is_turned_away(tmp_path, cluster):
    local, _ = cluster
    course = course_with(tmp_path, 1)
    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        scheduler=local.scheduler_address,
        feedback=False,
    )
    with pytest.raises(GradingError, match="cannot reach the Dask scheduler at tls://.*certificates"):
        run(settings)


def test_an_unencrypted_scheduler_is_refused_unless_asked_for(tmp_path):
    course = course_with(tmp_path, 1)
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course), "--scheduler", "tcp://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "refusing the unencrypted scheduler tcp://127.0.0.1:9" in result.stdout
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--course",
            str(course),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--insecure-scheduler",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stdout


def test_feedback_on_submit_grades_on_a_tls_cluster(tmp_path, cluster):
    """Does `watch --scheduler tls://...` grade each submission on the cluster's workers, under the same TLS rules
    as `grade`, and release its feedback?"""
    from .test_watch import fetched, graded_lines, log, make_classroom, service, wait_for

    local, security = cluster
    course, _, submit = make_classroom(tmp_path)
    files = {}
    for option, text in (
        ("--tls-ca-file", security.tls_ca_file),
        ("--tls-cert", security.tls_client_cert),
        ("--tls-key", security.tls_client_key),
    ):
        files[option] = tmp_path / option.strip("-")
        files[option].write_text(text)
    options = [item for option, path in files.items() for item in (option, str(path))]
    watcher = service(course, "--scheduler", local.scheduler_address, *options)
    try:
        home = submit("ada")
        wait_for(lambda: len(graded_lines(course, "ada")) == 1, what="the grading on the cluster")
        wait_for(lambda: "feedback released: ada" in log(course), what="its feedback")
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=120) == 0
    assert page_score(TOTAL) in fetched(home, "ada")[0]
    insecure = service(course, "--scheduler", local.scheduler_address.replace("tls://", "tcp://"))
    assert insecure.wait(timeout=120) == 2  # refused before watching anything, as grade refuses it
