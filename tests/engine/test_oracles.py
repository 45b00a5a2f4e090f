"""Oracle tests: small hand-built cases whose expected numbers are worked out by hand from the
formulas in the mechanisms' docstrings, independently of the code that implements them.

Each test pins one piece of arithmetic that a plausible one-line slip would change without
breaking the engine's invariants or directions: the mean-one correction of the casualty noise,
the side that deep strikes hit, the end of the settlement range the terms are measured from,
side a's premium on its own salient soil held by the enemy, and the direction of war-weariness.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from engine_testkit import inputs_for, run_engine

from offramp.engine import (
    WAR,
    Backers,
    BargainingRules,
    Belligerents,
    CombatRules,
    Levers,
    Theaters,
)
from offramp.engine.inputs import FLOAT, IssueRules
from offramp.engine.mechanisms import bargaining, combat, politics
from offramp.engine.noise import NoiseSource, make_key
from offramp.engine.state import SETTLED, STATUS_DTYPE
from offramp.experiments.sampling import sample_futures
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Scenario

MINIMAL = Path(__file__).parents[1] / "scenarios" / "minimal.yaml"
SOURCE = "assumption: a toy scenario for an oracle test of the engine"


def _per_side(a: float, b: float, n: int) -> np.ndarray:
    """(2, n) FLOAT: side a's value in row 0 and side b's in row 1, in every future."""
    return np.array([[a], [b]], dtype=FLOAT) * np.ones((2, n), dtype=FLOAT)


def _full(value: float, n: int) -> np.ndarray:
    return np.full(n, value, dtype=FLOAT)


# Fields whose neutral value is 0, not 1: no commitment premium, no hardening.
_ZERO_BY_DEFAULT = ("commitment_premium", "hardens_while_soil_held")


def _belligerents(n: int, **per_side: tuple[float, float]) -> Belligerents:
    """Belligerents with every field 1 for both sides (0 for a commitment premium and the
    hardening probability) except those given as (a, b)."""
    names = [f for f in Belligerents.__dataclass_fields__ if f != "names"]
    unknown = set(per_side) - set(names)
    assert not unknown, unknown
    neutral = {name: (0.0, 0.0) if name in _ZERO_BY_DEFAULT else (1.0, 1.0) for name in names}
    return Belligerents(names=("a", "b"), **{
        name: _per_side(*per_side.get(name, neutral[name]), n) for name in names})


def _theaters(n: int, soil_side: tuple[int, ...], is_salient: tuple[bool, ...],
              frontage_km: tuple[float, ...], contested_area_km2: tuple[float, ...],
              forces: tuple[tuple[float, float], ...] | None = None) -> Theaters:
    """Theaters with the given layout; forces per theater as (a, b) (1 each if not given)."""
    j = len(soil_side)

    def rows(values):
        return np.array(values, dtype=FLOAT)[:, None] * np.ones((j, n), dtype=FLOAT)

    forces = forces or ((1.0, 1.0),) * j
    initial_forces = np.array(forces, dtype=FLOAT).T[:, :, None] * np.ones((2, j, n), FLOAT)
    return Theaters(
        names=tuple(f"t{i}" for i in range(j)), soil_side=soil_side, is_salient=is_salient,
        contested_area_km2=rows(contested_area_km2), initial_enemy_held_km2=rows([0.0] * j),
        frontage_km=rows(frontage_km), initial_forces=initial_forces,
        reinforcement_weight=np.ones((2, j, n), FLOAT), terrain_factor=rows([1.0] * j))


def _combat_rules(n: int, noise_sd: float) -> CombatRules:
    return CombatRules(
        attrition_per_week=_full(0.01, n), firer_exponent=_full(0.75, n),
        target_exponent=_full(0.4, n), attacker_loss_multiplier=_full(2.0, n),
        noise_sd=_full(noise_sd, n), killed_share=_full(0.3, n),
        wounded_return_share=_full(0.5, n), reference_density_per_km=_full(1.0, n))


def _fight(n: int, noise_sd: float, *, forces_a: float, forces_b: float,
           quality: tuple[float, float], logistics_hit: np.ndarray | float = 0.0,
           week: int = 0) -> combat.CombatResult:
    """One week in one 10 km theater on a's soil, shells plentiful (fire support 1)."""
    b = _belligerents(n, combat_quality=quality, shells_needed_per_soldier_week=(0.1, 0.1),
                      fire_elasticity=(0.5, 0.5))
    theaters = _theaters(n, (0,), (False,), (10.0,), (1000.0,), ((forces_a, forces_b),))
    rules = _combat_rules(n, noise_sd)
    return combat.step(
        b, rules, combat.plan(theaters, rules), combat.initial_state(b, theaters),
        forces=theaters.initial_forces, shell_stock=_per_side(1e12, 1e12, n),
        at_war=_full(1.0, n), damp=np.ones((1, n), FLOAT), logistics_hit=logistics_hit,
        noise=NoiseSource(make_key(7), np.arange(n)), week=week)


# --- combat ---------------------------------------------------------------------------------


