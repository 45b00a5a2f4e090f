"""What `offramp run` prints: the comparison's regret and satisficing rows are the analysis
functions' numbers, formatted as in the report."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from offramp.analysis.robustness import regret_summary, satisficing
from offramp.report.console import print_comparison
from offramp.report.words import format_cell
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
from offramp.studies.summary import compare_policies


@pytest.fixture(scope="module")
def small_run(kursk_run_600):
    return kursk_run_600


def _row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {label} "))
    return [cell.strip() for cell in line.strip("│").split("│")][1:]


def test_console_regret_and_satisficing_equal_the_analysis_functions(small_run):
    outcomes = small_run.read_outcomes()
    policies = small_run.manifest["policies"]
    comparison = compare_policies(small_run)
    table = comparison.table.join(comparison.robustness)
    territory = regret_summary(outcomes, "a_territory_share", True).loc[policies]
    casualties = regret_summary(outcomes, "casualties_a", False).loc[policies]
    meets = satisficing(outcomes, list(DEFAULT_REQUIREMENTS)).loc[policies]
    for statistic in ("mean", "p90", "max"):
        np.testing.assert_array_equal(table[f"territory share regret, {statistic}"],
                                      territory[statistic])
        np.testing.assert_array_equal(table[f"casualties a regret, {statistic}"],
                                      casualties[statistic])
    np.testing.assert_array_equal(table["meets all requirements"], meets)

    console = Console(record=True, width=200)
    print_comparison(console, comparison)
    text = console.export_text()
    assert _row(text, "territory share regret, p90") == [format_cell(v) for v in territory["p90"]]
    assert _row(text, "casualties a regret, max") == [format_cell(v) for v in casualties["max"]]
    assert _row(text, "meets all requirements") == [format_cell(v) for v in meets]
