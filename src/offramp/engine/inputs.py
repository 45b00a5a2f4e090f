"""What the engine needs to run: plain arrays over futures, and the levers of one policy.

The engine knows nothing of YAML or pydantic. `offramp.experiments.build` turns a scenario, a
table of sampled futures and a policy name into these objects.

Layout: the ensemble axis (one entry per future) is always the LAST axis, so that every row over
futures is contiguous in memory and a weekly step is a handful of whole-row NumPy operations.
Small structural axes come first: side (2: row 0 is side a, row 1 is side b), theater (J),
backer (K), rival (R), rung (L), season (S), election (E). An empty axis (no backers, no rivals)
is an array of shape (0, n) and everything still runs.

Names keep the units of the scenario language (`..._per_month`, `..._per_week`, `..._km2`); the
mechanisms convert where they use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar, cast

import numpy as np

from offramp.engine.extensions import Extended

if TYPE_CHECKING:
    from offramp.engine.policy import Trigger

SIDE_A = 0
SIDE_B = 1

WEEKS_PER_YEAR = 52.0
WEEKS_PER_MONTH = WEEKS_PER_YEAR / 12.0

FLOAT = np.float32
"""Working precision of the engine's state. Single precision halves the memory traffic of every
weekly operation (the engine is bound by it) and is ample for quantities known to one or two
significant digits; random draws and the final outcomes are float64."""

# The ufunc behind np.clip, without its Python wrapper (a few microseconds a call, hundreds of
# calls a week). Its module is private, so any NumPy that moves it gets np.clip itself.
try:
    # NumPy's stubs do not declare this private module's ufuncs; `as clip` re-exports the name.
    from numpy._core.umath import clip as clip  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - NumPy 1.26, or a NumPy that moved it
    clip = getattr(getattr(np, "core", None), "umath", np).clip

RUNG_EFFECTS = (
    "shipping", "energy_strike_ban", "deep_strike_ban", "disengagement", "no_incursions",
    "ceasefire",
)


def _check_shapes(obj: object, leading: tuple[int, ...] | None = None) -> None:
    """Every array field must end with the same ensemble axis (and share the leading axes)."""
    n = None
    for item in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, item.name)
        if not isinstance(value, np.ndarray):
            continue
        if n is None:
            n = value.shape[-1]
        if value.shape[-1] != n:
            raise ValueError(f"{type(obj).__name__}.{item.name}: ensemble axis {value.shape[-1]} "
                             f"differs from {n}")
        if leading is not None and value.ndim == len(leading) + 1 and value.shape[:-1] != leading:
            raise ValueError(f"{type(obj).__name__}.{item.name}: shape {value.shape} does not "
                             f"match leading axes {leading}")


@dataclass(frozen=True)
class Belligerents:
    """The two parties at war; every array has shape (2, n), row 0 side a, row 1 side b."""

    names: tuple[str, str]
    national_area_km2: np.ndarray
    initial_territory_share: np.ndarray
    reserves: np.ndarray
    mobilization_per_week: np.ndarray
    training_weeks: np.ndarray
    combat_quality: np.ndarray
    shells_needed_per_soldier_week: np.ndarray
    shell_stock: np.ndarray
    shell_production_per_month: np.ndarray
    shell_imports_per_month: np.ndarray
    fire_elasticity: np.ndarray
    initial_support: np.ndarray
    weariness_per_log_casualties: np.ndarray
    casualty_scale: np.ndarray
    weariness_per_energy_loss: np.ndarray
    support_noise_sd: np.ndarray
    generating_capacity_share: np.ndarray
    optimism_bias: np.ndarray
    belief_receptivity: np.ndarray
    cost_of_war_per_year: np.ndarray
    territorial_floor: np.ndarray
    audience_cost: np.ndarray
    home_soil_premium: np.ndarray
    support_persistence: np.ndarray
    commitment_premium: np.ndarray
    hardens_while_soil_held: np.ndarray

    def __post_init__(self) -> None:
        _check_shapes(self, (2,))


class _NamedRows:
    """For inputs with one row per named actor: every array has shape (count, n)."""

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_shapes(self, (len(self.names),))

    @property
    def count(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Backers(_NamedRows):
    """States arming a belligerent; arrays (K, n). `backs_side[k]` is 0 (side a) or 1 (side b)."""

    names: tuple[str, ...]
    backs_side: tuple[int, ...]
    initial_support: np.ndarray
    support_drift_per_week: np.ndarray
    support_noise_sd: np.ndarray
    shell_production_per_month: np.ndarray
    shell_production_target_per_month: np.ndarray
    production_ramp_months: np.ndarray
    shell_stock: np.ndarray
    stock_floor_share: np.ndarray
    share_of_production_sent: np.ndarray
    high_end_stock: np.ndarray
    high_end_production_per_month: np.ndarray
    high_end_sent_per_month: np.ndarray
    stock_drawdown_weeks: np.ndarray


@dataclass(frozen=True)
class Rivals(_NamedRows):
    """Latent rivals of a backer; arrays (R, n). `of_backer[r]` indexes `Backers`."""

    names: tuple[str, ...]
    of_backer: tuple[int, ...]
    base_hazard_per_week: np.ndarray
    readiness: np.ndarray
    readiness_growth_per_year: np.ndarray
    readiness_effect: np.ndarray
    depletion_effect: np.ndarray
    distraction_effect: np.ndarray
    aid_priority_share: np.ndarray
    high_end_use_per_month: np.ndarray


@dataclass(frozen=True)
class Theaters:
    """Where ground changes hands; arrays (J, n), forces and weights (2, J, n).

    `soil_side[j]` is the side whose soil theater j is (0 a, 1 b); `is_salient[j]` marks ground
    across an undisputed border (the `no_incursions` rung acts there).
    """

    names: tuple[str, ...]
    soil_side: tuple[int, ...]
    is_salient: tuple[bool, ...]
    contested_area_km2: np.ndarray
    initial_enemy_held_km2: np.ndarray
    frontage_km: np.ndarray
    initial_forces: np.ndarray
    reinforcement_weight: np.ndarray
    terrain_factor: np.ndarray
    occupier_strength_loss: np.ndarray | None = None
    """(J, n) share of the occupier's power lost when it holds the whole contested area (0 where
    a theater has none); None when no theater has it."""
    attacker_side: tuple[int, ...] | None = None
    """Per theater, the side that always counts as the attacker (-1: the stronger side that
    week); None when no theater fixes it."""
    opens_after: tuple[int, ...] | None = None
    """Per theater, the index of the adjacent theater whose clearing opens it (-1: none); None
    when no theater opens that way."""
    opens_below_km2: np.ndarray | None = None
    """(J, n) enemy-held km2 in the adjacent theater at or below which a theater opens (0 where
    `opens_after` is -1)."""

    def __post_init__(self) -> None:
        j = len(self.names)
        for name in ("contested_area_km2", "initial_enemy_held_km2", "frontage_km",
                     "terrain_factor"):
            if getattr(self, name).shape[:-1] != (j,):
                raise ValueError(f"Theaters.{name} must have shape ({j}, n)")
        for name in ("initial_forces", "reinforcement_weight"):
            if getattr(self, name).shape[:-1] != (2, j):
                raise ValueError(f"Theaters.{name} must have shape (2, {j}, n)")

    @property
    def count(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class CalendarRules:
    """Dates, seasons and scheduled elections.

    Seasons recur every year from (start_month, start_day) for `weeks` weeks; their advance
    multipliers are arrays (S, n). Elections name either a backer (`actor_backer`) or a
    belligerent (`actor_side`), the other index being -1; their uncertain numbers are (E, n).
    """

    start_date: dt.date
    season_names: tuple[str, ...]
    season_start: tuple[tuple[int, int], ...]
    season_weeks: tuple[int, ...]
    season_advance_multiplier: np.ndarray
    election_date: tuple[dt.date, ...]
    election_takes_office: tuple[dt.date, ...]
    election_actor_backer: tuple[int, ...]
    election_actor_side: tuple[int, ...]
    challenger_wins: np.ndarray
    aid_multiplier_if_challenger: np.ndarray
    talks_push_if_challenger: np.ndarray


@dataclass(frozen=True)
class ForcesRules:
    deploy_share_per_week: np.ndarray
    salient_hold_reinforcement: np.ndarray
    withdrawal_weeks: np.ndarray


@dataclass(frozen=True)
class RoutRules:
    """When an outmatched force breaks (combat mechanism); arrays (n,)."""

    power_ratio: np.ndarray
    chance_per_week: np.ndarray
    captured_share: np.ndarray
    pursuit_multiplier: np.ndarray


@dataclass(frozen=True)
class CombatRules:
    attrition_per_week: np.ndarray
    firer_exponent: np.ndarray
    target_exponent: np.ndarray
    attacker_loss_multiplier: np.ndarray
    noise_sd: np.ndarray
    killed_share: np.ndarray
    wounded_return_share: np.ndarray
    reference_density_per_km: np.ndarray | float = 1.0
    """Force density (personnel/km) at which `attrition_per_week` is stated. The scenario
    language states it at unit density (1/km); a larger reference decouples the level of
    attrition from the uncertain exponents (see docs/model.md, 'missing fields')."""
    rout: RoutRules | None = None
    """None: no force ever breaks (attrition only)."""


@dataclass(frozen=True)
class TerritoryRules:
    max_advance_km_per_week: np.ndarray
    breakthrough_ratio: np.ndarray
    advance_steepness: np.ndarray
    share_of_front_in_assault: np.ndarray


@dataclass(frozen=True)
class StrikeRules:
    damage_per_week: np.ndarray
    repair_per_week: np.ndarray
    escalation_damage_multiplier: np.ndarray


@dataclass(frozen=True)
class EscalationRungs(_NamedRows):
    """Rungs of the escalation ladder above the strike surge, in order; arrays (L, n). A rung
    can happen only once the one below it has (the first: once a strike surge has)."""

    names: tuple[str, ...]
    hazard_per_week: np.ndarray
    lifted_restrictions_multiplier: np.ndarray
    support_shock: np.ndarray  # backers' logit support lost (negative: a rally)
    talks_close_probability: np.ndarray
    restrictions_reimposed_weeks: np.ndarray


@dataclass(frozen=True)
class EscalationRules:
    base_hazard_per_week: np.ndarray
    lifted_restrictions_hazard_per_week: np.ndarray
    lifted_restrictions_effectiveness: np.ndarray
    support_shock: np.ndarray
    talks_close_probability: np.ndarray
    strike_surge_weeks: np.ndarray
    pre_talks_multiplier: np.ndarray
    rungs: EscalationRungs | None = None
    """None: one kind of event, the strike surge."""


@dataclass(frozen=True)
class LadderRules:
    """The de-escalation ladder, rungs in order; arrays (L, n)."""

    rung_ids: tuple[str, ...]
    effects: tuple[str, ...]
    pressure_effect: np.ndarray
    adoption_per_week: np.ndarray
    violation_per_week: np.ndarray
    strength: np.ndarray
    relapse_reduction_per_rung: np.ndarray  # (n,)
    ripe_below_line_movement: np.ndarray | None = None
    """(L, n) share of side a's territory a week; inf for a rung agreed whatever the line does.
    None: no rung waits for a stalemate."""

    def __post_init__(self) -> None:
        unknown = set(self.effects) - set(RUNG_EFFECTS)
        if unknown:
            raise ValueError(f"unknown rung effects {sorted(unknown)}; known: {RUNG_EFFECTS}")
        _check_shapes(self)

    @property
    def count(self) -> int:
        return len(self.rung_ids)


@dataclass(frozen=True)
class IssueRules(_NamedRows):
    """Issues settled beside territory (security arrangements, sanctions relief...); arrays
    (I, n). A concession y in [0, 1] on issue i costs side a `value_to_a` and gains side b
    `value_to_b`, both in units of side a's territory; b accepts no less than `demand_b`, a
    concedes no more than `ceiling_a`, each softening as its own support falls."""

    names: tuple[str, ...]
    guaranteed: tuple[bool, ...]  # the issues the `security_guarantees` lever acts on
    value_to_a: np.ndarray
    value_to_b: np.ndarray
    demand_b: np.ndarray
    ceiling_a: np.ndarray
    softening_a: np.ndarray
    softening_b: np.ndarray


@dataclass(frozen=True)
class BargainingRules:
    planning_horizon_weeks: np.ndarray
    talks_open_per_week: np.ndarray
    offers_from_b_per_week: np.ndarray
    talks_close_per_week: np.ndarray
    settle_per_week: np.ndarray
    bargaining_power_a: np.ndarray
    observation_noise: np.ndarray
    trend_volatility: np.ndarray
    ceasefire_relapse_per_week: np.ndarray
    line_focality: np.ndarray | float = 0.0
    issues: IssueRules | None = None
    """None: territory is the only issue."""


@dataclass(frozen=True)
class OpponentRules(_NamedRows):
    """Side b's own rules (engine.policy); arrays (R, n). `conditions[r]`: the (variable, op,
    value) that must all hold for rule r to apply."""

    names: tuple[str, ...]
    conditions: tuple[tuple[tuple[str, str, float], ...], ...]
    follows: np.ndarray
    escalation_multiplier: np.ndarray
    offers_multiplier: np.ndarray
    ladder_adoption_multiplier: np.ndarray
    offensive_multiplier: np.ndarray


@dataclass(frozen=True)
class EngineInputs:
    """Everything uncertain about a scenario, for one chunk of futures."""

    horizon_weeks: int
    belligerents: Belligerents
    backers: Backers
    rivals: Rivals
    theaters: Theaters
    calendar: CalendarRules
    forces: ForcesRules
    combat: CombatRules
    territory: TerritoryRules
    strikes: StrikeRules
    escalation: EscalationRules
    ladder: LadderRules
    bargaining: BargainingRules
    main_backer: int | None = None
    """Index of side a's main backer (recorded stocks); None when side a has no backer."""
    extensions: tuple[Extended, ...] = ()
    """Extension mechanisms and their rules (`offramp.engine.extensions`), in step order."""
    opponent: OpponentRules | None = None
    """Side b's own rules; None: side b has none (its hazards are the scenario's alone)."""

    @property
    def n_futures(self) -> int:
        n: int = self.belligerents.reserves.shape[-1]
        return n


