"""Residual plots of calibrated laws, written to PNG.

A ranking by SSE hides *where* a law misses; residuals against the day show whether the misfit is
noise or structure (a trend means the law has the wrong shape, e.g. the first days of the
Ardennes offensive). Uses matplotlib's Agg canvas directly, so it works headless and never
touches pyplot's global state.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from offramp.calibration.fit import FitResult


def plot_residuals(fits: Sequence[FitResult], path: Path, title: str | None = None) -> Path:
    """Write one panel per observed series (e.g. each side's losses), residual against day,
    one line per law, to `path` (PNG). Returns the path written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not fits:
        raise ValueError("no fits to plot")
    groups = list(dict.fromkeys(np.concatenate([fit.residual_groups for fit in fits]).tolist()))
    figure = Figure(figsize=(8.0, 2.8 * len(groups)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(groups), 1, squeeze=False)[:, 0]
    for axis, group in zip(axes, groups, strict=True):
        for fit in fits:
            members = fit.residual_groups == group
            if not np.any(members):
                continue
            order = np.argsort(fit.residual_days[members], kind="stable")
            label = f"{fit.law} (R² {fit.r_squared:.2f})"
            axis.plot(
                fit.residual_days[members][order],
                fit.residuals[members][order],
                marker="o",
                markersize=3,
                linewidth=1,
                label=label,
            )
        axis.axhline(0.0, color="black", linewidth=0.8)
        axis.set_title(f"{group}: observed - fitted")
        axis.set_xlabel("day")
        axis.set_ylabel("residual")
        axis.legend(fontsize="small")
    figure.suptitle(textwrap.fill(title or fits[0].dataset, width=90), fontsize="medium")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=110)
    return path
