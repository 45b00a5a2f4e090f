"""SQL over a run folder with DuckDB: views `futures`, `outcomes` and `series`."""

from __future__ import annotations

import pandas as pd

from offramp.store.run_store import RunStore, StoreError


def run_sql(store: RunStore, sql: str) -> pd.DataFrame:
    import duckdb

    connection = duckdb.connect()
    try:
        for view in ("futures", "outcomes", "series"):
            path = store.root / f"{view}.parquet"
            if path.is_file():
                quoted = str(path).replace("'", "''")
                connection.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{quoted}')")
        try:
            return connection.execute(sql).df()
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0]
            raise StoreError(f"the query failed: {first_line}") from None
    finally:
        connection.close()
