"""`offramp explain`: a scenario in plain tables, every number with its unit and source."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table

from offramp.report.words import first_sentence, printable
from offramp.scenario.loader import LoadedScenario
from offramp.scenario.schema import Backer, Belligerent, Rival
from offramp.scenario.walk import iter_parameters
from offramp.studies.influence import SCREENING_FUTURES


def escape(text: str) -> str:
    """Scenario text for the terminal: no control characters, no rich markup."""
    return escape_markup(printable(str(text)))


def scenarios_table(loaded: list[LoadedScenario]) -> Table:
    table = Table(title="Built-in scenarios", show_lines=False)
    for column in ("name", "title", "start", "weeks", "policies"):
        table.add_column(column)
    for item in loaded:
        meta = item.scenario.scenario
        table.add_row(
            meta.name,
            escape(meta.title),
            meta.start_date.isoformat(),
            str(meta.horizon_weeks),
            ", ".join(item.scenario.policies),
        )
    return table


def _actor_kind(actor) -> str:
    if isinstance(actor, Belligerent):
        return f"belligerent, side {actor.side}"
    if isinstance(actor, Backer):
        return f"backer of {actor.backs}"
    if isinstance(actor, Rival):
        return f"latent rival ({actor.theater_name}), tests {actor.of_backer}"
    return type(actor).__name__


def explain_scenario(loaded: LoadedScenario, console: Console,
                     influential: pd.Series | None = None) -> None:
    """Print actors, theaters, the parameters (every one, or only the `influential` ones: a
    ranking by importance), and the policies (every lever, or only those a policy sets)."""
    scenario = loaded.scenario
    meta = scenario.scenario
    console.rule(f"[bold]{escape(meta.name)}[/]: {escape(meta.title)}")
    as_of = f"  ·  as of {meta.as_of.isoformat()}" if meta.as_of else ""
    console.print(
        f"from {meta.start_date.isoformat()}, {meta.horizon_weeks} weeks "
        f"of {meta.step_days} days{as_of}  ·  {escape(loaded.source)}",
        highlight=False,
    )
    if meta.description:
        console.print(escape(meta.description))
    console.print(
        "[italic]offramp explores the consequences of these stated assumptions; "
        "it does not forecast.[/]"
    )

    actors = Table(title="Actors")
    actors.add_column("id")
    actors.add_column("name")
    actors.add_column("role")
    for key, actor in scenario.actors.items():
        actors.add_row(key, escape(actor.name), escape(_actor_kind(actor)))
    console.print(actors)

    theaters = Table(title="Theaters")
    for column in ("id", "name", "kind", "soil of"):
        theaters.add_column(column)
    for key, theater in scenario.theaters.items():
        theaters.add_row(key, escape(theater.name), theater.kind, theater.soil_of)
    console.print(theaters)

    every = dict(iter_parameters(scenario))
    full = influential is None
    ranking = pd.Series(dtype=float) if influential is None else influential
    shown = list(every) if full else list(ranking.index)
    title = "Parameters" if full else (
        f"The {len(shown)} most influential of {len(every)} parameters (PAWN on "
        f"{SCREENING_FUTURES:,} futures, {', '.join(scenario.default_policies)}; "
        f"`explain --all` lists every one)")
    params = Table(title=escape(title), show_lines=full)
    params.add_column("parameter", overflow="fold")
    if not full:
        params.add_column("influence", justify="right")
    params.add_column("value or distribution", overflow="fold")
    params.add_column("unit", overflow="fold")
    params.add_column("source", overflow="fold", ratio=3)
    for path in shown:
        param = every[path]
        source = param.source if full else first_sentence(param.source, 90)
        if param.hindsight:
            source += f"\nHINDSIGHT (after as_of): {param.hindsight}"
        cells = [escape(path), *([] if full else [f"{ranking[path]:.2f}"]),
                 escape(param.describe()), escape(param.unit), escape(source)]
        params.add_row(*cells)
    console.print(params)

    policies = Table(title="Policies", show_lines=True)
    policies.add_column("policy")
    policies.add_column("levers" if full else "levers it sets", overflow="fold")
    policies.add_column("description and source" if full else "description", overflow="fold",
                        ratio=2)
    for name, policy in scenario.policies.items():
        levers = policy.model_dump(exclude={"description", "source"},
                                   exclude_defaults=not full)
        lever_text = "\n".join(f"{k} = {v}" for k, v in levers.items())
        text = f"{policy.description}\nsource: {policy.source}" if full \
            else first_sentence(policy.description, 200)
        policies.add_row(name, escape(lever_text), escape(text))
    console.print(policies)
