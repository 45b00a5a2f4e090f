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

from offramp.engine.inputs import WEEKS_PER_YEAR, Backers, Rivals
from offramp.engine.noise import NoiseSource, Stream


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
    readiness = np.minimum(1.0, state.readiness + rivals.readiness_growth_per_year
                           / WEEKS_PER_YEAR)
    backer = list(rivals.of_backer)
    initial = backers.high_end_stock[backer]
    if (initial > 0).all():  # the usual case: a plain division gives the same bits
        depletion = initial - high_end_stock[backer]
        depletion /= initial
    else:
        depletion = np.divide(initial - high_end_stock[backer], initial,
                              out=np.zeros_like(initial), where=initial > 0)
    log_factor = rivals.readiness_effect * (readiness - rivals.readiness)
    log_factor += rivals.depletion_effect * depletion
    if not np.isscalar(war_on) or war_on != 0.0:  # (settled futures pass 0.0: a zero term)
        log_factor += rivals.distraction_effect * war_on
    hazard = np.exp(log_factor, out=log_factor)
    hazard *= rivals.base_hazard_per_week
    draw = noise.uniforms(Stream.RIVALS, week, rivals.count)
    opens = ~state.opened & (draw < hazard)
    if not opens.any():  # most weeks: nothing opens, and only readiness changes
        return RivalsState(readiness=readiness, opened=state.opened, open_week=state.open_week,
                           two_front_war=state.two_front_war)
    return RivalsState(
        readiness=readiness,
        opened=state.opened | opens,
        open_week=np.where(opens, float(week), state.open_week),
        two_front_war=state.two_front_war | (opens.any(axis=0) & (war_on > 0)),
    )
