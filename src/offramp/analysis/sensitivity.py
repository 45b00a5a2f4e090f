"""Global sensitivity analysis: which uncertain parameters drive an outcome, through SALib.

Three of SALib's analyzers, chosen for what offramp's runs provide:

* ``"pawn"`` (Pianosi & Wagener 2015) and ``"delta"`` (Borgonovo 2007; Plischke et al. 2013) are
  moment-independent and work on *any* sample of futures (Monte Carlo or LHS), so they can be run
  on an ordinary run's futures table.
* ``"sobol"`` (variance-based first- and total-order indices) needs the structured Saltelli
  design, which the experiment layer makes and runs
  (`offramp.experiments.sampling.saltelli_design`).

The indices are SALib's; this module only prepares the inputs (drops constant columns, sub-samples
large tables, keeps SALib's global random state and warning settings untouched) and returns one
tidy table.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from offramp.engine.vector_math import Array, jit
from offramp.errors import UserError

__all__ = ["pawn_indices", "sensitivity"]

METHODS = ("pawn", "delta", "sobol")

# Default row caps: SALib's PAWN took ~2.5 s per 100,000 rows x 20 parameters (`pawn_indices`
# is several times faster); SALib's delta estimator (bootstrapped kernel densities) is about 100
# times slower per row, so it gets a smaller cap.
_DEFAULT_MAX_ROWS = {"pawn": 100_000, "delta": 10_000}
_DEFAULT_RESAMPLES = {"delta": 20, "sobol": 100}


def _problem_from_bounds(bounds: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    names = list(bounds)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[float(bounds[n][0]), float(bounds[n][1])] for n in names],
    }


def _as_problem(bounds_or_problem: Mapping[str, Any]) -> dict[str, Any]:
    if "names" in bounds_or_problem and "bounds" in bounds_or_problem:
        problem = dict(bounds_or_problem)
        problem.setdefault("num_vars", len(problem["names"]))
        return problem
    return _problem_from_bounds(bounds_or_problem)


@contextlib.contextmanager
def _salib_quiet(seed: int | None = None) -> Iterator[None]:
    """Run SALib without side effects on the caller.

    Some SALib analyzers draw from NumPy's *global* random state (seeding it only for a truthy
    seed, so seed 0 is not reproducible) and set global warning filters and formatters. Seed the
    global state here and restore it, the filters and the formatter afterwards.
    """
    state = np.random.get_state()
    formatter = warnings.formatwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if seed is not None:
                np.random.seed(seed)
            yield
    finally:
        np.random.set_state(state)
        warnings.formatwarning = formatter


def _check_numeric(X: pd.DataFrame) -> None:
    if not isinstance(X, pd.DataFrame):
        raise UserError(
            f"X must be a pandas DataFrame (one row per future), not {type(X).__name__}"
        )
    for name in X.columns:
        dtype = X[name].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise UserError(
                f"column {name!r} of X is not numeric (dtype {dtype}); sensitivity analysis needs "
                f"numbers, so encode it first or leave it out"
            )


def _sobol_second_order(values: np.ndarray, d: int) -> bool:
    """Read from the design whether it was made with second-order rows (see SALib's layout).

    Per base sample the rows are A, AB_1..AB_D, [BA_1..BA_D,] B. Row D + 1 is B in the
    first-order layout but BA_1 (B with A's first column) in the second-order one.
    """
    n = len(values)
    fits_first, fits_second = n % (d + 2) == 0, n % (2 * d + 2) == 0
    if not (fits_first or fits_second):
        raise UserError(
            f"method 'sobol' needs a Saltelli design (offramp.experiments.sampling."
            f"saltelli_design): {n} rows is not a multiple of D + 2 = {d + 2} or "
            f"2D + 2 = {2 * d + 2} for D = {d} parameters"
        )
    if fits_first and fits_second:
        return bool(values[d + 1, 0] == values[0, 0])
    return fits_second


def sensitivity(
    X: pd.DataFrame,
    y: np.ndarray,
    method: str = "pawn",
    seed: int = 0,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    problem: Mapping[str, Any] | None = None,
    max_rows: int | None = None,
    num_resamples: int | None = None,
    known: dict[bytes, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Rank the uncertain parameters by their influence on an outcome (SALib).

    Parameters
    ----------
    X : pandas.DataFrame
        One row per future, one numeric column per parameter. For ``"sobol"`` the rows must be a
        Saltelli design (`offramp.experiments.sampling.saltelli_design`), in its order.
    y : array, shape (len(X),)
        The outcome in each future (booleans are read as 0/1).
    method : {"pawn", "delta", "sobol"}
        SALib analyzer: ``SALib.analyze.pawn`` (importance = median KS statistic over the
        conditioning slides; computed by `pawn_indices`, which gives SALib's numbers faster),
        ``SALib.analyze.delta`` (importance = the delta index, which SALib 1.5+ calls
        ``delta_raw``) or ``SALib.analyze.sobol`` (importance = total-order ``ST``).
    seed : int
        Seed of the sub-sample and of SALib's bootstrap.
    bounds : dict, optional
        Parameter -> ``(low, high)``; defaults to each column's data range. Only Sobol uses it.
    problem : dict, optional
        A SALib problem instead of `bounds`; its ``names`` select and order the columns of X.
    max_rows : int, optional
        For "pawn" and "delta", analyse a seeded random sub-sample of this many rows when X is
        larger. Default 100,000 for PAWN and 10,000 for delta (SALib's delta is ~100x slower per
        row). Sobol always uses the whole design.
    num_resamples : int, optional
        Bootstrap resamples for the confidence intervals (default: 20 for delta, 100 for Sobol;
        SALib's PAWN gives no confidence intervals).
    known : dict, optional
        For PAWN: a dict kept across calls on the same X (several outcomes or policies), in
        which the slides' edges of each set of rows analysed are kept, so they are computed once.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter (named ``parameter``), sorted by ``importance`` (descending), with
        the column ``importance`` followed by the method's indices and confidence intervals as
        SALib names them (PAWN: ``minimum, mean, median, maximum, CV, stdev``; delta:
        ``delta[_raw], delta[_raw]_conf, ...``; Sobol: ``S1, S1_conf, ST, ST_conf``; a Sobol run
        with second-order rows also puts SALib's ``S2`` matrix in ``result.attrs["S2"]``).
        Columns of X that are constant cannot matter: they are not given to SALib and are listed
        last with importance 0 and NaN elsewhere. For PAWN and delta, rows where y is NaN are
        dropped.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    >>> y = 5 * X["a"] + 2 * X["b"]
    >>> sensitivity(X, y.to_numpy(), method="pawn").index.tolist()
    ['a', 'b', 'c']
    """
    if method not in METHODS:
        raise UserError(
            f"unknown sensitivity method {method!r}; choose one of {', '.join(METHODS)}"
        )
    if problem is not None:
        problem = _as_problem(problem)
        missing = [n for n in problem["names"] if n not in X.columns]
        if missing:
            raise UserError(f"the problem names columns that X lacks: {', '.join(missing)}")
        X = X[problem["names"]]
    _check_numeric(X)
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or len(y) != len(X):
        raise UserError(f"y must hold one value per row of X: expected ({len(X)},), got "
                        f"{y.shape}")

    if method == "sobol":
        return _sobol(X.astype(float), y, seed, bounds, problem, num_resamples)

    # The rows analysed (those with a value of y, then a seeded sub-sample of them) are chosen
    # first, and only they are taken from X and converted: X may hold millions of futures.
    rows = np.flatnonzero(~np.isnan(y))
    cap = _DEFAULT_MAX_ROWS[method] if max_rows is None else max_rows
    if len(rows) > cap:
        rows = rows[np.sort(np.random.default_rng(seed).choice(len(rows), size=cap,
                                                               replace=False))]
    # one array, not a column at a time (X is usually one pandas block per column)
    all_values = (X if len(rows) == len(y) else X.iloc[rows]).to_numpy(dtype=float)
    y = y[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: constant
        lowest, highest = np.nanmin(all_values, axis=0), np.nanmax(all_values, axis=0)
    varies = highest - lowest > 0
    constant = [c for c, kept in zip(X.columns, varies, strict=True) if not kept]
    varying = [c for c, kept in zip(X.columns, varies, strict=True) if kept]
    if not varying:
        raise UserError("every column of X is constant, so no parameter can explain y")
    if np.nanmax(y) == np.nanmin(y):
        raise UserError("y is constant, so no parameter can explain it")
    values = all_values[:, varies]
    if method == "pawn":
        key = rows.tobytes()
        edges = None if known is None else known.get(key)
        if edges is None:
            edges = pawn_edges(values)
            if known is not None:
                known[key] = edges
        result = pawn_indices(values, y, edges=edges)
        importance = "median"
    else:
        from SALib.analyze import delta

        salib_problem = {
            "num_vars": len(varying),
            "names": [str(c) for c in varying],
            "bounds": [[float(low), float(high)]
                       for low, high in zip(lowest[varies], highest[varies], strict=True)],
        }
        options: dict[str, Any] = {
            "num_resamples": num_resamples or _DEFAULT_RESAMPLES["delta"],
            "seed": seed,
        }
        if "method" in inspect.signature(delta.analyze).parameters:
            options["method"] = "delta"  # SALib >= 1.5 would also estimate S1 at extra cost
        with _salib_quiet(seed):
            result = delta.analyze(salib_problem, values, y, **options)
        importance = "delta" if "delta" in result else "delta_raw"
    table = _tidy(result, varying, importance)
    return _with_constants(table, constant)


@jit
def _slide_statistics(values_by_y: Array, edges: Array, last: Array, exact: bool,
                      statistics: Array) -> None:
    """statistics[s, j]: ``scipy.stats.ks_2samp(slide s of parameter j, y).statistic`` from
    cumulative counts, to the last bit.

    `values_by_y` (d, n) holds each parameter's values in the order of y; `edges` (d, S + 1)
    the slides' edges (slide s: edges[s] <= x < edges[s + 1]; NaN and the largest value in
    none, as in SALib); `last` the positions (in y's order) of the last of each run of tied
    y values, where both CDFs are evaluated. SciPy's "auto" mode is exact for samples of at
    most 10,000 (`exact`): it rounds the statistic to a multiple of 1 / lcm(m, n), which
    integers give exactly; beyond, it keeps the floating-point difference of the two CDFs.
    """
    d, n = values_by_y.shape
    slides = edges.shape[1] - 1
    slide_of = np.empty(n, dtype=np.int64)
    sizes = np.zeros(slides, dtype=np.int64)
    counts = np.zeros(slides, dtype=np.int64)
    largest = np.zeros(slides, dtype=np.int64)  # max |count n - below m| (exact mode)
    furthest = np.zeros(slides)  # max |count / m - below / n| (floating-point mode)
    for j in range(d):
        # each row's slide (the last that holds it; -1: none), slides outside and rows inside:
        # the comparisons run on vectors of rows (twice as fast as a loop over slides per row)
        slide_of[:] = -1
        for s in range(slides):
            low, high = edges[j, s], edges[j, s + 1]
            for i in range(n):
                value = values_by_y[j, i]
                slide_of[i] = s if (low <= value) & (value < high) else slide_of[i]
        sizes[:] = 0
        for i in range(n):
            if slide_of[i] >= 0:
                sizes[slide_of[i]] += 1
        counts[:] = 0
        largest[:] = 0
        furthest[:] = 0.0
        at = 0
        for i in range(n):
            if slide_of[i] >= 0:
                counts[slide_of[i]] += 1
            if at < last.shape[0] and last[at] == i:  # the CDFs at this distinct value of y
                below = i + 1
                for s in range(slides):
                    m = sizes[s]
                    if m > 0:
                        if exact:
                            largest[s] = max(largest[s], abs(counts[s] * n - below * m))
                        else:
                            furthest[s] = max(furthest[s], abs(counts[s] / m - below / n))
                at += 1
        for s in range(slides):
            m = sizes[s]
            if m == 0:
                statistics[s, j] = np.nan  # an empty slide: SALib skips it
            elif exact:
                g = math.gcd(m, n)
                statistics[s, j] = float(largest[s] // g) / float((m // g) * n)
            else:
                statistics[s, j] = furthest[s]


def pawn_edges(values: np.ndarray, slides: int = 10) -> np.ndarray:
    """(d, slides + 1) the conditioning slides' edges of each column of `values`: its quantiles
    on SALib's grid, floating-point quirks included (they depend on the rows, not on y)."""
    values = np.asarray(values, dtype=float)
    step = 1 / slides
    seq = np.arange(0, 1 + step, step)
    return np.array([np.nanquantile(values[:, j], seq) for j in range(values.shape[1])]
                    ).reshape(values.shape[1], -1)


def pawn_indices(values: np.ndarray, y: np.ndarray, slides: int = 10,
                 edges: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """SALib's PAWN (``SALib.analyze.pawn.analyze``), the same numbers, vectorized.

    For each parameter, the rows are split into `slides` conditioning slides at the parameter's
    quantiles (half-open ``[q_s, q_s+1)``, as SALib does, so the largest value falls in none),
    and the Kolmogorov–Smirnov distance between y in the slide and all of y is taken; the
    summary is min / mean / median / max / CV / stdev over the slides. SALib calls
    ``scipy.stats.ks_2samp`` once per slide (~5 s for 10,000 rows × 120 parameters); here y is
    sorted once and every slide's empirical CDF is a cumulative count over that order, which
    gives the same statistic (both CDFs are evaluated at every value of y; ties are evaluated
    after their last member) in a small fraction of the time. `edges`: `pawn_edges(values,
    slides)`, if already known (they do not depend on y).
    """
    values = np.asarray(values, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = values.shape
    order = np.argsort(y, kind="stable")
    sorted_y = y[order]
    # Evaluate the CDFs once per distinct value of y, at the last of its ties (side="right").
    last = np.flatnonzero(np.append(sorted_y[1:] != sorted_y[:-1], True))
    if edges is None:
        edges = pawn_edges(values, slides)
    statistics = np.full((slides, d), np.nan)
    _slide_statistics(np.ascontiguousarray(values[order].T), edges, last, n <= 10_000,
                      statistics)
    summary = np.full((d, 6), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN parameter: NaN, as in SALib
        # the minimum, median and maximum do not depend on the order of a sum: all at once
        summary[:, 0] = np.nanmin(statistics, axis=0)
        summary[:, 2] = np.nanmedian(statistics, axis=0)
        summary[:, 3] = np.nanmax(statistics, axis=0)
        for j in range(d):
            # SALib's sums over the same strided view, so that they round the same way
            column = statistics[:, j]
            mean, stdev = np.nanmean(column), np.nanstd(column)
            summary[j, [1, 4, 5]] = mean, stdev / mean, stdev
    names = ("minimum", "mean", "median", "maximum", "CV", "stdev")
    return {name: summary[:, i] for i, name in enumerate(names)}


def _tidy(result: Mapping[str, Any], names: list[Any], importance: str) -> pd.DataFrame:
    columns = {}
    for key, value in result.items():
        if key == "names":
            continue
        array = np.asarray(value)
        if array.shape == (len(names),) and array.dtype.kind in "fiu":
            columns[key] = array.astype(float)
    table = pd.DataFrame(columns, index=pd.Index(names, name="parameter"))
    table = table.dropna(axis=1, how="all")  # e.g. delta's "step" mode, undefined for most X
    table.insert(0, "importance", table[importance])
    return table.sort_values("importance", ascending=False, kind="stable")


def _with_constants(table: pd.DataFrame, constant: list[Any]) -> pd.DataFrame:
    if not constant:
        return table
    rows = pd.DataFrame(np.nan, index=pd.Index(constant, name="parameter"),
                        columns=table.columns)
    rows["importance"] = 0.0
    for column in table.columns:
        if not column.endswith("_conf") and column not in ("CV", "stdev"):
            rows[column] = 0.0
    return pd.concat([table, rows])


def _sobol(
    frame: pd.DataFrame, y: np.ndarray, seed: int,
    bounds: Mapping[str, tuple[float, float]] | None, problem: Mapping[str, Any] | None,
    num_resamples: int | None,
) -> pd.DataFrame:
    from SALib.analyze import sobol

    if np.isnan(y).any():
        raise UserError("y has missing values; a Sobol design cannot lose rows, so fill them or "
                        "rerun those futures")
    names = list(frame.columns)
    if problem is None:
        if bounds is not None:
            missing = [n for n in names if n not in bounds]
            if missing:
                raise UserError(f"bounds lack the columns {', '.join(map(str, missing))}")
        problem = {
            "num_vars": len(names),
            "names": [str(n) for n in names],
            "bounds": [list(bounds[n]) if bounds is not None else
                       [float(frame[n].min()), float(frame[n].max())] for n in names],
        }
    values = frame.to_numpy()
    second_order = _sobol_second_order(values, len(names))
    with _salib_quiet(seed):
        result = sobol.analyze(
            dict(problem), y, calc_second_order=second_order,
            num_resamples=num_resamples or _DEFAULT_RESAMPLES["sobol"], seed=seed,
        )
    table = _tidy(result, names, "ST")
    if second_order:
        table.attrs["S2"] = pd.DataFrame(result["S2"], index=names, columns=names)
    return table
