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

import numpy as np

from offramp.engine.inputs import (
    SIDE_A,
    SIDE_B,
    Belligerents,
    Levers,
    TerritoryRules,
    Theaters,
    clip,
)

_TINY = 1e-9


@dataclass(frozen=True)
class TerritoryPlan:
    soil_index: np.ndarray  # (J,) side whose soil each theater is
    occupier_index: np.ndarray  # (J,) the other side
    theater_index: np.ndarray  # (J,) 0..J-1
    on_a_soil: np.ndarray  # (J, 1) bool
    on_b_soil: np.ndarray  # (J, 1) bool
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
        on_a_soil=(soil == SIDE_A)[:, None],
        on_b_soil=(soil == SIDE_B)[:, None],
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
    ratio = power_strong / (power_weak + _TINY)
    ratio /= breakthrough_ratio  # (in place: the same bits, one temporary fewer)
    with np.errstate(divide="ignore"):
        speed = np.log(ratio, out=ratio)
    speed = steepness * speed
    np.tanh(speed, out=speed)
    np.maximum(speed, 0.0, out=speed)
    return scale * speed


def step(
    theaters: Theaters, rules: TerritoryRules, territory_plan: TerritoryPlan,
    state: TerritoryState, *, power: np.ndarray, advance_multiplier: np.ndarray | float,
    damp: np.ndarray, withdrawal_weeks: np.ndarray, week: int,
    withdraw_since: np.ndarray | None = None,
) -> TerritoryState:
    """Move the lines one week."""
    tp = territory_plan
    occupier = power[tp.occupier_index, tp.theater_index]
    owner = power[tp.soil_index, tp.theater_index]
    occupier_advances = occupier > owner
    # max/min and a +-1 sign instead of np.where over (J, n) (several times slower): the same
    # numbers, since powers are finite and non-negative and g * (+-1) is exactly +-g.
    strong = np.maximum(occupier, owner)
    weak = np.minimum(occupier, owner)
    gained = advance_km2(strong, weak, tp.advance_scale * (advance_multiplier * damp),
                         rules.breakthrough_ratio, rules.advance_steepness)
    sign = occupier_advances.astype(gained.dtype)
    sign += sign
    sign -= 1.0
    gained *= sign
    held = clip(state.enemy_held_km2 + gained, 0.0, theaters.contested_area_km2, out=gained)
    if tp.withdraw:
        weeks_withdrawing = week + 1 - tp.withdraw_from_week
        remaining = np.maximum(0.0, 1.0 - weeks_withdrawing / np.maximum(withdrawal_weeks, _TINY))
        for j in np.flatnonzero(tp.on_b_soil[:, 0]):
            np.minimum(held[j], theaters.initial_enemy_held_km2[j] * remaining, out=held[j])
    elif withdraw_since is not None:  # a trigger's withdrawal, from its own week per future
        withdrawing = np.isfinite(withdraw_since)
        remaining = np.maximum(0.0, 1.0 - (week + 1 - np.where(withdrawing, withdraw_since, 0.0))
                               / np.maximum(withdrawal_weeks, _TINY))
        for j in np.flatnonzero(tp.on_b_soil[:, 0]):
            capped = np.minimum(held[j], theaters.initial_enemy_held_km2[j] * remaining)
            held[j] = np.where(withdrawing, capped, held[j])
    return TerritoryState(enemy_held_km2=held)


def shares(belligerents: Belligerents, theaters: Theaters, territory_plan: TerritoryPlan,
           enemy_held_km2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(side a's territory share, e = b's soil held by a as a share of a's area, salient km2)."""
    area_a = belligerents.national_area_km2[SIDE_A]
    lost = ((enemy_held_km2 - theaters.initial_enemy_held_km2) * territory_plan.on_a_soil
            ).sum(axis=0)
    a_share = clip(belligerents.initial_territory_share[SIDE_A] - lost / area_a, 0.0, 1.0)
    salient_km2 = (enemy_held_km2 * territory_plan.on_b_soil).sum(axis=0)
    return a_share, salient_km2 / area_a, salient_km2


def line_moved(belligerents: Belligerents, before: TerritoryState, after: TerritoryState
               ) -> np.ndarray:
    """(n,) ground that changed hands this week in all theaters, as a share of a's territory."""
    moved = np.abs(after.enemy_held_km2 - before.enemy_held_km2).sum(axis=0)
    share: np.ndarray = moved / belligerents.national_area_km2[SIDE_A]
    return share
