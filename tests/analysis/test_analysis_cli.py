"""The analysis on a run: `offramp discover`, `offramp sensitivity`, `--require`, the Saltelli
sampler, the report's opening sections and the comparison's regret and satisficing columns.

One small run (600 futures) and one small Saltelli run are made once for the module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import offramp
from offramp.analysis.robustness import regret_summary, satisficing
from offramp.experiments.runner import RunSettings, start_run
from offramp.experiments.sampling import saltelli_design, sample_futures, uncertain_parameters
from offramp.report.console import print_comparison
from offramp.report.words import format_cell
from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
from offramp.scenario.loader import load_scenario
from offramp.studies.summary import compare_policies

SMALL = RunSettings(scenario="kursk-2024", n_futures=600, seed=3, chunk_size=300)


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "offramp", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    return start_run(SMALL, tmp_path_factory.mktemp("analysis") / "small")


@pytest.fixture(scope="module")
def saltelli_run(tmp_path_factory):
    settings = RunSettings(scenario="kursk-2024", n_futures=1000, sampler="saltelli", seed=2,
                           policies=("drip-feed",), chunk_size=500)
    return start_run(settings, tmp_path_factory.mktemp("analysis") / "saltelli")


# --- discover --------------------------------------------------------------------------------


def test_discover_prints_the_box_in_plain_words(small_run):
    result = run_cli("discover", str(small_run.root), "--policy", "drip-feed",
                     "--where", "a_territory_share < 0.8")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"Under drip-feed, a_territory_share < 0\.8 holds in \d+% of futures "
                     r"where .+ is (above|below|between) ", out), out
    for text in ("coverage", "density", "mass", "quasi-p", "restrictions"):
        assert text in out, text
    assert "actors." not in out.split("box 1")[1].splitlines()[1], "paths in the sentence"
    plot = out.split("trade-off plot: ")[1].strip()
    assert plot.endswith(".png") and os.path.getsize(plot) > 1000


@pytest.mark.parametrize(
    ("policy", "where", "expected"),
    [
        ("drip-fed", "a_territory_share < 0.8", ("unknown policy 'drip-fed'", "drip-feed")),
        ("drip-feed", "a_territory_share <<< 0.8", ("--where",)),
        ("drip-feed", "a_teritory_share < 0.8", ("a_teritory_share", "a_territory_share")),
        ("drip-feed", "a_territory_share", ("not true/false",)),
    ],
    ids=["unknown-policy", "malformed", "unknown-column", "not-a-condition"],
)
def test_discover_mistakes_are_one_line(small_run, policy, where, expected):
    result = run_cli("discover", str(small_run.root), "--policy", policy, "--where", where)
    assert_one_line_error(result, *expected)


# --- sensitivity -----------------------------------------------------------------------------


def test_sensitivity_lists_the_top_drivers_per_policy(small_run):
    result = run_cli("sensitivity", str(small_run.root), "--outcome", "a_territory_share",
                     "--top", "4")
    assert result.returncode == 0, result.stderr
    for policy in ("negotiate-now", "arm-and-hold", "drip-feed"):
        assert f"{policy}: top drivers of a_territory_share" in result.stdout
    assert "PAWN" in result.stdout and "importance" in result.stdout
    assert "actors." in result.stdout  # the path next to the readable name


def test_sensitivity_names_the_outcomes_when_one_is_wrong(small_run):
    result = run_cli("sensitivity", str(small_run.root), "--outcome", "territory_share")
    assert_one_line_error(result, "'territory_share'", "Did you mean 'a_territory_share'?")


def test_sobol_needs_a_saltelli_run(small_run):
    result = run_cli("sensitivity", str(small_run.root), "--outcome", "a_territory_share",
                     "--method", "sobol")
    assert_one_line_error(result, "--sampler saltelli", "lhs")


def test_sobol_works_on_a_saltelli_run(saltelli_run):
    result = run_cli("sensitivity", str(saltelli_run.root), "--outcome", "a_territory_share",
                     "--method", "sobol", "--top", "3")
    assert result.returncode == 0, result.stderr
    assert "drip-feed: top drivers of a_territory_share" in result.stdout
    assert "ST_conf" in result.stdout and "S1" in result.stdout


# --- the Saltelli sampler --------------------------------------------------------------------


def test_saltelli_run_has_n_times_2d_plus_2_futures_in_salib_order(saltelli_run):
    manifest = saltelli_run.manifest
    scenario = load_scenario("kursk-2024").scenario
    names = uncertain_parameters(scenario)
    per_base = 2 * len(names) + 2
    assert manifest["sampler"] == "saltelli"
    assert manifest["saltelli"]["base_samples"] == 1000 // per_base
    assert manifest["n_futures"] == 1000 // per_base * per_base == len(saltelli_run.read_futures())
    assert manifest["saltelli"]["parameters"] == names
    # The futures are SALib's unit design mapped through each parameter's inverse CDF.
    unit = saltelli_design({"names": names, "bounds": [[0.0, 1.0]] * len(names)},
                           manifest["saltelli"]["base_samples"], seed=2, calc_second_order=True)
    futures = sample_futures(scenario, 1000, 2, "saltelli")
    from offramp.scenario.walk import scenario_parameters

    params = scenario_parameters(scenario)
    np.testing.assert_array_equal(futures[names[0]].to_numpy(), params[names[0]].ppf(unit[:, 0]))
    pd.testing.assert_frame_equal(futures.reset_index(drop=True), saltelli_run.read_futures())


# --- requirements ----------------------------------------------------------------------------


def test_run_rejects_a_bad_requirement_before_it_starts(tmp_path):
    result = run_cli("run", "--futures", "20", "--require", "nonsense >= 1",
                     "--out", str(tmp_path / "bad"))
    assert_one_line_error(result, "'nonsense'")
    assert not (tmp_path / "bad").exists()


def test_requirements_are_stored_and_do_not_change_the_outcomes(tmp_path):
    base = RunSettings(scenario="kursk-2024", n_futures=60, seed=5, chunk_size=60)
    default = start_run(base, tmp_path / "default")
    custom = start_run(RunSettings(**{**base.__dict__, "requirements": ("ended == true",)}),
                       tmp_path / "custom")
    assert default.manifest["requirements"] == list(DEFAULT_REQUIREMENTS)
    assert custom.manifest["requirements"] == ["ended == true"]
    for name in ("outcomes.parquet", "futures.parquet"):
        assert (default.root / name).read_bytes() == (custom.root / name).read_bytes()


# --- the comparison table and the report -----------------------------------------------------


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


def test_the_report_opens_with_what_decides_the_answer(small_run):
    html = offramp.open_run(small_run.root).report().read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    opening = ["What decides the answer", "Claims", "Where each policy fails",
               "Robustness: regret and satisficing"]
    assert headings[:4] == opening
    assert max(headings.index(title) for title in opening) < headings.index(
        "Comparison per policy")
    for policy in small_run.manifest["policies"]:
        assert f"Under {policy}, the requirements are missed in" in html
    assert "Not computed" not in html
