"""`offramp claims`: test a scenario's claims (the sources' statements) on shared futures.

The target is a scenario (built-in name or YAML file: futures are sampled) or a run folder (the
run's scenario, futures and seed). Kept apart from `offramp.cli` so the analysis code is only
imported by the command that needs it. `docs/claims.md` describes claims, the verdict rule and
the kursk-2024 results.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from offramp.cli.app import app, err_console
from offramp.errors import UserError
from offramp.report.console import claims_table, stdout_console

if TYPE_CHECKING:
    from offramp.experiments.sampling import Sampler
    from offramp.report.words import ParameterNames
    from offramp.studies.claims import ClaimResult

DEFAULT_FUTURES = 2000  # = offramp.studies.claims.DEFAULT_FUTURES (not imported: it is slow)
RUN_DEFAULT_FUTURES = 10_000  # = offramp.studies.summary.CLAIMS_MAX_FUTURES: what a run's
# report judges its claims on, so that `claims RUN` and the report agree unless told otherwise


def check_target(target: str) -> str:
    """What `target` is: `run` (a run folder) or `scenario` (a YAML file or a built-in name);
    anything else is a UserError in one line."""
    from offramp.scenario.loader import builtin_scenarios
    from offramp.store.run_store import MANIFEST

    path = Path(target)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return "run"
        raise UserError(
            f"{target}: is a folder but not a run folder (no {MANIFEST}); `offramp claims` takes "
            "a built-in scenario name, a scenario YAML file or a run folder from `offramp run`"
        )
    builtins = builtin_scenarios()
    if path.is_file() or target in builtins:
        return "scenario"
    guess = difflib.get_close_matches(target, list(builtins), n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    raise UserError(
        f"'{target}' is neither a scenario (a built-in name: {', '.join(builtins)}; or a YAML "
        f"file) nor a run folder{hint}"
    )


@app.command()
def claims(
    target: Annotated[
        str, typer.Argument(help="A built-in scenario name, a scenario YAML file, or a run "
                                 "folder (from `offramp run`).")
    ],
    futures: Annotated[
        int | None, typer.Option(
            "--futures", help=f"Futures to run; every arm runs on the same ones (default "
                              f"{DEFAULT_FUTURES:,}). On a run folder: its first N futures, all "
                              f"if fewer (default {RUN_DEFAULT_FUTURES:,}, as its report uses).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the futures, the engine and the bootstrap "
                                    "(default 0; a run folder uses its own)."),
    ] = None,
    claim: Annotated[
        list[str] | None,
        typer.Option("--claim", help="Evaluate only this claim (repeatable); all by default. On a "
                                   "run folder only a run of all claims is stored for its "
                                   "report."),
    ] = None,
    sampler: Annotated[
        str | None,
        typer.Option("--sampler", help="lhs (default), mc or sobol; not with a run folder."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario value: PATH=VALUE (repeatable); not "
                                   "with a run folder."),
    ] = None,
) -> None:
    """Test the scenario's claims: run both arms of each on the same futures (paired), report
    how often each claim holds, its mean effect with a bootstrap interval, a verdict, and where
    it fails (PRIM). On a run folder: the run's scenario, its first --futures futures and its
    seed. Verdicts are consequences of the scenario's assumptions, not forecasts."""
    kind = check_target(target)
    if futures is None:
        futures = RUN_DEFAULT_FUTURES if kind == "run" else DEFAULT_FUTURES
    if seed is not None and not 0 <= seed < 2**63:
        raise UserError(f"--seed must be a whole number from 0 to 2**63 - 1, found {seed}")
    if futures < 2:
        raise UserError(f"--futures must be at least 2, found {futures}")
    if kind == "run":
        given = [name for name, value in (("--seed", seed is not None),
                                          ("--sampler", sampler is not None),
                                          ("--set", bool(set_))) if value]
        if given:
            raise UserError(
                f"{' and '.join(given)} cannot be used with a run folder: the claims run on the "
                f"run's own scenario, futures and seed (run them on a scenario instead)"
            )
        results, names, title = _run_claims(target, futures, claim)
    else:
        results, names, title = _scenario_claims(target, futures, seed or 0, sampler or "lhs",
                                                 claim, set_)
    console = stdout_console()
    console.print(claims_table(results, names, title))
    console.print(
        "[dim]holds share: futures where the arm does better than versus in the expected "
        "direction (paired). Verdict: holds if the 95% interval of the mean effect lies on the "
        "claimed side (beyond any tolerance) and the arm wins at least as often as it loses; "
        "holds only under conditions if a PRIM region with >= 10% of futures passes that test "
        "on futures it was not found on; fails otherwise. Some verdicts are set by the model's "
        "structure rather than by the claim (docs/claims.md says which for kursk-2024): read it "
        "before quoting one.[/]",
        highlight=False,
    )


def _scenario_claims(target: str, futures: int, seed: int, sampler: str,
                     claim: list[str] | None, set_: list[str] | None
                     ) -> tuple[list[ClaimResult], ParameterNames, str]:
    from offramp.experiments.sampling import SAMPLERS
    from offramp.report.words import names_of_scenario
    from offramp.scenario.loader import load_scenario
    from offramp.studies.claims import evaluate_claims

    if sampler not in SAMPLERS:
        raise UserError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
    loaded = load_scenario(target, overrides=set_)
    with err_console.status(f"judging the claims of {loaded.scenario.scenario.name} on "
                            f"{futures:,} futures..."):
        results = evaluate_claims(loaded, n_futures=futures, seed=seed,
                                  sampler=cast("Sampler", sampler),  # one of SAMPLERS (checked)
                                  claims=claim or None)
    name = loaded.scenario.scenario.name
    return (results, names_of_scenario(loaded.scenario),
            f"claims of {name}: {futures} futures, seed {seed}, sampler {sampler}")


def _run_claims(target: str, futures: int, claim: list[str] | None
                ) -> tuple[list[ClaimResult], ParameterNames, str]:
    """Judge the claims on a run folder; all of them are stored with the run for its report."""
    from offramp.experiments.manifest import RunManifest
    from offramp.report.words import names_of_run
    from offramp.store import RunStore
    from offramp.studies.claims import evaluate_run_claims, save_claims

    store = RunStore.open(Path(target))
    with err_console.status("judging the claims on the run's futures..."):
        run = evaluate_run_claims(store, max_futures=futures, claims=claim or None)
    title = (f"claims of {run.scenario} on run {run.root}: {run.selection} futures, "
             f"seed {run.seed}")
    if not claim:
        title += f"; stored in {save_claims(store, run)}"
    return run.results, names_of_run(RunManifest.of(store)), title
