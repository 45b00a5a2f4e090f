"""Paired statistics over shared futures, and the verdict rule of a claim.

Every arm of a comparison runs on the same futures with the same noise, so an effect is a
per-future difference, not a difference of two averages. These are pure functions over arrays,
tested by hand in tests/analysis/test_claims.py; `offramp.studies.claims` runs the arms and
applies them. docs/claims.md states the verdict rule in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from offramp.engine.vector_math import Array, jit

Verdict = Literal["holds", "holds only under conditions", "fails", "not testable"]

CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_REPLICATES = 2000


@dataclass(frozen=True)
class PairedShares:
    """Shares of compared futures where the claim holds, fails, or both arms tie."""

    holds: float  # directed effect > -tolerance
    fails: float  # directed effect < -tolerance
    ties: float  # the arms' outcomes are equal (directed effect == 0)


def directed_effect(effect: np.ndarray, expect: str) -> np.ndarray:
    """The effect signed so that positive means 'better in the direction the claim expects'."""
    effect = np.asarray(effect, dtype=float)
    return effect if expect == "higher" else -effect


def paired_shares(directed: np.ndarray, tolerance: float = 0.0) -> PairedShares:
    """Shares of futures where the claim holds (d > -tol), fails (d < -tol), or the arms tie.

    With tolerance 0 the three add up to one. With a tolerance (a non-inferiority claim) a tie
    counts as holding, and `ties` says how often the arms did not differ at all.
    """
    d = np.asarray(directed, dtype=float)
    if d.size == 0:
        return PairedShares(float("nan"), float("nan"), float("nan"))
    return PairedShares(
        holds=float(np.mean(d > -tolerance)),
        fails=float(np.mean(d < -tolerance)),
        ties=float(np.mean(d == 0.0)),
    )


def bootstrap_means(values: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `replicates` resamples (with replacement) of `values`.

    The resampled positions come from a counter-based hash (splitmix64 of a key drawn from
    `rng`, the replicate and the draw), so one compiled loop draws and sums them with no index
    matrix; each replicate's mean is summed in draw order, so the result does not depend on
    the CPU's vector width. (Until 2026-12-07 the positions were NumPy's `rng.integers`: 1.3 of
    `make run`'s CPU-seconds went to drawing them.)
    """
    values = np.ascontiguousarray(values, dtype=float)
    key = np.uint64(rng.integers(0, 2**63))
    totals = np.zeros(replicates)
    if values.size:
        _resampled_totals(values, key, totals)
    return totals / values.size if values.size else np.full(replicates, np.nan)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@jit
def _resampled_totals(values: Array, key: np.uint64, totals: Array) -> None:
    """totals[b] = sum over draws k of values[position(b, k)], positions uniform on 0..n-1
    (Lemire's multiply-shift of the hash's high 32 bits; its bias, n / 2**32, is nil here)."""
    n = values.shape[0]
    size = np.uint64(n)
    positions = np.empty(totals.shape[0], dtype=np.uint64)
    for k in range(n):  # draws outside, replicates inside: one vector of replicates at a time
        row = key + np.uint64(k) * _GOLDEN * np.uint64(2**32 + 1)
        # the positions first, in a loop of arithmetic alone that runs on vectors (with the
        # reads of `values` in it, it ran one replicate at a time: 1.7x slower)
        for b in range(totals.shape[0]):
            z = row + np.uint64(b) * _GOLDEN
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            positions[b] = ((z >> np.uint64(32)) * size) >> np.uint64(32)
        for b in range(totals.shape[0]):
            totals[b] += values[positions[b]]


