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
- a verdict (`verdict_for`): holds / holds only under conditions / fails / not testable;
- through PRIM, the region of parameter space where the claim fails, in plain words (the
  scenario's own names, as `offramp discover` says them: `offramp.report.run_analysis`).

`evaluate_run_claims` does the same on a run folder's futures with the run's seed.

The statistics are pure functions over arrays (`directed_effect`, `paired_shares`,
`bootstrap_mean_ci`, `verdict_for`, `escalation_window_effect`), tested by hand in
`tests/analysis/test_claims.py`. `docs/claims.md` says how each kursk-2024 claim is put and why.
The results are consequences of the scenario's assumptions, not findings about the world.
"""

from __future__ import annotations

import difflib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.stats import binomtest

from offramp.analysis.discovery import varying_columns
from offramp.engine import OUTCOME_NAMES, SETTLED
from offramp.errors import UserError
from offramp.experiments.sampling import Sampler, sample_futures
from offramp.experiments.simulate import PolicyRun, resolve_scenario, run_futures
from offramp.report.run_analysis import ParameterNames, box_condition_phrases, join_phrases
from offramp.scenario.loader import LoadedScenario
from offramp.scenario.schema import (
    DEFAULT_WINDOW_WEEKS,
    LEVER_NAMES,
    Claim,
    ClaimArm,
    Policy,
    Scenario,
)
from offramp.scenario.walk import scenario_parameters
from offramp.store import RunStore

Verdict = Literal["holds", "holds only under conditions", "fails", "not testable"]

DEFAULT_FUTURES = 2000
"""Futures evaluated by default (sampled for a scenario; the first ones of a run folder)."""
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_REPLICATES = 2000
BOOTSTRAP_BLOCK_CELLS = 4_000_000
"""Resampled values drawn at once (replicates x futures): bounds memory to ~32 MB of indices."""

PRIM_PEEL_ALPHA = 0.05
PRIM_THRESHOLD = 0.8
"""The density PRIM aims for when it picks a box on its peeling trajectory."""
MIN_SUBSET_MASS = 0.10
"""'Sizeable': a subset where the claim holds must contain at least 10% of compared futures."""
MIN_PRIM_CASES = 10
"""Fewer positive futures than this are too few to describe a region of parameter space."""
QUASI_P_MAX = 0.05
"""A PRIM restriction is reported only if its quasi-p-value is below this (Bryant & Lempert)."""
MAX_CONDITIONS = 3
"""At most this many conditions describe a region: the most significant restrictions."""
SCREENED_COLUMNS = 8
"""PRIM searches only the parameters most associated with the event (see screen_columns)."""
CONCENTRATION_P_MAX = 0.001
"""A failure region is reported only if failures are clearly denser in it than overall (strict,
because the box was chosen on the same futures the test is run on)."""

PRIM_UNAVAILABLE = "not computed (PRIM unavailable)"

ESCALATION_SERIES = "escalation_events"


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedShares:
    """Shares of compared futures where the claim holds, fails, or both arms tie."""

    holds: float  # directed effect > -tolerance
    fails: float  # directed effect < -tolerance
    ties: float  # the arms' outcomes are equal (directed effect == 0)


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
    failure_conditions: str  # where the claim fails, in plain words
    holding_conditions: str | None  # where it holds, when it holds only under conditions


@dataclass(frozen=True)
class ClaimComparison:
    """Per-future raw effects (arm minus versus) on the compared futures."""

    effect: np.ndarray  # (m,) float
    futures: pd.Index  # the m global future indices compared
    versus_label: str


# --- pure statistics ------------------------------------------------------------------------------


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
    """Means of `replicates` resamples (with replacement) of `values`, drawn in blocks."""
    values = np.asarray(values, dtype=float)
    n = values.size
    per_block = max(1, BOOTSTRAP_BLOCK_CELLS // max(n, 1))
    means = np.empty(replicates)
    for start in range(0, replicates, per_block):
        count = min(per_block, replicates - start)
        rows = rng.integers(0, n, size=(count, n))
        means[start:start + count] = values[rows].mean(axis=1)
    return means


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
    not_settled = np.isnan(settlement_week) | (weeks <= settlement_week)
    if ceasefire_rung is None:
        return not_settled
    level = ceasefire_rung + 1
    in_ceasefire = rung_at_start == level if level == top_rung else rung_at_start >= level
    return not_settled & ~in_ceasefire


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


def run_plan(scenario: Scenario, plan: Plan, futures: pd.DataFrame, seed: int
             ) -> dict[str, PolicyRun]:
    """Run each distinct arm once on the shared futures (same seed: paired noise)."""
    # The arms are added as policies of a copy of the scenario so the runner needs no new API;
    # model_copy skips validation, which the arms already passed in the schema.
    extended = scenario.model_copy(update={"policies": {**scenario.policies, **plan.policies}})
    return {
        name: run_futures(extended, futures, name, seed=seed,
                          record_series=name in plan.with_series)
        for name in plan.policies
    }


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


# --- conditions (PRIM) ---------------------------------------------------------------------------


def screen_columns(X: pd.DataFrame, y: np.ndarray, keep: int) -> pd.DataFrame:
    """The `keep` columns most associated with y: |rank correlation| (Mann-Whitney's effect).

    PRIM given ~120 columns and a few thousand futures peels whichever column helps most by
    chance at each step; searching only the columns that matter most (feature scoring before
    PRIM, as in EMA practice) gives boxes that say something.
    """
    if X.shape[1] <= keep:
        return X
    ranks = X.rank().to_numpy(dtype=float)
    ranks = (ranks - ranks.mean(axis=0)) / ranks.std(axis=0)
    target = np.asarray(y, dtype=float)
    target = (target - target.mean()) / target.std()
    # A column constant on these futures has no ranks to speak of: score it 0, not NaN.
    score = np.nan_to_num(np.abs(ranks.T @ target) / len(target))
    return X.iloc[:, np.sort(np.argsort(-score, kind="stable")[:keep])]


def _load_discovery():
    """The scenario-discovery module, or None if it is not installed (conditions then skipped)."""
    try:
        from offramp.analysis import discovery
    except ImportError:
        return None
    return discovery


def concentrates(in_box_cases: int, in_box: int, overall_rate: float) -> bool:
    """Is the event clearly more frequent in the box than overall (one-sided binomial test)?

    A box cut to its significant restrictions can end up barely denser than the whole; saying
    "fails in 2% of futures where ..." when it fails in 2% overall would describe nothing.
    """
    if in_box == 0:
        return False
    test = binomtest(in_box_cases, in_box, overall_rate, alternative="greater")
    return bool(test.pvalue < CONCENTRATION_P_MAX)


def parameter_names(scenario: Scenario) -> ParameterNames:
    """Readable names and units for the scenario's parameter paths, as `offramp discover` uses."""
    units = {path: param.unit for path, param in scenario_parameters(scenario).items()}
    return ParameterNames(scenario.model_dump(mode="json"), units)


def box_sentence(subject: str, box, X: pd.DataFrame, names: ParameterNames, event: str,
                 population: str) -> str:
    """A box in the words of `offramp discover`: "<subject> in 26% of futures where Ukraine's
    cost of war per year is above 0.0971; these futures hold 70% of all futures where <event>
    (coverage) and are 57% of all <population> (mass)."."""
    conditions = join_phrases(box_condition_phrases(box, X, names))
    return (f"{subject} in {box.density:.0%} of futures where {conditions}; these futures hold "
            f"{box.coverage:.0%} of all futures where {event} (coverage) and are "
            f"{box.mass:.0%} of all {population} (mass).")


def failure_conditions(X: pd.DataFrame, fails: np.ndarray, discovery,
                       names: ParameterNames | None = None) -> str:
    """Where in parameter space the claim fails, in plain words (from PRIM's first box).

    `names` gives the scenario's readable parameter names (`parameter_names`); without it the
    parameter paths are turned into words as they are.
    """
    if discovery is None:
        return PRIM_UNAVAILABLE
    if X.shape[1] == 0:
        return "not computed: no uncertain parameter varies across the compared futures"
    count = int(fails.sum())
    if count == 0:
        return "none: the claim fails in no compared future"
    if count < MIN_PRIM_CASES:
        return f"too few failing futures ({count}) to describe a region"
    if count == len(fails):
        return "everywhere: the claim fails in every compared future"
    candidates = screen_columns(X, fails, SCREENED_COLUMNS)
    result = discovery.prim(candidates, fails, peel_alpha=PRIM_PEEL_ALPHA,
                            threshold=PRIM_THRESHOLD)
    box = (discovery.significant_box(result.boxes[0], candidates, fails, QUASI_P_MAX,
                                     MAX_CONDITIONS) if result.boxes else None)
    overall = f"it fails in {fails.mean():.0%} of all {len(fails):,} compared futures"
    if box is None or not concentrates(box.n_interest, box.n_futures, float(fails.mean())):
        return f"no region found: failures are spread across parameter space ({overall})"
    sentence = box_sentence("the claim fails", box, candidates, names or ParameterNames({}),
                            "it fails", "compared futures")
    return f"{sentence} Overall {overall}."


def holding_subset(
    X: pd.DataFrame, directed: np.ndarray, tolerance: float, discovery,
    seed: np.random.SeedSequence, names: ParameterNames | None = None,
) -> str | None:
    """A sizeable region where the claim holds, found by PRIM and confirmed out of sample.

    PRIM searches half of the futures (chosen at random) for a box where the claim holds; the
    box (cut to its significant restrictions) counts only if, on the other half, it holds at
    least MIN_SUBSET_MASS of the futures and the claim passes the overall rule inside it. A box
    judged on the futures it was fitted to would flatter itself: PRIM picks whatever region the
    noise happens to favour.
    """
    holds = directed > -tolerance
    if discovery is None or X.shape[1] == 0 or holds.sum() < 2 * MIN_PRIM_CASES or holds.all():
        return None
    search = np.random.default_rng(seed).random(len(X)) < 0.5
    if holds[search].sum() < MIN_PRIM_CASES or holds[search].all():
        return None
    candidates = screen_columns(X[search], holds[search], SCREENED_COLUMNS)
    result = discovery.prim(candidates, holds[search], peel_alpha=PRIM_PEEL_ALPHA,
                            threshold=PRIM_THRESHOLD)
    box = (discovery.significant_box(result.boxes[0], candidates, holds[search], QUASI_P_MAX,
                                     MAX_CONDITIONS) if result.boxes else None)
    if box is None:
        return None
    inside = box.contains(X[~search])
    confirm = directed[~search][inside]
    if inside.mean() < MIN_SUBSET_MASS:
        return None
    low, _ = bootstrap_mean_ci(confirm, seed=seed)
    confirmed = verdict_for(low, paired_shares(confirm, tolerance), tolerance, False, confirm.size)
    if confirmed != "holds":
        return None
    sentence = box_sentence("on the half of the futures PRIM searched, the claim holds", box,
                            candidates, names or ParameterNames({}), "it holds",
                            "searched futures")
    return (f"{sentence} On the other half of the futures, "
            f"{inside.mean():.0%} are in the box and the claim holds in "
            f"{np.mean(confirm > -tolerance):.0%} of those (mean effect interval above "
            f"{-tolerance:g}).")


# --- the entry points ----------------------------------------------------------------------------


def _claim_seed(seed: int, claim_id: str, purpose: int) -> np.random.SeedSequence:
    """A seed per claim and purpose: stable across runs and independent of the claims' order."""
    return np.random.SeedSequence([seed, zlib.crc32(claim_id.encode()), purpose])


BOOTSTRAP_PURPOSE, SUBSET_PURPOSE = 0, 1


def judge(claim_id: str, claim: Claim, comparison: ClaimComparison, arm_text: str,
          futures: pd.DataFrame, n_futures: int, seed: int, discovery,
          names: ParameterNames | None = None) -> ClaimResult:
    """Shares, mean effect with its interval, verdict and conditions for one claim."""
    effect = comparison.effect
    directed = directed_effect(effect, claim.expect)
    shares = paired_shares(directed, claim.tolerance)
    low, high = bootstrap_mean_ci(effect, seed=_claim_seed(seed, claim_id, BOOTSTRAP_PURPOSE))
    directed_low, _ = directed_interval(low, high, claim.expect)
    X = varying_columns(futures.loc[comparison.futures])
    n = effect.size
    subset = None
    if verdict_for(directed_low, shares, claim.tolerance, False, n) == "fails":
        # Only a claim that fails overall is searched for a region where it does hold.
        subset_seed = _claim_seed(seed, claim_id, SUBSET_PURPOSE)
        subset = holding_subset(X, directed, claim.tolerance, discovery, subset_seed, names)
    failing = (failure_conditions(X, directed < -claim.tolerance, discovery, names) if n > 0
               else "no future where the comparison is defined")
    return ClaimResult(
        claim_id=claim_id, statement=claim.statement, kind=claim.kind, outcome=claim.outcome,
        expect=claim.expect, arm=arm_text, versus=comparison.versus_label,
        tolerance=claim.tolerance, n_futures=n_futures, n_compared=n,
        holds_share=shares.holds, fails_share=shares.fails, tie_share=shares.ties,
        mean_effect=float(effect.mean()) if n else float("nan"), ci_low=low, ci_high=high,
        verdict=verdict_for(directed_low, shares, claim.tolerance, subset is not None, n),
        failure_conditions=failing, holding_conditions=subset,
    )


def evaluate_claims(
    scenario: Scenario | LoadedScenario | str | Path, n_futures: int = DEFAULT_FUTURES,
    seed: int = 0,
    sampler: Sampler = "lhs", claims: list[str] | None = None,
    futures: pd.DataFrame | None = None,
) -> list[ClaimResult]:
    """Evaluate a scenario's claims (all, or those named) on one shared set of futures.

    Each distinct arm runs once; every run uses `seed`, so all arms share the futures and the
    noise. `futures` (rows = futures, index = global future indices) replaces sampling.
    """
    model = resolve_scenario(scenario)
    chosen = choose_claims(model, claims)
    for claim_id, claim in chosen.items():
        check_outcome(model.scenario.name, claim_id, claim)
    if futures is None:
        futures = sample_futures(model, n_futures, seed, sampler)
    plan = plan_runs(model, chosen)
    runs = run_plan(model, plan, futures, seed)
    discovery = _load_discovery()
    names = parameter_names(model)
    results = []
    for claim_id, claim in chosen.items():
        arm_run = runs[plan.run_of[(claim_id, "arm")]]
        if claim.kind == "escalation_before_talks":
            comparison = escalation_comparison(model, claim, arm_run)
        else:
            assert claim.versus is not None  # the schema requires it for paired claims
            comparison = paired_comparison(claim, arm_run, runs[plan.run_of[(claim_id, "versus")]],
                                           arm_label(claim.versus))
        results.append(judge(claim_id, claim, comparison, arm_label(claim.arm), futures,
                             len(futures), seed, discovery, names))
    return results


# --- on a run folder -----------------------------------------------------------------------------


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


def claim_futures(manifest: dict[str, Any], futures: pd.DataFrame, max_futures: int
                  ) -> tuple[pd.DataFrame, str]:
    """The run's futures to evaluate claims on: the first `max_futures` (all if fewer).

    The index keeps the global future indices, so each future gets the run's noise. A Latin
    hypercube's, Monte Carlo's or Sobol sequence's first rows are a fair sample of the whole. A
    Saltelli design's are not: its rows come in blocks of 2D + 2 that differ from one base
    sample in one parameter at a time, so only each block's first row (SALib's matrix A, a Sobol
    sequence) is used.
    """
    design = manifest.get("saltelli") if manifest.get("sampler") == "saltelli" else None
    if design:
        block = int(design["rows_per_base_sample"])
        base = futures.iloc[::block]
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
    already (the report has), spares reading it again.
    """
    store = run if isinstance(run, RunStore) else RunStore.open(Path(run))
    if max_futures < 2:
        raise UserError(f"--futures must be at least 2, found {max_futures}")
    manifest = store.manifest
    data = manifest.get("scenario_data")
    if not data:
        raise UserError(f"{store.root}: the manifest holds no scenario_data, so its claims "
                        "cannot be run again")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        # A run made by another version of offramp: its scenario is history, not a model.
        raise UserError(
            f"{store.root}: this run's scenario does not load in this version of offramp "
            f"({error.error_count()} problems), so its claims cannot be run again"
        ) from None
    all_futures = store.read_futures() if futures is None else futures
    futures, selection = claim_futures(manifest, all_futures, max_futures)
    seed = int(manifest.get("seed", 0))
    results = evaluate_claims(scenario, futures=futures, seed=seed, claims=claims)
    return RunClaims(results=results, scenario=scenario.scenario.name, root=store.root,
                     seed=seed, n_used=len(futures), n_run=len(all_futures),
                     selection=selection)


def claims_table(results: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim: the comparison, the paired shares, the effect, verdict and conditions."""
    rows = [
        {
            "claim": r.claim_id, "statement": r.statement, "arm": r.arm, "versus": r.versus,
            "outcome": r.outcome, "expect": r.expect, "tolerance": r.tolerance,
            "futures compared": r.n_compared, "holds share": r.holds_share,
            "fails share": r.fails_share, "tie share": r.tie_share,
            "mean effect": r.mean_effect, "ci low": r.ci_low, "ci high": r.ci_high,
            "verdict": r.verdict, "failure conditions": r.failure_conditions,
            "holding conditions": r.holding_conditions,
        }
        for r in results
    ]
    return pd.DataFrame(rows).set_index("claim")

