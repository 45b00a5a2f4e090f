"""Scenario discovery (offramp.analysis.discovery): PRIM and CART.

PRIM is checked four ways: it recovers a planted box; one peel on a tiny table matches a hand
computation; it matches a slow, loop-by-loop reference implementation written below from EMA
Workbench's algorithm; and, where the EMA Workbench itself is installed, it gives the same
peeling trajectory, boxes and quasi-p-values as EMA's `Prim`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from offramp.analysis import Box, PrimBox, cart, prim
from offramp.analysis import discovery as discovery_module
from offramp.errors import UserError


def planted_box(n: int, n_noise: int = 8, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Cases of interest exactly where x1 > 0.7 and x2 < 0.3, plus 5% label noise.

    The noise flips 5% of the in-box futures to "not of interest" and as many out-of-box futures
    to "of interest", so 5% of the cases of interest lie outside the box. (Flipping 5% of *all*
    labels would put ~35% of the cases of interest outside the box, capping coverage at ~0.65.)
    """
    rng = np.random.default_rng(seed)
    names = ["x1", "x2"] + [f"noise{i}" for i in range(n_noise)]
    X = pd.DataFrame(rng.uniform(size=(n, len(names))), columns=names)
    inside = (X["x1"] > 0.7).to_numpy() & (X["x2"] < 0.3).to_numpy()
    y = inside.copy()
    n_flip = int(0.05 * inside.sum())
    y[rng.choice(np.flatnonzero(inside), n_flip, replace=False)] = False
    y[rng.choice(np.flatnonzero(~inside), n_flip, replace=False)] = True
    return X, y


# ----------------------------------------------------------------------------------------------
# PRIM on planted and hand-checkable data
# ----------------------------------------------------------------------------------------------


def test_prim_recovers_a_planted_box():
    X, y = planted_box(20_000)
    # The default threshold (0.8) picks the widest box of density >= 0.8, which still reaches a
    # little beyond the planted edges; asking for 0.9 picks the box at the edges.
    result = prim(X, y, threshold=0.9)
    box = result.boxes[0]
    assert box.restricted == ["x1", "x2"]  # no noise dimension
    assert box.coverage > 0.9 and box.density > 0.9
    low_x1, _ = box.limits["x1"]
    _, high_x2 = box.limits["x2"]
    assert low_x1 == pytest.approx(0.7, abs=0.02)
    assert high_x2 == pytest.approx(0.3, abs=0.02)
    assert box.quasi_p["x1"] < 1e-6 and box.quasi_p["x2"] < 1e-6
    assert box.contains(X).sum() == box.n_futures
    assert box.meets_threshold
    # The trade-off curve starts with all futures and never loses mass below mass_min.
    first = result.tradeoff.iloc[0]
    assert (first["coverage"], first["mass"], first["n_restricted"]) == (1.0, 1.0, 0)
    assert result.tradeoff["mass"].min() >= 0.05
    assert list(result.tradeoff.columns) == [
        "box", "step", "coverage", "density", "mass", "n_restricted",
    ]


def test_one_peel_by_hand():
    # x = 1..20, the cases of interest are x >= 15 (6 of 20, density 0.3).
    X = pd.DataFrame({"x": np.arange(1.0, 21.0)})
    y = X["x"].to_numpy() >= 15
    result = prim(X, y, peel_alpha=0.1, mass_min=0.85)
    # Low peel: EMA's quantile of 20 values at 0.1 sits at (20 - 1) * 0.1 = 1.9, between the
    # 2nd and 3rd values, so the limit is (2 + 3) / 2 = 2.5 and x = 1, 2 go: density 6/18,
    # objective (6/18 - 6/20) / 2 > 0. High peel: at 19 * 0.9 = 17.1 -> the 19th value (19), so the
    # limit is (18 + 19) / 2 = 18.5 and x = 19, 20 go, both of interest: density falls.
    # The next low peel would leave 16 of 20 futures (mass 0.8 < 0.85), so peeling stops.
    curve = result.tradeoff
    assert curve["mass"].tolist() == [1.0, 0.9]
    assert curve["density"].tolist() == pytest.approx([0.3, 6 / 18])
    assert curve["coverage"].tolist() == [1.0, 1.0]
    box = result.boxes[0]
    # No step reaches density 0.8, so the densest one is chosen; pasting x back down to 1.5
    # would add x = 2 (not of interest), so no paste is applied.
    assert box.limits == {"x": (2.5, 20.0)}
    assert (box.step, box.paste_steps, box.meets_threshold) == (1, 0, False)
    assert box.describe("Talks open") == (
        "Talks open in 33% of futures where x > 2.5; the box holds 100% of all futures where "
        "this happens (coverage) and 90% of all futures (mass)."
    )


