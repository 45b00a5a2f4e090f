"""Side b's own rules (engine.policy.OpponentRules): the adaptive opponent of
kursk-2024-russia-adapts, which escalates harder while restrictions are lifted and Ukraine holds
Russian soil, in the futures where it follows the rule."""

from __future__ import annotations

import numpy as np
import pytest
from engine_testkit import Recorder, inputs_for, run_engine

from offramp.engine.inputs import FLOAT, OpponentRules
from offramp.engine.policy import opponent_step
from offramp.experiments.sampling import sample_futures
from offramp.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def adapts():
    return load_scenario("kursk-2024-russia-adapts").scenario


@pytest.fixture(scope="module")
def futures(adapts):
    return sample_futures(adapts, 1500, seed=3)


def test_rules_multiply_where_followed_and_every_condition_holds_by_hand():
    rules = OpponentRules(
        names=("r1", "r2"),
        conditions=((("restrictions_lifted", "==", 1.0), ("salient_km2", ">", 0.0)),
                    (("week", ">=", 10.0),)),
        follows=np.full((2, 4), 0.5, FLOAT),
        escalation_multiplier=np.array([[2.0] * 4, [3.0] * 4], FLOAT),
        offers_multiplier=np.ones((2, 4), FLOAT),
        ladder_adoption_multiplier=np.array([[1.0] * 4, [0.5] * 4], FLOAT),
        offensive_multiplier=np.array([[1.5] * 4, [1.0] * 4], FLOAT))
    follows = np.array([[True, True, False, True], [True, False, True, True]])
    observed = {"restrictions_lifted": np.array([1.0, 1.0, 1.0, 0.0], FLOAT),
                "salient_km2": np.array([500.0, 0.0, 500.0, 500.0], FLOAT), "week": 12.0}
    effects = opponent_step(rules, follows, observed)
    # future 0: both rules (2 x 3); 1: r1 fails on the salient, r2 not followed; 2: r1 not
    # followed, r2 applies; 3: r1 fails on restrictions, r2 applies
    assert effects.escalation.tolist() == [6.0, 1.0, 3.0, 3.0]
    assert effects.ladder_adoption.tolist() == [0.5, 1.0, 0.5, 0.5]
    assert effects.offers.tolist() == [1.0] * 4
    assert effects.offensive.tolist() == [1.5, 1.0, 1.0, 1.0]


def test_a_rule_that_never_applies_changes_nothing(kursk, adapts, futures):
    """drip-feed never lifts restrictions: with the same futures, Russia's rule never applies."""
    plain = run_engine(*inputs_for(kursk, futures, "drip-feed")).outcomes
    ruled = run_engine(*inputs_for(adapts, futures, "drip-feed")).outcomes
    for name in plain:
        np.testing.assert_array_equal(ruled[name], plain[name], err_msg=name)


def test_russia_escalates_harder_only_where_it_follows_the_rule(kursk, adapts, futures):
    inputs, levers = inputs_for(adapts, futures, "arm-and-hold")
    recorder = Recorder()
    ruled = run_engine(inputs, levers, observe=recorder).outcomes
    plain = run_engine(*inputs_for(kursk, futures, "arm-and-hold")).outcomes
    follows = recorder.states[0].opponent_follows[0]
    share = futures["opponent.rules[0].follows"].to_numpy()
    assert abs(follows.mean() - share.mean()) < 0.05  # drawn at the stated rate
    for name in plain:  # where Russia does not follow it, nothing changes
        np.testing.assert_array_equal(ruled[name][~follows], plain[name][~follows], err_msg=name)
    assert ruled["escalation_events"][follows].mean() \
        > 1.2 * plain["escalation_events"][follows].mean()


def test_an_offensive_push_raises_both_sides_losses_where_it_applies(kursk, futures_2000):
    """A rule that always applies (week >= 0) and doubles side b's power per soldier: side a
    loses more people in most futures (in the others the war ends sooner) and more ground."""
    import dataclasses

    inputs, levers = inputs_for(kursk, futures_2000, "drip-feed")
    n = inputs.n_futures
    pushing = dataclasses.replace(inputs, opponent=OpponentRules(
        names=("push",), conditions=((("week", ">=", 0.0),),), follows=np.ones((1, n), FLOAT),
        escalation_multiplier=np.ones((1, n), FLOAT), offers_multiplier=np.ones((1, n), FLOAT),
        ladder_adoption_multiplier=np.ones((1, n), FLOAT),
        offensive_multiplier=np.full((1, n), 2.0, FLOAT)))
    plain = run_engine(inputs, levers).outcomes
    pushed = run_engine(pushing, levers).outcomes
    assert (pushed["casualties_a"] > plain["casualties_a"]).mean() > 0.7
    assert pushed["casualties_a"].mean() > plain["casualties_a"].mean()
    assert np.median(pushed["a_territory_share"]) < np.median(plain["a_territory_share"])
