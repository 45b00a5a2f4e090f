"""Conditioning a run on observations: the weights follow the likelihood, ABC keeps exactly the
futures inside every interval, `--under` gives every policy the same future's weight, a bad
observations file names the file, line and field, and the scores move the right way."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from offramp.analysis.conditioning import (
    crps,
    effective_sample_size,
    log_score,
    normalized_weights,
    weighted_quantile,
)
from offramp.errors import UserError
from offramp.scenario.loader import ScenarioError
from offramp.scenario.observations import load_observations
from offramp.store.query import run_sql
from offramp.studies.conditioning import condition, load_weights, save_weights, score

SOURCE = "Example Desk (2024-12-30) weekly report: what it says"


def _write(tmp_path, rows: list[dict], name: str = "obs.yaml"):
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump({"observations": rows}, sort_keys=False))
    return path


def _series(store, week: int, name: str) -> pd.DataFrame:
    series = store.read_series()
    return series.loc[series["week"] == week, ["future", "policy", name]]


# --- the arithmetic -------------------------------------------------------------------------

def test_crps_matches_its_definition_by_brute_force():
    rng = np.random.default_rng(0)
    x, w, y = rng.normal(size=200), rng.uniform(size=200), 0.3
    w = w / w.sum()
    expected = np.sum(w * np.abs(x - y)) - 0.5 * np.sum(np.outer(w, w) * np.abs(x[:, None] - x))
    assert crps(x, w, y) == pytest.approx(expected)


def test_log_score_of_a_gaussian_observation_is_the_mixture_density():
    x, w = np.array([0.0, 2.0]), np.array([0.25, 0.75])
    density = 0.25 * math.exp(-0.5) + 0.75 * math.exp(-0.5)
    assert log_score(x, w, 1.0, 1.0, -np.inf, np.inf) == pytest.approx(
        math.log(density / math.sqrt(2 * math.pi)))
    assert log_score(x, w, 1.0, math.nan, 1.5, 3.0) == pytest.approx(math.log(0.75))


def test_weights_ess_and_quantiles():
    weights = normalized_weights(np.array([-np.inf, 0.0, 0.0]))
    assert weights.tolist() == [0.0, 0.5, 0.5]
    assert effective_sample_size(weights) == pytest.approx(2.0)
    assert normalized_weights(np.array([-np.inf, -np.inf])).tolist() == [0.0, 0.0]
    assert weighted_quantile(np.array([5.0, 1.0, 3.0]), np.ones(3), 0.5) == 3.0


# --- observations files ---------------------------------------------------------------------

@pytest.mark.parametrize("row, expected", [
    ({"week": 3, "series": "salient_km2", "value": 1.0, "source": SOURCE}, "needs its sd"),
    ({"week": 3, "date": "2024-09-01", "series": "x", "low": 0, "high": 1, "source": SOURCE},
     "exactly one of week and date"),
    ({"week": 3, "series": "x", "low": 2, "high": 1, "source": SOURCE}, "low <= high"),
    ({"week": 3, "series": "x", "low": 0, "high": 1, "source": "a blog"}, "dated published"),
    ({"week": 3, "series": "x", "value": 1, "sd": -1, "source": SOURCE}, "greater than 0"),
    ({"week": 3, "series": "x", "low": 0, "high": 1, "source": SOURCE, "colour": "red"},
     "colour"),
])
def test_a_bad_observation_names_the_file_line_and_field(tmp_path, row, expected):
    path = _write(tmp_path, [row])
    with pytest.raises(ScenarioError, match=expected) as error:
        load_observations(path, pd.Timestamp("2024-08-19").date(), 104)
    assert f"{path}:" in str(error.value) and "observations[0]" in str(error.value)


def test_dates_become_weeks_and_a_csv_gives_its_line(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("date,series,low,high,source\n"
                    f"2024-09-02,talks_open,0,0,\"{SOURCE}\"\n"
                    f"2030-01-01,talks_open,0,0,\"{SOURCE}\"\n")
    with pytest.raises(ScenarioError, match=r"obs.csv:3: observations\[1\]: week .* outside"):
        load_observations(path, pd.Timestamp("2024-08-19").date(), 104)
    path.write_text(path.read_text().splitlines()[0] + "\n" + path.read_text().splitlines()[1])
    (found,) = load_observations(path, pd.Timestamp("2024-08-19").date(), 104)
    assert found.week == 2 and found.is_interval and found.where == "obs.csv:2"


def test_a_source_dated_before_the_week_it_reports_is_refused(tmp_path):
    path = _write(tmp_path, [{"week": 20, "series": "x", "low": 0, "high": 1,
                              "source": "Desk (2024-09-01) report"}])
    with pytest.raises(ScenarioError, match="before the week it reports"):
        load_observations(path, pd.Timestamp("2024-08-19").date(), 104)


def test_the_shipped_kursk_observations_load_within_weeks_0_to_20():
    found = load_observations("kursk-2024", pd.Timestamp("2024-08-19").date(), 104)
    assert found and all(0 <= o.week <= 20 for o in found)
    assert all(o.source for o in found)
    later = load_observations("kursk-2024-later", pd.Timestamp("2024-08-19").date(), 104)
    assert all(o.week > 20 for o in later)


# --- conditioning a run ---------------------------------------------------------------------

def test_the_weights_favour_the_future_whose_trajectory_was_observed(kursk_series_run,
                                                                      tmp_path):
    at_week = _series(kursk_series_run, 10, "salient_km2")
    chosen = at_week[at_week["policy"] == "as-happened"].iloc[7]
    path = _write(tmp_path, [{"week": 10, "series": "salient_km2",
                              "value": float(chosen["salient_km2"]), "sd": 1.0,
                              "source": SOURCE}])
    found = condition(kursk_series_run, path, under="as-happened")
    weights = found.weights
    mine = weights[weights["policy"] == "as-happened"]
    assert mine.loc[mine["weight"].idxmax(), "future"] == chosen["future"]
    # under: every policy has the weight of the same future
    pivot = weights.pivot(index="future", columns="policy", values="weight")
    assert np.allclose(pivot.to_numpy(), pivot[["as-happened"]].to_numpy())
    assert all(ess < 300 for ess in found.ess.values())
    for policy in pivot.columns:
        assert weights.loc[weights["policy"] == policy, "weight"].sum() == pytest.approx(1.0)


def test_abc_keeps_exactly_the_futures_inside_every_interval(kursk_series_run, tmp_path):
    at_week = _series(kursk_series_run, 8, "salient_km2")
    low, high = at_week["salient_km2"].quantile([0.3, 0.7])
    path = _write(tmp_path, [{"week": 8, "series": "salient_km2", "low": float(low),
                              "high": float(high), "source": SOURCE}])
    found = condition(kursk_series_run, path, method="abc")
    merged = found.weights.merge(at_week, on=["future", "policy"])
    inside = merged["salient_km2"].between(low, high)
    assert (merged["kept"] == inside).all()
    assert (merged.loc[~inside, "weight"] == 0).all()
    for policy, rows in merged[inside].groupby("policy"):
        assert np.allclose(rows["weight"], 1 / len(rows)), policy


def test_no_compatible_future_is_said_with_the_observation_that_rules_out_most(
        kursk_series_run, tmp_path):
    path = _write(tmp_path, [
        {"week": 5, "series": "salient_km2", "low": 1e9, "high": 2e9, "source": SOURCE},
        {"week": 5, "series": "talks_open", "low": 0, "high": 1, "source": SOURCE}])
    found = condition(kursk_series_run, path)
    assert all(ess == 0 for ess in found.ess.values())
    assert found.warnings and "salient_km2 at week 5 between" in found.warnings[0]
    assert "rules out 100%" in found.warnings[0]


def test_a_run_without_series_or_an_unknown_series_is_a_user_error(kursk_run,
                                                                   kursk_series_run, tmp_path):
    path = _write(tmp_path, [{"week": 5, "series": "nonsense", "low": 0, "high": 1,
                              "source": SOURCE}])
    with pytest.raises(UserError, match="run it again with --series"):
        condition(kursk_run, path)
    with pytest.raises(UserError, match="'nonsense' is not a weekly series"):
        condition(kursk_series_run, path)
    with pytest.raises(UserError, match="--under 'nope'"):
        condition(kursk_series_run, "kursk-2024", under="nope")


def test_weights_are_a_query_view_and_scores_reward_conditioning(kursk_series_run, tmp_path,
                                                                 copy_run):
    store = copy_run(kursk_series_run)
    at_week = _series(store, 12, "salient_km2")
    target = float(at_week["salient_km2"].median())
    path = _write(tmp_path, [{"week": 12, "series": "salient_km2", "value": target,
                              "sd": 50.0, "source": SOURCE}])
    save_weights(condition(store, path), store.root, path)
    total = run_sql(store, "select policy, sum(weight) as w from weights group by policy")
    assert np.allclose(total["w"], 1.0)
    scores = score(store, path, load_weights(store.root)).set_index(["policy", "ensemble"])
    for policy in store.manifest["policies"]:
        assert scores.loc[(policy, "conditioned"), "crps"] < scores.loc[(policy, "prior"), "crps"]
        assert (scores.loc[(policy, "conditioned"), "log_score"]
                > scores.loc[(policy, "prior"), "log_score"])


def test_the_commands_write_weights_and_score_them(kursk_series_run, tmp_path):
    out = tmp_path / "weighed"
    result = run_cli("condition", kursk_series_run.root, "--observations", "kursk-2024",
                     "--under", "as-happened", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "prior vs conditioned" in result.stdout and "rules out" in result.stdout
    assert len(load_weights(out)) == len(kursk_series_run.read_outcomes())
    bad = run_cli("condition", kursk_series_run.root, "--observations", tmp_path / "none.yaml")
    assert bad.returncode == 2 and "no such observations file" in bad.stderr
    result = run_cli("score", kursk_series_run.root, "--observations", "kursk-2024-later")
    assert result.returncode == 0, result.stderr
    assert "log_score" in result.stdout and "conditioned" not in result.stdout
    missing = run_cli("score", kursk_series_run.root, "--observations", "kursk-2024-later",
                      "--weights")
    assert missing.returncode == 2 and "no weights.parquet" in missing.stderr


def test_the_report_shows_prior_and_conditioned_side_by_side(kursk_series_run, copy_run):
    from offramp.report.html import render_report
    from offramp.studies.summary import summarize

    store = copy_run(kursk_series_run)
    save_weights(condition(store, "kursk-2024"), store.root, "kursk-2024")
    page = render_report(summarize(store))
    section = page[page.index("Conditioned on what has happened"):]
    assert "meets requirements conditioned" in section and "Syrskyi (2024-08-27)" in section


# --- downstream: the run's questions on futures resampled by weight ---------------------------

def test_the_analysis_of_resampled_futures_sees_only_compatible_futures(kursk_series_run,
                                                                         tmp_path):
    from offramp.studies.runs import RunAnalysis

    at_week = _series(kursk_series_run, 8, "salient_km2")
    mine = at_week[at_week["policy"] == "drip-feed"]
    low, high = mine["salient_km2"].quantile([0.2, 0.6])
    path = _write(tmp_path, [{"week": 8, "series": "salient_km2", "low": float(low),
                              "high": float(high), "source": SOURCE}])
    found = condition(kursk_series_run, path, method="abc", under="drip-feed")
    analysis = RunAnalysis(kursk_series_run, weights=found.weights)
    inside = set(mine.loc[mine["salient_km2"].between(low, high), "future"])
    assert set(analysis.origin) == inside and len(analysis.origin) == 300
    assert len(analysis.futures) == 300 and analysis.futures.index.is_unique
    # every question follows the resampled futures: flags, outcomes and parameters
    flags, _ = analysis.where_flags("arm-and-hold", "ended")
    outcomes = kursk_series_run.read_outcomes().set_index(["future", "policy"])
    expected = outcomes.loc[[(f, "arm-and-hold") for f in analysis.origin], "ended"]
    np.testing.assert_array_equal(flags, expected.to_numpy(dtype=bool))
    rows = analysis.policy_outcomes("arm-and-hold")
    np.testing.assert_array_equal(rows["ended"].to_numpy(), expected.to_numpy())
    futures = kursk_series_run.read_futures()
    np.testing.assert_array_equal(analysis.futures.to_numpy(),
                                  futures.loc[analysis.origin].to_numpy())
    assert set(analysis.robustness().index) >= set(kursk_series_run.manifest["policies"])
    per_policy = RunAnalysis(kursk_series_run, weights=condition(kursk_series_run, path).weights)
    with pytest.raises(UserError, match="made without --under"):
        per_policy.robustness()


def test_discover_and_sensitivity_take_the_weights(kursk_series_run, copy_run):
    store = copy_run(kursk_series_run)
    missing = run_cli("discover", store.root, "--policy", "drip-feed", "--where", "ended",
                      "--weights")
    assert missing.returncode == 2 and "no weights.parquet" in missing.stderr
    save_weights(condition(store, "kursk-2024", under="as-happened"), store.root, "kursk-2024")
    result = run_cli("discover", store.root, "--policy", "drip-feed", "--where", "ended",
                     "--weights")
    assert result.returncode == 0, result.stderr
    assert "resampled by weights.parquet" in result.stdout
    result = run_cli("sensitivity", store.root, "--outcome", "a_territory_share", "--weights",
                     "--top", "2")
    assert result.returncode == 0, result.stderr


# --- recovery: conditioning learns a parameter it was shown -----------------------------------

def _toy_run(tmp_path, chunk_size: int = 500):
    """The minimal scenario with one uncertain parameter, Blue's combat quality, which moves
    the front week by week (a run with series, one policy)."""
    import dataclasses

    import yaml

    from helpers import KURSK_RUN
    from offramp.experiments.runner import start_run

    data = yaml.safe_load((Path(__file__).parents[1] / "scenarios" / "minimal.yaml").read_text())
    data["actors"]["blue"]["combat_quality"] = {
        "dist": "uniform", "low": 0.6, "high": 2.0, "unit": "multiplier",
        "source": "assumption: a toy uncertainty for the recovery test"}
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    settings = dataclasses.replace(KURSK_RUN, scenario=str(path), n_futures=1000, seed=3,
                                   policies=("fight",), series=True, chunk_size=chunk_size)
    return start_run(settings, tmp_path / f"toy-run-{chunk_size}")


def test_conditioning_on_one_futures_trajectory_recovers_its_parameter(tmp_path):
    store = _toy_run(tmp_path)
    quality = store.read_futures()["actors.blue.combat_quality"]
    series = store.read_series()
    truth = 123  # a future whose trajectory is "observed"
    rows = []
    for week in (4, 8, 12, 16, 19):
        value = series.loc[(series["future"] == truth) & (series["week"] == week),
                           "a_territory_share"].item()
        rows.append({"week": week, "series": "a_territory_share", "value": value,
                     "sd": 0.0005, "source": SOURCE})
    found = condition(store, _write(tmp_path, rows))
    weight = found.weights.set_index("future")["weight"].reindex(quality.index).to_numpy()
    prior_mean, prior_sd = quality.mean(), quality.std()
    posterior_mean = float(weight @ quality.to_numpy())
    posterior_sd = math.sqrt(float(weight @ (quality.to_numpy() - posterior_mean) ** 2))
    target = quality.loc[truth]
    assert abs(posterior_mean - target) < 0.5 * abs(prior_mean - target) + 0.05
    assert posterior_sd < 0.35 * prior_sd
    assert found.ess["fight"] < 0.5 * len(quality)


def test_weights_do_not_depend_on_the_chunking(tmp_path):
    """Chunks of 1,000 and of 137 futures: the same weights, bit for bit (workers run chunks,
    so this is also their count's invariance: the runner's tests show the outcomes are)."""
    rows = [{"week": 10, "series": "a_territory_share", "value": 0.8, "sd": 0.01,
             "source": SOURCE}]
    path = _write(tmp_path, rows)
    one = condition(_toy_run(tmp_path, 1000), path).weights
    many = condition(_toy_run(tmp_path, 137), path).weights
    pd.testing.assert_frame_equal(one, many)


def test_an_observation_dated_before_the_run_is_exit_2_naming_file_and_line(kursk_series_run,
                                                                            tmp_path):
    path = _write(tmp_path, [{"date": "2024-01-01", "series": "salient_km2", "low": 0,
                              "high": 1, "source": SOURCE}])
    result = run_cli("condition", kursk_series_run.root, "--observations", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:2: observations[0]: week -33 is outside the run" in result.stderr
