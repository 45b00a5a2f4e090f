"""Does offramp reproduce how the Polish–Soviet War (1920) and the Winter War (1939–40) ended?

The criteria are those fixed before any run in docs/historical-scenarios.md (P1–P3 for
`polish-soviet-1920`, F1–F4 for `winter-war-1939`); the measured shares are in docs/validation.md,
"War endings". Everything down to `measure_war` is a pure function of one policy's outcomes
frame and weekly series, as `offramp.experiments.simulate.run_futures(..., record_series=True)`
returns them: `outcomes` has one row per future, and `series[name]` is a (weeks + 1, n) array
whose column i belongs to row i of `outcomes`, row 0 being the start and row w + 1 the end of
week w (so row w is also the state at the start of week w).

Weeks are the engine's 0-based steps: week w covers days 7w to 7w + 7 after the scenario's start,
so a recorded date d days after the start falls in week floor(d / 7) (the 1920 armistice took
effect on day 70, week 10; the 1940 treaty was signed in week 14).

What the engine does not record, and what stands in for it (stated again in docs/validation.md):

* **The war's status per week.** The "first ceasefire" is the earlier of the settlement week and
  the first week at whose end the ceasefire rung is in force (series `ladder_rung` at least the
  rung's 1-based index). That is exact when the ceasefire is the ladder's highest rung, as in
  both scenarios (each has one rung, the ceasefire).
* **The line of control in a settlement week.** The series holds the settled terms x* in that
  week, not the line. The line at the start of the week (row w of `a_territory_share`) stands in
  for it. It is exact when an armistice was already in force (the lines were frozen) and
  otherwise one week's movement off.
* **Ground held per theater.** Only the sum over theaters on side b's soil is recorded
  (`salient_km2`, and `salient_km2_traded` at a settlement). Each scenario has exactly one such
  theater (`beyond_riga_line`, `soviet_border_karelia`), so for P3 and F4 the sum is the
  theater. Ground per theater on side a's soil is not needed: P2 and F2–F3 use a's whole share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

POLISH_SOVIET = "polish-soviet-1920"
WINTER_WAR = "winter-war-1939"

# --- the criteria of docs/historical-scenarios.md -----------------------------------------------

P1_FIRST_STOP_WEEKS = (6, 14)
"""P1: the first ceasefire (armistice or settlement) in weeks 6–14 (armistice effective week 10),
and a settlement within the 36-week horizon (treaty week 31.6)."""
P2_MIN_SHARE = 0.95
"""P2: Poland's territory share at the first ceasefire and its settled terms x* both >= 0.95."""
P3_MIN_HELD_KM2 = 1_000.0
"""P3: Poland holds more than 1,000 km2 beyond the Riga line at the first ceasefire (the token
foothold is at most 1,000 km2)."""

F1_SETTLEMENT_WEEKS = (12, 18)
"""F1: the settlement in weeks 12–18 (treaty week 14.7, ceasefire week 14.9)."""
F2_TERMS = (0.87, 0.93)
"""F2: Finland keeps 0.87–0.93 of its pre-war area (it ceded 9 % or 11 %, sources disagree)."""
F4_FROM_WEEK = 4
"""F4: Finland holds no Soviet soil from the start of week 4 on (series rows 4 and later)."""
NO_GROUND_KM2 = 1e-3
"""Held ground at or below this (km2) counts as none: float32 rounding, not ground."""

OPED_MODEST_TERMS = 0.93
"""The op-ed comparison for Finland: P(x* >= 0.93), a smaller cession than the recorded one."""

READING_NORMAL = 0.20
READING_UNUSUAL = 0.05
"""Readings fixed before any run: share >= 0.20 within the model's normal range, 0.05–0.20
plausible but unusual, below 0.05 not reproduced."""

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Criterion:
    key: str
    summary: str  # what it asks, in the terms of the record
    threshold: str  # how it is measured, in model terms


