"""Hand-checkable tests of the mechanisms' functions, one or two per mechanism."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import numpy as np
import pytest
from engine_testkit import inputs_for, replace_in, run_engine

from offramp.engine import CEASEFIRE, WAR, LadderRules, Levers
from offramp.engine.inputs import CombatRules, RoutRules
from offramp.engine.mechanisms import (
    aid,
    bargaining,
    calendar,
    combat,
    escalation,
    forces,
    industry,
    ladder,
    strikes,
    territory,
)
from offramp.engine.noise import NoiseSource, make_key
from offramp.engine.state import SETTLED

_TOY_LADDER = LadderRules(
    rung_ids=("a", "b", "c", "d"),
    effects=("shipping", "energy_strike_ban", "ceasefire", "disengagement"),
    pressure_effect=np.zeros(1), adoption_per_week=np.zeros((4, 1)),
    violation_per_week=np.zeros((4, 1)), strength=np.ones((4, 1)),
    relapse_reduction_per_rung=np.full(1, 0.35))


_MINIMAL_COMBAT = CombatRules(*(np.ones(1) for _ in range(7)))


@pytest.fixture
def small(kursk, futures_300):
    """Engine inputs for four futures of kursk-2024 under drip-feed, without its rout rules
    (the hand checks below are of attrition alone; the rout tests add rules of their own)."""
    inputs, levers = inputs_for(kursk, futures_300.iloc[:4], "drip-feed")
    return replace_in(inputs, "combat", rout=None), levers


# --- combat ---------------------------------------------------------------------------------


def test_lanchester_square_and_linear_laws():
    a, width = np.array([0.02]), np.array([10.0])
    enemy, own = np.array([3000.0]), np.array([1000.0])
    # q = 1, p = 0: aimed fire, dX/dt = -a Y (square law): losses do not depend on X.
    square = combat.lanchester_casualties(a, width, enemy, own, np.array([1.0]), np.array([0.0]))
    assert square == pytest.approx(a * enemy)
    # q = 1, p = 1: area fire, dX/dt = -a X Y / W (linear law).
    linear = combat.lanchester_casualties(a, width, enemy, own, np.array([1.0]), np.array([1.0]))
    assert linear == pytest.approx(a * enemy * own / width)
    # A reference density d rescales the coefficient by d^(p+q) and nothing else.
    q, p, d = np.array([0.75]), np.array([0.4]), 400.0
    unit = combat.lanchester_casualties(a, width, enemy, own, q, p)
    referenced = combat.lanchester_casualties(a * d ** (p + q), width, enemy, own, q, p, d)
    assert referenced == pytest.approx(unit)


def test_combat_step_matches_closed_form_for_one_week(small):
    inputs, _ = small
    n = inputs.n_futures
    b = dataclasses.replace(
        inputs.belligerents, combat_quality=np.ones((2, n)),
        shells_needed_per_soldier_week=np.full((2, n), 0.1), fire_elasticity=np.full((2, n), 0.5))
    rules = dataclasses.replace(
        inputs.combat, attrition_per_week=np.full(n, 0.01), reference_density_per_km=np.ones(n),
        firer_exponent=np.ones(n),
        target_exponent=np.zeros(n), attacker_loss_multiplier=np.full(n, 2.0),
        noise_sd=np.zeros(n), killed_share=np.full(n, 0.3), wounded_return_share=np.full(n, 0.5))
    forces_now = np.zeros((2, 2, n))
    forces_now[:, 0] = [[1000.0], [3000.0]]  # theater 0: a 1000, b 3000
    forces_now[:, 1] = [[500.0], [200.0]]  # theater 1: a 500, b 200
    stock = np.array([[1e9], [60.0]]) * np.ones((2, n))  # b has 60 of the 320 rounds it needs
    result = combat.step(
        b, rules, combat.plan(inputs.theaters, rules), combat.initial_state(b, inputs.theaters),
        forces=forces_now,
        shell_stock=stock, at_war=np.ones(n), damp=np.ones((2, n)), logistics_hit=0.0,
        noise=NoiseSource(make_key(0), np.arange(n)), week=0)
    support_b = (60.0 / 320.0) ** 0.5
    power = forces_now * np.array([1.0, support_b])[:, None, None]
    # Square law: casualties = a * enemy power, doubled for the side with more power.
    expected_a = 0.01 * power[1] * np.where(power[0] > power[1], 2.0, 1.0)
    expected_b = 0.01 * power[0] * np.where(power[1] > power[0], 2.0, 1.0)
    assert result.casualties[0] == pytest.approx(expected_a.sum(axis=0))
    assert result.casualties[1] == pytest.approx(expected_b.sum(axis=0))
    assert result.shell_stock[1] == pytest.approx(np.zeros(n))
    assert result.state.killed_total == pytest.approx(0.3 * result.casualties)
    assert result.state.wounded_returning == pytest.approx(0.7 * 0.5 * result.casualties)
    assert np.all(result.forces >= 0)


def test_a_theater_defender_never_pays_the_attackers_losses(small):
    """Theater 0 has side b as its defender: side a attacks there every week, although b is
    three times as strong; theater 1 keeps the stronger-side rule."""
    inputs, _ = small
    n = inputs.n_futures
    b = dataclasses.replace(inputs.belligerents, combat_quality=np.ones((2, n)))
    rules = dataclasses.replace(
        inputs.combat, attrition_per_week=np.full(n, 0.01), reference_density_per_km=np.ones(n),
        firer_exponent=np.ones(n), target_exponent=np.zeros(n),
        attacker_loss_multiplier=np.full(n, 2.0), noise_sd=np.zeros(n))
    forces_now = np.zeros((2, 2, n))
    forces_now[:, 0] = [[1000.0], [3000.0]]
    forces_now[:, 1] = [[500.0], [200.0]]

    def fight(theaters):
        return combat.step(
            b, rules, combat.plan(theaters, rules), combat.initial_state(b, theaters),
            forces=forces_now, shell_stock=np.full((2, n), 1e12), at_war=np.ones(n),
            damp=np.ones((2, n)), logistics_hit=0.0, noise=NoiseSource(make_key(0), np.arange(n)),
            week=0).casualties

    by_strength = fight(inputs.theaters)
    fixed = fight(dataclasses.replace(inputs.theaters, attacker_side=(0, -1)))
    # Square law, losses = 0.01 * enemy power, doubled for the attacker. Theater 1 (a stronger,
    # so a attacks) is the same in both: a loses 0.01 * 200 * 2, b 0.01 * 500.
    assert by_strength[0] == pytest.approx(0.01 * 3000 + 4.0)
    assert by_strength[1] == pytest.approx(0.01 * 1000 * 2 + 5.0)  # b, stronger, attacked
    assert fixed[0] == pytest.approx(0.01 * 3000 * 2 + 4.0)  # a attacks: a pays
    assert fixed[1] == pytest.approx(0.01 * 1000 + 5.0)  # b defends: b does not


@pytest.mark.parametrize(("q", "p"), [(0.75, 0.4), (0.5, 0.0), (1.0, 0.8)])
def test_combat_step_uses_the_lanchester_formula(small, q, p):
    inputs, _ = small
    n = inputs.n_futures
    rules = dataclasses.replace(inputs.combat, firer_exponent=np.full(n, q, np.float32),
                                target_exponent=np.full(n, p, np.float32),
                                noise_sd=np.zeros(n, np.float32))
    b = inputs.belligerents
    result = combat.step(
        b, rules, combat.plan(inputs.theaters, rules), combat.initial_state(b, inputs.theaters),
        forces=inputs.theaters.initial_forces, shell_stock=np.full((2, n), 1e12, np.float32),
        at_war=np.ones(n, np.float32), damp=np.ones((2, n), np.float32), logistics_hit=0.0,
        noise=NoiseSource(make_key(0), np.arange(n)), week=0)
    forces_now = inputs.theaters.initial_forces.astype(float)
    power = forces_now * b.combat_quality.astype(float)[:, None, :]
    expected = combat.lanchester_casualties(
        rules.attrition_per_week.astype(float), inputs.theaters.frontage_km.astype(float),
        power[::-1], forces_now, q, p, rules.reference_density_per_km.astype(float))
    expected *= np.where(power > power[::-1], rules.attacker_loss_multiplier, 1.0)
    expected = np.minimum(expected, forces_now)  # (q = 1, p = 0.8 wipes some theaters out)
    assert result.casualties == pytest.approx(expected.sum(axis=1), rel=1e-4)


def test_casualties_never_exceed_forces(small):
    inputs, _ = small
    n = inputs.n_futures
    rules = dataclasses.replace(inputs.combat, attrition_per_week=np.full(n, 1e3))
    result = combat.step(
        inputs.belligerents, rules, combat.plan(inputs.theaters, rules),
        combat.initial_state(inputs.belligerents, inputs.theaters),
        forces=inputs.theaters.initial_forces, shell_stock=inputs.belligerents.shell_stock,
        at_war=np.ones(n), damp=np.ones((2, n)), logistics_hit=0.0,
        noise=NoiseSource(make_key(0), np.arange(n)), week=0)
    assert np.all(result.forces >= 0)
    assert result.casualties == pytest.approx(inputs.theaters.initial_forces.sum(axis=1))


def test_fire_support_is_one_when_supplied_and_falls_with_elasticity():
    support, fired = combat.fire_support(np.array([100.0, 50.0, 0.0, 5.0]),
                                         np.array([80.0, 100.0, 10.0, 0.0]),
                                         np.array([0.5, 0.5, 0.5, 0.5]))
    assert support == pytest.approx([1.0, 0.5**0.5, 0.0, 1.0])
    assert fired == pytest.approx([80.0, 50.0, 0.0, 0.0])


# --- territory ------------------------------------------------------------------------------


def test_no_advance_below_the_breakthrough_ratio():
    scale, threshold, beta = np.full(4, 100.0), np.full(4, 1.5), np.full(4, 2.0)
    strong = np.array([1.0, 1.4, 1.5, 3.0])
    gained = territory.advance_km2(strong, np.ones(4), scale, threshold, beta)
    assert gained[:3] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert gained[3] == pytest.approx(100.0 * np.tanh(2.0 * np.log(3.0 / 1.5)))


def test_territory_stays_within_contested_area_and_withdrawal_empties_the_salient(small):
    inputs, _ = small
    n = inputs.n_futures
    plan = territory.plan(inputs.theaters, inputs.territory, Levers(salient_posture="withdraw"))
    power = np.zeros((2, 2, n))
    power[0] = 1e9  # side a overwhelming everywhere
    power[1] = 1.0
    state = territory.initial_state(inputs.theaters)
    for week in range(6):
        state = territory.step(inputs.theaters, inputs.territory, plan, state, power=power,
                               advance_multiplier=1.0, damp=np.ones((2, n)),
                               withdrawal_weeks=np.full(n, 4.0), week=week)
        assert np.all(state.enemy_held_km2 >= 0)
        assert np.all(state.enemy_held_km2 <= inputs.theaters.contested_area_km2)
    assert state.enemy_held_km2[1] == pytest.approx(np.zeros(n))  # kursk, on b's soil: given up
    assert np.all(state.enemy_held_km2[0] < inputs.theaters.initial_enemy_held_km2[0])


def test_shares_follow_the_definitions(small):
    inputs, _ = small
    plan = territory.plan(inputs.theaters, inputs.territory, Levers())
    held = inputs.theaters.initial_enemy_held_km2 + np.array([[6035.5], [0.0]])
    a_share, e, salient = territory.shares(inputs.belligerents, inputs.theaters, plan, held)
    area = inputs.belligerents.national_area_km2[0]
    assert a_share == pytest.approx(inputs.belligerents.initial_territory_share[0] - 6035.5 / area)
    assert salient == pytest.approx(inputs.theaters.initial_enemy_held_km2[1])
    assert e == pytest.approx(salient / area)


# --- bargaining -----------------------------------------------------------------------------


def test_bargaining_worked_check_of_model_theory():
    """model-theory §1.2 'Worked check' (its printed figures are rounded to about 0.002)."""
    def case(q_a, q_b, chip, premium_a, audience):
        return bargaining.settlement_range(
            np.array([q_a]), np.array([q_b]), np.array([chip]), np.array([0.06]),
            np.array([0.04]), np.array([0.95]), np.array([0.225]), np.array([audience]),
            np.array([audience]), premium_a=np.array([premium_a]), premium_b=np.array([0.02]))

    x_low, x_high = case(0.82, 0.79, 0.08, 0.10, 1.0)  # early war: no deal
    assert x_low[0] == pytest.approx(0.905, abs=0.0025)
    assert x_high[0] == pytest.approx(0.834, abs=0.0025)
    assert x_low[0] > x_high[0]
    x_low, x_high = case(0.80, 0.80, 0.08, 0.011, 0.3)  # beliefs converged, Kursk held
    assert (x_low[0], x_high[0]) == pytest.approx((0.797, 0.873), abs=0.0025)
    assert x_low[0] + 0.5 * (x_high[0] - x_low[0]) == pytest.approx(0.835, abs=0.0025)
    x_low, x_high = case(0.80, 0.80, 0.0, 0.011, 0.3)  # Kursk lost
    assert (x_low[0], x_high[0]) == pytest.approx((0.797, 0.810), abs=0.0025)
    assert x_low[0] + 0.5 * (x_high[0] - x_low[0]) == pytest.approx(0.803, abs=0.0025)


def test_complete_information_range_is_costs_plus_chip():
    """Fearon's benchmark: same beliefs, no floors binding: surplus = C_a + C_b + chip."""
    one = np.ones(3)
    x_low, x_high = bargaining.settlement_range(
        0.8 * one, 0.8 * one, np.array([0.0, 0.02, 0.05]), 0.03 * one, 0.02 * one, 0 * one,
        0 * one, 0 * one, 0 * one)
    assert x_high - x_low == pytest.approx([0.05, 0.07, 0.10])
    assert np.all(np.diff(x_high) > 0)  # more held enemy soil, better upper end for side a


