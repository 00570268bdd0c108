"""The exchange's inbound folder, read as hostile input.

Every account of the machine can write into the inbound folder, so nothing there is
taken on trust: a submission folder is accepted only when the account that owns it is
the student it names (nbgrader's ``ExchangeCollect.check_owner``, on unless the course
turns it off); every file is opened without following links and without blocking, must
be a regular file with one link and a bounded size, and its text is validated before
anything uses it. What fails is an ``Unacceptable`` that says why, in words safe for a
log line; the folder's own bytes never reach a page, a log or a file name.
"""

from __future__ import annotations

import errno
import os
import pwd
import re
from pathlib import Path

from .intake import printable, read_folder, read_regular

MAX_TEXT_BYTES = 512  # of timestamp.txt and submission_secret.txt
# nbgrader's timestamp ("%Y-%m-%d %H:%M:%S.%f %Z"), with or without fractions and zone
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?( ?[A-Z]{1,5}| ?[+-]\d{2}:?\d{2})?\Z")
SECRET = re.compile(r"[0-9A-Za-z_-]{16,256}\Z")  # nbgrader's is 128 hex digits
_OPEN_FOLDER = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC


class Unacceptable(Exception):
    """A submission folder that is refused (for good: it is quarantined, never graded)."""


class NotYet(Exception):
    """A submission folder that is still being written (``nbgrader submit`` writes timestamp.txt last)."""


def open_folder(path: Path) -> int:
    """A descriptor of the exchange's folder ``path`` itself, never through a link."""
    try:
        return os.open(path, _OPEN_FOLDER)
    except OSError as error:
        if error.errno in (errno.ENOTDIR, errno.ELOOP):
            raise Unacceptable(f"{printable(path.name)} is not a folder") from None
        raise


def owner_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def read_file(folder_fd: int, name: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``name`` in the folder, at most ``max_bytes``, read as ``grade`` reads a
    submission (``intake.read_regular``): NotYet if it is not there, Unacceptable if it is a link, a FIFO, a
    device, a folder, a file with other names or larger."""
    try:
        os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise NotYet(f"no {name} yet") from None
    content, why = read_regular(name, folder_fd, max_bytes)
    if content is None:
        raise Unacceptable(f"{name} cannot be read as nbgrader's ({why})")
    return content


def read_text(folder_fd: int, name: str, pattern: re.Pattern) -> str:
    """A short text file of nbgrader's (timestamp.txt, submission_secret.txt), checked against ``pattern``."""
    raw = read_file(folder_fd, name, MAX_TEXT_BYTES)
    if not raw.strip():
        raise NotYet(f"{name} is empty")
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise Unacceptable(f"{name} is not nbgrader's (not ASCII)") from None
    if not pattern.match(text):
        raise Unacceptable(f"{name} is not nbgrader's ({len(text)} characters that are not the expected form)")
    return text


def check_owner(folder_fd: int, student: str) -> None:
    """Unacceptable unless the account that owns the folder is the student it names."""
    uid = os.fstat(folder_fd).st_uid
    owner = owner_name(uid)
    if owner != student:
        raise Unacceptable(
            f"the folder claims to be {printable(student)}'s but is owned by "
            f"{printable(owner) if owner else f'uid {uid}'} (cheating attempt?)"
        )


def copy_submission(folder_fd: int, target: Path, metadata: dict[str, str]) -> list[str]:
    """Copy into ``target`` (which must not exist) what ``grade`` would read of the submission folder open as
    ``folder_fd`` (``intake.read_folder``: its regular files, within the caps), with ``metadata``
    (timestamp.txt and submission_secret.txt, as validated) written as given; what is left out is named in
    the list returned."""
    submission = read_folder(folder_fd)
    target.mkdir(mode=0o700)
    for name, content in {**submission.files, **{n: t.encode() for n, t in metadata.items()}}.items():
        if content is None:
            continue
        fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    return [f"{name} ({why})" for name, why in submission.ignored]


def identity(folder_fd: int) -> tuple[int, int]:
    """Which folder this is (device and inode): a folder swapped for another under the same name is not it."""
    info = os.fstat(folder_fd)
    return info.st_dev, info.st_ino
