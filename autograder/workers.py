"""Where submissions are graded: a pool of worker processes on this machine, or a Dask cluster.

Workers end with the grader, even when it is killed with SIGKILL (a parent-death
signal), and start their reference process and warm kernels while the main process
prepares the run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os

from .settings import GradingError, Settings


def _start_worker(parent: int, warm: bool, zygote: tuple | None = None) -> None:
    """Worker initializer: end when the grader ends, even if it is killed with SIGKILL; start the zygote.

    The zygote (warm kernels) and the reference process start importing their libraries
    now, while this worker is still importing its own.
    """
    from .sandbox.processes import die_with_parent

    die_with_parent(parent)  # and ends now if the grader died before that took effect
    from .grading.refserver import ReferenceProcess

    ReferenceProcess.prestart()  # the reference's imports, meanwhile
    if warm:
        from .sandbox.launchers import ZygoteLauncher

        if zygote is not None:  # the run's shared zygote
            ZygoteLauncher.use_shared(*zygote)
        else:
            ZygoteLauncher.start()


def local_executor(workers: int, warm: bool = True, zygote=None) -> concurrent.futures.Executor:
    shared = (zygote.path, zygote.log) if zygote is not None else None
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), warm, shared),
    )


def stop(executor: concurrent.futures.Executor | None) -> None:
    """Stop an executor now: no waiting for the submissions it is grading."""
    if executor is None:
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())  # ProcessPoolExecutor's own
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()


def dask_client(settings: Settings):
    try:
        from distributed import Client
    except ImportError as error:
        raise GradingError("--scheduler needs dask.distributed (pip install distributed)") from error
    try:
        return Client(settings.scheduler, timeout="10s", security=settings.security)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        hint = (
            "; a tls:// scheduler needs this client's certificates (--tls-ca-file, --tls-cert, --tls-key)"
            if settings.scheduler.startswith("tls://")
            else ""
        )
        raise GradingError(f"cannot reach the Dask scheduler at {settings.scheduler}: {error}{hint}") from error
