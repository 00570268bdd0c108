"""Where grading kernels run: their environment and, on Linux, their isolation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .kernel import GradingKernel


def kernel_environment(workdir: Path) -> dict:
    """A small, explicit environment: no instructor secrets, single-threaded BLAS."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update({
        "HOME": str(workdir),
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLBACKEND": "Agg",
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1",
    })
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


def kernel_factory(workdir: Path, options: dict | None):
    """A callable that makes the kernel for one submission."""
    return lambda: GradingKernel(workdir, env=kernel_environment(workdir))
