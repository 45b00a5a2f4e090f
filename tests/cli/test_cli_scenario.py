"""`offramp scenarios`, `validate` and `explain`: the built-ins are listed, validate, and are
explained parameter by parameter (the scenario language itself is tests/scenario/'s)."""

from __future__ import annotations

import pytest

from helpers import run_cli
from offramp.scenario.loader import load_scenario
from offramp.scenario.walk import scenario_parameters

HISTORICAL = ("polish-soviet-1920", "winter-war-1939")


def test_cli_lists_validates_and_explains():
    listing = run_cli("scenarios")
    assert listing.returncode == 0 and "kursk-2024" in listing.stdout
    valid = run_cli("validate", "kursk-2024")
    assert valid.returncode == 0 and "valid" in valid.stdout


def test_explain_all_shows_every_parameter_with_unit_and_source():
    result = run_cli("explain", "kursk-2024", "--all", columns=1000)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for path, param in scenario_parameters(load_scenario("kursk-2024").scenario).items():
        row = next((line for line in lines if f" {path} " in line), None)
        assert row is not None, f"{path} missing from explain"
        assert param.unit in row and param.source[:40] in row, path
    assert "does not forecast" in result.stdout


def test_explain_by_default_is_short_and_ranks_twenty_parameters():
    result = run_cli("explain", "kursk-2024", columns=300)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) < 200  # --all prints over 1,000
    assert "The 20 most influential of 190 parameters" in result.stdout
    assert "explain --all" in result.stdout
    every = scenario_parameters(load_scenario("kursk-2024").scenario)
    shown = [path for path in every if f"│ {path}" in result.stdout]
    assert len(shown) == 20
    assert "actors.ukraine.initial_territory_share" in shown  # the leading driver


@pytest.mark.parametrize("name", HISTORICAL)
def test_cli_validate_exits_zero(name):
    result = run_cli("validate", name)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


@pytest.mark.parametrize("name", HISTORICAL)
def test_cli_explain_exits_zero(name):
    result = run_cli("explain", name)
    assert result.returncode == 0, result.stderr
