"""The escalation ladder above the strike surge through the whole engine (kursk-2024: nuclear
signalling, then a threat against a NATO member's territory; docs/model.md 4.9)."""

from __future__ import annotations

import copy

import numpy as np
from engine_testkit import inputs_for, run_engine

from offramp.scenario.schema import Scenario


def test_lifting_restrictions_climbs_the_ladder_further(kursk, futures_2000):
    top = {policy: run_engine(*inputs_for(kursk, futures_2000, policy)).outcomes[
        "highest_escalation_rung"] for policy in ("arm-and-hold", "drip-feed")}
    for rungs in top.values():
        assert rungs.max() <= 3
        assert 0.01 < (rungs == 3).mean() < 0.99  # the top rung happens, and not always
    assert (top["arm-and-hold"] >= 2).mean() > (top["drip-feed"] >= 2).mean() + 0.1


def test_without_rungs_the_strike_surge_is_the_only_escalation(kursk_data, futures_2000):
    data = copy.deepcopy(kursk_data)
    del data["escalation"]["rungs"]
    scenario = Scenario.model_validate(data)
    outcomes = run_engine(*inputs_for(scenario, futures_2000, "arm-and-hold")).outcomes
    reached = outcomes["highest_escalation_rung"]
    assert set(np.unique(reached)) <= {0, 1}
    np.testing.assert_array_equal(reached == 1, outcomes["escalation_events"] > 0)


def test_a_nuclear_signal_reimposes_restrictions_for_weeks(kursk, futures_2000, recorder):
    """Under arm-and-hold (restrictions lifted) some futures spend weeks with them reimposed,
    each such stretch starting in the week the signal is first reached."""
    inputs, levers = inputs_for(kursk, futures_2000, "arm-and-hold")
    run_engine(inputs, levers, observe=recorder)
    reimposed = np.stack([s.escalation.reimposed_weeks_left for s in recorder.states])
    signalled = np.stack([s.escalation.rung_reached[0] for s in recorder.states])
    assert 0.1 < (reimposed > 0).any(axis=0).mean() < 0.99
    first = np.argmax(signalled, axis=0)
    starts = np.argmax(reimposed > 0, axis=0)
    ever = (reimposed > 0).any(axis=0)
    np.testing.assert_array_equal(starts[ever], first[ever])
