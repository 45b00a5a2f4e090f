"""Reproducibility: same inputs give the same bits, whatever the chunking; policies share noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_testkit import inputs_for, run_engine, scenario_without

from offramp.engine import SERIES_NAMES, simulate
from offramp.engine.model import RETIRE_MIN_SHARE
from offramp.experiments.simulate import run_futures, simulate_policy


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_same_inputs_give_the_same_bits(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "negotiate-now")
    first = run_engine(inputs, levers, seed=12, record_series=True)
    second = run_engine(inputs, levers, seed=12, record_series=True)
    assert _same(first.outcomes, second.outcomes)
    assert _same(first.series, second.series)
    other_seed = run_engine(inputs, levers, seed=13)
    assert not np.array_equal(first.outcomes["casualties_a"], other_seed.outcomes["casualties_a"])


@pytest.mark.parametrize("issues", [True, False])
def test_retiring_settled_futures_changes_no_outcome(kursk_data, futures_2000, issues):
    """Settled futures leave the main loop (engine.model.Settled) unless an observer or the
    series need every future every week: both ways must give the same bits. Without the
    issues beside territory a quarter of the futures settle early enough for retirement to
    happen often; with them, less often."""
    scenario = scenario_without(kursk_data, issues=issues)
    for policy in ("negotiate-now", "arm-and-hold", "drip-feed"):
        inputs, levers = inputs_for(scenario, futures_2000, policy)
        retired = run_engine(inputs, levers, seed=21)
        watched = run_engine(inputs, levers, seed=21, observe=lambda state: None)
        assert _same(retired.outcomes, watched.outcomes), policy
        if not issues:  # enough settle (RETIRE_MIN_SHARE) for retirement to matter
            assert (retired.outcomes["end_kind"] == 1).mean() > RETIRE_MIN_SHARE


def test_chunking_changes_nothing(kursk):
    whole = simulate_policy(kursk, "arm-and-hold", 300, seed=4, record_series=True)
    chunked = simulate_policy(kursk, "arm-and-hold", 300, seed=4, record_series=True,
                              chunk_size=37)
    pd.testing.assert_frame_equal(whole, chunked, check_exact=True)
    assert _same(whole.attrs["series"], chunked.attrs["series"])
    assert set(whole.attrs["series"]) == set(SERIES_NAMES)
    assert whole.attrs["series"]["a_territory_share"].shape == (105, 300)


def test_large_and_small_chunks_agree_for_every_policy(kursk, futures_2000):
    from offramp.experiments.simulate import run_futures

    futures = pd.concat([futures_2000] * 5, ignore_index=True)  # 10,000 rows: chunks > 8,192
    futures.index.name = "future"
    for policy in ("negotiate-now", "arm-and-hold", "drip-feed"):
        big = run_futures(kursk, futures, policy, seed=8, chunk_size=10_000).outcomes
        small = run_futures(kursk, futures, policy, seed=8, chunk_size=3_333).outcomes
        pd.testing.assert_frame_equal(big, small, check_exact=True)


def test_a_future_gives_the_same_result_alone_or_in_a_crowd(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "drip-feed")
    crowd = simulate(inputs, levers, 2, np.arange(300))
    lone_inputs, _ = inputs_for(kursk, futures_300.iloc[[123]], "drip-feed")
    alone = simulate(lone_inputs, levers, 2, np.array([123]))
    for name, values in alone.outcomes.items():
        assert np.array_equal(values, crowd.outcomes[name][[123]], equal_nan=True), name


def test_policies_see_the_same_futures_and_noise(kursk):
    # The escalation draws are common to all policies. In week 0 (all futures at war, no rung
    # yet) negotiate-now and drip-feed both keep the restrictions; only negotiate-now seeks
    # talks, which can only raise the hazard (coercion before talks). On the same draws, every
    # drip-feed event is then a negotiate-now event too, and without that rise they are equal.
    from offramp.scenario.loader import load_scenario

    def first_week(scenario, policy):
        run = simulate_policy(scenario, policy, 2000, seed=3, record_series=True)
        return run.attrs["series"]["escalation_events"][1].astype(bool)

    now, drip = first_week(kursk, "negotiate-now"), first_week(kursk, "drip-feed")
    assert drip.sum() > 0 and np.all(now[drip]) and now.sum() > drip.sum()
    flat = load_scenario("kursk-2024", overrides=[
        'escalation.pre_talks_multiplier={value: 0, unit: multiple, source: '
        '"assumption: no coercion before talks, for a test"}'])
    assert np.array_equal(first_week(flat.scenario, "negotiate-now"),
                          first_week(flat.scenario, "drip-feed"))


def test_run_futures_keeps_the_global_index(kursk):
    from offramp.experiments.sampling import sample_futures

    futures = sample_futures(kursk, 100, seed=1)
    tail = run_futures(kursk, futures.iloc[60:], "drip-feed", seed=1).outcomes
    whole = run_futures(kursk, futures, "drip-feed", seed=1).outcomes
    assert list(tail.index) == list(range(60, 100))
    pd.testing.assert_frame_equal(tail, whole.iloc[60:], check_exact=True)
