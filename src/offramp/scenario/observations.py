"""Observations: what has happened since a scenario's start, to condition a run on.

An observations file is YAML (a mapping with an `observations` list) or CSV (one row each, the
same field names as columns). Each observation says, for one weekly series the engine records:

* when: `week` (the series row: the state `week` weeks after the scenario's `start_date`) or
  `date` (converted to the nearest week with the run's calendar);
* what: `value` with `sd` (a Gaussian observation error, in the series' unit), or `low` and
  `high` (the value lies in the interval; no better than that is claimed);
* who says so: `source`, a dated published work (`Author (2024-08-27) title: what it says`),
  as scenario sources are. A source dated before the observed week cannot report it.

    observations:
      - date: 2024-08-27
        series: salient_km2
        value: 1294
        sd: 150
        source: "Syrskyi (2024-08-27) ...: 1,294 km² of Kursk region under Ukrainian control"

`load_observations(path, start_date)` reads, checks and dates them; a malformed file gets one
line per problem naming the file, the line, the field and what was expected.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from offramp.scenario.loader import (
    Origin,
    Path_,
    ScenarioError,
    explain_validation_error,
    read_yaml,
)
from offramp.scenario.sources import source_date

FIELDS = ("week", "date", "series", "value", "sd", "low", "high", "source")


class ObservationSpec(BaseModel):
    """One observation as written in the file."""

    model_config = ConfigDict(extra="forbid")

    week: int | None = Field(None, ge=0, description="Series row: weeks after start_date.")
    date: dt.date | None = Field(None, description="Date observed (ISO 8601); or give week.")
    series: str = Field(min_length=1, description="A weekly series the engine records.")
    value: float | None = Field(None, allow_inf_nan=False, description="The observed value.")
    sd: float | None = Field(None, gt=0, allow_inf_nan=False,
                             description="Gaussian observation error, in the series' unit.")
    low: float | None = Field(None, allow_inf_nan=False, description="Interval: lowest value.")
    high: float | None = Field(None, allow_inf_nan=False, description="Interval: highest value.")
    source: str = Field(min_length=1, description="A dated published work that says it.")

    @field_validator("date", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            return value.date()
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> ObservationSpec:
        if (self.week is None) == (self.date is None):
            raise ValueError("give exactly one of week and date")
        gaussian = self.value is not None or self.sd is not None
        interval = self.low is not None or self.high is not None
        if gaussian == interval:
            raise ValueError("give either value and sd (a Gaussian error) or low and high "
                             "(an interval)")
        if gaussian and (self.value is None or self.sd is None):
            raise ValueError("a value needs its sd (the observation error, > 0), and an sd "
                             "its value")
        if interval and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError("an interval needs low <= high")
        if source_date(self.source) is None:
            raise ValueError("the source must be a dated published work, e.g. \"Author "
                             "(2024-11-01) title: what it says\"")
        return self


class ObservationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(None, description="The scenario these observe (a note).")
    observations: list[ObservationSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Observation:
    """One checked observation, dated in weeks of the run."""

    week: int
    series: str
    value: float  # the value, or the interval's middle
    sd: float  # Gaussian error; NaN for an interval
    low: float  # the interval (value ± nothing for a Gaussian: -inf, inf)
    high: float
    source: str
    where: str  # file:line, for messages

    @property
    def is_interval(self) -> bool:
        return math.isnan(self.sd)

    def describe(self) -> str:
        said = (f"between {self.low:g} and {self.high:g}" if self.is_interval
                else f"{self.value:g} ± {self.sd:g}")
        return f"{self.series} at week {self.week} {said} ({self.where})"


def _read_csv(path: Path) -> tuple[dict, dict[Path_, Origin]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the file ({error})") from None
    reader = csv.DictReader(io.StringIO(text))
    unknown = [name for name in reader.fieldnames or [] if name not in FIELDS]
    if unknown or not reader.fieldnames:
        raise ScenarioError(f"{path}:1: the header must name columns among {', '.join(FIELDS)}"
                            f"; found {', '.join(unknown) or 'none'}")
    rows: list[dict[str, str]] = []
    origins: dict[Path_, Origin] = {}
    for index, row in enumerate(reader):
        rows.append({key: value for key, value in row.items() if value not in (None, "")})
        origins[("observations", index)] = Origin(str(path), reader.line_num, 1)
    return {"observations": rows}, origins


def builtin_observations() -> dict[str, Path]:
    """Names and paths of the observations files shipped inside the package."""
    folder = resources.files("offramp.scenario") / "observed"
    return {Path(entry.name).stem: Path(str(entry)) for entry in folder.iterdir()
            if entry.name.endswith(".yaml")}


def load_observations(path: str | Path, start_date: dt.date, horizon_weeks: int
                      ) -> list[Observation]:
    """Read, check and date an observations file (or a built-in one, by name) for a run
    starting on `start_date`."""
    shipped = builtin_observations()
    path = shipped[str(path)] if str(path) in shipped else Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such observations file (built-in ones: "
                            f"{', '.join(sorted(shipped))})")
    data, origins = _read_csv(path) if path.suffix.lower() == ".csv" else read_yaml(path)
    try:
        parsed = ObservationsFile.model_validate(copy.deepcopy(data))
    except ValidationError as error:
        raise explain_validation_error(error, data, origins, str(path),
                                       what="the observations file") from None
    checked, problems = [], []
    for index, spec in enumerate(parsed.observations):
        origin = origins.get(("observations", index), Origin(str(path)))
        name = Path(origin.file).name  # short: it is repeated in every table row
        where = f"{name}:{origin.line}" if origin.line else name
        at = f"{origin.file}:{origin.line}" if origin.line else origin.file
        week = (round((spec.date - start_date).days / 7) if spec.date is not None
                else spec.week or 0)
        dated = source_date(spec.source)
        observed = start_date + dt.timedelta(weeks=week)
        if week < 0 or week > horizon_weeks:
            problems.append(f"{at}: observations[{index}]: week {week} is outside the run "
                            f"(0 to {horizon_weeks}, from {start_date.isoformat()})")
        elif dated is not None and dated.written.count("-") == 2 and dated.earliest < (
                observed - dt.timedelta(days=7)):
            problems.append(f"{at}: observations[{index}]: the source is dated "
                            f"{dated.written}, before the week it reports ({observed})")
        if spec.value is not None and spec.sd is not None:
            value, sd, low, high = spec.value, spec.sd, -math.inf, math.inf
        else:
            low, high = float(spec.low or 0.0), float(spec.high or 0.0)
            value, sd = (low + high) / 2, math.nan
        checked.append(Observation(week=week, series=spec.series, value=value, sd=sd, low=low,
                                   high=high, source=spec.source, where=where))
    if problems:  # as a scenario's problems: a line saying how many, then one line each
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise ScenarioError("\n  ".join([f"{path}: the observations file is not valid ({count})",
                                         *problems]))
    return checked