def test_categorical_columns_are_peeled_a_category_at_a_time():
    rng = np.random.default_rng(3)
    n = 4000
    X = pd.DataFrame({"a": rng.uniform(size=n), "side": rng.choice(["east", "north", "west"], n)})
    y = (X["side"] == "east").to_numpy() & (X["a"] > 0.5).to_numpy()
    box = prim(X, y).boxes[0]
    assert box.limits["side"] == frozenset({"east"})
    assert box.density > 0.9
    assert "side is east" in box.describe("It happens")
    assert box.contains(X).sum() == box.n_futures


def test_several_boxes_cover_separate_regions():
    rng = np.random.default_rng(4)
    n = 20_000
    X = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a", "b", "c", "d"])
    first = (X["a"] > 0.8).to_numpy() & (X["b"] > 0.5).to_numpy()
    second = (X["c"] < 0.2).to_numpy() & (X["d"] < 0.5).to_numpy()
    result = prim(X, first | second, max_boxes=3, threshold=0.8)
    assert len(result.boxes) >= 2
    found = [set(b.restricted) for b in result.boxes[:2]]
    assert {"a", "b"} in found and {"c", "d"} in found
    assert sum(b.coverage for b in result.boxes[:2]) > 0.8
    assert set(result.tradeoff["box"]) >= {0, 1}


def test_plot_writes_the_tradeoff_figure(tmp_path):
    from offramp.report.figures import tradeoff_figure

    X, y = planted_box(3000, n_noise=2)
    path = tmp_path / "tradeoff.png"
    tradeoff_figure(prim(X, y)).savefig(path, dpi=120)
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_describe_reads_like_a_sentence():
    box = Box({"us_support": (0.0, 0.42), "russian_mobilization": (18000.0, 40000.0)},
              coverage=0.64, density=0.81, mass=0.12, n_futures=120, n_interest=97,
              data_range={"us_support": (0.0, 1.0), "russian_mobilization": (5000.0, 40000.0)})
    assert box.describe("The war goes on past week 104") == (
        "The war goes on past week 104 in 81% of futures where us_support < 0.42 and "
        "russian_mobilization > 18000; the box holds 64% of all futures where this happens "
        "(coverage) and 12% of all futures (mass)."
    )
    assert Box({"x": (0.25, 0.5)}, 0.5, 0.9, 0.1, 10, 9, {"x": (0.0, 1.0)}).conditions() == [
        "0.25 < x < 0.5"
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.arange(10) % 3}, "boolean"),
        ({"y": np.ones(9, dtype=bool)}, "one flag per future"),
        ({"y": np.zeros(10, dtype=bool)}, "no future of interest"),
        ({"peel_alpha": 0.7}, "peel_alpha"),
        ({"mass_min": 0}, "mass_min"),
        ({"threshold": 1.5}, "threshold"),
        ({"max_boxes": 0}, "max_boxes"),
    ],
)
def test_prim_rejects_bad_input(kwargs, message):
    X = pd.DataFrame({"a": np.linspace(0, 1, 10)})
    arguments = {"y": X["a"].to_numpy() > 0.5, **kwargs}
    with pytest.raises(UserError, match=message):
        prim(X, **arguments)


