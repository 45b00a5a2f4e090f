"""Ladder: the step-by-step de-escalation measures of seed 000, as a state machine.

Seed 000: build on the near-deal on Black Sea shipping and the planned talks on a ban on strikes
against civilian infrastructure; then rear areas off-limits to deep strikes, disengagement zones
along the front as ceasefire trials, no incursions across the undisputed border, and so to a
ceasefire and a durable peace. It is worth testing the waters even though Russia's willingness
is highly uncertain. Fortna (2004): ceasefires with more built-in measures last longer.

State: how many of the ordinary rungs (every rung but the ceasefire) are in force, counted from
the bottom, and whether the ceasefire is in force. Ordinary rungs in force always form the bottom
of the ladder: a violation drops every rung above the violated one and adoption takes the lowest
rung missing. Only if the policy pursues the ladder, and in any week before a settlement (the
measures are negotiated in their own channels, as the shipping and Qatar talks were, not only
once full talks are open):

- violations first: each ordinary rung in force is violated with probability
  violation_per_week (independently); the ladder drops back below the lowest violated rung.
  One uniform draw decides it, through the distribution of the lowest violated rung,
  P(lowest = k) = v_k * prod_{s < k} (1 - v_s);
- a ceasefire in force breaks with weekly probability
  1 - (1 - ceasefire_relapse_per_week * exp(-relapse_reduction_per_rung * lower rungs in force))
    * (1 - violation_per_week of the ceasefire rung),
  the first term the structural relapse Fortna's measures reduce, the second an incident;
- then the lowest rung not in force is adopted with probability
  1 - exp(-adoption_per_week * (1 + pressure_effect * weariness)),
  weariness = mean over the two sides of clip(1 - support / initial support, 0, 1),
  except that a rung with `ripe_below_line_movement` is adopted only in weeks when the line's
  recent movement is below it (Zartman's hurting stalemate: a side still gaining ground does
  not agree to stop). Recent movement is a moving average (this week's weight
  LINE_MEMORY_WEIGHT, about a month's memory) of the ground that changed hands in all
  theaters, as a share of side a's territory; it starts at week 0's movement.

Effects (strengths of rungs in force, read by the other mechanisms): shipping (side a's cost of
war x (1 - s)), energy_strike_ban (strike damage x (1 - s)), deep_strike_ban (escalation hazard and
the lifted-restrictions cut of b's power x (1 - s)), disengagement (attrition and advance in every
theater x (1 - s)), no_incursions (attrition and advance in salient theaters x (1 - s)),
ceasefire (status CEASEFIRE: no combat, no advance, no strikes, no escalation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from offramp.engine import vector_math
from offramp.engine.inputs import FLOAT, LadderRules, Levers
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.state import CEASEFIRE, SETTLED, WAR
from offramp.engine.vector_math import F32, Array, full, inline, jit

LINE_MEMORY_WEIGHT = 0.25
"""Weight of this week in the moving average of the line's movement (as for casualties)."""


@dataclass(frozen=True)
class LadderPlan:
    pursued: bool
    ordinary: tuple[int, ...]  # rung indices of the ordinary rungs, in ladder order
    ceasefire_rung: int | None  # index of the ceasefire rung (None: the ladder has none)
    ordinary_below_ceasefire: int  # ordinary rungs listed before the ceasefire
    violation_cdf: np.ndarray  # (m, n) P(lowest violated ordinary rung <= k)
    ordinary_adoption: np.ndarray  # (m + 1, n) adoption per week by level, 0 when all are in
    top_by_level: np.ndarray  # (m + 1,) 1-based index of the highest ordinary rung in force
    position: dict[int, int]  # rung index -> position among the ordinary rungs
    ordinary_ripeness: np.ndarray | None  # (m + 1, n) line movement below which each level's
    # next rung is agreed (inf: any); None when no rung waits for a stalemate


@dataclass(frozen=True)
class LadderState:
    level: np.ndarray  # (n,) number of ordinary rungs in force, from the bottom
    ceasefire: np.ndarray  # (n,) bool: the ceasefire rung is in force
    top_rung: np.ndarray  # (n,) 1-based index of the highest rung in force now, 0 none
    highest_rung: np.ndarray  # (n,) 1-based index of the highest rung ever in force, 0 none
    line_movement: np.ndarray  # (n,) recent ground changing hands a week, share of a's land


