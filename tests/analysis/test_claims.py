"""Claims: the seeds' statements as paired comparisons, their statistics, errors and the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offramp.analysis import discovery
from offramp.analysis.claims import (
    PairedShares,
    bootstrap_mean_ci,
    claims_table,
    concentrates,
    directed_effect,
    escalation_window_effect,
    evaluate_claims,
    failure_conditions,
    fighting_weeks,
    first_talks_week,
    paired_shares,
    plan_runs,
    verdict_for,
    weekly_counts,
)
from offramp.errors import UserError
from offramp.scenario.loader import ScenarioError, load_scenario

VERDICTS = {"holds", "holds only under conditions", "fails", "not testable"}
KURSK_CLAIMS = {
    "delay_weakens_hand", "held_soil_is_leverage", "lifting_restrictions_gains_ground",
    "lifting_restrictions_escalation_tolerable", "sequencing_avoids_two_fronts",
    "ladder_makes_peace_last", "escalation_before_talks", "arming_beats_drip_feed",
}


def write_variant(tmp_path: Path, claims_yaml: str) -> Path:
    """A scenario file extending kursk-2024 with extra claims (indented YAML under claims:)."""
    path = tmp_path / "variant.yaml"
    path.write_text("extends: kursk-2024\nclaims:\n" + claims_yaml)
    return path


CLAIM_HEAD = """  bad:
    statement: A claim written for a test.
    source: "assumption: a claim written only to test error messages"
"""


# --- the kursk-2024 claims run and get verdicts ------------------------------------------------


@pytest.fixture(scope="module")
def kursk_results():
    return evaluate_claims("kursk-2024", n_futures=400, seed=0)


def test_every_kursk_claim_runs_and_gets_a_verdict(kursk_results):
    assert {r.claim_id for r in kursk_results} == KURSK_CLAIMS
    for result in kursk_results:
        assert result.verdict in VERDICTS, result.claim_id
        assert result.n_futures == 400
        assert result.n_compared > 0, result.claim_id
        assert result.ci_low <= result.mean_effect <= result.ci_high, result.claim_id
        shares = result.holds_share + result.fails_share
        assert shares <= 1.0 + 1e-12, result.claim_id
        assert result.failure_conditions.strip(), result.claim_id


def test_claims_table_has_one_row_per_claim(kursk_results):
    table = claims_table(kursk_results)
    assert set(table.index) == KURSK_CLAIMS
    assert {"holds share", "mean effect", "ci low", "ci high", "verdict"} <= set(table.columns)


def test_claims_trace_to_the_two_op_eds():
    claims = load_scenario("kursk-2024").scenario.claims
    assert set(claims) == KURSK_CLAIMS
    for key, claim in claims.items():
        seeds = ("seed 000_bed67bbdd1b6c8e1.txt", "seed 003_32ea20beaf4983d4.txt")
        assert claim.source.startswith(seeds), key


def test_each_distinct_arm_runs_once():
    scenario = load_scenario("kursk-2024").scenario
    plan = plan_runs(scenario, dict(scenario.claims))
    # negotiate-now, + talks from week 26, + no ladder; arm-and-hold, + withdraw, + restrictions
    # kept; drip-feed: seven distinct sets of levers for fifteen arms.
    assert len(plan.policies) == 7
    assert len(plan.run_of) == 15
    assert plan.run_of[("sequencing_avoids_two_fronts", "versus")] == \
        plan.run_of[("escalation_before_talks", "arm")]


def test_arms_are_paired_on_the_same_futures_and_noise(tmp_path):
    # drip-feed never seeks talks, so its talks_initiative changes nothing: a separate run with
    # the same seed must then reproduce every future exactly (common random numbers).
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm:
      policy: drip-feed
      levers: {talks_initiative: 2.0}
    versus: {policy: drip-feed}
    outcome: a_territory_share
    expect: higher
""")
    scenario = load_scenario(path).scenario
    assert len(plan_runs(scenario, {"bad": scenario.claims["bad"]}).policies) == 2
    [result] = evaluate_claims(path, n_futures=200, seed=3, claims=["bad"])
    assert result.tie_share == 1.0
    assert result.mean_effect == 0.0 and result.ci_low == 0.0 and result.ci_high == 0.0
    assert result.verdict == "fails"


# --- errors name the field --------------------------------------------------------------------


