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

import contextlib
import errno
import os
import pwd
import re
import stat
from pathlib import Path

from .course import MAX_FILE_BYTES, MAX_FILES, MAX_SUBMISSION_BYTES, printable

MAX_DEPTH = 8  # folders within a submission
MAX_TEXT_BYTES = 512  # of timestamp.txt and submission_secret.txt
# nbgrader's timestamp ("%Y-%m-%d %H:%M:%S.%f %Z"), with or without fractions and zone
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?( ?[A-Z]{1,5}| ?[+-]\d{2}:?\d{2})?\Z")
SECRET = re.compile(r"[0-9A-Za-z_-]{16,256}\Z")  # nbgrader's is 128 hex digits
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_OPEN_FOLDER = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC


class Unacceptable(Exception):
    """A submission folder that is refused (for good: it is quarantined, never graded)."""


class NotYet(Exception):
    """A submission folder that is still being written (``nbgrader submit`` writes timestamp.txt last)."""


def owner_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def open_folder(path: Path, parent_fd: int | None = None) -> int:
    """A descriptor of the folder ``path`` (never through a link); Unacceptable if it is anything else."""
    try:
        return os.open(path if parent_fd is None else path.name, _OPEN_FOLDER, dir_fd=parent_fd)
    except OSError as error:
        if error.errno in (errno.ENOTDIR, errno.ELOOP):
            raise Unacceptable(f"{printable(path.name)} is not a folder") from None
        raise


def read_file(folder_fd: int, name: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``name`` in the folder, at most ``max_bytes`` (Unacceptable if more, or if
    it is a link, a FIFO, a device, a folder or a file with other names; NotYet if it is not there)."""
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=folder_fd)
    except FileNotFoundError:
        raise NotYet(f"no {name} yet") from None
    except OSError as error:
        raise Unacceptable(
            f"{name} cannot be opened as a file ({errno.errorcode.get(error.errno, error.errno)})"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unacceptable(f"{name} is not a regular file")
        if info.st_nlink != 1:
            raise Unacceptable(f"{name} has other names (a hard link)")
        if info.st_size > max_bytes:
            raise Unacceptable(f"{name} is larger than {max_bytes} bytes")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise Unacceptable(f"{name} is larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


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


def copy_submission(source: Path, target: Path) -> list[str]:
    """Copy a submission folder into ``target`` (which must not exist): regular files only, within the course's
    caps on files and bytes; what is not copied (links, FIFOs, devices, folders too deep) is skipped and named
    in the list returned. Unacceptable when the folder is larger than the caps allow."""
    skipped: list[str] = []
    totals = {"files": 0, "bytes": 0}
    top = open_folder(source)
    try:
        target.mkdir(mode=0o700)
        _copy_folder(top, target, "", 0, skipped, totals)
    finally:
        os.close(top)
    return skipped


def _copy_folder(folder_fd: int, target: Path, prefix: str, depth: int, skipped: list[str], totals: dict) -> None:
    for entry in sorted(os.scandir(folder_fd), key=lambda e: e.name):
        shown = printable(prefix + entry.name)
        if entry.name in (".", ".."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if depth >= MAX_DEPTH:
                skipped.append(f"{shown}/ (folders deeper than {MAX_DEPTH})")
                continue
            try:
                child = os.open(entry.name, _OPEN_FOLDER, dir_fd=folder_fd)
            except OSError:
                skipped.append(f"{shown}/ (not readable)")
                continue
            try:
                (target / entry.name).mkdir(mode=0o700)
                _copy_folder(child, target / entry.name, f"{prefix}{entry.name}/", depth + 1, skipped, totals)
            finally:
                os.close(child)
            continue
        if not entry.is_file(follow_symlinks=False):
            skipped.append(f"{shown} (not a regular file)")
            continue
        try:
            data = read_file(folder_fd, entry.name, MAX_FILE_BYTES)
        except (Unacceptable, NotYet) as why:
            skipped.append(f"{shown} ({why})")
            continue
        totals["files"] += 1
        totals["bytes"] += len(data)
        if totals["files"] > MAX_FILES or totals["bytes"] > MAX_SUBMISSION_BYTES:
            raise Unacceptable(
                f"the submission is larger than {MAX_FILES} files or {MAX_SUBMISSION_BYTES // (1024 * 1024)} MB"
            )
        path = target / entry.name
        with contextlib.ExitStack() as stack:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            handle = stack.enter_context(os.fdopen(fd, "wb"))
            handle.write(data)
