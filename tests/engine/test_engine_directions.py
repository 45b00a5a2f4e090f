"""Directional checks with common random numbers: same futures, same seed, one change.

Each test compares means over 2,000 futures of kursk-2024 between two settings of one lever or
parameter. Because both runs see exactly the same futures and the same noise, the difference is
the effect of the change, not sampling noise.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_testkit import POLICIES, inputs_for, replace_in, run_engine, with_columns

from offramp.experiments.simulate import simulate_policy


def test_more_aid_does_not_lower_side_a_territory(kursk, futures_2000):
    # Make side a depend on its backers for shells, so that aid matters.
    futures = with_columns(futures_2000, actors__ukraine__shell_stock=0.0,
                           actors__ukraine__shell_imports_per_month=0.0)
    inputs, levers = inputs_for(kursk, futures, "drip-feed")
    little = run_engine(inputs, dataclasses.replace(levers, aid_multiplier=0.25), seed=3)
    much = run_engine(inputs, dataclasses.replace(levers, aid_multiplier=2.0), seed=3)
    assert much.outcomes["aid_shells_delivered"].mean() \
        > 2 * little.outcomes["aid_shells_delivered"].mean()
    assert much.outcomes["a_territory_share"].mean() \
        >= little.outcomes["a_territory_share"].mean()
    assert much.outcomes["casualties_b"].mean() > little.outcomes["casualties_b"].mean()


def test_energy_strike_ban_raises_lowest_generating_capacity(kursk, futures_2000):
    inputs, levers = inputs_for(kursk, futures_2000, "negotiate-now")
    ban = inputs.ladder.effects.index("energy_strike_ban")
    no_ban_strength = inputs.ladder.strength.copy()
    no_ban_strength[ban] = 0.0
    with_ban = run_engine(inputs, levers, seed=4)
    without = run_engine(replace_in(inputs, "ladder", strength=no_ban_strength), levers, seed=4)
    assert with_ban.outcomes["min_generating_capacity"].mean() \
        > without.outcomes["min_generating_capacity"].mean()


def test_lifting_restrictions_raises_escalation_events(kursk, futures_2000):
    inputs, levers = inputs_for(kursk, futures_2000, "drip-feed")
    kept = run_engine(inputs, levers, seed=5)
    lifted = run_engine(inputs, dataclasses.replace(levers, lift_restrictions=True), seed=5)
    assert lifted.outcomes["escalation_events"].mean() \
        > 1.5 * kept.outcomes["escalation_events"].mean()


def test_higher_rival_readiness_opens_more_rival_theaters(kursk, futures_2000):
    # The hazard rises with readiness above its week-0 level (the base hazard is stated at
    # today's readiness), so higher readiness over the horizon means faster growth.
    slow = with_columns(futures_2000, actors__china__readiness_growth_per_year=0.0)
    fast = with_columns(futures_2000, actors__china__readiness_growth_per_year=0.5)
    inputs_slow, levers = inputs_for(kursk, slow, "drip-feed")
    inputs_fast, _ = inputs_for(kursk, fast, "drip-feed")
    assert run_engine(inputs_fast, levers, seed=6).outcomes["rival_opened"].mean() \
        > run_engine(inputs_slow, levers, seed=6).outcomes["rival_opened"].mean()


def test_held_salient_gives_better_terms_but_fewer_deals_than_withdrawn(kursk, futures_2000):
    """Held soil cuts both ways: where both postures reach a deal, holding it gives better terms
    (b values its soil); but b refuses talks while its soil is held in the futures where that
    hardens it, so holding reaches fewer deals."""
    inputs, levers = inputs_for(kursk, futures_2000, "negotiate-now")
    hold = run_engine(inputs, dataclasses.replace(levers, salient_posture="hold"), seed=7)
    withdraw = run_engine(inputs, dataclasses.replace(levers, salient_posture="withdraw"), seed=7)
    terms_hold, terms_withdraw = (run.outcomes["settlement_terms"] for run in (hold, withdraw))
    both = np.isfinite(terms_hold) & np.isfinite(terms_withdraw)
    assert both.sum() > 100
    assert np.mean(terms_hold[both] - terms_withdraw[both]) > 0
    assert (hold.outcomes["end_kind"] == 1).mean() < (withdraw.outcomes["end_kind"] == 1).mean()
    assert hold.outcomes["salient_km2_traded"].mean() \
        > withdraw.outcomes["salient_km2_traded"].mean()
    assert np.all(withdraw.outcomes["salient_km2_at_end"] == 0)


def test_more_expensive_war_ends_more_often(kursk, futures_2000):
    cheap = with_columns(futures_2000, actors__ukraine__cost_of_war_per_year=0.01,
                         actors__russia__cost_of_war_per_year=0.01)
    dear = with_columns(futures_2000, actors__ukraine__cost_of_war_per_year=0.3,
                        actors__russia__cost_of_war_per_year=0.3)
    inputs_cheap, levers = inputs_for(kursk, cheap, "negotiate-now")
    inputs_dear, _ = inputs_for(kursk, dear, "negotiate-now")
    assert run_engine(inputs_dear, levers, seed=8).outcomes["ended"].mean() \
        > run_engine(inputs_cheap, levers, seed=8).outcomes["ended"].mean()


@pytest.fixture(scope="module")
def policy_outcomes(kursk):
    return {policy: simulate_policy(kursk, policy, 2000, seed=9) for policy in POLICIES}


def test_the_three_policies_give_visibly_different_outcomes(policy_outcomes):
    negotiate, arm, drip = (policy_outcomes[p] for p in POLICIES)
    # negotiate-now ends the war more often and sooner than drip-feed
    assert negotiate["ended"].mean() > drip["ended"].mean() + 0.05
    assert (negotiate["end_week"] < 52).mean() > (drip["end_week"] < 52).mean() + 0.02
    assert negotiate["casualties_a"].median() < drip["casualties_a"].median()
    assert negotiate["highest_rung"].mean() > 0 and drip["highest_rung"].max() == 0
    # arm-and-hold escalates more and delivers more aid than drip-feed
    assert arm["escalation_events"].mean() > 1.5 * drip["escalation_events"].mean()
    assert arm["aid_shells_delivered"].mean() > drip["aid_shells_delivered"].mean()
    # negotiate-now trades the salient; arm-and-hold holds it for longer
    assert negotiate["salient_km2_at_end"].mean() < arm["salient_km2_at_end"].mean()
