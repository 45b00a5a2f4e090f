"""Futures: one draw of every uncertain parameter, by Monte Carlo, Latin hypercube or Sobol.

The design is made once per run over all futures (it is a global design: a Latin hypercube of
10,000 rows is not ten of 1,000), then stored; chunks slice it. Uniform numbers in [0, 1) come
from SciPy's samplers and are mapped through each parameter's inverse CDF.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import qmc

from offramp.errors import UserError
from offramp.scenario.walk import scenario_parameters

Sampler = Literal["lhs", "mc", "sobol"]
SAMPLERS: tuple[str, ...] = ("lhs", "mc", "sobol")


def uniform_design(n_futures: int, n_dims: int, seed: int, sampler: Sampler) -> np.ndarray:
    """An (n_futures, n_dims) array of numbers in [0, 1)."""
    if n_futures < 1:
        raise UserError(f"the number of futures must be at least 1, found {n_futures}")
    if n_dims == 0:
        return np.empty((n_futures, 0))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if sampler == "mc":
        return rng.random((n_futures, n_dims))
    if sampler == "lhs":
        return qmc.LatinHypercube(d=n_dims, rng=rng).random(n_futures)
    if sampler == "sobol":
        # Scrambled Sobol' points keep their balance properties only in powers of two; SciPy
        # warns otherwise, which is the user's informed choice here.
        engine = qmc.Sobol(d=n_dims, scramble=True, rng=rng)
        return engine.random(n_futures)
    raise UserError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")


def sample_futures(scenario, n_futures: int, seed: int, sampler: Sampler = "lhs") -> pd.DataFrame:
    """One row per future, one column per parameter path (fixed parameters included)."""
    params = scenario_parameters(scenario)
    uncertain = [path for path, p in params.items() if p.is_uncertain]
    design = uniform_design(n_futures, len(uncertain), seed, sampler)
    columns: dict[str, np.ndarray] = {}
    column_of = {path: i for i, path in enumerate(uncertain)}
    for path, param in params.items():
        if path in column_of:
            columns[path] = np.asarray(param.ppf(design[:, column_of[path]]), dtype=float)
        else:
            columns[path] = np.full(n_futures, param.ppf(np.zeros(1))[0], dtype=float)
    frame = pd.DataFrame(columns)
    frame.index.name = "future"
    return frame
