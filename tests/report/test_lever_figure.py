"""The 'when the levers changed' figure: drawn for policies whose levers change, not others."""

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
