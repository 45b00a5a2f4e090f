"""Fitting Lanchester laws to daily battle data.

Two formulations, chosen by what the record contains:

* **observed-forces** (both sides' strength recorded every day, e.g. the Ardennes tables):
  each day's losses are predicted from that day's recorded start-of-day forces,
  loss_blue[t] ~ a R[t]^q B[t]^p. Errors in one day do not propagate, and days are exchangeable,
  so the bootstrap resamples days. This is the "same-day forces" set-up of Bracken and Fricker.
* **simulated** (a side's strength is recorded only now and then, e.g. the Japanese on Iwo Jima):
  the daily recurrence is integrated from the first day with the recorded reinforcements, and
  simulated losses are compared with recorded losses. A side whose losses are not recorded is
  fitted through its recorded strengths instead; such a residual spans k days of losses, so it is
  divided by sqrt(k) — the weight k daily residuals of equal variance would have. Days are not
  exchangeable along a trajectory, so the bootstrap resamples residuals.

Estimation is nonlinear least squares (scipy.optimize.least_squares) on the coefficients' logs
(they are positive and span orders of magnitude) and on q, p for the generalized law, with the
forces divided by one common scale so the problem is well conditioned; a/b is unaffected by
that scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from offramp.calibration.datasets import BattleSeries
from offramp.calibration.laws import (
    LAW_EXPONENTS,
    LAW_NAMES,
    LawParameters,
    attrition_rates,
    daily_losses,
    simulate_daily,
)

FloatArray = NDArray[np.float64]

FORMULATIONS: tuple[str, ...] = ("observed-forces", "simulated")

#: Range allowed for q and p in the generalized fit. Outside [0, 2] an exponent would mean that a
#: bigger force suffers fewer losses or inflicts more than quadratically many; neither has an
#: attrition reading, and the Ardennes data cannot pin the exponents down without a box.
EXPONENT_BOUNDS: tuple[float, float] = (0.0, 2.0)

#: Starting exponents for the generalized fit (the named laws' corners), because the surface in
#: (q, p) is flat along ridges and a single start can stop on the wrong side of one.
_GENERALIZED_STARTS: tuple[tuple[float, float], ...] = ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0))

PARAMETER_NAMES: tuple[str, ...] = ("a", "b", "q", "p", "a/b")


@dataclass(frozen=True)
class _Problem:
    """Everything the optimiser needs: observations, their weights, and a prediction function."""

    observed: FloatArray
    weights: FloatArray
    groups: NDArray[np.str_]
    days: FloatArray
    predict: Callable[[LawParameters], FloatArray]
    force_scale: float
    proxy: tuple[FloatArray, FloatArray, FloatArray, FloatArray]


@dataclass(frozen=True)
class FitResult:
    """One law fitted to one series, with bootstrap intervals when requested.

    `estimates` holds a, b (per day, in force units), q, p and a/b. `intervals` maps the same
    names to (low, high) percentile bounds, empty without a bootstrap. `sse` is the minimised sum
    of squared (weighted) residuals; `r_squared` = 1 - SSE/SST with SST the scatter of each
    observed series around its own mean, so 0 means "no better than a constant daily loss per
    side" and it can be negative. `aic` = n log(SSE/n) + 2k penalises the generalized law's two
    extra parameters. `rank` (1 = best SSE) is set by `rank_fits`.
    """

    dataset: str
    law: str
    formulation: str
    parameters: LawParameters
    free_parameters: tuple[str, ...]
    sse: float
    r_squared: float
    aic: float
    observations: int
    residual_days: FloatArray
    residual_groups: NDArray[np.str_]
    observed: FloatArray
    predicted: FloatArray
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap_replicates: int = 0
    confidence_level: float = 0.95
    rank: int | None = None

    @property
    def estimates(self) -> dict[str, float]:
        """a, b, q, p and a/b as a name -> value mapping (display order of PARAMETER_NAMES)."""
        return _estimates(self.parameters)

    @property
    def residuals(self) -> FloatArray:
        """observed - predicted, unweighted, aligned with `residual_days` and `residual_groups`."""
        return self.observed - self.predicted


@dataclass(frozen=True)
class LogLinearRegression:
    """Ordinary least squares of y = slope * x + intercept on log-transformed Lanchester data.

    For the ratio form (Fricker 1998), slope = q - p and alpha = exp(intercept) = a/b; for the
    product form, slope = q + p and alpha = a*b.
    """

    slope: float
    intercept: float
    r_squared: float
    days_used: int

    @property
    def alpha(self) -> float:
        """exp(intercept): a/b for the ratio form, a*b for the product form."""
        return float(np.exp(self.intercept))


def _estimates(parameters: LawParameters) -> dict[str, float]:
    return {
        "a": parameters.blue_loss_coefficient,
        "b": parameters.red_loss_coefficient,
        "q": parameters.opponent_exponent,
        "p": parameters.own_exponent,
        "a/b": parameters.effectiveness_ratio,
    }


def _force_scale(series: BattleSeries) -> float:
    """Geometric mean of the recorded positive forces: one scale for both sides keeps a/b
    unchanged while bringing scaled forces near 1."""
    forces = np.concatenate((series.blue_force, series.red_force))
    forces = forces[np.isfinite(forces) & (forces > 0)]
    if forces.size == 0:
        raise ValueError(f"{series.name}: no positive force recorded")
    return float(np.exp(np.mean(np.log(forces))))


def choose_formulation(series: BattleSeries) -> str:
    """'observed-forces' when both strengths are recorded every day, else 'simulated'."""
    return "observed-forces" if series.forces_observed else "simulated"


def _proxy_trajectory(
    series: BattleSeries,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(blue force, red force, blue loss, red loss) with every gap filled: forces interpolated
    linearly in time between records (flat beyond them), unrecorded losses read off the fall in
    the interpolated force. Only used to find a starting point for the optimiser."""
    forces, losses = [], []
    for side in ("blue", "red"):
        force = getattr(series, f"{side}_force")
        known = np.isfinite(force)
        force = np.interp(series.day, series.day[known], force[known])
        loss = getattr(series, f"{side}_loss").copy()
        arrivals = np.nan_to_num(getattr(series, f"{side}_reinforcement"), nan=0.0)
        fall = np.append(force[:-1] + arrivals[:-1] - force[1:], np.nan)
        gaps = ~np.isfinite(loss)
        loss[gaps] = np.clip(fall[gaps], 0.0, None)
        forces.append(force)
        losses.append(loss)
    return forces[0], forces[1], losses[0], losses[1]


