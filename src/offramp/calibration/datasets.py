"""Registry of the historical daily battle series shipped in `offramp.data`.

Every loader returns a `BattleSeries` of plain numpy arrays on one convention, so the fitting
code never needs to know which spreadsheet a number came from:

* `day[i]` is the day number as the source counts it;
* `blue_force[i]`, `red_force[i]` are the forces at the *start* of day i (NaN where unrecorded);
* `blue_loss[i]`, `red_loss[i]` are the losses *during* day i (NaN where unrecorded);
* `blue_reinforcement[i]`, `red_reinforcement[i]` are the net arrivals during day i, which join
  the fight on day i+1, so that force[i+1] = force[i] + reinforcement[i] - loss[i].

Blue is the Allied/US side and red the German/Japanese side throughout. Where the source does
not record reinforcements they are derived from that identity and say so in the description.
Provenance of each file is in `offramp/data/PROVENANCE.md`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, partial
from importlib import resources

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Bracken's (1995) aggregation weights: one tank counts as 20 soldiers, an APC as 5, a gun as 40
#: (US Army Concepts Analysis Agency practice, per Pinkerton 2022 Table 6; they also reproduce
#: Wiper et al.'s aggregated series from Fricker's Tables 4-5 on 63 of 64 side-days).
BRACKEN_WEIGHTS: dict[str, float] = {"tanks": 20.0, "apcs": 5.0, "artillery": 40.0}

_FRICKER_SOURCE = (
    "Fricker (1998) 'Attrition models of the Ardennes campaign', Naval Research Logistics "
    "45:1-22, {tables}; ACSDB data (Data Memory Systems Inc. 1990, DTIC AD-A240088) as used by "
    "Bracken (1995). Transcription: mattpinkerton/Modelling_Warfare_using_Lanchesters_Equations "
    "@ 5b6fd33b4bd76e70f4fb921957c18f5aada9c2ad (no licence stated; attributed test fixture)."
)


@dataclass(frozen=True)
class BattleSeries:
    """Daily forces, losses and reinforcements of one battle, blue vs red (see module doc)."""

    name: str
    title: str
    description: str
    blue_label: str
    red_label: str
    day: FloatArray
    date: NDArray[np.str_]
    blue_force: FloatArray
    red_force: FloatArray
    blue_loss: FloatArray
    red_loss: FloatArray
    blue_reinforcement: FloatArray
    red_reinforcement: FloatArray
    reference: Mapping[str, FloatArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.day.size)

    @property
    def forces_observed(self) -> bool:
        """True when both sides' strength is recorded every day, so losses can be fitted against
        observed forces instead of a simulated trajectory."""
        return bool(np.all(np.isfinite(self.blue_force)) and np.all(np.isfinite(self.red_force)))


@dataclass(frozen=True)
class DatasetInfo:
    """What `list_datasets` shows: a registry name and a one-line summary."""

    name: str
    title: str


def _read_table(filename: str) -> dict[str, NDArray]:
    """Columns of a shipped CSV: numeric where every filled cell is a number (blank = NaN)."""
    with resources.files("offramp.data").joinpath(filename).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns: dict[str, NDArray] = {}
    for column in rows[0]:
        cells = [row[column].strip() for row in rows]
        try:
            columns[column] = np.array([float(c) if c else np.nan for c in cells], dtype=float)
        except ValueError:
            columns[column] = np.array(cells, dtype=str)
    return columns


def _derived_reinforcements(force: FloatArray, loss: FloatArray) -> FloatArray:
    """Net arrivals implied by force[i+1] = force[i] + arrivals[i] - loss[i]; NaN on the last day,
    whose successor is not in the record."""
    arrivals = np.full(force.shape, np.nan)
    arrivals[:-1] = force[1:] - force[:-1] + loss[:-1]
    return arrivals


def _weighted(table: dict[str, NDArray], side: str, which: str) -> FloatArray:
    """Bracken-weighted equipment count of one side (`which` = 'available' or 'killed')."""
    total = np.zeros(table["day"].shape)
    for kind, weight in BRACKEN_WEIGHTS.items():
        total = total + weight * table[f"{side}_{kind}_{which}"]
    return total


def _ardennes_name(reformatted: bool, manpower: str, weighted: bool) -> str:
    """Registry name of one formulation of the Fricker tables."""
    table = "t4" if reformatted else "t1"
    return f"ardennes-{table}-{manpower}" + ("-weighted" if weighted else "")


def _load_ardennes(reformatted: bool, manpower: str, weighted: bool) -> BattleSeries:
    """One formulation of the Fricker tables, days 1-32 (day 0's German data are incomplete and
    no study uses it).

    `reformatted` picks Tables 4-5 (the campaign as one battle) over Tables 1-2 (forces in
    contact each day); `manpower` is 'combat' or 'total'; `weighted` adds equipment with
    Bracken's weights.
    """
    if reformatted:
        men = _read_table("ardennes_fricker1998_t4_manpower_reformatted.csv")
        equipment = _read_table("ardennes_fricker1998_t5_equipment_reformatted.csv")
        tables = "Tables 4-5" if weighted else "Table 4"
    else:
        men = _read_table("ardennes_fricker1998_t1_manpower.csv")
        equipment = _read_table("ardennes_fricker1998_t2_equipment.csv")
        tables = "Tables 1-2" if weighted else "Table 1"
    kept = men["day"] >= 1
    columns: dict[tuple[str, str], FloatArray] = {}
    for side in ("blue", "red"):
        for which in ("available", "killed"):
            values = men[f"{side}_{manpower}_{which}"].astype(float)
            if weighted:
                values = values + _weighted(equipment, side, which)
            columns[side, which] = values[kept]
    content = f"{manpower} manpower" + (
        " + tanks x20, APCs x5, artillery x40 (Bracken weights)" if weighted else ""
    )
    formulation = (
        "reformatted (one battle: initial pool minus daily losses)"
        if reformatted
        else "as fought (forces in contact each day)"
    )
    return BattleSeries(
        name=_ardennes_name(reformatted, manpower, weighted),
        title=f"Ardennes, Fricker {tables}, {content}, "
        + ("reformatted" if reformatted else "as fought"),
        description=(
            f"Ardennes 16 Dec 1944 - 16 Jan 1945, days 1-32, {content}, {formulation}. "
            "Losses are killed or wounded (no captured/missing). Reinforcements derived as "
            "force[i+1] - force[i] + loss[i]. " + _FRICKER_SOURCE.format(tables=tables)
        ),
        blue_label="Allied",
        red_label="German",
        day=men["day"][kept],
        date=men["date"][kept],
        blue_force=columns["blue", "available"],
        red_force=columns["red", "available"],
        blue_loss=columns["blue", "killed"],
        red_loss=columns["red", "killed"],
        blue_reinforcement=_derived_reinforcements(
            columns["blue", "available"], columns["blue", "killed"]
        ),
        red_reinforcement=_derived_reinforcements(
            columns["red", "available"], columns["red", "killed"]
        ),
    )


def _load_wiper() -> BattleSeries:
    """Wiper, Pettit & Young's aggregated Ardennes series exactly as the repository gives it."""
    table = _read_table("ardennes_wiper2000_aggregated.csv")
    blue_force, red_force = table["allied_force"], table["german_force"]
    blue_loss, red_loss = table["allied_casualties"], table["german_casualties"]
    return BattleSeries(
        name="ardennes-wiper",
        title="Ardennes, Wiper et al. (2000) aggregate (combat manpower + weighted equipment)",
        description=(
            "Ardennes 16 Dec 1944 - 16 Jan 1945 (Fricker days 1-32), one aggregate force per "
            "side: combat manpower + Bracken-weighted equipment of Fricker's reformatted Tables "
            "4-5, as used by Wiper, Pettit & Young (2000) NRL 47:541-558. Differs from our own "
            "aggregation by <0.005% in forces and on 31 Dec 1944 in German casualties (2,340 here "
            "vs 2,400 from Fricker's tables; unresolved). Reinforcements derived. Source: "
            "yiyuezhuo/lanchester-model-review @ 3df9c333a26f633b17c4e68a4eb9b78539016f53, "
            "Ardennes.csv (no licence stated; attributed test fixture)."
        ),
        blue_label="Allied",
        red_label="German",
        day=table["fricker_day"],
        date=table["date"],
        blue_force=blue_force,
        red_force=red_force,
        blue_loss=blue_loss,
        red_loss=red_loss,
        blue_reinforcement=_derived_reinforcements(blue_force, blue_loss),
        red_reinforcement=_derived_reinforcements(red_force, red_loss),
    )


