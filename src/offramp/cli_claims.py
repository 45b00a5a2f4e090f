"""`offramp claims`: test a scenario's claims (the sources' statements) on shared futures.

Kept apart from `offramp.cli` so the analysis code is only imported by the command that needs
it. `docs/claims.md` describes claims, the verdict rule and the kursk-2024 results.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from offramp.errors import UserError

if TYPE_CHECKING:
    from offramp.analysis.claims import ClaimResult

STATEMENT_CHARS = 90
VERDICT_STYLE = {
    "holds": "green",
    "holds only under conditions": "yellow",
    "fails": "red",
    "not testable": "dim",
}


def short_statement(text: str, limit: int = STATEMENT_CHARS) -> str:
    """The statement's first sentence, cut to `limit` characters."""
    first = text.strip().split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _number(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.3g}"


def _shares(result: ClaimResult) -> str:
    if result.n_compared == 0:
        return "n/a"
    return (f"{result.holds_share:.0%} (worse {result.fails_share:.0%}, "
            f"ties {result.tie_share:.0%}; n={result.n_compared})")


def _effect(result: ClaimResult) -> str:
    return f"{_number(result.mean_effect)} [{_number(result.ci_low)}, {_number(result.ci_high)}]"


def _conditions(result: ClaimResult) -> str:
    if result.holding_conditions:
        return f"holds where: {result.holding_conditions}\nfails where: {result.failure_conditions}"
    return result.failure_conditions


def claims_rich_table(results: list[ClaimResult], title: str) -> Table:
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
        compared = (f"{short_statement(r.statement)}\n[dim]{escape(r.arm)} vs {escape(r.versus)}; "
                    f"{r.outcome} expected {r.expect}{tolerance}[/]")
        table.add_row(
            r.claim_id, compared, _shares(r), _effect(r),
            f"[{VERDICT_STYLE[r.verdict]}]{r.verdict}[/]", escape(_conditions(r)),
        )
    return table


def claims(
    target: Annotated[
        str, typer.Argument(help="A built-in scenario name or a scenario YAML file.")
    ],
    futures: Annotated[
        int, typer.Option("--futures", help="Futures to run; every arm runs on the same ones.")
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the futures, the engine and the bootstrap.")
    ] = 0,
    claim: Annotated[
        list[str] | None,
        typer.Option("--claim", help="Evaluate only this claim (repeatable); all by default."),
    ] = None,
    sampler: Annotated[str, typer.Option("--sampler", help="lhs, mc or sobol.")] = "lhs",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario value: PATH=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Test the scenario's claims: run both arms of each on the same futures (paired), report
    how often each claim holds, its mean effect with a bootstrap interval, a verdict, and where
    it fails (PRIM). Verdicts are consequences of the scenario's assumptions, not forecasts."""
    from offramp.analysis.claims import evaluate_claims
    from offramp.experiments.sampling import SAMPLERS
    from offramp.scenario.loader import load_scenario

    if Path(target).is_dir():
        raise UserError(
            f"{target}: is a folder; `offramp claims` takes a scenario name or file "
            "(reading claims from a run folder is not supported yet)"
        )
    if futures < 2:
        raise UserError(f"--futures must be at least 2, found {futures}")
    if sampler not in SAMPLERS:
        raise UserError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
    loaded = load_scenario(target, overrides=set_)
    results = evaluate_claims(loaded, n_futures=futures, seed=seed, sampler=sampler,
                              claims=claim or None)
    name = loaded.scenario.scenario.name
    title = f"claims of {name}: {futures} futures, seed {seed}, sampler {sampler}"
    console = Console()
    console.print(claims_rich_table(results, title))
    console.print(
        "[dim]holds share: futures where the arm does better than versus in the expected "
        "direction (paired). Verdict: holds if the 95% interval of the mean effect lies on the "
        "claimed side (beyond any tolerance) and the arm wins at least as often as it loses; "
        "holds only under conditions if a PRIM region with >= 10% of futures passes that test "
        "on futures it was not found on; fails otherwise (docs/claims.md).[/]",
        highlight=False,
    )
