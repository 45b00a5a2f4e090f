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
    SIDE_A,
    WEEKS_PER_MONTH,
    Backers,
    Belligerents,
    Levers,
    Rivals,
)


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
    output_per_week = production / WEEKS_PER_MONTH
    backer_stock = np.maximum(0.0, state.backer_shell_stock + output_per_week - shells_sent)

    high_end = state.backer_high_end_stock + industry_plan.high_end_production_per_week
    high_end -= high_end_sent
    if rival_opened.any():  # else the use is +0.0 and subtracting it changes no bit
        high_end -= (industry_plan.rival_backer[:, :, None]
                     * (industry_plan.rival_use_per_week * rival_opened)[None]).sum(axis=1)
    np.maximum(0.0, high_end, out=high_end)

    return IndustryState(
        backer_production_per_month=production
        + (industry_plan.target_per_month - production) * industry_plan.ramp_per_week,
        backer_shell_stock=backer_stock,
        backer_high_end_stock=high_end,
        shell_stock=state.shell_stock + (
            industry_plan.belligerent_supply_per_week if supply_multiplier is None
            else industry_plan.belligerent_supply_per_week * supply_multiplier)
        + shells_received,
    )
