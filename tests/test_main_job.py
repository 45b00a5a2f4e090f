"""The main job: determinism across chunking and executors, resume after SIGKILL, CLI, report."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from offramp.experiments.executors import DaskExecutor, ProcessExecutor
from offramp.experiments.runner import RunSettings, resume_run, start_run
from offramp.store import RunStore

SMALL = RunSettings(scenario="kursk-2024", n_futures=300, seed=7, chunk_size=100)


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "offramp", *args], capture_output=True, text=True, env=env,
        timeout=600, **kwargs,
    )


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> RunStore:
    return start_run(SMALL, tmp_path_factory.mktemp("runs") / "reference")


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
    assert len(outcomes) == 300 * 3
    assert set(outcomes["policy"]) == {"negotiate-now", "arm-and-hold", "drip-feed"}
    assert not list(root.rglob("*.tmp")), "temporary files left behind"


def test_same_seed_same_bits(reference_run, tmp_path):
    _same_outcomes(reference_run, start_run(SMALL, tmp_path / "again"))


def test_chunk_size_does_not_change_results(reference_run, tmp_path):
    other = RunSettings(**{**SMALL.__dict__, "chunk_size": 37})
    _same_outcomes(reference_run, start_run(other, tmp_path / "chunks37"))


def test_worker_processes_give_the_same_bits(reference_run, tmp_path):
    executor = ProcessExecutor(2)
    try:
        store = start_run(SMALL, tmp_path / "processes", executor)
    finally:
        executor.close()
    _same_outcomes(reference_run, store)


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
    shutil.copytree(reference_run.root, copy)
    (copy / "outcomes.parquet").unlink()
    (copy / "chunks" / "outcomes-00001.parquet").unlink()
    done_before = (copy / "chunks" / "outcomes-00000.parquet").stat().st_mtime_ns
    calls = []
    store = resume_run(copy, on_progress=calls.append)
    assert calls == [100], "only the missing chunk runs again"
    assert (copy / "chunks" / "outcomes-00000.parquet").stat().st_mtime_ns == done_before
    _same_outcomes(reference_run, store)


def test_resume_after_sigkill_gives_the_same_files(tmp_path):
    args = ["run", "--futures", "2000", "--chunk-size", "100", "--seed", "3", "--no-report"]
    whole = run_cli(*args, "--out", str(tmp_path / "whole"))
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

    resumed = run_cli("run", "--resume", str(killed_dir), "--no-report")
    assert resumed.returncode == 0, resumed.stderr
    for name in ("outcomes.parquet", "futures.parquet"):
        assert (killed_dir / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_cli_run_prints_the_comparison_and_writes_the_report(tmp_path):
    result = run_cli("run", "--futures", "200", "--out", str(tmp_path / "cli"), "--series")
    assert result.returncode == 0, result.stderr
    for text in ("Per policy", "Paired", "negotiate-now", "not forecasts", "report:"):
        assert text in result.stdout, text
    report = tmp_path / "cli" / "report.html"
    assert report.is_file()
    html = report.read_text()
    assert "Not a forecast" in html and "<svg" in html and "Where every number comes from" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # nothing to fetch

    query = run_cli("query", str(tmp_path / "cli"),
                    "select policy, count(*) as n from outcomes group by policy order by policy")
    assert query.returncode == 0, query.stderr
    assert "arm-and-hold" in query.stdout and "200" in query.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--policies", "negotiate-later"], "unknown policy negotiate-later"),
        (["--futures", "0"], "--futures must be at least 1"),
        (["--sampler", "grid"], "unknown sampler 'grid'"),
        (["--out", "/proc/offramp-cannot-write-here"], "cannot write"),
    ],
)
def test_bad_run_arguments_get_one_clear_line(args, expected):
    result = run_cli("run", "--no-report", *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_resume_with_another_scenario_is_refused(reference_run, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("extends: kursk-2024\nscenario:\n  name: kursk-other\n  horizon_weeks: 20\n")
    result = run_cli("run", str(other), "--resume", str(reference_run.root), "--no-report")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds a run of 'kursk-2024'" in result.stderr


def test_report_renders_in_chromium_without_console_errors(reference_run, open_in_chromium):
    import offramp

    with open_in_chromium(offramp.open_run(reference_run.root).report()) as visit:
        assert "Not a forecast" in visit.page.inner_text("body")
        assert visit.page.locator("svg").count() >= 3
    assert visit.problems == [] and visit.requests == []


def test_python_api(reference_run, tmp_path):
    import offramp

    run = offramp.run("kursk-2024", futures=300, seed=7, chunk_size=150, out=tmp_path / "api")
    pd.testing.assert_frame_equal(run.outcomes, reference_run.read_outcomes(), check_exact=True)
    table = run.compare()
    assert list(table.index) == ["negotiate-now", "arm-and-hold", "drip-feed"]
    assert table["ended share"].between(0, 1).all()
    assert run.paired().shape[0] == 6
    assert run.report().is_file()
    reopened = offramp.open_run(run.path)
    assert reopened.outcomes.dtypes.equals(run.outcomes.dtypes)
    assert int(reopened.query("select count(*) as n from outcomes")["n"][0]) == 900