POLISH_CRITERIA: tuple[Criterion, ...] = (
    Criterion("P1", "fighting stops in time",
              "first ceasefire in weeks 6–14 and a settlement by week 36"),
    Criterion("P2", "Poland recovers its pie",
              "share ≥ 0.95 at the first ceasefire and x* ≥ 0.95"),
    Criterion("P3", "Poland holds Soviet soil when the fighting stops",
              "> 1,000 km² held beyond the Riga line at the first ceasefire"),
    Criterion("ending", "the whole ending", "P1 ∧ P2 ∧ P3"),
)
WINTER_CRITERIA: tuple[Criterion, ...] = (
    Criterion("F1", "a settlement in time", "settlement in weeks 12–18"),
    Criterion("F2", "Finland cedes a large tract, but is not conquered", "0.87 ≤ x* ≤ 0.93"),
    Criterion("F3", "the terms go beyond the line of control",
              "x* < Finland's line at the start of the settlement week"),
    Criterion("F4", "Finland holds no Soviet soil", "no Soviet soil held from week 4 on"),
    Criterion("ending", "the whole ending", "F1 ∧ F2 ∧ F3 ∧ F4"),
)


# --- per-future quantities ------------------------------------------------------------------------

def _column(outcomes: pd.DataFrame, name: str) -> np.ndarray:
    return np.asarray(outcomes[name], dtype=float)


def _series(series: Mapping[str, np.ndarray], name: str, n: int) -> np.ndarray:
    values = np.asarray(series[name], dtype=float)
    if values.ndim != 2 or values.shape[1] != n:
        raise ValueError(f"series '{name}' has shape {values.shape}; expected (weeks + 1, {n})")
    return values


