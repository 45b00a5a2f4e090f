"""Conditioning a run on what has happened since its start: which futures are still plausible.

`condition(store, observations)` scores every future × policy of a run made with `--series`
against an observations file (`offramp.scenario.observations`): the log-likelihood of each
observation (Gaussian error or interval) summed over observations, then per policy either
importance weights ∝ likelihood (`method="weights"`) or ABC-style rejection (`method="abc"`:
equal weight on the futures no observation rules out). The observations happened under one
policy; `under=POLICY` scores that policy's trajectories and gives every policy the weight of
the same future (the futures consistent with history, each policy then compared on them),
instead of scoring each policy on its own trajectories.

`branch_from` prepares a run that goes on from a week of this one (`offramp run --from RUN
--week W [--conditioned]`): its futures are this run's (resampled by the weights when
conditioned), replayed under the policy followed until W, then run under each policy.

`save_weights` writes `weights.parquet` (future, policy, log_likelihood, weight, kept) into the
run folder; `load_weights` reads it back, and `weighted_comparison` puts the prior and the
conditioned per-policy numbers side by side. `score` gives proper scores (log score, CRPS) of
held-out observations under the prior and the conditioned ensemble.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.analysis.conditioning import (
    crps,
    effective_sample_size,
    implausible,
    log_likelihood,
    log_score,
    normalized_weights,
    systematic_resample,
    weighted_quantile,
)
from offramp.analysis.robustness import requirements_met
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.experiments.runner import BranchStart
from offramp.experiments.simulate import Branch
from offramp.scenario.loader import LoadedScenario
from offramp.scenario.observations import Observation, load_observations
from offramp.store import RunStore
from offramp.store.run_store import read_table, write_table

METHODS = ("weights", "abc")
WEIGHTS_FILE = "weights.parquet"
LOW_ESS = 100
"""Below this effective sample size a policy's conditioned numbers rest on too few futures to
read (the weights are degenerate): the command says so."""


@dataclass(frozen=True)
class Conditioning:
    """A run's futures weighted by observations."""

    observations: list[Observation]
    method: str
    under: str | None
    weights: pd.DataFrame  # future, policy, log_likelihood, weight, kept
    ess: dict[str, float]  # per policy
    ruled_out: dict[str, float]  # observation (described) -> share of rows it rules out
    warnings: list[str] = field(default_factory=list)


def _observed_values(store: RunStore, keys: pd.DataFrame,
                     observations: list[Observation]) -> list[np.ndarray]:
    """Per observation, the simulated series value of every (future, policy) row of `keys`."""
    if not RunManifest.of(store).series:
        raise UserError(f"{store.root}: this run has no weekly series; conditioning compares "
                        "them with the observations: run it again with --series")
    known = store.series_names()
    for observation in observations:
        if observation.series not in known:
            raise UserError(f"{observation.where}: {observation.series!r} is not a weekly series "
                            f"of this run; series: {', '.join(known)}")
    table = store.read_series(sorted({o.series for o in observations}),
                              sorted({o.week for o in observations}))
    index = pd.MultiIndex.from_frame(keys[["future", "policy"]])
    found = []
    for observation in observations:
        at_week = table.loc[table["week"] == observation.week]
        values = at_week.set_index(["future", "policy"])[observation.series]
        found.append(values.reindex(index).to_numpy(dtype=float, na_value=np.nan))
    return found


def _observed(store: RunStore, manifest: RunManifest, observations_file: str | Path
              ) -> tuple[list[Observation], pd.DataFrame, list[np.ndarray]]:
    """The observations dated in the run's calendar, the run's (future, policy) rows, and per
    observation the simulated value of every row."""
    meta = manifest.scenario_meta
    observations = load_observations(observations_file, dt.date.fromisoformat(
        str(meta["start_date"])), int(meta["horizon_weeks"]))
    keys = store.read_outcomes()[["future", "policy"]]
    return observations, keys, _observed_values(store, keys, observations)


