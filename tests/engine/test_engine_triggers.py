"""Triggers: a policy's signposts, read in every future on its own state (engine.policy)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_testkit import inputs_for, run_engine

from offramp.engine.outcomes import OBSERVED_NAMES
from offramp.engine.policy import Trigger, TriggerState, initial_state, step
from offramp.scenario.conditions import STATE_VARIABLES


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_the_language_and_the_engine_name_the_same_state_variables():
    assert STATE_VARIABLES == OBSERVED_NAMES


def _weeks(trigger: Trigger, holds: list[bool]) -> list[float]:
    """The lever each week (NaN: not set) for one future whose condition holds as given."""
    state: TriggerState = initial_state((trigger,), 1)
    values = []
    for week, holding in enumerate(holds):
        state, overrides = step((trigger,), state, {"x": np.array([float(holding)])}, week)
        assert overrides.aid_multiplier is not None
        values.append(float(overrides.aid_multiplier[0]))
    return values


@pytest.mark.parametrize("once, for_weeks, expected", [
    (True, None, [0, 0, 1, 1, 1, 1, 1, 1]),  # latched from the first week it holds
    (True, 2, [0, 0, 1, 1, 0, 0, 0, 0]),  # two weeks, never again
    (False, 2, [0, 0, 1, 1, 0, 1, 1, 0]),  # two weeks, again when it holds after
    (False, None, [0, 0, 1, 0, 0, 1, 1, 0]),  # exactly while it holds
])
def test_once_and_for_weeks_by_hand(once, for_weeks, expected):
    holds = [False, False, True, False, False, True, True, False]
    trigger = Trigger("x", ">=", 1.0, once=once, for_weeks=for_weeks, aid_multiplier=0.5)
    got = _weeks(trigger, holds)
    assert [0 if np.isnan(v) else 1 for v in got] == expected
    assert all(v == 0.5 for v in got if not np.isnan(v))


def test_a_trigger_that_never_holds_is_the_static_policy(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "drip-feed")
    never = dataclasses.replace(levers, triggers=(
        Trigger("week", "<", -1.0, lift_restrictions=True, aid_multiplier=2.0, seek_talks=True,
                withdraw=True),))
    assert _same(run_engine(inputs, never, record_series=True).outcomes,
                 run_engine(inputs, levers, record_series=True).outcomes)
    assert _same(run_engine(inputs, never).outcomes, run_engine(inputs, levers).outcomes)


def test_a_trigger_fires_exactly_where_its_condition_held(kursk, futures_2000):
    """lift-if-escalated: restrictions are lifted in week w exactly in the futures that had an
    escalation by the end of week w - 1: in the series, the same row (row w: the state at the
    start of week w, and week w's levers)."""
    inputs, levers = inputs_for(kursk, futures_2000, "lift-if-escalated")
    series = run_engine(inputs, levers, record_series=True).series
    assert series is not None
    events, lifted = series["escalation_events"][:-1], series["restrictions_lifted"][:-1]
    np.testing.assert_array_equal(lifted, (events >= 1).astype(lifted.dtype))
    assert 0.05 < lifted[-1].mean() < 0.95  # fired in some futures and not in others


def test_futures_where_a_trigger_never_fires_keep_their_static_outcomes(kursk, futures_2000):
    """Common random numbers: where no escalation ever happens, lift-if-escalated is drip-feed."""
    static = run_engine(*inputs_for(kursk, futures_2000, "drip-feed")).outcomes
    adaptive = run_engine(*inputs_for(kursk, futures_2000, "lift-if-escalated")).outcomes
    quiet = adaptive["escalation_events"] == 0
    assert 0.1 < quiet.mean() < 0.9
    for name in static:
        np.testing.assert_array_equal(adaptive[name][quiet], static[name][quiet], err_msg=name)
    assert not np.array_equal(adaptive["casualties_b"][~quiet], static["casualties_b"][~quiet])


def test_a_withdrawal_trigger_empties_the_salient_from_its_own_week(kursk, futures_2000):
    inputs, levers = inputs_for(kursk, futures_2000, "withdraw-if-untenable")
    series = run_engine(inputs, levers, record_series=True).series
    assert series is not None
    withdrawing = series["salient_posture"] == 2
    fired = withdrawing.any(axis=0)
    assert 0.05 < fired.mean() < 0.95
    start = np.argmax(withdrawing, axis=0)  # row of the first week withdrawing
    salient = series["salient_km2"]
    # the signpost: when it fired, the salient (at the end of the week before) was below 400
    assert (salient[start[fired], np.flatnonzero(fired)] < 400).all()
    assert (salient[start[fired] - 1, np.flatnonzero(fired)] >= 400).all()
    # and it is empty withdrawal_weeks later, where the horizon comes after that
    done = start + np.ceil(inputs.forces.withdrawal_weeks).astype(int)
    seen = fired & (done <= inputs.horizon_weeks)
    assert seen.sum() > 0.9 * fired.sum()
    assert (salient[done[seen], np.flatnonzero(seen)] == 0).all()
