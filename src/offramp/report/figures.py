"""Figures: matplotlib `Figure` objects built without pyplot (no global state, no backend
switch: a notebook keeps its own), and their inline SVG for the report.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

from offramp.analysis.discovery import PrimResult
from offramp.analysis.weekly import WeeklyBands
from offramp.studies.runs import Discovery

SMALL = (5.2, 3.0)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
"""Okabe & Ito's colour-blind-safe palette (2008, Color Universal Design): policies keep their
colour in every figure, in the order the run lists them."""


def colour(policies: list[str], policy: str) -> str:
    return PALETTE[policies.index(policy) % len(PALETTE)]


def _plain_numbers(axes, which: str = "x") -> None:
    """Large numbers as 250k or 1.2M (no 1e6 offset on the axis)."""
    axis = axes.xaxis if which == "x" else axes.yaxis
    axis.set_major_formatter(EngFormatter(sep=""))


def svg(figure: Figure) -> str:
    """The figure as an inline <svg> element (matplotlib's metadata block dropped)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.DOTALL)
    return text[text.index("<svg"):]


def tradeoff_figure(result: PrimResult, box: int = 0, title: str | None = None,
                    size: tuple[float, float] = (6, 5)) -> Figure:
    """The coverage–density trade-off of one PRIM box's peeling.

    Points are coloured by the number of restricted dimensions (as in EMA's
    ``show_tradeoff``); the chosen box (after pasting) is circled.
    """
    curve = result.tradeoff[result.tradeoff["box"] == box]
    chosen = result.boxes[box]
    n_max = int(curve["n_restricted"].max())
    norm = BoundaryNorm(np.arange(-0.5, n_max + 1.5), 256)
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    points = ax.scatter(curve["coverage"], curve["density"], c=curve["n_restricted"],
                        cmap="viridis", norm=norm, s=18)
    ax.scatter([chosen.coverage], [chosen.density], s=160, facecolors="none",
               edgecolors="crimson", linewidths=1.5, label="chosen box")
    ax.axhline(result.threshold, color="grey", lw=0.8, ls="--", label="density threshold")
    ax.set(xlabel="coverage", ylabel="density", xlim=(0, 1.05), ylim=(0, 1.05),
           title=title or f"PRIM trade-off, box {box + 1}")
    ax.legend(loc="lower left", fontsize="small")
    # One tick per dimension reads well up to a dozen; beyond that (a box over ~100 parameters
    # can restrict 30), integer ticks at a readable spacing.
    colorbar = fig.colorbar(points, drawedges=n_max <= 12)
    colorbar.locator = MaxNLocator(nbins=min(n_max + 1, 12), integer=True)
    colorbar.update_ticks()
    # No minor tick at every dimension: drawing them took 40% of the report's trade-off plots.
    colorbar.minorticks_off()
    colorbar.set_label("restricted dimensions")
    return fig


def discovery_figure(discovery: Discovery, box_index: int = 0, title: str | None = None,
                     size: tuple[float, float] = (6, 5)) -> Figure:
    """PRIM's trade-off plot, with the plain-words box marked next to PRIM's chosen one."""
    assert discovery.result is not None
    figure = tradeoff_figure(discovery.result, box_index, title=title, size=size)
    plain = discovery.plain[box_index]
    if plain is not None:
        axes = figure.axes[0]
        axes.scatter([plain.coverage], [plain.density], marker="D", s=60, color="crimson",
                     label=f"plain-words box ({len(plain.limits)} restrictions)")
        axes.legend(loc="lower left", fontsize="small")
    return figure


def distribution_figure(outcomes: pd.DataFrame, policies: list[str], column: str, title: str
                        ) -> Figure | None:
    """Step histograms of one outcome per policy (None when no value is finite)."""
    values = outcomes[column].astype(float)
    if column == "end_week":
        values = values.where(outcomes["ended"].astype(bool))
    finite = values[np.isfinite(values)]
    if finite.empty:
        return None
    figure = Figure(figsize=SMALL)
    axes = figure.add_subplot()
    bins = np.histogram_bin_edges(finite, bins=40)
    for policy in policies:
        policy_values = values[(outcomes["policy"] == policy) & np.isfinite(values)]
        # Matplotlib's stubs type `bins` as a sequence, leaving out the array of edges it takes.
        axes.hist(policy_values, bins=bins,  # type: ignore[arg-type]
                  histtype="step", linewidth=1.5, label=policy, density=True,
                  color=colour(policies, policy))
    if finite.abs().max() >= 10_000:
        _plain_numbers(axes)
    axes.set_yticks([])  # a density's scale says nothing a reader needs
    axes.set_title(title, fontsize=10)
    axes.set_ylabel("density")
    axes.legend(fontsize=8)
    return figure


def fan_figure(bands: WeeklyBands, policies: list[str], column: str, title: str) -> Figure:
    """Median and 10–90% band of a weekly series per policy; for a 0/1 series (talks open) the
    share of futures instead, for a small count (a ladder rung) its mean: a median of 0/1 values
    is 0 or 1 and says nothing."""
    figure = Figure(figsize=SMALL)
    axes = figure.add_subplot()
    kind = bands.kinds[column]
    largest = 0.0
    for policy in policies:
        weekly = bands.of(column, policy)
        largest = max(largest, float(weekly[["low", "high"]].abs().max().max()))
        if kind != "value":
            axes.plot(weekly["mean"], label=policy, linewidth=1.5, color=colour(policies, policy))
            continue
        line = axes.plot(weekly.index, weekly["p50"], label=policy, linewidth=1.5,
                         color=colour(policies, policy))[0]
        axes.fill_between(weekly.index, weekly["p10"], weekly["p90"], alpha=0.12,
                          color=line.get_color())
    what = {"binary": "share of futures", "count": "mean over futures",
            "value": "median and 10–90% of futures"}[kind]
    axes.set_title(f"{title}: {what}", fontsize=10)
    axes.set_xlabel("week")
    if kind == "value" and largest >= 10_000:
        _plain_numbers(axes, "y")
    axes.legend(fontsize=8)
    return figure


LEVER_LINES = (
    ("restrictions_lifted", "restrictions lifted"),
    ("seek_talks", "seeking talks"),
    ("pursue_ladder", "pursuing the ladder"),
    ("withdrawing", "withdrawing from the salient"),
    ("aid_multiplier", "aid multiplier (mean)"),
)


def changing_lever_policies(bands: WeeklyBands, policies: list[str]) -> list[str]:
    """The policies whose levers change over the weeks or differ between futures (schedules,
    triggers): those a 'when the levers changed' figure is worth drawing for."""
    columns = [name for name, _ in LEVER_LINES if name in bands and name != "withdrawing"]
    if "salient_posture" in bands:
        columns.append("salient_posture")
    return [policy for policy in policies
            if any(bands.varies(column, policy) for column in columns)]


def lever_figure(bands: WeeklyBands, policy: str) -> Figure:
    """For one policy, per week: the share of futures with each lever on, and the mean aid
    multiplier: when its schedule changed the levers, and when (and where) its triggers fired."""
    figure = Figure(figsize=SMALL)
    axes = figure.add_subplot()
    for column, label in LEVER_LINES:
        if column in bands:
            axes.plot(bands.of(column, policy)["mean"], label=label, linewidth=1.5)
    axes.set_title(f"{policy}: when the levers changed (share of futures)", fontsize=10)
    axes.set_xlabel("week")
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=8)
    return figure


