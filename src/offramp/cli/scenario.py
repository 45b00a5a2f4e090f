"""`offramp scenarios`, `validate` and `explain`: the built-in scenarios and a scenario's file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from offramp.cli.app import SetOption, app, console


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
    from offramp.scenario.sources import hindsight
    from offramp.scenario.walk import scenario_parameters

    loaded = load_scenario(scenario, overrides=set_)
    params = scenario_parameters(loaded.scenario)
    uncertain = sum(p.is_uncertain for p in params.values())
    as_of = loaded.scenario.scenario.as_of
    console.print(
        f"[green]valid[/]: {escape(loaded.source)} — {len(params)} parameters "
        f"({uncertain} uncertain), {len(loaded.scenario.policies)} policies"
        + (f"; as of {as_of.isoformat()}" if as_of else "; no as_of date (sources not checked "
           "for hindsight)"),
        highlight=False,
    )
    for item in hindsight(loaded.scenario, as_of) if as_of else []:
        console.print(f"  hindsight: {escape(item.path)} cites a source of "
                      f"{item.source_date.written}: {escape(item.reason or '')}", highlight=False)


@app.command()
def explain(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    set_: SetOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every parameter with its full source, "
                                                     "and every lever of every policy.")] = False,
) -> None:
    """Print a scenario: actors, theaters, its 20 most influential parameters (a quick
    screening run of a few seconds) or, with --all, every one with unit and source; policies."""
    from offramp.report.explain import explain_scenario
    from offramp.scenario.loader import load_scenario
    from offramp.studies.influence import influential_parameters

    loaded = load_scenario(scenario, overrides=set_)
    if all_:
        explain_scenario(loaded, console)
        return
    with console.status("screening the parameters' influence (a small run)..."):
        influential = influential_parameters(loaded.scenario)
    explain_scenario(loaded, console, influential)


@app.command()
def schema() -> None:
    """Print the scenario language as JSON Schema, for an editor's completion and checks
    (e.g. `offramp schema > scenario.schema.json`, then in VS Code with the YAML extension:
    `# yaml-language-server: $schema=scenario.schema.json` at the top of a scenario file)."""
    import json
    import sys

    from offramp.scenario.schema import Scenario

    document = Scenario.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "offramp scenario"
    # The loader reads `extends` before validating: a variant names its parent scenario.
    document["properties"]["extends"] = {
        "type": "string", "description": "A built-in scenario or a file this one changes."}
    sys.stdout.write(json.dumps(document, indent=1) + "\n")