def test_unknown_policy_names_the_field(tmp_path):
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm: {policy: negotiate-later}
    versus: {policy: drip-feed}
    outcome: a_territory_share
    expect: higher
""")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "claims.bad.arm.policy" in message
    assert "negotiate-later" in message and "did you mean 'negotiate-now'" in message
    assert re.search(r"variant\.yaml:\d+:\d+", message)


def test_unknown_lever_names_the_field(tmp_path):
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm: {policy: negotiate-now}
    versus:
      policy: negotiate-now
      levers: {seek_talk_from_week: 26}
    outcome: a_territory_share
    expect: higher
""")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "claims.bad.versus.levers.seek_talk_from_week" in message
    assert "did you mean 'seek_talks_from_week'" in message


def test_invalid_lever_value_names_the_field(tmp_path):
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm:
      policy: arm-and-hold
      levers: {salient_posture: retreat}
    versus: {policy: arm-and-hold}
    outcome: a_territory_share
    expect: higher
""")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "claims.bad.arm.levers.salient_posture" in message and "retreat" in message


def test_paired_claim_needs_versus(tmp_path):
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm: {policy: arm-and-hold}
    outcome: a_territory_share
    expect: higher
""")
    with pytest.raises(ScenarioError, match=r"claims\.bad\.versus"):
        load_scenario(path)


def test_unknown_outcome_names_the_field(tmp_path):
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm: {policy: arm-and-hold}
    versus: {policy: drip-feed}
    outcome: territory_share
    expect: higher
