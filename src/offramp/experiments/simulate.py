"""Run one policy of a scenario over many futures, from Python.

    from offramp.experiments.simulate import simulate_policy
    outcomes = simulate_policy("kursk-2024", "negotiate-now", n_futures=100_000, seed=1)

The futures are drawn once for the whole run (a Latin hypercube of 100,000 rows is one design,
not many small ones) and then cut into chunks only to bound memory and keep arrays in cache.
Every random number of the engine is a function of (seed, global future index, week, purpose),
so the outcomes are bit-identical whatever `chunk_size` is, and every policy run with the same
seed sees the same futures and the same noise (common random numbers).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.engine import OUTCOME_NAMES, simulate
from offramp.engine.inputs import History
from offramp.experiments import DEFAULT_CHUNK_SIZE
from offramp.experiments.build import engine_inputs, levers_for
from offramp.experiments.sampling import Sampler, sample_futures
from offramp.scenario.loader import LoadedScenario, load_scenario
from offramp.scenario.schema import Scenario


class WeeklySeries(Mapping[str, np.ndarray]):
    """Weekly series by name, each (weeks + 1, n_futures) float32, read-only.

    Kept in `DataFrame.attrs`, which pandas deep-copies on every operation: this mapping is
    immutable, so a "copy" is the same object and filtering a frame does not copy gigabytes.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self._arrays = dict(arrays)
        for values in self._arrays.values():
            values.setflags(write=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __copy__(self) -> WeeklySeries:
        return self

    def __deepcopy__(self, memo: dict) -> WeeklySeries:
        return self

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape}" for k, v in self._arrays.items())
        return f"WeeklySeries({shapes})"


@dataclass(frozen=True)
class Branch:
    """A branched run's first `week` weeks: each future replays its parent future (`parents`,
    in the order of the futures run) of a run with seed `seed`, under `policy`, the policy that
    was followed (`offramp.engine.inputs.History`)."""

    week: int
    policy: str
    seed: int
    parents: np.ndarray

    def rows(self, start: int, stop: int) -> Branch:
        return Branch(self.week, self.policy, self.seed, self.parents[start:stop])


@dataclass(frozen=True)
class PolicyRun:
    outcomes: pd.DataFrame  # one row per future, indexed by the global future index
    series: dict[str, np.ndarray] | None  # name -> (weeks + 1, n_futures) float32


def resolve_scenario(scenario_or_name: Scenario | LoadedScenario | str | Path) -> Scenario:
    if isinstance(scenario_or_name, Scenario):
        return scenario_or_name
    if isinstance(scenario_or_name, LoadedScenario):
        return scenario_or_name.scenario
    return load_scenario(scenario_or_name).scenario


def run_futures(
    scenario: Scenario, futures: pd.DataFrame, policy: str, seed: int = 0,
    record_series: bool = False, chunk_size: int | None = None, branch: Branch | None = None,
) -> PolicyRun:
    """Run `policy` over given futures (rows are futures; the index holds global indices);
    with `branch`, from its week on (before it, the parents' history)."""
    return run_policies(scenario, futures, [policy], seed, record_series, chunk_size,
                        branch)[policy]


def run_policies(
    scenario: Scenario, futures: pd.DataFrame, policies: Sequence[str], seed: int = 0,
    record_series: bool = False, chunk_size: int | None = None, branch: Branch | None = None,
) -> dict[str, PolicyRun]:
    """`run_futures` for several policies on the same futures: each chunk's engine inputs are
    built once for all of them (they do not depend on the policy)."""
    levers = {policy: levers_for(scenario, policy) for policy in policies}  # fail early
    followed = None if branch is None else levers_for(scenario, branch.policy)
    size = chunk_size or DEFAULT_CHUNK_SIZE
    if size < 1:
        raise ValueError(f"chunk_size must be at least 1, found {size}")
    global_index = np.asarray(futures.index, dtype=np.int64)
    if (global_index < 0).any():
        raise ValueError("the futures index must hold non-negative global future indices")
    parts: dict[str, list[dict[str, np.ndarray]]] = {policy: [] for policy in policies}
    series_parts: dict[str, list[dict[str, np.ndarray]]] = {policy: [] for policy in policies}
    for start in range(0, len(futures), size):
        inputs = engine_inputs(scenario, futures.iloc[start:start + size])
        history = None if branch is None or followed is None else History(
            branch.week, followed, branch.seed, branch.parents[start:start + size])
        for policy in policies:
            result = simulate(inputs, levers[policy], seed, global_index[start:start + size],
                              record_series=record_series, history=history)
            parts[policy].append(result.outcomes)
            if result.series is not None:
                series_parts[policy].append(result.series)
    return {policy: _joined(parts[policy], series_parts[policy], global_index)
            for policy in policies}


def _joined(parts: list[dict[str, np.ndarray]], series_parts: list[dict[str, np.ndarray]],
            global_index: np.ndarray) -> PolicyRun:
    """One policy's outcomes (and series) over the engine's chunks, in order."""
    outcomes = pd.DataFrame(
        {name: np.concatenate([p[name] for p in parts]) for name in OUTCOME_NAMES},
        index=pd.Index(global_index, name="future"),
    )
    series = None
    if len(series_parts) == 1:  # one engine call (the runner's chunks): nothing to join
        series = series_parts[0]
    elif series_parts:
        series = {name: np.concatenate([s[name] for s in series_parts], axis=1)
                  for name in series_parts[0]}
    return PolicyRun(outcomes=outcomes, series=series)


def simulate_policy(
    scenario_or_name: Scenario | LoadedScenario | str | Path, policy: str, n_futures: int,
    seed: int = 0, sampler: Sampler = "lhs", record_series: bool = False,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Outcomes of `policy` over `n_futures` sampled futures: one row per future.

    With `record_series=True` the weekly series are attached as `frame.attrs["series"]`, a
    read-only `WeeklySeries` (name -> (weeks + 1, n_futures) float32 array, row 0 the start,
    row w + 1 the end of week w); `run_futures` returns them separately.
    """
    scenario = resolve_scenario(scenario_or_name)
    levers_for(scenario, policy)
    futures = sample_futures(scenario, n_futures, seed, sampler)
    run = run_futures(scenario, futures, policy, seed=seed, record_series=record_series,
                      chunk_size=chunk_size)
    frame = run.outcomes
    frame.attrs.update({"scenario": scenario.scenario.name, "policy": policy, "seed": seed,
                        "sampler": sampler})
    if run.series is not None:
        frame.attrs["series"] = WeeklySeries(run.series)
    return frame
