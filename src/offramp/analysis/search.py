"""The arithmetic of a policy search: robustness statistics over futures, Pareto fronts and
hypervolume, on plain arrays (`offramp.studies.search` runs the search).

Objectives are minimized internally: a statistic to maximize enters negated (`as_minimized`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
PERCENTILES = {"median": 50.0, "p10": 10.0, "p90": 90.0}


def statistic(values: FloatArray, name: str, best: FloatArray | None = None,
              larger_is_better: bool = True) -> float:
    """One robustness statistic of an outcome over futures (NaN values left out).

    `regret` is the mean shortfall from `best` (per future, the best value of a reference set
    of policies; larger or smaller is better as `larger_is_better` says).

    >>> statistic(np.array([1.0, 2.0, 3.0, np.nan]), "mean")
    2.0
    >>> statistic(np.array([1.0, 3.0]), "regret", best=np.array([2.0, 3.0]))
    0.5
    """
    if name == "regret":
        if best is None:
            raise ValueError("regret needs the best value per future")
        shortfall = best - values if larger_is_better else values - best
        return float(np.nanmean(np.maximum(shortfall, 0.0)))
    if name == "mean":
        return float(np.nanmean(values))
    if name in PERCENTILES:
        return float(np.nanpercentile(values, PERCENTILES[name]))
    raise ValueError(f"unknown statistic {name!r}")


def as_minimized(values: FloatArray, goals: Sequence[str]) -> FloatArray:
    """(candidates, objectives) values with every `max` column negated: all to minimize."""
    signs = np.array([-1.0 if goal == "max" else 1.0 for goal in goals])
    result: FloatArray = np.asarray(values, dtype=float) * signs
    return result


def pareto_front(minimized: FloatArray) -> npt.NDArray[np.bool_]:
    """Which rows no other row dominates (no worse in every column, better in one).

    >>> pareto_front(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])).tolist()
    [True, True, False]
    """
    values = np.asarray(minimized, dtype=float)
    no_worse = (values[:, None, :] <= values[None, :, :]).all(axis=2)
    better = (values[:, None, :] < values[None, :, :]).any(axis=2)
    dominates = no_worse & better  # [i, j]: row i dominates row j
    return np.asarray(~dominates.any(axis=0), dtype=bool)


def dominated_by(minimized: FloatArray, row: FloatArray) -> npt.NDArray[np.bool_]:
    """Which rows of `minimized` dominate `row`."""
    values = np.asarray(minimized, dtype=float)
    return np.asarray((values <= row).all(axis=1) & (values < row).any(axis=1), dtype=bool)


def hypervolume(minimized: FloatArray, reference: FloatArray) -> float:
    """The volume of objective space the points dominate up to `reference` (all minimized);
    pymoo's exact algorithm. Points not better than the reference in every column add nothing.

    >>> hypervolume(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([2.0, 2.0]))
    3.0
    """
    from pymoo.indicators.hv import HV

    values = np.asarray(minimized, dtype=float)
    inside = (values < reference).all(axis=1)
    if not inside.any():
        return 0.0
    return float(HV(ref_point=np.asarray(reference, dtype=float))(values[inside]))
