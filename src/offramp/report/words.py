"""Results in plain words: numbers as a reader writes them, parameters by the scenario's own
names, boxes of futures as conditions ("Russia's mobilization per week is above 4,220").

Every sentence the report, the console and the notebook API say about a box, a claim's region or
a number comes from here, so each is said one way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Hashable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from offramp.analysis.discovery import Box
from offramp.analysis.paired import Caveat
from offramp.analysis.regions import Region, binary_columns
from offramp.experiments.manifest import RunManifest
from offramp.scenario.schema import Scenario
from offramp.scenario.walk import scenario_parameters
from offramp.studies.runs import MAX_QUASI_P, Discovery

# Units worth saying after a number; rates and indices read better without theirs.
SPOKEN_UNITS = {"personnel": "personnel", "km": "km", "km2": "km²", "weeks": "weeks",
                "months": "months", "rounds": "rounds"}


# ----------------------------------------------------------------------------------------------
# Plain words
# ----------------------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A number as a reader writes it: three significant digits, thousands separated.

    >>> [format_number(v) for v in (0.4213, 18043.2, 20.25, 0.0, 2.0, 0.01994, -1234.5)]
    ['0.421', '18,000', '20.2', '0', '2', '0.0199', '-1,230']
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.3g}")
    if abs(rounded) >= 1000:
        return f"{rounded:,.0f}"
    return np.format_float_positional(rounded, precision=3, unique=True, fractional=False,
                                      trim="-")


def format_cell(value: object) -> str:
    """A table cell: "–" for a missing number, thousands separated from 1,000, three significant
    digits from 1, three decimals below; anything else as text.

    >>> [format_cell(v) for v in (float("nan"), 18043.2, 20.25, 0.4213, "drip-feed")]
    ['–', '18,043', '20.2', '0.421', 'drip-feed']
    """
    if isinstance(value, float | np.floating):
        value = cast(float, value)  # mypy types abs() of `float | np.floating` as object
        if math.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _words(tokens: Sequence[str]) -> str:
    return " ".join(t.replace("_", " ") for t in tokens).replace("km2", "km²")


class ParameterNames:
    """Readable names for a scenario's parameter paths, from the run's resolved scenario.

    Actors and list items (seasons, ladder rungs, elections) are named as the scenario names
    them; other sections keep their own name as a prefix when it adds meaning.

    >>> data = {"actors": {"russia": {"name": "Russia"},
    ...                    "united_states": {"name": "United States"}},
    ...         "theaters": {"kursk": {"name": "Kursk salient"}},
    ...         "calendar": {"seasons": [{"name": "autumn rains"}]},
    ...         "elections": [{"actor": "united_states"}]}
    >>> names = ParameterNames(data)
    >>> names.label("actors.russia.mobilization_per_week")
    "Russia's mobilization per week"
    >>> names.label("actors.united_states.initial_support")
    "United States' initial support"
    >>> names.label("theaters.kursk.initial_forces.russia")
    "Kursk: Russia's initial forces"
    >>> names.label("calendar.seasons[0].advance_multiplier")
    'autumn rains: advance multiplier'
    >>> names.label("elections[0].aid_multiplier_if_challenger")
    'United States election: aid multiplier if challenger'
    >>> names.label("bargaining.bargaining_power_a"), names.label("combat.noise_sd")
    ('bargaining power a', 'combat noise sd')
    """

    def __init__(self, scenario_data: dict[str, Any], units: dict[str, str] | None = None):
        self.data = scenario_data or {}
        self.units = units or {}
        actors = self.data.get("actors") or {}
        self.actor_names = {key: (value or {}).get("name", key) for key, value in actors.items()}

    def label(self, path: Hashable) -> str:
        tokens = re.findall(r"[^.\[\]]+|\[\d+\]", str(path))
        if not tokens:
            return str(path)
        section, rest = tokens[0], tokens[1:]
        if section == "actors" and rest:
            return f"{_possessive(self.actor_names.get(rest[0], rest[0]))} {_words(rest[1:])}"
        if section == "theaters" and rest:
            theater = rest[0].replace("_", " ").title()
            tail = rest[1:]
            if len(tail) > 1 and tail[-1] in self.actor_names:
                actor = _possessive(self.actor_names[tail[-1]])
                return f"{theater}: {actor} {_words(tail[:-1])}"
            return f"{theater}: {_words(tail)}"
        # Walk to the last list item on the path: it names the thing (a season, a rung).
        node: Any = self.data
        item_label, item_end = None, 0
        for position, token in enumerate(tokens):
            if token.startswith("["):
                index = int(token[1:-1])
                node = node[index] if isinstance(node, list) and index < len(node) else None
                item_label, item_end = self._item_label(node, tokens[position - 1], index), position
            else:
                node = node.get(token) if isinstance(node, dict) else None
        if item_label is not None:
            return f"{item_label}: {_words(tokens[item_end + 1:])}"
        words = _words(rest)
        if words.startswith(section.replace("_", " ")):
            return words  # "bargaining.bargaining_power_a": the section is already said
        return f"{_words([section])} {words}"

    def _item_label(self, item: Any, collection: str, index: int) -> str:
        if isinstance(item, dict) and item.get("name"):
            return str(item["name"])
        if isinstance(item, dict) and item.get("actor") in self.actor_names:
            kind = collection[:-1] if collection.endswith("s") else collection
            return f"{self.actor_names[item['actor']]} {kind.replace('_', ' ')}"
        return f"{collection.replace('_', ' ')} {index + 1}"

    def unit(self, path: str) -> str:
        return SPOKEN_UNITS.get(self.units.get(str(path), ""), "")

    def side(self, letter: str) -> str:
        """The name of the belligerent on side `letter` ('a' or 'b'), or 'side a'."""
        actors = self.data.get("actors", {}) if isinstance(self.data, dict) else {}
        for actor in actors.values():
            if isinstance(actor, dict) and actor.get("side") == letter:
                return str(actor.get("name") or f"side {letter}")
        return f"side {letter}"


def names_of_scenario(scenario: Scenario) -> ParameterNames:
    """Readable names and units of a scenario's parameters."""
    units = {path: param.unit for path, param in scenario_parameters(scenario).items()}
    return ParameterNames(scenario.model_dump(mode="json"), units)


