"""Search files: which levers a policy search may move, and what it optimizes (`offramp search`).

    base: drip-feed                  # the policy the candidates start from
    levers:
      aid_multiplier: {low: 0.5, high: 2.0}
      seek_talks_from_week: {low: 0, high: 52, integer: true}
      salient_posture: {choices: [hold, trade]}
      lift_restrictions: {from_week: {low: 0, high: 52}, value: true}
      withdraw_below_km2:
        trigger: {when: "salient_km2 < {value}", then: {salient_posture: withdraw}}
        low: 100
        high: 1200
    objectives:
      - {outcome: a_territory_share, statistic: mean, goal: max}
      - {outcome: casualties_a, statistic: p90, goal: min}
      - {statistic: meets_requirements, goal: max}
    constraints:
      - {outcome: two_front_war, statistic: mean, at_most: 0.3}

A lever is a range (`low`, `high`; `integer: true` for a week), a list of `choices`, a timing
(`from_week` range: the base policy's value until that week, `value` from it on: a schedule),
or a trigger's threshold (`trigger` with `{value}` in its condition, `low` and `high`: the
candidates differ in where the signpost sits). An objective is a statistic over futures of an
outcome (`mean`, `median`, `p10`, `p90`, `regret`: mean shortfall from the best of the
scenario's own policies in the same future) or `meets_requirements` (the share of futures
meeting the run's requirements), to `min`imize or `max`imize; a constraint bounds one
(`at_least` / `at_most`).
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from offramp.scenario.loader import ScenarioError, explain_validation_error, read_yaml
from offramp.scenario.schema import LEVER_NAMES, SCHEDULABLE, Policy, Trigger

Statistic = Literal["mean", "median", "p10", "p90", "regret", "meets_requirements"]
STATISTICS: tuple[str, ...] = ("mean", "median", "p10", "p90", "regret", "meets_requirements")


class WeekRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: int = Field(ge=0, le=1040)
    high: int = Field(ge=0, le=1040)


class LeverRange(BaseModel):
    """How one lever (or a trigger's threshold) may vary; exactly one kind is given."""

    model_config = ConfigDict(extra="forbid")

    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    integer: bool = False
    choices: list[Any] | None = Field(None, min_length=2)
    from_week: WeekRange | None = None
    value: Any = None
    trigger: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> LeverRange:
        ranged = self.low is not None or self.high is not None
        kinds = [self.choices is not None, self.from_week is not None,
                 ranged and self.trigger is None, self.trigger is not None]
        if sum(kinds) != 1:
            raise ValueError("give one of: low and high (a range), choices, from_week with "
                             "value (a timing), or trigger with low and high (a threshold)")
        if (ranged or self.trigger is not None) and (
                self.low is None or self.high is None or not self.low < self.high):
            raise ValueError(f"an empty range: low ({self.low}) must be below high "
                             f"({self.high})")
        if self.from_week is not None:
            if not self.from_week.low < self.from_week.high:
                raise ValueError(f"an empty range: from_week.low ({self.from_week.low}) must "
                                 f"be below from_week.high ({self.from_week.high})")
            if self.value is None:
                raise ValueError("a timing needs the value the lever takes from that week")
        if self.trigger is not None:
            when = self.trigger.get("when")
            if not isinstance(when, str) or "{value}" not in when:
                raise ValueError("a trigger's 'when' must hold {value}, where the threshold "
                                 "goes, e.g. \"salient_km2 < {value}\"")
            Trigger.model_validate({**self.trigger, "when": when.replace("{value}", "0")})
        return self

    @property
    def kind(self) -> Literal["range", "choices", "timing", "trigger"]:
        if self.choices is not None:
            return "choices"
        if self.from_week is not None:
            return "timing"
        return "trigger" if self.trigger is not None else "range"


class Measure(BaseModel):
    """A robustness statistic over futures of an outcome (or the share meeting the
    requirements, which takes no outcome)."""

    model_config = ConfigDict(extra="forbid")

    outcome: str | None = Field(None, description="An outcome column (offramp query's outcomes).")
    statistic: Statistic = "mean"

    @model_validator(mode="after")
    def _outcome_given(self) -> Measure:
        if (self.outcome is None) != (self.statistic == "meets_requirements"):
            raise ValueError("meets_requirements takes no outcome; every other statistic needs "
                             "one")
        return self

    @property
    def what(self) -> str:
        return self.statistic if self.outcome is None else f"{self.statistic} {self.outcome}"


class Objective(Measure):
    goal: Literal["min", "max"]

    @property
    def label(self) -> str:
        return self.what


class Constraint(Measure):
    at_least: float | None = Field(None, allow_inf_nan=False)
    at_most: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_bound(self) -> Constraint:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give one of at_least and at_most")
        return self

    @property
    def label(self) -> str:
        bound = self.at_least if self.at_least is not None else self.at_most
        return f"{self.what} {'>=' if self.at_least is not None else '<='} {bound:g}"


class SearchSpec(BaseModel):
    """A search file: the base policy, the levers that vary, the objectives and constraints."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(min_length=1, description="The scenario policy candidates start from.")
    levers: dict[str, LeverRange] = Field(min_length=1, max_length=30)
    objectives: list[Objective] = Field(min_length=1, max_length=8)
    constraints: list[Constraint] = Field(default_factory=list, max_length=8)

    @model_validator(mode="after")
    def _known_levers(self) -> SearchSpec:
        for name, spec in self.levers.items():
            if spec.kind == "trigger":
                continue
            if name not in LEVER_NAMES:
                raise ValueError(f"levers.{name}: unknown lever; levers: {', '.join(LEVER_NAMES)}"
                                 " (or a trigger threshold: give it a trigger)")
            if spec.kind == "timing" and name not in SCHEDULABLE:
                raise ValueError(f"levers.{name}: this lever cannot change over time; those "
                                 f"that can: {', '.join(SCHEDULABLE)}")
        return self


def builtin_searches() -> dict[str, Path]:
    """Names and paths of the search files shipped inside the package (one per scenario)."""
    folder = resources.files("offramp.scenario") / "searches"
    return {Path(entry.name).stem: Path(str(entry)) for entry in folder.iterdir()
            if entry.name.endswith(".yaml")}


def load_search(path: str | Path) -> SearchSpec:
    """Read and check a search file; a malformed one gets one line per problem naming the file,
    the line and the field (a ScenarioError)."""
    shipped = builtin_searches()
    path = shipped[str(path)] if str(path) in shipped else Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such search file (built-in ones: "
                            f"{', '.join(sorted(shipped))})")
    data, origins = read_yaml(path)
    try:
        return SearchSpec.model_validate(copy.deepcopy(data))
    except ValidationError as error:
        raise explain_validation_error(error, data, origins, str(path),
                                       what="the search file") from None


def candidate_policy(base: Policy, spec: SearchSpec, values: dict[str, Any], start: str,
                     description: str) -> Policy:
    """The base policy with the search's levers set to `values` (decoded: a number, a choice,
    a week for a timing, a threshold for a trigger), as a scenario policy."""
    data = base.model_dump()
    triggers = list(data.get("triggers") or [])
    for name, lever in spec.levers.items():
        value = values[name]
        if lever.kind in ("range", "choices"):
            data[name] = value
        elif lever.kind == "timing":
            data[name] = [{"from_week": int(value), "value": lever.value}] if value > 0 \
                else lever.value
        else:
            assert lever.trigger is not None  # the kind says so
            trigger = copy.deepcopy(lever.trigger)
            trigger["when"] = trigger["when"].replace("{value}", f"{float(value):.6g}")
            triggers.append(trigger)
    data["triggers"] = triggers
    data["description"] = description
    data["source"] = f"assumption: a candidate of offramp search from {start}, not a stated " \
                     "policy"
    return Policy.model_validate(data)
