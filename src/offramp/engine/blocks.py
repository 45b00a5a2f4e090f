"""The weekly loop compiled, run over blocks of futures with the weeks inside.

`model.simulate` steps a whole chunk of futures one week at a time, in Python, calling each
mechanism's compiled kernel once a week. Each kernel then streams the chunk's arrays (about
1.2 KB a future: its state and its sampled inputs) from memory, and the Python around the calls
costs ~0.3 ms a chunk-week. Here the same kernels are called in the same order from one
compiled function (`_run_weeks`), over a block of `BLOCK_FUTURES` futures at a time for every
week of the horizon: the block's arrays stay in cache from week to week and no Python runs
between the kernels. The equations are the kernels', written once; what is written here a
second time is the glue between them (which array goes where, the draws, the per-week flags),
and `tests/engine/test_blocks.py` holds the two paths to the same bits on every scenario and
option this path takes.

It takes every run but those with an extension mechanism (Python by design) or an observer
(`applies`); those run through `model.simulate`'s Python loop, the reference. Levers changed
on scheduled weeks, and a branched run's switch from its parents' noise to its own, make one
compiled call per stretch of weeks between them. Settled futures are not retired from the
loop here (a block's settled futures are stepped like the others: the same numbers, see
`model.Settled`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from offramp.engine import _noise_kernels, policy
from offramp.engine.inputs import FLOAT, POSTURE_CODES, SIDE_A, EngineInputs, Levers
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
from offramp.engine.noise import _NORMAL_TABLE, NoiseSource, Stream, _bases
from offramp.engine.outcomes import (
    OBSERVED_NAMES,
    SERIES_NAMES,
    RecordState,
    _record_kernel,
)
from offramp.engine.state import SETTLED, WAR, State
from offramp.engine.vector_math import F32, Array, forget_stale_kernels, full, jit

_ENGINE = Path(__file__).resolve().parent
# The loop's cache holds every kernel it calls, compiled in: it goes when any engine file changes.
forget_stale_kernels(sorted([*_ENGINE.glob("*.py"), *_ENGINE.glob("mechanisms/*.py")]),
                     _ENGINE, _ENGINE / "__pycache__" / "blocks.sha256", kernels="blocks.*")

BLOCK_FUTURES = 4096
"""Futures a block runs through all its weeks at once: small enough that a block's state and
inputs (~5 MB) stay in the cache from one week to the next, large enough that the Python
around each block is little (2,048: 84-91, 4,096: 78-85, 8,192: 81-83, 16,384: 95-104 ns a
future-week, kursk-2024, alternated, 2026-12-08)."""

# Per-run constants of each mechanism, as the kernels take them (broadcast once per run).
_Calendar = namedtuple("_Calendar", "season_on season_multiplier election_week "
                       "takes_office_week challenger_wins election_backer aid_if push_if")
_Aid = namedtuple("_Aid", "initial_support multiplier rival_backer priority_share "
                  "share_of_production_sent shell_floor drawdown_weeks high_end_floor "
                  "high_end_per_month recipient")
_Industry = namedtuple("_Industry", "target ramp high_end_production rival_backer rival_use "
                       "supply")
_Forces = namedtuple("_Forces", "mobilization initial_support graduation on_enemy_soil withdraw "
                     "withdrawal_per_week weights hold_share on_b_soil hold deploy_share "
                     "opens_after opens_below")
_Strengths = namedtuple("_Strengths", "strength disengagement no_incursions deep_strike_ban "
                        "energy_strike_ban shipping")  # each: (rungs, positions)
_Combat = namedtuple("_Combat", "shells_needed quality elasticity log_scale "
                     "log_attacker_multiplier floor_logs fixed_attacker has_fixed_attacker "
                     "firer_exponent target_exponent noise_sd power_ratio chance_per_week "
                     "captured_share killed_share wounded_return_share pursuit occupier "
                     "strain_per_km2 salient pursued")
_Territory = namedtuple("_Territory", "soil_index advance_scale breakthrough_ratio steepness "
                        "contested initial_held on_a_soil on_b_soil withdrawal_weeks withdraw "
                        "withdraw_from_week area_a initial_share_a")
_Strikes = namedtuple("_Strikes", "damage repair surge_multiplier")
_Politics = namedtuple("_Politics", "persistence noise_sd weariness casualty_scale "
                       "capacity_share_a energy_weariness_a drift backer_noise_sd support_shock")
_Escalation = namedtuple("_Escalation", "base lifted_hazard pre_talks surge_weeks "
                         "close_probability policy_lifted lift effectiveness rung_hazard "
                         "rung_lifted_multiplier rung_support_shock rung_close_probability "
                         "rung_reimposed_weeks talks_initiative seek_from")
_Ladder = namedtuple("_Ladder", "pursued violation_cdf ordinary_adoption top_by_level "
                     "ceasefire_rung ordinary_below_ceasefire relapse relapse_reduction "
                     "ceasefire_violation ceasefire_adoption ripeness ceasefire_ripeness "
                     "pressure_effect initial_support area_a")
_Bargaining = namedtuple("_Bargaining", "observation_noise receptivity observation_variance "
                         "trend_volatility fog_scale horizon initial_support cost_over_horizon "
                         "chip_is_current max_e chip_premium a_salient area_a "
                         "home_soil_premium_a audience_cost commitment_premium floor "
                         "issue_ceiling_a softening_a softening_b demand_b value_to_a "
                         "value_to_b talks_initiative talks_open_per_week offers_per_week "
                         "talks_close_per_week settle_per_week bargaining_power_a "
                         "line_focality on_b_soil")
_Rivals = namedtuple("_Rivals", "base_hazard initial_readiness readiness_growth "
                     "readiness_effect depletion_effect distraction_effect of_backer "
                     "initial_high_end")
_Triggers = namedtuple("_Triggers", "variable op value once length while_ lift aid seek "
                       "withdraw sets_lift sets_aid sets_seek sets_withdraw aid_to_a policy_lift "
                       "policy_aid")  # per trigger (T,), the levers each sets (NaN: none)
_Opponent = namedtuple("_Opponent", "rule variable op value escalation offers ladder_adoption "
                       "offensive")  # side b's rules: one row per condition, (R, n) tables
_LeverRows = namedtuple("_LeverRows", "pursue_ladder posture")  # the series' lever codes
_Constants = namedtuple("_Constants", "calendar aid industry forces strengths combat territory "
                        "strikes politics escalation ladder bargaining rivals triggers opponent "
                        "lever_rows main_backer")
# Per-week bases of the counter-based draws (`noise`), one (weeks, hashes) table per stream.
_Draws = namedtuple("_Draws", "index_hash normal_table election combat rout support escalation "
                    "escalation_rungs ladder fog talks rivals")
# The state a week hands to the next, and the record of running extremes and totals.
_State = namedtuple("_State", "status challenger_won production backer_shell_stock "
                    "high_end_stock shell_stock forces reserves in_training power "
                    "casualties_total killed_total recent reference wounded_returning "
                    "fire_support held capacity support opinion_shock backer_logit "
                    "backer_support initial_logit events surge_left event closes_talks "
                    "rung_reached rung_shock reimposed level ceasefire top_rung highest_rung "
                    "line_movement talks_open talks_ever_opened belief_q belief_e "
                    "belief_variance last_a_share last_e surplus terms settlement_week "
                    "traded_km2 hardened refused_over_soil talks_open_weeks deadlock_weeks "
                    "issue_concessions readiness opened open_week two_front_war fired "
                    "weeks_left withdraw_since opponent_follows")
_Record = namedtuple("_Record", "min_capacity min_shells min_high_end peace_since delivered")
_NOT_PER_FUTURE: dict[type, frozenset[str]] = {
    kind: frozenset(names.split()) for kind, names in (
        (_Calendar, "season_on election_week takes_office_week election_backer"),
        (_Aid, "rival_backer recipient"), (_Industry, "rival_backer"),
        (_Forces, "on_enemy_soil on_b_soil opens_after"),
        (_Combat, "fixed_attacker has_fixed_attacker occupier salient"),
        (_Territory, "soil_index on_a_soil on_b_soil"), (_Ladder, "top_by_level"),
        (_Bargaining, "a_salient on_b_soil"), (_Rivals, "of_backer"),
        (_Triggers, "variable op value once length while_ lift aid seek withdraw aid_to_a"),
        (_Opponent, "rule variable op value"))}
"""The constants' fields indexed by theater, backer, rival, election or rung, not future."""


Epoch = tuple[int, int, Any, Levers, NoiseSource]
"""(first week, week after the last, the mechanisms' plans, the levers, the noise) of a
stretch of weeks with one set of levers and one source of random numbers."""


def applies(inputs: EngineInputs, plain_run: bool) -> bool:
    """Whether a run can take the compiled path: `plain_run` (no observer) and no extension
    mechanisms."""
    return plain_run and not inputs.extensions


