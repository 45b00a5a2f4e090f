"""The run-folder service: questions asked of one finished run, answered from its stored tables.

`offramp.analysis` works on plain tables; this module knows a run: its manifest (policies,
requirements, sampler, seed), its futures and outcomes. It never runs the engine.

* `RunAnalysis.robustness` — regret and satisficing per policy (the comparison's extra columns).
* `RunAnalysis.discover` — PRIM on the futures for an SQL predicate over one policy's outcomes.
* `RunAnalysis.failures` — PRIM on the futures where a policy misses the run's requirements.
* `RunAnalysis.sensitivity` — which uncertain parameters drive an outcome, per policy.

`offramp.report.words` says a `Discovery` in plain words.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from offramp.analysis.conditioning import systematic_resample
from offramp.analysis.discovery import (
    Box,
    PrimIndex,
    PrimResult,
    prim,
    significant_box,
    varying_columns,
)
from offramp.analysis.robustness import requirements_met, robustness_table
from offramp.analysis.sensitivity import METHODS
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.store import RunStore, StoreError

KEYS = ("future", "policy")
# A restriction makes the plain-words box only if PRIM's quasi-p-value says it is no accident
# (Bryant & Lempert 2010), and a reader can hold three conditions in mind, not thirty.
MAX_QUASI_P = 0.05
MAX_CONDITIONS = 3
# Fewer cases than this are too few to describe a region of parameter space.
MIN_CASES = 10


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
    X: pd.DataFrame
    note: str = ""

    @property
    def share(self) -> float:
        return float(self.flags.mean())


def future_weights(weights: pd.DataFrame, futures: pd.Index, policies: Sequence[str]
                   ) -> np.ndarray:
    """One weight per future (in `futures`' order) from a run's weights, which must give every
    policy the same weights (`offramp condition --under`): resampled futures are compared across
    policies, so they must be the same futures for each."""
    table = weights.pivot(index="future", columns="policy", values="weight")
    table = table.reindex(index=futures, columns=list(policies)).fillna(0.0)
    values = table.to_numpy(dtype=float)
    if not np.allclose(values, values[:, :1], rtol=1e-9, atol=1e-15):
        raise UserError("these weights differ by policy (made without --under): the policies "
                        "are compared on the same resampled futures, so condition with "
                        "`offramp condition RUN --observations FILE --under POLICY`")
    if not values[:, 0].sum() > 0:
        raise UserError("no future is compatible with the observations the weights were made "
                        "from: there is nothing to resample")
    return values[:, 0]


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


class RunAnalysis:
    """Analysis of one complete run folder (reads its files once, lazily)."""

    def __init__(self, store: RunStore, max_futures: int | None = None,
                 weights: pd.DataFrame | None = None):
        """`max_futures`: analyse only the first futures (a Latin hypercube's first rows are a
        fair sample), e.g. for a quick PRIM search on a run of millions. `weights`: the run's
        conditioning weights (`offramp condition --under`): every question is then asked of
        as many futures resampled by weight (systematic resampling with the run's seed),
        numbered afresh; `origin` maps them to the run's futures."""
        self.store = store
        self.manifest = RunManifest.of(store)
        if self.manifest.status != "complete":
            raise UserError(f"{store.root}: the run is not complete; finish it with "
                            f"`offramp run --resume {store.root}`")
        if weights is not None and max_futures is not None:
            raise ValueError("max_futures and weights do not go together")
        self.max_futures = max_futures
        self.weights = weights
        self._policy_rows: dict[str, np.ndarray] = {}
        self._pawn_edges: dict[bytes, np.ndarray] = {}  # see analysis.sensitivity's `known`

    @cached_property
    def origin(self) -> np.ndarray:
        """Per analysed future, the run's future it is (a resampled one's parent)."""
        index = self._run_futures.index.to_numpy()
        if self.weights is None:
            return index if self.max_futures is None else index[:self.max_futures]
        weight = future_weights(self.weights, self._run_futures.index, self.policies)
        return index[systematic_resample(weight, len(index), self.seed)]

    @cached_property
    def _run_futures(self) -> pd.DataFrame:
        # One block per column: a 1,000,000-future table is read without a copy and X (below)
        # is a selection of its columns, not a second gigabyte.
        return self.store.read_futures(split_blocks=True)

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        outcomes = self.store.read_outcomes()
        if self.weights is not None:
            resampled = pd.DataFrame({"future": np.arange(len(self.origin)),
                                      "parent": self.origin})
            joined = resampled.merge(outcomes.rename(columns={"future": "parent"}), on="parent",
                                     sort=False)
            return joined.drop(columns="parent")
        if self.max_futures is None:
            return outcomes
        kept = outcomes["future"].isin(self.futures.index).to_numpy()
        return outcomes.loc[kept].reset_index(drop=True)

    @cached_property
    def futures(self) -> pd.DataFrame:
        futures = self._run_futures
        if self.weights is not None:
            resampled = futures.loc[self.origin]
            return resampled.set_axis(pd.RangeIndex(len(resampled), name="future"))
        return futures if self.max_futures is None else futures.iloc[:self.max_futures]

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
        return list(self.manifest.policies)

    @property
    def requirements(self) -> list[str]:
        return list(self.manifest.requirements)

    @property
    def seed(self) -> int:
        return self.manifest.seed

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
        flags = flags.reindex(self.origin)
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
            return Discovery(policy, question, subject, flags, unknown, None, [], self.X, note)
        result = prim(self.X, flags, peel_alpha=peel_alpha, threshold=threshold, max_boxes=boxes,
                      index=self.prim_index)
        plain = [significant_box(box, self.X, flags, MAX_QUASI_P, max_conditions)
                 for box in result.boxes]
        return Discovery(policy, question, subject, flags, unknown, result, plain, self.X)

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

        Each table is `offramp.analysis.sensitivity`'s, indexed by parameter path (the report
        and the API add readable names). Sobol indices need a run sampled with
        ``--sampler saltelli``.
        """
        from offramp.analysis.sensitivity import sensitivity

        if method not in METHODS:
            raise UserError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        self.check_outcome(outcome)
        policies = [self.check_policy(p) for p in (policies or self.policies)]
        if method == "sobol" and self.weights is not None:
            raise UserError("--method sobol needs the Saltelli design's rows as drawn; futures "
                            "resampled by weight are not one: use --method pawn or delta")
        X = self._sobol_design() if method == "sobol" else self.X
        tables = {}
        for policy in policies:
            y = self.policy_outcome(policy, outcome)
            try:
                table = sensitivity(X, y, method=method, seed=self.seed, max_rows=max_rows,
                                    known=self._pawn_edges if method == "pawn" else None)
            except UserError as error:
                raise UserError(f"{policy}, {outcome}: {error}") from None
            tables[policy] = table
        return tables

    def _sobol_design(self) -> pd.DataFrame:
        sampler = self.manifest.sampler
        if sampler != "saltelli":
            raise UserError(
                f"--method sobol needs a run sampled with --sampler saltelli (a Saltelli design "
                f"in SALib's order); {self.store.root} was sampled with {sampler}. Use --method "
                "pawn or delta on this run, or start one with: offramp run --sampler saltelli"
            )
        design = self.manifest.saltelli
        columns = design.parameters if design is not None else list(self.X.columns)
        return self.futures[columns]
