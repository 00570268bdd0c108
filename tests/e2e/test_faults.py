"""Only the student's own code may change a student's grade.

Faults on the grader's side (a broken solution cell, a reference that fails, a
worker that dies, a kernel that cannot start, a locked gradebook, a full disk)
stop the run before anyone is graded or leave the submissions "not graded", to be
graded by the next run; they are never recorded as zeros.
"""

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT
from autograder.course import Course, db_url_from_config
from autograder.pipeline import run
from autograder.preflight import check_disk
from autograder.settings import GradingError, Limits, Settings
from autograder.simulated.synthetic import course_notebooks, fill_answers, new_course, write_submission

from ..conftest import POINTS, TOTAL, score, shown

SOURCE = Path("source") / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def autograder(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, timeout=900)


def class_of(tmp_path, students=("alice", "bob"), buggy=("bob",)):
    """A course whose buggy students forgot tanh's derivative (they lose backward_propagation's points)."""
    course = new_course(tmp_path / "course")
    release, answers = course_notebooks()
    wrong = dict(answers, backward_propagation=answers["backward_propagation"].replace(" * (1 - A1 ** 2)", ""))
    for student in students:
        write_submission(fill_answers(release, wrong if student in buggy else answers), course, student, ASSIGNMENT)
    return course


def edit_solution(course, grade_id, old, new):
    path = course / SOURCE
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(notebook, path)


def totals(course):
    with (course / "reports" / ASSIGNMENT / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def gradebook_rows(course):
    if not (course / "gradebook.db").exists():
        return []
    with sqlite3.connect(course / "gradebook.db") as connection:
        return connection.execute("SELECT student_id FROM submitted_assignment").fetchall()


def test_a_broken_solution_cell_stops_the_run_before_anyone_is_graded(tmp_path):
    """Does an instructor's syntax error name the cell, exit 2, record nothing, and a fixed rerun grade all?"""
    course = class_of(tmp_path)
    edit_solution(course, "compute_cost", "    cost = -np.sum(logprobs) / m", "    cost = -np.sum(logprobs) /")
    result = autograder("grade", "--course", str(course), "--no-feedback")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the solution cell 'compute_cost'" in result.stdout and "does not compile" in result.stdout
    assert gradebook_rows(course) == [] and not (course / "autograded").exists()
    edit_solution(course, "compute_cost", "    cost = -np.sum(logprobs) /", "    cost = -np.sum(logprobs) / m")
    result = autograder("grade", "--course", str(course), "--no-feedback")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s: r["total"] for s, r in totals(course).items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
    }


def test_a_reference_that_fails_leaves_submissions_not_graded_and_a_rerun_grades_exactly_them(tmp_path):
    """When the reference fails on hidden cases: exit 3, 'not graded' everywhere, nothing recorded, then fixed."""
    course = class_of(tmp_path)
    edit_solution(
        course,
        "nn_model",
        "    parameters = initialize_parameters(n_x, n_h, n_y)",
        "    parameters = initialize_parameters(n_x, n_h, n_y)\n"
        "    if num_iterations < 1000:\n        raise RuntimeError('the instructor is mid-edit')",
    )
    result = autograder("grade", "--course", str(course))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "2 submission(s) NOT GRADED" in result.stdout and "Run the same command again" in result.stdout
    rows = totals(course)
    for student in ("alice", "bob"):
        assert rows[student]["total"] == "" and rows[student]["status"].startswith("not graded: the reference")
        assert "the instructor is mid-edit" in rows[student]["status"]
    assert gradebook_rows(course) == []
    assert not (course / "feedback" / "alice").exists()
    summary = (course / "reports" / ASSIGNMENT / "summary.html").read_text()
    assert "not graded" in summary and "alice" in summary

    edit_solution(
        course,
        "nn_model",
        "    if num_iterations < 1000:\n        raise RuntimeError('the instructor is mid-edit')",
        "",
    )
    result = autograder("grade", "--course", str(course))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "graded 2 submission(s)" in result.stdout
    assert {s: r["total"] for s, r in totals(course).items()} == {
        "alice": shown(TOTAL),
        "bob": shown(score("backward_propagation")),
    }


def _workers_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry))
    return found