# --- industry and aid -----------------------------------------------------------------------


def test_production_approaches_target_with_its_time_constant(small):
    inputs, _ = small
    n = inputs.n_futures
    plan = industry.plan(inputs.belligerents, inputs.backers, inputs.rivals, Levers())
    state = industry.initial_state(inputs.belligerents, inputs.backers)
    zeros = np.zeros((inputs.backers.count, n))
    for _ in range(52):
        state = industry.step(inputs.backers, inputs.rivals, plan, state, shells_sent=zeros,
                              high_end_sent=zeros, shells_received=np.zeros((2, n)),
                              rival_opened=np.zeros((inputs.rivals.count, n), dtype=bool))
    gap0 = (inputs.backers.shell_production_target_per_month
            - inputs.backers.shell_production_per_month)
    tau_weeks = inputs.backers.production_ramp_months * 52 / 12
    expected = inputs.backers.shell_production_target_per_month - gap0 * np.exp(-52 / tau_weeks)
    assert state.backer_production_per_month == pytest.approx(expected, rel=1e-5)  # float32


def test_aid_never_draws_below_the_floor_and_stops_after_settlement(small):
    inputs, _ = small
    n = inputs.n_futures
    plan = aid.plan(inputs.backers, inputs.rivals, Levers(aid_multiplier=10.0,
                                                          pacific_reserve_share=0.9))
    common = dict(
        backer_support=inputs.backers.initial_support * 3,
        production_per_month=inputs.backers.shell_production_per_month,
        shell_stock=inputs.backers.shell_stock,
        high_end_stock=inputs.backers.high_end_stock,
        rival_opened=np.zeros((inputs.rivals.count, n), dtype=bool),
        election_aid_multiplier=np.ones((inputs.backers.count, n)))
    flows = aid.step(inputs.backers, inputs.rivals, plan, not_settled=np.ones(n), **common)
    excess = np.maximum(0, inputs.backers.shell_stock - plan.floor_share
                        * inputs.backers.shell_stock)
    assert np.all(flows.shells_from_stock <= excess + 1e-9)
    assert np.all(plan.floor_share[0] >= 0.9)  # the US is the rivals' backer
    assert np.all(flows.shells_sent <= inputs.backers.shell_production_per_month * 12 / 52
                  + excess + 1e-9)
    stopped = aid.step(inputs.backers, inputs.rivals, plan, not_settled=np.zeros(n), **common)
    assert np.all(stopped.shells_sent == 0) and np.all(stopped.high_end_sent == 0)


