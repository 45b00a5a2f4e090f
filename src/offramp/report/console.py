"""What the terminal shows: the console, a progress bar, the comparison and claims tables.

Everything printed is escaped for rich markup; numbers go through `format_cell` as in the report.
"""

from __future__ import annotations

import contextlib
import os
import sys
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

from offramp.report.words import (
    CAUSE_UNNAMED,
    CAVEAT,
    ParameterNames,
    caveat_text,
    effect_text,
    failure_text,
    first_sentence,
    format_cell,
    holding_text,
)
from offramp.studies.claims import ClaimResult
from offramp.studies.summary import Comparison

PIPED_WIDTH = 130
"""Columns for piped output (make run, CI logs) instead of rich's 80, unless COLUMNS is set."""
STATEMENT_CHARS = 90
VERDICT_STYLE = {
    "holds": "green",
    "holds only under conditions": "yellow",
    "fails": "red",
    "not testable": "dim",
}


def stdout_console() -> Console:
    """A rich console on standard output: the terminal's width, or PIPED_WIDTH when piped."""
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(soft_wrap=True, width=PIPED_WIDTH if piped else None)


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


def frame_table(frame: pd.DataFrame, title: str | None = None, index: bool = True) -> Table:
    table = Table(title=title)
    if index:
        table.add_column(escape(str(frame.index.name or "")))
    for column in frame.columns:
        table.add_column(escape(str(column)), justify="right", overflow="fold")
    for label, row in frame.iterrows():
        cells = [format_cell(v) for v in row.tolist()]
        table.add_row(*([escape(str(label))] if index else []), *map(escape, cells))
    return table


MAX_POLICY_COLUMNS = 8
"""More policies than this: the terminal gets a row per policy and no paired table."""
MANY_POLICIES_COLUMNS = ("ended share", "territory share, median", "meets all requirements",
                         "territory share regret, p90")


def print_comparison(console: Console, comparison: Comparison) -> None:
    """The main job's tables: one row per policy (headline statistics, regret, satisficing),
    then paired wins."""
    manifest = comparison.manifest
    console.rule(
        f"{manifest.scenario}: {manifest.n_futures:,} futures × "
        f"{len(manifest.policies)} policies, seed {manifest.seed}"
    )
    console.print(f"[italic]{CAVEAT}[/]")
    table = comparison.table
    if not isinstance(comparison.robustness, str):
        table = table.join(comparison.robustness)
    many = len(table) > MAX_POLICY_COLUMNS
    if many:  # a column per policy would be unreadable: a row per policy, the key numbers
        console.print(frame_table(table[[c for c in MANY_POLICIES_COLUMNS if c in table]],
                                  title="Per policy"))
    else:
        console.print(frame_table(table.T, title="Per policy"))
    console.print(
        "regret: how far a policy falls short of the best policy in the same future (mean, "
        "90th percentile, max over futures; lower is better). meets: share of futures meeting "
        f"the requirements ({' and '.join(manifest.requirements)}).",
        highlight=False,
    )
    if many:
        console.print(f"Paired wins of {len(table):,} policies ({len(comparison.paired):,} "
                      "ordered pairs) are in the report and in Python (`run.paired()`).",
                      highlight=False)
        return
    console.print(
        frame_table(
            paired_matrix(comparison.paired),
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
PIPED_WIDTH = 130
"""Columns for piped output (make run, CI logs) instead of rich's 80, unless COLUMNS is set."""


def _shares(result: ClaimResult) -> str:
    if result.n_compared == 0:
        return "n/a"
    return (f"{result.holds_share:.0%} (worse {result.fails_share:.0%}, "
            f"ties {result.tie_share:.0%}; n={result.n_compared})")


def _conditions(result: ClaimResult, names: ParameterNames) -> str:
    failing = failure_text(result.failure, names)
    holding = holding_text(result.holding, names, result.tolerance)
    return f"holds where: {holding}\nfails where: {failing}" if holding else failing


def claims_table(results: list[ClaimResult], names: ParameterNames, title: str) -> Table:
    """One row per claim: what is compared, how often it holds, the effect, verdict, where not."""
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("claim", no_wrap=True)
    table.add_column("statement (arm vs versus, outcome)", overflow="fold", ratio=2)
    table.add_column("holds share", overflow="fold")
    table.add_column("mean effect [95% CI]", overflow="fold")
    table.add_column("verdict", overflow="fold")
    table.add_column("failure conditions", overflow="fold", ratio=3)
    for r in results:
        tolerance = f", tolerance {r.tolerance:g}" if r.tolerance else ""
        compared = (f"{escape(first_sentence(r.statement, STATEMENT_CHARS))}\n"
                    f"[dim]{escape(r.arm)} vs {escape(r.versus)}; "
                    f"{r.outcome} expected {r.expect}{tolerance}[/]")
        table.add_row(
            r.claim_id, compared, _shares(r), effect_text(r.mean_effect, r.ci_low, r.ci_high),
            f"[{VERDICT_STYLE[r.verdict]}]{r.verdict}[/]" + "".join(
                f"\n[dim]{escape(caveat_text(c, names, r.cause or CAUSE_UNNAMED))}[/]"
                for c in r.caveats),
            escape(_conditions(r, names)),
        )
    return table
