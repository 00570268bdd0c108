"""An ordinary user for the tests that must not run as root (the rootless sandbox, a PostgreSQL server)."""

import pwd
import subprocess

USER = "autograder-ci"


def ensure_user() -> pwd.struct_passwd:
    """The test user, created (useradd) on first use. Needs root, as CI has."""
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        return pwd.getpwnam(USER)
