"""The scenario language: what an analyst writes to describe a war and the policies to compare.

One pydantic model per section. Every number is a `Param` (a value or a distribution, with a unit
and a source); structural choices (which actors, which theaters, the ladder's rungs) are plain
fields. Bounds that follow from meaning (areas are not negative, shares lie in [0, 1]) are
checked against the whole support of a distribution, so a draw can never break them.
`docs/scenario-language.md` is the reader's guide; `docs/model.md` says what each number does.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Generic, Literal, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from offramp.errors import UserError
from offramp.scenario.conditions import OPPONENT_VARIABLES, STATE_VARIABLES, parse_condition
from offramp.scenario.params import Param, check_source


def _within(low: float, high: float, what: str, open_low: bool = False) -> Callable:
    """A check that every value a parameter can take lies in [low, high] (or (low, high])."""

    def check(param):
        lowest, highest = param.support()
        if open_low and not _is_open_at_zero(param):
            # strictly above `low`; above zero means a normal float: a subnormal such as 5e-324
            # overflows whatever is divided by it
            too_low = lowest <= low or (low == 0.0 and lowest < sys.float_info.min)
        else:
            too_low = lowest < low
        if too_low or highest > high:
            bracket = "(" if open_low else "["
            span = (
                f"{bracket}{low:g}, {high:g}]" if math.isfinite(high) else f"{bracket}{low:g}, inf)"
            )
            raise ValueError(
                f"{what} must lie in {span}, but {param.describe()} can reach "
                f"[{lowest:g}, {highest:g}]"
            )
        return param

    return check


def _is_open_at_zero(param) -> bool:
    """Lognormal draws are strictly positive although their support starts at 0."""
    return getattr(param, "dist", None) == "lognormal"


Share = Annotated[Param, AfterValidator(_within(0.0, 1.0, "a share or probability"))]
NonNegative = Annotated[Param, AfterValidator(_within(0.0, math.inf, "this quantity"))]
Positive = Annotated[Param, AfterValidator(_within(0.0, math.inf, "this quantity", open_low=True))]
"""Strictly positive; a subnormal (5e-324) counts as zero: dividing by it overflows."""
AnyNumber = Param

SourceText = Annotated[str, AfterValidator(check_source)]
"""A citation: 'seed <file>: paraphrase', 'Author (Year) Title', or 'assumption: why'."""

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=64)]
SCENARIO_NAME = r"^[a-z][a-z0-9-]*$"


def with_default(value: float, description: str):
    """An optional parameter whose absence means `value` (a number, with no source of its own:
    docs/model.md gives it). The default is declared here once; `default_when_absent` reads it
    for the experiment layer, which gives the engine the number."""
    return Field(default=None, description=f"Optional: {description} Without it {value:g}.",
                 json_schema_extra={"default_when_absent": value})


def default_when_absent(model: type[BaseModel], field: str) -> float | None:
    """The number an optional parameter stands for when a scenario leaves it out (None: the
    field has no such default)."""
    extra = model.model_fields[field].json_schema_extra
    return extra.get("default_when_absent") if isinstance(extra, dict) else None  # type: ignore[return-value]


class FieldProblem(ValueError):
    """A cross-field problem that knows which field it is about (for the error's line number)."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.path = path


class Section(BaseModel):
    """Base for every section: unknown keys are errors, nothing is mutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- metadata -------------------------------------------------------------------------------


def _date_only(value: Any) -> Any:
    """A date written YYYY-MM-DD (YAML reads it as a date; a datetime keeps its day)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"expected a date written YYYY-MM-DD, found {value!r}")
    return value


def _unique_ids(items: list[Any]) -> list[Any]:
    """A list of rungs or rules whose `id`s are all different."""
    ids = [item.id for item in items]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"ids must be unique; repeated: {', '.join(duplicated)}")
    return items


