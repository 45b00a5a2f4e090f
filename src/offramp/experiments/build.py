"""From a scenario, a table of futures and a policy name to the engine's inputs.

Each engine array is read from the futures column of the same dotted path
(`actors.ukraine.reserves`, `theaters.kursk.initial_forces.russia`,
`ladder.rungs[2].adoption_per_week`, ...). Axes follow the scenario's order: belligerents as
(side a, side b), then backers, rivals, theaters, seasons, elections and rungs as written.
Structural facts (who backs whom, whose soil a theater is, dates, rung effects) come from the
scenario itself; the levers come from the named policy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from typing import TYPE_CHECKING, cast, get_args

import numpy as np
import pandas as pd

from offramp.engine.extensions import Extended, discover
from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    SIDE_B,
    Backers,
    BargainingRules,
    Belligerents,
    CalendarRules,
    CombatRules,
    EngineInputs,
    EscalationRules,
    EscalationRungs,
    ForcesRules,
    IssueRules,
    LadderRules,
    Levers,
    LeverSchedule,
    OpponentRules,
    Rivals,
    RoutRules,
    StrikeRules,
    TerritoryRules,
    Theaters,
)
from offramp.engine.policy import Trigger
from offramp.errors import UserError
from offramp.scenario import schema
from offramp.scenario.conditions import OPPONENT_VARIABLES, STATE_VARIABLES, parse_condition
from offramp.scenario.schema import Scenario

if TYPE_CHECKING:
    from pydantic import BaseModel

_STRUCTURAL = {"names", "backs_side", "of_backer", "soil_side", "is_salient", "guaranteed",
               "conditions"}
# Engine options the scenario language does not have yet: they keep their defaults.
_NOT_IN_SCENARIO: set[str] = set()
# Optional sub-sections, built on their own when the scenario has them.
_SUBSECTIONS = {"rout", "issues", "rungs"}


# Optional scenario fields, by name, and the number they stand for when a scenario leaves them
# out: declared once, in the schema (`with_default`).
_DEFAULTS = {
    name: default
    for model in (schema.Belligerent, schema.Backer, schema.Ladder, schema.Escalation,
                  schema.EscalationRung, schema.Bargaining, schema.OpponentRule)
    for name in model.model_fields
    if (default := schema.default_when_absent(model, name)) is not None
}


class _Columns:
    """Reads futures columns as arrays in the engine's working precision (`FLOAT`), with a clear
    error for a missing one (the default for an optional field the scenario leaves out)."""

    def __init__(self, futures: pd.DataFrame):
        self.futures = futures
        self.n = len(futures)

    def __call__(self, path: str) -> np.ndarray:
        try:
            column = self.futures[path]
        except KeyError:
            default = _DEFAULTS.get(path.rsplit(".", 1)[-1])
            if default is not None:
                return np.full(self.n, default, dtype=FLOAT)
            raise UserError(
                f"the futures table has no column '{path}': it was not sampled from this "
                "scenario (sample_futures(scenario, ...) makes one column per parameter)"
            ) from None
        return np.ascontiguousarray(column.to_numpy(dtype=FLOAT))

    def rows(self, paths: list[str]) -> np.ndarray:
        """Stack columns into a (len(paths), n) array (an empty axis gives shape (0, n))."""
        if not paths:
            return np.zeros((0, self.n), dtype=FLOAT)
        return np.stack([self(path) for path in paths])


def levers_for(scenario: Scenario, policy: str) -> Levers | LeverSchedule:
    """The named policy's levers (a schedule of them if any lever is scheduled), or a
    UserError naming the known policies."""
    if policy not in scenario.policies:
        known = ", ".join(scenario.policies)
        raise UserError(f"unknown policy '{policy}' in scenario '{scenario.scenario.name}'; "
                        f"known policies: {known}")
    chosen = scenario.policies[policy]
    start = scenario.scenario.start_date
    steps = {lever: chosen.steps(lever, start) for lever in schema.SCHEDULABLE}
    triggers = tuple(_engine_trigger(trigger) for trigger in chosen.triggers)

    def value(lever: str, week: int):
        return [v for w, v in steps[lever] if w <= week][-1]

    def levers_at(week: int) -> Levers:
        floor = value("end_state_floor", week)
        return Levers(
            seek_talks_from_week=chosen.seek_talks_from_week,
            talks_initiative=float(value("talks_initiative", week)),
            pursue_ladder=bool(value("pursue_ladder", week)),
            lift_restrictions=bool(value("lift_restrictions", week)),
            aid_multiplier=float(value("aid_multiplier", week)),
            industrial_surge=float(value("industrial_surge", week)),
            salient_posture=value("salient_posture", week),
            pacific_reserve_share=float(value("pacific_reserve_share", week)),
            end_state_floor=None if floor is None else float(floor),
            security_guarantees=float(value("security_guarantees", week)),
            triggers=triggers,
        )

    weeks = sorted({week for lever_steps in steps.values() for week, _ in lever_steps})
    if weeks == [0]:
        return levers_at(0)
    taken, posture_since = 0, []
    for week in weeks:
        if value("salient_posture", week) != value("salient_posture", taken):
            taken = week
        posture_since.append(taken)
    return LeverSchedule(tuple(weeks), tuple(levers_at(week) for week in weeks),
                         tuple(posture_since))


def _condition(text: str) -> tuple[str, str, float]:
    condition = parse_condition(text, OPPONENT_VARIABLES, "state variable")
    return condition.name, condition.op, float(condition.value)


def _engine_trigger(trigger: schema.Trigger) -> Trigger:
    condition = parse_condition(trigger.when, STATE_VARIABLES, "state variable")
    then = trigger.then
    return Trigger(
        variable=condition.name, op=condition.op, value=float(condition.value),
        once=trigger.once, for_weeks=trigger.for_weeks,
        lift_restrictions=then.lift_restrictions,
        aid_multiplier=None if then.aid_multiplier is None else float(then.aid_multiplier),
        seek_talks=then.seek_talks, withdraw=then.salient_posture == "withdraw",
    )


def _array_fields(cls: type) -> list[str]:
    skipped = _STRUCTURAL | _NOT_IN_SCENARIO | _SUBSECTIONS
    return [f.name for f in fields(cls) if f.name not in skipped]


def _main_backer(scenario: Scenario, side_a: str) -> int | None:
    """Side a's backer with the largest median initial shell stock (None if it has none)."""
    best, best_stock = None, -np.inf
    for index, backer in enumerate(scenario.backers.values()):
        if backer.backs != side_a:
            continue
        median_stock = float(backer.shell_stock.ppf(np.array([0.5]))[0])
        if median_stock > best_stock:
            best, best_stock = index, median_stock
    return best