def names_of_run(manifest: RunManifest) -> ParameterNames:
    """Readable names and units of a run's parameters (from its manifest alone)."""
    return ParameterNames(manifest.scenario_data, manifest.unit_of())


def condition_phrase(
    label: str, limit: Any, data_range: tuple[float, float] | None, unit: str = "",
    binary: bool = False,
) -> str:
    """One restriction in words: "X is below 0.42", "X is between 2 and 5", "X is 1".

    >>> condition_phrase("US support", (0.0, 0.42), (0.0, 1.0))
    'US support is below 0.42'
    >>> condition_phrase("reserves", (50_000, 90_000), (40_000, 120_000), "personnel")
    'reserves is between 50,000 and 90,000 personnel'
    >>> condition_phrase("talks", (1.0, 1.0), (0.0, 1.0), binary=True)
    'talks is 1'
    """
    if isinstance(limit, frozenset):
        kept = sorted(limit, key=str)
        if len(kept) == 1:
            return f"{label} is {kept[0]}"
        return f"{label} is one of {', '.join(map(str, kept))}"
    low, high = limit
    data_low, data_high = data_range or (-math.inf, math.inf)
    low_cut, high_cut = low > data_low, high < data_high
    # "planning horizon weeks is above 31.2" needs no second "weeks".
    suffix = f" {unit}" if unit and not label.endswith(unit) else ""
    if binary:
        return f"{label} is {0 if high_cut else 1}"
    if low_cut and high_cut:
        return f"{label} is between {format_number(low)} and {format_number(high)}{suffix}"
    if high_cut:
        return f"{label} is below {format_number(high)}{suffix}"
    return f"{label} is above {format_number(low)}{suffix}"


