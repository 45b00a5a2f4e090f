"""Where chunks run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers the same two calls: `map_unordered(function, tasks)`, yielding results as
chunks finish, and `close()`. The results do not depend on the executor: a chunk's numbers are a
pure function of its task (see `docs/model.md`, reproducibility), so only the order of arrival
differs, and the store writes every chunk under its own index.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from offramp.errors import EnvironmentFault, UserError


class Executor(Protocol):
    description: str
    workers: int  # chunks run at once (the runner cuts a run into a multiple of them)

    def map_unordered(
        self, function: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[Any]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs chunks one after another in this process."""

    description = "in-process"
    workers = 1

    def map_unordered(self, function, tasks):
        for task in tasks:
            yield function(task)

    def close(self) -> None:
        pass


def quiet_worker(run_process: int) -> None:
    """Set up a worker process: Ctrl-C is the run's to handle (it stops the pool and says how
    to resume; a worker would print its own traceback), and the worker ends when the run does
    (checked every `WATCH_SECONDS`), so a killed `offramp run` leaves no process computing for
    nobody. (Its parent is the fork server where there is one, not the run: a signal on the
    parent's death would not do.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "win32":  # os.kill(pid, 0) tests a pid only on POSIX
        threading.Thread(target=_end_with, args=(run_process,), daemon=True,
                         name="offramp-ends-with-the-run").start()


WATCH_SECONDS = 0.5


def _end_with(run_process: int) -> None:
    while _alive(run_process):
        time.sleep(WATCH_SECONDS)
    os._exit(0)  # the run is gone: nobody will read this worker's results


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or its pid reused by another user)
        return False
    return True


class ProcessExecutor:
    """Runs chunks in `workers` local processes."""

    def __init__(self, workers: int):
        if workers < 1:
            raise UserError(f"--workers must be at least 1, found {workers}")
        self.workers = workers
        self.description = f"{workers} local processes"
        self._context = worker_context()
        self._closed = False
        _pools_open(+1)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=self._context,
            initializer=quiet_worker, initargs=(os.getpid(),),
        )

    def start(self) -> None:
        """Start the fork server now (it imports offramp and loads the kernels, ~3 CPU-s), so
        that it is ready when the first chunk is sent; otherwise it starts then."""
        if self._context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def map_unordered(self, function, tasks):
        pending = {self._pool.submit(function, task) for task in tasks}
        try:
            for done in cf.as_completed(pending):
                yield done.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        if _pools_open(-1) == 0:  # the fork server is shared: the last pool stops it
            stop_fork_server(self._context)


_open_pools = 0
_open_pools_lock = threading.Lock()


def _pools_open(change: int) -> int:
    """Count a pool opened (+1) or closed (-1); how many are open now."""
    global _open_pools
    with _open_pools_lock:
        _open_pools += change
        return _open_pools


WORKER_MODULE = "offramp.experiments.worker"
"""What a worker needs before its first chunk (modules and compiled kernels): the fork server
imports it once, before it forks any worker."""


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fork server that has imported offramp once
    (`WORKER_MODULE`), where the platform has one (Linux, macOS); else spawned, each importing
    offramp itself (~2.5 s a worker). Either way a worker starts from a clean process: the fork
    server is a fresh interpreter with no threads, not a fork of the run with its own."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WORKER_MODULE])
    return context


def stop_fork_server(context: multiprocessing.context.BaseContext) -> None:
    """End the fork server and wait for it (its workers' CPU time then counts as this
    process's children's, as spawned workers' does; the next pool starts another). It waits
    for every worker it forked, so only once no pool is open. The standard library has no
    public call for it: without this private one, the server ends with the run."""
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


class DaskExecutor:
    """Runs chunks on a Dask cluster: an existing scheduler, or a LocalCluster started here."""

    def __init__(self, address: str, workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError:  # pragma: no cover - dask is a dependency
            raise UserError(
                "Dask is not installed; install offramp with its dependencies"
            ) from None
        self._as_completed = as_completed
        self._cluster = None
        self.workers = 1  # a remote cluster's size is its own: chunks are not balanced for it
        try:
            if address == "local":
                self._cluster = LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
                self.workers = workers or 2
            else:
                self._client = Client(address, timeout="10s")
        except (OSError, ValueError, TypeError) as error:
            # OSError: nobody answers; ValueError/TypeError: not an address Dask can read
            # ("garbage://x"), which distributed reports with a ValueError
            raise EnvironmentFault(
                f"cannot reach the Dask scheduler at {address!r}: {error}") from None
        self.description = f"Dask ({address})"

    def map_unordered(self, function, tasks):
        futures = [self._client.submit(function, task, pure=False) for task in tasks]
        try:
            for future in self._as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


MAX_WORKERS_PER_CPU = 4
"""Local workers beyond this many per CPU only share the same cores and multiply the memory."""


def make_executor(workers: int = 1, dask: str | None = None) -> Executor:
    """`dask` wins when given; otherwise one worker runs in-process, more use processes."""
    cpus = os.cpu_count() or 1
    if not dask and workers > MAX_WORKERS_PER_CPU * cpus:
        raise UserError(f"--workers {workers:,}: this machine has {cpus} CPUs; more than "
                        f"{MAX_WORKERS_PER_CPU * cpus} local workers only share them (and "
                        "multiply the memory): use --workers "
                        f"{cpus} (or --dask for a cluster)")
    if dask:
        return DaskExecutor(dask, workers if workers > 1 else None)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
