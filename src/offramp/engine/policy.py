"""Triggers: a policy's signposts, read from each future's own state (adaptive policies).

Walker, Rahman & Cave (2001), Adaptive Policies; Haasnoot et al. (2013), Dynamic Adaptive Policy
Pathways: a policy states in advance what it will watch (a signpost) and what it will do when
the signpost crosses a threshold (a trigger). Here a trigger is `variable op value` on the state
at the end of last week (`observed`; at week 0, the starting state) and the lever values it sets:

    fires_t   = condition_t holds  and  not (once_t and fired before)  and  not active_t
    active_t  = for ever after firing (once, no for_weeks); for for_weeks_t weeks from firing;
                or, with once: false and no for_weeks, in exactly the weeks the condition holds

A lever set by an active trigger takes its value in that future this week (the last trigger
listed wins where two set the same lever); elsewhere the policy's own value (or schedule) holds.
Every operation is over whole arrays of futures: futures differ in when (and whether) their
triggers fire, not in the code they run.

The levers a trigger may set: `lift_restrictions`, `aid_multiplier`, `seek_talks` (side a seeks
talks from then on) and `withdraw` (side a withdraws from its salients from the week it fires,
over `forces.withdrawal_weeks`).

Side b's rules (`OpponentRules`, the adaptive opponent): each rule is followed in a share of
futures (`follows`, drawn once per future at week 0, stream OPPONENT) and, where followed,
applies in every week all its conditions hold (they may read `restrictions_lifted`, side a's
lever this week): it multiplies side b's escalation hazards (the strike surge and every rung),
its offers of talks, its adoption of the ladder's rungs and its combat power per soldier in
every theater (an offensive push). Several rules multiply together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import FLOAT, OpponentRules
from offramp.engine.noise import NoiseSource, Stream

COMPARISONS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less,
               "==": np.equal, "!=": np.not_equal}
OPERATORS = tuple(COMPARISONS)


@dataclass(frozen=True)
class Trigger:
    variable: str  # a name of `observed` (outcomes.OBSERVED_NAMES)
    op: str  # one of OPERATORS
    value: float
    once: bool = True
    for_weeks: int | None = None
    lift_restrictions: bool | None = None
    aid_multiplier: float | None = None
    seek_talks: bool | None = None
    withdraw: bool = False

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}; known: {OPERATORS}")
        if self.for_weeks is not None and self.for_weeks < 1:
            raise ValueError("for_weeks must be at least 1")


@dataclass(frozen=True)
class TriggerState:
    fired: np.ndarray  # (T, n) bool: has fired at least once
    weeks_left: np.ndarray  # (T, n) weeks the current firing still has to run (inf: for ever)
    withdraw_since: np.ndarray  # (n,) week side a began withdrawing by trigger (inf: never)


@dataclass(frozen=True)
class LeverOverrides:
    """This week's lever values set by active triggers, per future (None: no trigger sets it)."""

    lift_restrictions: np.ndarray | None = None  # (n,) FLOAT 0/1 where set, NaN elsewhere
    aid_multiplier: np.ndarray | None = None  # (n,) FLOAT where set, NaN elsewhere
    seek_talks: np.ndarray | None = None  # (n,) FLOAT 0/1 where set, NaN elsewhere
    withdraw_since: np.ndarray | None = None  # (n,) week a withdrawal began, inf: none

    def value(self, lever: str, policy_value: float | np.ndarray) -> float | np.ndarray:
        """The lever in each future: the trigger's value where one set it, else the policy's."""
        overridden = getattr(self, lever)
        if overridden is None:
            return policy_value
        result: np.ndarray = np.where(np.isnan(overridden), policy_value, overridden)
        return result.astype(FLOAT)


NO_OVERRIDES = LeverOverrides()


def initial_state(triggers: tuple[Trigger, ...], n: int) -> TriggerState:
    return TriggerState(fired=np.zeros((len(triggers), n), dtype=bool),
                        weeks_left=np.zeros((len(triggers), n), dtype=FLOAT),
                        withdraw_since=np.full(n, np.inf, dtype=FLOAT))


