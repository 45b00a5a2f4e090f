"""The sources' claims as testable hypotheses: run both arms on the same futures, then judge.

A scenario's `claims:` section states what an op-ed asserts ("talks now get better terms than
talks in six months") as a comparison of two arms (a policy, optionally with levers changed) on
one outcome, with the direction the claim expects. `evaluate_claims` runs every distinct arm once
on one shared set of futures. Runs with the same seed and futures are paired automatically (the
engine's noise is a function of seed, stream, week and global future index), so the comparison
is future by future: in this future, with this luck, did the arm do better?

For each claim it reports
- the paired shares: futures where the arm is better in the expected direction (`holds_share`),
  worse (`fails_share`), and where both arms give the same outcome (`tie_share`);
- the mean effect (arm minus versus, in the outcome's units) with a percentile bootstrap 95%
  confidence interval over futures;
- a verdict (`offramp.analysis.paired.verdict_for`): holds / holds only under conditions / fails
  / not testable;
- through PRIM, the region of parameter space where the claim fails (`failure`), and for a claim
  that fails overall a region where it holds (`holding`), as data (`offramp.analysis.regions`);
  `offramp.report.words` says them in the scenario's own names.

`evaluate_run_claims` does the same on a run folder's futures with the run's seed, and
`save_claims` stores the results in the run folder (`claims.parquet`) so that the report renders
them without running the engine. `docs/claims.md` says how each kursk-2024 claim is put and why.
The results are consequences of the scenario's assumptions, not findings about the world.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from offramp.analysis.discovery import varying_columns
from offramp.analysis.paired import (
    Caveat,
    RankedFutures,
    Verdict,
    bootstrap_mean_ci,
    caveats_for,
    centered_ranks,
    directed_effect,
    directed_interval,
    escalation_window_effect,
    fighting_weeks,
    first_talks_week,
    paired_shares,
    verdict_for,
    weekly_counts,
)
from offramp.analysis.regions import Region, failure_region, holding_region
from offramp.engine import OUTCOME_NAMES, SETTLED
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.experiments.runner import stored_branch
from offramp.experiments.sampling import Sampler, sample_futures
from offramp.experiments.simulate import Branch, PolicyRun, resolve_scenario, run_futures
from offramp.scenario.loader import LoadedScenario
from offramp.scenario.schema import (
    DEFAULT_WINDOW_WEEKS,
    LEVER_NAMES,
    Claim,
    ClaimArm,
    Policy,
    Scenario,
)
from offramp.store import RunStore, StoreError

DEFAULT_FUTURES = 2000
"""Futures evaluated by default (sampled for a scenario; the first ones of a run folder)."""
ESCALATION_SERIES = "escalation_events"
CLAIMS_FILE = "claims"
"""The run folder's table of judged claims: claims.parquet."""


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    claim_id: str
    statement: str
    kind: str
    outcome: str
    expect: str
    arm: str  # label: policy and lever overrides
    versus: str  # label, or the baseline weeks for escalation_before_talks
    tolerance: float
    n_futures: int  # futures run
    n_compared: int  # futures where the comparison is defined (filters, NaN outcomes)
    holds_share: float
    fails_share: float
    tie_share: float
    mean_effect: float  # arm minus versus, in the outcome's units
    ci_low: float
    ci_high: float
    verdict: Verdict
    failure: Region  # where the claim fails
    holding: Region | None  # where it holds, when it holds only under conditions
    caveats: tuple[Caveat, ...] = ()  # why the verdict may say more about the model
    cause: str = ""  # the levers the claim is about, in words ("" when it names none)


@dataclass(frozen=True)
class ClaimComparison:
    """Per-future raw effects (arm minus versus) on the compared futures."""

    effect: np.ndarray  # (m,) float
    futures: pd.Index  # the m global future indices compared
    versus_label: str


# --- arms --------------------------------------------------------------------------------------


def arm_policy(scenario: Scenario, arm: ClaimArm) -> Policy:
    """The arm's policy: its base policy with the lever overrides (validated by the schema)."""
    return Policy.model_validate({**scenario.policies[arm.policy].model_dump(), **arm.levers})


def arm_label(arm: ClaimArm) -> str:
    if not arm.levers:
        return arm.policy
    changes = ", ".join(f"{name}={value}" for name, value in arm.levers.items())
    return f"{arm.policy} ({changes})"


