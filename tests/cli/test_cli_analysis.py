"""`offramp discover` and `offramp sensitivity` on a run folder: plain words, the drivers per
policy, Sobol indices on a Saltelli run, and one line for every mistake.

They read the session's shared runs (conftest.py: kursk_run_600, saltelli_run).
"""

from __future__ import annotations

import os
import re

import pytest

from helpers import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def small_run(kursk_run_600):
    return kursk_run_600


# --- discover --------------------------------------------------------------------------------


def test_discover_prints_the_box_in_plain_words(small_run, copy_run):
    small_run = copy_run(small_run)  # the trade-off plot is written into the run folder
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