def test_prim_rejects_missing_values():
    X = pd.DataFrame({"a": [0.1, np.nan, 0.3, 0.4]})
    with pytest.raises(UserError, match="'a'.*missing"):
        prim(X, np.array([True, False, True, False]))


def test_cart_leaves_are_boxes():
    X, y = planted_box(5000, n_noise=3)
    result = cart(X, y, max_depth=2, min_samples_leaf=0.02)
    best = result.boxes[0]
    assert set(best.restricted) == {"x1", "x2"}
    assert best.density > 0.85 and best.coverage > 0.85
    assert best.limits["x1"][0] == pytest.approx(0.7, abs=0.03)
    assert best.limits["x2"][1] == pytest.approx(0.3, abs=0.03)
    assert sum(b.n_futures for b in result.boxes) == len(X)
    assert sum(b.mass for b in result.boxes) == pytest.approx(1.0)
    assert "x1 > 0.7" in best.describe("It happens")


# ----------------------------------------------------------------------------------------------
# A slow reference PRIM, one Python loop per row, written from EMA Workbench 2.5's prim.py
# ----------------------------------------------------------------------------------------------


def reference_quantile(data: list[float], quantile: float) -> float:
    """EMA's `get_quantile` (from sdtoolkit), transcribed."""
    data = sorted(data)
    i = (len(data) - 1) * quantile
    lower, higher = int(math.floor(i)), int(math.ceil(i))
    if quantile > 0.5:
        while data[lower] == data[higher] and lower > 0:
            lower -= 1
    else:
        while data[lower] == data[higher] and higher < len(data) - 1:
            higher += 1
    return (data[lower] + data[higher]) / 2


def reference_objective(rows_old: list[int], rows_new: list[int], y: list[bool]) -> float:
    mean_old = sum(y[i] for i in rows_old) / len(rows_old)
    mean_new = sum(y[i] for i in rows_new) / len(rows_new) if rows_new else 0.0
    if mean_old == mean_new:
        return 0.0
    return (mean_new - mean_old) / abs(len(rows_old) - len(rows_new))


