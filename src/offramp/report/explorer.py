"""`offramp explore RUN`: a local web app over a run folder, built with Dash (Plotly).

The analyst restricts uncertain parameters with range sliders (or applies a PRIM box in one
click) and sees at once, per policy: the share of futures meeting the run's requirements, the
share ended, the median territory share, regret, which policy wins in the region, an outcome's
distribution and a weekly series' fan. Every answer is `offramp.studies.explore.Explorer`'s
DuckDB queries on the run's Parquet files: the browser never receives the futures themselves.

The same answers are served as JSON, so they can be tested and scripted without the page:

* ``GET /api/parameters`` — each uncertain parameter's label and range;
* ``GET /api/suggestions`` — the PRIM boxes where each policy misses the requirements;
* ``POST /api/region`` with ``{"ranges": {name: [low, high]}, "outcome": ..., "series": ...}``
  — the summary, the distribution and the fan of that region.

Dash serves its scripts from the Python package (``serve_locally``): the page works offline and
asks no host but the local server.
"""

from __future__ import annotations

import math
from typing import Any

from offramp.errors import UserError
from offramp.report.figures import PALETTE
from offramp.report.html import DISTRIBUTIONS, FAN_SERIES
from offramp.report.words import condition_phrase, join_phrases, names_of_run, side_label
from offramp.store import RunStore
from offramp.studies.explore import Explorer, Fan, Histogram, RegionSummary, Suggestion

