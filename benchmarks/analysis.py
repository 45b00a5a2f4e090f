"""Analysis throughput: PRIM on 1,000,000 futures x 20 parameters, against the EMA Workbench.

    .venv/bin/python benchmarks/analysis.py                     # 1,000,000 rows x 20 columns
    .venv/bin/python benchmarks/analysis.py -n 200000 --skip-ema
    .venv/bin/python benchmarks/analysis.py -n 3000000 -d 40 --skip-ema   # the memory case

Synthetic planted-box data (cases of interest where x1 > 0.7 and x2 < 0.3, 2% of labels
flipped). Times offramp's `prim` and, if `ema_workbench` is importable (``pip install
ema_workbench``; 2.5.x runs on Python 3.11), EMA's ``Prim.find_box`` on the same data in the same
process, and says whether the two boxes agree: EMA returns the last peel pasted, so it is
compared with the same box from offramp's peeling trajectory (identical limits expected), and
the two trajectories are compared step by step. Then times `sensitivity` (PAWN) on the same
1,000,000 rows with its default sub-sampling. Prints the CPU count and the peak memory.

On a real run (issue 7: the whole analysis of a 1,000,000 x 3 run in under a minute on 2 cores):

    .venv/bin/python benchmarks/analysis.py --make-run 1000000          # make one, then analyse
    .venv/bin/python benchmarks/analysis.py --run runs/kursk-2024-...   # an existing run folder
    .venv/bin/python benchmarks/analysis.py --make-run 1000000 --keep   # keep the folder made

`--make-run N` runs kursk-2024 (N futures x its 3 policies, chunks of 16,384, 2 local worker
processes) into a temporary folder and says how long that took, apart from the analysis. The
analysis is then timed stage by stage as `offramp run` builds its report (`offramp.studies.summary`,
which is also what `offramp sensitivity`, `offramp discover`, `offramp claims` compute): reading the
run, the drivers (PAWN per policy and headline outcome), the claims (on the run's first 10,000
futures: the report's cap, stated), the failure conditions (PRIM per policy on all futures) and
robustness (regret and satisficing over every future x policy row), and the total. Then EMA
Workbench's PRIM runs on one policy's failure-condition data (X = the run's uncertain columns,
y = the policy misses the requirements) beside offramp's `prim` on the same data, with the ratio
and whether the peeling trajectories and boxes agree.
Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.analysis import discovery as discovery_module
from offramp.analysis import prim, sensitivity

TARGET_RATIO = 10.0
TARGET_SECONDS = 60.0  # the whole analysis of a 1,000,000 x 3 run, on 2 cores


def planted_box(n: int, d: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{i + 1}" for i in range(d)])
    inside = (X["x1"] > 0.7).to_numpy() & (X["x2"] < 0.3).to_numpy()
    return X, inside ^ (rng.uniform(size=n) < 0.02)


def last_peel_pasted(X: pd.DataFrame, y: np.ndarray) -> dict:
    """offramp's box for EMA's rule (the last peeling step, pasted), for comparison."""
    cols = discovery_module._columns(X)
    init = discovery_module._initial_limits(cols)
    everyone = np.ones(len(y), dtype=bool)
    steps, _ = discovery_module._peel(cols, y, everyone, discovery_module._sort_columns(cols),
                                      init, 0.05, 0.05, len(y))
    limits, _, _ = discovery_module._paste(cols, y, everyone, steps[-1], init, 0.05, 0.05, len(y))
    return {cols.names[j]: (float(limits.low[j]), float(limits.high[j]))
            for j in limits.restricted(init)}


def time_ema(X: pd.DataFrame, y: np.ndarray, thresholded: bool = True):
    """EMA Workbench's PRIM on (X, y): (version, seconds, box, restricted limits), or None.

    `thresholded=False` runs ``Prim.find_box`` without its last check: when the pasted box misses
    the threshold, find_box returns the all-futures "dump box" and forgets the peeling
    trajectory; then the box and trajectory are kept so they can be compared. The work timed is
    find_box's either way (the Prim set-up, peeling and pasting)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import ema_workbench
            from ema_workbench.analysis import prim as ema_prim
            from ema_workbench.analysis import scenario_discovery_util as sdutil
        except ImportError:
            return None
        start = time.perf_counter()
        finder = ema_prim.Prim(X, y.astype(int), threshold=0.8)
        if thresholded:
            box = finder.find_box()
        else:
            finder._update_yi_remaining(finder)
            box = ema_prim.PrimBox(finder, finder.box_init, finder.yi_remaining[:])
            box = finder._paste(finder._peel(box))
        seconds = time.perf_counter() - start
    lims = box.box_lims[-1]
    restricted = sdutil._determine_restricted_dims(lims, finder.box_init)
    limits = {name: tuple(float(v) for v in lims[name]) for name in restricted}
    return ema_workbench.__version__, seconds, box, limits


