"""Behaviours the record of war termination treats as ordinary: measured by hand on tiny series,
and on kursk-2024, where each must be neither ~0 nor ~1 under negotiate-now."""

from __future__ import annotations

import numpy as np

from offramp.experiments.sampling import sample_futures
from offramp.studies.behaviours import (
    BEHAVIOURS,
    longest_talks_without_deal,
    measure_behaviours,
    sudden_collapse,
)


def test_the_longest_stretch_of_talks_without_a_deal():
    # rows: start, then weeks 0-5; future 0 talks weeks 1-4 then settles in week 4 (a deal week
    # does not count), future 1 talks weeks 0-1 and 3-5, future 2 never.
    talks = np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0],
                      [0, 1, 0]], dtype=float)
    settled = np.array([4.0, np.nan, np.nan])
    assert longest_talks_without_deal(talks, settled).tolist() == [3.0, 3.0, 0.0]


def test_a_sudden_collapse_is_half_lost_within_four_weeks_at_war():
    weeks = 12
    steady = np.linspace(1000, 800, weeks)  # erodes slowly: no collapse
    sudden = np.r_[np.full(6, 1000.0), np.full(6, 300.0)]  # loses 70% in one week
    after_peace = sudden.copy()  # the same drop, but after a settlement in week 2
    small = np.r_[np.full(6, 400.0), np.zeros(6)]  # under 500 km2: not a collapse
    series = np.stack([steady, sudden, after_peace, small], axis=1)
    settled = np.array([np.nan, np.nan, 2.0, np.nan])
    assert sudden_collapse(series, settled).tolist() == [False, True, False, False]


def test_kursk_2024_can_produce_each_behaviour_and_avoid_it(kursk):
    table = measure_behaviours(kursk, sample_futures(kursk, 2000, seed=0))
    assert list(table.index) == [b.key for b in BEHAVIOURS]
    shares = table["negotiate-now"]
    # Neither ~0 nor ~1; below 2% only where a source expects it rare (and then not ~0 either).
    assert ((shares > 0.005) & (shares < 0.98)).all(), shares.to_dict()
    for behaviour in BEHAVIOURS:
        if behaviour.rare_because is None:
            assert shares[behaviour.key] > 0.02, behaviour.key
