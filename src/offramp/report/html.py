"""The report: one self-contained HTML file (inline SVG, inline CSS, no script, no network),
rendered from a `RunSummary` (`offramp.studies.summary`). It computes nothing and never runs
the engine: what it shows was stored with the run or is read from its tables.
"""

from __future__ import annotations

import datetime as dt
import html
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from offramp.report.figures import (
    changing_lever_policies,
    distribution_figure,
    fan_figure,
    lever_figure,
    svg,
)
from offramp.report.sections import opening_sections
from offramp.report.tables import html_table, text_table
from offramp.report.words import CAVEAT, ParameterNames, names_of_run, side_label
from offramp.store.atomic import write_text
from offramp.studies.summary import Comparison, RunSummary

DISTRIBUTIONS = (
    ("a_territory_share", "{a}'s territory share at the end or the horizon"),
    ("end_week", "Week the war ended (futures where it did)"),
    ("casualties_a", "Casualties, {a} (killed and wounded)"),
    ("casualties_b", "Casualties, {b} (killed and wounded)"),
    ("min_generating_capacity", "{a}'s lowest generating capacity (share of pre-war)"),
    ("escalation_events", "Escalation events (strike surges)"),
)
FAN_SERIES = (
    ("a_territory_share", "{a}'s territory share"),
    ("salient_km2", "{b}'s soil held by {a} (km²)"),
    ("support_a", "Support for fighting on, {a}"),
    ("support_b", "Support for fighting on, {b}"),
    ("generating_capacity", "Generating capacity, {a} (share of pre-war)"),
    ("main_backer_shell_stock", "Main backer's shell stock (rounds)"),
    ("talks_open", "Talks open"),
    ("ladder_rung", "De-escalation ladder rung"),
)
"""Titles name the sides as the scenario does ({a}, {b})."""
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222;
       line-height: 1.45; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { margin-bottom: 0.3em; } table.wide { width: 100%; }
