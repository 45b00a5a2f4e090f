"""`offramp calibrate`: fit Lanchester laws to the shipped historical battle data.

Kept apart from `offramp.cli` so the calibration code (scipy, and matplotlib for --plot) is
only imported by the command that needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from offramp.cli.app import app
from offramp.errors import UserError
from offramp.report.console import stdout_console

if TYPE_CHECKING:
    from offramp.calibration import FitResult

_PARAMETER_HELP = {
    "a": "red's effect on blue (per day)",
    "b": "blue's effect on red (per day)",
    "q": "exponent on the enemy force",
    "p": "exponent on the own force",
    "a/b": "effectiveness ratio",
}


def _number(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4g}"


def _law_table(fit: FitResult, total: int) -> Table:
    """One table per law: estimates with bootstrap interval, and the goodness of fit below."""
    level = round(100 * fit.confidence_level)
    table = Table(
        title=f"{fit.law} law: rank {fit.rank} of {total}",
        title_justify="left",
        caption=(
            f"SSE {_number(fit.sse)}   R² {fit.r_squared:.3f}   AIC {fit.aic:.1f}   "
            f"{fit.observations} observations, {fit.formulation}, "
            f"{fit.bootstrap_replicates} bootstrap replicates"
        ),
        caption_justify="left",
    )
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    table.add_column(f"{level}% interval", justify="right")
    table.add_column("meaning")
    for name, value in fit.estimates.items():
        if name in ("q", "p") and name not in fit.free_parameters:
            interval = "fixed"
        elif name in fit.intervals:
            low, high = fit.intervals[name]
            interval = f"{_number(low)} - {_number(high)}"
        else:
            interval = "-"
        table.add_row(name, _number(value), interval, _PARAMETER_HELP[name])
    return table


def _ranking_table(fits: Sequence[FitResult]) -> Table:
    table = Table(title="ranking (by SSE; AIC penalises extra parameters)", title_justify="left")
    for column in ("rank", "law", "SSE", "R²", "AIC", "a/b"):
        table.add_column(column, justify="left" if column == "law" else "right")
    for fit in fits:
        table.add_row(
            str(fit.rank),
            fit.law,
            _number(fit.sse),
            f"{fit.r_squared:.3f}",
            f"{fit.aic:.1f}",
            _number(fit.estimates["a/b"]),
        )
    return table


def _plot_path(plot: Path, dataset: str, several: bool) -> Path:
    """The PNG for one dataset: `plot` itself, or `plot` with the dataset name appended when
    several datasets are calibrated in one run."""
    return plot.with_name(f"{plot.stem}-{dataset}{plot.suffix or '.png'}") if several else plot


MAX_BOOTSTRAP = 100_000
"""More replicates move a 95% interval by less than its own rounding, and take hours."""


@app.command()
def calibrate(
    dataset: Annotated[
        str | None,
        typer.Argument(help="Dataset to calibrate (see --list); all datasets if omitted."),
    ] = None,
    law: Annotated[
        str,
        typer.Option(
            "--law",
            help="Law to fit: square, linear, logarithmic, generalized, or all.",
        ),
    ] = "all",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap replicates for the intervals (0: none).")
    ] = 200,
    list_: Annotated[
        bool, typer.Option("--list", help="List the shipped datasets and stop.")
    ] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a residual plot (PNG) to this path.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap's generator.")] = 0,
) -> None:
    """Fit Lanchester attrition laws to historical daily battle data (Ardennes 1944, Iwo Jima
    1945) and rank them. Calibration evidence for the combat model, not a forecast."""
    from offramp.calibration import LAW_NAMES, calibrate_laws, list_datasets, load_dataset

    console = stdout_console()
    datasets = list_datasets()
    names = [info.name for info in datasets]
    if list_:
        table = Table(title="shipped datasets (provenance: offramp/data/PROVENANCE.md)")
        table.add_column("name")
        table.add_column("what it is")
        for info in datasets:
            table.add_row(info.name, info.title)
        console.print(table)
        return
    if dataset is not None and dataset not in names:
        raise UserError(
            f"Unknown dataset {dataset!r}: choose one of {', '.join(names)} "
            "(or run `offramp calibrate --list`)."
        )
    if law != "all" and law not in LAW_NAMES:
        raise UserError(f"Unknown law {law!r}: choose one of {', '.join(LAW_NAMES)}, or all.")
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise UserError(f"--bootstrap must be from 0 to {MAX_BOOTSTRAP:,} (intervals settle "
                        f"within a few thousand replicates), not {bootstrap:,}.")
    if not 0 <= seed < 2**63:
        raise UserError(f"--seed must be a whole number from 0 to 2**63 - 1, not {seed}.")
    chosen = names if dataset is None else [dataset]
    laws = LAW_NAMES if law == "all" else (law,)
    for name in chosen:
        series = load_dataset(name)
        fits = calibrate_laws(series, laws, bootstrap=bootstrap, seed=seed)
        console.rule(f"[bold]{name}[/]")
        console.print(series.title, highlight=False)
        console.print(f"[dim]{series.description}[/]", highlight=False)
        for fit in fits:
            console.print(_law_table(fit, len(fits)))
        if len(fits) > 1:
            console.print(_ranking_table(fits))
        if plot is not None:
            from offramp.calibration.plot import plot_residuals

            written = plot_residuals(
                fits, _plot_path(plot, name, len(chosen) > 1), title=series.title
            )
            console.print(f"residual plot written to {written}", highlight=False)
