"""What a worker process needs before its first chunk, made ready once in the fork server that
forks the workers (`executors.worker_context` imports this module there).

Importing it imports what a chunk runs (`runner.run_chunk` and all below it) and loads the
engine's compiled kernels from Numba's cache by running the built-in scenario's policies on a
few futures; every worker forked afterwards starts with both in memory instead of loading them
itself (~2.5 s of imports and ~0.6 s of kernels a worker). A scenario that calls other kernel
variants (other options) loads those in the worker, as before.
"""

from __future__ import annotations

import contextlib

from offramp.engine.noise import compiled_kernels_enabled
from offramp.experiments.runner import run_chunk  # noqa: F401 - what the workers call
from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import run_policies
from offramp.scenario.loader import load_scenario

BUILT_IN_SCENARIO = "kursk-2024"
WARM_UP_FUTURES = 64


def load_kernels(scenario_name: str = BUILT_IN_SCENARIO) -> None:
    """Run every policy of the scenario on a few futures: the compiled kernels they call are
    then loaded in this process (the draws' too, which small chunks otherwise make in NumPy)."""
    compiled_kernels_enabled()
    scenario = load_scenario(scenario_name).scenario
    futures = sample_futures(scenario, WARM_UP_FUTURES, seed=0)
    run_policies(scenario, futures, list(scenario.policies))


# a head start only: if it fails, the workers load what they need themselves
with contextlib.suppress(Exception):
    load_kernels()
