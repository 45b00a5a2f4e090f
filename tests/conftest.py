"""Fixtures shared by every test: a headless Chromium for the report's browser tests.

`chromium_path` finds Debian's chromium. Without it a browser test is skipped on a developer's
machine but fails when the environment variable `CI` is set: a missing browser must not let CI
pass silently. `open_in_chromium(path_or_url)` opens a page and records what a self-contained,
script-free report must never produce: console errors, page errors and network requests.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Requests to these schemes stay on this machine; any other request goes to some host.
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _missing(what: str) -> None:
    """Skip the test for lack of `what`, or fail it when running in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"chromium is required in CI (CI is set): {what}", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The path of Debian's chromium (skip without it; fail without it in CI)."""
    path = shutil.which("chromium") or (
        DEBIAN_CHROMIUM if os.access(DEBIAN_CHROMIUM, os.X_OK) else None
    )
    if path is None:
        _missing("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


@dataclass
class BrowserVisit:
    """One page opened in Chromium, and what happened while it was open."""

    page: Any  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # URLs of non-local requests

    @property
    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors]


@pytest.fixture
def open_in_chromium(
    chromium_path: str,
) -> Callable[[str | Path], AbstractContextManager[BrowserVisit]]:
    """`with open_in_chromium(path_or_url) as visit:` a loaded page and its recorded problems.

    Requests to a host (any scheme but file:, data:, about:, blob:) are recorded in
    `visit.requests` and aborted, so a test that finds one never reaches the network.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")

    @contextmanager
    def visit(target: str | Path) -> Iterator[BrowserVisit]:
        url = str(target) if re.match(r"^[a-z]+:", str(target)) else Path(target).resolve().as_uri()
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                page = context.new_page()
                record = BrowserVisit(page)

                def on_request(request) -> None:
                    if not request.url.startswith(LOCAL_SCHEMES):
                        record.requests.append(request.url)

                context.on("request", on_request)
                context.route(re.compile(r"^(?!file:|data:|about:|blob:)"), lambda r: r.abort())
                page.on(
                    "console",
                    lambda m: record.console_errors.append(m.text) if m.type == "error" else None,
                )
                page.on("pageerror", lambda error: record.page_errors.append(str(error)))
                page.goto(url, wait_until="load")
                yield record
            finally:
                browser.close()

    return visit
