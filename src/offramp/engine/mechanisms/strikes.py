"""Strikes: side b's strikes on side a's power grid, and repairs.

Seed 000: regular Russian strikes have knocked out about half of Ukraine's electricity-generating
capacity; talks on a ban on strikes against civilian infrastructure had been planned in Qatar.

Generating capacity g (share of pre-war capacity, (n,)) of side a, one week:

    g <- clip(g - damage_per_week * surge * (1 - ban) * at_war + repair_per_week * (1 - g), 0, 1)

surge = escalation_damage_multiplier while an escalation surge lasts (else 1); ban = strength of
the energy-strike-ban rung while in force. Repairs restore a share of the capacity lost relative
to pre-war, so with the kursk-2024 defaults damage and repair balance near today's half.
Side b's own generation is not struck in this version (its capacity stays at its week-0 value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import StrikeRules, clip


@dataclass(frozen=True)
class StrikesState:
    generating_capacity: np.ndarray  # (n,) side a, share of pre-war capacity


def initial_state(initial_capacity: np.ndarray) -> StrikesState:
    return StrikesState(generating_capacity=initial_capacity)


def step(
    rules: StrikeRules, state: StrikesState, *, at_war: np.ndarray, surge: np.ndarray,
    ban_strength: np.ndarray | float,
) -> StrikesState:
    """`surge` (n,) bool: an escalation surge is under way; `ban_strength` of the strike ban."""
    capacity = state.generating_capacity
    # 1.0 as a scalar when no surge is under way: the same products, one np.where fewer.
    multiplier = np.where(surge, rules.escalation_damage_multiplier, 1.0) if surge.any() else 1.0
    damage = rules.damage_per_week * multiplier * (1.0 - ban_strength) * at_war
    repaired = rules.repair_per_week * (1.0 - capacity)
    return StrikesState(generating_capacity=clip(capacity - damage + repaired, 0.0, 1.0))
