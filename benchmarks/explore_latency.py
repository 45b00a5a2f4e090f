"""Latency of the explorer's answer to one filter change (`offramp explore`; the work of its
`POST /api/region`: studies.explore.Explorer's summary, an outcome's distribution and, when the
run has series, a weekly fan) on a run folder: 50 random restrictions of one to three uncertain
parameters, wall-clock milliseconds per answer (median and 95th percentile) and CPU-seconds in
total, in one process; and the start-up (scores, parameter ranges, PRIM suggestions). Not a test.

    .venv/bin/offramp run kursk-2024 --futures 1000000 --policies \
        negotiate-now,arm-and-hold,drip-feed --workers 2 --no-report --out runs/big
    .venv/bin/python benchmarks/explore_latency.py runs/big
"""

from __future__ import annotations

import sys
import time

import numpy as np

from offramp.store import RunStore
from offramp.studies.explore import Explorer


def main(run_dir: str, changes: int = 50, seed: int = 0) -> None:
    started, cpu_start = time.perf_counter(), time.process_time()
    explorer = Explorer(RunStore.open(run_dir))
    bounds = explorer.parameter_ranges()
    suggestions = explorer.suggestions()
    startup_wall, startup_cpu = time.perf_counter() - started, time.process_time() - cpu_start
    uncertain = sorted(bounds)
    rng = np.random.default_rng(seed)
    explorer.distribution({}, "a_territory_share")  # the bins, once per outcome
    wall, cpu_start = [], time.process_time()
    for _ in range(changes):
        chosen = rng.choice(uncertain, size=rng.integers(1, 4), replace=False)
        ranges = {}
        for name in chosen:
            low, high = np.sort(rng.uniform(*bounds[str(name)], 2))
            ranges[str(name)] = (float(low), float(high))
        started = time.perf_counter()
        explorer.summary(ranges)
        explorer.distribution(ranges, "a_territory_share")
        explorer.fan(ranges, "a_territory_share")  # None without series
        wall.append((time.perf_counter() - started) * 1000)
    cpu = time.process_time() - cpu_start
    n_policies = len(explorer.manifest.policies)
    print(f"{run_dir}: {explorer.n_futures:,} futures x {n_policies} policies "
          f"({explorer.n_futures * n_policies:,} outcome rows; series: {explorer.has_series}), "
          f"{changes} filter changes")
    print(f"  start-up: {startup_wall:.1f} s wall, {startup_cpu:.1f} CPU-s "
          f"({len(suggestions)} PRIM suggestions)")
    print(f"  wall per answer: median {np.median(wall):.0f} ms, 95th percentile "
          f"{np.percentile(wall, 95):.0f} ms; CPU {cpu:.2f} s in total")


if __name__ == "__main__":
    main(sys.argv[1])
