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

from offramp.store.run_store import REPAIR_ADVICE, DamagedRun, RunStore, StoreError

VIEWS = ("futures", "outcomes", "series", "weights")


def run_connection(store: RunStore) -> Any:
    """A DuckDB connection with the run's views, that may read nothing else (see the module)."""
    import duckdb

    files = {view: store.root / f"{view}.parquet" for view in VIEWS}
    files = {view: path for view, path in files.items() if path.is_file()}
    connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                        "autoload_known_extensions": False})
    try:
        connection.execute("SET allowed_paths = ?", [[str(path) for path in files.values()]])
        for view, path in files.items():
            quoted = str(path).replace("'", "''")
            columns = "*"
            if view == "futures" and "future" not in _column_names(path):
                # runs written before the futures table carried its key: rows are futures in
                # order, so their number is the row's
                columns = "row_number() OVER () - 1 AS future, *"
            try:
                connection.execute(
                    f"CREATE VIEW {view} AS SELECT {columns} FROM read_parquet('{quoted}')")
            except duckdb.Error as error:
                raise DamagedRun(f"{path}: cannot be read ({str(error).splitlines()[0]}); the "
                                 f"file is damaged: {REPAIR_ADVICE}") from None
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
