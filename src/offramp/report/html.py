"""The report: one self-contained HTML file (inline SVG, inline CSS, no script, no network)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from offramp.analysis.compare import paired_wins, summary_table  # noqa: E402
from offramp.report.console import CAVEAT  # noqa: E402
from offramp.store import RunStore  # noqa: E402
from offramp.store.atomic import write_text  # noqa: E402

DISTRIBUTIONS = (
    ("a_territory_share", "Side a's territory share at the end or the horizon"),
    ("end_week", "Week the war ended (futures where it did)"),
    ("casualties_a", "Casualties, side a"),
    ("casualties_b", "Casualties, side b"),
    ("min_generating_capacity", "Lowest generating capacity (share of pre-war)"),
    ("escalation_events", "Escalation events"),
)
FAN_SERIES = (
    ("a_territory_share", "Side a's territory share"),
    ("salient_km2", "Enemy soil held by side a (km²)"),
    ("support_a", "Support for fighting on, side a"),
    ("support_b", "Support for fighting on, side b"),
    ("generating_capacity", "Generating capacity, side a"),
    ("main_backer_shell_stock", "Main backer's shell stock"),
    ("talks_open", "Talks open"),
    ("ladder_rung", "De-escalation ladder rung"),
)
MEAN_ONLY = {"talks_open", "ladder_rung"}  # 0/1 or small integers: a mean says more than bands
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
"""


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    # drop matplotlib's RDF metadata block: it only names the tool and the date
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return text[text.index("<svg") :]


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    head = "".join(
        f'<th class="{"text" if c in text_columns else ""}">{html.escape(str(c))}</th>'
        for c in [frame.index.name or "", *frame.columns]
    )
    rows = []
    for label, row in frame.iterrows():
        cells = [f'<td class="text">{html.escape(str(label))}</td>']
        for column, value in row.items():
            css = "text" if column in text_columns else ""
            cells.append(f'<td class="{css}">{_cell(value)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _distribution_figures(outcomes: pd.DataFrame, policies: list[str]) -> str:
    figures = []
    for column, title in DISTRIBUTIONS:
        if column not in outcomes:
            continue
        figure, axes = plt.subplots(figsize=(5.2, 3.0))
        values = outcomes[column].astype(float)
        if column == "end_week":
            values = values.where(outcomes["ended"].astype(bool))
        finite = values[np.isfinite(values)]
        if finite.empty:
            plt.close(figure)
            continue
        bins = np.histogram_bin_edges(finite, bins=40)
        for policy in policies:
            policy_values = values[(outcomes["policy"] == policy) & np.isfinite(values)]
            axes.hist(
                policy_values, bins=bins, histtype="step", linewidth=1.5, label=policy, density=True
            )
        axes.set_title(title, fontsize=10)
        axes.set_ylabel("density")
        axes.legend(fontsize=8)
        figures.append(f"<figure>{_svg(figure)}</figure>")
    return '<div class="figures">' + "".join(figures) + "</div>"


def _fan_charts(series: pd.DataFrame, policies: list[str]) -> str:
    figures = []
    for column, title in FAN_SERIES:
        if column not in series:
            continue
        figure, axes = plt.subplots(figsize=(5.2, 3.0))
        for policy in policies:
            weekly = series.loc[series["policy"] == policy].groupby("week")[column]
            bands = weekly.quantile([0.1, 0.5, 0.9]).unstack()
            line = axes.plot(bands.index, bands[0.5], label=policy, linewidth=1.5)[0]
            axes.fill_between(
                bands.index, bands[0.1], bands[0.9], alpha=0.15, color=line.get_color()
            )
        axes.set_title(f"{title}: median and 10–90% of futures", fontsize=10)
        axes.set_xlabel("week")
        axes.legend(fontsize=8)
        figures.append(f"<figure>{_svg(figure)}</figure>")
    return '<div class="figures">' + "".join(figures) + "</div>"


def _text_table(rows: list[dict], index: str) -> str:
    frame = pd.DataFrame(rows).set_index(index)
    return _table(frame, text_columns=tuple(frame.columns))


def render_report(
    store: RunStore, extra_sections: list[tuple[str, str]] | None = None, analysis: bool = True
) -> str:
    """The report as an HTML string.

    It opens, after the caveat, with the analysis (`offramp.report.analysis_sections`: what
    decides the answer, the claims, where each policy fails, regret and satisficing) unless
    `analysis` is False, then any `extra_sections` (title, html), then the main job's tables.
    """
    manifest = store.manifest
    outcomes = store.read_outcomes()
    policies = manifest["policies"]
    meta = manifest["scenario_meta"]
    opening = []
    if analysis:
        from offramp.report.analysis_sections import analysis_sections

        opening = analysis_sections(store)
    sections = [*opening, *(extra_sections or [])] + [
        ("Comparison per policy", _table(summary_table(outcomes, policies).T)),
        (
            "Paired comparison",
            "<p>Share of futures in which the first policy does strictly better than the second "
            "(same futures, same noise).</p>" + _table(paired_wins(outcomes)),
        ),
        ("Outcome distributions", _distribution_figures(outcomes, policies)),
    ]
    if manifest.get("series"):
        sections.append(("Weekly series", _fan_charts(store.read_series(), policies)))
    sections += [
        ("Policies", _text_table(manifest["policy_details"], "policy")),
        ("Where every number comes from", _text_table(manifest["parameters"], "parameter")),
    ]
    body = "".join(f"<section><h2>{html.escape(t)}</h2>{b}</section>" for t, b in sections)
    run_line = (
        f"{manifest['n_futures']:,} futures × {len(policies)} policies · sampler "
        f"{manifest['sampler']} · seed {manifest['seed']} · scenario hash "
        f"{manifest['scenario_hash'][:12]} · offramp {manifest['versions'].get('offramp')}"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>offramp report: {html.escape(meta["name"])}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(meta["title"])}</h1>
<p class="meta">{html.escape(meta["name"])} · from {meta["start_date"]} for
{meta["horizon_weeks"]} weeks · {html.escape(run_line)} · written
{dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}</p>
<p class="caveat"><strong>Not a forecast.</strong> {html.escape(CAVEAT)} Each future is one draw
of every uncertain parameter; the spread below is the spread of those assumptions, not a
probability that the world will turn out so.</p>
{body}
</body></html>
"""


def write_report(
    store: RunStore, extra_sections: list[tuple[str, str]] | None = None, analysis: bool = True
) -> Path:
    path = store.root / "report.html"
    write_text(path, render_report(store, extra_sections, analysis))
    return path.resolve()
