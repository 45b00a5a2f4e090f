"""Latency of the explorer's question (studies.explore.Explorer.summary) on a run folder: 50
random restrictions of one to three uncertain parameters, wall-clock milliseconds per answer
(median and 95th percentile) and CPU-seconds in total, in one process. Not a test.

    .venv/bin/offramp run kursk-2024 --futures 100000 --workers 2 --no-report --out runs/big
    .venv/bin/python benchmarks/explore_latency.py runs/big
"""

from __future__ import annotations

import sys
import time

import numpy as np

from offramp.store import RunStore
from offramp.studies.explore import Explorer


def main(run_dir: str, changes: int = 50, seed: int = 0) -> None:
    store = RunStore.open(run_dir)
    futures = store.read_futures()
    explorer = Explorer(store)
    uncertain = [name for name in explorer.parameters if futures[name].nunique() > 1]
    rng = np.random.default_rng(seed)
    explorer.summary({})  # the first query reads the files' metadata
    wall, cpu_start = [], time.process_time()
    for _ in range(changes):
        chosen = rng.choice(uncertain, size=rng.integers(1, 4), replace=False)
        ranges = {}
        for name in chosen:
            low, high = np.sort(rng.uniform(futures[name].min(), futures[name].max(), 2))
            ranges[str(name)] = (float(low), float(high))
        started = time.perf_counter()
        explorer.summary(ranges)
        wall.append((time.perf_counter() - started) * 1000)
    cpu = time.process_time() - cpu_start
    n_rows = len(futures) * len(explorer.manifest.policies)
    print(f"{run_dir}: {len(futures):,} futures x {len(explorer.manifest.policies)} policies "
          f"({n_rows:,} outcome rows), {changes} filter changes")
    print(f"  wall per answer: median {np.median(wall):.0f} ms, 95th percentile "
          f"{np.percentile(wall, 95):.0f} ms; CPU {cpu:.2f} s in total")


if __name__ == "__main__":
    main(sys.argv[1])
