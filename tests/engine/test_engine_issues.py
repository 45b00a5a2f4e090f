"""Multi-issue bargaining through the whole engine (kursk-2024: security and sanctions beside
territory; docs/model.md B5b)."""

from __future__ import annotations

import dataclasses

import numpy as np
from engine_testkit import inputs_for, run_engine, scenario_without


def test_issues_deadlock_talks_and_make_deals_rarer(kursk, kursk_data, futures_2000):
    with_issues = run_engine(*inputs_for(kursk, futures_2000, "negotiate-now")).outcomes
    bare = scenario_without(kursk_data, issues=False)
    territory_only = run_engine(*inputs_for(bare, futures_2000, "negotiate-now")).outcomes
    assert (territory_only["deadlock_weeks"] == 0).all()
    assert np.isnan(territory_only["issue_concessions"]).all()
    deadlocked = with_issues["deadlock_weeks"] >= 12
    assert 0.05 < deadlocked.mean() < 0.95  # a normal state, not the only one
    assert (with_issues["deadlock_weeks"] <= with_issues["talks_open_weeks"]).all()
    assert (with_issues["end_kind"] == 1).mean() < (territory_only["end_kind"] == 1).mean()


def test_concessions_are_recorded_exactly_where_a_deal_was_struck(kursk, futures_2000):
    outcomes = run_engine(*inputs_for(kursk, futures_2000, "negotiate-now")).outcomes
    settled = outcomes["end_kind"] == 1
    assert settled.any()
    assert np.isfinite(outcomes["issue_concessions"][settled]).all()
    assert (outcomes["issue_concessions"][settled] >= 0).all()
    assert np.isnan(outcomes["issue_concessions"][~settled]).all()


def test_security_guarantees_break_deadlocks(kursk, futures_2000):
    inputs, levers = inputs_for(kursk, futures_2000, "negotiate-now")
    plain = run_engine(inputs, levers).outcomes
    guaranteed = run_engine(inputs, dataclasses.replace(levers, security_guarantees=1.0)).outcomes
    assert guaranteed["deadlock_weeks"].sum() < 0.8 * plain["deadlock_weeks"].sum()
    assert (guaranteed["end_kind"] == 1).mean() > (plain["end_kind"] == 1).mean()