DEFAULT_CONTROLS = 4
"""Sliders shown on opening: the parameters of the PRIM boxes first (where the answer turns)."""
SLIDER_STEPS = 200
MARGIN = {"l": 60, "r": 10, "t": 40, "b": 100}
LEGEND = {"orientation": "h", "y": -0.3}  # below the axis title, not on it

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 0.8rem 1.2rem; border-bottom: 1px solid #ddd; }
header h1 { font-size: 1.25rem; margin: 0 0 0.3rem 0; }
.note { color: #555; font-size: 0.85rem; margin: 0.2rem 0; }
.columns { display: flex; flex-wrap: wrap; gap: 1rem; padding: 1rem 1.2rem; }
.controls { flex: 1 1 320px; max-width: 460px; }
.answers { flex: 3 1 560px; min-width: 0; }
.control { margin: 0.9rem 0 1.3rem 0; }
.control label { display: block; font-size: 0.85rem; margin-bottom: 0.3rem; }
.suggestion { display: block; width: 100%; text-align: left; margin: 0.3rem 0; padding: 0.4rem;
              background: #f4f7fb; border: 1px solid #c9d6e6; border-radius: 4px;
              cursor: pointer; font-size: 0.8rem; }
table.policies { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
table.policies th, table.policies td { padding: 0.3rem 0.5rem; border-bottom: 1px solid #e4e4e4;
              text-align: right; }
table.policies th:first-child, table.policies td:first-child { text-align: left; }
tr.best { font-weight: 600; background: #eef6ee; }
.headline { font-size: 1.05rem; margin: 0.3rem 0 0.8rem 0; }
.dash-range-slider-input { width: 9ch !important; }
"""


def _json_safe(value: Any) -> Any:
    """NaN (a week no future of a policy reached) as null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _share(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0%}"


class ExplorerApp:
    """The explorer's answers in the page's words (labels, tables, figures), over an Explorer."""

    def __init__(self, store: RunStore):
        self.explorer = Explorer(store)
        self.manifest = self.explorer.manifest
        self.policies = list(self.manifest.policies)
        self.names = names_of_run(self.manifest)
        self.sides = {"a": self.names.side("a"), "b": self.names.side("b")}
        self.bounds = self.explorer.parameter_ranges()
        self.outcomes = {column: title.format(**self.sides) for column, title in DISTRIBUTIONS}
        self.series = ({column: title.format(**self.sides) for column, title in FAN_SERIES}
                       if self.explorer.has_series else {})

    def title(self) -> str:
        return (f"Exploring {self.manifest.scenario}: {self.explorer.n_futures:,} futures × "
                f"{len(self.policies)} policies ({', '.join(self.policies)})")

    def label(self, parameter: str) -> str:
        unit = self.names.units.get(parameter, "")
        return self.names.label(parameter) + (f" ({unit})" if unit else "")

    def suggestion_text(self, suggestion: Suggestion) -> str:
        """"drip-feed misses them in 65% of futures where Ukraine's combat quality is below
        1.32 and …" in the scenario's names and units."""
        phrases = [condition_phrase(self.names.label(p), limit, self.bounds.get(p),
                                    self.names.unit(p))
                   for p, limit in suggestion.ranges.items()]
        return (f"{suggestion.policy} misses them in {suggestion.density:.0%} of futures where "
                f"{join_phrases(phrases)}")

    def colour(self, policy: str) -> str:
        return PALETTE[self.policies.index(policy) % len(PALETTE)]

    def default_controls(self) -> list[str]:
        chosen: list[str] = []
        for suggestion in self.explorer.suggestions():
            chosen += [p for p in suggestion.ranges if p in self.bounds and p not in chosen]
        chosen += [p for p in self.bounds if p not in chosen]
        return chosen[:DEFAULT_CONTROLS]

    def check_ranges(self, raw: Any) -> dict[str, tuple[float, float]]:
        """Ranges from a request: {parameter: [low, high]} (a user's input, checked here)."""
        if not isinstance(raw, dict):
            raise UserError('"ranges" must be an object {parameter: [low, high]}')
        ranges = {}
        for name, pair in raw.items():
            if not (isinstance(pair, list | tuple) and len(pair) == 2
                    and all(isinstance(v, int | float) for v in pair)):
                raise UserError(f"the range of {name!r} must be two numbers [low, high]")
            ranges[str(name)] = (float(pair[0]), float(pair[1]))
        return ranges

    def answer(self, ranges: dict[str, tuple[float, float]], outcome: str | None,
               series: str | None) -> tuple[RegionSummary, Histogram | None, Fan | None]:
        summary = self.explorer.summary(ranges)
        histogram = self.explorer.distribution(ranges, outcome) if outcome else None
        fan = self.explorer.fan(ranges, series) if series else None
        return summary, histogram, fan

    # --- the page's parts ----------------------------------------------------------------------

    def headline(self, summary: RegionSummary) -> str:
        if not summary.futures:
            return "No future of this run lies in every range: widen one."
        region = ("all futures" if summary.share == 1 else
                  f"{summary.futures:,} futures ({summary.share:.1%} of the run)")
        best = summary.policies[summary.best] if summary.best else None
        if best is None:
            return f"{region}."
        return (f"In {region}, {summary.best} meets the requirements most often: in "
                f"{best.meets:.0%} of them.")

    def table_rows(self, summary: RegionSummary) -> list[dict[str, Any]]:
        rows = []
        for policy, found in summary.policies.items():
            rows.append({"policy": policy, "best": policy == summary.best,
                         "cells": [_share(found.meets), _share(found.ended),
                                   f"{found.territory_median:.1%}", f"{found.regret_p90:.3f}"]})
        return rows

    TABLE_HEADINGS = ("policy", "meets the requirements", "war ended",
                      "{a}'s territory share, median", "territory-share regret, p90")

    def distribution_figure(self, histogram: Histogram | None) -> dict[str, Any]:
        if histogram is None:
            return {"data": [], "layout": {"title": {"text": "no outcome chosen"}}}
        edges = histogram.edges
        centres = [(low + high) / 2 for low, high in zip(edges, edges[1:], strict=False)]
        data = [{"type": "bar", "x": centres, "y": histogram.shares[p], "name": p,
                 "marker": {"color": self.colour(p)}, "opacity": 0.75}
                for p in self.policies if p in histogram.shares]
        title = self.outcomes.get(histogram.outcome, histogram.outcome)
        return {"data": data, "layout": {
            "title": {"text": title, "font": {"size": 14}}, "barmode": "group",
            "xaxis": {"title": {"text": side_label(title, self.names)}},
            "yaxis": {"title": {"text": "share of the region's futures"}, "tickformat": ".0%"},
            "margin": MARGIN, "legend": LEGEND}}

    def fan_figure(self, fan: Fan | None) -> dict[str, Any]:
        if fan is None:
            text = ("weekly series: this run has none (run it with --series)"
                    if not self.series else "no series chosen")
            return {"data": [], "layout": {"title": {"text": text, "font": {"size": 14}}}}
        data: list[dict[str, Any]] = []
        for policy in self.policies:
            bands, colour = fan.bands[policy], self.colour(policy)
            if fan.binary:
                data.append({"type": "scatter", "x": fan.weeks, "y": bands["share"],
                             "name": policy, "line": {"color": colour}})
                continue
            data += [
                {"type": "scatter", "x": fan.weeks, "y": bands["p10"], "line": {"width": 0},
                 "showlegend": False, "hoverinfo": "skip", "legendgroup": policy},
                {"type": "scatter", "x": fan.weeks, "y": bands["p90"], "line": {"width": 0},
                 "fill": "tonexty", "fillcolor": colour + "22", "showlegend": False,
                 "hoverinfo": "skip", "legendgroup": policy},
                {"type": "scatter", "x": fan.weeks, "y": bands["p50"], "name": policy,
                 "line": {"color": colour}, "legendgroup": policy},
            ]
        what = "share of futures" if fan.binary else "median and 10–90% of futures"
        if fan.sample is not None:
            what += f" (of the run's first {fan.sample[0]:,} of {fan.sample[1]:,})"
        title = self.series.get(fan.series, fan.series)
        return {"data": data, "layout": {
            "title": {"text": f"{title}: {what}", "font": {"size": 14}},
            "xaxis": {"title": {"text": "week"}},
            "yaxis": {"title": {"text": "share of futures" if fan.binary else title}},
            "margin": MARGIN, "legend": LEGEND}}


def create_app(store: RunStore) -> Any:
    """The Dash app over a run folder (its Flask server is `app.server`)."""
    from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
    from flask import jsonify, request

    page = ExplorerApp(store)
    manifest = page.manifest
    app = Dash(__name__, title=f"offramp explore: {manifest.scenario}", serve_locally=True,
               update_title="", assets_ignore=".*")
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")
    server = app.server

    # --- JSON -----------------------------------------------------------------------------

    @server.errorhandler(UserError)
    def _user_error(error: UserError) -> Any:
        return jsonify({"error": str(error)}), 400

    @server.get("/api/parameters")
    def _parameters() -> Any:
        return jsonify({name: {"label": page.label(name), "low": low, "high": high}
                        for name, (low, high) in page.bounds.items()})

    @server.get("/api/suggestions")
    def _suggestions() -> Any:
        return jsonify([vars(s) for s in page.explorer.suggestions()])

    @server.post("/api/region")
    def _region() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise UserError('send a JSON object {"ranges": {parameter: [low, high]}, '
                            '"outcome": ..., "series": ...}')
        summary, histogram, fan = page.answer(page.check_ranges(body.get("ranges", {})),
                                              body.get("outcome"), body.get("series"))
        return jsonify(_json_safe({"summary": summary.as_dict(),
                                   "distribution": vars(histogram) if histogram else None,
                                   "fan": vars(fan) if fan else None}))

    # --- the page -------------------------------------------------------------------------

    suggestions = page.explorer.suggestions()
    outcome_choice = next(iter(page.outcomes), None)
    series_choice = next(iter(page.series), None)
    requirements = " and ".join(manifest.requirements) or "none"
    app.layout = html.Div([
        html.Header([
            html.H1(page.title()),
            html.P(f"Requirements each policy is judged by: {requirements}. Restrict the "
                   "uncertain parameters to ask \"what if\"; every number is over the futures "
                   "in all the ranges.", className="note"),
            html.P("Exploratory modelling: these are consequences of the scenario's "
                   "assumptions across sampled futures, not forecasts.", className="note"),
        ]),
        html.Div([
            html.Div([
                html.H2("Restrict the parameters", style={"fontSize": "1rem"}),
                dcc.Dropdown(id="chosen", multi=True, value=page.default_controls(),
                             options=[{"label": page.label(p), "value": p}
                                      for p in page.bounds],
                             placeholder="add a parameter…"),
                html.Div(id="sliders"),
                html.Button("Clear every range", id="clear", className="suggestion"),
                html.H2("Where each policy misses the requirements (PRIM)",
                        style={"fontSize": "1rem"}),
                html.P("Apply a box as the filter in one click.", className="note"),
                html.Div([
                    html.Button(page.suggestion_text(s), className="suggestion",
                                id={"type": "suggestion", "index": i})
                    for i, s in enumerate(suggestions)
                ] or [html.P("PRIM found no box.", className="note")]),
                dcc.Store(id="preset", data={}),
            ], className="controls"),
            html.Div([
                html.P(id="headline", className="headline"),
                html.Table(id="policies", className="policies"),
                dcc.Dropdown(id="outcome", value=outcome_choice, clearable=False,
                             options=[{"label": t, "value": c}
                                      for c, t in page.outcomes.items()]),
                dcc.Graph(id="distribution", config={"displaylogo": False}),
                dcc.Dropdown(id="series", value=series_choice, clearable=False,
                             options=[{"label": t, "value": c} for c, t in page.series.items()],
                             disabled=not page.series),
                dcc.Graph(id="fan", config={"displaylogo": False}),
            ], className="answers"),
        ], className="columns"),
    ])

    @app.callback(Output("chosen", "value"), Output("preset", "data"),
                  Input({"type": "suggestion", "index": ALL}, "n_clicks"),
                  Input("clear", "n_clicks"), prevent_initial_call=True)
    def _apply(_clicks: list[int | None], _clear: int | None) -> Any:
        trigger = ctx.triggered_id
        if trigger == "clear":
            return [], {}
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return no_update, no_update
        box = suggestions[trigger["index"]]
        ranges = {p: list(r) for p, r in box.ranges.items() if p in page.bounds}
        return list(ranges), ranges

    @app.callback(Output("sliders", "children"), Input("chosen", "value"),
                  Input("preset", "data"),
                  State({"type": "range", "parameter": ALL}, "value"),
                  State({"type": "range", "parameter": ALL}, "id"))
    def _sliders(chosen: list[str] | None, preset: dict[str, list[float]] | None,
                 values: list[list[float]], ids: list[dict[str, str]]) -> list[Any]:
        current = {i["parameter"]: v for i, v in zip(ids, values, strict=True)}
        if ctx.triggered_id == "preset":
            current = {}
        current.update(preset or {})
        controls = []
        for name in chosen or []:
            low, high = page.bounds[name]
            controls.append(html.Div([
                html.Label(page.label(name)),
                dcc.RangeSlider(id={"type": "range", "parameter": name}, min=low, max=high,
                                step=(high - low) / SLIDER_STEPS, marks=None,
                                value=current.get(name, [low, high]), allow_direct_input=True,
                                tooltip={"placement": "bottom"}),
            ], className="control"))
        return controls

    @app.callback(Output("headline", "children"), Output("policies", "children"),
                  Output("distribution", "figure"), Output("fan", "figure"),
                  Input({"type": "range", "parameter": ALL}, "value"),
                  Input("outcome", "value"), Input("series", "value"),
                  State({"type": "range", "parameter": ALL}, "id"))
    def _answer(values: list[list[float]], outcome: str | None, series: str | None,
                ids: list[dict[str, str]]) -> Any:
        ranges = {i["parameter"]: (float(v[0]), float(v[1]))
                  for i, v in zip(ids, values, strict=True) if v}
        summary, histogram, fan = page.answer(ranges, outcome, series)
        headings = [h.format(**page.sides) for h in ExplorerApp.TABLE_HEADINGS]
        rows = [html.Tr([html.Th(h) for h in headings])]
        rows += [html.Tr([html.Td(row["policy"] + (" ★" if row["best"] else "")),
                          *[html.Td(c) for c in row["cells"]]],
                         className="best" if row["best"] else "",
                         **{"data-policy": row["policy"]})
                 for row in page.table_rows(summary)]
        return (page.headline(summary), rows, page.distribution_figure(histogram),
                page.fan_figure(fan))

    return app