def test_a_dying_worker_is_replaced_and_nobody_gets_a_zero(tmp_path):
    """Is a grading worker killed mid-run replaced, with every submission graded right and none recorded twice?"""
    students = [f"s{n}" for n in range(6)]
    course = class_of(tmp_path, students, buggy=("s1", "s4"))
    killed = []

    def on_progress(event, done, total, result):
        if event == "graded" and not killed:
            workers = _workers_of(os.getpid())
            assert workers
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        workers=2,
        limits=Limits(5, 60),
        feedback=False,
    )
    summary = run(settings, on_progress)
    assert killed and summary.not_graded == []
    assert {r.student: r.total for r in summary.results} == {
        s: score("backward_propagation") if s in ("s1", "s4") else TOTAL for s in students
    }
    assert sorted(gradebook_rows(course)) == [(s,) for s in students]


def test_a_kernel_that_cannot_start_stops_the_run_before_anyone_is_graded(tmp_path):
    """With kernels that cannot start (a 40 MB memory limit), is it exit 2, nothing recorded?"""
    course = class_of(tmp_path)
    result = autograder("grade", "--course", str(course), "--memory-limit", "40")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "a sandboxed grading kernel does not start" in result.stdout
    assert gradebook_rows(course) == [] and not (course / "autograded").exists()


def test_a_gradebook_another_program_holds_stops_the_run(tmp_path):
    course = class_of(tmp_path)
    assert autograder("grade", "--course", str(course), "--student", "alice", "--no-feedback").returncode == 0
    holder = sqlite3.connect(course / "gradebook.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = autograder("grade", "--course", str(course), "--no-feedback")
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "database is locked" in result.stdout and "no other program holds it" in result.stdout
    assert gradebook_rows(course) == [("alice",)]


def test_too_little_disk_space_stops_the_run(tmp_path, monkeypatch):
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=10**6))
    with pytest.raises(GradingError, match="not enough free disk space .*: 0 MB free, 38 MB needed for 3"):
        check_disk(Course(tmp_path, ASSIGNMENT), 3)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root (CI runs as root)")
