"""When a source was published, and whether a scenario "as of" a date may use it.

A scenario may declare `scenario.as_of` (the date whose knowledge it claims to encode). Every
source then has a date: the date of the work it cites (`Author (2024) ...`, `Author (2024-08)
...`, `Author (2024-08-16) ...`: the first parenthesised date in the text; a seed passage is
dated by the op-ed it paraphrases), or, for `assumption: ...`, the scenario's own judgment as of
`as_of` — unless the assumption cites a dated work, which then dates it. A parameter whose
source could only have been known after `as_of` (its earliest possible date is later) is
hindsight: an error, unless the parameter says `hindsight: <why>`.

A date given to the year or the month is read at its earliest: "(2024)" could be January 2024,
so a scenario as of August 2024 may cite it. Say the month or the day when it matters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pydantic import BaseModel

from offramp.scenario.walk import iter_parameters

# The two op-eds the built-in scenario paraphrases (their files are not shipped: they are cited
# as the published works, and dated to the month of publication).
SEED_DATES = {
    "000": (dt.date(2024, 8, 1), "2024-08"),  # Charap & Kupchan, Project Syndicate
    "003": (dt.date(2024, 8, 1), "2024-08"),  # A. Wess Mitchell, Foreign Policy
}
_CITED_DATE = re.compile(r"\((\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[a-z]?\)")
_SEED = re.compile(r"^\s*seed\s+(\d{3})_", re.IGNORECASE)


@dataclass(frozen=True)
class SourceDate:
    """The earliest date a source could have been known, and how the source states it."""

    earliest: dt.date
    written: str


def source_date(source: str) -> SourceDate | None:
    """The latest of the dates a source cites, each read at its earliest (None: undated).

    >>> source_date("Fearon (1995) Rationalist explanations for war")
    SourceDate(earliest=datetime.date(1995, 1, 1), written='1995')
    >>> source_date("Defense One (2025-03-04) reporting; assumption beyond it").written
    '2025-03-04'
    >>> source_date("assumption: a judgment") is None
    True
    """
    dates = []
    seed = _SEED.match(source)
    if seed and seed[1] in SEED_DATES:
        dates.append(SourceDate(*SEED_DATES[seed[1]]))
    for match in _CITED_DATE.finditer(source):
        year, month, day = match[1], match[2], match[3]
        try:
            earliest = dt.date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            continue  # not a date: "(2024-13)" cites nothing we can place
        dates.append(SourceDate(earliest, "-".join(part for part in (year, month, day) if part)))
    return max(dates, key=lambda d: d.earliest) if dates else None


@dataclass(frozen=True)
class Hindsight:
    """A parameter whose source postdates the scenario's `as_of` date."""

    path: str
    source_date: SourceDate
    reason: str | None  # the parameter's `hindsight:` reason; None when it gives none

    def message(self, as_of: dt.date) -> str:
        return (f"its source is dated {self.source_date.written}, after the scenario's as_of "
                f"{as_of.isoformat()}: hindsight (use a source known by then, or mark the "
                "parameter `hindsight: <why>`)")


def hindsight(scenario: BaseModel, as_of: dt.date) -> list[Hindsight]:
    """Every parameter whose source could only be known after `as_of`, marked or not."""
    found = []
    for path, param in iter_parameters(scenario):
        date = source_date(param.source)
        if date is not None and date.earliest > as_of:
            found.append(Hindsight(path, date, param.hindsight))
    return found
