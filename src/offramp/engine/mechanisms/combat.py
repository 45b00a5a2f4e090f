"""Combat: generalized Lanchester attrition per theater and week, with fire support from stocks.

Seeds: 003 notes defence's unexpected advantages in positional war, Ukraine's need for at
least 75,000 shells a month to hold, Russia's far larger output; it asks to lift restrictions on
Western weapons so Ukraine can strike Russian logistics. 000 notes the high intensity of the
fighting.

Per side X against Y in theater j (W = frontage_km, F personnel, all arrays (2, J, n)):

    need_X        = shells_needed_per_soldier_week * sum_j F_Xj     (rounds/week; 0 if no war)
    fired_X       = min(shell stock_X, need_X)
    fire_support  = (fired / need) ** fire_elasticity               (1 when nothing is needed)
    E_Xj          = F_Xj * combat_quality_X * fire_support_X * m_X
    m_b           = 1 - lifted_restrictions_effectiveness * lifted   (deep strikes on logistics)
    lifted        = 1 if side a lifted restrictions, times (1 - strength) of a rear-area rung
    casualties_Xj = attrition_per_week * W * (E_Yj / (W d)) ** q * (F_Xj / (W d)) ** p
                    * (attacker_loss_multiplier if X attacks in j) * damp_j * noise_Xj
    noise         = exp(noise_sd * z - noise_sd**2 / 2),  z ~ N(0, 1)  (mean one)

with q = firer_exponent, p = target_exponent, d = the reference density at which attrition is
stated (1 personnel/km in the scenario language, i.e. Bracken's (1995) law on densities), and the
attacker the side with the greater combat power in the theater this week (in a theater with a
`defender`: always the other side). `damp_j` is 0 outside war (ceasefire, settlement) and
(1 - strength) of the disengagement rung and, in salient theaters, of the no-incursions rung.
Casualties never exceed the forces present. killed = killed_share * casualties; of the wounded,
wounded_return_share re-enter the training pipeline next week (recovery and retraining are one
first-order delay of training_weeks).

Rout (optional, scenario section `combat.rout`; without it no force ever breaks). A force facing
at least `power_ratio` times its own combat power in a theater breaks that week with
probability `chance_per_week` (one uniform per side and theater, stream ROUT):

    routed_Xj   = [E_Yj >= power_ratio * E_Xj] * [E_Yj > 0] * [u_Xj < chance_per_week]
    captured_Xj = routed_Xj * captured_share * (F_Xj - casualties_Xj) * damp_j

The captured (prisoners, missing, dispersed) count as casualties but are neither killed nor
wounded: none come back. The territory mechanism multiplies the winner's advance in that
theater by `pursuit_multiplier` in the week of the rout. It stands for what attrition cannot
produce, a fast and lopsided defeat (Warsaw and the Niemen, 1920: some 80,000 Soviet prisoners);
the threshold reads Dupuy's and Helmbold's observation that forces break off or collapse well
before they are destroyed.

Loss of strength with depth (optional theater field `occupier_strength_loss`; without it none):
the side holding ground on the other's soil keeps 1 - loss_j * held_j / contested_area_km2_j of
its power in theater j, in E and in the power that decides attack roles and the advance
(Boulding's loss-of-strength gradient: an army deep in enemy country fights at the end of its
supply lines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    SIDE_B,
    Belligerents,
    CombatRules,
    RoutRules,
    Theaters,
)
from offramp.engine.noise import NoiseSource, Stream

RECENT_WEIGHT = 0.25
"""Weight of this week in the moving average of casualties (about a month's memory)."""
_TINY = 1e-9
_LOG_FLOOR = -1e6  # log of a zero density


@dataclass(frozen=True)
class CombatState:
    power: np.ndarray  # (2, J, n) combat power last week (for threat and attack roles)
    casualties_total: np.ndarray  # (2, n) since week 0
    killed_total: np.ndarray  # (2, n)
    recent_casualties: np.ndarray  # (2, n) per week, moving average
    reference_casualties: np.ndarray  # (2, n) per week, week 0's (intensity = recent / reference)
    wounded_returning: np.ndarray  # (2, n) personnel back to the training pipeline next week
    fire_support: np.ndarray  # (2, n) last week's


@dataclass(frozen=True)
class CombatResult:
    state: CombatState
    forces: np.ndarray  # (2, J, n) after losses
    shell_stock: np.ndarray  # (2, n) after firing
    casualties: np.ndarray  # (2, n) this week
    routed: np.ndarray | None = None  # (2, J, n) bool: broke this week (None: no rout rules)


def initial_state(belligerents: Belligerents, theaters: Theaters) -> CombatState:
    n = belligerents.reserves.shape[-1]
    zeros = np.zeros((2, n), dtype=FLOAT)
    return CombatState(
        power=theaters.initial_forces * belligerents.combat_quality[:, None, :],
        casualties_total=zeros, killed_total=zeros, recent_casualties=zeros,
        reference_casualties=np.ones((2, n), dtype=FLOAT), wounded_returning=zeros,
        fire_support=np.ones((2, n), dtype=FLOAT),
    )


def fire_support(shell_stock: np.ndarray, need: np.ndarray, elasticity: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(fire support in [0, 1], rounds fired): min(1, fired / needed) ** elasticity."""
    fired = np.minimum(shell_stock, need)
    if (need > 0).all():  # everyone is fighting: a plain division gives the same bits
        ratio = fired / need
    else:
        ratio = np.divide(fired, need, out=np.ones_like(need), where=need > 0)
    return np.power(ratio, elasticity), fired


def lanchester_casualties(
    attrition_per_week: np.ndarray, frontage_km: np.ndarray, enemy_power: np.ndarray,
    own_forces: np.ndarray, firer_exponent: np.ndarray, target_exponent: np.ndarray,
    reference_density_per_km: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Expected casualties per week: a * W * (E_enemy / (W d)) ** q * (F_own / (W d)) ** p.

    d is the reference density (1 per km in the scenario language).
    """
    reference_width = frontage_km * reference_density_per_km
    # Two logs and one exp cost half of two powers. The floor on the logs makes 0 ** q = 0
    # exactly for q > 0 (the exp underflows) and keeps 0 ** 0 = 1 (no NaN).
    with np.errstate(divide="ignore"):
        log_fire = np.maximum(np.log(enemy_power / reference_width), _LOG_FLOOR)
        log_target = np.maximum(np.log(own_forces / reference_width), _LOG_FLOOR)
    casualties: np.ndarray = attrition_per_week * frontage_km * np.exp(
        firer_exponent * log_fire + target_exponent * log_target)
    return casualties


@dataclass(frozen=True)
class CombatPlan:
    """Per-run constants of the casualty formula, in logs (see `step`)."""

    log_scale: np.ndarray  # (J, n) ln(a W) - (q + p) ln(W d) - noise_sd**2 / 2
    log_attacker_multiplier: np.ndarray  # (n,) floored at _LOG_FLOOR (finite: it is multiplied
    # by a 0/1 mask, and exp(x - 1e6) is 0 as exp(-inf) is)
    floor_logs: bool  # an exponent is exactly 0: keep 0 ** 0 = 1 by flooring the logs
    fixed_attacker: np.ndarray | None = None  # (2, J, 1) bool: side attacking in each theater
    has_fixed_attacker: np.ndarray | None = None  # (J, 1) bool: theaters with a defender
    occupier: np.ndarray | None = None  # (2, J, 1) 1.0 for the side whose soil j is not
    strain_per_km2: np.ndarray | None = None  # (J, n) occupier_strength_loss / contested area


def _floored_log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        floored: np.ndarray = np.maximum(np.log(values), _LOG_FLOOR)
        return floored


def plan(theaters: Theaters, rules: CombatRules) -> CombatPlan:
    reference_width = theaters.frontage_km * rules.reference_density_per_km
    exponents = rules.firer_exponent + rules.target_exponent
    return CombatPlan(
        log_scale=np.log(rules.attrition_per_week * theaters.frontage_km)
        - exponents * np.log(reference_width) - 0.5 * rules.noise_sd**2,
        log_attacker_multiplier=_floored_log(rules.attacker_loss_multiplier),
        floor_logs=bool((rules.firer_exponent == 0).any() or (rules.target_exponent == 0).any()),
        **_fixed_attackers(theaters),
        **_strain(theaters),
    )


def _strain(theaters: Theaters) -> dict[str, np.ndarray]:
    """CombatPlan fields for the occupier's loss of strength (no theater has it: {})."""
    if theaters.occupier_strength_loss is None:
        return {}
    occupier_side = 1 - np.array(theaters.soil_side)
    return {
        "occupier": np.stack([occupier_side == SIDE_A, occupier_side == SIDE_B]
                             ).astype(FLOAT)[:, :, None],
        "strain_per_km2": theaters.occupier_strength_loss / theaters.contested_area_km2,
    }


def strength_kept(combat_plan: CombatPlan, enemy_held_km2: np.ndarray) -> np.ndarray | None:
    """(2, J, n) share of each side's power it keeps in each theater: 1 - loss * held / area
    for the occupier, 1 for the owner (None without occupier_strength_loss)."""
    if combat_plan.occupier is None:
        return None
    kept: np.ndarray = 1.0 - combat_plan.occupier * (combat_plan.strain_per_km2 * enemy_held_km2)
    return kept


def _fixed_attackers(theaters: Theaters) -> dict[str, np.ndarray]:
    """CombatPlan fields for theaters whose attacker is fixed by a `defender` (none: {})."""
    if theaters.attacker_side is None:
        return {}
    side = np.array(theaters.attacker_side)
    return {
        "fixed_attacker": np.stack([side == SIDE_A, side == SIDE_B])[:, :, None],
        "has_fixed_attacker": (side >= 0)[:, None],
    }


def step(
    belligerents: Belligerents, rules: CombatRules, combat_plan: CombatPlan,
    state: CombatState, *, forces: np.ndarray, shell_stock: np.ndarray, at_war: np.ndarray,
    damp: np.ndarray, logistics_hit: np.ndarray | float, noise: NoiseSource, week: int,
    enemy_held_km2: np.ndarray | None = None, b_intensity: np.ndarray | None = None,
) -> CombatResult:
    """One week of fighting in every theater.

    `at_war` (n,) is 1 while fighting, 0 otherwise; `damp` (J, n) scales attrition per theater
    (already including `at_war`); `logistics_hit` (n,) is the cut in side b's power from side
    a's deep strikes; `enemy_held_km2` (J, n) is needed only for a loss of strength with depth;
    `b_intensity` (n,) multiplies side b's power per soldier (its own rules' offensive push).
    """
    need = belligerents.shells_needed_per_soldier_week * forces.sum(axis=1) * at_war
    support, fired = fire_support(shell_stock, need, belligerents.fire_elasticity)
    power_per_soldier = belligerents.combat_quality * support
    if not np.isscalar(logistics_hit) or logistics_hit != 0.0:
        power_per_soldier[SIDE_B] *= 1.0 - logistics_hit
    if b_intensity is not None:
        power_per_soldier[SIDE_B] *= b_intensity
    power = forces * power_per_soldier[:, None, :]
    kept = strength_kept(combat_plan, enemy_held_km2) if enemy_held_km2 is not None else None
    if kept is not None:
        power *= kept

    # lanchester_casualties(...) * attacker multiplier * lognormal shock, computed as one exp
    # of a sum of logs (half the work of the powers; the same numbers up to rounding).
    z = noise.normals(Stream.COMBAT, week, forces.shape[0] * forces.shape[1])
    with np.errstate(divide="ignore"):
        log_forces = np.log(forces)
        log_power = np.log(power_per_soldier)[:, None, :] + log_forces
    if kept is not None:
        with np.errstate(divide="ignore"):
            log_power += np.log(kept)
    if combat_plan.floor_logs:
        np.maximum(log_forces, _LOG_FLOOR, out=log_forces)
        np.maximum(log_power, _LOG_FLOOR, out=log_power)
    attacking = power > power[::-1]
    if combat_plan.fixed_attacker is not None:
        assert combat_plan.has_fixed_attacker is not None  # `_fixed_attackers` sets both
        attacking = np.where(combat_plan.has_fixed_attacker, combat_plan.fixed_attacker,
                             attacking)
    # exponent = log_scale + q log_power[::-1] + p log_forces + noise_sd z + attacking log_mult,
    # summed in that order in place (the same bits as one expression). The attacker term
    # is a product with the 0/1 mask: np.where over (2, J, n) costs ten times as much, and
    # adding a zero of either sign leaves every sum as it was (exp(-0) = exp(0)).
    exponent = rules.firer_exponent * log_power[::-1]
    exponent += combat_plan.log_scale
    exponent += np.multiply(rules.target_exponent, log_forces, out=log_forces)
    exponent += np.multiply(rules.noise_sd, z.reshape(forces.shape), out=log_power)
    exponent += np.multiply(attacking, combat_plan.log_attacker_multiplier, out=log_power)
    casualties_by_theater = np.exp(exponent, out=exponent)
    casualties_by_theater *= damp
    np.minimum(forces, casualties_by_theater, out=casualties_by_theater)
    attrition = casualties_by_theater.sum(axis=1)
    routed = None
    if rules.rout is not None:
        routed, captured = rout(rules.rout, power, forces - casualties_by_theater, damp,
                                noise, week)
        casualties_by_theater += captured
    casualties = casualties_by_theater.sum(axis=1)

    if week == 0:
        reference = np.maximum(casualties, 1.0)
        recent = casualties
    else:
        reference = state.reference_casualties
        recent = state.recent_casualties + RECENT_WEIGHT * (casualties
                                                            - state.recent_casualties)
    wounded = attrition * (1.0 - rules.killed_share)
    new_state = CombatState(
        power=power,
        casualties_total=state.casualties_total + casualties,
        killed_total=state.killed_total + attrition * rules.killed_share,
        recent_casualties=recent,
        reference_casualties=reference,
        wounded_returning=wounded * rules.wounded_return_share,
        fire_support=support,
    )
    return CombatResult(new_state, forces - casualties_by_theater, shell_stock - fired,
                        casualties, routed)


def rout(rules: RoutRules, power: np.ndarray, standing: np.ndarray, damp: np.ndarray,
         noise: NoiseSource, week: int) -> tuple[np.ndarray, np.ndarray]:
    """(routed (2, J, n) bool, captured (2, J, n) personnel): forces outmatched by
    `power_ratio` or more break with `chance_per_week`; a broken force loses `captured_share`
    of what still stands after the week's attrition."""
    draw = noise.uniforms(Stream.ROUT, week, power.shape[0] * power.shape[1])
    enemy = power[::-1]
    outmatched = (enemy >= rules.power_ratio * power) & (enemy > 0)  # no power, no rout
    routed = outmatched & (draw.reshape(power.shape) < rules.chance_per_week) & (damp > 0)
    return routed, routed * rules.captured_share * standing * damp


def pursuit(rules: CombatRules, routed: np.ndarray | None) -> np.ndarray | float:
    """(J, n) multiplier on the advance in each theater: `pursuit_multiplier` where a side broke
    this week, 1 elsewhere (1.0 without rout rules)."""
    if routed is None or rules.rout is None:
        return 1.0
    return np.where(routed.any(axis=0), rules.rout.pursuit_multiplier, 1.0).astype(FLOAT)
