"""`offramp run`, `report` and `query`: the main job, its report, and SQL over a run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.markup import escape

from offramp.cli.app import SetOption, app, console, err_console
from offramp.errors import UserError
from offramp.experiments import DEFAULT_CHUNK_SIZE, SERIES_CHUNK_SIZE

if TYPE_CHECKING:
    from offramp.experiments.sampling import Sampler


def _parse_policies(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise UserError("--policies is empty; name one or more policies separated by commas")
    return names


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a YAML file.")
    ] = "kursk-2024",
    policies: Annotated[
        str | None, typer.Option(help="Comma-separated policies (default: all).")
    ] = None,
    futures: Annotated[
        int | None, typer.Option(help="How many futures to sample (default 10,000; with --from "
                                 "--conditioned, how many to resample: default the run's).")
    ] = None,
    sampler: Annotated[
        str,
        typer.Option(
            help="lhs, mc, sobol or saltelli. saltelli is a Saltelli design for Sobol indices "
            "(offramp sensitivity --method sobol): N = FUTURES // (2D + 2) base samples for the "
            "D uncertain parameters, so the run has N·(2D + 2) futures, at most FUTURES."
        ),
    ] = "lhs",
    seed: Annotated[
        int | None, typer.Option(help="Seed of the futures and of the noise (default 0; with "
                                 "--from, the run's).")
    ] = None,
    workers: Annotated[int, typer.Option(help=(
        "Local worker processes (a run of fewer than 25 million future-weeks runs in this "
        "process: a worker's start-up would cost more than it saves)."))] = 1,
    dask: Annotated[
        str | None, typer.Option(help="A Dask scheduler address, or 'local' for a LocalCluster.")
    ] = None,
    series: Annotated[
        bool, typer.Option(help="Also store weekly series (for fan charts).")
    ] = False,
    chunk_size: Annotated[
        int | None, typer.Option(help=f"Futures per chunk (a run setting; default "
                                      f"{DEFAULT_CHUNK_SIZE:,}, with --series "
                                      f"{SERIES_CHUNK_SIZE:,}).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/NAME-TIME).")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Finish an interrupted run in this folder.")
    ] = None,
    report: Annotated[bool, typer.Option(help="Write the HTML report at the end.")] = True,
    require: Annotated[
        list[str] | None,
        typer.Option(
            "--require",
            help="What a policy must achieve in a future, e.g. \"a_territory_share >= 0.8\" "
            "(repeatable; default: a_territory_share >= 0.8 and two_front_war == false). "
            "Judged by satisficing and discovery in the report; the outcomes do not change.",
        ),
    ] = None,
    set_: SetOption = None,
    from_run: Annotated[
        Path | None, typer.Option(
            "--from", help="Go on from a week of this run folder (with --week): its futures, "
            "their first weeks under --under, then each policy.")
    ] = None,
    week: Annotated[
        int | None, typer.Option(help="With --from: the week from which the policies differ.")
    ] = None,
    conditioned: Annotated[
        bool, typer.Option(help="With --from: resample the run's futures by its weights.parquet "
                           "(offramp condition), so the new run starts from the futures "
                           "consistent with what has happened.")
    ] = False,
    under: Annotated[
        str | None, typer.Option(help="With --from: the policy followed until --week (default: "
                                 "the weights' --under).")
    ] = None,
) -> None:
    """Run policies across sampled futures; print the comparison; write the report.

    With --from RUN --week W the new run goes on from week W of RUN: every future replays its
    parent's first W weeks under --under, then runs each policy on its own noise.
    """
    from offramp.experiments.executors import make_executor
    from offramp.experiments.manifest import RunManifest
    from offramp.experiments.runner import (
        RunSettings,
        check_memory,
        check_requirements,
        check_settings,
        default_run_dir,
        resume_run,
        start_run,
    )
    from offramp.experiments.sampling import design_size
    from offramp.report.console import print_comparison, progress_bar
    from offramp.scenario.conditions import DEFAULT_REQUIREMENTS
    from offramp.scenario.loader import load_scenario
    from offramp.studies.summary import compare_policies

    branching = None
    if from_run is None and (week is not None or conditioned or under is not None):
        raise UserError("--week, --conditioned and --under go with --from RUN")
    if from_run is not None:
        from offramp.store import RunStore
        from offramp.studies.conditioning import branch_from

        if week is None:
            raise UserError("--from RUN needs --week W: the week from which the policies differ")
        if resume is not None or set_ or scenario != "kursk-2024" or sampler != "lhs":
            raise UserError("--from RUN goes on with RUN's scenario and futures: give no "
                            "scenario, --set, --sampler or --resume with it")
        parent = RunStore.open(from_run)
        branching = branch_from(parent, week, under, conditioned, futures, seed)
        for note in branching.notes:
            err_console.print(note, highlight=False)
        parent_manifest = RunManifest.of(parent)
        futures = len(branching.start.futures)
        seed = parent_manifest.seed if seed is None else seed
        scenario = parent_manifest.scenario_source
        policies = policies or ",".join(parent_manifest.policies)
        require = require or parent_manifest.requirements
    futures = 10_000 if futures is None else futures
    seed = 0 if seed is None else seed
    if resume is not None:
        from offramp.store import RunStore

        store = RunStore.open(resume)
        manifest = RunManifest.of(store)
        total = manifest.n_futures
        remaining = sum(b - a for i, (a, b) in enumerate(manifest.chunk_bounds)
                        if not store.chunk_is_done(i))
        given = scenario if scenario != "kursk-2024" or set_ else None
        expected = load_scenario(given, overrides=set_) if given else None
        run_dir = resume
    else:
        settings = RunSettings(
            scenario=scenario,
            overrides=tuple(set_ or ()),
            policies=_parse_policies(policies),
            n_futures=futures,
            sampler=sampler,
            seed=seed,
            chunk_size=chunk_size,
            series=series,
            requirements=tuple(require) if require else DEFAULT_REQUIREMENTS,
        )
        check_requirements(settings.requirements)  # before anything runs
        if branching is not None:
            loaded = branching.scenario
        else:
            loaded = load_scenario(scenario, overrides=set_)
            check_settings(settings, loaded)  # and before the progress bar is drawn
        check_memory(settings, loaded.scenario, workers)
        run_dir = out or default_run_dir(loaded.scenario.scenario.name)
        total = remaining = futures
        if sampler == "saltelli":  # the design rounds the number of futures down
            total = remaining = design_size(loaded.scenario, futures,
                                            cast("Sampler", sampler))  # "saltelli"
    executor = make_executor(workers=workers, dask=dask)
    try:
        with progress_bar(console, total, total - remaining) as advance:
            if resume is not None:
                store = resume_run(resume, executor, advance, expected_scenario=expected,
                                   on_repair=lambda note: err_console.print(
                                       f"repaired: {note}", highlight=False))
            else:
                store = start_run(settings, run_dir, executor, advance, loaded=loaded,
                                  branch=None if branching is None else branching.start)
    except KeyboardInterrupt:
        err_console.print(
            f"stopped. Finished chunks are saved; resume with: offramp run --resume {run_dir}",
            highlight=False,
        )
        raise typer.Exit(130) from None
    finally:
        executor.close()
    print_comparison(console, compare_policies(store))
    console.print(f"run folder: {store.root}", highlight=False)
    if report:
        from offramp.studies.summary import judge_claims

        with err_console.status("judging the scenario's claims on the run's futures..."):
            judge_claims(store)
        _write_report(store)


def _write_report(store) -> None:
    from offramp.report.html import write_report
    from offramp.studies.summary import summarize

    with err_console.status("analysing the run for its report (drivers, where each policy "
                            "fails, robustness)..."):
        summary = summarize(store)
    with err_console.status("writing the report..."):
        path = write_report(summary)
    console.print(f"report: {path}", highlight=False)


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
) -> None:
    """Write (again) the self-contained HTML report of a run, from what is stored in its folder
    (it never runs the model: `offramp claims RUN` stores the claims it shows)."""
    from offramp.store import RunStore

    _write_report(RunStore.open(run_dir))


@app.command()
def doctor(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
) -> None:
    """Check a run folder's health without changing it: its manifest, its hashes and every file
    against the checksum kept when it was written. Exit 0 when healthy, 1 when not (then
    `offramp run --resume RUN` repairs what can be repaired)."""
    from offramp.experiments.runner import health
    from offramp.store import RunStore

    store = RunStore.open(run_dir)
    problems = health(store)
    for problem in problems:
        console.print(f"[red]✗[/] {escape(problem)}", highlight=False)
    if problems:
        console.print(f"{len(problems)} problem{'s' if len(problems) > 1 else ''}: repair with "
                      f"`offramp run --resume {run_dir}` (a damaged chunk or joined file runs "
                      "again; an edited manifest cannot be repaired: start a new run)",
                      highlight=False)
        raise typer.Exit(1)
    status = store.manifest.get("status")
    pending = len(store.missing_chunks())
    console.print(f"[green]✓[/] {run_dir}: healthy ({status}"
                  + (f", {pending} chunk{'s' if pending != 1 else ''} still to run: "
                     f"offramp run --resume {run_dir}" if pending else "") + ")",
                  highlight=False)


MAX_TABLE_COLUMNS = 12
"""Columns a terminal table shows (beyond, rich squeezes every column to nothing)."""


@app.command()
def query(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    sql: Annotated[str, typer.Argument(help="SQL over the views futures, outcomes, series.")],
    limit: Annotated[int, typer.Option(help="Rows to print at most (table format).")] = 50,
    output_format: Annotated[
        str, typer.Option("--format", help="table (rounded, for reading), csv or json (every "
                                           "row, full precision).")] = "table",
    output: Annotated[Path | None, typer.Option(
        help="Write the result to this file (csv or json) instead of the terminal.")] = None,
) -> None:
    """Run DuckDB SQL over a run: views `futures`, `outcomes` and (with --series) `series`
    (join on `future` and `policy`)."""
    from offramp.errors import UserError
    from offramp.report.console import frame_table
    from offramp.store import RunStore
    from offramp.store.atomic import write_text
    from offramp.store.query import run_sql

    if output_format not in ("table", "csv", "json"):
        raise UserError(f"--format {output_format!r}: choose table, csv or json")
    if output is not None and output_format == "table":
        raise UserError("--output writes csv or json: add --format csv or --format json")
    frame = run_sql(RunStore.open(run_dir), sql)
    if output_format == "table":
        shown = frame.iloc[:limit, :MAX_TABLE_COLUMNS]
        console.print(frame_table(shown, title=f"{len(frame)} rows"))
        if frame.shape[1] > MAX_TABLE_COLUMNS or len(frame) > limit:
            console.print(f"showing {len(shown):,} of {len(frame):,} rows and {shown.shape[1]} of "
                          f"{frame.shape[1]} columns: --format csv or json gives them all",
                          highlight=False)
        return
    text = frame.to_csv(index=False) if output_format == "csv" else json.dumps(
        frame.astype(object).where(frame.notna(), None).to_dict(orient="records"),
        default=lambda value: value.item() if hasattr(value, "item") else str(value)) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            write_text(output, text)
        except OSError as error:
            raise UserError(f"--output {output}: cannot write it ({error.strerror})") from None
        console.print(f"{len(frame)} rows written to {output}")
