"""Escalation: the risk that comes with lifting restrictions on Western weapons.

Seed 003: lifting restrictions is not without risk, since Russia could escalate in ways that
threaten NATO or the US, yet the alternatives are riskier. Seed 000: wars often escalate soon
before talks begin; after Kursk, Putin declared talks impossible.

Weekly event probability while fighting (n,):

    h = (base_hazard_per_week + lifted_restrictions_hazard_per_week * lifted) * (1 - rear_ban)
        * (1 + pre_talks_multiplier * prospect)

lifted = 1 if the policy lifts restrictions; rear_ban = strength of the deep-strike-ban rung in
force; prospect = 1 in weeks when talks are in prospect but not open (side a seeks them, or a new
administration pushes for them, and they were not open last week): coercive escalation to
improve one's terms before talks begin (Schelling 1966; the seed's "wars often escalate soon
before talks to end them begin"). An event is counted; it starts a strike surge of
strike_surge_weeks weeks (`strikes` uses it from next week); it closes open talks with
probability talks_close_probability (`bargaining`, this week); and it lowers every backer's
logit support by support_shock (`politics`, next week).

The escalation ladder (Kahn 1965, On Escalation): rungs above the strike surge, in order (kursk-
2024: a threat against a NATO member's territory, then nuclear signalling). Rung k can happen
only once rung k - 1 has (the first once a strike surge has), while fighting, with weekly
probability

    h_k = hazard_per_week_k * (lifted_restrictions_multiplier_k if lifted else 1) * (1 - rear_ban)

lifted = restrictions lifted and not reimposed. Each rung is reached once (a repeated signal is
taken to be priced in, as the record's repeated nuclear signals were); reaching it closes open
talks with its own
talks_close_probability, shifts every backer's logit support by -support_shock_k (negative: a
rally; next week), and makes the backers reimpose restrictions for
restrictions_reimposed_weeks_k weeks: deep strikes on logistics stop, and so does the added
hazard of lifted restrictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from offramp.engine.inputs import FLOAT, EscalationRules, EscalationRungs
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.vector_math import F32, Array, full, inline, jit


@dataclass(frozen=True)
class EscalationState:
    events: np.ndarray  # (n,) count since week 0
    surge_weeks_left: np.ndarray  # (n,) weeks of strike surge still to come
    event_this_week: np.ndarray  # (n,) bool
    closes_talks: np.ndarray  # (n,) bool: this week's event closes talks
    rung_reached: np.ndarray  # (L, n) bool: each rung above the strike surge has happened
    rung_shock: np.ndarray | None  # (n,) backers' logit support lost to this week's rung events
    reimposed_weeks_left: np.ndarray  # (n,) weeks for which restrictions are reimposed


def initial_state(n: int, rungs: EscalationRungs | None = None) -> EscalationState:
    count = 0 if rungs is None else rungs.count
    return EscalationState(
        events=np.zeros(n, dtype=np.int32), surge_weeks_left=np.zeros(n, dtype=FLOAT),
        event_this_week=np.zeros(n, dtype=bool), closes_talks=np.zeros(n, dtype=bool),
        rung_reached=np.zeros((count, n), dtype=bool), rung_shock=None,
        reimposed_weeks_left=np.zeros(n, dtype=FLOAT),
    )


def lifted(policy_lifted: bool | float | np.ndarray, state: EscalationState) -> np.ndarray | float:
    """1 where restrictions are lifted this week: the policy lifts them (`policy_lifted`, or per
    future where a trigger decides) and no rung has reimposed them."""
    per_future = isinstance(policy_lifted, np.ndarray)
    if not per_future and not policy_lifted:
        return 0.0
    if not per_future and not state.rung_reached.shape[0]:  # no rung can reimpose them
        return 1.0
    n = state.reimposed_weeks_left.shape[-1]
    lifted_now = np.empty(n, dtype=FLOAT)
    _lifted_kernel(full(policy_lifted, (n,), None), state.reimposed_weeks_left, lifted_now)
    return lifted_now


def logistics_hit(rules: EscalationRules, policy_lifted: bool | float | np.ndarray,
                  state: EscalationState, rear_ban: np.ndarray | float) -> np.ndarray | float:
    """Share of side b's fire support cut by deep strikes on its logistics this week."""
    if not isinstance(policy_lifted, np.ndarray) and not policy_lifted:
        return 0.0
    n = state.reimposed_weeks_left.shape[-1]
    hit = np.empty(n, dtype=FLOAT)
    _logistics_hit_kernel(rules.lifted_restrictions_effectiveness, full(rear_ban, (n,), None),
                          full(policy_lifted, (n,), None), state.reimposed_weeks_left, hit)
    return hit


