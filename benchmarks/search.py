"""Policy search: offramp's `search` against EMA Workbench's `robust_optimize` (ε-NSGA-II on
platypus), on the same lever space (kursk-2024's built-in search file), the same objectives
(means over futures) and offramp's own engine as the model. Not a test.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/search.py [--ema-futures 20] [--ema-nfe 40] [--ema-population 10]

EMA evaluates each candidate × future as one call of a Python model function (here: offramp's
engine on that one future); offramp runs each candidate on all its futures in one vectorized
engine call. Reported, from one run on one machine:

1. evaluations (candidate × future) per CPU-second, each tool, and the ratio;
2. hypervolume at equal wall time: offramp searches for as long as EMA took, on as many futures
   as EMA had; both fronts are then run on the same 1,000 fresh futures and their hypervolumes
   taken with one reference point (the worst value of each objective over both fronts, plus a
   tenth of its range).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.analysis.search import as_minimized, hypervolume, pareto_front
from offramp.experiments.sampling import sample_futures
from offramp.scenario.loader import load_scenario
from offramp.scenario.search import candidate_policy, load_search
from offramp.studies.search import Judge, SearchSettings, search

SCENARIO = "kursk-2024"


def _plain(value):
    """A lever value as offramp reads it (EMA hands categories over as Category objects, and
    NumPy scalars)."""
    value = getattr(value, "value", value)
    return value.item() if isinstance(value, np.generic) else value


def ema_search(futures: pd.DataFrame, nfe: int, population: int, seed: int):
    """EMA Workbench's robust_optimize over the same levers: (front lever values, wall s,
    CPU s, model calls)."""
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
        Scenario,
        SequentialEvaluator,
    )

    scenario = load_scenario(SCENARIO).scenario
    spec = load_search(SCENARIO)
    base = scenario.policies[spec.base]
    calls = [0]

    def model(future: int = 0, **levers):
        calls[0] += 1
        policy = candidate_policy(base, spec, {k: _plain(v) for k, v in levers.items()},
                                  spec.base, "ema candidate")
        judge = Judge(scenario, spec, futures.iloc[[future]], seed, ())
        outcomes = judge.outcomes({"candidate": policy})["candidate"]
        return {item.outcome: float(outcomes[item.outcome].iloc[0])
                for item in spec.objectives}

    ema = Model("offramp", function=model)
    ema.uncertainties = [IntegerParameter("future", 0, len(futures) - 1)]
    parameters = []
    for name, lever in spec.levers.items():
        if lever.kind == "choices":
            parameters.append(CategoricalParameter(name, lever.choices))
        elif lever.kind == "timing":
            parameters.append(IntegerParameter(name, lever.from_week.low, lever.from_week.high))
        elif lever.integer:
            parameters.append(IntegerParameter(name, int(lever.low), int(lever.high)))
        else:
            parameters.append(RealParameter(name, lever.low, lever.high))
    ema.levers = parameters
    ema.outcomes = [ScalarOutcome(item.outcome, kind=ScalarOutcome.INFO)
                    for item in spec.objectives]
    robustness = [ScalarOutcome(f"{item.statistic} {item.outcome}", variable_name=item.outcome,
                                function=np.mean,
                                kind=ScalarOutcome.MAXIMIZE if item.goal == "max"
                                else ScalarOutcome.MINIMIZE)
                  for item in spec.objectives]
    scenarios = [Scenario(f"f{i}", future=i) for i in range(len(futures))]
    started, cpu = time.perf_counter(), time.process_time()
    with SequentialEvaluator(ema) as evaluator:
        front = evaluator.robust_optimize(robustness, scenarios, nfe=nfe,
                                          population_size=population,
                                          epsilons=[0.001, 1000.0, 0.01, 0.05])
    return front, time.perf_counter() - started, time.process_time() - cpu, calls[0]


def offramp_search(futures: int, wall_budget: float, seed: int, folder: Path):
    """offramp's search on `futures` futures for about `wall_budget` seconds (the generations
    that fit, from a two-generation probe): (front, wall s, CPU s, candidate × future
    evaluations)."""

    def timed(generations: int):
        shutil.rmtree(folder, ignore_errors=True)
        settings = SearchSettings(scenario=SCENARIO, search_file=SCENARIO, futures=futures,
                                  generations=generations, population=24, seed=seed,
                                  check_futures=0)
        started, cpu = time.perf_counter(), time.process_time()
        result = search(settings, folder)
        return result, time.perf_counter() - started, time.process_time() - cpu

    _, probe_wall, _ = timed(2)
    result, wall, cpu = timed(max(2, int(2 * wall_budget / probe_wall)))
    evaluations = int(result.convergence["evaluations"].iloc[-1]) * futures
    return result.front, wall, cpu, evaluations


def common_hypervolume(fronts: dict[str, pd.DataFrame], seed: int) -> dict[str, float]:
    """Each front's policies run on the same 1,000 fresh futures; hypervolume of each front's
    non-dominated part with one reference point."""
    scenario = load_scenario(SCENARIO).scenario
    spec = load_search(SCENARIO)
    base = scenario.policies[spec.base]
    judge = Judge(scenario, spec, sample_futures(scenario, 1000, seed + 7), seed + 7, ())
    goals = [item.goal for item in spec.objectives]
    scored = {}
    for tool, front in fronts.items():
        policies = {f"{tool}-{i}": candidate_policy(
            base, spec, {name: _plain(row[name]) for name in spec.levers}, spec.base,
            "benchmark")
            for i, (_, row) in enumerate(front.iterrows())}
        values = [judge.score(outcomes)[0] for outcomes in judge.outcomes(policies).values()]
        scored[tool] = as_minimized(np.array(values, dtype=float), goals)
    together = np.vstack(list(scored.values()))
    worst, best = together.max(axis=0), together.min(axis=0)
    reference = worst + 0.1 * np.maximum(worst - best, 1e-9)
    return {tool: hypervolume(values[pareto_front(values)], reference)
            for tool, values in scored.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ema-futures", type=int, default=20)
    parser.add_argument("--ema-nfe", type=int, default=40)
    parser.add_argument("--ema-population", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO).scenario
    futures = sample_futures(scenario, args.ema_futures, args.seed)
    front, wall, cpu, calls = ema_search(futures, args.ema_nfe, args.ema_population, args.seed)
    ema_rate = calls / cpu
    print(f"EMA Workbench robust_optimize: {args.ema_nfe} candidates x {args.ema_futures} "
          f"futures = {calls:,} model calls in {wall:.1f} s wall, {cpu:.1f} CPU-s: "
          f"{ema_rate:,.1f} evaluations per CPU-second; front of {len(front)}")
    with tempfile.TemporaryDirectory() as folder:
        ours, our_wall, our_cpu, evaluations = offramp_search(args.ema_futures, wall, args.seed,
                                                              Path(folder) / "search")
    our_rate = evaluations / our_cpu
    print(f"offramp search, same futures, about the same wall time: {evaluations:,} "
          f"evaluations in {our_wall:.1f} s wall (last search), {our_rate:,.0f} per "
          f"CPU-second; front of {len(ours)}")
    with tempfile.TemporaryDirectory() as folder:
        big, big_wall, big_cpu, big_evaluations = offramp_search(1000, 60.0, args.seed,
                                                                 Path(folder) / "big")
    big_rate = big_evaluations / big_cpu
    print(f"offramp search on 1,000 futures: {big_evaluations:,} evaluations, {big_rate:,.0f} "
          f"per CPU-second")
    print(f"evaluations per CPU-second, offramp / EMA: {our_rate / ema_rate:,.0f}x on "
          f"{args.ema_futures} futures, {big_rate / ema_rate:,.0f}x on 1,000 futures")
    volumes = common_hypervolume({"ema": front, "offramp": ours}, args.seed)
    print(f"hypervolume at equal wall time, on 1,000 common fresh futures: EMA "
          f"{volumes['ema']:.4g}, offramp {volumes['offramp']:.4g}")


if __name__ == "__main__":
    main()
