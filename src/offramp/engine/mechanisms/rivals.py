"""Rivals: latent theaters (Taiwan, the Gulf) that may open while the backer is stretched.

Seed 003: the US is not prepared to fight more than one major opponent at once; China and Iran
have armed while the US drifted; the worst path is drip-feeding aid until China or Iran
confronts the US with a two-front war when its stocks are depleted. Seed 000's closing teasers:
Taiwan cannot count on US defence.

Rival r of backer k (arrays (R, n)), one week:

    readiness_r <- min(1, readiness_r + readiness_growth_per_year_r / 52)
    h_r = base_hazard_per_week_r * exp(readiness_effect_r * (readiness_r - readiness_r(0))
                                       + depletion_effect_r * (1 - high_end_k / high_end_k(0))
                                       + distraction_effect_r * war_on)

war_on = 1 while the main war is being fought (not settled, not in a ceasefire). Opening is
absorbing. While open, the backer diverts aid_priority_share of its transfers (`aid`) and uses
high_end_use_per_month of its high-end stock (`industry`). A two-front war: a rival opened while
the main war was still on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine import vector_math
from offramp.engine.inputs import FLOAT, WEEKS_PER_YEAR, Backers, Rivals
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.vector_math import F32, Array, full, jit


@dataclass(frozen=True)
class RivalsState:
    readiness: np.ndarray  # (R, n) in [0, 1]
    opened: np.ndarray  # (R, n) bool
    open_week: np.ndarray  # (R, n) float, NaN while closed
    two_front_war: np.ndarray  # (n,) bool


def initial_state(rivals: Rivals) -> RivalsState:
    n = rivals.readiness.shape[-1]
    return RivalsState(
        readiness=rivals.readiness, opened=np.zeros(rivals.readiness.shape, dtype=bool),
        open_week=np.full(rivals.readiness.shape, np.nan, dtype=rivals.readiness.dtype),
        two_front_war=np.zeros(n, dtype=bool),
    )


def step(
    rivals: Rivals, backers: Backers, state: RivalsState, *, high_end_stock: np.ndarray,
    war_on: np.ndarray | float, noise: NoiseSource, week: int,
) -> RivalsState:
    """`war_on` (n,) 1.0 while the main war is fought, or the scalar 0.0 for settled futures."""
    if rivals.count == 0:
        return state
    draw = np.ascontiguousarray(noise.uniforms(Stream.RIVALS, week, rivals.count))
    n = draw.shape[-1]
    # settled futures pass the scalar 0.0: no distraction term at all
    war = None if np.isscalar(war_on) and war_on == 0.0 else full(war_on, (n,), None)
    readiness = np.empty((rivals.count, n), dtype=FLOAT)
    opened = np.empty((rivals.count, n), dtype=bool)
    open_week = np.empty((rivals.count, n), dtype=FLOAT)
    two_front_war = np.empty(n, dtype=bool)
    _step_kernel(
        rivals.base_hazard_per_week, rivals.readiness, rivals.readiness_growth_per_year,
        rivals.readiness_effect, rivals.depletion_effect, rivals.distraction_effect,
        np.asarray(rivals.of_backer, dtype=np.intp), backers.high_end_stock, high_end_stock,
        state.readiness, state.opened, state.open_week, state.two_front_war, war, draw, week,
        readiness, opened, open_week, two_front_war)
    return RivalsState(readiness=readiness, opened=opened, open_week=open_week,
                       two_front_war=two_front_war)


@jit
def _step_kernel(
    base_hazard: Array, initial_readiness: Array, readiness_growth: Array, readiness_effect: Array,
    depletion_effect: Array, distraction_effect: Array, of_backer: Array,
    initial_stock: Array, stock: Array, readiness: Array, opened: Array, open_week: Array,
    two_front_war: Array, war_on: Array | None, draw: Array, week: int,
    readiness_out: Array, opened_out: Array, open_week_out: Array, two_front_out: Array,
) -> None:
    n = draw.shape[1]
    for i in range(n):
        two_front_out[i] = two_front_war[i]
    for r in range(draw.shape[0]):
        backer = of_backer[r]
        for i in range(n):
            ready = min(F32(1.0), readiness[r, i] + readiness_growth[r, i]
                        / F32(WEEKS_PER_YEAR))
            initial = initial_stock[backer, i]
            depletion = (initial - stock[backer, i]) / initial if initial > F32(0.0) \
                else F32(0.0)
            log_factor = readiness_effect[r, i] * (ready - initial_readiness[r, i]) \
                + depletion_effect[r, i] * depletion
            if war_on is not None:
                log_factor += distraction_effect[r, i] * war_on[i]
            hazard = vector_math.exp(log_factor) * base_hazard[r, i]
            opens = (not opened[r, i]) & (draw[r, i] < hazard)
            readiness_out[r, i] = ready
            opened_out[r, i] = opened[r, i] | opens
            open_week_out[r, i] = F32(week) if opens else open_week[r, i]
            if war_on is not None:  # a two-front war: a rival opened while the war was on
                two_front_out[i] = two_front_out[i] | (opens & (war_on[i] > F32(0.0)))
