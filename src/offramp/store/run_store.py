"""One folder per run.

```
runs/<name>/
  manifest.json        resolved scenario and its hash, policies, sampler, seed, counts,
                       package versions, status of every chunk
  futures.parquet      the sampled design: one row per future (key `future`), one column per
                       parameter
  chunks/              outcomes-00000.arrow, ... (one per chunk, Arrow IPC files; removed
                       once the run is complete: the joined file below holds the same rows)
  outcomes.parquet     one row per future x policy (written when every chunk is done)
  series/              weekly series, when asked for: part-00000.parquet, ... one per chunk,
                       written once and never joined; one row per future x policy, each series
                       a list of its weekly values (week 0 first; `read_series` and the SQL
                       view `series` give one row per week)
  results/             what studies found on the run (claims.parquet, summary.parquet, ...),
                       each with the settings that made it in the file's metadata
```

Every file is written atomically (temporary file, then rename), and a chunk counts as done only
once its files are in place, so a run killed at any instant resumes without redoing or
corrupting finished work.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from offramp.errors import EnvironmentFault, UserError
from offramp.store.atomic import (
    QUICK,
    Compression,
    digest_matches,
    join_to_parquet,
    read_arrow,
    write_arrow,
    write_json,
    write_parquet,
)

MANIFEST = "manifest.json"
FUTURES = "futures.parquet"
LINEAGE = "lineage.parquet"
SERIES = "series"
LEGACY_SERIES = "series.parquet"
"""Runs made before the series were stored wide kept them joined, one row per week, in this
file: still read (`read_series`, the SQL view), never written."""
REPAIR_ADVICE = ("`offramp run --resume` on its run folder runs what it held again "
                 "(`offramp doctor` says what is wrong)")
CHECKSUMS = "checksums"
"""The manifest's record of every file written: relative path -> digest
(`atomic.file_digest`), checked on resume."""
FORMAT_VERSION = 1


class StoreError(UserError):
    """A run folder that cannot be created, read or resumed."""


class DamagedRun(StoreError, EnvironmentFault):
    """A run folder whose files were damaged (truncated, emptied, deleted) or cannot be
    written: exit code 3."""


class RunStore:
    """Reads and writes one run folder; the driver process is its only writer."""

    def __init__(self, root: Path, manifest: dict[str, Any]):
        self.root = Path(root)
        self.manifest = manifest

    # --- creating and opening ------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, manifest: dict[str, Any], futures: pd.DataFrame,
               lineage: pd.DataFrame | None = None) -> RunStore:
        """A new run folder with its futures (and, for a branched run, each future's parent in
        `lineage`), its manifest written last."""
        root = Path(root)
        if _never_started(root):
            # a run killed while it wrote its futures, before its manifest: nothing was run,
            # so its leftovers are cleared and the run starts again here
            for leftover in root.iterdir():
                leftover.unlink()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StoreError(
                f"{root}: the output folder exists and is not empty; choose another --out "
                f"or resume it with --resume {root}"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as error:
            raise StoreError(f"{root}: cannot write the run folder ({error.strerror})") from None
        manifest = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "status": "running",
            "chunks": {str(i): "pending" for i in range(len(manifest["chunk_bounds"]))},
        }
        checksums = {FUTURES: _write_futures(root / FUTURES, futures)}
        if lineage is not None:
            checksums[LINEAGE] = write_parquet(root / LINEAGE, _table(lineage))
        manifest[CHECKSUMS] = checksums
        store = cls(root, manifest)
        store._save_manifest()
        return store

    @classmethod
    def open(cls, root: Path) -> RunStore:
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            if _never_started(root):
                raise StoreError(f"{root}: the run was stopped before it began (its futures "
                                 f"were being written); start it again with --out {root}")
            raise StoreError(f"{root}: not a run folder (no {MANIFEST})")
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise StoreError(f"{path}: cannot read the manifest ({error})") from None
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            raise StoreError(f"{path}: not a manifest this version of offramp can read")
        return cls(root, manifest)

    def _save_manifest(self) -> None:
        write_json(self.root / MANIFEST, self.manifest)

    # --- chunks --------------------------------------------------------------------------

    def chunk_path(self, kind: str, index: int) -> Path:
        return self.root / "chunks" / f"{kind}-{index:05d}.arrow"

    def series_part(self, index: int) -> Path:
        """Chunk `index`'s weekly series: written in place once, never joined or copied."""
        return self.root / SERIES / f"part-{index:05d}.parquet"

    def _chunk_files(self, index: int) -> list[Path]:
        return [self.chunk_path("outcomes", index)] + (
            [self.series_part(index)] if self.manifest.get("series") else [])

    def chunk_is_done(self, index: int) -> bool:
        """Done when its files are all in place (renames are atomic, so present means whole)."""
        return all(path.is_file() for path in self._chunk_files(index))

    def missing_chunks(self) -> list[int]:
        if self.is_complete:  # its chunks are joined (and removed): nothing is missing
            return []
        return [i for i in range(len(self.manifest["chunk_bounds"])) if not self.chunk_is_done(i)]

    def save_chunk(self, index: int, outcomes: pd.DataFrame,
                   series: pd.DataFrame | pa.Table | None) -> None:
        if series is not None:
            table = series if isinstance(series, pa.Table) else _table(series)
            self.series_part(index).parent.mkdir(exist_ok=True)
            self._record(self.series_part(index), write_parquet(self.series_part(index), table))
        self._record(self.chunk_path("outcomes", index),
                     write_arrow(self.chunk_path("outcomes", index), _table(outcomes)))
        self.manifest["chunks"][str(index)] = "done"
        self._save_manifest()

    def _record(self, path: Path, digest: str) -> None:
        """Keep a written file's checksum in the manifest (saved with the next manifest write)."""
        self.manifest.setdefault(CHECKSUMS, {})[path.relative_to(self.root).as_posix()] = digest

    def finish(self) -> None:
        """Join the outcome chunks, in chunk order, into the run's outcomes file, then remove
        them (the run is marked complete first, so a kill in between leaves a complete run with
        spare chunk files, never a run that needs them and lacks them). Series parts stay as
        they are."""
        if self.is_complete:
            return
        missing = self.missing_chunks()
        if missing:
            raise StoreError(f"{self.root}: chunks {missing[:5]} are not done; resume the run")
        parts = [self.chunk_path("outcomes", i) for i in range(len(self.manifest["chunk_bounds"]))]
        self._record(self.root / "outcomes.parquet",
                     join_to_parquet(self.root / "outcomes.parquet", parts, QUICK))
        checksums = self.manifest.get(CHECKSUMS, {})
        self.manifest[CHECKSUMS] = {name: digest for name, digest in checksums.items()
                                    if not name.startswith("chunks/")}
        self.manifest["status"] = "complete"
        self._save_manifest()
        shutil.rmtree(self.root / "chunks", ignore_errors=True)

    # --- health ----------------------------------------------------------------------------

    def problems(self) -> list[FileProblem]:
        """Files of the run that are missing, damaged (not the bytes their recorded checksum
        says) or unreadable (no checksum recorded: a file written just before a kill), and
        leftover temporary files. A run folder in good health has none."""
        return self._damaged() + [
            FileProblem(path.relative_to(self.root).as_posix(),
                        "a temporary file left by an interrupted write")
            for path in self._leftovers()]

    def _damaged(self) -> list[FileProblem]:
        """The run's files that are missing, damaged or unreadable (see `problems`)."""
        found: list[FileProblem] = []
        checksums: dict[str, str] = self.manifest.get(CHECKSUMS, {})
        expected = [FUTURES] + ([LINEAGE] if self.manifest.get("branch") else [])
        if self.is_complete:
            expected += ["outcomes.parquet"] + [path.relative_to(self.root).as_posix()
                                                for path in self._series_files()]
        else:
            for index in range(len(self.manifest["chunk_bounds"])):
                files = self._chunk_files(index)
                if any(path.is_file() for path in files):  # a chunk begun or done
                    expected += [path.relative_to(self.root).as_posix() for path in files]
        for name in expected:
            path = self.root / name
            if not path.is_file():
                found.append(FileProblem(name, "missing"))
            elif name in checksums:
                if not digest_matches(path, checksums[name]):
                    found.append(FileProblem(name, "damaged: its bytes are not those written"))
            elif not _readable(path):
                found.append(FileProblem(name, "damaged: not a readable file"))
        return found

    def _leftovers(self) -> list[Path]:
        return sorted([*self.root.glob("*.tmp"), *self.root.glob("chunks/*.tmp"),
                       *self.root.glob("results/*.tmp")])

    def repair(self, futures: Callable[[], pd.DataFrame] | None = None) -> list[str]:
        """Make the folder resumable, saying what was done: leftover temporary files removed;
        a damaged or missing chunk's files removed (the chunk runs again); a complete run whose
        joined outcomes or series are damaged reopened (every chunk runs again); a damaged
        futures table written again from `futures()` (the design, drawn again from the run's
        settings). Anything else damaged: DamagedRun."""
        notes = []
        for path in self._leftovers():
            path.unlink(missing_ok=True)
        damaged = {problem.name: problem.what for problem in self._damaged()}
        for name in (FUTURES, LINEAGE):
            if name not in damaged:
                continue
            if name == LINEAGE or futures is None:
                raise DamagedRun(f"{self.root / name}: {damaged[name]}; the run folder cannot "
                                 "be repaired: start a new run (or put an intact copy back)")
            self._record(self.root / FUTURES, _write_futures(self.root / FUTURES, futures()))
            notes.append(f"{FUTURES} was {damaged[name]}; drawn again from the run's settings")
        joined = [name for name in damaged
                  if name in ("outcomes.parquet", LEGACY_SERIES) or name.startswith(SERIES + "/")]
        if joined:
            (self.root / "outcomes.parquet").unlink(missing_ok=True)
            (self.root / LEGACY_SERIES).unlink(missing_ok=True)
            shutil.rmtree(self.root / SERIES, ignore_errors=True)
            self.manifest["status"] = "running"
            self.manifest["chunks"] = {key: "pending" for key in self.manifest["chunks"]}
            notes.append(f"{', '.join(joined)}: {damaged[joined[0]]}; every chunk runs again")
        checksums = self.manifest.get(CHECKSUMS, {})
        for index in range(len(self.manifest["chunk_bounds"])):
            files = self._chunk_files(index)
            names = [path.relative_to(self.root).as_posix() for path in files]
            bad = [name for name in names if name in damaged]
            if bad:
                for path, name in zip(files, names, strict=True):
                    path.unlink(missing_ok=True)
                    checksums.pop(name, None)
                self.manifest["chunks"][str(index)] = "pending"
                notes.append(f"chunk {index} runs again ({bad[0]}: {damaged[bad[0]]})")
        if notes:
            self._save_manifest()
        return notes

    # --- reading -------------------------------------------------------------------------

    @property
    def is_complete(self) -> bool:
        return self.manifest.get("status") == "complete"

    def read_futures(self, split_blocks: bool = False) -> pd.DataFrame:
        """The futures table. `split_blocks` gives every column its own block, taken from the
        Parquet buffers without a copy: much quicker for a wide table, and selecting columns
        (the analysis's uncertain parameters) then copies nothing either."""
        return _read_parquet(self.root / "futures.parquet").to_pandas(split_blocks=split_blocks)

    def read_outcomes(self, futures: np.ndarray | None = None) -> pd.DataFrame:
        """The run's outcomes; `futures`: only these futures' rows (read by a Parquet filter,
        not the whole file)."""
        return self._read("outcomes", None if futures is None
                          else pc.field("future").isin(np.asarray(futures)))

    def read_lineage(self) -> pd.DataFrame:
        """A branched run's futures and their parents in the run it branched from (future,
        parent_future)."""
        return _read_parquet(self.root / LINEAGE).to_pandas()

    def series_files(self, futures: int | None = None) -> list[Path]:
        """The files of a complete run's weekly series, in chunk order: its parts (those
        holding the first `futures` futures, if given), or the one joined file of a run made
        before series were stored wide (`LEGACY_SERIES`)."""
        if not self.manifest.get("series"):
            raise StoreError(f"{self.root}: this run has no weekly series (run it with --series)")
        if not self.is_complete:
            raise StoreError(f"{self.root}: the run is not complete; resume it with --resume")
        files = self._series_files()
        if futures is None or files[0].name == LEGACY_SERIES:
            return files
        starts = [first for first, _ in self.manifest["chunk_bounds"]]
        return [path for path, first in zip(files, starts, strict=True) if first < futures]

    def _series_files(self) -> list[Path]:
        if not self.manifest.get("series"):
            return []
        if (self.root / LEGACY_SERIES).is_file():
            return [self.root / LEGACY_SERIES]
        return [self.series_part(i) for i in range(len(self.manifest["chunk_bounds"]))]

    def series_names(self) -> list[str]:
        """The names of the run's weekly series (`series_files`)."""
        return [name for name in _schema(self.series_files()[0]).names
                if name not in ("future", "policy", "week")]

    def read_series(self, names: list[str] | None = None, weeks: list[int] | None = None,
                    futures: int | None = None) -> pd.DataFrame:
        """The weekly series, one row per future, policy and week (in that order): the `names`
        given (all if None) at the `weeks` given (all if None), of the first `futures` futures
        (all if None)."""
        names = self.series_names() if names is None else names
        files = self.series_files(futures)
        first = None if futures is None else pc.field("future") < futures
        if files[0].name == LEGACY_SERIES:
            wanted = first
            if weeks is not None:
                weekly = pc.field("week").isin(weeks)
                wanted = weekly if wanted is None else wanted & weekly
            return _read_parquet(files[0], columns=["future", "policy", "week", *names],
                                 filters=wanted).to_pandas()
        return pd.concat([_weekly_rows(_read_parquet(path, columns=["future", "policy", *names],
                                                     filters=first), weeks)
                          for path in files], ignore_index=True)

    def series_arrays(self, futures: int | None = None
                      ) -> tuple[Callable[[str], np.ndarray], pd.DataFrame]:
        """The series of the first `futures` futures (all if None) as stored: a function giving
        a series' (rows, weeks) float32 values by name, a row per future and policy, and the
        rows' keys (future, policy). One series is read at a time."""
        files = self.series_files(futures)
        if files[0].name == LEGACY_SERIES:
            return _long_arrays(files[0], None if futures is None
                                else pc.field("future") < futures)
        keys = pa.concat_tables(_read_parquet(path, columns=["future", "policy"])
                                for path in files).to_pandas()
        # rows are future-major and parts in order: the first futures' rows are a prefix
        rows = len(keys) if futures is None else int((keys["future"] < futures).sum())

        def values(name: str) -> np.ndarray:
            column = pa.chunked_array([_read_parquet(path, columns=[name])[name].combine_chunks()
                                       for path in files])
            weeks = column.type.list_size
            return pc.list_flatten(column).to_numpy().reshape(-1, weeks)[:rows]

        return values, keys.iloc[:rows]

    def _read(self, kind: str, filters: pc.Expression | None = None) -> pd.DataFrame:
        path = self.root / f"{kind}.parquet"
        if not path.is_file():
            raise StoreError(f"{self.root}: the run is not complete; resume it with --resume")
        return _read_parquet(path, filters=filters).to_pandas()


    # --- results of studies ------------------------------------------------------------------

    def result_path(self, name: str) -> Path:
        return self.root / "results" / f"{name}.parquet"

    def write_result(self, name: str, frame: pd.DataFrame, settings: dict[str, Any]) -> Path:
        """Store a study's table (atomically) with the settings that made it (as JSON)."""
        path = self.result_path(name)
        write_table(path, frame, settings)
        return path

    def read_result(self, name: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """A stored study's table and settings, or None if the study has not been stored."""
        path = self.result_path(name)
        return read_table(path) if path.is_file() else None


SETTINGS_KEY = b"offramp.settings"


def write_table(path: Path, frame: pd.DataFrame, settings: dict[str, Any]) -> None:
    """A table written atomically as Parquet, with the settings that made it (JSON) in its
    metadata: a study's result, or a run's weights."""
    table = _table(frame)
    metadata = {**(table.schema.metadata or {}),
                SETTINGS_KEY: json.dumps(settings, default=str).encode()}
    write_parquet(path, table.replace_schema_metadata(metadata))


def read_table(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A table written by `write_table` and its settings (a damaged file: DamagedRun)."""
    table = _read_parquet(path, advice="make it again with the command that wrote it "
                          "(offramp condition, offramp claims)")
    settings = json.loads((table.schema.metadata or {}).get(SETTINGS_KEY, b"{}"))
    return table.to_pandas(), settings


def _never_started(root: Path) -> bool:
    """A folder left by a run killed before its manifest was written: only the futures file
    (whole or not) and temporary files in it."""
    if not root.is_dir() or (root / MANIFEST).exists():
        return False
    names = [path.name for path in root.iterdir()]
    return bool(names) and all(name in (FUTURES, LINEAGE) or name.endswith(".tmp")
                               or name == ".write-test" for name in names)


def _weekly_rows(part: pa.Table, weeks: list[int] | None) -> pd.DataFrame:
    """A series part (one row per future and policy, each series a list of its weekly values)
    as one row per future, policy and week: the `weeks` given, or all."""
    names = part.column_names[2:]
    rows = part.num_rows
    width = part.schema.field(names[0]).type.list_size
    chosen = np.arange(width, dtype=np.int32) if weeks is None else np.asarray(weeks, np.int32)
    repeat = np.repeat(np.arange(rows), len(chosen))
    columns = {"future": part["future"].take(repeat), "policy": part["policy"].take(repeat),
               "week": pa.array(np.tile(chosen, rows))}
    for name in names:
        values = pc.list_flatten(part[name]).to_numpy().reshape(rows, width)
        columns[name] = pa.array((values if weeks is None else values[:, chosen]).reshape(-1))
    return pa.table(columns).to_pandas()


def _long_arrays(path: Path, filters: pc.Expression | None
                 ) -> tuple[Callable[[str], np.ndarray], pd.DataFrame]:
    """`RunStore.series_arrays` of the one long file of a run made before series were stored
    wide: its rows are every future, policy and week in that order, so a series' values are a
    row per future and policy once reshaped."""
    keys = _read_parquet(path, columns=["future", "policy", "week"], filters=filters)
    weeks = int(pc.max(keys["week"]).as_py()) + 1
    firsts = keys.take(np.arange(0, keys.num_rows, weeks))
    if keys.num_rows % weeks or firsts["week"].to_numpy().any():
        raise _unreadable(path, ValueError("its rows are not whole weeks of each future"),
                          REPAIR_ADVICE)

    def values(name: str) -> np.ndarray:
        column = _read_parquet(path, columns=[name], filters=filters)[name]
        return column.to_numpy().reshape(-1, weeks)

    return values, firsts.select(["future", "policy"]).to_pandas()


def _schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        raise _unreadable(path, error, REPAIR_ADVICE) from None


def _unreadable(path: Path, error: Exception, advice: str) -> DamagedRun:
    reason = str(error).splitlines()[0][:200]
    return DamagedRun(f"{path}: cannot be read ({reason}); the file is damaged: {advice}")


def _read_parquet(path: Path, advice: str = REPAIR_ADVICE,
                  filters: pc.Expression | None = None, columns: list[str] | None = None
                  ) -> pa.Table:
    """A run's Parquet file (its rows passing `filters`, pyarrow's), or a StoreError saying it
    is missing or damaged (a truncated, emptied or overwritten file) and what to do (`advice`),
    never a pyarrow traceback."""
    if not path.is_file():
        raise DamagedRun(f"{path}: missing; the run folder is damaged: {advice}")
    try:
        return pq.read_table(path, filters=filters, columns=columns)
    except (OSError, pa.ArrowException) as error:
        raise _unreadable(path, error, advice) from None


@dataclass(frozen=True)
class FileProblem:
    """A file of a run folder (relative path) and what is wrong with it."""

    name: str
    what: str


def _readable(path: Path) -> bool:
    try:
        if path.suffix == ".arrow":
            read_arrow(path)
        else:
            pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True


def _write_futures(path: Path, futures: pd.DataFrame) -> str:
    """Write the futures table (`write_parquet`): the sampled parameters uncompressed, the
    fixed ones and the future numbers lz4. Sampled values are random floats that lz4 does not
    shrink: compressing them cost a third of the write for nothing (250,000 futures x 190
    parameters: 0.63 -> 0.41 CPU-s, 304 -> 303 MB)."""
    table = _futures_table(futures)
    compression: dict[str, Compression] = {
        name: "none" if pa.types.is_floating(column.type) and _varies(column) else QUICK
        for name, column in zip(table.column_names, table.columns, strict=True)}
    return write_parquet(path, table, compression)


def _varies(column: pa.ChunkedArray[Any]) -> bool:
    bounds = pc.min_max(column)
    return bool(bounds["min"] != bounds["max"])


def _futures_table(futures: pd.DataFrame) -> pa.Table:
    """The futures as Arrow, each column a view of the frame's (no copy: `from_pandas` copied
    the whole table, 0.55 CPU-s at 1,000,000 futures), with `from_pandas`' schema and metadata.

    The index (global future numbers) is stored as the `future` column, so that SQL can join
    futures to outcomes on it; reading restores it as the index."""
    named = futures.rename_axis("future")
    schema = pa.Schema.from_pandas(named, preserve_index=True)
    columns = {name: pa.array(named.index.to_numpy() if name == "future"
                              else named[name].to_numpy(), type=schema.field(name).type)
               for name in schema.names}
    return pa.table(columns, schema=schema)


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)