def in_force(ladder_plan: LadderPlan, state: LadderState) -> np.ndarray:
    """(L, n) bool: which rungs are in force (for tests and diagnostics)."""
    rungs = len(ladder_plan.ordinary) + (ladder_plan.ceasefire_rung is not None)
    result = np.zeros((rungs, state.level.shape[0]), dtype=bool)
    for rung, position in ladder_plan.position.items():
        result[rung] = state.level > position
    if ladder_plan.ceasefire_rung is not None:
        result[ladder_plan.ceasefire_rung] = state.ceasefire
    return result


def plan(ladder: LadderRules, levers: Levers) -> LadderPlan:
    ceasefire = next((r for r, e in enumerate(ladder.effects) if e == "ceasefire"), None)
    ordinary = tuple(r for r in range(ladder.count) if r != ceasefire)
    n = ladder.pressure_effect.shape[-1]
    survive = np.cumprod(1.0 - ladder.violation_per_week[list(ordinary)], axis=0)
    return LadderPlan(
        pursued=levers.pursue_ladder and ladder.count > 0,
        ordinary=ordinary,
        ceasefire_rung=ceasefire,
        ordinary_below_ceasefire=sum(r < ceasefire for r in ordinary) if ceasefire is not None
        else len(ordinary),
        violation_cdf=(1.0 - survive).reshape(len(ordinary), n),
        ordinary_adoption=np.concatenate([ladder.adoption_per_week[list(ordinary)]
                                          .reshape(len(ordinary), n),
                                          np.zeros((1, n), dtype=ladder.adoption_per_week.dtype)]),
        top_by_level=np.array([0] + [r + 1 for r in ordinary], dtype=np.int16),
        position={r: k for k, r in enumerate(ordinary)},
        ordinary_ripeness=None if ladder.ripe_below_line_movement is None else np.concatenate(
            [ladder.ripe_below_line_movement[list(ordinary)].reshape(len(ordinary), n),
             np.full((1, n), np.inf, dtype=ladder.ripe_below_line_movement.dtype)]),
    )


def initial_state(ladder: LadderRules, ladder_plan: LadderPlan) -> LadderState:
    n = ladder.pressure_effect.shape[-1]
    zeros = np.zeros(n, dtype=np.int16)
    return LadderState(level=zeros, ceasefire=np.zeros(n, dtype=bool), top_rung=zeros,
                       highest_rung=zeros, line_movement=np.zeros(n, dtype=FLOAT))