def _optional_rows(col: _Columns, paths: list[str | None], fill: float) -> np.ndarray | None:
    """(len(paths), n): the column of each path, `fill` where an item leaves the optional field
    out (path None); None when every item leaves it out."""
    if all(path is None for path in paths):
        return None
    return np.stack([np.full(col.n, fill, dtype=FLOAT) if path is None else col(path)
                     for path in paths])


def _openings(scenario: Scenario, col: _Columns, theater_ids: list[str]) -> dict:
    """`opens_after` and `opens_below_km2` for `Theaters` (nothing when no theater has them)."""
    opens = [scenario.theaters[t].opens_after for t in theater_ids]
    if all(rule is None for rule in opens):
        return {}
    return {
        "opens_after": tuple(-1 if rule is None else theater_ids.index(rule.theater)
                             for rule in opens),
        "opens_below_km2": _optional_rows(
            col, [None if rule is None else f"theaters.{t}.opens_after.enemy_held_below_km2"
                  for t, rule in zip(theater_ids, opens, strict=True)], 0.0),
    }


def build_inputs(scenario: Scenario, futures: pd.DataFrame, policy: str
                 ) -> tuple[EngineInputs, Levers | LeverSchedule]:
    """Engine inputs for the futures in `futures` (rows in order) and the policy's levers."""
    levers = levers_for(scenario, policy)
    return engine_inputs(scenario, futures), levers


