"""Policy search: on a toy scenario whose optimum is known (the war ends more often the earlier
and the harder side a seeks talks) the search finds it; the same seed gives the same front; a
stopped search resumes to the same end; the re-evaluation uses other futures; bad search files
are exit 2 with the file, the field and what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import run_cli
from offramp.analysis.search import hypervolume, pareto_front, statistic
from offramp.studies import search as search_module
from offramp.studies.search import SearchSettings, search

MINIMAL = str(Path(__file__).parents[1] / "scenarios" / "minimal.yaml")
TOY = {
    "base": "fight",
    "levers": {"seek_talks_from_week": {"low": 0, "high": 25, "integer": True},
               "talks_initiative": {"low": 0.5, "high": 3.0}},
    "objectives": [{"outcome": "ended", "statistic": "mean", "goal": "max"}],
}


def _write(tmp_path, data: dict, name: str = "search.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _settings(path: str, **changes) -> SearchSettings:
    base = dict(scenario=MINIMAL, search_file=path, futures=100, generations=6, population=8,
                seed=3, check_futures=120)
    return SearchSettings(**{**base, **changes})


def test_the_arithmetic():
    assert statistic(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), "p90") == pytest.approx(3.6)
    assert statistic(np.array([5.0, 1.0]), "regret", best=np.array([4.0, 3.0]),
                     larger_is_better=False) == pytest.approx(0.5)
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
    assert pareto_front(points).tolist() == [True, True, True, False]
    assert hypervolume(points[:3], np.array([4.0, 4.0])) == pytest.approx(6.0)


def _grid_best(settings: SearchSettings) -> float:
    """The best share ended over every week 0-25 at four initiatives, on the search's own
    futures: the optimum by exhaustion."""
    from offramp.experiments.sampling import sample_futures
    from offramp.scenario.loader import load_scenario
    from offramp.scenario.schema import Policy
    from offramp.scenario.search import SearchSpec
    from offramp.studies.search import Judge

    scenario = load_scenario(MINIMAL).scenario
    judge = Judge(scenario, SearchSpec.model_validate(TOY),
                  sample_futures(scenario, settings.futures, settings.seed), settings.seed, ())
    base = scenario.policies["fight"].model_dump()
    grid = {f"w{week}-i{initiative}": Policy.model_validate(
        {**base, "seek_talks_from_week": week, "talks_initiative": initiative})
        for week in range(26) for initiative in (0.5, 1.5, 2.5, 3.0)}
    return max(judge.score(outcomes)[0][0] for outcomes in judge.outcomes(grid).values())


def test_the_search_finds_the_known_optimum_and_the_same_seed_gives_the_same_front(tmp_path):
    """Side a's war ends more often the earlier and the harder it seeks talks (the talks hazard
    grows with both); on these 100 futures the best week is 3, by one future, which an
    exhaustive grid confirms. The search reaches the grid's best in 6 generations of 8."""
    path = _write(tmp_path, TOY)
    first = search(_settings(path), tmp_path / "first")
    best = first.front.sort_values("mean ended", ascending=False).iloc[0]
    assert best["mean ended"] >= _grid_best(_settings(path))
    assert best["seek_talks_from_week"] <= 3 and best["talks_initiative"] >= 2.6
    assert first.convergence["hypervolume"].is_monotonic_increasing
    again = search(_settings(path), tmp_path / "again")
    pd.testing.assert_frame_equal(first.front, again.front)
    assert (tmp_path / "first" / "front.yaml").read_text().count("searched-") == len(first.front)


def test_a_stopped_search_resumes_to_where_an_uninterrupted_one_ends(tmp_path):
    path = _write(tmp_path, TOY)
    whole = search(_settings(path, generations=4), tmp_path / "whole")

    def stop_after_two(generation, volume, evaluated):
        if generation == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search(_settings(path, generations=4), tmp_path / "stopped", on_generation=stop_after_two)
    resumed = search(_settings(path, generations=4), tmp_path / "stopped", resume=True)
    pd.testing.assert_frame_equal(whole.front, resumed.front)
    pd.testing.assert_frame_equal(whole.convergence, resumed.convergence)
    with pytest.raises(Exception, match="other settings"):
        search(_settings(path, generations=5), tmp_path / "stopped", resume=True)


def test_the_re_evaluation_runs_fresh_futures_beside_the_scenarios_policies(tmp_path,
                                                                           monkeypatch):
    seeds = []
    real = search_module.sample_futures

    def recording(scenario, n, seed, *args):
        seeds.append((n, seed))
        return real(scenario, n, seed, *args)

    monkeypatch.setattr(search_module, "sample_futures", recording)
    result = search(_settings(_write(tmp_path, TOY), generations=2), tmp_path / "out")
    assert seeds == [(100, 3), (120, 4)]
    table = result.reevaluation
    assert set(table.loc[table["kind"] == "scenario", "name"]) == {"talk", "fight"}
    assert table["non_dominated"].any()
    assert any("talk:" in note for note in result.notes)


@pytest.mark.parametrize("change, expected", [
    ({"levers": {"nonsense": {"low": 0, "high": 1}}}, "unknown lever"),
    ({"levers": {"aid_multiplier": {"low": 2, "high": 1}}}, "an empty range"),
    ({"objectives": [{"outcome": "happiness", "goal": "max"}]}, "unknown outcome 'happiness'"),
    ({"base": "peace"}, "unknown policy 'peace'"),
])
def test_a_bad_search_file_is_exit_2_naming_what_is_wrong(tmp_path, change, expected):
    path = _write(tmp_path, {**TOY, **change})
    result = run_cli("search", MINIMAL, "--search", path, "--futures", "10",
                     "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and expected in result.stderr
    assert path in result.stderr


def test_the_command_writes_the_front_and_the_trade_off_figure(tmp_path):
    path = _write(tmp_path, {**TOY, "objectives": [
        {"outcome": "ended", "statistic": "mean", "goal": "max"},
        {"outcome": "casualties_a", "statistic": "p90", "goal": "min"}]})
    out = tmp_path / "out"
    result = run_cli("search", MINIMAL, "--search", path, "--futures", "50", "--generations",
                     "2", "--population", "6", "--check-futures", "60", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "generation 2/2" in result.stderr and "policies on the front" in result.stdout
    for name in ("front.yaml", "front.parquet", "candidates.parquet", "convergence.parquet",
                 "reevaluation.parquet", "tradeoffs.png", "search.json", "search.html"):
        assert (out / name).is_file(), name
    page = (out / "search.html").read_text()
    assert "<svg" in page and "talk" in page and "dominated by (count)" in page
    policies = yaml.safe_load((out / "front.yaml").read_text())["policies"]
    assert all(policy["source"].startswith("assumption:") for policy in policies.values())
