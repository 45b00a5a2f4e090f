"""Weekly bands: per policy and week, the 10th, 50th and 90th percentiles, the mean and the range
of each weekly series: what the report's fans and lever figures draw.

They are computed by SQL over a relation named `series` (a run folder's view, or a DataFrame
registered under that name: `frame_query`), one series at a time, so the memory needed is one
column's values, never the whole long table's (1,000,000 futures × 4 policies × 105 weeks is
420 million rows per series). Quantiles are exact over the rows used (DuckDB's
`quantile_cont`, linear interpolation, as pandas' default; a run folder's bands use its first
100,000 futures: `offramp.studies.summary.run_bands`); NaN values are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Query = Callable[[str], pd.DataFrame]
Kind = Literal["binary", "count", "value"]
COUNT_MAX = 20
"""A series of whole numbers no larger than this is a count (a ladder rung): its fan is a mean."""
NO_QUANTILES = [float("nan")] * 3
DERIVED = {"withdrawing": "(salient_posture = 2)::DOUBLE"}
"""Series made from others: the share of futures withdrawing from the salient."""


@dataclass(frozen=True)
class WeeklyBands:
    """`table`: one row per series, policy and week (p10, p50, p90, mean, low, high);
    `kinds`: per series, "binary" (only 0 and 1: draw the share), "count" (small whole numbers:
    the mean) or "value" (the median and the 10–90% band)."""

    table: pd.DataFrame
    kinds: dict[str, Kind]
    sample: tuple[int, int] | None = None  # (futures used, futures in the run), if fewer

    def __contains__(self, series: object) -> bool:
        return series in self.kinds

    def of(self, series: str, policy: str) -> pd.DataFrame:
        """One series under one policy, indexed by week."""
        rows = self.table.loc[(self.table["series"] == series) & (self.table["policy"] == policy)]
        return rows.set_index("week").sort_index()

    def varies(self, series: str, policy: str) -> bool:
        """Whether the series takes more than one value under the policy (over weeks or
        futures)."""
        rows = self.of(series, policy)
        return bool(len(rows)) and bool(rows["low"].min() < rows["high"].max())


def weekly_bands(query: Query, columns: Mapping[str, str], within: str = "TRUE",
                 sample: tuple[int, int] | None = None) -> WeeklyBands:
    """The bands of every series in `columns` (name -> SQL expression over `series`), over the
    rows where the SQL condition `within` holds (`sample`: how many futures that keeps, of how
    many)."""
    parts: list[pd.DataFrame] = []
    kinds: dict[str, Kind] = {}
    for name, expression in columns.items():
        present = f"WHERE NOT isnan({expression}) AND ({within})"
        kind = query(
            f"SELECT coalesce(bool_and({expression} IN (0, 1)), true) AS binary, "
            f"coalesce(bool_and({expression} = round({expression})) AND max({expression}) <= "
            f"{COUNT_MAX}, false) AS count FROM series {present}")
        kinds[name] = ("binary" if bool(kind["binary"].iloc[0]) else
                       "count" if bool(kind["count"].iloc[0]) else "value")
        bands = query(
            f"SELECT policy, week, quantile_cont({expression}, [0.1, 0.5, 0.9]) AS q, "
            f"avg({expression}) AS mean, min({expression}) AS low, max({expression}) AS high "
            f"FROM series {present} GROUP BY policy, week ORDER BY policy, week")
        quantiles = pd.DataFrame([NO_QUANTILES if q is None else list(q)
                                  for q in bands.pop("q")],
                                 columns=["p10", "p50", "p90"], index=bands.index, dtype=float)
        parts.append(pd.concat([bands.assign(series=name), quantiles], axis=1))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["policy", "week", "mean", "low", "high", "series", "p10", "p50", "p90"])
    return WeeklyBands(table, kinds, sample)


def series_columns(names: list[str]) -> dict[str, str]:
    """name -> SQL expression for the series named (quoted), with the derived ones they allow."""
    columns = {name: f'"{name}"' for name in names if name not in ("future", "policy", "week")}
    columns.update({name: expression for name, expression in DERIVED.items()
                    if "salient_posture" in columns})
    return columns


def frame_query(frame: pd.DataFrame) -> Query:
    """A `Query` over a long DataFrame of series (future, policy, week, one column per series),
    for bands of series held in memory (tests, the Python API on a subset)."""
    import duckdb

    def query(sql: str) -> pd.DataFrame:
        connection = duckdb.connect()
        try:
            connection.register("series", frame)
            return connection.execute(sql).df()
        finally:
            connection.close()

    return query
