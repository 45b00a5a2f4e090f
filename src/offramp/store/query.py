"""SQL over a run folder with DuckDB: views `futures`, `outcomes` and `series`.

A query reads the run and nothing else: one SELECT statement, on a connection that may open only
the run's own Parquet files (DuckDB's `allowed_paths`, then `enable_external_access = false` and
`lock_configuration = true`, so no statement can give the access back). `read_csv('/etc/...')`,
`COPY ... TO`, `ATTACH`, `INSTALL` and a second statement after a `;` are refused, so that
offramp can serve queries on a shared analysis machine or a notebook service without exposing
the files of whoever runs it.
"""

from __future__ import annotations

import pandas as pd

from offramp.store.run_store import DamagedRun, RunStore, StoreError

VIEWS = ("futures", "outcomes", "series")


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
    files = {view: store.root / f"{view}.parquet" for view in VIEWS}
    files = {view: path for view, path in files.items() if path.is_file()}
    connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                        "autoload_known_extensions": False})
    try:
        connection.execute("SET allowed_paths = ?", [[str(path) for path in files.values()]])
        for view, path in files.items():
            quoted = str(path).replace("'", "''")
            try:
                connection.execute(
                    f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{quoted}')")
            except duckdb.Error as error:
                raise DamagedRun(f"{path}: cannot be read ({str(error).splitlines()[0]}); the "
                                 "file is damaged: start a new run (or put an intact copy "
                                 "back)") from None
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        try:
            return connection.execute(sql).df()
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0]
            raise StoreError(f"the query failed: {first_line}") from None
    finally:
        connection.close()