def test_casualty_noise_is_a_mean_one_lognormal_with_log_sd_noise_sd():
    """noise = exp(sd z - sd**2 / 2) has mean exactly 1 (E exp(sd z) = exp(sd**2 / 2)), so
    the noise adds spread but no bias to expected casualties. Measured as the ratio of each
    future's casualties with noise_sd = 0.5 to the same fight with noise_sd = 0: 2 sides x
    250,000 futures x 2 weeks = 10**6 draws, so the standard error of the mean is about 5e-4.
    A wrong sign on the correction gives mean exp(0.25) = 1.28 and mean log +0.125."""
    n, sd = 250_000, 0.5
    ratios = []
    for week in (0, 1):
        # Casualties are about 3% of the forces: the cap at the forces present never binds,
        # even at the largest draw (|z| <= 3.9, a factor of 6).
        quiet = _fight(n, 0.0, forces_a=1000.0, forces_b=2000.0, quality=(1.0, 1.0), week=week)
        noisy = _fight(n, sd, forces_a=1000.0, forces_b=2000.0, quality=(1.0, 1.0), week=week)
        assert np.all(quiet.casualties > 0) and np.all(noisy.forces > 0)
        ratios.append(noisy.casualties.astype(np.float64) / quiet.casualties)
    ratio = np.concatenate(ratios).ravel()
    log_ratio = np.log(ratio)
    assert ratio.mean() == pytest.approx(1.0, abs=0.005)
    assert log_ratio.mean() == pytest.approx(-sd**2 / 2, abs=0.005)
    assert log_ratio.std() == pytest.approx(sd, abs=0.005)


def test_deep_strikes_cut_side_b_power_and_so_side_a_losses():
    """Lifting restrictions lets side a strike b's logistics: m_b = 1 - logistics_hit scales
    b's power E_b, hence a's losses (inflicted by b) by m_b ** q; b's losses (inflicted by a)
    do not change. Worked by hand, q = 0.75, p = 0.4, W = 10 km, d = 1/km, attrition 0.01:

        F_a = 1000, quality 1.5 -> E_a = 1500;  F_b = 3000, quality 1 -> E_b = 3000 m_b
        b is the stronger side (3000 and 2100 > 1500): b attacks, b pays the multiplier 2
        casualties_a = 0.01 * 10 * (E_b / 10) ** 0.75 * (1000 / 10) ** 0.4
        casualties_b = 0.01 * 10 * (1500 / 10) ** 0.75 * (3000 / 10) ** 0.4 * 2
    """
    hit = np.array([0.0, 0.3], dtype=FLOAT)  # future 0 without deep strikes, future 1 with
    result = _fight(2, 0.0, forces_a=1000.0, forces_b=3000.0, quality=(1.5, 1.0),
                    logistics_hit=hit)
    e_b = 3000.0 * (1.0 - np.array([0.0, 0.3]))
    expected_a = 0.01 * 10 * (e_b / 10) ** 0.75 * (1000 / 10) ** 0.4
    expected_b = 0.01 * 10 * (1500 / 10) ** 0.75 * (3000 / 10) ** 0.4 * 2.0
    assert result.casualties[0] == pytest.approx(expected_a, rel=1e-5)
    assert result.casualties[1] == pytest.approx([expected_b, expected_b], rel=1e-5)
    assert result.casualties[0, 1] / result.casualties[0, 0] == pytest.approx(0.7**0.75,
                                                                              rel=1e-5)
    assert result.state.power[:, 0, 1] == pytest.approx([1500.0, 2100.0], rel=1e-6)


# --- bargaining -----------------------------------------------------------------------------

_AREA_A = 600_000.0
_BARGAINING_SIDES = dict(
    national_area_km2=(_AREA_A, 17_000_000.0), belief_receptivity=(0.5, 0.5),
    cost_of_war_per_year=(0.10, 0.05), initial_support=(0.6, 0.5),
    territorial_floor=(0.60, 0.25), audience_cost=(1.5, 1.5),
)


def _bargaining_rules(n: int, power_a: np.ndarray) -> BargainingRules:
    # Talks are open and never close, every week with a deal in range settles, and the fog is
    # so thin (R = 1e-24 against P = 1e-6) that the Kalman gain is receptivity * 1.
    return BargainingRules(
        planning_horizon_weeks=_full(52.0, n), talks_open_per_week=_full(0.0, n),
        offers_from_b_per_week=_full(0.0, n), talks_close_per_week=_full(0.0, n),
        settle_per_week=_full(1.0, n), bargaining_power_a=np.asarray(power_a, dtype=FLOAT),
        observation_noise=_full(1e-12, n), trend_volatility=_full(0.0, n),
        ceasefire_relapse_per_week=_full(0.0, n))


