"""Robustness of policies across futures: regret and satisficing.

Both work on the long outcomes table: one row per future and policy, with columns ``future``,
``policy`` and one column per outcome. Every policy was run on the same futures, so a policy's
regret in a future is measured against the best policy *in that same future* (Savage regret,
Rhodium's "regret type 2"), and the comparison is paired, not noisy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from offramp.analysis.compare import Headline, policies_in
from offramp.errors import UserError
from offramp.scenario.conditions import (
    DEFAULT_REQUIREMENTS,
    check_conditions,
    unknown_name,
)

__all__ = [
    "DEFAULT_REQUIREMENTS",
    "REGRET_HEADLINES",
    "requirements_met",
    "regret",
    "regret_summary",
    "robustness_table",
    "satisficing",
]

_KEYS = ("future", "policy")


# Outcomes on which regret reads naturally: continuous, with a clear better direction for side a.
# Booleans (two-front war) are better put as requirements and judged by satisficing.
REGRET_HEADLINES: tuple[Headline, ...] = (
    Headline("a_territory_share", "territory share", True),
    Headline("casualties_a", "casualties a", False),
)

def _outcome_columns(outcomes: pd.DataFrame) -> list[str]:
    return [c for c in outcomes.columns if c not in _KEYS]


def _check_table(outcomes: pd.DataFrame) -> None:
    if not isinstance(outcomes, pd.DataFrame):
        raise UserError(f"outcomes must be a pandas DataFrame, not {type(outcomes).__name__}")
    missing = [c for c in _KEYS if c not in outcomes.columns]
    if missing:
        raise UserError(
            f"the outcomes table has no {' or '.join(repr(c) for c in missing)} column; it needs "
            f"one row per future and policy with columns 'future', 'policy' and the outcomes "
            f"(it has: {', '.join(map(str, outcomes.columns))})"
        )


def _unknown_column(name: str, outcomes: pd.DataFrame, context: str) -> UserError:
    return unknown_name(name, _outcome_columns(outcomes), context)


def regret(outcomes: pd.DataFrame, outcome: str, larger_is_better: bool) -> pd.DataFrame:
    """Regret of every policy in every future against the best policy in that future.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Long table with columns ``future``, ``policy`` and `outcome`; one row per pair.
    outcome : str
        The outcome column to compare policies on.
    larger_is_better : bool
        True if a larger value of `outcome` is better (e.g. territory share), False if smaller
        is (e.g. casualties).

    Returns
    -------
    pandas.DataFrame
        Columns ``future``, ``policy``, `outcome`, ``best`` (the best value of any policy in that
        future) and ``regret`` (how far the policy falls short of it; 0 for the best policy,
        never negative). Futures where some policy's outcome is missing give NaN regret.

    Examples
    --------
    >>> table = pd.DataFrame({"future": [0, 0, 1, 1], "policy": ["a", "b", "a", "b"],
    ...                       "territory_share": [0.8, 0.9, 0.7, 0.6]})
    >>> regret(table, "territory_share", larger_is_better=True)["regret"].round(2).tolist()
    [0.1, 0.0, 0.0, 0.1]
    """
    _check_table(outcomes)
    if outcome not in outcomes.columns or outcome in _KEYS:
        raise _unknown_column(str(outcome), outcomes, "regret")
    # NumPy over integer codes rather than pandas groupby: millions of rows (future x policy)
    # take a fraction of a second.
    future, n_futures = _codes(outcomes["future"])
    policy, n_policies = _codes(outcomes["policy"])
    if len(future) and np.bincount(future * n_policies + policy).max() > 1:
        raise UserError(
            "the outcomes table has more than one row for some (future, policy) pair; regret "
            "needs exactly one, so aggregate replications first"
        )
    values = outcomes[outcome].to_numpy(dtype=float, na_value=np.nan)
    best = np.full(n_futures, -np.inf if larger_is_better else np.inf)
    # NaN propagates through maximum / minimum: a future in which any policy's outcome is
    # missing cannot name a best policy, so its best (and every regret in it) is NaN.
    with np.errstate(invalid="ignore"):
        (np.maximum if larger_is_better else np.minimum).at(best, future, values)
    best = best[future]
    best[outcomes["future"].isna().to_numpy()] = np.nan  # no future, no best (as groupby says)
    table = outcomes[[*_KEYS, outcome]].reset_index(drop=True)
    table["best"] = best
    table["regret"] = (best - values) if larger_is_better else (values - best)
    return table


def _codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes of a key column (a missing key is a value of its own) and how many."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), len(uniques)


def regret_summary(
    outcomes: pd.DataFrame, outcome: str, larger_is_better: bool
) -> pd.DataFrame:
    """Per policy: mean, maximum and 90th-percentile regret over futures (see `regret`).

    Examples
    --------
    >>> table = pd.DataFrame({"future": [0, 0, 1, 1], "policy": ["a", "b", "a", "b"],
    ...                       "casualties": [10.0, 12.0, 30.0, 20.0]})
    >>> regret_summary(table, "casualties", larger_is_better=False)["max"].tolist()
    [10.0, 2.0]
    """
    table = regret(outcomes, outcome, larger_is_better)
    grouped = table.groupby("policy", sort=True)["regret"]
    summary = pd.DataFrame({
        "mean": grouped.mean(),
        "max": grouped.max(),
        "p90": grouped.quantile(0.9),
    })
    summary.index.name = "policy"
    return summary


def requirements_met(outcomes: pd.DataFrame, requirements: Sequence[str]) -> np.ndarray:
    """Per row of `outcomes`: whether every requirement is met (see `satisficing`).

    Examples
    --------
    >>> table = pd.DataFrame({"future": [0, 1], "policy": ["a", "a"], "share": [0.9, 0.7]})
    >>> requirements_met(table, ["share >= 0.8"]).tolist()
    [True, False]
    """
    _check_table(outcomes)
    met = np.ones(len(outcomes), dtype=bool)
    for condition in check_conditions(requirements, _outcome_columns(outcomes)):
        values = outcomes[condition.name]
        if not (pd.api.types.is_numeric_dtype(values.dtype)
                or pd.api.types.is_bool_dtype(values.dtype)):
            raise UserError(
                f"requirement {condition.text!r}: outcome {condition.name!r} is not numeric or "
                f"boolean (dtype {values.dtype}), so it cannot be compared with "
                f"{condition.value!r}"
            )
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        # NaN compares False under every operator except !=, so exclude it explicitly.
        met &= np.asarray(condition.holds(numbers), dtype=bool) & ~np.isnan(numbers)
    return met


def satisficing(outcomes: pd.DataFrame, requirements: Sequence[str]) -> pd.Series:
    """Per policy: the share of futures in which every requirement is met.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Long table with columns ``future``, ``policy`` and the outcomes.
    requirements : list of str
        Conditions like ``"a_territory_share >= 0.8"`` or ``"two_front_war == false"``:
        an outcome column, an operator among ``>= <= > < == !=`` and a number or
        ``true``/``false`` (which compare as 1/0 with numeric columns). They are parsed, never
        evaluated as code. A missing outcome value does not meet a requirement.

    Returns
    -------
    pandas.Series
        Indexed by policy, named ``satisficing``: the share of that policy's futures that meet
        all requirements (1.0 for an empty list).

    Raises
    ------
    offramp.errors.UserError
        For a malformed requirement or an unknown outcome column (naming it and listing the
        known outcome columns).

    Examples
    --------
    >>> table = pd.DataFrame({"future": [0, 0, 1, 1], "policy": ["a", "b", "a", "b"],
    ...                       "territory_share": [0.8, 0.9, 0.7, 0.6],
    ...                       "two_front_war": [False, True, False, False]})
    >>> satisficing(table, ["territory_share >= 0.75", "two_front_war == false"]).tolist()
    [0.5, 0.0]
    """
    met = requirements_met(outcomes, requirements)
    share = pd.Series(met, index=outcomes.index).groupby(outcomes["policy"], sort=True).mean()
    share.name = "satisficing"
    return share


def robustness_table(
    outcomes: pd.DataFrame,
    requirements: Sequence[str],
    headlines: Sequence[Headline] = REGRET_HEADLINES,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per policy: mean / 90th-percentile / max regret on each headline, and satisficing shares.

    Columns are ``"<label> regret, mean|p90|max"`` for each headline present in `outcomes`, then
    ``"meets all requirements"`` (the share of futures meeting every requirement) and, when there
    is more than one requirement, ``"meets <requirement>"`` for each alone, which shows which one
    binds. Rows follow `policies` (default: order of first appearance).

    Examples
    --------
    >>> table = pd.DataFrame({"future": [0, 0, 1, 1], "policy": ["b", "a", "b", "a"],
    ...                       "a_territory_share": [0.8, 0.9, 0.7, 0.6]})
    >>> robustness_table(table, ["a_territory_share >= 0.75"]).round(2).to_dict("index")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'b': {'territory share regret, mean': 0.05, 'territory share regret, p90': 0.09,
           'territory share regret, max': 0.1, 'meets all requirements': 0.5},
     'a': {'territory share regret, mean': 0.05, 'territory share regret, p90': 0.09,
           'territory share regret, max': 0.1, 'meets all requirements': 0.5}}
    """
    _check_table(outcomes)
    order = list(policies) if policies is not None else policies_in(outcomes)
    columns: dict[str, pd.Series] = {}
    for headline in headlines:
        if headline.column not in outcomes.columns:
            continue
        summary = regret_summary(outcomes, headline.column, headline.larger_is_better)
        for statistic in ("mean", "p90", "max"):
            columns[f"{headline.label} regret, {statistic}"] = summary[statistic]
    columns["meets all requirements"] = satisficing(outcomes, requirements)
    if len(requirements) > 1 and not isinstance(requirements, str):
        for text in requirements:
            columns[f"meets {text.strip()}"] = satisficing(outcomes, [text])
    table = pd.DataFrame(columns).reindex(order)
    table.index.name = "policy"
    return table