def _load_iwojima() -> BattleSeries:
    """Helmbold's Iwo Jima sheet on the common convention.

    US strength at the start of a day is what had landed before it minus what had been lost
    before it (0 at the start of D-day). Japanese strength is recorded twice: 21,449 at the start
    of D-day and 2,469 on 16 Mar (D+25), which — as in Helmbold's own comparison — is taken as
    the end of that day, i.e. the start of 17 Mar. Japanese daily losses are not recorded and the
    Japanese received no reinforcements (Engel's and Helmbold's assumption).
    """
    table = _read_table("iwojima_helmbold1993_daily.csv")
    landed = np.nan_to_num(table["usmc_landed"], nan=0.0)
    us_loss = table["usmc_loss_per_day"]
    us_force = np.concatenate(([0.0], np.cumsum(landed - np.nan_to_num(us_loss, nan=0.0))[:-1]))
    reported = table["japanese_ashore_reported"]
    japanese_force = np.full(landed.shape, np.nan)
    japanese_force[0] = reported[0]
    later = np.flatnonzero(np.isfinite(reported))[1:]
    japanese_force[later + 1] = reported[later]
    return BattleSeries(
        name="iwojima-helmbold",
        title="Iwo Jima 19 Feb - 27 Mar 1945, Helmbold (1993) sheet, USMC vs Japanese",
        description=(
            "Iwo Jima, D-day 19 Feb 1945 (day 1) to 27 Mar 1945 (day 37). USMC landings per day "
            "and USMC losses per day as Helmbold's period averages (2,420 on D-day, 1,067.6/day "
            "D+1-5, 852.14/day D+6-19, 242.81/day D+20-35), not daily counts. Japanese ashore "
            "21,449 at D-day and 2,469 at the end of 16 Mar (D+25); no Japanese reinforcements. "
            "Source: PAR Datadisk v2.1 (DTIC ADM000368, 1994), dataset IWOJIMA-1993 (R. L. "
            "Helmbold, CAA, unpublished notes rev. 1 Nov 1993), via jrnold/PAR @ "
            "f241d882b8e081e7afbdbe75581ae57e92fee4e9 data/IWOJIMA.csv (ODC-PDDL; US Government "
            "work)."
        ),
        blue_label="USMC",
        red_label="Japanese",
        day=table["day_number"],
        date=table["date"],
        blue_force=us_force,
        red_force=japanese_force,
        blue_loss=us_loss,
        red_loss=np.full(landed.shape, np.nan),
        blue_reinforcement=landed,
        red_reinforcement=np.zeros(landed.shape),
        reference={
            "helmbold_model_us_end": table["helmbold_model_us_end"],
            "helmbold_model_jap_end": table["helmbold_model_jap_end"],
            "japanese_ashore_reported": reported,
        },
    )


