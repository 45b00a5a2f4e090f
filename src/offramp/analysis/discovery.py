"""Scenario discovery: which regions of the uncertainty space produce an outcome of interest.

Two box-finders over the futures table ``X`` (one row per future, one column per uncertain
parameter) and a boolean ``y`` (is this future a case of interest, e.g. "the war is still on at
week 104"):

* `prim` — the Patient Rule Induction Method (Friedman & Fisher 1999) as used in Robust Decision
  Making (Bryant & Lempert 2010) and the EMA Workbench: peel, paste, pick a box on the
  coverage–density trade-off, report quasi-p-values, optionally cover with several boxes.
* `cart` — a shallow classification tree (scikit-learn) whose leaves are read as boxes.

A box is a set of limits on a few columns; its **coverage** is the share of all cases of interest
that fall inside it, its **density** the share of futures inside it that are cases of interest,
its **mass** the share of all futures inside it.

PRIM here follows the EMA Workbench 2.x algorithm step for step (same quantile rule, objective,
tie-breaks, stopping rule and pasting; the tests check that both give the same peeling trajectory
and boxes), but it is vectorized: each column's rows are put in sorted order once (lazily, a value
bucket at a time), a step reads only the few per cent of each column's sorted order that a peel
can remove — one compiled loop over every numeric column and both ends — and the box is a boolean
mask over the rows. X itself is never converted; only the buckets read are copied, in sorted
order, beside their rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from offramp.engine.vector_math import Array, jit
from offramp.errors import UserError

_BINOM_SF: Callable[..., Any] | None
try:  # what scipy.stats.binom.sf calls, in scipy.special since SciPy 1.12
    from scipy.special._ufuncs import _binom_sf as _BINOM_SF
except ImportError:  # an older (or later) SciPy: scipy.stats' own, the same number
    _BINOM_SF = None

__all__ = ["Box", "CartResult", "PrimBox", "PrimIndex", "PrimResult", "cart", "prim",
           "significant_box", "varying_columns"]

# Value buckets per column for the lazy sort (at most 256: bucket ids are uint8).
_SORT_BUCKETS = 64
# Re-filter the sorted orders once fewer than this share of their entries are still in the box:
# scanning stale entries costs little until then, and re-filtering costs a full pass per column.
_REFILTER_BELOW = 0.5
# Re-filter the columns in threads only when their orders are at least this long.
_PARALLEL_FROM = 50_000


# ----------------------------------------------------------------------------------------------
# Result types
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A box in the space of futures and how well it captures the cases of interest.

    Attributes
    ----------
    limits : dict
        Column -> ``(low, high)`` for every restricted numeric column (inclusive bounds), or
        column -> ``frozenset`` of the categories kept for a restricted categorical column.
        Unrestricted columns are absent.
    coverage : float
        Cases of interest inside the box / all cases of interest.
    density : float
        Cases of interest inside the box / futures inside the box.
    mass : float
        Futures inside the box / all futures.
    n_futures, n_interest : int
        Futures inside the box, and cases of interest among them.
    data_range : dict
        Column -> ``(min, max)`` of the data for the restricted numeric columns, so that a reader
        can tell which side of a limit is a restriction and which is just the edge of the data.
    """

    limits: dict[Any, Any]
    coverage: float
    density: float
    mass: float
    n_futures: int
    n_interest: int
    data_range: dict[Any, tuple[float, float]] = field(default_factory=dict, repr=False)

    @property
    def restricted(self) -> list[Any]:
        """Names of the restricted columns, in the order of ``X``."""
        return list(self.limits)

    def contains(self, X: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of ``X`` inside the box (the box's limits are inclusive)."""
        inside = np.ones(len(X), dtype=bool)
        for name, limit in self.limits.items():
            column = X[name]
            if isinstance(limit, frozenset):
                inside &= column.isin(limit).to_numpy()
            else:
                values = column.to_numpy()
                inside &= (values >= limit[0]) & (values <= limit[1])
        return inside

    def conditions(self) -> list[str]:
        """The limits as short conditions, e.g. ``["us_support < 0.42", "0.1 < x < 0.3"]``."""
        parts = []
        for name, limit in self.limits.items():
            if isinstance(limit, frozenset):
                kept = sorted(limit, key=str)
                if len(kept) == 1:
                    parts.append(f"{name} is {kept[0]}")
                else:
                    parts.append(f"{name} in {{{', '.join(str(c) for c in kept)}}}")
                continue
            low, high = limit
            data_low, data_high = self.data_range.get(name, (-math.inf, math.inf))
            low_restricted, high_restricted = low > data_low, high < data_high
            if low_restricted and high_restricted:
                parts.append(f"{_number(low)} < {name} < {_number(high)}")
            elif high_restricted:
                parts.append(f"{name} < {_number(high)}")
            else:
                parts.append(f"{name} > {_number(low)}")
        return parts

    def describe(self, outcome_phrase: str) -> str:
        """One plain-words sentence about the box.

        Examples
        --------
        >>> box = Box({"us_support": (0.0, 0.42)}, coverage=0.64, density=0.81, mass=0.12,
        ...           n_futures=120, n_interest=97, data_range={"us_support": (0.0, 1.0)})
        >>> box.describe("The war is still on at week 104")  # doctest: +NORMALIZE_WHITESPACE
        'The war is still on at week 104 in 81% of futures where us_support < 0.42; the box
         holds 64% of all futures where this happens (coverage) and 12% of all futures (mass).'
        """
        conditions = self.conditions()
        where = f"futures where {' and '.join(conditions)}" if conditions else "all futures"
        return (
            f"{outcome_phrase} in {self.density:.0%} of {where}; the box holds "
            f"{self.coverage:.0%} of all futures where this happens (coverage) and "
            f"{self.mass:.0%} of all futures (mass)."
        )


@dataclass(frozen=True, eq=False)
class PrimBox(Box):
    """A PRIM box: a `Box` plus its quasi-p-values and where it sits on the peeling trajectory.

    Attributes
    ----------
    quasi_p : dict
        Column -> quasi-p-value of its restriction (Bryant & Lempert 2010; EMA's
        ``_calculate_quasip``): a one-sided binomial test of the box's density against the density
        of the box with that restriction removed. Where both sides of a column are restricted, each
        side is tested on its own and the larger (less significant) p-value is reported.
        Values above ~0.05 mean the restriction adds little and could be dropped.
    step : int
        Index on the peeling trajectory of the box chosen by the threshold (before pasting).
    paste_steps : int
        How many pastes were applied to that box.
    meets_threshold : bool
        Whether the box's density reaches the threshold (if no box on the trajectory does, the
        densest one is returned and this is False).
    tradeoff : pandas.DataFrame
        This box's peeling trajectory (see `PrimResult.tradeoff`).
    """

    quasi_p: dict[Any, float] = field(default_factory=dict)
    step: int = 0
    paste_steps: int = 0
    meets_threshold: bool = True
    tradeoff: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


@dataclass(frozen=True, eq=False)
class PrimResult:
    """What `prim` found.

    Attributes
    ----------
    boxes : list of PrimBox
        The boxes, in the order found (the second box was searched for among the futures left
        outside the first, and so on).
    tradeoff : pandas.DataFrame
        The peeling trajectories: one row per peeling step of every box, with columns ``box``,
        ``step``, ``coverage``, ``density``, ``mass``, ``n_restricted``. Step 0 is the box holding
        all futures still in play.
    threshold : float
        The density threshold used to pick each box.
    """

    boxes: list[PrimBox]
    tradeoff: pd.DataFrame
    threshold: float


@dataclass(frozen=True, eq=False)
class CartResult:
    """What `cart` found: the tree's leaves as boxes, densest first, and the fitted tree."""

    boxes: list[Box]
    tree: Any


# ----------------------------------------------------------------------------------------------
# Columns
# ----------------------------------------------------------------------------------------------


@dataclass
class _Columns:
    """X split into numeric columns (read in place, never copied) and categorical codes."""

    names: list[Any]
    numeric: list[int]  # positions in `names` of the numeric columns
    categorical: list[int]
    values: dict[int, np.ndarray]  # numeric values, or integer category codes
    categories: dict[int, np.ndarray]  # category labels by code
    low: dict[int, float]  # data min / max of numeric columns over all rows
    high: dict[int, float]


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _columns(X: pd.DataFrame) -> _Columns:
    if not isinstance(X, pd.DataFrame):
        raise UserError(
            f"X must be a pandas DataFrame (one row per future), not {type(X).__name__}"
        )
    if X.shape[1] == 0 or X.shape[0] == 0:
        raise UserError(f"X has shape {X.shape}; scenario discovery needs rows and columns")
    cols = _Columns(list(X.columns), [], [], {}, {}, {}, {})
    for position, name in enumerate(cols.names):
        series = X.iloc[:, position]
        if _is_numeric(series):
            values = series.to_numpy()
            if values.dtype.kind == "f" and np.isnan(values).any():
                raise UserError(f"column {name!r} of X has missing values; drop or fill them first")
            cols.numeric.append(position)
            cols.values[position] = values
            cols.low[position] = values.min()
            cols.high[position] = values.max()
        else:
            # Booleans, strings, categoricals: peeled a whole category at a time.
            codes, labels = pd.factorize(series, sort=True)
            if (codes < 0).any():
                raise UserError(f"column {name!r} of X has missing values; drop or fill them first")
            cols.categorical.append(position)
            cols.values[position] = codes.astype(np.int32)
            cols.categories[position] = np.asarray(labels)
    return cols


def _boolean_target(y: npt.ArrayLike, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise UserError(f"y must be one flag per future: expected shape ({n},), got {y.shape}")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise UserError("y must be boolean (or 0/1): True marks a future of interest")
        y = y.astype(bool)
    return y


class _SortedColumns:
    """Row indices of every numeric column in ascending order of its values, sorted lazily.

    The columns share flat arrays: the c-th numeric column holds
    ``order[offset[c]:offset[c + 1]]``. Its rows are first split into value buckets (approximate
    quantiles; tied values always share a bucket, and every value of a bucket is below every
    value of the next) by a cheap counting sort, and a bucket is fully sorted only when a peel
    needs its values. Peels read only the tails of a column unless PRIM restricts it deeply, so
    most buckets of most columns are never sorted: this saves most of the cost of a full argsort
    per column.

    Bucket b holds ``order[bounds[b]:bounds[b + 1]]`` and ``done[b]`` says whether it is sorted
    yet; column c owns buckets ``first_bucket[c]`` to ``first_bucket[c + 1] - 1``. A sorted
    bucket's values, in its order, are kept from ``values[value_at[b]]`` on (float64: exact for
    float32 columns and integers up to 2**53), so that the compiled peel reads them in sequence
    instead of gathering them from X; ``values`` grows as buckets are sorted and holds those
    buckets only.
    """

    __slots__ = ("bounds", "column_of", "done", "first_bucket", "n_values", "offset", "order",
                 "value_at", "values", "x")

    def __init__(self, x: list[np.ndarray], order: np.ndarray, offset: np.ndarray,
                 bounds: np.ndarray, first_bucket: np.ndarray, done: np.ndarray,
                 values: np.ndarray | None = None, value_at: np.ndarray | None = None) -> None:
        """`values` and `value_at` of the sorted buckets (`done`) if known, else read from X."""
        self.x = x  # the numeric columns' values (X's own arrays, not copies)
        self.order = order  # row indices, column by column, bucket by bucket
        self.offset = offset  # column c: order[offset[c]:offset[c + 1]]
        self.bounds = bounds  # bucket b: order[bounds[b]:bounds[b + 1]]
        self.first_bucket = first_bucket  # column c: buckets first_bucket[c] ... [c + 1] - 1
        self.column_of = np.repeat(np.arange(len(first_bucket) - 1), np.diff(first_bucket))
        if values is not None and value_at is not None:
            self.done, self.values, self.value_at = done.copy(), values, value_at
            self.n_values = len(values)  # values[:n_values] are in use
            return
        self.done = np.zeros(len(bounds) - 1, dtype=bool)  # whether bucket b is sorted yet
        self.value_at = np.zeros(len(bounds) - 1, dtype=np.int64)
        self.values = np.empty(0)
        self.n_values = 0
        self._reserve(np.flatnonzero(done))
        for b in np.flatnonzero(done):  # sorted already: keep their values
            self._keep(int(b), x[self.column_of[b]][order[bounds[b]:bounds[b + 1]]])

    @classmethod
    def build(cls, cols: _Columns) -> _SortedColumns:
        """The bucketed orders of all numeric columns of `cols`, built on all cores."""
        n = len(next(iter(cols.values.values())))
        x = [cols.values[j] for j in cols.numeric]
        index_dtype = np.int32 if n < 2**31 else np.int64
        order = np.empty(len(x) * n, dtype=index_dtype)
        n_buckets = min(_SORT_BUCKETS, max(1, n // 4096))

        def bucket(c: int) -> np.ndarray:
            """Fill column c's part of `order`; return its bucket sizes."""
            part = slice(c * n, (c + 1) * n)
            if n_buckets == 1:
                order[part] = np.argsort(x[c], kind="quicksort")
                return np.array([n])
            sample = np.sort(x[c][:: max(1, n // 8192)])
            edges = np.unique(sample[np.arange(1, n_buckets) * len(sample) // n_buckets])
            ids = np.searchsorted(edges, x[c], side="right").astype(np.uint8)
            order[part] = np.argsort(ids, kind="stable")  # a radix sort for uint8
            return np.bincount(ids, minlength=len(edges) + 1)

        # NumPy releases the GIL in its sorts, so threads use every core without copying X.
        workers = max(1, min(len(x), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(bucket, range(len(x))))
        sizes = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        first_bucket = np.concatenate([[0], np.cumsum([len(c) for c in counts])])
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        done = sizes <= 1 if n_buckets > 1 else np.ones(len(sizes), dtype=bool)
        return cls(x, order, np.arange(len(x) + 1, dtype=np.int64) * n, bounds.astype(np.int64),
                   first_bucket.astype(np.int64), done)

    def sort_buckets(self, buckets: np.ndarray) -> None:
        """Sort the given buckets, each by its column's values, and keep their values."""
        self._reserve(buckets)
        for b in buckets:
            low, high = self.bounds[b], self.bounds[b + 1]
            segment = self.order[low:high]
            values = self.x[self.column_of[b]][segment]
            by_value = np.argsort(values, kind="quicksort")
            self.order[low:high] = segment[by_value]
            self._keep(int(b), values[by_value])

    def _reserve(self, buckets: np.ndarray) -> None:
        """Room in `values` for the given buckets (at least doubling, so growing costs O(1) a
        value)."""
        needed = self.n_values + int((self.bounds[buckets + 1] - self.bounds[buckets]).sum())
        if needed > len(self.values):
            grown = np.empty(max(needed, 2 * len(self.values)))
            grown[:self.n_values] = self.values[:self.n_values]
            self.values = grown

    def _keep(self, b: int, values: np.ndarray) -> None:
        """Record bucket b as sorted, with its values in its order."""
        self.values[self.n_values:self.n_values + len(values)] = values
        self.value_at[b] = self.n_values
        self.n_values += len(values)
        self.done[b] = True


def _filter_columns(
    columns: _SortedColumns, start: np.ndarray, stop: np.ndarray, keep: np.ndarray,
) -> _SortedColumns:
    """The rows of each column's ``order[start[c]:stop[c]]`` for which `keep` holds, buckets,
    sortedness and the sorted buckets' values kept.

    Each column's window must hold every row that `keep` marks exactly once (as `_peel`'s windows
    hold the box), so every column keeps the same number of rows. The compiled copies run on all
    cores, a share of the columns each, when the windows are long.
    """
    size = int(np.count_nonzero(keep))
    n_columns = len(start)
    order = np.empty(n_columns * size, dtype=columns.order.dtype)
    bounds = np.empty_like(columns.bounds)
    bounds[-1] = n_columns * size
    longest = int((stop - start).max()) if n_columns else 0
    parallel = longest >= _PARALLEL_FROM

    _by_columns(n_columns, parallel, lambda c_first, c_last: _filter_kernel(
        columns.order, columns.bounds, columns.first_bucket, start, stop, keep, c_first, c_last,
        size, order, bounds))
    kept = np.where(columns.done, np.diff(bounds), 0)  # values kept, by bucket
    value_at = np.cumsum(kept) - kept
    values = np.empty(int(kept.sum()))
    _by_columns(n_columns, parallel, lambda c_first, c_last: _filter_values_kernel(
        columns.order, columns.values, columns.value_at, columns.bounds, columns.first_bucket,
        columns.done, start, stop, keep, c_first, c_last, bounds, value_at, values))
    offset = np.arange(n_columns + 1, dtype=np.int64) * size
    return _SortedColumns(columns.x, order, offset, bounds, columns.first_bucket, columns.done,
                          values, value_at)


def _by_columns(n_columns: int, parallel: bool, kernel: Callable[[int, int], None]) -> None:
    """``kernel(c_first, c_last)`` over all columns: in one call, or (`parallel`) in threads
    on all cores, a share of the columns each (the kernels release the GIL)."""
    workers = max(1, min(n_columns, os.cpu_count() or 1))
    if workers == 1 or not parallel:
        kernel(0, n_columns)
        return
    share = -(-n_columns // workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda c: kernel(c, min(c + share, n_columns)),
                      range(0, n_columns, share)))


def _sort_columns(cols: _Columns) -> _SortedColumns:
    """The lazily sorted orders of every numeric column."""
    return _SortedColumns.build(cols)


class PrimIndex:
    """A futures table prepared once for several `prim` searches on it (``prim(X, y, index=...)``).

    PRIM's set-up — reading X's columns, their ranges, and above all sorting every numeric column
    (a few seconds for 1,000,000 futures × 100 parameters) — depends on X alone, not on the
    cases of interest. Questions asked of the same futures (each policy's failures, say) can share
    it: the results are the same as without an index. The sorted orders are completed lazily as
    searches read them, so an index is not for searches running at the same time.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(5000, 3)), columns=["a", "b", "c"])
    >>> index = PrimIndex(X)
    >>> first = prim(X, (X["a"] > 0.6).to_numpy(), index=index).boxes[0]
    >>> second = prim(X, (X["b"] < 0.3).to_numpy(), index=index).boxes[0]
    >>> first.restricted, second.restricted
    (['a'], ['b'])
    """

    def __init__(self, X: pd.DataFrame) -> None:
        self.X = X
        self.cols = _columns(X)
        self._sorted: _SortedColumns | None = None

    @property
    def sorted_rows(self) -> _SortedColumns:
        if self._sorted is None:
            self._sorted = _sort_columns(self.cols)
        return self._sorted

    def check(self, X: pd.DataFrame) -> None:
        if X is not self.X:
            raise UserError("this PrimIndex was made for another futures table: make one with "
                            "PrimIndex(X) for the X given to prim")


def _varies(column: pd.Series) -> bool:
    """Whether a column holds more than one distinct value (NaN counting as one value), as
    ``column.nunique(dropna=False) > 1`` says, without hashing a million values."""
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else None
    if values is None or values.dtype.kind not in "biuf":
        return bool(column.nunique(dropna=False) > 1)
    if len(values) == 0:
        return False
    first = values[0]
    if values.dtype.kind == "f" and np.isnan(first):
        return bool(not np.isnan(values).all())
    return bool((values != first).any())  # a NaN differs from a number, as nunique counts it


def varying_columns(futures: pd.DataFrame) -> pd.DataFrame:
    """The columns of `futures` that take more than one value (its uncertain parameters)."""
    keep = [_varies(futures.iloc[:, position]) for position in range(futures.shape[1])]
    return futures.loc[:, keep]


# ----------------------------------------------------------------------------------------------
# Box limits as arrays
# ----------------------------------------------------------------------------------------------


@dataclass
class _Limits:
    """The limits of a box: [low, high] per numeric column, a kept-mask per categorical one."""

    low: dict[int, float]
    high: dict[int, float]
    kept: dict[int, np.ndarray]

    def copy(self) -> _Limits:
        return _Limits(dict(self.low), dict(self.high), {j: k.copy() for j, k in self.kept.items()})

    def is_restricted(self, j: int, init: _Limits) -> bool:
        if j in self.kept:
            return not np.array_equal(self.kept[j], init.kept[j])
        return self.low[j] != init.low[j] or self.high[j] != init.high[j]

    def restricted(self, init: _Limits) -> list[int]:
        return [j for j in [*self.low, *self.kept] if self.is_restricted(j, init)]

    def outside(self, cols: _Columns, j: int) -> np.ndarray:
        """Mask of all rows outside this box's limits on column j."""
        values = cols.values[j]
        if j in self.kept:
            outside: np.ndarray = ~self.kept[j][values]
            return outside
        return (values < self.low[j]) | (values > self.high[j])


def _initial_limits(cols: _Columns) -> _Limits:
    return _Limits(
        {j: cols.low[j] for j in cols.numeric},
        {j: cols.high[j] for j in cols.numeric},
        {j: np.ones(len(cols.categories[j]), dtype=bool) for j in cols.categorical},
    )


def _inside(cols: _Columns, limits: _Limits, init: _Limits, active: np.ndarray) -> np.ndarray:
    inside = active.copy()
    for j in limits.restricted(init):
        inside &= ~limits.outside(cols, j)
    return inside


# ----------------------------------------------------------------------------------------------
# The compiled peel: every numeric column's two quantile peels in one loop
# ----------------------------------------------------------------------------------------------

# What `_peel_kernel` found for a candidate.
_NO_PEEL = 0  # the column's window holds too few rows in the box
_PEELED = 1
_BLOCKED = 2  # the peel needs the values of a bucket not sorted yet: sort it (`need`), ask again


@jit
def _bucket_of(bounds: Array, first: int, last: int, position: int) -> int:
    """The bucket among ``first .. last - 1`` that holds `position` (empty buckets skipped)."""
    return first + int(np.searchsorted(bounds[first:last + 1], position, side="right")) - 1


@jit
def _midpoint(low: float, high: float, single: bool) -> float:
    """``(low + high) / 2`` as NumPy computes it on the column's own scalars: in float32 for a
    float32 column (the sum is rounded to float32 first), in float64 otherwise (an integer
    column's int64 sum is the same number in float64 below 2**53)."""
    if single:
        return float((np.float32(low) + np.float32(high)) / np.float32(2.0))
    return (low + high) / 2.0


@jit
def _peel_beyond(order: Array, values: Array, value_at: Array, bounds: Array, done: Array,
                 first: int, last: int, start: int, stop: int, inbox: Array, y: Array,
                 limit: float, upward: bool, need: Array) -> tuple[int, int, int, int]:
    """(status, rows removed, cases of interest among them, cut) for the rows of the window
    strictly beyond `limit`, read value by value from the peeled end: the general rule, needed
    only where ``v + w`` overflowed to an infinity, so that the limit is not between v and w."""
    step = 1 if upward else -1
    position, end = (start, stop) if upward else (stop - 1, start - 1)
    bucket = _bucket_of(bounds, first, last, position)
    removed = interest = 0
    last_removed = kept = -1
    while position != end:
        if not bounds[bucket] <= position < bounds[bucket + 1]:
            bucket = _bucket_of(bounds, first, last, position)
        if not done[bucket]:
            need[bucket] = True
            return _BLOCKED, 0, 0, 0
        row = order[position]
        if inbox[row]:
            x = values[value_at[bucket] + position - bounds[bucket]]
            if (x >= limit) if upward else (x <= limit):
                kept = position
                break
            removed += 1
            interest += y[row]
            last_removed = position
        position += step
    if upward:
        return _PEELED, removed, interest, last_removed + 1 if removed else start
    return _PEELED, removed, interest, kept + 1 if kept >= 0 else start


@jit
def _nth_in_box(order: Array, inbox: Array, y: Array, start: int, stop: int, rank: int,
                upward: bool) -> tuple[int, int]:
    """(position, cases of interest before it) of the `rank`-th row in the box of
    ``order[start:stop]`` counted from the bottom (`upward`) or the top; position -1 if the
    window holds too few. Counting needs no values: buckets follow each other in value order,
    so it reads unsorted buckets as well."""
    step = 1 if upward else -1
    end = stop if upward else start - 1
    position = start if upward else stop - 1
    seen = seen_y = 0
    while position != end:
        row = order[position]
        inside = inbox[row]
        if seen + inside > rank:  # the row is in the box, and the rank-th
            return position, seen_y
        # Counted without a branch on `inside`: rows in and out of the box mix at random, and
        # a mispredicted branch costs more than the sums.
        seen += inside
        seen_y += inside & y[row]
        position += step
    return -1, 0


@jit
def _ties_before(order: Array, values: Array, inbox: Array, y: Array, start: int, stop: int,
                 at: int, low: int, high: int, base: int,
                 upward: bool) -> tuple[int, int, int, int]:
    """(rows, cases of interest, first position) of the rows in the box tied with the row at
    `at` on the peeled side of it, and the position of the row in the box just before them (-1
    if none). Ties share a bucket (``order[low:high]``, values from ``values[base + low]``), so
    the first row in the box met outside it ends the run without reading its value."""
    v = values[base + at]
    n_ties = y_ties = 0
    first = at
    position = at - 1 if upward else at + 1
    while start <= position < stop:
        row = order[position]
        if inbox[row]:
            if not (low <= position < high and values[base + position] == v):
                return n_ties, y_ties, first, position
            n_ties, y_ties, first = n_ties + 1, y_ties + y[row], position
        position += -1 if upward else 1
    return n_ties, y_ties, first, -1


@jit
def _next_value(order: Array, values: Array, value_at: Array, bounds: Array, done: Array,
                first: int, last: int, start: int, stop: int, inbox: Array, y: Array, at: int,
                upward: bool, need: Array) -> tuple[int, int, int, int, float, int]:
    """(status, rows, cases of interest, last position) of the rows in the box tied with the row
    at `at` beyond it (from the peeled end), and (w, its position; -1 if none) the first value
    in the box past them. w may lie in a following bucket, which must then be sorted: if not,
    the bucket is flagged in `need` and the status is `_BLOCKED`."""
    step = 1 if upward else -1
    end = stop if upward else start - 1
    bucket = _bucket_of(bounds, first, last, at)
    low, high, base = bounds[bucket], bounds[bucket + 1], value_at[bucket] - bounds[bucket]
    v = values[base + at]
    n_ties = y_ties = 0
    last_tie = at
    position = at + step
    while position != end:
        if not low <= position < high:
            bucket = _bucket_of(bounds, first, last, position)
            if not done[bucket]:
                need[bucket] = True
                return _BLOCKED, 0, 0, 0, 0.0, -1
            low, high, base = bounds[bucket], bounds[bucket + 1], value_at[bucket] - bounds[bucket]
        row = order[position]
        if inbox[row]:
            x = values[base + position]
            if x != v:
                return _PEELED, n_ties, y_ties, last_tie, x, position
            n_ties, y_ties, last_tie = n_ties + 1, y_ties + y[row], position
        position += step
    return _PEELED, n_ties, y_ties, last_tie, 0.0, -1


@jit
def _peel_side(order: Array, values: Array, value_at: Array, bounds: Array, done: Array,
               first: int, last: int, start: int, stop: int, inbox: Array, y: Array, rank: int,
               upward: bool, single: bool, need: Array) -> tuple[int, float, int, int, int]:
    """The quantile peel of one end of one column: (status, limit, rows removed, cases of
    interest among them, cut).

    ``order[start:stop]`` holds, in ascending order of the column's values, every row in the
    box and rows that have left it (skipped). From the peeled end (the bottom for a low peel,
    `upward`; the top for a high one), v is the value of the `rank`-th row in the box and w the
    next distinct value further in. The limit is their midpoint, or v if there is no w (EMA's
    ``get_quantile``: a limit never splits tied values); the rows strictly beyond it go: v's run
    of ties and the rows before it, or only the rows before it if the midpoint rounded to v.

    The cut is where the window now ends: past the last row removed (low peel), past the last
    row kept (high peel); rows left between them are out of the box anyway. Only v's bucket,
    and w's, must be sorted. A low peel's cut may fall inside the (unsorted) bucket before v's,
    but all the rows of that bucket still in the box go, so sorting it later moves only rows
    out of the box.
    """
    at, y_before = _nth_in_box(order, inbox, y, start, stop, rank, upward)
    if at < 0:
        return _NO_PEEL, 0.0, 0, 0, 0
    bucket = _bucket_of(bounds, first, last, at)
    if not done[bucket]:
        need[bucket] = True
        return _BLOCKED, 0.0, 0, 0, 0
    low, high, base = bounds[bucket], bounds[bucket + 1], value_at[bucket] - bounds[bucket]
    v = values[base + at]
    n_before, y_ties, run_first, before_run = _ties_before(order, values, inbox, y, start, stop,
                                                           at, low, high, base, upward)
    status, n_after, y_after, last_tie, w, w_at = _next_value(
        order, values, value_at, bounds, done, first, last, start, stop, inbox, y, at, upward,
        need)
    if status == _BLOCKED:
        return _BLOCKED, 0.0, 0, 0, 0

    limit = _midpoint(v, w, single) if w_at >= 0 else v
    if limit == v:  # no next value, or the midpoint rounded to v: v's run stays
        removed, interest = rank - n_before, y_before - y_ties
        last_removed, kept = before_run, run_first
    elif (v < limit <= w) if upward else (w <= limit < v):  # past v: v's run goes too
        removed, interest = rank + 1 + n_after, y_before + y[order[at]] + y_after
        last_removed, kept = last_tie, w_at
    else:
        status, removed, interest, cut = _peel_beyond(order, values, value_at, bounds, done,
                                                      first, last, start, stop, inbox, y, limit,
                                                      upward, need)
        return status, limit, removed, interest, cut
    if upward:
        return _PEELED, limit, removed, interest, last_removed + 1 if removed else start
    return _PEELED, limit, removed, interest, kept + 1


@jit
def _peel_kernel(order: Array, values: Array, value_at: Array, bounds: Array,
                 first_bucket: Array, done: Array, start: Array, stop: Array, single: Array,
                 inbox: Array, y: Array, rank_high: int, rank_low: int, todo: Array,
                 limit: Array, removed: Array, interest: Array, cut: Array, status: Array,
                 need: Array) -> None:
    """The high and the low peel of every numeric column (candidate 2c: column c's high peel,
    2c + 1: its low peel, the order in which `_peel` breaks ties), for the candidates in
    `todo`. See `_peel_side`; a candidate that needs the values of an unsorted bucket is left
    `_BLOCKED`, with the bucket flagged in `need`, so that the bucket is sorted (in NumPy, from
    X's column) and the candidate asked again."""
    for c in range(start.shape[0]):
        for side in range(2):
            i = 2 * c + side
            if not todo[i]:
                continue
            if start[c] >= stop[c]:
                status[i] = _NO_PEEL
                continue
            upward = side == 1
            status[i], limit[i], removed[i], interest[i], cut[i] = _peel_side(
                order, values, value_at, bounds, done, first_bucket[c], first_bucket[c + 1],
                start[c], stop[c], inbox, y, rank_low if upward else rank_high, upward,
                single[c], need)


@jit
def _filter_kernel(order: Array, bounds: Array, first_bucket: Array, start: Array, stop: Array,
                   keep: Array, c_first: int, c_last: int, size: int, new_order: Array,
                   new_bounds: Array) -> None:
    """Columns ``c_first .. c_last - 1`` of `_filter_columns`: column c's rows of
    ``order[start[c]:stop[c]]`` that `keep` holds go, in order, to ``new_order[c * size:]``;
    `new_bounds` gets the buckets' new starts."""
    for c in range(c_first, c_last):
        out, end = c * size, (c + 1) * size
        for b in range(first_bucket[c], first_bucket[c + 1]):
            new_bounds[b] = out
            position, last = max(bounds[b], start[c]), min(bounds[b + 1], stop[c])
            # Every row is written and only kept ones advance `out` (no branch on `keep`,
            # which would be mispredicted half the time); writes stop at the column's end.
            while position < last and out < end:
                row = order[position]
                new_order[out] = row
                out += keep[row]
                position += 1
        if out != end:
            raise ValueError("a column's window does not hold every row of the box")


@jit
def _filter_values_kernel(order: Array, values: Array, value_at: Array, bounds: Array,
                          first_bucket: Array, done: Array, start: Array, stop: Array,
                          keep: Array, c_first: int, c_last: int, new_bounds: Array,
                          new_value_at: Array, new_values: Array) -> None:
    """The values of the rows `_filter_kernel` keeps in the sorted buckets of columns
    ``c_first .. c_last - 1``, from ``new_values[new_value_at[b]]`` on."""
    for c in range(c_first, c_last):
        for b in range(first_bucket[c], first_bucket[c + 1]):
            if not done[b]:
                continue
            out = new_value_at[b]
            end = out + new_bounds[b + 1] - new_bounds[b]
            base = value_at[b] - bounds[b]
            position, last = max(bounds[b], start[c]), min(bounds[b + 1], stop[c])
            while position < last and out < end:  # as `_filter_kernel`, without a branch
                new_values[out] = values[base + position]
                out += keep[order[position]]
                position += 1


# ----------------------------------------------------------------------------------------------
# PRIM
# ----------------------------------------------------------------------------------------------


def _lenient1(k_old: int, m_old: int, k_new: int, m_new: int) -> float:
    """EMA's default objective "lenient1": gain in density per future removed (or added).

    Friedman & Fisher's original objective (the density of the new box) makes PRIM favour
    peels that remove whole categories at once; dividing the gain by the change in the number
    of futures compares peels of different sizes fairly. Written with the same floating-point
    operations as EMA so that exact ties are broken the same way.
    """
    mean_old = k_old / m_old
    mean_new = k_new / m_new if m_new > 0 else 0.0
    if mean_new == mean_old or m_new == m_old:
        return 0.0
    return (mean_new - mean_old) / abs(m_old - m_new)


def _ema_quantile(data: np.ndarray, q: float) -> float:
    """The quantile rule of sdtoolkit / EMA's ``get_quantile``, in O(n) without a full sort.

    Below the median: the midpoint between the order statistic at floor((n-1)q) and the next
    larger distinct value; above it: the midpoint between the order statistic at ceil((n-1)q) and
    the next smaller distinct value. A limit therefore never splits tied values.
    """
    position = (len(data) - 1) * q
    if q > 0.5:
        at = math.ceil(position)
        v = np.partition(data, at)[at]
        smaller = data[data < v]
        limit: float = (smaller.max() + v) / 2 if smaller.size else v
        return limit
    at = math.floor(position)
    v = np.partition(data, at)[at]
    larger = data[data > v]
    limit = (v + larger.min()) / 2 if larger.size else v
    return limit


@dataclass
class _Peel:
    """A candidate peel: drop `n_removed` rows from the box by moving one limit of column j.

    A categorical peel knows its `rows`; a numeric one finds them (`_rows_peeled`) only once it
    is chosen, from its `cut`."""

    j: int
    side: str  # "high", "low" or "category"
    value: Any  # the new limit, or the category code removed
    n_removed: int
    n_interest: int
    rows: np.ndarray | None = None
    cut: int = 0  # new start (side "low") or stop (side "high") in the column's sorted order


@dataclass
class _NumericPeels:
    """The high and low peel of every numeric column at one step (`_peel_kernel`'s output):
    candidate 2c is column c's high peel, 2c + 1 its low peel."""

    status: np.ndarray  # _NO_PEEL, _PEELED
    limit: np.ndarray  # float64: the new limit (exact for float32 and integer columns)
    removed: np.ndarray  # rows that leave the box
    interest: np.ndarray  # cases of interest among them
    cut: np.ndarray  # new stop (high peel) or start (low peel) of the column's window


def _numeric_peels(
    columns: _SortedColumns, single: np.ndarray, start: np.ndarray, stop: np.ndarray,
    inbox: np.ndarray, y: np.ndarray, m: int, alpha: float,
) -> _NumericPeels:
    """Both quantile peels of every numeric column, by `_peel_kernel`; buckets that a scan
    reaches unsorted are sorted here and the blocked candidates asked again."""
    n = 2 * len(start)
    found = _NumericPeels(np.zeros(n, dtype=np.int8), np.zeros(n), np.zeros(n, dtype=np.int64),
                          np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
    rank_low = math.floor((m - 1) * alpha)  # position of the quantile among in-box values
    rank_high = m - 1 - math.ceil((m - 1) * (1 - alpha))  # same, counted from the top
    todo = np.ones(n, dtype=bool)
    need = np.zeros(len(columns.done), dtype=bool)
    while True:
        _peel_kernel(columns.order, columns.values, columns.value_at, columns.bounds,
                     columns.first_bucket, columns.done, start, stop, single, inbox, y,
                     rank_high, rank_low, todo, found.limit, found.removed, found.interest,
                     found.cut, found.status, need)
        todo = found.status == _BLOCKED
        if not todo.any():
            return found
        columns.sort_buckets(np.flatnonzero(need))
        need[:] = False


def _lenient1_many(k_old: int, m_old: int, k_new: np.ndarray, m_new: np.ndarray) -> np.ndarray:
    """`_lenient1` of many candidates at once, with the same floating-point operations (NumPy
    divides int64 arrays as Python divides ints below 2**53), so the same bits."""
    mean_old = k_old / m_old
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_new = np.where(m_new > 0, k_new / np.maximum(m_new, 1), 0.0)
        gain = (mean_new - mean_old) / np.abs(m_old - m_new)
    objective: np.ndarray = np.where((mean_new == mean_old) | (m_new == m_old), 0.0, gain)
    return objective


@dataclass
class _NumericBox:
    """The box's limits on the numeric columns (c-th numeric column at c) as float64 arrays,
    beside the data's range, so that every candidate is scored at once."""

    low: np.ndarray
    high: np.ndarray
    init_low: np.ndarray
    init_high: np.ndarray

    @classmethod
    def of(cls, cols: _Columns, init: _Limits) -> _NumericBox:
        low = np.array([init.low[j] for j in cols.numeric], dtype=np.float64)
        high = np.array([init.high[j] for j in cols.numeric], dtype=np.float64)
        return cls(low, high, low.copy(), high.copy())

    def best(self, peels: _NumericPeels, k: int, m: int, n_cols: int,
             n_restricted: int) -> tuple[tuple[float, int], int] | None:
        """((objective, columns left unrestricted), candidate) of the best numeric peel, or
        None if no column has one: the highest objective, then the most columns left
        unrestricted, then the first candidate."""
        candidates = np.flatnonzero(peels.status == _PEELED)
        if not len(candidates):
            return None
        objective = _lenient1_many(k, m, k - peels.interest[candidates],
                                   m - peels.removed[candidates])
        # A peel restricts its column unless both limits stay at the data's range.
        c, high_side = candidates // 2, candidates % 2 == 0
        new_low = np.where(high_side, self.low[c], peels.limit[candidates])
        new_high = np.where(high_side, peels.limit[candidates], self.high[c])
        was = (self.low[c] != self.init_low[c]) | (self.high[c] != self.init_high[c])
        now = (new_low != self.init_low[c]) | (new_high != self.init_high[c])
        unrestricted = n_cols - (n_restricted - was.astype(int) + now)
        tied = np.flatnonzero(objective == objective.max())
        best = int(tied[np.argmax(unrestricted[tied])])  # argmax: the first of equal ones
        return (float(objective[best]), int(unrestricted[best])), int(candidates[best])


def _category_peels(
    cols: _Columns, y: np.ndarray, in_box: np.ndarray, limits: _Limits, restricted: set[int],
    k: int, m: int,
) -> list[tuple[tuple[float, int], _Peel]]:
    """The removal of each category still in the box, in order: ((objective, columns left
    unrestricted), peel)."""
    found = []
    for j in cols.categorical:
        if limits.kept[j].sum() < 2:
            continue
        codes = cols.values[j][in_box]
        for code in np.flatnonzero(limits.kept[j]):
            rows = in_box[codes == code]
            n_interest = int(np.count_nonzero(y[rows]))
            score = (_lenient1(k, m, k - n_interest, m - len(rows)),
                     len(cols.names) - len(restricted | {j}))
            found.append((score, _Peel(j, "category", int(code), len(rows), n_interest, rows)))
    return found


def _column_value(limit: float, values: np.ndarray) -> Any:
    """A limit from the kernel as the scalar NumPy gives on the column (float32 for a float32
    column; a float64 otherwise, which an integer column's midpoint is)."""
    return values.dtype.type(limit) if values.dtype.kind == "f" else np.float64(limit)


def _peel(
    cols: _Columns, y: np.ndarray, active: np.ndarray, sorted_rows: _SortedColumns,
    init: _Limits, alpha: float, mass_min: float, n_total: int,
) -> tuple[list[_Limits], list[tuple[int, int]]]:
    """Peel from the box holding all active rows down to `mass_min`.

    Each step evaluates a low and a high quantile peel of every numeric column (one call of the
    compiled `_peel_kernel`, called again after sorting any buckets it asks for) and the
    removal of each category of every categorical column, and
    applies the one with the best `_lenient1` objective (ties: the peel leaving more dimensions
    unrestricted, then the first candidate: numeric columns in the order of X, high before low,
    then categorical columns — EMA's order when the numeric columns are all floats). It stops
    when the best peel would leave less than `mass_min` of all futures in the box or does not
    raise the density.

    Returns the limits and the (futures, interest) counts of every step, step 0 first.
    """
    inbox = active.copy()
    y = np.ascontiguousarray(y)
    m = int(np.count_nonzero(inbox))
    k = int(np.count_nonzero(y & inbox))
    # Sorted orders restricted to the active rows (no copy when all rows are active); after
    # that, rows that leave the box stay in the orders as stale entries until a re-filter.
    columns = sorted_rows
    start, stop = columns.offset[:-1].copy(), columns.offset[1:].copy()
    if m < len(inbox):
        columns = _filter_columns(columns, start, stop, inbox)
        start, stop = columns.offset[:-1].copy(), columns.offset[1:].copy()
    members = np.flatnonzero(inbox) if cols.categorical else None
    filtered_size = m
    limits = init.copy()
    steps, counts = [limits.copy()], [(m, k)]
    restricted = set(limits.restricted(init))
    numeric_box = _NumericBox.of(cols, init)
    single = np.array([cols.values[j].dtype == np.float32 for j in cols.numeric], dtype=bool)

    while m > 0:
        peels = _numeric_peels(columns, single, start, stop, inbox, y, m, alpha)
        best = numeric_box.best(peels, k, m, len(cols.names), len(restricted))
        score: tuple[float, int] | None = None
        chosen: _Peel | None = None
        if best is not None:
            score, i = best
            c = i // 2
            chosen = _Peel(cols.numeric[c], "low" if i % 2 else "high",
                           _column_value(peels.limit[i], cols.values[cols.numeric[c]]),
                           int(peels.removed[i]), int(peels.interest[i]), cut=int(peels.cut[i]))
        if members is not None:  # categorical candidates come last: they win if strictly better
            for category_score, peel in _category_peels(cols, y, members[inbox[members]], limits,
                                                        restricted, k, m):
                if score is None or category_score > score:
                    score, chosen = category_score, peel
        if score is None or chosen is None:
            break
        mass_new = (m - chosen.n_removed) / n_total
        if not (mass_new >= mass_min and chosen.n_removed > 0 and score[0] > 0):
            break

        if chosen.side == "category":
            limits.kept[chosen.j][chosen.value] = False
        else:
            c = cols.numeric.index(chosen.j)
            if chosen.side == "low":
                chosen.rows = _rows_peeled(columns.order, start[c], chosen.cut, inbox)
                limits.low[chosen.j] = numeric_box.low[c] = chosen.value
                start[c] = chosen.cut
            else:
                chosen.rows = _rows_peeled(columns.order, chosen.cut, stop[c], inbox)
                limits.high[chosen.j] = numeric_box.high[c] = chosen.value
                stop[c] = chosen.cut
        assert chosen.rows is not None and len(chosen.rows) == chosen.n_removed
        inbox[chosen.rows] = False
        m -= chosen.n_removed
        k -= chosen.n_interest
        if limits.is_restricted(chosen.j, init):
            restricted.add(chosen.j)
        else:
            restricted.discard(chosen.j)
        steps.append(limits.copy())
        counts.append((m, k))

        if m < _REFILTER_BELOW * filtered_size:
            columns = _filter_columns(columns, start, stop, inbox)
            start, stop = columns.offset[:-1].copy(), columns.offset[1:].copy()
            if members is not None:
                members = members[inbox[members]]
            filtered_size = m
    return steps, counts


def _rows_peeled(order: np.ndarray, first: int, last: int, inbox: np.ndarray) -> np.ndarray:
    """The rows still in the box among ``order[first:last]``: those a numeric peel removes
    (its window part beyond the cut)."""
    window = order[first:last]
    rows: np.ndarray = window[inbox[window]]
    return rows


def _paste(
    cols: _Columns, y: np.ndarray, active: np.ndarray, limits: _Limits, init: _Limits,
    alpha: float, mass_min: float, n_total: int,
) -> tuple[_Limits, np.ndarray, int]:
    """Paste: grow the box back along its restricted dimensions while the density rises.

    For each restricted column and side, the candidate moves the limit out to take in the
    `alpha` share of the futures just outside it (EMA's ``_real_paste``; for a categorical column,
    one category is added back). The best candidate by `_lenient1` is applied if it keeps the
    mass above `mass_min` and raises the density; repeat. Returns the limits, the in-box mask and
    the number of pastes applied.
    """
    limits = limits.copy()
    n_pastes = 0
    n_cols = len(cols.names)
    while True:
        restricted = limits.restricted(init)
        if not restricted:
            return limits, _inside(cols, limits, init, active), n_pastes
        outside = {j: limits.outside(cols, j) & active for j in restricted}
        violations = np.zeros(len(active), dtype=np.uint8)
        for mask in outside.values():
            violations += mask
        inbox = active & (violations == 0)
        m, k = int(np.count_nonzero(inbox)), int(np.count_nonzero(y & inbox))

        # (pasted limits, their in-box mask, the column pasted): a paste changes one column
        candidates: list[tuple[_Limits, np.ndarray, int]] = []
        for j in [*cols.numeric, *cols.categorical]:  # EMA's order: numeric columns first
            if j not in outside:
                continue
            others_ok = active & (violations == outside[j])  # inside on every other dimension
            values = cols.values[j]
            if j in limits.kept:
                for code in np.flatnonzero(~limits.kept[j]):
                    pasted = limits.copy()
                    pasted.kept[j][code] = True
                    candidates.append((pasted, others_ok & pasted.kept[j][values], j))
                continue
            low, high = limits.low[j], limits.high[j]
            below = values[others_ok & (values <= low)]
            new_low = _ema_quantile(below, 1 - alpha) if below.size else init.low[j]
            pasted = limits.copy()
            pasted.low[j] = new_low
            candidates.append((pasted, others_ok & (values >= new_low) & (values <= high), j))
            above = values[others_ok & (values >= high)]
            new_high = _ema_quantile(above, alpha) if above.size else init.high[j]
            pasted = limits.copy()
            pasted.high[j] = new_high
            candidates.append((pasted, others_ok & (values >= low) & (values <= new_high), j))

        scored = []
        for i, (pasted, mask, j) in enumerate(candidates):
            m_new, k_new = int(np.count_nonzero(mask)), int(np.count_nonzero(y & mask))
            objective = _lenient1(k, m, k_new, m_new)
            # the pasted box's restricted columns: the box's, less j if the paste freed it
            n_restricted = len(restricted) - (not pasted.is_restricted(j, init))
            scored.append((objective, n_cols - n_restricted, -i, m_new, k_new))
        objective, _, minus_i, m_new, k_new = max(scored)
        mass_new = m_new / n_total
        if not (mass_new >= mass_min and m_new > m and objective > 0 and k_new / m_new > k / m):
            return limits, inbox, n_pastes
        limits = candidates[-minus_i][0]
        n_pastes += 1


def _binomial_sf(k: float, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p), 0 <= k < n, without importing scipy.stats where SciPy
    allows it (`_BINOM_SF`)."""
    if _BINOM_SF is None:
        from scipy.stats import binom

        return float(binom.sf(k, n, p))
    return float(_BINOM_SF(k, n, p))


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): SciPy's ``binomtest(k, n, p, alternative="greater")
    .pvalue``, the same number (tested), through the special function SciPy's binomial
    distribution calls, without importing scipy.stats (~0.7 CPU-s of every command's start)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return float(np.clip(_binomial_sf(float(k - 1), n, p), 0.0, 1.0))


def _quasi_p(
    cols: _Columns, y: np.ndarray, active: np.ndarray, limits: _Limits, init: _Limits,
    m: int, k: int,
) -> dict[int, float]:
    """Quasi-p-value of each restricted column (EMA's ``_calculate_quasip``).

    For each restricted side, the box's k cases of interest out of m futures are tested
    (one-sided binomial) against the density of the box with that side's limit removed.
    """
    restricted = limits.restricted(init)
    outside = {j: limits.outside(cols, j) & active for j in restricted}
    violations = np.zeros(len(active), dtype=np.uint8)
    for mask in outside.values():
        violations += mask
    p_values = {}
    for j in restricted:
        others_ok = active & (violations == outside[j])
        values = cols.values[j]
        if j in limits.kept:
            relaxed = [others_ok]
        else:
            relaxed = []
            if limits.low[j] != init.low[j]:
                relaxed.append(others_ok & (values <= limits.high[j]))
            if limits.high[j] != init.high[j]:
                relaxed.append(others_ok & (values >= limits.low[j]))
        worst = 0.0
        for mask in relaxed:
            base_rate = np.count_nonzero(y & mask) / np.count_nonzero(mask)
            worst = max(worst, binomial_upper_tail(k, m, base_rate))
        p_values[j] = float(worst)
    return p_values


def _choose_step(coverage: np.ndarray, density: np.ndarray, threshold: float) -> int:
    """The step with the highest coverage among those with density >= threshold (ties: the
    denser); if none reaches the threshold, the densest step (ties: the larger coverage)."""
    meets = density >= threshold
    if meets.any():
        keys = np.where(meets, coverage, -np.inf), np.where(meets, density, -np.inf)
        return int(np.lexsort((keys[1], keys[0]))[-1])
    return int(np.lexsort((coverage, density))[-1])


def _check_fraction(name: str, value: float, high: float = 1.0) -> None:
    if not (isinstance(value, int | float) and 0 < value < high):
        raise UserError(f"{name} must be a number between 0 and {high}, got {value!r}")


def prim(
    X: pd.DataFrame,
    y: np.ndarray,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
    max_boxes: int = 1,
    index: PrimIndex | None = None,
) -> PrimResult:
    """Find boxes of futures where the cases of interest concentrate (PRIM).

    The algorithm is EMA Workbench 2.x's ``Prim.find_box`` with its default "lenient1"
    objective (gain in density divided by the number of futures peeled off):

    1. **Peel.** From the box holding all futures, try removing the `peel_alpha` share of the
       box's futures at the low and at the high end of every numeric column (ties are never
       split, so a column with few distinct values loses a whole value at a time), and every
       single category of every non-numeric (bool, string, categorical) column. Apply the peel
       with the best objective; repeat until the box would fall below `mass_min` of all futures
       or no peel raises the density. Each step is a point on the coverage–density trade-off.
    2. **Choose.** Take the step with the highest coverage among those whose density reaches
       `threshold` (if none does, the densest step).
    3. **Paste.** Grow that box back along its restricted dimensions, `paste_alpha` at a time,
       while that raises the density.
    4. **Test.** Compute a quasi-p-value for each restricted dimension.
    5. **Cover** (if `max_boxes` > 1): set the futures in the box aside and search the rest;
       stop early when a further box would not reach `threshold`.

    Coverage, density and mass are always shares of all futures and all cases of interest,
    as in EMA.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per future, one column per uncertain parameter. Numeric columns are read in
        place (a float32 frame is not converted); other columns are treated as categorical.
    y : array of bool, shape (len(X),)
        True for the futures of interest.
    peel_alpha, paste_alpha : float
        Share of the box's futures removed by one peel / considered by one paste.
    mass_min : float
        Smallest share of all futures a box may hold.
    threshold : float
        Density that a box should reach.
    max_boxes : int
        Most boxes to find.
    index : PrimIndex, optional
        ``PrimIndex(X)``, made once to share X's sorted columns between searches on the same X
        (same results, less time from the second search on).

    Returns
    -------
    PrimResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(5000, 3)), columns=["a", "b", "c"])
    >>> y = (X["a"] > 0.6).to_numpy() & (X["b"] < 0.5).to_numpy()
    >>> box = prim(X, y).boxes[0]
    >>> box.restricted, round(box.density, 2) >= 0.8
    (['a', 'b'], True)
    """
    if index is not None:
        index.check(X)
    cols = _columns(X) if index is None else index.cols
    y = _boolean_target(y, len(X))
    for name, value in [("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)]:
        _check_fraction(name, value, 0.5)
    _check_fraction("mass_min", mass_min)
    if not (isinstance(threshold, int | float) and 0 < threshold <= 1):
        raise UserError(f"threshold must be a density in (0, 1], got {threshold!r}")
    if not (isinstance(max_boxes, int) and max_boxes >= 1):
        raise UserError(f"max_boxes must be a positive integer, got {max_boxes!r}")
    n_total, t_interest = len(y), int(np.count_nonzero(y))
    if t_interest == 0:
        raise UserError("y marks no future of interest, so there is nothing to discover")

    init = _initial_limits(cols)
    sorted_rows = _sort_columns(cols) if index is None else index.sorted_rows
    active = np.ones(n_total, dtype=bool)
    boxes: list[PrimBox] = []
    curves = []
    for box_number in range(max_boxes):
        if not (y & active).any():
            break
        steps, counts = _peel(cols, y, active, sorted_rows, init, peel_alpha, mass_min, n_total)
        n_rows = np.array([c[0] for c in counts], dtype=float)
        n_interest = np.array([c[1] for c in counts], dtype=float)
        curve = pd.DataFrame({
            "box": box_number,
            "step": np.arange(len(steps)),
            "coverage": n_interest / t_interest,
            "density": n_interest / n_rows,
            "mass": n_rows / n_total,
            "n_restricted": [len(s.restricted(init)) for s in steps],
        })
        step = _choose_step(curve["coverage"].to_numpy(), curve["density"].to_numpy(), threshold)
        limits, inbox, n_pastes = _paste(cols, y, active, steps[step], init, paste_alpha,
                                         mass_min, n_total)
        m, k = int(np.count_nonzero(inbox)), int(np.count_nonzero(y & inbox))
        if box_number > 0 and k / m < threshold:
            break  # covering stops once the remaining futures hold no box dense enough
        quasi_p = _quasi_p(cols, y, active, limits, init, m, k)
        restricted = limits.restricted(init)
        order = sorted(restricted)  # report columns in the order of X
        boxes.append(PrimBox(
            limits={cols.names[j]: _limit_value(cols, limits, j) for j in order},
            coverage=k / t_interest,
            density=k / m,
            mass=m / n_total,
            n_futures=m,
            n_interest=k,
            data_range={cols.names[j]: (float(cols.low[j]), float(cols.high[j]))
                        for j in order if j in cols.low},
            quasi_p={cols.names[j]: quasi_p[j] for j in order},
            step=step,
            paste_steps=n_pastes,
            meets_threshold=bool(k / m >= threshold),
            tradeoff=curve.drop(columns="box"),
        ))
        curves.append(curve)
        active &= ~inbox
    return PrimResult(boxes, pd.concat(curves, ignore_index=True), float(threshold))


def significant_box(
    box: Box, X: pd.DataFrame, y: np.ndarray, max_p: float = 0.05, max_conditions: int = 3
) -> Box | None:
    """A PRIM box cut down to its few significant restrictions, re-measured on (X, y).

    Over a hundred parameters, PRIM's box restricts dozens of them, most by chance (each peel
    shaves a few per cent off whichever column helps most on these futures). Keeping only the
    restrictions whose quasi-p-value is below `max_p`, at most `max_conditions` of them (the
    most significant first), gives a box a reader can check; its coverage, density and mass are
    measured again on the same futures, so they describe the smaller box. None if no restriction
    is significant (or `box` has no quasi-p-values).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(4000, 20)), columns=[f"x{i}" for i in range(20)])
    >>> y = (X["x0"] > 0.7).to_numpy() & (rng.uniform(size=4000) < 0.9)
    >>> significant_box(prim(X, y).boxes[0], X, y).restricted
    ['x0']
    """
    quasi_p = getattr(box, "quasi_p", {}) or {}
    ranked = sorted((p, position) for position, (name, p) in enumerate(quasi_p.items())
                    if p < max_p)
    keep = {list(quasi_p)[position] for _, position in ranked[:max_conditions]}
    if not keep:
        return None
    limits = {name: limit for name, limit in box.limits.items() if name in keep}
    data_range = {name: span for name, span in box.data_range.items() if name in keep}
    y = _boolean_target(y, len(X))
    inside = Box(limits, 0.0, 0.0, 0.0, 0, 0, data_range).contains(X)
    m, k = int(inside.sum()), int((inside & y).sum())
    return Box(limits, coverage=k / max(int(y.sum()), 1), density=k / m if m else 0.0,
               mass=m / len(y), n_futures=m, n_interest=k, data_range=data_range)


def _limit_value(cols: _Columns, limits: _Limits, j: int) -> Any:
    if j in limits.kept:
        return frozenset(cols.categories[j][limits.kept[j]].tolist())
    return (float(limits.low[j]), float(limits.high[j]))


# ----------------------------------------------------------------------------------------------
# CART
# ----------------------------------------------------------------------------------------------


def cart(
    X: pd.DataFrame,
    y: np.ndarray,
    max_depth: int = 4,
    min_samples_leaf: int | float = 0.05,
    seed: int = 0,
) -> CartResult:
    """Fit a shallow classification tree and read its leaves as boxes (as EMA's ``CART``).

    Parameters
    ----------
    X : pandas.DataFrame
        One row per future. Non-numeric columns are split on their category codes (in sorted
        order of the labels), and a leaf's limit on them is the set of categories it keeps.
    y : array of bool
        True for the futures of interest.
    max_depth : int
        Depth of the tree; a leaf is restricted on at most this many splits.
    min_samples_leaf : int or float
        Smallest leaf, as a count of futures or (float) a share of them; 0.05 mirrors PRIM's
        `mass_min`.
    seed : int
        Seed of the tree's tie-breaking between equally good splits.

    Returns
    -------
    CartResult
        Leaves as `Box` objects (limits inclusive; a split ``x <= t`` makes ``t`` the upper limit
        of the left leaf and the lower limit of the right one), densest first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(2000, 2)), columns=["a", "b"])
    >>> best = cart(X, (X["a"] > 0.5).to_numpy(), max_depth=1).boxes[0]
    >>> best.restricted, best.density
    (['a'], 1.0)
    """
    from sklearn.tree import DecisionTreeClassifier

    cols = _columns(X)
    y = _boolean_target(y, len(X))
    matrix = np.column_stack([cols.values[j] for j in range(len(cols.names))]).astype(np.float32)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed).fit(matrix, y)
    structure = tree.tree_
    leaf_of_row = tree.apply(matrix)
    n_rows = np.bincount(leaf_of_row, minlength=structure.node_count)
    n_interest = np.bincount(leaf_of_row, weights=y, minlength=structure.node_count)
    t_interest, n_total = max(int(y.sum()), 1), len(y)

    boxes = []
    stack: list[tuple[int, dict[int, tuple[float, float]]]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            boxes.append(_cart_box(cols, bounds, int(n_rows[node]), int(n_interest[node]),
                                   t_interest, n_total))
            continue
        j, cut = int(structure.feature[node]), float(structure.threshold[node])
        low, high = bounds.get(j, (-math.inf, math.inf))
        stack.append((right, {**bounds, j: (max(low, cut), high)}))
        stack.append((left, {**bounds, j: (low, min(high, cut))}))
    boxes.sort(key=lambda b: (-b.density, -b.coverage))
    return CartResult(boxes, tree)


def _cart_box(cols: _Columns, bounds: dict[int, tuple[float, float]], m: int, k: int,
              t_interest: int, n_total: int) -> Box:
    limits: dict[Any, Any] = {}
    data_range = {}
    for j in sorted(bounds):
        low, high = bounds[j]
        name = cols.names[j]
        if j in cols.categories:
            codes = np.arange(len(cols.categories[j]))
            kept = (codes > low) & (codes <= high)
            limits[name] = frozenset(cols.categories[j][kept].tolist())
        else:
            data_low, data_high = float(cols.low[j]), float(cols.high[j])
            limits[name] = (max(low, data_low), min(high, data_high))
            data_range[name] = (data_low, data_high)
    return Box(limits, coverage=k / t_interest, density=k / m if m else 0.0, mass=m / n_total,
               n_futures=m, n_interest=k, data_range=data_range)


def _number(value: float) -> str:
    """A limit as a person would write it: three significant digits, no exponent."""
    return np.format_float_positional(value, precision=3, unique=False, fractional=False,
                                      trim="-")
