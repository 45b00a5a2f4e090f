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
can remove, and the box is a boolean mask over the rows — X itself is never copied.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from offramp.errors import UserError

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


class _SortedColumn:
    """Row indices of one numeric column in ascending order of its values, sorted lazily.

    The rows are first split into value buckets (approximate quantiles; tied values always share
    a bucket) by a cheap counting sort, and a bucket is fully sorted only when a peel first reads
    it. Peels read only the tails of a column unless PRIM restricts it deeply, so most buckets of
    most columns are never sorted: this saves most of the cost of a full argsort per column.
    """

    __slots__ = ("bounds", "done", "order")

    def __init__(self, order: np.ndarray, bounds: np.ndarray, done: np.ndarray) -> None:
        self.order = order  # row indices, bucket by bucket
        self.bounds = bounds  # bucket b holds order[bounds[b]:bounds[b + 1]]
        self.done = done  # whether bucket b is sorted yet

    @classmethod
    def build(cls, values: np.ndarray, index_dtype: type) -> _SortedColumn:
        n = len(values)
        n_buckets = min(_SORT_BUCKETS, max(1, n // 4096))
        if n_buckets == 1:
            order: np.ndarray = np.argsort(values, kind="quicksort").astype(index_dtype)
            return cls(order, np.array([0, n]), np.array([True]))
        sample = np.sort(values[:: max(1, n // 8192)])
        edges = np.unique(sample[np.arange(1, n_buckets) * len(sample) // n_buckets])
        bucket = np.searchsorted(edges, values, side="right").astype(np.uint8)
        order = np.argsort(bucket, kind="stable").astype(index_dtype)  # a radix sort for uint8
        counts = np.bincount(bucket, minlength=len(edges) + 1)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        return cls(order, bounds, counts <= 1)

    def ensure_sorted(self, start: int, stop: int, values: np.ndarray) -> None:
        """Sort every bucket that overlaps order[start:stop]."""
        first = int(np.searchsorted(self.bounds, start, side="right")) - 1
        last = int(np.searchsorted(self.bounds, stop, side="left"))
        for b in range(max(first, 0), min(last, len(self.done))):
            if not self.done[b]:
                low, high = self.bounds[b], self.bounds[b + 1]
                segment = self.order[low:high]
                self.order[low:high] = segment[np.argsort(values[segment], kind="quicksort")]
                self.done[b] = True

    def filtered(self, start: int, stop: int, keep: np.ndarray) -> _SortedColumn:
        """The rows of order[start:stop] for which `keep` holds, buckets and sortedness kept."""
        window = self.order[start:stop]
        kept = keep[window]
        before = np.zeros(len(window) + 1, dtype=np.int64)
        np.cumsum(kept, out=before[1:])
        bounds = before[np.clip(self.bounds, start, stop) - start]
        return _SortedColumn(window[kept], bounds, self.done.copy())


def _filter_columns(
    orders: dict[int, _SortedColumn], start: dict[int, int], stop: dict[int, int],
    keep: np.ndarray,
) -> dict[int, _SortedColumn]:
    """`_SortedColumn.filtered` for every column, on all cores when the orders are long (NumPy
    releases the GIL in its gathers and sums, so threads share the work without copying)."""
    columns = list(orders)
    longest = max((stop[j] - start[j] for j in columns), default=0)
    workers = max(1, min(len(columns), os.cpu_count() or 1))
    if workers == 1 or longest < _PARALLEL_FROM:
        return {j: orders[j].filtered(start[j], stop[j], keep) for j in columns}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        filtered = pool.map(lambda j: orders[j].filtered(start[j], stop[j], keep), columns)
        return dict(zip(columns, filtered, strict=True))


def _sort_columns(cols: _Columns) -> dict[int, _SortedColumn]:
    """A `_SortedColumn` for every numeric column, built on all cores."""
    n = len(next(iter(cols.values.values())))
    index_dtype = np.int32 if n < 2**31 else np.int64

    def build(position: int) -> _SortedColumn:
        # NumPy releases the GIL in its sorts, so threads use every core without copying X.
        return _SortedColumn.build(cols.values[position], index_dtype)

    workers = max(1, min(len(cols.numeric), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(cols.numeric, pool.map(build, cols.numeric), strict=True))


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
        self._sorted: dict[int, _SortedColumn] | None = None

    @property
    def sorted_rows(self) -> dict[int, _SortedColumn]:
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
    """A candidate peel: drop `rows` from the box by moving one limit of column j."""

    j: int
    side: str  # "high", "low" or "category"
    value: Any  # the new limit, or the category code removed
    rows: np.ndarray
    n_interest: int
    cut: int = 0  # new start (side "low") or stop (side "high") in the column's sorted order


def _window_peel(
    column: _SortedColumn, start: int, stop: int, x: np.ndarray, inbox: np.ndarray, m: int,
    alpha: float, side: str,
) -> tuple[Any, np.ndarray, int] | None:
    """Quantile peel of one end of a numeric column, reading only a window of its sorted order.

    ``column.order[start:stop]`` holds, in ascending order of x, a superset of the rows in the
    box.
    The window at the peeled end is grown until it holds enough in-box rows to place the
    quantile and to see the next distinct value beyond it.
    Returns (new limit, rows removed, new start/stop) or None if the column has no rows.
    """
    span = stop - start
    if m == 0 or span == 0:
        return None
    if side == "low":
        rank = math.floor((m - 1) * alpha)  # position of the quantile among in-box values
    else:
        rank = m - 1 - math.ceil((m - 1) * (1 - alpha))  # same, counted from the top
    width = min(span, int((rank + 2) * span / m * 1.25) + 64)
    while True:
        first = start if side == "low" else stop - width
        column.ensure_sorted(first, first + width, x)
        window = column.order[first : first + width]
        positions = np.flatnonzero(inbox[window])
        rows = window[positions]
        if len(rows) > rank + 1:
            # Fast path: the quantile value and its inner neighbour differ and their midpoint
            # lies strictly between them, so exactly the rank + 1 outermost rows go. Reading
            # two values spares gathering the whole window's values.
            if side == "low":
                v, w = x[rows[rank]], x[rows[rank + 1]]
                limit = (v + w) / 2
                if v < limit < w:
                    return limit, rows[: rank + 1], start + int(positions[rank]) + 1
            else:
                top = len(rows) - 1 - rank
                w, v = x[rows[top - 1]], x[rows[top]]
                limit = (w + v) / 2
                if w < limit < v:
                    return limit, rows[top:], stop - width + int(positions[top - 1]) + 1
        if len(rows) > rank:
            values = x[rows]
            if side == "low":
                v = values[rank]
                beyond = np.searchsorted(values, v, side="right")
                if beyond < len(values) or width == span:
                    limit = (v + values[beyond]) / 2 if beyond < len(values) else v
                    removed = int(np.searchsorted(values, limit, side="left"))
                    cut = start + (int(positions[removed - 1]) + 1 if removed else 0)
                    return limit, rows[:removed], cut
            else:
                v = values[len(values) - 1 - rank]
                below = np.searchsorted(values, v, side="left")
                if below > 0 or width == span:
                    limit = (values[below - 1] + v) / 2 if below > 0 else v
                    kept = int(np.searchsorted(values, limit, side="right"))
                    cut = stop - width + (int(positions[kept - 1]) + 1 if kept else 0)
                    return limit, rows[kept:], cut
        if width == span:
            return None
        width = min(span, 2 * width)


def _peel(
    cols: _Columns, y: np.ndarray, active: np.ndarray, sorted_rows: dict[int, _SortedColumn],
    init: _Limits, alpha: float, mass_min: float, n_total: int,
) -> tuple[list[_Limits], list[tuple[int, int]]]:
    """Peel from the box holding all active rows down to `mass_min`.

    Each step evaluates a low and a high quantile peel of every numeric column and the removal
    of each category of every categorical column, and applies the one with the best
    `_lenient1` objective (ties: the peel leaving more dimensions unrestricted, then the first
    candidate: numeric columns in the order of X, high before low, then categorical columns —
    EMA's order when the numeric columns are all floats). It stops when the best peel would
    leave less than `mass_min` of all futures in the box or does not raise the density.

    Returns the limits and the (futures, interest) counts of every step, step 0 first.
    """
    inbox = active.copy()
    m = int(np.count_nonzero(inbox))
    k = int(np.count_nonzero(y & inbox))
    # Sorted orders restricted to the active rows (no copy when all rows are active); after
    # that, rows that leave the box stay in the orders as stale entries until a re-filter.
    all_active = m == len(inbox)
    orders = dict(sorted_rows)
    if not all_active:
        orders = _filter_columns(orders, dict.fromkeys(orders, 0),
                                 {j: len(column.order) for j, column in orders.items()}, inbox)
    members = np.flatnonzero(inbox) if cols.categorical else None
    start = dict.fromkeys(orders, 0)
    stop = {j: len(column.order) for j, column in orders.items()}
    filtered_size = m
    limits = init.copy()
    steps, counts = [limits.copy()], [(m, k)]
    restricted = set(limits.restricted(init))
    n_cols = len(cols.names)

    while m > 0:
        candidates: list[_Peel] = []
        for j in cols.numeric:
            for side in ("high", "low"):
                found = _window_peel(orders[j], start[j], stop[j], cols.values[j], inbox, m,
                                     alpha, side)
                if found is not None:
                    limit, rows, cut = found
                    candidates.append(_Peel(j, side, limit, rows, int(np.count_nonzero(y[rows])),
                                            cut))
        if cols.categorical:
            assert members is not None  # set whenever there are categorical columns
            in_box = members[inbox[members]]
            for j in cols.categorical:
                if limits.kept[j].sum() < 2:
                    continue
                codes = cols.values[j][in_box]
                for code in np.flatnonzero(limits.kept[j]):
                    rows = in_box[codes == code]
                    candidates.append(_Peel(j, "category", int(code), rows,
                                            int(np.count_nonzero(y[rows]))))
        if not candidates:
            break

        scores = []
        for c in candidates:
            after = restricted | {c.j} if _peel_restricts(c, limits, init) else restricted - {c.j}
            objective = _lenient1(k, m, k - c.n_interest, m - len(c.rows))
            scores.append((objective, n_cols - len(after)))
        best = max(range(len(candidates)), key=lambda i: (*scores[i], -i))
        objective, chosen = scores[best][0], candidates[best]
        mass_new = (m - len(chosen.rows)) / n_total
        if not (mass_new >= mass_min and len(chosen.rows) > 0 and objective > 0):
            break

        inbox[chosen.rows] = False
        m -= len(chosen.rows)
        k -= chosen.n_interest
        if chosen.side == "low":
            limits.low[chosen.j] = chosen.value
            start[chosen.j] = chosen.cut
        elif chosen.side == "high":
            limits.high[chosen.j] = chosen.value
            stop[chosen.j] = chosen.cut
        else:
            limits.kept[chosen.j][chosen.value] = False
        restricted = set(limits.restricted(init))
        steps.append(limits.copy())
        counts.append((m, k))

        if m < _REFILTER_BELOW * filtered_size:
            orders = _filter_columns(orders, start, stop, inbox)
            for j in orders:
                start[j], stop[j] = 0, len(orders[j].order)
            if members is not None:
                members = members[inbox[members]]
            filtered_size = m
    return steps, counts


def _peel_restricts(c: _Peel, limits: _Limits, init: _Limits) -> bool:
    """Whether column c.j is restricted in the box that peel c would produce."""
    j = c.j
    if c.side == "category":
        return True  # a category is removed, so the kept set differs from the full one
    low = c.value if c.side == "low" else limits.low[j]
    high = c.value if c.side == "high" else limits.high[j]
    return low != init.low[j] or high != init.high[j]


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

        candidates: list[tuple[_Limits, np.ndarray]] = []
        for j in [*cols.numeric, *cols.categorical]:  # EMA's order: numeric columns first
            if j not in outside:
                continue
            others_ok = active & (violations == outside[j])  # inside on every other dimension
            values = cols.values[j]
            if j in limits.kept:
                for code in np.flatnonzero(~limits.kept[j]):
                    pasted = limits.copy()
                    pasted.kept[j][code] = True
                    candidates.append((pasted, others_ok & pasted.kept[j][values]))
                continue
            low, high = limits.low[j], limits.high[j]
            below = values[others_ok & (values <= low)]
            new_low = _ema_quantile(below, 1 - alpha) if below.size else init.low[j]
            pasted = limits.copy()
            pasted.low[j] = new_low
            candidates.append((pasted, others_ok & (values >= new_low) & (values <= high)))
            above = values[others_ok & (values >= high)]
            new_high = _ema_quantile(above, alpha) if above.size else init.high[j]
            pasted = limits.copy()
            pasted.high[j] = new_high
            candidates.append((pasted, others_ok & (values >= low) & (values <= new_high)))

        scored = []
        for i, (pasted, mask) in enumerate(candidates):
            m_new, k_new = int(np.count_nonzero(mask)), int(np.count_nonzero(y & mask))
            objective = _lenient1(k, m, k_new, m_new)
            scored.append((objective, n_cols - len(pasted.restricted(init)), -i, m_new, k_new))
        objective, _, minus_i, m_new, k_new = max(scored)
        mass_new = m_new / n_total
        if not (mass_new >= mass_min and m_new > m and objective > 0 and k_new / m_new > k / m):
            return limits, inbox, n_pastes
        limits = candidates[-minus_i][0]
        n_pastes += 1


def _quasi_p(
    cols: _Columns, y: np.ndarray, active: np.ndarray, limits: _Limits, init: _Limits,
    m: int, k: int,
) -> dict[int, float]:
    """Quasi-p-value of each restricted column (EMA's ``_calculate_quasip``).

    For each restricted side, the box's k cases of interest out of m futures are tested
    (one-sided binomial) against the density of the box with that side's limit removed.
    """
    from scipy.stats import binomtest  # scipy.stats is slow to import; only PRIM needs it

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
            worst = max(worst, binomtest(k, m, base_rate, alternative="greater").pvalue)
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
