"""Explorer: the run restricted to a region of its parameters, answered by SQL over the stored
tables, agrees with the same numbers computed in pandas."""

from __future__ import annotations

import numpy as np
import pytest

from offramp.analysis.robustness import regret, satisficing
from offramp.errors import UserError
from offramp.studies.explore import Explorer


@pytest.fixture(scope="module")
def explorer(kursk_run):
    explorer = Explorer(kursk_run)
    yield explorer
    explorer.close()


def test_the_whole_run_matches_the_robustness_table(explorer, kursk_run):
    outcomes = kursk_run.read_outcomes()
    whole = explorer.summary({})
    assert whole.futures == outcomes["future"].nunique()
    requirements = explorer.manifest.requirements
    for policy, found in whole.policies.items():
        rows = outcomes[outcomes["policy"] == policy]
        assert found.meets == pytest.approx(satisficing(rows, requirements))
        assert found.ended == pytest.approx(rows["ended"].mean())
        assert found.territory_median == pytest.approx(rows["a_territory_share"].median())
    assert whole.best == max(whole.policies, key=lambda p: whole.policies[p].meets)


def test_a_region_is_the_futures_whose_parameters_lie_in_every_range(explorer, kursk_run):
    futures, outcomes = kursk_run.read_futures(), kursk_run.read_outcomes()
    support = "actors.united_states.initial_support"
    quality = "actors.ukraine.combat_quality"
    low = float(futures[support].median())
    ranges = {support: (low, 1.0), quality: (0.0, float(futures[quality].quantile(0.7)))}
    inside = np.ones(len(futures), bool)
    for name, (a, b) in ranges.items():
        inside &= futures[name].between(a, b).to_numpy()
    region = explorer.summary(ranges)
    assert region.futures == int(inside.sum()) < len(futures)
    kept = set(futures.index[inside])
    for policy, found in region.policies.items():
        rows = outcomes[(outcomes["policy"] == policy) & outcomes["future"].isin(kept)]
        assert found.ended == pytest.approx(rows["ended"].mean())
    assert set(region.as_dict()) == {"futures", "share", "best", "policies"}
    assert region.share == pytest.approx(inside.mean())


def test_regret_and_the_histogram_match_pandas(explorer, kursk_run):
    outcomes, futures = kursk_run.read_outcomes(), kursk_run.read_futures()
    quality = "actors.ukraine.combat_quality"
    ranges = {quality: (float(futures[quality].min()), float(futures[quality].median()))}
    kept = set(futures.index[futures[quality].between(*ranges[quality])])
    scored = regret(outcomes, "a_territory_share", larger_is_better=True)
    region = explorer.summary(ranges)
    histogram = explorer.distribution(ranges, "casualties_a")
    edges = np.array(histogram.edges)
    for policy, found in region.policies.items():
        mine = scored[(scored["policy"] == policy) & scored["future"].isin(kept)]
        assert found.regret_p90 == pytest.approx(mine["regret"].quantile(0.9))
        values = outcomes[(outcomes["policy"] == policy) & outcomes["future"].isin(kept)]
        bins = np.clip(np.floor((values["casualties_a"] - edges[0]) / (edges[1] - edges[0])),
                       0, len(edges) - 2)
        expected = np.bincount(bins.astype(int), minlength=len(edges) - 1) / len(values)
        assert histogram.shares[policy] == pytest.approx(expected.tolist())


def test_a_count_gets_one_bin_per_value(explorer, kursk_run):
    histogram = explorer.distribution({}, "highest_escalation_rung")
    rungs = kursk_run.read_outcomes()["highest_escalation_rung"]
    assert len(histogram.edges) - 1 == rungs.max() - rungs.min() + 1


@pytest.mark.parametrize("ranges, expected", [
    ({"nope": (0, 1)}, "not an uncertain parameter"),
    ({'x" OR 1=1 --': (0, 1)}, "not an uncertain parameter"),
    ({"actors.ukraine.combat_quality": (2.0, 1.0)}, "low <= high"),
    ({"actors.ukraine.combat_quality": (float("nan"), 1.0)}, "two numbers"),
])
def test_bad_ranges_are_user_errors(explorer, ranges, expected):
    with pytest.raises(UserError, match=expected):
        explorer.summary(ranges)


def test_a_fan_is_the_quantiles_of_the_regions_stored_series(kursk_series_run):
    import pandas as pd

    explorer = Explorer(kursk_series_run)
    name = "actors.ukraine.combat_quality"
    futures = kursk_series_run.read_futures()
    middle = float(futures[name].median())
    fan = explorer.fan({name: (float(futures[name].min()), middle)}, "a_territory_share")
    assert fan is not None and not fan.binary and fan.sample is None
    series = kursk_series_run.read_series(["a_territory_share"])
    inside = futures.index[futures[name] <= middle]
    for policy in explorer.policies:
        rows = series[(series["policy"] == policy) & series["future"].isin(inside)]
        expected = rows.groupby("week")["a_territory_share"].quantile([0.1, 0.5, 0.9]).unstack()
        got = pd.DataFrame(fan.bands[policy], index=fan.weeks)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)
    talks = explorer.fan({}, "talks_open")
    assert talks is not None and talks.binary
    shares = kursk_series_run.read_series(["talks_open"]).groupby(["policy", "week"]).mean()
    for policy in explorer.policies:
        np.testing.assert_allclose(talks.bands[policy]["share"],
                                   shares.loc[policy, "talks_open"].to_numpy())
