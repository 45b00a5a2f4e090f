"""The report's opening sections: what decides the answer, the claims, where each policy fails,
and how robust each policy is.

`analysis_sections(store)` returns (title, html) pairs in that order; `offramp.report.html` puts
them first. Each section is computed from the run folder alone (plus, for claims, runs of the
claims' arms on the run's own futures), and a section that cannot be computed says why in one
line instead of failing the report.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

import pandas as pd

from offramp.analysis.compare import HEADLINES
from offramp.errors import UserError
from offramp.report.html import _svg, _table
from offramp.report.run_analysis import MAX_QUASI_P, RunAnalysis, format_number
from offramp.store import RunStore

# Headline outcomes whose drivers open the report (the answer analysts come for first).
DRIVER_OUTCOMES = ("a_territory_share", "casualties_a")
TOP_DRIVERS = 5
# PAWN on at most this many futures: ~0.3 s per policy and outcome with ~120 parameters, and the
# ranking of the leading drivers is stable well below it.
DRIVER_MAX_ROWS = 10_000
# Claims run every arm on the run's futures again; beyond this many the report takes the first
# ones (a Latin hypercube's first rows are a fair sample; see claims.claim_futures) to keep
# `make run` quick.
CLAIMS_MAX_FUTURES = 10_000
VERDICT_COLOURS = {"holds": "#1a7f37", "holds only under conditions": "#9a6700",
                   "fails": "#cf222e", "not testable": "#666"}


def _p(text: str) -> str:
    """A paragraph of plain text; `backticks` become code."""
    return "<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text)) + "</p>"


def _label(column: str) -> str:
    return next((h.label for h in HEADLINES if h.column == column), column.replace("_", " "))


def _guarded(build: Callable[[], str | None]) -> str | None:
    """A section's body, or one line saying why it could not be computed (a user-fixable cause)."""
    try:
        return build()
    except UserError as error:
        return _p(f"Not computed: {error}")


# --- What decides the answer -----------------------------------------------------------------


def drivers_section(analysis: RunAnalysis, outcomes: tuple[str, ...] = DRIVER_OUTCOMES) -> str:
    n_rows = min(len(analysis.futures), DRIVER_MAX_ROWS)
    parts = [_p(
        f"Which uncertain parameters move each headline outcome most, per policy: PAWN "
        f"sensitivity (the median Kolmogorov–Smirnov distance between the outcome's distribution "
        f"in a slice of the parameter's range and overall; 0 means no influence) on {n_rows:,} "
        f"futures. These are the assumptions the comparison below leans on: check them first. "
        f"`offramp sensitivity RUN --outcome NAME` gives the full ranking."
    )]
    for outcome in outcomes:
        if outcome not in analysis.numeric_outcomes:
            continue
        try:
            tables = analysis.sensitivity(outcome, method="pawn", max_rows=DRIVER_MAX_ROWS)
        except UserError as error:
            parts.append(_p(f"{_label(outcome)}: not computed ({error})"))
            continue
        mean = pd.concat([t["importance"] for t in tables.values()], axis=1).mean(axis=1)
        leaders = [analysis.names.label(p) for p in mean.sort_values(ascending=False).index[:3]]
        parts.append(f"<h3>{html.escape(_label(outcome).capitalize())}</h3>")
        parts.append(_p(f"Across policies it depends most on {', '.join(leaders[:-1])} and "
                        f"{leaders[-1]}."))
        shown = min(TOP_DRIVERS, *(len(table) for table in tables.values()))
        ranks = pd.DataFrame({
            policy: [f"{row.label} ({row.importance:.2f})"
                     for row in table.head(shown).itertuples()]
            for policy, table in tables.items()
        }, index=pd.RangeIndex(1, shown + 1, name="rank"))
        parts.append(_table(ranks, text_columns=tuple(ranks.columns)))
    return "".join(parts)


# --- Claims ------------------------------------------------------------------------------------


def _claims_module():
    """The claims module, or None if this installation has none (the section is then left out)."""
    try:
        from offramp.analysis import claims
    except ImportError:
        return None
    return claims


def _first_sentence(text: str, limit: int = 160) -> str:
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def claims_section(analysis: RunAnalysis) -> str | None:
    """The scenario's claims judged on the run's futures with the run's seed; None if none."""
    claims = _claims_module()
    scenario_data = analysis.manifest.get("scenario_data") or {}
    if claims is None or not scenario_data.get("claims"):
        return None
    # The same evaluation as `offramp claims RUN --futures CLAIMS_MAX_FUTURES` (a scenario that
    # no longer loads is a UserError, which `_guarded` turns into one "Not computed" line).
    run = claims.evaluate_run_claims(analysis.store, max_futures=CLAIMS_MAX_FUTURES,
                                     futures=analysis.futures)
    table = claims.claims_table(run.results)
    intro = _p(
        f"The sources' statements, put as paired comparisons on this run's futures "
        f"({run.selection}) with its seed: holds share is the share of futures in which the "
        f"claimed arm does better in the claimed direction. Verdicts are consequences of the "
        f"scenario's assumptions and of the model's mechanisms, not findings about the world; "
        f"docs/claims.md says which verdicts reflect a structural limit of the model rather than "
        f"the claim (`offramp claims RUN --futures {CLAIMS_MAX_FUTURES}` is the console version)."
    )
    return intro + _claims_table(table)


