"""Aid: what each backer sends to the side it backs this week.

Seeds: 003 asks for more aid without restrictions and warns against drip-feeding; 000 fears
that support for aid may wane in the US and Europe; 003's sequencing argument is that the US
draws on one pool for every theater, so a rival's move cuts what Ukraine gets.

Per backer k (arrays (K, n)), every factor dimensionless:

    willingness_k = support_factor_k * lever_k * election_k * (1 - diverted_k) * not_settled
    support_factor_k = clip(support_k / initial_support_k, 0, 1.5)
    lever_k          = aid_multiplier (policy) if k backs side a, else 1
    election_k       = product of aid_multiplier_if_challenger over k's elections won by the
                       challenger whose winner has taken office
    diverted_k       = min(1, sum of aid_priority_share of k's rivals that have opened)

    shells from production = min(1, share_of_production_sent * willingness) * production
    shells from stocks     = min(excess, excess / stock_drawdown_weeks * willingness)
    excess = (stock - floor_share * initial stock)+,
    floor_share = max(stock_floor_share, pacific_reserve_share if k is a rival's backer)
    high-end sent = min(high-end excess, high_end_sent_per_month / WEEKS_PER_MONTH * willingness)

Stocks never go below their floor through transfers, so never below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from offramp.engine.inputs import FLOAT, SIDE_A, WEEKS_PER_MONTH, Backers, Levers, Rivals
from offramp.engine.vector_math import F32, Array, full, jit

SUPPORT_FACTOR_CAP = 1.5
_SUPPORT_FACTOR_CAP = F32(SUPPORT_FACTOR_CAP)
_WEEKS_PER_MONTH = F32(WEEKS_PER_MONTH)


@dataclass(frozen=True)
class AidPlan:
    """Per-run constants: which levers apply to which backer."""

    lever: np.ndarray  # (K, 1) aid multiplier per backer
    floor_share: np.ndarray  # (K, n) share of the initial stock kept at home
    shell_floor: np.ndarray  # (K, n) rounds kept at home
    high_end_floor: np.ndarray  # (K, n) high-end stock kept at home
    rival_backer: np.ndarray  # (K, R) 1 where rival r tests backer k
    recipient: np.ndarray  # (2, K) 1 where backer k backs side i


@dataclass(frozen=True)
class AidFlows:
    """This week's transfers (flows, not state)."""

    shells_sent: np.ndarray  # (K, n) rounds/week, from production and stock
    shells_from_stock: np.ndarray  # (K, n) rounds/week, the part drawn from stock
    high_end_sent: np.ndarray  # (K, n) normalised stock/week
    shells_received: np.ndarray  # (2, n) rounds/week, by side


def plan(backers: Backers, rivals: Rivals, levers: Levers) -> AidPlan:
    lever = np.array([levers.aid_multiplier if side == SIDE_A else 1.0
                      for side in backers.backs_side], dtype=FLOAT)[:, None]
    rival_backer = np.zeros((backers.count, rivals.count), dtype=FLOAT)
    for rival, backer in enumerate(rivals.of_backer):
        rival_backer[backer, rival] = 1.0
    recipient = np.zeros((2, backers.count), dtype=FLOAT)
    for backer, side in enumerate(backers.backs_side):
        recipient[side, backer] = 1.0
    tested = cast(np.ndarray, rival_backer.any(axis=1))[:, None]  # axis given: an array
    # The Pacific reserve is kept by a backer that rivals are testing.
    floor_share = np.where(tested, np.maximum(backers.stock_floor_share,
                                              FLOAT(levers.pacific_reserve_share)),
                           backers.stock_floor_share)
    return AidPlan(lever=lever, floor_share=floor_share,
                   shell_floor=floor_share * backers.shell_stock,
                   high_end_floor=floor_share * backers.high_end_stock,
                   rival_backer=rival_backer, recipient=recipient)


