"""The report's opening sections, rendered from a `RunSummary`: what decides the answer, the
claims, where each policy fails, regret and satisficing. A section that could not be computed
says why in one line instead of failing the report.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from offramp.analysis.compare import HEADLINES
from offramp.report.figures import discovery_figure, svg
from offramp.report.tables import html_table
from offramp.report.words import (
    CAUSE_UNNAMED,
    ParameterNames,
    caveat_text,
    discovery_sentence,
    effect_text,
    failure_text,
    first_sentence,
    format_number,
    names_of_run,
    side_label,
)
from offramp.studies.claims import ClaimResult, RunClaims
from offramp.studies.runs import MAX_QUASI_P
from offramp.studies.summary import Drivers, RunSummary

TOP_DRIVERS = 5
VERDICT_COLOURS = {"holds": "#1a7f37", "holds only under conditions": "#9a6700",
                   "fails": "#cf222e", "not testable": "#666"}


def paragraph(text: str) -> str:
    """A paragraph of plain text; `backticks` become code."""
    return "<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text)) + "</p>"


def _label(column: str) -> str:
    return next((h.label for h in HEADLINES if h.column == column), column.replace("_", " "))


# --- What decides the answer -----------------------------------------------------------------


def drivers_section(drivers: list[Drivers], names: ParameterNames) -> str:
    n_rows = max((d.n_rows for d in drivers), default=0)
    parts = [paragraph(
        f"Which uncertain parameters move each headline outcome most, per policy: PAWN "
        f"sensitivity (the median Kolmogorov–Smirnov distance between the outcome's distribution "
        f"in a slice of the parameter's range and overall; 0 means no influence) on {n_rows:,} "
        f"futures. These are the assumptions the comparison below leans on: check them first. "
        f"`offramp sensitivity RUN --outcome NAME` gives the full ranking."
    )]
    for driver in drivers:
        if driver.problem:
            parts.append(paragraph(f"{_label(driver.outcome)}: not computed ({driver.problem})"))
            continue
        tables = driver.tables
        mean = pd.concat([t["importance"] for t in tables.values()], axis=1).mean(axis=1)
        leaders = [names.label(p) for p in mean.sort_values(ascending=False).index[:3]]
        parts.append(f"<h3>{html.escape(_label(driver.outcome).capitalize())}</h3>")
        said = leaders[0] if len(leaders) == 1 else f"{', '.join(leaders[:-1])} and {leaders[-1]}"
        parts.append(paragraph(f"Across policies it depends most on {said}."))
        shown = min(TOP_DRIVERS, *(len(table) for table in tables.values()))
        ranks = pd.DataFrame({
            policy: [f"{names.label(path)} ({importance:.2f})"
                     for path, importance in table["importance"].head(shown).items()]
            for policy, table in tables.items()
        }, index=pd.RangeIndex(1, shown + 1, name="rank"))
        parts.append(html_table(ranks, text_columns=tuple(ranks.columns)))
    return "".join(parts)


# --- Claims ------------------------------------------------------------------------------------


def _caveats(result: ClaimResult, names: ParameterNames) -> str:
    cause = result.cause or CAUSE_UNNAMED
    return "".join(f'<br><span class="meta">{html.escape(caveat_text(c, names, cause))}</span>'
                   for c in result.caveats)


def claims_section(claims: RunClaims | None, names: ParameterNames, has_claims: bool
                   ) -> str | None:
    """The claims stored with the run; None when the scenario has none."""
    if not has_claims:
        return None
    if claims is None:
        return paragraph(
            "The scenario's claims were not evaluated on this run: `offramp claims RUN` "
            "evaluates them on the run's futures and stores them, and the report then shows them."
        )
    intro = paragraph(
        f"The sources' statements, put as paired comparisons on this run's futures "
        f"({claims.selection}) with its seed: holds share is the share of futures in which the "
        f"claimed arm does better in the claimed direction. Verdicts are consequences of the "
        f"scenario's assumptions and of the model's mechanisms, not findings about the world; "
        f"docs/claims.md says which verdicts reflect a structural limit of the model rather than "
        f"the claim (`offramp claims RUN` is the console version)."
    )
    head = ("<tr><th class=\"text\">claim</th><th class=\"text\">compared</th>"
            "<th>holds share</th><th>mean effect [95% CI]</th><th class=\"text\">verdict</th>"
            "<th class=\"text\">where it fails</th></tr>")
    rows = []
    for r in claims.results:
        colour = VERDICT_COLOURS.get(r.verdict, "#222")
        holds = "–" if pd.isna(r.holds_share) else f"{r.holds_share:.0%}"
        rows.append(
            f'<tr><td class="text">{html.escape(first_sentence(r.statement, 160))}'
            f'<br><span class="meta">{html.escape(r.claim_id)}</span></td>'
            f'<td class="text">{html.escape(f"{r.arm} vs {r.versus}")}<br>'
            f'<span class="meta">{html.escape(f"{r.outcome} expected {r.expect}")}</span></td>'
            f"<td>{holds}</td><td>{html.escape(effect_text(r.mean_effect, r.ci_low, r.ci_high))}"
            f'</td><td class="text" style="color:{colour}"><strong>{html.escape(r.verdict)}'
            f"</strong>{_caveats(r, names)}</td>"
            f'<td class="text">{html.escape(failure_text(r.failure, names))}</td></tr>'
        )
    return intro + (f'<table class="wide"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
                    "</table>")


# --- Where each policy fails -----------------------------------------------------------------


def failures_section(summary: RunSummary, names: ParameterNames) -> str:
    if isinstance(summary.failures, str):
        return paragraph(f"Not computed: {summary.failures}")
    requirements = " and ".join(summary.manifest.requirements)
    parts = [paragraph(
        f"A policy fails in a future when it misses the run's requirements ({requirements}; "
        f"set with `offramp run --require`). PRIM searches the futures for a region where "
        f"failures concentrate; the sentence keeps the box's restrictions with a quasi-p-value "
        f"below {MAX_QUASI_P} (at most three) and measures that simpler box again. The plot "
        f"shows PRIM's peeling trajectory (coverage against density, coloured by the number of "
        f"restricted parameters): PRIM's chosen box is circled, the plain-words box is the "
        f"diamond. `offramp discover RUN --policy P --where ...` asks other questions."
    )]
    for policy, discovery in summary.failures.items():
        parts.append(f"<h3>{html.escape(policy)}</h3>")
        parts.append(paragraph(discovery_sentence(discovery, names)))
        if discovery.result is not None:
            figure = discovery_figure(
                discovery, 0, title=f"{policy}: futures missing the requirements", size=(5.2, 3.6))
            parts.append(f'<div class="figures"><figure>{svg(figure)}</figure></div>')
    return "".join(parts)


# --- Robustness --------------------------------------------------------------------------------


def robustness_section(summary: RunSummary) -> str:
    robustness = summary.comparison.robustness
    if isinstance(robustness, str):
        return paragraph(f"Not computed: {robustness}")
    intro = paragraph(
        "Regret: in each future, how far a policy falls short of the best policy in that same "
        "future (0 for the best), summarised over futures by its mean, 90th percentile and "
        "maximum; lower is better, and a low 90th percentile means a policy rarely does much "
        "worse than the alternatives. Satisficing: the share of futures in which a policy meets "
        f"the requirements ({' and '.join(summary.manifest.requirements)}), together and one by "
        "one."
    )
    names = names_of_run(summary.manifest)
    return intro + html_table(robustness.T.rename_axis("measure").rename(
        index=lambda label: side_label(label, names)))


# --- All of them -------------------------------------------------------------------------------


def answer_section(summary: RunSummary, names: ParameterNames) -> str:
    """One paragraph: the most robust policy by the run's requirements, by how much, and where
    it fails (its PRIM box), then the comparison table."""
    decision = summary.comparison.decision
    requirements = " and ".join(summary.manifest.requirements)
    if isinstance(decision, str):
        text = f"No ranking of the policies: {decision}"
    elif len(decision.ranking) == 1:
        (only,) = decision.ranking
        text = (f"One policy was run, {only}: it meets the requirements ({requirements}) in "
                f"{decision.meets[only]:.0%} of futures. Run several to compare them.")
    else:
        best, *others = decision.ranking
        next_best, worst = others[0], others[-1]
        gap = decision.meets[best] - decision.meets[next_best]
        text = (
            f"{best} is the most robust of the {len(decision.ranking)} policies by this run's "
            f"requirements ({requirements}): it meets them in {decision.meets[best]:.0%} of "
            f"futures, {gap * 100:.1f} points more than the next, {next_best} "
            f"({decision.meets[next_best]:.0%})"
            + (f", and against {decision.meets[worst]:.0%} for {worst}" if worst != next_best
               else "")
            + f". In nine futures in ten it ends within "
            f"{format_number(decision.regret_p90[best])} of the best policy's territory share "
            f"in that same future."
        )
        failures = summary.failures
        if not isinstance(failures, str) and best in failures:
            text += f" Where it fails: {discovery_sentence(failures[best], names)}"
        if gap < 0.02:
            text += (" The lead is under two points: the choice between the leading policies "
                     "turns on the details below more than on this ranking.")
    table = summary.comparison.table.T
    return (paragraph(text) + html_table(table.rename(index=lambda t: side_label(t, names)))
            + paragraph(
        "A ranking under the scenario's assumptions, on futures drawn from them: not a "
        "forecast. The requirements are the run's (`offramp run --require`); other requirements "
        "can rank the policies otherwise."))


def opening_sections(summary: RunSummary) -> list[tuple[str, str]]:
    """The report's opening sections, in order, as (title, html): the answer and the
    comparison, regret and satisficing, the claims, where each policy fails, what decides the
    answer."""
    names = names_of_run(summary.manifest)
    claims = claims_section(summary.claims, names, bool(summary.manifest.scenario_data.get(
        "claims")))
    sections = [("The answer", answer_section(summary, names)),
                ("Robustness: regret and satisficing", robustness_section(summary))]
    if claims is not None:
        sections.append(("Claims", claims))
    sections += [("Where each policy fails", failures_section(summary, names)),
                 ("What decides the answer", drivers_section(summary.drivers, names))]
    return sections
