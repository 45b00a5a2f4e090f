"""`offramp discover`, `offramp sensitivity` and `offramp explore`: ask a finished run where and
why.

Kept apart from `offramp.cli` so the analysis code (PRIM, SALib, matplotlib) is only imported by
the commands that need it. Both read a run folder and never change its results; `discover`
adds its trade-off plot (a PNG) to the folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offramp.cli.app import app
from offramp.errors import UserError
from offramp.report.console import stdout_console

if TYPE_CHECKING:  # pandas is imported by the commands, not by every `offramp` start
    import pandas as pd

RunArgument = Annotated[Path, typer.Argument(help="A run folder (from `offramp run`).")]
METHOD_NOTES = {
    "pawn": "PAWN: median Kolmogorov–Smirnov distance between the outcome in a slice of the "
    "parameter's range and overall (0 = no influence)",
    "delta": "delta: Borgonovo's moment-independent index (0 = no influence), with its "
    "bootstrap confidence interval",
    "sobol": "Sobol: total-order index ST (share of the outcome's variance the parameter takes "
    "part in) and first-order S1, with bootstrap confidence intervals",
}
# Below this many Saltelli base samples, Sobol indices over ~100 parameters are mostly noise.
SOBOL_FEW_BASE_SAMPLES = 256
METHOD_COLUMNS = {
    "pawn": ("minimum", "maximum"),
    "delta": ("delta_conf", "delta_raw_conf", "S1"),
    "sobol": ("ST_conf", "S1", "S1_conf"),
}


def _console() -> Console:
    return stdout_console()


WeightsOption = Annotated[
    bool, typer.Option("--weights", help="Ask the futures resampled by the run's weights.parquet "
                       "(offramp condition --under): what holds given what has happened.")]


def _open(run_dir: Path, weighted: bool = False):
    from offramp.store import RunStore
    from offramp.studies.conditioning import WEIGHTS_FILE, load_weights
    from offramp.studies.runs import RunAnalysis

    store = RunStore.open(run_dir)
    weights = load_weights(store.root) if weighted else None
    if weighted and weights is None:
        raise UserError(f"{run_dir}: no {WEIGHTS_FILE}; make it with `offramp condition "
                        f"{run_dir} --observations FILE --under POLICY`")
    if weights is not None:
        made = weights.attrs["settings"]
        ess = (made.get("ess") or {}).get(made.get("under"), float("nan"))
        _console().print(
            f"The run's futures resampled by {WEIGHTS_FILE} (observations "
            f"{made.get('observations')}, under {made.get('under')}; effective sample size "
            f"{ess:,.0f}): a future is counted as often as it was drawn.", highlight=False)
    return RunAnalysis(store, weights=weights)


def _p_value(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2g}" if value >= 1e-4 else "< 0.0001"


def _restrictions_table(frame: pd.DataFrame, title: str, limit: int) -> Table:
    """PRIM's restrictions: readable name (scenario path below it), limit, data range,
    quasi-p; the rows kept in the plain-words box in bold."""
    table = Table(title=title, title_justify="left")
    table.add_column("parameter", overflow="fold")
    table.add_column("box", overflow="fold")
    table.add_column("data range", justify="right")
    table.add_column("quasi-p", justify="right")
    for _, row in frame.head(limit).iterrows():
        table.add_row(f"{escape(row['parameter'])}\n[dim]{escape(row['path'])}[/]",
                      escape(row["box"]), escape(row["data range"]), _p_value(row["quasi-p"]),
                      style="bold" if row["in plain box"] else "")
    return table


@app.command()
def discover(
    run_dir: RunArgument,
    policy: Annotated[str, typer.Option("--policy", help="The policy whose outcomes to ask.")],
    where: Annotated[
        str,
        typer.Option(
            "--where",
            help="SQL condition on the `outcomes` view (DuckDB), e.g. "
            "\"a_territory_share < 0.8\" or \"two_front_war and not ended\".",
        ),
    ],
    threshold: Annotated[
        float, typer.Option(help="Density PRIM's box should reach (share of cases inside it).")
    ] = 0.8,
    peel_alpha: Annotated[
        float, typer.Option(help="Share of the box's futures one peel removes.")
    ] = 0.05,
    boxes: Annotated[int, typer.Option(help="Most boxes to find (covering).")] = 1,
    conditions: Annotated[
        int, typer.Option(help="Most restrictions in the plain-words box.")
    ] = 3,
    show: Annotated[int, typer.Option(help="Restrictions to list per box.")] = 15,
    weights: WeightsOption = False,
) -> None:
    """Scenario discovery: where in the uncertain parameters does a condition hold for a policy?

    Evaluates --where on each future's outcomes under --policy, runs PRIM over the futures'
    uncertain parameters, and prints the box in plain words (its significant restrictions),
    coverage / density / mass, every restriction's quasi-p-value, and the path of the
    trade-off plot it writes into the run folder.
    """
    if conditions < 1:
        raise UserError(f"--conditions must be at least 1, found {conditions}")
    from offramp.report.figures import discovery_figure
    from offramp.report.words import discovery_restrictions, discovery_sentence, names_of_run

    analysis = _open(run_dir, weights)
    names = names_of_run(analysis.manifest)
    found = analysis.discover(where, policy, threshold=threshold, peel_alpha=peel_alpha,
                              boxes=boxes, max_conditions=conditions)
    console = _console()
    total = len(found.flags)
    console.print(
        f"{escape(policy)}: {escape(found.question)} in {int(found.flags.sum()):,} of "
        f"{total:,} futures ({found.share:.0%})."
        + (f" {found.n_unknown:,} futures where it is NULL count as not." if found.n_unknown
           else ""),
        highlight=False,
    )
    if found.result is None:
        console.print(escape(found.note), highlight=False)
        return
    for index, box in enumerate(found.result.boxes):
        console.rule(f"box {index + 1}")
        console.print(escape(discovery_sentence(found, names, index)), highlight=False)
        plain = found.plain[index]
        restricted = len(box.limits)
        console.print(
            f"PRIM's box (threshold {threshold:g}): coverage {box.coverage:.0%}, density "
            f"{box.density:.0%}, mass {box.mass:.1%} ({box.n_futures:,} futures); it restricts "
            f"{restricted} of {found.X.shape[1]} uncertain parameters"
            + ("" if box.meets_threshold else "; no box on the trajectory reaches the threshold, "
               "this is the densest")
            + (f". The plain-words box keeps {len(plain.limits)} (in bold): coverage "
               f"{plain.coverage:.0%}, density {plain.density:.0%}, mass {plain.mass:.1%}."
               if plain is not None else "."),
            highlight=False,
        )
        frame = discovery_restrictions(found, names, index)
        more = len(frame) - show
        console.print(_restrictions_table(frame, "restrictions, most significant first", show))
        if more > 0:
            console.print(f"… and {more} more, quasi-p {_p_value(frame['quasi-p'].iloc[show])} "
                          "or above.", highlight=False)
        path = analysis.tradeoff_path(found, index)
        figure = discovery_figure(found, index, title=f"{policy}: {found.question}")
        figure.savefig(path, dpi=120, bbox_inches="tight")
        console.print(f"trade-off plot: {path}", highlight=False)


@app.command()
def sensitivity(
    run_dir: RunArgument,
    outcome: Annotated[
        str, typer.Option("--outcome", help="A numeric or true/false outcome column.")
    ],
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", help="A policy (repeatable; default: each of the run's)."),
    ] = None,
    method: Annotated[
        str, typer.Option(help="pawn, delta or sobol (sobol needs --sampler saltelli).")
    ] = "pawn",
    top: Annotated[int, typer.Option(help="Drivers to list per policy.")] = 10,
    max_rows: Annotated[
        int | None,
        typer.Option(help="Analyse a seeded sample of this many futures (pawn, delta)."),
    ] = None,
    weights: WeightsOption = False,
) -> None:
    """Global sensitivity: which uncertain parameters drive an outcome, per policy.

    PAWN (default) and delta work on any run; Sobol indices need a run sampled with
    `offramp run --sampler saltelli`. Prints the top drivers per policy.
    """
    from offramp.report.words import names_of_run

    if top < 1:
        raise UserError(f"--top must be at least 1, found {top}")
    analysis = _open(run_dir, weights)
    names = names_of_run(analysis.manifest)
    tables = analysis.sensitivity(outcome, policies=policy or None, method=method,
                                  max_rows=max_rows)
    console = _console()
    n = len(analysis.futures)
    used = n if method == "sobol" or max_rows is None else min(n, max_rows)
    console.print(f"Sensitivity of {escape(outcome)} over {used:,} futures "
                  f"and {analysis.X.shape[1]} uncertain parameters. {METHOD_NOTES[method]}.",
                  highlight=False)
    design = analysis.manifest.saltelli
    base = design.base_samples if design is not None else None
    if method == "sobol" and base is not None and base < SOBOL_FEW_BASE_SAMPLES:
        console.print(f"[yellow]Only {base} base samples: Sobol estimates this rough are mostly "
                      "noise (see the confidence intervals); rank with --method pawn, or run "
                      "more futures.[/]", highlight=False)
    for name, frame in tables.items():
        table = Table(title=f"{name}: top drivers of {outcome}", title_justify="left")
        table.add_column("rank", justify="right")
        table.add_column("parameter")
        table.add_column("importance", justify="right")
        extra = [c for c in METHOD_COLUMNS[method] if c in frame.columns]
        for column in extra:
            table.add_column(column, justify="right")
        table.add_column("path", overflow="fold")
        for rank, (path, row) in enumerate(frame.head(top).iterrows(), start=1):
            table.add_row(str(rank), escape(names.label(path)), f"{row['importance']:.3f}",
                          *(f"{row[c]:.3f}" for c in extra), escape(str(path)))
        console.print(table)


def _check_address(host: str, port: int) -> None:
    """Refuse an address the server could not listen on, in one line (werkzeug would print two
    and exit 1)."""
    import errno
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} is in use: choose another with --port") from None
        reason = error.strerror or str(error)
        raise UserError(f"cannot listen on {host}:{port} ({reason})") from None


@app.command()
def explore(
    run_dir: RunArgument,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the local server.")] = 8050,
    host: Annotated[str, typer.Option(
        help="Address to listen on. The default answers this machine only; another address "
             "answers anyone who can reach it.")] = "127.0.0.1",
) -> None:
    """Explore a run in the browser: restrict parameters, see which policy wins there."""
    from werkzeug.serving import make_server

    from offramp.report.explorer import create_app
    from offramp.store import RunStore

    _check_address(host, port)
    console = _console()
    with console.status("reading the run and searching PRIM boxes…"):
        app = create_app(RunStore.open(run_dir))
    server = make_server(host, port, app.server, threaded=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/] listening on {escape(host)}: anyone who can reach "
                      "this machine can read the run's results")
    console.print(f"explorer of {escape(str(run_dir))}: open http://{escape(host)}:{port}/ "
                  "(Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("explorer stopped")
