"""SQL over a run folder with DuckDB: views `futures`, `outcomes`, `series` (a run with
`--series`) and `weights` (a run conditioned by `offramp condition`: future, policy,
log_likelihood, weight, kept; join on future and policy for weighted statistics).

A query reads the run and nothing else: one SELECT statement, on a connection that may open only
the run's own Parquet files (DuckDB's `allowed_paths`, then `enable_external_access = false` and
`lock_configuration = true`, so no statement can give the access back). `read_csv('/etc/...')`,
`COPY ... TO`, `ATTACH`, `INSTALL` and a second statement after a `;` are refused, so that
offramp can serve queries on a shared analysis machine or a notebook service without exposing
the files of whoever runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from offramp.store.run_store import (
    LEGACY_SERIES,
    REPAIR_ADVICE,
    DamagedRun,
    RunStore,
    StoreError,
)

VIEWS = ("futures", "outcomes", "series", "weights")


def run_connection(store: RunStore) -> Any:
    """A DuckDB connection with the run's views, that may read nothing else (see the module)."""
    import duckdb

    files = {view: [store.root / f"{view}.parquet"] for view in VIEWS if view != "series"}
    files = {view: paths for view, paths in files.items() if paths[0].is_file()}
    if store.manifest.get("series") and store.is_complete:
        files["series"] = store.series_files()
    connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                        "autoload_known_extensions": False})
    try:
        connection.execute("SET allowed_paths = ?",
                           [[str(path) for paths in files.values() for path in paths]])
        for view, paths in files.items():
            quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
            columns = "*"
            if view == "futures" and "future" not in _column_names(paths[0]):
                # runs written before the futures table carried its key: rows are futures in
                # order, so their number is the row's
                columns = "row_number() OVER () - 1 AS future, *"
            if view == "series" and paths[0].name != LEGACY_SERIES:
                columns = _unnested(paths[0])
            try:
                connection.execute(
                    f"CREATE VIEW {view} AS SELECT {columns} FROM read_parquet([{quoted}])")
            except duckdb.Error as error:
                raise DamagedRun(f"{paths[0]}: cannot be read ({str(error).splitlines()[0]}); "
                                 f"the file is damaged: {REPAIR_ADVICE}") from None
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def _column_names(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except Exception:  # a damaged file: creating its view says so, with the file's name
        return ["future"]


def _unnested(path: Path) -> str:
    """The columns of the `series` view over wide series parts (one row per future and
    policy, each series a list of weekly values): one row per future, policy and week, as
    `RunStore.read_series` gives them (the unnested lists are zipped, in order)."""
    try:
        schema = pq.read_schema(path)
    except Exception:  # a damaged file: creating its view says so, with the file's name
        return "*"
    names = [name for name in schema.names if name not in ("future", "policy")]
    width = schema.field(names[0]).type.list_size
    lists = ", ".join(f'unnest("{name}") AS "{name}"' for name in names)
    return f"future, policy, CAST(unnest(range({width})) AS INTEGER) AS week, {lists}"


def run_sql(store: RunStore, sql: str) -> pd.DataFrame:
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise StoreError(f"the query failed: {str(error).splitlines()[0]}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise StoreError(f"a query is one SELECT statement over the views {', '.join(VIEWS)}; "
                         f"found: {kinds}")
    connection = run_connection(store)
    try:
        frame: pd.DataFrame = connection.execute(sql).df()
        return frame
    except duckdb.Error as error:
        raise StoreError(f"the query failed: {str(error).splitlines()[0]}") from None
    finally:
        connection.close()
