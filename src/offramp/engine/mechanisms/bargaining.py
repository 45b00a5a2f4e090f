"""Bargaining: a reservation-hazard settlement rule (Fearon 1995; Wagner 2000; Powell 2004).

Seeds: 000 says neither side can win outright, the war will end at the negotiating table, Kursk
strengthens Ukraine's hand, and delay weakens it (the salient may be lost, Russia may gain in
Donbas). 003 says held Russian soil is Ukraine's most valuable leverage (Polish-Soviet War 1921
against the Winter War 1940) and asks for a clear, attainable end state.

The pie is side a's territory, normalised to 1; x is side a's share under a deal.

B1 beliefs. Each side i keeps a Gaussian belief (m, P) about the weekly drift of a's share q;
side b also about e (b's soil held by a; only b values it). Updated from this week's change seen
through fog:
    o = dq + observation_noise * z;  K = belief_receptivity * P / (P + R);  m += K (o - m);
    P = (1 - K) P + trend_volatility;  R = observation_noise**2.
    For e, fog and trend volatility are scaled by s = (frontage on b's soil) / (frontage on a's
    soil) and s**2, which leaves K unchanged: the salient's short front is seen more clearly.
    Prior: m_q(0) = optimism_bias_i (a expects its share to rise, b to fall), m_e(0) = 0,
    P(0) = R (as informative as one observation).
B2 projections over H = planning_horizon_weeks:
    Q_i = clip(q + H m_q,i, 0, 1);  E_b = clip(e + H m_e, 0, e_max), or 0 once e = 0 (the model
    starts no new incursions, so ground once lost is not expected back).
B3 costs of fighting on, in pie units:
    C_i = cost_of_war_per_year_i * H / 52 * intensity_i * clip(S_i(0) / S_i, 0, 5)
    intensity_i = recent casualties of i / its week-0 casualties (the other side's power to hurt);
    C_a * (1 - shipping rung strength in force).
B4 commitment premiums (Fearon 1995; Powell 2006): each side demands pi_i more than its
    reservation because it fears the other would not keep a deal,
    pi_a = commitment_premium_a * (1 - security_guarantees) * (1 - d),  pi_b = commitment_premium_b
    * (1 - d), d = strength of the disengagement rung in force (a monitored line of contact).
    With pi > 0 talks can stay open for months with no zone of agreement.
B5 reservations:
    r_a = Q_a - C_a - (home_soil_premium_a - 1) * S_a + pi_a   (S_a: a's salient soil held by b)
    r_b = 1 - Q_b - home_soil_premium_b * chip - C_b + pi_b
    chip = E_b (b's own projection of what a will still hold), or, under side a's `trade`
    posture, e itself: a puts the salient on the table first, so it counts in full.
B6 floors with audience costs a_i = audience_cost_i * clip(S_i / S_i(0), 0, 2):
    x_low = r_a if r_a >= f_a else (r_a + a_a f_a) / (1 + a_a)
    y_low = r_b if r_b >= f_b else (r_b + a_b f_b) / (1 + a_b);  x_high = 1 - y_low
    f_a = the policy's end_state_floor if given, else territorial_floor_a;
    f_b = territorial_floor_b.
B7 surplus = x_high - x_low.
B8 talks: closed -> open with probability 1 - exp(-rate),
    rate = talks_open_per_week * (talks_initiative * seeking + push) + offers_from_b_per_week,
    seeking = week >= seek_talks_from_week (never if null), push = election talks push in office;
    open -> closed with talks_close_per_week, or by an escalation event (`escalation`).
    Hardening: in a future where holding b's soil hardens b (drawn once, with probability
    hardens_while_soil_held_b), b refuses talks while a holds any of its soil: they cannot open
    and open ones close (Putin's "negotiations are now impossible" after Kursk).
B5b other issues (security arrangements, sanctions relief; none by default). A concession
    y_i in [0, 1] costs a v_a,i and gains b v_b,i (units of a's territory). Each side's limit
    softens as its support falls, w_j = clip(1 - S_j / S_j(0), 0, 1), all the way once it has
    lost 1/softening of it:
        c'_i = c_i + g_i (1 - c_i)  (guarantees),
        ceiling_a,i = c'_i + (1 - c'_i) min(1, softening_a,i w_a)
        demand_b,i  = d_i (1 - min(1, softening_b,i w_b))
    g_i = security_guarantees on the issue they act on (`security` in the scenario language: the
    Istanbul trade of 2022, neutrality for guarantees), 0 elsewhere. Issue i has a zone of
    agreement iff demand_b,i <= ceiling_a,i; the deal concedes y_i = ceiling_a,i where b values
    it more than a loses, else demand_b,i (the efficient point). The concessions enter the
    reservations of B5 before the floors of B6 are applied (the floors are on territory alone,
    so a side below its territorial floor is bought off with another issue only as far as its
    audience cost lets it):
        r_a += sum_i v_a,i y_i,   r_b -= sum_i v_b,i y_i.
    Talks open while an issue has no zone of agreement are deadlocked (`deadlock_weeks`).
B9 settlement: while talks are open, every issue has a zone of agreement and surplus >= 0,
    with probability settle_per_week; terms
        x_split = x_low + bargaining_power_a * surplus,   x_line = clip(q, x_low, x_high),
        x* = x_split + line_focality * (x_line - x_split):
    the line of contact is a focal point (Schelling 1960) that draws the terms towards itself
    where it lies within the range (0: the split alone). Settlement is absorbing: b's soil held
    by a is handed back (the km2 are recorded as traded), the lines and the fighting stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from offramp.engine import vector_math
from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    SIDE_B,
    WEEKS_PER_YEAR,
    BargainingRules,
    Belligerents,
    IssueRules,
    Levers,
    Theaters,
)
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.state import SETTLED
from offramp.engine.vector_math import F32, Array, full, inline, jit

SUPPORT_COST_CAP = 5.0
AUDIENCE_SUPPORT_CAP = 2.0


@dataclass(frozen=True)
class BargainingPlan:
    floor: np.ndarray  # (2, n) f_a (policy or scenario), f_b
    chip_is_current: bool  # `trade`: b values the salient as it stands
    seek_from_week: int | None
    talks_initiative: float
    max_e: np.ndarray  # (n,) b's soil a could hold at most, as a share of a's area
    a_salient: np.ndarray | None  # (J, 1) salient theaters on a's soil, None if there are none
    observation_variance: np.ndarray  # (n,)
    salient_fog_scale: np.ndarray  # (n,) fog on e relative to fog on q: ratio of front lengths
    cost_over_horizon: np.ndarray  # (2, n) cost_of_war_per_year * H / 52
    chip_premium: np.ndarray  # (n,) b's home_soil_premium
    commitment_premium: np.ndarray  # (2, n) pi_i before the disengagement rung (B4)
    issue_ceiling_a: np.ndarray | None  # (I, n) a's ceiling with guarantees (B5b), None: no issues


@dataclass(frozen=True)
class BargainingState:
    talks_open: np.ndarray  # (n,) bool
    talks_ever_opened: np.ndarray  # (n,) bool
    belief_q: np.ndarray  # (2, n) each side's belief about a's share's weekly drift
    belief_e: np.ndarray  # (n,) side b's belief about the weekly drift of e (only b values e)
    belief_variance: np.ndarray  # (2, n) the same for both quantities (same fog and volatility)
    last_a_share: np.ndarray  # (n,) q a week ago (for the observed change)
    last_e: np.ndarray  # (n,)
    surplus: np.ndarray  # (n,) this week's bargaining surplus (x_high - x_low)
    terms: np.ndarray  # (n,) x* of the settlement, NaN before
    settlement_week: np.ndarray  # (n,) float, NaN before
    traded_km2: np.ndarray  # (n,) b's soil handed back at settlement, 0 before
    hardened: np.ndarray  # (n,) bool: b refuses talks while a holds its soil (drawn at week 0)
    refused_over_soil: np.ndarray  # (n,) bool: b has refused talks over its held soil
    talks_open_weeks: np.ndarray  # (n,) weeks with talks open
    deadlock_weeks: np.ndarray  # (n,) weeks with talks open and an issue without agreement
    issue_concessions: np.ndarray  # (n,) sum_i v_a,i y_i of the settlement, NaN before


def plan(belligerents: Belligerents, theaters: Theaters, rules: BargainingRules, levers: Levers
         ) -> BargainingPlan:
    floor = belligerents.territorial_floor.copy()
    if levers.end_state_floor is not None:
        floor[SIDE_A] = levers.end_state_floor  # (stays in the array's precision)
    on_b_soil = np.array([s == SIDE_B for s in theaters.soil_side])[:, None]
    front_b = (theaters.frontage_km * on_b_soil).sum(axis=0)
    front_a = (theaters.frontage_km * ~on_b_soil).sum(axis=0)
    a_salient = np.array([s == SIDE_A and salient for s, salient in
                          zip(theaters.soil_side, theaters.is_salient, strict=True)])[:, None]
    return BargainingPlan(
        floor=floor,
        chip_is_current=levers.salient_posture == "trade",
        seek_from_week=levers.seek_talks_from_week,
        talks_initiative=levers.talks_initiative,
        max_e=(theaters.contested_area_km2 * on_b_soil).sum(axis=0)
        / belligerents.national_area_km2[SIDE_A],
        a_salient=a_salient if a_salient.any() else None,
        observation_variance=rules.observation_noise**2,
        salient_fog_scale=np.divide(front_b, front_a, out=np.ones_like(front_b),
                                    where=front_a > 0),
        cost_over_horizon=belligerents.cost_of_war_per_year
        * (rules.planning_horizon_weeks / WEEKS_PER_YEAR),
        chip_premium=belligerents.home_soil_premium[SIDE_B],
        commitment_premium=belligerents.commitment_premium
        * np.array([[1.0 - levers.security_guarantees], [1.0]], dtype=FLOAT),
        issue_ceiling_a=None if rules.issues is None
        else guaranteed_ceiling(rules.issues, levers.security_guarantees),
    )


def guaranteed_ceiling(issues: IssueRules, security_guarantees: float) -> np.ndarray:
    """(I, n) a's ceiling on each issue once guarantees raise it on the security issue."""
    guarantee = np.array([[security_guarantees if guaranteed else 0.0]
                          for guaranteed in issues.guaranteed], dtype=FLOAT)
    return issues.ceiling_a + guarantee * (1.0 - issues.ceiling_a)


