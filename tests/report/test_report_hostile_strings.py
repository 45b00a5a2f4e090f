"""The report shows a scenario's free text literally: nothing in a scenario file becomes markup.

A scenario whose title, description, names, policy descriptions, sources and claim statement
carry HTML (a script, an attribute break-out with an event handler, entities and tags) is run
and reported; the text must come out escaped in the HTML and shown as text in Chromium, with no
script run, no element injected and no request to any host.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pydantic
import pytest
import yaml

import offramp
from helpers import minimal_data, report_sections
from offramp.experiments.runner import RunSettings, start_run
from offramp.scenario.schema import Scenario

SCRIPT = "<script>window.__pwned=1</script>"
BREAKOUT = '"><img src=x onerror="window.__pwned2=1">'
ENTITIES = "&amp; & <b>bold</b>"
HOSTILE = (SCRIPT, BREAKOUT, ENTITIES)
ALL = " ".join(HOSTILE)  # one string carrying all three (98 characters)
SOURCE = f"assumption: {ALL}"  # the source grammar allows any text after 'assumption: '
CLAIM_STATEMENT = f"Talking at once keeps more ground {ALL}"  # one sentence: shown whole


def _hostile_scenario() -> dict:
    """minimal.yaml with the hostile strings in every free-text field.

    Only free text can carry them: the scenario's `name`, actor, theater and claim ids, rung ids
    and policy names must match the identifier patterns of offramp/scenario/schema.py
    (IDENTIFIER, SCENARIO_NAME), which reject '<', '>', '"', '&' and spaces
    (`test_identifiers_reject_markup` checks that).
    """
    data = minimal_data()
    data["scenario"]["title"] = f"Hostile {ALL}"
    data["scenario"]["description"] = f"Description {ALL}"
    for key in ("blue", "red"):
        data["actors"][key]["name"] = f"{key.title()} {ALL}"
    data["theaters"]["front"]["name"] = f"Front {ALL}"
    season = data["calendar"]["seasons"][0]
    season["name"] = f"Rains {ALL}"
    season["source"] = SOURCE
    for rung in data["ladder"]["rungs"]:
        rung["name"] = f"{rung['name']} {ALL}"
    for policy in data["policies"].values():
        policy["description"] = f"{policy['description']} {ALL}"
        policy["source"] = SOURCE
    data["actors"]["blue"]["combat_quality"]["source"] = SOURCE
    # Some uncertain parameters, so that actor, season and rung names reach the analysis
    # sections (what decides the answer, where each policy fails) as parameter labels.
    uncertain = [
        (data["actors"]["blue"]["combat_quality"], 1.1, 1.5),
        (data["actors"]["red"]["combat_quality"], 0.8, 1.2),
        (data["actors"]["blue"]["initial_support"], 0.45, 0.65),
        (season["advance_multiplier"], 0.3, 0.6),
        *((rung["adoption_per_week"], 0.01, 0.1) for rung in data["ladder"]["rungs"]),
    ]
    for param, low, high in uncertain:
        del param["value"]
        param.update(dist="uniform", low=low, high=high)
    assert not data.get("claims"), "minimal.yaml grew claims: add the hostile one beside them"
    data["claims"] = {
        "hostile_claim": {
            "statement": CLAIM_STATEMENT,
            "source": SOURCE,
            "arm": {"policy": "talk"},
            "versus": {"policy": "fight"},
            "cause": ["seek_talks_from_week"],
            "outcome": "a_territory_share",
            "expect": "higher",
        }
    }
    return data


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    scenario = folder / "hostile.yaml"
    scenario.write_text(yaml.safe_dump(_hostile_scenario(), sort_keys=False, allow_unicode=True))
    settings = RunSettings(
        scenario=str(scenario), n_futures=200, seed=0, chunk_size=100, series=True
    )
    store = start_run(settings, folder / "run")
    return offramp.open_run(store.root).report()


@pytest.fixture(scope="module")
def report_html(report_path) -> str:
    return report_path.read_text(encoding="utf-8")


def _section(page: str, title: str) -> str:
    """The HTML of the report section headed `title` (fails if there is none)."""
    sections = report_sections(page)
    assert title in sections, f"no section {title!r}; sections: {list(sections)}"
    return sections[title]


def test_identifiers_reject_markup():
    """The ids and names that are not free text cannot carry markup at all."""
    data = minimal_data()
    Scenario.model_validate(data)  # the unmodified scenario is valid
    for hostile in HOSTILE:
        renamed = {**data, "scenario": {**data["scenario"], "name": hostile}}
        with pytest.raises(pydantic.ValidationError):
            Scenario.model_validate(renamed)
        policies = {hostile: data["policies"]["talk"], "fight": data["policies"]["fight"]}
        with pytest.raises(pydantic.ValidationError):
            Scenario.model_validate({**data, "policies": policies})


def test_hostile_strings_are_escaped_in_the_html(report_html):
    for hostile in HOSTILE:
        assert hostile not in report_html, f"raw {hostile!r} in the report"
        assert html.escape(hostile) in report_html, f"escaped {hostile!r} missing"
    assert "<script" not in report_html.lower()
    assert "<img" not in report_html.lower()
    assert "<b>" not in report_html

    h1 = re.findall(r"<h1>(.*?)</h1>", report_html, flags=re.DOTALL)
    # escaped (the template writes &#34; where html.escape writes &quot;), and shown as typed
    assert len(h1) == 1 and "<" not in h1[0] and '"' not in h1[0]
    assert html.unescape(h1[0]) == f"Hostile {ALL}"
    # <title> shows the scenario's `name` (an identifier, see above), not its free-text title.
    title = re.findall(r"<title>(.*?)</title>", report_html, flags=re.DOTALL)
    assert title == ["offramp report: minimal"]

    # A table cell: the provenance table shows each parameter's source as text.
    provenance = _section(report_html, "Where every number comes from")
    assert f'<td class="text">{html.escape(SOURCE)}</td>' in provenance
    # Policy descriptions and sources.
    policies = _section(report_html, "Policies")
    assert f'<td class="text">{html.escape(f"Seek talks at once. {ALL}")}</td>' in policies
    assert f'<td class="text">{html.escape(SOURCE)}</td>' in policies
    # The claims table shows the statement and, below it, the claim's id.
    claims = _section(report_html, "Claims")
    assert (
        f'<td class="text">{html.escape(CLAIM_STATEMENT)}<br><span class="meta">hostile_claim'
        in claims
    )
    # Actor and season names reach the drivers section as parameter labels.
    drivers = _section(report_html, "What decides the answer")
    assert html.escape(f"Blue {ALL}") in drivers


def test_hostile_strings_show_as_text_in_chromium(report_path, open_in_chromium):
    with open_in_chromium(report_path) as visit:
        page = visit.page
        assert page.evaluate("window.__pwned === undefined && window.__pwned2 === undefined")
        text = page.inner_text("body")
        for hostile in HOSTILE:
            assert hostile in text, f"{hostile!r} not shown literally"
        assert page.inner_text("h1") == f"Hostile {ALL}"
        assert page.locator("script").count() == 0
        assert page.locator("img").count() == 0
        assert page.locator("[onerror]").count() == 0
        assert page.locator("b").count() == 0
        assert "Not a forecast" in text
    assert visit.problems == []
    assert visit.requests == []


def test_the_browser_helper_sees_scripts_errors_and_requests(tmp_path, open_in_chromium):
    """The checks above are not vacuous: the same page built without escaping is caught."""
    page_file = tmp_path / "unescaped.html"
    page_file.write_text(
        f"<!DOCTYPE html><html><head><title>t</title></head><body><p>{ALL}</p>"
        '<img src="http://example.invalid/x.png"><script>undefined_function()</script>'
        "</body></html>"
    )
    with open_in_chromium(page_file) as visit:
        assert visit.page.evaluate("window.__pwned") == 1
        assert visit.page.locator("img[onerror]").count() == 1
    assert any("example.invalid" in url for url in visit.requests)
    assert any("undefined_function" in error for error in visit.page_errors)
