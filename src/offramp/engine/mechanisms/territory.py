"""Territory: ground changing hands in each theater, and the shares the bargaining rule uses.

Seeds: 000 reports Russia's advances in Donbas and Ukraine's hold of Russian land in Kursk, and
fears that delay lets the salient be lost; 003 expects the autumn rains to make the salient
durable and doubts Russia will eject it without a much larger redeployment.

In theater j the side with the greater combat power advances (break-even ratio: Davis 1995):

    ratio = P_strong / P_weak
    dA_j  = max_advance_km_per_week * season * terrain_factor_j * frontage_km_j
            * share_of_front_in_assault * tanh(advance_steepness * ln(ratio / breakthrough_ratio))+
            * damp_j

in km2 a week (km/week * km). `enemy_held_km2_j` (held by the side whose soil it is not) grows
when that side advances and shrinks when the soil's owner does; it stays in
[0, contested_area_km2]. `damp_j` is 0 in a ceasefire or after a settlement, (1 - strength) under
the disengagement rung, and (1 - strength) in salient theaters under the no-incursions rung: the
rung is read as a standstill across the undisputed border, so while it holds the owner does not
retake its salient either. Under side a's `withdraw` posture, a's ground on b's soil falls
linearly to 0 over `withdrawal_weeks` from the week the posture was taken (its week-0 size
scaled down; a scheduled withdrawal that starts later caps a salient that has usually shrunk).

Shares (the pie is side a's national area):

    a_share = initial_territory_share_a - sum_{j on a's soil} (held_j - held_j(0)) / area_a
    e       = sum_{j on b's soil} held_j / area_a      (b's soil held by a: leverage, "e")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from offramp.engine import vector_math
from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    SIDE_B,
    Belligerents,
    Levers,
    TerritoryRules,
    Theaters,
)
from offramp.engine.vector_math import F32, Array, full, inline, jit

_TINY = F32(1e-9)


@dataclass(frozen=True)
class TerritoryPlan:
    soil_index: np.ndarray  # (J,) side whose soil each theater is
    occupier_index: np.ndarray  # (J,) the other side
    theater_index: np.ndarray  # (J,) 0..J-1
    on_a_soil: np.ndarray  # (J,) bool
    on_b_soil: np.ndarray  # (J,) bool
    advance_scale: np.ndarray  # (J, n) km2/week at full speed and season 1
    withdraw: bool
    withdraw_from_week: int  # the week the withdrawal began (a scheduled posture)


@dataclass(frozen=True)
class TerritoryState:
    enemy_held_km2: np.ndarray  # (J, n)


def plan(theaters: Theaters, rules: TerritoryRules, levers: Levers, posture_since: int = 0
         ) -> TerritoryPlan:
    soil = np.array(theaters.soil_side, dtype=np.intp)
    return TerritoryPlan(
        soil_index=soil,
        occupier_index=1 - soil,
        theater_index=np.arange(len(soil)),
        on_a_soil=soil == SIDE_A,
        on_b_soil=soil == SIDE_B,
        advance_scale=rules.max_advance_km_per_week * theaters.terrain_factor
        * theaters.frontage_km * rules.share_of_front_in_assault,
        withdraw=levers.salient_posture == "withdraw",
        withdraw_from_week=posture_since,
    )


def initial_state(theaters: Theaters) -> TerritoryState:
    return TerritoryState(enemy_held_km2=theaters.initial_enemy_held_km2)


def advance_km2(power_strong: np.ndarray, power_weak: np.ndarray, scale: np.ndarray,
                breakthrough_ratio: np.ndarray, steepness: np.ndarray) -> np.ndarray:
    """Ground taken by the stronger side in a week: scale * tanh(beta ln(ratio / threshold))+."""
    shape = np.broadcast_shapes(*(np.shape(values) for values in (
        power_strong, power_weak, scale, breakthrough_ratio, steepness)))
    size = int(np.prod(shape))
    def flat(values: np.ndarray) -> np.ndarray:
        return full(values, shape).reshape(size)

    gained = np.empty(size, dtype=FLOAT)
    _advance_kernel(flat(power_strong), flat(power_weak), flat(scale), flat(breakthrough_ratio),
                    flat(steepness), gained)
    return gained.reshape(shape)


@inline
def _tanh_positive(x: Any) -> Any:
    """tanh x for x >= 0, as -expm1(-2x) / (2 + expm1(-2x)) (no cancellation near 0)."""
    m = vector_math.expm1(F32(-2.0) * x)
    return -m / (F32(2.0) + m)


@inline
def _advance(strong: Any, weak: Any, scale: Any, breakthrough_ratio: Any, steepness: Any
             ) -> Any:
    ratio = strong / (weak + _TINY)
    ratio /= breakthrough_ratio
    speed = steepness * vector_math.log(ratio)  # log(0) is LOG_OF_ZERO: no advance
    return scale * _tanh_positive(max(speed, F32(0.0)))


@jit
def _advance_kernel(strong: Array, weak: Array, scale: Array, breakthrough_ratio: Array,
                    steepness: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = _advance(strong[i], weak[i], scale[i], breakthrough_ratio[i], steepness[i])


def step(
    theaters: Theaters, rules: TerritoryRules, territory_plan: TerritoryPlan,
    state: TerritoryState, *, power: np.ndarray, advance_multiplier: np.ndarray | float,
    damp: np.ndarray, withdrawal_weeks: np.ndarray, week: int,
    withdraw_since: np.ndarray | None = None,
) -> TerritoryState:
    """Move the lines one week."""
    tp = territory_plan
    j_count, n = state.enemy_held_km2.shape
    theater_rows = (j_count, n)
    held = np.empty(theater_rows, dtype=FLOAT)
    # the withdrawal's clock: a scheduled posture's from its week, a trigger's per future
    weeks_withdrawing = None
    if tp.withdraw:
        weeks_withdrawing = np.full(n, week + 1 - tp.withdraw_from_week, dtype=FLOAT)
    elif withdraw_since is not None:
        weeks_withdrawing = np.where(np.isfinite(withdraw_since),
                                     week + 1 - withdraw_since, np.nan).astype(FLOAT)
    _step_kernel(
        full(power, (2, j_count, n)), np.asarray(tp.soil_index, dtype=np.int64),
        full(tp.advance_scale, theater_rows), full(advance_multiplier, theater_rows),
        full(damp, theater_rows), full(rules.breakthrough_ratio, (n,)),
        full(rules.advance_steepness, (n,)), full(state.enemy_held_km2, theater_rows),
        full(theaters.contested_area_km2, theater_rows),
        full(theaters.initial_enemy_held_km2, theater_rows),
        tp.on_b_soil, weeks_withdrawing,
        full(withdrawal_weeks, (n,)), held)
    return TerritoryState(enemy_held_km2=held)


@jit
def _step_kernel(
    power: Array, soil_index: Array, advance_scale: Array, advance_multiplier: Array,
    damp: Array, breakthrough_ratio: Array, steepness: Array, enemy_held: Array,
    contested: Array, initial_held: Array, on_b_soil: Array, weeks_withdrawing: Array | None,
    withdrawal_weeks: Array, held_out: Array,
) -> None:
    for j in range(held_out.shape[0]):
        owner_side = soil_index[j]
        for i in range(held_out.shape[1]):
            occupier = power[1 - owner_side, j, i]
            owner = power[owner_side, j, i]
            gained = _advance(max(occupier, owner), min(occupier, owner),
                              advance_scale[j, i] * (advance_multiplier[j, i] * damp[j, i]),
                              breakthrough_ratio[i], steepness[i])
            gained = gained if occupier > owner else -gained
            held = min(max(enemy_held[j, i] + gained, F32(0.0)), contested[j, i])
            if weeks_withdrawing is not None and on_b_soil[j]:
                # NaN weeks (a future whose trigger has not fired) leave the ground as it is
                remaining = max(F32(0.0), F32(1.0) - weeks_withdrawing[i]
                                / max(withdrawal_weeks[i], _TINY))
                capped = min(held, initial_held[j, i] * remaining)
                held = held if weeks_withdrawing[i] != weeks_withdrawing[i] else capped
            held_out[j, i] = held


def shares(belligerents: Belligerents, theaters: Theaters, territory_plan: TerritoryPlan,
           enemy_held_km2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(side a's territory share, e = b's soil held by a as a share of a's area, salient km2)."""
    j_count, n = np.shape(enemy_held_km2)
    a_share, e, salient_km2 = (np.empty(n, dtype=FLOAT) for _ in range(3))
    _shares_kernel(full(belligerents.national_area_km2[SIDE_A], (n,)),
                   full(belligerents.initial_territory_share[SIDE_A], (n,)),
                   full(enemy_held_km2, (j_count, n)),
                   full(theaters.initial_enemy_held_km2, (j_count, n)),
                   territory_plan.on_a_soil, territory_plan.on_b_soil, a_share, e, salient_km2)
    return a_share, e, salient_km2


