"""Bad input in the bargaining issues and the guarantee lever: exit 2, the file's line, the field,
no traceback."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli

MINIMAL = Path(__file__).parents[1] / "scenarios" / "minimal.yaml"
ASSUMED = "assumption: a test of bad input"


def _param(value: float) -> str:
    return f"{{value: {value}, unit: share, source: '{ASSUMED}'}}"


def test_an_issue_without_a_valuation_names_the_missing_field(tmp_path):
    path = tmp_path / "no-valuation.yaml"
    path.write_text(
        "extends: kursk-2024\n"
        "bargaining:\n"
        "  issues:\n"
        "    prisoners:\n"
        f"      value_to_b: {_param(0.01)}\n"
        f"      demand_b: {_param(1.0)}\n"
        f"      ceiling_a: {_param(1.0)}\n"
        f"      softening_a: {_param(0.0)}\n"
        f"      softening_b: {_param(0.0)}\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no-valuation.yaml:5:" in result.stderr, result.stderr  # the issue's first line
    assert "bargaining.issues.prisoners.value_to_a" in result.stderr


def test_guarantees_in_a_scenario_without_a_security_issue_are_refused(tmp_path):
    path = tmp_path / "guarantees.yaml"
    path.write_text(
        f"extends: {MINIMAL}\n"
        "policies:\n"
        "  talk:\n"
        "    security_guarantees: 0.5\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "guarantees.yaml:4:" in result.stderr, result.stderr
    assert "policies.talk.security_guarantees" in result.stderr
    assert "bargaining.issues.security" in result.stderr


def test_guarantees_in_a_claim_arm_are_refused_the_same_way(tmp_path):
    path = tmp_path / "claim-guarantees.yaml"
    path.write_text(
        f"extends: {MINIMAL}\n"
        "claims:\n"
        "  guarantees_help:\n"
        "    statement: Guarantees help.\n"
        f"    source: '{ASSUMED}'\n"
        "    kind: paired\n"
        "    outcome: ended\n"
        "    expect: higher\n"
        "    arm: {policy: talk, levers: {security_guarantees: 1.0}}\n"
        "    versus: {policy: talk}\n"
        "    cause: [security_guarantees]\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "claims.guarantees_help.arm.levers.security_guarantees" in result.stderr, \
        result.stderr
