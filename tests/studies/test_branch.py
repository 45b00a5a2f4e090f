"""Going on from a week of a run (`offramp run --from RUN --week W [--conditioned]`): the
futures replay their parents' first weeks under the policy that was followed, then each policy
acts; without conditioning and with the parent's seed the followed policy is the parent run bit
for bit; conditioned, the parents are drawn by weight; a branched run resumes like any other."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers import KURSK_RUN, assert_one_line_error, interrupted_copy, run_cli
from offramp.experiments.runner import resume_run, start_run
from offramp.studies.conditioning import branch_from, condition, save_weights

WEEK = 10
STATE_SERIES = ("salient_km2", "a_territory_share", "support_a", "talks_open")


def _start(branching, root, **changes):
    settings = dataclasses.replace(KURSK_RUN, series=True, **changes)
    return start_run(settings, root, loaded=branching.scenario, branch=branching.start)


def _rows(series, policy):
    mine = series[series["policy"] == policy]
    return mine.sort_values(["future", "week"]).reset_index(drop=True)


def test_going_on_from_every_future_repeats_the_followed_policy_and_shares_its_history(
        kursk_series_run, tmp_path):
    branching = branch_from(kursk_series_run, WEEK, under="as-happened")
    store = _start(branching, tmp_path / "branch", chunk_size=70)  # other chunks: same bits
    parent, branched = kursk_series_run.read_outcomes(), store.read_outcomes()
    assert not branched.equals(parent)  # the other policies change from week 10 on
    followed = parent[parent["policy"] == "as-happened"].reset_index(drop=True)
    again = branched[branched["policy"] == "as-happened"].reset_index(drop=True)
    assert again.equals(followed)
    history = _rows(kursk_series_run.read_series(), "as-happened")
    series = store.read_series()
    for policy in ("negotiate-now", "arm-and-hold", "drip-feed"):
        mine = _rows(series, policy)
        before = (mine["week"] <= WEEK).to_numpy()
        for name in STATE_SERIES:
            np.testing.assert_array_equal(mine.loc[before, name], history.loc[before, name],
                                          err_msg=f"{policy} {name}")
        assert not np.array_equal(mine.loc[~before, "salient_km2"],
                                  history.loc[~before, "salient_km2"]), policy
    assert store.manifest["branch"]["week"] == WEEK and store.manifest["sampler"] == "branch"


def test_a_conditioned_branch_draws_its_parents_by_weight_and_resumes(kursk_series_run,
                                                                      copy_run, tmp_path):
    parent = copy_run(kursk_series_run)
    save_weights(condition(parent, "kursk-2024", under="as-happened"), parent.root,
                 "kursk-2024")
    branching = branch_from(parent, 18, conditioned=True, n_futures=200, seed=4)
    parents = branching.start.history.parents
    weights = condition(parent, "kursk-2024", under="as-happened").weights
    weight = weights[weights["policy"] == "as-happened"].set_index("future")["weight"]
    assert len(parents) == 200 and (weight.reindex(parents) > 0).all()
    counts = np.bincount(parents, minlength=len(weight)) / 200
    assert np.corrcoef(counts, weight.reindex(range(len(weight))))[0, 1] > 0.8
    assert branching.start.history.policy == "as-happened"  # the weights' --under
    assert any("resampled from" in note for note in branching.notes)
    # the futures' parameters are their parents'
    futures = parent.read_futures()
    np.testing.assert_array_equal(branching.start.futures.to_numpy(),
                                  futures.loc[parents].to_numpy())

    whole = _start(branching, tmp_path / "whole", chunk_size=80)
    interrupted_copy(whole.root, tmp_path / "partial", pending=(1,))
    resumed = resume_run(tmp_path / "partial")
    assert resumed.read_outcomes().equals(whole.read_outcomes())
    assert (resumed.read_lineage()["parent_future"].to_numpy() == parents).all()


@pytest.mark.parametrize("args, expected", [
    (["--week", "5"], "--week, --conditioned and --under go with --from RUN"),
    (["--from", "{run}"], "needs --week W"),
    (["--from", "{run}", "--week", "104"], "between 1 and 103"),
    (["--from", "{run}", "--week", "5"], "--under POLICY"),
    (["--from", "{run}", "--week", "5", "--under", "nope"], "--under 'nope' is not a policy"),
    (["--from", "{run}", "--week", "5", "--conditioned"], "no weights.parquet"),
    (["--from", "{run}", "--week", "5", "--under", "drip-feed", "--futures", "50"],
     "without --conditioned"),
    (["--from", "{run}", "--week", "5", "--under", "drip-feed", "--sampler", "mc"],
     "give no scenario"),
])
def test_bad_branches_are_one_line_errors(kursk_series_run, args, expected):
    argv = [arg.replace("{run}", str(kursk_series_run.root)) for arg in args]
    assert_one_line_error(run_cli("run", *argv, "--no-report"), expected)


def test_the_command_goes_on_from_a_conditioned_run(kursk_series_run, copy_run, tmp_path):
    parent = copy_run(kursk_series_run)
    assert run_cli("condition", parent.root, "--observations", "kursk-2024", "--under",
                   "as-happened").returncode == 0
    result = run_cli("run", "--from", parent.root, "--week", "18", "--conditioned",
                     "--futures", "120", "--policies", "drip-feed,arm-and-hold",
                     "--out", tmp_path / "now")
    assert result.returncode == 0, result.stderr
    assert "resampled from" in result.stderr
    page = (tmp_path / "now" / "report.html").read_text()
    assert f"going on from week 18 of {parent.root}" in page


def test_claims_on_a_branched_run_act_from_its_week(kursk_series_run, tmp_path):
    """Claims run their arms on a run's futures; on a branched run, after the futures' history:
    an arm that is one of the run's policies gives that policy's outcomes in the run."""
    from offramp.experiments.manifest import RunManifest
    from offramp.experiments.runner import stored_branch
    from offramp.experiments.simulate import run_futures
    from offramp.studies.claims import evaluate_run_claims

    store = _start(branch_from(kursk_series_run, WEEK, under="as-happened"), tmp_path / "b",
                   seed=11)
    manifest = RunManifest.of(store)
    again = run_futures(manifest.scenario_model(), store.read_futures(), "drip-feed", seed=11,
                        branch=stored_branch(store, manifest)).outcomes
    outcomes = store.read_outcomes()
    ran = outcomes[outcomes["policy"] == "drip-feed"].set_index("future").drop(columns="policy")
    assert again.equals(ran)
    assert evaluate_run_claims(store, max_futures=100).n_used == 100
