"""The benchmark's peer: the engine's weekly step as one fused compiled loop (Numba).

`run_fused(inputs, levers, seed, future_index)` runs the same equations as
`offramp.engine.simulate` with explicit loops over futures and weeks, every quantity a float32
scalar, the same counter-based noise (the same hash, streams, sub-streams and words) and the same
retirement of settled futures (after a settlement only the backers' high-end stocks and the
rivals move). DESIGN.md §4 asks the NumPy engine to stay within 1.5x of such a loop;
`engine_throughput.py` times both in one run.

Coverage: every mechanism of the engine (calendar, aid, industry, forces, combat, territory,
strikes, politics, escalation, rivals, bargaining, the settlement hand-back, the records)
except the de-escalation ladder and the `withdraw` posture: `run_fused` refuses levers with
`pursue_ladder` or `salient_posture="withdraw"` (with the ladder off, the engine's ladder step
is a no-op, so timing a ladder-free policy such as kursk-2024's arm-and-hold compares equal
work). It returns a few outcomes for an agreement check; they match the engine's up to float32
rounding (its transcendental functions are not NumPy's SIMD ones, so a future whose hazard draw
falls within a rounding error of its threshold may take the other branch).

Not part of the package: a benchmark only (numba is a dependency of offramp, so it is there).
"""

from __future__ import annotations

import numba
import numpy as np

from offramp.engine import EngineInputs, Levers
from offramp.engine.inputs import SIDE_A, SIDE_B, in_working_precision
from offramp.engine.mechanisms import bargaining as bargaining_mechanism
from offramp.engine.mechanisms import calendar as calendar_mechanism
from offramp.engine.mechanisms import combat as combat_mechanism
from offramp.engine.mechanisms.aid import DRAWDOWN_WEEKS
from offramp.engine.mechanisms.politics import OPINION_PERSISTENCE
from offramp.engine.noise import _NORMAL_BITS, _NORMAL_TABLE, NoiseSource, Stream, make_key

F = np.float32
OUTCOMES = ("end_kind", "settlement_week", "a_territory_share", "casualties_a", "casualties_b",
            "rival_opened", "min_generating_capacity", "aid_shells_delivered")


def _f(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=F)


