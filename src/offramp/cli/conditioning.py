"""`offramp condition` and `offramp score`: a run weighed by what has happened since its start.

Both read a run made with `--series`; `condition` adds `weights.parquet` to the run folder (or
`--out DIR`), which `offramp query` then shows as the view `weights` and the report compares
with the prior.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from offramp.cli.app import app
from offramp.report.console import frame_table, stdout_console

RunArgument = Annotated[Path, typer.Argument(help="A run folder made with --series.")]
ObservationsOption = Annotated[str, typer.Option(
    "--observations", help="An observations file (YAML or CSV; docs/conditioning.md) or a "
    "built-in one by name, e.g. kursk-2024.")]


@app.command()
def condition(
    run_dir: RunArgument,
    observations: ObservationsOption,
    method: Annotated[str, typer.Option(
        help="weights: importance weights from the likelihood; abc: equal weights on the "
             "futures no observation rules out.")] = "weights",
    under: Annotated[str | None, typer.Option(
        help="Score this policy's trajectories (the one actually followed) and give every "
             "policy the weight of the same future. Default: each policy on its own.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for weights.parquet (default: the run folder).")] = None,
) -> None:
    """Weigh a run's futures by observations: which futures are still plausible."""
    from offramp.store import RunStore
    from offramp.studies.conditioning import condition as condition_run
    from offramp.studies.conditioning import save_weights, weighted_comparison

    console = stdout_console()
    store = RunStore.open(run_dir)
    with console.status("scoring every future against the observations..."):
        found = condition_run(store, observations, method=method, under=under)
        path = save_weights(found, out or store.root, observations)
    console.print(f"{len(found.observations)} observations; method {method}"
                  + (f", every policy weighed by {escape(under)}'s trajectories" if under
                     else ", each policy on its own trajectories"))
    for described, share in found.ruled_out.items():
        console.print(f"  {escape(described)}: rules out {share:.0%} of future × policy rows")
    manifest = store.manifest
    table = weighted_comparison(store.read_outcomes(), found.weights,
                                list(manifest["requirements"]), list(manifest["policies"]))
    shown = table.rename(columns=lambda c: c.replace("_requirements", "").replace("_", " "))
    console.print(frame_table(shown.round(3), title="prior vs conditioned, per policy"))
    for warning in found.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    console.print(f"weights: {escape(str(path))}")


@app.command()
def score(
    run_dir: RunArgument,
    observations: ObservationsOption,
    weights: Annotated[bool, typer.Option(
        "--weights/--no-weights", help="Also score the conditioned ensemble (the run's "
        "weights.parquet, from `offramp condition`).")] = False,
) -> None:
    """Proper scores (log score, CRPS) of observations under the prior and the conditioned
    ensemble: did conditioning help? Score observations you did not condition on."""
    from offramp.errors import UserError
    from offramp.store import RunStore
    from offramp.studies.conditioning import load_weights
    from offramp.studies.conditioning import score as score_run

    store = RunStore.open(run_dir)
    found = None
    if weights:
        found = load_weights(store.root)
        if found is None:
            raise UserError(f"{run_dir}: no weights.parquet; make it with `offramp condition "
                            f"{run_dir} --observations FILE`")
    table = score_run(store, observations, found)
    summed = table.groupby(["policy", "ensemble"], sort=False)[["log_score", "crps"]].sum()
    console = stdout_console()
    console.print(frame_table(table.round(3), title="per observation (log score: higher is "
                              "better; CRPS: lower is better)", index=False))
    console.print(frame_table(summed.round(3), title="summed over observations"))
