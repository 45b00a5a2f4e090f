"""Conditioning an ensemble on observations: importance weights (Bayesian, with a Gaussian or
interval observation error), ABC-style rejection, their effective sample size, weighted
summaries, and proper scores of held-out observations.

Plain arrays in and out. Each simulated array holds one observed quantity across the ensemble's
members (future × policy rows); an observation is its value with a Gaussian error `sd`, or an
interval [low, high] claimed and nothing more. References: Beaumont (2010) Approximate Bayesian
computation in evolution and ecology; Vernon, Goldstein & Bower (2010) Galaxy formation: a
Bayesian uncertainty analysis (history matching, implausibility); Kish (1965) for the effective
sample size; Gneiting & Raftery (2007) Strictly proper scoring rules (log score, CRPS).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import logsumexp

IMPLAUSIBLE_Z = 3.0
"""A member more than this many observation errors from a Gaussian observation is implausible
under it (Pukelsheim's three-sigma rule, as history matching uses it: Vernon et al. 2010)."""

FloatArray = npt.NDArray[np.float64]


def log_likelihood(simulated: FloatArray, value: float, sd: float, low: float,
                   high: float) -> FloatArray:
    """Log-likelihood of one observation for each member.

    A Gaussian observation (`sd` > 0) gives log N(value; simulated, sd); an interval (`sd` NaN)
    gives 0 inside [low, high] and -inf outside. A member with no simulated value (NaN) is
    ruled out.

    >>> log_likelihood(np.array([1.0, 3.0]), 1.0, 1.0, -np.inf, np.inf).round(3).tolist()
    [-0.919, -2.919]
    >>> log_likelihood(np.array([0.0, 1.0]), 0.0, math.nan, 0.0, 0.0).tolist()
    [0.0, -inf]
    """
    if math.isnan(sd):
        inside = (simulated >= low) & (simulated <= high)
        return np.where(inside, 0.0, -np.inf)
    z = (simulated - value) / sd
    found = -0.5 * z * z - math.log(sd * math.sqrt(2 * math.pi))
    return np.where(np.isnan(simulated), -np.inf, found)


def implausible(simulated: FloatArray, value: float, sd: float, low: float,
                high: float) -> npt.NDArray[np.bool_]:
    """Members the observation rules out: outside its interval, or more than IMPLAUSIBLE_Z
    errors from its value.

    >>> implausible(np.array([0.0, 2.0, 5.0]), 1.0, 1.0, -np.inf, np.inf).tolist()
    [False, False, True]
    """
    if math.isnan(sd):
        return ~((simulated >= low) & (simulated <= high))
    with np.errstate(invalid="ignore"):
        return ~(np.abs(simulated - value) <= IMPLAUSIBLE_Z * sd)


def normalized_weights(log_likelihood: FloatArray) -> FloatArray:
    """Weights proportional to exp(log_likelihood), summing to 1 (all 0 if every member is
    ruled out).

    >>> normalized_weights(np.array([0.0, np.log(3.0), -np.inf])).round(2).tolist()
    [0.25, 0.75, 0.0]
    """
    if not np.isfinite(log_likelihood).any():
        return np.zeros_like(log_likelihood)
    return np.exp(log_likelihood - logsumexp(log_likelihood))


def effective_sample_size(weights: FloatArray) -> float:
    """Kish's effective sample size (Σw)² / Σw²: how many equally weighted members the weights
    are worth (0 when every weight is 0).

    >>> effective_sample_size(np.array([0.25, 0.25, 0.25, 0.25]))
    4.0
    >>> effective_sample_size(np.array([1.0, 0.0, 0.0]))
    1.0
    """
    total, squares = float(weights.sum()), float((weights * weights).sum())
    return total * total / squares if squares > 0 else 0.0


def systematic_resample(weights: FloatArray, n: int, seed: int) -> np.ndarray:
    """`n` member indices drawn in proportion to `weights` by systematic resampling (one
    uniform offset, then n evenly spaced points on the cumulative weights: Kitagawa 1996; less
    resampling noise than n independent draws), sorted; the offset is a function of `seed`.

    >>> systematic_resample(np.array([0.5, 0.0, 0.25, 0.25]), 4, seed=1).tolist()
    [0, 0, 2, 3]
    """
    total = float(weights.sum())
    if not (n >= 1 and total > 0 and np.isfinite(total)):
        raise ValueError("resampling needs n >= 1 and weights with a positive finite sum")
    offset = np.random.default_rng(np.random.SeedSequence(seed)).random()
    points = (np.arange(n) + offset) / n
    cumulative = np.cumsum(weights / total)
    cumulative[-1] = 1.0  # rounding must not leave the last points beyond the end
    return np.searchsorted(cumulative, points, side="right")


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """The q-quantile of `values` under `weights` (the smallest value whose cumulative weight
    reaches q; NaN values and zero weights left out).

    >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.2, 0.2, 0.6]), 0.5)
    3.0
    """
    keep = ~np.isnan(values) & (weights > 0)
    values, weights = values[keep], weights[keep]
    if not len(values):
        return math.nan
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    at = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
    return float(values[order][min(at, len(values) - 1)])


def log_score(simulated: FloatArray, weights: FloatArray, value: float, sd: float, low: float,
              high: float) -> float:
    """Log predictive score of an observation under a weighted ensemble (higher is better).

    Gaussian: the log density of `value` under the ensemble's members each blurred by the
    observation error, log Σ w N(value; x, sd). Interval: the log of the weight the ensemble
    puts inside it (-inf if none).

    >>> round(log_score(np.array([0.0, 10.0]), np.array([0.5, 0.5]), 0.0, 1.0, -np.inf, np.inf), 3)
    -1.612
    """
    keep = ~np.isnan(simulated) & (weights > 0)
    simulated, weights = simulated[keep], weights[keep] / max(float(weights[keep].sum()), 1e-300)
    if not len(simulated):
        return -math.inf
    if math.isnan(sd):
        inside = float(weights[(simulated >= low) & (simulated <= high)].sum())
        return math.log(inside) if inside > 0 else -math.inf
    density = log_likelihood(simulated, value, sd, low, high)
    return float(logsumexp(density, b=weights))


def crps(simulated: FloatArray, weights: FloatArray, value: float) -> float:
    """Continuous ranked probability score of `value` under a weighted ensemble (lower is
    better; in the series' unit): E|X − y| − ½ E|X − X'| (Gneiting & Raftery 2007), in
    O(n log n) by sorting.

    >>> crps(np.array([0.0, 1.0]), np.array([0.5, 0.5]), 0.0)
    0.25
    """
    keep = ~np.isnan(simulated) & (weights > 0)
    x, w = simulated[keep], weights[keep]
    if not len(x):
        return math.nan
    w = w / w.sum()
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    below_weight = np.cumsum(w) - w  # Σ_{j<i} w_j
    below_sum = np.cumsum(w * x) - w * x  # Σ_{j<i} w_j x_j
    spread = 2.0 * float(np.sum(w * (x * below_weight - below_sum)))  # Σ_i Σ_j w_i w_j |x_i - x_j|
    return float(np.sum(w * np.abs(x - value))) - 0.5 * spread