def engine_inputs(scenario: Scenario, futures: pd.DataFrame) -> EngineInputs:
    """Engine inputs for the futures in `futures` (rows in order): the same for every policy."""
    col = _Columns(futures)
    side_ids = (scenario.side("a"), scenario.side("b"))
    side_of = {side_ids[SIDE_A]: SIDE_A, side_ids[SIDE_B]: SIDE_B}

    belligerents = Belligerents(
        names=side_ids,
        **{name: col.rows([f"actors.{actor}.{name}" for actor in side_ids])
           for name in _array_fields(Belligerents)},
    )

    backer_ids = list(scenario.backers)
    backers = Backers(
        names=tuple(backer_ids),
        backs_side=tuple(side_of[scenario.backers[k].backs] for k in backer_ids),
        **{name: col.rows([f"actors.{k}.{name}" for k in backer_ids])
           for name in _array_fields(Backers)},
    )

    rival_ids = list(scenario.rivals)
    rivals = Rivals(
        names=tuple(rival_ids),
        of_backer=tuple(backer_ids.index(scenario.rivals[r].of_backer) for r in rival_ids),
        **{name: col.rows([f"actors.{r}.{name}" for r in rival_ids])
           for name in _array_fields(Rivals)},
    )

    theater_ids = list(scenario.theaters)

    def per_side(name: str) -> np.ndarray:
        return np.stack([col.rows([f"theaters.{t}.{name}.{actor}" for t in theater_ids])
                         for actor in side_ids])

    theaters = Theaters(
        names=tuple(theater_ids),
        soil_side=tuple(side_of[scenario.theaters[t].soil_of] for t in theater_ids),
        is_salient=tuple(scenario.theaters[t].kind == "salient" for t in theater_ids),
        contested_area_km2=col.rows([f"theaters.{t}.contested_area_km2" for t in theater_ids]),
        initial_enemy_held_km2=col.rows([f"theaters.{t}.initial_enemy_held_km2"
                                         for t in theater_ids]),
        frontage_km=col.rows([f"theaters.{t}.frontage_km" for t in theater_ids]),
        initial_forces=per_side("initial_forces"),
        reinforcement_weight=per_side("reinforcement_weight"),
        terrain_factor=col.rows([f"theaters.{t}.terrain_factor" for t in theater_ids]),
        occupier_strength_loss=_optional_rows(
            col, [None if scenario.theaters[t].occupier_strength_loss is None
                  else f"theaters.{t}.occupier_strength_loss" for t in theater_ids], 0.0),
        attacker_side=None if all(scenario.theaters[t].defender is None for t in theater_ids)
        else tuple(-1 if scenario.theaters[t].defender is None
                   else 1 - side_of[cast(str, scenario.theaters[t].defender)]  # not None
                   for t in theater_ids),
        **_openings(scenario, col, theater_ids),
    )

    seasons = scenario.calendar.seasons
    elections = scenario.elections
    calendar = CalendarRules(
        start_date=scenario.scenario.start_date,
        season_names=tuple(s.name for s in seasons),
        season_start=tuple((s.start_month, s.start_day) for s in seasons),
        season_weeks=tuple(s.weeks for s in seasons),
        season_advance_multiplier=col.rows([f"calendar.seasons[{i}].advance_multiplier"
                                            for i in range(len(seasons))]),
        election_date=tuple(e.date for e in elections),
        election_takes_office=tuple(e.takes_office for e in elections),
        election_actor_backer=tuple(backer_ids.index(e.actor) if e.actor in backer_ids else -1
                                    for e in elections),
        election_actor_side=tuple(side_of.get(e.actor, -1) for e in elections),
        **{name: col.rows([f"elections[{i}].{name}" for i in range(len(elections))])
           for name in ("challenger_wins", "aid_multiplier_if_challenger",
                        "talks_push_if_challenger")},
    )

    def section(cls: type, prefix: str):
        return cls(**{name: col(f"{prefix}.{name}") for name in _array_fields(cls)})

    issue_ids = list(scenario.bargaining.issues)
    issues = IssueRules(
        names=tuple(issue_ids),
        guaranteed=tuple(i == schema.GUARANTEED_ISSUE for i in issue_ids),
        **{name: col.rows([f"bargaining.issues.{i}.{name}" for i in issue_ids])
           for name in _array_fields(IssueRules)},
    ) if issue_ids else None

    opponent = None
    if scenario.opponent is not None:
        rules = scenario.opponent.rules
        opponent = OpponentRules(
            names=tuple(rule.id for rule in rules),
            conditions=tuple(tuple(_condition(text) for text in rule.when) for rule in rules),
            **{name: col.rows([f"opponent.rules[{i}].{name}" for i in range(len(rules))])
               for name in _array_fields(OpponentRules)},
        )

    escalation_rungs = scenario.escalation.rungs
    escalation = dataclasses.replace(section(EscalationRules, "escalation"), rungs=EscalationRungs(
        names=tuple(rung.id for rung in escalation_rungs),
        **{name: col.rows([f"escalation.rungs[{i}].{name}" for i in range(len(escalation_rungs))])
           for name in _array_fields(EscalationRungs)},
    ) if escalation_rungs else None)

    rungs = scenario.ladder.rungs
    ladder = LadderRules(
        rung_ids=tuple(r.id for r in rungs),
        effects=tuple(r.effect for r in rungs),
        pressure_effect=col("ladder.pressure_effect"),
        relapse_reduction_per_rung=col("ladder.relapse_reduction_per_rung"),
        **{name: col.rows([f"ladder.rungs[{i}].{name}" for i in range(len(rungs))])
           for name in ("adoption_per_week", "violation_per_week", "strength")},
        ripe_below_line_movement=_optional_rows(
            col, [None if rung.ripe_below_line_movement is None
                  else f"ladder.rungs[{i}].ripe_below_line_movement"
                  for i, rung in enumerate(rungs)], np.inf),
    )

    return EngineInputs(
        horizon_weeks=scenario.scenario.horizon_weeks,
        belligerents=belligerents,
        backers=backers,
        rivals=rivals,
        theaters=theaters,
        calendar=calendar,
        forces=section(ForcesRules, "forces"),
        combat=dataclasses.replace(
            section(CombatRules, "combat"),
            rout=section(RoutRules, "combat.rout") if scenario.combat.rout else None),
        territory=section(TerritoryRules, "territory"),
        strikes=section(StrikeRules, "strikes"),
        escalation=escalation,
        ladder=ladder,
        bargaining=dataclasses.replace(section(BargainingRules, "bargaining"), issues=issues),
        main_backer=_main_backer(scenario, side_ids[SIDE_A]),
        opponent=opponent,
        extensions=tuple(Extended(mechanism, section(mechanism.Rules, mechanism.SECTION))
                         for mechanism in discover()
                         if getattr(scenario, mechanism.SECTION, None) is not None),
    )