def reference_prim(X: pd.DataFrame, y_array: np.ndarray, threshold: float, alpha: float = 0.05,
                   mass_min: float = 0.05):
    """Peel, choose the widest step of density >= threshold, paste, quasi-p: with loops."""
    rows = X.to_numpy().tolist()
    y = [bool(v) for v in y_array]
    n, d = len(rows), X.shape[1]
    init = [[min(r[j] for r in rows), max(r[j] for r in rows)] for j in range(d)]

    def inside(box, j_free=None):
        return [i for i in range(n)
                if all(box[j][0] <= rows[i][j] <= box[j][1] for j in range(d) if j != j_free)]

    def n_restricted(box):
        return sum(box[j] != init[j] for j in range(d))

    box, members = [list(b) for b in init], list(range(n))
    steps = [([list(b) for b in box], members)]
    while True:
        candidates = []
        for j in range(d):
            values = [rows[i][j] for i in members]
            for side in ("high", "low"):
                new_box = [list(b) for b in box]
                if side == "high":
                    new_box[j][1] = reference_quantile(values, 1 - alpha)
                    kept = [i for i in members if rows[i][j] <= new_box[j][1]]
                else:
                    new_box[j][0] = reference_quantile(values, alpha)
                    kept = [i for i in members if rows[i][j] >= new_box[j][0]]
                score = (reference_objective(members, kept, y), d - n_restricted(new_box))
                candidates.append((score, new_box, kept))
        best = max(candidates, key=lambda c: c[0])  # max() keeps the first of equal scores
        (objective, _), new_box, kept = best
        if not (len(kept) / n >= mass_min and len(kept) < len(members) and objective > 0):
            break
        box, members = new_box, kept
        steps.append(([list(b) for b in box], members))

    def stats(members):
        k = sum(y[i] for i in members)
        return k / sum(y), k / len(members)

    coverage_density = [stats(m) for _, m in steps]
    dense = [s for s in range(len(steps)) if coverage_density[s][1] >= threshold]
    chosen = max(dense, key=lambda s: coverage_density[s]) if dense else max(
        range(len(steps)), key=lambda s: (coverage_density[s][1], coverage_density[s][0]))
    box, members = steps[chosen]

    while True:  # pasting
        restricted = [j for j in range(d) if box[j] != init[j]]
        candidates = []
        for j in restricted:
            others = inside(box, j_free=j)
            below = [rows[i][j] for i in others if rows[i][j] <= box[j][0]]
            above = [rows[i][j] for i in others if rows[i][j] >= box[j][1]]
            for side, data in (("low", below), ("high", above)):
                new_box = [list(b) for b in box]
                if side == "low":
                    new_box[j][0] = reference_quantile(data, 1 - alpha) if data else init[j][0]
                else:
                    new_box[j][1] = reference_quantile(data, alpha) if data else init[j][1]
                kept = inside(new_box)
                score = (reference_objective(members, kept, y), d - n_restricted(new_box))
                candidates.append((score, new_box, kept))
        if not candidates:
            break
        (objective, _), new_box, kept = max(candidates, key=lambda c: c[0])
        mean_old = sum(y[i] for i in members) / len(members)
        mean_new = sum(y[i] for i in kept) / len(kept)
        if not (len(kept) / n >= mass_min and len(kept) > len(members) and objective > 0
                and mean_new > mean_old):
            break
        box, members = new_box, kept

    k, m = sum(y[i] for i in members), len(members)
    quasi_p = {}
    for j in [j for j in range(d) if box[j] != init[j]]:
        worst = 0.0
        for side in (0, 1):
            if box[j][side] != init[j][side]:
                relaxed = [list(b) for b in box]
                relaxed[j][side] = init[j][side]
                relaxed_members = inside(relaxed)
                base = sum(y[i] for i in relaxed_members) / len(relaxed_members)
                worst = max(worst, binomtest(k, m, base, alternative="greater").pvalue)
        quasi_p[X.columns[j]] = worst
    limits = {X.columns[j]: tuple(box[j]) for j in range(d) if box[j] != init[j]}
    return [[cov, den] for cov, den in coverage_density], limits, quasi_p, chosen


@pytest.mark.parametrize("seed", [0, 1])
def test_prim_matches_the_reference_implementation(seed):
    X, y = planted_box(2000, n_noise=2, seed=seed)
    # Low-density threshold makes the chosen box an early, wide one, so pasting has work to do.
    for threshold in (0.5, 0.9):
        trajectory, limits, quasi_p, chosen = reference_prim(X, y, threshold)
        result = prim(X, y, threshold=threshold)
        box = result.boxes[0]
        assert result.tradeoff[["coverage", "density"]].to_numpy().tolist() == trajectory
        assert box.step == chosen
        assert box.limits == limits
        assert box.quasi_p == pytest.approx(quasi_p, rel=1e-9)


@pytest.mark.parametrize("seed", [1, 4])
def test_reference_pastes_agree_when_pasting_happens(seed):
    # Noisy data and a threshold no step reaches: the densest, smallest box is chosen, and
    # pasting grows it back (seeds picked so that it does).
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(1500, 3)), columns=["a", "b", "c"])
    y = ((X["a"] > 0.6) & (X["b"] < 0.6)).to_numpy() ^ (rng.uniform(size=1500) < 0.1)
    trajectory, limits, quasi_p, chosen = reference_prim(X, y, threshold=1.0)
    result = prim(X, y, threshold=1.0)
    box = result.boxes[0]
    assert box.paste_steps > 0
    assert result.tradeoff[["coverage", "density"]].to_numpy().tolist() == trajectory
    assert (box.step, box.limits) == (chosen, limits)
    assert box.quasi_p == pytest.approx(quasi_p, rel=1e-9)