def run(inputs: EngineInputs, epochs: list[Epoch], state: State, record: RecordState,
        series_rows: np.ndarray | None = None) -> tuple[State, RecordState]:
    """The `epochs` (in order, covering the horizon) for a chunk of futures, one block of
    `BLOCK_FUTURES` at a time: the final state and record, as `model.simulate` would leave
    them (and `series_rows`, (series, weeks + 1, n) in `SERIES_NAMES`' order, filled after
    their first row). The constants are broadcast once for the chunk; a block takes its slice
    of them."""
    if series_rows is None:
        series_rows = np.empty((0, 0, 0), dtype=np.float32)
    n = inputs.n_futures
    # A stretch whose levers watch other triggers than the stretch before starts them afresh
    # (as `model._watching` does: none has fired yet).
    constants = [(first, last, _futures_of(_constants(inputs, plans, levers, n)),
                  _draws(noise, inputs),
                  levers.triggers, index > 0 and levers.triggers != epochs[index - 1][3].triggers)
                 for index, (first, last, plans, levers, noise) in enumerate(epochs)]
    carried = _pack_state(state)
    carried_record = _Record(*map(_writeable, (
        record.min_generating_capacity, record.min_backer_shell_stock,
        record.min_backer_high_end_stock, record.peace_since, record.aid_shells_delivered)))
    state_of, record_of = _futures_of(carried), _futures_of(carried_record)
    finals, final_records = [], []
    for start in range(0, n, BLOCK_FUTURES):
        stop = min(n, start + BLOCK_FUTURES)
        block, block_record = state_of(start, stop), record_of(start, stop)
        for first_week, last_week, constants_of, draws, triggers, watching_anew in constants:
            if watching_anew:
                block = _watching(block, triggers)
            block, block_record = _run_weeks(
                first_week, last_week, constants_of(start, stop),
                draws._replace(index_hash=draws.index_hash[start:stop]), block, block_record,
                series_rows, start)
        finals.append(block)
        final_records.append(block_record)
    final = _State(*(_joined(parts) for parts in zip(*finals, strict=True)))
    final_record = RecordState(*(_joined(parts) for parts in zip(*final_records, strict=True)))
    return _unpack_state(final, state, inputs.horizon_weeks), final_record


def _watching(block: Any, triggers: tuple[policy.Trigger, ...]) -> Any:
    """The block's state with `triggers` that have not fired yet."""
    fresh = policy.initial_state(triggers, block.status.shape[0])
    return block._replace(fired=fresh.fired, weeks_left=fresh.weeks_left,
                          withdraw_since=fresh.withdraw_since)


def _futures_of(values: Any) -> Callable[[int, int], Any]:
    """A function of (start, stop) giving futures start..stop of a state, record or constants
    tuple: every per-future array sliced on its last axis (C-contiguous, as the kernels take
    them); the fields `_NOT_PER_FUTURE` names, tuples of them, flags and numbers as they are.
    The tuple's shape is walked once here, not once per block (walked for every block, it took
    2.5 s of a profiled 1,000,000-future run)."""
    if isinstance(values, np.ndarray):
        return lambda start, stop: np.ascontiguousarray(values[..., start:stop])
    if not hasattr(values, "_fields"):
        return _as_it_is(values)
    kept = _NOT_PER_FUTURE.get(type(values), frozenset())
    fields = [_as_it_is(value) if name in kept else _futures_of(value)
              for name, value in zip(values._fields, values, strict=True)]
    make = type(values)
    return lambda start, stop: make(*[field(start, stop) for field in fields])


def _as_it_is(value: Any) -> Callable[[int, int], Any]:
    return lambda start, stop: value


def _joined(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)


def _writeable(values: np.ndarray) -> np.ndarray:
    """A C-contiguous array the loop may carry (a view or a read-only input is copied)."""
    if values.flags.c_contiguous and values.flags.writeable:
        return values
    return np.array(values, order="C")


def _pack_state(state: State) -> Any:
    s = state
    n = s.status.shape[0]
    rung_shock = s.escalation.rung_shock
    triggers = s.triggers or policy.initial_state((), n)
    return _State(*map(_writeable, (
        s.status, s.calendar.challenger_won, s.industry.backer_production_per_month,
        s.industry.backer_shell_stock, s.industry.backer_high_end_stock, s.industry.shell_stock,
        s.forces.forces, s.forces.reserves, s.forces.in_training, s.combat.power,
        s.combat.casualties_total, s.combat.killed_total, s.combat.recent_casualties,
        s.combat.reference_casualties, s.combat.wounded_returning, s.combat.fire_support,
        s.territory.enemy_held_km2, s.strikes.generating_capacity, s.politics.support,
        s.politics.opinion_shock, s.politics.backer_support_logit, s.politics.backer_support,
        s.politics.initial_support_logit, s.escalation.events, s.escalation.surge_weeks_left,
        s.escalation.event_this_week, s.escalation.closes_talks, s.escalation.rung_reached,
        # no rung shock yet: zeros, which subtract nothing (politics takes None as nil)
        np.zeros(n, dtype=FLOAT) if rung_shock is None else rung_shock,
        s.escalation.reimposed_weeks_left, s.ladder.level, s.ladder.ceasefire,
        s.ladder.top_rung, s.ladder.highest_rung, s.ladder.line_movement,
        s.bargaining.talks_open, s.bargaining.talks_ever_opened, s.bargaining.belief_q,
        s.bargaining.belief_e, s.bargaining.belief_variance, s.bargaining.last_a_share,
        s.bargaining.last_e, s.bargaining.surplus, s.bargaining.terms,
        s.bargaining.settlement_week, s.bargaining.traded_km2, s.bargaining.hardened,
        s.bargaining.refused_over_soil, s.bargaining.talks_open_weeks,
        s.bargaining.deadlock_weeks, s.bargaining.issue_concessions, s.rivals.readiness,
        s.rivals.opened, s.rivals.open_week, s.rivals.two_front_war,
        triggers.fired, triggers.weeks_left, triggers.withdraw_since,
        np.zeros((0, n), dtype=bool) if s.opponent_follows is None else s.opponent_follows)))


def _unpack_state(s: Any, start: State, weeks: int) -> State:
    rung_count = s.rung_reached.shape[0]
    return State(
        week=start.week + weeks, status=s.status,
        calendar=calendar.CalendarState(challenger_won=s.challenger_won),
        industry=industry.IndustryState(s.production, s.backer_shell_stock, s.high_end_stock,
                                        s.shell_stock),
        forces=forces.ForcesState(forces=s.forces, reserves=s.reserves,
                                  in_training=s.in_training),
        combat=combat.CombatState(
            power=s.power, casualties_total=s.casualties_total, killed_total=s.killed_total,
            recent_casualties=s.recent, reference_casualties=s.reference,
            wounded_returning=s.wounded_returning, fire_support=s.fire_support),
        territory=territory.TerritoryState(enemy_held_km2=s.held),
        strikes=strikes.StrikesState(generating_capacity=s.capacity),
        politics=politics.PoliticsState(
            support=s.support, opinion_shock=s.opinion_shock,
            backer_support_logit=s.backer_logit, backer_support=s.backer_support,
            initial_support_logit=s.initial_logit),
        escalation=escalation.EscalationState(
            events=s.events, surge_weeks_left=s.surge_left, event_this_week=s.event,
            closes_talks=s.closes_talks, rung_reached=s.rung_reached,
            rung_shock=s.rung_shock if rung_count else None,
            reimposed_weeks_left=s.reimposed),
        ladder=ladder.LadderState(level=s.level, ceasefire=s.ceasefire, top_rung=s.top_rung,
                                  highest_rung=s.highest_rung, line_movement=s.line_movement),
        bargaining=bargaining.BargainingState(
            talks_open=s.talks_open, talks_ever_opened=s.talks_ever_opened,
            belief_q=s.belief_q, belief_e=s.belief_e, belief_variance=s.belief_variance,
            last_a_share=s.last_a_share, last_e=s.last_e, surplus=s.surplus, terms=s.terms,
            settlement_week=s.settlement_week, traded_km2=s.traded_km2, hardened=s.hardened,
            refused_over_soil=s.refused_over_soil, talks_open_weeks=s.talks_open_weeks,
            deadlock_weeks=s.deadlock_weeks, issue_concessions=s.issue_concessions),
        rivals=rivals.RivalsState(readiness=s.readiness, opened=s.opened,
                                  open_week=s.open_week, two_front_war=s.two_front_war),
        triggers=policy.TriggerState(fired=s.fired, weeks_left=s.weeks_left,
                                     withdraw_since=s.withdraw_since) if s.fired.shape[0]
        else None, opponent_follows=s.opponent_follows if s.opponent_follows.shape[0] else None,
        extensions=(),
    )