def _observed_forces_problem(series: BattleSeries, day_index: NDArray[np.int_]) -> _Problem:
    """Losses predicted from recorded same-day forces, on the days in `day_index` (repeats
    allowed, which is how the days bootstrap resamples)."""
    blue_force = series.blue_force[day_index]
    red_force = series.red_force[day_index]
    blue_loss = series.blue_loss[day_index]
    red_loss = series.red_loss[day_index]
    blue_arrivals = series.blue_reinforcement[day_index]
    red_arrivals = series.red_reinforcement[day_index]
    usable = np.isfinite(blue_force) & np.isfinite(red_force)
    blue_kept = usable & np.isfinite(blue_loss)
    red_kept = usable & np.isfinite(red_loss)
    if not (np.any(blue_kept) and np.any(red_kept)):
        raise ValueError(f"{series.name}: needs recorded losses of both sides on some day")

    def predict(parameters: LawParameters) -> FloatArray:
        blue_rate, red_rate = daily_losses(
            blue_force, red_force, blue_arrivals, red_arrivals, parameters
        )
        return np.concatenate((blue_rate[blue_kept], red_rate[red_kept]))

    observed = np.concatenate((blue_loss[blue_kept], red_loss[red_kept]))
    days = series.day[day_index]
    return _Problem(
        observed=observed,
        weights=np.ones(observed.size),
        groups=np.array(
            [f"{series.blue_label} losses"] * int(blue_kept.sum())
            + [f"{series.red_label} losses"] * int(red_kept.sum())
        ),
        days=np.concatenate((days[blue_kept], days[red_kept])),
        predict=predict,
        force_scale=_force_scale(series),
        proxy=(blue_force, red_force, blue_loss, red_loss),
    )