def _bargain(belligerents: Belligerents, theaters: Theaters, rules: BargainingRules,
             enemy_held_km2: np.ndarray, levers: Levers | None = None,
             disengagement: float = 0.0, hardened: bool = False,
             ) -> tuple[bargaining.BargainingState, np.ndarray]:
    """One week of bargaining with talks open: a's share fell from 0.800 to 0.798 this week;
    beliefs about its weekly drift were +0.001 (a) and -0.003 (b), with variance 1e-6; support
    is 0.5 for both (a started at 0.6); intensity 1.2 (a) and 0.8 (b); the shipping rung holds
    at strength 0.25."""
    n = belligerents.reserves.shape[-1]
    on_b_soil = np.array([s == 1 for s in theaters.soil_side])[:, None]
    salient_km2 = (enemy_held_km2 * on_b_soil).sum(axis=0)
    e = salient_km2 / _AREA_A
    state = bargaining.BargainingState(
        talks_open=np.ones(n, bool), talks_ever_opened=np.ones(n, bool),
        belief_q=_per_side(0.001, -0.003, n), belief_e=_full(0.0, n),
        belief_variance=_per_side(1e-6, 1e-6, n), last_a_share=_full(0.800, n), last_e=e,
        surplus=_full(np.nan, n), terms=_full(np.nan, n), settlement_week=_full(np.nan, n),
        traded_km2=_full(0.0, n), hardened=np.full(n, hardened),
        refused_over_soil=np.zeros(n, bool), talks_open_weeks=_full(0.0, n),
        deadlock_weeks=_full(0.0, n), issue_concessions=_full(np.nan, n))
    return bargaining.step(
        belligerents, rules, bargaining.plan(belligerents, theaters, rules, levers or Levers()),
        state,
        status=np.full(n, WAR, STATUS_DTYPE), a_share=_full(0.798, n), e=e,
        salient_km2=salient_km2, enemy_held_km2=enemy_held_km2,
        support=_per_side(0.5, 0.5, n), intensity=_per_side(1.2, 0.8, n), shipping=0.25,
        talks_push=0.0, closes_talks=np.zeros(n, bool),
        noise=NoiseSource(make_key(5), np.arange(n)), week=9, disengagement=disengagement)


def test_settlement_terms_are_measured_from_the_low_end_of_the_range():
    """B1-B9 worked by hand for one week with talks open and a certain settlement. Side a holds
    1,200 km2 of b's soil (e = 1200 / 600,000 = 0.002); the main front is on a's soil.

    B1 gain K = 0.5 (receptivity 0.5, fog negligible), observed change dq = -0.002:
       m_a = 0.001 + 0.5 * (-0.002 - 0.001) = -0.0005
       m_b = -0.003 + 0.5 * (-0.002 + 0.003) = -0.0025;  m_e stays 0 (e did not move)
    B2 H = 52: Q_a = 0.798 - 52 * 0.0005 = 0.772;  Q_b = 0.798 - 52 * 0.0025 = 0.668
       chip = b's premium 10 * e 0.002 = 0.02
    B3 C_a = 0.10 * 52/52 * intensity 1.2 * (0.6 / 0.5) * (1 - shipping 0.25) = 0.108
       C_b = 0.05 * 0.8 * (0.5 / 0.5) = 0.04
    B5 r_a = 0.772 - 0.108 = 0.664 >= f_a 0.60: x_low = 0.664
       r_b = 1 - 0.668 - 0.02 - 0.04 = 0.272 >= f_b 0.25: x_high = 1 - 0.272 = 0.728
    B7 surplus = 0.728 - 0.664 = 0.064
    B9 x* = x_low + beta_a * surplus: beta_a 0.3 -> 0.6832, beta_a 0.8 -> 0.7152
       (measured from the high end, x_high - beta_a * surplus, they would be 0.7088 and 0.6768)
    """
    n = 2
    b = _belligerents(n, **_BARGAINING_SIDES, home_soil_premium=(1.0, 10.0))
    theaters = _theaters(n, soil_side=(0, 1), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 3000.0))
    held = np.array([[20_000.0], [1200.0]], FLOAT) * np.ones((2, n), FLOAT)
    state, status = _bargain(b, theaters, _bargaining_rules(n, [0.3, 0.8]), held)

    assert np.all(status == SETTLED)
    assert state.surplus == pytest.approx([0.064, 0.064], abs=2e-6)
    assert state.terms == pytest.approx([0.664 + 0.3 * 0.064, 0.664 + 0.8 * 0.064], abs=2e-6)
    assert state.terms == pytest.approx([0.6832, 0.7152], abs=2e-6)
    assert np.all(state.settlement_week == 9)
    assert state.traded_km2 == pytest.approx([1200.0, 1200.0])


def test_settlement_range_with_floors_met_and_missed():
    """B6: a side whose reservation r is at or above its floor f accepts r; below it, the
    audience cost a pulls its demand towards the floor: (r + a f) / (1 + a). By hand:

       r_a = 0.80 - 0.05 = 0.75;  r_b = 1 - 0.78 - 0.02 - 0.04 = 0.16
       floor_a 0.70 (met): x_low = 0.75;  floor_a 0.85 (missed, a_a = 1.5):
           x_low = (0.75 + 1.5 * 0.85) / 2.5 = 0.81
       floor_b 0.10 (met): x_high = 1 - 0.16 = 0.84;  floor_b 0.25 (missed, a_b = 0.5):
           x_high = 1 - (0.16 + 0.5 * 0.25) / 1.5 = 1 - 0.19 = 0.81
    """
    one = np.ones(4)
    floor_a = np.array([0.70, 0.85, 0.70, 0.85])  # met, missed, met, missed
    floor_b = np.array([0.10, 0.10, 0.25, 0.25])  # met, met, missed, missed
    x_low, x_high = bargaining.settlement_range(
        0.80 * one, 0.78 * one, 0.02 * one, 0.05 * one, 0.04 * one, floor_a, floor_b,
        1.5 * one, 0.5 * one)
    assert x_low == pytest.approx([0.75, 0.81, 0.75, 0.81])
    assert x_high == pytest.approx([0.84, 0.84, 0.81, 0.81])