# ----------------------------------------------------------------------------------------------
# The same data through the EMA Workbench 2.5.3 (in the test extra: these tests never skip)
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ema_prim():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema_prim_module
        from ema_workbench.analysis import scenario_discovery_util
    return ema_prim_module, scenario_discovery_util


def ema_limits(sdutil, box_lims: pd.DataFrame, box_init: pd.DataFrame) -> dict:
    restricted = sdutil._determine_restricted_dims(box_lims, box_init)
    return {name: tuple(float(v) for v in box_lims[name]) for name in restricted}


def test_prim_matches_ema_workbench(ema_prim):
    ema, sdutil = ema_prim
    X, y = planted_box(20_000)
    result = prim(X, y, threshold=0.8)
    ours = result.boxes[0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ema.Prim(X, y.astype(int), threshold=0.8)
        peeled = theirs.find_box()
    trajectory = peeled.peeling_trajectory
    n_peels = len(result.tradeoff)
    # EMA's trajectory is the peels followed by the pastes of the last peeled box.
    for column, ema_column in [("coverage", "coverage"), ("density", "density"),
                               ("mass", "mass"), ("n_restricted", "res_dim")]:
        np.testing.assert_array_equal(result.tradeoff[column].to_numpy(float),
                                      trajectory[ema_column].to_numpy(float)[:n_peels])

    # Our box is the chosen step pasted: paste the same step in EMA and compare.
    chosen_limits = peeled.box_lims[ours.step]
    replay = ema.PrimBox(theirs, theirs.box_init, theirs.yi_remaining[:])
    replay.update(chosen_limits, np.flatnonzero(sdutil._in_box(theirs.x, chosen_limits)))
    replay = theirs._paste(replay)
    assert ours.limits == ema_limits(sdutil, replay.box_lims[-1], theirs.box_init)
    assert (ours.coverage, ours.density, ours.mass) == (
        replay.coverage, replay.density, replay.mass)
    ema_quasi_p = {name: max(v for v in sides if v >= 0) for name, sides in replay.qp[-1].items()}
    assert ours.quasi_p == pytest.approx(ema_quasi_p, rel=1e-9, abs=1e-300)

    # And EMA's own default box (the last peel, pasted) is what our pasting gives from there.
    cols = discovery_module._columns(X)
    init = discovery_module._initial_limits(cols)
    everyone = np.ones(len(y), dtype=bool)
    steps, _ = discovery_module._peel(cols, y, everyone, discovery_module._sort_columns(cols),
                                      init, 0.05, 0.05, len(y))
    limits, _, _ = discovery_module._paste(cols, y, everyone, steps[-1], init, 0.05, 0.05, len(y))
    ours_last = {cols.names[j]: (float(limits.low[j]), float(limits.high[j]))
                 for j in limits.restricted(init)}
    assert ours_last == ema_limits(sdutil, peeled.box_lims[-1], theirs.box_init)


def test_prim_matches_ema_workbench_with_a_categorical_column(ema_prim):
    ema, sdutil = ema_prim
    rng = np.random.default_rng(5)
    n = 5000
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["a", "b", "c"])
    X["kind"] = rng.choice(["red", "green", "blue", "black"], n)
    y = ((X["a"] > 0.5) & X["kind"].isin(["red", "blue"])).to_numpy() ^ (
        rng.uniform(size=n) < 0.03)
    result = prim(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peeled = ema.Prim(X, y.astype(int), threshold=0.8).find_box()
    n_peels = len(result.tradeoff)
    np.testing.assert_array_equal(result.tradeoff["density"].to_numpy(float),
                                  peeled.peeling_trajectory["density"].to_numpy(float)[:n_peels])
    step_limits = peeled.box_lims[result.boxes[0].step]
    assert step_limits.loc[0, "kind"] == {"red", "blue"}
    assert result.boxes[0].limits["kind"] == frozenset({"red", "blue"})


def test_result_types_are_exported():
    X, y = planted_box(2000, n_noise=1)
    assert isinstance(prim(X, y).boxes[0], PrimBox)
