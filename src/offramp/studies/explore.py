"""Exploring a run by restricting its uncertain parameters: the question an analyst asks next
("what if Western support is low *and* Russia mobilizes?"), answered from the stored tables.

`Explorer(store).summary({"actors.united_states.initial_support": (0.0, 0.4), ...})` gives, for
the futures whose parameters lie in every range: how many there are, and per policy the share
meeting the run's requirements, the share ended, the median territory share, the 90th
percentile of territory-share regret, and which policy meets the requirements most often there.
`distribution` and `fan` give an outcome's histogram and a weekly series' bands in the same
region, `suggestions` the PRIM boxes where each policy misses the requirements, as ranges to
filter by. The explorer reads the run through a DuckDB connection that may read only the run's
files (as `offramp query`'s); the answers are plain JSON-able data, for the browser front end
(`offramp explore`) or a notebook, which never receive the futures themselves.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from offramp.analysis.weekly import Weekly, bands, is_binary
from offramp.engine import OUTCOME_NAMES
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.scenario.conditions import check_conditions
from offramp.store import RunStore
from offramp.store.query import run_connection
from offramp.studies.runs import RunAnalysis
from offramp.studies.summary import BANDS_MAX_FUTURES

Ranges = Mapping[str, tuple[float, float]]
HISTOGRAM_BINS = 30
SUGGESTION_FUTURES = 50_000
"""PRIM's suggestions are searched on at most this many futures (the first ones: a Latin
hypercube's first rows are a fair sample); on more, the search costs seconds and finds the same
box to the second decimal."""


def _nan_quantile(values: np.ndarray, q: float) -> float:
    """The q-quantile (linear, as DuckDB's quantile_cont) of the values that are not NaN."""
    values = values[~np.isnan(values)]
    return float(np.quantile(values, q)) if len(values) else math.nan


def _identifier(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PolicyInRegion:
    meets: float  # share of the region's futures meeting every requirement
    ended: float  # share of them where the war ended by the horizon
    territory_median: float  # median of side a's territory share
    regret_p90: float  # 90th percentile of territory-share regret against the best policy


@dataclass(frozen=True)
class RegionSummary:
    futures: int  # futures in the region
    share: float  # of all the run's futures
    policies: dict[str, PolicyInRegion]
    best: str | None  # the policy meeting the requirements most often there (None: no futures)

    def as_dict(self) -> dict[str, Any]:
        return {"futures": self.futures, "share": self.share, "best": self.best,
                "policies": {p: asdict(s) for p, s in self.policies.items()}}


@dataclass(frozen=True)
class Histogram:
    """An outcome's distribution in the region: per policy, the share of its futures in each bin
    (bins from the whole run's range, so that regions compare; one bin per value for counts)."""

    outcome: str
    edges: list[float]
    shares: dict[str, list[float]]


FAN_MAX_FUTURES = BANDS_MAX_FUTURES
"""A fan is drawn from the region's futures among the run's first this many (as the report's
weekly bands): its quantiles cost a fraction of a second there, far more on a million."""


@dataclass(frozen=True)
class Fan:
    """A weekly series in the region per policy: the 10th, 50th and 90th percentiles, or for a
    0/1 series (talks open) the share of futures, whose median would say nothing."""

    series: str
    binary: bool
    weeks: list[int]
    bands: dict[str, dict[str, list[float]]]  # policy -> {"p10", "p50", "p90"} or {"share"}
    sample: tuple[int, int] | None = None  # (the run's first futures read, of how many)


@dataclass(frozen=True)
class Suggestion:
    """A PRIM box where a policy misses the run's requirements, as ranges to filter by."""

    policy: str
    conditions: list[str]
    ranges: dict[str, tuple[float, float]]
    density: float  # share of the box's futures where the policy misses them
    coverage: float  # share of all its misses that lie in the box


class Explorer:
    """Repeated questions about one run. The per-future numbers every answer needs (whether the
    requirements are met, the war ended, territory, regret) are read once into arrays of one row
    per policy and one column per future, and a region is a boolean mask over the futures: an
    answer on 1,000,000 × 3 futures is a few vectorized passes, not a join of 3,000,000 rows.
    A parameter's column is read when first restricted; a weekly series when first drawn (the
    run's first `FAN_MAX_FUTURES` futures; the last one drawn is kept). One question at a
    time, so a web server's threads may share it."""

    def __init__(self, store: RunStore):
        self.store = store
        self.manifest = RunManifest.of(store)
        if self.manifest.status != "complete":
            raise UserError(f"{store.root}: the run is not complete; finish it with "
                            f"`offramp run --resume {store.root}`")
        self.parameters = tuple(p["parameter"] for p in self.manifest.parameters
                                if p.get("parameter"))
        self.policies = list(self.manifest.policies)
        conditions = check_conditions(self.manifest.requirements, OUTCOME_NAMES)
        meets = " AND ".join(
            f"({_identifier(c.name)} {'=' if c.op == '==' else c.op} {float(c.value)!r})"
            for c in conditions) or "TRUE"
        self._lock = threading.Lock()
        self._connection = run_connection(store)
        self.futures = self._column("future")
        self.n_futures = len(self.futures)
        self._future_order = np.argsort(self.futures)
        self.has_series = self.manifest.series
        self._parameter_columns: dict[str, np.ndarray] = {}
        self._edges: dict[str, list[float]] = {}
        self._bins: dict[str, np.ndarray] = {}
        self._stored_series: tuple[Weekly, pd.DataFrame] | None = None
        self._fan_values: tuple[str, np.ndarray, bool] | None = None
        self._suggestions: list[Suggestion] | None = None
        self.meets = self._by_policy(meets) == 1
        self.ended = self._by_policy("ended") == 1
        self.territory = self._by_policy("a_territory_share")
        # Regret compares policies within a future (NaN where any policy's value is missing,
        # as analysis.robustness.regret), so a region leaves it unchanged.
        self.regret = self.territory.max(axis=0) - self.territory

    def close(self) -> None:
        self._connection.close()

    def _query(self, sql: str, values: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._connection.execute(sql, values or []).fetchall())

    def _column(self, name: str) -> np.ndarray:
        """A column of the futures table, in its order."""
        with self._lock:
            found = self._connection.execute(
                f"SELECT {_identifier(name)} AS x FROM futures").fetchnumpy()
        return np.asarray(found["x"])

    def _by_policy(self, expression: str) -> np.ndarray:
        """An SQL expression over the outcomes as floats: one row per policy, one column per
        future in the futures table's order (NaN where missing)."""
        with self._lock:
            found = self._connection.execute(
                f"SELECT future, policy, ({expression})::DOUBLE AS x FROM outcomes").fetchnumpy()
        order = self._future_order
        keys = np.asarray(found["future"])
        at = order[np.searchsorted(self.futures, keys, sorter=order).clip(0, len(order) - 1)]
        policy = np.asarray(found["policy"], dtype=object)
        values = np.asarray(found["x"], dtype=float)
        table = np.full((len(self.policies), self.n_futures), np.nan)
        for row, name in enumerate(self.policies):
            mine = policy == name
            table[row, at[mine]] = values[mine]
        return table

    def parameter_ranges(self) -> dict[str, tuple[float, float]]:
        """Each uncertain parameter that varies in this run, with its smallest and largest value."""
        if not self.parameters:
            return {}
        row = self._query("SELECT " + ", ".join(
            f"min({_identifier(p)}), max({_identifier(p)})" for p in self.parameters)
            + " FROM futures")[0]
        found = {p: (float(row[2 * i]), float(row[2 * i + 1]))
                 for i, p in enumerate(self.parameters)}
        return {p: bounds for p, bounds in found.items() if bounds[1] > bounds[0]}

    def _check(self, ranges: Ranges) -> None:
        for name, (low, high) in ranges.items():
            if name not in self.parameters:
                raise UserError(f"{name!r} is not an uncertain parameter of this run")
            if not (math.isfinite(low) and math.isfinite(high)) or low > high:
                raise UserError(f"the range of {name!r} must be two numbers, low <= high; "
                                f"found ({low}, {high})")

    def region(self, ranges: Ranges) -> np.ndarray:
        """Per future (the futures table's order): whether its parameters lie in every range
        (inclusive)."""
        self._check(ranges)
        inside = np.ones(self.n_futures, dtype=bool)
        for name, (low, high) in ranges.items():
            if name not in self._parameter_columns:
                self._parameter_columns[name] = self._column(name)
            values = self._parameter_columns[name]
            inside &= (values >= low) & (values <= high)
        return inside

    def summary(self, ranges: Ranges) -> RegionSummary:
        """The run restricted to futures whose parameters lie in `ranges` (inclusive)."""
        inside = self.region(ranges)
        futures = int(inside.sum())
        found = {}
        if futures:
            for row, policy in enumerate(self.policies):
                found[policy] = PolicyInRegion(
                    meets=float(self.meets[row, inside].mean()),
                    ended=float(self.ended[row, inside].mean()),
                    territory_median=_nan_quantile(self.territory[row, inside], 0.5),
                    regret_p90=_nan_quantile(self.regret[row, inside], 0.9))
        best = max(found, key=lambda p: found[p].meets) if found else None
        return RegionSummary(futures=futures, share=futures / max(self.n_futures, 1),
                             policies=found, best=best)

    def _outcome_edges(self, outcome: str) -> list[float]:
        """Bins over the whole run's 0.5–99.5% range (the tails fall in the end bins, so one
        extreme future does not squeeze the rest into a bar or two); one bin per value for a
        count with few values."""
        if outcome not in self._edges:
            column = f"{_identifier(outcome)}::DOUBLE"
            low, high, tails, whole = self._query(
                f"SELECT min({column}), max({column}), quantile_cont({column}, [0.005, 0.995]), "
                f"bool_and({column} = round({column})) FROM outcomes")[0]
            if low is None:  # no value at all (an outcome that never happened)
                low, high, tails, whole = 0.0, 1.0, [0.0, 1.0], True
            if whole and high - low <= HISTOGRAM_BINS:
                edges = [low - 0.5 + i for i in range(int(high - low) + 2)]
            else:
                low, high = (tails if tails[1] > tails[0] else (low, high))
                width = (high - low) / HISTOGRAM_BINS or 1.0
                edges = [low + i * width for i in range(HISTOGRAM_BINS + 1)]
            self._edges[outcome] = [float(edge) for edge in edges]
        return self._edges[outcome]

    def distribution(self, ranges: Ranges, outcome: str) -> Histogram:
        """`outcome`'s histogram in the region, per policy (missing values left out)."""
        if outcome not in OUTCOME_NAMES:
            raise UserError(f"{outcome!r} is not an outcome; outcomes: {', '.join(OUTCOME_NAMES)}")
        edges = self._outcome_edges(outcome)
        bins = len(edges) - 1
        if outcome not in self._bins:  # each row's bin, once per outcome (-1: missing)
            values = self._by_policy(_identifier(outcome))
            with np.errstate(invalid="ignore"):
                index = np.clip(np.floor((values - edges[0]) / (edges[1] - edges[0])),
                                0, bins - 1)
            self._bins[outcome] = np.where(np.isnan(values), -1, index).astype(np.int16)
        inside = self.region(ranges)
        shares = {}
        for row, policy in enumerate(self.policies):
            chosen = self._bins[outcome][row, inside]
            counts = np.bincount(chosen[chosen >= 0], minlength=bins)
            shares[policy] = (counts / max(int(counts.sum()), 1)).tolist()
        return Histogram(outcome=outcome, edges=edges, shares=shares)

    def fan(self, ranges: Ranges, series: str) -> Fan | None:
        """A weekly series' bands in the region, per policy, over the region's futures among the
        run's first `FAN_MAX_FUTURES` (`Fan.sample` says so when the run has more); None when
        the run has no series (it was run without `--series`)."""
        if not self.has_series:
            return None
        known = self.store.series_names()
        if series not in known:
            raise UserError(f"{series!r} is not a weekly series of this run; series: "
                            f"{', '.join(known)}")
        with self._lock:  # one series' values kept: the one last drawn
            if self._stored_series is None:
                self._stored_series = self.store.series_arrays(FAN_MAX_FUTURES)
            values, keys = self._stored_series
            if self._fan_values is None or self._fan_values[0] != series:
                weekly = values(series)
                self._fan_values = (series, weekly, is_binary(weekly))
            _, weekly, binary = self._fan_values
        inside = np.isin(keys["future"].to_numpy(), self.futures[self.region(ranges)])
        policy = keys["policy"].to_numpy()
        names = ("share",) if binary else ("p10", "p50", "p90")
        found = {p: bands(weekly[inside & (policy == p)]).set_index("week")
                 for p in self.policies}
        weeks = sorted({int(week) for table in found.values() for week in table.index})
        measures = {name: "mean" if binary else name for name in names}
        fans = {p: {name: table[measure].reindex(weeks).astype(float).tolist()
                    for name, measure in measures.items()} for p, table in found.items()}
        total = self.n_futures
        return Fan(series=series, binary=binary, weeks=weeks, bands=fans,
                   sample=(FAN_MAX_FUTURES, total) if total > FAN_MAX_FUTURES else None)

    def suggestions(self) -> list[Suggestion]:
        """Per policy, the PRIM box where it misses the run's requirements (the report's), cut to
        its significant restrictions; searched once, on at most SUGGESTION_FUTURES futures."""
        if self._suggestions is None:
            analysis = RunAnalysis(self.store, max_futures=SUGGESTION_FUTURES)
            found = []
            for policy in analysis.policies:
                discovery = analysis.failures(policy)
                box = discovery.plain[0] if discovery.plain else None
                if box is None or not box.limits:
                    continue
                # a categorical restriction has no range to slide: the box without it
                ranges = {str(name): (float(limit[0]), float(limit[1]))
                          for name, limit in box.limits.items()
                          if not isinstance(limit, frozenset)}
                if not ranges:
                    continue
                found.append(Suggestion(policy=policy, conditions=box.conditions(),
                                        ranges=ranges, density=box.density,
                                        coverage=box.coverage))
            self._suggestions = found
        return self._suggestions