def compare_with_ema(X: pd.DataFrame, y: np.ndarray, timed, ours: tuple | None = None) -> None:
    """Print EMA's time beside offramp's on (X, y), the ratio, and whether the results agree.

    `ours`: (offramp's PrimResult, seconds) when already timed; otherwise prim runs here."""
    if ours is None:
        start = time.perf_counter()
        result = prim(X, y)
        ours = (result, time.perf_counter() - start)
        print(f"offramp prim: {ours[1]:.2f} s, {len(result.tradeoff)} peeling steps")
    result, ours = ours
    if timed is None:
        print("EMA Workbench not installed (pip install ema_workbench): no comparison")
        return
    version, theirs, ema_box, ema_limits = timed
    ratio = theirs / ours
    trajectory = ema_box.peeling_trajectory
    n_peels = len(result.tradeoff)
    same_curve = np.array_equal(result.tradeoff["density"].to_numpy(float),
                                trajectory["density"].to_numpy(float)[:n_peels])
    ours_limits = last_peel_pasted(X, y)
    same_box = ours_limits == ema_limits
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"EMA Workbench {version} PRIM: {theirs:.2f} s")
    print(f"ratio EMA / offramp: {ratio:.1f}x ({verdict} the {TARGET_RATIO:.0f}x target)")
    print(f"same peeling trajectory: {same_curve} ({n_peels} steps); same box (the last peel, "
          f"pasted): {same_box}, {len(ema_limits)} restricted parameters")
    if not same_box:
        differ = sorted(set(ours_limits) ^ set(ema_limits)) or [
            name for name in ours_limits if ours_limits[name] != ema_limits[name]]
        print(f"  the boxes differ on: {', '.join(map(str, differ[:5]))}")


def make_run(n_futures: int, workers: int, folder: Path) -> float:
    """kursk-2024, n_futures x its policies, into `folder`; returns the seconds it took."""
    from offramp.experiments.executors import ProcessExecutor
    from offramp.experiments.runner import RunSettings, start_run

    executor = ProcessExecutor(workers)
    start = time.perf_counter()
    try:
        start_run(RunSettings(n_futures=n_futures, chunk_size=16384), folder, executor)
    finally:
        executor.close()
    return time.perf_counter() - start


