"""Writes that are either complete or absent: a temporary file in the same folder, then rename."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> str:
    """Write through a temporary file, then rename; return the sha256 of what was written."""
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


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: all but floating point. A float column of sampled or
    simulated values has as many distinct values as rows; trying a dictionary first made the
    file larger and its writing four times and reading five times slower (measured on 200,000
    futures x 190 parameters: 2.85 -> 0.66 CPU-s to write, 2.24 -> 0.41 to read)."""
    return [field.name for field in schema if not pa.types.is_floating(field.type)]


Compression = Literal["zstd", "lz4"]
SAMPLED: Compression = "lz4"
"""For tables of sampled values (a run's futures): random floats do not compress (zstd saved
7% of the futures file's space for twice lz4's CPU to write and to read: measured on 250,000
futures x 190 parameters, 0.85 -> 0.46 CPU-s to write, 0.46 -> 0.19 to read)."""
PASSING: Compression = "lz4"
"""For files read once and removed (a run's outcome chunks, joined when it completes):
written and read in about half zstd's CPU (1,000,000 outcome rows: 0.75 -> 0.41 CPU-s to
write, 0.46 -> 0.28 to read); the joined file is zstd. Series chunks stay zstd: at 1,000,000
futures they and the joined file share the disk for a moment, and lz4's are half as large
again."""


def write_parquet(path: Path, table: pa.Table, compression: Compression = "zstd") -> str:
    """Write a table as Parquet, atomically; return the file's sha256. zstd by default:
    simulated outcomes and series repeat themselves (a third smaller than with lz4)."""
    return _replace_atomically(path, lambda tmp: pq.write_table(
        table, tmp, compression=compression,
        # a list of column names is documented; pyarrow's stubs say bool
        use_dictionary=_dictionary_columns(table.schema)))  # type: ignore[arg-type]


def concat_parquet(path: Path, parts: list[Path]) -> str:
    """Stream several parquet files of one schema into one, a part at a time (bounded memory)."""

    def write(tmp: Path) -> None:
        writer = None
        try:
            for part in parts:
                table = pq.read_table(part)
                if writer is None:
                    writer = pq.ParquetWriter(
                        tmp, table.schema, compression="zstd",
                        use_dictionary=_dictionary_columns(table.schema))  # type: ignore[arg-type]
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    return _replace_atomically(path, write)
