"""The grader's scratch folder in a /tmp that every account shares."""

import os
from pathlib import Path


def test_a_shared_tmp_name_made_by_another_account_is_never_the_graders_scratch(tmp_path, monkeypatch):
    """A link, a file or a folder open to others at /tmp/autograder-<uid> is not used (nor emptied)."""
    import tempfile

    from autograder.sandbox import _private_base

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    name = tmp_path / f"autograder-{os.getuid()}"
    victim = tmp_path / "victim"
    (victim / "important").mkdir(parents=True)
    for make in (
        lambda: name.symlink_to(victim, target_is_directory=True),
        lambda: name.write_text("x"),
        lambda: (name.mkdir(), name.chmod(0o777)),
    ):
        make()
        base = _private_base()
        assert base != name and base.parent == tmp_path and base.name.startswith(f"autograder-{os.getuid()}-")
        assert (base.stat().st_mode & 0o777) == 0o700 and (victim / "important").is_dir()
        if name.is_dir() and not name.is_symlink():
            name.rmdir()
        else:
            name.unlink()
    name.mkdir(mode=0o700)
    assert _private_base() == name  # the grader's own


def test_private_folders_that_graders_left_are_removed_by_the_next(tmp_path, monkeypatch):
    import tempfile
    import time

    from autograder.sandbox import _private_bases_left

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = Path(tempfile.mkdtemp(prefix=f"autograder-{os.getuid()}-"))
    Path(tempfile.mkdtemp(prefix=f"autograder-{os.getuid()}-"))  # one made just now
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / f"autograder-{os.getuid()}-open"
    other.mkdir(mode=0o777)
    other.chmod(0o777)
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    assert _private_bases_left() == [old]  # not one just made, nor one others may enter