def analyse_run(root: Path, skip_ema: bool, ema_policy: str | None,
                ema_rows: int | None = None) -> None:
    """Time the analysis of a run folder, stage by stage (as `offramp run` makes its report:
    claims judged and stored, then the summary the report renders); then PRIM against EMA's."""
    from offramp.report.html import render_report
    from offramp.store import RunStore
    from offramp.studies import summary
    from offramp.studies.claims import claim_futures, evaluate_run_claims
    from offramp.studies.runs import RunAnalysis

    store = RunStore.open(root)
    analysis = RunAnalysis(store)
    n_policies = len(analysis.policies)
    prim_seconds: dict[str, float] = {}
    found = {}
    stages: list[tuple[str, float]] = []

    def stage(label: str, build):
        start = time.perf_counter()
        result = build()
        stages.append((label, time.perf_counter() - start))
        print(f"  {label}: {stages[-1][1]:.2f} s", flush=True)
        return result

    def failures():
        for policy in analysis.policies:  # PRIM per policy, timed apart
            start = time.perf_counter()
            found[policy] = analysis.failures(policy)
            prim_seconds[policy] = time.perf_counter() - start

    print(f"analysis of {root} (stages in the order `offramp run` takes them):")
    stage("read the run (futures, outcomes) and find the uncertain parameters",
          lambda: (analysis.futures, analysis.outcomes, analysis.X))
    n_futures, n_rows, n_params = len(analysis.futures), len(analysis.outcomes), analysis.X.shape[1]
    print(f"    {n_futures:,} futures x {n_policies} policies = {n_rows:,} outcome rows; "
          f"{n_params} uncertain parameters of {analysis.futures.shape[1]}")
    outcomes = [o for o in summary.DRIVER_OUTCOMES if o in analysis.numeric_outcomes]
    stage(f"drivers: PAWN for {len(outcomes)} outcomes x {n_policies} policies on "
          f"{min(n_futures, summary.DRIVER_MAX_ROWS):,} sampled futures",
          lambda: [summary.outcome_drivers(analysis, outcome) for outcome in outcomes])
    _, selection = claim_futures(analysis.manifest, analysis.futures, summary.CLAIMS_MAX_FUTURES)
    n_claims = len(analysis.manifest.scenario_data.get("claims") or {})
    stage(f"claims: {n_claims} claims on {selection} futures (capped at "
          f"{summary.CLAIMS_MAX_FUTURES:,}), their arms run again",
          lambda: evaluate_run_claims(store, max_futures=summary.CLAIMS_MAX_FUTURES,
                                      futures=analysis.futures))
    stage(f"failure conditions: PRIM per policy on all {n_futures:,} futures x {n_params} "
          "parameters", failures)
    for policy, seconds in prim_seconds.items():
        discovery = found[policy]
        box = "no search" if discovery.result is None else (
            f"{len(discovery.result.tradeoff)} peels, {len(discovery.result.boxes[0].limits)} "
            "restrictions")
        print(f"    {policy}: {seconds:.2f} s (fails in {discovery.share:.0%}; {box})")
    stage(f"robustness: regret and satisficing over {n_rows:,} rows", analysis.robustness)
    stage("the whole summary again and the HTML (figures included)",
          lambda: render_report(summary.summarize(store)))
    total = sum(seconds for _, seconds in stages)
    verdict = "meets" if total < TARGET_SECONDS else "misses"
    print(f"  total: {total:.2f} s ({verdict} the {TARGET_SECONDS:.0f} s target; the last stage "
          f"repeats the analysis stages); peak memory (max RSS): {peak_gib():.2f} GiB")

    if skip_ema:
        return
    policy = ema_policy or next(
        (p for p in analysis.policies if p in found and found[p].result is not None), None)
    if policy is None:
        print("no policy has failures to search: no EMA comparison")
        return
    discovery = found.get(policy) or analysis.failures(policy)
    X, y = analysis.X, discovery.flags
    if ema_rows is not None and ema_rows < len(y):
        # EMA's PRIM needs more than 24 GiB on 1,000,000 x 121 (killed by the OOM killer on the
        # development machine): compare on the run's first rows instead.
        X, y = X.iloc[:ema_rows], y[:ema_rows]
    print(f"PRIM on real data: {policy}'s failure conditions, {len(y):,} futures x "
          f"{X.shape[1]} parameters, {y.mean():.1%} of interest")
    compare_with_ema(X, y, time_ema(X, y, thresholded=False))
    print(f"peak memory (max RSS): {peak_gib():.2f} GiB")


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--rows", type=int, default=1_000_000)
    parser.add_argument("-d", "--columns", type=int, default=20)
    parser.add_argument("--skip-ema", action="store_true", help="do not run EMA's PRIM")
    parser.add_argument("--skip-sensitivity", action="store_true")
    real = parser.add_mutually_exclusive_group()
    real.add_argument("--run", type=Path, metavar="DIR",
                      help="time the analysis of this run folder instead of synthetic data")
    real.add_argument("--make-run", type=int, metavar="N",
                      help="make a kursk-2024 run of N futures (temporary folder), then time "
                      "its analysis")
    parser.add_argument("--workers", type=int, default=2, help="processes for --make-run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the folder --make-run makes (its path is printed)")
    parser.add_argument("--ema-rows", type=int, default=None,
                        help="compare with EMA's PRIM on the run's first N futures only (EMA "
                        "needs more than 24 GiB for 1,000,000 x 121)")
    parser.add_argument("--ema-policy", help="the policy whose failures EMA's PRIM searches "
                        "(default: the first with failures to search)")
    args = parser.parse_args()

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"os.cpu_count() = {os.cpu_count()}, load average {load} (other jobs running if "
          f"well above 0)")
    if args.run is not None:
        analyse_run(args.run, args.skip_ema, args.ema_policy, args.ema_rows)
        return
    if args.make_run is not None:
        parent = Path(tempfile.mkdtemp(prefix="offramp-analysis-bench-"))
        folder = parent / "run"
        try:
            seconds = make_run(args.make_run, args.workers, folder)
            print(f"made the run: kursk-2024, {args.make_run:,} futures, {args.workers} worker "
                  f"processes: {seconds:.1f} s (not part of the analysis) -> {folder}")
            analyse_run(folder, args.skip_ema, args.ema_policy, args.ema_rows)
        finally:
            if args.keep:
                print(f"kept {folder}")
            else:
                import shutil

                shutil.rmtree(parent, ignore_errors=True)
        return
    X, y = planted_box(args.rows, args.columns)
    print(f"data: {args.rows:,} rows x {args.columns} columns, {y.mean():.1%} of interest, "
          f"{X.memory_usage().sum() / 2**20:,.0f} MiB")

    start = time.perf_counter()
    result = prim(X, y)
    ours = time.perf_counter() - start
    box = result.boxes[0]
    print(f"offramp prim: {ours:.2f} s, {len(result.tradeoff)} peeling steps; chosen box "
          f"(density >= 0.8): {box.describe('y')}")
    print(f"peak memory so far (max RSS, data included): {peak_gib():.2f} GiB")

    if not args.skip_ema:
        compare_with_ema(X, y, time_ema(X, y), ours=(result, ours))

    if not args.skip_sensitivity:
        start = time.perf_counter()
        table = sensitivity(X, y.astype(float), method="pawn")
        seconds = time.perf_counter() - start
        top = ", ".join(f"{name} {value:.3f}" for name, value in table["importance"][:3].items())
        print(f"sensitivity (PAWN, default sub-sample of 100,000 rows): {seconds:.2f} s; "
              f"top: {top}")
    print(f"peak memory (max RSS): {peak_gib():.2f} GiB")


if __name__ == "__main__":
    main()
