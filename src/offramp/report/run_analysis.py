"""The analysis layer applied to one run folder: what the CLI, the Python API and the report share.

`offramp.analysis` works on plain tables; this module knows a run: its manifest (policies,
requirements, sampler, seed, the resolved scenario), its futures and outcomes, and how to say a
box of futures in plain words with the scenario's own names ("Russia's mobilization per week is
above 4,220" rather than ``actors.russia.mobilization_per_week > 4216.3``).

* `RunAnalysis.robustness` — regret and satisficing per policy (the comparison's extra columns).
* `RunAnalysis.discover` — PRIM on the futures for an SQL predicate over one policy's outcomes.
* `RunAnalysis.failures` — PRIM on the futures where a policy misses the run's requirements.
* `RunAnalysis.sensitivity` — which uncertain parameters drive an outcome, per policy.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from offramp.analysis.discovery import (
    Box,
    PrimIndex,
    PrimResult,
    prim,
    significant_box,
    varying_columns,
)
from offramp.analysis.robustness import (
    DEFAULT_REQUIREMENTS,
    requirements_met,
    robustness_table,
)
from offramp.analysis.sensitivity import METHODS
from offramp.errors import UserError
from offramp.store import RunStore, StoreError

KEYS = ("future", "policy")
# A restriction makes the plain-words box only if PRIM's quasi-p-value says it is no accident
# (Bryant & Lempert 2010), and a reader can hold three conditions in mind, not thirty.
MAX_QUASI_P = 0.05
MAX_CONDITIONS = 3
# Fewer cases than this are too few to describe a region of parameter space.
MIN_CASES = 10
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

    def label(self, path: str) -> str:
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


def box_condition_phrases(box: Box, X: pd.DataFrame, names: ParameterNames) -> list[str]:
    """A box's restrictions in words, one phrase each, with the scenario's own names and units
    ("Russia's mobilization per week is above 4,220"). `X` holds the futures the box was found
    on: a column of only 0s and 1s is said as "is 0" / "is 1"."""
    phrases = []
    for name, limit in box.limits.items():
        binary = bool(X[name].isin((0.0, 1.0)).all())
        phrases.append(condition_phrase(names.label(name), limit, box.data_range.get(name),
                                        names.unit(name), binary))
    return phrases


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    """PRIM on a run's futures for one policy and one question.

    Attributes
    ----------
    policy, question : str
        The policy and the condition searched for, as given (an SQL predicate, or the run's
        requirements for `RunAnalysis.failures`).
    subject : str
        What happens, as the start of a sentence: "under drip-feed, X holds".
    flags : numpy.ndarray
        Per future (in the futures table's order): whether the condition holds.
    n_unknown : int
        Futures where the condition could not be evaluated (NULL in SQL); counted as not holding.
    result : PrimResult or None
        None when there is nothing to search (no case, every future a case, or too few cases).
    plain : list of (Box or None)
        Per PRIM box, the box cut to its significant restrictions (`significant_box`).
    note : str
        Why there is no search, when `result` is None.
    """

    policy: str
    question: str
    subject: str
    flags: np.ndarray
    n_unknown: int
    result: PrimResult | None
    plain: list[Box | None]
    names: ParameterNames
    X: pd.DataFrame
    note: str = ""

    @property
    def share(self) -> float:
        return float(self.flags.mean())

    def condition_phrases(self, box: Box) -> list[str]:
        return box_condition_phrases(box, self.X, self.names)

    def sentence(self, box_index: int = 0) -> str:
        """The box in plain words: "Under P, X holds in 81% of futures where A and B; ..."."""
        if self.result is None:
            return self.note
        box = self.plain[box_index]
        overall = f"{self.share:.0%} of all {len(self.flags):,} futures"
        subject = self.subject
        if box is None:
            text = (f"{subject} in {overall}, and no region stands out: none of the "
                    f"restrictions of PRIM's box {box_index + 1} has a quasi-p-value below "
                    f"{MAX_QUASI_P}.")
            return text[0].upper() + text[1:]
        conditions = join_phrases(self.condition_phrases(box))
        text = (f"{subject} in {box.density:.0%} of futures where {conditions}; these futures "
                f"hold {box.coverage:.0%} of all futures where it happens (coverage) and are "
                f"{box.mass:.0%} of all futures (mass). Overall: {overall}.")
        return text[0].upper() + text[1:]

    def figure(self, box_index: int = 0, title: str | None = None,
               size: tuple[float, float] = (6, 5)):
        """PRIM's trade-off plot, with the plain-words box marked next to PRIM's chosen one."""
        assert self.result is not None
        figure = self.result.figure(box_index, title=title, size=size)
        plain = self.plain[box_index]
        if plain is not None:
            axes = figure.axes[0]
            axes.scatter([plain.coverage], [plain.density], marker="D", s=60, color="crimson",
                         label=f"plain-words box ({len(plain.limits)} restrictions)")
            axes.legend(loc="lower left", fontsize="small")
        return figure

    def restrictions(self, box_index: int = 0) -> pd.DataFrame:
        """PRIM's box as a table, one row per restricted parameter, most significant first."""
        assert self.result is not None
        box = self.result.boxes[box_index]
        plain = self.plain[box_index]
        rows = []
        for name, limit in box.limits.items():
            low, high = box.data_range.get(name, (math.nan, math.nan))
            rows.append({
                "parameter": self.names.label(name),
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


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------


def run_requirements(manifest: dict[str, Any]) -> list[str]:
    """A run's requirements (runs made before `--require` existed get the defaults)."""
    return list(manifest.get("requirements") or DEFAULT_REQUIREMENTS)


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


class RunAnalysis:
    """Analysis of one complete run folder (reads its files once, lazily)."""

    def __init__(self, store: RunStore):
        self.store = store
        self.manifest = store.manifest
        self._policy_rows: dict[str, np.ndarray] = {}

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        return self.store.read_outcomes()

    @cached_property
    def futures(self) -> pd.DataFrame:
        # One block per column: a 1,000,000-future table is read without a copy and X (below)
        # is a selection of its columns, not a second gigabyte.
        return self.store.read_futures(split_blocks=True)

    @cached_property
    def X(self) -> pd.DataFrame:
        """The futures' uncertain parameters: constant columns cannot explain anything."""
        return varying_columns(self.futures)

    @cached_property
    def prim_index(self) -> PrimIndex:
        """X's columns sorted once for every PRIM search on this run (they all search X)."""
        return PrimIndex(self.X)

    @property
    def policies(self) -> list[str]:
        return list(self.manifest["policies"])

    @property
    def requirements(self) -> list[str]:
        return run_requirements(self.manifest)

    @property
    def seed(self) -> int:
        return int(self.manifest.get("seed", 0))

    @cached_property
    def names(self) -> ParameterNames:
        parameters = self.manifest.get("parameters", [])
        units = {row["parameter"]: row.get("unit", "") for row in parameters}
        return ParameterNames(self.manifest.get("scenario_data") or {}, units)

    # --- checks ------------------------------------------------------------------------------

    def check_policy(self, policy: str) -> str:
        if policy not in self.policies:
            raise UserError(
                f"unknown policy {policy!r} in {self.store.root}."
                f"{_did_you_mean(policy, self.policies)} This run's policies: "
                f"{', '.join(self.policies)}."
            )
        return policy

    @cached_property
    def numeric_outcomes(self) -> list[str]:
        return [
            c for c in self.outcomes.columns
            if c not in KEYS and (pd.api.types.is_numeric_dtype(self.outcomes[c].dtype)
                                  or pd.api.types.is_bool_dtype(self.outcomes[c].dtype))
        ]

    def check_outcome(self, outcome: str) -> str:
        if outcome not in self.numeric_outcomes:
            raise UserError(
                f"{outcome!r} is not a numeric or true/false outcome of this run."
                f"{_did_you_mean(outcome, self.numeric_outcomes)} Outcomes: "
                f"{', '.join(self.numeric_outcomes)}."
            )
        return outcome

    def policy_rows(self, policy: str) -> np.ndarray:
        """Positions in `outcomes` of one policy's rows, one per future in the futures table's
        order (found once per policy: the outcomes table has a row per future and policy)."""
        if policy not in self._policy_rows:
            outcomes = self.outcomes
            mine = (outcomes["policy"] == policy).to_numpy(dtype=bool, na_value=False)
            rows = np.flatnonzero(mine)
            futures = outcomes["future"].to_numpy()[rows]
            wanted = self.futures.index
            if not (len(rows) == len(wanted) and np.array_equal(futures, wanted.to_numpy())):
                # Not in the futures' order: align by future (each exactly once).
                found = pd.Index(futures)
                at = found.get_indexer(wanted) if found.is_unique else None
                if at is None or len(rows) != len(wanted) or (at < 0).any():
                    raise StoreError(f"{self.store.root}: the outcomes of {policy} do not "
                                     "cover every future once")
                rows = rows[at]
            self._policy_rows[policy] = rows
        return self._policy_rows[policy]

    def policy_outcomes(self, policy: str) -> pd.DataFrame:
        """One policy's outcomes, one row per future, in the futures table's order."""
        rows = self.outcomes.iloc[self.policy_rows(policy)].drop(columns="future")
        return rows.set_axis(self.futures.index.rename("future"))

    def policy_outcome(self, policy: str, outcome: str) -> np.ndarray:
        """One outcome of one policy as floats (NaN where missing), in the futures' order."""
        values = self.outcomes[outcome].to_numpy(dtype=float, na_value=np.nan)
        return values[self.policy_rows(policy)]

    # --- robustness --------------------------------------------------------------------------

    def robustness(self) -> pd.DataFrame:
        """Regret (mean / 90th pct / max) on the headline outcomes and satisficing, per policy."""
        return robustness_table(self.outcomes, self.requirements, policies=self.policies)

    # --- discovery ---------------------------------------------------------------------------

    def where_flags(self, policy: str, where: str) -> tuple[np.ndarray, int]:
        """Evaluate an SQL predicate over the `outcomes` view for one policy, per future."""
        from offramp.store.query import run_sql

        self.check_policy(policy)
        if not where or not where.strip():
            raise UserError("--where is empty; give a condition on outcomes, e.g. "
                            "\"a_territory_share < 0.8\"")
        quoted = policy.replace("'", "''")
        sql = (f"SELECT future, ({where}) AS hit FROM outcomes WHERE policy = '{quoted}' "
               "ORDER BY future")
        try:
            frame = run_sql(self.store, sql)
        except StoreError as error:
            reason = str(error).removeprefix("the query failed: ")
            missing = re.search(r'column "([^"]+)" not found', reason)
            hint = _did_you_mean(missing[1], self.numeric_outcomes) if missing else ""
            raise UserError(f"--where {where!r}: {reason}{hint}") from None
        hit = frame["hit"]
        if not (pd.api.types.is_bool_dtype(hit.dtype) or hit.dtype == "boolean"):
            raise UserError(
                f"--where {where!r} gives {hit.dtype} values, not true/false; write a condition "
                "such as \"a_territory_share < 0.8\" or \"two_front_war\""
            )
        unknown = int(hit.isna().sum())
        flags = pd.Series(hit.fillna(False).astype(bool).to_numpy(), index=frame["future"])
        flags = flags.reindex(self.futures.index)
        if flags.isna().any():
            raise StoreError(f"{self.store.root}: the outcomes of {policy} miss some futures")
        return flags.to_numpy(dtype=bool), unknown

    def _search(
        self, policy: str, question: str, subject: str, flags: np.ndarray, unknown: int,
        threshold: float, peel_alpha: float, boxes: int, max_conditions: int,
    ) -> Discovery:
        count, total = int(flags.sum()), len(flags)
        note = ""
        if count == 0:
            note = f"{subject} in none of the {total:,} futures: there is nothing to discover."
        elif count == total:
            note = f"{subject} in every one of the {total:,} futures: there is no region to find."
        elif min(count, total - count) < MIN_CASES:
            note = (f"{subject} in {count:,} of {total:,} futures: too few "
                    f"{'cases' if count < MIN_CASES else 'other futures'} to describe a region.")
        if note:
            note = note[0].upper() + note[1:]
            return Discovery(policy, question, subject, flags, unknown, None, [], self.names,
                             self.X, note)
        result = prim(self.X, flags, peel_alpha=peel_alpha, threshold=threshold, max_boxes=boxes,
                      index=self.prim_index)
        plain = [significant_box(box, self.X, flags, MAX_QUASI_P, max_conditions)
                 for box in result.boxes]
        return Discovery(policy, question, subject, flags, unknown, result, plain, self.names,
                         self.X)

    def discover(
        self, where: str, policy: str, threshold: float = 0.8, peel_alpha: float = 0.05,
        boxes: int = 1, max_conditions: int = MAX_CONDITIONS,
    ) -> Discovery:
        """PRIM on the futures where `where` (SQL over the `outcomes` view) holds for `policy`."""
        flags, unknown = self.where_flags(policy, where)
        question = where.strip()
        return self._search(policy, question, f"under {policy}, {question} holds", flags,
                            unknown, threshold, peel_alpha, boxes, max_conditions)

    def failures(
        self, policy: str, threshold: float = 0.8, peel_alpha: float = 0.05,
        max_conditions: int = MAX_CONDITIONS,
    ) -> Discovery:
        """PRIM on the futures where `policy` misses the run's requirements."""
        self.check_policy(policy)
        rows = self.policy_outcomes(policy).reset_index()
        flags = ~requirements_met(rows, self.requirements)
        question = " and ".join(self.requirements)
        subject = f"under {policy}, the requirements are missed"
        return self._search(policy, question, subject, flags, 0, threshold, peel_alpha, 1,
                            max_conditions)

    def tradeoff_path(self, discovery: Discovery, box_index: int = 0) -> Path:
        """Where `offramp discover` writes a trade-off plot: the run folder, one per question
        (and box), named so that asking again replaces it."""
        digest = hashlib.sha1(discovery.question.encode()).hexdigest()[:8]
        slug = re.sub(r"[^A-Za-z0-9]+", "-", discovery.question).strip("-")[:40]
        box = f"-box{box_index + 1}" if box_index else ""
        return self.store.root / f"discover-{discovery.policy}-{slug}-{digest}{box}.png"

    # --- sensitivity -------------------------------------------------------------------------

    def sensitivity(
        self, outcome: str, policies: Sequence[str] | None = None, method: str = "pawn",
        max_rows: int | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Per policy, the uncertain parameters ranked by their influence on `outcome`.

        Each table is `offramp.analysis.sensitivity`'s, with a ``label`` column of readable
        names. Sobol indices need a run sampled with ``--sampler saltelli``.
        """
        from offramp.analysis.sensitivity import sensitivity

        if method not in METHODS:
            raise UserError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        self.check_outcome(outcome)
        policies = [self.check_policy(p) for p in (policies or self.policies)]
        X = self._sobol_design() if method == "sobol" else self.X
        tables = {}
        for policy in policies:
            y = self.policy_outcome(policy, outcome)
            try:
                table = sensitivity(X, y, method=method, seed=self.seed, max_rows=max_rows)
            except UserError as error:
                raise UserError(f"{policy}, {outcome}: {error}") from None
            table.insert(0, "label", [self.names.label(p) for p in table.index])
            tables[policy] = table
        return tables

    def _sobol_design(self) -> pd.DataFrame:
        sampler = self.manifest.get("sampler")
        if sampler != "saltelli":
            raise UserError(
                f"--method sobol needs a run sampled with --sampler saltelli (a Saltelli design "
                f"in SALib's order); {self.store.root} was sampled with {sampler}. Use --method "
                "pawn or delta on this run, or start one with: offramp run --sampler saltelli"
            )
        design = self.manifest.get("saltelli") or {}
        columns = design.get("parameters") or list(self.X.columns)
        return self.futures[columns]