def _simulated_problem(series: BattleSeries) -> _Problem:
    """Losses (and, for a side without recorded losses, strengths) along the integrated
    trajectory that starts from the first day's recorded forces."""
    initial_blue, initial_red = series.blue_force[0], series.red_force[0]
    if not (np.isfinite(initial_blue) and np.isfinite(initial_red)):
        raise ValueError(f"{series.name}: the simulated fit needs both forces on the first day")
    elapsed = series.day - series.day[0]
    # (side, day indices, "loss" or "force", observed values, weights, group label)
    pieces: list[tuple[str, NDArray[np.int_], str, FloatArray, FloatArray, str]] = []
    for side, label in (("blue", series.blue_label), ("red", series.red_label)):
        loss = getattr(series, f"{side}_loss")
        force = getattr(series, f"{side}_force")
        loss_days = np.flatnonzero(np.isfinite(loss))
        if loss_days.size:
            pieces.append(
                (
                    side,
                    loss_days,
                    "loss",
                    loss[loss_days],
                    np.ones(loss_days.size),
                    f"{label} losses",
                )
            )
            continue
        force_days = np.flatnonzero(np.isfinite(force) & (elapsed > 0))
        if force_days.size:
            weights = 1.0 / np.sqrt(elapsed[force_days])
            pieces.append(
                (side, force_days, "force", force[force_days], weights, f"{label} strength")
            )
    if not pieces:
        raise ValueError(f"{series.name}: nothing recorded to fit after the first day")

    def predict(parameters: LawParameters) -> FloatArray:
        blue_force, red_force, blue_loss, red_loss = simulate_daily(
            float(initial_blue),
            float(initial_red),
            series.blue_reinforcement,
            series.red_reinforcement,
            parameters,
        )
        simulated = {
            ("blue", "loss"): blue_loss,
            ("red", "loss"): red_loss,
            ("blue", "force"): blue_force,
            ("red", "force"): red_force,
        }
        return np.concatenate([simulated[piece[0], piece[2]][piece[1]] for piece in pieces])

    return _Problem(
        observed=np.concatenate([piece[3] for piece in pieces]),
        weights=np.concatenate([piece[4] for piece in pieces]),
        groups=np.concatenate([np.full(piece[1].size, piece[5]) for piece in pieces]),
        days=np.concatenate([series.day[piece[1]] for piece in pieces]),
        predict=predict,
        force_scale=_force_scale(series),
        proxy=_proxy_trajectory(series),
    )


def _build_problem(series: BattleSeries, formulation: str) -> _Problem:
    if formulation == "observed-forces":
        return _observed_forces_problem(series, np.arange(len(series)))
    if formulation == "simulated":
        return _simulated_problem(series)
    raise ValueError(f"unknown formulation {formulation!r}; known: {', '.join(FORMULATIONS)}")


def _to_parameters(
    theta: FloatArray, fixed: tuple[float, float] | None, scale: float
) -> LawParameters:
    """Optimiser vector -> law parameters. theta = (log a', log b'[, q, p]) where a' and b' are
    the coefficients for forces measured in units of `scale`."""
    q, p = fixed if fixed is not None else (float(theta[2]), float(theta[3]))
    unit = scale ** (-(q + p))
    return LawParameters(
        blue_loss_coefficient=float(np.exp(theta[0])) * scale * unit,
        red_loss_coefficient=float(np.exp(theta[1])) * scale * unit,
        opponent_exponent=q,
        own_exponent=p,
    )


