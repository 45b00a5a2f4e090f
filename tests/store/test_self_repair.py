"""Runs that repair themselves: every file's checksum is kept in the manifest; `--resume` finds a
chunk or joined file that is not what was written, removes it and runs what it held again, so
the outcomes are those of an uninterrupted run; `offramp doctor` says the same without
changing anything."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import interrupted_copy, run_cli
from offramp.experiments.runner import resume_run
from offramp.store import RunStore


def _flip_a_byte(path, at: int = -40) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_every_written_file_has_its_checksum_in_the_manifest(kursk_series_run):
    checksums = kursk_series_run.manifest["checksums"]
    parts = {f"series/part-{i:05d}.parquet"
             for i in range(len(kursk_series_run.manifest["chunk_bounds"]))}
    assert set(checksums) == {"futures.parquet", "outcomes.parquet"} | parts
    assert all((kursk_series_run.root / part).is_file() for part in parts)
    assert RunStore.open(kursk_series_run.root).problems() == []


@pytest.mark.parametrize("damage", ["flipped", "truncated", "emptied", "another chunk's"])
def test_a_damaged_chunk_runs_again_and_the_outcomes_are_an_uninterrupted_runs(
        kursk_run, tmp_path, damage):
    root = tmp_path / "run"
    interrupted_copy(kursk_run.root, root, pending=(2,))
    chunk = root / "chunks" / "outcomes-00001.arrow"
    if damage == "flipped":
        _flip_a_byte(chunk)
    elif damage == "another chunk's":  # readable, but rows that belong elsewhere
        shutil.copy(root / "chunks" / "outcomes-00000.arrow", chunk)
    else:
        chunk.write_bytes(chunk.read_bytes()[:50] if damage == "truncated" else b"")
    (root / "chunks" / ".outcomes-00002.arrow.x.tmp").write_bytes(b"half")
    doctor = run_cli("doctor", root)
    assert doctor.returncode == 1 and "chunks/outcomes-00001.arrow" in doctor.stdout
    assert "offramp run --resume" in doctor.stdout
    notes, progress = [], []
    store = resume_run(root, on_progress=progress.append, on_repair=notes.append)
    assert notes and "chunk 1 runs again" in notes[0]
    assert progress == [100, 100], "chunk 1 (damaged) and chunk 2 (never written)"
    assert (root / "outcomes.parquet").read_bytes() == (kursk_run.root /
                                                        "outcomes.parquet").read_bytes()
    assert not list(root.rglob("*.tmp")) and store.problems() == []
    assert run_cli("doctor", root).returncode == 0


def test_a_complete_run_whose_outcomes_are_damaged_is_run_again_by_resume(kursk_run, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(kursk_run.root, root)
    _flip_a_byte(root / "outcomes.parquet", at=300)
    result = run_cli("run", "--resume", root, "--no-report")
    assert result.returncode == 0, result.stderr
    assert "repaired: outcomes.parquet" in result.stderr and "every chunk runs again" in \
        result.stderr
    assert (root / "outcomes.parquet").read_bytes() == (kursk_run.root /
                                                        "outcomes.parquet").read_bytes()


def test_a_complete_run_whose_series_part_is_damaged_is_run_again_by_resume(
        kursk_series_run, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(kursk_series_run.root, root)
    _flip_a_byte(root / "series" / "part-00001.parquet", at=300)
    doctor = run_cli("doctor", root)
    assert doctor.returncode == 1 and "series/part-00001.parquet" in doctor.stdout
    result = run_cli("run", "--resume", root, "--no-report")
    assert result.returncode == 0, result.stderr
    assert "repaired: series/part-00001.parquet" in result.stderr
    for name in ["outcomes.parquet", *sorted(kursk_series_run.manifest["checksums"])]:
        assert (root / name).read_bytes() == (kursk_series_run.root / name).read_bytes(), name


def test_doctor_says_a_healthy_run_is_healthy_and_an_edited_scenario_is_not(kursk_run,
                                                                             tmp_path):
    healthy = run_cli("doctor", kursk_run.root)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "healthy" in healthy.stdout
    root = tmp_path / "run"
    shutil.copytree(kursk_run.root, root)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["scenario_hash"] = "0" * 64
    (root / "manifest.json").write_text(json.dumps(manifest))
    edited = run_cli("doctor", root)
    assert edited.returncode == 1 and "scenario_hash" in edited.stdout
    assert run_cli("doctor", tmp_path / "nothing").returncode == 2
