"""The report's sections: the analysis sections open it, the claims section is rendered for a
scenario with claims, and the paired comparison reads "A vs B" as the share of futures in which A
does better than B."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
import yaml

import offramp
from helpers import claims_section, minimal_data, report_sections
from offramp.analysis.compare import HEADLINES, paired_wins
from offramp.experiments.runner import RunSettings, start_run
from offramp.report.html import render_report
from offramp.report.tables import html_table
from offramp.scenario.loader import load_scenario
from offramp.studies.summary import summarize

LABELS = {h.column: h.label for h in HEADLINES}


# --- the opening sections and the claims section ----------------------------------------------


def test_claims_section_is_rendered_with_every_claim(kursk_report):
    # The full report of a small kursk-2024 run (its claims are run on the run's 300 futures).
    claim_ids = list(load_scenario("kursk-2024").scenario.claims)
    assert claim_ids, "kursk-2024 declares claims: this test needs them"
    page = kursk_report.read_text(encoding="utf-8")
    claims = claims_section(page, claim_ids)
    sections = report_sections(page)
    # Every computed caveat is printed beside its verdict (in the verdict's cell).
    from offramp.experiments.manifest import RunManifest
    from offramp.report.words import CAUSE_UNNAMED, caveat_text, names_of_run
    from offramp.store import RunStore
    from offramp.studies.claims import load_claims

    store = RunStore.open(kursk_report.parent)
    names = names_of_run(RunManifest.of(store))
    stored = load_claims(store)
    assert stored is not None and any(r.caveats for r in stored.results)
    for result in stored.results:
        for caveat in result.caveats:
            text = caveat_text(caveat, names, result.cause or CAUSE_UNNAMED)
            assert f'<span class="meta">{html.escape(text)}</span></td>' in claims, result.claim_id
    # It comes after the answer and robustness, before the main job's other tables.
    order = list(sections)
    assert order.index("The answer") < order.index("Claims") < order.index("Paired comparison")


def test_the_report_opens_with_the_answer_and_the_comparison(kursk_run_600, copy_run):
    """The decision paragraph and the comparison table come before any other section; then
    regret and satisficing, the claims, where each policy fails, what decides the answer."""
    small_run = copy_run(kursk_run_600)  # the report judges the claims and stores them
    page = offramp.open_run(small_run.root).report().read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[:5] == ["The answer", "Robustness: regret and satisficing", "Claims",
                            "Where each policy fails", "What decides the answer"]
    answer = report_sections(page)["The answer"]
    best = re.search(r"<p>(\S+) is the most robust of the (\d) policies", answer)
    assert best and best.group(1) in small_run.manifest["policies"]
    assert int(best.group(2)) == len(small_run.manifest["policies"])
    assert "territory share, median" in answer  # the comparison table is in it
    assert answer.index("most robust") < answer.index("territory share, median")
    assert "not a forecast" in answer
    for policy in small_run.manifest["policies"]:
        assert f"Under {policy}, the requirements are missed in" in page
    assert "Not computed" not in page


# --- paired wins -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_and_bad() -> pd.DataFrame:
    """Five futures in which "good" holds more territory with fewer casualties than "bad";
    every other headline outcome is the same for both."""
    rows = []
    for future in range(5):
        for policy, territory, casualties in (
            ("good", 0.8 + 0.01 * future, 10_000.0 + future),
            ("bad", 0.6 + 0.02 * future, 20_000.0 - future),
        ):
            row = {column: 1.0 for column in LABELS}
            row.update(
                future=future, policy=policy, a_territory_share=territory, casualties_a=casualties
            )
            rows.append(row)
    return pd.DataFrame(rows)[["future", "policy", *LABELS]]


def test_paired_wins_count_the_first_policy_doing_better(good_and_bad):
    wins = paired_wins(good_and_bad)
    assert list(wins.index) == ["good vs bad", "bad vs good"]
    for column in ("a_territory_share", "casualties_a"):  # larger / smaller is better
        assert wins.loc["good vs bad", LABELS[column]] == 1.0, column
        assert wins.loc["bad vs good", LABELS[column]] == 0.0, column
    ties = [LABELS[c] for c in LABELS if c not in ("a_territory_share", "casualties_a")]
    assert (wins[ties] == 0.0).all().all(), "equal outcomes count as beating neither way"


def _rows(table_html: str) -> dict[str, list[str]]:
    """An HTML table's body rows by their first cell (the text of each cell)."""
    rows = {}
    body = table_html.split("<tbody>", 1)[1]
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells]
        rows[cells[0]] = cells[1:]
    return rows


def test_paired_table_shows_the_winner_first(good_and_bad):
    table = html_table(paired_wins(good_and_bad))
    header = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)][1:]
    rows = _rows(table)
    territory = header.index(LABELS["a_territory_share"])
    casualties = header.index(LABELS["casualties_a"])
    assert float(rows["good vs bad"][territory]) == pytest.approx(1.0)
    assert float(rows["good vs bad"][casualties]) == pytest.approx(1.0)
    assert float(rows["bad vs good"][territory]) == pytest.approx(0.0)
    assert float(rows["bad vs good"][casualties]) == pytest.approx(0.0)


def test_drivers_are_listed_when_fewer_parameters_vary_than_the_table_shows(tmp_path):
    """A scenario with two uncertain parameters still gets its drivers table (it once failed
    for fewer than five: the table's index was fixed at five rows)."""
    data = minimal_data()
    for actor in ("blue", "red"):
        param = data["actors"][actor]["combat_quality"]
        del param["value"]
        param.update(dist="uniform", low=0.8, high=1.2)
    path = tmp_path / "two-uncertain.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    store = start_run(RunSettings(scenario=str(path), n_futures=200, seed=0, chunk_size=200),
                      tmp_path / "run")
    page = render_report(summarize(store))
    drivers = report_sections(page)["What decides the answer"]
    assert "Not computed" not in drivers
    assert drivers.count("<tr>") == 2 * (1 + 2)  # two outcomes: a header, two ranked rows
