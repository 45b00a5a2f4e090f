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

from offramp.engine.inputs import FLOAT, StrikeRules
from offramp.engine.vector_math import F32, Array, full, jit


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
    n = surge.shape[-1]

    def futures(values: np.ndarray | float) -> np.ndarray:
        return full(values, (n,))

    capacity = np.empty(n, dtype=FLOAT)
    _step_kernel(futures(state.generating_capacity), futures(rules.damage_per_week),
                 futures(rules.repair_per_week), futures(rules.escalation_damage_multiplier),
                 futures(ban_strength), futures(at_war), full(surge, (n,), np.bool_),
                 capacity)
    return StrikesState(generating_capacity=capacity)


@jit
def _step_kernel(capacity: Array, damage_per_week: Array, repair_per_week: Array,
                 surge_multiplier: Array, ban_strength: Array, at_war: Array, surge: Array,
                 capacity_out: Array) -> None:
    for i in range(capacity.shape[0]):
        multiplier = surge_multiplier[i] if surge[i] else F32(1.0)
        damage = damage_per_week[i] * multiplier * (F32(1.0) - ban_strength[i]) * at_war[i]
        repaired = repair_per_week[i] * (F32(1.0) - capacity[i])
        capacity_out[i] = min(max(capacity[i] - damage + repaired, F32(0.0)), F32(1.0))