def test_side_a_values_its_salient_soil_held_by_b_at_its_home_soil_premium():
    """B5: r_a = Q_a - C_a - (premium_a - 1) * S_a, S_a = a's soil held by b in salient theaters
    on a's soil (not on its main front). Same week as the settlement-terms case, but both
    theaters are on a's soil: the front (b holds 20,000 km2, which does not count) and a salient
    where b holds 3,000 km2: S_a = 3000 / 600,000 = 0.005. No ground of b's is held (chip 0):

       premium_a 3: r_a = 0.772 - 0.108 - 2 * 0.005 = 0.654 >= 0.60: x_low = 0.654
       premium_a 1: the lost soil counts at face value only (in Q_a): x_low = 0.664
       r_b = 1 - 0.668 - 0 - 0.04 = 0.292: x_high = 0.708
       surplus 0.054 and 0.044; x* (beta_a 0.3) = 0.654 + 0.3 * 0.054 = 0.6702
                                                and 0.664 + 0.3 * 0.044 = 0.6772
    """
    n = 2
    b = _belligerents(n, **_BARGAINING_SIDES)
    b = dataclasses.replace(b, home_soil_premium=np.array([[3.0, 1.0], [10.0, 10.0]], FLOAT))
    theaters = _theaters(n, soil_side=(0, 0), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 8000.0))
    held = np.array([[20_000.0], [3000.0]], FLOAT) * np.ones((2, n), FLOAT)
    state, status = _bargain(b, theaters, _bargaining_rules(n, [0.3, 0.3]), held)

    assert np.all(status == SETTLED)
    x_high = 0.708
    assert x_high - state.surplus == pytest.approx([0.654, 0.664], abs=2e-6)  # x_low
    assert state.terms == pytest.approx([0.6702, 0.6772], abs=2e-6)


@pytest.fixture(scope="module")
def minimal_data() -> dict:
    return load_scenario(MINIMAL).data


def _with_border_salient(data: dict, premium_a: float) -> Scenario:
    """minimal.yaml plus a salient on Blue's (side a's) soil where Red holds 5,000 km2 at
    week 0, with Blue's home_soil_premium set."""
    data = copy.deepcopy(data)
    source = "assumption: a toy salient on side a's soil for an oracle test"

    def value(number: float, unit: str) -> dict:
        return {"value": number, "unit": unit, "source": source}

    data["theaters"]["border"] = {
        "kind": "salient", "name": "Border strip", "soil_of": "blue",
        "contested_area_km2": value(8000, "km2"), "initial_enemy_held_km2": value(5000, "km2"),
        "frontage_km": value(60, "km"),
        "initial_forces": {"blue": value(10_000.0, "personnel"),
                           "red": value(20_000.0, "personnel")},
        "reinforcement_weight": {"blue": value(1.0, "weight"), "red": value(1.0, "weight")},
        "terrain_factor": value(0.8, "multiplier"),
    }
    data["actors"]["blue"]["home_soil_premium"] = value(premium_a, "multiplier")
    return Scenario.model_validate(data)


def test_a_higher_home_soil_premium_brings_settlements_sooner_and_lower(minimal_data):
    """Whole engine, common random numbers. The premium enters only side a's reservation, so
    until a future settles both runs are the same bit for bit, and with premium 5 instead of 1
    side a's x_low is lower every week Red holds part of the border salient: the surplus is
    larger, a deal is in range whenever it was, so each future settles no later (talks and
    settlement draws are the same). A future settling in the same week gets lower terms
    (x* = (1 - beta) x_low + beta x_high, beta = 0.5)."""
    runs = {}
    for premium in (1.0, 5.0):
        scenario = _with_border_salient(minimal_data, premium)
        inputs, levers = inputs_for(scenario, sample_futures(scenario, 400, seed=1), "talk")
        runs[premium] = run_engine(inputs, levers, seed=3).outcomes
    face, premium = runs[1.0], runs[5.0]

    def week(outcomes):
        return np.nan_to_num(outcomes["settlement_week"], nan=np.inf)

    assert np.all(week(premium) <= week(face))
    assert np.any(week(premium) < week(face))  # some deals come sooner (or at all)
    same = np.isfinite(week(face)) & (week(premium) == week(face))
    assert same.sum() >= 100
    assert np.all(premium["settlement_terms"][same] < face["settlement_terms"][same])
    assert np.mean(premium["end_kind"] == SETTLED) > np.mean(face["end_kind"] == SETTLED)
    assert np.nanmean(premium["settlement_terms"]) < np.nanmean(face["settlement_terms"])