@jit
def _shares_kernel(area_a: Array, initial_share_a: Array, held: Array, initial_held: Array,
                   on_a_soil: Array, on_b_soil: Array, a_share_out: Array, e_out: Array,
                   salient_out: Array) -> None:
    n = held.shape[1]
    for i in range(n):
        a_share_out[i] = F32(0.0)  # ground lost on a's soil, summed over theaters in order
        salient_out[i] = F32(0.0)
    for j in range(held.shape[0]):
        if on_a_soil[j]:
            for i in range(n):
                a_share_out[i] += held[j, i] - initial_held[j, i]
        if on_b_soil[j]:
            for i in range(n):
                salient_out[i] += held[j, i]
    for i in range(n):
        a_share_out[i] = min(max(initial_share_a[i] - a_share_out[i] / area_a[i], F32(0.0)),
                             F32(1.0))
        e_out[i] = salient_out[i] / area_a[i]


def line_moved(belligerents: Belligerents, before: TerritoryState, after: TerritoryState
               ) -> np.ndarray:
    """(n,) ground that changed hands this week in all theaters, as a share of a's territory."""
    moved = np.abs(after.enemy_held_km2 - before.enemy_held_km2).sum(axis=0)
    share: np.ndarray = moved / belligerents.national_area_km2[SIDE_A]
    return share
