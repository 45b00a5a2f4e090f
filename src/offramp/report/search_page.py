"""A search's page (`search.html` in the search folder): the trade-offs in parallel
coordinates, where the scenario's own policies sit against the front on fresh futures,
convergence, and the front's best on each objective. Self-contained like the run's report."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
from matplotlib.figure import Figure

from offramp.report.figures import SMALL, parallel_figure, svg
from offramp.report.html import STYLE
from offramp.report.tables import html_table
from offramp.report.words import CAVEAT
from offramp.studies.search import SearchResult


def convergence_figure(convergence: pd.DataFrame) -> Figure:
    """Hypervolume of the archive's front by generation."""
    figure = Figure(figsize=SMALL)
    axes = figure.add_subplot()
    axes.plot(convergence["generation"], convergence["hypervolume"], marker="o", linewidth=1.5)
    axes.set_xlabel("generation")
    axes.set_ylabel("hypervolume")
    axes.set_title("Convergence: the objective space the front dominates", fontsize=10)
    return figure


def render_search(result: SearchResult, scenario: str) -> str:
    """The page as an HTML string (every text escaped)."""
    labels, goals = result.objectives, result.goals
    front = result.front.drop(columns=["candidate", "generation", "feasible"])
    best = sorted({int(front[label].to_numpy().argmax() if goal == "max"
                       else front[label].to_numpy().argmin())
                   for label, goal in zip(labels, goals, strict=True)})
    objectives = ", ".join(f"{goal} {label}" for label, goal in zip(labels, goals, strict=True))
    parts = [f"<p>{html.escape(CAVEAT)}</p>",
             f"<p>Objectives: {html.escape(objectives)}. {len(front):,} policies on the front, "
             f"from {int(result.convergence['evaluations'].iloc[-1]):,} candidates judged.</p>"]
    if result.reevaluation is not None:
        table = result.reevaluation
        parts += ["<h2>On fresh futures: the front and the scenario's policies</h2>",
                  svg(parallel_figure(table, labels, goals)),
                  "<ul>" + "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
                  + "</ul>"]
        own = table.loc[table["kind"] == "scenario"].set_index("name")
        own = own.assign(dominated_by=own["dominated_by"].map(
            lambda text: len([name for name in text.split(", ") if name])))
        parts.append(html_table(own[[*labels, "non_dominated", "dominated_by"]]
                                .rename(columns={"dominated_by": "dominated by (count)"})))
    parts += ["<h2>The front's best on each objective (search futures)</h2>",
              html_table(front.iloc[best].set_index("name")),
              "<h2>Convergence</h2>", svg(convergence_figure(result.convergence))]
    written = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>offramp search: {html.escape(scenario)}</title><style>{STYLE}</style>"
            f"</head><body><h1>Policy search: {html.escape(scenario)}</h1>"
            f"<p class=\"meta\">written {written}; front.yaml holds the front as scenario "
            "policies</p>" + "".join(parts) + "</body></html>\n")