# --- strikes, escalation, calendar ----------------------------------------------------------


def test_strikes_balance_at_damage_over_repair_and_ban_cuts_damage(small):
    inputs, _ = small
    n = inputs.n_futures
    rules = inputs.strikes
    equilibrium = 1.0 - rules.damage_per_week / rules.repair_per_week
    state = strikes.StrikesState(np.clip(equilibrium, 0, 1))
    after = strikes.step(rules, state, at_war=np.ones(n), surge=np.zeros(n, bool),
                         ban_strength=0.0)
    inside = (equilibrium > 0) & (equilibrium < 1)
    assert after.generating_capacity[inside] == pytest.approx(equilibrium[inside])
    banned = strikes.step(rules, state, at_war=np.ones(n), surge=np.zeros(n, bool),
                          ban_strength=np.full(n, 0.5))
    assert np.all(banned.generating_capacity >= after.generating_capacity)


def test_rear_area_ban_removes_escalation_hazard(small):
    inputs, _ = small
    start = escalation.initial_state(inputs.n_futures, inputs.escalation.rungs)
    lifted = escalation.lifted(True, start)
    kept = escalation.lifted(False, start)
    assert np.all(escalation.hazard(inputs.escalation, lifted, 1.0) == 0)
    assert np.all(escalation.hazard(inputs.escalation, lifted, 0.0)
                  > escalation.hazard(inputs.escalation, kept, 0.0))
    assert inputs.escalation.rungs is not None
    assert np.all(escalation.rung_hazards(inputs.escalation.rungs, lifted, 1.0) == 0)