class Meta(Section):
    name: str = Field(
        pattern=SCENARIO_NAME, max_length=64, description="Short id, e.g. kursk-2024."
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    start_date: dt.date = Field(description="Date of week 0 (ISO 8601, e.g. 2024-08-19).")
    as_of: dt.date | None = Field(
        default=None,
        description="The date whose knowledge the scenario encodes: no parameter may cite a "
        "source published after it unless it says `hindsight: <why>`.",
    )
    step_days: int = Field(
        default=7, ge=1, le=31, description="Days per step; the engine steps weekly."
    )
    horizon_weeks: int = Field(ge=1, le=1040, description="How many steps each future runs.")
    default_policies: list[str] | None = Field(
        default=None, min_length=1,
        description="The policies a run compares when none are named (none: every policy).")

    _dates_only = field_validator("start_date", "as_of", mode="before")(_date_only)

    @field_validator("step_days")
    @classmethod
    def _weekly(cls, days: int) -> int:
        if days != 7:
            raise ValueError("the engine steps in weeks: step_days must be 7")
        return days

    @model_validator(mode="after")
    def _calendar_fits(self) -> Meta:
        """The calendar looks a year back (seasons) and runs the horizon forward from the start:
        both must be dates Python can hold."""
        first_year = 2
        last = dt.date.max - dt.timedelta(days=7 * self.horizon_weeks + 366)
        if not (first_year <= self.start_date.year and self.start_date <= last):
            raise FieldProblem(("start_date",), f"with a horizon of {self.horizon_weeks} weeks the "
                               f"start date must lie between {first_year:04d}-01-01 and "
                               f"{last.isoformat()}; found {self.start_date.isoformat()}")
        return self


# --- actors ---------------------------------------------------------------------------------


class Belligerent(Section):
    """A party at war. Exactly two: side `a` (the one the policies are about) and side `b`."""

    role: Literal["belligerent"]
    name: str
    side: Literal["a", "b"]
    national_area_km2: Positive = Field(
        description="Area of its internationally recognised territory."
    )
    initial_territory_share: Share = Field(
        description="Share of its own territory it controls at week 0."
    )
    reserves: NonNegative = Field(description="Trained personnel not yet committed, at week 0.")
    mobilization_per_week: NonNegative = Field(
        description="New recruits entering training per week."
    )
    training_weeks: Positive
    combat_quality: Positive = Field(description="Multiplier on combat power per soldier.")
    shells_needed_per_soldier_week: Positive = Field(
        description="Artillery rounds a committed soldier's share of the front needs per week."
    )
    shell_stock: NonNegative
    shell_production_per_month: NonNegative = Field(description="Own output of artillery rounds.")
    shell_imports_per_month: NonNegative = Field(
        description="Rounds from suppliers outside the model's backers (e.g. North Korea)."
    )
    fire_elasticity: Positive = Field(description="gamma in fire support = (fired / needed)^gamma.")
    initial_support: Share = Field(description="Public support for fighting on, week 0.")
    weariness_per_log_casualties: NonNegative = Field(
        description="Fall in logit support per unit of ln(1 + casualties / casualty_scale)."
    )
    casualty_scale: Positive
    weariness_per_energy_loss: NonNegative = Field(
        description="Fall in logit support per unit of generating capacity lost."
    )
    support_noise_sd: NonNegative = Field(description="Weekly sd of logit-support shocks.")
    generating_capacity_share: Share = Field(description="Share of pre-war generation working.")
    optimism_bias: AnyNumber = Field(
        description="Bias of its belief about the weekly drift of side a's territory share."
    )
    belief_receptivity: Share = Field(description="Weight on evidence when updating beliefs.")
    cost_of_war_per_year: NonNegative = Field(
        description="Cost of a year of fighting at week-0 intensity, in shares of a's territory."
    )
    territorial_floor: Share = Field(
        description="Publicly committed floor on its own share of the disputed whole."
    )
    audience_cost: NonNegative = Field(description="Weight on falling below its floor.")
    home_soil_premium: NonNegative = Field(
        description="Value of a unit of its own soil held by the enemy, relative to disputed land."
    )
    support_persistence: Share | None = with_default(
        0.95, "AR(1) coefficient of the weekly opinion shocks (how long a shock to support "
        "lasts; docs/model.md §4.8).",
    )
    commitment_premium: Share | None = with_default(
        0.0, "share of the pie this side demands above its reservation because it fears the "
        "other would not keep a deal (Fearon's and Powell's commitment problem; docs/model.md "
        "§4.12 B4); a side a policy's security_guarantees remove part of side a's.",
    )
    hardens_while_soil_held: Share | None = with_default(
        0.0, "probability, per future, that the other side holding this side's soil hardens it: "
        "it then refuses talks while any of its soil is held (docs/model.md §4.12 B8).",
    )


class Backer(Section):
    """A state that arms a belligerent from its own production and stocks."""

    role: Literal["backer"]
    name: str
    backs: Identifier
    initial_support: Share = Field(description="Public or political support for aid, week 0.")
    support_drift_per_week: AnyNumber = Field(description="Trend of logit support per week.")
    support_noise_sd: NonNegative
    shell_production_per_month: NonNegative
    shell_production_target_per_month: NonNegative
    production_ramp_months: Positive = Field(description="Time constant of capacity growth.")
    shell_stock: NonNegative
    stock_floor_share: Share = Field(
        description="Share of its week-0 stock it keeps for itself whatever the policy."
    )
    share_of_production_sent: Share = Field(description="Share of output sent at full support.")
    high_end_stock: NonNegative = Field(
        description="Air-defence interceptors and long-range missiles, in units."
    )
    high_end_production_per_month: NonNegative
    high_end_sent_per_month: NonNegative = Field(description="Transfers at full support.")
    stock_drawdown_weeks: Positive | None = with_default(
        52.0, "weeks over which it would hand over its whole stock above the floor at full "
        "willingness (docs/model.md §4.6).",
    )


class Rival(Section):
    """A latent rival of side a's main backer, with its own theater (Taiwan, the Gulf)."""

    role: Literal["rival"]
    name: str
    theater_name: str
    of_backer: Identifier = Field(description="The backer whose stocks and attention it tests.")
    base_hazard_per_week: Share = Field(description="Weekly chance of a move at readiness 0.")
    readiness: Share = Field(description="Readiness to move, week 0, in [0, 1].")
    readiness_growth_per_year: NonNegative
    readiness_effect: NonNegative = Field(description="Log-hazard per unit of readiness.")
    depletion_effect: NonNegative = Field(
        description="Log-hazard per unit of the backer's high-end stock depletion."
    )
    distraction_effect: NonNegative = Field(
        description="Log-hazard added while the backer's attention is tied up in the war."
    )
    aid_priority_share: Share = Field(
        description="Share of the backer's transfers diverted to this theater once it opens."
    )
    high_end_use_per_month: NonNegative = Field(description="Backer stock used once it opens.")


Actor = Annotated[Belligerent | Backer | Rival, Field(discriminator="role")]


# --- theaters -------------------------------------------------------------------------------


class OpensAfter(Section):
    """A theater on one side's soil that the other side enters only once it has cleared its own
    ground next to it (an advance that carries across a line)."""

    theater: Identifier = Field(description="The adjacent theater, on the entering side's soil.")
    enemy_held_below_km2: NonNegative = Field(
        description="The theater opens once the enemy holds at most this much of the adjacent "
        "theater."
    )


class Theater(Section):
    """A place where ground changes hands.

    `front`: the belligerents' main line, on the soil of `soil_of`. `salient`: ground one side has
    taken on the other's soil, across an undisputed border (the Kursk incursion).
    `enemy_held_km2` is the part of the contested area held by the side whose soil it is not.
    """

    kind: Literal["front", "salient"]
    name: str
    soil_of: Identifier
    contested_area_km2: Positive = Field(description="Ground in play in this theater.")
    initial_enemy_held_km2: NonNegative = Field(
        description="Part of the contested area held at week 0 by the side whose soil it is not."
    )
    frontage_km: Positive
    initial_forces: dict[Identifier, NonNegative] = Field(
        description="Personnel committed at week 0, by belligerent."
    )
    reinforcement_weight: dict[Identifier, NonNegative] = Field(
        description="Each belligerent's priority on this theater when sending reinforcements."
    )
    terrain_factor: Share = Field(description="Multiplier on advance rates (1 open, <1 close).")
    occupier_strength_loss: Share | None = Field(
        default=None,
        description="Optional: share of its combat power the side whose soil this is not loses "
        "here as it comes to hold the whole contested area (linearly in the share it holds: the "
        "loss of strength with the depth of an advance). Without it: none.",
    )
    defender: Identifier | None = Field(
        default=None,
        description="Optional: the belligerent standing on the defensive here. The other side "
        "then counts as the attacker every week (it pays attacker_loss_multiplier and the "
        "defender never does), whatever their strengths; the lines still move with the power "
        "ratio. Without it the attacker is whichever side is stronger that week.",
    )
    opens_after: OpensAfter | None = Field(
        default=None,
        description="Optional: the side whose soil this is not sends forces here, with no ground "
        "held, once it has (nearly) cleared the adjacent theater on its own soil. Without it, a "
        "side fights on the other's soil only where it already holds ground.",
    )


# --- mechanisms' global parameters ----------------------------------------------------------


class Season(Section):
    name: str
    start_month: int = Field(ge=1, le=12)
    start_day: int = Field(ge=1, le=31)
    weeks: int = Field(ge=1, le=26)
    advance_multiplier: Share
    source: SourceText


class Calendar(Section):
    seasons: list[Season] = Field(default_factory=list, max_length=12)


class Election(Section):
    actor: Identifier
    date: dt.date
    takes_office: dt.date
    challenger_wins: Share = Field(description="Probability the challenger wins.")
    aid_multiplier_if_challenger: NonNegative = Field(
        description="Multiplier on the backer's aid from taking office if the challenger wins."
    )
    talks_push_if_challenger: NonNegative = Field(
        description="Added pressure to open talks from taking office if the challenger wins."
    )
    source: SourceText

    @model_validator(mode="after")
    def _order(self) -> Election:
        if self.takes_office < self.date:
            raise ValueError("takes_office must not come before the election date")
        return self


class Rout(Section):
    """A force that is badly outmatched in a theater may break: it loses a share of its strength
    there as prisoners and stragglers in one week, and the winner pursues."""

    power_ratio: Positive = Field(
        description="Enemy-to-own combat power ratio in a theater at or above which a force may "
        "break."
    )
    chance_per_week: Share = Field(
        description="Weekly chance that a force outmatched at power_ratio or more breaks."
    )
    captured_share: Share = Field(
        description="Share of the broken force's personnel in the theater lost in the rout "
        "(captured, missing or dispersed; none return)."
    )
    pursuit_multiplier: Positive = Field(
        description="Multiplier on the winner's advance in the week of the rout."
    )


class Combat(Section):
    attrition_per_week: Positive = Field(
        description="Casualties per week per km of front when both sides stand at the reference "
        "density."
    )
    reference_density_per_km: Positive = Field(
        description="Force density (personnel per km of front) at which attrition_per_week holds; "
        "the exponents then only say how losses scale away from it."
    )
    firer_exponent: Share = Field(description="q: weight of the firing side's power density.")
    target_exponent: Share = Field(description="p: weight of the target side's force density.")
    attacker_loss_multiplier: Positive = Field(description="Extra losses of the side attacking.")
    noise_sd: NonNegative = Field(description="sd of the weekly lognormal noise on casualties.")
    killed_share: Share = Field(description="Share of casualties killed (the rest wounded).")
    wounded_return_share: Share = Field(description="Share of wounded returning to reserves.")
    rout: Rout | None = Field(
        default=None,
        description="Optional: forces that break when outmatched in a theater (no section: "
        "attrition only, no side ever breaks).",
    )


class Territory(Section):
    max_advance_km_per_week: Positive
    breakthrough_ratio: Positive = Field(
        description="Theater-level power ratio at which the attacker starts to gain ground."
    )
    advance_steepness: Positive = Field(description="beta in tanh(beta * ln(ratio / threshold)).")
    share_of_front_in_assault: Share


class Forces(Section):
    deploy_share_per_week: Share = Field(description="Share of reserves committed each week.")
    salient_hold_reinforcement: Share = Field(
        description="Share of side a's reinforcements sent to a held salient."
    )
    withdrawal_weeks: Positive = Field(description="Weeks to pull out of a salient.")


class Strikes(Section):
    damage_per_week: NonNegative = Field(description="Generating capacity destroyed per week.")
    repair_per_week: Share = Field(description="Share of the lost capacity repaired per week.")
    escalation_damage_multiplier: Positive


class EscalationRung(Section):
    """A rung of the escalation ladder above the strike surge (docs/model.md 4.9): it can
    happen only once the rung below it has."""

    id: Identifier
    name: str = Field(min_length=1)
    hazard_per_week: Share = Field(
        description="Weekly chance while fighting, once the rung below has happened.")
    lifted_restrictions_multiplier: NonNegative | None = with_default(
        1.0, "multiple of the hazard while restrictions on deep strikes are lifted.")
    support_shock: Param = Field(
        description="Fall in backers' logit support when it happens (negative: a rally).")
    talks_close_probability: Share = Field(description="Chance it closes open talks.")
    restrictions_reimposed_weeks: NonNegative | None = with_default(
        0.0, "weeks for which the backers reimpose restrictions on deep strikes after it.")


class Escalation(Section):
    base_hazard_per_week: Share
    lifted_restrictions_hazard_per_week: Share = Field(
        description="Added weekly hazard while restrictions on deep strikes are lifted."
    )
    lifted_restrictions_effectiveness: NonNegative = Field(
        description="Fractional cut in side b's fire support from deep strikes on logistics."
    )
    support_shock: NonNegative = Field(description="Fall in backers' logit support per event.")
    talks_close_probability: Share
    strike_surge_weeks: Positive
    pre_talks_multiplier: NonNegative | None = with_default(
        0.0, "rise of the escalation hazard, as a multiple of itself, in weeks when talks are "
        "in prospect but not yet open (coercive escalation before talks; docs/model.md §4.9).",
    )
    rungs: list[EscalationRung] = Field(
        default_factory=list, max_length=10,
        description="Rungs above the strike surge, in order (e.g. a threat against a NATO "
        "member, nuclear signalling); none: the strike surge is the only escalation.",
    )

    _unique_rung_ids = field_validator("rungs")(_unique_ids)


class LadderRung(Section):
    id: Identifier
    name: str
    effect: Literal[
        "shipping",
        "energy_strike_ban",
        "deep_strike_ban",
        "disengagement",
        "no_incursions",
        "ceasefire",
    ]
    adoption_per_week: Share = Field(description="Weekly chance of agreement while pursued.")
    violation_per_week: Share = Field(description="Weekly chance a violation drops the rung.")
    strength: Share = Field(description="How much of the targeted activity it removes.")
    ripe_below_line_movement: NonNegative | None = Field(
        default=None,
        description="Optional: the rung is agreed only in weeks when the line of contact has "
        "moved less than this share of side a's territory a week over the last month (a "
        "hurting stalemate); no field: agreed whatever the battlefield.",
    )


class Ladder(Section):
    pressure_effect: NonNegative = Field(
        description="How much war-weariness on both sides speeds adoption."
    )
    relapse_reduction_per_rung: NonNegative | None = with_default(
        0.35, "fall in the log relapse hazard of a ceasefire per lower rung in force (Fortna's "
        "measures; docs/model.md §4.11).",
    )
    rungs: list[LadderRung] = Field(min_length=1, max_length=12)

    _unique_rung_ids = field_validator("rungs")(_unique_ids)


GUARANTEED_ISSUE = "security"
"""The bargaining issue that the `security_guarantees` lever acts on."""


class BargainingIssue(Section):
    """An issue settled beside territory: a concession from 0 (none) to 1 (all that is asked),
    valued by each side in units of side a's territory (docs/model.md, B5b)."""

    value_to_a: NonNegative = Field(
        description="What a full concession costs side a, in shares of its territory.")
    value_to_b: NonNegative = Field(
        description="What a full concession is worth to side b, in shares of a's territory.")
    demand_b: Share = Field(description="The least concession side b accepts (0 to 1).")
    ceiling_a: Share = Field(description="The most side a concedes (0 to 1).")
    softening_a: NonNegative = Field(
        description="1 / the share of its support side a loses before conceding all b asks "
        "(0: a's ceiling never moves).")
    softening_b: NonNegative = Field(
        description="1 / the share of its support side b loses before asking nothing on the "
        "issue (0: b's demand never moves).")


class Bargaining(Section):
    planning_horizon_weeks: Positive
    talks_open_per_week: Share = Field(description="Weekly hazard of talks opening when sought.")
    offers_from_b_per_week: Share = Field(
        description="Weekly hazard of talks opening at side b's initiative, sought or not."
    )
    talks_close_per_week: Share
    settle_per_week: Share = Field(description="Weekly hazard of a deal when the range is open.")
    bargaining_power_a: Share = Field(description="Side a's share of the bargaining surplus.")
    observation_noise: Positive = Field(description="sd of the fog on weekly territory change.")
    trend_volatility: NonNegative
    ceasefire_relapse_per_week: Share
    line_focality: Share | None = with_default(
        0.0, "how far the settled terms are drawn from the split of the surplus towards the line "
        "of contact, where it lies within the range (a focal point; docs/model.md B9).",
    )
    issues: dict[Identifier, BargainingIssue] = Field(
        default_factory=dict, max_length=20,
        description="Issues settled beside territory (e.g. security, sanctions); a settlement "
        "needs a zone of agreement on each. The `security_guarantees` lever acts on `security`.",
    )


LeverValue = TypeVar("LeverValue")


class ScheduleStep(Section, Generic[LeverValue]):
    """From a week on (`from_week`, or the week holding `from_date`), a lever takes `value`."""

    from_week: int | None = Field(default=None, ge=0)
    from_date: dt.date | None = None
    value: LeverValue

    _from_date_only = field_validator("from_date", mode="before")(_date_only)

    @model_validator(mode="after")
    def _one_start(self) -> ScheduleStep[LeverValue]:
        if (self.from_week is None) == (self.from_date is None):
            raise ValueError("a schedule step starts either from_week: N or from_date: "
                             "YYYY-MM-DD (one of the two)")
        return self


Multiplier = Annotated[float, Field(ge=0, le=10)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Posture = Literal["hold", "trade", "withdraw"]
_STEPS = Field(min_length=1, max_length=100)
# A lever as a schedule: steps in time order; before the first, the lever's default holds.
MultiplierSchedule = Annotated[list[ScheduleStep[Multiplier]], _STEPS]
FractionSchedule = Annotated[list[ScheduleStep[Fraction]], _STEPS]
FloorSchedule = Annotated[list[ScheduleStep[Fraction | None]], _STEPS]
SwitchSchedule = Annotated[list[ScheduleStep[bool]], _STEPS]
PostureSchedule = Annotated[list[ScheduleStep[Posture]], _STEPS]


def _check_condition(text: str, known: tuple[str, ...]) -> None:
    """A condition on the state, read by the condition language (a ValueError for pydantic,
    which puts the file's line and the field beside it)."""
    try:
        parse_condition(text, known, "state variable")
    except UserError as error:
        raise ValueError(str(error)) from None


class TriggerSettings(Section):
    """The levers a trigger sets (at least one)."""

    lift_restrictions: bool | None = None
    aid_multiplier: Multiplier | None = None
    seek_talks: bool | None = Field(default=None, description="Side a seeks talks (or stops).")
    salient_posture: Literal["withdraw"] | None = Field(
        default=None, description="Side a withdraws from its salients from the week it fires.")

    @model_validator(mode="after")
    def _sets_something(self) -> TriggerSettings:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a trigger must set at least one of "
                             f"{', '.join(type(self).model_fields)}")
        return self


class Trigger(Section):
    """A signpost: when the condition holds in a future (on its state at the end of last week),
    the levers under `then` take their values there (docs/scenario-language.md)."""

    when: str = Field(description="A condition '<state variable> <op> <value>', e.g. "
                      "'salient_km2 < 300'.")
    then: TriggerSettings
    once: bool = Field(default=True, description="Fire at most once in a future.")
    for_weeks: int | None = Field(
        default=None, ge=1, le=1040,
        description="The change lasts this many weeks; none: for good (or, with once: false, "
        "exactly while the condition holds).")

    @field_validator("when")
    @classmethod
    def _readable(cls, text: str) -> str:
        _check_condition(text, STATE_VARIABLES)
        return text


class OpponentRule(Section):
    """A rule side b follows in a share of futures: while every condition holds there, its
    escalation hazards, offers of talks and adoption of ladder rungs are multiplied."""

    id: Identifier
    when: list[str] = Field(min_length=1, max_length=5, description=(
        "Conditions that must all hold, e.g. ['restrictions_lifted == true', "
        "'salient_km2 > 0']."))
    follows: Share = Field(description="Share of futures in which side b follows the rule.")
    escalation_multiplier: NonNegative | None = with_default(
        1.0, "multiplies side b's escalation hazards (strike surge and every rung) while it "
        "applies.")
    offers_multiplier: NonNegative | None = with_default(
        1.0, "multiplies side b's offers of talks while it applies.")
    ladder_adoption_multiplier: NonNegative | None = with_default(
        1.0, "multiplies side b's adoption of the ladder's rungs while it applies.")
    offensive_multiplier: NonNegative | None = with_default(
        1.0, "multiplies side b's combat power per soldier in every theater while it applies "
        "(an offensive push: more attrition on both sides, a faster advance).")

    @field_validator("when")
    @classmethod
    def _readable(cls, texts: list[str]) -> list[str]:
        for text in texts:
            _check_condition(text, OPPONENT_VARIABLES)
        return texts


class Opponent(Section):
    """Side b's own rules (the adaptive opponent; docs/model.md 5)."""

    rules: list[OpponentRule] = Field(min_length=1, max_length=20)

    _unique_rule_ids = field_validator("rules")(_unique_ids)


class Policy(Section):
    """A named set of levers. Levers are choices, not uncertainties: plain numbers, or schedules
    of them (`[{from_week: 13, value: true}]`, or `from_date: 2024-11-18`)."""

    description: str = Field(min_length=1)
    source: SourceText
    seek_talks_from_week: int | None = Field(
        default=None, ge=0, description="Week from which side a seeks talks; null: never."
    )
    talks_initiative: Multiplier | MultiplierSchedule = Field(
        default=1.0, description="Multiplier on the talks hazard while side a seeks."
    )
    pursue_ladder: bool | SwitchSchedule = False
    lift_restrictions: bool | SwitchSchedule = False
    aid_multiplier: Multiplier | MultiplierSchedule = 1.0
    industrial_surge: Multiplier | MultiplierSchedule = 1.0
    salient_posture: Posture | PostureSchedule = "hold"
    pacific_reserve_share: Fraction | FractionSchedule = 0.0
    end_state_floor: Fraction | None | FloorSchedule = Field(
        default=None, description="Side a's floor on its territory share, if stated."
    )
    security_guarantees: Fraction | FractionSchedule = Field(
        default=0.0,
        description="Share of side a's commitment premium that security guarantees for a "
        "settlement remove (0: none offered).",
    )
    triggers: list[Trigger] = Field(
        default_factory=list, max_length=20,
        description="Signposts read in each future: when a condition holds, levers change there.",
    )

    def steps(self, lever: str, start_date: dt.date) -> list[tuple[int, Any]]:
        """The lever as (from week, value) pairs in time order, the first from week 0."""
        value = getattr(self, lever)
        if not isinstance(value, list):
            return [(0, value)]
        steps = [(step_week(step, start_date), step.value) for step in value]
        if steps[0][0] > 0:
            steps.insert(0, (0, Policy.model_fields[lever].default))
        return steps


def step_week(step: ScheduleStep[Any], start_date: dt.date) -> int:
    """The week a schedule step starts (a date: the week holding it, counted from week 0)."""
    if step.from_week is not None:
        return step.from_week
    assert step.from_date is not None  # one of the two, checked by ScheduleStep
    return (step.from_date - start_date).days // 7


SCHEDULABLE: tuple[str, ...] = tuple(
    name for name, field in Policy.model_fields.items()
    if "ScheduleStep" in repr(field.annotation)
)
"""The levers that may be schedules."""


# --- claims: the seeds' statements as testable hypotheses ------------------------------------

LEVER_NAMES: tuple[str, ...] = tuple(
    name for name in Policy.model_fields if name not in ("description", "source", "triggers")
)
"""The fields of a Policy that a claim's arm may override (everything but its prose and its
triggers)."""

ONLY_WHERE_FILTERS: dict[str, str] = {
    "ended": "the war ended (settled, or a ceasefire in force at the horizon)",
    "settled": "the war ended in a settlement",
    "talks_opened": "talks opened at least once",
    "war_on": "the war is still being fought at the horizon",
}
"""The futures a claim may be restricted to: kept where the condition holds in both arms.

A closed vocabulary rather than an expression: nothing in a scenario file is evaluated."""

OnlyWhere = Literal["ended", "settled", "talks_opened", "war_on"]
DEFAULT_WINDOW_WEEKS = 8


class ClaimArm(Section):
    """One side of a claim: a named policy, optionally with some of its levers changed."""

    policy: str = Field(description="A policy of this scenario.")
    levers: dict[str, bool | int | float | str | None] = Field(
        default_factory=dict,
        description="Overrides of the policy's levers (e.g. seek_talks_from_week: 26).",
    )


class Claim(Section):
    """A statement from a source, put as a comparison offramp can run on shared futures.

    `paired`: in each future, `arm`'s outcome is expected to be `expect` (higher/lower) than
    `versus`'. `escalation_before_talks`: in `arm`'s futures where talks opened, the weekly
    escalation rate in the `window_weeks` before talks first opened is expected to be `expect`
    than in the other weeks of fighting (no `versus`). `tolerance` turns a claim into a
    non-inferiority claim: the arm may be worse by up to `tolerance` (outcome units).
    """

    statement: str = Field(min_length=1, max_length=500)
    source: SourceText
    arm: ClaimArm = Field(description="The arm the claim says is better.")
    versus: ClaimArm | None = Field(default=None, description="Required for kind: paired.")
    outcome: str = Field(
        min_length=1, max_length=64, description="An outcome column, e.g. a_territory_share."
    )
    expect: Literal["higher", "lower"]
    kind: Literal["paired", "escalation_before_talks"] = "paired"
    only_where: OnlyWhere | None = Field(
        default=None, description="Compare only futures where this holds in both arms."
    )
    tolerance: float = Field(
        default=0.0,
        ge=0,
        le=1e12,
        allow_inf_nan=False,
        description="How much worse the arm may be and the claim still hold (outcome units).",
    )
    cause: list[str] = Field(
        default_factory=list,
        description="The levers the claim is about: a paired claim's two arms may differ in "
        "these and in nothing else (unless `confounded_by` says why), so that the comparison "
        "isolates the cause the source names.",
    )
    confounded_by: str | None = Field(
        default=None, min_length=10,
        description="Why the arms may differ in more levers than `cause` (the comparison then "
        "cannot isolate the cause, and says so).",
    )
    window_weeks: int | None = Field(
        default=None,
        ge=1,
        le=52,
        description=f"Weeks before talks first open ({DEFAULT_WINDOW_WEEKS} if unset).",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Claim:
        if self.kind == "paired":
            if self.versus is None:
                raise FieldProblem(("versus",), "a paired claim needs a 'versus' arm")
            if self.window_weeks is not None:
                raise FieldProblem(
                    ("window_weeks",), "window_weeks is only used by kind escalation_before_talks"
                )
        elif self.versus is not None:
            raise FieldProblem(
                ("versus",),
                "kind escalation_before_talks compares weeks within the arm's own futures; "
                "remove 'versus'",
            )
        return self


def _lever_problem(arm: ClaimArm, base: Policy, path: tuple[str | int, ...]) -> FieldProblem | None:
    """The first unknown or invalid lever override of an arm (None if all are fine)."""
    for name in arm.levers:
        if name not in LEVER_NAMES:
            guess = difflib.get_close_matches(name, LEVER_NAMES, n=1)
            hint = (
                f"; did you mean '{guess[0]}'?" if guess else f" (levers: {', '.join(LEVER_NAMES)})"
            )
            return FieldProblem((*path, "levers", name), f"'{name}' is not a lever{hint}")
    try:
        # The arm's policy is the base policy with the overrides: validating it as a Policy
        # applies every lever's own bounds (a week >= 0, a share in [0, 1], a known posture).
        Policy.model_validate({**base.model_dump(), **arm.levers})
    except pydantic.ValidationError as error:
        first = error.errors(include_url=False)[0]
        name = str(first["loc"][0]) if first["loc"] else next(iter(arm.levers))
        return FieldProblem(
            (*path, "levers", name), f"{first['msg']}; found {arm.levers.get(name)!r}"
        )
    return None


def claim_problem(key: str, claim: Claim, policies: dict[str, Policy]) -> FieldProblem | None:
    """The first reference in a claim that the scenario cannot resolve (None if all resolve)."""
    for side in ("arm", "versus"):
        arm = getattr(claim, side)
        if arm is None:
            continue
        path: tuple[str | int, ...] = ("claims", key, side)
        if arm.policy not in policies:
            guess = difflib.get_close_matches(arm.policy, list(policies), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            return FieldProblem(
                (*path, "policy"),
                f"'{arm.policy}' is not a policy of this scenario "
                f"(policies: {', '.join(policies)}){hint}",
            )
        problem = _lever_problem(arm, policies[arm.policy], path)
        if problem is not None:
            return problem
    return _cause_problem(key, claim, policies)


def arm_levers(arm: ClaimArm, policies: dict[str, Policy]) -> dict[str, object]:
    """The levers an arm runs with: its policy's, with the arm's overrides."""
    return {**policies[arm.policy].model_dump(include=set(LEVER_NAMES)), **arm.levers}


def _cause_problem(key: str, claim: Claim, policies: dict[str, Policy]) -> FieldProblem | None:
    """A paired claim's arms must differ in exactly its `cause` levers (or say why not)."""
    path: tuple[str | int, ...] = ("claims", key, "cause")
    unknown = [name for name in claim.cause if name not in LEVER_NAMES]
    if unknown:
        return FieldProblem(path, f"'{unknown[0]}' is not a lever (levers: "
                                  f"{', '.join(LEVER_NAMES)})")
    if claim.versus is None:
        return None
    arm, versus = arm_levers(claim.arm, policies), arm_levers(claim.versus, policies)
    differ = [name for name in LEVER_NAMES if arm[name] != versus[name]]
    same = [name for name in claim.cause if name not in differ]
    if same:
        return FieldProblem(path, f"the arms do not differ in '{same[0]}', which the claim "
                                  "names as its cause")
    extra = [name for name in differ if name not in claim.cause]
    if extra and claim.confounded_by is None:
        cause = ", ".join(claim.cause) or "nothing"
        return FieldProblem(
            path, f"the arms differ in {', '.join(extra)} besides the declared cause ({cause}): "
            "a comparison that isolates one cause changes only it (add the other levers to the "
            "arm, or say why not in `confounded_by`)")
    return None


# --- the whole scenario ---------------------------------------------------------------------


class Scenario(Section):
    scenario: Meta
    actors: dict[Identifier, Actor] = Field(min_length=2)
    theaters: dict[Identifier, Theater] = Field(min_length=1)
    calendar: Calendar = Calendar()
    elections: list[Election] = Field(default_factory=list, max_length=50)
    forces: Forces
    combat: Combat
    territory: Territory
    strikes: Strikes
    escalation: Escalation
    ladder: Ladder
    bargaining: Bargaining
    opponent: Opponent | None = Field(
        default=None, description="Side b's own rules; none: its hazards are the scenario's.")
    policies: dict[Annotated[str, Field(pattern=SCENARIO_NAME)], Policy] = Field(min_length=1)
    claims: dict[Identifier, Claim] = Field(
        default_factory=dict, description="The sources' claims, as testable comparisons."
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        belligerents = self.belligerents
        sides = sorted(b.side for b in belligerents.values())
        if sides != ["a", "b"]:
            raise FieldProblem(
                ("actors",),
                "a scenario needs exactly two belligerents, one with side: a and one with side: b; "
                f"found sides {sides}",
            )
        backers = {k for k, v in self.actors.items() if isinstance(v, Backer)}
        for key, actor in self.actors.items():
            if isinstance(actor, Backer) and actor.backs not in belligerents:
                raise FieldProblem(
                    ("actors", key, "backs"), f"'{actor.backs}' is not a belligerent"
                )
            if isinstance(actor, Rival) and actor.of_backer not in backers:
                raise FieldProblem(
                    ("actors", key, "of_backer"), f"'{actor.of_backer}' is not a backer"
                )
        for key, theater in self.theaters.items():
            if theater.soil_of not in belligerents:
                raise FieldProblem(
                    ("theaters", key, "soil_of"), f"'{theater.soil_of}' is not a belligerent"
                )
            for field in ("initial_forces", "reinforcement_weight"):
                given = set(getattr(theater, field))
                if given != set(belligerents):
                    expected, found = ", ".join(sorted(belligerents)), ", ".join(sorted(given))
                    raise FieldProblem(
                        ("theaters", key, field),
                        f"expected one entry per belligerent ({expected}); found {found or 'none'}",
                    )
            if theater.defender is not None and theater.defender not in belligerents:
                raise FieldProblem(
                    ("theaters", key, "defender"),
                    f"'{theater.defender}' is not a belligerent "
                    f"({', '.join(sorted(belligerents))})",
                )
            opens = theater.opens_after
            if opens is not None:
                other = self.theaters.get(opens.theater)
                if other is None or opens.theater == key:
                    known = ", ".join(k for k in self.theaters if k != key) or "none"
                    raise FieldProblem(
                        ("theaters", key, "opens_after", "theater"),
                        f"'{opens.theater}' is not another theater of this scenario "
                        f"(others: {known})",
                    )
                if other.soil_of == theater.soil_of:
                    raise FieldProblem(
                        ("theaters", key, "opens_after", "theater"),
                        f"'{opens.theater}' is on {other.soil_of}'s soil, as this theater is; "
                        "it must be on the soil of the side that enters this one",
                    )
            lowest_area = theater.contested_area_km2.support()[0]
            highest_held = theater.initial_enemy_held_km2.support()[1]
            if highest_held > lowest_area:
                raise FieldProblem(
                    ("theaters", key, "initial_enemy_held_km2"),
                    f"can reach {highest_held:g} km2, more than "
                    f"the contested area's lowest value {lowest_area:g} km2",
                )
        for index, election in enumerate(self.elections):
            if election.actor not in backers and election.actor not in belligerents:
                raise FieldProblem(
                    ("elections", index, "actor"), f"'{election.actor}' is not an actor"
                )
        self._guarantees_have_their_issue()
        self._schedules_fit()
        for index, name in enumerate(self.scenario.default_policies or []):
            if name not in self.policies:
                raise FieldProblem(("scenario", "default_policies", index),
                                   f"'{name}' is not a policy of this scenario (its policies: "
                                   f"{', '.join(self.policies)})")
        return self

    @property
    def default_policies(self) -> tuple[str, ...]:
        """The policies a run compares when none are named."""
        return tuple(self.scenario.default_policies or self.policies)

    def schedule_steps(self) -> Iterator[tuple[tuple[str | int, ...], int]]:
        """(path of the step's start field, its week) for every step of every schedule."""
        for name, policy in self.policies.items():
            for lever in SCHEDULABLE:
                schedule = getattr(policy, lever)
                for index, step in enumerate(schedule if isinstance(schedule, list) else []):
                    field = "from_week" if step.from_week is not None else "from_date"
                    yield (("policies", name, lever, index, field),
                           step_week(step, self.scenario.start_date))

    def _schedules_fit(self) -> None:
        """Every schedule's steps start at or after week 0, in strictly increasing weeks. (Steps
        after the horizon are the loader's to judge: it knows which file set the horizon.)"""
        previous: dict[tuple[str | int, ...], int] = {}
        start = self.scenario.start_date
        for where, week in self.schedule_steps():
            lever = where[:3]
            if week < 0:
                raise FieldProblem(where, f"starts in week {week}, before week 0 "
                                   f"({start.isoformat()})")
            if lever in previous and week <= previous[lever]:
                raise FieldProblem(where, f"starts in week {week}, not after the step before "
                                   f"it (week {previous[lever]}): steps go in time order")
            previous[lever] = week

    def _guarantees_have_their_issue(self) -> None:
        """Security guarantees act on the `security` issue: a policy or claim arm offering them
        in a scenario without that issue would change nothing it says it changes."""
        offering: list[tuple[str | int, ...]] = [
            ("policies", name, "security_guarantees") for name, policy in self.policies.items()
            if policy.security_guarantees]
        for key, claim in self.claims.items():
            for arm_name in ("arm", "versus"):
                arm = getattr(claim, arm_name)
                if arm is not None and arm.levers.get("security_guarantees"):
                    offering.append(("claims", key, arm_name, "levers", "security_guarantees"))
        if offering and GUARANTEED_ISSUE not in self.bargaining.issues:
            raise FieldProblem(
                offering[0], f"security guarantees act on a bargaining issue named "
                f"'{GUARANTEED_ISSUE}', and bargaining.issues has none (it has: "
                f"{', '.join(self.bargaining.issues) or 'no issues'}); add "
                f"bargaining.issues.{GUARANTEED_ISSUE} or set the guarantees to 0",
            )

    @model_validator(mode="after")
    def _claim_references(self) -> Scenario:
        for key, claim in self.claims.items():
            problem = claim_problem(key, claim, self.policies)
            if problem is not None:
                raise problem
        return self

    @property
    def belligerents(self) -> dict[str, Belligerent]:
        return {k: v for k, v in self.actors.items() if isinstance(v, Belligerent)}

    @property
    def backers(self) -> dict[str, Backer]:
        return {k: v for k, v in self.actors.items() if isinstance(v, Backer)}

    @property
    def rivals(self) -> dict[str, Rival]:
        return {k: v for k, v in self.actors.items() if isinstance(v, Rival)}

    def side(self, which: Literal["a", "b"]) -> str:
        """The id of the belligerent on side `which`."""
        return next(k for k, v in self.belligerents.items() if v.side == which)
