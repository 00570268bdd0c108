"""What is in ``submitted/``: who submitted (folders named as student ids) and what (their files, read safely).

Submissions arrive from students and from archives (``zip_collect``), so nothing
in ``submitted/`` is trusted: only regular files with a single link are read,
opened without following links and without blocking, within size limits; links,
FIFOs, devices and folders are skipped and named in the student's status.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
from pathlib import Path

from .course import Course, CourseError

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
MAX_FILES = 200
MAX_ID_LENGTH = 128
ID_PUNCTUATION = "_.@+-="
# nbgrader's own files in a submission, and what editors leave behind
METADATA_FILES = ("timestamp.txt", "submission_secret.txt")
IGNORED_NAMES = (".ipynb_checkpoints", "__pycache__", ".DS_Store")


# -- who submitted ---------------------------------------------------------------------------------


def student_id_problem(name: str) -> str | None:
    """Why a folder name under submitted/ cannot be a student id, or None when it can.

    Ids are what nbgrader accepts in practice: letters and digits of any script
    (José, 李雷), and ``_ . @ + -``; the whole name must qualify (no trailing
    newline, space or control character), and it must not start with a dot.
    """
    if not name:
        return "an empty name"
    if len(name) > MAX_ID_LENGTH:
        return f"longer than {MAX_ID_LENGTH} characters"
    if name.startswith("."):
        return "a hidden folder"
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
        return "a name that is not valid UTF-8"
    bad = [ch for ch in name if not (ch.isalnum() or ch in ID_PUNCTUATION)]
    if bad:
        return f"not a valid student id (it contains {ascii(bad[0])}; letters, digits and {ID_PUNCTUATION} only)"
    return None


def printable(name: str) -> str:
    """A name as it can be shown anywhere: undecodable bytes and control characters escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def ungraded_notebooks(folder: Path | int, assignment: str) -> list[str]:
    """The ids of the notebooks of a submission folder other than the assignment's (the appendix, or one the student
    added), as nbgrader's exchange counts them (``*.ipynb`` at the top): each needs a feedback page, or nbgrader
    reports the whole submission as having none (``folder``: its path, or a descriptor of it). Names that cannot
    be shown as they are, and links, are left out,
    and past ``MAX_FILES`` (what grade reads of a submission) no more pages are made."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(
        entry.name[: -len(".ipynb")]
        for entry in entries
        if entry.name.endswith(".ipynb")
        and entry.name != f"{assignment}.ipynb"
        and printable(entry.name) == entry.name
        and entry.is_file(follow_symlinks=False)
    )[:MAX_FILES]


@dataclasses.dataclass
class Skipped:
    """A folder under submitted/ that was not graded, and why."""

    name: str  # printable
    reason: str


def discover(course: Course) -> tuple[list[str], list[Skipped]]:
    """Students with a submission of the assignment, and folders that were skipped."""
    submitted = course.folder("submitted")
    students, skipped = [], []
    try:
        entries = sorted(os.scandir(submitted), key=lambda e: e.name)
    except FileNotFoundError:
        return students, skipped
    except OSError as error:
        raise CourseError(f"cannot read {submitted}: {error.strerror}") from error
    for entry in entries:
        if entry.name in IGNORED_NAMES:
            continue
        if entry.is_symlink():
            skipped.append(Skipped(printable(entry.name), "a symbolic link, not a folder"))
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue  # a stray file next to the student folders
        problem = student_id_problem(entry.name)
        if problem:
            skipped.append(Skipped(printable(entry.name), problem))
            continue
        target = Path(entry.path) / course.assignment
        try:
            info = target.lstat()
        except FileNotFoundError:
            continue  # this student handed in other assignments only
        if stat.S_ISLNK(info.st_mode):
            skipped.append(Skipped(entry.name, f"{os.path.relpath(target, course.root)} is a symbolic link"))
        elif not stat.S_ISDIR(info.st_mode):
            skipped.append(Skipped(entry.name, f"{os.path.relpath(target, course.root)} is not a folder"))
        else:
            students.append(entry.name)
    return students, skipped


# -- what they submitted ----------------------------------------------------------------------------


@dataclasses.dataclass
class Submission:
    """The files of one submission, read safely; plain data, so it can travel to a worker."""

    files: dict[str, bytes | None]  # name -> content; None for a notebook over the size limit
    ignored: list[tuple[str, str]]  # (printable name, why it was not read)
    timestamp: str | None = None
    secret: bytes | None = None  # nbgrader's submission_secret.txt, carried on to feedback/

    def digest(self) -> str:
        """A fingerprint of the files, which names a submission that has no timestamp."""
        sha = hashlib.sha256()
        for name in sorted(self.files):
            data = self.files[name]
            sha.update(name.encode("utf-8", "surrogateescape") + b"\0")
            sha.update(hashlib.sha256(data).digest() if data is not None else b"too large")
        return sha.hexdigest()

    def note(self) -> str:
        """What was not read, for the student's status ("" when everything was)."""
        if not self.ignored:
            return ""
        shown = ", ".join(f"{name} ({why})" for name, why in self.ignored[:5])
        more = f" and {len(self.ignored) - 5} more" if len(self.ignored) > 5 else ""
        return f"files not read: {shown}{more}"


