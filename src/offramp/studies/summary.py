"""What the report shows, gathered from a run folder: one `RunSummary`, computed from the stored
tables and the stored study results, never by running the engine.

`summarize(store)` reads the run's outcomes (and its series' weekly bands), compares the
policies, ranks the drivers of the headline outcomes (PAWN), finds where each policy fails
(PRIM) and picks up the claims that `offramp claims` or `offramp run` stored
(`offramp.studies.claims.save_claims`); `offramp.report` only renders the result.
`judge_claims(store)` is the one step that runs the engine: it evaluates the scenario's claims
on the run's futures and stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from offramp.analysis.compare import paired_wins, summary_table
from offramp.analysis.weekly import WeeklyBands, series_names, weekly_bands
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.store import RunStore
from offramp.studies.claims import RunClaims, evaluate_run_claims, load_claims, save_claims
from offramp.studies.conditioning import load_weights, weighted_comparison
from offramp.studies.runs import Discovery, RunAnalysis

DRIVER_OUTCOMES = ("a_territory_share", "casualties_a")
"""Headline outcomes whose drivers open the report (the answer analysts come for first)."""
DRIVER_MAX_ROWS = 10_000
"""PAWN on at most this many futures: ~0.3 s per policy and outcome with ~120 parameters, and
the ranking of the leading drivers is stable well below it."""
CLAIMS_MAX_FUTURES = 10_000
"""Claims run every arm on the run's futures again; beyond this many, the first ones (a Latin
hypercube's first rows are a fair sample; see claims.claim_futures)."""
BANDS_MAX_FUTURES = 100_000
"""The weekly bands of a larger run are those of its first 100,000 futures (as for the claims,
a fair sample): a 10th percentile is then within ~0.2 percentile points of all futures' (95%),
and the report reads a tenth of a 1,000,000-future run's series instead of all of it (which
took 239 s and 6.9 GiB)."""


@dataclass(frozen=True)
class Drivers:
    """PAWN rankings of one outcome's drivers, per policy, or why there are none."""

    outcome: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # policy -> ranked table
    n_rows: int = 0
    problem: str = ""


@dataclass(frozen=True)
class Decision:
    """Which policy is most robust by the run's requirements: the largest share of futures
    meeting them all (ties: the lower 90th percentile of territory regret), and the others in
    that order."""

    ranking: tuple[str, ...]  # best first
    meets: dict[str, float]  # policy -> share of futures meeting every requirement
    regret_p90: dict[str, float]  # policy -> 90th percentile of territory-share regret


def decide(robustness: pd.DataFrame) -> Decision:
    """The decision, read off the robustness table (policies as rows)."""
    meets = robustness["meets all requirements"].astype(float)
    regret = robustness.get("territory share regret, p90",
                            pd.Series(0.0, index=robustness.index)).astype(float)
    order = sorted(robustness.index, key=lambda p: (-meets[p], regret[p]))
    return Decision(ranking=tuple(order), meets={p: float(meets[p]) for p in order},
                    regret_p90={p: float(regret[p]) for p in order})


@dataclass(frozen=True)
class Comparison:
    """The main job's tables: what `offramp run` prints and the report opens its tables with."""

    manifest: RunManifest
    outcomes: pd.DataFrame
    table: pd.DataFrame  # per policy: headline statistics (rows: policies)
    robustness: pd.DataFrame | str  # per policy: regret and satisficing, or why not computed
    paired: pd.DataFrame  # "A vs B" rows: share of futures where A does better

    @property
    def decision(self) -> Decision | str:
        """The most robust policy by the run's requirements, or why there is no ranking."""
        if isinstance(self.robustness, str):
            return self.robustness
        return decide(self.robustness)


@dataclass(frozen=True)
class RunSummary:
    """Everything the report renders."""

    store: RunStore
    comparison: Comparison
    drivers: list[Drivers]
    failures: dict[str, Discovery] | str  # per policy, or why not computed
    claims: RunClaims | None  # as stored; None when never evaluated on this run
    weekly: WeeklyBands | None  # bands of the weekly series (runs made with --series)
    conditioned: pd.DataFrame | None = None  # prior vs conditioned (a run with weights.parquet)
    conditioned_by: dict[str, Any] = field(default_factory=dict)  # how the weights were made

    @property
    def manifest(self) -> RunManifest:
        return self.comparison.manifest


def compare_policies(store: RunStore, analysis: RunAnalysis | None = None) -> Comparison:
    """The per-policy table, regret and satisficing, and paired wins of a complete run."""
    analysis = analysis or RunAnalysis(store)
    outcomes = analysis.outcomes
    return Comparison(
        manifest=analysis.manifest, outcomes=outcomes,
        table=summary_table(outcomes, analysis.policies),
        robustness=_or_reason(analysis.robustness), paired=paired_wins(outcomes),
    )


def summarize(store: RunStore) -> RunSummary:
    """The report's content for a complete run folder (stored tables only; no engine)."""
    analysis = RunAnalysis(store)
    return RunSummary(
        store=store, comparison=compare_policies(store, analysis),
        drivers=[outcome_drivers(analysis, outcome) for outcome in DRIVER_OUTCOMES
                 if outcome in analysis.numeric_outcomes],
        failures=_or_reason(lambda: {p: analysis.failures(p) for p in analysis.policies}),
        claims=load_claims(store),
        weekly=run_bands(store) if analysis.manifest.series else None,
        **_conditioned(store, analysis),
    )


def run_bands(store: RunStore, max_futures: int = BANDS_MAX_FUTURES) -> WeeklyBands:
    """The weekly bands of a run's series, one series at a time, over the run's first
    `max_futures` futures (the report's time and memory do not grow with the run beyond
    them)."""
    total = store.manifest["chunk_bounds"][-1][1]
    values, keys = store.series_arrays(max_futures)
    return weekly_bands(values, series_names(store.series_names()), keys["policy"].to_numpy(),
                        (max_futures, total) if total > max_futures else None)


def _conditioned(store: RunStore, analysis: RunAnalysis) -> dict[str, Any]:
    """The prior and conditioned numbers side by side, when `offramp condition` weighed the
    run (its weights.parquet), and how the weights were made."""
    weights = load_weights(store.root)
    if weights is None:
        return {}
    table = weighted_comparison(analysis.outcomes, weights, analysis.requirements,
                                analysis.policies)
    return {"conditioned": table, "conditioned_by": weights.attrs["settings"]}


def _or_reason(compute):
    """The result, or the user-fixable reason it could not be computed, in one line."""
    try:
        return compute()
    except UserError as error:
        return str(error)


def outcome_drivers(analysis: RunAnalysis, outcome: str) -> Drivers:
    n_rows = min(len(analysis.futures), DRIVER_MAX_ROWS)
    try:
        tables = analysis.sensitivity(outcome, method="pawn", max_rows=DRIVER_MAX_ROWS)
    except UserError as error:
        return Drivers(outcome, n_rows=n_rows, problem=str(error))
    return Drivers(outcome, tables, n_rows)


def judge_claims(store: RunStore, max_futures: int = CLAIMS_MAX_FUTURES) -> RunClaims | None:
    """Evaluate the run's scenario's claims on its futures and store them (None: no claims)."""
    manifest = RunManifest.of(store)
    if not manifest.scenario_data.get("claims"):
        return None
    judged = evaluate_run_claims(store, max_futures=max_futures)
    save_claims(store, judged)
    return judged
