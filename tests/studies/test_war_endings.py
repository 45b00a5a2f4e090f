"""Scoring futures against how the Polish–Soviet War and the Winter War ended.

The criteria (P1–P3, F1–F4) are those of docs/historical-scenarios.md; the measured shares are in
docs/validation.md. The scoring functions are checked on small hand-made outcome and series
frames, each criterion once true and once false; then both wars run end to end on a few hundred
futures.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from offramp.studies.endings import (
    POLISH_SOVIET,
    WINTER_WAR,
    measure_war,
    paired_difference,
    reading,
    score_polish_soviet,
    score_winter_war,
    share_table,
    stop_quantities,
    wilson_interval,
)

NAN = math.nan


def frames(weeks: int, futures: list[dict]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Outcomes and series for hand-made futures.

    Each future gives `share` (a's line, constant unless `share_rows` overrides rows), `held`
    (b's soil held by a, idem with `held_rows`), `armistice` (first week at whose end the
    ceasefire rung is in force, or None), `settlement` (week or None), `terms`, `traded`.
    """
    n = len(futures)
    share = np.zeros((weeks + 1, n))
    held = np.zeros((weeks + 1, n))
    rung = np.zeros((weeks + 1, n))
    outcomes = {"settlement_week": [], "settlement_terms": [], "salient_km2_traded": []}
    for i, f in enumerate(futures):
        share[:, i] = f.get("share", 0.6)
        for row, value in f.get("share_rows", {}).items():
            share[row, i] = value
        held[:, i] = f.get("held", 0.0)
        for row, value in f.get("held_rows", {}).items():
            held[row, i] = value
        if f.get("armistice") is not None:
            rung[f["armistice"] + 1:, i] = 1
        settled = f.get("settlement")
        outcomes["settlement_week"].append(NAN if settled is None else float(settled))
        outcomes["settlement_terms"].append(f.get("terms", NAN) if settled is not None else NAN)
        outcomes["salient_km2_traded"].append(f.get("traded", 0.0))
        if settled is not None:  # the engine records x* from the settlement week on
            share[settled + 1:, i] = f.get("terms", NAN)
            held[settled + 1:, i] = 0.0
    series = {"a_territory_share": share.astype(np.float32),
              "salient_km2": held.astype(np.float32), "ladder_rung": rung.astype(np.float32)}
    return pd.DataFrame(outcomes), series


# --- polish-soviet-1920 ---------------------------------------------------------------------------

POLISH_FUTURES = [
    # 0: the record. Armistice in week 9 with the pie back and Minsk held, treaty in week 31.
    {"armistice": 9, "share_rows": {10: 0.97}, "held_rows": {10: 20_000.0},
     "settlement": 31, "terms": 0.98, "traded": 20_000.0},
    # 1: an armistice in week 2 (too early) with the Red Army still deep in Poland.
    {"armistice": 2, "settlement": 20, "terms": 0.7, "traded": 0.0},
    # 2: the armistice in time, but no treaty within the horizon.
    {"armistice": 8, "share": 0.97, "held": 5_000.0},
    # 3: a settlement first (week 8, no armistice): line at the start of week 8, km2 traded.
    {"share_rows": {8: 0.96}, "held_rows": {8: 3_000.0}, "settlement": 8, "terms": 0.96,
     "traded": 1_500.0},
    # 4: stops in time, but Poland short of its pie and holding only the token foothold.
    {"armistice": 10, "share": 0.9, "held": 800.0, "settlement": 25, "terms": 0.97},
    # 5: the line recovered, but the settled terms give Poland less than 0.95.
    {"armistice": 7, "share": 0.99, "held": 4_000.0, "settlement": 30, "terms": 0.9,
     "traded": 4_000.0},
    # 6: never stops.
    {"share": 0.99, "held": 9_000.0},
    # 7: armistice and settlement in the same week (12): counts as a settlement.
    {"armistice": 12, "share_rows": {12: 0.99}, "settlement": 12, "terms": 0.99,
     "traded": 500.0},
]
POLISH_EXPECTED = {  # future: (P1, P2, P3)
    0: (True, True, True),
    1: (False, False, False),
    2: (False, False, True),
    3: (True, True, True),
    4: (True, False, False),
    5: (True, False, True),
    6: (False, False, False),
    7: (True, True, False),
}


def test_polish_soviet_criteria_on_hand_made_futures():
    outcomes, series = frames(36, POLISH_FUTURES)
    scores = score_polish_soviet(outcomes, series)
    for future, (p1, p2, p3) in POLISH_EXPECTED.items():
        row = scores.iloc[future]
        assert (p1, p2, p3) == (row.P1, row.P2, row.P3), future
        assert row.ending == (p1 and p2 and p3)
    for key in ("P1", "P2", "P3", "ending"):  # each criterion is seen true and false
        assert scores[key].any() and not scores[key].all(), key


def test_stop_quantities_read_the_right_rows():
    outcomes, series = frames(36, POLISH_FUTURES)
    q = stop_quantities(outcomes, series)
    assert list(q.stopped_by) == ["armistice", "armistice", "armistice", "settlement",
                                  "armistice", "armistice", "", "settlement"]
    assert q.first_stop_week.iloc[0] == 9 and q.first_stop_week.iloc[3] == 8
    assert q.share_at_stop.iloc[0] == pytest.approx(0.97)  # end of the armistice week
    assert q.held_km2_at_stop.iloc[0] == pytest.approx(20_000)
    assert q.share_at_stop.iloc[3] == pytest.approx(0.96)  # start of the settlement week
    assert q.held_km2_at_stop.iloc[3] == 1_500  # traded, not the series
    assert math.isnan(q.first_stop_week.iloc[6]) and math.isnan(q.share_at_stop.iloc[6])


