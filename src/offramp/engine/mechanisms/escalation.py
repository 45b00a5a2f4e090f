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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import FLOAT, EscalationRules, Levers
from offramp.engine.noise import NoiseSource, Stream


@dataclass(frozen=True)
class EscalationState:
    events: np.ndarray  # (n,) count since week 0
    surge_weeks_left: np.ndarray  # (n,) weeks of strike surge still to come
    event_this_week: np.ndarray  # (n,) bool
    closes_talks: np.ndarray  # (n,) bool: this week's event closes talks


def initial_state(n: int) -> EscalationState:
    return EscalationState(
        events=np.zeros(n, dtype=np.int32), surge_weeks_left=np.zeros(n, dtype=FLOAT),
        event_this_week=np.zeros(n, dtype=bool), closes_talks=np.zeros(n, dtype=bool),
    )


def hazard(rules: EscalationRules, levers: Levers, rear_ban: np.ndarray | float,
           prospect: np.ndarray | float = 0.0) -> np.ndarray:
    """Weekly probability of an escalation event while fighting."""
    lifted = 1.0 if levers.lift_restrictions else 0.0
    return (rules.base_hazard_per_week + rules.lifted_restrictions_hazard_per_week * lifted
            ) * (1.0 - rear_ban) * (1.0 + rules.pre_talks_multiplier * prospect)


def step(
    rules: EscalationRules, levers: Levers, state: EscalationState, *, at_war: np.ndarray,
    rear_ban: np.ndarray | float, noise: NoiseSource, week: int,
    prospect: np.ndarray | float = 0.0,
) -> EscalationState:
    draw = noise.uniforms(Stream.ESCALATION, week, 2)
    event = draw[0] < hazard(rules, levers, rear_ban, prospect) * at_war
    surge_left = state.surge_weeks_left - 1.0
    np.maximum(surge_left, 0.0, out=surge_left)
    if event.any():
        surge_left = np.where(event, rules.strike_surge_weeks, surge_left)
    return EscalationState(
        events=state.events + event,
        surge_weeks_left=surge_left,
        event_this_week=event,
        closes_talks=event & (draw[1] < rules.talks_close_probability),
    )
