"""`--dask tcp://HOST:PORT` against a real scheduler and two workers, each its own process (as on
a cluster, here on 127.0.0.1): the same bits as a run in one process, and a worker killed in the
middle of the run is survived (its chunks run again on the other) with the same bits."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from helpers import run_cli

ARGS = ("run", "kursk-2024", "--futures", "2400", "--chunk-size", "100", "--seed", "3",
        "--policies", "drip-feed,arm-and-hold", "--no-report")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers on 127.0.0.1, each a separate process."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    with (open(logs / "scheduler.log", "w") as scheduler_log,
          open(logs / "worker0.log", "w") as log0, open(logs / "worker1.log", "w") as log1):
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=scheduler_log)
        workers = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--name", f"w{i}"],
            stdout=subprocess.DEVNULL, stderr=log)
            for i, log in enumerate((log0, log1))]
        from dask.distributed import Client

        def two_workers() -> bool:
            try:
                with Client(address, timeout="2s") as client:
                    return len(client.scheduler_info()["workers"]) == 2
            except OSError:
                return False

        try:
            _wait_for(two_workers, 120, "the scheduler and two workers")
            yield address, workers
        finally:
            for process in [*workers, scheduler]:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_a_remote_cluster_gives_the_same_bits_and_survives_a_killed_worker(cluster, tmp_path):
    address, workers = cluster
    serial = run_cli(*ARGS, "--out", tmp_path / "serial")
    assert serial.returncode == 0, serial.stderr
    root = tmp_path / "remote"
    process = subprocess.Popen([sys.executable, "-m", "offramp", *map(str, ARGS), "--dask",
                                address, "--out", str(root)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def some_chunks_done() -> bool:
        manifest = root / "manifest.json"
        if not manifest.is_file():
            return False
        chunks = json.loads(manifest.read_text())["chunks"].values()
        return 2 <= list(chunks).count("done") < len(chunks) - 4

    _wait_for(some_chunks_done, 300, "the remote run to finish its first chunks")
    workers[0].send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert pq.read_table(root / "outcomes.parquet").equals(
        pq.read_table(tmp_path / "serial" / "outcomes.parquet"))
