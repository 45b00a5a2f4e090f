"""Claims: the seeds' statements as paired comparisons, their statistics, errors and the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from offramp.analysis.paired import (
    PairedShares,
    bootstrap_mean_ci,
    directed_effect,
    directed_interval,
    escalation_window_effect,
    fighting_weeks,
    first_talks_week,
    paired_shares,
    verdict_for,
    weekly_counts,
)
from offramp.analysis.regions import concentrates, failure_region
from offramp.cli.claims import DEFAULT_FUTURES as CLI_DEFAULT_FUTURES
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.experiments.runner import RunSettings, start_run
from offramp.report.words import ParameterNames, failure_text, names_of_scenario
from offramp.scenario.loader import ScenarioError, load_scenario
from offramp.store import RunStore
from offramp.studies.claims import (
    DEFAULT_FUTURES,
    claim_futures,
    claims_frame,
    evaluate_claims,
    evaluate_run_claims,
    plan_runs,
    run_plan,
)

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


# The verdicts at 400 futures, seed 0, where they do not hang on a hair: the directed interval
# lies clearly on one side of -tolerance, or the shares decide. Left out:
# lifting_restrictions_gains_ground (interval [-0.0006, +0.0045]: its lower end is about 0) and
# sequencing_avoids_two_fronts (a 0/1 outcome: the interval's upper end is exactly 0).
KURSK_VERDICTS_400 = {
    "delay_weakens_hand": "holds",  # interval [+0.003, +0.007]
    "held_soil_is_leverage": "holds",  # [+0.010, +0.015]
    "arming_beats_drip_feed": "holds",  # [+0.013, +0.022]
    # expect: lower, tolerance 0.5, but lifting adds [+0.80, +1.03] escalation events (no
    # region where it holds is confirmed at 400 futures; docs/claims.md has it at 10,000).
    "lifting_restrictions_escalation_tolerable": "fails",
    "ladder_makes_peace_last": "fails",  # [-0.030, -0.005]: the wrong way
    "escalation_before_talks": "fails",  # worse in 22% of futures, better in 6%
}


def test_every_kursk_claim_runs_and_gets_a_verdict(kursk_results):
    assert {r.claim_id for r in kursk_results} == KURSK_CLAIMS
    for result in kursk_results:
        assert result.verdict in VERDICTS, result.claim_id
        # The verdict is the rule applied to the result's own numbers.
        directed_low, _ = directed_interval(result.ci_low, result.ci_high, result.expect)
        shares = PairedShares(result.holds_share, result.fails_share, result.tie_share)
        assert result.verdict == verdict_for(
            directed_low, shares, result.tolerance, result.holding is not None,
            result.n_compared,
        ), result.claim_id
        assert result.n_futures == 400
        assert result.n_compared > 0, result.claim_id
        assert result.ci_low <= result.mean_effect <= result.ci_high, result.claim_id
        shares = result.holds_share + result.fails_share
        assert shares <= 1.0 + 1e-12, result.claim_id
        assert result.failure.total == result.n_compared, result.claim_id
    verdicts = {r.claim_id: r.verdict for r in kursk_results}
    assert {claim: verdicts[claim] for claim in KURSK_VERDICTS_400} == KURSK_VERDICTS_400


def test_claims_frame_has_one_row_per_claim(kursk_results):
    table = claims_frame(kursk_results)
    assert set(table["claim_id"]) == KURSK_CLAIMS
    assert {"holds_share", "mean_effect", "ci_low", "ci_high", "verdict", "failure"} <= set(
        table.columns)


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
    text = failure_text(failure_region(X, fails), ParameterNames({}))
    limit = re.search(r"where combat driver is above ([0-9.]+);", text)
    assert text.startswith("the claim fails in") and limit, text
    assert 0.65 < float(limit.group(1)) < 0.75 and "noise_" not in text
    assert "(coverage)" in text and "Overall it fails in" in text
    spread = failure_region(X, rng.uniform(size=3000) < 0.3)
    assert spread.kind == "spread"
    assert failure_text(spread, ParameterNames({})).startswith("no region found")
    assert failure_region(X, np.zeros(3000, dtype=bool)).kind == "none"


def test_failure_conditions_use_the_scenarios_names():
    # Worded as `offramp discover` words a box: the scenario's names, not its parameter paths.
    scenario = load_scenario("kursk-2024").scenario
    rng = np.random.default_rng(1)
    path = "actors.ukraine.cost_of_war_per_year"
    X = pd.DataFrame(rng.uniform(size=(3000, 12)), columns=[f"noise_{i}" for i in range(12)])
    X[path] = rng.uniform(0.05, 0.15, size=3000)
    fails = (X[path].to_numpy() > 0.1) & (rng.uniform(size=3000) < 0.9)
    text = failure_text(failure_region(X, fails), names_of_scenario(scenario))
    assert re.search(r"where Ukraine's cost of war per year is above 0\.0\d+;", text), text
    assert path not in text


def test_a_region_must_concentrate_failures():
    assert concentrates(60, 100, 0.3)  # 60% against 30% overall
    assert not concentrates(31, 100, 0.3)


# --- on a run folder ---------------------------------------------------------------------------

RUN_SEED = 5


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A complete run of kursk-2024: 400 futures, seed 5, in chunks of 150 (three chunks)."""
    root = tmp_path_factory.mktemp("claims-run") / "run"
    settings = RunSettings(n_futures=400, seed=RUN_SEED, chunk_size=150,
                           policies=("arm-and-hold", "drip-feed"))
    start_run(settings, root)
    return root


