"""`offramp explore`: the JSON endpoints answer what the Explorer computes, bad requests get a
clear 400, and in a real Chromium moving a range control changes the per-policy numbers with no
console error and no request to any host but the local server."""

from __future__ import annotations

import threading

import pytest

from helpers import assert_one_line_error, run_cli
from offramp.report.explorer import create_app
from offramp.studies.explore import Explorer


@pytest.fixture(scope="module")
def series_run(kursk_series_run):
    """kursk-2024 with weekly series, so the fans follow the filter."""
    return kursk_series_run


@pytest.fixture(scope="module")
def app(series_run):
    return create_app(series_run)


@pytest.fixture(scope="module")
def server(app):
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_the_region_endpoint_answers_what_the_explorer_computes(app, series_run):
    client = app.server.test_client()
    parameters = client.get("/api/parameters").json
    name = "actors.ukraine.combat_quality"
    low, high = parameters[name]["low"], parameters[name]["high"]
    middle = (low + high) / 2
    answer = client.post("/api/region", json={"ranges": {name: [low, middle]},
                                              "outcome": "casualties_a",
                                              "series": "talks_open"}).json
    expected = Explorer(series_run).summary({name: (low, middle)})
    assert answer["summary"]["futures"] == expected.futures < 300
    for policy, found in expected.policies.items():
        assert answer["summary"]["policies"][policy]["meets"] == pytest.approx(found.meets)
    shares = answer["distribution"]["shares"]
    assert all(sum(v) == pytest.approx(1.0) for v in shares.values())
    assert answer["fan"]["binary"] is True and len(answer["fan"]["weeks"]) > 10


def test_the_fan_follows_the_filter(app):
    client = app.server.test_client()
    name = "actors.ukraine.combat_quality"
    bounds = client.get("/api/parameters").json[name]
    whole = client.post("/api/region", json={"series": "a_territory_share"}).json["fan"]
    third = bounds["low"] + (bounds["high"] - bounds["low"]) / 3
    part = client.post("/api/region", json={"ranges": {name: [bounds["low"], third]},
                                            "series": "a_territory_share"}).json["fan"]
    assert whole["binary"] is False
    assert whole["bands"] != part["bands"]


def test_suggestions_are_ranges_the_region_endpoint_accepts(app):
    client = app.server.test_client()
    suggestions = client.get("/api/suggestions").json
    assert suggestions, "PRIM found no box where some policy misses the requirements"
    box = suggestions[0]
    answer = client.post("/api/region", json={"ranges": box["ranges"]}).json
    assert 0 < answer["summary"]["futures"] < 300
    misses = 1 - answer["summary"]["policies"][box["policy"]]["meets"]
    assert misses == pytest.approx(box["density"], abs=0.05)  # PRIM searched these futures


@pytest.mark.parametrize("body, expected", [
    ({"ranges": {"nope": [0, 1]}}, "not an uncertain parameter"),
    ({"ranges": {"actors.ukraine.combat_quality": [2, 1]}}, "low <= high"),
    ({"ranges": {"actors.ukraine.combat_quality": "wide"}}, "two numbers"),
    ({"ranges": [1, 2]}, "must be an object"),
    ({"outcome": "nonsense"}, "is not an outcome"),
    ({"series": "nonsense"}, "is not a weekly series"),
    ("not json", "send a JSON object"),
])
def test_a_bad_request_is_a_400_with_one_clear_message(app, body, expected):
    client = app.server.test_client()
    response = (client.post("/api/region", json=body) if isinstance(body, dict)
                else client.post("/api/region", data=body))
    assert response.status_code == 400
    assert expected in response.json["error"]


def _meets_column(page) -> dict[str, str]:
    rows = page.locator("tr[data-policy]")
    return {rows.nth(i).get_attribute("data-policy"): rows.nth(i).locator("td").nth(1)
            .inner_text() for i in range(rows.count())}


@pytest.mark.slow
def test_moving_a_range_control_changes_the_numbers_in_chromium(open_in_chromium, server):
    with open_in_chromium(server, server=server) as visit:
        page = visit.page
        page.wait_for_selector("tr[data-policy]", timeout=30_000)
        before_headline = page.inner_text("#headline")
        before = _meets_column(page)
        assert len(before) == 4 and "all futures" in before_headline
        thumb = page.locator(".dash-slider-thumb").first
        thumb.focus()
        for _ in range(12):  # PageUp: ten steps of the slider's 200
            thumb.press("PageUp")
        page.wait_for_function(
            "before => document.querySelector('#headline').innerText !== before",
            arg=before_headline, timeout=15_000)
        after = _meets_column(page)
        assert "of the run" in page.inner_text("#headline")
        assert after != before
        page.locator("#clear").click()
        page.wait_for_function(
            "() => document.querySelector('#headline').innerText.includes('all futures')",
            timeout=15_000)
        assert _meets_column(page) == before
    assert visit.problems == []
    assert visit.requests == []


def test_the_command_refuses_a_port_in_use_and_an_address_it_cannot_hold(series_run):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(run_cli("explore", series_run.root, "--port", port),
                              f"port {port} is in use")
    assert_one_line_error(run_cli("explore", series_run.root, "--host", "host.invalid"),
                          "cannot listen on host.invalid")
    assert_one_line_error(run_cli("explore", series_run.root / "nothing"), "not a run folder")