def run_fused(inputs: EngineInputs, levers: Levers, seed: int, future_index: np.ndarray
              ) -> dict[str, np.ndarray]:
    """Outcomes (`OUTCOMES`) of one policy over the chunk, from the fused loop."""
    if levers.pursue_ladder or levers.salient_posture == "withdraw":
        raise ValueError("the fused peer covers policies without the ladder and without withdraw")
    th = inputs.theaters
    if inputs.combat.rout is not None or th.opens_after is not None \
            or th.attacker_side is not None or th.occupier_strength_loss is not None:
        raise ValueError("the fused peer does not cover combat.rout or the theater options "
                         "opens_after, defender and occupier_strength_loss")
    x = in_working_precision(inputs)
    b, k, r, th, cal = x.belligerents, x.backers, x.rivals, x.theaters, x.calendar
    n, weeks = x.n_futures, x.horizon_weeks
    n_backers, n_rivals, n_theaters = k.count, r.count, th.count
    cplan = calendar_mechanism.plan(cal, weeks)
    key = make_key(seed)
    noise = NoiseSource(key, np.asarray(future_index))

    # Stream bases per (stream, sub-stream, week): what NoiseSource._bases computes per call.
    n_sub = max(1, (2 * n_theaters + 3) // 4, (2 + n_backers + 3) // 4, (n_rivals + 1) // 2,
                len(cal.election_date))
    bases = np.zeros((max(Stream) + 1, n_sub, weeks), dtype=np.uint64)
    for stream in Stream:
        for sub in range(n_sub):
            for week in range(weeks):
                bases[stream, sub, week] = noise._stream_base(int(stream), sub, week)

    season_active = np.zeros((weeks, max(1, len(cal.season_names))), dtype=np.bool_)
    for week, active in enumerate(cplan.active_seasons):
        for s in active:
            season_active[week, s] = True
    n_elections = len(cal.election_date)
    election_week = np.array(cplan.election_week or [-1], dtype=np.int64)
    office_week = np.array(cplan.takes_office_week or [10**9], dtype=np.int64)
    election_backer = np.array(cal.election_actor_backer or [-1], dtype=np.int64)

    soil = np.array(th.soil_side, dtype=np.int64)
    a_salient = np.array([s == SIDE_A and sal for s, sal in zip(th.soil_side, th.is_salient,
                                                                  strict=True)], dtype=np.bool_)
    backs = np.array(k.backs_side or [0], dtype=np.int64)
    of_backer = np.array(r.of_backer or [0], dtype=np.int64)
    lever = np.array([levers.aid_multiplier if side == SIDE_A else 1.0
                      for side in k.backs_side] or [1.0], dtype=F)
    surge = np.array([levers.industrial_surge if side == SIDE_A else 1.0
                      for side in k.backs_side] or [1.0], dtype=F)
    tested = np.zeros(max(1, n_backers), dtype=np.bool_)
    for backer in r.of_backer:
        tested[backer] = True
    floor_a = np.full(n, levers.end_state_floor, dtype=F) if levers.end_state_floor is not None \
        else b.territorial_floor[SIDE_A]
    cplan_combat = combat_mechanism.plan(th, x.combat)
    bplan = bargaining_mechanism.plan(b, th, x.bargaining, levers)
    empty_k = np.zeros((max(1, n_backers), n), dtype=F)
    empty_r = np.zeros((max(1, n_rivals), n), dtype=F)

    def kr(array, empty):  # a (K, n) or (R, n) array, or a dummy row when the axis is empty
        return _f(array) if array.shape[0] else empty

    out = _fused_kernel(
        noise._index_hash, bases, _NORMAL_TABLE, np.uint64(16 - _NORMAL_BITS), weeks,
        n_theaters, n_backers, n_rivals, n_elections,
        # calendar
        season_active, _f(cal.season_advance_multiplier) if len(cal.season_names)
        else np.ones((1, n), dtype=F), election_week, office_week, election_backer,
        _f(cal.challenger_wins) if n_elections else np.zeros((1, n), dtype=F),
        _f(cal.aid_multiplier_if_challenger) if n_elections else np.ones((1, n), dtype=F),
        _f(cal.talks_push_if_challenger) if n_elections else np.zeros((1, n), dtype=F),
        # belligerents
        _f(b.national_area_km2), _f(b.initial_territory_share), _f(b.reserves),
        _f(b.mobilization_per_week), _f(b.training_weeks), _f(b.combat_quality),
        _f(b.shells_needed_per_soldier_week), _f(b.shell_stock),
        _f((b.shell_production_per_month + b.shell_imports_per_month) / F(52.0 / 12.0)),
        _f(b.fire_elasticity), _f(b.initial_support), _f(b.weariness_per_log_casualties),
        _f(b.casualty_scale), _f(b.weariness_per_energy_loss), _f(b.support_noise_sd),
        _f(b.generating_capacity_share), _f(b.optimism_bias), _f(b.belief_receptivity),
        _f(b.cost_of_war_per_year), _f(floor_a), _f(b.territorial_floor[SIDE_B]),
        _f(b.audience_cost), _f(b.home_soil_premium),
        # backers and rivals
        backs, lever, surge, tested, np.float32(levers.pacific_reserve_share),
        kr(k.initial_support, empty_k), kr(k.support_drift_per_week, empty_k),
        kr(k.support_noise_sd, empty_k), kr(k.shell_production_per_month, empty_k),
        kr(k.shell_production_target_per_month, empty_k),
        kr(k.production_ramp_months, empty_k), kr(k.shell_stock, empty_k),
        kr(k.stock_floor_share, empty_k), kr(k.share_of_production_sent, empty_k),
        kr(k.high_end_stock, empty_k), kr(k.high_end_production_per_month, empty_k),
        kr(k.high_end_sent_per_month, empty_k),
        of_backer, kr(r.base_hazard_per_week, empty_r), kr(r.readiness, empty_r),
        kr(r.readiness_growth_per_year, empty_r), kr(r.readiness_effect, empty_r),
        kr(r.depletion_effect, empty_r), kr(r.distraction_effect, empty_r),
        kr(r.aid_priority_share, empty_r), kr(r.high_end_use_per_month, empty_r),
        # theaters
        soil, a_salient, _f(th.contested_area_km2), _f(th.initial_enemy_held_km2),
        _f(th.initial_forces), _f(th.reinforcement_weight),
        _f(x.territory.max_advance_km_per_week * th.terrain_factor * th.frontage_km
           * x.territory.share_of_front_in_assault),
        _f(x.territory.breakthrough_ratio), _f(x.territory.advance_steepness),
        # forces, combat
        _f(x.forces.deploy_share_per_week), _f(x.forces.salient_hold_reinforcement),
        levers.salient_posture in ("hold", "trade"),
        _f(cplan_combat.log_scale), _f(cplan_combat.log_attacker_multiplier),
        cplan_combat.floor_logs, _f(x.combat.firer_exponent), _f(x.combat.target_exponent),
        _f(x.combat.noise_sd), _f(x.combat.killed_share), _f(x.combat.wounded_return_share),
        # strikes, escalation
        _f(x.strikes.damage_per_week), _f(x.strikes.repair_per_week),
        _f(x.strikes.escalation_damage_multiplier),
        _f(x.escalation.base_hazard_per_week),
        _f(x.escalation.lifted_restrictions_hazard_per_week),
        _f(x.escalation.lifted_restrictions_effectiveness), _f(x.escalation.support_shock),
        _f(x.escalation.talks_close_probability), _f(x.escalation.strike_surge_weeks),
        bool(levers.lift_restrictions),
        # bargaining
        _f(x.bargaining.planning_horizon_weeks), _f(x.bargaining.talks_open_per_week),
        _f(x.bargaining.offers_from_b_per_week), _f(x.bargaining.talks_close_per_week),
        _f(x.bargaining.settle_per_week), _f(x.bargaining.bargaining_power_a),
        _f(x.bargaining.observation_noise), _f(x.bargaining.trend_volatility),
        -1 if levers.seek_talks_from_week is None else int(levers.seek_talks_from_week),
        np.float32(levers.talks_initiative), levers.salient_posture == "trade",
        -1 if x.main_backer is None else int(x.main_backer),
        _f(bplan.max_e), _f(bplan.salient_fog_scale),
    )
    return dict(zip(OUTCOMES, out, strict=True))


