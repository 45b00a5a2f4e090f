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

from offramp.engine.inputs import SIDE_A, SIDE_B, Belligerents, ForcesRules, Levers, Theaters, clip

THREAT_CAP = 10.0
THREAT_FLOOR = 1e-6
SUPPORT_FACTOR_CAP = 1.5
_TINY = 1e-9


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
    # The floor keeps a theater in the split (at a negligible share) when the enemy has no
    # power there, so that a hold posture can still direct reinforcements to it.
    threat = power + _TINY
    np.divide(power[::-1], threat, out=threat)
    clip(threat, THREAT_FLOOR, THREAT_CAP, out=threat)
    # Ground on the enemy's soil is worth reinforcing only while something is held there.
    if allowed is None:
        allowed = ~forces_plan.on_enemy_soil | (enemy_held_km2 > 0)
    if forces_plan.withdraw:
        allowed = allowed.copy()
        allowed[SIDE_A] &= ~forces_plan.on_b_soil
    elif withdrawing is not None:
        allowed = allowed.copy()
        allowed[SIDE_A] &= ~(forces_plan.on_b_soil & withdrawing)
    weight = np.multiply(weights, threat, out=threat)
    weight *= allowed
    total = weight.sum(axis=1, keepdims=True)
    if (total > 0).all():  # the usual case: a plain division gives the same bits
        share: np.ndarray = np.divide(weight, total, out=weight)
    else:
        share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)

    if forces_plan.hold and forces_plan.on_b_soil.any():
        # Raise side a's share to its salients to at least hold_share (while it still holds
        # ground there), scaling the other theaters down in proportion.
        to_salient = (share[SIDE_A] * forces_plan.on_b_soil).sum(axis=0)
        holding = to_salient > 0
        # Where a's salients are lost, to_salient is exactly 0: max(0, hold_share * 0) keeps
        # it 0, and dividing by (0 + 1) gives a factor 0 on shares that are 0 (np.where and
        # masked divisions would give the same numbers at several times the cost).
        if withdrawing is not None:
            holding = holding & ~withdrawing
        target = np.maximum(to_salient, hold_share * holding)
        scale_salient = target / (to_salient + ~holding)
        rest = 1.0 - to_salient
        if (rest > 0).all():
            scale_rest = np.subtract(1.0, target, out=target)
            scale_rest /= rest
        else:
            scale_rest = np.divide(1.0 - target, rest, out=np.zeros_like(rest), where=rest > 0)
        for j, on_b_soil in enumerate(forces_plan.on_b_soil[:, 0]):  # row by row: no np.where
            share[SIDE_A, j] *= scale_salient if on_b_soil else scale_rest
    return share


def step(
    belligerents: Belligerents, theaters: Theaters, rules: ForcesRules, forces_plan: ForcesPlan,
    state: ForcesState, *, power: np.ndarray, enemy_held_km2: np.ndarray, support: np.ndarray,
    wounded_returning: np.ndarray, withdrawing: np.ndarray | None = None,
) -> ForcesState:
    """Train, commit and (for `withdraw`, or where a trigger has side a `withdrawing`) pull back
    one week of personnel."""
    recruits = belligerents.mobilization_per_week * clip(
        support / belligerents.initial_support, 0.0, SUPPORT_FACTOR_CAP)
    graduates = state.in_training * forces_plan.graduation_per_week
    in_training = state.in_training + recruits + wounded_returning - graduates

    # Forces on the enemy's soil with no ground left there have been pushed back across the
    # line: they return to reserves (and, below, get no more reinforcements).
    # forces * (0/1 mask) rather than np.where: forces are finite and non-negative, so the
    # product is the same number (or 0.0) at a fraction of the cost over (2, J, n).
    kept = ~forces_plan.on_enemy_soil | (enemy_held_km2 > 0)
    if forces_plan.opens_after is not None:
        kept |= opened(forces_plan, enemy_held_km2)
    forces = state.forces * kept
    available = state.reserves + graduates + (state.forces - forces).sum(axis=1)
    if forces_plan.withdraw:
        withdrawn = np.minimum(forces[SIDE_A], forces_plan.withdrawal_per_week)
        forces[SIDE_A] -= withdrawn
        available[SIDE_A] += withdrawn.sum(axis=0)
    elif withdrawing is not None:
        withdrawn = np.minimum(forces[SIDE_A], forces_plan.withdrawal_per_week) * withdrawing
        forces[SIDE_A] -= withdrawn
        available[SIDE_A] += withdrawn.sum(axis=0)

    share = allocation_shares(theaters.reinforcement_weight, power, enemy_held_km2,
                              forces_plan, rules.salient_hold_reinforcement, allowed=kept,
                              withdrawing=withdrawing)
    deployable = rules.deploy_share_per_week * available
    deployed = deployable[:, None, :] * share
    return ForcesState(
        forces=forces + deployed,
        reserves=available - deployed.sum(axis=1),
        in_training=in_training,
    )