def test_support_falls_with_the_log_of_casualties_and_with_lost_power():
    """Politics (Mueller 1973): with no opinion noise, logit S = logit S(0)
    - w ln(1 + C / scale) - v (capacity(0) - capacity)+, the energy term for side a only.

    Side a: S(0) = 0.6, w = 0.5, C = 30,000, scale = 10,000, v = 2, capacity 0.8 -> 0.5:
        logit 0.6 = ln 1.5 = 0.405465; 0.5 ln 4 = 0.693147; 2 * 0.3 = 0.6;
        logit S = -0.887682 -> S = 0.291588.
    Side b: S(0) = 0.7, w = 0.2, C = 90,000, scale = 30,000: logit 0.7 = 0.847298,
        0.2 ln 4 = 0.277259 -> logit S = 0.570039 -> S = 0.638772.
    """
    n = 3
    belligerents = _belligerents(
        n, initial_support=(0.6, 0.7), weariness_per_log_casualties=(0.5, 0.2),
        casualty_scale=(10_000.0, 30_000.0), weariness_per_energy_loss=(2.0, 2.0),
        generating_capacity_share=(0.8, 0.8), support_noise_sd=(0.0, 0.0),
        support_persistence=(0.0, 0.0))
    no_backers = Backers(names=(), backs_side=(), **{
        name: np.zeros((0, n), dtype=FLOAT) for name in Backers.__dataclass_fields__
        if name not in ("names", "backs_side")})
    state = politics.initial_state(belligerents, no_backers)
    after = politics.step(
        belligerents, no_backers, state, casualties_total=_per_side(30_000.0, 90_000.0, n),
        capacity_a=_full(0.5, n), escalation_event=np.zeros(n, dtype=bool),
        support_shock=_full(0.0, n), noise=NoiseSource(make_key(0), np.arange(n)), week=0)
    np.testing.assert_allclose(after.support[0], 0.291588, rtol=1e-5)
    np.testing.assert_allclose(after.support[1], 0.638772, rtol=1e-5)


# --- the credible core: commitment premiums, hardening, coercion before talks -------------------


def test_commitment_premiums_narrow_the_range_and_guarantees_and_disengagement_shrink_them():
    """B4 by hand, on the worked case of the settlement-terms test (x_low 0.664, x_high 0.728):
    premiums pi_a = 0.04, pi_b = 0.03 raise a's demand and b's by as much.

       no guarantees:      x_low = 0.664 + 0.04 = 0.704, x_high = 0.728 - 0.03 = 0.698:
                           surplus -0.006 < 0, no deal although talks are open
       guarantees 0.5:     pi_a = 0.02: x_low 0.684, surplus 0.014, terms (beta 0.3) 0.6882
       + disengagement 0.5: pi_a = 0.01, pi_b = 0.015: x_low 0.674, x_high 0.713,
                           surplus 0.039, terms 0.674 + 0.3 * 0.039 = 0.6857
    """
    n = 1
    b = _belligerents(n, **_BARGAINING_SIDES, home_soil_premium=(1.0, 10.0),
                      commitment_premium=(0.04, 0.03))
    theaters = _theaters(n, soil_side=(0, 1), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 3000.0))
    held = np.array([[20_000.0], [1200.0]], FLOAT)
    rules = _bargaining_rules(n, [0.3])
    stuck, status = _bargain(b, theaters, rules, held)
    assert stuck.surplus == pytest.approx([-0.006], abs=2e-6)
    assert np.all(status == WAR) and np.all(stuck.talks_open)  # talks open, no zone of agreement
    guaranteed, status = _bargain(b, theaters, rules, held, Levers(security_guarantees=0.5))
    assert np.all(status == SETTLED)
    assert guaranteed.surplus == pytest.approx([0.014], abs=2e-6)
    assert guaranteed.terms == pytest.approx([0.6882], abs=2e-6)
    monitored, _ = _bargain(b, theaters, rules, held, Levers(security_guarantees=0.5),
                            disengagement=0.5)
    assert monitored.surplus == pytest.approx([0.039], abs=2e-6)
    assert monitored.terms == pytest.approx([0.6857], abs=2e-6)


def test_a_commitment_premium_shifts_the_range_by_itself_whatever_the_fog():
    """With fog (observation noise 0.01, so beliefs move with the draw) the premium still moves
    x_low up by exactly pi_a and x_high down by exactly pi_b: the same draws in both runs."""
    n = 50
    theaters = _theaters(n, soil_side=(0, 1), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 3000.0))
    held = np.array([[20_000.0], [1200.0]], FLOAT) * np.ones((2, n), FLOAT)
    rules = dataclasses.replace(_bargaining_rules(n, np.full(n, 0.5)),
                                observation_noise=_full(0.01, n), settle_per_week=_full(0.0, n))
    plain, _ = _bargain(_belligerents(n, **_BARGAINING_SIDES), theaters, rules, held)
    premium, _ = _bargain(_belligerents(n, **_BARGAINING_SIDES, commitment_premium=(0.02, 0.05)),
                          theaters, rules, held)
    assert np.ptp(plain.surplus) > 0.01  # the fog matters
    np.testing.assert_allclose(plain.surplus - premium.surplus, 0.07, atol=2e-6)