def test_claims_on_a_run_folder_match_claims_on_its_futures(small_run):
    store = RunStore.open(small_run)
    scenario = RunManifest.of(store).scenario_model()
    futures = store.read_futures()
    assert futures.index.tolist() == list(range(400))  # global future indices
    direct = claims_frame(evaluate_claims(scenario, futures=futures, seed=RUN_SEED))

    run = evaluate_run_claims(small_run)  # default cap 2,000 > 400: every future
    assert (run.n_used, run.n_run, run.seed, run.scenario) == (400, 400, RUN_SEED, "kursk-2024")
    assert run.selection == "all 400"
    pd.testing.assert_frame_equal(claims_frame(run.results), direct)
    # The run's futures are the ones `offramp claims kursk-2024 --futures 400 --seed 5` samples.
    sampled = claims_frame(evaluate_claims("kursk-2024", n_futures=400, seed=RUN_SEED))
    pd.testing.assert_frame_equal(sampled, direct)

    # --futures caps at the run's first futures.
    capped = evaluate_run_claims(small_run, max_futures=150, claims=["held_soil_is_leverage"])
    assert capped.selection == "the first 150 (of 400)"
    first = evaluate_claims(scenario, futures=futures.iloc[:150], seed=RUN_SEED,
                            claims=["held_soil_is_leverage"])
    pd.testing.assert_frame_equal(claims_frame(capped.results), claims_frame(first))


def test_claim_arms_on_a_run_reproduce_its_outcomes(small_run):
    # Run's seed and global future indices: an arm equal to a run policy gives the run's outcomes.
    store = RunStore.open(small_run)
    scenario = RunManifest.of(store).scenario_model()
    claim = scenario.claims["held_soil_is_leverage"]  # arm: arm-and-hold as it is
    plan = plan_runs(scenario, {"held_soil_is_leverage": claim})
    futures, _ = claim_futures(RunManifest.of(store), store.read_futures(), 300)
    arm = run_plan(scenario, plan, futures, RUN_SEED)[plan.run_of[("held_soil_is_leverage",
                                                                   "arm")]]
    stored = store.read_outcomes()
    stored = stored[stored["policy"] == "arm-and-hold"].set_index("future").loc[futures.index]
    for column in ("a_territory_share", "settlement_week", "ended"):
        np.testing.assert_array_equal(arm.outcomes[column].to_numpy(),
                                      stored[column].to_numpy())


def test_a_saltelli_run_uses_one_row_per_block():
    design = SimpleNamespace(rows_per_base_sample=4)
    manifest = SimpleNamespace(sampler="saltelli", saltelli=design)
    futures = pd.DataFrame({"x": np.arange(20.0)})
    chosen, selection = claim_futures(manifest, futures, 3)
    assert chosen.index.tolist() == [0, 4, 8]
    assert "Saltelli" in selection and "(of 5)" in selection


def test_the_cli_default_is_the_library_default():
    assert CLI_DEFAULT_FUTURES == DEFAULT_FUTURES == 2000


# --- the command line -------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "offramp", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def printed_verdicts(stdout: str) -> dict[str, str]:
    """claim -> the verdict cell of its row (a row's cells may wrap over several lines)."""
    verdicts: dict[str, list[str]] = {}
    claim = None
    for line in table_rows(stdout):
        if not line.startswith("│"):  # a rule between rows, or the header
            claim = None
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        claim = cells[0] or claim
        if claim is not None and cells[4]:
            verdicts.setdefault(claim, []).append(cells[4])
    return {claim: " ".join(parts) for claim, parts in verdicts.items()}


def test_cli_prints_a_verdict_per_claim():
    result = run_cli("claims", "kursk-2024", "--futures", "300")
    assert result.returncode == 0, result.stderr
    assert "300 futures, seed 0, sampler lhs" in result.stdout
    expected = {r.claim_id: r.verdict for r in evaluate_claims("kursk-2024", n_futures=300, seed=0)}
    assert set(expected.values()) <= VERDICTS
    assert printed_verdicts(result.stdout) == expected


def table_rows(stdout: str) -> list[str]:
    """The printed table without its title (the title names the target)."""
    lines = stdout.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith("┏")):]


def test_cli_on_a_run_folder_prints_the_same_table(small_run):
    on_run = run_cli("claims", str(small_run))
    assert on_run.returncode == 0, on_run.stderr
    assert f"on run {small_run}" in on_run.stdout and "all 400 futures, seed 5" in on_run.stdout
    on_scenario = run_cli("claims", "kursk-2024", "--futures", "400", "--seed", str(RUN_SEED))
    assert on_scenario.returncode == 0, on_scenario.stderr
    assert table_rows(on_run.stdout) == table_rows(on_scenario.stdout)


@pytest.mark.parametrize("target", ["no-such-scenario", "folder"])
def test_cli_bad_target_is_one_line(tmp_path, target):
    if target == "folder":
        target = str(tmp_path)  # a folder without a manifest
    result = run_cli("claims", target)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "run folder" in result.stderr and "Traceback" not in result.stderr


def test_cli_run_folder_rejects_scenario_options(small_run):
    result = run_cli("claims", str(small_run), "--seed", "1", "--set", "combat.noise_sd.value=0.2")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--seed and --set cannot be used with a run folder" in result.stderr


def test_cli_unknown_claim_is_a_user_error():
    result = run_cli("claims", "kursk-2024", "--futures", "20", "--claim", "ladder_make_peace")
    assert result.returncode == 2
    assert "did you mean 'ladder_makes_peace_last'" in result.stderr


def test_validate_still_passes():
    result = run_cli("validate", "kursk-2024")
    assert result.returncode == 0 and "valid" in result.stdout
