"""The `offramp` command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from offramp.errors import UserError

app = typer.Typer(
    name="offramp",
    help="A lab for war-termination strategy. It explores assumptions; it does not forecast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: PATH=VALUE, e.g. combat.noise_sd.value=0.2 (repeatable).",
    ),
]


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from offramp.report.explain import scenarios_table
    from offramp.scenario.loader import builtin_scenarios, load_scenario

    loaded = [load_scenario(name) for name in builtin_scenarios()]
    console.print(scenarios_table(loaded))


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    set_: SetOption = None,
) -> None:
    """Check a scenario file; exit 2 with the file, line and field of every problem."""
    from offramp.scenario.loader import load_scenario
    from offramp.scenario.walk import scenario_parameters

    loaded = load_scenario(scenario, overrides=set_)
    params = scenario_parameters(loaded.scenario)
    uncertain = sum(p.is_uncertain for p in params.values())
    console.print(
        f"[green]valid[/]: {escape(loaded.source)} — {len(params)} parameters "
        f"({uncertain} uncertain), {len(loaded.scenario.policies)} policies",
        highlight=False,
    )


@app.command()
def explain(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    set_: SetOption = None,
) -> None:
    """Print a scenario: actors, theaters, every parameter with unit and source, the policies."""
    from offramp.report.explain import explain_scenario
    from offramp.scenario.loader import load_scenario

    explain_scenario(load_scenario(scenario, overrides=set_), console)


def main() -> None:
    """Entry point: user mistakes become one paragraph on stderr and exit code 2."""
    try:
        app()  # standalone: usage errors exit 2 with click's message
    except UserError as error:
        err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(error.exit_code)


from offramp.cli_calibrate import calibrate  # noqa: E402

app.command("calibrate")(calibrate)