def test_a_hardened_side_refuses_talks_while_its_soil_is_held():
    """B8 hardening: talks were open, a holds 1,200 km2 of b's soil: they close, no deal is
    struck (although the range is open and settle_per_week is 1), and the refusal is recorded.
    Once a holds none of b's soil, talks stay open and the deal comes."""
    n = 2
    b = _belligerents(n, **_BARGAINING_SIDES, home_soil_premium=(1.0, 10.0))
    theaters = _theaters(n, soil_side=(0, 1), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 3000.0))
    rules = _bargaining_rules(n, [0.3, 0.3])
    held = np.array([[20_000.0], [1200.0]], FLOAT) * np.ones((2, n), FLOAT)
    refused, status = _bargain(b, theaters, rules, held, hardened=True)
    assert not refused.talks_open.any() and np.all(status == WAR)
    assert refused.refused_over_soil.all() and np.all(refused.talks_open_weeks == 0)
    gone = held * np.array([[1.0], [0.0]], FLOAT)
    talking, status = _bargain(b, theaters, rules, gone, hardened=True)
    assert talking.talks_open.all() and np.all(status == SETTLED)
    assert not talking.refused_over_soil.any() and np.all(talking.talks_open_weeks == 1)


def test_escalation_rises_before_talks_by_the_pre_talks_multiplier():
    """h = (base + lifted hazard * lifted) * (1 - rear ban) * (1 + multiplier * prospect), by hand:
    base 0.01, lifted 0.02 (restrictions lifted), rear ban 0.5, multiplier 2:
    no prospect 0.015; talks in prospect 0.015 * 3 = 0.045."""
    from offramp.engine.inputs import EscalationRules
    from offramp.engine.mechanisms import escalation

    rules = EscalationRules(
        base_hazard_per_week=_full(0.01, 1), lifted_restrictions_hazard_per_week=_full(0.02, 1),
        lifted_restrictions_effectiveness=_full(0.1, 1), support_shock=_full(0.0, 1),
        talks_close_probability=_full(0.5, 1), strike_surge_weeks=_full(4.0, 1),
        pre_talks_multiplier=_full(2.0, 1))
    lifted = escalation.lifted(True, escalation.initial_state(1))
    assert escalation.hazard(rules, lifted, 0.5) == pytest.approx([0.015])
    assert escalation.hazard(rules, lifted, 0.5, np.array([True])) == pytest.approx([0.045])


def test_through_the_engine_hardening_keeps_talks_shut_while_kursk_is_held(minimal_data):
    """A salient on b's soil, b certain to harden: in every week that ends with b's soil held
    by a, talks are closed; they open only after the salient is gone."""
    data = copy.deepcopy(minimal_data)
    data["theaters"]["beyond"] = {
        "kind": "salient", "name": "Beyond the border", "soil_of": "red",
        "contested_area_km2": {"value": 3000, "unit": "km2", "source": SOURCE},
        "initial_enemy_held_km2": {"value": 1500, "unit": "km2", "source": SOURCE},
        "frontage_km": {"value": 80, "unit": "km", "source": SOURCE},
        "initial_forces": {"blue": {"value": 5000, "unit": "personnel", "source": SOURCE},
                           "red": {"value": 15000, "unit": "personnel", "source": SOURCE}},
        "reinforcement_weight": {"blue": {"value": 0.1, "unit": "weight", "source": SOURCE},
                                 "red": {"value": 0.5, "unit": "weight", "source": SOURCE}},
        "terrain_factor": {"value": 1.0, "unit": "multiplier", "source": SOURCE},
    }
    data["actors"]["red"]["hardens_while_soil_held"] = {"value": 1.0, "unit": "probability",
                                                        "source": SOURCE}
    scenario = Scenario.model_validate(data)
    futures = sample_futures(scenario, 200, seed=0)
    inputs, levers = inputs_for(scenario, futures, "talk")
    result = run_engine(inputs, levers, seed=1, record_series=True)
    held, talks = result.series["salient_km2"][1:], result.series["talks_open"][1:]
    assert held[0].min() > 0 and result.outcomes["refused_talks_over_soil"].all()
    assert not np.any((held > 0) & (talks > 0))
    assert np.any((held == 0) & (talks > 0))  # talks do open once the salient is gone


# --- multi-issue bargaining (B5b) and the focal line (B9) ----------------------------------------


def _issues(n: int, **overrides: tuple[float, float]) -> IssueRules:
    """Security (guaranteed) and sanctions; every number given per issue as (security,
    sanctions)."""
    numbers = dict(value_to_a=(0.05, 0.02), value_to_b=(0.08, 0.01), demand_b=(0.6, 0.5),
                   ceiling_a=(0.3, 0.6), softening_a=(3.0, 0.0), softening_b=(2.0, 0.0))
    numbers.update(overrides)
    return IssueRules(names=("security", "sanctions"), guaranteed=(True, False),
                      **{name: np.array([[s], [t]], FLOAT) * np.ones((2, n), FLOAT)
                         for name, (s, t) in numbers.items()})


def _worked_case(n: int = 1, **belligerents: tuple[float, float]):
    b = _belligerents(n, **{**_BARGAINING_SIDES, **belligerents}, home_soil_premium=(1.0, 10.0))
    theaters = _theaters(n, soil_side=(0, 1), is_salient=(False, True),
                         frontage_km=(1000.0, 100.0), contested_area_km2=(60_000.0, 3000.0))
    held = np.array([[20_000.0], [1200.0]], FLOAT) * np.ones((2, n), FLOAT)
    return b, theaters, held


