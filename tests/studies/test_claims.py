"""Claims: the seeds' statements as paired comparisons, their verdicts, errors, and on a run folder.

The statistics they rest on are tests/analysis/test_paired.py's; the `offramp claims` command is
tests/cli/test_cli_claims.py's.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import CLAIMS_RUN, VERDICTS
from offramp.analysis.paired import (
    PairedShares,
    directed_interval,
    verdict_for,
)
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.scenario.loader import ScenarioError, load_scenario
from offramp.store import RunStore
from offramp.studies.claims import (
    claim_futures,
    claims_frame,
    evaluate_claims,
    evaluate_run_claims,
    plan_runs,
    run_plan,
)

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
# lies clearly on one side of -tolerance, or the shares decide. Left out: delay_weakens_hand
# (interval [-0.0005, +0.0002] around 0), sequencing_avoids_two_fronts (a rare 0/1 outcome) and
# ladder_makes_peace_last ([-0.003, +0.070] at 400; it holds at 2,000: [+0.033, +0.065]).
KURSK_VERDICTS_400 = {
    # Held soil cuts both ways (hardening, deadlock): worse in 60% of futures, better in 24%.
    "held_soil_is_leverage": "fails",
    "lifting_restrictions_gains_ground": "holds",  # [+0.0047, +0.0085], better in 77%
    "arming_beats_drip_feed": "holds",  # [+0.0075, +0.0113]
    # expect: lower, tolerance 0.5, but lifting adds [+2.2, +2.6] escalation events.
    "lifting_restrictions_escalation_tolerable": "fails",
    "escalation_before_talks": "fails",  # worse in 47% of futures, better in 9%
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
        op_eds = ("Charap and Kupchan (2024-08) How to Make the Most of the Kursk Gambit",
                  "Mitchell (2024-08) The Geopolitical Opportunity of Ukraine's Kursk Offensive")
        assert claim.source.startswith(op_eds), key


def test_each_distinct_arm_runs_once():
    scenario = load_scenario("kursk-2024").scenario
    plan = plan_runs(scenario, dict(scenario.claims))
    # negotiate-now, + talks from week 26, + no ladder; arm-and-hold, + withdraw, + restrictions
    # kept; drip-feed, + the sequencing levers, + the arming levers: nine distinct sets of
    # levers for fifteen arms.
    assert len(plan.policies) == 9
    assert len(plan.run_of) == 15
    assert plan.run_of[("sequencing_avoids_two_fronts", "versus")] == \
        plan.run_of[("escalation_before_talks", "arm")] == \
        plan.run_of[("arming_beats_drip_feed", "versus")]


def test_arms_are_paired_on_the_same_futures_and_noise(tmp_path):
    # drip-feed never seeks talks, so its talks_initiative changes nothing: a separate run with
    # the same seed must then reproduce every future exactly (common random numbers).
    path = write_variant(tmp_path, CLAIM_HEAD + """    arm:
      policy: drip-feed
      levers: {talks_initiative: 2.0}
    versus: {policy: drip-feed}
    cause: [talks_initiative]
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
    confounded_by: two whole policies, for a test of the outcome's name
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


# --- on a run folder ---------------------------------------------------------------------------

RUN_SEED = CLAIMS_RUN.seed


@pytest.fixture(scope="module")
def small_run(claims_run) -> Path:
    """A complete run of kursk-2024: 400 futures, seed 5, in chunks of 150 (three chunks)."""
    return claims_run


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


def test_an_arm_equal_to_a_run_policy_is_read_from_the_run(small_run):
    """The run folder already holds arm-and-hold's outcomes on these futures with this seed:
    the claim's arm takes them (the same object) instead of running again, and every arm's
    outcomes equal those of running them all."""
    from offramp.studies.claims import _stored_runs

    store = RunStore.open(small_run)
    manifest = RunManifest.of(store)
    scenario = manifest.scenario_model()
    claim = scenario.claims["held_soil_is_leverage"]  # arm: arm-and-hold as it is
    plan = plan_runs(scenario, {"held_soil_is_leverage": claim})
    futures, _ = claim_futures(manifest, store.read_futures(), 300)
    ran = _stored_runs(store, manifest.policies, futures.index)
    runs = run_plan(scenario, plan, futures, RUN_SEED, ran=ran)
    assert runs[plan.run_of[("held_soil_is_leverage", "arm")]] is ran["arm-and-hold"]
    fresh = run_plan(scenario, plan, futures, RUN_SEED)
    for name in plan.policies:
        pd.testing.assert_frame_equal(runs[name].outcomes, fresh[name].outcomes)