def step(
    backers: Backers, rivals: Rivals, aid_plan: AidPlan, *,
    backer_support: np.ndarray, production_per_month: np.ndarray, shell_stock: np.ndarray,
    high_end_stock: np.ndarray, rival_opened: np.ndarray, election_aid_multiplier: np.ndarray,
    not_settled: np.ndarray, lever: np.ndarray | None = None,
) -> AidFlows:
    """Transfers this week, from last week's support, production, stocks and rival moves.
    `lever`: (n,) side a's aid multiplier per future, where a trigger sets it (else the plan's)."""
    n = not_settled.shape[-1]
    k_count, r_count = backers.count, rivals.count
    if k_count == 0:
        zeros = np.zeros((0, n), dtype=FLOAT)
        return AidFlows(zeros, zeros, zeros, np.zeros((2, n), dtype=FLOAT))

    rows = (k_count, n)
    multiplier = aid_plan.lever if lever is None else np.where(
        aid_plan.recipient[0][:, None] > 0, lever[None, :], aid_plan.lever).astype(FLOAT)
    shells_sent = np.empty(rows, dtype=FLOAT)
    from_stock = np.empty(rows, dtype=FLOAT)
    high_end_sent = np.empty(rows, dtype=FLOAT)
    received = np.empty((2, n), dtype=FLOAT)
    _step_kernel(
        full(backer_support, rows), full(backers.initial_support, rows),
        full(multiplier, rows), full(election_aid_multiplier, rows),
        full(not_settled, (n,)), full(aid_plan.rival_backer, (k_count, r_count)),
        full(rivals.aid_priority_share, (r_count, n)), full(rival_opened, (r_count, n), bool),
        bool(rival_opened.any()),
        full(production_per_month, rows), full(backers.share_of_production_sent, rows),
        full(shell_stock, rows), full(aid_plan.shell_floor, rows),
        full(backers.stock_drawdown_weeks, rows), full(high_end_stock, rows),
        full(aid_plan.high_end_floor, rows), full(backers.high_end_sent_per_month, rows),
        full(aid_plan.recipient, (2, k_count)), shells_sent, from_stock, high_end_sent, received)
    return AidFlows(shells_sent, from_stock, high_end_sent, received)


@jit
def _step_kernel(
    backer_support: Array, initial_support: Array, multiplier: Array, election: Array,
    not_settled: Array, rival_backer: Array, priority_share: Array, rival_opened: Array,
    any_opened: bool, production_per_month: Array, share_of_production_sent: Array,
    shell_stock: Array, shell_floor: Array, drawdown_weeks: Array, high_end_stock: Array,
    high_end_floor: Array, high_end_per_month: Array, recipient: Array,
    shells_sent_out: Array, from_stock_out: Array, high_end_sent_out: Array, received_out: Array,
) -> None:
    k_count, n = backer_support.shape
    diverted = np.zeros(n, dtype=np.float32)  # share of backer k's aid diverted to its rivals
    for k in range(k_count):
        # matrix times rows, summed in a fixed order (the result of a future must not depend
        # on how many futures share the call)
        if any_opened:  # else nothing is diverted and the factor below is exactly 1
            for r in range(priority_share.shape[0]):
                for i in range(n):
                    term = rival_backer[k, r] * (priority_share[r, i] * F32(rival_opened[r, i]))
                    diverted[i] = term if r == 0 else diverted[i] + term
        for i in range(n):
            support_factor = min(max(backer_support[k, i] / initial_support[k, i], F32(0.0)),
                                 _SUPPORT_FACTOR_CAP)
            willingness = support_factor * multiplier[k, i] * election[k, i] * not_settled[i]
            if any_opened:
                willingness *= max(F32(1.0) - diverted[i], F32(0.0))
            production_per_week = production_per_month[k, i] / _WEEKS_PER_MONTH
            from_production = min(F32(1.0), share_of_production_sent[k, i] * willingness) \
                * production_per_week
            excess = max(shell_stock[k, i] - shell_floor[k, i], F32(0.0))
            from_stock = min(excess, excess * (willingness / drawdown_weeks[k, i]))
            shells_sent_out[k, i] = from_production + from_stock
            from_stock_out[k, i] = from_stock
            high_end_excess = max(high_end_stock[k, i] - high_end_floor[k, i], F32(0.0))
            high_end_sent_out[k, i] = min(high_end_excess, high_end_per_month[k, i]
                                          / _WEEKS_PER_MONTH * willingness)
    for side in range(2):
        for k in range(k_count):
            for i in range(n):
                term = recipient[side, k] * shells_sent_out[k, i]
                received_out[side, i] = term if k == 0 else received_out[side, i] + term
