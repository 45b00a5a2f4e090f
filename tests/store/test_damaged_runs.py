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


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_resuming_without_an_intact_futures_file_draws_it_again(kursk_run, tmp_path, damage):
    root = tmp_path / "run"
    interrupted_copy(kursk_run.root, root, pending=(1,))
    futures = root / "futures.parquet"
    if damage == "deleted":
        futures.unlink()
    else:
        futures.write_bytes(futures.read_bytes()[:200])
    result = run_cli("run", "--resume", root, "--no-report")
    assert result.returncode == 0, result.stderr
    assert "repaired: futures.parquet was" in result.stderr
    assert (root / "outcomes.parquet").read_bytes() == (kursk_run.root /
                                                        "outcomes.parquet").read_bytes()


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


@pytest.mark.parametrize("edit", ["seed", "lever"])
def test_a_resume_refuses_a_manifest_edited_since_the_run_began(kursk_run, tmp_path, edit):
    """An edited seed or lever would give a run whose chunks disagree, marked complete."""
    import json

    root = tmp_path / "run"
    interrupted_copy(kursk_run.root, root, pending=(1,))
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["run_hash"]
    if edit == "seed":
        manifest["seed"] += 1
    else:
        manifest["scenario_data"]["policies"]["drip-feed"]["aid_multiplier"] = 3.0
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(run_cli("run", "--resume", root), "changed since it began",
                          "start a new run", code=3)
    assert not (root / "outcomes.parquet").exists()


def test_an_untouched_interrupted_run_still_resumes(kursk_run, tmp_path):
    root = tmp_path / "run"
    interrupted_copy(kursk_run.root, root, pending=(1,))
    assert run_cli("run", "--resume", root, "--no-report").returncode == 0


def test_digests_of_older_runs_still_catch_a_changed_byte(kursk_run, tmp_path):
    """Runs made before digests were XXH3 recorded bare sha256s: they are still checked as
    such (an intact folder has no problems; one byte changed in place is found), and new
    digests catch the same change."""
    import hashlib
    import json

    from offramp.store import RunStore
    from offramp.store.atomic import DIGEST_PREFIX

    root = tmp_path / "run"
    shutil.copytree(kursk_run.root, root)
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert all(digest.startswith(DIGEST_PREFIX) for digest in manifest["checksums"].values())
    older = tmp_path / "older"
    shutil.copytree(root, older)
    manifest["checksums"] = {name: hashlib.sha256((older / name).read_bytes()).hexdigest()
                             for name in manifest["checksums"]}
    (older / "manifest.json").write_text(json.dumps(manifest))
    for folder in (root, older):
        assert RunStore.open(folder).problems() == []
        futures = folder / "futures.parquet"
        data = bytearray(futures.read_bytes())
        data[len(data) // 2] ^= 1
        futures.write_bytes(bytes(data))
        assert [(p.name, p.what.split(":")[0]) for p in RunStore.open(folder).problems()] == [
            ("futures.parquet", "damaged")]
