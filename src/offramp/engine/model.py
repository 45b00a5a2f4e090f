"""The weekly step order, in one function: `simulate`.

Every mechanism is a pure function in `offramp.engine.mechanisms`; this module decides the order
in which they act and which piece of state each one sees. Within a week:

    calendar -> aid (policy allocation) -> industry -> forces -> combat -> territory -> strikes
    -> politics -> escalation -> ladder -> bargaining -> rivals -> extensions -> record

A mechanism sees this week's results of the mechanisms before it and last week's of those
after it (e.g. `forces` allocates on last week's combat power; `politics` applies last week's
escalation shock). The loop runs over weeks only; each mechanism's week is one compiled loop
over the futures (its `_step_kernel`, see `offramp.engine.vector_math`). Futures whose war has
been settled leave that loop every few weeks and only their high-end stocks and rivals are
stepped from then on (`Settled`): the same numbers, less work.
Extension mechanisms (`offramp.engine.extensions`) step last, reading the week's whole state;
their `Effects` act on the next week's industry, territory, politics and bargaining.

Every run without an extension mechanism or an observer runs this order compiled, over blocks
of futures with the weeks inside (`offramp.engine.blocks`, about twice as fast); the Python loop
below is the reference it is tested against, bit for bit, and runs the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from offramp.engine import blocks, extensions, policy
from offramp.engine.blocks import _damp, _hand_back, _war_flags
from offramp.engine.inputs import (
    FLOAT,
    SIDE_A,
    WEEKS_PER_MONTH,
    Backers,
    EngineInputs,
    History,
    Levers,
    LeverSchedule,
    Rivals,
    in_working_precision,
)
from offramp.engine.mechanisms import (
    aid,
    bargaining,
    calendar,
    combat,
    escalation,
    forces,
    industry,
    ladder,
    politics,
    rivals,
    strikes,
    territory,
)
from offramp.engine.noise import NoiseSource, compiled_kernels_enabled, make_key
from offramp.engine.outcomes import (
    LEVER_SERIES,
    SERIES_NAMES,
    EngineResult,
    RecordState,
    final_outcomes,
    initial_record,
    lever_row,
    observed,
    record_week,
    series_row,
)
from offramp.engine.state import (
    SETTLED,
    STATUS_DTYPE,
    WAR,
    State,
    concat_futures,
    take_futures,
)

RETIRE_EVERY_WEEKS = 8
RETIRE_MIN_SHARE = 0.25
"""Every RETIRE_EVERY_WEEKS weeks, if at least RETIRE_MIN_SHARE of the futures still in the
main loop have settled, they leave it (see `Settled`). Moving futures costs a few milliseconds,
so it is worth doing only in batches."""


@dataclass(frozen=True)
class Plans:
    """Per-run constants of each mechanism (levers resolved, per-week tables)."""

    calendar: calendar.CalendarPlan
    aid: aid.AidPlan
    industry: industry.IndustryPlan
    forces: forces.ForcesPlan
    combat: combat.CombatPlan
    territory: territory.TerritoryPlan
    ladder: ladder.LadderPlan
    bargaining: bargaining.BargainingPlan
    salient_theaters: np.ndarray  # (J,) 1.0 where the no-incursions rung acts


def make_plans(inputs: EngineInputs, levers: Levers,
               calendar_plan: calendar.CalendarPlan | None = None, posture_since: int = 0
               ) -> Plans:
    """Per-run constants (until the levers next change); the calendar plan depends on dates
    only and can be passed in. `posture_since`: the week the salient posture was taken."""
    return Plans(
        calendar=calendar_plan or calendar.plan(inputs.calendar, inputs.horizon_weeks),
        aid=aid.plan(inputs.backers, inputs.rivals, levers),
        industry=industry.plan(inputs.belligerents, inputs.backers, inputs.rivals, levers),
        forces=forces.plan(inputs.belligerents, inputs.theaters, inputs.forces, levers),
        combat=combat.plan(inputs.theaters, inputs.combat),
        territory=territory.plan(inputs.theaters, inputs.territory, levers, posture_since),
        ladder=ladder.plan(inputs.ladder, levers),
        bargaining=bargaining.plan(inputs.belligerents, inputs.theaters, inputs.bargaining,
                                   levers),
        salient_theaters=np.array(inputs.theaters.is_salient, dtype=FLOAT),
    )


def initial_state(inputs: EngineInputs, plans: Plans, noise: NoiseSource,
                  levers: Levers | None = None) -> State:
    n = inputs.n_futures
    held = territory.initial_state(inputs.theaters)
    a_share, e, _ = territory.shares(inputs.belligerents, inputs.theaters, plans.territory,
                                     held.enemy_held_km2)
    return State(
        week=0,
        status=np.full(n, WAR, dtype=STATUS_DTYPE),
        calendar=calendar.initial_state(inputs.calendar, n),
        industry=industry.initial_state(inputs.belligerents, inputs.backers),
        forces=forces.initial_state(inputs.belligerents, inputs.theaters),
        combat=combat.initial_state(inputs.belligerents, inputs.theaters),
        territory=held,
        strikes=strikes.initial_state(inputs.belligerents.generating_capacity_share[SIDE_A]),
        politics=politics.initial_state(inputs.belligerents, inputs.backers),
        escalation=escalation.initial_state(n, inputs.escalation.rungs),
        ladder=ladder.initial_state(inputs.ladder, plans.ladder),
        bargaining=bargaining.initial_state(inputs.belligerents, plans.bargaining, a_share, e,
                                            noise),
        rivals=rivals.initial_state(inputs.rivals),
        triggers=policy.initial_state(levers.triggers, n) if levers and levers.triggers
        else None,
        opponent_follows=None if inputs.opponent is None
        else policy.opponent_follows(inputs.opponent, noise),
        extensions=extensions.initial_states(inputs.extensions, n),
    )


@dataclass(frozen=True)
class Group:
    """Futures still stepped by the full weekly loop, with what stepping them needs."""

    positions: np.ndarray  # (m,) positions of these futures in the chunk
    inputs: EngineInputs
    plans: Plans
    noise: NoiseSource
    state: State
    record: RecordState

    def subset(self, index: np.ndarray, levers: Levers, key: tuple[int, int],
               future_index: np.ndarray) -> Group:
        inputs = take_futures(self.inputs, index)
        positions = self.positions[index]
        plans = make_plans(inputs, levers, self.plans.calendar,
                           self.plans.territory.withdraw_from_week)
        return Group(positions, inputs, plans,
                     NoiseSource(key, future_index[positions]),
                     take_futures(self.state, index), take_futures(self.record, index))


@dataclass(frozen=True)
class Settled:
    """Settled futures, out of the main loop.

    After a settlement only two things still change that reach an outcome: the main backer's
    high-end stock (its production, and use by a rival that opens) and the rivals' hazards. So
    every RETIRE_EVERY_WEEKS weeks settled futures leave the full loop and step only these, with
    the same arithmetic the full step would apply to them (no transfers, no war on). Random
    numbers are keyed by the global future index and every operation is per future, so this
    changes no outcome (tested: they are bit-identical with an observer, which turns it off);
    it saves the work of fighting wars that are over.
    """

    positions: np.ndarray
    backers: Backers
    rivals: Rivals
    rival_use_per_week: np.ndarray  # (R, m)
    rival_backer: np.ndarray  # (K, R)
    noise: NoiseSource
    state: State
    record: RecordState

    @classmethod
    def leaving(cls, group: Group, index: np.ndarray, key: tuple[int, int],
                future_index: np.ndarray) -> Settled:
        positions = group.positions[index]
        return cls(positions, take_futures(group.inputs.backers, index),
                   take_futures(group.inputs.rivals, index),
                   group.plans.industry.rival_use_per_week[..., index],
                   group.plans.industry.rival_backer, NoiseSource(key, future_index[positions]),
                   take_futures(group.state, index), take_futures(group.record, index))

    def join(self, other: Settled, key: tuple[int, int], future_index: np.ndarray) -> Settled:
        positions = np.concatenate([self.positions, other.positions])
        return Settled(positions, concat_futures(self.backers, other.backers),
                       concat_futures(self.rivals, other.rivals),
                       np.concatenate([self.rival_use_per_week, other.rival_use_per_week],
                                      axis=-1),
                       self.rival_backer, NoiseSource(key, future_index[positions]),
                       concat_futures(self.state, other.state),
                       concat_futures(self.record, other.record))


def simulate(
    inputs: EngineInputs, levers: Levers | LeverSchedule, seed: int, future_index: np.ndarray,
    record_series: bool = False, observe: Callable[[State], None] | None = None,
    history: History | None = None,
) -> EngineResult:
    """Run one policy (its levers, or a schedule of them) over a chunk of futures for the whole
    horizon.

    `future_index` holds the global indices of the futures in this chunk: the random numbers
    of a future depend only on (seed, its index, the week, the purpose), so results do not
    depend on how futures are chunked, and every policy sees the same noise. `observe`, if
    given, is called with the initial state and with the state at the end of every week (for
    tests and diagnostics; it must not change the state). `history`: a branched run's first
    weeks, replayed from parent futures under the levers that were followed (`History`).
    """
    n = inputs.n_futures
    future_index = np.asarray(future_index)
    if future_index.shape != (n,):
        raise ValueError(f"future_index has shape {future_index.shape}; expected ({n},)")
    key = own_key = make_key(seed)
    own_index = future_index
    schedule = LeverSchedule.of(levers)
    branch_week = -1
    if history is not None:
        if history.parent_index.shape != (n,):
            raise ValueError(f"parent_index has shape {history.parent_index.shape}; "
                             f"expected ({n},)")
        branch_week = history.week
        schedule = LeverSchedule.of(history.levers).branch(schedule, branch_week)
        # until the branch week: the parent futures' noise
        key, future_index = make_key(history.seed), np.asarray(history.parent_index)
    changes = dict(zip(schedule.weeks, range(len(schedule.weeks)), strict=True))
    levers = schedule.levers[0]
    full_inputs = in_working_precision(inputs)
    full_plans = make_plans(full_inputs, levers)
    full_noise = NoiseSource(key, future_index)
    state = initial_state(full_inputs, full_plans, full_noise, levers)
    record = initial_record(full_inputs, state)
    active = Group(np.arange(n), full_inputs, full_plans, full_noise, state, record)
    retired: Settled | None = None
    # Observers and series see every future every week: retirement is off for them.
    retire = observe is None and not record_series
    a_share, _, salient_km2 = territory.shares(full_inputs.belligerents, full_inputs.theaters,
                                               full_plans.territory, state.territory.enemy_held_km2)
    # one (series, weeks + 1, futures) array; `series` maps each name to its rows
    series_rows = np.empty((len(SERIES_NAMES), full_inputs.horizon_weeks + 1, n),
                           dtype=np.float32) if record_series else None
    series = None if series_rows is None \
        else _start_series(full_inputs, state, a_share, salient_km2, series_rows)
    if observe is not None:
        observe(state)
    if compiled_kernels_enabled() and blocks.applies(full_inputs, plain_run=observe is None):
        state, record = _in_blocks(active, schedule, series_rows, branch_week,
                                   active.noise if history is None
                                   else NoiseSource(own_key, own_index))
        return _result(full_inputs, full_plans, state, record, series)

    for week in range(full_inputs.horizon_weeks):
        if week == branch_week:  # a branched run's own noise from here
            key, future_index = own_key, own_index
            active = dataclasses.replace(active,
                                         noise=NoiseSource(key, own_index[active.positions]))
            if retired is not None:
                retired = dataclasses.replace(
                    retired, noise=NoiseSource(key, own_index[retired.positions]))
        if week in changes and week > 0:  # a scheduled change of levers: new per-run constants
            step = changes[week]
            watched = levers.triggers
            levers = schedule.levers[step]
            active = dataclasses.replace(active, plans=make_plans(
                active.inputs, levers, active.plans.calendar, schedule.posture_since[step]))
            if levers.triggers != watched:  # another policy's signposts: watched from now on
                active = _watching(active, levers)
                retired = None if retired is None else _watching(retired, levers)
        inputs, plans, noise = active.inputs, active.plans, active.noise
        state, record = active.state, active.record
        b, th, lad = inputs.belligerents, inputs.theaters, inputs.ladder
        n = inputs.n_futures
        effects = state.effects  # of last week's extensions
        at_war, not_settled = np.empty(n, dtype=FLOAT), np.empty(n, dtype=FLOAT)
        _war_flags(state.status, at_war, not_settled)

        # the policy's triggers: signposts read on last week's state, levers set per future
        trigger_state, overrides = state.triggers, policy.NO_OVERRIDES
        shown: dict[str, np.ndarray | float] = {}
        if levers.triggers or inputs.opponent is not None:
            shown_share, _, shown_salient = territory.shares(
                b, th, plans.territory, state.territory.enemy_held_km2)
            shown = observed(inputs, state, shown_share, shown_salient, week)
        if levers.triggers:
            trigger_state, overrides = policy.step(levers.triggers, state.triggers, shown, week)
        if series is not None:
            for name, lever_values in lever_row(levers, week, overrides).items():
                series[name][week] = lever_values
        lift_now = overrides.value("lift_restrictions", levers.lift_restrictions)
        # side b's own rules, on the same state and side a's levers this week
        opponent = policy.NO_OPPONENT_EFFECTS if inputs.opponent is None \
            else policy.opponent_step(inputs.opponent, state.opponent_follows,
                                      {**shown, "restrictions_lifted": lift_now})
        withdrawing = None if overrides.withdraw_since is None \
            else np.isfinite(overrides.withdraw_since)

        # calendar: season, elections
        calendar_state, now = calendar.step(inputs.calendar, plans.calendar, state.calendar,
                                            noise, week)

        # policy and aid allocation: what backers send this week
        flows = aid.step(
            inputs.backers, inputs.rivals, plans.aid,
            backer_support=state.politics.backer_support,
            production_per_month=state.industry.backer_production_per_month,
            shell_stock=state.industry.backer_shell_stock,
            high_end_stock=state.industry.backer_high_end_stock,
            rival_opened=state.rivals.opened,
            election_aid_multiplier=calendar.aid_multiplier_by_backer(
                inputs.calendar, now, inputs.backers.count, n),
            not_settled=not_settled,
            lever=None if overrides.aid_multiplier is None
            else np.asarray(overrides.value("aid_multiplier", levers.aid_multiplier)),
        )

        # industry: produce and stock
        industry_state = industry.step(
            inputs.backers, inputs.rivals, plans.industry, state.industry,
            shells_sent=flows.shells_sent, high_end_sent=flows.high_end_sent,
            shells_received=flows.shells_received, rival_opened=state.rivals.opened,
            supply_multiplier=effects.supply_multiplier,
        )

        # forces: train, commit, withdraw
        forces_state = forces.step(
            b, th, inputs.forces, plans.forces, state.forces, power=state.combat.power,
            enemy_held_km2=state.territory.enemy_held_km2, support=state.politics.support,
            wounded_returning=state.combat.wounded_returning, withdrawing=withdrawing,
        )

        # combat: fire, attrition
        disengagement = ladder.effect_strength(lad, plans.ladder, state.ladder, "disengagement")
        no_incursions = ladder.effect_strength(lad, plans.ladder, state.ladder, "no_incursions")
        rear_ban = ladder.effect_strength(lad, plans.ladder, state.ladder, "deep_strike_ban")
        damp = np.empty((th.count, n), dtype=FLOAT)
        _damp(at_war, _array_or_none(disengagement), _array_or_none(no_incursions),
              plans.salient_theaters, plans.ladder.pursued, damp)
        logistics_hit = escalation.logistics_hit(inputs.escalation, lift_now, state.escalation,
                                                 rear_ban)
        fought = combat.step(
            b, inputs.combat, plans.combat, state.combat, forces=forces_state.forces,
            shell_stock=industry_state.shell_stock, at_war=at_war, damp=damp,
            logistics_hit=logistics_hit, noise=noise, week=week,
            enemy_held_km2=state.territory.enemy_held_km2, b_intensity=opponent.offensive,
        )
        forces_state = forces.ForcesState(fought.forces, forces_state.reserves,
                                          forces_state.in_training)
        industry_state = industry.IndustryState(
            industry_state.backer_production_per_month, industry_state.backer_shell_stock,
            industry_state.backer_high_end_stock, fought.shell_stock)

        # territory: the lines move
        advance_multiplier = now.advance_multiplier * combat.pursuit(inputs.combat, fought.routed)
        if effects.advance_multiplier is not None:
            advance_multiplier = advance_multiplier * effects.advance_multiplier
        territory_state = territory.step(
            th, inputs.territory, plans.territory, state.territory, power=fought.state.power,
            advance_multiplier=advance_multiplier,
            damp=damp,
            withdrawal_weeks=inputs.forces.withdrawal_weeks, week=week,
            withdraw_since=overrides.withdraw_since,
        )
        a_share, e, salient_km2 = territory.shares(b, th, plans.territory,
                                                   territory_state.enemy_held_km2)

        # strikes on the grid
        strikes_state = strikes.step(
            inputs.strikes, state.strikes, at_war=at_war,
            surge=state.escalation.surge_weeks_left > 0,
            ban_strength=ladder.effect_strength(lad, plans.ladder, state.ladder,
                                                "energy_strike_ban"),
        )

        # politics: support at home and among backers
        politics_state = politics.step(
            b, inputs.backers, state.politics, casualties_total=fought.state.casualties_total,
            capacity_a=strikes_state.generating_capacity,
            escalation_event=state.escalation.event_this_week,
            support_shock=inputs.escalation.support_shock, noise=noise, week=week,
            support_logit_shift=effects.support_logit_shift,
            rung_shock=state.escalation.rung_shock,
        )

        # escalation: talks in prospect (sought or pushed, not yet open) invite coercion
        talks_push = calendar.talks_push(inputs.calendar, now)
        if effects.talks_push is not None:
            talks_push = talks_push + effects.talks_push
        seeking = overrides.value("seek_talks", float(
            levers.seek_talks_from_week is not None and week >= levers.seek_talks_from_week))
        prospect = ((levers.talks_initiative * seeking + talks_push) > 0) \
            & ~state.bargaining.talks_open
        escalation_state = escalation.step(
            inputs.escalation, lift_now, state.escalation, at_war=at_war, rear_ban=rear_ban,
            noise=noise, week=week, prospect=prospect, hazard_multiplier=opponent.escalation,
        )

        # ladder: violations, relapse, adoption
        ladder_state, status = ladder.step(
            lad, inputs.bargaining.ceasefire_relapse_per_week, plans.ladder, state.ladder,
            status=state.status, support=politics_state.support,
            initial_support=b.initial_support,
            line_moved=territory.line_moved(b, state.territory, territory_state)
            if lad.ripe_below_line_movement is not None else None,
            noise=noise, week=week, adoption_multiplier=opponent.ladder_adoption,
        )

        # bargaining: beliefs, talks, settlement
        intensity = fought.state.recent_casualties / fought.state.reference_casualties
        bargaining_state, status = bargaining.step(
            b, inputs.bargaining, plans.bargaining, state.bargaining, status=status,
            a_share=a_share, e=e, salient_km2=salient_km2,
            enemy_held_km2=territory_state.enemy_held_km2, support=politics_state.support,
            intensity=intensity,
            shipping=ladder.effect_strength(lad, plans.ladder, ladder_state, "shipping"),
            talks_push=talks_push, closes_talks=escalation_state.closes_talks, noise=noise,
            week=week, disengagement=disengagement,
            seeking=seeking if isinstance(seeking, np.ndarray) else None,
            offers_multiplier=opponent.offers,
        )
        # A settlement hands b's soil back: a's salients are emptied (in this week's array).
        if _hand_back(state.status, status, plans.territory.on_b_soil,
                      territory_state.enemy_held_km2):
            a_share, e, salient_km2 = territory.shares(b, th, plans.territory,
                                                       territory_state.enemy_held_km2)

        # rivals
        rivals_state = rivals.step(
            inputs.rivals, inputs.backers, state.rivals,
            high_end_stock=industry_state.backer_high_end_stock,
            war_on=(status == WAR).astype(FLOAT), noise=noise, week=week,
        )

        state = State(
            week=week + 1, status=status, calendar=calendar_state, industry=industry_state,
            forces=forces_state, combat=fought.state, territory=territory_state,
            strikes=strikes_state, politics=politics_state, escalation=escalation_state,
            ladder=ladder_state, bargaining=bargaining_state, rivals=rivals_state,
            triggers=trigger_state, opponent_follows=state.opponent_follows,
            extensions=state.extensions,
        )
        if inputs.extensions:
            extension_states, effects = extensions.step(inputs.extensions, state.extensions,
                                                        state, noise, week)
            state = dataclasses.replace(state, extensions=extension_states, effects=effects)
        record = record_week(inputs, record, state, flows.shells_received[SIDE_A], week)
        if observe is not None:
            observe(state)
        if series is not None:
            for name, values in series_row(inputs, state, a_share, salient_km2).items():
                series[name][week + 1] = values
        active = dataclasses.replace(active, state=state, record=record)

        # settled futures: only backers' high-end stocks and the rivals still move
        if retired is not None:
            retired = _after_settlement(retired, full_inputs.main_backer, week)
        if retire and (week + 1) % RETIRE_EVERY_WEEKS == 0 and week + 1 < full_inputs.horizon_weeks:
            settled = state.status == SETTLED
            if settled.mean() >= RETIRE_MIN_SHARE and not settled.all():
                leaving = Settled.leaving(active, np.flatnonzero(settled), key, future_index)
                active = active.subset(np.flatnonzero(~settled), levers, key, future_index)
                retired = leaving if retired is None else retired.join(leaving, key, future_index)

    state, record = _in_chunk_order(active, retired)
    return _result(full_inputs, full_plans, state, record, series)


def _result(inputs: EngineInputs, plans: Plans, state: State, record: RecordState,
            series: dict[str, np.ndarray] | None) -> EngineResult:
    if series is not None:  # the last row: no week starts there; it repeats the last week's
        for name in LEVER_SERIES:
            series[name][-1] = series[name][-2]
    a_share, _, salient_km2 = territory.shares(inputs.belligerents, inputs.theaters,
                                               plans.territory, state.territory.enemy_held_km2)
    outcomes = final_outcomes(inputs, state, record, a_share, salient_km2)
    return EngineResult(outcomes=outcomes, series=series)


def _in_blocks(group: Group, schedule: LeverSchedule, series_rows: np.ndarray | None,
               branch_week: int, own_noise: NoiseSource) -> tuple[State, RecordState]:
    """The whole horizon through the compiled loop (`blocks`), in stretches of weeks: one
    between scheduled lever changes, with its own plans, and a branched run's first weeks with
    the parent futures' noise (`group.noise`; from `branch_week`, `own_noise`). The final state
    and record of every future (and `series_rows` filled after their first row)."""
    horizon = group.inputs.horizon_weeks
    starts = sorted({week for week in (*schedule.weeks, branch_week) if 0 <= week < horizon}
                    | {0})
    plans = {0: group.plans}
    epochs = []
    for first, last in zip(starts, [*starts[1:], horizon], strict=True):
        step = schedule.in_force(first)
        if step not in plans:
            plans[step] = make_plans(group.inputs, schedule.levers[step], group.plans.calendar,
                                     schedule.posture_since[step])
        epochs.append((first, last, plans[step], schedule.levers[step],
                       group.noise if first < branch_week else own_noise))
    # (a stretch whose levers watch other triggers than the last starts them afresh, as
    # `_watching` does: blocks.run compares each stretch's triggers with the one before)
    return blocks.run(group.inputs, epochs, group.state, group.record, series_rows)


def _array_or_none(strength: np.ndarray | float) -> np.ndarray | None:
    """A measure's strength for `_damp`: `ladder.effect_strength` gives 0.0 for none."""
    if isinstance(strength, np.ndarray):
        return strength
    assert strength == 0.0
    return None


