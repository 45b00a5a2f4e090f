"""`offramp search`: many-objective policy search over a search file's levers, re-run on fresh
futures beside the scenario's own policies (docs/search.md)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from offramp.cli.app import app, console, err_console
from offramp.errors import UserError


@app.command("search")
def search_command(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a YAML file.")
    ] = "kursk-2024",
    search_file: Annotated[
        str | None, typer.Option("--search", help="A search file (levers, objectives, "
                                 "constraints), or a built-in one by name; default: the "
                                 "scenario's own (kursk-2024 ships one).")
    ] = None,
    futures: Annotated[int, typer.Option(help="Futures every candidate is judged on.")] = 1_000,
    generations: Annotated[int, typer.Option(help="Generations of the algorithm.")] = 20,
    population: Annotated[int, typer.Option(help="Candidates per generation.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed of the futures, the noise and the "
                                      "algorithm.")] = 0,
    check_futures: Annotated[
        int, typer.Option(help="Fresh futures the front and the scenario's policies are re-run "
                          "on (0: none).")
    ] = 10_000,
    check_seed: Annotated[
        int | None, typer.Option(help="Seed of the fresh futures (default: --seed + 1).")
    ] = None,
    require: Annotated[
        list[str] | None,
        typer.Option("--require", help="What meets_requirements counts (repeatable; default: "
                     "a_territory_share >= 0.8 and two_front_war == false)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default searches/NAME-TIME).")
                   ] = None,
    resume: Annotated[bool, typer.Option(help="Continue the search in --out from its "
                                         "checkpoint.")] = False,
) -> None:
    """Search the levers for policies that do better, robustly, on several objectives at once.

    Writes the front as policies a scenario can use (front.yaml), every candidate judged
    (candidates.parquet), convergence (hypervolume per generation), the re-evaluation on fresh
    futures with where each of the scenario's policies sits, and a trade-off figure.
    """
    import datetime as dt

    from offramp.report.figures import parallel_figure
    from offramp.report.search_page import render_search
    from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
    from offramp.scenario.search import builtin_searches
    from offramp.store.atomic import write_bytes, write_text
    from offramp.studies.search import SearchSettings, search

    name = Path(scenario).stem
    if search_file is None:
        if name not in builtin_searches():
            raise UserError(f"{scenario} has no built-in search file: give one with --search "
                            "FILE (docs/search.md)")
        search_file = name
    if resume and out is None:
        raise UserError("--resume continues the search in --out DIR: name the folder")
    folder = out or Path("searches") / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    settings = SearchSettings(
        scenario=scenario, search_file=search_file, futures=futures, generations=generations,
        population=population, seed=seed,
        requirements=tuple(require) if require else DEFAULT_REQUIREMENTS,
        check_futures=check_futures, check_seed=check_seed)

    def progress(generation: int, volume: float, evaluated: int) -> None:
        err_console.print(f"generation {generation}/{generations}: {evaluated:,} candidates "
                          f"judged, hypervolume {volume:.4g}", highlight=False)

    result = search(settings, folder, resume=resume, on_generation=progress)
    labels = result.objectives
    front = result.front.drop(columns=["candidate", "generation", "feasible"])
    console.rule(f"{len(front)} policies on the front ({', '.join(labels)})")
    # the best on each objective: a front of many objectives holds hundreds
    best = sorted({int(front[label].to_numpy().argmax() if goal == "max"
                       else front[label].to_numpy().argmin())
                   for label, goal in zip(labels, result.goals, strict=True)})
    console.print(front.iloc[best].to_string(index=False, float_format=lambda v: f"{v:,.4g}"),
                  highlight=False, markup=False)
    if len(front) > len(best):
        console.print(f"(the best on each objective; all {len(front)} are in "
                      f"{folder / 'front.parquet'} and {folder / 'front.yaml'})",
                      highlight=False)
    for note in result.notes:
        console.print(escape(note), highlight=False)
    if result.reevaluation is not None:
        figure = parallel_figure(result.reevaluation, labels, result.goals)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=130)
        write_bytes(folder / "tradeoffs.png", buffer.getvalue())
    write_text(folder / "search.html", render_search(result, name))
    console.print(f"search folder: {folder} (search.html: the trade-offs and where the "
                  "scenario's policies sit; front.yaml: the front as scenario policies)",
                  highlight=False)