def _constants(inputs: EngineInputs, plans: Any, levers: Levers, n: int) -> Any:
    b, bk, rv, th = inputs.belligerents, inputs.backers, inputs.rivals, inputs.theaters
    cal, esc, lad, rules = inputs.calendar, inputs.escalation, inputs.ladder, inputs.bargaining
    k_count, r_count, j_count = bk.count, rv.count, len(th.soil_side)
    e_count = len(cal.election_date)
    rows_k, pair, theater = (k_count, n), (2, n), (j_count, n)
    weeks = inputs.horizon_weeks
    season_on = np.zeros((weeks, len(cal.season_names)), dtype=np.bool_)
    for week, active in enumerate(plans.calendar.active_seasons[:weeks]):
        season_on[week, list(active)] = True
    calendar_constants = _Calendar(
        season_on, full(cal.season_advance_multiplier, (len(cal.season_names), n)),
        np.array(plans.calendar.election_week, dtype=np.int64).reshape(e_count),
        np.array(plans.calendar.takes_office_week, dtype=np.int64).reshape(e_count),
        full(cal.challenger_wins, (e_count, n)),
        np.asarray(cal.election_actor_backer, dtype=np.int64).reshape(e_count),
        full(cal.aid_multiplier_if_challenger, (e_count, n)),
        full(cal.talks_push_if_challenger, (e_count, n)))
    ap, ip, fp = plans.aid, plans.industry, plans.forces
    aid_constants = _Aid(
        full(bk.initial_support, rows_k), full(ap.lever, rows_k),
        full(ap.rival_backer, (k_count, r_count)), full(rv.aid_priority_share, (r_count, n)),
        full(bk.share_of_production_sent, rows_k), full(ap.shell_floor, rows_k),
        full(bk.stock_drawdown_weeks, rows_k), full(ap.high_end_floor, rows_k),
        full(bk.high_end_sent_per_month, rows_k), full(ap.recipient, (2, k_count)))
    industry_constants = _Industry(
        full(ip.target_per_month, rows_k), full(ip.ramp_per_week, rows_k),
        full(ip.high_end_production_per_week, rows_k),
        full(ip.rival_backer, (k_count, r_count)), full(ip.rival_use_per_week, (r_count, n)),
        full(ip.belligerent_supply_per_week, pair))
    forces_constants = _Forces(
        full(b.mobilization_per_week, pair), full(b.initial_support, pair),
        full(fp.graduation_per_week, pair), _writeable(fp.on_enemy_soil[:, :, 0]),
        bool(fp.withdraw), full(fp.withdrawal_per_week, theater),
        full(th.reinforcement_weight, (2, j_count, n)),
        full(inputs.forces.salient_hold_reinforcement, (n,)), _writeable(fp.on_b_soil[:, 0]),
        bool(fp.hold and fp.on_b_soil.any()), full(inputs.forces.deploy_share_per_week, (n,)),
        None if fp.opens_after is None else np.asarray(fp.opens_after, dtype=np.intp),
        None if fp.opens_after is None else full(fp.opens_below_km2, theater))
    lp = plans.ladder
    strength_constants = _Strengths(
        _writeable(lad.strength), *(ladder.effect_rungs(lad, lp, effect) for effect in (
            "disengagement", "no_incursions", "deep_strike_ban", "energy_strike_ban",
            "shipping")))
    cr, cp = inputs.combat, plans.combat
    rout = cr.rout
    combat_constants = _Combat(
        full(b.shells_needed_per_soldier_week, pair), full(b.combat_quality, pair),
        full(b.fire_elasticity, pair), full(cp.log_scale, theater),
        full(cp.log_attacker_multiplier, (n,)), bool(cp.floor_logs),
        None if cp.fixed_attacker is None else _writeable(cp.fixed_attacker[:, :, 0]),
        None if cp.has_fixed_attacker is None else _writeable(cp.has_fixed_attacker[:, 0]),
        full(cr.firer_exponent, (n,)), full(cr.target_exponent, (n,)),
        full(cr.noise_sd, (n,)),
        full(0.0 if rout is None else rout.power_ratio, (n,)),
        full(0.0 if rout is None else rout.chance_per_week, (n,)),
        full(0.0 if rout is None else rout.captured_share, (n,)),
        full(cr.killed_share, (n,)), full(cr.wounded_return_share, (n,)),
        None if rout is None else full(rout.pursuit_multiplier, (n,)),
        None if cp.occupier is None else _writeable(cp.occupier[:, :, 0]),
        None if cp.occupier is None else full(cp.strain_per_km2, theater),
        _writeable(plans.salient_theaters), bool(lp.pursued))
    tp = plans.territory
    territory_constants = _Territory(
        np.asarray(tp.soil_index, dtype=np.int64), full(tp.advance_scale, theater),
        full(inputs.territory.breakthrough_ratio, (n,)),
        full(inputs.territory.advance_steepness, (n,)),
        full(th.contested_area_km2, theater), full(th.initial_enemy_held_km2, theater),
        _writeable(np.asarray(tp.on_a_soil)), _writeable(np.asarray(tp.on_b_soil)),
        full(inputs.forces.withdrawal_weeks, (n,)), bool(tp.withdraw),
        int(tp.withdraw_from_week), full(b.national_area_km2[SIDE_A], (n,)),
        full(b.initial_territory_share[SIDE_A], (n,)))
    st = inputs.strikes
    strikes_constants = _Strikes(full(st.damage_per_week, (n,)), full(st.repair_per_week, (n,)),
                                 full(st.escalation_damage_multiplier, (n,)))
    politics_constants = _Politics(
        full(b.support_persistence, pair), full(b.support_noise_sd, pair),
        full(b.weariness_per_log_casualties, pair), full(b.casualty_scale, pair),
        full(b.generating_capacity_share[SIDE_A], (n,)),
        full(b.weariness_per_energy_loss[SIDE_A], (n,)),
        full(bk.support_drift_per_week, rows_k), full(bk.support_noise_sd, rows_k),
        full(esc.support_shock, rows_k))
    rungs = esc.rungs
    rung_count = 0 if rungs is None else rungs.count

    def rung_rows(values: np.ndarray | None) -> np.ndarray:  # no rung: the loop runs over none
        return np.empty((0, n), dtype=FLOAT) if values is None or not rung_count \
            else full(values, (rung_count, n))

    lift = bool(levers.lift_restrictions)
    escalation_constants = _Escalation(
        full(esc.base_hazard_per_week, (n,)),
        full(esc.lifted_restrictions_hazard_per_week, (n,)),
        full(esc.pre_talks_multiplier, (n,)), full(esc.strike_surge_weeks, (n,)),
        full(esc.talks_close_probability, (n,)), full(lift, (n,), None), lift,
        full(esc.lifted_restrictions_effectiveness, (n,)),
        rung_rows(None if rungs is None else rungs.hazard_per_week),
        rung_rows(None if rungs is None else rungs.lifted_restrictions_multiplier),
        rung_rows(None if rungs is None else rungs.support_shock),
        rung_rows(None if rungs is None else rungs.talks_close_probability),
        rung_rows(None if rungs is None else rungs.restrictions_reimposed_weeks),
        float(levers.talks_initiative),
        -1 if levers.seek_talks_from_week is None else int(levers.seek_talks_from_week))
    c = -1 if lp.ceasefire_rung is None else lp.ceasefire_rung
    ripeness = lp.ordinary_ripeness
    ladder_constants = _Ladder(
        bool(lp.pursued), _writeable(lp.violation_cdf), _writeable(lp.ordinary_adoption),
        _writeable(lp.top_by_level), c, int(lp.ordinary_below_ceasefire),
        full(rules.ceasefire_relapse_per_week, (n,)),
        full(lad.relapse_reduction_per_rung, (n,)),
        full(lad.violation_per_week[c], (n,)) if lad.count else np.zeros(n, dtype=FLOAT),
        full(lad.adoption_per_week[c], (n,)) if lad.count else np.zeros(n, dtype=FLOAT),
        None if ripeness is None else _writeable(ripeness),
        None if ripeness is None or lad.ripe_below_line_movement is None
        else full(lad.ripe_below_line_movement[c], (n,)),
        full(lad.pressure_effect, (n,)), full(b.initial_support, pair),
        full(b.national_area_km2[SIDE_A], (n,)))
    bp, issues = plans.bargaining, rules.issues
    issue_count = 0 if issues is None else issues.count

    def issue_rows(values: np.ndarray | None) -> np.ndarray | None:  # B5b's, None without
        return None if values is None or issues is None or bp.issue_ceiling_a is None \
            else full(values, (issue_count, n))

    def issue_field(name: str) -> np.ndarray | None:
        return None if issues is None else issue_rows(getattr(issues, name))

    bargaining_constants = _Bargaining(
        full(rules.observation_noise, (n,)), full(b.belief_receptivity, pair),
        full(bp.observation_variance, (n,)), full(rules.trend_volatility, (n,)),
        full(bp.salient_fog_scale, (n,)), full(rules.planning_horizon_weeks, (n,)),
        full(b.initial_support, pair), full(bp.cost_over_horizon, pair),
        bool(bp.chip_is_current), full(bp.max_e, (n,)), full(bp.chip_premium, (n,)),
        None if bp.a_salient is None else _writeable(bp.a_salient[:, 0]),
        full(b.national_area_km2[SIDE_A], (n,)), full(b.home_soil_premium[SIDE_A], (n,)),
        full(b.audience_cost, pair), full(bp.commitment_premium, pair), full(bp.floor, pair),
        issue_rows(bp.issue_ceiling_a), issue_field("softening_a"), issue_field("softening_b"),
        issue_field("demand_b"), issue_field("value_to_a"), issue_field("value_to_b"),
        float(bp.talks_initiative), full(rules.talks_open_per_week, (n,)),
        full(rules.offers_from_b_per_week, (n,)), full(rules.talks_close_per_week, (n,)),
        full(rules.settle_per_week, (n,)), full(rules.bargaining_power_a, (n,)),
        full(rules.line_focality, (n,)), _writeable(np.asarray(tp.on_b_soil)))
    rivals_constants = _Rivals(
        full(rv.base_hazard_per_week, (r_count, n)), full(rv.readiness, (r_count, n)),
        full(rv.readiness_growth_per_year, (r_count, n)),
        full(rv.readiness_effect, (r_count, n)), full(rv.depletion_effect, (r_count, n)),
        full(rv.distraction_effect, (r_count, n)),
        np.asarray(rv.of_backer, dtype=np.intp).reshape(r_count),
        full(bk.high_end_stock, rows_k))
    return _Constants(calendar_constants, aid_constants, industry_constants, forces_constants,
                      strength_constants, combat_constants, territory_constants,
                      strikes_constants, politics_constants, escalation_constants,
                      ladder_constants, bargaining_constants, rivals_constants,
                      _trigger_constants(levers, ap.recipient[0] > 0),
                      _opponent_constants(inputs, n),
                      _LeverRows(float(levers.pursue_ladder),
                                 float(POSTURE_CODES[levers.salient_posture])),
                      -1 if inputs.main_backer is None else int(inputs.main_backer))