def test_issues_enter_the_reservations_before_the_territorial_floors():
    """B5b by hand on the worked case (r_a 0.664, r_b 0.272; floors 0.60 and 0.25; audience
    1.5 each; support 0.5 for both, a started at 0.6: w_a = 1/6, w_b = 0).

       security:  ceiling = 0.3 + 0.7 min(1, 3/6) = 0.65 >= demand 0.6 (1 - 0) = 0.6: agreed;
                  b values it more (0.08 > 0.05): y = 0.65; costs a 0.0325, gains b 0.052
       sanctions: ceiling 0.6 >= demand 0.5; a loses more (0.02 > 0.01): y = 0.5;
                  costs a 0.01, gains b 0.005
       r_a = 0.664 + 0.0425 = 0.7065 >= 0.60: x_low = 0.7065
       r_b = 0.272 - 0.057 = 0.215 < 0.25: y_low = (0.215 + 1.5 * 0.25) / 2.5 = 0.236,
           x_high = 0.764 (the floor binds: b is not bought off below it in full)
       surplus = 0.0575;  x* = 0.7065 + 0.3 * 0.0575 = 0.72375
    """
    b, theaters, held = _worked_case()
    rules = dataclasses.replace(_bargaining_rules(1, [0.3]), issues=_issues(1))
    state, status = _bargain(b, theaters, rules, held)
    assert np.all(status == SETTLED)
    assert state.surplus == pytest.approx([0.0575], abs=2e-6)
    assert state.terms == pytest.approx([0.72375], abs=2e-6)
    assert state.issue_concessions == pytest.approx([0.0425], abs=2e-6)
    assert state.deadlock_weeks[0] == 0


def test_an_issue_without_a_zone_of_agreement_deadlocks_open_talks_until_guarantees_lift_it():
    """Security ceiling 0.1, no softening: 0.1 < demand 0.6, talks open, no deal, one week of
    deadlock. Guarantees g lift the ceiling to 0.1 + 0.9 g: 0.55 at g = 0.5 (still short),
    0.64 at g = 0.6 (agreed, y = 0.64; the sanctions issue as in the worked case)."""
    b, theaters, held = _worked_case()
    rules = dataclasses.replace(_bargaining_rules(1, [0.3]), issues=_issues(
        1, ceiling_a=(0.1, 0.6), softening_a=(0.0, 0.0)))
    for guarantees, settles in ((0.0, False), (0.5, False), (0.6, True)):
        state, status = _bargain(b, theaters, rules, held,
                                 Levers(security_guarantees=guarantees))
        assert bool(status[0] == SETTLED) is settles, guarantees
        assert state.talks_open[0]
        assert state.deadlock_weeks[0] == (0 if settles else 1)
    assert state.issue_concessions == pytest.approx([0.05 * 0.64 + 0.01], abs=2e-6)


def test_issue_concessions_shift_the_range_by_their_values_whatever_the_fog():
    """With fog (beliefs move with the draw) and floors at 0 (never binding), the issues move
    x_low up by sum v_a y = 0.0425 (a is compensated) and x_high up by sum v_b y = 0.057 (b
    takes less ground for what it gains): the surplus grows by 0.0145 in every future."""
    n = 50
    b, theaters, held = _worked_case(n, territorial_floor=(0.0, 0.0))
    rules = dataclasses.replace(_bargaining_rules(n, np.full(n, 0.5)),
                                observation_noise=_full(0.01, n), settle_per_week=_full(0.0, n))
    plain, _ = _bargain(b, theaters, rules, held)
    with_issues, _ = _bargain(b, theaters, dataclasses.replace(rules, issues=_issues(n)), held)
    assert np.ptp(plain.surplus) > 0.01  # the fog matters
    np.testing.assert_allclose(with_issues.surplus - plain.surplus, 0.057 - 0.0425, atol=2e-6)


def test_the_line_of_contact_draws_the_terms_towards_itself():
    """B9: split x = 0.664 + 0.3 * 0.064 = 0.6832; the line q = 0.798 lies above the range,
    so x_line = x_high = 0.728; focality 0.5: x* = 0.6832 + 0.5 * (0.728 - 0.6832) = 0.7056."""
    b, theaters, held = _worked_case()
    rules = dataclasses.replace(_bargaining_rules(1, [0.3]), line_focality=_full(0.5, 1))
    state, _ = _bargain(b, theaters, rules, held)
    assert state.terms == pytest.approx([0.7056], abs=2e-6)


# --- the escalation ladder above the strike surge -----------------------------------------------


def _escalation(n: int, base_hazard: float, rung_hazards: tuple[float, float],
                reimposed: tuple[float, float] = (0.0, 0.0)):
    from offramp.engine.inputs import EscalationRules, EscalationRungs

    def rows(values: tuple[float, float]) -> np.ndarray:
        return np.array([[values[0]], [values[1]]], FLOAT) * np.ones((2, n), FLOAT)

    rungs = EscalationRungs(
        names=("nuclear_signal", "nato_threat"), hazard_per_week=rows(rung_hazards),
        lifted_restrictions_multiplier=rows((3.0, 2.0)), support_shock=rows((0.2, -0.1)),
        talks_close_probability=rows((0.0, 0.0)), restrictions_reimposed_weeks=rows(reimposed))
    return EscalationRules(
        base_hazard_per_week=_full(base_hazard, n),
        lifted_restrictions_hazard_per_week=_full(0.0, n),
        lifted_restrictions_effectiveness=_full(0.1, n), support_shock=_full(0.0, n),
        talks_close_probability=_full(0.0, n), strike_surge_weeks=_full(4.0, n),
        pre_talks_multiplier=_full(0.0, n), rungs=rungs)