@numba.njit(cache=True, fastmath=False)
def _mix(index_hash, base):
    z = index_hash ^ base
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, fastmath=False)
def _uniform(index_hash, bases, stream, row, week):
    z = _mix(index_hash, bases[stream, row // 2, week])
    word = (z >> np.uint64(32 * (row % 2))) & np.uint64(0xFFFFFFFF)
    return np.float32(word >> np.uint64(8)) * np.float32(2.0**-24)


@numba.njit(cache=True, fastmath=False)
def _normal(index_hash, bases, table, shift, stream, row, week):
    z = _mix(index_hash, bases[stream, row // 4, week])
    lane = (z >> np.uint64(16 * (row % 4))) & np.uint64(0xFFFF)
    return table[lane >> shift]


@numba.njit(cache=True, fastmath=False)
def _expit(x):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


@numba.njit(cache=True, fastmath=False)
def _clip(x, lo, hi):
    return min(max(x, lo), hi)


@numba.njit(cache=True, fastmath=False)
def _fused_kernel(
    index_hash, bases, table, shift, weeks, J, K, R, E,
    season_active, season_mult, election_week, office_week, election_backer, challenger_wins,
    aid_mult_if_challenger, talks_push_if_challenger,
    area, init_share, reserves0, mobilization, training_weeks, quality, shells_needed,
    shell_stock0, supply_week, elasticity, init_support, weariness_log, casualty_scale,
    weariness_energy, support_sd, capacity0, optimism, receptivity, cost_per_year, floor_a,
    floor_b, audience_cost, home_premium,
    backs, lever, surge, tested, pacific_share,
    k_support0, k_drift, k_sd, k_production0, k_target, k_ramp_months, k_stock0, k_floor_share,
    k_share_sent, k_high_end0, k_high_end_production, k_high_end_sent,
    of_backer, r_base, r_readiness0, r_growth, r_readiness_effect, r_depletion_effect,
    r_distraction, r_priority, r_use,
    soil, a_salient, contested, held0, forces0, reinforce_weight, advance_scale, breakthrough,
    steepness,
    deploy_share, hold_share, hold, log_scale, log_attacker, floor_logs, firer_exp, target_exp,
    noise_sd, killed_share, wounded_return,
    damage_pw, repair_pw, surge_damage, esc_base, esc_lifted, lifted_effect, support_shock,
    esc_close_talks, surge_weeks, lifted,
    horizon, talks_open_pw, offers_pw, talks_close_pw, settle_pw, power_a, obs_noise,
    trend_vol, seek_from, initiative, trade, main_backer, max_e_all, fog_scale_all,
):
    f32 = np.float32
    zero, one, tiny = f32(0.0), f32(1.0), f32(1e-9)
    wpm = f32(52.0 / 12.0)
    n = index_hash.shape[0]
    out_kind = np.zeros(n, dtype=np.int8)
    out_week = np.full(n, np.nan, dtype=np.float32)
    out_share = np.zeros(n, dtype=np.float32)
    out_cas_a = np.zeros(n, dtype=np.float32)
    out_cas_b = np.zeros(n, dtype=np.float32)
    out_rival = np.zeros(n, dtype=np.bool_)
    out_min_capacity = np.zeros(n, dtype=np.float32)
    out_aid = np.zeros(n, dtype=np.float32)

    forces = np.zeros((2, J), dtype=np.float32)
    old_forces = np.zeros((2, J), dtype=np.float32)
    power = np.zeros((2, J), dtype=np.float32)
    new_power = np.zeros((2, J), dtype=np.float32)
    share = np.zeros((2, J), dtype=np.float32)
    held = np.zeros(J, dtype=np.float32)
    cas_j = np.zeros((2, J), dtype=np.float32)
    log_forces = np.zeros((2, J), dtype=np.float32)
    log_power = np.zeros((2, J), dtype=np.float32)
    s2 = np.zeros(2, dtype=np.float32)
    kk = max(K, 1)
    rr = max(R, 1)
    production = np.zeros(kk, dtype=np.float32)
    k_stock = np.zeros(kk, dtype=np.float32)
    high_end = np.zeros(kk, dtype=np.float32)
    k_logit = np.zeros(kk, dtype=np.float32)
    k_support = np.zeros(kk, dtype=np.float32)
    sent = np.zeros(kk, dtype=np.float32)
    he_sent = np.zeros(kk, dtype=np.float32)
    elect_mult = np.zeros(kk, dtype=np.float32)
    readiness = np.zeros(rr, dtype=np.float32)
    opened = np.zeros(rr, dtype=np.bool_)
    won = np.zeros(max(E, 1), dtype=np.bool_)
    in_office = np.zeros(max(E, 1), dtype=np.bool_)

    for i in range(n):
        h = index_hash[i]
        # ---- initial state
        for s in range(2):
            for j in range(J):
                forces[s, j] = forces0[s, j, i]
                power[s, j] = forces0[s, j, i] * quality[s, i]
        for j in range(J):
            held[j] = held0[j, i]
        reserves = np.zeros(2, dtype=np.float32)
        in_training = np.zeros(2, dtype=np.float32)
        stock = np.zeros(2, dtype=np.float32)
        support = np.zeros(2, dtype=np.float32)
        shock = np.zeros(2, dtype=np.float32)
        logit0 = np.zeros(2, dtype=np.float32)
        cas_total = np.zeros(2, dtype=np.float32)
        recent = np.zeros(2, dtype=np.float32)
        reference = np.ones(2, dtype=np.float32)
        wounded = np.zeros(2, dtype=np.float32)
        belief_q = np.zeros(2, dtype=np.float32)
        variance = np.zeros(2, dtype=np.float32)
        for s in range(2):
            reserves[s] = reserves0[s, i]
            in_training[s] = mobilization[s, i] * training_weeks[s, i]
            stock[s] = shell_stock0[s, i]
            support[s] = init_support[s, i]
            p = min(max(init_support[s, i], f32(1e-6)), f32(1.0 - 1e-6))
            logit0[s] = np.log(p / (one - p))
            belief_q[s] = optimism[s, i]
            variance[s] = obs_noise[i] * obs_noise[i]
        for k in range(K):
            production[k] = k_production0[k, i]
            k_stock[k] = k_stock0[k, i]
            high_end[k] = k_high_end0[k, i]
            p = min(max(k_support0[k, i], f32(1e-6)), f32(1.0 - 1e-6))
            k_logit[k] = np.log(p / (one - p))
            k_support[k] = k_support0[k, i]
        for q in range(R):
            readiness[q] = r_readiness0[q, i]
            opened[q] = False
        for e in range(E):
            won[e] = False
        capacity = capacity0[SIDE_A, i]
        min_capacity = capacity
        aid_total = zero
        events_surge = zero
        event_last = False
        closes_talks = False
        talks_open = False
        belief_e = zero
        status = 0  # 0 war, 1 settled
        settlement_week = np.float32(np.nan)
        terms = np.float32(np.nan)
        obs_var = obs_noise[i] * obs_noise[i]
        # shares at week 0
        lost = zero
        salient = zero
        for j in range(J):
            if soil[j] == SIDE_A:
                lost += held[j] - held0[j, i]
            else:
                salient += held[j]
        last_a = _clip(init_share[SIDE_A, i] - lost / area[SIDE_A, i], zero, one)
        last_e = salient / area[SIDE_A, i]
        max_e = max_e_all[i]
        fog_scale = fog_scale_all[i]
        he_floor = np.zeros(kk, dtype=np.float32)
        shell_floor = np.zeros(kk, dtype=np.float32)
        for k in range(K):
            fs = k_floor_share[k, i]
            if tested[k]:
                fs = max(fs, pacific_share)
            he_floor[k] = fs * k_high_end0[k, i]
            shell_floor[k] = fs * k_stock0[k, i]
        ramp = np.zeros(kk, dtype=np.float32)
        for k in range(K):
            ramp[k] = -np.expm1(-one / max(k_ramp_months[k, i] * wpm, tiny))

        for week in range(weeks):
            if status == 1:
                # ---- settled: only high-end stocks and rivals move (as the engine's Settled)
                for k in range(K):
                    use = zero
                    for q in range(R):
                        if of_backer[q] == k and opened[q]:
                            use += r_use[q, i] / wpm
                    high_end[k] = max(zero, high_end[k] + k_high_end_production[k, i] / wpm
                                      - use)
                for q in range(R):
                    readiness[q] = min(one, readiness[q] + r_growth[q, i] / f32(52.0))
                    k = of_backer[q]
                    depletion = zero
                    if k_high_end0[k, i] > 0:
                        depletion = (k_high_end0[k, i] - high_end[k]) / k_high_end0[k, i]
                    hazard = r_base[q, i] * np.exp(
                        r_readiness_effect[q, i] * (readiness[q] - r_readiness0[q, i])
                        + r_depletion_effect[q, i] * depletion)
                    if not opened[q] and _uniform(h, bases, 7, q, week) < hazard:
                        opened[q] = True
                        out_rival[i] = True
                continue

            at_war = one if status == 0 else zero
            # ---- calendar
            mult = one
            for s in range(season_active.shape[1]):
                if season_active[week, s]:
                    mult = mult * season_mult[s, i]
            push = zero
            for k in range(K):
                elect_mult[k] = one
            for e in range(E):
                if election_week[e] == week:
                    won[e] = _uniform(h, bases, 8, e, week) < challenger_wins[e, i]
                in_office[e] = won[e] and week >= office_week[e]
                if in_office[e]:
                    push += talks_push_if_challenger[e, i]
                    if election_backer[e] >= 0:
                        elect_mult[election_backer[e]] *= aid_mult_if_challenger[e, i]
            # ---- aid
            received_a = zero
            received_b = zero
            for k in range(K):
                sf = _clip(k_support[k] / k_support0[k, i], zero, f32(1.5))
                will = sf * lever[k] * elect_mult[k] * at_war
                diverted = zero
                for q in range(R):
                    if of_backer[q] == k and opened[q]:
                        diverted += r_priority[q, i]
                will *= max(zero, one - diverted)
                from_production = min(one, k_share_sent[k, i] * will) * (production[k] / wpm)
                excess = max(zero, k_stock[k] - shell_floor[k])
                from_stock = min(excess, excess * (will / f32(DRAWDOWN_WEEKS)))
                sent[k] = from_production + from_stock
                he_excess = max(zero, high_end[k] - he_floor[k])
                he_sent[k] = min(he_excess, k_high_end_sent[k, i] / wpm * will)
                if backs[k] == SIDE_A:
                    received_a += sent[k]
                else:
                    received_b += sent[k]
            # ---- industry
            for k in range(K):
                use = zero
                for q in range(R):
                    if of_backer[q] == k and opened[q]:
                        use += r_use[q, i] / wpm
                k_stock[k] = max(zero, k_stock[k] + production[k] / wpm - sent[k])
                high_end[k] = max(zero, high_end[k] + k_high_end_production[k, i] / wpm
                                  - he_sent[k] - use)
                production[k] = production[k] + (k_target[k, i] * surge[k] - production[k]) \
                    * ramp[k]
            stock[SIDE_A] = stock[SIDE_A] + supply_week[SIDE_A, i] + received_a
            stock[SIDE_B] = stock[SIDE_B] + supply_week[SIDE_B, i] + received_b
            # ---- forces
            for s in range(2):
                recruits = mobilization[s, i] * _clip(support[s] / init_support[s, i], zero,
                                                      f32(1.5))
                graduates = in_training[s] * min(one, one / max(training_weeks[s, i], tiny))
                in_training[s] = in_training[s] + recruits + wounded[s] - graduates
                freed = zero
                total = zero
                for j in range(J):
                    on_enemy = soil[j] != s
                    old_forces[s, j] = forces[s, j]
                    allowed = (not on_enemy) or held[j] > 0
                    if not allowed:
                        freed += forces[s, j]
                        forces[s, j] = zero
                    threat = _clip(power[1 - s, j] / (power[s, j] + tiny), f32(1e-6),
                                   f32(10.0))
                    share[s, j] = reinforce_weight[s, j, i] * threat if allowed else zero
                    total += share[s, j]
                available = reserves[s] + graduates + freed
                for j in range(J):
                    share[s, j] = share[s, j] / total if total > 0 else zero
                if s == SIDE_A and hold:
                    to_salient = zero
                    any_b = False
                    for j in range(J):
                        if soil[j] == SIDE_B:
                            to_salient += share[s, j]
                            any_b = True
                    if any_b and to_salient > 0:
                        target = max(to_salient, hold_share[i])
                        rest = one - to_salient
                        scale_rest = (one - target) / rest if rest > 0 else zero
                        scale_salient = target / to_salient
                        for j in range(J):
                            share[s, j] *= scale_salient if soil[j] == SIDE_B else scale_rest
                deployable = deploy_share[i] * available
                deployed_total = zero
                for j in range(J):
                    d = deployable * share[s, j]
                    forces[s, j] += d
                    deployed_total += d
                reserves[s] = available - deployed_total
            # ---- combat
            for s in range(2):
                total = zero
                for j in range(J):
                    total += forces[s, j]
                need = shells_needed[s, i] * total * at_war
                fired = min(stock[s], need)
                ratio = fired / need if need > 0 else one
                fire = ratio ** elasticity[s, i]
                pps = quality[s, i] * fire
                if s == SIDE_B and lifted:
                    pps *= one - lifted_effect[i]
                log_pps = np.log(pps) if pps > 0 else f32(-np.inf)
                for j in range(J):
                    new_power[s, j] = forces[s, j] * pps
                    lf = np.log(forces[s, j]) if forces[s, j] > 0 else f32(-np.inf)
                    lp = log_pps + lf
                    if floor_logs:
                        lf = max(lf, f32(-1e6))
                        lp = max(lp, f32(-1e6))
                    log_forces[s, j] = lf
                    log_power[s, j] = lp
                stock[s] = stock[s] - fired
            for s in range(2):
                total = zero
                for j in range(J):
                    z = _normal(h, bases, table, shift, 1, s * J + j, week)
                    exponent = log_scale[j, i] + firer_exp[i] * log_power[1 - s, j] \
                        + target_exp[i] * log_forces[s, j] + noise_sd[i] * z
                    if new_power[s, j] > new_power[1 - s, j]:
                        exponent += log_attacker[i]
                    c = min(forces[s, j], np.exp(exponent) * at_war)
                    cas_j[s, j] = c
                    total += c
                s2[s] = total
            for s in range(2):
                for j in range(J):
                    forces[s, j] -= cas_j[s, j]
                    power[s, j] = new_power[s, j]
                c = s2[s]
                if week == 0:
                    reference[s] = max(c, one)
                    recent[s] = c
                else:
                    recent[s] = recent[s] + f32(0.25) * (c - recent[s])
                cas_total[s] += c
                wounded[s] = c * (one - killed_share[i]) * wounded_return[i]
            # ---- territory
            for j in range(J):
                occupier = power[1 - soil[j], j]
                owner = power[soil[j], j]
                strong = max(occupier, owner)
                weak = min(occupier, owner)
                speed = np.tanh(steepness[i] * np.log(strong / (weak + tiny) / breakthrough[i]))
                gained = advance_scale[j, i] * (mult * at_war) * max(speed, zero)
                if not occupier > owner:
                    gained = -gained
                held[j] = _clip(held[j] + gained, zero, contested[j, i])
            lost = zero
            salient = zero
            held_a_salient = zero
            for j in range(J):
                if soil[j] == SIDE_A:
                    lost += held[j] - held0[j, i]
                    if a_salient[j]:
                        held_a_salient += held[j]
                else:
                    salient += held[j]
            a_share = _clip(init_share[SIDE_A, i] - lost / area[SIDE_A, i], zero, one)
            e = salient / area[SIDE_A, i]
            # ---- strikes
            damage = damage_pw[i] * (surge_damage[i] if events_surge > 0 else one) * at_war
            capacity = _clip(capacity - damage + repair_pw[i] * (one - capacity), zero, one)
            # ---- politics
            for s in range(2):
                z = _normal(h, bases, table, shift, 2, s, week)
                shock[s] = f32(OPINION_PERSISTENCE) * shock[s] + support_sd[s, i] * z
                lg = logit0[s] - weariness_log[s, i] * np.log1p(cas_total[s]
                                                                / casualty_scale[s, i]) + shock[s]
                if s == SIDE_A:
                    lg -= weariness_energy[SIDE_A, i] * max(zero, capacity0[SIDE_A, i] - capacity)
                support[s] = _expit(lg)
            for k in range(K):
                z = _normal(h, bases, table, shift, 2, 2 + k, week)
                k_logit[k] = k_logit[k] + k_drift[k, i] + k_sd[k, i] * z \
                    - (support_shock[i] if event_last else zero)
                k_support[k] = _expit(k_logit[k])
            # ---- escalation
            d0 = _uniform(h, bases, 4, 0, week)
            d1 = _uniform(h, bases, 4, 1, week)
            hazard = (esc_base[i] + (esc_lifted[i] if lifted else zero)) * at_war
            event = d0 < hazard
            events_surge = max(events_surge - one, zero)
            if event:
                events_surge = surge_weeks[i]
            closes_talks = event and d1 < esc_close_talks[i]
            event_last = event
            # ---- bargaining
            for s in range(2):
                fog = _normal(h, bases, table, shift, 3, s, week) * obs_noise[i]
                g = receptivity[s, i] * variance[s] / (variance[s] + obs_var)
                belief_q[s] = belief_q[s] + g * ((a_share - last_a) + fog - belief_q[s])
                if s == SIDE_B:
                    fog_e = _normal(h, bases, table, shift, 3, 2, week) * obs_noise[i]
                    belief_e = belief_e + g * ((e - last_e) + fog_scale * fog_e - belief_e)
                variance[s] = (one - g) * variance[s] + trend_vol[i]
            x_low = zero
            y_low = zero
            for s in range(2):
                projected = _clip(a_share + horizon[i] * belief_q[s], zero, one)
                ratio = support[s] / init_support[s, i]
                resolve = min(one / max(ratio, f32(1e-9)), f32(5.0))
                cost = cost_per_year[s, i] * (horizon[i] / f32(52.0)) \
                    * (recent[s] / reference[s]) * resolve
                audience = audience_cost[s, i] * min(ratio, f32(2.0))
                if s == SIDE_A:
                    cost = cost + (home_premium[SIDE_A, i] - one) * (held_a_salient
                                                                     / area[SIDE_A, i])
                    r_a = projected - cost
                    x_low = r_a if r_a >= floor_a[i] else (r_a + audience * floor_a[i]) \
                        / (one + audience)
                else:
                    if trade:
                        chip = e
                    else:
                        chip = _clip(e + horizon[i] * belief_e, zero, max_e) if e > 0 else zero
                    r_b = one - projected - home_premium[SIDE_B, i] * chip - cost
                    y_low = r_b if r_b >= floor_b[i] else (r_b + audience * floor_b[i]) \
                        / (one + audience)
            surplus = (one - y_low) - x_low
            t0 = _uniform(h, bases, 5, 0, week)
            t1 = _uniform(h, bases, 5, 1, week)
            seeking = one if (seek_from >= 0 and week >= seek_from) else zero
            rate = talks_open_pw[i] * (initiative * seeking + push) + offers_pw[i]
            talks_open = t0 >= talks_close_pw[i] if talks_open else t0 < -np.expm1(-rate)
            talks_open = talks_open and not closes_talks
            last_a = a_share
            last_e = e
            if talks_open and surplus >= 0 and t1 < settle_pw[i]:
                status = 1
                settlement_week = f32(week)
                terms = _clip(x_low + power_a[i] * surplus, zero, one)
                for j in range(J):
                    if soil[j] == SIDE_B:
                        held[j] = zero
            # ---- rivals (war_on: not settled)
            war_on = zero if status == 1 else one
            for q in range(R):
                readiness[q] = min(one, readiness[q] + r_growth[q, i] / f32(52.0))
                k = of_backer[q]
                depletion = zero
                if k_high_end0[k, i] > 0:
                    depletion = (k_high_end0[k, i] - high_end[k]) / k_high_end0[k, i]
                hazard = r_base[q, i] * np.exp(
                    r_readiness_effect[q, i] * (readiness[q] - r_readiness0[q, i])
                    + r_depletion_effect[q, i] * depletion + r_distraction[q, i] * war_on)
                if not opened[q] and _uniform(h, bases, 7, q, week) < hazard:
                    opened[q] = True
                    out_rival[i] = True
            # ---- record
            min_capacity = min(min_capacity, capacity)
            aid_total += received_a
        out_kind[i] = status
        out_week[i] = settlement_week
        lost = zero
        for j in range(J):
            if soil[j] == SIDE_A:
                lost += held[j] - held0[j, i]
        out_share[i] = terms if status == 1 else _clip(init_share[SIDE_A, i]
                                                       - lost / area[SIDE_A, i], zero, one)
        out_cas_a[i] = cas_total[SIDE_A]
        out_cas_b[i] = cas_total[SIDE_B]
        out_min_capacity[i] = min_capacity
        out_aid[i] = aid_total
    return (out_kind, out_week, out_share, out_cas_a, out_cas_b, out_rival, out_min_capacity,
            out_aid)
