"""The exchange read as hostile input: files opened without links or blocking, text validated, copies bounded."""

import os
import socket
import time

import pytest

from autograder import exchange
from autograder.intake import MAX_FILE_BYTES


@pytest.fixture()
def folder(tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield tmp_path, fd
    os.close(fd)


def test_a_timestamp_as_nbgrader_writes_it_is_read(folder):
    path, fd = folder
    (path / "timestamp.txt").write_text("2026-12-06 05:30:00.123456 UTC")
    assert exchange.read_text(fd, "timestamp.txt", exchange.TIMESTAMP) == "2026-12-06 05:30:00.123456 UTC"


@pytest.mark.parametrize(
    "text",
    ["2026-12-06 05:30:00 UTC\n2030-01-01T00:00:00Z graded: x 100/100", "<script>", "x" * 100, "2026-12-06\x00"],
)
def test_a_timestamp_nbgrader_could_not_have_written_is_refused(folder, text):
    path, fd = folder
    (path / "timestamp.txt").write_text(text)
    with pytest.raises(exchange.Unacceptable, match="not nbgrader's"):
        exchange.read_text(fd, "timestamp.txt", exchange.TIMESTAMP)


def test_links_fifos_sockets_folders_and_hard_links_are_refused_without_blocking(folder, tmp_path_factory):
    path, fd = folder
    secret = tmp_path_factory.mktemp("course") / "secret"
    secret.write_text("the course's secret")
    (path / "link").symlink_to(secret)
    os.mkfifo(path / "fifo")  # opening it for reading would block: it must not
    (path / "folder").mkdir()
    (path / "data").write_text("x")
    os.link(path / "data", path / "data2")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path / "sock"))
        for name, why in [
            ("link", "symbolic link"),
            ("fifo", "FIFO"),
            ("folder", "folder"),
            ("data", "hard link"),
            ("sock", "No such device or address"),
        ]:
            with pytest.raises(exchange.Unacceptable, match=why):
                exchange.read_file(fd, name, 100)


def test_a_file_larger_than_allowed_is_refused_and_a_missing_one_is_not_yet_there(folder):
    path, fd = folder
    (path / "big").write_bytes(b"x" * 101)
    with pytest.raises(exchange.Unacceptable, match="larger than 100 bytes"):
        exchange.read_file(fd, "big", 100)
    with pytest.raises(exchange.NotYet):
        exchange.read_file(fd, "timestamp.txt", 100)
    (path / "empty.txt").write_text("")
    with pytest.raises(exchange.NotYet):
        exchange.read_text(fd, "empty.txt", exchange.SECRET)


def test_a_copy_takes_what_grade_reads_and_names_what_it_left_out(tmp_path):
    source = tmp_path / "inbound" / "ada+planar+2026"
    (source / "data").mkdir(parents=True)
    (source / "planar.ipynb").write_text("{}")
    (source / "timestamp.txt").write_text("2026-01-01 00:00:00 UTC\nforged")
    (source / "big.bin").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    os.mkfifo(source / "pipe")
    (source / "secret").symlink_to(tmp_path / "elsewhere")
    fd = exchange.open_folder(source)
    try:
        skipped = exchange.copy_submission(fd, tmp_path / "copy", {"timestamp.txt": "2026-01-01 00:00:00 UTC"})
    finally:
        os.close(fd)
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["planar.ipynb", "timestamp.txt"]
    assert (tmp_path / "copy" / "timestamp.txt").read_text() == "2026-01-01 00:00:00 UTC"  # as validated
    assert sorted(skipped) == [
        "big.bin (larger than 5 MB)",
        "data (folder)",
        "pipe (FIFO)",
        "secret (symbolic link)",
    ]


def _watcher(tmp_path):
    from autograder.settings import Settings
    from autograder.watch import Watcher, WatchSettings

    exchange_root = tmp_path / "exchange"
    (exchange_root / "course" / "inbound").mkdir(parents=True, exist_ok=True)
    settings = Settings(course_dir=tmp_path / "course", assignment="planar", db_url="sqlite://")
    return Watcher(WatchSettings(settings, ("planar",), exchange_root, "course", check_owner=False))