def test_calendar_weeks_of_the_us_election_and_the_mud_seasons(small):
    inputs, _ = small
    start = inputs.calendar.start_date
    assert calendar.week_of(dt.date(2024, 11, 5), start) == 11
    plan = calendar.plan(inputs.calendar, 104)
    assert plan.election_week == (11,) and plan.takes_office_week == (22,)
    autumn = [w for w, active in enumerate(plan.active_seasons[:52]) if 0 in active]
    spring = [w for w, active in enumerate(plan.active_seasons[:52]) if 1 in active]
    assert autumn == list(range(9, 15))  # weeks starting 21 Oct to 25 Nov 2024
    assert len(spring) == 7


# --- forces ---------------------------------------------------------------------------------


def test_hold_sends_at_least_the_hold_share_to_the_salient(small):
    inputs, _ = small
    n = inputs.n_futures
    plan = forces.plan(inputs.belligerents, inputs.theaters, inputs.forces,
                       Levers(salient_posture="hold"))
    power = np.ones((2, 2, n))
    power[1, 1] = 1e-3  # b barely present in the salient: threat there is tiny
    hold = np.full(n, 0.15)
    share = forces.allocation_shares(inputs.theaters.reinforcement_weight, power,
                                     inputs.theaters.initial_enemy_held_km2, plan, hold)
    assert share[0, 1] == pytest.approx(hold)
    assert share.sum(axis=1) == pytest.approx(np.ones((2, n)))
    lost = inputs.theaters.initial_enemy_held_km2 * np.array([[1.0], [0.0]])
    share = forces.allocation_shares(inputs.theaters.reinforcement_weight, power, lost, plan,
                                     hold)
    assert np.all(share[0, 1] == 0)  # nothing left to hold: no reinforcements


