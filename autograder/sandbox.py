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
import tempfile
from pathlib import Path

from .kernel import GradingKernel, PopenLauncher, Process

JAIL = Path(__file__).resolve().with_name("jail.py")
ZYGOTE = Path(__file__).resolve().with_name("zygote.py")
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


class ZygoteLauncher:
    """Forks kernels from this worker's zygote, which imported the heavy libraries once.

    The zygote starts on first use and lives as long as the worker (it dies with it).
    If it cannot be had, kernels are started as plain processes instead.
    """

    _process: subprocess.Popen | None = None

    def __init__(self, jail_config, fallback: PopenLauncher):
        self.jail_config = jail_config  # callable(runtime) -> config for jail.py, or None
        self.fallback = fallback

    @classmethod
    def _zygote(cls) -> subprocess.Popen | None:
        if cls._process is not None and cls._process.poll() is None:
            return cls._process
        scratch = Path(tempfile.gettempdir()) / f"autograder-zygote-{os.getuid()}"
        scratch.mkdir(mode=0o700, exist_ok=True)
        env = kernel_environment(scratch)
        process = subprocess.Popen([*_tied_to_grader(), sys.executable, "-I", str(ZYGOTE)], env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, bufsize=1)
        ready = process.stdout.readline()
        if '"ready"' not in ready:
            process.kill()
            return None
        cls._process = process
        return process

    def launch(self, connection_file: str, runtime: Path, workdir: Path, env: dict) -> Process:
        zygote = self._zygote()
        if zygote is not None:
            config = self.jail_config(runtime) if self.jail_config else None
            request = {"connection_file": connection_file, "workdir": str(workdir), "env": env, "jail": config}
            try:
                zygote.stdin.write(json.dumps(request) + "\n")
                answer = json.loads(zygote.stdout.readline() or "{}")
            except (OSError, ValueError):
                answer = {}
            if "pid" in answer:
                return Process(int(answer["pid"]))
        return self.fallback.launch(connection_file, runtime, workdir, env)


def kernel_factory(workdir: Path, options: dict | None, warm: bool = True):
    """A callable that makes the kernel for one submission (sandboxed unless options is None).

    ``warm``: fork kernels from a zygote that has already imported the heavy libraries.
    """
    env = kernel_environment(workdir)
    if options is None:
        plain = PopenLauncher(lambda runtime: _tied_to_grader())
        launcher = ZygoteLauncher(None, plain) if warm else plain
        return lambda: GradingKernel(workdir, launcher, env=env)
    check()
    limits = SandboxLimits(**options.get("limits", {}))
    uid = UID_BASE + os.getpid() % 50_000 if os.geteuid() == 0 else None

    def config(runtime: Path) -> dict:
        return {"root": str(runtime) + ".root", "workdir": str(workdir), "runtime": str(runtime),
                "read_only": read_only_paths(), "limits": dataclasses.asdict(limits), "uid": uid, "env": env}

    def prefix(runtime: Path) -> list[str]:
        return [*_tied_to_grader(), *_unshare_command(), sys.executable, "-I", str(JAIL),
                json.dumps(config(runtime)), "--"]

    plain = PopenLauncher(prefix)
    launcher = ZygoteLauncher(config, plain) if warm else plain
    return lambda: GradingKernel(workdir, launcher, env=env)
