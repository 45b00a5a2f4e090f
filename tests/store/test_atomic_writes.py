"""Atomic writes: a write that dies half-way leaves the old file (or none), never a torn one.

The run folder's promise (a chunk counts as done once its files are in place, so a run killed at
any instant resumes without redoing or corrupting finished work) rests on these writes.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import interrupted_copy
from offramp.experiments.runner import resume_run
from offramp.store import RunStore, atomic
from offramp.store.atomic import join_to_parquet, write_arrow, write_json, write_parquet, write_text

CHUNK = 1  # the chunk the simulated crash hits
CHUNK_NAME = f"outcomes-{CHUNK:05d}.arrow"


class SimulatedCrash(Exception):
    """Stands for the process dying in the middle of a write."""


def _table(n: int = 50, offset: float = 0.0) -> pa.Table:
    return pa.table({"future": list(range(n)), "value": [offset + i / 7 for i in range(n)]})


def _parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


# --- the primitive ----------------------------------------------------------------------------


def _torn_writer(data: bytes):
    """A write callback that gets half its bytes out and then dies."""

    def write(target: Path) -> None:
        target.write_bytes(data[: len(data) // 2])
        raise SimulatedCrash(f"killed while writing {target.name}")

    return write


@pytest.mark.parametrize("existing", [True, False], ids=["over-a-file", "new-file"])
def test_a_write_dying_inside_the_writer_leaves_the_old_file(tmp_path, existing):
    path = tmp_path / "results" / "outcomes.parquet"
    old = _parquet_bytes(_table())
    if existing:
        path.parent.mkdir()
        path.write_bytes(old)
    with pytest.raises(SimulatedCrash):
        atomic._replace_atomically(path, _torn_writer(_parquet_bytes(_table(500, 1.0))))
    if existing:
        assert path.read_bytes() == old
    else:
        assert not path.exists()
    assert not _leftovers(tmp_path)
    assert [p.name for p in path.parent.iterdir()] == (["outcomes.parquet"] if existing else [])


@pytest.mark.parametrize("existing", [True, False], ids=["over-a-file", "new-file"])
def test_a_parquet_write_torn_by_pyarrow_leaves_the_old_file(tmp_path, monkeypatch, existing):
    path = tmp_path / "chunk.parquet"
    old = _parquet_bytes(_table())
    if existing:
        path.write_bytes(old)
    real_write_table = pq.write_table

    def torn_write_table(table, where, **kwargs):
        buffer = io.BytesIO()
        real_write_table(table, buffer, **kwargs)
        Path(where).write_bytes(buffer.getvalue()[:100])
        raise SimulatedCrash("killed inside pyarrow")

    monkeypatch.setattr(pq, "write_table", torn_write_table)
    with pytest.raises(SimulatedCrash):
        write_parquet(path, _table(500, 1.0))
    assert (path.read_bytes() == old) if existing else not path.exists()
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize(
    "write",
    [
        lambda path: write_text(path, "new text\n"),
        lambda path: write_json(path, {"status": "complete"}),
        lambda path: write_parquet(path, _table(500, 1.0)),
    ],
    ids=["text", "json", "parquet"],
)
def test_a_kill_between_write_and_rename_leaves_the_old_file(tmp_path, monkeypatch, write):
    path = tmp_path / "manifest.json"
    old = b'{\n  "status": "running"\n}\n'
    path.write_bytes(old)

    def killed_before_rename(src, dst):
        raise SimulatedCrash(f"killed before renaming {src} to {dst}")

    monkeypatch.setattr(os, "replace", killed_before_rename)
    with pytest.raises(SimulatedCrash):
        write(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_join_failing_on_a_part_leaves_the_old_file(tmp_path):
    good = tmp_path / "part-0.arrow"
    write_arrow(good, _table())
    missing = tmp_path / "part-1.arrow"  # never written: reading it fails mid-way
    path = tmp_path / "outcomes.parquet"
    old = _parquet_bytes(_table(3))
    path.write_bytes(old)
    with pytest.raises(OSError):
        join_to_parquet(path, [good, missing])
    assert path.read_bytes() == old
    assert not _leftovers(tmp_path)


def test_a_finished_write_is_whole_shared_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "deep" / "er" / "outcomes.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old contents")
    table = _table(500, 1.0)
    write_parquet(path, table)
    assert pq.read_table(path).equals(table)
    assert os.stat(path).st_mode & 0o777 == 0o644
    write_json(tmp_path / "m.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"b": 1, "a": [1, 2]}
    assert list((tmp_path / "m.json").read_text().splitlines())[1] == '  "b": 1,'  # order kept
    assert not _leftovers(tmp_path)


# --- a run killed while it writes a chunk -----------------------------------------------------


@pytest.fixture(scope="module")
def reference_run(kursk_run) -> RunStore:
    """A complete run of 300 futures in three chunks of 100 (the session's shared kursk_run)."""
    bounds = [tuple(bound) for bound in kursk_run.manifest["chunk_bounds"]]
    assert bounds == [(0, 100), (100, 200), (200, 300)]
    return kursk_run


def _as_if_killed_during_chunk(reference: RunStore, root: Path) -> None:
    """A copy of a complete run as it looks when killed while chunk CHUNK was being written:
    the chunk's file and the joined outcomes absent, the chunk pending, the run running."""
    interrupted_copy(reference.root, root, pending=(CHUNK,))


def _install_fault(monkeypatch, where: str) -> list[str]:
    """Make the write of chunk CHUNK's outcomes die: half-way through pyarrow's write, or
    after the data is written but before the rename. Returns the targets that were hit."""
    hits: list[str] = []
    if where == "inside the write":
        real_new_file = pa.ipc.new_file

        def torn_new_file(sink, schema, **kwargs):
            target = Path(sink)
            if CHUNK_NAME not in target.name:
                return real_new_file(sink, schema, **kwargs)
            hits.append(str(target))

            class TornWriter:  # writes half of the file, then the process dies
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return False

                def write_table(self, table):
                    buffer = pa.BufferOutputStream()
                    with real_new_file(buffer, schema) as whole:
                        whole.write_table(table)
                    data = buffer.getvalue().to_pybytes()
                    target.write_bytes(data[: len(data) // 2])
                    raise SimulatedCrash(f"killed while writing {target}")

            return TornWriter()

        monkeypatch.setattr(pa.ipc, "new_file", torn_new_file)
    else:
        real_replace = os.replace

        def killed_before_rename(src, dst):
            if Path(dst).name == CHUNK_NAME:
                hits.append(str(dst))
                raise SimulatedCrash(f"killed before renaming {src}")
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", killed_before_rename)
    return hits


@pytest.mark.parametrize("where", ["inside the write", "before the rename"])
def test_a_chunk_torn_by_a_crash_is_not_done_and_resume_redoes_it(
    reference_run, tmp_path, monkeypatch, where
):
    root = tmp_path / "crashed"
    _as_if_killed_during_chunk(reference_run, root)
    others = {i: (root / "chunks" / f"outcomes-{i:05d}.arrow").read_bytes() for i in (0, 2)}
    assert RunStore.open(root).missing_chunks() == [CHUNK]

    hits = _install_fault(monkeypatch, where)
    with pytest.raises(SimulatedCrash):
        resume_run(root)
    monkeypatch.undo()
    assert hits, "the fault never fired: chunk 1 was not written"

    after_crash = RunStore.open(root)
    assert not after_crash.chunk_is_done(CHUNK)
    assert after_crash.missing_chunks() == [CHUNK]
    assert not after_crash.chunk_path("outcomes", CHUNK).exists(), "a torn chunk file in place"
    assert after_crash.manifest["chunks"][str(CHUNK)] == "pending"
    assert after_crash.manifest["status"] == "running"
    assert not (root / "outcomes.parquet").exists()
    assert not _leftovers(root), "temporary files left behind"
    for i, data in others.items():
        assert (root / "chunks" / f"outcomes-{i:05d}.arrow").read_bytes() == data

    progress: list[int] = []
    resumed = resume_run(root, on_progress=progress.append)
    assert progress == [100], "exactly the torn chunk is computed again"
    assert resumed.is_complete and resumed.missing_chunks() == []
    assert not (root / "chunks").exists(), "a complete run keeps no chunks"
    pd.testing.assert_frame_equal(resumed.read_outcomes(), reference_run.read_outcomes(),
                                  check_exact=True)
    assert not _leftovers(root)


def test_a_temporary_left_by_a_sigkill_does_not_count_as_the_chunk(reference_run, tmp_path):
    # SIGKILL skips the `finally` that removes the temporary file: a half-written one stays.
    root = tmp_path / "killed"
    _as_if_killed_during_chunk(reference_run, root)
    data = (root / "chunks" / f"outcomes-{CHUNK - 1:05d}.arrow").read_bytes()
    stale = root / "chunks" / f".{CHUNK_NAME}.k1ll3d.tmp"
    stale.write_bytes(data[: len(data) // 2])
    store = RunStore.open(root)
    assert not store.chunk_is_done(CHUNK) and store.missing_chunks() == [CHUNK]

    progress: list[int] = []
    resumed = resume_run(root, on_progress=progress.append)
    assert progress == [100]
    pd.testing.assert_frame_equal(resumed.read_outcomes(), reference_run.read_outcomes(),
                                  check_exact=True)
