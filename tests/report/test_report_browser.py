"""The report of a run opens in Chromium without a console error or a request to any host."""

from __future__ import annotations


def test_report_renders_in_chromium_without_console_errors(kursk_report, open_in_chromium):
    with open_in_chromium(kursk_report) as visit:
        assert "Not a forecast" in visit.page.inner_text("body")
        assert visit.page.locator("svg").count() >= 3
    assert visit.problems == [] and visit.requests == []


def test_the_first_screen_shows_the_answer_and_the_comparison(kursk_report, open_in_chromium):
    """At 1,400 x 900 the most robust policy and the whole comparison table are on screen
    without scrolling."""
    with open_in_chromium(kursk_report) as visit:
        page = visit.page
        page.set_viewport_size({"width": 1400, "height": 900})
        answer = page.locator("section#s0")  # the first section
        assert answer.locator("h2").inner_text() == "The answer"
        sentence = answer.locator("p", has_text="is the most robust").bounding_box()
        table = answer.locator("table").bounding_box()
        assert sentence is not None and table is not None
        assert sentence["y"] + sentence["height"] <= 900
        assert table["y"] + table["height"] <= 900, table


def test_the_report_fits_a_phone_screen(kursk_report, open_in_chromium):
    """At 390 px wide nothing makes the page scroll sideways: wide tables scroll inside
    themselves and figures shrink."""
    with open_in_chromium(kursk_report) as visit:
        page = visit.page
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