def effect_rungs(ladder: LadderRules, ladder_plan: LadderPlan, effect: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(rungs, positions): the rungs of one kind of measure and each one's ordinary position
    (-1: the ceasefire rung, in force where `ceasefire` is); none if the ladder is not pursued."""
    rungs = [rung for rung, rung_effect in enumerate(ladder.effects) if rung_effect == effect] \
        if ladder_plan.pursued else []
    positions = [-1 if rung == ladder_plan.ceasefire_rung else ladder_plan.position[rung]
                 for rung in rungs]
    return np.array(rungs, dtype=np.intp), np.array(positions, dtype=np.intp)


def effect_strength(ladder: LadderRules, ladder_plan: LadderPlan, state: LadderState, effect: str
                    ) -> np.ndarray | float:
    """Strength in force of one kind of measure ((n,) in [0, 1], or 0.0 if never adopted)."""
    rungs, positions = effect_rungs(ladder, ladder_plan, effect)
    if not rungs.shape[0]:
        return 0.0
    total = np.empty(state.level.shape[0], dtype=FLOAT)
    _effect_strength_kernel(ladder.strength, rungs, positions, state.level, state.ceasefire,
                            total)
    return total


def weariness(support: np.ndarray, initial_support: np.ndarray) -> np.ndarray:
    """Mean over both sides of the relative fall in support for fighting, in [0, 1]."""
    support = np.ascontiguousarray(support, dtype=FLOAT)
    initial = full(initial_support, support.shape)
    mean_fall = np.empty(support.shape[1:], dtype=FLOAT)
    _weariness_kernel(support, initial, mean_fall)
    return mean_fall


def step(
    ladder: LadderRules, relapse_per_week: np.ndarray, ladder_plan: LadderPlan,
    state: LadderState, *, status: np.ndarray, support: np.ndarray, initial_support: np.ndarray,
    line_moved: np.ndarray | None, noise: NoiseSource, week: int,
    adoption_multiplier: np.ndarray | None = None,
) -> tuple[LadderState, np.ndarray]:
    """Violations, ceasefire relapse and adoption for one week; returns (state, status).

    `line_moved` (n,) is this week's ground changing hands as a share of a's territory (needed
    only when a rung waits for a stalemate)."""
    if not ladder_plan.pursued:
        return state, status
    lp = ladder_plan
    draw = np.ascontiguousarray(noise.uniforms(Stream.LADDER, week, 3))
    n = draw.shape[-1]
    c = -1 if lp.ceasefire_rung is None else lp.ceasefire_rung
    ripeness = lp.ordinary_ripeness
    if ripeness is not None:
        # Both are given whenever a rung waits for a stalemate (ordinary_ripeness is set).
        assert line_moved is not None and ladder.ripe_below_line_movement is not None
    level = np.empty(n, dtype=state.level.dtype)
    ceasefire = np.empty(n, dtype=bool)
    top = np.empty(n, dtype=np.int16)
    highest = np.empty(n, dtype=np.int16)
    movement = np.empty(n, dtype=FLOAT) if ripeness is not None else state.line_movement
    status_out = np.empty_like(status)
    _step_kernel(
        draw, status, state.level, state.ceasefire, state.highest_rung, state.line_movement,
        lp.violation_cdf, lp.ordinary_adoption, lp.top_by_level, c, lp.ordinary_below_ceasefire,
        relapse_per_week, ladder.relapse_reduction_per_rung, ladder.violation_per_week[c],
        ladder.adoption_per_week[c], ripeness,
        None if ripeness is None or ladder.ripe_below_line_movement is None
        else ladder.ripe_below_line_movement[c],
        line_moved, week, support, full(initial_support, support.shape),
        ladder.pressure_effect, adoption_multiplier,
        level, ceasefire, top, highest, movement, status_out)
    return LadderState(level=level, ceasefire=ceasefire, top_rung=top, highest_rung=highest,
                       line_movement=movement), status_out if c >= 0 else status


@inline
def _weariness(support_a: Any, support_b: Any, initial_a: Any, initial_b: Any) -> Any:
    fall_a = min(max(F32(1.0) - support_a / max(initial_a, F32(1e-9)), F32(0.0)), F32(1.0))
    fall_b = min(max(F32(1.0) - support_b / max(initial_b, F32(1e-9)), F32(0.0)), F32(1.0))
    return (fall_a + fall_b) / F32(2.0)


@jit
def _weariness_kernel(support: Array, initial_support: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = _weariness(support[0, i], support[1, i], initial_support[0, i],
                            initial_support[1, i])


@jit
def _effect_strength_kernel(strength: Array, rungs: Array, positions: Array, level: Array,
                            ceasefire: Array, total: Array) -> None:
    n = total.shape[0]
    for i in range(n):
        total[i] = F32(0.0)
    for j in range(rungs.shape[0]):
        rung = rungs[j]
        position = positions[j]
        for i in range(n):
            in_force = ceasefire[i] if position < 0 else level[i] > position
            total[i] = total[i] + strength[rung, i] * F32(in_force)
    for i in range(n):
        total[i] = min(total[i], F32(1.0))


@jit
def _step_kernel(
    draw: Array, status: Array, level: Array, ceasefire: Array, highest_rung: Array,
    line_movement: Array, violation_cdf: Array, ordinary_adoption: Array, top_by_level: Array,
    ceasefire_rung: int, ordinary_below_ceasefire: int, relapse_per_week: Array,
    relapse_reduction: Array, ceasefire_violation: Array, ceasefire_adoption: Array,
    ordinary_ripeness: Array | None, ceasefire_ripeness: Array | None,
    line_moved: Array | None, week: int, support: Array, initial_support: Array,
    pressure_effect: Array, adoption_multiplier: Array | None,
    level_out: Array, ceasefire_out: Array, top_out: Array, highest_out: Array,
    movement_out: Array, status_out: Array,
) -> None:
    n = draw.shape[1]
    has_ceasefire = ceasefire_rung >= 0
    ripening = ordinary_ripeness is not None and line_moved is not None
    # Rows of the (m + 1, n) tables picked by each future's level are selected row by row (a
    # loop over futures with a per-future row index would not vectorize).
    rate = np.empty(n, dtype=np.float32)
    ripe_below = np.empty(n if ripening else 0, dtype=np.float32)
    next_is_ceasefire = np.empty(n, dtype=np.bool_)
    # the lowest violated ordinary rung: how many of the cdf's rows the draw passes
    for i in range(n):
        level_out[i] = 0
    for k in range(violation_cdf.shape[0]):
        for i in range(n):
            level_out[i] += violation_cdf[k, i] <= draw[2, i]
    for i in range(n):
        lowest = level_out[i]
        now = lowest if (status[i] != SETTLED) & (lowest < level[i]) else level[i]
        in_ceasefire = ceasefire[i]
        next_rung_is_ceasefire = False
        if has_ceasefire:
            lower_in_force = F32(min(now, ordinary_below_ceasefire))
            structural = relapse_per_week[i] * vector_math.exp(-relapse_reduction[i]
                                                               * lower_in_force)
            breaks = F32(1.0) - (F32(1.0) - structural) * (F32(1.0) - ceasefire_violation[i])
            in_ceasefire = in_ceasefire & (not draw[1, i] < breaks)
            next_rung_is_ceasefire = (not in_ceasefire) & (now >= ordinary_below_ceasefire)
        level_out[i] = now
        ceasefire_out[i] = in_ceasefire
        next_is_ceasefire[i] = next_rung_is_ceasefire
    for row in range(ordinary_adoption.shape[0]):
        for i in range(n):
            rate[i] = ordinary_adoption[row, i] if level_out[i] == row else rate[i]
    if ordinary_ripeness is not None and ripening:
        for row in range(ordinary_ripeness.shape[0]):
            for i in range(n):
                ripe_below[i] = ordinary_ripeness[row, i] if level_out[i] == row \
                    else ripe_below[i]
    for i in range(n):
        active = status[i] != SETTLED
        in_ceasefire = ceasefire_out[i]
        next_rung_is_ceasefire = next_is_ceasefire[i]
        adoption = rate[i]
        if has_ceasefire:
            adoption = ceasefire_adoption[i] if next_rung_is_ceasefire else adoption
        if ripening and line_moved is not None:
            movement = F32(line_moved[i]) if week == 0 else \
                line_movement[i] + F32(LINE_MEMORY_WEIGHT) * (line_moved[i] - line_movement[i])
            ripe = ripe_below[i]
            if has_ceasefire and ceasefire_ripeness is not None:
                ripe = ceasefire_ripeness[i] if next_rung_is_ceasefire else ripe
            adoption = adoption if movement < ripe else F32(0.0)
            movement_out[i] = movement
        pressure = F32(1.0) + pressure_effect[i] * _weariness(
            support[0, i], support[1, i], initial_support[0, i], initial_support[1, i])
        if adoption_multiplier is not None:  # side b's own rules (engine.policy.OpponentRules)
            pressure = pressure * adoption_multiplier[i]
        adopted = active & (draw[0, i] < -vector_math.expm1(-adoption * pressure))
        if has_ceasefire:
            in_ceasefire = in_ceasefire | (adopted & next_rung_is_ceasefire)
            adopted = adopted & (not next_rung_is_ceasefire)
            status_out[i] = SETTLED if status[i] == SETTLED else \
                (CEASEFIRE if in_ceasefire else WAR)
        level_out[i] = level_out[i] + adopted
        ceasefire_out[i] = in_ceasefire
    for row in range(top_by_level.shape[0]):
        top_of_row = top_by_level[row]
        for i in range(n):
            top_out[i] = top_of_row if level_out[i] == row else top_out[i]
    for i in range(n):
        top = top_out[i]
        if has_ceasefire:
            top = max(top, ceasefire_rung + 1) if ceasefire_out[i] else top
        top_out[i] = top
        highest_out[i] = max(highest_rung[i], top)