def condition(store: RunStore, observations_file: str | Path, method: str = "weights",
              under: str | None = None) -> Conditioning:
    """Weigh a run's futures by an observations file (see the module)."""
    manifest = RunManifest.of(store)
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if under is not None and under not in manifest.policies:
        raise UserError(f"--under {under!r} is not a policy of this run; its policies: "
                        f"{', '.join(manifest.policies)}")
    observations, keys, simulated = _observed(store, manifest, observations_file)
    total = np.zeros(len(keys))
    ruled_any = np.zeros(len(keys), dtype=bool)
    ruled_out = {}
    for observation, values in zip(observations, simulated, strict=True):
        spec = (observation.value, observation.sd, observation.low, observation.high)
        total += log_likelihood(values, *spec)
        ruled = implausible(values, *spec)
        ruled_any |= ruled
        ruled_out[observation.describe()] = float(ruled.mean())
    if under is not None:  # every policy takes the weight of the same future under `under`
        mine = np.flatnonzero((keys["policy"] == under).to_numpy())
        at = mine[pd.Index(keys["future"].to_numpy()[mine]).get_indexer(keys["future"])]
        total, ruled_any = total[at], ruled_any[at]
    weight = np.zeros(len(keys))
    ess, warnings = {}, []
    for policy in manifest.policies:
        rows = (keys["policy"] == policy).to_numpy()
        if method == "abc":
            kept = ~ruled_any[rows]
            weight[rows] = kept / max(int(kept.sum()), 1)
        else:
            weight[rows] = normalized_weights(total[rows])
        ess[policy] = effective_sample_size(weight[rows])
        if ess[policy] == 0:
            worst = max(ruled_out, key=lambda k: ruled_out[k])
            warnings.append(f"no future of {policy} is compatible with the observations; the "
                            f"one that rules out most: {worst} rules out "
                            f"{ruled_out[worst]:.0%} of futures")
        elif ess[policy] < LOW_ESS:
            warnings.append(f"degenerate weights under {policy}: an effective sample size of "
                            f"{ess[policy]:.0f} of {int(rows.sum()):,} futures; read its "
                            "conditioned numbers as anecdotes (run more futures, or check "
                            "that the observation errors are not too small)")
    weights = pd.DataFrame({"future": keys["future"].to_numpy(),
                            "policy": keys["policy"].to_numpy(),
                            "log_likelihood": total, "weight": weight, "kept": ~ruled_any})
    return Conditioning(observations, method, under, weights, ess, ruled_out, warnings)


def save_weights(conditioning: Conditioning, folder: Path, observations_file: str | Path) -> Path:
    """Write `weights.parquet` (atomically) with how it was made in its metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"observations": str(observations_file), "method": conditioning.method,
                "under": conditioning.under, "ess": conditioning.ess,
                "sources": sorted({o.source for o in conditioning.observations}),
                "last_week": max((o.week for o in conditioning.observations), default=None)}
    path = folder / WEIGHTS_FILE
    write_table(path, conditioning.weights, settings)
    return path


def load_weights(folder: Path) -> pd.DataFrame | None:
    """A run folder's (or another folder's) weights, or None if it has none; how they were made
    (observations, method, under, ess, sources) is in the frame's `attrs["settings"]`."""
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        return None
    weights, settings = read_table(path)
    weights.attrs["settings"] = settings
    return weights