def test_a_theater_on_enemy_soil_opens_once_the_adjacent_one_is_cleared(small):
    """Kursk (on b's soil) opens to side a once b holds at most the threshold of Donbas."""
    inputs, levers = small
    n = inputs.n_futures
    theaters = dataclasses.replace(inputs.theaters, opens_after=(-1, 0),
                                   opens_below_km2=np.array([[0.0], [5000.0]]) * np.ones((2, n)))
    plan = forces.plan(inputs.belligerents, theaters, inputs.forces, levers)
    state = forces.initial_state(inputs.belligerents, theaters)

    def week(donbas_held_by_b: float) -> forces.ForcesState:
        held = np.array([[donbas_held_by_b], [0.0]]) * np.ones((2, n))  # a holds none of Kursk
        return forces.step(inputs.belligerents, theaters, inputs.forces, plan, state,
                           power=np.ones((2, 2, n)), enemy_held_km2=held,
                           support=inputs.belligerents.initial_support,
                           wounded_returning=np.zeros((2, n)))

    closed, opened = week(50_000.0), week(5_000.0)
    assert np.all(closed.forces[0, 1] == 0)  # pushed back across the line, nothing sent
    assert np.all(opened.forces[0, 1] > state.forces[0, 1])  # stays and is reinforced
    assert np.all(opened.forces[1, 1] > 0) and np.all(closed.forces[1, 1] > 0)  # b's soil
    # Without the rule the model starts no incursion, as before.
    no_rule = forces.plan(inputs.belligerents, inputs.theaters, inputs.forces, levers)
    assert no_rule.opens_after is None
    assert forces.opened(no_rule, np.zeros((2, n))) is False


# --- ladder ---------------------------------------------------------------------------------


def _certain_ladder(inputs, levers):
    """Every rung agreed in the week it is next (no violations, relapses or talks), pursued,
    over rungs + 2 weeks."""
    n, rungs = inputs.n_futures, inputs.ladder.count
    inputs = replace_in(inputs, "ladder", adoption_per_week=np.full((rungs, n), 60.0),
                        violation_per_week=np.zeros((rungs, n)))
    inputs = replace_in(inputs, "bargaining", ceasefire_relapse_per_week=np.zeros(n),
                        offers_from_b_per_week=np.zeros(n), talks_open_per_week=np.zeros(n))
    return (dataclasses.replace(inputs, horizon_weeks=rungs + 2),
            dataclasses.replace(levers, pursue_ladder=True))