def test_a_full_disk_stops_the_run_and_keeps_the_grades_recorded_so_far(tmp_path):
    """When the disk fills mid-run: a clear error, the grades recorded before it kept, then a clean resume."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    try:
        course = class_of(mount, [f"s{n}" for n in range(5)], buggy=())
        filler = mount / "filler"

        def fill_the_disk(event, done, total, result):
            if event == "graded" and not filler.exists():
                with filler.open("wb") as handle:
                    try:
                        while True:
                            handle.write(b"\0" * (1 << 20))
                    except OSError:
                        pass

        settings = Settings(
            course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course), workers=1, limits=Limits(5, 60)
        )
        with pytest.raises(GradingError, match="the disk is full"):
            run(settings, fill_the_disk)
        recorded = gradebook_rows(course)
        assert len(recorded) >= 1
        with sqlite3.connect(course / "gradebook.db") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        filler.unlink()
        summary = run(settings)
        assert summary.not_graded == [] and summary.resumed == len(recorded)
        assert sorted(gradebook_rows(course)) == [(f"s{n}",) for n in range(5)]
        assert {r.student: r.total for r in summary.results} == {f"s{n}": 100 for n in range(5)}
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_submissions_are_read_one_job_at_a_time(tmp_path, monkeypatch):
    """Are submission files read as jobs are sent (a bounded number at once), not all before grading?"""
    from autograder import pipeline

    students = [f"s{n}" for n in range(7)]
    course = class_of(tmp_path, students, buggy=())
    reads, results = [], []
    original = pipeline.read_submission
    monkeypatch.setattr(pipeline, "read_submission", lambda folder: reads.append(len(results)) or original(folder))

    def on_progress(event, done, total, result):
        if event == "graded":
            results.append(result)

    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        workers=1,
        limits=Limits(5, 60),
        feedback=False,
    )
    run(settings, on_progress)
    assert len(reads) == 7
    assert reads[:3] == [0, 0, 0] and reads[3] >= 1  # at most 2 x workers + 1 in flight


def test_lost_or_corrupt_details_are_graded_again_and_never_drop_a_graded_student(tmp_path):
    """A record the grader can no longer vouch for is graded again; one it cannot grade again (the submission
    is gone) stays in every report with its gradebook scores, marked unverified, with the command."""
    course = class_of(tmp_path)
    settings = Settings(
        course_dir=course,
        assignment=ASSIGNMENT,
        db_url=db_url_from_config(course),
        workers=2,
        limits=Limits(5, 60),
        feedback=False,
    )
    run(settings)
    details = course / ".autograder" / ASSIGNMENT / "results"
    (details / "alice.json").unlink()
    (details / "bob.json").write_text("{not json")
    summary = run(settings)
    assert summary.graded_now == 2 and summary.resumed == 0
    rows = totals(course)
    assert (rows["alice"]["total"], rows["bob"]["total"]) == (shown(TOTAL), shown(score("backward_propagation")))
    assert rows["alice"]["status"] == rows["bob"]["status"] == "ok"
    assert run(settings).graded_now == 0  # vouched for now: nothing to do

    (details / "alice.json").unlink()
    shutil.rmtree(course / "submitted" / "alice")
    summary = run(settings)
    assert summary.graded_now == 0
    rows = totals(course)
    assert rows["alice"]["total"] == shown(TOTAL) and rows["alice"]["status"].startswith(
        "unverified: the grader's record"
    )
    assert "grade --regrade --student alice" in rows["alice"]["status"]
    assert "alice" in (course / "reports" / ASSIGNMENT / "summary.html").read_text()


def test_rich_markup_in_student_text_is_shown_as_it_is(tmp_path):
    """A status quoting '[/]' (Rich's closing tag) once crashed the summary on every run."""
    course = class_of(tmp_path, ("alice",), buggy=())
    path = course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = json.loads(path.read_text())
    notebook["[/]"] = "[bold red]x"
    path.write_text(json.dumps(notebook))
    result = autograder("grade", "--course", str(course), "--no-feedback")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "'[/]' was unexpected" in result.stdout


def test_a_resubmission_whose_recording_was_cut_short_is_graded_again_with_its_own_time(tmp_path, monkeypatch):
    """A newer submission with the same scores: its details were written, then the process died before the
    gradebook's commit. The next run must not take the older record for it, or the gradebook would keep the
    older submission's time, and with it the older late penalty."""
    from autograder.gradebook import GradebookAccess

    course = class_of(tmp_path, students=("alice",), buggy=())
    stamp = course / "submitted" / "alice" / ASSIGNMENT / "timestamp.txt"
    stamp.write_text("2026-12-01 10:00:00.000000 UTC")
    settings = Settings(
        course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course), workers=1, feedback=False
    )
    assert run(settings).graded_now == 1
    stamp.write_text("2026-12-02 10:00:00.000000 UTC")  # handed in again, the same answers

    def killed_before_the_commit(self, result, before_commit=None):
        raise KeyboardInterrupt  # as kill -9 would leave it: details on disk, the gradebook as it was

    monkeypatch.setattr(GradebookAccess, "record", killed_before_the_commit)
    with pytest.raises(KeyboardInterrupt):
        run(settings)
    monkeypatch.undo()
    assert run(settings).graded_now == 1
    with sqlite3.connect(course / "gradebook.db") as connection:
        [(recorded,)] = connection.execute("SELECT timestamp FROM submitted_assignment").fetchall()
    assert recorded.startswith("2026-12-02 10:00:00")
    assert run(settings).graded_now == 0  # and vouched for from then on


def test_an_execution_count_nbformat_refuses_is_graded_on_the_answers_alone(tmp_path):
    """``get_ipython().execution_count = -1`` makes the next result's count negative, which no notebook may hold:
    the submission is graded on its answers (full marks here, every function), not left "not graded" for ever."""
    course = class_of(tmp_path, students=("alice",), buggy=())
    path = course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell("get_ipython().execution_count = -1\n41 + 1", id="count"))
    nbformat.write(notebook, path)
    settings = Settings(
        course_dir=course, assignment=ASSIGNMENT, db_url=db_url_from_config(course), workers=1, feedback=False
    )
    summary = run(settings)
    assert summary.graded_now == 1 and summary.not_graded == []
    [result] = summary.results
    assert {f.name: f.score for f in result.functions} == POINTS and totals(course)["alice"]["total"] == shown(TOTAL)
