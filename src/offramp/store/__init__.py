"""The run store: one folder per run, written atomically, resumable, queryable with DuckDB."""

from offramp.store.run_store import RunStore, StoreError

__all__ = ["RunStore", "StoreError"]
