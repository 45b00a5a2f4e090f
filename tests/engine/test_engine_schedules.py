"""Lever schedules: a policy's levers change at given weeks, the same in every future."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_testkit import Recorder, inputs_for, run_engine

from offramp.engine.inputs import Levers, LeverSchedule
from offramp.experiments.build import levers_for


def _schedule(*steps: tuple[int, Levers]) -> LeverSchedule:
    return LeverSchedule(tuple(w for w, _ in steps), tuple(lev for _, lev in steps),
                         tuple(0 for _ in steps))


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_a_one_step_schedule_and_a_schedule_that_changes_nothing_are_the_static_policy(
        kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "arm-and-hold")
    assert isinstance(levers, Levers)
    static = run_engine(inputs, levers).outcomes
    assert _same(run_engine(inputs, LeverSchedule.constant(levers)).outcomes, static)
    # re-planning at weeks 10 and 40 with the same levers moves no bit
    assert _same(run_engine(inputs, _schedule((0, levers), (10, levers), (40, levers))).outcomes,
                 static)


@pytest.mark.parametrize("lever, value", [("lift_restrictions", True), ("aid_multiplier", 0.0),
                                          ("pursue_ladder", True),
                                          ("salient_posture", "withdraw")])
def test_a_schedule_changes_a_lever_exactly_at_its_week_in_every_future(
        kursk, futures_300, lever, value):
    """States up to the end of week 12 are identical to the static policy's; from week 13 on
    the lever acts, and the futures differ."""
    inputs, levers = inputs_for(kursk, futures_300, "drip-feed")
    static, scheduled = Recorder(), Recorder()
    run_engine(inputs, levers, observe=static)
    changed = dataclasses.replace(levers, **{lever: value})
    run_engine(inputs, _schedule((0, levers), (13, changed)), observe=scheduled)
    for week in range(14):  # state k: the end of week k - 1
        assert _same(dataclasses.asdict(static.states[week].combat),
                     dataclasses.asdict(scheduled.states[week].combat)), week
        np.testing.assert_array_equal(static.states[week].politics.backer_support,
                                      scheduled.states[week].politics.backer_support)
    later = [not np.array_equal(s.territory.enemy_held_km2, t.territory.enemy_held_km2)
             or not np.array_equal(s.industry.shell_stock, t.industry.shell_stock)
             or not np.array_equal(s.ladder.top_rung, t.ladder.top_rung)
             for s, t in zip(static.states[14:], scheduled.states[14:], strict=True)]
    assert any(later)


def test_the_series_record_the_levers_in_force_each_week(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "as-happened")
    assert isinstance(levers, LeverSchedule)
    assert levers.weeks == (0, 13, 28, 29, 30)
    series = run_engine(inputs, levers, record_series=True).series
    assert series is not None
    rows = np.arange(inputs.horizon_weeks + 1)  # lever rows: row w holds week w's levers
    lifted = series["restrictions_lifted"]
    assert (lifted[rows < 13] == 0).all()
    assert (lifted[rows >= 13] == 1).all()
    aid = series["aid_multiplier"]
    assert (aid[28] == 0).all() and (aid[27] == 1).all() and (aid[29] == 1).all()
    assert (series["seek_talks"][29] == 1).all() and (series["seek_talks"][28] == 0).all()
    assert (series["pursue_ladder"][30] == 1).all() and (series["pursue_ladder"][29] == 0).all()


def test_a_withdrawal_taken_later_runs_its_course_from_that_week(kursk, futures_300):
    """Posture `withdraw` from week 20: the salient is empty by week 20 + withdrawal_weeks in
    every future still at war, and untouched by the withdrawal before week 20."""
    scenario_levers = levers_for(kursk, "drip-feed")
    assert isinstance(scenario_levers, Levers)
    inputs, _ = inputs_for(kursk, futures_300, "drip-feed")
    schedule = LeverSchedule(
        (0, 20), (scenario_levers, dataclasses.replace(scenario_levers,
                                                        salient_posture="withdraw")), (0, 20))
    series = run_engine(inputs, schedule, record_series=True).series
    static = run_engine(inputs, scenario_levers, record_series=True).series
    assert series is not None and static is not None
    np.testing.assert_array_equal(series["salient_km2"][:21], static["salient_km2"][:21])
    done = 20 + int(np.ceil(inputs.forces.withdrawal_weeks.max()))
    assert done < inputs.horizon_weeks
    assert (series["salient_km2"][done + 1] == 0).all()
    posture = series["salient_posture"]
    assert (posture[20:] == 2).all() and (posture[:20] == 0).all()
