"""The grader's secret, and the seed of each submission's hidden cases drawn from it."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from . import ASSIGNMENT, EDITIONS
from .course import CourseError


def load_secret(path: Path) -> bytes:
    """The grader's secret, created (readable by its owner only) on first use."""
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) < 16:
            raise CourseError(f"the secret in {path} is too short (16 bytes at least)")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def seed_for(secret: bytes, assignment: str, student: str, submission: str = "") -> int:
    """The hidden-case seed of one submission: unguessable without the secret.

    ``submission`` names the submission (its timestamp, or a digest of its files), so
    each new submission of a student draws new cases while regrading the same one
    draws the same. Every edition of the assignment draws the cases of the original,
    so a student's code gets the same verdicts in either language.
    """
    assignment = ASSIGNMENT if assignment in EDITIONS else assignment
    digest = hmac.new(
        secret, f"{assignment}/{student}/{submission}".encode("utf-8", "surrogateescape"), hashlib.sha256
    ).digest()
    return int.from_bytes(digest[:8], "big")
