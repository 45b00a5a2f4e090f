"""What the terminal shows: a progress bar, the comparison tables."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from offramp.analysis.compare import paired_wins, summary_table
from offramp.analysis.robustness import robustness_table
from offramp.store import RunStore

CAVEAT = (
    "These are consequences of the scenario's stated assumptions across sampled futures, "
    "not forecasts."
)


@contextlib.contextmanager
def progress_bar(console: Console, total: int, done: int = 0) -> Iterator[Callable[[int], None]]:
    """A bar over futures with futures per second and an ETA; yields `advance(n_futures)`."""
    columns = (
        TextColumn("futures"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("run", total=total, completed=done, rate="")

        def advance(count: int) -> None:
            progress.advance(task, count)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        yield advance


def _format(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def frame_table(frame: pd.DataFrame, title: str | None = None, index: bool = True) -> Table:
    table = Table(title=title)
    if index:
        table.add_column(escape(str(frame.index.name or "")))
    for column in frame.columns:
        table.add_column(escape(str(column)), justify="right", overflow="fold")
    for label, row in frame.iterrows():
        cells = [_format(v) for v in row.tolist()]
        table.add_row(*([escape(str(label))] if index else []), *map(escape, cells))
    return table


def comparison_table(outcomes: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """The main job's table, one row per policy: the headline statistics, then regret on the
    headline outcomes and satisficing against the run's requirements."""
    from offramp.report.run_analysis import run_requirements

    policies = manifest["policies"]
    robustness = robustness_table(outcomes, run_requirements(manifest), policies=policies)
    return summary_table(outcomes, policies).join(robustness)


def print_comparison(console: Console, store: RunStore) -> None:
    from offramp.report.run_analysis import run_requirements

    outcomes = store.read_outcomes()
    manifest = store.manifest
    console.rule(
        f"{manifest['scenario']}: {manifest['n_futures']:,} futures × "
        f"{len(manifest['policies'])} policies, seed {manifest['seed']}"
    )
    console.print(f"[italic]{CAVEAT}[/]")
    console.print(frame_table(comparison_table(outcomes, manifest).T, title="Per policy"))
    console.print(
        "regret: how far a policy falls short of the best policy in the same future (mean, "
        "90th percentile, max over futures; lower is better). meets: share of futures meeting "
        f"the requirements ({' and '.join(run_requirements(manifest))}).",
        highlight=False,
    )
    console.print(
        frame_table(
            paired_matrix(paired_wins(outcomes)),
            title="Paired, same futures: share of futures in which A does better than B / "
            "B does better than A (the rest are ties)",
        )
    )


def paired_matrix(wins: pd.DataFrame) -> pd.DataFrame:
    """Paired wins folded for a terminal: one column per pair of policies, one row per outcome,
    each cell 'A better / B better'."""
    columns = {}
    for label in wins.index:
        first, second = label.split(" vs ")
        if f"{second} vs {first}" in columns:
            continue
        back = wins.loc[f"{second} vs {first}"]
        columns[label] = [f"{a:.2f} / {b:.2f}" for a, b in zip(wins.loc[label], back, strict=True)]
    frame = pd.DataFrame(columns, index=wins.columns)
    frame.columns = [name.replace(" vs ", " (A)\nvs ") + " (B)" for name in frame.columns]
    frame.index.name = "outcome"
    return frame