def join_phrases(parts: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def box_condition_phrases(box: Box, binary: Collection[str], names: ParameterNames) -> list[str]:
    """A box's restrictions in words, one phrase each, with the scenario's own names and units
    ("Russia's mobilization per week is above 4,220"); a column in `binary` (only 0s and 1s) is
    said as "is 0" / "is 1"."""
    return [condition_phrase(names.label(name), limit, box.data_range.get(name), names.unit(name),
                             name in binary)
            for name, limit in box.limits.items()]


def box_sentence(subject: str, box: Box, binary: Collection[str], names: ParameterNames,
                 event: str, population: str) -> str:
    """A box in the words of `offramp discover`: "<subject> in 26% of futures where Ukraine's
    cost of war per year is above 0.0971; these futures hold 70% of all futures where <event>
    (coverage) and are 57% of all <population> (mass)."."""
    conditions = join_phrases(box_condition_phrases(box, binary, names))
    return (f"{subject} in {box.density:.0%} of futures where {conditions}; these futures hold "
            f"{box.coverage:.0%} of all futures where {event} (coverage) and are "
            f"{box.mass:.0%} of all {population} (mass).")


def failure_text(region: Region, names: ParameterNames) -> str:
    """Where a claim fails, in plain words."""
    overall = f"it fails in {region.share:.0%} of all {region.total:,} compared futures"
    if region.kind == "box" and region.box is not None:
        sentence = box_sentence("the claim fails", region.box, region.binary, names, "it fails",
                                "compared futures")
        return f"{sentence} Overall {overall}."
    return {
        "not_compared": "no future where the comparison is defined",
        "no_parameters": "not computed: no uncertain parameter varies across the compared "
                         "futures",
        "none": "none: the claim fails in no compared future",
        "too_few": f"too few failing futures ({region.count}) to describe a region",
        "everywhere": "everywhere: the claim fails in every compared future",
        "spread": f"no region found: failures are spread across parameter space ({overall})",
    }[region.kind]


def holding_text(region: Region | None, names: ParameterNames, tolerance: float) -> str | None:
    """Where a claim that fails overall holds (confirmed on other futures), in plain words."""
    if region is None or region.box is None:
        return None
    sentence = box_sentence("on the half of the futures PRIM searched, the claim holds",
                            region.box, region.binary, names, "it holds", "searched futures")
    return (f"{sentence} On the other half of the futures, "
            f"{region.confirmed_mass:.0%} are in the box and the claim holds in "
            f"{region.confirmed_share:.0%} of those (mean effect interval above "
            f"{-tolerance:g}).")


CAVEAT = (
    "These are consequences of the scenario's stated assumptions across sampled futures, "
    "not forecasts."
)
"""What every printed comparison says beside itself (the console and the report)."""

CAUSE_UNNAMED = "the difference between the arms"
"""How a caveat names the cause of a claim that declares none."""


def caveat_text(caveat: Caveat, names: ParameterNames, cause: str) -> str:
    """A verdict's caveat in words (computed from the comparison, see analysis.paired)."""
    if caveat.kind == "ties":
        return (f"caveat: the arms give the same outcome in {caveat.share:.0%} of futures, so "
                f"the model seldom lets {cause} act on it")
    label = names.label(caveat.parameter or "")
    lead = "" if caveat.lead is None else f", {format_number(caveat.lead)} times the next input's"
    return (f"caveat: leans on one input: {label} drives the effect across futures (rank r² "
            f"{format_number(caveat.share)}{lead}), so the verdict restates its assumed range")


def first_sentence(text: str, limit: int) -> str:
    """The text's first sentence on one line, cut to `limit` characters with an ellipsis."""
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def effect_text(mean: float, low: float, high: float) -> str:
    """'0.0031 [0.0012, 0.005]': a mean effect and its interval."""
    return f"{format_number(mean)} [{format_number(low)}, {format_number(high)}]"


def discovery_sentence(discovery: Discovery, names: ParameterNames, box_index: int = 0) -> str:
    """The box in plain words: "Under P, X holds in 81% of futures where A and B; ..."."""
    if discovery.result is None:
        return discovery.note
    box = discovery.plain[box_index]
    overall = f"{discovery.share:.0%} of all {len(discovery.flags):,} futures"
    subject = discovery.subject
    if box is None:
        text = (f"{subject} in {overall}, and no region stands out: none of the "
                f"restrictions of PRIM's box {box_index + 1} has a quasi-p-value below "
                f"{MAX_QUASI_P}.")
        return text[0].upper() + text[1:]
    phrases = box_condition_phrases(box, binary_columns(box, discovery.X), names)
    text = (f"{subject} in {box.density:.0%} of futures where {join_phrases(phrases)}; these "
            f"futures hold {box.coverage:.0%} of all futures where it happens (coverage) and "
            f"are {box.mass:.0%} of all futures (mass). Overall: {overall}.")
    return text[0].upper() + text[1:]


def discovery_restrictions(discovery: Discovery, names: ParameterNames, box_index: int = 0
                           ) -> pd.DataFrame:
    """PRIM's box as a table, one row per restricted parameter, most significant first."""
    assert discovery.result is not None
    box = discovery.result.boxes[box_index]
    plain = discovery.plain[box_index]
    rows = []
    for name, limit in box.limits.items():
        low, high = box.data_range.get(name, (math.nan, math.nan))
        rows.append({
            "parameter": names.label(name),
            "path": name,
            "box": condition_phrase("", limit, box.data_range.get(name)).strip(),
            "data range": f"{format_number(low)} – {format_number(high)}",
            "quasi-p": box.quasi_p.get(name, math.nan),
            "in plain box": "yes" if plain is not None and name in plain.limits else "",
        })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("quasi-p", kind="stable").reset_index(drop=True)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text safe to write to a terminal: control characters (ESC sequences that could set the
    clipboard, the window title or clear the screen) removed; newlines and tabs kept.

    >>> printable("Ukraine\\x1b]52;c;ZXZpbA==\\x07 and Russia")
    'Ukraine]52;c;ZXZpbA== and Russia'
    """
    return _CONTROL.sub("", text)


def side_label(label: str, names: ParameterNames) -> str:
    """A table label with the sides named as the scenario names them.

    >>> names = ParameterNames({"actors": {"ua": {"name": "Ukraine", "side": "a"},
    ...                                    "ru": {"name": "Russia", "side": "b"}}})
    >>> [side_label(t, names) for t in ("casualties a, median", "territory share, p10",
    ...                                 "casualties, side b", "side a's territory share")]
    ['casualties, Ukraine, median', "Ukraine's territory share, p10", 'casualties, Russia', \
"Ukraine's territory share"]
    """
    a, b = names.side("a"), names.side("b")
    label = re.sub(r"\bcasualties a\b", f"casualties, {a}", label)
    label = re.sub(r"\bcasualties b\b", f"casualties, {b}", label)
    label = re.sub(r"^territory share", f"{a}'s territory share", label)
    return re.sub(r"\bside b\b", b, re.sub(r"\bside a\b", a, label))
