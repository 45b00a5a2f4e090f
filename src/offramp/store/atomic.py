"""Writes that are either complete or absent: a temporary file in the same folder, then rename."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

DIGEST_PREFIX = "xxh3_128:"
"""What starts a digest written now: XXH3's 128-bit hash of the file's bytes (hex). A digest is
a check that a file holds the bytes written, against damage, not a signature: XXH3 runs at
memory speed (the futures table of 1,000,000 futures, 1.2 GB: 0.86 CPU-s with sha256, ~0.25
with XXH3, most of it reading the file). A digest without a prefix is a sha256, written by
older versions, and is still checked as one (`digest_matches`)."""

_READ_BYTES = 1 << 23
"""A file is hashed 8 MB at a time through one buffer, not memory-mapped: a mapped file's pages
count in the process's resident memory (+0.8 GiB peak at 1,000,000 futures)."""


def file_digest(path: Path) -> str:
    """The digest of a file's bytes: DIGEST_PREFIX and XXH3-128 (hex)."""
    digest = xxhash.xxh3_128()
    buffer = bytearray(_READ_BYTES)
    with open(path, "rb", buffering=0) as handle, memoryview(buffer) as view:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
    return DIGEST_PREFIX + digest.hexdigest()


def digest_matches(path: Path, recorded: str) -> bool:
    """Whether a file's bytes are the ones `recorded` (a `file_digest`, or an older version's
    bare sha256) describes."""
    if recorded.startswith(DIGEST_PREFIX):
        return file_digest(path) == recorded
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() == recorded


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> str:
    """Write through a temporary file, then rename; return the digest of what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        digest = file_digest(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return digest


def write_json(path: Path, data: Any) -> None:
    # Key order is kept: a scenario's actors and theaters are ordered, and that order is part
    # of what a resumed run must rebuild exactly.
    text = json.dumps(data, indent=2, default=str) + "\n"
    _replace_atomically(path, lambda tmp: tmp.write_text(text))


def write_text(path: Path, text: str) -> None:
    _replace_atomically(path, lambda tmp: tmp.write_text(text))


def write_bytes(path: Path, data: bytes) -> None:
    _replace_atomically(path, lambda tmp: tmp.write_bytes(data))


def _encodings(schema: pa.Schema) -> dict[str, Any]:
    """How each column is encoded (Parquet writer options). Dictionaries for all but floating
    point and lists of it: a float column of sampled or simulated values has as many distinct
    values as rows; trying a dictionary first made the file larger and its writing four times
    and reading five times slower (measured on 200,000 futures x 190 parameters: 2.85 -> 0.66
    CPU-s to write, 2.24 -> 0.41 to read). The weekly series' values (lists of float32)
    byte-stream-split: each byte of the floats in a stream of its own, which zstd shrinks far
    better (a series part: 64 -> 51 MB for 10,000 futures x 4 policies, in the same CPU)."""
    float_lists = [field.name for field in schema
                   if pa.types.is_fixed_size_list(field.type) or pa.types.is_list(field.type)
                   if pa.types.is_floating(field.type.value_type)]
    return {"use_dictionary": [field.name for field in schema
                               if not pa.types.is_floating(field.type)
                               and field.name not in float_lists],
            "use_byte_stream_split": [f"{name}.list.element" for name in float_lists]}


Compression = Literal["zstd", "lz4", "none"]
QUICK: Compression = "lz4"
"""For a run's outcomes and the futures table's fixed columns (its sampled ones are written
uncompressed: `run_store._write_futures`): written and read in about half zstd's CPU. Sampled
values are random floats that zstd shrank by only 7% (250,000 futures x 190 parameters: 0.85 ->
0.46 CPU-s to write, 0.46 -> 0.19 to read); outcomes are a third smaller
with zstd (1,000,000 rows: 39 against 58 MB), but the analyses read them again and again
(0.46 -> 0.28 CPU-s a read, 0.75 -> 0.41 to write) and the futures table is most of a run
folder anyway. Series stay zstd: they are the largest files and shrink most."""


def write_parquet(path: Path, table: pa.Table,
                  compression: Compression | dict[str, Compression] = "zstd") -> str:
    """Write a table as Parquet, atomically; return the file's digest (zstd by default: the
    smaller file; `QUICK` says when lz4 is worth more; a dict: each column's)."""
    return _replace_atomically(path, lambda tmp: pq.write_table(
        table, tmp, compression=cast(Any, compression), **_encodings(table.schema)))


def write_arrow(path: Path, table: pa.Table) -> str:
    """Write a table as an Arrow IPC file, atomically; return the file's digest. No encoding or
    compression: for a chunk's outcomes, which live only until the run's chunks are joined into
    Parquet (`join_to_parquet`); as Parquet they were encoded twice (a chunk of 65,536 futures
    x 4 policies: ~90 ms to write as Parquet, ~10 as Arrow)."""

    def write(tmp: Path) -> None:
        with pa.ipc.new_file(str(tmp), table.schema) as writer:
            writer.write_table(table)

    return _replace_atomically(path, write)


def read_arrow(path: Path) -> pa.Table:
    """An Arrow IPC file's table (memory-mapped: read without a copy)."""
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def join_to_parquet(path: Path, parts: list[Path], compression: Compression = "zstd") -> str:
    """Stream several Arrow IPC files of one schema into one Parquet file, a part at a time
    (bounded memory); atomically, returning its digest."""

    def write(tmp: Path) -> None:
        writer = None
        try:
            for part in parts:
                table = read_arrow(part)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression=compression,
                                              **_encodings(table.schema))
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    return _replace_atomically(path, write)
