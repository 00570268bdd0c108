"""The course on disk: student ids, and submissions read safely whatever an archive put in them."""

import os
import stat
import threading

import pytest

from autograder.course import Course, CourseError
from autograder.intake import MAX_FILE_BYTES, MAX_NOTEBOOK_BYTES, discover, read_submission, student_id_problem
from autograder.seeds import seed_for

A = "planar_data_classification"


@pytest.mark.parametrize("name", ["alice", "José", "李雷", "a.b@uni.edu", "x+1", "=cmd", "s-01_a"])
def test_valid_student_ids(name):
    assert student_id_problem(name) is None


@pytest.mark.parametrize(
    "name, why",
    [
        ("alice\n", "'\\n'"),
        ("bob smith", "' '"),
        (".hidden", "hidden"),
        ("a/b", "'/'"),
        ("x" * 129, "longer than 128"),
        ("", "empty"),
        ("tab\tname", "'\\t'"),
        ("bad\udcff", "UTF-8"),
    ],
)
def test_invalid_student_ids_are_named(name, why):
    assert why in student_id_problem(name)


def make_course(tmp_path):
    course = Course(tmp_path, A)
    (tmp_path / "submitted").mkdir()
    return course


def submission_folder(course, student):
    folder = course.step("submitted", student)
    folder.mkdir(parents=True)
    (folder / f"{A}.ipynb").write_text("{}")
    return folder


def test_discover_skips_links_and_invalid_ids_and_says_why(tmp_path):
    course = make_course(tmp_path)
    submission_folder(course, "alice")
    submission_folder(course, "José")
    submission_folder(course, "alice\n")
    (tmp_path / "source" / A).mkdir(parents=True)
    (tmp_path / "submitted" / "mallory").mkdir()
    os.symlink(tmp_path / "source" / A, tmp_path / "submitted" / "mallory" / A)  # the solutions, as a submission
    os.symlink(tmp_path / "submitted" / "alice", tmp_path / "submitted" / "eve")
    (tmp_path / "submitted" / "other-assignment-only").mkdir()
    students, skipped = discover(course)
    assert students == ["José", "alice"]
    reasons = {s.name: s.reason for s in skipped}
    assert set(reasons) == {"alice\\n", "mallory", "eve"}
    assert "symbolic link" in reasons["mallory"] and "symbolic link" in reasons["eve"]
    assert "not a valid student id" in reasons["alice\\n"]


def test_read_submission_reads_regular_files_and_names_everything_else(tmp_path):
    course = make_course(tmp_path)
    folder = submission_folder(course, "mallory")
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    os.link(secret, folder / "hardlink.txt")
    os.symlink(secret, folder / "symlink.txt")
    os.mkfifo(folder / "fifo.txt")
    (folder / "sub").mkdir()
    (folder / "notes.txt").write_text("hello")
    submission = read_submission(folder)
    assert set(submission.files) == {f"{A}.ipynb", "notes.txt"}
    assert dict(submission.ignored) == {
        "hardlink.txt": "hard link",
        "symlink.txt": "symbolic link",
        "fifo.txt": "FIFO",
        "sub": "folder",
    }
    assert "hardlink.txt (hard link)" in submission.note()


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device file needs root (CI runs as root)")
def test_device_files_are_not_read(tmp_path):
    course = make_course(tmp_path)
    folder = submission_folder(course, "mallory")
    os.mknod(folder / "zero.py", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero
    assert dict(read_submission(folder).ignored) == {"zero.py": "device"}


def test_a_fifo_named_timestamp_does_not_hang_the_grader(tmp_path):
    course = make_course(tmp_path)
    folder = submission_folder(course, "mallory")
    os.mkfifo(folder / "timestamp.txt")
    found = {}
    reader = threading.Thread(target=lambda: found.update(submission=read_submission(folder)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading the submission blocked on a FIFO"
    assert found["submission"].timestamp is None and ("timestamp.txt", "FIFO") in found["submission"].ignored


def test_size_limits(tmp_path):
    course = make_course(tmp_path)
    folder = submission_folder(course, "big")
    (folder / f"{A}.ipynb").write_bytes(b" " * (MAX_NOTEBOOK_BYTES + 1))
    (folder / "data.bin").write_bytes(b"0" * (MAX_FILE_BYTES + 1))
    for number in range(12):  # 12 x 4.5 MB: over the 50 MB of a submission
        (folder / f"part{number:02d}.bin").write_bytes(b"0" * (MAX_FILE_BYTES - 500_000))
    submission = read_submission(folder)
    assert submission.files[f"{A}.ipynb"] is None  # kept, reported as too large
    assert dict(submission.ignored)["data.bin"] == "larger than 5 MB"
    assert sum(len(v or b"") for v in submission.files.values()) <= 50 * 1024 * 1024
    assert any("over the 50 MB" in why for _, why in submission.ignored)


def test_a_submission_folder_that_is_a_symlink_is_not_followed(tmp_path):
    course = make_course(tmp_path)
    (tmp_path / "source" / A).mkdir(parents=True)
    (tmp_path / "source" / A / f"{A}.ipynb").write_text("solutions")
    (tmp_path / "submitted" / "mallory").mkdir()
    os.symlink(tmp_path / "source" / A, tmp_path / "submitted" / "mallory" / A)
    submission = read_submission(course.step("submitted", "mallory"))
    assert submission.files == {} and submission.ignored == [(A, "symbolic link")]


def test_each_new_submission_draws_new_cases_and_the_same_one_the_same():
    secret = b"0123456789abcdef"
    assert seed_for(secret, A, "alice", "timestamp:1") == seed_for(secret, A, "alice", "timestamp:1")
    assert seed_for(secret, A, "alice", "timestamp:1") != seed_for(secret, A, "alice", "timestamp:2")
    assert seed_for(secret, A, "alice", "timestamp:1") != seed_for(secret, A, "bob", "timestamp:1")
    assert seed_for(secret, f"{A}_zh", "alice", "t") == seed_for(secret, A, "alice", "t")


def test_the_layout_is_nbgraders_as_the_course_config_sets_it(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.submitted_directory = 'collected'\nc.CourseDirectory.groupshared = True\n"
    )
    course = Course.of(tmp_path, A)
    assert course.step("submitted", "bob") == tmp_path / "collected" / "bob" / A
    assert course.step("release") == tmp_path / "release" / A and course.folder("submitted") == tmp_path / "collected"
    assert course.feedback_mode == 0o664 and Course.of(tmp_path / "elsewhere", A).feedback_mode == 0o644
    submission_folder(course, "bob")
    assert discover(course) == (["bob"], [])


def test_a_layout_the_grader_cannot_read_is_refused_with_the_setting_named(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.directory_structure = '{student_id}/{nbgrader_step}/{assignment_id}'\n"
    )
    with pytest.raises(CourseError, match="directory_structure"):
        Course.of(tmp_path, A)