def initial_state(belligerents: Belligerents, bargaining_plan: BargainingPlan,
                  a_share: np.ndarray, e: np.ndarray, noise: NoiseSource) -> BargainingState:
    n = a_share.shape[-1]
    nan = np.full(n, np.nan, dtype=FLOAT)
    hardened = noise.uniforms(Stream.HARDENING, 0, 1)[0] \
        < belligerents.hardens_while_soil_held[SIDE_B]
    return BargainingState(
        talks_open=np.zeros(n, dtype=bool), talks_ever_opened=np.zeros(n, dtype=bool),
        belief_q=belligerents.optimism_bias, belief_e=np.zeros(n, dtype=FLOAT),
        belief_variance=np.broadcast_to(bargaining_plan.observation_variance, (2, n)),
        last_a_share=a_share, last_e=e, surplus=nan, terms=nan, settlement_week=nan,
        traded_km2=np.zeros(n, dtype=FLOAT), hardened=hardened,
        refused_over_soil=np.zeros(n, dtype=bool), talks_open_weeks=np.zeros(n, dtype=FLOAT),
        deadlock_weeks=np.zeros(n, dtype=FLOAT), issue_concessions=nan,
    )


def settlement_range(
    projected_share_a: np.ndarray, projected_share_b: np.ndarray, chip_b: np.ndarray,
    cost_a: np.ndarray, cost_b: np.ndarray, floor_a: np.ndarray, floor_b: np.ndarray,
    audience_a: np.ndarray, audience_b: np.ndarray, premium_a: np.ndarray | float = 0.0,
    premium_b: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(x_low, x_high): the shares of the pie for side a that each side would accept (B5-B6).

    `projected_share_*` are each side's projection of a's share if fighting continues,
    `chip_b` b's valuation of its soil held by a (premium x area), `premium_*` the commitment
    premiums of B4.
    """
    values = (projected_share_a, projected_share_b, chip_b, cost_a, cost_b, floor_a, floor_b,
              audience_a, audience_b, premium_a, premium_b)
    dtype = np.result_type(*values)  # (Python floats are weak, as in NumPy's arithmetic)
    shape = np.broadcast_shapes(*(np.shape(value) for value in values))
    (projected_share_a, projected_share_b, chip_b, cost_a, cost_b, floor_a, floor_b, audience_a,
     audience_b, premium_a, premium_b) = (
        full(value, shape, dtype.type).reshape(-1)
        for value in values)
    x_low, x_high = np.empty(cost_a.shape, dtype=dtype), np.empty(cost_a.shape, dtype=dtype)
    _settlement_range_kernel(projected_share_a, projected_share_b, chip_b, cost_a, cost_b,
                             floor_a, floor_b, audience_a, audience_b, premium_a, premium_b,
                             x_low, x_high)
    return x_low.reshape(shape), x_high.reshape(shape)


@inline
def _settlement_range(
    projected_a: Any, projected_b: Any, chip_b: Any, cost_a: Any, cost_b: Any, floor_a: Any,
    floor_b: Any, audience_a: Any, audience_b: Any, premium_a: Any, premium_b: Any,
) -> tuple[Any, Any]:
    """B5-B6 for one future, in the precision of its arguments: (x_low, x_high)."""
    reservation_a = projected_a - cost_a + premium_a
    reservation_b = F32(1.0) - projected_b - chip_b - cost_b + premium_b
    x_low = reservation_a if reservation_a >= floor_a \
        else (reservation_a + audience_a * floor_a) / (F32(1.0) + audience_a)
    y_low = reservation_b if reservation_b >= floor_b \
        else (reservation_b + audience_b * floor_b) / (F32(1.0) + audience_b)
    return x_low, F32(1.0) - y_low


@jit
def _settlement_range_kernel(
    projected_a: Array, projected_b: Array, chip_b: Array, cost_a: Array, cost_b: Array,
    floor_a: Array, floor_b: Array, audience_a: Array, audience_b: Array, premium_a: Array,
    premium_b: Array, x_low_out: Array, x_high_out: Array,
) -> None:
    for i in range(x_low_out.shape[0]):
        x_low_out[i], x_high_out[i] = _settlement_range(
            projected_a[i], projected_b[i], chip_b[i], cost_a[i], cost_b[i], floor_a[i],
            floor_b[i], audience_a[i], audience_b[i], premium_a[i], premium_b[i])


def step(
    belligerents: Belligerents, rules: BargainingRules, bargaining_plan: BargainingPlan,
    state: BargainingState, *, status: np.ndarray, a_share: np.ndarray, e: np.ndarray,
    salient_km2: np.ndarray, enemy_held_km2: np.ndarray | None, support: np.ndarray,
    intensity: np.ndarray, shipping: np.ndarray | float, talks_push: np.ndarray | float,
    closes_talks: np.ndarray, noise: NoiseSource, week: int,
    disengagement: np.ndarray | float = 0.0, seeking: np.ndarray | None = None,
    offers_multiplier: np.ndarray | None = None,
) -> tuple[BargainingState, np.ndarray]:
    """Learn, project, open or close talks, and perhaps settle; returns (state, status)."""
    bp = bargaining_plan
    fog = noise.normals(Stream.FOG, week, 3)
    draw = noise.uniforms(Stream.TALKS, week, 2)
    n = fog.shape[-1]

    def sides(values: np.ndarray | float) -> np.ndarray:
        return full(values, (2, n), FLOAT)

    def futures(values: np.ndarray | float | bool) -> np.ndarray:
        return full(values, (n,), FLOAT)

    def flags(values: np.ndarray) -> np.ndarray:
        return full(values, (n,), np.bool_)

    def rows(values: np.ndarray) -> np.ndarray:  # (theaters, issues)
        return full(values, (values.shape[0], n), FLOAT)

    issues = rules.issues
    a_salient = held_a_salient = None
    if bp.a_salient is not None and enemy_held_km2 is not None:
        a_salient = bp.a_salient[:, 0]
        held_a_salient = np.empty(n, dtype=FLOAT)  # filled by the kernel (scratch)
    issue_cost_a = issue_value_b = agreeable = None
    if issues is not None:  # B5b, in the kernel (scratch rows filled by it)
        assert bp.issue_ceiling_a is not None  # planned with the issues
        issue_cost_a, issue_value_b = np.empty(n, dtype=FLOAT), np.empty(n, dtype=FLOAT)
        agreeable = np.empty(n, dtype=bool)
    sought = seeking if seeking is not None \
        else bp.seek_from_week is not None and week >= bp.seek_from_week  # or a trigger's

    belief_q, variance = np.empty((2, n), dtype=FLOAT), np.empty((2, n), dtype=FLOAT)
    belief_e, surplus = np.empty(n, dtype=FLOAT), np.empty(n, dtype=FLOAT)
    x_low, x_high = np.empty(n, dtype=FLOAT), np.empty(n, dtype=FLOAT)  # (scratch)
    talks_open, talks_ever_opened = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    refused_over_soil = np.empty(n, dtype=bool)
    talks_open_weeks = np.empty(n, dtype=FLOAT)
    deadlock_weeks = state.deadlock_weeks if issues is None else np.empty(n, dtype=FLOAT)
    terms, settlement_week = np.empty(n, dtype=FLOAT), np.empty(n, dtype=FLOAT)
    traded_km2 = np.empty(n, dtype=FLOAT)
    issue_concessions = state.issue_concessions if issues is None \
        else np.empty(n, dtype=FLOAT)
    new_status = np.empty(n, dtype=status.dtype)
    _step_kernel(
        # B1
        fog, futures(rules.observation_noise), sides(belligerents.belief_receptivity),
        sides(state.belief_variance), futures(bp.observation_variance),
        futures(rules.trend_volatility), sides(state.belief_q), futures(state.belief_e),
        futures(a_share), futures(state.last_a_share), futures(e), futures(state.last_e),
        futures(bp.salient_fog_scale),
        # B2-B4
        futures(rules.planning_horizon_weeks), sides(support),
        sides(belligerents.initial_support), sides(bp.cost_over_horizon), sides(intensity),
        futures(shipping), bp.chip_is_current, futures(bp.max_e), futures(bp.chip_premium),
        a_salient, None if enemy_held_km2 is None or a_salient is None else rows(enemy_held_km2),
        futures(belligerents.national_area_km2[SIDE_A]),
        futures(belligerents.home_soil_premium[SIDE_A]), sides(belligerents.audience_cost),
        sides(bp.commitment_premium), futures(disengagement), sides(bp.floor),
        # B5b
        None if issues is None or bp.issue_ceiling_a is None else rows(bp.issue_ceiling_a),
        None if issues is None else rows(issues.softening_a),
        None if issues is None else rows(issues.softening_b),
        None if issues is None else rows(issues.demand_b),
        None if issues is None else rows(issues.value_to_a),
        None if issues is None else rows(issues.value_to_b),
        # B8-B9
        draw, float(bp.talks_initiative), futures(sought), futures(rules.talks_open_per_week),
        futures(talks_push), futures(rules.offers_from_b_per_week),
        None if offers_multiplier is None else futures(offers_multiplier),
        futures(rules.talks_close_per_week), futures(rules.settle_per_week),
        futures(rules.bargaining_power_a), futures(rules.line_focality), status,
        flags(state.talks_open), flags(state.talks_ever_opened), flags(state.hardened),
        flags(state.refused_over_soil), flags(closes_talks), futures(state.talks_open_weeks),
        futures(state.deadlock_weeks), futures(state.terms), futures(state.settlement_week),
        futures(state.traded_km2), futures(salient_km2), futures(state.issue_concessions), week,
        # scratch and outputs
        held_a_salient, issue_cost_a, issue_value_b, agreeable, x_low, x_high, belief_q, belief_e,
        variance, surplus, talks_open, talks_ever_opened, refused_over_soil, talks_open_weeks,
        None if issues is None else deadlock_weeks, terms, settlement_week, traded_km2,
        None if issues is None else issue_concessions, new_status)
    return BargainingState(
        talks_open=talks_open,  # open in the week of a deal; closed from the next week on
        talks_ever_opened=talks_ever_opened, belief_q=belief_q, belief_e=belief_e,
        belief_variance=variance, last_a_share=a_share, last_e=e, surplus=surplus, terms=terms,
        settlement_week=settlement_week, traded_km2=traded_km2, hardened=state.hardened,
        refused_over_soil=refused_over_soil, talks_open_weeks=talks_open_weeks,
        deadlock_weeks=deadlock_weeks, issue_concessions=issue_concessions,
    ), new_status


@jit
def _step_kernel(
    fog_z: Array, observation_noise: Array, receptivity: Array, variance: Array,
    observation_variance: Array, trend_volatility: Array, belief_q: Array, belief_e: Array,
    a_share: Array, last_a_share: Array, e: Array, last_e: Array, fog_scale: Array,
    horizon: Array, support: Array, initial_support: Array, cost_over_horizon: Array,
    intensity: Array, shipping: Array, chip_is_current: bool, max_e: Array, chip_premium: Array,
    a_salient: Array | None, enemy_held_km2: Array | None, area_a: Array,
    home_soil_premium_a: Array, audience_cost: Array, commitment_premium: Array,
    disengagement: Array, floor: Array,
    issue_ceiling_a: Array | None, softening_a: Array | None, softening_b: Array | None,
    demand_b: Array | None, value_to_a: Array | None, value_to_b: Array | None,
    draw: Array, talks_initiative: float, sought: Array, talks_open_per_week: Array,
    talks_push: Array, offers_per_week: Array, offers_multiplier: Array | None,
    talks_close_per_week: Array, settle_per_week: Array, bargaining_power_a: Array,
    line_focality: Array, status: Array, was_open: Array, ever_opened: Array, hardened: Array,
    refused: Array, closes_talks: Array, open_weeks: Array, deadlock_weeks: Array,
    old_terms: Array, old_settlement_week: Array, old_traded_km2: Array, salient_km2: Array,
    old_issue_concessions: Array, week: int,
    held_a_salient: Array | None, issue_cost_a: Array | None, issue_value_b: Array | None,
    agreeable: Array | None, x_low: Array, x_high: Array, belief_q_out: Array,
    belief_e_out: Array, variance_out: Array,
    surplus_out: Array, talks_open_out: Array, ever_opened_out: Array, refused_out: Array,
    open_weeks_out: Array, deadlock_weeks_out: Array | None, terms_out: Array,
    settlement_week_out: Array, traded_km2_out: Array, issue_concessions_out: Array | None,
    status_out: Array,
) -> None:
    n = a_share.shape[0]
    zero, one = F32(0.0), F32(1.0)
    # side a's soil held by b in salient theaters (its own salients, not its main front)
    if held_a_salient is not None and a_salient is not None and enemy_held_km2 is not None:
        for i in range(n):
            held_a_salient[i] = zero
        for j in range(a_salient.shape[0]):
            if a_salient[j]:
                for i in range(n):
                    held_a_salient[i] += enemy_held_km2[j, i]
        for i in range(n):
            held_a_salient[i] = held_a_salient[i] / area_a[i]
    # B5b: each side's limit on each issue softens as its support falls
    if issue_cost_a is not None and issue_value_b is not None and agreeable is not None \
            and issue_ceiling_a is not None and softening_a is not None \
            and softening_b is not None and demand_b is not None and value_to_a is not None \
            and value_to_b is not None:
        for i in range(n):
            issue_cost_a[i] = zero
            issue_value_b[i] = zero
            agreeable[i] = True
        for k in range(issue_ceiling_a.shape[0]):
            for i in range(n):
                weariness_a = min(max(one - support[SIDE_A, i] / initial_support[SIDE_A, i],
                                      zero), one)
                weariness_b = min(max(one - support[SIDE_B, i] / initial_support[SIDE_B, i],
                                      zero), one)
                ceiling = issue_ceiling_a[k, i] + (one - issue_ceiling_a[k, i]) * min(
                    softening_a[k, i] * weariness_a, one)
                demand = demand_b[k, i] * (one - min(softening_b[k, i] * weariness_b, one))
                agreeable[i] = agreeable[i] & (demand <= ceiling)
                # the efficient concession: a's ceiling where b values it more than a loses
                concession = ceiling if value_to_b[k, i] > value_to_a[k, i] else demand
                issue_cost_a[i] += value_to_a[k, i] * concession
                issue_value_b[i] += value_to_b[k, i] * concession

    for i in range(n):
        # B1: learning from this week's change, seen through fog (side b also tracks e). Fog
        # and trend volatility scale with the length of front observed, so that the few tens
        # of km around a salient are not seen through the fog of the whole main front; the
        # Kalman gain is then the same for q and e.
        dq = a_share[i] - last_a_share[i]
        gain_a = receptivity[SIDE_A, i] * variance[SIDE_A, i] \
            / (variance[SIDE_A, i] + observation_variance[i])
        gain_b = receptivity[SIDE_B, i] * variance[SIDE_B, i] \
            / (variance[SIDE_B, i] + observation_variance[i])
        belief_a = belief_q[SIDE_A, i] + gain_a * (
            dq + fog_z[0, i] * observation_noise[i] - belief_q[SIDE_A, i])
        belief_b = belief_q[SIDE_B, i] + gain_b * (
            dq + fog_z[1, i] * observation_noise[i] - belief_q[SIDE_B, i])
        belief_salient = belief_e[i] + gain_b * (
            (e[i] - last_e[i]) + fog_scale[i] * (fog_z[2, i] * observation_noise[i])
            - belief_e[i])
        belief_q_out[SIDE_A, i] = belief_a
        belief_q_out[SIDE_B, i] = belief_b
        belief_e_out[i] = belief_salient
        variance_out[SIDE_A, i] = (one - gain_a) * variance[SIDE_A, i] + trend_volatility[i]
        variance_out[SIDE_B, i] = (one - gain_b) * variance[SIDE_B, i] + trend_volatility[i]

    for i in range(n):
        # B2-B3: projections and costs over the planning horizon.
        projected_a = min(max(a_share[i] + horizon[i] * belief_q_out[SIDE_A, i], zero), one)
        projected_b = min(max(a_share[i] + horizon[i] * belief_q_out[SIDE_B, i], zero), one)
        ratio_a = support[SIDE_A, i] / initial_support[SIDE_A, i]
        ratio_b = support[SIDE_B, i] / initial_support[SIDE_B, i]
        resolve_a = min(one / max(ratio_a, F32(1e-9)), F32(SUPPORT_COST_CAP))
        resolve_b = min(one / max(ratio_b, F32(1e-9)), F32(SUPPORT_COST_CAP))
        cost_a = cost_over_horizon[SIDE_A, i] * intensity[SIDE_A, i] * resolve_a \
            * (one - shipping[i])
        cost_b = cost_over_horizon[SIDE_B, i] * intensity[SIDE_B, i] * resolve_b

        # B5-B7: reservations, floors, surplus.
        # Once the salient is gone it stays gone (no new incursions), whatever the fog says.
        chip = e[i]
        if not chip_is_current:
            chip = min(max(e[i] + horizon[i] * belief_e_out[i], zero), max_e[i]) \
                if e[i] > zero else zero
        if held_a_salient is not None:
            cost_a = cost_a + (home_soil_premium_a[i] - one) * held_a_salient[i]
        audience_a = audience_cost[SIDE_A, i] * min(ratio_a, F32(AUDIENCE_SUPPORT_CAP))
        audience_b = audience_cost[SIDE_B, i] * min(ratio_b, F32(AUDIENCE_SUPPORT_CAP))
        premium_a = commitment_premium[SIDE_A, i] * (one - disengagement[i])  # B4
        premium_b = commitment_premium[SIDE_B, i] * (one - disengagement[i])
        if issue_cost_a is not None and issue_value_b is not None:
            premium_a = premium_a + issue_cost_a[i]
            premium_b = premium_b - issue_value_b[i]
        x_low[i], x_high[i] = _settlement_range(
            projected_a, projected_b, chip_premium[i] * chip, cost_a, cost_b, floor[SIDE_A, i],
            floor[SIDE_B, i], audience_a, audience_b, premium_a, premium_b)
        surplus_out[i] = x_high[i] - x_low[i]

    initiative = F32(talks_initiative)
    for i in range(n):
        # B8: the talks channel.
        agrees = True if agreeable is None else agreeable[i]
        offers = offers_per_week[i]
        if offers_multiplier is not None:  # side b's own rules
            offers = offers * offers_multiplier[i]
        rate = talks_open_per_week[i] * (initiative * sought[i] + talks_push[i]) + offers
        live = status[i] != SETTLED
        opens = (not was_open[i]) & (draw[0, i] < -vector_math.expm1(-rate))
        stays = was_open[i] & (draw[0, i] >= talks_close_per_week[i])
        refuses = hardened[i] & (e[i] > zero) & live
        is_open = (opens | stays) & (not closes_talks[i]) & live & (not refuses)
        talks_open_out[i] = is_open
        ever_opened_out[i] = ever_opened[i] | is_open
        refused_out[i] = refused[i] | refuses
        open_weeks_out[i] = open_weeks[i] + F32(is_open)
        if deadlock_weeks_out is not None:
            deadlock_weeks_out[i] = deadlock_weeks[i] + F32(is_open & (not agrees))

    for i in range(n):
        # B9: settlement.
        agrees = True if agreeable is None else agreeable[i]
        surplus = surplus_out[i]
        settles = talks_open_out[i] & agrees & (surplus >= zero) & (draw[1, i] < settle_per_week[i])
        split = x_low[i] + bargaining_power_a[i] * surplus
        focal = split + line_focality[i] * (min(max(a_share[i], x_low[i]), x_high[i]) - split)
        terms_out[i] = min(max(focal, zero), one) if settles else old_terms[i]
        settlement_week_out[i] = F32(week) if settles else old_settlement_week[i]
        traded_km2_out[i] = salient_km2[i] if settles else old_traded_km2[i]
        if issue_concessions_out is not None and issue_cost_a is not None:
            issue_concessions_out[i] = issue_cost_a[i] if settles \
                else old_issue_concessions[i]
        status_out[i] = SETTLED if settles else status[i]
