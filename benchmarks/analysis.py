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
Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import warnings

import numpy as np
import pandas as pd

from offramp.analysis import discovery as discovery_module
from offramp.analysis import prim, sensitivity

TARGET_RATIO = 10.0


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


def time_ema(X: pd.DataFrame, y: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import ema_workbench
            from ema_workbench.analysis import prim as ema_prim
            from ema_workbench.analysis import scenario_discovery_util as sdutil
        except ImportError:
            return None
        start = time.perf_counter()
        box = ema_prim.Prim(X, y.astype(int), threshold=0.8).find_box()
        seconds = time.perf_counter() - start
    lims = box.box_lims[-1]
    restricted = sdutil._determine_restricted_dims(lims, box.prim.box_init)
    limits = {name: tuple(float(v) for v in lims[name]) for name in restricted}
    return ema_workbench.__version__, seconds, box, limits


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--rows", type=int, default=1_000_000)
    parser.add_argument("-d", "--columns", type=int, default=20)
    parser.add_argument("--skip-ema", action="store_true", help="do not run EMA's PRIM")
    parser.add_argument("--skip-sensitivity", action="store_true")
    args = parser.parse_args()

    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"os.cpu_count() = {os.cpu_count()}")
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
        timed = time_ema(X, y)
        if timed is None:
            print("EMA Workbench not installed (pip install ema_workbench): no comparison")
        else:
            version, theirs, ema_box, ema_limits = timed
            ratio = theirs / ours
            trajectory = ema_box.peeling_trajectory
            n_peels = len(result.tradeoff)
            same_curve = np.array_equal(result.tradeoff["density"].to_numpy(float),
                                        trajectory["density"].to_numpy(float)[:n_peels])
            same_box = last_peel_pasted(X, y) == ema_limits
            verdict = "meets" if ratio >= TARGET_RATIO else "misses"
            print(f"EMA Workbench {version} Prim.find_box: {theirs:.2f} s")
            print(f"ratio EMA / offramp: {ratio:.1f}x ({verdict} the {TARGET_RATIO:.0f}x target)")
            print(f"same peeling trajectory: {same_curve}; same box (EMA's last peel, pasted): "
                  f"{same_box} {ema_limits}")

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
