"""The report of a run opens in Chromium without a console error or a request to any host."""

from __future__ import annotations


def test_report_renders_in_chromium_without_console_errors(kursk_report, open_in_chromium):
    with open_in_chromium(kursk_report) as visit:
        assert "Not a forecast" in visit.page.inner_text("body")
        assert visit.page.locator("svg").count() >= 3
    assert visit.problems == [] and visit.requests == []