table.wide td.text { overflow-wrap: anywhere; } table.wide td:not(.text) { white-space: nowrap; }
.caveat { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.8em 1em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .figures figure { margin: 0; width: 520px; }
.meta { color: #666; font-size: 0.85em; }
ol.contents { columns: 3; font-size: 0.85em; } details summary { cursor: pointer; }
svg { max-width: 100%; height: auto; }
table { display: block; max-width: 100%; overflow-x: auto; }
@media (max-width: 600px) {
  body { margin: 0.5em auto; padding: 0 0.5em; } ol.contents { columns: 1; }
  .figures figure { width: 100%; }
}
"""


def _figures(figures: list) -> str:
    shown = "".join(f"<figure>{svg(figure)}</figure>" for figure in figures if figure is not None)
    return f'<div class="figures">{shown}</div>'


def _conditioned_section(summary: RunSummary) -> list[tuple[str, str]]:
    """Prior vs conditioned, when the run was weighed by observations (`offramp condition`)."""
    if summary.conditioned is None:
        return []
    made = summary.conditioned_by
    sources = "".join(f"<li>{html.escape(str(s))}</li>" for s in made.get("sources", []))
    under = made.get("under")
    how = (f"every policy weighed by the futures consistent with {html.escape(str(under))}'s "
           "trajectories" if under else "each policy weighed on its own trajectories")
    table = summary.conditioned.rename(columns=lambda c: c.replace("_", " "))
    return [("Conditioned on what has happened", (
        f"<p>The run's futures weighed by {html.escape(str(made.get('observations', '')))} "
        f"(method {html.escape(str(made.get('method', '')))}; {how}): the prior column counts "
        "every future alike, the conditioned one by its weight. An effective sample size in "
        "the low hundreds or less means the conditioned numbers rest on a few futures. The "
        "observations' sources:</p>"
        f"<ul>{sources}</ul>" + html_table(table.round(3))))]


MAX_PAIRED_POLICIES = 12
"""With more policies, every ordered pair would be a table of thousands of rows: each policy is
paired with the most robust one only."""


def _paired_section(comparison: Comparison, names: ParameterNames) -> str:
    paired = comparison.paired
    intro = ("<p>Share of futures in which the first policy does strictly better than the "
             "second (same futures, same noise).")
    decision = comparison.decision
    if len(comparison.table) > MAX_PAIRED_POLICIES and not isinstance(decision, str):
        best = decision.ranking[0]
        pairs = [label for label in paired.index if best in label.split(" vs ")]
        paired = paired.loc[pairs]
        intro += (f" {len(comparison.table):,} policies: each is shown against the most "
                  f"robust, {html.escape(best)}, not against every other (Python: `run.paired()`).")
    return intro + "</p>" + html_table(paired.rename(
        columns=lambda label: side_label(label, names)))


def render_report(summary: RunSummary) -> str:
    """The report as an HTML string: the caveat, the opening analysis (what decides the answer,
    the claims, where each policy fails, regret and satisficing), then the main job's tables,
    the figures, the policies and where every number comes from."""
    manifest, comparison = summary.manifest, summary.comparison
    outcomes, policies = comparison.outcomes, manifest.policies
    names = names_of_run(manifest)
    sides = {"a": names.side("a"), "b": names.side("b")}
    sections = [*opening_sections(summary), *_conditioned_section(summary)] + [
        ("Paired comparison", _paired_section(comparison, names)),
        ("Outcome distributions", _figures([
            distribution_figure(outcomes, policies, column, title.format(**sides))
            for column, title in DISTRIBUTIONS if column in outcomes])),
    ]
    if summary.weekly is not None:
        bands = summary.weekly
        sample = "" if bands.sample is None else (
            f"<p>Bands over the run's first {bands.sample[0]:,} futures of {bands.sample[1]:,} "
            "(a fair sample of them: a percentile is within about 0.2 percentile points of all "
            "futures').</p>")
        sections.append(("Weekly series", sample + _figures([
            fan_figure(bands, policies, column, title.format(**sides))
            for column, title in FAN_SERIES if column in bands])))
        adaptive = changing_lever_policies(bands, policies)
        if adaptive:
            sections.append(("When the levers changed", (
                "<p>Policies whose levers change during the war: a schedule changes them in "
                "every future in the same week; a trigger where and when its signpost is "
                "crossed. Each line is the share of futures with the lever on that week.</p>")
                + _figures([lever_figure(bands, policy) for policy in adaptive])))
    sections += [
        ("Policies", text_table(manifest.policy_details, "policy")),
        ("Where every number comes from",
         f"<details><summary>{len(manifest.parameters):,} parameters: value or distribution, "
         f"unit and source (open)</summary>"
         f"{text_table(manifest.parameters, 'parameter')}</details>"),
    ]
    meta = manifest.scenario_meta
    origin = f"sampler {manifest.sampler}"
    if manifest.branch is not None:
        origin = (f"going on from week {manifest.branch.week} of {manifest.branch.from_run} "
                  f"(until then under {manifest.branch.under}"
                  + (f"; futures resampled by its weights on "
                     f"{(manifest.branch.weights or {}).get('observations')}"
                     if manifest.branch.conditioned else "") + ")")
    run_line = (
        f"{manifest.n_futures:,} futures × {len(policies)} policies · {origin} · seed "
        f"{manifest.seed} · scenario hash {manifest.scenario_hash[:12]} · offramp "
        f"{manifest.offramp_version}"
    )
    return _template().render(
        scenario=manifest.scenario, title=manifest.title, style=Markup(STYLE),
        dates=f"from {meta.get('start_date')} for {meta.get('horizon_weeks')} weeks",
        run_line=run_line, written=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        caveat=CAVEAT,
        sections=[{"anchor": f"s{index}", "title": title, "body": Markup(body)}
                  for index, (title, body) in enumerate(sections)],
    ) + "\n"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("offramp.report", "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template("report.html.j2")


def write_report(summary: RunSummary) -> Path:
    """Write report.html into the run folder (atomically); return its path."""
    path = summary.store.root / "report.html"
    write_text(path, render_report(summary))
    return path.resolve()
