"""The sandbox's system-call filter on its own: a fresh Python under it, no namespaces, no kernel (a second each)."""

import ctypes
import json
import os
import platform
import subprocess
import sys

import pytest

from autograder.sandbox import jail

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() not in jail.SYSCALLS, reason="the filter is for Linux only"
)

# What a kernel does with numpy's BLAS on four threads, then every way to a second process or to memory outside
# the address space: the name of each attempt and what came of it ("ok", or the errno).
TRY = r"""
import ctypes, json, os, subprocess, threading
import numpy as np
tried = {}
a = np.random.default_rng(0).random((600, 600))
tried["blas"] = "ok" if np.allclose((a @ a)[0, 0], a[0] @ a[:, 0]) else "wrong"
tried["threads"] = len(os.listdir("/proc/self/task"))
thread = threading.Thread(target=tried.setdefault, args=("thread", "ok"))
thread.start()
thread.join()
def attempt(name, start):
    try:
        if start() == 0:
            os._exit(0)
        tried[name] = "ok"
    except OSError as error:
        tried[name] = error.errno
attempt("fork", os.fork)
attempt("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
attempt("subprocess", lambda: subprocess.run(["true"]).returncode + 1)
libc = ctypes.CDLL(None, use_errno=True)
for name, call in (("shmget", lambda: libc.shmget(0, 1 << 20, 0o1600)), ("memfd_create", lambda: libc.memfd_create(b"m", 0))):
    tried[name] = "ok" if call() >= 0 else ctypes.get_errno()
print(json.dumps(tried))
"""


def _under_filter(rootless: bool) -> dict:
    def confine():
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(jail.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        jail.install_seccomp(rootless)

    env = dict(os.environ, OPENBLAS_NUM_THREADS="4", OMP_NUM_THREADS="4")
    result = subprocess.run(
        [sys.executable, "-I", "-c", TRY], preexec_fn=confine, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rootless_the_filter_lets_threads_run_and_refuses_every_second_process():
    """Rootless (no control group sums processes): do BLAS's and Python's threads run, while fork, posix_spawn,
    subprocess, System V memory and memfd are refused with EPERM?"""
    tried = _under_filter(rootless=True)
    assert tried["blas"] == "ok" and tried["thread"] == "ok"
    assert tried["threads"] > 1  # the main thread and BLAS's own (one per core, up to four)
    assert {name: tried[name] for name in ("fork", "posix_spawn", "subprocess", "shmget", "memfd_create")} == {
        "fork": 1,
        "posix_spawn": 1,
        "subprocess": 1,
        "shmget": 1,
        "memfd_create": 1,
    }


def test_as_root_the_filter_still_lets_processes_start():
    """As root the control group bounds the processes together: is the filter unchanged there?"""
    tried = _under_filter(rootless=False)
    assert {name: tried[name] for name in ("fork", "posix_spawn", "subprocess", "shmget", "memfd_create")} == {
        name: "ok" for name in ("fork", "posix_spawn", "subprocess", "shmget", "memfd_create")
    }
