"""Invariants that must hold in every future, week and policy, for perturbed parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
from engine_testkit import POLICIES, Recorder, inputs_for, run_engine, with_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offramp.engine.state import SETTLED, WAR

_CHECKS = settings(max_examples=10, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_state_bounds(inputs, state) -> None:
    held = state.territory.enemy_held_km2
    assert np.all(held >= 0) and np.all(held <= inputs.theaters.contested_area_km2 + 1e-9)
    assert np.all(state.forces.forces >= 0)
    assert np.all(state.forces.reserves >= -1e-9) and np.all(state.forces.in_training >= 0)
    assert np.all(state.industry.shell_stock >= 0)
    assert np.all(state.industry.backer_shell_stock >= 0)
    assert np.all(state.industry.backer_high_end_stock >= 0)
    support = state.politics.support
    assert np.all((support >= 0) & (support <= 1))
    backer_support = state.politics.backer_support
    assert np.all((backer_support >= 0) & (backer_support <= 1))
    capacity = state.strikes.generating_capacity
    assert np.all((capacity >= 0) & (capacity <= 1))
    assert np.all(state.combat.casualties_total >= 0)
    assert np.all(state.combat.killed_total <= state.combat.casualties_total + 1e-9)
    terms = state.bargaining.terms
    assert np.all(np.isnan(terms) | ((terms >= 0) & (terms <= 1)))


def check_transitions(inputs, before, after) -> None:
    assert np.all(after.combat.casualties_total >= before.combat.casualties_total)
    settled_before = before.status == SETTLED
    # Settlement is absorbing, its terms and week never change.
    assert np.all(after.status[settled_before] == SETTLED)
    assert np.array_equal(after.bargaining.terms[settled_before],
                          before.bargaining.terms[settled_before])
    # Without fighting (ceasefire or settlement at the start of the week) the lines and the
    # casualty counts freeze; only a settlement this week hands b's soil back.
    quiet = before.status != WAR
    held_before = before.territory.enemy_held_km2[:, quiet]
    held_after = after.territory.enemy_held_km2[:, quiet]
    on_a_soil = np.array([s == 0 for s in inputs.theaters.soil_side])
    assert np.array_equal(held_after[on_a_soil], held_before[on_a_soil])
    handed_back = (after.status == SETTLED)[quiet] & ~settled_before[quiet]
    assert np.all((held_after[~on_a_soil] == held_before[~on_a_soil])
                  | ((held_after[~on_a_soil] == 0) & handed_back))
    assert np.array_equal(after.combat.casualties_total[:, quiet],
                          before.combat.casualties_total[:, quiet])


@_CHECKS
@given(
    seed=st.integers(0, 2**32 - 1),
    policy=st.sampled_from(POLICIES),
    attrition=st.floats(0.05, 20.0),
    shells=st.floats(0.0, 3.0),
    kursk_forces=st.floats(0.0, 3.0),
    hazards=st.floats(0.0, 30.0),
)
def test_invariants_hold_under_perturbed_parameters(kursk, futures_300, seed, policy, attrition,
                                                    shells, kursk_forces, hazards):
    futures = with_columns(
        futures_300.iloc[:120],
        combat__attrition_per_week=lambda c: c * attrition,
        actors__ukraine__shell_stock=lambda c: c * shells,
        actors__russia__shell_stock=lambda c: c * shells,
        theaters__kursk__initial_forces__ukraine=lambda c: c * kursk_forces,
        bargaining__settle_per_week=lambda c: np.minimum(1.0, c * hazards),
        bargaining__ceasefire_relapse_per_week=lambda c: np.minimum(1.0, c * hazards),
        escalation__base_hazard_per_week=lambda c: np.minimum(1.0, c * hazards),
        **{"ladder__rungs[5]__adoption_per_week": lambda c: np.minimum(1.0, c * hazards)},
    )
    inputs, levers = inputs_for(kursk, futures, policy)
    recorder = Recorder()
    result = run_engine(inputs, levers, seed=seed, observe=recorder)
    states = recorder.states
    assert len(states) == inputs.horizon_weeks + 1
    for state in states:
        check_state_bounds(inputs, state)
    for before, after in zip(states, states[1:], strict=False):
        check_transitions(inputs, before, after)

    out = result.outcomes
    assert np.all((out["a_territory_share"] >= 0) & (out["a_territory_share"] <= 1))
    assert np.all(out["casualties_a"] >= 0) and np.all(out["casualties_b"] >= 0)
    assert np.array_equal(out["ended"], out["end_kind"] > 0)
    assert np.all(np.isnan(out["end_week"]) != out["ended"])
    settled = out["end_kind"] == SETTLED
    assert np.all(out["salient_km2_at_end"][settled] == 0)
    assert np.array_equal(out["a_territory_share"][settled], out["settlement_terms"][settled])
    assert np.all(np.isnan(out["settlement_terms"][~settled]))
    assert np.all(out["min_generating_capacity"] <= states[0].strikes.generating_capacity)
    assert np.all(out["two_front_war"] <= out["rival_opened"])


def _float64_fields(obj, path: str, found: set[str]) -> None:
    if dataclasses.is_dataclass(obj):
        for item in dataclasses.fields(obj):
            _float64_fields(getattr(obj, item.name), f"{path}.{item.name}", found)
    elif isinstance(obj, np.ndarray) and obj.dtype == np.float64:
        found.add(path)


def test_the_state_stays_in_single_precision_for_every_policy(kursk, futures_300):
    """No silent float64 upcast (a Python float times a bool array is float64): until the
    fix, two of the three kursk-2024 policies ran their whole state in double precision."""
    for policy in POLICIES:
        inputs, levers = inputs_for(kursk, futures_300, policy)
        found: set[str] = set()

        def observe(state, found=found):
            _float64_fields(state, "state", found)

        run_engine(inputs, levers, observe=observe)
        assert not found, (policy, sorted(found))
