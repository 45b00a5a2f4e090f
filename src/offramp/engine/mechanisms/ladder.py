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

import numpy as np

from offramp.engine.inputs import FLOAT, LadderRules, Levers, clip
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.state import CEASEFIRE, SETTLED, WAR

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
    n: int
    future_offset: np.ndarray  # (n,) 0..n-1, to pick one row per column of a flattened table
    ordinary_ripeness: np.ndarray | None  # (m + 1, n) line movement below which each level's
    # next rung is agreed (inf: any); None when no rung waits for a stalemate


@dataclass(frozen=True)
class LadderState:
    level: np.ndarray  # (n,) number of ordinary rungs in force, from the bottom
    ceasefire: np.ndarray  # (n,) bool: the ceasefire rung is in force
    top_rung: np.ndarray  # (n,) 1-based index of the highest rung in force now, 0 none
    highest_rung: np.ndarray  # (n,) 1-based index of the highest rung ever in force, 0 none
    line_movement: np.ndarray  # (n,) recent ground changing hands a week, share of a's land


def top_rung(ladder_plan: LadderPlan, level: np.ndarray, ceasefire: np.ndarray) -> np.ndarray:
    """(n,) 1-based index of the highest rung in force, 0 if none."""
    top = ladder_plan.top_by_level.take(level)
    if ladder_plan.ceasefire_rung is None:
        return top
    return np.where(ceasefire, np.maximum(top, ladder_plan.ceasefire_rung + 1), top)


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
        n=n,
        future_offset=np.arange(n),
        ordinary_ripeness=None if ladder.ripe_below_line_movement is None else np.concatenate(
            [ladder.ripe_below_line_movement[list(ordinary)].reshape(len(ordinary), n),
             np.full((1, n), np.inf, dtype=ladder.ripe_below_line_movement.dtype)]),
    )


def initial_state(ladder: LadderRules, ladder_plan: LadderPlan) -> LadderState:
    n = ladder.pressure_effect.shape[-1]
    zeros = np.zeros(n, dtype=np.int16)
    return LadderState(level=zeros, ceasefire=np.zeros(n, dtype=bool), top_rung=zeros,
                       highest_rung=zeros, line_movement=np.zeros(n, dtype=FLOAT))


def effect_strength(ladder: LadderRules, ladder_plan: LadderPlan, state: LadderState, effect: str
                    ) -> np.ndarray | float:
    """Strength in force of one kind of measure ((n,) in [0, 1], or 0.0 if never adopted)."""
    if not ladder_plan.pursued:
        return 0.0
    total: np.ndarray | float = 0.0
    for rung, rung_effect in enumerate(ladder.effects):
        if rung_effect != effect:
            continue
        in_force = state.ceasefire if rung == ladder_plan.ceasefire_rung \
            else state.level > ladder_plan.position[rung]
        total = total + ladder.strength[rung] * in_force
    return np.minimum(total, 1.0) if isinstance(total, np.ndarray) else total


def weariness(support: np.ndarray, initial_support: np.ndarray) -> np.ndarray:
    """Mean over both sides of the relative fall in support for fighting, in [0, 1]."""
    fall = clip(1.0 - support / np.maximum(initial_support, 1e-9), 0.0, 1.0)
    mean_fall: np.ndarray = fall.mean(axis=0)
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
    draw = noise.uniforms(Stream.LADDER, week, 3)
    active = status != SETTLED

    lowest_violated = (lp.violation_cdf <= draw[2]).sum(axis=0, dtype=state.level.dtype)
    level = np.where(active & (lowest_violated < state.level), lowest_violated, state.level)

    c = lp.ceasefire_rung
    ceasefire = state.ceasefire
    if c is not None:
        lower_in_force = np.minimum(level, lp.ordinary_below_ceasefire).astype(FLOAT)
        structural = relapse_per_week * np.exp(-ladder.relapse_reduction_per_rung
                                               * lower_in_force)
        breaks = 1.0 - (1.0 - structural) * (1.0 - ladder.violation_per_week[c])
        ceasefire = ceasefire & ~(draw[1] < breaks)
        next_is_ceasefire = ~ceasefire & (level >= lp.ordinary_below_ceasefire)
    # Row `level` of each column of the (m + 1, n) table, through the flattened table.
    rate = lp.ordinary_adoption.take(level.astype(np.intp) * lp.n + lp.future_offset)
    if c is not None:
        rate = np.where(next_is_ceasefire, ladder.adoption_per_week[c], rate)
    movement = state.line_movement
    if lp.ordinary_ripeness is not None:
        # Both are given whenever a rung waits for a stalemate (ordinary_ripeness is set).
        assert line_moved is not None and ladder.ripe_below_line_movement is not None
        movement = line_moved.astype(FLOAT) if week == 0 else \
            movement + FLOAT(LINE_MEMORY_WEIGHT) * (line_moved - movement)
        ripe_below = lp.ordinary_ripeness.take(level.astype(np.intp) * lp.n + lp.future_offset)
        if c is not None:
            ripe_below = np.where(next_is_ceasefire, ladder.ripe_below_line_movement[c],
                                  ripe_below)
        rate = np.where(movement < ripe_below, rate, 0.0)
    pressure = 1.0 + ladder.pressure_effect * weariness(support, initial_support)
    if adoption_multiplier is not None:  # side b's own rules (engine.policy.OpponentRules)
        pressure = pressure * adoption_multiplier
    adopted = active & (draw[0] < -np.expm1(-rate * pressure))
    if c is not None:
        ceasefire = ceasefire | (adopted & next_is_ceasefire)
        adopted = adopted & ~next_is_ceasefire
    level = (level + adopted).astype(state.level.dtype)

    if c is not None:
        status = np.where(status == SETTLED, SETTLED,
                          np.where(ceasefire, CEASEFIRE, WAR)).astype(status.dtype)
    top = top_rung(lp, level, ceasefire).astype(np.int16)
    highest = np.maximum(state.highest_rung, top)
    return LadderState(level=level, ceasefire=ceasefire, top_rung=top, highest_rung=highest,
                       line_movement=movement), status