def hazard(rules: EscalationRules, lifted_now: np.ndarray | float, rear_ban: np.ndarray | float,
           prospect: np.ndarray | float = 0.0) -> np.ndarray:
    """Weekly probability of a strike-surge event while fighting."""
    n = rules.base_hazard_per_week.shape[-1]
    out = np.empty(n, dtype=FLOAT)
    _hazard_kernel(rules.base_hazard_per_week, rules.lifted_restrictions_hazard_per_week,
                   rules.pre_talks_multiplier, full(lifted_now, (n,), None),
                   full(rear_ban, (n,), None),
                   full(prospect, (n,), None), out)
    return out


def rung_hazards(rungs: EscalationRungs, lifted_now: np.ndarray | float,
                 rear_ban: np.ndarray | float) -> np.ndarray:
    """(L, n) weekly probability of each rung, for a future where the rung below has happened."""
    n = rungs.hazard_per_week.shape[-1]
    out = np.empty((rungs.count, n), dtype=FLOAT)
    _rung_hazards_kernel(rungs.hazard_per_week, rungs.lifted_restrictions_multiplier,
                         full(lifted_now, (n,), None), full(rear_ban, (n,), None), out)
    return out


def step(
    rules: EscalationRules, policy_lifted: bool | float | np.ndarray, state: EscalationState, *,
    at_war: np.ndarray, rear_ban: np.ndarray | float, noise: NoiseSource, week: int,
    prospect: np.ndarray | float = 0.0, hazard_multiplier: np.ndarray | None = None,
) -> EscalationState:
    """`hazard_multiplier` (n,): side b's own rules multiply every escalation hazard."""
    draw = np.ascontiguousarray(noise.uniforms(Stream.ESCALATION, week, 2))
    n = draw.shape[-1]
    rungs = rules.rungs
    count = 0 if rungs is None else rungs.count
    if rungs is not None and count:
        rung_draw = np.ascontiguousarray(noise.uniforms(Stream.ESCALATION_RUNGS, week, 2 * count))
        rung_rows = (rungs.hazard_per_week, rungs.lifted_restrictions_multiplier,
                     rungs.support_shock, rungs.talks_close_probability,
                     rungs.restrictions_reimposed_weeks)
    else:  # no rung: the rung loop runs over no row
        rung_draw = np.empty((0, n), dtype=FLOAT)
        rung_rows = (rung_draw,) * 5
    events = np.empty(n, dtype=np.int32)
    surge_left = np.empty(n, dtype=FLOAT)
    event = np.empty(n, dtype=bool)
    closes_talks = np.empty(n, dtype=bool)
    rung_reached = np.empty((count, n), dtype=bool)
    rung_shock = np.empty(n, dtype=FLOAT)
    reimposed = np.empty(n, dtype=FLOAT)
    _step_kernel(
        rules.base_hazard_per_week, rules.lifted_restrictions_hazard_per_week,
        rules.pre_talks_multiplier, rules.strike_surge_weeks, rules.talks_close_probability,
        full(policy_lifted, (n,), None), full(rear_ban, (n,), None), full(prospect, (n,), None),
        None if hazard_multiplier is None else full(hazard_multiplier, (n,)),
        at_war, state.events, state.surge_weeks_left, draw, *rung_rows, state.rung_reached,
        state.reimposed_weeks_left, rung_draw,
        events, surge_left, event, closes_talks, rung_reached, rung_shock, reimposed)
    if not count:
        return EscalationState(
            events=events, surge_weeks_left=surge_left, event_this_week=event,
            closes_talks=closes_talks, rung_reached=state.rung_reached, rung_shock=None,
            reimposed_weeks_left=state.reimposed_weeks_left,
        )
    return EscalationState(
        events=events, surge_weeks_left=surge_left, event_this_week=event,
        closes_talks=closes_talks, rung_reached=rung_reached, rung_shock=rung_shock,
        reimposed_weeks_left=reimposed,
    )


@inline
def _lifted(policy_lifted: Any, reimposed_weeks_left: Any) -> Any:
    return F32(policy_lifted) * F32(reimposed_weeks_left <= F32(0.0))


@inline
def _surge_hazard(base: Any, lifted_hazard: Any, lifted_now: Any, rear_ban: Any,
                  pre_talks: Any, prospect: Any) -> Any:
    return (base + lifted_hazard * lifted_now) * (F32(1.0) - rear_ban) \
        * (F32(1.0) + pre_talks * prospect)