def _residuals(
    theta: FloatArray, problem: _Problem, fixed: tuple[float, float] | None
) -> FloatArray:
    predicted = problem.predict(_to_parameters(theta, fixed, problem.force_scale))
    return problem.weights * (problem.observed - predicted)


def _starting_point(problem: _Problem, exponents: tuple[float, float]) -> FloatArray:
    """Exact least-squares coefficients for fixed (q, p) on the proxy trajectory.

    With the exponents fixed the law is linear in a and b, so a = sum(x*y)/sum(x*x) with
    x = R^q B^p (forces in units of the scale); on observed forces this *is* the answer, on a
    simulated trajectory it is a close start.
    """
    blue_force, red_force, blue_loss, red_loss = problem.proxy
    scale = problem.force_scale
    unit = LawParameters(1.0, 1.0, *exponents)
    blue_x, red_x = attrition_rates(blue_force / scale, red_force / scale, unit)
    theta = []
    for x, loss in ((blue_x, blue_loss / scale), (red_x, red_loss / scale)):
        kept = np.isfinite(x) & np.isfinite(loss) & (x > 0)
        numerator = float(np.sum(x[kept] * loss[kept]))
        denominator = float(np.sum(x[kept] ** 2))
        if numerator > 0 and denominator > 0:
            theta.append(np.log(numerator / denominator))
        else:
            theta.append(np.log(max(float(np.nanmean(loss)), 1e-12)))
    return np.array([*theta, *exponents])


def _solve(
    problem: _Problem, fixed: tuple[float, float] | None, starts: Sequence[FloatArray]
) -> tuple[FloatArray, float]:
    """Best least-squares solution over the starting points: (theta, SSE).

    The generalized law uses the 'dogbox' method because it can sit exactly on an exponent
    bound: p = 0 is not a limit of p > 0 when a force is zero (0**0 = 1 but 0**p = 0), which
    matters on Iwo Jima's D-day, and 'trf' only visits the interior of the box.
    """
    best_theta: FloatArray | None = None
    best_cost = np.inf
    low, high = EXPONENT_BOUNDS
    lower: FloatArray | float
    upper: FloatArray | float
    method: Literal["trf", "dogbox"]
    for start in starts:
        if fixed is None:
            lower = np.array([-np.inf, -np.inf, low, low])
            upper = np.array([np.inf, np.inf, high, high])
            x0, method = np.clip(start, lower, upper), "dogbox"
        else:
            lower, upper, x0, method = -np.inf, np.inf, start[:2], "trf"
        solution = least_squares(
            _residuals,
            x0,
            args=(problem, fixed),
            bounds=(lower, upper),
            x_scale="jac",
            method=method,
        )
        if np.isfinite(solution.cost) and solution.cost < best_cost:
            best_cost, best_theta = float(solution.cost), solution.x
    if best_theta is None:
        raise RuntimeError("least squares found no finite solution")
    return best_theta, 2.0 * best_cost


def _goodness(problem: _Problem, sse: float, free: int) -> tuple[float, float]:
    """(R², AIC) of a fit with the given SSE and number of free parameters."""
    total = 0.0
    for group in np.unique(problem.groups):
        members = problem.groups == group
        centred = problem.observed[members] - np.mean(problem.observed[members])
        total += float(np.sum((problem.weights[members] * centred) ** 2))
    r_squared = 1.0 - sse / total if total > 0 else float("nan")
    count = problem.observed.size
    aic = count * np.log(max(sse, 1e-300) / count) + 2.0 * free
    return r_squared, float(aic)