def weighted_comparison(outcomes: pd.DataFrame, weights: pd.DataFrame,
                        requirements: list[str], policies: list[str]) -> pd.DataFrame:
    """Per policy, the prior (every future alike) and the conditioned numbers side by side:
    the share meeting the requirements, the share ended, median territory share, and the
    effective sample size behind the conditioned column."""
    joined = outcomes.merge(weights[["future", "policy", "weight"]], on=["future", "policy"],
                            how="left")
    meets = requirements_met(joined, requirements).astype(float)
    ended = joined["ended"].to_numpy(dtype=float)
    territory = joined["a_territory_share"].to_numpy(dtype=float)
    rows = {}
    for policy in policies:
        mine = (joined["policy"] == policy).to_numpy()
        w = joined["weight"].to_numpy(dtype=float, na_value=0.0)[mine]
        flat = np.full(int(mine.sum()), 1.0 / max(int(mine.sum()), 1))
        total = float(w.sum())
        conditioned = w / total if total > 0 else w
        rows[policy] = {
            "meets_requirements_prior": float(meets[mine].mean()),
            "meets_requirements_conditioned": float(meets[mine] @ conditioned)
            if total > 0 else np.nan,
            "ended_prior": float(ended[mine].mean()),
            "ended_conditioned": float(ended[mine] @ conditioned) if total > 0 else np.nan,
            "territory_median_prior": weighted_quantile(territory[mine], flat, 0.5),
            "territory_median_conditioned": weighted_quantile(territory[mine], conditioned, 0.5),
            "effective_sample_size": effective_sample_size(conditioned),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def score(store: RunStore, observations_file: str | Path,
          weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Proper scores of (held-out) observations under the prior and, given `weights`, under the
    conditioned ensemble: per observation and policy, the log score (higher is better) and the
    CRPS (lower is better; for an interval, of its middle)."""
    manifest = RunManifest.of(store)
    observations, keys, simulated = _observed(store, manifest, observations_file)
    weight = None
    if weights is not None:
        joined = keys.merge(weights, on=["future", "policy"], how="left")
        weight = joined["weight"].to_numpy(dtype=float, na_value=0.0)
    rows = []
    for observation, values in zip(observations, simulated, strict=True):
        spec = (observation.value, observation.sd, observation.low, observation.high)
        for policy in manifest.policies:
            mine = (keys["policy"] == policy).to_numpy()
            ensembles = {"prior": np.ones(int(mine.sum()))}
            if weight is not None:
                ensembles["conditioned"] = weight[mine]
            for name, w in ensembles.items():
                rows.append({"observation": observation.describe(), "policy": policy,
                             "ensemble": name, "log_score": log_score(values[mine], w, *spec),
                             "crps": crps(values[mine], w, observation.value)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Branching:
    """A run to start from a week of another (`offramp.experiments.runner.start_run`)."""

    scenario: LoadedScenario  # the parent run's, exactly
    start: BranchStart
    notes: list[str]


def branch_from(store: RunStore, week: int, under: str | None = None, conditioned: bool = False,
                n_futures: int | None = None, seed: int | None = None) -> Branching:
    """Futures that go on from `week` of a run: its own futures, or with `conditioned` its
    futures resampled (systematically, with `seed`) by its weights (`weights.parquet`), each
    replaying its parent's first `week` weeks under `under` (by default the weights' --under).
    """
    manifest = RunManifest.of(store)
    if manifest.status != "complete":
        raise UserError(f"{store.root}: the run is not complete; finish it with "
                        f"`offramp run --resume {store.root}` before going on from it")
    horizon = int(manifest.scenario_meta["horizon_weeks"])
    if not 1 <= week < horizon:
        raise UserError(f"--week {week}: a run goes on from a week between 1 and {horizon - 1} "
                        f"(the scenario runs {horizon} weeks)")
    weights = load_weights(store.root) if conditioned else None
    settings = None if weights is None else weights.attrs["settings"]
    if conditioned and weights is None:
        raise UserError(f"{store.root}: no {WEIGHTS_FILE} to resample by; make it with "
                        f"`offramp condition {store.root} --observations FILE` first")
    under = under or (settings or {}).get("under")
    if under is None:
        raise UserError(f"say which policy was followed until week {week}: --under POLICY (one "
                        f"of {', '.join(manifest.policies)})")
    if under not in manifest.policies:
        raise UserError(f"--under {under!r} is not a policy of {store.root}; its policies: "
                        f"{', '.join(manifest.policies)}")
    futures = store.read_futures()
    seed = manifest.seed if seed is None else seed
    notes = []
    if weights is None:
        if n_futures not in (None, len(futures)):
            raise UserError(f"--futures {n_futures:,}: without --conditioned a run goes on from "
                            f"every one of {store.root}'s {len(futures):,} futures")
        parents = futures.index.to_numpy(dtype=np.int64)
        ess = float(len(parents))
    else:
        mine = weights.loc[weights["policy"] == under].set_index("future")["weight"]
        weight = mine.reindex(futures.index).to_numpy(dtype=float, na_value=0.0)
        ess = effective_sample_size(weight)
        if ess == 0:
            raise UserError(f"{store.root}: no future under {under} is compatible with the "
                            f"observations in {WEIGHTS_FILE}: there is nothing to go on from")
        count = n_futures or len(futures)
        parents = futures.index.to_numpy(dtype=np.int64)[systematic_resample(weight, count, seed)]
        notes.append(f"{count:,} futures resampled from {len(np.unique(parents)):,} distinct "
                     f"futures of {store.root} (effective sample size {ess:,.0f})")
        last = (settings or {}).get("last_week")
        if isinstance(last, int) and last > week:
            notes.append(f"the weights use observations up to week {last}, after week {week}: "
                         "the futures are chosen by what happened after they branch")
    loaded = LoadedScenario(manifest.scenario_model(), manifest.scenario_source,
                            manifest.scenario_data)
    record = {"from_run": str(store.root), "from_run_hash": manifest.run_hash,
              "conditioned": conditioned, "weights": settings, "effective_sample_size": ess}
    history = Branch(week, under, manifest.seed, parents)
    start = BranchStart(history, futures.loc[parents].reset_index(drop=True), record)
    return Branching(loaded, start, notes)
