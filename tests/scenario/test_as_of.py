"""As-of discipline: a scenario "as of" a date may not use a source published after it, unless
the parameter says why (`hindsight:`)."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers import run_cli
from offramp.scenario.loader import ScenarioError, load_scenario
from offramp.scenario.sources import source_date
from offramp.scenario.walk import iter_parameters

LATE_SOURCE = "Defense One (2025-03-04) reporting on US 155 mm output after the as-of date"


@pytest.mark.parametrize(("source", "written", "earliest"), [
    ("Fearon (1995) Rationalist explanations for war", "1995", dt.date(1995, 1, 1)),
    ("Mitchell (2024-08) The Geopolitical Opportunity, Foreign Policy: ...", "2024-08",
     dt.date(2024, 8, 1)),
    ("Defense One (2024-09-12) reporting", "2024-09-12", dt.date(2024, 9, 12)),
    # An assumption is dated by the latest work it cites.
    ("assumption: Syrskyi (2024) ... as later reporting (2025) observed it", "2025",
     dt.date(2025, 1, 1)),
    ("seed 003_32ea20beaf4983d4.txt: the US is on track", "2024-08", dt.date(2024, 8, 1)),
])
def test_a_source_is_dated_by_the_latest_work_it_cites(source, written, earliest):
    date = source_date(source)
    assert date is not None and (date.written, date.earliest) == (written, earliest)


def test_an_assumption_citing_nothing_is_undated():
    assert source_date("assumption: a judgment of the scenario's author") is None


def test_kursk_2024_is_as_of_19_august_2024_with_no_later_source():
    loaded = load_scenario("kursk-2024")
    as_of = loaded.scenario.scenario.as_of
    assert as_of == dt.date(2024, 8, 19)
    for path, param in iter_parameters(loaded.scenario):
        date = source_date(param.source)
        assert date is None or date.earliest <= as_of, (path, param.source)
        assert param.hindsight is None, path
        assert "model-theory" not in param.source and "seed 00" not in param.source, path


def test_the_hindsight_variant_marks_every_later_source():
    loaded = load_scenario("kursk-2024-hindsight")
    as_of = loaded.scenario.scenario.as_of
    marked = {path for path, param in iter_parameters(loaded.scenario) if param.hindsight}
    later = {path for path, param in iter_parameters(loaded.scenario)
             if (date := source_date(param.source)) is not None and date.earliest > as_of}
    assert marked == later and len(later) >= 5


def _with_late_source(tmp_path, hindsight: str | None = None):
    marked = f"\n      hindsight: '{hindsight}'" if hindsight else ""
    path = tmp_path / "late.yaml"
    path.write_text(
        "extends: kursk-2024\nscenario:\n  name: kursk-late\nactors:\n  united_states:\n"
        "    shell_production_per_month:\n      value: 40000\n      unit: rounds/month\n"
        f"      source: '{LATE_SOURCE}'{marked}\n")
    return path


def test_a_later_source_fails_validation_naming_the_parameter_its_date_and_as_of(tmp_path):
    path = _with_late_source(tmp_path)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "late.yaml:9:15:" in message  # the line of the source
    assert "actors.united_states.shell_production_per_month" in message
    assert "2025-03-04" in message and "as_of 2024-08-19" in message and "hindsight" in message
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "actors.united_states.shell_production_per_month" in result.stderr


def test_a_marked_later_source_validates_and_is_listed(tmp_path):
    path = _with_late_source(tmp_path, hindsight="the output was reported after the as-of date")
    assert load_scenario(path).scenario.scenario.as_of == dt.date(2024, 8, 19)
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stderr
    assert "hindsight: actors.united_states.shell_production_per_month" in result.stdout
    explained = run_cli("explain", path, "--all", columns=400)
    assert "HINDSIGHT (after as_of): the output was reported after the as-of date" in (
        explained.stdout)


def test_an_as_of_that_is_not_a_date_is_a_clear_error(tmp_path):
    path = tmp_path / "bad-as-of.yaml"
    path.write_text("extends: kursk-2024\nscenario:\n  as_of: August 2024\n")
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad-as-of.yaml:3:" in result.stderr and "scenario.as_of" in result.stderr
    assert "YYYY-MM-DD" in result.stderr
