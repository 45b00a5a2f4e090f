"""Industry: artillery and high-end munitions produced and stocked, never below zero.

Seed 003: the US is on course for about 80,000 155 mm shells a month; it made over 800,000 in
the mid-1990s; Russia makes about three times the US and Europe combined; refilling Patriot,
Javelin and Stinger stocks takes five years at current rates; the West must surge its
defence-industrial base.

Backers' shell output approaches its target with a first-order lag (the capacity supply line
of Sterman (2000) Business Dynamics reduced to its time constant):

    production <- production + (target * surge - production) * (1 - exp(-1 / ramp_weeks))

with ramp_weeks = production_ramp_months * WEEKS_PER_MONTH and surge the policy's
`industrial_surge` for every backer of side a (1 for a backer of side b). Stocks:

    backer stock    <- stock + production/week - shells sent
    high-end stock  <- (stock + high-end production/week - high-end sent - rivals' war use)+
    belligerent     <- stock + (own production + imports)/week + shells received

This week's output uses last week's production level (the one aid was planned on), so a
transfer can never exceed what is there. Belligerents fire from their stock in `combat`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    WEEKS_PER_MONTH,
    Backers,
    Belligerents,
    Levers,
    Rivals,
)
from offramp.engine.vector_math import F32, Array, full, jit

_WEEKS_PER_MONTH = F32(WEEKS_PER_MONTH)


@dataclass(frozen=True)
class IndustryPlan:
    target_per_month: np.ndarray  # (K, n) target after the surge lever
    ramp_per_week: np.ndarray  # (K, n) share of the gap to target closed each week
    belligerent_supply_per_week: np.ndarray  # (2, n) own production plus imports
    rival_use_per_week: np.ndarray  # (R, n) high-end use by the backer once a rival opens
    rival_backer: np.ndarray  # (K, R) 1 where rival r draws on backer k
    high_end_production_per_week: np.ndarray  # (K, n)


@dataclass(frozen=True)
class IndustryState:
    backer_production_per_month: np.ndarray  # (K, n) rounds/month
    backer_shell_stock: np.ndarray  # (K, n) rounds
    backer_high_end_stock: np.ndarray  # (K, n) normalised stock
    shell_stock: np.ndarray  # (2, n) rounds held by each belligerent


def plan(belligerents: Belligerents, backers: Backers, rivals: Rivals, levers: Levers
         ) -> IndustryPlan:
    surge = np.array([levers.industrial_surge if side == SIDE_A else 1.0
                      for side in backers.backs_side], dtype=backers.shell_stock.dtype)[:, None]
    ramp_weeks = np.maximum(backers.production_ramp_months * WEEKS_PER_MONTH, 1e-9)
    return IndustryPlan(
        target_per_month=backers.shell_production_target_per_month * surge,
        ramp_per_week=-np.expm1(-1.0 / ramp_weeks),
        belligerent_supply_per_week=(belligerents.shell_production_per_month
                                     + belligerents.shell_imports_per_month) / WEEKS_PER_MONTH,
        rival_use_per_week=rivals.high_end_use_per_month / WEEKS_PER_MONTH,
        rival_backer=np.array([[1.0 if k == backer else 0.0 for k in rivals.of_backer]
                               for backer in range(backers.count)],
                              dtype=backers.shell_stock.dtype).reshape(backers.count,
                                                                       rivals.count),
        high_end_production_per_week=backers.high_end_production_per_month / WEEKS_PER_MONTH,
    )


def initial_state(belligerents: Belligerents, backers: Backers) -> IndustryState:
    return IndustryState(
        backer_production_per_month=backers.shell_production_per_month,
        backer_shell_stock=backers.shell_stock,
        backer_high_end_stock=backers.high_end_stock,
        shell_stock=belligerents.shell_stock,
    )


def step(
    backers: Backers, rivals: Rivals, industry_plan: IndustryPlan, state: IndustryState, *,
    shells_sent: np.ndarray, high_end_sent: np.ndarray, shells_received: np.ndarray,
    rival_opened: np.ndarray, supply_multiplier: np.ndarray | None = None,
) -> IndustryState:
    """Produce, ship and stock one week (`supply_multiplier`: an extension's, on own supply)."""
    production = state.backer_production_per_month
    k_count, n = production.shape
    r_count = industry_plan.rival_backer.shape[1]
    rows, pair = (k_count, n), (2, n)
    production_out = np.empty(rows, dtype=FLOAT)
    backer_stock = np.empty(rows, dtype=FLOAT)
    high_end = np.empty(rows, dtype=FLOAT)
    shell_stock = np.empty(pair, dtype=FLOAT)
    _step_kernel(
        full(production, rows), full(state.backer_shell_stock, rows),
        full(state.backer_high_end_stock, rows), full(shells_sent, rows),
        full(high_end_sent, rows), full(industry_plan.target_per_month, rows),
        full(industry_plan.ramp_per_week, rows),
        full(industry_plan.high_end_production_per_week, rows),
        full(industry_plan.rival_backer, (k_count, r_count)),
        full(industry_plan.rival_use_per_week, (r_count, n)),
        full(rival_opened, (r_count, n), bool), bool(rival_opened.any()),
        full(state.shell_stock, pair), full(industry_plan.belligerent_supply_per_week, pair),
        None if supply_multiplier is None else full(supply_multiplier, pair),
        full(shells_received, pair),
        production_out, backer_stock, high_end, shell_stock)
    return IndustryState(backer_production_per_month=production_out,
                         backer_shell_stock=backer_stock, backer_high_end_stock=high_end,
                         shell_stock=shell_stock)


@jit
def _step_kernel(
    production: Array, backer_stock: Array, high_end_stock: Array, shells_sent: Array,
    high_end_sent: Array, target: Array, ramp: Array, high_end_production: Array,
    rival_backer: Array, rival_use: Array, rival_opened: Array, any_opened: bool,
    shell_stock: Array, supply: Array, supply_multiplier: Array | None, received: Array,
    production_out: Array, backer_stock_out: Array, high_end_out: Array, shell_stock_out: Array,
) -> None:
    # The high-end stock's arithmetic is repeated for settled futures by model.py's
    # `_after_settlement` (NumPy): keep the same operations in the same order.
    k_count, n = production.shape
    use = np.zeros(n, dtype=np.float32)  # rivals' use of backer k's high-end stock, summed
    for k in range(k_count):
        if any_opened:  # else the use is +0.0 and subtracting it changes no bit
            for r in range(rival_use.shape[0]):
                for i in range(n):
                    drawn = rival_backer[k, r] * (rival_use[r, i] * F32(rival_opened[r, i]))
                    use[i] = drawn if r == 0 else use[i] + drawn
        for i in range(n):
            level = production[k, i]
            output_per_week = level / _WEEKS_PER_MONTH
            backer_stock_out[k, i] = max(backer_stock[k, i] + output_per_week
                                         - shells_sent[k, i], F32(0.0))
            high_end = high_end_stock[k, i] + high_end_production[k, i]
            high_end -= high_end_sent[k, i]
            if any_opened:
                high_end -= use[i]
            high_end_out[k, i] = max(high_end, F32(0.0))
            production_out[k, i] = level + (target[k, i] - level) * ramp[k, i]
    for side in range(2):
        for i in range(n):
            supplied = supply[side, i]
            if supply_multiplier is not None:
                supplied = supplied * supply_multiplier[side, i]
            shell_stock_out[side, i] = shell_stock[side, i] + supplied + received[side, i]
