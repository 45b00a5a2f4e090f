"""Figures: when the levers changed, fans of 0/1 series as shares, large numbers without offsets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from offramp.report.figures import changing_lever_policies, lever_figure


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
    series = pd.concat([static, scheduled, triggered])
    assert changing_lever_policies(series, ["static", "scheduled", "triggered"]) == \
        ["scheduled", "triggered"]
    figure = lever_figure(series, "triggered")
    lifted_line = figure.axes[0].lines[0]
    np.testing.assert_allclose(lifted_line.get_ydata(), [0, 1 / 3, 2 / 3])


def test_fans_of_a_binary_series_show_the_share_and_large_numbers_have_no_offset():
    from offramp.report.figures import PALETTE, distribution_figure, fan_figure

    talks = _series("p", np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0]], float)).assign(
        talks_open=lambda frame: frame["restrictions_lifted"])
    figure = fan_figure(talks, ["p"], "talks_open", "Talks open")
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
