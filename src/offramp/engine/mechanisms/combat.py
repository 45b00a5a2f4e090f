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
from typing import Any

import numpy as np

from offramp.engine import vector_math
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
from offramp.engine.vector_math import F32, Array, full, inline, jit

RECENT_WEIGHT = 0.25
"""Weight of this week in the moving average of casualties (about a month's memory)."""
_RECENT_WEIGHT = F32(RECENT_WEIGHT)
_TINY = 1e-9
_LOG_FLOOR = F32(-1e6)  # log of a zero density (vector_math.LOG_OF_ZERO)


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
    stock, wanted, exponent = (np.asarray(values, dtype=FLOAT).ravel() for values in
                               np.broadcast_arrays(shell_stock, need, elasticity))
    support = np.empty(stock.shape, dtype=FLOAT)
    fired = np.empty(stock.shape, dtype=FLOAT)
    _fire_support_kernel(stock, wanted, exponent, support, fired)
    shape = np.broadcast_shapes(np.shape(shell_stock), np.shape(need), np.shape(elasticity))
    return support.reshape(shape), fired.reshape(shape)


@inline
def _fire_support_one(stock: float, need: float, elasticity: float) -> tuple[float, float]:
    """(fire support, rounds fired) of one side in one future (1 when nothing is needed)."""
    fired = min(stock, need)
    ratio = fired / need if need > F32(0.0) else F32(1.0)
    return vector_math.power(ratio, elasticity), fired


@jit
def _fire_support_kernel(stock: Array, need: Array, elasticity: Array, support_out: Array,
                         fired_out: Array) -> None:
    for i in range(stock.shape[0]):
        support_out[i], fired_out[i] = _fire_support_one(stock[i], need[i], elasticity[i])


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
    sides, theaters, n = forces.shape
    z = noise.normals(Stream.COMBAT, week, sides * theaters)
    draw = None if rules.rout is None else noise.uniforms(Stream.ROUT, week, sides * theaters)
    kept = strength_kept(combat_plan, enemy_held_km2) if enemy_held_km2 is not None else None

    def per_side(values: np.ndarray) -> np.ndarray:
        return full(values, (2, n))

    def per_future(values: np.ndarray | float) -> np.ndarray:
        return full(values, (n,))

    def by_theater(values: np.ndarray) -> np.ndarray:
        return full(values, (2, theaters, n))

    rout_rules = rules.rout
    if rout_rules is None:  # unused by the kernel
        power_ratio = chance_per_week = captured_share = per_future(0.0)
    else:
        power_ratio, chance_per_week, captured_share = (per_future(values) for values in (
            rout_rules.power_ratio, rout_rules.chance_per_week, rout_rules.captured_share))
    fixed = combat_plan.fixed_attacker
    power = np.empty((2, theaters, n), dtype=FLOAT)
    forces_after = np.empty((2, theaters, n), dtype=FLOAT)
    stock_after = np.empty((2, n), dtype=FLOAT)
    casualties = np.empty((2, n), dtype=FLOAT)
    casualties_total = np.empty((2, n), dtype=FLOAT)
    killed_total = np.empty((2, n), dtype=FLOAT)
    recent = np.empty((2, n), dtype=FLOAT)
    reference = np.empty((2, n), dtype=FLOAT) if week == 0 else state.reference_casualties
    wounded_returning = np.empty((2, n), dtype=FLOAT)
    support = np.empty((2, n), dtype=FLOAT)
    routed = None if rout_rules is None else np.empty((2, theaters, n), dtype=np.bool_)
    _step_kernel(
        by_theater(forces), per_side(shell_stock), per_future(at_war),
        full(damp, (theaters, n)), per_side(belligerents.shells_needed_per_soldier_week),
        per_side(belligerents.combat_quality), per_side(belligerents.fire_elasticity),
        None if np.isscalar(logistics_hit) and logistics_hit == 0.0
        else per_future(logistics_hit),
        None if b_intensity is None else per_future(b_intensity),
        None if kept is None else by_theater(kept),
        full(combat_plan.log_scale, (theaters, n)),
        per_future(combat_plan.log_attacker_multiplier), combat_plan.floor_logs,
        None if fixed is None else np.ascontiguousarray(fixed[:, :, 0]),
        None if combat_plan.has_fixed_attacker is None
        else np.ascontiguousarray(combat_plan.has_fixed_attacker[:, 0]),
        per_future(rules.firer_exponent), per_future(rules.target_exponent),
        per_future(rules.noise_sd), z.reshape(2, theaters, n),
        None if draw is None else draw.reshape(2, theaters, n),
        power_ratio, chance_per_week, captured_share,
        per_future(rules.killed_share), per_future(rules.wounded_return_share),
        per_side(state.casualties_total), per_side(state.killed_total),
        per_side(state.recent_casualties),
        power, forces_after, stock_after, casualties, casualties_total, killed_total, recent,
        reference if week == 0 else None, wounded_returning, support, routed)
    new_state = CombatState(
        power=power, casualties_total=casualties_total, killed_total=killed_total,
        recent_casualties=recent, reference_casualties=reference,
        wounded_returning=wounded_returning, fire_support=support,
    )
    return CombatResult(new_state, forces_after, stock_after, casualties, routed)


