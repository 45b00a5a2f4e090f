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

import numpy as np

from offramp.engine.inputs import FLOAT, EscalationRules, EscalationRungs
from offramp.engine.noise import NoiseSource, Stream


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
    if not state.rung_reached.shape[0]:  # no rung can reimpose them
        return np.asarray(policy_lifted).astype(FLOAT) if per_future else 1.0
    lifted_now: np.ndarray = (policy_lifted * (state.reimposed_weeks_left <= 0)).astype(FLOAT)
    return lifted_now


def logistics_hit(rules: EscalationRules, policy_lifted: bool | float | np.ndarray,
                  state: EscalationState, rear_ban: np.ndarray | float) -> np.ndarray | float:
    """Share of side b's fire support cut by deep strikes on its logistics this week."""
    lifted_now = lifted(policy_lifted, state)
    if not isinstance(lifted_now, np.ndarray) and not lifted_now:
        return 0.0
    hit: np.ndarray = rules.lifted_restrictions_effectiveness * (1.0 - rear_ban)
    # times 1.0 exactly when restrictions are lifted for good: the same bits as without rungs
    return hit * lifted_now if isinstance(lifted_now, np.ndarray) else hit


def hazard(rules: EscalationRules, lifted_now: np.ndarray | float, rear_ban: np.ndarray | float,
           prospect: np.ndarray | float = 0.0) -> np.ndarray:
    """Weekly probability of a strike-surge event while fighting."""
    return (rules.base_hazard_per_week + rules.lifted_restrictions_hazard_per_week * lifted_now
            ) * (1.0 - rear_ban) * (1.0 + rules.pre_talks_multiplier * prospect)


def rung_hazards(rungs: EscalationRungs, lifted_now: np.ndarray | float,
                 rear_ban: np.ndarray | float) -> np.ndarray:
    """(L, n) weekly probability of each rung, for a future where the rung below has happened."""
    multiplier = 1.0 + (rungs.lifted_restrictions_multiplier - 1.0) * lifted_now
    return rungs.hazard_per_week * multiplier * (1.0 - rear_ban)


def step(
    rules: EscalationRules, policy_lifted: bool | float | np.ndarray, state: EscalationState, *,
    at_war: np.ndarray, rear_ban: np.ndarray | float, noise: NoiseSource, week: int,
    prospect: np.ndarray | float = 0.0, hazard_multiplier: np.ndarray | None = None,
) -> EscalationState:
    """`hazard_multiplier` (n,): side b's own rules multiply every escalation hazard."""
    draw = noise.uniforms(Stream.ESCALATION, week, 2)
    lifted_now = lifted(policy_lifted, state)
    surge_hazard = hazard(rules, lifted_now, rear_ban, prospect)
    if hazard_multiplier is not None:
        surge_hazard = surge_hazard * hazard_multiplier
    event = draw[0] < surge_hazard * at_war
    surge_left = state.surge_weeks_left - 1.0
    np.maximum(surge_left, 0.0, out=surge_left)
    if event.any():
        surge_left = np.where(event, rules.strike_surge_weeks, surge_left)
    closes_talks = event & (draw[1] < rules.talks_close_probability)
    events = state.events + event
    if rules.rungs is None or not rules.rungs.count:
        return EscalationState(
            events=events, surge_weeks_left=surge_left, event_this_week=event,
            closes_talks=closes_talks, rung_reached=state.rung_reached, rung_shock=None,
            reimposed_weeks_left=state.reimposed_weeks_left,
        )
    rungs = rules.rungs
    below = np.concatenate([(events > 0)[None], state.rung_reached[:-1]])
    rung_draw = noise.uniforms(Stream.ESCALATION_RUNGS, week, 2 * rungs.count)
    rung_hazard = rung_hazards(rungs, lifted_now, rear_ban)
    if hazard_multiplier is not None:
        rung_hazard = rung_hazard * hazard_multiplier
    rung_event = below & ~state.rung_reached & (rung_draw[: rungs.count] < rung_hazard * at_war)
    closes_talks = closes_talks | (rung_event & (rung_draw[rungs.count:]
                                                 < rungs.talks_close_probability)).any(axis=0)
    reimposed = np.maximum(state.reimposed_weeks_left - 1.0, 0.0)
    reimposed = np.maximum(reimposed, (rungs.restrictions_reimposed_weeks * rung_event).max(axis=0))
    return EscalationState(
        events=events, surge_weeks_left=surge_left, event_this_week=event,
        closes_talks=closes_talks, rung_reached=state.rung_reached | rung_event,
        rung_shock=(rungs.support_shock * rung_event).sum(axis=0),
        reimposed_weeks_left=reimposed,
    )


def top_rung(state: EscalationState) -> np.ndarray:
    """(n,) int8: the highest escalation rung reached, 0 none, 1 a strike surge, 2... the rungs
    above it in order."""
    top = (state.events > 0).astype(np.int8)
    for index in range(state.rung_reached.shape[0]):
        top = np.where(state.rung_reached[index], np.int8(index + 2), top)
    return top