def lever_key(policy: Policy) -> tuple:
    """What the engine sees of a policy: arms with equal keys share one run."""
    return tuple((name, getattr(policy, name)) for name in LEVER_NAMES)


@dataclass(frozen=True)
class Plan:
    """The distinct arms to run: run name -> policy, and which runs need weekly series."""

    policies: dict[str, Policy]
    run_of: dict[tuple[str, str], str]  # (claim id, "arm"/"versus") -> run name
    with_series: frozenset[str]


def plan_runs(scenario: Scenario, chosen: dict[str, Claim]) -> Plan:
    """One run per distinct set of levers across the chosen claims' arms."""
    policies: dict[str, Policy] = {}
    by_key: dict[tuple, str] = {}
    run_of: dict[tuple[str, str], str] = {}
    with_series: set[str] = set()
    for claim_id, claim in chosen.items():
        for side in ("arm", "versus"):
            arm = getattr(claim, side)
            if arm is None:
                continue
            policy = arm_policy(scenario, arm)
            key = lever_key(policy)
            if key not in by_key:
                by_key[key] = f"claim-run-{len(by_key)}"
                policies[by_key[key]] = policy
            run_of[(claim_id, side)] = by_key[key]
            if claim.kind == "escalation_before_talks":
                with_series.add(by_key[key])
    return Plan(policies=policies, run_of=run_of, with_series=frozenset(with_series))


def run_plan(scenario: Scenario, plan: Plan, futures: pd.DataFrame, seed: int,
             branch: Branch | None = None, ran: Mapping[str, PolicyRun] | None = None
             ) -> dict[str, PolicyRun]:
    """Run each distinct arm once on the shared futures (same seed: paired noise); `branch`:
    the futures' history before the arms act (a run that goes on from a week of another);
    `ran`: outcomes already made for some of the scenario's policies on these futures with this
    seed (a run folder's): an arm with the same levers and no need of series takes them instead
    of running again (the same numbers, tested)."""
    # The arms are added as policies of a copy of the scenario so the runner needs no new API;
    # model_copy skips validation, which the arms already passed in the schema.
    extended = scenario.model_copy(update={"policies": {**scenario.policies, **plan.policies}})
    runs = {}
    for name, policy in plan.policies.items():
        done = None if name in plan.with_series else next(
            (run for ran_name, run in (ran or {}).items()
             if lever_key(scenario.policies[ran_name]) == lever_key(policy)), None)
        runs[name] = done if done is not None else run_futures(
            extended, futures, name, seed=seed, record_series=name in plan.with_series,
            branch=branch)
    return runs


# --- checks --------------------------------------------------------------------------------------