_LOADERS: dict[str, Callable[[], BattleSeries]] = {
    _ardennes_name(reformatted, manpower, weighted): partial(
        _load_ardennes, reformatted, manpower, weighted
    )
    for reformatted in (False, True)
    for weighted in (False, True)
    for manpower in ("combat", "total")
}
_LOADERS["ardennes-wiper"] = _load_wiper
_LOADERS["iwojima-helmbold"] = _load_iwojima


@cache
def _load_cached(name: str) -> BattleSeries:
    """Load once per process; the arrays are made read-only because every caller shares them."""
    series = _LOADERS[name]()
    arrays = [value for value in vars(series).values() if isinstance(value, np.ndarray)]
    for array in [*arrays, *series.reference.values()]:
        array.setflags(write=False)
    return series


def dataset_names() -> tuple[str, ...]:
    """Registry names, in display order."""
    return tuple(_LOADERS)


def load_dataset(name: str) -> BattleSeries:
    """The series registered under `name`; KeyError (listing the valid names) if there is none."""
    if name not in _LOADERS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(_LOADERS)}")
    return _load_cached(name)


def list_datasets() -> list[DatasetInfo]:
    """Name and title of every shipped series, for `offramp calibrate --list`."""
    return [DatasetInfo(name=name, title=load_dataset(name).title) for name in _LOADERS]


def select_days(series: BattleSeries, first_day: float, last_day: float) -> BattleSeries:
    """The part of `series` with first_day <= day <= last_day (Bracken kept days 1-10; the
    literature's answers change with the window, so the window is always explicit)."""
    kept = (series.day >= first_day) & (series.day <= last_day)
    if not np.any(kept):
        raise ValueError(f"no days between {first_day} and {last_day} in {series.name}")
    arrays = {
        name: getattr(series, name)[kept]
        for name in (
            "day",
            "date",
            "blue_force",
            "red_force",
            "blue_loss",
            "red_loss",
            "blue_reinforcement",
            "red_reinforcement",
        )
    }
    reference = {key: values[kept] for key, values in series.reference.items()}
    return replace(
        series,
        title=f"{series.title}, days {first_day:g}-{last_day:g}",
        reference=reference,
        **arrays,
    )