@inline
def _rung_hazard(hazard_per_week: Any, lifted_multiplier: Any, lifted_now: Any,
                 rear_ban: Any) -> Any:
    multiplier = F32(1.0) + (lifted_multiplier - F32(1.0)) * lifted_now
    return hazard_per_week * multiplier * (F32(1.0) - rear_ban)


@jit
def _lifted_kernel(policy_lifted: Array, reimposed_left: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = _lifted(policy_lifted[i], reimposed_left[i])


@jit
def _logistics_hit_kernel(effectiveness: Array, rear_ban: Array, policy_lifted: Array,
                          reimposed_left: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = effectiveness[i] * (F32(1.0) - rear_ban[i]) \
            * _lifted(policy_lifted[i], reimposed_left[i])


@jit
def _hazard_kernel(base: Array, lifted_hazard: Array, pre_talks: Array, lifted_now: Array,
                   rear_ban: Array, prospect: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = _surge_hazard(base[i], lifted_hazard[i], lifted_now[i], rear_ban[i],
                               pre_talks[i], F32(prospect[i]))


@jit
def _rung_hazards_kernel(hazard_per_week: Array, lifted_multiplier: Array, lifted_now: Array,
                         rear_ban: Array, out: Array) -> None:
    for k in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[k, i] = _rung_hazard(hazard_per_week[k, i], lifted_multiplier[k, i],
                                     lifted_now[i], rear_ban[i])


@jit
def _step_kernel(
    base: Array, lifted_hazard: Array, pre_talks: Array, surge_weeks: Array,
    close_probability: Array, policy_lifted: Array, rear_ban: Array, prospect: Array,
    hazard_multiplier: Array | None, at_war: Array, events: Array, surge_left: Array,
    draw: Array, rung_hazard: Array, rung_lifted_multiplier: Array, rung_support_shock: Array,
    rung_close_probability: Array, rung_reimposed_weeks: Array, rung_reached: Array,
    reimposed_left: Array, rung_draw: Array,
    events_out: Array, surge_out: Array, event_out: Array, closes_out: Array,
    reached_out: Array, shock_out: Array, reimposed_out: Array,
) -> None:
    n = draw.shape[1]
    for i in range(n):
        lifted_now = _lifted(policy_lifted[i], reimposed_left[i])
        surge_hazard = _surge_hazard(base[i], lifted_hazard[i], lifted_now, rear_ban[i],
                                     pre_talks[i], F32(prospect[i]))
        if hazard_multiplier is not None:
            surge_hazard = surge_hazard * hazard_multiplier[i]
        event = draw[0, i] < surge_hazard * at_war[i]
        left = max(surge_left[i] - F32(1.0), F32(0.0))
        surge_out[i] = surge_weeks[i] if event else left
        event_out[i] = event
        closes_out[i] = event & (draw[1, i] < close_probability[i])
        events_out[i] = events[i] + np.int32(event)
        reimposed_out[i] = max(reimposed_left[i] - F32(1.0), F32(0.0))
    count = rung_hazard.shape[0]
    for k in range(count):
        for i in range(n):
            # a rung is reachable once the one below has happened (the first: a strike surge)
            below = (events_out[i] > 0) if k == 0 else rung_reached[k - 1, i]
            hazard = _rung_hazard(rung_hazard[k, i], rung_lifted_multiplier[k, i],
                                  _lifted(policy_lifted[i], reimposed_left[i]), rear_ban[i])
            if hazard_multiplier is not None:
                hazard = hazard * hazard_multiplier[i]
            rung_event = below & (not rung_reached[k, i]) \
                & (rung_draw[k, i] < hazard * at_war[i])
            reached_out[k, i] = rung_reached[k, i] | rung_event
            closes_out[i] = closes_out[i] | (rung_event & (rung_draw[count + k, i]
                                                           < rung_close_probability[k, i]))
            shock = rung_support_shock[k, i] * F32(rung_event)
            shock_out[i] = shock if k == 0 else shock_out[i] + shock
            reimposed_out[i] = max(reimposed_out[i],
                                   rung_reimposed_weeks[k, i] * F32(rung_event))


def top_rung(state: EscalationState) -> np.ndarray:
    """(n,) int8: the highest escalation rung reached, 0 none, 1 a strike surge, 2... the rungs
    above it in order."""
    top = (state.events > 0).astype(np.int8)
    for index in range(state.rung_reached.shape[0]):
        top = np.where(state.rung_reached[index], np.int8(index + 2), top)
    return top