def check_outcome(scenario_name: str, claim_id: str, claim: Claim) -> None:
    """Raise a UserError naming claims.<id>.outcome if the engine records no such outcome."""
    where = f"scenario {scenario_name}: claims.{claim_id}.outcome"
    if claim.kind == "escalation_before_talks":
        if claim.outcome != ESCALATION_SERIES:
            raise UserError(
                f"{where}: kind escalation_before_talks is measured on the weekly series "
                f"'{ESCALATION_SERIES}'; found '{claim.outcome}'"
            )
        return
    if claim.outcome not in OUTCOME_NAMES:
        guess = difflib.get_close_matches(claim.outcome, OUTCOME_NAMES, n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        raise UserError(
            f"{where}: unknown outcome '{claim.outcome}'{hint} "
            f"(known outcomes: {', '.join(OUTCOME_NAMES)})"
        )


def choose_claims(scenario: Scenario, names: list[str] | None) -> dict[str, Claim]:
    """The claims to evaluate (all by default), with a did-you-mean for an unknown id."""
    declared = scenario.claims
    if not declared:
        raise UserError(f"scenario '{scenario.scenario.name}' declares no claims")
    if not names:
        return dict(declared)
    chosen: dict[str, Claim] = {}
    for name in names:
        if name not in declared:
            guess = difflib.get_close_matches(name, list(declared), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            raise UserError(
                f"unknown claim '{name}' in scenario '{scenario.scenario.name}'{hint} "
                f"(claims: {', '.join(declared)})"
            )
        chosen[name] = declared[name]
    return chosen


# --- comparisons ---------------------------------------------------------------------------------


def where_mask(outcomes: pd.DataFrame, condition: str | None) -> np.ndarray:
    """The futures of one run that satisfy an `only_where` condition (all if None)."""
    if condition is None:
        return np.ones(len(outcomes), dtype=bool)
    if condition == "ended":
        return outcomes["ended"].to_numpy(dtype=bool)
    if condition == "settled":
        return outcomes["end_kind"].to_numpy() == SETTLED
    if condition == "talks_opened":
        return outcomes["talks_ever_opened"].to_numpy(dtype=bool)
    if condition == "war_on":
        return ~outcomes["ended"].to_numpy(dtype=bool)
    raise UserError(f"unknown only_where condition '{condition}'")  # the schema prevents this


def paired_comparison(claim: Claim, arm: PolicyRun, versus: PolicyRun, versus_label: str
                      ) -> ClaimComparison:
    """Arm minus versus in each future where the outcome is defined in both and the filter holds."""
    a = arm.outcomes[claim.outcome].to_numpy(dtype=float)
    b = versus.outcomes[claim.outcome].to_numpy(dtype=float)
    keep = where_mask(arm.outcomes, claim.only_where) & where_mask(versus.outcomes,
                                                                   claim.only_where)
    keep &= ~np.isnan(a) & ~np.isnan(b)
    return ClaimComparison(effect=(a - b)[keep], futures=arm.outcomes.index[keep],
                           versus_label=versus_label)


def escalation_comparison(scenario: Scenario, claim: Claim, run: PolicyRun) -> ClaimComparison:
    """Escalation rate in the weeks before talks first opened minus the rate in other weeks."""
    assert run.series is not None
    rungs = [rung.effect for rung in scenario.ladder.rungs]
    ceasefire = rungs.index("ceasefire") if "ceasefire" in rungs else None
    fighting = fighting_weeks(run.outcomes["settlement_week"].to_numpy(dtype=float),
                              run.series["ladder_rung"], ceasefire, len(rungs))
    window = claim.window_weeks or DEFAULT_WINDOW_WEEKS
    effect = escalation_window_effect(weekly_counts(run.series[ESCALATION_SERIES]), fighting,
                                      first_talks_week(run.series["talks_open"]), window)
    keep = ~np.isnan(effect) & where_mask(run.outcomes, claim.only_where)
    label = f"other weeks of fighting (window {window} weeks)"
    return ClaimComparison(effect=effect[keep], futures=run.outcomes.index[keep],
                           versus_label=label)


# --- the entry points ----------------------------------------------------------------------------


def _claim_seed(seed: int, claim_id: str, purpose: int) -> np.random.SeedSequence:
    """A seed per claim and purpose: stable across runs and independent of the claims' order."""
    return np.random.SeedSequence([seed, zlib.crc32(claim_id.encode()), purpose])


BOOTSTRAP_PURPOSE, SUBSET_PURPOSE = 0, 1


def judge(claim_id: str, claim: Claim, comparison: ClaimComparison, arm_text: str,
          futures: pd.DataFrame, n_futures: int, seed: int,
          known: dict[bytes, tuple[pd.DataFrame, np.ndarray | None]] | None = None,
          ranked: RankedFutures | None = None) -> ClaimResult:
    """Shares, mean effect with its interval, verdict and conditions for one claim. `known`:
    the compared futures' parameters and their ranks, kept from claims judged on the same
    futures (most claims compare every future); `ranked`: the varying parameters of `futures`
    sorted once (`RankedFutures`), whose subsets' ranks need no sort."""
    effect = comparison.effect
    directed = directed_effect(effect, claim.expect)
    shares = paired_shares(directed, claim.tolerance)
    low, high = bootstrap_mean_ci(effect, seed=_claim_seed(seed, claim_id, BOOTSTRAP_PURPOSE))
    directed_low, _ = directed_interval(low, high, claim.expect)
    n = effect.size
    key = np.asarray(comparison.futures).tobytes()
    cached = None if known is None else known.get(key)
    if cached is None:
        X = varying_columns(futures.loc[comparison.futures])
        ranks = None
        if n >= 3 and X.shape[1]:
            ranks = centered_ranks(X) if ranked is None else ranked.centered(X.index, X.columns)
        cached = (X, ranks)
        if known is not None:
            known[key] = cached
    X, ranks = cached
    holding = None
    if verdict_for(directed_low, shares, claim.tolerance, False, n) == "fails":
        # Only a claim that fails overall is searched for a region where it does hold.
        subset_seed = _claim_seed(seed, claim_id, SUBSET_PURPOSE)
        holding = holding_region(X, directed, claim.tolerance, subset_seed, ranked)
    return ClaimResult(
        claim_id=claim_id, statement=claim.statement, kind=claim.kind, outcome=claim.outcome,
        expect=claim.expect, arm=arm_text, versus=comparison.versus_label,
        tolerance=claim.tolerance, n_futures=n_futures, n_compared=n,
        holds_share=shares.holds, fails_share=shares.fails, tie_share=shares.ties,
        mean_effect=float(effect.mean()) if n else float("nan"), ci_low=low, ci_high=high,
        verdict=verdict_for(directed_low, shares, claim.tolerance, holding is not None, n),
        failure=failure_region(X, directed < -claim.tolerance, ranks), holding=holding,
        caveats=tuple(caveats_for(X, effect, shares.ties, ranks)) if n else (),
        cause=", ".join(claim.cause),
    )


def evaluate_claims(
    scenario: Scenario | LoadedScenario | str | Path, n_futures: int = DEFAULT_FUTURES,
    seed: int = 0,
    sampler: Sampler = "lhs", claims: list[str] | None = None,
    futures: pd.DataFrame | None = None, branch: Branch | None = None,
    ran: Mapping[str, PolicyRun] | None = None,
) -> list[ClaimResult]:
    """Evaluate a scenario's claims (all, or those named) on one shared set of futures.

    Each distinct arm runs once; every run uses `seed`, so all arms share the futures and the
    noise. `futures` (rows = futures, index = global future indices) replaces sampling;
    `branch`, their history (the arms then act from its week on); `ran`, outcomes of some of
    the scenario's policies already made on these futures with `seed` (see `run_plan`).
    """
    model = resolve_scenario(scenario)
    chosen = choose_claims(model, claims)
    for claim_id, claim in chosen.items():
        check_outcome(model.scenario.name, claim_id, claim)
    if futures is None:
        futures = sample_futures(model, n_futures, seed, sampler)
    plan = plan_runs(model, chosen)
    runs = run_plan(model, plan, futures, seed, branch, ran)
    results = []
    known: dict[bytes, tuple[pd.DataFrame, np.ndarray | None]] = {}
    ranked = RankedFutures.of(varying_columns(futures))
    for claim_id, claim in chosen.items():
        arm_run = runs[plan.run_of[(claim_id, "arm")]]
        if claim.kind == "escalation_before_talks":
            comparison = escalation_comparison(model, claim, arm_run)
        else:
            assert claim.versus is not None  # the schema requires it for paired claims
            comparison = paired_comparison(claim, arm_run, runs[plan.run_of[(claim_id, "versus")]],
                                           arm_label(claim.versus))
        results.append(judge(claim_id, claim, comparison, arm_label(claim.arm), futures,
                             len(futures), seed, known, ranked))
    return results


# --- on a run folder ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunClaims:
    """Claims judged on a run folder's futures, with what was used."""

    results: list[ClaimResult]
    scenario: str  # the scenario's name
    root: Path  # the run folder
    seed: int  # the run's seed (engine noise and bootstrap)
    n_used: int  # futures the claims were evaluated on
    n_run: int  # futures in the run
    selection: str  # which of the run's futures, in words


def claim_futures(manifest: RunManifest, futures: pd.DataFrame, max_futures: int
                  ) -> tuple[pd.DataFrame, str]:
    """The run's futures to evaluate claims on: the first `max_futures` (all if fewer).

    The index keeps the global future indices, so each future gets the run's noise. A Latin
    hypercube's, Monte Carlo's or Sobol sequence's first rows are a fair sample of the whole. A
    Saltelli design's are not: its rows come in blocks of 2D + 2 that differ from one base
    sample in one parameter at a time, so only each block's first row (SALib's matrix A, a Sobol
    sequence) is used.
    """
    design = manifest.saltelli if manifest.sampler == "saltelli" else None
    if design:
        base = futures.iloc[::design.rows_per_base_sample]
        chosen = base.iloc[:max_futures]
        return chosen, (f"the first row of each of the first {len(chosen):,} Saltelli blocks "
                        f"(of {len(base):,})")
    chosen = futures.iloc[:max_futures]
    if len(chosen) == len(futures):
        return chosen, f"all {len(chosen):,}"
    return chosen, f"the first {len(chosen):,} (of {len(futures):,})"


def evaluate_run_claims(
    run: RunStore | str | Path, max_futures: int = DEFAULT_FUTURES,
    claims: list[str] | None = None, futures: pd.DataFrame | None = None,
) -> RunClaims:
    """Evaluate the scenario's claims on a run folder's futures, with the run's seed.

    The scenario is the one the run was made from (its manifest's `scenario_data`, with any
    `--set` overrides already applied). The futures are the run's first `max_futures` (all if
    fewer; see `claim_futures`), with their global indices, so an arm equal to one of the run's
    policies reproduces that policy's outcomes in the run. Only the futures are read: the run
    need not be complete. `futures`, the run's whole futures table if the caller has read it
    already, spares reading it again.
    """
    store = run if isinstance(run, RunStore) else RunStore.open(Path(run))
    if max_futures < 2:
        raise UserError(f"--futures must be at least 2, found {max_futures}")
    manifest = RunManifest.of(store)
    try:
        scenario = manifest.scenario_model()
    except StoreError as error:
        raise UserError(f"{store.root}: {error}, so its claims cannot be run again") from None
    all_futures = store.read_futures() if futures is None else futures
    futures, selection = claim_futures(manifest, all_futures, max_futures)
    branch = stored_branch(store, manifest)  # the arms act from its week, after its history
    # an arm equal to one of the run's policies reads its outcomes from the run
    ran = _stored_runs(store, manifest.policies, futures.index) \
        if branch is None and store.is_complete else None
    results = evaluate_claims(scenario, futures=futures, seed=manifest.seed, claims=claims,
                              branch=None if branch is None else branch.rows(0, len(futures)),
                              ran=ran)
    return RunClaims(results=results, scenario=scenario.scenario.name, root=store.root,
                     seed=manifest.seed, n_used=len(futures), n_run=len(all_futures),
                     selection=selection)


def _stored_runs(store: RunStore, policies: list[str], future_index: pd.Index
                 ) -> dict[str, PolicyRun]:
    """The run's outcomes of its own policies on the given futures, as the engine gave them."""
    frame = store.read_outcomes(futures=future_index.to_numpy())
    return {policy: PolicyRun(
        outcomes=frame[frame["policy"] == policy].set_index("future")
        .loc[future_index, list(OUTCOME_NAMES)], series=None) for policy in policies}


# --- stored with the run --------------------------------------------------------------------------

_REGIONS = ("failure", "holding")


def claims_frame(results: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim, every field of `ClaimResult`; regions and caveats as JSON text."""
    rows = []
    for result in results:
        row = {name: getattr(result, name) for name in ClaimResult.__dataclass_fields__}
        for name in _REGIONS:
            region = row[name]
            row[name] = None if region is None else json.dumps(region.to_dict())
        row["caveats"] = json.dumps([dataclasses.asdict(c) for c in result.caveats])
        rows.append(row)
    return pd.DataFrame(rows)


def save_claims(store: RunStore, judged: RunClaims) -> Path:
    """Store the judged claims in the run folder (results/claims.parquet) with their settings."""
    settings = {"scenario": judged.scenario, "seed": judged.seed, "n_used": judged.n_used,
                "n_run": judged.n_run, "selection": judged.selection}
    return store.write_result(CLAIMS_FILE, claims_frame(judged.results), settings)


def load_claims(store: RunStore) -> RunClaims | None:
    """The claims stored in a run folder (None if they were never evaluated there)."""
    stored = store.read_result(CLAIMS_FILE)
    if stored is None:
        return None
    frame, settings = stored
    results = []
    for row in cast("list[dict[str, Any]]", frame.to_dict("records")):  # str column names
        for name in _REGIONS:
            text = row[name]
            row[name] = None if text is None or pd.isna(text) else Region.from_dict(
                json.loads(text))
        row["caveats"] = tuple(Caveat(**item) for item in json.loads(row.get("caveats") or "[]"))
        results.append(ClaimResult(**row))
    return RunClaims(results=results, scenario=settings["scenario"], root=store.root,
                     seed=settings["seed"], n_used=settings["n_used"], n_run=settings["n_run"],
                     selection=settings["selection"])