def parallel_figure(table: pd.DataFrame, labels: list[str], goals: list[str],
                    title: str = "Trade-offs: each line a policy (up is better)") -> Figure:
    """Parallel coordinates of policies' objectives (Inselberg 1985; the MORDM trade-off view):
    one axis per objective scaled to its range over the table, turned so that up is better;
    searched policies in grey-blue, the scenario's own (`kind == "scenario"`) in colour."""
    figure = Figure(figsize=(max(5.2, 1.6 * len(labels)), 3.4))
    axes = figure.add_subplot()
    values = table[labels].to_numpy(dtype=float)
    low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    scaled = (values - low) / np.where(high > low, high - low, 1.0)
    scaled = np.where([goal == "min" for goal in goals], 1.0 - scaled, scaled)
    positions = np.arange(len(labels))
    kinds = list(table["kind"]) if "kind" in table else ["searched"] * len(table)
    names = [str(name) for name in table["name"]]
    own = [name for name, kind in zip(names, kinds, strict=True) if kind == "scenario"]
    for row, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        if kind == "scenario":
            axes.plot(positions, scaled[row], color=colour(own, name), linewidth=2.2,
                      label=name, zorder=3)
        else:
            axes.plot(positions, scaled[row], color="#7f9fbf", linewidth=0.9, alpha=0.7,
                      zorder=2)
    axes.set_xticks(positions, [f"{label}\n({goal})" for label, goal in zip(labels, goals,
                                                                             strict=True)],
                    fontsize=7)
    axes.set_yticks([0, 1], ["worst", "best"])
    for position in positions:
        axes.axvline(float(position), color="#cccccc", linewidth=0.8, zorder=1)
    axes.set_title(title, fontsize=10)
    if own:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure
