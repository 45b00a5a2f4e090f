"""Where `offramp run` spends its CPU, stage by stage, measured in the command's own process.

    .venv/bin/python benchmarks/command_stages.py                 # 1,000,000 futures
    .venv/bin/python benchmarks/command_stages.py -n 250000 --repeat 3

Runs `offramp run kursk-2024 --futures N --workers 1 --no-report` in a child process whose
stages are timed by the process's CPU clock (user + system, `getrusage`) on entry and exit:
imports, sampling the futures, writing the futures table (the run store's creation), the
engine (`run_policies`: every policy on every chunk), the chunks' outcome tables, writing them,
joining them, and the policy table printed at the end (`compare_policies`); "other" is the
rest. A dozen calls a chunk are timed, so the timing costs nothing measurable (a profiler
cost ~10-30% here, most of it on Python-heavy stages, and system time on its clock reads).
`--repeat` runs the command several times, one after the other (the machine is shared: a
stage's spread between runs is its noise). Not a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

# The child: wraps the stages' functions with a CPU timer, then runs the command's `main`.
CHILD = r'''
import functools, resource, sys
from collections import defaultdict

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

spent = defaultdict(float)
start = cpu()
import offramp.cli  # noqa: F401  (what the command imports before it runs)
spent["imports"] = cpu() - start
from offramp.experiments import runner, simulate
from offramp.store import run_store
from offramp.studies import summary

def timed(owner, name, stage):
    function = getattr(owner, name)
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        began = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] += cpu() - began
    setattr(owner, name, wrapper)

timed(runner, "sample_futures", "sampling")
timed(run_store.RunStore, "create", "futures table")
timed(simulate, "run_policies", "engine")
timed(runner, "run_chunk", "outcome tables")
timed(run_store.RunStore, "save_chunk", "writing chunks")
timed(run_store.RunStore, "finish", "joining chunks")
timed(summary, "compare_policies", "policy table")
sys.argv = ["offramp", "run", "kursk-2024", "--futures", sys.argv[1], "--workers", "1",
            "--no-report", "--out", sys.argv[2]]
from offramp.cli.app import main
try:
    main()
except SystemExit:
    pass
total = cpu() - start
spent["outcome tables"] -= spent["engine"]  # run_chunk calls run_policies
spent["other"] = total - sum(spent.values())
spent["total"] = total
print(" | ".join(f"{stage} {seconds:.1f}" for stage, seconds in spent.items()),
      file=sys.stderr)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--futures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"offramp run kursk-2024 --futures {args.futures:,} --workers 1 --no-report, "
          "CPU-seconds by stage:")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            child = subprocess.run([sys.executable, "-c", CHILD, str(args.futures),
                                    str(Path(folder) / "run")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, check=False)
        if child.returncode != 0:
            sys.exit(f"the command failed ({child.returncode}):\n{child.stderr}")
        print("  " + child.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
