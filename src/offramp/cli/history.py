"""`offramp validate-history`: in what share of futures offramp reproduces how two wars ended.

Runs every policy of `polish-soviet-1920` and `winter-war-1939` over the same sampled futures,
scores each future against the criteria of docs/historical-scenarios.md (P1–P3, F1–F4) and
prints one table per war: the share of futures meeting each criterion and the whole ending, per
policy, with Wilson 95 % intervals, the paired difference of seed 003's comparison, and the
op-ed's measures. docs/validation.md ("War endings") reads the results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table

from offramp.cli.app import app
from offramp.errors import UserError
from offramp.report.console import stdout_console

if TYPE_CHECKING:
    import pandas as pd

    from offramp.studies.endings import WarMeasurement

DEFAULT_FUTURES = 20_000
REPLICATES = 2000
READING_STYLE = {
    "within the normal range": "green",
    "plausible but unusual": "yellow",
    "not reproduced": "red",
}


def _share(row) -> str:
    digits = 4 if row["high"] < 0.01 else 3  # small shares keep two significant digits
    return f"{row['share']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def _signed(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.4f}"


def _difference(row) -> str:
    return f"{_signed(row['difference'])} [{_signed(row['low'])}, {_signed(row['high'])}]"


def _plain(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4f}"


def war_table(measurement: WarMeasurement) -> Table:
    """One table: criteria × policies (share [95 %]), paired difference, then the op-ed's
    measures."""
    from offramp.studies.endings import WARS

    spec = WARS[measurement.scenario]
    first, second = spec.compared
    table = Table(
        title=f"{measurement.scenario}: {measurement.n_futures:,} futures, seed {measurement.seed}",
        title_justify="left",
        caption=(
            "share of futures [Wilson 95 %]; colour = reading fixed before the run "
            "(≥ 0.20 normal range, 0.05–0.20 plausible but unusual, < 0.05 not reproduced). "
            f"Last column: {first} − {second} over the same futures (common random numbers), "
            f"percentile bootstrap of futures, {REPLICATES} replicates. Criteria and the "
            "quantities that stand in for unrecorded ones: docs/historical-scenarios.md, "
            "docs/validation.md."
        ),
        caption_justify="left",
    )
    table.add_column("criterion (threshold)")
    for policy in measurement.policies:
        table.add_column(policy, justify="right")
    table.add_column(f"{first} − {second}", justify="right")
    for criterion in spec.criteria:
        cells = []
        for policy in measurement.policies:
            # A full key of the (policy, criterion) index: one row (pandas-stubs read a scalar).
            row = cast("pd.Series", measurement.shares.loc[(policy, criterion.key)])
            style = READING_STYLE.get(row["reading"], "")
            cells.append(f"[{style}]{_share(row)}[/]" if style else _share(row))
        label = f"{criterion.key} {criterion.summary}\n[dim]{criterion.threshold}[/]"
        table.add_row(label, *cells,
                      _difference(measurement.criterion_differences.loc[criterion.key]))
    table.add_section()
    for measure, row in measurement.comparison.iterrows():
        values = {first: _plain(row["first"]), second: _plain(row["second"])}
        table.add_row(f"op-ed: {measure}\n[dim]n = {int(row['n']):,} futures[/]",
                      *(values.get(policy, "") for policy in measurement.policies),
                      _difference(row))
    return table


@app.command("validate-history")
def validate_history(
    futures: Annotated[
        int, typer.Option("--futures", help="Futures per war (every policy runs on all of them).")
    ] = DEFAULT_FUTURES,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the futures and of the noise.")] = 0,
) -> None:
    """Score the Polish–Soviet War (1920) and the Winter War (1939–40) against how they ended:
    the share of futures reproducing each criterion and the whole ending, per policy, and the
    op-ed's comparison (holding the enemy's soil or not). A hindcast check, not a forecast."""
    from offramp.studies.endings import POLISH_SOVIET, WINTER_WAR, measure_war

    if futures < 1:
        raise UserError(f"--futures must be at least 1, not {futures}.")
    console = stdout_console()
    for name in (POLISH_SOVIET, WINTER_WAR):
        measurement = measure_war(name, futures, seed, replicates=REPLICATES)
        console.print(war_table(measurement))
