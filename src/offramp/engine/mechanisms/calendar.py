"""Calendar: the date of each week, the season's brake on offensives, scheduled elections.

Seed 003 expects the autumn rains to help a salient become durable; mud seasons (rasputitsa)
come twice a year. Seed 000 points at the US election and the next president's push for talks.

Week w covers the days [start + 7w, start + 7w + 7). A season is active in week w when the
week's first day falls inside the season's window (start month/day, `weeks` long) of that year
or of the year before (a window may run over New Year). An election held on date d is decided in
week floor((d - start) / 7); one dated before the start is decided in week 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from offramp.engine.inputs import FLOAT, CalendarRules
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.vector_math import F32, Array, full, jit


@dataclass(frozen=True)
class CalendarPlan:
    """Per-week constants worked out once per run (plain Python, no futures involved)."""

    active_seasons: tuple[tuple[int, ...], ...]  # per week: indices of active seasons
    election_week: tuple[int, ...]
    takes_office_week: tuple[int, ...]


@dataclass(frozen=True)
class CalendarState:
    challenger_won: np.ndarray  # (E, n) bool: decided at the election week, False before


@dataclass(frozen=True)
class CalendarNow:
    """What the calendar says about this week, for the other mechanisms."""

    advance_multiplier: np.ndarray | float  # (n,) or 1.0 outside any season
    challenger_in_office: np.ndarray  # (E, n) bool


def week_of(date: dt.date, start: dt.date) -> int:
    """Index of the week that contains `date` (negative if before the start)."""
    return (date - start).days // 7


def _season_active(day: dt.date, start: tuple[int, int], weeks: int) -> bool:
    for year in (day.year - 1, day.year):
        month, day_of_month = start
        try:
            opens = dt.date(year, month, day_of_month)
        except ValueError:  # 29 February in a common year, 31 April...: use the month's last day
            opens = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else \
                dt.date(year, 12, 31)
        if opens <= day < opens + dt.timedelta(weeks=weeks):
            return True
    return False


def plan(calendar: CalendarRules, horizon_weeks: int) -> CalendarPlan:
    """Which seasons are active in each week, and the weeks of elections and inaugurations."""
    active = []
    for week in range(horizon_weeks):
        day = calendar.start_date + dt.timedelta(weeks=week)
        active.append(tuple(s for s, (start, weeks) in enumerate(
            zip(calendar.season_start, calendar.season_weeks, strict=True))
            if _season_active(day, start, weeks)))
    return CalendarPlan(
        active_seasons=tuple(active),
        election_week=tuple(max(0, week_of(d, calendar.start_date))
                            for d in calendar.election_date),
        takes_office_week=tuple(max(0, week_of(d, calendar.start_date))
                                for d in calendar.election_takes_office),
    )


def initial_state(calendar: CalendarRules, n: int) -> CalendarState:
    return CalendarState(challenger_won=np.zeros((len(calendar.election_date), n), dtype=bool))


def step(
    calendar: CalendarRules, calendar_plan: CalendarPlan, state: CalendarState, noise: NoiseSource,
    week: int,
) -> tuple[CalendarState, CalendarNow]:
    """Season multiplier for this week; draw election winners in their week."""
    multiplier: np.ndarray | float = 1.0
    for season in calendar_plan.active_seasons[week]:
        multiplier = multiplier * calendar.season_advance_multiplier[season]

    won = state.challenger_won
    deciding = [e for e, w in enumerate(calendar_plan.election_week) if w == week]
    if deciding:
        won = won.copy()
        for e in deciding:
            draw = noise.uniforms(Stream.ELECTION, week, e + 1)[e]
            won[e] = draw < calendar.challenger_wins[e]
    in_office = np.array([week >= w for w in calendar_plan.takes_office_week], dtype=bool)
    challenger_in_office = won & in_office[:, None]
    return CalendarState(challenger_won=won), CalendarNow(multiplier, challenger_in_office)


def aid_multiplier_by_backer(calendar: CalendarRules, now: CalendarNow, n_backers: int, n: int
                             ) -> np.ndarray:
    """(K, n) product of aid multipliers of elections won by the challenger now in office.

    An election of a belligerent carries only the talks push; its aid multiplier is unused.
    """
    multiplier = np.empty((n_backers, n), dtype=FLOAT)
    elections = len(calendar.election_actor_backer)
    _aid_multiplier_kernel(np.asarray(calendar.election_actor_backer, dtype=np.int64),
                           full(now.challenger_in_office, (elections, n), np.bool_),
                           full(calendar.aid_multiplier_if_challenger, (elections, n)),
                           multiplier)
    return multiplier


def talks_push(calendar: CalendarRules, now: CalendarNow) -> np.ndarray | float:
    """(n,) added pressure to open talks from challengers now in office (0.0 if none)."""
    elections = len(calendar.election_date)
    if not elections:
        return 0.0
    n = now.challenger_in_office.shape[-1]
    push = np.empty(n, dtype=FLOAT)
    _talks_push_kernel(full(calendar.talks_push_if_challenger, (elections, n)),
                       full(now.challenger_in_office, (elections, n), np.bool_), push)
    return push


@jit
def _aid_multiplier_kernel(election_backer: Array, in_office: Array, multiplier_if: Array,
                           out: Array) -> None:
    for k in range(out.shape[0]):
        for i in range(out.shape[1]):
            out[k, i] = F32(1.0)
    for e in range(election_backer.shape[0]):
        k = election_backer[e]
        if k >= 0:
            for i in range(out.shape[1]):
                out[k, i] = out[k, i] * multiplier_if[e, i] if in_office[e, i] else out[k, i]


@jit
def _talks_push_kernel(push_if: Array, in_office: Array, out: Array) -> None:
    for i in range(out.shape[0]):
        out[i] = F32(0.0)
    for e in range(push_if.shape[0]):  # elections in order, as NumPy's sum over that axis
        for i in range(out.shape[0]):
            out[i] += push_if[e, i] * F32(in_office[e, i])