SalientPosture = Literal["hold", "trade", "withdraw"]


@dataclass(frozen=True)
class Levers:
    """One policy's levers: plain Python scalars, the same in every future."""

    seek_talks_from_week: int | None = None
    talks_initiative: float = 1.0
    pursue_ladder: bool = False
    lift_restrictions: bool = False
    aid_multiplier: float = 1.0
    industrial_surge: float = 1.0
    salient_posture: SalientPosture = "hold"
    pacific_reserve_share: float = 0.0
    end_state_floor: float | None = None
    security_guarantees: float = 0.0
    triggers: tuple[Trigger, ...] = ()
    """Signposts read from each future's state (`offramp.engine.policy`)."""

    def __post_init__(self) -> None:
        if self.salient_posture not in ("hold", "trade", "withdraw"):
            raise ValueError(f"salient_posture must be hold, trade or withdraw, "
                             f"not {self.salient_posture!r}")


POSTURE_CODES: dict[str, int] = {"hold": 0, "trade": 1, "withdraw": 2}
"""How the `salient_posture` series writes a posture."""


@dataclass(frozen=True)
class LeverSchedule:
    """A policy's levers week by week: `levers[i]` holds from week `weeks[i]` on.

    `posture_since[i]` is the week the salient posture in force at step i was taken (a
    withdrawal runs its course from then). A static policy is one step from week 0.
    """

    weeks: tuple[int, ...]
    levers: tuple[Levers, ...]
    posture_since: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.weeks or self.weeks[0] != 0:
            raise ValueError("a lever schedule starts at week 0")
        if any(b <= a for a, b in zip(self.weeks, self.weeks[1:], strict=False)):
            raise ValueError(f"lever schedule weeks must increase: {self.weeks}")
        if not len(self.weeks) == len(self.levers) == len(self.posture_since):
            raise ValueError("a lever schedule needs one Levers and one posture week per step")

    @classmethod
    def constant(cls, levers: Levers) -> LeverSchedule:
        return cls((0,), (levers,), (0,))

    @classmethod
    def of(cls, levers: Levers | LeverSchedule) -> LeverSchedule:
        return levers if isinstance(levers, LeverSchedule) else cls.constant(levers)

    def in_force(self, week: int) -> int:
        """The step whose levers hold in `week`."""
        return max(step for step, start in enumerate(self.weeks) if start <= week)

    def branch(self, then: Levers | LeverSchedule, week: int) -> LeverSchedule:
        """These levers before `week`, `then`'s from `week` on (its later steps kept).

        The salient posture keeps the week it was taken when `then` holds the same posture on
        in `week` (a withdrawal under way is not restarted); a new posture is taken at `week`.
        """
        then = LeverSchedule.of(then)
        before = [step for step, start in enumerate(self.weeks) if start < week]
        weeks = [self.weeks[step] for step in before]
        levers = [self.levers[step] for step in before]
        posture_since = [self.posture_since[step] for step in before]
        first = then.in_force(week)
        if levers[-1].salient_posture == then.levers[first].salient_posture:
            branch_since = posture_since[-1]
        else:
            branch_since = week
        for step in range(first, len(then.weeks)):
            weeks.append(max(then.weeks[step], week))
            levers.append(then.levers[step])
            since = then.posture_since[step]
            posture_since.append(since if since > week else branch_since)
        return LeverSchedule(tuple(weeks), tuple(levers), tuple(posture_since))