def _claims_table(table: pd.DataFrame) -> str:
    """Claims as an HTML table: the statement (its id below), what is compared, the shares,
    the effect, the verdict and where the claim fails. Long ids and texts wrap in their cells."""
    head = ("<tr><th class=\"text\">claim</th><th class=\"text\">compared</th>"
            "<th>holds share</th><th>mean effect [95% CI]</th><th class=\"text\">verdict</th>"
            "<th class=\"text\">where it fails</th></tr>")
    rows = []
    for claim_id, r in table.iterrows():
        effect = (f"{format_number(r['mean effect'])} [{format_number(r['ci low'])}, "
                  f"{format_number(r['ci high'])}]")
        colour = VERDICT_COLOURS.get(r["verdict"], "#222")
        holds = r["holds share"]
        rows.append(
            f'<tr><td class="text">{html.escape(_first_sentence(r["statement"]))}'
            f'<br><span class="meta">{html.escape(str(claim_id))}</span></td>'
            f'<td class="text">{html.escape(f"{r.arm} vs {r.versus}")}<br>'
            f'<span class="meta">{html.escape(f"{r.outcome} expected {r.expect}")}</span></td>'
            f"<td>{'–' if pd.isna(holds) else f'{holds:.0%}'}</td><td>{html.escape(effect)}</td>"
            f'<td class="text" style="color:{colour}"><strong>{html.escape(r["verdict"])}'
            f'</strong></td><td class="text">{html.escape(str(r["failure conditions"]))}</td>'
            "</tr>"
        )
    return (f'<table class="wide"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')


# --- Where each policy fails -----------------------------------------------------------------


def failures_section(analysis: RunAnalysis) -> str:
    requirements = " and ".join(analysis.requirements)
    parts = [_p(
        f"A policy fails in a future when it misses the run's requirements ({requirements}; "
        f"set with `offramp run --require`). PRIM searches the futures for a region where "
        f"failures concentrate; the sentence keeps the box's restrictions with a quasi-p-value "
        f"below {MAX_QUASI_P} (at most three) and measures that simpler box again. The plot "
        f"shows PRIM's peeling trajectory (coverage against density, coloured by the number of "
        f"restricted parameters): PRIM's chosen box is circled, the plain-words box is the "
        f"diamond. "
        f"`offramp discover RUN --policy P --where ...` asks other questions."
    )]
    for policy in analysis.policies:
        discovery = analysis.failures(policy)
        parts.append(f"<h3>{html.escape(policy)}</h3>")
        parts.append(_p(discovery.sentence()))
        if discovery.result is not None:
            figure = discovery.figure(
                0, title=f"{policy}: futures missing the requirements", size=(5.2, 3.6))
            parts.append(f'<div class="figures"><figure>{_svg(figure)}</figure></div>')
    return "".join(parts)


# --- Robustness --------------------------------------------------------------------------------


def robustness_section(analysis: RunAnalysis) -> str:
    table = analysis.robustness()
    intro = _p(
        "Regret: in each future, how far a policy falls short of the best policy in that same "
        "future (0 for the best), summarised over futures by its mean, 90th percentile and "
        "maximum; lower is better, and a low 90th percentile means a policy rarely does much "
        "worse than the alternatives. Satisficing: the share of futures in which a policy meets "
        f"the requirements ({' and '.join(analysis.requirements)}), together and one by one."
    )
    return intro + _table(table.T.rename_axis("measure"))


# --- All of them -------------------------------------------------------------------------------


def analysis_sections(store: RunStore, timings: dict[str, float] | None = None
                      ) -> list[tuple[str, str]]:
    """The report's opening sections, in order; `timings` (if given) gets seconds per section."""
    analysis = RunAnalysis(store)
    builders: list[tuple[str, Callable[[], str | None]]] = [
        ("What decides the answer", lambda: drivers_section(analysis)),
        ("Claims", lambda: claims_section(analysis)),
        ("Where each policy fails", lambda: failures_section(analysis)),
        ("Robustness: regret and satisficing", lambda: robustness_section(analysis)),
    ]
    sections = []
    for title, build in builders:
        start = time.perf_counter()
        body = _guarded(build)
        if timings is not None:
            timings[title] = time.perf_counter() - start
        if body is not None:
            sections.append((title, body))
    return sections


__all__ = ["analysis_sections", "claims_section", "drivers_section", "failures_section",
           "robustness_section"]