def bootstrap_mean_ci(
    values: np.ndarray, replicates: int = BOOTSTRAP_REPLICATES, level: float = CONFIDENCE_LEVEL,
    seed: int | np.random.SeedSequence = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean: the (1-level)/2 and (1+level)/2 quantiles."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    means = bootstrap_means(values, replicates, np.random.default_rng(seed))
    low, high = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(low), float(high)


def directed_interval(low: float, high: float, expect: str) -> tuple[float, float]:
    """The interval of the raw effect, turned into the interval of the directed effect."""
    return (low, high) if expect == "higher" else (-high, -low)


def verdict_for(
    directed_ci_low: float, shares: PairedShares, tolerance: float, holds_in_subset: bool,
    n_compared: int,
) -> Verdict:
    """The verdict rule (docs/claims.md).

    holds: the 95% interval of the mean directed effect lies above -tolerance (above 0 for a
        plain claim: better on average, beyond sampling noise) AND the arm is better in at
        least as many futures as it is worse (not an average carried by a few futures);
    holds only under conditions: not so overall, but PRIM finds a box of parameter space with
        at least 10% of the futures where the claim holds in >= 80% of them and the interval
        of the mean inside the box lies above -tolerance;
    fails: otherwise; not testable: no future where the comparison is defined.
    """
    if n_compared == 0:
        return "not testable"
    if directed_ci_low > -tolerance and shares.holds >= shares.fails:
        return "holds"
    if holds_in_subset:
        return "holds only under conditions"
    return "fails"


def first_talks_week(talks_open: np.ndarray) -> np.ndarray:
    """Week in which talks first opened ((n,) float, NaN if never), from the weekly series.

    Series row r is the state at the end of week r - 1 (row 0 is the start).
    """
    opened = np.asarray(talks_open, dtype=bool)[1:]
    ever = opened.any(axis=0)
    return np.where(ever, opened.argmax(axis=0).astype(float), np.nan)


def weekly_counts(cumulative: np.ndarray) -> np.ndarray:
    """(weeks, n) events in each week, from a (weeks + 1, n) series of running totals."""
    return np.diff(np.asarray(cumulative, dtype=float), axis=0)


def escalation_window_effect(
    events: np.ndarray, fighting: np.ndarray, first_open: np.ndarray, window: int
) -> np.ndarray:
    """Per future: escalation rate in the `window` fighting weeks before talks first opened,
    minus the rate in the other fighting weeks ((n,), NaN where either set of weeks is empty).

    `events` and `fighting` are (weeks, n); `first_open` is (n,) (NaN: talks never opened).
    The week talks open is in neither set: an escalation that week can stop them opening, which
    would bias any comparison that included it.
    """
    weeks = np.arange(events.shape[0])[:, None]
    opened = ~np.isnan(first_open)
    start = np.where(opened, first_open, -1.0)
    counted = opened & np.asarray(fighting, dtype=bool)
    before = (weeks >= start - window) & (weeks < start)
    in_window = before & counted
    in_rest = ~before & (weeks != start) & counted
    window_weeks = in_window.sum(axis=0)
    rest_weeks = in_rest.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        window_rate = (events * in_window).sum(axis=0) / window_weeks
        rest_rate = (events * in_rest).sum(axis=0) / rest_weeks
    return np.where((window_weeks > 0) & (rest_weeks > 0), window_rate - rest_rate, np.nan)


def fighting_weeks(
    settlement_week: np.ndarray, ladder_rung: np.ndarray, ceasefire_rung: int | None,
    top_rung: int,
) -> np.ndarray:
    """(weeks, n) bool: was the war being fought during week w (escalation can only happen then)?

    A week is fought if no settlement came before it (the settlement week itself is fought) and
    no ceasefire was in force at its start. The ceasefire is read from the `ladder_rung` series
    (the highest rung in force): exact when the ceasefire is the top rung, as in every shipped
    scenario; otherwise any rung at or above it is taken as a ceasefire (an approximation).
    """
    rung_at_start = np.asarray(ladder_rung, dtype=float)[:-1]  # row w: end of week w - 1
    weeks = np.arange(rung_at_start.shape[0])[:, None]
    not_settled: np.ndarray = np.isnan(settlement_week) | (weeks <= settlement_week)
    if ceasefire_rung is None:
        return not_settled
    level = ceasefire_rung + 1
    in_ceasefire = rung_at_start == level if level == top_rung else rung_at_start >= level
    fought: np.ndarray = not_settled & ~in_ceasefire
    return fought


# --- caveats: when a verdict says more about the model than about the claim ------------------

TIE_CAVEAT_SHARE = 0.9
"""Arms tied in at least this share of futures: the cause seldom acts on the outcome here."""
DRIVER_CAVEAT_R2 = 0.1
DRIVER_CAVEAT_LEAD = 3.0
"""One parameter stands out as the effect's driver when its squared rank correlation with the
effect is at least DRIVER_CAVEAT_R2 and at least DRIVER_CAVEAT_LEAD times the next one's."""


@dataclass(frozen=True)
class Caveat:
    """Why a verdict may reflect the model rather than the claim (computed, never hand-written).

    `ties`: the arms give the same outcome in `share` of the compared futures, so the model lets
    the claim's cause act on the outcome only rarely. `restates_input`: one uncertain parameter
    (`parameter`) stands out as the driver of the effect across futures (`share` is its squared
    Spearman correlation with the effect, `lead` how many times the next parameter's), so the
    verdict leans on that input's assumed range.
    """

    kind: Literal["ties", "restates_input"]
    share: float
    parameter: str | None = None
    lead: float | None = None


def centered_ranks(X: pd.DataFrame) -> np.ndarray:
    """X's columns as average ranks (ties share their mean rank), each centred on its mean: what
    `rank_drivers` correlates with an effect. Computed once, it serves every effect on the same
    futures."""
    values = X.to_numpy(dtype=float)
    # pandas keeps a missing value missing and ranks the rest; a sort per column is quicker
    ranks = X.rank().to_numpy(dtype=float) if np.isnan(values).any() \
        else average_ranks(values)
    centred: np.ndarray = ranks - ranks.mean(axis=0)
    return centred


def average_ranks(values: np.ndarray) -> np.ndarray:
    """SciPy's ``rankdata(values, axis=0)`` of an (n, d) array with no NaN: each column's
    average ranks (ties share their mean), the same numbers in the same (F) memory order, so
    that sums over them round the same way (tested). Without scipy.stats, slow to import."""
    sorted_values, order = _sorted_rows(np.asarray(values, dtype=float).T)
    ranks = np.empty(order.shape)
    _subset_average_ranks(sorted_values, order, np.arange(order.shape[1]), ranks)
    return ranks.T


def _sorted_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each row of `values` in ascending order, the positions in that order). Ties share
    their mean rank, so their order among themselves does not matter: NumPy's default sort
    (SIMD where it has it), twice as fast as a stable one."""
    order = np.argsort(values, axis=1)
    return np.take_along_axis(values, order, axis=1), order


@dataclass(frozen=True)
class RankedFutures:
    """Futures' parameters with each column's ascending order, sorted once: the centred ranks of
    any subset of them then follow in one pass per column, with no sort (a claim's compared
    futures, its search half; sorting 158 columns of 10,000 futures again for each took 0.1 s).
    The same numbers as `centered_ranks` of the subset (tested)."""

    X: pd.DataFrame
    sorted_values: np.ndarray  # (d, n) float64, each column of X in ascending order
    order: np.ndarray  # (d, n) the futures (positions in X) in that order
    missing: bool  # some value of X is NaN

    @classmethod
    def of(cls, X: pd.DataFrame) -> RankedFutures:
        values = np.ascontiguousarray(X.to_numpy(dtype=float).T)
        return cls(X, *_sorted_rows(values), bool(np.isnan(values).any()))

    def centered(self, futures: pd.Index, columns: pd.Index) -> np.ndarray:
        """`centered_ranks(X.loc[futures, columns])` (`futures`: labels of X's index)."""
        positions = self.X.index.get_indexer(futures)
        if self.missing:  # pandas' ranks, which keep a missing value missing
            return centered_ranks(self.X.iloc[positions][columns])
        slot = np.full(self.order.shape[1], -1, dtype=np.int64)
        slot[positions] = np.arange(len(positions))
        ranks = np.empty((self.order.shape[0], len(positions)))
        _subset_average_ranks(self.sorted_values, self.order, slot, ranks)
        # (m, d) in F order, as SciPy's rankdata(axis=0) returns it: the means and sums below
        # then add in the same order, to the same bits
        chosen = ranks[self.X.columns.get_indexer(columns)].T
        centred: np.ndarray = chosen - chosen.mean(axis=0)
        return centred


@jit
def _subset_average_ranks(sorted_values: Array, order: Array, slot: Array, ranks: Array
                          ) -> None:
    """ranks[j, slot[i]] = the average rank (1-based, ties share their mean) of future i's value
    of column j among the futures with slot >= 0, walking each column's order once
    (`sorted_values[j]`: column j in ascending order; `order[j]`: the futures in that order)."""
    n = sorted_values.shape[1]
    for j in range(sorted_values.shape[0]):
        below = 0  # futures of the subset in the tie groups before this one
        start = 0
        while start < n:
            stop, count = start, 0
            value = sorted_values[j, start]
            while stop < n and sorted_values[j, stop] == value:
                count += slot[order[j, stop]] >= 0
                stop += 1
            rank = below + (count + 1) / 2.0  # the mean of below + 1, ..., below + count
            for k in range(start, stop):
                if slot[order[j, k]] >= 0:
                    ranks[j, slot[order[j, k]]] = rank
            below += count
            start = stop


def rank_drivers(X: pd.DataFrame, effect: np.ndarray, ranks: np.ndarray | None = None
                 ) -> pd.Series:
    """Each column of X's squared Spearman correlation with the effect, largest first (empty when
    the effect or every column is constant). `ranks`: `centered_ranks(X)`, if already known."""
    effect = np.asarray(effect, dtype=float)
    if X.shape[1] == 0 or effect.size < 3 or np.ptp(effect) == 0:
        return pd.Series(dtype=float)
    ranks = centered_ranks(X) if ranks is None else ranks
    target = pd.Series(effect).rank().to_numpy(dtype=float)
    target = target - target.mean()
    spread = np.sqrt((ranks**2).sum(axis=0) * (target**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.nan_to_num((ranks.T @ target / spread) ** 2)
    return pd.Series(r2, index=X.columns).sort_values(ascending=False, kind="stable")


def caveats_for(X: pd.DataFrame, effect: np.ndarray, tie_share: float,
                ranks: np.ndarray | None = None) -> list[Caveat]:
    """The caveats a verdict carries (see `Caveat`); none when the comparison is informative.
    `ranks`: `centered_ranks(X)`, if already known."""
    found = []
    if tie_share >= TIE_CAVEAT_SHARE:
        found.append(Caveat("ties", float(tie_share)))
    drivers = rank_drivers(X, effect, ranks)
    if len(drivers) and drivers.iloc[0] >= DRIVER_CAVEAT_R2:
        lead = drivers.iloc[0] / drivers.iloc[1] if len(drivers) > 1 and drivers.iloc[1] > 0 \
            else float("inf")
        if lead >= DRIVER_CAVEAT_LEAD:
            found.append(Caveat("restates_input", float(drivers.iloc[0]), str(drivers.index[0]),
                                float(lead)))
    return found
