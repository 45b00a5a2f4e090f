"""Edge cases: zero forces, zero shells, a one-week horizon, scenarios without salient,
backers or rivals; and the mapping from scenario to engine inputs."""

from __future__ import annotations

import numpy as np
import pytest
from engine_testkit import POLICIES, Recorder, run_engine, scenario_without
from test_engine_invariants import check_state_bounds, check_transitions

from offramp.engine import OUTCOME_NAMES
from offramp.engine.inputs import FLOAT
from offramp.errors import UserError
from offramp.experiments.build import build_inputs
from offramp.experiments.sampling import sample_futures
from offramp.experiments.simulate import simulate_policy
from offramp.scenario.loader import load_scenario

EDGE = 'source: "assumption: edge case for a test"'


def _run_checked(scenario, policy: str, n: int = 200, seed: int = 1):
    futures = sample_futures(scenario, n, seed)
    inputs, levers = build_inputs(scenario, futures, policy)
    recorder = Recorder()
    result = run_engine(inputs, levers, seed=seed, observe=recorder)
    for state in recorder.states:
        check_state_bounds(inputs, state)
    for before, after in zip(recorder.states, recorder.states[1:], strict=False):
        check_transitions(inputs, before, after)
    assert set(result.outcomes) == set(OUTCOME_NAMES)
    assert all(len(v) == n for v in result.outcomes.values())
    return inputs, result, recorder


@pytest.mark.parametrize("policy", POLICIES)
def test_zero_forces_in_the_salient(policy):
    scenario = load_scenario("kursk-2024", overrides=[
        f"theaters.kursk.initial_forces.ukraine={{value: 0, unit: personnel, {EDGE}}}",
    ]).scenario
    _, _, recorder = _run_checked(scenario, policy)
    _, _, baseline = _run_checked(load_scenario("kursk-2024").scenario, policy)
    # An ungarrisoned salient shrinks at once and is held less well than a garrisoned one.
    held = np.array([s.territory.enemy_held_km2[1] for s in recorder.states])
    held_baseline = np.array([s.territory.enemy_held_km2[1] for s in baseline.states])
    assert held[4].mean() < held[0].mean()
    assert held[8].mean() < held_baseline[8].mean()


def test_zero_forces_everywhere_for_both_sides():
    zero = f"{{value: 0, unit: personnel, {EDGE}}}"
    overrides = [f"theaters.{t}.initial_forces.{side}={zero}" for t in ("donbas", "kursk")
                 for side in ("ukraine", "russia")]
    overrides += [f"actors.{side}.reserves={zero}" for side in ("ukraine", "russia")]
    overrides += [f"actors.{side}.mobilization_per_week={{value: 0, unit: personnel/week, {EDGE}}}"
                  for side in ("ukraine", "russia")]
    scenario = load_scenario("kursk-2024", overrides=overrides).scenario
    _, result, recorder = _run_checked(scenario, "drip-feed")
    assert np.all(result.outcomes["casualties_a"] == 0)
    assert np.all(result.outcomes["casualties_b"] == 0)
    first, last = recorder.states[0], recorder.states[-1]
    assert np.array_equal(first.territory.enemy_held_km2[0], last.territory.enemy_held_km2[0])


def test_zero_shells_everywhere():
    zero = f"{{value: 0, unit: rounds, {EDGE}}}"
    overrides = []
    for actor in ("ukraine", "russia"):
        overrides += [f"actors.{actor}.{field}={zero}" for field in
                      ("shell_stock", "shell_production_per_month", "shell_imports_per_month")]
    for backer in ("united_states", "europe"):
        overrides += [f"actors.{backer}.{field}={zero}" for field in
                      ("shell_stock", "shell_production_per_month",
                       "shell_production_target_per_month")]
    scenario = load_scenario("kursk-2024", overrides=overrides).scenario
    _, result, recorder = _run_checked(scenario, "arm-and-hold")
    assert np.all(result.outcomes["aid_shells_delivered"] == 0)
    # Fire support is (fired / needed) ** elasticity: without rounds no side has combat power,
    # so nobody is hit and no ground changes hands.
    for state in recorder.states[1:]:
        at_war = state.status == 0
        assert np.all(state.combat.fire_support[:, at_war] == 0)
    assert np.all(result.outcomes["casualties_a"] == 0)
    first, last = recorder.states[0], recorder.states[-1]
    fighting = last.status == 0  # a settlement hands the salient back
    assert np.array_equal(first.territory.enemy_held_km2[:, fighting],
                          last.territory.enemy_held_km2[:, fighting])


@pytest.mark.parametrize("policy", [*POLICIES, "as-happened"])  # its schedule: never reached
def test_one_week_horizon(policy):
    scenario = load_scenario("kursk-2024", overrides=["scenario.horizon_weeks=1"]).scenario
    inputs, result, recorder = _run_checked(scenario, policy)
    assert len(recorder.states) == 2
    assert np.all(result.outcomes["casualties_a"] > 0)


@pytest.mark.parametrize("strip", [
    dict(salients=False), dict(backers=False), dict(rivals=False),
    dict(salients=False, backers=False, rivals=False),
])
def test_scenarios_without_salient_backers_or_rivals_run(kursk_data, strip):
    scenario = scenario_without(kursk_data, **strip)
    for policy in POLICIES:
        _, result, _ = _run_checked(scenario, policy, n=100)
        out = result.outcomes
        if not strip.get("salients", True):
            assert np.all(out["salient_km2_at_end"] == 0)
        if not strip.get("backers", True):
            assert np.all(np.isnan(out["min_backer_shell_stock"]))
            assert np.all(out["aid_shells_delivered"] == 0)
        if not strip.get("rivals", True) or not strip.get("backers", True):
            assert not out["rival_opened"].any() and np.all(np.isnan(out["rival_open_week"]))


def test_unknown_policy_names_the_known_ones(kursk, futures_300):
    with pytest.raises(UserError) as error:
        build_inputs(kursk, futures_300, "surrender")
    message = str(error.value)
    assert "surrender" in message
    assert all(policy in message for policy in POLICIES)
    with pytest.raises(UserError):
        simulate_policy(kursk, "surrender", 10)


def test_axes_follow_the_scenario_order(kursk, futures_300):
    inputs, levers = build_inputs(kursk, futures_300, "arm-and-hold")
    assert inputs.belligerents.names == ("ukraine", "russia")
    assert inputs.backers.names == ("united_states", "europe")
    assert inputs.rivals.names == ("china", "iran") and inputs.rivals.of_backer == (0, 0)
    assert inputs.theaters.names == ("donbas", "kursk")
    assert inputs.theaters.soil_side == (0, 1) and inputs.theaters.is_salient == (False, True)
    column = futures_300["theaters.kursk.initial_forces.russia"].to_numpy(dtype=FLOAT)
    assert np.array_equal(inputs.theaters.initial_forces[1, 1], column)
    column = futures_300["ladder.rungs[2].adoption_per_week"].to_numpy(dtype=FLOAT)
    assert np.array_equal(inputs.ladder.adoption_per_week[2], column)
    assert inputs.main_backer == 0
    assert levers.lift_restrictions and levers.end_state_floor == 0.93
    assert inputs.calendar.election_actor_backer == (0,)