def _at_row(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows[i], i], NaN where rows[i] is NaN."""
    ok = np.isfinite(rows)
    result = np.full(values.shape[1], np.nan)
    cols = np.flatnonzero(ok)
    result[cols] = values[rows[cols].astype(np.intp), cols]
    return result


def first_armistice_week(series: Mapping[str, np.ndarray], n: int, ceasefire_rung: int = 1
                         ) -> np.ndarray:
    """(n,) first week at whose end the ceasefire rung (1-based) is in force, NaN if never."""
    in_force = _series(series, "ladder_rung", n)[1:] >= ceasefire_rung
    return np.where(in_force.any(axis=0), in_force.argmax(axis=0).astype(float), np.nan)


def stop_quantities(outcomes: pd.DataFrame, series: Mapping[str, np.ndarray],
                    ceasefire_rung: int = 1) -> pd.DataFrame:
    """What each future looks like when the fighting first stops, and at its settlement.

    Columns: `armistice_week` (first week ending with the ceasefire rung in force),
    `settlement_week`, `first_stop_week` (the earlier of the two), `stopped_by` ("armistice",
    "settlement" or "" if the war never stops; a settlement in the week the armistice comes
    counts as "settlement"), `share_at_stop` (side a's line at the first stop), `held_km2_at_stop`
    (side b's soil held by a at the first stop), `terms` (x*), `line_at_settlement` (a's line at
    the start of the settlement week), `max_held_km2_from_week4` (most of b's soil held by a at
    the start of any week from week 4 on, series rows 4 and later). See the module docstring
    for the substitutions.
    """
    n = len(outcomes)
    share = _series(series, "a_territory_share", n)
    held = _series(series, "salient_km2", n)
    armistice = first_armistice_week(series, n, ceasefire_rung)
    settled = _column(outcomes, "settlement_week")
    by_armistice = np.isfinite(armistice) & ~(settled <= armistice)
    by_settlement = np.isfinite(settled) & ~by_armistice
    first_stop = np.fmin(armistice, settled)
    # An armistice: the line at the end of its week (the ladder moves after the lines do).
    # A settlement: the series holds x* in its week, so the line at the start of the week; the
    # ground handed back is recorded exactly (`salient_km2_traded`).
    share_at_stop = np.where(by_armistice, _at_row(share, armistice + 1),
                             np.where(by_settlement, _at_row(share, settled), np.nan))
    held_at_stop = np.where(by_armistice, _at_row(held, armistice + 1),
                            np.where(by_settlement, _column(outcomes, "salient_km2_traded"),
                                     np.nan))
    late = held[F4_FROM_WEEK:] if held.shape[0] > F4_FROM_WEEK else held[-1:]
    return pd.DataFrame({
        "armistice_week": armistice,
        "settlement_week": settled,
        "first_stop_week": first_stop,
        "stopped_by": np.where(by_armistice, "armistice",
                               np.where(by_settlement, "settlement", "")),
        "share_at_stop": share_at_stop,
        "held_km2_at_stop": held_at_stop,
        "terms": _column(outcomes, "settlement_terms"),
        "line_at_settlement": _at_row(share, settled),
        "max_held_km2_from_week4": late.max(axis=0),
    }, index=outcomes.index)


def _within(values: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (values >= low) & (values <= high)


# --- scoring -------------------------------------------------------------------------------------

def score_polish_soviet(outcomes: pd.DataFrame, series: Mapping[str, np.ndarray],
                        ceasefire_rung: int = 1) -> pd.DataFrame:
    """P1, P2, P3 and `ending` (all three) per future, as bool columns (polish-soviet-1920)."""
    q = stop_quantities(outcomes, series, ceasefire_rung)
    stop, terms = q["first_stop_week"].to_numpy(), q["terms"].to_numpy()
    with np.errstate(invalid="ignore"):
        p1 = _within(stop, *P1_FIRST_STOP_WEEKS) & np.isfinite(q["settlement_week"].to_numpy())
        p2 = (q["share_at_stop"].to_numpy() >= P2_MIN_SHARE) & (terms >= P2_MIN_SHARE)
        p3 = q["held_km2_at_stop"].to_numpy() > P3_MIN_HELD_KM2
    return pd.DataFrame({"P1": p1, "P2": p2, "P3": p3, "ending": p1 & p2 & p3},
                        index=outcomes.index)


def score_winter_war(outcomes: pd.DataFrame, series: Mapping[str, np.ndarray],
                     ceasefire_rung: int = 1) -> pd.DataFrame:
    """F1, F2, F3, F4 and `ending` (all four) per future, as bool columns (winter-war-1939)."""
    q = stop_quantities(outcomes, series, ceasefire_rung)
    terms = q["terms"].to_numpy()
    held = _series(series, "salient_km2", len(outcomes))
    with np.errstate(invalid="ignore"):
        f1 = _within(q["settlement_week"].to_numpy(), *F1_SETTLEMENT_WEEKS)
        f2 = _within(terms, *F2_TERMS)
        f3 = terms < q["line_at_settlement"].to_numpy()
    f4 = (held[F4_FROM_WEEK:] <= NO_GROUND_KM2).all(axis=0)
    return pd.DataFrame({"F1": f1, "F2": f2, "F3": f3, "F4": f4,
                         "ending": f1 & f2 & f3 & f4}, index=outcomes.index)


# --- shares and intervals ------------------------------------------------------------------------

def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial share (NaN, NaN) when n is 0."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 and n successes the bounds are exactly 0 and 1 (not 1 - 1e-16, which would leave
    # the share itself outside its interval).
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def reading(share: float) -> str:
    """The reading fixed in docs/historical-scenarios.md before any run."""
    if share >= READING_NORMAL:
        return "within the normal range"
    if share >= READING_UNUSUAL:
        return "plausible but unusual"
    return "not reproduced"


def share_table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per criterion: n, successes, share, Wilson 95 % low and high, reading."""
    rows = []
    for key in scores.columns:
        values = scores[key].to_numpy(dtype=bool)
        n, k = len(values), int(values.sum())
        low, high = wilson_interval(k, n)
        share = k / n if n else math.nan
        rows.append({"criterion": key, "n": n, "successes": k, "share": share, "low": low,
                     "high": high, "reading": reading(share) if n else ""})
    return pd.DataFrame(rows).set_index("criterion")


# --- paired comparisons --------------------------------------------------------------------------

@dataclass(frozen=True)
class PairedDifference:
    first: float  # the statistic under the first policy
    second: float  # under the second
    difference: float  # first - second
    low: float  # percentile bootstrap interval of the difference
    high: float
    n: int  # futures (pairs) used


def _mean(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1)


def _nanmedian(values: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.nanmedian(values, axis=-1)


STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"mean": _mean,
                                                              "median": _nanmedian}


def paired_difference(first: np.ndarray, second: np.ndarray, statistic: str = "mean",
                      replicates: int = 2000, seed: int = 0, level: float = 0.95,
                      block: int = 20_000_000) -> PairedDifference:
    """statistic(first) - statistic(second) over the same futures, with a bootstrap interval.

    Futures are resampled in pairs (both policies see the same futures and the same noise, so
    the difference is paired). `mean` of a bool array is a share; `median` ignores NaN (e.g. x*
    of futures that never settle), so each policy's median is over its own settled futures.
    """
    stat = STATISTICS[statistic]
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired arrays must be 1-d and of equal length: {a.shape}, {b.shape}")
    n = a.shape[0]
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    value_a, value_b = float(stat(a)), float(stat(b))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20_250_603]))
    per_block = max(1, block // n)
    diffs = []
    for start in range(0, replicates, per_block):
        rows = rng.integers(0, n, size=(min(per_block, replicates - start), n))
        diffs.append(stat(a[rows]) - stat(b[rows]))
    diff = np.concatenate(diffs)
    diff = diff[np.isfinite(diff)]
    tail = 100 * (1 - level) / 2
    low, high = (np.percentile(diff, [tail, 100 - tail]) if diff.size
                 else (math.nan, math.nan))
    return PairedDifference(value_a, value_b, value_a - value_b, float(low), float(high), n)


def _both_settled(first: pd.DataFrame, second: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    a, b = first["terms"].to_numpy(), second["terms"].to_numpy()
    both = np.isfinite(a) & np.isfinite(b)
    return a[both], b[both]


def polish_comparison(scores_as_fought: pd.DataFrame, scores_stop: pd.DataFrame,
                      quantities_as_fought: pd.DataFrame, quantities_stop: pd.DataFrame,
                      replicates: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Seed 003's claim for 1920 in model terms: `as-fought` minus `stop-at-the-frontier`.

    If holding Soviet soil stopped the Soviet side, P(P1 ∧ P2) or the settled x* should be
    clearly higher as fought. Rows: measure; columns as `PairedDifference`.
    """
    def p12(scores: pd.DataFrame) -> np.ndarray:
        return (scores["P1"] & scores["P2"]).to_numpy(dtype=float)

    settled_af = np.isfinite(quantities_as_fought["terms"].to_numpy()).astype(float)
    settled_stop = np.isfinite(quantities_stop["terms"].to_numpy()).astype(float)
    rows = {
        "P(P1 ∧ P2)": paired_difference(p12(scores_as_fought), p12(scores_stop),
                                        replicates=replicates, seed=seed),
        "P(settlement by week 36)": paired_difference(settled_af, settled_stop,
                                                      replicates=replicates, seed=seed),
        "mean x*, futures settled under both": paired_difference(
            *_both_settled(quantities_as_fought, quantities_stop), replicates=replicates,
            seed=seed),
        "median x*, settled futures": paired_difference(
            quantities_as_fought["terms"].to_numpy(), quantities_stop["terms"].to_numpy(),
            statistic="median", replicates=replicates, seed=seed),
    }
    return _comparison_frame(rows)


def winter_comparison(quantities_hold: pd.DataFrame, quantities_as_fought: pd.DataFrame,
                      replicates: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Seed 003's claim for 1940 in model terms: `hold-soviet-soil` minus `as-fought`.

    The claim implies a higher median x* and a larger P(x* >= 0.93) when Finland holds Soviet
    soil. Rows: measure; columns as `PairedDifference`.
    """
    def modest(quantities: pd.DataFrame) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (quantities["terms"].to_numpy() >= OPED_MODEST_TERMS).astype(float)

    def holds(quantities: pd.DataFrame) -> np.ndarray:
        return (quantities["max_held_km2_from_week4"].to_numpy() > NO_GROUND_KM2).astype(float)

    rows = {
        "median x*, settled futures": paired_difference(
            quantities_hold["terms"].to_numpy(), quantities_as_fought["terms"].to_numpy(),
            statistic="median", replicates=replicates, seed=seed),
        f"P(x* ≥ {OPED_MODEST_TERMS})": paired_difference(
            modest(quantities_hold), modest(quantities_as_fought), replicates=replicates,
            seed=seed),
        "mean x*, futures settled under both": paired_difference(
            *_both_settled(quantities_hold, quantities_as_fought), replicates=replicates,
            seed=seed),
        "P(Soviet soil held from week 4 on)": paired_difference(
            holds(quantities_hold), holds(quantities_as_fought), replicates=replicates,
            seed=seed),
    }
    return _comparison_frame(rows)


def _comparison_frame(rows: dict[str, PairedDifference]) -> pd.DataFrame:
    frame = pd.DataFrame({name: vars(d) for name, d in rows.items()}).T
    frame.index.name = "measure"
    return frame.astype({"n": int})


# --- running both wars ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WarSpec:
    scenario: str
    criteria: tuple[Criterion, ...]
    score: Callable[..., pd.DataFrame]
    compared: tuple[str, str]  # (first, second) policies of the op-ed comparison: first - second


WARS: dict[str, WarSpec] = {
    POLISH_SOVIET: WarSpec(POLISH_SOVIET, POLISH_CRITERIA, score_polish_soviet,
                           ("as-fought", "stop-at-the-frontier")),
    WINTER_WAR: WarSpec(WINTER_WAR, WINTER_CRITERIA, score_winter_war,
                        ("hold-soviet-soil", "as-fought")),
}


@dataclass(frozen=True)
class WarMeasurement:
    scenario: str
    n_futures: int
    seed: int
    policies: tuple[str, ...]
    futures: pd.DataFrame  # the sampled parameters, one row per future
    quantities: dict[str, pd.DataFrame]  # policy -> stop_quantities
    scores: dict[str, pd.DataFrame]  # policy -> bool criteria
    shares: pd.DataFrame  # rows (policy, criterion): n, successes, share, low, high, reading
    criterion_differences: pd.DataFrame  # rows criterion: paired difference, compared policies
    comparison: pd.DataFrame  # the op-ed measures, rows measure


def ceasefire_rung_of(scenario) -> int:
    """1-based index of the scenario's ceasefire rung, checked to be the ladder's highest."""
    rungs = scenario.ladder.rungs
    indices = [i + 1 for i, rung in enumerate(rungs) if rung.effect == "ceasefire"]
    if len(indices) != 1 or indices[0] != len(rungs):
        raise ValueError(f"{scenario.scenario.name}: the scoring needs exactly one ceasefire rung "
                         "and it must be the ladder's highest (series record only the top rung)")
    return indices[0]


def measure_war(name: str, n_futures: int, seed: int = 0, replicates: int = 2000,
                overrides: list[str] | None = None) -> WarMeasurement:
    """Run every policy of one war over the same futures (common random numbers) and score it.

    `overrides` are `--set` strings (PATH=VALUE), for the diagnostic runs of docs/validation.md.
    The only function here that runs the engine.
    """
    from offramp.experiments.sampling import sample_futures
    from offramp.experiments.simulate import run_futures
    from offramp.scenario.loader import load_scenario

    spec = WARS[name]
    scenario = load_scenario(name, overrides=overrides).scenario
    rung = ceasefire_rung_of(scenario)
    futures = sample_futures(scenario, n_futures, seed)
    policies = tuple(scenario.policies)
    quantities, scores, shares = {}, {}, []
    for policy in policies:
        run = run_futures(scenario, futures, policy, seed=seed, record_series=True)
        assert run.series is not None  # record_series=True
        quantities[policy] = stop_quantities(run.outcomes, run.series, rung)
        scores[policy] = spec.score(run.outcomes, run.series, rung)
        shares.append(share_table(scores[policy]).assign(policy=policy))
    share_frame = pd.concat(shares).reset_index().set_index(["policy", "criterion"])
    first, second = spec.compared
    criterion_differences = _comparison_frame({
        key: paired_difference(scores[first][key].to_numpy(dtype=float),
                               scores[second][key].to_numpy(dtype=float),
                               replicates=replicates, seed=seed)
        for key in scores[first].columns})
    if name == POLISH_SOVIET:
        comparison = polish_comparison(scores[first], scores[second], quantities[first],
                                       quantities[second], replicates=replicates, seed=seed)
    else:
        comparison = winter_comparison(quantities[first], quantities[second],
                                       replicates=replicates, seed=seed)
    return WarMeasurement(name, n_futures, seed, policies, futures, quantities, scores,
                          share_frame, criterion_differences, comparison)
