"""Which of a scenario's uncertain parameters move its headline outcome most, before any run:
a quick screening for `offramp explain` (PAWN on a small Latin hypercube, every default policy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from offramp.analysis.sensitivity import sensitivity
from offramp.experiments.sampling import sample_futures, uncertain_parameters
from offramp.experiments.simulate import run_futures
from offramp.scenario.schema import Scenario

SCREENING_FUTURES = 1_000
"""Enough for PAWN to order the leading parameters (its ranking of the top ones is stable well
below this); small enough that `explain` answers in a few seconds."""


def influential_parameters(scenario: Scenario, top: int = 20, outcome: str = "a_territory_share",
                           n_futures: int = SCREENING_FUTURES, seed: int = 0) -> pd.Series:
    """The `top` uncertain parameters by PAWN importance on `outcome`, averaged over the
    scenario's default policies (largest first; empty when nothing is uncertain)."""
    names = uncertain_parameters(scenario)
    if not names:
        return pd.Series(dtype=float)
    futures = sample_futures(scenario, n_futures, seed)
    rankings = []
    for policy in scenario.default_policies:
        outcomes = run_futures(scenario, futures, policy, seed=seed).outcomes
        y = np.asarray(outcomes[outcome], dtype=float)
        if np.ptp(y) > 0:
            rankings.append(sensitivity(futures[names], y, method="pawn", seed=seed)["importance"])
    if not rankings:
        return pd.Series(dtype=float)
    mean = pd.concat(rankings, axis=1).mean(axis=1)
    return mean.sort_values(ascending=False, kind="stable").head(top)
