"""The whole `offramp run` command, executed (not projected): CPU, wall, peak memory and disk.

    .venv/bin/python benchmarks/full_command.py                      # 1,000,000 futures
    .venv/bin/python benchmarks/full_command.py -n 200000 --series   # also with --series + report
    .venv/bin/python benchmarks/full_command.py --proxy --ema 50     # and the two ratios

Runs `offramp run kursk-2024 --futures N --workers W --no-report` as a child process (cold: its
imports, the compiled kernels' cache load, sampling, every policy of the scenario, writing the
run folder), then, with `--series`, the same run with `--series` followed by `offramp report`
on it. For each command: wall seconds, CPU seconds (user + system of the child and its workers,
from getrusage), peak resident memory of the largest process, the run folder's size on disk,
and future-weeks per CPU-second (futures x policies x horizon weeks / CPU seconds).

In the same run, for ratios: `--proxy` times the C limit proxy (`limit_proxy.py`: a fused SIMD
loop of the engine's operation count, needs gcc), alone and reading the engine's ~244 floats of
per-future parameters a week (65,536 futures each); `--ema N` times EMA Workbench's
`perform_experiments` on N futures x the scenario's policies with offramp's engine as its model,
one future and policy per call (EMA's unit of work), and takes its future-weeks per CPU-second.
Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = "kursk-2024"
OFFRAMP = [sys.executable, "-m", "offramp"]


def measured(command: list[str]) -> dict[str, float]:
    """Run a command to the end; its wall and CPU seconds and peak resident memory (GiB).

    os.wait4 gives this child's own usage, its worker processes' included (Linux counts the
    descendants a process waited for), and the largest resident size among them."""
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            stderr.seek(0)
            sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr.read()}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_gib": usage.ru_maxrss / 2**20}  # ru_maxrss: KiB


def folder_gib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30


def run_shape(run: Path) -> tuple[int, int, int]:
    """(futures, policies, weeks) of a finished run, from its manifest."""
    manifest = json.loads((run / "manifest.json").read_text())
    scenario = manifest["scenario_data"]
    return (manifest["n_futures"], len(manifest["policies"]),
            scenario["scenario"]["horizon_weeks"])


def report_line(label: str, numbers: dict[str, float], future_weeks: float | None) -> str:
    rate = "" if future_weeks is None else \
        f"{future_weeks / numbers['cpu'] / 1e6:6.2f} M future-weeks/CPU-s"
    disk = f"{numbers['disk_gib']:6.2f} GiB" if "disk_gib" in numbers else " " * 10
    return (f"  {label:<34} {numbers['wall']:8.1f} s wall {numbers['cpu']:8.1f} CPU-s "
            f"{numbers['peak_gib']:6.2f} GiB peak  {disk} {rate}")


def ema_rate(n_futures: int, seed: int) -> tuple[float, int]:
    """EMA Workbench running offramp's engine one experiment (future x policy) at a time, on
    every policy of the scenario: (future-weeks per CPU-second of this process, experiments)."""
    import warnings

    with warnings.catch_warnings():  # "ipyparallel not installed": not used here
        warnings.simplefilter("ignore")
        from ema_workbench import (
            IntegerParameter,
            Model,
            Policy,
            ScalarOutcome,
            SequentialEvaluator,
        )

    from offramp.experiments.sampling import sample_futures
    from offramp.experiments.simulate import run_futures
    from offramp.scenario.loader import load_scenario

    scenario = load_scenario(SCENARIO).scenario
    futures = sample_futures(scenario, n_futures, seed)

    def model(future: int = 0, policy_name: str = "") -> dict[str, float]:
        run = run_futures(scenario, futures.iloc[[future]], policy_name, seed=seed)
        return {"a_territory_share": float(run.outcomes["a_territory_share"].iloc[0])}

    ema = Model("offramp", function=model)
    ema.uncertainties = [IntegerParameter("future", 0, n_futures - 1)]
    ema.outcomes = [ScalarOutcome("a_territory_share")]
    policies = [Policy(name, policy_name=name) for name in scenario.policies]
    model(0, policies[0]["policy_name"])  # imports and compiled kernels loaded beforehand
    started = time.process_time()
    with SequentialEvaluator(ema) as evaluator, contextlib.redirect_stderr(io.StringIO()):
        evaluator.perform_experiments(scenarios=n_futures, policies=policies)  # no progress bar
    cpu = time.process_time() - started
    experiments = n_futures * len(policies)
    return experiments * scenario.scenario.horizon_weeks / cpu, experiments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--futures", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--series", action="store_true",
                        help="also the run with --series, then `offramp report` on it")
    parser.add_argument("--proxy", action="store_true",
                        help="also time the C limit proxy and print the ratio to it")
    parser.add_argument("--ema", type=int, default=0, metavar="N",
                        help="also time EMA Workbench on N futures and print the ratio to it")
    parser.add_argument("--keep", type=Path, default=None,
                        help="make the run folders here and keep them (default: a temporary "
                             "folder, removed)")
    args = parser.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="offramp-bench-"))
    common = ["--futures", str(args.futures), "--workers", str(args.workers),
              "--seed", str(args.seed)]
    print(f"{SCENARIO}, {args.futures:,} futures, --workers {args.workers}, "
          f"os.cpu_count() = {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    try:
        plain = base / "plain"
        shutil.rmtree(plain, ignore_errors=True)
        numbers = measured([*OFFRAMP, "run", SCENARIO, *common, "--no-report", "--out",
                            str(plain)])
        numbers["disk_gib"] = folder_gib(plain)
        futures, policies, weeks = run_shape(plain)
        future_weeks = futures * policies * weeks
        print(f"  ({futures:,} futures x {policies} policies x {weeks} weeks = "
              f"{future_weeks / 1e6:,.0f} M future-weeks)")
        print(report_line("offramp run --no-report", numbers, future_weeks))
        offramp_rate = future_weeks / numbers["cpu"]
        if args.proxy:
            from limit_proxy import ENGINE_PARAMETERS, future_weeks_per_cpu_second

            for label, parameters in (("C limit proxy", 0),
                                      ("C limit proxy reading the engine's parameters",
                                       ENGINE_PARAMETERS)):
                proxy = future_weeks_per_cpu_second(parameters=parameters)
                print(f"  {label}: {proxy / 1e6:.2f} M future-weeks/CPU-s; offramp's whole "
                      f"command is {offramp_rate / proxy:.3f} of it")
        if args.ema:
            ema, experiments = ema_rate(args.ema, args.seed)
            print(f"  EMA Workbench, offramp's engine per experiment ({experiments} "
                  f"experiments): {ema:,.0f} future-weeks/CPU-s; offramp's whole command "
                  f"{offramp_rate / ema:,.0f}x faster")
        if args.series:
            series = base / "series"
            shutil.rmtree(series, ignore_errors=True)
            numbers = measured([*OFFRAMP, "run", SCENARIO, *common, "--series", "--no-report",
                                "--out", str(series)])
            numbers["disk_gib"] = folder_gib(series)
            print(report_line("offramp run --series --no-report", numbers, future_weeks))
            numbers = measured([*OFFRAMP, "report", str(series)])
            print(report_line("offramp report (that run)", numbers, None))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