_RESTRICTIONS_LIFTED = len(OBSERVED_NAMES)
"""What side b's rules may read beside `outcomes.observed`: side a's lever this week."""


def _opponent_constants(inputs: EngineInputs, n: int) -> Any:
    """Side b's rules (`policy.opponent_step`) as arrays; None without rules."""
    rules = inputs.opponent
    if rules is None:
        return None
    conditions = [(index, variable, op, value)
                  for index, rule in enumerate(rules.conditions) for variable, op, value in rule]
    shape = (rules.count, n)
    return _Opponent(
        np.array([index for index, _, _, _ in conditions], dtype=np.int64),
        np.array([_RESTRICTIONS_LIFTED if variable == "restrictions_lifted"
                  else OBSERVED_NAMES.index(variable) for _, variable, _, _ in conditions],
                 dtype=np.int64),
        np.array([_OPERATORS[op] for _, _, op, _ in conditions], dtype=np.int64),
        np.array([FLOAT(value) for _, _, _, value in conditions], dtype=np.float64),
        full(rules.escalation_multiplier, shape), full(rules.offers_multiplier, shape),
        full(rules.ladder_adoption_multiplier, shape), full(rules.offensive_multiplier, shape))


_OPERATORS = {op: code for code, op in enumerate(policy.OPERATORS)}


def _trigger_constants(levers: Levers, aid_to_a: np.ndarray) -> Any:
    """The policy's triggers as arrays (`policy.step`'s rules; none: empty)."""
    triggers = levers.triggers

    def setting(lever: str) -> np.ndarray:
        values = [getattr(trigger, lever) for trigger in triggers]
        return np.array([np.nan if value is None else float(value) for value in values],
                        dtype=FLOAT)

    return _Triggers(
        np.array([OBSERVED_NAMES.index(t.variable) for t in triggers], dtype=np.int64),
        np.array([_OPERATORS[t.op] for t in triggers], dtype=np.int64),
        # float32 thresholds, compared in double precision: the same answers as NumPy's
        # comparison of each variable's own type with FLOAT(value)
        np.array([FLOAT(t.value) for t in triggers], dtype=np.float64),
        np.array([t.once for t in triggers], dtype=np.bool_),
        np.array([np.inf if t.for_weeks is None else float(t.for_weeks) for t in triggers],
                 dtype=FLOAT),
        np.array([not t.once and t.for_weeks is None for t in triggers], dtype=np.bool_),
        setting("lift_restrictions"), setting("aid_multiplier"), setting("seek_talks"),
        np.array([t.withdraw for t in triggers], dtype=np.bool_),
        any(t.lift_restrictions is not None for t in triggers),
        any(t.aid_multiplier is not None for t in triggers),
        any(t.seek_talks is not None for t in triggers), any(t.withdraw for t in triggers),
        np.ascontiguousarray(aid_to_a, dtype=np.bool_), float(levers.lift_restrictions),
        float(levers.aid_multiplier))


@lru_cache(maxsize=64)
def _bases_table(key_word: int, stream: int, weeks: int, n_hashes: int) -> np.ndarray:
    """(weeks, n_hashes) the draws' per-week bases of one stream (`noise._bases`, tabulated)."""
    table = np.empty((weeks, n_hashes), dtype=np.uint64)
    for week in range(weeks):
        table[week] = _bases(key_word, stream, week, n_hashes)
    table.setflags(write=False)
    return table