""")
    with pytest.raises(UserError) as error:
        evaluate_claims(path, n_futures=10, claims=["bad"])
    message = str(error.value)
    assert "claims.bad.outcome" in message and "'territory_share'" in message
    assert "did you mean 'a_territory_share'" in message and "settlement_terms" in message


def test_unknown_claim_id_gets_a_did_you_mean():
    with pytest.raises(UserError, match="did you mean 'delay_weakens_hand'"):
        evaluate_claims("kursk-2024", n_futures=10, claims=["delay_weakens_hands"])


# --- the statistics, by hand ------------------------------------------------------------------


def test_paired_shares_by_hand():
    effect = np.array([0.2, -0.1, 0.0, 0.3])  # arm minus versus in four futures
    assert paired_shares(directed_effect(effect, "higher")) == PairedShares(0.5, 0.25, 0.25)
    assert paired_shares(directed_effect(effect, "lower")) == PairedShares(0.25, 0.5, 0.25)
    # Non-inferiority: the arm may be worse by up to 0.15, so -0.1 and the tie both hold.
    assert paired_shares(directed_effect(effect, "higher"), 0.15) == PairedShares(1.0, 0.0, 0.25)
    # ... but by less than 0.05 the -0.1 fails.
    assert paired_shares(directed_effect(effect, "higher"), 0.05) == PairedShares(0.75, 0.25, 0.25)


def test_bootstrap_interval_by_hand():
    # A constant has no spread.
    assert bootstrap_mean_ci(np.full(7, 0.3)) == pytest.approx((0.3, 0.3))
    # Two values: the resampled mean is 0, 1/2 or 1 with chances 1/4, 1/2, 1/4, so the 2.5% and
    # 97.5% quantiles are 0 and 1.
    assert bootstrap_mean_ci(np.array([0.0, 1.0]), seed=1) == (0.0, 1.0)
    # Five values, one of them 1: the mean is k/5 with k ~ Binomial(5, 0.2); P(k = 0) = 0.33 >
    # 0.025 and P(k <= 2) = 0.942 < 0.975 < P(k <= 3) = 0.993, so the interval is [0, 0.6].
    assert bootstrap_mean_ci(np.array([0.0, 0, 0, 0, 1]), replicates=20_000, seed=2) == (0.0, 0.6)


def test_bootstrap_interval_matches_the_normal_approximation():
    values = np.random.default_rng(5).normal(1.0, 2.0, size=4000)
    low, high = bootstrap_mean_ci(values, replicates=4000, seed=7)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert low == pytest.approx(values.mean() - half_width, abs=0.02)
    assert high == pytest.approx(values.mean() + half_width, abs=0.02)
    assert bootstrap_mean_ci(values, seed=7) == bootstrap_mean_ci(values, seed=7)  # seeded


def test_verdict_rule():
    even = PairedShares(0.5, 0.3, 0.2)
    losing = PairedShares(0.3, 0.5, 0.2)
    assert verdict_for(0.01, even, 0.0, False, 100) == "holds"
    assert verdict_for(0.01, losing, 0.0, False, 100) == "fails"  # mean carried by a few futures
    assert verdict_for(-0.01, even, 0.0, False, 100) == "fails"  # interval reaches 0
    assert verdict_for(-0.01, even, 0.0, True, 100) == "holds only under conditions"
    assert verdict_for(-0.4, even, 0.5, False, 100) == "holds"  # within the tolerance
    assert verdict_for(float("nan"), even, 0.0, False, 0) == "not testable"


def test_escalation_before_talks_by_hand():
    # Weekly series for two futures over 10 weeks (rows = end of week - 1; row 0 is the start).
    talks_open = np.zeros((11, 2), dtype=bool)
    talks_open[6:8, 0] = True  # future 0: talks open during weeks 5 and 6; future 1: never
    first = first_talks_week(talks_open)
    assert first[0] == 5.0 and np.isnan(first[1])

    cumulative = np.zeros((11, 2))
    cumulative[5:, 0] += 1  # an escalation in week 4 (just before talks)
    cumulative[9:, 0] += 1  # and one in week 8
    events = weekly_counts(cumulative)
    assert events[:, 0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 1, 0]

    fighting = np.ones((10, 2), dtype=bool)
    effect = escalation_window_effect(events, fighting, first, window=2)
    # Window: weeks 3 and 4 (1 event in 2 weeks). Other weeks: 0-2 and 6-9 (week 5, when talks
    # open, is in neither): 1 event in 7 weeks.
    assert effect[0] == pytest.approx(1 / 2 - 1 / 7)
    assert np.isnan(effect[1])

    # Weeks without fighting do not count: after a settlement in week 6 only weeks 0-6 are fought.
    settled = fighting_weeks(np.array([6.0, np.nan]), np.zeros((11, 2)), None, 0)
    assert settled[:, 0].tolist() == [True] * 7 + [False] * 3 and settled[:, 1].all()
    effect = escalation_window_effect(events, settled, first, window=2)
    assert effect[0] == pytest.approx(1 / 2 - 0 / 4)  # the week-8 event is after the war


def test_fighting_weeks_skip_a_ceasefire():
    rung = np.zeros((6, 1))
    rung[2:4, 0] = 3  # the top rung (the ceasefire, index 2 of 3) in force at the end of weeks 1-2
    fought = fighting_weeks(np.array([np.nan]), rung, ceasefire_rung=2, top_rung=3)
    assert fought[:, 0].tolist() == [True, True, False, False, True]


def test_failure_conditions_name_the_driver_in_plain_words():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(3000, 30)), columns=[f"noise_{i}" for i in range(30)])
    X["combat.driver"] = rng.uniform(size=3000)
    fails = (X["combat.driver"].to_numpy() > 0.7) & (rng.uniform(size=3000) < 0.9)
    text = failure_conditions(X, fails, discovery)
    limit = re.search(r"where combat\.driver > ([0-9.]+);", text)
    assert text.startswith("the claim fails in") and limit, text
    assert 0.65 < float(limit.group(1)) < 0.75 and "noise_" not in text
    spread = failure_conditions(X, rng.uniform(size=3000) < 0.3, discovery)
    assert spread.startswith("no region found")
    assert failure_conditions(X, np.zeros(3000, dtype=bool), discovery).startswith("none")
    assert "PRIM unavailable" in failure_conditions(X, fails, None)


def test_a_region_must_concentrate_failures():
    assert concentrates(60, 100, 0.3)  # 60% against 30% overall
    assert not concentrates(31, 100, 0.3)


# --- the command line -------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "offramp", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_prints_a_verdict_per_claim():
    result = run_cli("claims", "kursk-2024", "--futures", "300")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for claim_id in KURSK_CLAIMS:
        row = next(line for line in lines if re.search(rf"\b{claim_id}\b", line))
        assert re.search(r"\b(holds|fails|not testable)\b", row), row


def test_cli_unknown_claim_is_a_user_error():
    result = run_cli("claims", "kursk-2024", "--futures", "20", "--claim", "ladder_make_peace")
    assert result.returncode == 2
    assert "did you mean 'ladder_makes_peace_last'" in result.stderr


def test_validate_still_passes():
    result = run_cli("validate", "kursk-2024")
    assert result.returncode == 0 and "valid" in result.stdout
