"""A disk that fills up at any write of a run (the futures, a chunk's series, a chunk's
outcomes, the manifest) ends the command with one line and exit code 3, leaves no temporary
file, and the folder resumes (or starts again) to the outcomes of an uninterrupted run."""

from __future__ import annotations

import errno

import pyarrow.parquet as pq
import pytest

from helpers import assert_one_line_error, run_cli
from offramp.store import RunStore, atomic

ARGS = ("run", "kursk-2024", "--futures", "300", "--chunk-size", "100", "--seed", "7",
        "--series", "--no-report")


def _fill_the_disk_at(monkeypatch, write_number: int) -> list[int]:
    """Make the `write_number`-th atomic write (counting from 1) fail as a full disk would."""
    count = [0]
    real = atomic._replace_atomically

    def replace(path, write):
        count[0] += 1
        if count[0] == write_number:
            def full(tmp):
                write(tmp)  # the bytes reach the temporary file, then the disk is full
                raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
            return real(path, full)
        return real(path, write)

    monkeypatch.setattr(atomic, "_replace_atomically", replace)
    return count


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("whole") / "run"
    assert run_cli(*ARGS, "--out", root).returncode == 0
    return pq.read_table(root / "outcomes.parquet"), RunStore.open(root).read_series()


# writes: 1 futures, 2 manifest, then per chunk: series, outcomes, manifest; then the outcomes'
# join (12) and the manifest
@pytest.mark.parametrize("write_number", [1, 2, 3, 4, 5, 9, 12])
def test_a_full_disk_ends_the_run_cleanly_and_the_folder_resumes(
        monkeypatch, tmp_path, uninterrupted, write_number):
    root = tmp_path / "run"
    count = _fill_the_disk_at(monkeypatch, write_number)
    result = run_cli(*ARGS, "--out", root)
    assert count[0] >= write_number
    assert_one_line_error(result, "No space left on device", "--resume", code=3)
    assert not list(root.rglob("*.tmp"))
    monkeypatch.undo()  # space freed
    if (root / "manifest.json").is_file():
        again = run_cli("run", "--resume", root, "--no-report")
    else:  # it stopped before its manifest: the folder starts again
        again = run_cli(*ARGS, "--out", root)
    assert again.returncode == 0, again.stderr
    outcomes, series = uninterrupted
    assert pq.read_table(root / "outcomes.parquet").equals(outcomes)
    assert RunStore.open(root).read_series().equals(series)
