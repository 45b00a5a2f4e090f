"""Cost of `offramp condition` on a run folder made with --series: 30 observations (six weekly
series at five weeks from 2 to 18, each the value of one future's trajectory under as-happened
with an error of half the series' spread that week), conditioned --under as-happened. Reports
wall seconds, CPU-seconds and the process's peak resident memory (it includes Python, NumPy,
pandas and pyarrow). Not a test.

    .venv/bin/offramp run kursk-2024 --futures 100000 --series --workers 2 --no-report \
        --out runs/c100k
    .venv/bin/python benchmarks/conditioning.py runs/c100k
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from offramp.store import RunStore
from offramp.studies.conditioning import condition

SERIES = ("salient_km2", "a_territory_share", "support_a", "support_b", "talks_open",
          "ladder_rung")
WEEKS = (2, 6, 10, 14, 18)
SOURCE = "Benchmark (2030-01-01) synthetic observation: one future's value"


def observations(run_dir: Path, future: int = 17) -> list[dict]:
    """30 observations from one future's trajectory (read before the timing starts)."""
    series = RunStore.open(run_dir).read_series(list(SERIES), list(WEEKS))
    series = series[series["policy"] == "as-happened"]
    rows = []
    for week in WEEKS:
        at_week = series[series["week"] == week]
        mine = at_week[at_week["future"] == future]
        for name in SERIES:
            spread = float(np.nan_to_num(at_week[name].std(ddof=0)))
            rows.append({"week": week, "series": name, "value": float(mine[name].iloc[0]),
                         "sd": max(spread / 2, 1e-3), "source": SOURCE})
    return rows


def main(run_dir: str) -> None:
    root = Path(run_dir)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "observations.yaml"
        path.write_text(yaml.safe_dump({"observations": observations(root)}, sort_keys=False))
        store = RunStore.open(root)
        started, cpu_start = time.perf_counter(), time.process_time()
        found = condition(store, path, under="as-happened")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    rows = len(found.weights)
    print(f"{run_dir}: {store.manifest['n_futures']:,} futures x "
          f"{len(store.manifest['policies'])} policies ({rows:,} rows), "
          f"{len(found.observations)} observations, --under as-happened")
    print(f"  condition: {wall:.1f} s wall, {cpu:.1f} CPU-s; peak resident memory of the "
          f"process {peak_gib:.2f} GiB; effective sample size {found.ess['as-happened']:,.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