def _draws(noise: NoiseSource, inputs: EngineInputs) -> Any:
    weeks, key_word = inputs.horizon_weeks, noise.key[1]
    sides_theaters = 2 * len(inputs.theaters.soil_side)
    rung_count = 0 if inputs.escalation.rungs is None else inputs.escalation.rungs.count

    def uniforms(stream: Stream, count: int) -> np.ndarray:
        return _bases_table(key_word, int(stream), weeks, (count + 1) // 2)

    def normals(stream: Stream, count: int) -> np.ndarray:
        return _bases_table(key_word, int(stream), weeks, (count + 3) // 4)

    return _Draws(
        noise._index_hash, _NORMAL_TABLE,
        uniforms(Stream.ELECTION, len(inputs.calendar.election_date)),
        normals(Stream.COMBAT, sides_theaters), uniforms(Stream.ROUT, sides_theaters),
        normals(Stream.SUPPORT, 2 + inputs.backers.count), uniforms(Stream.ESCALATION, 2),
        uniforms(Stream.ESCALATION_RUNGS, 2 * rung_count), uniforms(Stream.LADDER, 3),
        normals(Stream.FOG, 3), uniforms(Stream.TALKS, 2),
        uniforms(Stream.RIVALS, inputs.rivals.count))


@jit
def _uniforms(index_hash: Array, bases: Array, count: int) -> Array:
    out = np.empty((count, index_hash.shape[0]), dtype=np.float32)
    return _noise_kernels.uniforms_kernel(index_hash, bases, out)


@jit
def _normals(index_hash: Array, bases: Array, table: Array, count: int) -> Array:
    out = np.empty((count, index_hash.shape[0]), dtype=np.float32)
    return _noise_kernels.normals_kernel(index_hash, bases, table, out)


@jit
def _war_flags(status: Array, at_war: Array, not_settled: Array) -> None:
    """1.0 where the war is on (else 0.0), and where it has not been settled."""
    for i in range(status.shape[0]):
        at_war[i] = F32(status[i] == WAR)
        not_settled[i] = F32(status[i] != SETTLED)


@jit
def _damp(at_war: Array, disengagement: Array | None, no_incursions: Array | None,
          salient: Array, pursued: bool, damp: Array) -> None:
    """(J, n) the share of the fighting that goes on in each theater: none out of war, less
    in disengagement zones, none in salients where no incursions are agreed. Strengths that
    are None are nil (no rung of that kind): the same bits as multiplying by 1."""
    for j in range(damp.shape[0]):
        for i in range(damp.shape[1]):
            if pursued:
                disengaged = F32(0.0) if disengagement is None else disengagement[i]
                barred = F32(0.0) if no_incursions is None else no_incursions[i]
                damp[j, i] = (at_war[i] * (F32(1.0) - disengaged)) \
                    * (F32(1.0) - barred * salient[j])
            else:  # no rung can be in force
                damp[j, i] = at_war[i]


@jit
def _hand_back(status_before: Array, status: Array, on_b_soil: Array, held: Array) -> bool:
    """Empty a's salients (the theaters on b's soil) where the war was settled this week;
    whether any was."""
    settled_any = False
    for i in range(status.shape[0]):
        if status[i] == SETTLED and status_before[i] != SETTLED:
            settled_any = True
            for j in range(held.shape[0]):
                if on_b_soil[j]:
                    held[j, i] = F32(0.0)
    return settled_any


# Helpers whose result is None or an array as one of their arguments is: Numba decides such
# branches when it compiles, on arguments only (not on fields read inside `_run_weeks`).

@jit
def _opened(opens_after: Array | None, opens_below: Array | None, held: Array) -> Array | None:
    """`forces.opened`: (J, n) theaters open to the side whose soil they are not."""
    if opens_after is None or opens_below is None:
        return None
    j_count, n = held.shape
    is_open = np.empty((j_count, n), dtype=np.bool_)
    for j in range(j_count):
        adjacent = max(opens_after[j], 0)
        for i in range(n):
            is_open[j, i] = (opens_after[j] >= 0) & (held[adjacent, i] <= opens_below[j, i])
    return is_open


@jit
def _strength(strength: Array, rungs_positions: tuple[Array, Array], level: Array,
              ceasefire: Array) -> Array:
    """`ladder.effect_strength`, zeros where it is 0.0 (no rung of the kind, or no ladder)."""
    rungs, positions = rungs_positions
    total = np.zeros(level.shape[0], dtype=np.float32)
    if rungs.shape[0]:
        ladder._effect_strength_kernel(strength, rungs, positions, level, ceasefire, total)
    return total


@jit
def _logistics_hit(lift: bool, lifted: Array, effectiveness: Array, rear_ban: Array,
                   reimposed: Array) -> Array:
    """`escalation.logistics_hit`: zeros while the restrictions are kept (where the Python
    loop passes None, nil: combat's power times 1 - 0 is the same number), so that the policy's
    `lift_restrictions` is a flag of the compiled loop, not a variant of it to compile."""
    hit = np.zeros(lifted.shape[0], dtype=np.float32)
    if lift:
        escalation._logistics_hit_kernel(effectiveness, rear_ban, lifted, reimposed, hit)
    return hit


@jit
def _rout_draws(pursuit: Array | None, index_hash: Array, bases: Array, count: int
                ) -> Array | None:
    if pursuit is None:
        return None
    return _uniforms(index_hash, bases, count)


@jit
def _by_theater(draw: Array | None, theaters: int) -> Array | None:
    """(2 J, n) draws as (2, J, n)."""
    if draw is None:
        return None
    return draw.reshape((2, theaters, draw.shape[1]))


@jit
def _routed(pursuit: Array | None, shape: tuple[int, int, int]) -> Array | None:
    if pursuit is None:
        return None
    return np.empty(shape, dtype=np.bool_)


@jit
def _pursuit(pursuit: Array | None, routed: Array | None, theaters: int, n: int) -> Array:
    """`combat.pursuit`, ones where it is 1.0."""
    multiplier = np.ones((theaters, n), dtype=np.float32)
    if pursuit is not None and routed is not None:
        combat._pursuit_kernel(routed, pursuit, multiplier)
    return multiplier


@jit
def _kept(occupier: Array | None, strain_per_km2: Array | None, held: Array) -> Array | None:
    """`combat.strength_kept`: 1 - occupier * (strain * held), None without strain."""
    if occupier is None or strain_per_km2 is None:
        return None
    j_count, n = held.shape
    kept = np.empty((2, j_count, n), dtype=np.float32)
    for side in range(2):
        for j in range(j_count):
            for i in range(n):
                kept[side, j, i] = F32(1.0) - occupier[side, j] * (strain_per_km2[j, i]
                                                                   * held[j, i])
    return kept


@jit
def _line_moved(ripeness: Array | None, after: Array, before: Array, area_a: Array
                ) -> Array | None:
    """`territory.line_moved` where a rung waits for a stalemate (else None): NumPy's sum
    over the theaters, row after row."""
    if ripeness is None:
        return None
    j_count, n = after.shape
    moved = np.empty(n, dtype=np.float32)
    for i in range(n):
        moved[i] = abs(after[0, i] - before[0, i])
    for j in range(1, j_count):
        for i in range(n):
            moved[i] += abs(after[j, i] - before[j, i])
    for i in range(n):
        moved[i] = moved[i] / area_a[i]
    return moved


@jit
def _scratch(present: Any, n: int, dtype: Any) -> Array | None:
    """An (n,) work array where `present` is not None."""
    if present is None:
        return None
    return np.empty(n, dtype=dtype)


@jit
def _rows_if(present: Any, values: Array) -> Array | None:
    if present is None:
        return None
    return values


@jit
def _issue_outputs(ceiling: Array | None, carried: Array) -> tuple[Array, Array | None]:
    """(the state's array next week, the kernel's output or None) of a state field that the
    issues (B5b) update: carried as it is without issues."""
    if ceiling is None:
        return carried, None
    fresh = np.empty_like(carried)
    return fresh, fresh


_WEEK, _A_TERRITORY_SHARE, _SALIENT_KM2, _SUPPORT_A, _SUPPORT_B, _GENERATING_CAPACITY, \
    _MAIN_BACKER_SHELL_STOCK, _A_SHELL_STOCK, _TALKS_OPEN, _LADDER_RUNG, _ESCALATION_EVENTS, \
    _HIGHEST_ESCALATION_RUNG, _RIVAL_OPENED = range(len(OBSERVED_NAMES))
# (`outcomes.observed`'s names, in its order: checked at import)
assert OBSERVED_NAMES == (
    "week", "a_territory_share", "salient_km2", "support_a", "support_b",
    "generating_capacity", "main_backer_shell_stock", "a_shell_stock", "talks_open",
    "ladder_rung", "escalation_events", "highest_escalation_rung", "rival_opened")
assert policy.OPERATORS == (">=", "<=", ">", "<", "==", "!=")


@jit
def _observed(variable: int, week: int, s: Any, a_share: Array, salient_km2: Array,
              main_backer: int) -> Array:
    """(n,) one of `outcomes.observed`'s variables on the state `s` (the end of last week), in
    double precision (every value of every type it has there is exact in it)."""
    n = s.status.shape[0]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if variable == _WEEK:
            value = float(week)
        elif variable == _A_TERRITORY_SHARE:
            value = float(s.terms[i] if s.status[i] == SETTLED else a_share[i])
        elif variable == _SALIENT_KM2:
            value = float(salient_km2[i])
        elif variable == _SUPPORT_A:
            value = float(s.support[SIDE_A, i])
        elif variable == _SUPPORT_B:
            value = float(s.support[1, i])
        elif variable == _GENERATING_CAPACITY:
            value = float(s.capacity[i])
        elif variable == _MAIN_BACKER_SHELL_STOCK:
            value = float(s.backer_shell_stock[main_backer, i]) if main_backer >= 0 else np.nan
        elif variable == _A_SHELL_STOCK:
            value = float(s.shell_stock[SIDE_A, i])
        elif variable == _TALKS_OPEN:
            value = 1.0 if s.talks_open[i] else 0.0
        elif variable == _LADDER_RUNG:
            value = float(s.top_rung[i])
        elif variable == _ESCALATION_EVENTS:
            value = float(s.events[i])
        elif variable == _HIGHEST_ESCALATION_RUNG:  # `escalation.top_rung`
            top = 1 if s.events[i] > 0 else 0
            for rung in range(s.rung_reached.shape[0]):
                top = rung + 2 if s.rung_reached[rung, i] else top
            value = float(top)
        else:  # _RIVAL_OPENED
            opened = False
            for rival in range(s.opened.shape[0]):
                opened = opened or s.opened[rival, i]
            value = 1.0 if opened else 0.0
        out[i] = value
    return out


@jit
def _holds(op: int, value: float, threshold: float) -> bool:
    """`policy.holds` for one future, in the order of `policy.OPERATORS`."""
    if op == 0:
        return value >= threshold
    if op == 1:
        return value <= threshold
    if op == 2:
        return value > threshold
    if op == 3:
        return value < threshold
    if op == 4:
        return value == threshold
    return value != threshold


@jit
def _trigger_week(t: Any, week: int, s: Any, a_share: Array, salient_km2: Array,
                  main_backer: int) -> tuple[Array, Array, Array, Array, Array, Array]:
    """`policy.step`: (fired, weeks left, withdrawing since, and the lift, aid and seek levers
    the active triggers set this week, NaN where none does)."""
    n = s.status.shape[0]
    fired, weeks_left = s.fired.copy(), s.weeks_left.copy()
    withdraw_since = s.withdraw_since.copy()
    lift = np.full(n, np.nan, dtype=np.float32)
    aid_multiplier = np.full(n, np.nan, dtype=np.float32)
    seek = np.full(n, np.nan, dtype=np.float32)
    for index in range(t.variable.shape[0]):
        observed = _observed(t.variable[index], week, s, a_share, salient_km2, main_backer)
        for i in range(n):
            holding = _holds(t.op[index], observed[i], t.value[index])
            if t.while_[index]:  # exactly the weeks the condition holds
                active = holding
            else:
                running = weeks_left[index, i] > F32(0.0)
                blocked = (running or fired[index, i]) if t.once[index] else running
                fires = holding and not blocked
                left = t.length[index] if fires else weeks_left[index, i]
                active = left > F32(0.0)
                weeks_left[index, i] = max(left - F32(1.0), F32(0.0))
                fired[index, i] = fired[index, i] or fires
            if active:
                if not np.isnan(t.lift[index]):
                    lift[i] = t.lift[index]
                if not np.isnan(t.aid[index]):
                    aid_multiplier[i] = t.aid[index]
                if not np.isnan(t.seek[index]):
                    seek[i] = t.seek[index]
                if t.withdraw[index] and np.isinf(withdraw_since[i]):
                    withdraw_since[i] = F32(week)
    return fired, weeks_left, withdraw_since, lift, aid_multiplier, seek


@jit
def _opponent_week(o: Any, follows: Array, week: int, s: Any, a_share: Array,
                   salient_km2: Array, main_backer: int, lift_now: Array) -> Any:
    """`policy.opponent_step`: side b's multipliers of its escalation hazards, offers, ladder
    adoption and offensive power this week, (None, None, None, None) without rules."""
    if o is None:
        return None, None, None, None
    rule_count, n = follows.shape
    applies = follows.copy()
    for condition in range(o.rule.shape[0]):
        variable = o.variable[condition]
        observed = lift_now.astype(np.float64) if variable == _RESTRICTIONS_LIFTED \
            else _observed(variable, week, s, a_share, salient_km2, main_backer)
        rule = o.rule[condition]
        for i in range(n):
            applies[rule, i] = applies[rule, i] and _holds(o.op[condition], observed[i],
                                                           o.value[condition])
    effects = []
    for table in (o.escalation, o.offers, o.ladder_adoption, o.offensive):
        product = np.ones(n, dtype=np.float32)
        for rule in range(rule_count):
            for i in range(n):
                factor = table[rule, i] if applies[rule, i] else F32(1.0)
                product[i] = factor if rule == 0 else product[i] * factor
        effects.append(product)
    return effects[0], effects[1], effects[2], effects[3]


_SERIES = {name: row for row, name in enumerate(SERIES_NAMES)}
_ROW_TERRITORY, _ROW_SALIENT, _ROW_SUPPORT_A, _ROW_SUPPORT_B, _ROW_CAPACITY, _ROW_BACKER_SHELLS, \
    _ROW_A_SHELLS, _ROW_TALKS_OPEN, _ROW_LADDER_RUNG, _ROW_EVENTS, _ROW_LIFTED, _ROW_AID, \
    _ROW_SEEK, _ROW_LADDER, _ROW_POSTURE = (_SERIES[name] for name in (
        "a_territory_share", "salient_km2", "support_a", "support_b", "generating_capacity",
        "main_backer_shell_stock", "a_shell_stock", "talks_open", "ladder_rung",
        "escalation_events", "restrictions_lifted", "aid_multiplier", "seek_talks",
        "pursue_ladder", "salient_posture"))
_WITHDRAW_CODE = float(POSTURE_CODES["withdraw"])


@jit
def _lever_rows(series: Array, offset: int, week: int, lifted: Array, aid_multiplier: Array,
                seek: Array, lever_rows: Any, withdrawing: bool, withdraw_since: Array) -> None:
    """`outcomes.lever_row`: the levers in force in the week that starts at row `week`."""
    for i in range(lifted.shape[0]):
        column = offset + i
        series[_ROW_LIFTED, week, column] = lifted[i]
        series[_ROW_AID, week, column] = aid_multiplier[i]
        series[_ROW_SEEK, week, column] = seek[i]
        series[_ROW_LADDER, week, column] = lever_rows.pursue_ladder
        posture = lever_rows.posture
        if withdrawing and np.isfinite(withdraw_since[i]):  # a trigger's withdrawal
            posture = _WITHDRAW_CODE
        series[_ROW_POSTURE, week, column] = posture


@jit
def _state_rows(series: Array, offset: int, row: int, s: Any, a_share: Array,
                salient_km2: Array, main_backer: int) -> None:
    """`outcomes.series_row`: the state at the end of a week, in row `row`."""
    for i in range(a_share.shape[0]):
        column = offset + i
        series[_ROW_TERRITORY, row, column] = s.terms[i] if s.status[i] == SETTLED \
            else a_share[i]
        series[_ROW_SALIENT, row, column] = salient_km2[i]
        series[_ROW_SUPPORT_A, row, column] = s.support[SIDE_A, i]
        series[_ROW_SUPPORT_B, row, column] = s.support[1, i]
        series[_ROW_CAPACITY, row, column] = s.capacity[i]
        series[_ROW_BACKER_SHELLS, row, column] = s.backer_shell_stock[main_backer, i] \
            if main_backer >= 0 else F32(np.nan)
        series[_ROW_A_SHELLS, row, column] = s.shell_stock[SIDE_A, i]
        series[_ROW_TALKS_OPEN, row, column] = F32(1.0) if s.talks_open[i] else F32(0.0)
        series[_ROW_LADDER_RUNG, row, column] = s.top_rung[i]
        series[_ROW_EVENTS, row, column] = s.events[i]


@jit
def _shares(t: Any, held: Array) -> tuple[Array, Array, Array]:
    """`territory.shares`: (a's territory share, e, salient km2) with `held` as enemy soil."""
    n = held.shape[1]
    a_share = np.empty(n, dtype=np.float32)
    e = np.empty(n, dtype=np.float32)
    salient_km2 = np.empty(n, dtype=np.float32)
    territory._shares_kernel(t.area_a, t.initial_share_a, held, t.initial_held, t.on_a_soil,
                             t.on_b_soil, a_share, e, salient_km2)
    return a_share, e, salient_km2


@jit
def _or_policy(overridden: Array, policy_value: float) -> Array:
    """`LeverOverrides.value`: the trigger's value where one set it, else the policy's."""
    out = np.empty(overridden.shape[0], dtype=np.float32)
    for i in range(out.shape[0]):
        out[i] = np.float32(policy_value) if np.isnan(overridden[i]) else overridden[i]
    return out


@jit
def _run_weeks(first_week: int, last_week: int, c: Any, d: Any, s: Any, r: Any, series: Array,
               offset: int) -> tuple[Any, Any]:
    """`model.simulate`'s weekly loop from `first_week` to `last_week` for a block of futures
    (`series`, if it has rows: the chunk's, the block's columns from `offset`)."""
    n = s.status.shape[0]
    j_count = s.held.shape[0]
    k_count = s.production.shape[0]
    r_count = s.readiness.shape[0]
    e_count = s.challenger_won.shape[0]
    rung_count = s.rung_reached.shape[0]
    pair = (2, n)
    for week in range(first_week, last_week):
        at_war = np.empty(n, dtype=np.float32)
        not_settled = np.empty(n, dtype=np.float32)
        _war_flags(s.status, at_war, not_settled)

        # the policy's triggers: signposts read on last week's state, levers set per future
        ce, ct, ctr = c.escalation, c.territory, c.triggers
        seeking = 1.0 if ce.seek_from >= 0 and week >= ce.seek_from else 0.0
        fired, weeks_left, withdraw_since = s.fired, s.weeks_left, s.withdraw_since
        lift, lift_now, aid_multiplier = ce.lift, ce.policy_lifted, c.aid.multiplier
        sought = np.full(n, F32(seeking), dtype=np.float32)
        aid_lever = np.full(n, F32(ctr.policy_aid), dtype=np.float32)
        shown_share = shown_salient = np.empty(0, dtype=np.float32)  # read by none
        if ctr.variable.shape[0] or s.opponent_follows.shape[0]:
            shown_share, _, shown_salient = _shares(ct, s.held)
        if ctr.variable.shape[0]:
            fired, weeks_left, withdraw_since, lift_set, aid_set, seek_set = _trigger_week(
                ctr, week, s, shown_share, shown_salient, c.main_backer)
            if ctr.sets_lift:
                lift, lift_now = True, _or_policy(lift_set, ctr.policy_lift)
            if ctr.sets_aid:
                aid_lever = _or_policy(aid_set, ctr.policy_aid)
                aid_multiplier = np.empty((k_count, n), dtype=np.float32)
                for k in range(k_count):
                    for i in range(n):
                        aid_multiplier[k, i] = aid_lever[i] if ctr.aid_to_a[k] \
                            else c.aid.multiplier[k, i]
            if ctr.sets_seek:
                sought = _or_policy(seek_set, seeking)
        if series.shape[0]:
            _lever_rows(series, offset, week, lift_now, aid_lever, sought, c.lever_rows,
                        ctr.sets_withdraw, withdraw_since)
        # side b's own rules, on the same state and side a's levers this week
        b_escalation, b_offers, b_ladder_adoption, b_offensive = _opponent_week(
            c.opponent, s.opponent_follows, week, s, shown_share, shown_salient, c.main_backer,
            lift_now)

        # calendar: season, elections
        season = np.ones(n, dtype=np.float32)
        for season_index in range(c.calendar.season_on.shape[1]):
            if c.calendar.season_on[week, season_index]:
                for i in range(n):
                    season[i] = season[i] * c.calendar.season_multiplier[season_index, i]
        won = s.challenger_won
        deciding = False
        for e in range(e_count):
            deciding = deciding or c.calendar.election_week[e] == week
        if deciding:
            won = won.copy()
            election_draw = _uniforms(d.index_hash, d.election[week], e_count)
            for e in range(e_count):
                if c.calendar.election_week[e] == week:
                    for i in range(n):
                        won[e, i] = election_draw[e, i] < c.calendar.challenger_wins[e, i]
        in_office = np.empty((e_count, n), dtype=np.bool_)
        for e in range(e_count):
            taken = week >= c.calendar.takes_office_week[e]
            for i in range(n):
                in_office[e, i] = won[e, i] & taken
        election_aid = np.empty((k_count, n), dtype=np.float32)
        calendar._aid_multiplier_kernel(c.calendar.election_backer, in_office,
                                        c.calendar.aid_if, election_aid)
        talks_push = np.zeros(n, dtype=np.float32)
        if e_count:
            calendar._talks_push_kernel(c.calendar.push_if, in_office, talks_push)

        # aid
        any_opened = False
        for rival in range(r_count):
            for i in range(n):
                any_opened = any_opened or s.opened[rival, i]
        shells_sent = np.empty((k_count, n), dtype=np.float32)
        from_stock = np.empty((k_count, n), dtype=np.float32)
        high_end_sent = np.empty((k_count, n), dtype=np.float32)
        received = np.zeros(pair, dtype=np.float32)
        if k_count:
            ca = c.aid
            aid._step_kernel(
                s.backer_support, ca.initial_support, aid_multiplier, election_aid, not_settled,
                ca.rival_backer, ca.priority_share, s.opened, any_opened, s.production,
                ca.share_of_production_sent, s.backer_shell_stock, ca.shell_floor,
                ca.drawdown_weeks, s.high_end_stock, ca.high_end_floor, ca.high_end_per_month,
                ca.recipient, shells_sent, from_stock, high_end_sent, received)

        # industry
        ci = c.industry
        production = np.empty((k_count, n), dtype=np.float32)
        backer_shell_stock = np.empty((k_count, n), dtype=np.float32)
        high_end_stock = np.empty((k_count, n), dtype=np.float32)
        shell_stock = np.empty(pair, dtype=np.float32)
        industry._step_kernel(
            s.production, s.backer_shell_stock, s.high_end_stock, shells_sent, high_end_sent,
            ci.target, ci.ramp, ci.high_end_production, ci.rival_backer, ci.rival_use,
            s.opened, any_opened, s.shell_stock, ci.supply, None, received,
            production, backer_shell_stock, high_end_stock, shell_stock)

        # forces
        cf = c.forces
        deployed = np.empty((2, j_count, n), dtype=np.float32)
        reserves = np.empty(pair, dtype=np.float32)
        in_training = np.empty(pair, dtype=np.float32)
        is_open = _opened(cf.opens_after, cf.opens_below, s.held)
        trained = (cf.mobilization, s.support, cf.initial_support, s.in_training, cf.graduation,
                   s.wounded_returning, s.reserves, s.forces, cf.on_enemy_soil, s.held, is_open,
                   cf.withdraw, cf.withdrawal_per_week)
        deployment = (cf.weights, s.power, cf.hold_share, cf.on_b_soil, cf.hold,
                      cf.deploy_share, deployed, reserves, in_training,
                      np.empty((2, j_count, n), dtype=np.bool_),
                      np.empty((2, j_count, n), dtype=np.float32))
        if ctr.sets_withdraw:  # where a trigger has side a withdrawing from its salients
            withdrawing = np.empty(n, dtype=np.bool_)
            for i in range(n):
                withdrawing[i] = np.isfinite(withdraw_since[i])
            forces._step_kernel(*trained, withdrawing, *deployment)
        else:
            forces._step_kernel(*trained, None, *deployment)

        # combat
        cs = c.strengths
        disengagement = _strength(cs.strength, cs.disengagement, s.level, s.ceasefire)
        no_incursions = _strength(cs.strength, cs.no_incursions, s.level, s.ceasefire)
        rear_ban = _strength(cs.strength, cs.deep_strike_ban, s.level, s.ceasefire)
        cc = c.combat
        damp = np.empty((j_count, n), dtype=np.float32)
        _damp(at_war, disengagement, no_incursions, cc.salient, cc.pursued, damp)
        logistics_hit = _logistics_hit(lift, lift_now, ce.effectiveness, rear_ban, s.reimposed)
        z = _normals(d.index_hash, d.combat[week], d.normal_table, 2 * j_count)
        rout_draw = _rout_draws(cc.pursuit, d.index_hash, d.rout[week], 2 * j_count)
        kept = _kept(cc.occupier, cc.strain_per_km2, s.held)
        power = np.empty((2, j_count, n), dtype=np.float32)
        forces_after = np.empty((2, j_count, n), dtype=np.float32)
        stock_after = np.empty(pair, dtype=np.float32)
        casualties = np.empty(pair, dtype=np.float32)
        casualties_total = np.empty(pair, dtype=np.float32)
        killed_total = np.empty(pair, dtype=np.float32)
        recent = np.empty(pair, dtype=np.float32)
        wounded_returning = np.empty(pair, dtype=np.float32)
        fire_support = np.empty(pair, dtype=np.float32)
        routed = _routed(cc.pursuit, (2, j_count, n))
        z3 = z.reshape((2, j_count, n))
        rout3 = _by_theater(rout_draw, j_count)
        fought = (deployed, shell_stock, at_war, damp, cc.shells_needed, cc.quality,
                  cc.elasticity, logistics_hit, b_offensive, kept, cc.log_scale,
                  cc.log_attacker_multiplier, cc.floor_logs, cc.fixed_attacker,
                  cc.has_fixed_attacker, cc.firer_exponent, cc.target_exponent, cc.noise_sd, z3,
                  rout3, cc.power_ratio, cc.chance_per_week, cc.captured_share, cc.killed_share,
                  cc.wounded_return_share, s.casualties_total, s.killed_total, s.recent, power,
                  forces_after, stock_after, casualties, casualties_total, killed_total, recent)
        if week == 0:  # the reference casualties are week 0's
            reference = np.empty(pair, dtype=np.float32)
            combat._step_kernel(*fought, reference, wounded_returning, fire_support, routed)
        else:
            reference = s.reference
            combat._step_kernel(*fought, None, wounded_returning, fire_support, routed)

        # territory
        pursuit = _pursuit(cc.pursuit, routed, j_count, n)
        advance_multiplier = np.empty((j_count, n), dtype=np.float32)
        for j in range(j_count):
            for i in range(n):
                advance_multiplier[j, i] = season[i] * pursuit[j, i]
        held = np.empty((j_count, n), dtype=np.float32)
        # the withdrawal's clock: a scheduled posture's, a trigger's per future, or NaN (no
        # withdrawal: the kernel leaves the ground as it is, as with None)
        weeks_withdrawing = np.full(n, F32(np.nan), dtype=np.float32)
        for i in range(n):
            if ct.withdraw:
                weeks_withdrawing[i] = F32(week + 1 - ct.withdraw_from_week)
            elif ctr.sets_withdraw and np.isfinite(withdraw_since[i]):
                weeks_withdrawing[i] = F32(week + 1) - withdraw_since[i]
        territory._step_kernel(
            power, ct.soil_index, ct.advance_scale, advance_multiplier, damp,
            ct.breakthrough_ratio, ct.steepness, s.held, ct.contested, ct.initial_held,
            ct.on_b_soil, weeks_withdrawing, ct.withdrawal_weeks, held)
        a_share, e_share, salient_km2 = _shares(ct, held)

        # strikes
        surge = np.empty(n, dtype=np.bool_)
        for i in range(n):
            surge[i] = s.surge_left[i] > F32(0.0)
        capacity = np.empty(n, dtype=np.float32)
        strikes._step_kernel(
            s.capacity, c.strikes.damage, c.strikes.repair, c.strikes.surge_multiplier,
            _strength(cs.strength, cs.energy_strike_ban, s.level, s.ceasefire), at_war, surge,
            capacity)

        # politics
        cp = c.politics
        support_z = _normals(d.index_hash, d.support[week], d.normal_table, 2 + k_count)
        support = np.empty(pair, dtype=np.float32)
        opinion_shock = np.empty(pair, dtype=np.float32)
        backer_logit = np.empty((k_count, n), dtype=np.float32)
        backer_support = np.empty((k_count, n), dtype=np.float32)
        politics._step_kernel(
            cp.persistence, cp.noise_sd, cp.weariness, cp.casualty_scale, s.initial_logit,
            s.opinion_shock, casualties_total, cp.capacity_share_a, cp.energy_weariness_a,
            capacity, support_z, None, s.backer_logit, cp.drift, cp.backer_noise_sd,
            cp.support_shock, s.event, s.rung_shock, support, opinion_shock, backer_logit,
            backer_support)

        # escalation: talks in prospect (sought or pushed, not yet open) invite coercion
        prospect = np.empty(n, dtype=np.bool_)
        for i in range(n):
            if ctr.sets_seek:  # seeking per future, in single precision
                pushed = np.float32(ce.talks_initiative) * sought[i] + talks_push[i] > F32(0.0)
            elif e_count == 0:
                pushed = ce.talks_initiative * seeking > 0.0
            else:
                pushed = np.float32(ce.talks_initiative * seeking) + talks_push[i] > F32(0.0)
            prospect[i] = pushed & (not s.talks_open[i])
        escalation_draw = _uniforms(d.index_hash, d.escalation[week], 2)
        rung_draw = _uniforms(d.index_hash, d.escalation_rungs[week], 2 * rung_count)
        events = np.empty(n, dtype=np.int32)
        surge_left = np.empty(n, dtype=np.float32)
        event = np.empty(n, dtype=np.bool_)
        closes_talks = np.empty(n, dtype=np.bool_)
        rung_reached = np.empty((rung_count, n), dtype=np.bool_)
        rung_shock = np.empty(n, dtype=np.float32)
        reimposed = np.empty(n, dtype=np.float32)
        escalation._step_kernel(
            ce.base, ce.lifted_hazard, ce.pre_talks, ce.surge_weeks, ce.close_probability,
            lift_now, rear_ban, prospect, b_escalation, at_war, s.events, s.surge_left,
            escalation_draw, ce.rung_hazard, ce.rung_lifted_multiplier, ce.rung_support_shock,
            ce.rung_close_probability, ce.rung_reimposed_weeks, s.rung_reached, s.reimposed,
            rung_draw, events, surge_left, event, closes_talks, rung_reached, rung_shock,
            reimposed)
        if not rung_count:  # no rung: nothing reached, reimposed or shocked
            rung_reached, rung_shock, reimposed = s.rung_reached, s.rung_shock, s.reimposed

        # ladder: violations, relapse, adoption
        cl = c.ladder
        status = s.status
        level, ceasefire = s.level, s.ceasefire
        top_rung, highest_rung, line_movement = s.top_rung, s.highest_rung, s.line_movement
        if cl.pursued:
            ladder_draw = _uniforms(d.index_hash, d.ladder[week], 3)
            line_moved = _line_moved(cl.ripeness, held, s.held, cl.area_a)
            level = np.empty(n, dtype=np.int16)
            ceasefire = np.empty(n, dtype=np.bool_)
            top_rung = np.empty(n, dtype=np.int16)
            highest_rung = np.empty(n, dtype=np.int16)
            movement_out = s.line_movement if line_moved is None \
                else np.empty(n, dtype=np.float32)
            ladder_status = np.empty_like(s.status)
            ladder._step_kernel(
                ladder_draw, s.status, s.level, s.ceasefire, s.highest_rung, s.line_movement,
                cl.violation_cdf, cl.ordinary_adoption, cl.top_by_level, cl.ceasefire_rung,
                cl.ordinary_below_ceasefire, cl.relapse, cl.relapse_reduction,
                cl.ceasefire_violation, cl.ceasefire_adoption, cl.ripeness,
                cl.ceasefire_ripeness, line_moved, week, support, cl.initial_support,
                cl.pressure_effect, b_ladder_adoption, level, ceasefire, top_rung, highest_rung,
                movement_out, ladder_status)
            line_movement = movement_out
            if cl.ceasefire_rung >= 0:
                status = ladder_status

        # bargaining: beliefs, talks, settlement
        cb = c.bargaining
        fog = _normals(d.index_hash, d.fog[week], d.normal_table, 3)
        talks_draw = _uniforms(d.index_hash, d.talks[week], 2)
        intensity = np.empty(pair, dtype=np.float32)
        for side in range(2):
            for i in range(n):
                intensity[side, i] = recent[side, i] / reference[side, i]
        belief_q = np.empty(pair, dtype=np.float32)
        variance = np.empty(pair, dtype=np.float32)
        belief_e = np.empty(n, dtype=np.float32)
        surplus = np.empty(n, dtype=np.float32)
        talks_open = np.empty(n, dtype=np.bool_)
        talks_ever_opened = np.empty(n, dtype=np.bool_)
        refused_over_soil = np.empty(n, dtype=np.bool_)
        talks_open_weeks = np.empty(n, dtype=np.float32)
        terms = np.empty(n, dtype=np.float32)
        settlement_week = np.empty(n, dtype=np.float32)
        traded_km2 = np.empty(n, dtype=np.float32)
        deadlock_weeks, deadlock_out = _issue_outputs(cb.issue_ceiling_a, s.deadlock_weeks)
        issue_concessions, concessions_out = _issue_outputs(cb.issue_ceiling_a,
                                                            s.issue_concessions)
        new_status = np.empty_like(status)
        bargaining._step_kernel(
            fog, cb.observation_noise, cb.receptivity, s.belief_variance,
            cb.observation_variance, cb.trend_volatility, s.belief_q, s.belief_e, a_share,
            s.last_a_share, e_share, s.last_e, cb.fog_scale,
            cb.horizon, support, cb.initial_support, cb.cost_over_horizon, intensity,
            _strength(cs.strength, cs.shipping, level, ceasefire), cb.chip_is_current,
            cb.max_e, cb.chip_premium, cb.a_salient, _rows_if(cb.a_salient, held), cb.area_a,
            cb.home_soil_premium_a, cb.audience_cost, cb.commitment_premium, disengagement,
            cb.floor,
            cb.issue_ceiling_a, cb.softening_a, cb.softening_b, cb.demand_b, cb.value_to_a,
            cb.value_to_b,
            talks_draw, cb.talks_initiative, sought, cb.talks_open_per_week, talks_push,
            cb.offers_per_week, b_offers, cb.talks_close_per_week, cb.settle_per_week,
            cb.bargaining_power_a, cb.line_focality, status, s.talks_open,
            s.talks_ever_opened, s.hardened, s.refused_over_soil, closes_talks,
            s.talks_open_weeks, s.deadlock_weeks, s.terms, s.settlement_week, s.traded_km2,
            salient_km2, s.issue_concessions, week,
            _scratch(cb.a_salient, n, np.float32), _scratch(cb.issue_ceiling_a, n, np.float32),
            _scratch(cb.issue_ceiling_a, n, np.float32),
            _scratch(cb.issue_ceiling_a, n, np.bool_), np.empty(n, dtype=np.float32),
            np.empty(n, dtype=np.float32), belief_q, belief_e, variance, surplus, talks_open,
            talks_ever_opened, refused_over_soil, talks_open_weeks, deadlock_out, terms,
            settlement_week, traded_km2, concessions_out, new_status)
        # a settlement hands b's soil back: a's salients are emptied
        _hand_back(s.status, new_status, cb.on_b_soil, held)

        # rivals
        readiness, opened = s.readiness, s.opened
        open_week, two_front_war = s.open_week, s.two_front_war
        if r_count:
            cr = c.rivals
            rivals_draw = _uniforms(d.index_hash, d.rivals[week], r_count)
            war_on = np.empty(n, dtype=np.float32)
            for i in range(n):
                war_on[i] = F32(new_status[i] == WAR)
            readiness = np.empty((r_count, n), dtype=np.float32)
            opened = np.empty((r_count, n), dtype=np.bool_)
            open_week = np.empty((r_count, n), dtype=np.float32)
            two_front_war = np.empty(n, dtype=np.bool_)
            rivals._step_kernel(
                cr.base_hazard, cr.initial_readiness, cr.readiness_growth, cr.readiness_effect,
                cr.depletion_effect, cr.distraction_effect, cr.of_backer, cr.initial_high_end,
                high_end_stock, s.readiness, s.opened, s.open_week, s.two_front_war, war_on,
                rivals_draw, week, readiness, opened, open_week, two_front_war)

        # record
        fighting = np.empty(n, dtype=np.bool_)
        for i in range(n):
            fighting[i] = new_status[i] == WAR
        min_capacity = np.empty(n, dtype=np.float32)
        min_shells = np.empty(n, dtype=np.float32)
        min_high_end = np.empty(n, dtype=np.float32)
        peace_since = np.empty(n, dtype=np.float32)
        delivered = np.empty(n, dtype=np.float32)
        # without a main backer, NaN stocks: the minima stay the NaN they start at
        no_backer = np.full(n, F32(np.nan), dtype=np.float32)
        _record_kernel(
            r.min_capacity, capacity, r.min_shells,
            backer_shell_stock[c.main_backer] if c.main_backer >= 0 else no_backer,
            r.min_high_end, high_end_stock[c.main_backer] if c.main_backer >= 0 else no_backer,
            r.peace_since, fighting, r.delivered, received[SIDE_A], F32(week), min_capacity,
            min_shells, min_high_end, peace_since, delivered)
        r = _Record(min_capacity, min_shells, min_high_end, peace_since, delivered)
        s = _State(
            new_status, won, production, backer_shell_stock, high_end_stock, stock_after,
            forces_after, reserves, in_training, power, casualties_total, killed_total, recent,
            reference, wounded_returning, fire_support, held, capacity, support, opinion_shock,
            backer_logit, backer_support, s.initial_logit, events, surge_left, event,
            closes_talks, rung_reached, rung_shock, reimposed, level, ceasefire, top_rung,
            highest_rung, line_movement, talks_open, talks_ever_opened, belief_q, belief_e,
            variance, a_share, e_share, surplus, terms, settlement_week, traded_km2,
            s.hardened, refused_over_soil, talks_open_weeks, deadlock_weeks,
            issue_concessions, readiness, opened, open_week, two_front_war, fired, weeks_left,
            withdraw_since, s.opponent_follows)
        if series.shape[0]:  # the shares after a settlement's hand-back (new arrays: the
            # state keeps this week's shares before it, as the Python loop's does)
            shown_share, _, shown_salient = _shares(ct, held)
            _state_rows(series, offset, week + 1, s, shown_share, shown_salient, c.main_backer)
    return s, r