@jit
def _step_kernel(
    forces: Array, shell_stock: Array, at_war: Array, damp: Array, shells_needed: Array,
    quality: Array, elasticity: Array, logistics_hit: Array | None, b_intensity: Array | None,
    kept: Array | None, log_scale: Array, log_attacker_multiplier: Array, floor_logs: bool,
    fixed_attacker: Array | None, has_fixed_attacker: Array | None, firer_exponent: Array,
    target_exponent: Array, noise_sd: Array, z: Array, draw: Array | None,
    power_ratio: Array, chance_per_week: Array, captured_share: Array,
    killed_share: Array, wounded_return_share: Array, casualties_total: Array,
    killed_total: Array, recent: Array,
    power_out: Array, forces_out: Array, stock_out: Array, casualties_out: Array,
    casualties_total_out: Array, killed_total_out: Array, recent_out: Array,
    reference_out: Array | None, wounded_out: Array, support_out: Array,
    routed_out: Array | None,
) -> None:
    theaters, n = forces.shape[1], forces.shape[2]
    per_soldier = np.empty((2, n), dtype=np.float32)  # power per soldier
    log_per_soldier = np.empty((2, n), dtype=np.float32)
    attrition = np.zeros((2, n), dtype=np.float32)
    # Fire support from the shells needed by all of a side's forces, then power per soldier
    # (side b's cut by deep strikes on its logistics and scaled by its offensive push).
    for side in range(2):
        for i in range(n):
            per_soldier[side, i] = forces[side, 0, i]
            casualties_out[side, i] = F32(0.0)
        for j in range(1, theaters):
            for i in range(n):
                per_soldier[side, i] += forces[side, j, i]
        for i in range(n):
            need = shells_needed[side, i] * per_soldier[side, i] * at_war[i]
            fire, fired = _fire_support_one(shell_stock[side, i], need, elasticity[side, i])
            support_out[side, i] = fire
            stock_out[side, i] = shell_stock[side, i] - fired
            value = quality[side, i] * fire
            if side == SIDE_B:
                if logistics_hit is not None:
                    value *= F32(1.0) - logistics_hit[i]
                if b_intensity is not None:
                    value *= b_intensity[i]
            per_soldier[side, i] = value
            log_per_soldier[side, i] = vector_math.log(value)
    # Casualties of each side in each theater: lanchester_casualties(...) * attacker multiplier
    # * lognormal shock, as one exp of a sum of logs (log_scale + q ln E_enemy + p ln F_own
    # + noise_sd z + attacking ln multiplier, in that order); ln 0 is _LOG_FLOOR (exp: 0).
    # One side at a time (the loop stays small enough to vectorize), the enemy's power
    # recomputed from its forces; each force's log taken once (it is one side's target and the
    # other's enemy).
    log_forces = np.empty((2, theaters, n), dtype=np.float32)
    for side in range(2):
        for j in range(theaters):
            for i in range(n):
                log_forces[side, j, i] = vector_math.log(forces[side, j, i])
    for side in range(2):
        enemy = 1 - side
        for j in range(theaters):
            fixed_here, fixed = False, False  # a `defender` fixes the attacker
            if fixed_attacker is not None and has_fixed_attacker is not None:  # both or neither
                fixed_here, fixed = has_fixed_attacker[j], fixed_attacker[side, j]
            for i in range(n):
                own_forces = forces[side, j, i]
                enemy_forces = forces[enemy, j, i]
                own_power = own_forces * per_soldier[side, i]
                enemy_power = enemy_forces * per_soldier[enemy, i]
                log_enemy_power = log_per_soldier[enemy, i] + log_forces[enemy, j, i]
                if kept is not None:
                    own_power *= kept[side, j, i]
                    enemy_power *= kept[enemy, j, i]
                    log_enemy_power += vector_math.log(kept[enemy, j, i])
                if floor_logs:
                    log_enemy_power = max(log_enemy_power, _LOG_FLOOR)
                power_out[side, j, i] = own_power
                attacking = fixed if fixed_here else own_power > enemy_power
                exponent = firer_exponent[i] * log_enemy_power + log_scale[j, i] \
                    + target_exponent[i] * log_forces[side, j, i] \
                    + noise_sd[i] * z[side, j, i] + F32(attacking) * log_attacker_multiplier[i]
                lost = min(own_forces, vector_math.exp(exponent) * damp[j, i])
                attrition[side, i] += lost
                if draw is not None and routed_out is not None:
                    routed, captured = _rout_one(
                        own_power, enemy_power, own_forces - lost, damp[j, i], draw[side, j, i],
                        power_ratio[i], chance_per_week[i], captured_share[i])
                    routed_out[side, j, i] = routed
                    lost += captured
                forces_out[side, j, i] = own_forces - lost
                casualties_out[side, i] += lost
    # Totals, the moving average (week 0: the reference) and the wounded who come back.
    for side in range(2):
        for i in range(n):
            lost = casualties_out[side, i]
            casualties_total_out[side, i] = casualties_total[side, i] + lost
            killed_total_out[side, i] = killed_total[side, i] \
                + attrition[side, i] * killed_share[i]
            if reference_out is not None:
                reference_out[side, i] = max(lost, F32(1.0))
                recent_out[side, i] = lost
            else:
                recent_out[side, i] = recent[side, i] + _RECENT_WEIGHT * (lost - recent[side, i])
            wounded = attrition[side, i] * (F32(1.0) - killed_share[i])
            wounded_out[side, i] = wounded * wounded_return_share[i]


