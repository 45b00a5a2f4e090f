"""The war's status codes and the whole state of a chunk of futures at the end of a week.

Each mechanism owns one piece of the state (defined next to its `step`); `State` bundles them.
The engine never changes an array in place once it is part of a state: a step returns new
pieces and `model.simulate` assembles the next `State`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from offramp.engine.extensions import NO_EFFECTS, Effects

if TYPE_CHECKING:
    from offramp.engine.mechanisms.bargaining import BargainingState
    from offramp.engine.mechanisms.calendar import CalendarState
    from offramp.engine.mechanisms.combat import CombatState
    from offramp.engine.mechanisms.escalation import EscalationState
    from offramp.engine.mechanisms.forces import ForcesState
    from offramp.engine.mechanisms.industry import IndustryState
    from offramp.engine.mechanisms.ladder import LadderState
    from offramp.engine.mechanisms.politics import PoliticsState
    from offramp.engine.mechanisms.rivals import RivalsState
    from offramp.engine.mechanisms.strikes import StrikesState
    from offramp.engine.mechanisms.territory import TerritoryState

# War status per future (int8). The numbers match the `end_kind` outcome (0 none, 1 settlement,
# 2 ceasefire).
WAR = 0
SETTLED = 1
CEASEFIRE = 2
STATUS_DTYPE = np.int8


@dataclass(frozen=True)
class State:
    week: int  # weeks completed
    status: np.ndarray  # (n,) WAR, SETTLED or CEASEFIRE
    calendar: CalendarState
    industry: IndustryState
    forces: ForcesState
    combat: CombatState
    territory: TerritoryState
    strikes: StrikesState
    politics: PoliticsState
    escalation: EscalationState
    ladder: LadderState
    bargaining: BargainingState
    rivals: RivalsState
    triggers: Any = None  # policy.TriggerState of an adaptive policy's triggers (None: none)
    opponent_follows: np.ndarray | None = None  # (R, n) bool: side b follows each of its rules
    extensions: tuple[Any, ...] = ()  # one piece per extension mechanism, in its order
    effects: Effects = NO_EFFECTS  # what the extensions do to next week's core mechanisms


_T = TypeVar("_T")


def take_futures(obj: _T, index: np.ndarray) -> _T:
    """The same dataclass (state, record or inputs) for a subset of futures (integer positions).

    Every array field is indexed on its last (ensemble) axis; nested dataclasses are followed;
    other fields (structure: names, tuples, dates, ints) are kept.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: take_futures(getattr(obj, f.name), index)
                               for f in fields(obj)})
    if isinstance(obj, tuple) and any(is_dataclass(item) for item in obj):
        return cast(_T, tuple(take_futures(item, index) for item in obj))
    if isinstance(obj, np.ndarray):
        return cast(_T, np.take(obj, index, axis=-1))  # several times faster than obj[..., index]
    return obj


def concat_futures(first: _T, *others: _T) -> _T:
    """Dataclasses of the same structure joined along the ensemble axis, in order."""
    if is_dataclass(first) and not isinstance(first, type):
        return replace(first, **{f.name: concat_futures(getattr(first, f.name),
                                                        *(getattr(other, f.name)
                                                          for other in others))
                                 for f in fields(first)})
    if isinstance(first, tuple) and any(is_dataclass(item) for item in first):
        parts = zip(cast(tuple[Any, ...], first), *(cast(tuple[Any, ...], other)
                                                    for other in others), strict=True)
        return cast(_T, tuple(concat_futures(*items) for items in parts))
    if isinstance(first, np.ndarray):
        return cast(_T, np.concatenate([first, *others], axis=-1))
    return first
