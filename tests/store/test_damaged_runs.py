"""A damaged run folder (a file truncated, emptied or deleted) gives one clear line naming the
file, from every command that reads it; never a traceback."""

from __future__ import annotations

import shutil

import pytest

from helpers import assert_one_line_error, interrupted_copy, run_cli


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_outcomes_file_is_named(kursk_run, tmp_path, damage):
    root = tmp_path / "run"
    shutil.copytree(kursk_run.root, root)
    outcomes = root / "outcomes.parquet"
    outcomes.write_bytes(outcomes.read_bytes()[:100] if damage == "truncated" else b"")
    for args in (("report", root), ("query", root, "select count(*) from outcomes")):
        assert_one_line_error(run_cli(*args), "outcomes.parquet", "damaged", code=3)


def test_resuming_without_the_futures_file_names_it(kursk_run, tmp_path):
    root = tmp_path / "run"
    interrupted_copy(kursk_run.root, root, pending=(1,))
    (root / "futures.parquet").unlink()
    assert_one_line_error(run_cli("run", "--resume", root), "futures.parquet", "missing", code=3)


def test_a_run_killed_while_writing_its_futures_can_be_started_again(tmp_path):
    """Killed before the manifest: --resume says to start again, and run --out does, in the
    same folder (it held nothing but the futures being written)."""
    root = tmp_path / "killed"
    root.mkdir()
    (root / "futures.parquet").write_bytes(b"PAR1 half a file")
    (root / ".futures.parquet.x1.tmp").write_bytes(b"...")
    assert_one_line_error(run_cli("run", "--resume", root), "stopped before it began",
                          f"--out {root}")
    result = run_cli("run", "kursk-2024", "--futures", "20", "--policies", "drip-feed",
                     "--out", root, "--no-report")
    assert result.returncode == 0, result.stderr
    assert (root / "manifest.json").is_file() and (root / "outcomes.parquet").is_file()
    assert not list(root.glob("*.tmp"))
