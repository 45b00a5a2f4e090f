"""Paired statistics (offramp.analysis.paired), by hand: a claim's direction, the paired shares,
the bootstrap interval, the verdict rule and the escalation-before-talks counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offramp.analysis.paired import (
    Caveat,
    PairedShares,
    RankedFutures,
    bootstrap_mean_ci,
    bootstrap_means,
    caveats_for,
    centered_ranks,
    directed_effect,
    directed_interval,
    escalation_window_effect,
    fighting_weeks,
    first_talks_week,
    paired_shares,
    rank_drivers,
    verdict_for,
    weekly_counts,
)

# --- a claim's direction ------------------------------------------------------------------------


def test_directed_effect_turns_a_lower_claim_around():
    effect = np.array([0.2, -0.1, 0.0, 0.3])
    np.testing.assert_array_equal(directed_effect(effect, "higher"), [0.2, -0.1, 0.0, 0.3])
    np.testing.assert_array_equal(directed_effect(effect, "lower"), [-0.2, 0.1, 0.0, -0.3])
    assert paired_shares(directed_effect(effect, "lower")) == PairedShares(0.25, 0.5, 0.25)
    assert paired_shares(directed_effect([-1.0, -2.0, 3.0], "lower")) == \
        PairedShares(2 / 3, 1 / 3, 0.0)


def test_directed_interval_turns_a_lower_claim_around():
    assert directed_interval(0.1, 0.3, "higher") == (0.1, 0.3)
    assert directed_interval(0.1, 0.3, "lower") == (-0.3, -0.1)
    assert directed_interval(-0.4, 0.2, "lower") == (-0.2, 0.4)


# --- shares, intervals and the verdict ------------------------------------------------------------


def test_paired_shares_by_hand():
    effect = np.array([0.2, -0.1, 0.0, 0.3])  # arm minus versus in four futures
    assert paired_shares(directed_effect(effect, "higher")) == PairedShares(0.5, 0.25, 0.25)
    assert paired_shares(directed_effect(effect, "lower")) == PairedShares(0.25, 0.5, 0.25)
    # Non-inferiority: the arm may be worse by up to 0.15, so -0.1 and the tie both hold.
    assert paired_shares(directed_effect(effect, "higher"), 0.15) == PairedShares(1.0, 0.0, 0.25)
    # ... but by less than 0.05 the -0.1 fails.
    assert paired_shares(directed_effect(effect, "higher"), 0.05) == PairedShares(0.75, 0.25, 0.25)


def test_bootstrap_interval_by_hand():
    # A constant has no spread.
    assert bootstrap_mean_ci(np.full(7, 0.3)) == pytest.approx((0.3, 0.3))
    # Two values: the resampled mean is 0, 1/2 or 1 with chances 1/4, 1/2, 1/4, so the 2.5% and
    # 97.5% quantiles are 0 and 1.
    assert bootstrap_mean_ci(np.array([0.0, 1.0]), seed=1) == (0.0, 1.0)
    # Five values, one of them 1: the mean is k/5 with k ~ Binomial(5, 0.2); P(k = 0) = 0.33 >
    # 0.025 and P(k <= 2) = 0.942 < 0.975 < P(k <= 3) = 0.993, so the interval is [0, 0.6].
    assert bootstrap_mean_ci(np.array([0.0, 0, 0, 0, 1]), replicates=20_000, seed=2) == (0.0, 0.6)


def test_bootstrap_interval_matches_the_normal_approximation():
    values = np.random.default_rng(5).normal(1.0, 2.0, size=4000)
    low, high = bootstrap_mean_ci(values, replicates=4000, seed=7)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert low == pytest.approx(values.mean() - half_width, abs=0.02)
    assert high == pytest.approx(values.mean() + half_width, abs=0.02)
    assert bootstrap_mean_ci(values, seed=7) == bootstrap_mean_ci(values, seed=7)  # seeded


def test_bootstrap_means_are_the_hashed_resamples_summed_in_draw_order():
    # the compiled loop against its definition in whole-array NumPy (bootstrap_means' docstring)
    values = np.random.default_rng(3).normal(size=997)
    replicates, rng_seed = 300, 11
    means = bootstrap_means(values, replicates, np.random.default_rng(rng_seed))
    key = np.uint64(np.random.default_rng(rng_seed).integers(0, 2**63))
    golden = np.uint64(0x9E3779B97F4A7C15)
    draws = np.arange(values.size, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        z = key + draws * golden * np.uint64(2**32 + 1) \
            + np.arange(replicates, dtype=np.uint64)[None, :] * golden
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        positions = ((z >> np.uint64(32)) * np.uint64(values.size)) >> np.uint64(32)
    totals = np.zeros(replicates)
    for row in values[positions.astype(np.int64)]:  # draw by draw, as the loop adds them
        totals += row
    np.testing.assert_array_equal(means, totals / values.size)


def test_verdict_rule():
    even = PairedShares(0.5, 0.3, 0.2)
    losing = PairedShares(0.3, 0.5, 0.2)
    assert verdict_for(0.01, even, 0.0, False, 100) == "holds"
    assert verdict_for(0.01, losing, 0.0, False, 100) == "fails"  # mean carried by a few futures
    assert verdict_for(-0.01, even, 0.0, False, 100) == "fails"  # interval reaches 0
    assert verdict_for(-0.01, even, 0.0, True, 100) == "holds only under conditions"
    assert verdict_for(-0.4, even, 0.5, False, 100) == "holds"  # within the tolerance
    assert verdict_for(float("nan"), even, 0.0, False, 0) == "not testable"


def test_escalation_before_talks_by_hand():
    # Weekly series for two futures over 10 weeks (rows = end of week - 1; row 0 is the start).
    talks_open = np.zeros((11, 2), dtype=bool)
    talks_open[6:8, 0] = True  # future 0: talks open during weeks 5 and 6; future 1: never
    first = first_talks_week(talks_open)
    assert first[0] == 5.0 and np.isnan(first[1])

    cumulative = np.zeros((11, 2))
    cumulative[5:, 0] += 1  # an escalation in week 4 (just before talks)
    cumulative[9:, 0] += 1  # and one in week 8
    events = weekly_counts(cumulative)
    assert events[:, 0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 1, 0]

    fighting = np.ones((10, 2), dtype=bool)
    effect = escalation_window_effect(events, fighting, first, window=2)
    # Window: weeks 3 and 4 (1 event in 2 weeks). Other weeks: 0-2 and 6-9 (week 5, when talks
    # open, is in neither): 1 event in 7 weeks.
    assert effect[0] == pytest.approx(1 / 2 - 1 / 7)
    assert np.isnan(effect[1])

    # Weeks without fighting do not count: after a settlement in week 6 only weeks 0-6 are fought.
    settled = fighting_weeks(np.array([6.0, np.nan]), np.zeros((11, 2)), None, 0)
    assert settled[:, 0].tolist() == [True] * 7 + [False] * 3 and settled[:, 1].all()
    effect = escalation_window_effect(events, settled, first, window=2)
    assert effect[0] == pytest.approx(1 / 2 - 0 / 4)  # the week-8 event is after the war


def test_fighting_weeks_skip_a_ceasefire():
    rung = np.zeros((6, 1))
    rung[2:4, 0] = 3  # the top rung (the ceasefire, index 2 of 3) in force at the end of weeks 1-2
    fought = fighting_weeks(np.array([np.nan]), rung, ceasefire_rung=2, top_rung=3)
    assert fought[:, 0].tolist() == [True, True, False, False, True]


# --- caveats -------------------------------------------------------------------------------------


def test_a_comparison_tied_in_most_futures_carries_the_ties_caveat():
    X = pd.DataFrame({"x": np.linspace(0, 1, 100)})
    effect = np.r_[np.zeros(95), np.full(5, 0.1)]
    assert Caveat("ties", 0.95) in caveats_for(X, effect, tie_share=0.95)
    assert all(c.kind != "ties" for c in caveats_for(X, effect, tie_share=0.5))


def test_an_effect_driven_by_one_input_carries_the_restates_input_caveat():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(2000, 5)), columns=[f"noise_{i}" for i in range(5)])
    X["premium"] = rng.uniform(size=2000)
    effect = X["premium"].to_numpy() - 0.3 + rng.normal(0, 0.2, size=2000)
    drivers = rank_drivers(X, effect)
    assert drivers.index[0] == "premium" and drivers.iloc[0] > 0.5
    (caveat,) = caveats_for(X, effect, tie_share=0.0)
    assert (caveat.kind, caveat.parameter) == ("restates_input", "premium")
    assert caveat.share == pytest.approx(drivers.iloc[0]) and caveat.lead > 3
    # Two inputs sharing the effect: neither stands out, no caveat.
    both = X["premium"].to_numpy() + X["noise_0"].to_numpy()
    assert caveats_for(X, both, tie_share=0.0) == []


# --- ranks of subsets from one sort --------------------------------------------------------------


def test_ranked_futures_give_each_subset_the_ranks_of_sorting_it():
    """Ties (few distinct values), a constant column, subsets in any order and columns dropped:
    the same bits and memory order as ranking the subset with SciPy."""
    rng = np.random.default_rng(7)
    n = 2000
    X = pd.DataFrame({"smooth": rng.random(n), "five": rng.integers(0, 5, n).astype(float),
                      "rounded": np.round(rng.random(n), 2), "constant": np.ones(n)},
                     index=rng.permutation(np.arange(10, 10 + n)))
    ranked = RankedFutures.of(X)
    for subset, columns in (
            (X.index[rng.random(n) < 0.5], X.columns),
            (rng.permutation(X.index)[:300], X.columns[[2, 0]]),
            (X.index[:3], X.columns[1:])):
        expected = centered_ranks(X.loc[subset, columns])
        found = ranked.centered(pd.Index(subset), columns)
        assert found.tobytes() == expected.tobytes()
        assert found.flags.f_contiguous == expected.flags.f_contiguous


def test_ranked_futures_with_a_missing_value_rank_as_pandas_does():
    X = pd.DataFrame({"a": [0.3, np.nan, 0.1, 0.3, 0.9]})
    found = RankedFutures.of(X).centered(X.index[[0, 1, 3, 4]], X.columns)
    np.testing.assert_array_equal(found, centered_ranks(X.iloc[[0, 1, 3, 4]]))
