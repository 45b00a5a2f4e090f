"""The main job: determinism across chunking and executors, resume (after SIGKILL too), and the
requirements stored with a run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from multiprocessing import forkserver

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers import KURSK_RUN, interrupted_copy, run_cli
from offramp.experiments import runner
from offramp.experiments.executors import DaskExecutor, ProcessExecutor
from offramp.experiments.runner import RunSettings, chunk_bounds, resume_run, start_run
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
from offramp.store import RunStore

SMALL = KURSK_RUN  # the settings of the `kursk_run` fixture, the reference every run matches


@pytest.fixture(scope="module")
def reference_run(kursk_run) -> RunStore:
    return kursk_run


def _same_outcomes(first: RunStore, second: RunStore) -> None:
    pd.testing.assert_frame_equal(first.read_outcomes(), second.read_outcomes(), check_exact=True)


def test_run_folder_layout(reference_run):
    root = reference_run.root
    for name in ("manifest.json", "futures.parquet", "outcomes.parquet"):
        assert (root / name).is_file(), name
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert set(manifest["chunks"].values()) == {"done"}
    assert manifest["scenario_hash"] and manifest["versions"]["numpy"]
    outcomes = reference_run.read_outcomes()
    assert len(outcomes) == 300 * 4
    assert set(outcomes["policy"]) == {"negotiate-now", "arm-and-hold", "drip-feed", "as-happened"}
    assert not list(root.rglob("*.tmp")), "temporary files left behind"
    assert not (root / "chunks").exists(), "a complete run keeps no chunks"
    futures = pq.read_table(root / "futures.parquet")
    assert futures.column("future").to_pylist() == list(range(300))  # a key SQL can join on


def test_same_seed_same_bits(reference_run, tmp_path):
    _same_outcomes(reference_run, start_run(SMALL, tmp_path / "again"))


def test_chunk_size_does_not_change_results(reference_run, tmp_path):
    other = RunSettings(**{**SMALL.__dict__, "chunk_size": 37})
    _same_outcomes(reference_run, start_run(other, tmp_path / "chunks37"))


def test_worker_processes_give_the_same_bits(reference_run, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "PROCESSES_FROM_FUTURE_WEEKS", 0)  # processes, however small
    executor = ProcessExecutor(2)
    try:
        store = start_run(SMALL, tmp_path / "processes", executor)
        assert executor._pool._processes, "no worker process ran"
    finally:
        executor.close()
    _same_outcomes(reference_run, store)
    if sys.platform.startswith("linux"):  # forked from a fork server, which close() reaped
        # (so that its CPU and its workers' count as this process's children's)
        assert executor._context.get_start_method() == "forkserver"
        assert forkserver._forkserver._forkserver_pid is None, "the fork server still runs"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server's pid")
def test_pools_open_at_once_share_the_fork_server():
    first, second = ProcessExecutor(2), ProcessExecutor(1)
    try:
        assert sorted(first.map_unordered(abs, [-1, -2])) == [1, 2]
        first.close()
        assert forkserver._forkserver._forkserver_pid is not None, "stopped under a pool"
        assert sorted(second.map_unordered(abs, [-3])) == [3]
    finally:
        first.close()  # a second close does nothing
        second.close()
    assert forkserver._forkserver._forkserver_pid is None, "the last pool left it running"


def test_a_small_run_asked_for_workers_runs_in_process(reference_run, tmp_path):
    executor = ProcessExecutor(2)
    try:
        store = start_run(SMALL, tmp_path / "small", executor)
        assert not executor._pool._processes, "a worker was started for a small run"
    finally:
        executor.close()
    _same_outcomes(reference_run, store)


@pytest.mark.parametrize(("n", "size", "workers", "expected"), [
    (10, 4, 1, [(0, 4), (4, 8), (8, 10)]),  # one worker: chunks of the size, the last shorter
    (20_000, 16_384, 2, [(0, 10_000), (10_000, 20_000)]),  # balanced, not 16,384 + 3,616
    (10, 4, 2, [(0, 2), (2, 5), (5, 7), (7, 10)]),  # a multiple of the workers, none above 4
    (10_000, 16_384, 2, [(0, 10_000)]),  # one chunk stays whole (it runs in-process)
])
def test_chunks_cover_the_futures_and_balance_the_workers(n, size, workers, expected):
    assert chunk_bounds(n, size, workers) == expected


def test_dask_gives_the_same_bits(reference_run, tmp_path):
    executor = DaskExecutor("local", workers=2)
    try:
        store = start_run(SMALL, tmp_path / "dask", executor)
    finally:
        executor.close()
    _same_outcomes(reference_run, store)


def test_a_different_seed_changes_results(reference_run, tmp_path):
    other = start_run(RunSettings(**{**SMALL.__dict__, "seed": 8}), tmp_path / "seed8")
    assert not reference_run.read_outcomes().equals(other.read_outcomes())


def test_resume_finishes_only_what_is_missing(reference_run, tmp_path):
    copy = tmp_path / "partial"
    interrupted_copy(reference_run.root, copy, pending=(1,))
    calls = []
    store = resume_run(copy, on_progress=calls.append)
    assert calls == [100], "only the missing chunk runs again"
    _same_outcomes(reference_run, store)
    assert not (copy / "chunks").exists(), "a complete run keeps no chunks"
    calls = []
    resume_run(copy, on_progress=calls.append)  # resuming a complete run does nothing
    assert calls == []
    _same_outcomes(reference_run, store)


@pytest.mark.slow
def test_resume_after_sigkill_gives_the_same_files(tmp_path):
    args = ["run", "--futures", "2000", "--chunk-size", "100", "--seed", "3", "--no-report"]
    whole = run_cli(*args, "--out", str(tmp_path / "whole"), in_process=False)
    assert whole.returncode == 0, whole.stderr

    killed_dir = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "offramp", *args, "--out", str(killed_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    manifest = killed_dir / "manifest.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if manifest.is_file() and '"done"' in manifest.read_text():
            break
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = json.loads(manifest.read_text())
    assert state["status"] == "running", "the run was killed before it finished"
    assert "pending" in state["chunks"].values()

    resumed = run_cli("run", "--resume", str(killed_dir), "--no-report", in_process=False)
    assert resumed.returncode == 0, resumed.stderr
    for name in ("outcomes.parquet", "futures.parquet"):
        assert (killed_dir / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_resume_with_another_scenario_is_refused(reference_run, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("extends: kursk-2024\nscenario:\n  name: kursk-other\n  horizon_weeks: 20\n")
    result = run_cli("run", str(other), "--resume", str(reference_run.root), "--no-report",
                     in_process=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds a run of 'kursk-2024'" in result.stderr


# --- requirements ----------------------------------------------------------------------------


def test_requirements_are_stored_and_do_not_change_the_outcomes(tmp_path):
    base = RunSettings(scenario="kursk-2024", n_futures=60, seed=5, chunk_size=60)
    default = start_run(base, tmp_path / "default")
    custom = start_run(RunSettings(**{**base.__dict__, "requirements": ("ended == true",)}),
                       tmp_path / "custom")
    assert default.manifest["requirements"] == list(DEFAULT_REQUIREMENTS)
    assert custom.manifest["requirements"] == ["ended == true"]
    for name in ("outcomes.parquet", "futures.parquet"):
        assert (default.root / name).read_bytes() == (custom.root / name).read_bytes()


def test_a_run_that_would_not_fit_in_memory_is_refused_before_any_work(monkeypatch, tmp_path):
    from helpers import assert_one_line_error
    from offramp.experiments import runner
    from offramp.scenario.loader import load_scenario

    scenario = load_scenario("kursk-2024").scenario
    small = runner.memory_estimate(RunSettings(n_futures=10_000), scenario)
    big = runner.memory_estimate(RunSettings(n_futures=1_000_000, series=True), scenario,
                                 workers=2)
    assert small.total_gib < 0.5 and 4 < big.total_gib < 12
    monkeypatch.setattr(runner, "available_memory_gib", lambda: 2.0)
    result = run_cli("run", "--futures", "1000000", "--series", "--workers", "2",
                     "--out", tmp_path / "big")
    assert_one_line_error(result, "GiB of memory", "no --series", "fewer --workers")
    assert not (tmp_path / "big").exists()