def test_ladder_climbs_one_rung_a_week_to_a_ceasefire(small, recorder):
    inputs, levers = _certain_ladder(*small)
    rungs = inputs.ladder.count
    result = run_engine(inputs, levers, observe=recorder)
    ladder_plan = ladder.plan(inputs.ladder, levers)
    for week, state in enumerate(recorder.states[1:], start=1):
        in_force = ladder.in_force(ladder_plan, state.ladder)
        assert np.all(in_force.sum(axis=0) == min(week, rungs))
        assert np.all(state.ladder.top_rung == min(week, rungs))
    assert np.all(recorder.states[rungs - 1].status == WAR)
    assert np.all(recorder.states[rungs].status == CEASEFIRE)
    assert np.all(result.outcomes["highest_rung"] == rungs)
    assert np.all(result.outcomes["end_kind"] == CEASEFIRE)
    assert np.all(result.outcomes["end_week"] == rungs - 1)


def test_one_draw_gives_the_lowest_violated_rung_with_independent_odds():
    """P(lowest violated = k) = v_k * prod_{s<k} (1 - v_s), as with one draw per rung."""
    violation = np.array([[0.5], [0.2], [0.4]]) * np.ones((3, 400_000))
    rungs = ladder.plan(
        dataclasses.replace(_TOY_LADDER, violation_per_week=np.vstack(
            [violation[:2], np.zeros((1, 400_000)), violation[2:]]).astype(np.float32),
            adoption_per_week=np.zeros((4, 400_000), np.float32),
            strength=np.ones((4, 400_000), np.float32),
            pressure_effect=np.zeros(400_000, np.float32),
            relapse_reduction_per_rung=np.zeros(400_000, np.float32)),
        Levers(pursue_ladder=True))
    assert rungs.ordinary == (0, 1, 3) and rungs.ceasefire_rung == 2
    draws = np.random.default_rng(0).random(400_000)
    lowest = (rungs.violation_cdf <= draws).sum(axis=0)
    expected = [0.5, 0.5 * 0.2, 0.5 * 0.8 * 0.4, 0.5 * 0.8 * 0.6]
    observed = [np.mean(lowest == k) for k in range(4)]
    assert observed == pytest.approx(expected, abs=0.004)


def test_ladder_weariness_is_zero_at_the_start_and_bounded():
    initial = np.array([[0.5, 0.6], [0.4, 0.4]])
    assert ladder.weariness(initial, initial) == pytest.approx([0, 0])
    assert ladder.weariness(np.zeros((2, 2)), initial) == pytest.approx([1, 1])


def test_settled_status_code_matches_end_kind():
    assert (WAR, SETTLED, CEASEFIRE) == (0, 1, 2)


# --- rout and ripeness (optional mechanisms, off in kursk-2024) ------------------------------


def _rout_rules(n: int, chance: float) -> RoutRules:
    return RoutRules(power_ratio=np.full(n, 2.0), chance_per_week=np.full(n, chance),
                     captured_share=np.full(n, 0.4), pursuit_multiplier=np.full(n, 3.0))


def test_only_a_force_outmatched_by_the_ratio_breaks():
    n = 3
    power = np.zeros((2, 1, n))
    power[0, 0] = [100.0, 100.0, 100.0]
    power[1, 0] = [150.0, 200.0, 400.0]  # b at 1.5x (holds), 2x and 4x (a breaks)
    standing = np.full((2, 1, n), 1000.0)
    noise = NoiseSource(make_key(0), np.arange(n))
    routed, captured = combat.rout(_rout_rules(n, 1.0), power, standing, np.ones((1, n)),
                                   noise, week=0)
    assert routed[0, 0].tolist() == [False, True, True]
    assert not routed[1].any()  # the stronger side never breaks
    assert captured[0, 0] == pytest.approx([0.0, 400.0, 400.0])
    # Half the fighting (disengagement at strength 0.5) halves the losses; no fighting, no rout.
    _, halved = combat.rout(_rout_rules(n, 1.0), power, standing, np.full((1, n), 0.5), noise, 0)
    assert halved[0, 0] == pytest.approx([0.0, 200.0, 200.0])
    never, _ = combat.rout(_rout_rules(n, 1.0), power, standing, np.zeros((1, n)), noise, 0)
    assert not never.any()
    none, _ = combat.rout(_rout_rules(n, 0.0), power, standing, np.ones((1, n)), noise, 0)
    assert not none.any()
    pursuit = combat.pursuit(dataclasses.replace(_MINIMAL_COMBAT, rout=_rout_rules(n, 1.0)),
                             routed)
    assert pursuit[0].tolist() == [1.0, 3.0, 3.0]
    assert combat.pursuit(_MINIMAL_COMBAT, None) == 1.0


