"""The small condition language: `<name> <op> <value>`, e.g. "a_territory_share >= 0.8".

Requirements on outcomes (`offramp run --require`, judged by satisficing and scenario discovery)
are written in it, and so will be the triggers of adaptive policies. A condition is parsed here
once, with errors in the user's terms; evaluating it is the caller's business (over an outcomes
table in `offramp.analysis.robustness`). Nothing is ever evaluated as Python or SQL.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from offramp.errors import UserError

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
# Two-character operators first, so that ">=" is never read as ">" followed by "=...".
_CONDITION = re.compile(
    r"^\s*(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+)\s*$"
)
FORM = ("the form is '<outcome> <op> <value>' with <op> one of >=, <=, >, <, ==, != and "
        "<value> a number or true/false, e.g. 'territory_share >= 0.8' or "
        "'two_front_war == false'")

DEFAULT_REQUIREMENTS: tuple[str, ...] = ("a_territory_share >= 0.8", "two_front_war == false")
"""What an analyst asks of a policy unless told otherwise (`offramp run --require`): side a keeps
at least 80% of its territory and no second front opens."""


@dataclass(frozen=True)
class Condition:
    """A parsed condition: `name op value` (value a float, or a bool for true/false)."""

    text: str
    name: str
    op: str
    value: float | bool

    def holds(self, values: object) -> object:
        """`values op value`, elementwise for arrays."""
        return OPERATORS[self.op](values, float(self.value))


def _parse_value(text: str) -> float | bool:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    value = float(text)  # ValueError for anything that is not a plain number
    if math.isnan(value):
        raise ValueError(text)
    return value


def unknown_name(name: str, known: Sequence[str], context: str,
                 kind: str = "outcome column") -> UserError:
    """'context: there is no outcome column NAME. Did you mean ...? Known outcome columns: ...'"""
    close = difflib.get_close_matches(name, [str(c) for c in known], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UserError(
        f"{context}: there is no {kind} {name!r}.{hint} "
        f"Known {kind}s: {', '.join(map(str, known)) or '(none)'}."
    )


STATE_VARIABLES: tuple[str, ...] = (
    "week", "a_territory_share", "salient_km2", "support_a", "support_b", "generating_capacity",
    "main_backer_shell_stock", "a_shell_stock", "talks_open", "ladder_rung",
    "escalation_events", "highest_escalation_rung", "rival_opened",
)
"""What a trigger may read: each future's state at the end of last week (the engine's
`outcomes.OBSERVED_NAMES`, the same names; a test keeps them so)."""

OPPONENT_VARIABLES: tuple[str, ...] = (*STATE_VARIABLES, "restrictions_lifted")
"""What side b's rules may read: the same, and whether side a's restrictions are lifted this
week."""


def parse_condition(text: object, known: Sequence[str], kind: str = "outcome column"
                    ) -> Condition:
    """Read one requirement; a UserError names what is wrong (its form, value or name).

    >>> parse_condition("share >= 0.8", ["share"])
    Condition(text='share >= 0.8', name='share', op='>=', value=0.8)
    """
    if not isinstance(text, str):
        raise UserError(f"a requirement must be a string like 'territory_share >= 0.8', "
                        f"not {text!r}")
    match = _CONDITION.match(text)
    if match is None:
        raise UserError(f"cannot read the requirement {text!r}: {FORM}.")
    name, op, raw = match["column"], match["op"], match["value"]
    try:
        value = _parse_value(raw)
    except ValueError:
        raise UserError(
            f"cannot read the requirement {text!r}: {raw!r} is not a number or true/false; "
            f"{FORM}."
        ) from None
    if name not in known:
        raise unknown_name(name, known, f"condition {text!r}", kind)
    return Condition(text, name, op, value)


def check_conditions(texts: Sequence[str], known: Sequence[str]) -> list[Condition]:
    """Parse every condition (a single string is accepted as a list of one).

    >>> check_conditions(["territory >= 0.8"], ["territory_share"])
    Traceback (most recent call last):
    ...
    offramp.errors.UserError: condition 'territory >= 0.8': ... Did you mean 'territory_share'?...
    """
    if isinstance(texts, str):
        texts = [texts]  # a single requirement is an easy slip; accept it
    return [parse_condition(text, known) for text in texts]
