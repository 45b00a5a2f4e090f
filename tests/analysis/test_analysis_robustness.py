"""Robustness (offramp.analysis.robustness): regret and satisficing against a hand-computed table.

Three futures, two policies:

    future  policy  territory  casualties  two_front_war
    0       arm     0.8        100         False
    0       talk    0.6         50         False
    1       arm     0.5        300         False
    1       talk    0.9        100         True
    2       arm     0.7        200         False
    2       talk    0.7        200         False
"""

from __future__ import annotations

import pandas as pd
import pytest

from offramp.analysis import regret, regret_summary, satisficing
from offramp.errors import UserError


@pytest.fixture
def outcomes() -> pd.DataFrame:
    return pd.DataFrame({
        "future": [0, 0, 1, 1, 2, 2],
        "policy": ["arm", "talk"] * 3,
        "territory": [0.8, 0.6, 0.5, 0.9, 0.7, 0.7],
        "casualties": [100.0, 50.0, 300.0, 100.0, 200.0, 200.0],
        "two_front_war": [False, False, False, True, False, False],
    })


def test_regret_against_the_best_policy_in_each_future(outcomes):
    table = regret(outcomes, "territory", larger_is_better=True)
    # best per future: 0.8, 0.9, 0.7
    assert table["best"].tolist() == pytest.approx([0.8, 0.8, 0.9, 0.9, 0.7, 0.7])
    assert table["regret"].tolist() == pytest.approx([0.0, 0.2, 0.4, 0.0, 0.0, 0.0])
    assert list(table.columns) == ["future", "policy", "territory", "best", "regret"]

    fewer_is_better = regret(outcomes, "casualties", larger_is_better=False)
    # best per future: 50, 100, 200
    assert fewer_is_better["regret"].tolist() == [50.0, 0.0, 200.0, 0.0, 0.0, 0.0]


def test_regret_summary_by_hand(outcomes):
    summary = regret_summary(outcomes, "territory", larger_is_better=True)
    # arm: regrets 0, 0.4, 0 -> mean 0.1333, max 0.4, p90 = 0 + 0.8 * 0.4 = 0.32 (linear)
    # talk: regrets 0.2, 0, 0 -> mean 0.0667, max 0.2, p90 = 0.8 * 0.2 = 0.16
    assert summary.index.tolist() == ["arm", "talk"]
    assert summary.loc["arm"].tolist() == pytest.approx([0.4 / 3, 0.4, 0.32])
    assert summary.loc["talk"].tolist() == pytest.approx([0.2 / 3, 0.2, 0.16])


def test_satisficing_by_hand(outcomes):
    share = satisficing(outcomes, ["territory >= 0.7", "two_front_war == false"])
    # arm: futures 0 (0.8) and 2 (0.7) meet both -> 2/3;
    # talk: future 1 has 0.9 but a two-front war, future 2 meets both -> 1/3.
    assert share.to_dict() == pytest.approx({"arm": 2 / 3, "talk": 1 / 3})
    assert share.name == "satisficing"
    assert satisficing(outcomes, ["casualties<200"]).to_dict() == pytest.approx(
        {"arm": 1 / 3, "talk": 2 / 3})
    assert satisficing(outcomes, ["two_front_war != FALSE", "territory > 0.85"]).to_dict() == (
        {"arm": 0.0, "talk": 1 / 3})
    assert satisficing(outcomes, []).to_dict() == {"arm": 1.0, "talk": 1.0}


def test_missing_outcomes_do_not_meet_requirements(outcomes):
    outcomes.loc[0, "territory"] = float("nan")
    assert satisficing(outcomes, ["territory != 0"]).to_dict() == pytest.approx(
        {"arm": 2 / 3, "talk": 1.0})
    assert regret(outcomes, "territory", True)["regret"].isna().tolist() == [
        True, True, False, False, False, False]


@pytest.mark.parametrize(
    ("requirement", "message"),
    [
        ("territory >> 0.7", "cannot read the requirement 'territory >> 0.7'"),
        ("territory >= abc", "'abc' is not a number or true/false"),
        (">= 0.7", "cannot read the requirement"),
        ("territory 0.7", "cannot read the requirement"),
        ("territory >= 0.7; import os", "cannot read the requirement"),
        ("__import__('os') == 1", "cannot read the requirement"),
        ("territory >= nan", "not a number"),
        (0.7, "must be a string"),
    ],
)
def test_malformed_requirements_are_user_errors(outcomes, requirement, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        satisficing(outcomes, [requirement])
    if isinstance(requirement, str) and "cannot read" in message:
        assert "<outcome> <op> <value>" in str(error.value)


def test_unknown_outcome_suggests_the_closest_and_lists_them(outcomes):
    with pytest.raises(UserError) as error:
        satisficing(outcomes, ["teritory >= 0.5"])
    message = str(error.value)
    assert "'teritory'" in message and "Did you mean 'territory'?" in message
    assert "territory, casualties, two_front_war" in message
    with pytest.raises(UserError, match="Did you mean 'casualties'"):
        regret(outcomes, "casualty", larger_is_better=False)
    with pytest.raises(UserError, match="no outcome column 'policy'"):
        satisficing(outcomes, ["policy == 1"])


def test_tables_without_keys_or_with_duplicates_are_rejected(outcomes):
    with pytest.raises(UserError, match="'future'"):
        satisficing(outcomes.drop(columns="future"), ["territory >= 0.5"])
    with pytest.raises(UserError, match="more than one row"):
        regret(pd.concat([outcomes, outcomes]), "territory", larger_is_better=True)
