"""Adaptive policies in the scenario language: lever schedules (dates become weeks), triggers
and side b's rules; bad ones are clear errors (exit 2, the file's line, the field, what was
expected; no traceback)."""

from __future__ import annotations

import pytest

from helpers import run_cli
from offramp.scenario.loader import load_scenario


def test_dates_become_weeks_counted_from_the_start_date():
    policy = load_scenario("kursk-2024").scenario.policies["as-happened"]
    start = load_scenario("kursk-2024").scenario.scenario.start_date  # 2024-08-19
    assert policy.steps("lift_restrictions", start) == [(0, False), (13, True)]
    assert policy.steps("aid_multiplier", start) == [(0, 1.0), (28, 0.0), (29, 1.0)]
    assert policy.steps("industrial_surge", start) == [(0, 1.0)]


def _policy_file(tmp_path, schedule_yaml: str):
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "extends: kursk-2024\n"
        "policies:\n"
        "  drip-feed:\n"
        f"    aid_multiplier:\n{schedule_yaml}")
    return path


@pytest.mark.parametrize("schedule, field, expected", [
    ("      - {from_week: 200, value: 0.5}\n", "aid_multiplier[0].from_week",
     "after the scenario's last week 103"),
    ("      - {from_date: 2024-01-01, value: 0.5}\n", "aid_multiplier[0].from_date",
     "before week 0 (2024-08-19)"),
    ("      - {from_week: 20, value: 0.5}\n      - {from_week: 10, value: 1.0}\n",
     "aid_multiplier[1].from_week", "steps go in time order"),
    ("      - {from_week: 20, value: 50}\n", "aid_multiplier[0].value", "less than or equal to 10"),
    ("      - {from_week: 20, from_date: 2025-01-01, value: 1}\n", "aid_multiplier[0]",
     "either from_week"),
    ("      - {from_date: next spring, value: 1}\n", "aid_multiplier[0].from_date", "YYYY-MM-DD"),
])
def test_a_bad_schedule_is_a_clear_error(tmp_path, schedule, field, expected):
    result = run_cli("validate", _policy_file(tmp_path, schedule))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "schedule.yaml:" in result.stderr and field in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr
    assert "2 problems" not in result.stderr, result.stderr  # not the scalar form's error too


def test_a_step_after_a_horizon_shortened_later_is_let_be(tmp_path):
    """as-happened's steps (weeks 13 to 30) are never reached in a 20-week version of
    kursk-2024, made on the command line or in a file that extends it: not a mistake."""
    assert run_cli("validate", "kursk-2024", "--set", "scenario.horizon_weeks=20").returncode == 0
    path = tmp_path / "short.yaml"
    path.write_text("extends: kursk-2024\nscenario:\n  horizon_weeks: 20\n")
    assert run_cli("validate", path).returncode == 0


def _trigger_file(tmp_path, trigger_yaml: str):
    path = tmp_path / "trigger.yaml"
    path.write_text(
        "extends: kursk-2024\n"
        "policies:\n"
        "  drip-feed:\n"
        f"    triggers:\n{trigger_yaml}")
    return path


@pytest.mark.parametrize("trigger, field, expected", [
    ("      - {when: 'salient_area < 300', then: {seek_talks: true}}\n",
     "triggers[0].when", "there is no state variable 'salient_area'. Did you mean 'salient_km2'?"),
    ("      - {when: 'salient_km2 < lots', then: {seek_talks: true}}\n",
     "triggers[0].when", "not a number or true/false"),
    ("      - {when: 'salient_km2 < 300', then: {}}\n",
     "triggers[0].then", "a trigger must set at least one of"),
    ("      - {when: 'salient_km2 < 300', then: {salient_posture: hold}}\n",
     "triggers[0].then.salient_posture", "withdraw"),
    ("      - {when: 'salient_km2 < 300', then: {aid_multiplier: 20}}\n",
     "triggers[0].then.aid_multiplier", "less than or equal to 10"),
    ("      - {when: 'salient_km2 < 300', then: {seek_talks: true}, for_weeks: 0}\n",
     "triggers[0].for_weeks", "greater than or equal to 1"),
])
def test_a_bad_trigger_is_a_clear_error(tmp_path, trigger, field, expected):
    result = run_cli("validate", _trigger_file(tmp_path, trigger))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "trigger.yaml:5:" in result.stderr and field in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr


def test_a_bad_opponent_rule_is_a_clear_error(tmp_path):
    path = tmp_path / "opponent.yaml"
    path.write_text(
        "extends: kursk-2024\n"
        "opponent:\n"
        "  rules:\n"
        "    - id: odd\n"
        "      when: ['restrictions_lifted == true', 'kursk_held > 0']\n"
        "      follows: {value: 0.5, unit: probability, source: 'assumption: a test'}\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "opponent.yaml:5:" in result.stderr and "opponent.rules[0].when" in result.stderr
    assert "there is no state variable 'kursk_held'" in result.stderr
    assert "restrictions_lifted" in result.stderr  # listed among those a rule may read
