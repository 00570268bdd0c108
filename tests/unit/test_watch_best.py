"""The "best" policy's bookkeeping: a restore is journaled until it is done, and folders are replaced whole."""

from autograder.watch import Journal

from .test_watch_pages import watcher


def test_a_restore_is_journaled_until_it_is_done_across_a_restart(tmp_path):
    """Is a best submission being put back remembered by a journal read again from the disk (a service killed in
    between), and forgotten once it is done?"""
    journal = Journal(tmp_path / "journal.jsonl")
    journal.add(event="restoring", assignment="a", student="ana")
    journal.add(event="restoring", assignment="a", student="ben")
    journal.add(event="restored", assignment="a", student="ben")
    assert Journal(tmp_path / "journal.jsonl").unrestored() == [("a", "ana")]
    journal.add(event="restored", assignment="a", student="ana")
    assert Journal(tmp_path / "journal.jsonl").unrestored() == []


def test_a_folder_is_replaced_whole_and_a_copy_left_aside_by_a_crash_is_cleared(tmp_path):
    """Does ``copy_whole`` leave the target a full copy of the source, whatever a killed service left aside?"""
    service = watcher(tmp_path)
    source, target = tmp_path / "best" / "ana", tmp_path / "submitted" / "ana"
    source.mkdir(parents=True)
    (source / "nb.ipynb").write_text("best")
    target.mkdir(parents=True)
    (target / "nb.ipynb").write_text("worse")
    (target / "extra.txt").write_text("only in the worse one")
    aside = service.settings.state / "staging"
    (aside / "ana.new").mkdir(parents=True)
    (aside / "ana.new" / "half").write_text("cut by a crash")
    service.copy_whole(source, target)
    assert sorted(p.name for p in target.iterdir()) == ["nb.ipynb"] and (target / "nb.ipynb").read_text() == "best"
    assert list(aside.iterdir()) == []
    missing = tmp_path / "submitted" / "ben"  # a crash between the renames left no folder: it is made
    service.copy_whole(source, missing)
    assert (missing / "nb.ipynb").read_text() == "best"
