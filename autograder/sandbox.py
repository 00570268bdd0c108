"""Where grading kernels run: their environment and, on Linux, their isolation.

With the sandbox on (the default), each kernel starts inside fresh Linux namespaces
built by ``jail.py``: no network (not even loopback), a file system holding only
the system, Python and the submission's own scratch directory, resource limits,
and an unprivileged uid. See the README's "Sandbox" section for what it does and
does not guarantee.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from .kernel import GradingKernel

JAIL = Path(__file__).resolve().with_name("jail.py")
UID_BASE = 600_000  # uids no account on the machine uses; one per grading worker


@dataclasses.dataclass
class SandboxLimits:
    memory_mb: int = 2048
    cpu_seconds: int = 300
    processes: int = 64
    disk_mb: int = 256
    tmp_mb: int = 64


class SandboxUnavailable(Exception):
    """Isolation cannot be had here; the message names what is missing."""


def kernel_environment(workdir: Path) -> dict:
    """A small, explicit environment: no instructor secrets, single-threaded BLAS."""
    keep = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def _unshare_command() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SandboxUnavailable("the sandbox needs the `unshare` command (util-linux), which is not installed")
    command = [unshare, "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        command[1:1] = ["--user", "--map-root-user"]
    return command


@functools.lru_cache(maxsize=1)
def check() -> None:
    """Raise SandboxUnavailable unless this machine can build the sandbox."""
    if platform.system() != "Linux":
        raise SandboxUnavailable(f"the sandbox needs Linux namespaces; this is {platform.system()}")
    command = _unshare_command()
    result = subprocess.run([*command, "true"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SandboxUnavailable(
            "this machine does not allow creating namespaces for the sandbox "
            f"({result.stderr.strip() or 'unshare failed'}); as a non-root user, user namespaces must "
            "be enabled (sysctl kernel.unprivileged_userns_clone=1)")


def read_only_paths() -> list[str]:
    """What the kernel must read: the Python installation and the virtual environment."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(p for p in paths if not any(p.startswith(s) for s in ("/usr", "/lib", "/bin")))


def _tied_to_grader() -> list[str]:
    """A prefix that kills the kernel's launcher when the grader process dies, even by SIGKILL."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv and platform.system() == "Linux" else []


def kernel_factory(workdir: Path, options: dict | None):
    """A callable that makes the kernel for one submission (sandboxed unless options is None)."""
    env = kernel_environment(workdir)
    if options is None:
        return lambda: GradingKernel(workdir, launch_prefix=lambda runtime: _tied_to_grader(), env=env)
    check()
    limits = SandboxLimits(**options.get("limits", {}))
    uid = UID_BASE + os.getpid() % 50_000 if os.geteuid() == 0 else None

    def prefix(runtime: Path) -> list[str]:
        config = {"root": str(runtime) + ".root", "workdir": str(workdir), "runtime": str(runtime),
                  "read_only": read_only_paths(), "limits": dataclasses.asdict(limits), "uid": uid,
                  "env": env}
        return [*_tied_to_grader(), *_unshare_command(), sys.executable, "-I", str(JAIL), json.dumps(config), "--"]

    return lambda: GradingKernel(workdir, launch_prefix=prefix, env=env)