def _submitted(inbound, name, notebook="{}"):
    folder = inbound / name
    folder.mkdir()
    (folder / "planar.ipynb").write_text(notebook)
    (folder / "timestamp.txt").write_text("2026-12-06 05:30:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("a" * 128)
    return folder


def test_a_folder_swapped_after_its_check_is_refused_and_nothing_of_it_collected(tmp_path):
    from autograder.course import Course

    watcher = _watcher(tmp_path)
    inbound = watcher.settings.inbound
    folder = _submitted(inbound, "ada+planar+2026-12-06 05:30:00.000000 UTC+x1")
    (submission,) = watcher.inbound()
    folder.rename(inbound.parent / "away")
    _submitted(inbound, folder.name, notebook='{"not": "ada\'s"}')  # the same name, another folder
    course = Course(tmp_path / "course", "planar")
    assert watcher.collect(course, submission) is False
    assert not course.step("submitted", "ada").exists()
    assert watcher.journal.refused() == {folder.name}
    assert "the folder was replaced after it was checked" in watcher.log_path.read_text()
    assert watcher.inbound() == []  # refused for good


def test_a_refused_folder_of_any_name_is_journaled_and_its_name_logged_printably(tmp_path):
    watcher = _watcher(tmp_path)
    name = "ada+planar+2026-12-06 05:30:00.000000 UTC+\udcff\n"  # undecodable bytes and a newline
    folder = _submitted(watcher.settings.inbound, name)
    (folder / "timestamp.txt").write_text("forged\n2030-01-01T00:00:00Z graded: ada 100/100")
    assert watcher.inbound() == []
    assert watcher.journal.refused() == {name}
    (line,) = watcher.log_path.read_text().splitlines()
    assert "timestamp.txt is not nbgrader's" in line and "UTC+\ufffd\\n: " in line  # one line, shown printably


def test_a_folder_owned_by_another_account_than_the_student_it_names_is_refused(folder):
    path, fd = folder
    me = exchange.owner_name(os.getuid())
    exchange.check_owner(fd, me)
    with pytest.raises(exchange.Unacceptable, match=f"claims to be daemon's but is owned by {me}"):
        exchange.check_owner(fd, "daemon")


def test_a_folder_that_never_gets_its_timestamp_is_refused_after_a_while(tmp_path, monkeypatch):
    import autograder.watch

    watcher = _watcher(tmp_path)
    folder = _submitted(watcher.settings.inbound, "ada+planar+2026-12-06 05:30:00.000000 UTC+x1")
    (folder / "timestamp.txt").unlink()
    assert watcher.inbound() == [] and watcher.journal.refused() == set()  # still being written, perhaps
    monkeypatch.setattr(autograder.watch, "UNFINISHED_AFTER", 0.0)
    time.sleep(0.01)
    assert watcher.inbound() == [] and watcher.journal.refused() == {folder.name}
    assert "never finished (no timestamp.txt yet after 0 minutes)" in watcher.log_path.read_text()


def test_of_one_accounts_many_folders_only_the_newest_are_looked_at(tmp_path):
    from autograder.watch import MAX_FOLDERS_PER_ACCOUNT

    watcher = _watcher(tmp_path)
    inbound = watcher.settings.inbound
    for number in range(MAX_FOLDERS_PER_ACCOUNT + 50):
        folder = inbound / f"eve+planar+2026-12-06 05:30:00.000000 UTC+x{number:04d}"
        folder.mkdir()  # empty: never finished
        os.utime(folder, (number, number))
    newest = _submitted(inbound, "eve+planar+2026-12-06 06:00:00.000000 UTC+last")
    bob = _submitted(inbound, "bob+planar+2026-12-06 05:00:00.000000 UTC+x")
    assert [(s.student, s.folder.name) for s in watcher.inbound()] == [("bob", bob.name), ("eve", newest.name)]
    assert watcher.log_path.read_text().count("only the newest 100 are looked at") == 1
    watcher.inbound()
    assert watcher.log_path.read_text().count("only the newest 100 are looked at") == 1  # said once


def test_an_account_gets_a_bounded_number_of_refusals_journaled(tmp_path, monkeypatch):
    import autograder.watch

    monkeypatch.setattr(autograder.watch, "MAX_REFUSALS", 3)
    watcher = _watcher(tmp_path)
    for number in range(6):
        folder = _submitted(watcher.settings.inbound, f"eve+planar+2026-12-06 05:30:00.000000 UTC+x{number}")
        (folder / "timestamp.txt").write_text("forged")
    assert watcher.inbound() == []
    assert len(watcher.journal.refused()) == 3 and len(watcher.skipped) == 3
    log = watcher.log_path.read_text()
    assert log.count("refused: ") == 3 and log.count("refused more than 3 folders of eve") == 1
    assert watcher.inbound() == [] and watcher.log_path.read_text() == log  # nothing more written
    restarted = _watcher(tmp_path)  # the journal's count is kept across restarts
    assert restarted.refusals["eve"] == 3