def holds(op: str, value: float, values: np.ndarray | float) -> np.ndarray:
    """`values op value`, elementwise, in working precision."""
    result: np.ndarray = COMPARISONS[op](np.asarray(values), FLOAT(value))
    return result


def step(triggers: tuple[Trigger, ...], state: TriggerState,
         observed: dict[str, np.ndarray | float], week: int
         ) -> tuple[TriggerState, LeverOverrides]:
    """Read the signposts and say which levers each future's active triggers set this week."""
    n = state.withdraw_since.shape[0]
    fired, weeks_left = state.fired.copy(), state.weeks_left.copy()
    overrides: dict[str, np.ndarray] = {}
    withdraw_since = state.withdraw_since
    for index, trigger in enumerate(triggers):
        holding = np.broadcast_to(holds(trigger.op, trigger.value, observed[trigger.variable]),
                                  (n,))
        running = weeks_left[index] > 0
        if not trigger.once and trigger.for_weeks is None:
            active = holding  # a "while" rule: exactly the weeks the condition holds
        else:
            blocked = running | fired[index] if trigger.once else running
            fires = holding & ~blocked
            length = np.inf if trigger.for_weeks is None else float(trigger.for_weeks)
            weeks_left[index] = np.where(fires, length, weeks_left[index])
            active = weeks_left[index] > 0
            weeks_left[index] = np.maximum(weeks_left[index] - 1.0, 0.0)
            fired[index] |= fires
        for lever in ("lift_restrictions", "aid_multiplier", "seek_talks"):
            setting = getattr(trigger, lever)
            if setting is None:
                continue
            previous = overrides.get(lever, np.full(n, np.nan, dtype=FLOAT))
            overrides[lever] = np.where(active, FLOAT(float(setting)), previous)
        if trigger.withdraw:
            withdraw_since = np.where(active & np.isinf(withdraw_since), FLOAT(week),
                                      withdraw_since)
    new_state = TriggerState(fired=fired, weeks_left=weeks_left, withdraw_since=withdraw_since)
    withdrawing = withdraw_since if any(t.withdraw for t in triggers) else None
    return new_state, LeverOverrides(withdraw_since=withdrawing, **overrides)


# --- side b's rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpponentEffects:
    """This week's multipliers from side b's rules, per future (None: no rule)."""

    escalation: np.ndarray | None = None
    offers: np.ndarray | None = None
    ladder_adoption: np.ndarray | None = None
    offensive: np.ndarray | None = None


NO_OPPONENT_EFFECTS = OpponentEffects()


def opponent_follows(rules: OpponentRules, noise: NoiseSource) -> np.ndarray:
    """(R, n) bool: in which futures side b follows each rule (drawn once, at week 0)."""
    follows: np.ndarray = noise.uniforms(Stream.OPPONENT, 0, rules.count) < rules.follows
    return follows


def opponent_step(rules: OpponentRules, follows: np.ndarray | None,
                  observed: dict[str, np.ndarray | float]) -> OpponentEffects:
    """Which rules apply this week (followed, every condition holding) and their multipliers."""
    assert follows is not None  # drawn at week 0 whenever the scenario has rules
    n = follows.shape[-1]
    multipliers = {"escalation": rules.escalation_multiplier, "offers": rules.offers_multiplier,
                   "ladder_adoption": rules.ladder_adoption_multiplier,
                   "offensive": rules.offensive_multiplier}
    effects: dict[str, np.ndarray] = {}
    for index, conditions in enumerate(rules.conditions):
        applies = follows[index].copy()
        for variable, op, value in conditions:
            applies &= np.broadcast_to(holds(op, value, observed[variable]), (n,))
        for name, table in multipliers.items():
            factor = np.where(applies, table[index], FLOAT(1.0))
            effects[name] = factor if name not in effects else effects[name] * factor
    return OpponentEffects(**effects)
