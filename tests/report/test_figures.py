"""Figures: when the levers changed, fans of 0/1 series as shares, large numbers without offsets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from offramp.analysis.weekly import frame_values, series_names, weekly_bands
from offramp.report.figures import changing_lever_policies, lever_figure


def _bands(series: pd.DataFrame):
    values, keys = frame_values(series)
    return weekly_bands(values, series_names(list(series.columns)), keys["policy"].to_numpy())


def _series(policy: str, lifted: np.ndarray) -> pd.DataFrame:
    weeks, futures = lifted.shape
    return pd.DataFrame({
        "policy": policy,
        "week": np.repeat(np.arange(weeks), futures),
        "future": np.tile(np.arange(futures), weeks),
        "restrictions_lifted": lifted.ravel(),
        "seek_talks": 0.0, "pursue_ladder": 0.0, "aid_multiplier": 1.0, "salient_posture": 0.0,
    })


def test_only_policies_whose_levers_change_get_the_figure():
    static = _series("static", np.zeros((5, 3)))
    scheduled = _series("scheduled", np.repeat([[0.0], [0.0], [1.0], [1.0], [1.0]], 3, axis=1))
    triggered = _series("triggered", np.array([[0, 0, 0], [0, 1, 0], [0, 1, 1]] * 1, float))
    bands = _bands(pd.concat([static, scheduled, triggered]))
    assert changing_lever_policies(bands, ["static", "scheduled", "triggered"]) == \
        ["scheduled", "triggered"]
    figure = lever_figure(bands, "triggered")
    lifted_line = figure.axes[0].lines[0]
    np.testing.assert_allclose(lifted_line.get_ydata(), [0, 1 / 3, 2 / 3])


def test_fans_of_a_binary_series_show_the_share_and_large_numbers_have_no_offset():
    from offramp.report.figures import PALETTE, distribution_figure, fan_figure

    talks = _series("p", np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0]], float)).assign(
        talks_open=lambda frame: frame["restrictions_lifted"])
    figure = fan_figure(_bands(talks), ["p"], "talks_open", "Talks open")
    assert "share of futures" in figure.axes[0].get_title()
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), [0, 1 / 3, 2 / 3])
    assert figure.axes[0].lines[0].get_color() == PALETTE[0]

    outcomes = pd.DataFrame({"policy": ["p", "q"] * 50,
                             "casualties_a": np.linspace(1e5, 1.3e6, 100)})
    figure = distribution_figure(outcomes, ["p", "q"], "casualties_a", "Casualties")
    figure.canvas.draw()
    assert figure.axes[0].xaxis.get_offset_text().get_text() == ""  # no "1e6"
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert any(label.endswith("k") or label.endswith("M") for label in labels), labels


def test_the_bands_are_pandas_quantiles_means_and_kinds():
    rng = np.random.default_rng(0)
    series = _series("p", np.zeros((4, 50))).assign(
        salient_km2=rng.uniform(0, 2000, 200), ladder_rung=rng.integers(0, 5, 200).astype(float))
    series.loc[3, "salient_km2"] = np.nan  # left out, as pandas' quantile does
    bands = _bands(series)
    assert bands.kinds["salient_km2"] == "value" and bands.kinds["ladder_rung"] == "count"
    assert bands.kinds["restrictions_lifted"] == "binary"
    weekly = series.groupby("week")["salient_km2"]
    expected = weekly.quantile([0.1, 0.5, 0.9]).unstack()
    got = bands.of("salient_km2", "p")
    np.testing.assert_allclose(got[["p10", "p50", "p90"]].to_numpy(), expected.to_numpy())
    np.testing.assert_allclose(got["mean"], weekly.mean())


def test_a_large_run_s_bands_are_those_of_its_first_futures(kursk_series_run):
    """Beyond `max_futures`, the bands are computed over the run's first futures only, exactly
    as if the run had held only them, and say so."""
    from offramp.studies.summary import run_bands

    series = kursk_series_run.read_series()
    first = _bands(series[series["future"] < 120])
    capped = run_bands(kursk_series_run, max_futures=120)
    assert capped.sample == (120, 300)
    pd.testing.assert_frame_equal(capped.table, first.table)
    assert capped.kinds == first.kinds
    whole = run_bands(kursk_series_run)
    assert whole.sample is None
    assert not whole.table.equals(capped.table)


def test_bands_of_a_runs_stored_series_are_those_of_its_rows_in_any_order(kursk_series_run):
    """The bands read the run's parts as stored (a policy's rows evenly spaced); rows given in
    another order (a policy's rows scattered) give the same quantiles and ranges."""
    from offramp.studies.summary import run_bands

    stored = run_bands(kursk_series_run)
    values, keys = kursk_series_run.series_arrays()
    policy = keys["policy"].to_numpy()
    order = np.random.default_rng(1).permutation(len(policy))
    shuffled = weekly_bands(lambda name: values(name)[order], list(stored.kinds), policy[order])
    assert shuffled.kinds == stored.kinds
    columns = ["p10", "p50", "p90", "low", "high"]
    pd.testing.assert_frame_equal(shuffled.table.drop(columns="mean"),
                                  stored.table.drop(columns="mean"))
    np.testing.assert_allclose(shuffled.table["mean"], stored.table["mean"], rtol=1e-12)
    assert stored.table[columns].notna().all().all()
