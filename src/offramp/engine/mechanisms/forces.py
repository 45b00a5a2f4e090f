"""Forces: recruits, training, reserves, and where each side sends its reinforcements.

Seeds: 003 says Russia has larger reserves and faces a dilemma between containing the salient
with conscripts and a large redeployment from the front, and that holding the salient may draw
Ukrainian manpower from other fronts; 000 says Ukraine still struggles to find personnel after
the June 2024 mobilization law.

Per side i (arrays (2, n)) and theater j (arrays (2, J, n)), one week:

    recruits_i   = mobilization_per_week_i * clip(support_i / initial_support_i, 0, 1.5)
    graduates_i  = in_training_i * min(1, 1 / training_weeks_i)         (first-order delay)
    in_training <- in_training + recruits + wounded returning - graduates
    deployed_i   = deploy_share_per_week * (reserves_i + graduates_i + withdrawn_i)
    share_ij     = w_ij * threat_ij / sum_j w_ij * threat_ij,  threat_ij = P_-i,j / P_ij
                   (last week's combat power, capped at THREAT_CAP)
    forces_ij   <- forces_ij + deployed_i * share_ij - withdrawn_ij

A side sends nothing to a theater on the enemy's soil where it holds no ground, and its forces
there, once the ground is lost, fall back to reserves, unless the theater `opens_after` an
adjacent theater on the side's own soil and the enemy holds at most `enemy_held_below_km2` of
that one (the advance carries across the line: Poland past the later Riga line in September
1920). Without `opens_after` the model starts no new incursions. Side
a's salient posture (policy): `hold` and `trade` send at least `salient_hold_reinforcement` of
a's deployments to theaters on b's soil while it still holds ground there (under `trade` the
salient is held until a settlement hands it over; the difference is in `bargaining`);
`withdraw` sends nothing there and pulls a's forces out over `withdrawal_weeks`
(1/withdrawal_weeks of the week-0 garrison a week, back to reserves).

The training pipeline starts full (in_training = recruits per week x training weeks), so
graduation begins at its steady rate rather than at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    SIDE_B,
    Belligerents,
    ForcesRules,
    Levers,
    Theaters,
)
from offramp.engine.vector_math import F32, Array, full, jit

THREAT_CAP = 10.0
THREAT_FLOOR = 1e-6
SUPPORT_FACTOR_CAP = 1.5
_TINY = 1e-9
_THREAT_CAP, _THREAT_FLOOR = F32(THREAT_CAP), F32(THREAT_FLOOR)
_SUPPORT_FACTOR_CAP, _TINY_32 = F32(SUPPORT_FACTOR_CAP), F32(_TINY)


@dataclass(frozen=True)
class ForcesPlan:
    on_b_soil: np.ndarray  # (J, 1) bool: theaters on side b's soil (side a's salients)
    on_enemy_soil: np.ndarray  # (2, J, 1) bool: theaters on the other side's soil, per side
    graduation_per_week: np.ndarray  # (2, n) share of trainees finishing each week
    withdraw: bool
    hold: bool  # `hold` or `trade`: a minimum share of reinforcements to the salients
    withdrawal_per_week: np.ndarray  # (J, n) personnel side a pulls out per week (withdraw)
    opens_after: np.ndarray | None  # (J,) adjacent theater whose clearing opens j (-1: none)
    opens_below_km2: np.ndarray | None  # (J, n)


@dataclass(frozen=True)
class ForcesState:
    forces: np.ndarray  # (2, J, n) personnel committed per side and theater
    reserves: np.ndarray  # (2, n) trained personnel not yet committed
    in_training: np.ndarray  # (2, n) recruits and recovering wounded


def plan(belligerents: Belligerents, theaters: Theaters, rules: ForcesRules, levers: Levers
         ) -> ForcesPlan:
    on_b_soil = np.array([side == SIDE_B for side in theaters.soil_side], dtype=bool)[:, None]
    on_enemy_soil = np.stack([on_b_soil, ~on_b_soil])  # side a's enemy soil is b's, and back
    withdraw = levers.salient_posture == "withdraw"
    return ForcesPlan(
        on_b_soil=on_b_soil,
        on_enemy_soil=on_enemy_soil,
        graduation_per_week=np.minimum(1.0, 1.0 / np.maximum(belligerents.training_weeks,
                                                             _TINY)),
        withdraw=withdraw,
        hold=levers.salient_posture in ("hold", "trade"),
        withdrawal_per_week=theaters.initial_forces[SIDE_A] * on_b_soil
        / np.maximum(rules.withdrawal_weeks, _TINY),
        opens_after=None if theaters.opens_after is None
        else np.array(theaters.opens_after, dtype=np.intp),
        opens_below_km2=theaters.opens_below_km2,
    )


def opened(forces_plan: ForcesPlan, enemy_held_km2: np.ndarray) -> np.ndarray | bool:
    """(J, n) bool: theaters open to the side whose soil they are not, with no ground held,
    because the enemy holds at most `opens_below_km2` of the adjacent theater (False: none)."""
    if forces_plan.opens_after is None:
        return False
    has_rule = (forces_plan.opens_after >= 0)[:, None]
    adjacent = enemy_held_km2[np.maximum(forces_plan.opens_after, 0)]
    is_open: np.ndarray = has_rule & (adjacent <= forces_plan.opens_below_km2)
    return is_open


def initial_state(belligerents: Belligerents, theaters: Theaters) -> ForcesState:
    return ForcesState(
        forces=theaters.initial_forces,
        reserves=belligerents.reserves,
        in_training=belligerents.mobilization_per_week * belligerents.training_weeks,
    )


def allocation_shares(
    weights: np.ndarray, power: np.ndarray, enemy_held_km2: np.ndarray,
    forces_plan: ForcesPlan, hold_share: np.ndarray, allowed: np.ndarray | None = None,
    withdrawing: np.ndarray | None = None,
) -> np.ndarray:
    """(2, J, n) share of each side's deployments sent to each theater.

    `allowed` ((2, J, n) bool, optional) is ~on_enemy_soil | (enemy_held_km2 > 0) when the
    caller has it already. `withdrawing` ((n,) bool, optional): futures where a trigger has side
    a withdrawing from its salients (as the `withdraw` posture does for every future)."""
    j_count = forces_plan.on_b_soil.shape[0]
    n = np.broadcast_shapes(np.shape(weights), np.shape(power), np.shape(enemy_held_km2),
                            np.shape(hold_share))[-1]
    if allowed is None:
        allowed = np.empty((2, j_count, n), dtype=bool)
        _kept_kernel(forces_plan.on_enemy_soil[:, :, 0], full(enemy_held_km2, (j_count, n)),
                     None, allowed)
    share = np.empty((2, j_count, n), dtype=FLOAT)
    _shares_kernel(
        full(weights, (2, j_count, n)), full(power, (2, j_count, n)),
        full(allowed, (2, j_count, n), bool), full(hold_share, (n,)),
        None if withdrawing is None else full(withdrawing, (n,), bool),
        forces_plan.on_b_soil[:, 0], forces_plan.withdraw,
        bool(forces_plan.hold and forces_plan.on_b_soil.any()), share)
    return share


@jit
def _kept_kernel(on_enemy_soil: Array, enemy_held_km2: Array, opened: Array | None,
                 kept_out: Array) -> None:
    """(2, J, n) bool: the theaters where each side may keep (and send) forces."""
    j_count, n = enemy_held_km2.shape
    for side in range(2):
        for j in range(j_count):
            own_soil = not on_enemy_soil[side, j]
            for i in range(n):
                # Ground on the enemy's soil is worth holding only while something is held there.
                kept = own_soil | (enemy_held_km2[j, i] > F32(0.0))
                if opened is not None:
                    kept = kept | opened[j, i]
                kept_out[side, j, i] = kept


@jit
def _shares_kernel(
    weights: Array, power: Array, allowed: Array, hold_share: Array, withdrawing: Array | None,
    on_b_soil: Array, withdraw: bool, hold: bool, share_out: Array,
) -> None:
    j_count, n = weights.shape[1], weights.shape[2]
    total = np.empty(n, dtype=np.float32)
    for side in range(2):
        for j in range(j_count):
            # side a sends nothing to the salients it is pulling out of
            closing = F32(side == SIDE_A and on_b_soil[j])
            for i in range(n):
                # The floor keeps a theater in the split (at a negligible share) when the enemy
                # has no power there, so that a hold posture can still direct reinforcements to
                # it.
                threat = min(max(power[1 - side, j, i] / (power[side, j, i] + _TINY_32),
                                 _THREAT_FLOOR), _THREAT_CAP)
                open_to = F32(allowed[side, j, i])
                if withdraw:
                    open_to *= F32(1.0) - closing
                elif withdrawing is not None:
                    open_to *= F32(1.0) - closing * F32(withdrawing[i])
                weight = weights[side, j, i] * threat * open_to
                share_out[side, j, i] = weight
                total[i] = weight if j == 0 else total[i] + weight
        for j in range(j_count):
            for i in range(n):
                share_out[side, j, i] = share_out[side, j, i] / total[i] \
                    if total[i] > F32(0.0) else F32(0.0)

    if hold:
        # Raise side a's share to its salients to at least hold_share (while it still holds
        # ground there), scaling the other theaters down in proportion.
        to_salient = total
        for j in range(j_count):
            salient = F32(on_b_soil[j])
            for i in range(n):
                part = share_out[SIDE_A, j, i] * salient
                to_salient[i] = part if j == 0 else to_salient[i] + part
        for j in range(j_count):
            salient_row = on_b_soil[j]
            for i in range(n):
                # Where a's salients are lost, to_salient is exactly 0: max(0, hold_share * 0)
                # keeps it 0, and dividing by (0 + 1) gives a factor 0 on shares that are 0.
                holding = F32(to_salient[i] > F32(0.0))
                if withdrawing is not None:
                    holding *= F32(1.0) - F32(withdrawing[i])
                target = max(to_salient[i], hold_share[i] * holding)
                scale_salient = target / (to_salient[i] + (F32(1.0) - holding))
                rest = F32(1.0) - to_salient[i]
                scale_rest = (F32(1.0) - target) / rest if rest > F32(0.0) else F32(0.0)
                share_out[SIDE_A, j, i] *= scale_salient if salient_row else scale_rest


def step(
    belligerents: Belligerents, theaters: Theaters, rules: ForcesRules, forces_plan: ForcesPlan,
    state: ForcesState, *, power: np.ndarray, enemy_held_km2: np.ndarray, support: np.ndarray,
    wounded_returning: np.ndarray, withdrawing: np.ndarray | None = None,
) -> ForcesState:
    """Train, commit and (for `withdraw`, or where a trigger has side a `withdrawing`) pull back
    one week of personnel."""
    j_count, n = state.forces.shape[1], state.forces.shape[2]
    pair, theater, side_theater = (2, n), (j_count, n), (2, j_count, n)
    is_open = None if forces_plan.opens_after is None else full(
        opened(forces_plan, enemy_held_km2), (j_count, n), bool)
    forces = np.empty((2, j_count, n), dtype=FLOAT)
    reserves = np.empty((2, n), dtype=FLOAT)
    in_training = np.empty((2, n), dtype=FLOAT)
    _step_kernel(
        full(belligerents.mobilization_per_week, pair), full(support, pair),
        full(belligerents.initial_support, pair), full(state.in_training, pair),
        full(forces_plan.graduation_per_week, pair), full(wounded_returning, pair),
        full(state.reserves, pair), full(state.forces, side_theater),
        forces_plan.on_enemy_soil[:, :, 0],
        full(enemy_held_km2, theater), is_open, forces_plan.withdraw,
        full(forces_plan.withdrawal_per_week, theater),
        None if withdrawing is None else full(withdrawing, (n,), bool),
        full(theaters.reinforcement_weight, side_theater), full(power, side_theater),
        full(rules.salient_hold_reinforcement, (n,)), forces_plan.on_b_soil[:, 0],
        bool(forces_plan.hold and forces_plan.on_b_soil.any()),
        full(rules.deploy_share_per_week, (n,)),
        forces, reserves, in_training, np.empty((2, j_count, n), dtype=bool),
        np.empty((2, j_count, n), dtype=FLOAT))
    return ForcesState(forces=forces, reserves=reserves, in_training=in_training)


@jit
def _step_kernel(
    mobilization: Array, support: Array, initial_support: Array, in_training: Array,
    graduation: Array, wounded_returning: Array, reserves: Array, forces: Array,
    on_enemy_soil: Array, enemy_held_km2: Array, is_open: Array | None, withdraw: bool,
    withdrawal_per_week: Array, withdrawing: Array | None, weights: Array, power: Array,
    hold_share: Array, on_b_soil: Array, hold: bool, deploy_share: Array,
    forces_out: Array, reserves_out: Array, in_training_out: Array, kept: Array, share: Array,
) -> None:
    j_count, n = forces.shape[1], forces.shape[2]
    available = np.empty((2, n), dtype=np.float32)
    summed = np.empty(n, dtype=np.float32)
    _kept_kernel(on_enemy_soil, enemy_held_km2, is_open, kept)
    for side in range(2):
        # Forces on the enemy's soil with no ground left there have been pushed back across
        # the line: they return to reserves (and, below, get no more reinforcements).
        for j in range(j_count):
            for i in range(n):
                staying = forces[side, j, i] * F32(kept[side, j, i])
                forces_out[side, j, i] = staying
                returned = forces[side, j, i] - staying
                summed[i] = returned if j == 0 else summed[i] + returned
        for i in range(n):
            recruits = mobilization[side, i] * min(max(
                support[side, i] / initial_support[side, i], F32(0.0)), _SUPPORT_FACTOR_CAP)
            graduates = in_training[side, i] * graduation[side, i]
            in_training_out[side, i] = in_training[side, i] + recruits \
                + wounded_returning[side, i] - graduates
            available[side, i] = reserves[side, i] + graduates + summed[i]

    if withdraw or withdrawing is not None:  # side a pulls out of its salients
        for j in range(j_count):
            for i in range(n):
                withdrawn = min(forces_out[SIDE_A, j, i], withdrawal_per_week[j, i])
                if not withdraw and withdrawing is not None:
                    withdrawn *= F32(withdrawing[i])
                forces_out[SIDE_A, j, i] -= withdrawn
                summed[i] = withdrawn if j == 0 else summed[i] + withdrawn
        for i in range(n):
            available[SIDE_A, i] += summed[i]

    _shares_kernel(weights, power, kept, hold_share, withdrawing, on_b_soil, withdraw, hold,
                   share)
    for side in range(2):
        for j in range(j_count):
            for i in range(n):
                deployed = deploy_share[i] * available[side, i] * share[side, j, i]
                forces_out[side, j, i] += deployed
                summed[i] = deployed if j == 0 else summed[i] + deployed
        for i in range(n):
            reserves_out[side, i] = available[side, i] - summed[i]