@dataclass(frozen=True)
class History:
    """What came before a branched run's `week` (`offramp run --from RUN --week W`).

    Before `week`, future i replays its parent future `parent_index[i]` of the parent run: the
    parent's levers (`levers`, the policy that was followed) and the parent's noise (`seed`,
    the parent's index). From `week` on it runs the run's own levers on its own noise (the
    run's seed, its own index). With the parent's seed and every future its own parent, a
    branch that keeps the parent's policy reproduces the parent run bit for bit.
    """

    week: int
    levers: Levers | LeverSchedule
    seed: int
    parent_index: np.ndarray  # (n,) global indices of the parent futures

    def __post_init__(self) -> None:
        if self.week < 1:
            raise ValueError(f"a branch starts at week 1 or later, not {self.week}")


_T = TypeVar("_T")


def in_working_precision(obj: _T) -> _T:
    """A copy of an inputs dataclass with every float array converted to `FLOAT`."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: in_working_precision(getattr(obj, f.name))
                               for f in fields(obj)})
    if isinstance(obj, tuple) and any(is_dataclass(item) for item in obj):
        return cast(_T, tuple(in_working_precision(item) for item in obj))
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f" and obj.dtype != FLOAT:
        return cast(_T, obj.astype(FLOAT))  # an array stays an array
    return obj