def fit_law(series: BattleSeries, law: str, formulation: str | None = None) -> FitResult:
    """Least-squares point estimate of `law` on `series` (no bootstrap; see `bootstrap_fit`).

    `formulation` defaults to `choose_formulation(series)`. Raises KeyError for an unknown law.
    """
    if law not in LAW_EXPONENTS:
        raise KeyError(f"unknown law {law!r}; known: {', '.join(LAW_NAMES)}")
    formulation = formulation or choose_formulation(series)
    problem = _build_problem(series, formulation)
    fixed = LAW_EXPONENTS[law]
    if fixed is not None:
        starts = [_starting_point(problem, fixed)]
    else:
        # Start from each named law's own optimum, so the generalized fit (which nests them)
        # never ends worse than the best of them, plus the middle of the exponent box.
        starts = [_starting_point(problem, (0.5, 0.5))]
        for corner in _GENERALIZED_STARTS:
            corner_theta, _ = _solve(problem, corner, [_starting_point(problem, corner)])
            starts.append(np.array([*corner_theta[:2], *corner]))
    theta, sse = _solve(problem, fixed, starts)
    parameters = _to_parameters(theta, fixed, problem.force_scale)
    free_names = ("a", "b") if fixed is not None else ("a", "b", "q", "p")
    r_squared, aic = _goodness(problem, sse, len(free_names))
    return FitResult(
        dataset=series.name,
        law=law,
        formulation=formulation,
        parameters=parameters,
        free_parameters=free_names,
        sse=sse,
        r_squared=r_squared,
        aic=aic,
        observations=int(problem.observed.size),
        residual_days=problem.days,
        residual_groups=problem.groups,
        observed=problem.observed,
        predicted=problem.predict(parameters),
    )


def _theta_of(fit: FitResult, scale: float) -> FloatArray:
    """Inverse of `_to_parameters`, to restart bootstrap refits from the point estimate."""
    parameters = fit.parameters
    q, p = parameters.opponent_exponent, parameters.own_exponent
    factor = scale ** (q + p - 1.0)
    theta = [
        np.log(parameters.blue_loss_coefficient * factor),
        np.log(parameters.red_loss_coefficient * factor),
    ]
    if LAW_EXPONENTS[fit.law] is None:
        theta += [q, p]
    return np.array(theta)


def bootstrap_fit(
    series: BattleSeries,
    fit: FitResult,
    replicates: int,
    rng: np.random.Generator,
    confidence_level: float = 0.95,
) -> FitResult:
    """`fit` with percentile bootstrap intervals for a, b, q, p and a/b.

    Observed-forces fits resample days with replacement (each day keeps both sides' forces and
    losses together); simulated fits resample weighted residuals onto the fitted trajectory. Pass
    an explicitly seeded Generator: the intervals are then reproducible. Replicates whose refit
    fails are dropped; `bootstrap_replicates` says how many were kept. The days bootstrap ignores
    serial correlation, and Helmbold's Iwo Jima losses are period averages, so the intervals are
    a lower bound on the real uncertainty.
    """
    if replicates < 0:
        raise ValueError("the number of bootstrap replicates cannot be negative")
    if replicates == 0:
        return fit
    fixed = LAW_EXPONENTS[fit.law]
    base = _build_problem(series, fit.formulation)
    start = _theta_of(fit, base.force_scale)
    draws: list[list[float]] = []
    fitted_weighted = base.weights * fit.predicted
    weighted_residuals = base.weights * (base.observed - fit.predicted)
    for _ in range(replicates):
        if fit.formulation == "observed-forces":
            days = rng.integers(0, len(series), size=len(series))
            problem = _observed_forces_problem(series, days)
        else:
            resampled = rng.choice(weighted_residuals, size=weighted_residuals.size, replace=True)
            problem = replace(base, observed=(fitted_weighted + resampled) / base.weights)
        try:
            theta, _ = _solve(problem, fixed, [start])
        except (ValueError, RuntimeError):
            continue
        estimates = _estimates(_to_parameters(theta, fixed, problem.force_scale))
        draws.append([estimates[name] for name in PARAMETER_NAMES])
    if not draws:
        return replace(fit, bootstrap_replicates=0, confidence_level=confidence_level)
    table = np.array(draws)
    tail = 100.0 * (1.0 - confidence_level) / 2.0
    low, high = np.percentile(table, [tail, 100.0 - tail], axis=0)
    intervals = {name: (float(low[i]), float(high[i])) for i, name in enumerate(PARAMETER_NAMES)}
    return replace(
        fit,
        intervals=intervals,
        bootstrap_replicates=len(draws),
        confidence_level=confidence_level,
    )


