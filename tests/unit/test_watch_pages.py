"""What `watch` puts in the exchange in place of feedback, and beside it, so the Assignments tab shows it."""

import time

from nbgrader.utils import notebook_hash

from autograder import ASSIGNMENT
from autograder.settings import Settings
from autograder.watch import GRADING_MARK, QUEUED_MARK, Inbound, Watcher, WatchSettings


def watcher(tmp_path, workers: int = 2) -> Watcher:
    grading = Settings(course_dir=tmp_path / "course", assignment=ASSIGNMENT, db_url="sqlite://", workers=workers)
    return Watcher(WatchSettings(grading, (ASSIGNMENT,), tmp_path / "exchange", "course"))


def submission(tmp_path) -> Inbound:
    """A submission as `nbgrader submit` leaves it: the assignment, the appendix beside it, and a link that is
    not a notebook of theirs."""
    folder = tmp_path / "exchange" / "course" / "inbound" / f"li+{ASSIGNMENT}+2026-12-06 05:00:00.000000 UTC+x"
    folder.mkdir(parents=True)
    for name in (f"{ASSIGNMENT}.ipynb", "appendix.ipynb", "notes.txt"):
        (folder / name).write_text("{}")
    (folder / "linked.ipynb").symlink_to(folder / "appendix.ipynb")
    info = folder.stat()
    return Inbound(
        "li", ASSIGNMENT, None, folder, "2026-12-06 05:00:00.000000 UTC", "s3cret", (info.st_dev, info.st_ino)
    )


def outbound(tmp_path, notebook: str) -> str:
    page = (
        tmp_path / "exchange" / "course" / "feedback" / f"{notebook_hash(secret='s3cret', notebook_id=notebook)}.html"
    )
    return page.read_text() if page.exists() else ""


def test_while_graded_every_notebook_has_a_page_and_the_tab_says_when(tmp_path):
    """Is the 'being graded' page out under the assignment's name, with its time, and a page for the appendix (so
    nbgrader counts the submission as having feedback), and none for a linked file?"""
    w = watcher(tmp_path)
    inbound = submission(tmp_path)
    w.release_grading(inbound, 12)
    page = outbound(tmp_path, ASSIGNMENT)
    assert GRADING_MARK in page and "is being graded" in page and "in about 12 seconds" in page
    assert "not graded" in outbound(tmp_path, "appendix") and f"href='{ASSIGNMENT}.html'" in outbound(
        tmp_path, "appendix"
    )
    assert outbound(tmp_path, "linked") == ""
    assert len(list((tmp_path / "exchange" / "course" / "feedback").iterdir())) == 2


def test_a_queued_submission_shows_its_page_with_the_appendixs(tmp_path):
    w = watcher(tmp_path)
    w.release_queued(submission(tmp_path), time.time() + 600)
    assert QUEUED_MARK in outbound(tmp_path, ASSIGNMENT) and "is queued" in outbound(tmp_path, ASSIGNMENT)
    assert outbound(tmp_path, "appendix")


def test_the_estimate_follows_the_last_gradings_per_round_of_workers(tmp_path):
    w = watcher(tmp_path, workers=2)
    assert w.estimate(1) == 10  # no grading yet: the first guess
    for seconds in (4.0, 9.0, 5.0, 6.0):
        w.journal.add(event="graded", assignment=ASSIGNMENT, student="x", identity="i", total=100, seconds=seconds)
    assert w.estimate(1) == 6 and w.estimate(2) == 6 and w.estimate(3) == 12


def test_a_queued_page_stays_until_the_feedback_replaces_it(tmp_path):
    """A submission whose 'queued' page is out keeps it while it is graded (it already said when)."""
    w = watcher(tmp_path)
    inbound = submission(tmp_path)
    w.release_queued(inbound, time.time())
    w.release_grading(inbound, 12)
    assert QUEUED_MARK in outbound(tmp_path, ASSIGNMENT) and inbound.identity in w.started


def test_the_exchanges_feedback_folder_is_made_as_release_feedback_makes_it(tmp_path):
    """Can nobody list the pages of the others (0711), while each reads their own by its name?"""
    w = watcher(tmp_path)
    w.release_queued(submission(tmp_path), time.time() + 600)
    assert (tmp_path / "exchange" / "course" / "feedback").stat().st_mode & 0o777 == 0o711


def test_a_folder_replaced_by_a_link_after_its_check_names_no_notebook_of_the_place_it_points_to(tmp_path):
    w = watcher(tmp_path)
    inbound = submission(tmp_path)
    secret_place = tmp_path / "root-only"
    secret_place.mkdir()
    (secret_place / "final-exam-answers.ipynb").write_text("{}")
    inbound.folder.rename(tmp_path / "moved")
    inbound.folder.symlink_to(secret_place, target_is_directory=True)
    w.release_ungraded(inbound)
    assert (
        not (tmp_path / "exchange" / "course" / "feedback").exists() or outbound(tmp_path, "final-exam-answers") == ""
    )
