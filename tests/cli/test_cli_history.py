"""`offramp validate-history`: both wars scored, one table per war (the scoring itself is
tests/studies/test_war_endings.py's)."""

from __future__ import annotations

from helpers import run_cli


def test_cli_prints_one_table_per_war():
    result = run_cli("validate-history", "--futures", "300", "--seed", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "polish-soviet-1920: 300 futures, seed 3" in result.stdout
    assert "winter-war-1939: 300 futures, seed 3" in result.stdout
    assert "as-fought − stop-at-the-frontier" in result.stdout
