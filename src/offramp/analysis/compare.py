"""Comparison of policies over the same futures: a summary per policy and paired win shares.

Every policy runs on the same futures with the same noise, so differences between policies are
paired: "A beats B in 64% of futures" compares A and B in each future, not two averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Headline:
    """A headline outcome: its column, how to read it, and which direction is better for side a."""

    column: str
    label: str
    larger_is_better: bool


HEADLINES: tuple[Headline, ...] = (
    Headline("ended", "war ended by the horizon", True),
    Headline("a_territory_share", "side a's territory share", True),
    Headline("casualties_a", "casualties, side a", False),
    Headline("casualties_b", "casualties, side b", False),
    Headline("two_front_war", "two-front war", False),
    Headline("escalation_events", "escalation events", False),
    Headline("min_generating_capacity", "lowest generating capacity", True),
    Headline("min_backer_shell_stock", "lowest main-backer shell stock", True),
)


def policies_in(outcomes: pd.DataFrame) -> list[str]:
    """The policies of an outcomes table, in the order they first appear."""
    return [str(policy) for policy in pd.unique(outcomes["policy"])]


_SUMMARY_COLUMNS = ("ended", "end_week", "a_territory_share", "casualties_a", "casualties_b",
                    "two_front_war", "escalation_events", "min_generating_capacity",
                    "min_backer_shell_stock")


def summary_table(outcomes: pd.DataFrame, policies: list[str] | None = None) -> pd.DataFrame:
    """One row per policy: the headline statistics the main job prints."""
    policies = policies or policies_in(outcomes)
    # each policy's rows of the columns used, taken as arrays (selecting rows of the whole
    # frame copied its ~30 columns once per policy: ~0.15 s a policy at 1,000,000 rows)
    columns = {name: outcomes[name].to_numpy() for name in _SUMMARY_COLUMNS}
    rows = []
    for policy in policies:
        at = np.flatnonzero((outcomes["policy"] == policy).to_numpy())
        frame = {name: pd.Series(values[at]) for name, values in columns.items()}
        ended = frame["end_week"][frame["ended"].astype(bool).to_numpy()]
        row = {"policy": policy, "futures": len(at)}
        row["ended share"] = frame["ended"].mean()
        row["median end week"] = float(ended.median()) if len(ended) else float("nan")
        row["territory share, median"] = frame["a_territory_share"].median()
        row["territory share, p10"] = frame["a_territory_share"].quantile(0.10)
        row["casualties a, median"] = frame["casualties_a"].median()
        row["casualties b, median"] = frame["casualties_b"].median()
        row["two-front war share"] = frame["two_front_war"].mean()
        row["escalation events, mean"] = frame["escalation_events"].mean()
        row["lowest generating capacity, median"] = frame["min_generating_capacity"].median()
        row["lowest backer shell stock, median"] = frame["min_backer_shell_stock"].median()
        rows.append(row)
    return pd.DataFrame(rows).set_index("policy")


def paired_wins(
    outcomes: pd.DataFrame, headlines: tuple[Headline, ...] = HEADLINES
) -> pd.DataFrame:
    """For each ordered pair (A, B): the share of futures in which A does strictly better than B.

    Rows are "A vs B", columns the headline outcomes. Futures where both are equal (for example
    both wars still on) count as not beating; so A-vs-B and B-vs-A need not add up to one.
    """
    # futures x policies per headline, by one factorization of the keys (not a pivot each:
    # eight pivots of a million rows cost more than the comparisons); policies in the order
    # they first appear
    policy_at, policy_names = pd.factorize(outcomes["policy"])
    policies = [str(policy) for policy in policy_names]
    future_at, futures = pd.factorize(outcomes["future"])
    wide = {}
    for h in headlines:
        if h.column in outcomes:
            table = np.full((len(futures), len(policies)), np.nan)
            table[future_at, policy_at] = outcomes[h.column].to_numpy(dtype=float)
            wide[h.column] = table
    # share[h][i, j]: the share of futures where policy i beats policy j on headline h; one
    # row of policies at a time (n × P comparisons), so hundreds of policies stay quick
    shares = {}
    for headline in headlines:
        if headline.column not in wide:
            continue
        values = wide[headline.column]
        table = np.empty((len(policies), len(policies)))
        for i in range(len(policies)):
            own = values[:, [i]]
            better = own > values if headline.larger_is_better else own < values
            table[i] = better.mean(axis=0)
        shares[headline.label] = table
    rows = []
    for (i, first), (j, second) in permutations(enumerate(policies), 2):
        row: dict[str, str | float] = {"comparison": f"{first} vs {second}"}
        for label, table in shares.items():
            row[label] = float(table[i, j])
        rows.append(row)
    columns = ["comparison", *(h.label for h in headlines if h.column in wide)]
    # One policy: no pairs, an empty table with the same columns (not an error).
    return pd.DataFrame(rows, columns=columns).set_index("comparison")