def rank_fits(fits: Sequence[FitResult]) -> list[FitResult]:
    """Fits sorted by SSE, best first, with `rank` set (1 = smallest SSE). The generalized law
    nests the others, so it can only tie or win on SSE; compare AIC to see whether its two extra
    parameters earn their keep."""
    ordered = sorted(fits, key=lambda fit: fit.sse)
    return [replace(fit, rank=position) for position, fit in enumerate(ordered, start=1)]


def calibrate_laws(
    series: BattleSeries,
    laws: Sequence[str] = LAW_NAMES,
    bootstrap: int = 200,
    seed: int = 0,
    formulation: str | None = None,
) -> list[FitResult]:
    """Fit every law in `laws` to `series`, bootstrap each, and rank them by SSE.

    Each law's bootstrap draws from its own stream, seeded by (seed, position of the law in
    LAW_NAMES), so a law's intervals do not change with which other laws are fitted alongside.
    """
    fits = []
    for law in laws:
        fit = fit_law(series, law, formulation)
        stream = np.random.default_rng([seed, LAW_NAMES.index(law)])
        fits.append(bootstrap_fit(series, fit, bootstrap, stream))
    return rank_fits(fits)


def _ordinary_least_squares(x: FloatArray, y: FloatArray) -> LogLinearRegression:
    design = np.column_stack((x, np.ones_like(x)))
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ np.array([slope, intercept])
    scatter = float(np.sum((y - np.mean(y)) ** 2))
    r_squared = 1.0 - float(np.sum((y - fitted) ** 2)) / scatter if scatter > 0 else float("nan")
    return LogLinearRegression(
        slope=float(slope), intercept=float(intercept), r_squared=r_squared, days_used=int(x.size)
    )


def _positive_days(*arrays: FloatArray) -> NDArray[np.bool_]:
    """Days on which every array is finite and positive (the logs exist)."""
    mask = np.ones(np.asarray(arrays[0]).shape, dtype=bool)
    for values in arrays:
        mask &= np.isfinite(values) & (values > 0)
    return mask


def log_ratio_regression(
    blue_force: ArrayLike, red_force: ArrayLike, blue_loss: ArrayLike, red_loss: ArrayLike
) -> LogLinearRegression:
    """Fricker's linearisation: dividing the two laws gives
    log(Ḃ/Ṙ) = (q - p) log(R/B) + log(a/b), fitted by OLS on same-day forces.

    It identifies only q - p and a/b, but needs no optimiser, which is why Fricker (and
    Pinkerton after him) used it. Days with a zero or missing value are dropped.
    """
    blue_force, red_force, blue_loss, red_loss = (
        np.asarray(v, dtype=float) for v in (blue_force, red_force, blue_loss, red_loss)
    )
    kept = _positive_days(blue_force, red_force, blue_loss, red_loss)
    return _ordinary_least_squares(
        np.log(red_force[kept] / blue_force[kept]), np.log(blue_loss[kept] / red_loss[kept])
    )


def log_product_regression(
    blue_force: ArrayLike, red_force: ArrayLike, blue_loss: ArrayLike, red_loss: ArrayLike
) -> LogLinearRegression:
    """The companion linearisation: multiplying the laws gives
    log(Ḃ Ṙ) = (q + p) log(B R) + log(a b); with the ratio form it separates q and p."""
    blue_force, red_force, blue_loss, red_loss = (
        np.asarray(v, dtype=float) for v in (blue_force, red_force, blue_loss, red_loss)
    )
    kept = _positive_days(blue_force, red_force, blue_loss, red_loss)
    return _ordinary_least_squares(
        np.log(red_force[kept] * blue_force[kept]), np.log(blue_loss[kept] * red_loss[kept])
    )