def rout(rules: RoutRules, power: np.ndarray, standing: np.ndarray, damp: np.ndarray,
         noise: NoiseSource, week: int) -> tuple[np.ndarray, np.ndarray]:
    """(routed (2, J, n) bool, captured (2, J, n) personnel): forces outmatched by
    `power_ratio` or more break with `chance_per_week`; a broken force loses `captured_share`
    of what still stands after the week's attrition."""
    draw = noise.uniforms(Stream.ROUT, week, power.shape[0] * power.shape[1])
    shape, futures = power.shape, power.shape[-1:]
    routed = np.empty(shape, dtype=np.bool_)
    captured = np.empty(shape, dtype=FLOAT)
    _rout_kernel(full(power, shape), full(standing, shape),
                 full(damp, shape[1:]), draw.reshape(shape),
                 full(rules.power_ratio, futures),
                 full(rules.chance_per_week, futures),
                 full(rules.captured_share, futures), routed, captured)
    return routed, captured


@inline
def _rout_one(own_power: float, enemy_power: float, standing: float, damp: float, draw: float,
              power_ratio: float, chance: float, captured_share: float) -> tuple[Any, Any]:
    """(broke, captured) for one force: outmatched by the ratio (no power, no rout), the draw
    under the chance and some fighting."""
    outmatched = (enemy_power >= power_ratio * own_power) & (enemy_power > F32(0.0))
    routed = outmatched & (draw < chance) & (damp > F32(0.0))
    return routed, F32(routed) * captured_share * standing * damp


@jit
def _rout_kernel(power: Array, standing: Array, damp: Array, draw: Array, power_ratio: Array,
                 chance: Array, captured_share: Array, routed_out: Array, captured_out: Array
                 ) -> None:
    for side in range(2):
        for j in range(power.shape[1]):
            for i in range(power.shape[2]):
                routed_out[side, j, i], captured_out[side, j, i] = _rout_one(
                    power[side, j, i], power[1 - side, j, i], standing[side, j, i], damp[j, i],
                    draw[side, j, i], power_ratio[i], chance[i], captured_share[i])


def pursuit(rules: CombatRules, routed: np.ndarray | None) -> np.ndarray | float:
    """(J, n) multiplier on the advance in each theater: `pursuit_multiplier` where a side broke
    this week, 1 elsewhere (1.0 without rout rules)."""
    if routed is None or rules.rout is None:
        return 1.0
    multiplier = np.empty(routed.shape[1:], dtype=FLOAT)
    _pursuit_kernel(routed, full(rules.rout.pursuit_multiplier, routed.shape[2:]), multiplier)
    return multiplier


@jit
def _pursuit_kernel(routed: Array, pursuit_multiplier: Array, out: Array) -> None:
    for j in range(out.shape[0]):
        for i in range(out.shape[1]):
            broke = routed[SIDE_A, j, i] | routed[SIDE_B, j, i]
            out[j, i] = pursuit_multiplier[i] if broke else F32(1.0)
