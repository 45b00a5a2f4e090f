"""Branched runs: the first weeks replay parent futures under the policy that was followed,
then each future goes on under another policy with its own noise (`History`)."""

from __future__ import annotations

import numpy as np
import pytest
from engine_testkit import inputs_for

from offramp.engine import simulate
from offramp.engine.inputs import History, Levers, LeverSchedule
from offramp.experiments.build import levers_for

WEEK = 12


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_a_branch_that_keeps_the_followed_policy_on_its_own_futures_is_the_parent_run(
        kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "as-happened")
    index = np.arange(300)
    parent = simulate(inputs, levers, 3, index, record_series=True)
    branch = simulate(inputs, levers, 3, index, record_series=True,
                      history=History(WEEK, levers, 3, index))
    assert _same(branch.outcomes, parent.outcomes)
    assert branch.series is not None and parent.series is not None
    assert _same(branch.series, parent.series)


def test_before_the_branch_week_every_future_is_its_parent_and_after_it_its_own(
        kursk, futures_300):
    """Futures 0-99 replay parents 200-299 under as-happened until week 12, then run
    arm-and-hold on their own noise: their states up to week 12 are the parents', and duplicated
    parents part after it."""
    inputs, history_levers = inputs_for(kursk, futures_300, "as-happened")
    parent = simulate(inputs, history_levers, 5, np.arange(300), record_series=True)
    parents = np.repeat(np.arange(200, 250), 2)  # each parent twice
    rows = inputs_for(kursk, futures_300.iloc[parents], "arm-and-hold")[0]
    then = levers_for(kursk, "arm-and-hold")
    branch = simulate(rows, then, 5, np.arange(100), record_series=True,
                      history=History(WEEK, history_levers, 5, parents))
    assert parent.series is not None and branch.series is not None
    for name in ("salient_km2", "support_a", "a_territory_share", "talks_open"):
        np.testing.assert_array_equal(branch.series[name][:WEEK + 1],
                                      parent.series[name][:WEEK + 1, parents], err_msg=name)
    later = branch.series["salient_km2"][WEEK + 8:]
    twins_apart = [not np.array_equal(later[:, 2 * i], later[:, 2 * i + 1]) for i in range(50)]
    assert sum(twins_apart) > 25  # fresh noise after the branch: twins do not stay twins


def test_the_branched_schedule_keeps_history_then_the_new_policy_and_its_later_steps():
    hold, lifted, trade = Levers(), Levers(lift_restrictions=True), Levers(salient_posture="trade")
    history = LeverSchedule((0, 5, 20), (hold, lifted, hold), (0, 0, 0))
    then = LeverSchedule((0, 8, 30), (hold, trade, hold), (0, 8, 30))
    branched = history.branch(then, 10)
    assert branched.weeks == (0, 5, 10, 30)
    assert branched.levers == (hold, lifted, trade, hold)
    assert branched.posture_since == (0, 0, 10, 30)  # the trade posture is taken at the branch
    kept = history.branch(Levers(aid_multiplier=2.0), 10)
    assert kept.weeks == (0, 5, 10) and kept.posture_since[-1] == 0  # still holding since 0
    with pytest.raises(ValueError, match="week 1 or later"):
        History(0, hold, 0, np.arange(3))


def test_branching_to_a_policy_with_triggers_starts_watching_them(kursk, futures_300):
    adaptive = [name for name, policy in kursk.policies.items() if policy.triggers]
    assert adaptive, "kursk-2024 has an adaptive policy"
    inputs, history_levers = inputs_for(kursk, futures_300, "drip-feed")
    then = levers_for(kursk, adaptive[0])
    result = simulate(inputs, then, 0, np.arange(300), record_series=True,
                      history=History(WEEK, history_levers, 0, np.arange(300)))
    assert np.isfinite(result.outcomes["a_territory_share"]).all()