def test_the_chance_of_a_rout_is_its_weekly_probability():
    n = 20000
    power = np.stack([np.ones((1, n)), np.full((1, n), 5.0)])
    routed, _ = combat.rout(_rout_rules(n, 0.3), power, np.ones((2, 1, n)), np.ones((1, n)),
                            NoiseSource(make_key(3), np.arange(n)), week=7)
    assert routed[0].mean() == pytest.approx(0.3, abs=0.015)


def test_prisoners_count_as_casualties_but_are_neither_killed_nor_wounded(small):
    inputs, _ = small
    n = inputs.n_futures
    b = dataclasses.replace(inputs.belligerents, combat_quality=np.ones((2, n)))
    forces_now = np.zeros((2, 2, n))
    forces_now[:, 0] = [[1000.0], [5000.0]]  # a is outmatched fivefold in theater 0
    forces_now[:, 1] = [[500.0], [500.0]]

    def fight(rules):
        return combat.step(
            b, rules, combat.plan(inputs.theaters, rules),
            combat.initial_state(b, inputs.theaters), forces=forces_now,
            shell_stock=np.full((2, n), 1e12), at_war=np.ones(n), damp=np.ones((2, n)),
            logistics_hit=0.0, noise=NoiseSource(make_key(0), np.arange(n)), week=0)

    plain = fight(inputs.combat)
    routed = fight(dataclasses.replace(inputs.combat, rout=_rout_rules(n, 1.0)))
    assert plain.routed is None
    assert routed.routed[0, 0].all() and not routed.routed[0, 1].any()
    captured = 0.4 * (forces_now[0, 0] - (forces_now[0, 0] - plain.forces[0, 0]))
    assert routed.casualties[0] == pytest.approx(plain.casualties[0] + captured, rel=1e-5)
    assert routed.casualties[1] == pytest.approx(plain.casualties[1])
    assert routed.state.killed_total == pytest.approx(plain.state.killed_total)
    assert routed.state.wounded_returning == pytest.approx(plain.state.wounded_returning)
    assert routed.forces[0, 0] == pytest.approx(plain.forces[0, 0] * 0.6, rel=1e-5)


def test_a_rung_that_waits_for_a_stalemate_is_not_agreed_while_the_line_moves(small):
    inputs, levers = _certain_ladder(*small)
    n, rungs = inputs.n_futures, inputs.ladder.count
    free = run_engine(inputs, levers).outcomes
    never = run_engine(replace_in(inputs, "ladder",
                                  ripe_below_line_movement=np.zeros((rungs, n))), levers).outcomes
    always = run_engine(replace_in(inputs, "ladder",
                                   ripe_below_line_movement=np.full((rungs, n), np.inf)),
                        levers).outcomes
    assert np.all(never["highest_rung"] == 0)  # movement is never below 0
    for name in free:
        np.testing.assert_array_equal(always[name], free[name])


def test_line_movement_is_a_moving_average_of_ground_changing_hands(small, recorder):
    inputs, levers = small
    n = inputs.n_futures
    rungs = inputs.ladder.count
    inputs = replace_in(inputs, "ladder", adoption_per_week=np.zeros((rungs, n)),
                        ripe_below_line_movement=np.full((rungs, n), np.inf))
    inputs = dataclasses.replace(inputs, horizon_weeks=6)
    run_engine(inputs, dataclasses.replace(levers, pursue_ladder=True), observe=recorder)
    area = inputs.belligerents.national_area_km2[0]
    expected = None
    for before, after in zip(recorder.states, recorder.states[1:], strict=False):
        moved = np.abs(after.territory.enemy_held_km2 - before.territory.enemy_held_km2
                       ).sum(axis=0) / area
        expected = moved if expected is None else expected + 0.25 * (moved - expected)
        assert after.ladder.line_movement == pytest.approx(expected, rel=1e-4, abs=1e-9)


