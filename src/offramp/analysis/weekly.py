"""Weekly bands: per policy and week, the 10th, 50th and 90th percentiles, the mean and the range
of each weekly series: what the report's fans and lever figures draw.

They are computed with NumPy from one series at a time, as an array with a row per future and
policy and a column per week (how a run stores its series), so the memory needed is one
series' values, never the whole long table's (1,000,000 futures x 4 policies x 105 weeks is 420
million values per series). Quantiles are exact over the rows used (linear interpolation, as
pandas' default; a run folder's bands use its first 100,000 futures:
`offramp.studies.summary.run_bands`); NaN values are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["binary", "count", "value"]
COUNT_MAX = 20
"""A series of whole numbers no larger than this is a count (a ladder rung): its fan is a mean."""
QUANTILES = (0.1, 0.5, 0.9)
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "withdrawing": ("salient_posture", lambda posture: (posture == 2).astype(np.float64))}
"""Series made from another (name -> (its source, how)): the share of futures withdrawing from
the salient."""
Weekly = Callable[[str], np.ndarray]
"""A series' values by name: (rows, weeks) with a row per future and policy."""


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


def series_names(names: list[str]) -> list[str]:
    """The series to draw bands of: those named, with the derived ones they allow."""
    own = [name for name in names if name not in ("future", "policy", "week")]
    return own + [name for name, (source, _) in DERIVED.items() if source in own]


def weekly_bands(values: Weekly, names: list[str], policy: np.ndarray,
                 sample: tuple[int, int] | None = None) -> WeeklyBands:
    """The bands of every series in `names` (`series_names`), whose values `values(name)` gives
    as (rows, weeks) arrays; `policy`: each row's policy (`sample`: how many futures the rows
    hold, of how many in the run)."""
    policies = sorted(set(policy.tolist()))
    parts: list[pd.DataFrame] = []
    kinds: dict[str, Kind] = {}
    for name in names:
        if name in DERIVED:
            source, make = DERIVED[name]
            weekly = make(values(source))
        else:
            weekly = values(name)
        missing = np.isnan(weekly)
        kinds[name] = ("binary" if is_binary(weekly) else
                       "count" if not missing.all() and ((weekly == np.round(weekly)) | missing)
                       .all() and np.nanmax(weekly) <= COUNT_MAX else "value")
        for label in policies:
            parts.append(bands(weekly[_rows_of(policy, label)]).assign(policy=label,
                                                                         series=name))
    columns = ["policy", "week", "mean", "low", "high", "series", "p10", "p50", "p90"]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
        columns=columns)
    return WeeklyBands(table, kinds, sample)


def is_binary(values: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (or missing): a share of futures, not a quantity."""
    return bool(((values == 0) | (values == 1) | np.isnan(values)).all())


def _rows_of(policy: np.ndarray, label: str) -> slice | np.ndarray:
    """The rows of one policy: a slice (no copy) when they are evenly spaced, as in a run's
    series (future-major, the policies in turn)."""
    rows = np.flatnonzero(policy == label)
    step = int(rows[1] - rows[0]) if len(rows) > 1 else 1
    if (np.diff(rows) == step).all():
        return slice(int(rows[0]), int(rows[-1]) + 1, step)
    return rows


def bands(rows: np.ndarray) -> pd.DataFrame:
    """Per week (column) of `rows`: the quantiles, mean and range of its values, NaN left out
    (a week with none has no row)."""
    by_week = np.ascontiguousarray(rows.T, dtype=np.float64)  # one week's values contiguous
    missing = np.isnan(by_week)
    weeks = np.flatnonzero(~missing.all(axis=1))
    if weeks.size == 0:
        quantiles, mean = np.empty((len(QUANTILES), 0)), np.empty(0)
        low = high = mean
    elif missing.any():
        by_week = by_week[weeks]
        mean = np.nanmean(by_week, axis=1)
        low, high = np.nanmin(by_week, axis=1), np.nanmax(by_week, axis=1)
        quantiles = np.nanquantile(by_week, QUANTILES, axis=1, overwrite_input=True)
    else:  # by_week is this function's own copy: the quantiles may reorder it
        mean = by_week.mean(axis=1)
        low, high = by_week.min(axis=1), by_week.max(axis=1)
        quantiles = np.quantile(by_week, QUANTILES, axis=1, overwrite_input=True)
    return pd.DataFrame({"week": weeks, "mean": mean, "low": low, "high": high,
                         "p10": quantiles[0], "p50": quantiles[1], "p90": quantiles[2]})


def frame_values(frame: pd.DataFrame) -> tuple[Weekly, pd.DataFrame]:
    """A long DataFrame of series (future, policy, week, one column per series: tests, the
    Python API on a subset) as `weekly_bands` reads them: values by name, a row per future and
    policy, and the rows' keys (future, policy)."""
    keys = frame[["future", "policy"]].drop_duplicates().sort_values(["policy", "future"])
    index = pd.MultiIndex.from_frame(keys)
    at = index.get_indexer(pd.MultiIndex.from_frame(frame[["future", "policy"]]))
    weeks = frame["week"].to_numpy()

    def values(name: str) -> np.ndarray:
        grid = np.full((len(index), int(weeks.max()) + 1), np.nan)
        grid[at, weeks] = frame[name].to_numpy(dtype=np.float64)
        return grid

    return values, keys.reset_index(drop=True)
