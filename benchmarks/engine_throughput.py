"""Engine throughput: kursk-2024, each policy, many futures x 104 weeks.

    .venv/bin/python benchmarks/engine_throughput.py            # 100,000 futures per policy
    .venv/bin/python benchmarks/engine_throughput.py -n 20000 --workers 2 --profile
    .venv/bin/python benchmarks/engine_throughput.py --sweep 4096,8192,16384,32768,65536
    .venv/bin/python benchmarks/engine_throughput.py --runner 200000

Prints future-weeks per second (engine only: futures are sampled once beforehand, as a run
does), the number of CPUs, and the time that 1,000,000 futures x 3 policies would take at the
measured rate. Chunks of futures run in a process pool (one process per CPU by default); results
do not depend on the chunking or the number of processes. Not a test.

Then, in the same run, the peer of DESIGN.md §4: the same weekly step as one fused compiled
loop over futures and weeks (`fused_peer.py`, Numba; every mechanism but the ladder and the
withdraw posture), timed against our engine on the same futures of one ladder-free policy
(arm-and-hold), in one process each, with the ratio engine time / fused-loop time (the target
is at most 1.5) and a check that both give the same outcomes.

`--sweep` times the engine in one process for several chunk sizes; `--runner N` times the whole
main job (`offramp.experiments.runner.start_run`: sampling, every policy, writing the run folder)
on N futures with a 1- and a 2-worker `ProcessExecutor`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.engine import simulate
from offramp.engine.noise import compiled_kernels_enabled
from offramp.experiments.build import build_inputs
from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import DEFAULT_CHUNK_SIZE, run_futures
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Scenario

SCENARIO = "kursk-2024"
POLICIES = ("negotiate-now", "arm-and-hold", "drip-feed")
PEER_POLICY = "arm-and-hold"  # no ladder, holds the salient: every mechanism the peer has
TARGET_FUTURES = 1_000_000


def _warm_up(_: object = None) -> bool:
    """Load the compiled noise kernels in this process (Numba's import and cache: ~0.5 s)."""
    from offramp.engine.noise import COMPILED_MIN_FUTURES, NoiseSource

    NoiseSource(0, np.arange(COMPILED_MIN_FUTURES)).normals(1, 0, 1)
    return compiled_kernels_enabled()


def _run_chunk(task: tuple[Scenario, pd.DataFrame, str, int, int]) -> int:
    scenario, futures, policy, seed, chunk_size = task
    run_futures(scenario, futures, policy, seed=seed, chunk_size=chunk_size)
    return len(futures)


def _best_of(repeats: int, function) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _engine_in_chunks(inputs_chunks, levers, seed):
    return [simulate(inputs, levers, seed, index).outcomes for inputs, index in inputs_chunks]


def compare_with_fused_loop(scenario: Scenario, futures: pd.DataFrame, seed: int,
                            chunk_size: int) -> None:
    """Our engine and the fused compiled loop on the same futures, one process each."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from fused_peer import run_fused
    except ImportError as error:  # numba missing
        print(f"\nfused-loop peer skipped: {error}")
        return
    weeks = scenario.scenario.horizon_weeks
    n = len(futures)
    inputs, levers = build_inputs(scenario, futures, PEER_POLICY)
    index = np.arange(n)
    chunks = [(build_inputs(scenario, futures.iloc[a:a + chunk_size], PEER_POLICY)[0],
               index[a:a + chunk_size]) for a in range(0, n, chunk_size)]
    started = time.perf_counter()
    run_fused(*build_inputs(scenario, futures.iloc[:64], PEER_POLICY), seed, index[:64])
    compile_seconds = time.perf_counter() - started
    _warm_up()

    engine_seconds, engine_parts = _best_of(2, lambda: _engine_in_chunks(chunks, levers, seed))
    fused_seconds, fused = _best_of(2, lambda: run_fused(inputs, levers, seed, index))
    engine = {name: np.concatenate([part[name] for part in engine_parts])
              for name in engine_parts[0]}
    print(f"\nfused compiled loop (benchmarks/fused_peer.py, numba; compile or cache load "
          f"{compile_seconds:.1f} s) vs this engine, {PEER_POLICY}, {n:,} futures x {weeks} "
          f"weeks, one process each (engine chunks of {chunk_size:,}):")
    print(f"  NumPy engine  {engine_seconds:6.2f} s   {n * weeks / engine_seconds / 1e6:6.2f} "
          f"M future-weeks/s   (compiled noise kernels: {compiled_kernels_enabled()})")
    print(f"  fused loop    {fused_seconds:6.2f} s   {n * weeks / fused_seconds / 1e6:6.2f} "
          f"M future-weeks/s")
    print(f"  ratio NumPy engine / fused loop: {engine_seconds / fused_seconds:.2f} "
          f"(DESIGN.md §4: at most 1.5)")
    same_end = np.mean(engine["end_kind"] == fused["end_kind"])
    close = {name: np.mean(np.isclose(engine[name], fused[name], rtol=1e-3, equal_nan=True))
             for name in ("settlement_week", "a_territory_share", "casualties_a",
                          "aid_shells_delivered")}
    print(f"  agreement: same end in {same_end:.2%} of futures; within 0.1%: "
          + ", ".join(f"{name} {share:.2%}" for name, share in close.items()))


def sweep_chunk_sizes(scenario: Scenario, futures: pd.DataFrame, seed: int,
                      sizes: list[int]) -> None:
    """Engine-only throughput in this process for several chunk sizes (inputs prebuilt)."""
    weeks = scenario.scenario.horizon_weeks
    n = len(futures)
    print(f"\nchunk size sweep: {n:,} futures x 3 policies x {weeks} weeks in one process")
    for size in sizes:
        total = 0.0
        for policy in POLICIES:
            chunks = []
            for a in range(0, n, size):
                inputs, levers = build_inputs(scenario, futures.iloc[a:a + size], policy)
                chunks.append((inputs, np.arange(a, min(a + size, n))))
            _engine_in_chunks(chunks[:1], levers, seed)
            seconds, _ = _best_of(1, lambda chunks=chunks, levers=levers:
                                  _engine_in_chunks(chunks, levers, seed))
            total += seconds
        print(f"  chunks of {size:>7,}: {3 * n * weeks / total / 1e6:6.2f} M future-weeks/s")


def time_runner(n_futures: int, seed: int, chunk_size: int | None) -> None:
    """The whole main job (sample, run every policy, write the run folder), 1 and 2 workers.

    Workers start cold (spawned by the executor), as in a real run: each pays its imports and
    the compiled kernels' load once."""
    from offramp.experiments.executors import ProcessExecutor
    from offramp.experiments.runner import DEFAULT_CHUNK_SIZE as RUNNER_CHUNK_SIZE
    from offramp.experiments.runner import RunSettings, start_run

    chunk_size = chunk_size or RUNNER_CHUNK_SIZE
    print(f"\nmain job (runner.start_run) on {n_futures:,} futures x 3 policies, chunks of "
          f"{chunk_size:,}:")
    rates = {}
    for workers in (1, 2):
        executor = ProcessExecutor(workers)
        try:
            with tempfile.TemporaryDirectory() as folder:
                settings = RunSettings(scenario=SCENARIO, n_futures=n_futures, seed=seed,
                                       chunk_size=chunk_size)
                started = time.perf_counter()
                start_run(settings, Path(folder) / "run", executor=executor)
                seconds = time.perf_counter() - started
        finally:
            executor.close()
        weeks = load_scenario(SCENARIO).scenario.scenario.horizon_weeks
        rates[workers] = 3 * n_futures * weeks / seconds
        print(f"  ProcessExecutor({workers}): {seconds:7.2f} s end to end, "
              f"{rates[workers] / 1e6:5.2f} M future-weeks/s "
              f"(1M x 3 would take {3 * TARGET_FUTURES * weeks / rates[workers]:.0f} s)")
    print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--futures", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one chunk of each policy in this process")
    parser.add_argument("--peer-futures", type=int, default=32_768,
                        help="futures for the fused-loop comparison (0: skip it)")
    parser.add_argument("--sweep", type=str, default="",
                        help="comma-separated chunk sizes to time in one process")
    parser.add_argument("--sweep-futures", type=int, default=65_536)
    parser.add_argument("--runner", type=int, default=0,
                        help="also time runner.start_run on this many futures, 1 and 2 workers")
    parser.add_argument("--runner-chunk-size", type=int, default=None,
                        help="chunk size of the timed main job (default: the runner's)")
    args = parser.parse_args()

    scenario = load_scenario(SCENARIO).scenario
    weeks = scenario.scenario.horizon_weeks
    started = time.perf_counter()
    futures = sample_futures(scenario, args.futures, args.seed)
    sampling_seconds = time.perf_counter() - started
    print(f"{SCENARIO}: {args.futures:,} futures x {weeks} weeks, chunks of {args.chunk_size:,}, "
          f"{args.workers} worker process(es), os.cpu_count() = {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"sampling the futures (once per run): {sampling_seconds:.2f} s")

    # Each worker gets one contiguous slice per policy; the engine chunks it further.
    slices = np.array_split(np.arange(args.futures), args.workers)
    total_seconds = 0.0
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        list(pool.map(_run_chunk, [(scenario, futures.iloc[:64], POLICIES[0], args.seed, 64)]
                      * args.workers))  # warm up the workers (imports)
        list(pool.map(_warm_up, range(args.workers)))  # and their compiled kernels
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

    if args.peer_futures:
        compare_with_fused_loop(scenario, futures.iloc[:args.peer_futures], args.seed,
                                args.chunk_size)
    if args.sweep:
        sizes = [int(size) for size in args.sweep.split(",")]
        sweep_chunk_sizes(scenario, futures.iloc[:args.sweep_futures], args.seed, sizes)
    if args.runner:
        time_runner(args.runner, args.seed, args.runner_chunk_size)

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
