"""PRIM's compiled peel (`discovery._peel_kernel`) held to the Python peel it replaced.

`reference_window_peel` below is the former `discovery._window_peel` (one Python call per column
and side, reading a window of the column's lazily sorted order), with the former
`_SortedColumn` it read. One peeling step's candidates — limit, rows removed, cases of interest
among them, cut — must be the same to the bit, with and without value buckets, on columns with
many ties, float32 and integer columns, and after rows have left the box. The compiled peel
sorts fewer buckets (only those whose values it reads), so where the two orders differ in
rows out of the box the cut is checked by the rows it splits; with every bucket sorted in both,
the cut is the same position too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from offramp.analysis import discovery as d
from offramp.analysis import prim
from offramp.analysis.discovery import PrimIndex

# ----------------------------------------------------------------------------------------------
# The former Python peel, copied (ensure_sorted and filtered as they were)
# ----------------------------------------------------------------------------------------------


class ReferenceColumn:
    """The former `_SortedColumn`: one column's row indices, bucketed, buckets sorted lazily."""

    def __init__(self, order, bounds, done):
        self.order, self.bounds, self.done = order, bounds, done

    @classmethod
    def build(cls, values):
        n = len(values)
        n_buckets = min(d._SORT_BUCKETS, max(1, n // 4096))
        if n_buckets == 1:
            return cls(np.argsort(values, kind="quicksort").astype(np.int32), np.array([0, n]),
                       np.array([True]))
        sample = np.sort(values[:: max(1, n // 8192)])
        edges = np.unique(sample[np.arange(1, n_buckets) * len(sample) // n_buckets])
        bucket = np.searchsorted(edges, values, side="right").astype(np.uint8)
        order = np.argsort(bucket, kind="stable").astype(np.int32)
        counts = np.bincount(bucket, minlength=len(edges) + 1)
        return cls(order, np.concatenate([[0], np.cumsum(counts)]), counts <= 1)

    def ensure_sorted(self, start, stop, values):
        first = int(np.searchsorted(self.bounds, start, side="right")) - 1
        last = int(np.searchsorted(self.bounds, stop, side="left"))
        for b in range(max(first, 0), min(last, len(self.done))):
            if not self.done[b]:
                low, high = self.bounds[b], self.bounds[b + 1]
                segment = self.order[low:high]
                self.order[low:high] = segment[np.argsort(values[segment], kind="quicksort")]
                self.done[b] = True

    def filtered(self, start, stop, keep):
        window = self.order[start:stop]
        kept = keep[window]
        before = np.zeros(len(window) + 1, dtype=np.int64)
        np.cumsum(kept, out=before[1:])
        bounds = before[np.clip(self.bounds, start, stop) - start]
        return ReferenceColumn(window[kept], bounds, self.done.copy())


def reference_window_peel(column, start, stop, x, inbox, m, alpha, side):
    """The former `_window_peel`: (limit, rows removed, cut) or None."""
    span = stop - start
    if m == 0 or span == 0:
        return None
    if side == "low":
        rank = math.floor((m - 1) * alpha)
    else:
        rank = m - 1 - math.ceil((m - 1) * (1 - alpha))
    width = min(span, int((rank + 2) * span / m * 1.25) + 64)
    while True:
        first = start if side == "low" else stop - width
        column.ensure_sorted(first, first + width, x)
        window = column.order[first : first + width]
        positions = np.flatnonzero(inbox[window])
        rows = window[positions]
        if len(rows) > rank + 1:
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


# ----------------------------------------------------------------------------------------------
# Data with ties, float32 and integer columns
# ----------------------------------------------------------------------------------------------


def tied_table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ulp_steps = rng.integers(0, 12, n)
    X = pd.DataFrame({
        "uniform": rng.uniform(size=n),
        "five_values": rng.integers(0, 5, n) / 4.0,
        "two_values": rng.integers(0, 2, n).astype(float),
        "mostly_one": np.where(rng.uniform(size=n) < 0.97, 3.0, rng.uniform(size=n)),
        "integers": rng.integers(-3, 40, n),
        "float32": rng.uniform(size=n).astype(np.float32),
        "float32_steps": np.float32(1.0) + ulp_steps.astype(np.float32) * np.finfo(np.float32).eps,
        "float64_steps": 1.0 + rng.integers(0, 12, n) * np.finfo(np.float64).eps,
        "float32_rounded": np.round(rng.normal(size=n), 1).astype(np.float32),
    })
    assert X["float32_steps"].dtype == np.float32
    y = (X["uniform"] > 0.6).to_numpy() ^ (rng.uniform(size=n) < 0.2)
    return X, y


def compiled_candidates(columns, cols, start, stop, inbox, y, alpha):
    m = int(np.count_nonzero(inbox))
    single = np.array([cols.values[j].dtype == np.float32 for j in cols.numeric])
    return d._numeric_peels(columns, single, start, stop, inbox, y, m, alpha)


class Windows:
    """Both peels' state: the compiled orders with their windows (`start`, `stop`, flat
    positions) and the former orders with theirs (each column's own positions)."""

    def __init__(self, cols, n, sort_all):
        self.cols = cols
        self.columns = d._sort_columns(cols)
        self.start, self.stop = self.columns.offset[:-1].copy(), self.columns.offset[1:].copy()
        self.references = [ReferenceColumn.build(cols.values[j]) for j in cols.numeric]
        self.ref_start, self.ref_stop = [0] * len(self.references), [n] * len(self.references)
        if sort_all:  # the same order in both (one argsort of the same rows per bucket)
            self.columns.sort_buckets(np.flatnonzero(~self.columns.done))
            for c, column in enumerate(self.references):
                column.ensure_sorted(0, n, cols.values[cols.numeric[c]])
                assert np.array_equal(column.order, self.columns.order[self.start[c]:
                                                                       self.stop[c]])

    def check(self, inbox, y, alpha, same_cut):
        """Every numeric column's two peels: the compiled ones are the former ones (the cut
        too if `same_cut`; else the cut only splits the rows in the box the same way: where the
        compiled peel left a bucket unsorted, rows out of the box may lie otherwise). Returns
        (column, side, rows, compiled cut, former cut) of every peel."""
        cols, columns = self.cols, self.columns
        m = int(np.count_nonzero(inbox))
        peels = compiled_candidates(columns, cols, self.start, self.stop, inbox, y, alpha)
        found = []
        for c, j in enumerate(cols.numeric):
            x = cols.values[j]
            for side_index, side in enumerate(("high", "low")):
                i = 2 * c + side_index
                expected = reference_window_peel(self.references[c], self.ref_start[c],
                                                 self.ref_stop[c], x, inbox, m, alpha, side)
                where = f"column {cols.names[j]!r}, {side} peel"
                if expected is None:
                    assert peels.status[i] == d._NO_PEEL, where
                    continue
                limit, rows, cut = expected
                assert peels.status[i] == d._PEELED, where
                ours = d._column_value(peels.limit[i], x)
                assert float(ours) == float(limit), where  # to the bit
                if x.dtype.kind == "f":
                    assert ours.dtype == np.asarray(limit).dtype, where
                assert peels.removed[i] == len(rows), where
                assert peels.interest[i] == np.count_nonzero(y[rows]), where
                window = (columns.order[self.start[c]:peels.cut[i]] if side == "low"
                          else columns.order[peels.cut[i]:self.stop[c]])
                assert np.array_equal(np.sort(window[inbox[window]]), np.sort(rows)), where
                if same_cut:
                    assert peels.cut[i] - columns.offset[c] == cut, where
                found.append((c, side, rows, int(peels.cut[i]), cut))
        return found

    def narrow(self, inbox, y, alpha, same_cut):
        """Peel each column at both ends in turn, each order by its own cut."""
        for c in range(len(self.references)):
            for side in ("low", "high"):
                for c_found, side_found, rows, ours, theirs in self.check(inbox, y, alpha,
                                                                          same_cut):
                    if (c_found, side_found) == (c, side):
                        inbox[rows] = False
                        if side == "low":
                            self.start[c], self.ref_start[c] = ours, theirs
                        else:
                            self.stop[c], self.ref_stop[c] = ours, theirs

    def refilter(self, inbox):
        """Keep only the rows in the box, in both (buckets and sortedness kept)."""
        self.columns = d._filter_columns(self.columns, self.start, self.stop, inbox)
        self.start = self.columns.offset[:-1].copy()
        self.stop = self.columns.offset[1:].copy()
        self.references = [column.filtered(self.ref_start[c], self.ref_stop[c], inbox)
                           for c, column in enumerate(self.references)]
        size = int(np.count_nonzero(inbox))
        self.ref_start, self.ref_stop = [0] * len(self.references), [size] * len(self.references)


def assert_orders_sound(windows, inbox):
    """Each window holds every row in the box once; sorted buckets are sorted, with their
    values kept; buckets follow each other in value order."""
    columns, cols = windows.columns, windows.cols
    for c, j in enumerate(cols.numeric):
        window = columns.order[windows.start[c]:windows.stop[c]]
        assert np.array_equal(np.sort(window[inbox[window]]), np.flatnonzero(inbox))
        x = cols.values[j]
        previous_high = -np.inf
        for b in range(columns.first_bucket[c], columns.first_bucket[c + 1]):
            rows = columns.order[columns.bounds[b]:columns.bounds[b + 1]]
            if len(rows) == 0:
                continue
            assert x[rows].min() > previous_high
            previous_high = x[rows].max()
            if columns.done[b]:
                assert np.all(np.diff(x[rows]) >= 0)
                kept = columns.values[columns.value_at[b]:columns.value_at[b] + len(rows)]
                assert np.array_equal(kept, x[rows])


@pytest.mark.parametrize(("n", "seed"), [(300, 0), (300, 1), (40_000, 2)])
@pytest.mark.parametrize("alpha", [0.05, 0.2])
@pytest.mark.parametrize("sort_all", [False, True])
def test_one_step_of_candidates_matches_the_python_peel(n, seed, alpha, sort_all):
    X, y = tied_table(n, seed)
    cols = d._columns(X)
    windows = Windows(cols, n, sort_all)
    if n > 8192 and not sort_all:
        assert len(windows.columns.done) > 2 * len(cols.numeric)  # value buckets
    rng = np.random.default_rng(seed + 10)
    inbox = np.ones(n, dtype=bool)
    same_cut = sort_all

    # Every row in the box; then a fifth of the rows gone (stale entries in every window).
    windows.check(inbox, y, alpha, same_cut)
    inbox[rng.choice(n, n // 5, replace=False)] = False
    windows.check(inbox, y, alpha, same_cut)
    # Windows narrowed by peels at both ends of every column.
    windows.narrow(inbox, y, alpha, same_cut)
    assert_orders_sound(windows, inbox)
    if n > 8192 and not sort_all:
        assert not windows.columns.done.all()  # still lazy after a few peels
    windows.check(inbox, y, alpha, same_cut)
    # After a re-filter: each column keeps its rows in the box, sorted or not.
    windows.refilter(inbox)
    assert windows.columns.order.shape == (len(cols.numeric) * int(inbox.sum()),)
    assert_orders_sound(windows, inbox)
    windows.check(inbox, y, alpha, same_cut)
    windows.narrow(inbox, y, alpha, same_cut)
    assert_orders_sound(windows, inbox)


def test_the_order_of_tied_rows_does_not_change_the_peel():
    # Removal is decided by value, so shuffling the rows within each run of tied values (which
    # moves the cut among rows out of the box) changes no step of the trajectory.
    n = 40_000
    X, y = tied_table(n, 3)
    cols = d._columns(X)
    init = d._initial_limits(cols)
    active = np.random.default_rng(4).uniform(size=n) < 0.9  # through the re-filter path too
    for everyone in (np.ones(n, dtype=bool), active):
        plain = d._sort_columns(cols)
        shuffled = d._sort_columns(cols)
        shuffled.sort_buckets(np.flatnonzero(~shuffled.done))
        rng = np.random.default_rng(5)
        for c, j in enumerate(cols.numeric):
            low, high = shuffled.offset[c], shuffled.offset[c + 1]
            order = shuffled.order[low:high]
            values = cols.values[j][order]
            runs = np.flatnonzero(np.diff(values)) + 1
            for run in np.split(np.arange(len(order)), runs):
                order[run] = order[rng.permutation(run)]
            assert np.array_equal(values, cols.values[j][order])
        expected = d._peel(cols, y, everyone, plain, init, 0.05, 0.05, n)
        steps, counts = d._peel(cols, y, everyone, shuffled, init, 0.05, 0.05, n)
        assert counts == expected[1] and len(counts) > 20
        assert [(s.low, s.high) for s in steps] == [(s.low, s.high) for s in expected[0]]


def test_prim_with_an_index_and_several_boxes_on_tied_data():
    # The index's orders are sorted by the first search and filtered (not copied) by the
    # covering boxes: every search gives what it gives without the index.
    X, y = tied_table(20_000, 6)
    index = PrimIndex(X)
    for flags in (y, ~y, (X["integers"] > 30).to_numpy()):
        alone = prim(X, flags, max_boxes=3, threshold=0.6)
        shared = prim(X, flags, max_boxes=3, threshold=0.6, index=index)
        assert shared.tradeoff.equals(alone.tradeoff)
        assert [b.limits for b in shared.boxes] == [b.limits for b in alone.boxes]


def test_a_midpoint_that_overflows_removes_the_rows_beyond_it():
    # v + w overflows to an infinity: the limit is that infinity, as NumPy computes it, and the
    # rows strictly beyond it go (the former peel took only the rows of the window it had read).
    huge = np.repeat([1.0e308, 1.2e308, 1.4e308, 1.6e308], 50)
    X = pd.DataFrame({"big": huge, "small": -huge})
    y = np.random.default_rng(8).uniform(size=len(X)) < 0.3
    cols = d._columns(X)
    columns = d._sort_columns(cols)
    start, stop = columns.offset[:-1].copy(), columns.offset[1:].copy()
    peels = compiled_candidates(columns, cols, start, stop, np.ones(len(X), dtype=bool), y, 0.05)
    assert (peels.status == d._PEELED).all()
    with np.errstate(over="ignore"):
        limits = [huge[-1] + huge[-51], huge[0] + huge[50], -huge[0] - huge[50],
                  -huge[-1] - huge[-51]]  # big: high, low; small: high, low
    assert peels.limit.tolist() == [np.inf, np.inf, -np.inf, -np.inf] == [v / 2 for v in limits]
    for i, x in enumerate([huge, huge, -huge, -huge]):
        beyond = x > peels.limit[i] if i % 2 == 0 else x < peels.limit[i]
        assert peels.removed[i] == beyond.sum()
        assert peels.interest[i] == (y & beyond).sum()
    assert peels.removed.tolist() == [0, 200, 200, 0]


def test_the_vectorized_objective_is_lenient1_to_the_bit():
    rng = np.random.default_rng(7)
    for m, k in [(10_000, 3_117), (977, 0), (977, 977), (50, 13)]:
        m_new = np.concatenate([rng.integers(0, m + 1, 500), [0, m, m - 1]])
        k_new = np.minimum(m_new, rng.integers(0, k + 1, len(m_new)))
        k_new[m_new == m] = k
        ours = d._lenient1_many(k, m, k_new, m_new)
        expected = [d._lenient1(k, m, int(a), int(b)) for a, b in zip(k_new, m_new, strict=True)]
        assert ours.tolist() == expected
