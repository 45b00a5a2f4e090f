"""Engine throughput: kursk-2024, each policy, many futures x 104 weeks.

    .venv/bin/python benchmarks/engine_throughput.py            # 100,000 futures per policy
    .venv/bin/python benchmarks/engine_throughput.py -n 20000 --workers 2 --profile
    .venv/bin/python benchmarks/engine_throughput.py --sweep 4096,8192,16384,32768,65536
    .venv/bin/python benchmarks/engine_throughput.py --sweep 2048,4096,16384 --kernels --passes 2
    .venv/bin/python benchmarks/engine_throughput.py --runner 200000
    .venv/bin/python benchmarks/engine_throughput.py -n 20000 --workers 1 --adaptive

Prints future-weeks per second (engine only: futures are sampled once beforehand, as a run
does), the number of CPUs, and the time that 1,000,000 futures x 3 policies would take at the
measured rate. Chunks of futures run in a process pool (one process per CPU by default); results
do not depend on the chunking or the number of processes. Not a test.

The fused-loop peer that used to be timed here (`fused_peer.py`, a second, scalar Numba
implementation of the weekly step) was retired on 2026-12-07: it read the engine's private names,
had drifted from it (fixed constants where the engine reads scenario fields), and, being scalar,
measured a weak peer (benchmarks/README.md keeps its last figures).

`--sweep` times the engine in one process for several chunk sizes (`--kernels`: split into the
compiled kernels and the Python around them); `--runner N` times the whole
main job (`offramp.experiments.runner.start_run`: sampling, every policy, writing the run folder)
on N futures with a 1- and a 2-worker `ProcessExecutor`. `--adaptive` times each of kursk-2024's
adaptive policies against the same levers without their triggers, in one process, in
CPU-seconds, interleaved (best of three each), and reports the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.engine import simulate
from offramp.engine.noise import compiled_kernels_enabled
from offramp.experiments import DEFAULT_CHUNK_SIZE
from offramp.experiments.build import build_inputs
from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import run_futures
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Scenario

SCENARIO = "kursk-2024"
POLICIES = ("negotiate-now", "arm-and-hold", "drip-feed")
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


def _engine_in_chunks(inputs_chunks, levers, seed):
    return [simulate(inputs, levers, seed, index).outcomes for inputs, index in inputs_chunks]


class KernelTimer:
    """Times every compiled kernel the engine's Python calls (not those a kernel calls), by
    wrapping the module attributes it looks them up by: `seconds` and `calls` since the last
    `reset`. The wrapper's own cost (~0.3 us a call) counts as the kernel's."""

    def __init__(self) -> None:
        self.seconds, self.calls = 0.0, 0
        self._patched: list[tuple[object, str, object]] = []

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0

    def __enter__(self) -> KernelTimer:
        import importlib
        import pkgutil

        from numba.core.registry import CPUDispatcher

        import offramp.engine as engine
        import offramp.engine.mechanisms as mechanisms
        from offramp.engine import noise

        names = [f"offramp.engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)
                 if not m.ispkg]
        names += [f"offramp.engine.mechanisms.{m.name}"
                  for m in pkgutil.iter_modules(mechanisms.__path__)]
        for module in map(importlib.import_module, names):
            for name, kernel in list(vars(module).items()):
                if isinstance(kernel, CPUDispatcher) \
                        and kernel.targetoptions.get("inline", "never") == "never":
                    self._patched.append((module, name, kernel))
                    setattr(module, name, self._timed(kernel))
        noise._kernels = None  # fetched again, timed, at the next draw
        return self

    def __exit__(self, *_: object) -> None:
        from offramp.engine import noise

        for module, name, kernel in self._patched:
            setattr(module, name, kernel)
        noise._kernels = None

    def _timed(self, kernel):
        def timed(*args):
            started = time.perf_counter()
            try:
                return kernel(*args)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
        return timed


def sweep_chunk_sizes(scenario: Scenario, futures: pd.DataFrame, seed: int,
                      sizes: list[int], kernels: bool = False, passes: int = 1) -> None:
    """Engine-only throughput in this process for several chunk sizes (inputs prebuilt).

    `kernels`: also split each size's time into the compiled kernels (with their calls) and
    the Python around them, in ns a future-week; `passes`: the sizes measured in turn this
    many times (the machine's speed drifts: compare sizes within a pass)."""
    weeks = scenario.scenario.horizon_weeks
    n = len(futures)
    print(f"\nchunk size sweep: {n:,} futures x 3 policies x {weeks} weeks in one process")
    runs = {}
    for size in sizes:
        runs[size] = []
        for policy in POLICIES:
            chunks = []
            for a in range(0, n, size):
                inputs, levers = build_inputs(scenario, futures.iloc[a:a + size], policy)
                chunks.append((inputs, np.arange(a, min(a + size, n))))
            _engine_in_chunks(chunks[:1], levers, seed)
            runs[size].append((chunks, levers))
    future_weeks = 3 * n * weeks
    with KernelTimer() if kernels else contextlib.nullcontext() as timer:
        for _ in range(passes):
            for size in sizes:
                if timer is not None:
                    timer.reset()
                started = time.perf_counter()
                for chunks, levers in runs[size]:
                    _engine_in_chunks(chunks, levers, seed)
                total = time.perf_counter() - started
                line = f"  chunks of {size:>7,}: {future_weeks / total / 1e6:6.2f} M future-weeks/s"
                if timer is not None:
                    all_ns = total / future_weeks * 1e9
                    kernel_ns = timer.seconds / future_weeks * 1e9
                    calls = timer.calls / (3 * weeks * len(runs[size][0][0]))
                    line += (f"; {all_ns:5.0f} ns a future-week: kernels {kernel_ns:5.0f} "
                             f"({calls:.0f} calls a chunk-week), rest {all_ns - kernel_ns:5.0f}")
                print(line)


ADAPTIVE = ("negotiate-at-peak-leverage", "lift-if-escalated", "withdraw-if-untenable")


def time_adaptive(scenario: Scenario, futures: pd.DataFrame, seed: int, chunk_size: int) -> None:
    """CPU-seconds of each adaptive policy against its levers without triggers (same futures)."""
    import dataclasses

    n, weeks = len(futures), scenario.scenario.horizon_weeks
    print(f"\nadaptive policies against their static levers: {n:,} futures x {weeks} weeks, "
          f"one process, CPU-seconds (best of 3, interleaved)")
    for policy in ADAPTIVE:
        chunks = []
        for a in range(0, n, chunk_size):
            inputs, levers = build_inputs(scenario, futures.iloc[a:a + chunk_size], policy)
            chunks.append((inputs, np.arange(a, min(a + chunk_size, n))))
        static = dataclasses.replace(levers, triggers=())
        _engine_in_chunks(chunks[:1], levers, seed)
        best = {"adaptive": np.inf, "static": np.inf}
        for _ in range(3):
            for name, chosen in (("adaptive", levers), ("static", static)):
                started = time.process_time()
                _engine_in_chunks(chunks, chosen, seed)
                best[name] = min(best[name], time.process_time() - started)
        print(f"  {policy:28s} adaptive {best['adaptive']:6.2f} CPU-s, static "
              f"{best['static']:6.2f} CPU-s: {best['adaptive'] / best['static']:.2f}x")


def time_runner(n_futures: int, seed: int, chunk_size: int | None) -> None:
    """The whole main job (sample, run every policy, write the run folder), 1 and 2 workers.

    Workers start as in a real run: forked from a fork server that imports offramp and loads
    the compiled kernels once per pool (spawned, each paying both, where there is none)."""
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
    parser.add_argument("--sweep", type=str, default="",
                        help="comma-separated chunk sizes to time in one process")
    parser.add_argument("--sweep-futures", type=int, default=65_536)
    parser.add_argument("--kernels", action="store_true",
                        help="with --sweep: the time in compiled kernels and around them")
    parser.add_argument("--passes", type=int, default=1,
                        help="with --sweep: measure the sizes in turn this many times")
    parser.add_argument("--runner", type=int, default=0,
                        help="also time runner.start_run on this many futures, 1 and 2 workers")
    parser.add_argument("--runner-chunk-size", type=int, default=None,
                        help="chunk size of the timed main job (default: the runner's)")
    parser.add_argument("--adaptive", action="store_true",
                        help="time the adaptive policies against their static levers")
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

    if args.sweep:
        sizes = [int(size) for size in args.sweep.split(",")]
        sweep_chunk_sizes(scenario, futures.iloc[:args.sweep_futures], args.seed, sizes,
                          args.kernels, args.passes)
    if args.runner:
        time_runner(args.runner, args.seed, args.runner_chunk_size)
    if args.adaptive:
        time_adaptive(scenario, futures, args.seed, args.chunk_size)

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