def test_escalation_rung_hazards_by_hand():
    """h_k = hazard_k * (multiplier_k if lifted else 1) * (1 - rear ban): 0.02 * 3 * 0.5 = 0.03
    and 0.01 * 2 * 0.5 = 0.01 with restrictions lifted; 0.01 and 0.005 without."""
    from offramp.engine.mechanisms import escalation

    rules = _escalation(1, 0.0, (0.02, 0.01))
    assert rules.rungs is not None
    assert escalation.rung_hazards(rules.rungs, 1.0, 0.5)[:, 0] == pytest.approx([0.03, 0.01])
    assert escalation.rung_hazards(rules.rungs, 0.0, 0.5)[:, 0] == pytest.approx([0.01, 0.005])


def test_the_escalation_ladder_is_climbed_in_order_and_its_rungs_act():
    """Rungs certain (hazard 1) once reachable. Without a strike surge (base hazard 0) no rung
    ever happens. With one certain every week: week 0 the surge and the first rung (the surge
    of the same week counts), week 1 the second; top rung 1, 2, 3 as each is reached. The first
    rung reimposes restrictions for 3 weeks: lifted restrictions stop acting (no deep strikes
    on logistics) until the count runs out. Its shock (0.2) and the second's (-0.1: a rally)
    are this week's rung_shock."""
    from offramp.engine.mechanisms import escalation

    n, levers, at_war = 40, True, np.ones(40, FLOAT)
    noise = NoiseSource(make_key(3), np.arange(n))
    quiet = _escalation(n, 0.0, (1.0, 1.0))
    state = escalation.initial_state(n, quiet.rungs)
    for week in range(5):
        state = escalation.step(quiet, levers, state, at_war=at_war, rear_ban=0.0, noise=noise,
                                week=week)
    assert not state.rung_reached.any() and (escalation.top_rung(state) == 0).all()

    climbing = _escalation(n, 1.0, (1.0, 1.0), reimposed=(3.0, 0.0))
    state = escalation.initial_state(n, climbing.rungs)
    assert escalation.logistics_hit(climbing, levers, state, 0.0) == pytest.approx(0.1)
    state = escalation.step(climbing, levers, state, at_war=at_war, rear_ban=0.0, noise=noise,
                            week=0)
    assert state.rung_reached[0].all() and not state.rung_reached[1].any()
    assert (escalation.top_rung(state) == 2).all()
    np.testing.assert_allclose(state.rung_shock, 0.2)
    assert (state.reimposed_weeks_left == 3).all()
    assert np.all(escalation.logistics_hit(climbing, levers, state, 0.0) == 0)
    state = escalation.step(climbing, levers, state, at_war=at_war, rear_ban=0.0, noise=noise,
                            week=1)
    assert state.rung_reached.all() and (escalation.top_rung(state) == 3).all()
    np.testing.assert_allclose(state.rung_shock, -0.1)  # only the newly reached rung's shock
    assert (state.reimposed_weeks_left == 2).all()


def test_an_uncertain_rung_happens_at_its_hazard_whatever_the_draws():
    """With a surge certain at week 0 and the first rung's hazard 0.3 (restrictions kept), the
    share of 20,000 futures reaching it in week 1 alone is 0.3 of those that had not yet."""
    from offramp.engine.mechanisms import escalation

    n = 20_000
    rules = _escalation(n, 1.0, (0.3, 0.0))
    noise = NoiseSource(make_key(9), np.arange(n))
    state = escalation.initial_state(n, rules.rungs)
    state = escalation.step(rules, False, state, at_war=np.ones(n, FLOAT), rear_ban=0.0,
                            noise=noise, week=0)
    before = state.rung_reached[0].copy()
    state = escalation.step(rules, False, state, at_war=np.ones(n, FLOAT), rear_ban=0.0,
                            noise=noise, week=1)
    assert before.mean() == pytest.approx(0.3, abs=0.015)
    new = state.rung_reached[0] & ~before
    assert new.sum() / (~before).sum() == pytest.approx(0.3, abs=0.015)


def test_a_rung_shock_lowers_backer_support_by_itself_next_week(kursk, futures_300):
    """politics: with rung_shock s, each backer's logit support is lower by exactly s."""
    inputs, _ = inputs_for(kursk, futures_300, "drip-feed")
    n = inputs.n_futures
    noise = NoiseSource(make_key(2), np.arange(n))
    start = politics.initial_state(inputs.belligerents, inputs.backers)
    kwargs = dict(casualties_total=np.full((2, n), 1000.0, FLOAT),
                  capacity_a=inputs.belligerents.generating_capacity_share[0],
                  escalation_event=np.zeros(n, bool), support_shock=inputs.escalation.support_shock,
                  noise=noise, week=3)
    plain = politics.step(inputs.belligerents, inputs.backers, start, **kwargs)
    shocked = politics.step(inputs.belligerents, inputs.backers, start, **kwargs,
                            rung_shock=_full(0.25, n))
    np.testing.assert_allclose(plain.backer_support_logit - shocked.backer_support_logit, 0.25,
                               atol=1e-6)
