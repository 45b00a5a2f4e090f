"""Outcomes: what each future ends with, and the optional weekly series.

One array of length n per outcome (see OUTCOME_NAMES and docs/model.md for definitions):

    ended                 bool   settled, or in a ceasefire at the horizon
    end_kind              int8   0 none, 1 settlement, 2 ceasefire (at the horizon)
    end_week              float  first week of the last stretch without fighting (a settlement
                                 reached during a ceasefire counts from the ceasefire); NaN if
                                 the war is on at the horizon. Week w is the (w+1)-th step.
    settlement_week       float  week of the settlement, NaN if none
    a_territory_share     float  side a's share of its territory: the settled terms x* if
                                 settled, else the line at the horizon
    settlement_terms      float  x*, NaN if no settlement
    salient_km2_at_end    float  b's soil held by a at the horizon (0 after a settlement)
    salient_km2_traded    float  b's soil handed back in the settlement (0 if none)
    casualties_a/_b       float  killed and wounded since week 0
    killed_a/_b           float
    min_generating_capacity      lowest share of side a's pre-war generation
    min_backer_shell_stock       lowest shell stock of side a's main backer (NaN if none)
    min_backer_high_end_stock    lowest high-end stock of that backer (NaN if none)
    rival_opened          bool   any rival theater opened
    rival_open_week       float  first week a rival opened, NaN if none
    two_front_war         bool   a rival opened while the main war was being fought
    escalation_events     int32
    highest_escalation_rung int8 0 none, 1 a strike surge, 2... the escalation rungs above it
    highest_rung          int16  1-based index of the highest ladder rung ever in force, 0 none
    aid_shells_delivered  float  rounds received by side a from its backers
    talks_ever_opened     bool
    talks_open_weeks      int16  weeks with talks open (the week of a deal included)
    refused_talks_over_soil bool side b refused talks while side a held its soil (hardening)
    deadlock_weeks        int16  weeks with talks open while an issue beside territory had no
                                 zone of agreement (0 when territory is the only issue)
    issue_concessions     float  what side a conceded on issues beside territory, in units of
                                 its territory (NaN if no settlement or no such issue)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from offramp.engine.inputs import FLOAT, POSTURE_CODES, SIDE_A, SIDE_B, EngineInputs, Levers
from offramp.engine.mechanisms import escalation
from offramp.engine.policy import NO_OVERRIDES, LeverOverrides
from offramp.engine.state import CEASEFIRE, SETTLED, WAR, State
from offramp.engine.vector_math import F32, Array, full, inline, jit

OUTCOME_NAMES: tuple[str, ...] = (
    "ended", "end_kind", "end_week", "settlement_week", "a_territory_share", "settlement_terms",
    "salient_km2_at_end", "salient_km2_traded", "casualties_a", "casualties_b", "killed_a",
    "killed_b", "min_generating_capacity", "min_backer_shell_stock",
    "min_backer_high_end_stock", "rival_opened", "rival_open_week", "two_front_war",
    "escalation_events", "highest_escalation_rung", "highest_rung", "aid_shells_delivered",
    "talks_ever_opened",
    "talks_open_weeks", "refused_talks_over_soil", "deadlock_weeks", "issue_concessions",
)

STATE_SERIES: tuple[str, ...] = (
    "a_territory_share", "salient_km2", "support_a", "support_b", "generating_capacity",
    "main_backer_shell_stock", "a_shell_stock", "talks_open", "ladder_rung",
    "escalation_events",
)
"""The state at the end of each week (`series_row`)."""
LEVER_SERIES: tuple[str, ...] = (
    "restrictions_lifted", "aid_multiplier", "seek_talks", "pursue_ladder", "salient_posture",
)
"""The policy's levers in force in the week that starts at each row (row w: week w; the last
row repeats the last week's), `salient_posture` as inputs.POSTURE_CODES: schedules and triggers
show in them, in the row whose state a trigger read."""
SERIES_NAMES: tuple[str, ...] = STATE_SERIES + LEVER_SERIES


@dataclass(frozen=True)
class RecordState:
    """Running extremes and totals the final outcomes need."""

    min_generating_capacity: np.ndarray  # (n,)
    min_backer_shell_stock: np.ndarray  # (n,) NaN without a main backer
    min_backer_high_end_stock: np.ndarray  # (n,)
    peace_since: np.ndarray  # (n,) first week of the current stretch without fighting, or NaN
    aid_shells_delivered: np.ndarray  # (n,) rounds received by side a


@dataclass(frozen=True)
class EngineResult:
    outcomes: dict[str, np.ndarray]
    series: dict[str, np.ndarray] | None  # name -> (weeks + 1, n) float32


def initial_record(inputs: EngineInputs, state: State) -> RecordState:
    n = inputs.n_futures
    k = inputs.main_backer
    return RecordState(
        min_generating_capacity=state.strikes.generating_capacity,
        min_backer_shell_stock=state.industry.backer_shell_stock[k] if k is not None
        else np.full(n, np.nan, dtype=FLOAT),
        min_backer_high_end_stock=state.industry.backer_high_end_stock[k] if k is not None
        else np.full(n, np.nan, dtype=FLOAT),
        peace_since=np.full(n, np.nan, dtype=FLOAT),
        aid_shells_delivered=np.zeros(n, dtype=FLOAT),
    )


def record_week(inputs: EngineInputs, record: RecordState, state: State,
                shells_received_a: np.ndarray, week: int) -> RecordState:
    k = inputs.main_backer
    n = state.status.shape[0]
    capacity, shells, high_end, peace, delivered = (np.empty(n, dtype=FLOAT) for _ in range(5))
    _record_kernel(
        full(record.min_generating_capacity, (n,)), full(state.strikes.generating_capacity, (n,)),
        full(record.min_backer_shell_stock, (n,)),
        None if k is None else full(state.industry.backer_shell_stock[k], (n,)),
        full(record.min_backer_high_end_stock, (n,)),
        None if k is None else full(state.industry.backer_high_end_stock[k], (n,)),
        full(record.peace_since, (n,)), state.status == WAR,
        full(record.aid_shells_delivered, (n,)), full(shells_received_a, (n,)), F32(week),
        capacity, shells, high_end, peace, delivered)
    return RecordState(min_generating_capacity=capacity, min_backer_shell_stock=shells,
                       min_backer_high_end_stock=high_end, peace_since=peace,
                       aid_shells_delivered=delivered)


@inline
def _minimum(a: Any, b: Any) -> Any:
    """np.minimum of two scalars (a NaN on either side wins)."""
    return a if (a <= b or a != a) else b


@jit
def _record_kernel(
    min_capacity: Array, capacity: Array, min_shells: Array, shells: Array | None,
    min_high_end: Array, high_end: Array | None, peace_since: Array, fighting: Array,
    delivered: Array, received: Array, week: np.float32, capacity_out: Array, shells_out: Array,
    high_end_out: Array, peace_out: Array, delivered_out: Array,
) -> None:
    for i in range(capacity_out.shape[0]):
        capacity_out[i] = _minimum(min_capacity[i], capacity[i])
        shells_out[i] = min_shells[i] if shells is None else _minimum(min_shells[i], shells[i])
        high_end_out[i] = min_high_end[i] if high_end is None \
            else _minimum(min_high_end[i], high_end[i])
        since = week if peace_since[i] != peace_since[i] else peace_since[i]
        peace_out[i] = F32(np.nan) if fighting[i] else since
        delivered_out[i] = delivered[i] + received[i]


OBSERVED_NAMES: tuple[str, ...] = ("week", *STATE_SERIES, "highest_escalation_rung",
                                   "rival_opened")
"""What a policy's triggers may read (`observed`): the state series, the week, how far up the
escalation ladder a future has climbed and whether a rival theater is open."""


def observed(inputs: EngineInputs, state: State, a_share: np.ndarray, salient_km2: np.ndarray,
             week: int) -> dict[str, np.ndarray | float]:
    """The state a trigger reads, at the end of the week before `week` (`OBSERVED_NAMES`)."""
    return {
        "week": float(week), **series_row(inputs, state, a_share, salient_km2),
        "highest_escalation_rung": escalation.top_rung(state.escalation).astype(FLOAT),
        "rival_opened": np.asarray(state.rivals.opened.any(axis=0)) if state.rivals.opened.shape[0]
        else np.zeros(inputs.n_futures, dtype=bool),
    }


def series_row(inputs: EngineInputs, state: State, a_share: np.ndarray,
               salient_km2: np.ndarray) -> dict[str, np.ndarray]:
    """`STATE_SERIES` at the end of a week."""
    k = inputs.main_backer
    settled = state.status == SETTLED
    return {
        "a_territory_share": np.where(settled, state.bargaining.terms, a_share),
        "salient_km2": salient_km2,
        "support_a": state.politics.support[SIDE_A],
        "support_b": state.politics.support[SIDE_B],
        "generating_capacity": state.strikes.generating_capacity,
        "main_backer_shell_stock": state.industry.backer_shell_stock[k] if k is not None
        else np.full(inputs.n_futures, np.nan),
        "a_shell_stock": state.industry.shell_stock[SIDE_A],
        "talks_open": state.bargaining.talks_open,
        "ladder_rung": state.ladder.top_rung,
        "escalation_events": state.escalation.events,
    }


def lever_row(levers: Levers, week: int, overrides: LeverOverrides = NO_OVERRIDES
              ) -> dict[str, np.ndarray | float]:
    """`LEVER_SERIES` for `week`: the levers in force (`overrides`: what triggers set)."""
    seeking = float(levers.seek_talks_from_week is not None
                    and week >= levers.seek_talks_from_week)
    posture: np.ndarray | float = float(POSTURE_CODES[levers.salient_posture])
    if overrides.withdraw_since is not None:
        posture = np.where(np.isfinite(overrides.withdraw_since),
                           float(POSTURE_CODES["withdraw"]), posture)
    return {
        "restrictions_lifted": overrides.value("lift_restrictions",
                                               float(levers.lift_restrictions)),
        "aid_multiplier": overrides.value("aid_multiplier", levers.aid_multiplier),
        "seek_talks": overrides.value("seek_talks", seeking),
        "pursue_ladder": float(levers.pursue_ladder),
        "salient_posture": posture,
    }


def final_outcomes(inputs: EngineInputs, state: State, record: RecordState,
                   a_share: np.ndarray, salient_km2: np.ndarray) -> dict[str, np.ndarray]:
    status = state.status
    settled = status == SETTLED
    ended = settled | (status == CEASEFIRE)
    rivals = state.rivals
    if rivals.opened.shape[0]:
        rival_opened = rivals.opened.any(axis=0)
        first_open = np.where(rival_opened,
                              np.where(rivals.opened, rivals.open_week, np.inf).min(axis=0),
                              np.nan)
    else:
        rival_opened = np.zeros(inputs.n_futures, dtype=bool)
        first_open = np.full(inputs.n_futures, np.nan, dtype=FLOAT)
    combat = state.combat
    outcomes = {
        "ended": ended,
        "end_kind": status.astype(np.int8),
        "end_week": np.where(ended, record.peace_since, np.nan),
        "settlement_week": state.bargaining.settlement_week,
        "a_territory_share": np.where(settled, state.bargaining.terms, a_share),
        "settlement_terms": state.bargaining.terms,
        "salient_km2_at_end": salient_km2,
        "salient_km2_traded": state.bargaining.traded_km2,
        "casualties_a": combat.casualties_total[SIDE_A],
        "casualties_b": combat.casualties_total[SIDE_B],
        "killed_a": combat.killed_total[SIDE_A],
        "killed_b": combat.killed_total[SIDE_B],
        "min_generating_capacity": record.min_generating_capacity,
        "min_backer_shell_stock": record.min_backer_shell_stock,
        "min_backer_high_end_stock": record.min_backer_high_end_stock,
        "rival_opened": rival_opened,
        "rival_open_week": first_open,
        "two_front_war": rivals.two_front_war,
        "escalation_events": state.escalation.events.astype(np.int32),
        "highest_escalation_rung": escalation.top_rung(state.escalation),
        "highest_rung": state.ladder.highest_rung.astype(np.int16),
        "aid_shells_delivered": record.aid_shells_delivered,
        "talks_ever_opened": state.bargaining.talks_ever_opened,
        "talks_open_weeks": state.bargaining.talks_open_weeks.astype(np.int16),
        "refused_talks_over_soil": state.bargaining.refused_over_soil,
        "deadlock_weeks": state.bargaining.deadlock_weeks.astype(np.int16),
        "issue_concessions": state.bargaining.issue_concessions,
    }
    assert tuple(outcomes) == OUTCOME_NAMES
    # The state is kept in single precision; outcomes are handed out in double.
    return {name: values.astype(np.float64) if values.dtype.kind == "f" else values
            for name, values in outcomes.items()}