def test_optional_fields_default_to_the_engine_constants_and_can_be_set(kursk_data):
    """A scenario that leaves out support_persistence, stock_drawdown_weeks and
    relapse_reduction_per_rung gets the documented constants; one that sets them gets its own."""
    from offramp.scenario.schema import Backer, Belligerent, Ladder, default_when_absent

    OPINION_PERSISTENCE = default_when_absent(Belligerent, "support_persistence")
    DRAWDOWN_WEEKS = default_when_absent(Backer, "stock_drawdown_weeks")
    RELAPSE_REDUCTION_PER_RUNG = default_when_absent(Ladder, "relapse_reduction_per_rung")
    assert (OPINION_PERSISTENCE, DRAWDOWN_WEEKS, RELAPSE_REDUCTION_PER_RUNG) == (0.95, 52.0, 0.35)
    from offramp.experiments.sampling import sample_futures
    from offramp.scenario.schema import Scenario

    def built(data):
        scenario = Scenario.model_validate(data)
        return inputs_for(scenario, sample_futures(scenario, 8, seed=0), "drip-feed")[0]

    plain = built(kursk_data)
    assert np.all(plain.belligerents.support_persistence == np.float32(OPINION_PERSISTENCE))
    assert np.all(plain.backers.stock_drawdown_weeks == np.float32(DRAWDOWN_WEEKS))
    assert np.all(plain.ladder.relapse_reduction_per_rung == np.float32(RELAPSE_REDUCTION_PER_RUNG))

    data = copy.deepcopy(kursk_data)
    source = "assumption: a test of the optional field"
    data["actors"]["ukraine"]["support_persistence"] = {"value": 0.8, "unit": "1", "source": source}
    data["actors"]["united_states"]["stock_drawdown_weeks"] = {
        "dist": "uniform", "low": 26, "high": 104, "unit": "weeks", "source": source}
    data["ladder"]["relapse_reduction_per_rung"] = {"value": 0.6, "unit": "1", "source": source}
    changed = built(data)
    assert np.all(changed.belligerents.support_persistence[0] == np.float32(0.8))
    assert np.all(changed.belligerents.support_persistence[1] == np.float32(OPINION_PERSISTENCE))
    usa = changed.backers.names.index("united_states")
    assert np.all((changed.backers.stock_drawdown_weeks[usa] >= 26)
                  & (changed.backers.stock_drawdown_weeks[usa] <= 104))
    assert np.all(changed.ladder.relapse_reduction_per_rung == np.float32(0.6))


def test_the_occupier_loses_strength_with_the_depth_of_its_advance(small):
    """Kursk is on b's soil (a occupies it), Donbas on a's (b occupies it)."""
    inputs, _ = small
    n = inputs.n_futures
    theaters = dataclasses.replace(inputs.theaters,
                                   occupier_strength_loss=np.full((2, n), 0.5, np.float32))
    plan = combat.plan(theaters, inputs.combat)
    half = 0.5 * theaters.contested_area_km2  # each occupier holds half its theater
    kept = combat.strength_kept(plan, half)
    assert kept[1, 0] == pytest.approx(np.full(n, 0.75))  # b in Donbas: 1 - 0.5 * 0.5
    assert kept[0, 1] == pytest.approx(np.full(n, 0.75))  # a in Kursk
    assert np.all(kept[0, 0] == 1) and np.all(kept[1, 1] == 1)  # owners keep all
    assert combat.strength_kept(combat.plan(inputs.theaters, inputs.combat), half) is None
    b = inputs.belligerents
    forces_now = inputs.theaters.initial_forces
    rules = dataclasses.replace(inputs.combat, attacker_loss_multiplier=np.ones(n),
                                noise_sd=np.zeros(n))

    def fight(theaters_used):
        return combat.step(
            b, rules, combat.plan(theaters_used, rules), combat.initial_state(b, inputs.theaters),
            forces=forces_now, shell_stock=np.full((2, n), 1e12), at_war=np.ones(n),
            damp=np.ones((2, n)), logistics_hit=0.0,
            noise=NoiseSource(make_key(0), np.arange(n)), week=0, enemy_held_km2=half)

    plain, strained = fight(inputs.theaters), fight(theaters)
    np.testing.assert_allclose(strained.state.power, plain.state.power * kept, rtol=1e-6)
    # Losses scale with the firer's power to the firer exponent q: a's losses in Donbas (from
    # b, the occupier there) by 0.75 ** q.
    lost = forces_now - np.stack([plain.forces, strained.forces])  # (2 runs, 2, J, n)
    np.testing.assert_allclose(lost[1, 0, 0] / lost[0, 0, 0],
                               0.75 ** rules.firer_exponent, rtol=1e-4)