# --- winter-war-1939 ------------------------------------------------------------------------------

WINTER_FUTURES = [
    # 0: the record. Treaty in week 14, 10 % ceded, the Red Army holding far less.
    {"share": 0.99, "held_rows": {0: 30.0, 1: 20.0, 2: 5.0}, "settlement": 14, "terms": 0.9},
    # 1: settled too early (week 10).
    {"share": 0.99, "settlement": 10, "terms": 0.9},
    # 2: settled in time, but Finland cedes little (x* 0.96), still beyond the line.
    {"share": 0.99, "settlement": 15, "terms": 0.96},
    # 3: in time and 11 % ceded, but no more than the Red Army held (x* above the line).
    {"share": 0.88, "settlement": 13, "terms": 0.89},
    # 4: Finland still holds Soviet soil in week 6 (posture `hold`).
    {"share": 0.99, "held_rows": {6: 40.0}, "settlement": 16, "terms": 0.91},
    # 5: conquered: x* 0.5, too much.
    {"share": 0.6, "settlement": 18, "terms": 0.5},
    # 6: no settlement within the horizon.
    {"share": 0.99},
    # 7: settled in week 19, too late.
    {"share": 0.99, "settlement": 19, "terms": 0.9},
]
WINTER_EXPECTED = {  # future: (F1, F2, F3, F4)
    0: (True, True, True, True),
    1: (False, True, True, True),
    2: (True, False, True, True),
    3: (True, True, False, True),
    4: (True, True, True, False),
    5: (True, False, True, True),
    6: (False, False, False, True),
    7: (False, True, True, True),
}


def test_winter_war_criteria_on_hand_made_futures():
    outcomes, series = frames(20, WINTER_FUTURES)
    scores = score_winter_war(outcomes, series)
    for future, expected in WINTER_EXPECTED.items():
        row = scores.iloc[future]
        assert expected == (row.F1, row.F2, row.F3, row.F4), future
        assert row.ending == all(expected)
    for key in ("F1", "F2", "F3", "F4", "ending"):
        assert scores[key].any() and not scores[key].all(), key


def test_series_must_match_the_outcomes():
    outcomes, series = frames(20, WINTER_FUTURES)
    with pytest.raises(ValueError, match="series"):
        score_winter_war(outcomes.iloc[:3], series)


# --- shares and intervals -------------------------------------------------------------------------

def test_wilson_interval_known_values():
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_share_table_and_readings():
    scores = pd.DataFrame({"A": [True] * 3 + [False] * 7, "B": [False] * 10})
    table = share_table(scores)
    assert table.loc["A", "share"] == pytest.approx(0.3) and table.loc["A", "n"] == 10
    assert table.loc["B", "successes"] == 0
    assert (table.low <= table.share).all() and (table.share <= table.high).all()
    assert reading(0.25) == "within the normal range"
    assert reading(0.05) == "plausible but unusual"
    assert reading(0.049) == "not reproduced"


def test_paired_difference():
    rng = np.random.default_rng(1)
    a = rng.random(500)
    same = paired_difference(a, a, replicates=200)
    assert same.difference == 0 and same.low == 0 and same.high == 0
    shifted = paired_difference(a + 0.1, a, replicates=200)
    assert shifted.difference == pytest.approx(0.1) and shifted.low == pytest.approx(0.1)
    coin = paired_difference((a > 0.3).astype(float), (a > 0.5).astype(float), replicates=500)
    assert coin.low < coin.difference < coin.high and coin.n == 500
    with_nan = np.where(a > 0.5, a, np.nan)
    median = paired_difference(with_nan, with_nan - 0.05, statistic="median", replicates=100)
    assert median.difference == pytest.approx(0.05)


# --- both wars, end to end ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def measured():
    return {name: measure_war(name, 300, seed=3, replicates=200)
            for name in (POLISH_SOVIET, WINTER_WAR)}


@pytest.mark.parametrize("name", [POLISH_SOVIET, WINTER_WAR])
def test_smoke_run_gives_shares_with_intervals(measured, name):
    m = measured[name]
    shares = m.shares
    assert (shares.n == 300).all()
    assert shares.share.between(0, 1).all()
    assert (shares.low <= shares.share).all() and (shares.share <= shares.high).all()
    assert set(shares.index.get_level_values("policy")) == set(m.policies)
    comparison = m.comparison
    finite = comparison.dropna()
    assert len(finite) >= 3
    assert ((finite.low <= finite.difference) & (finite.difference <= finite.high)).all()


def test_smoke_run_wiring_checks(measured):
    poland, finland = measured[POLISH_SOVIET], measured[WINTER_WAR]
    # Under `withdraw` the token foothold (at most 1,000 km2 and 50 km2) is emptied: Poland can
    # never meet P3 without its autumn advance, and Finland always meets F4.
    for policy in ("stop-at-the-frontier", "negotiate-early"):
        assert not poland.scores[policy].P3.any()
    for policy in ("as-fought", "negotiate-early"):
        assert finland.scores[policy].F4.all()


