"""Run a command as an ordinary user who can use this checkout's Python, whatever its location.

    python tests/rootless.py USER PATH... -- COMMAND...

Run by root. The checkout, its virtual environment and the Python it was made from
may sit below directories other users cannot enter (/root, say). In a private mount
namespace, each such directory is covered by an empty tmpfs that holds binds of only
what is needed below it, so USER can reach those paths and nothing else; then the
command runs as USER (runuser). Nothing changes on the host: the mounts end with the
command.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def blocked_ancestors(paths: list[Path]) -> list[Path]:
    """Directories on the way to ``paths`` that others may not enter, outermost first."""
    found = set()
    for path in paths:
        for ancestor in [*reversed(path.parents), path]:
            if ancestor.is_dir() and not os.stat(ancestor).st_mode & 0o001:
                found.add(ancestor)
    return sorted(found, key=lambda p: len(p.parts))


def expose(paths: list[Path]) -> None:
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    for directory in blocked_ancestors(paths):
        stash = Path(tempfile.mkdtemp(prefix="rootless-stash-"))
        subprocess.run(["mount", "--bind", str(directory), str(stash)], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", str(directory)], check=True)
        children = {p.relative_to(directory).parts[0] for p in paths if directory in p.parents}
        for child in children:
            source = stash / child
            target = directory / child
            if source.is_dir():
                target.mkdir()
            else:
                target.touch()
            subprocess.run(["mount", "--bind", str(source), str(target)], check=True)


def main(argv: list[str]) -> int:
    user, rest = argv[0], argv[1:]
    split = rest.index("--")
    paths = [Path(p).resolve() for p in rest[:split]]
    command = rest[split + 1 :]
    if os.environ.get("ROOTLESS_EXPOSED") != "1":  # first: into a private mount namespace
        os.environ["ROOTLESS_EXPOSED"] = "1"
        os.execvp("unshare", ["unshare", "--mount", sys.executable, __file__, *argv])
    expose(paths)
    os.execvp("runuser", ["runuser", "-u", user, "--", *command])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