def _after_settlement(group: Settled, main_backer: int | None, week: int) -> Settled:
    """One week for settled futures: the high-end stocks and the rivals (see `Settled`).

    The expressions are those of `industry.step` and `record_week` with no transfers, so the
    numbers are the same bits the full loop would produce.
    """
    state = group.state
    if group.rivals.count == 0:
        return group  # high-end stocks only grow: nothing that reaches an outcome changes
    opened = state.rivals.opened
    use = (group.rival_backer[:, :, None] * (group.rival_use_per_week * opened)[None]).sum(axis=1)
    high_end = np.maximum(0.0, state.industry.backer_high_end_stock
                          + group.backers.high_end_production_per_month / WEEKS_PER_MONTH
                          - use)
    rivals_state = rivals.step(
        group.rivals, group.backers, state.rivals, high_end_stock=high_end,
        war_on=0.0, noise=group.noise, week=week,
    )
    industry_state = dataclasses.replace(state.industry, backer_high_end_stock=high_end)
    record = group.record
    if main_backer is not None:
        record = dataclasses.replace(record, min_backer_high_end_stock=np.minimum(
            record.min_backer_high_end_stock, high_end[main_backer]))
    state = dataclasses.replace(state, week=week + 1, industry=industry_state,
                                rivals=rivals_state)
    return dataclasses.replace(group, state=state, record=record)


_G = TypeVar("_G", Group, Settled)


def _watching(group: _G, levers: Levers) -> _G:
    """The group with fresh trigger states for `levers`' triggers (a branch to a policy with
    other signposts: none has fired yet)."""
    n = group.positions.shape[0]
    triggers = policy.initial_state(levers.triggers, n) if levers.triggers else None
    return dataclasses.replace(group, state=dataclasses.replace(group.state, triggers=triggers))


def _in_chunk_order(active: Group, retired: Settled | None) -> tuple[State, RecordState]:
    """The final state and record of every future, in the chunk's order."""
    if retired is None:
        return active.state, active.record
    order = np.argsort(np.concatenate([active.positions, retired.positions]), kind="stable")
    state = take_futures(concat_futures(active.state, retired.state), order)
    record = take_futures(concat_futures(active.record, retired.record), order)
    return state, record


def _start_series(inputs: EngineInputs, state: State, a_share: np.ndarray,
                  salient_km2: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each series' (weeks + 1, n) rows in `rows` (one array for them all), the first filled."""
    series = dict(zip(SERIES_NAMES, rows, strict=True))
    for name, values in series_row(inputs, state, a_share, salient_km2).items():
        series[name][0] = values
    return series
