"""Engine throughput: kursk-2024, each policy, many futures x 104 weeks.

    .venv/bin/python benchmarks/engine_throughput.py            # 100,000 futures per policy
    .venv/bin/python benchmarks/engine_throughput.py -n 20000 --workers 2 --profile

Prints future-weeks per second (engine only: futures are sampled once beforehand, as a run
does), the number of CPUs, and the time that 1,000,000 futures x 3 policies would take at the
measured rate. Chunks of futures run in a process pool (one process per CPU by default); results
do not depend on the chunking or the number of processes. Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import DEFAULT_CHUNK_SIZE, run_futures
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Scenario

SCENARIO = "kursk-2024"
POLICIES = ("negotiate-now", "arm-and-hold", "drip-feed")
TARGET_FUTURES = 1_000_000


def _run_chunk(task: tuple[Scenario, pd.DataFrame, str, int, int]) -> int:
    scenario, futures, policy, seed, chunk_size = task
    run_futures(scenario, futures, policy, seed=seed, chunk_size=chunk_size)
    return len(futures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--futures", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one chunk of each policy in this process")
    args = parser.parse_args()

    scenario = load_scenario(SCENARIO).scenario
    weeks = scenario.scenario.horizon_weeks
    started = time.perf_counter()
    futures = sample_futures(scenario, args.futures, args.seed)
    sampling_seconds = time.perf_counter() - started
    print(f"{SCENARIO}: {args.futures:,} futures x {weeks} weeks, chunks of {args.chunk_size:,}, "
          f"{args.workers} worker process(es), os.cpu_count() = {os.cpu_count()}")
    print(f"sampling the futures (once per run): {sampling_seconds:.2f} s")

    # Each worker gets one contiguous slice per policy; the engine chunks it further.
    slices = np.array_split(np.arange(args.futures), args.workers)
    total_seconds = 0.0
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(_run_chunk, [(scenario, futures.iloc[:64], POLICIES[0], args.seed, 64)]
                      * args.workers))  # warm up the workers (imports)
        for policy in POLICIES:
            tasks = [(scenario, futures.iloc[s[0]:s[-1] + 1], policy, args.seed, args.chunk_size)
                     for s in slices if len(s)]
            started = time.perf_counter()
            done = sum(pool.map(_run_chunk, tasks))
            seconds = time.perf_counter() - started
            total_seconds += seconds
            rate = done * weeks / seconds
            print(f"  {policy:14s} {seconds:7.2f} s   {rate / 1e6:6.2f} M future-weeks/s")

    rate = 3 * args.futures * weeks / total_seconds
    projected = 3 * TARGET_FUTURES * weeks / rate
    print(f"all policies: {rate / 1e6:.2f} M future-weeks/s on {args.workers} process(es)")
    print(f"projected: {TARGET_FUTURES:,} futures x 3 policies x {weeks} weeks in "
          f"{projected:.0f} s (target: under 60 s on 2 cores; sampling 1,000,000 futures adds "
          f"about {sampling_seconds * TARGET_FUTURES / args.futures:.0f} s once)")

    if args.profile:
        chunk = futures.iloc[:args.chunk_size]
        for policy in POLICIES:
            profiler = cProfile.Profile()
            profiler.enable()
            run_futures(scenario, chunk, policy, seed=args.seed, chunk_size=args.chunk_size)
            profiler.disable()
            print(f"\n--- profile: {policy}, {len(chunk):,} futures ---")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