# --- the schema and the engine's inputs: one set of names ---------------------------------------

ENGINE_SECTIONS: dict[type, tuple[type[BaseModel], ...]] = {
    Belligerents: (schema.Belligerent,), Backers: (schema.Backer,), Rivals: (schema.Rival,),
    Theaters: (schema.Theater, schema.OpensAfter), ForcesRules: (schema.Forces,),
    CombatRules: (schema.Combat,), RoutRules: (schema.Rout,), TerritoryRules: (schema.Territory,),
    StrikeRules: (schema.Strikes,), EscalationRules: (schema.Escalation,),
    EscalationRungs: (schema.EscalationRung,),
    LadderRules: (schema.Ladder, schema.LadderRung), BargainingRules: (schema.Bargaining,),
    IssueRules: (schema.BargainingIssue,), OpponentRules: (schema.OpponentRule,),
    CalendarRules: (schema.Season, schema.Election),
}
"""Which scenario sections each engine input is read from (`build_inputs`)."""
RENAMED = {
    "season_advance_multiplier": "advance_multiplier",  # a season's, one row per season
    "opens_below_km2": "enemy_held_below_km2",  # of a theater's `opens_after`
}
"""Engine fields named otherwise than the parameter they carry (the engine's name says the axis
or the rule it belongs to)."""


def _parameter_fields(model: type[BaseModel]) -> set[str]:
    """The fields of a schema section that hold parameters (one, or one per actor)."""
    marker = repr(schema.Param).split("[", 2)[2].split(",")[0]  # the first parameter kind
    return {name for name, field in model.model_fields.items()
            if marker in repr(field.annotation)}


def _engine_arrays(cls: type) -> set[str]:
    """The fields of an engine input that carry numbers over futures (arrays)."""
    return {f.name for f in fields(cls) if "ndarray" in str(f.type)}


def _extension_sections() -> dict[type, tuple[type[BaseModel], ...]]:
    """Each extension mechanism's `Rules` and the scenario section of its `SECTION` name."""
    sections: dict[type, tuple[type[BaseModel], ...]] = {}
    for mechanism in discover():
        field = Scenario.model_fields.get(mechanism.SECTION)
        models = () if field is None else tuple(
            arg for arg in (get_args(field.annotation) or (field.annotation,))
            if isinstance(arg, type) and arg is not type(None))
        sections[mechanism.Rules] = models
    return sections


def unmatched_names() -> list[str]:
    """Engine input fields with no parameter of the same name in their scenario sections, and
    parameters no engine field reads: each is a second spelling of one quantity (or a forgotten
    one). `build_inputs` relies on there being none; a test keeps it so."""
    problems = []
    for engine_class, models in {**ENGINE_SECTIONS, **_extension_sections()}.items():
        if not models:
            problems.append(f"extension {engine_class.__module__} has no scenario section "
                            "of its SECTION name")
            continue
        engine = {RENAMED.get(name, name) for name in _engine_arrays(engine_class)}
        declared = set().union(*(_parameter_fields(model) for model in models))
        for name in sorted(engine - declared):
            problems.append(f"engine {engine_class.__name__}.{name} has no scenario parameter")
        for name in sorted(declared - engine - _SUBSECTIONS):
            problems.append(f"scenario {'/'.join(m.__name__ for m in models)}.{name} reaches no "
                            f"engine field of {engine_class.__name__}")
    return problems