def open_folder(path: Path) -> int:
    """A descriptor of ``path`` (submitted/<student>/<assignment>), reached without following a
    link at the student's or the assignment's level."""
    parts = Path(os.path.abspath(path)).parts
    fd = os.open(Path(*parts[:-2]), os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[-2:]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        return fd
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "device"),
        (stat.S_ISBLK, "device"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISDIR, "folder"),
    ):
        if test(mode):
            return name
    return "special file"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_regular(name: str, folder_fd: int, limit: int) -> tuple[bytes | None, str | None]:
    """(content, None), or (None, why it was not read). Content is None too when over ``limit``."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=folder_fd)
    except OSError as error:
        return None, "symbolic link" if error.errno == errno.ELOOP else error.strerror
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, _kind(info.st_mode)
        if info.st_nlink != 1:
            return None, "hard link"
        if info.st_size > limit:
            return None, f"larger than {_size(limit)}"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return None, f"larger than {_size(limit)}"
        return b"".join(chunks), None
    except OSError as error:
        return None, error.strerror
    finally:
        os.close(fd)


def read_submission(folder: Path) -> Submission | None:
    """The regular files of a submission folder, safely and within limits (None: no such folder)."""
    try:
        folder_fd = open_folder(Path(folder))
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            link = Path(folder).is_symlink() or Path(folder).parent.is_symlink()
            return Submission({}, [(printable(Path(folder).name), "symbolic link" if link else "not a folder")])
        raise
    try:
        return read_folder(folder_fd)
    finally:
        os.close(folder_fd)


def read_folder(folder_fd: int) -> Submission:
    """The regular files of the submission folder open as ``folder_fd`` (left open), safely and within limits."""
    files: dict[str, bytes | None] = {}
    ignored: list[tuple[str, str]] = []
    metadata: dict[str, bytes] = {}
    total = 0
    for entry in sorted(os.scandir(folder_fd), key=lambda e: e.name):
        name = entry.name
        if name in IGNORED_NAMES:
            continue
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
            ignored.append((printable(name), "its name is not valid UTF-8"))
            continue
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            ignored.append((printable(name), _kind(mode)))
            continue
        if name in METADATA_FILES:
            content, why = read_regular(name, folder_fd, 4096)
            if content is not None:
                metadata[name] = content
            elif why:
                ignored.append((name, why))
            continue
        if len(files) >= MAX_FILES:
            ignored.append((printable(name), f"more than {MAX_FILES} files"))
            continue
        notebook = name.endswith(".ipynb")
        content, why = read_regular(name, folder_fd, MAX_NOTEBOOK_BYTES if notebook else MAX_FILE_BYTES)
        if content is None and not (notebook and why and why.startswith("larger")):
            ignored.append((printable(name), why or "unreadable"))
            continue
        if content is not None and total + len(content) > MAX_SUBMISSION_BYTES:
            ignored.append((printable(name), f"over the {MAX_SUBMISSION_BYTES // (1024 * 1024)} MB of a submission"))
            continue
        total += len(content or b"")
        files[name] = content
    timestamp = metadata.get("timestamp.txt", b"").decode("utf-8", "replace").strip()[:100] or None
    return Submission(files, ignored, timestamp, metadata.get("submission_secret.txt"))


def submission_name(submission: Submission) -> str:
    """What distinguishes one submission of a student from the next: its timestamp, else its content."""
    return f"timestamp:{submission.timestamp}" if submission.timestamp else f"digest:{submission.digest()}"


def submission_identity(folder: Path) -> str | None:
    """``submission_name`` of the submission in ``folder`` (None if there is none), reading only its
    timestamp when it has one."""
    try:
        folder_fd = open_folder(Path(folder))
    except OSError:
        return None
    try:
        content, _ = read_regular("timestamp.txt", folder_fd, 4096)
    finally:
        os.close(folder_fd)
    timestamp = content.decode("utf-8", "replace").strip()[:100] if content else ""
    if timestamp:
        return f"timestamp:{timestamp}"
    submission = read_submission(Path(folder))
    return submission_name(submission) if submission is not None else None


def submission_identities(course: Course, students) -> dict[str, str]:
    """student -> ``submission_identity`` of the submission each has in ``submitted/`` now (if any)."""
    identities = {}
    for student in students:
        identity = submission_identity(course.step("submitted", student))
        if identity is not None:
            identities[student] = identity
    return identities
