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

import numpy as np

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
    clip,
)
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.state import SETTLED

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


def issue_terms(issues: IssueRules, ceiling_a: np.ndarray, weariness: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(agreeable, cost_to_a, value_to_b), each (n,): whether every issue has a zone of
    agreement, sum_i v_a,i y_i and sum_i v_b,i y_i at the efficient concessions y (B5b).

    `ceiling_a` is a's ceiling with guarantees, `weariness` (2, n) is clip(1 - S/S(0), 0, 1).
    """
    ceiling = ceiling_a + (1.0 - ceiling_a) * np.minimum(issues.softening_a * weariness[SIDE_A],
                                                         1.0)
    demand = issues.demand_b * (1.0 - np.minimum(issues.softening_b * weariness[SIDE_B], 1.0))
    agreeable = (demand <= ceiling).all(axis=0)
    concession = np.where(issues.value_to_b > issues.value_to_a, ceiling, demand)
    cost_to_a = (issues.value_to_a * concession).sum(axis=0)
    value_to_b = (issues.value_to_b * concession).sum(axis=0)
    return agreeable, cost_to_a, value_to_b


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
    reservation_a = projected_share_a - cost_a + premium_a
    reservation_b = 1.0 - projected_share_b - chip_b - cost_b + premium_b
    x_low = np.where(reservation_a >= floor_a, reservation_a,
                     (reservation_a + audience_a * floor_a) / (1.0 + audience_a))
    y_low = np.where(reservation_b >= floor_b, reservation_b,
                     (reservation_b + audience_b * floor_b) / (1.0 + audience_b))
    return x_low, 1.0 - y_low


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
    # B1: learning from this week's change, seen through fog (side b also tracks e).
    # Fog and trend volatility scale with the length of front observed, so that the few
    # tens of km around a salient are not seen through the fog of the whole main front; the
    # Kalman gain is then the same for q and e.
    fog = noise.normals(Stream.FOG, week, 3) * rules.observation_noise
    variance = state.belief_variance
    gain = belligerents.belief_receptivity * variance / (variance + bp.observation_variance)
    belief_q = state.belief_q + gain * ((a_share - state.last_a_share) + fog[:2]
                                        - state.belief_q)
    belief_e = state.belief_e + gain[SIDE_B] * ((e - state.last_e)
                                                + bp.salient_fog_scale * fog[2] - state.belief_e)
    variance = (1.0 - gain) * variance + rules.trend_volatility

    # B2-B3: projections and costs over the planning horizon.
    horizon = rules.planning_horizon_weeks
    projected_q = clip(a_share + horizon * belief_q, 0.0, 1.0)
    support_ratio = support / belligerents.initial_support
    resolve = np.minimum(1.0 / np.maximum(support_ratio, 1e-9), SUPPORT_COST_CAP)
    cost = bp.cost_over_horizon * intensity * resolve
    cost_a = cost[SIDE_A] * (1.0 - shipping)

    # B5-B7: reservations, floors, surplus.
    # Once the salient is gone it stays gone (no new incursions), whatever the fog suggests.
    chip = e if bp.chip_is_current else np.where(
        e > 0, clip(e + horizon * belief_e, 0.0, bp.max_e), 0.0)
    if bp.a_salient is not None and enemy_held_km2 is not None:
        held_a_salient = (enemy_held_km2 * bp.a_salient).sum(axis=0) \
            / belligerents.national_area_km2[SIDE_A]
        cost_a = cost_a + (belligerents.home_soil_premium[SIDE_A] - 1.0) * held_a_salient
    audience = belligerents.audience_cost * np.minimum(support_ratio, AUDIENCE_SUPPORT_CAP)
    premium = bp.commitment_premium * (1.0 - disengagement)  # B4
    premium_a, premium_b = premium[SIDE_A], premium[SIDE_B]
    agreeable: np.ndarray | bool = True
    issue_cost_a: np.ndarray | float = 0.0
    if rules.issues is not None:  # B5b
        assert bp.issue_ceiling_a is not None  # planned with the issues
        agreeable, issue_cost_a, issue_value_b = issue_terms(
            rules.issues, bp.issue_ceiling_a, clip(1.0 - support_ratio, 0.0, 1.0))
        premium_a, premium_b = premium_a + issue_cost_a, premium_b - issue_value_b
    x_low, x_high = settlement_range(projected_q[SIDE_A], projected_q[SIDE_B],
                                     bp.chip_premium * chip, cost_a, cost[SIDE_B],
                                     bp.floor[SIDE_A], bp.floor[SIDE_B], audience[SIDE_A],
                                     audience[SIDE_B], premium_a, premium_b)
    surplus = x_high - x_low

    # B8: the talks channel.
    draw = noise.uniforms(Stream.TALKS, week, 2)
    sought: np.ndarray | bool = seeking if seeking is not None \
        else bp.seek_from_week is not None and week >= bp.seek_from_week  # or a trigger's
    offers = rules.offers_from_b_per_week if offers_multiplier is None \
        else rules.offers_from_b_per_week * offers_multiplier  # side b's own rules
    rate = rules.talks_open_per_week * (bp.talks_initiative * sought + talks_push) + offers
    live = status != SETTLED
    was_open = state.talks_open
    opens = ~was_open & (draw[0] < -np.expm1(-rate))
    stays = was_open & (draw[0] >= rules.talks_close_per_week)
    refuses = state.hardened & (e > 0) & live
    talks_open = (opens | stays) & ~closes_talks & live & ~refuses
    refused_over_soil = state.refused_over_soil | refuses
    talks_open_weeks = state.talks_open_weeks + talks_open
    deadlock_weeks = state.deadlock_weeks + (talks_open & ~agreeable) if rules.issues is not None \
        else state.deadlock_weeks

    # B9: settlement.
    settles = talks_open & agreeable & (surplus >= 0.0) & (draw[1] < rules.settle_per_week)
    if not settles.any():  # most weeks: no deal, and the settlement record stays as it was
        return BargainingState(
            talks_open=talks_open, talks_ever_opened=state.talks_ever_opened | talks_open,
            belief_q=belief_q, belief_e=belief_e, belief_variance=variance,
            last_a_share=a_share, last_e=e, surplus=surplus, terms=state.terms,
            settlement_week=state.settlement_week, traded_km2=state.traded_km2,
            hardened=state.hardened, refused_over_soil=refused_over_soil,
            talks_open_weeks=talks_open_weeks, deadlock_weeks=deadlock_weeks,
            issue_concessions=state.issue_concessions,
        ), status
    split = x_low + rules.bargaining_power_a * surplus
    focal = split + rules.line_focality * (clip(a_share, x_low, x_high) - split)
    terms = np.where(settles, clip(focal, 0.0, 1.0), state.terms)
    new_state = BargainingState(
        talks_open=talks_open,  # open in the week of a deal; closed from the next week on
        talks_ever_opened=state.talks_ever_opened | talks_open,
        belief_q=belief_q, belief_e=belief_e, belief_variance=variance,
        last_a_share=a_share, last_e=e, surplus=surplus, terms=terms,
        settlement_week=np.where(settles, float(week), state.settlement_week),
        traded_km2=np.where(settles, salient_km2, state.traded_km2),
        hardened=state.hardened, refused_over_soil=refused_over_soil,
        talks_open_weeks=talks_open_weeks, deadlock_weeks=deadlock_weeks,
        issue_concessions=np.where(settles, issue_cost_a, state.issue_concessions)
        if rules.issues is not None else state.issue_concessions,
    )
    return new_state, np.where(settles, SETTLED, status).astype(status.dtype)
