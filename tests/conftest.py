"""Fixtures shared by every test: the kursk-2024 scenario, small runs made once per session, and a
headless Chromium for the report's browser tests (helpers.py holds what tests import: `run_cli`,
the test scenarios, the settings of these runs).

The runs are shared, so they are read-only: a test that writes into a run folder (a report,
stored claims, an edited manifest) works on `copy_run(store)`, a copy in its own tmp_path.

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

from helpers import CLAIMS_RUN, KURSK_RUN, KURSK_RUN_600, SALTELLI_RUN
from offramp.experiments.runner import start_run
from offramp.scenario.loader import load_scenario
from offramp.scenario.schema import Scenario
from offramp.store import RunStore

# --- scenarios and runs ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def kursk() -> Scenario:
    """The built-in kursk-2024 scenario."""
    return load_scenario("kursk-2024").scenario


@pytest.fixture(scope="session")
def kursk_run(tmp_path_factory) -> RunStore:
    """A complete run of kursk-2024 (helpers.KURSK_RUN: 300 futures, seed 7, chunks of 100)."""
    return start_run(KURSK_RUN, tmp_path_factory.mktemp("runs") / "kursk")


@pytest.fixture(scope="session")
def kursk_series_run(tmp_path_factory) -> RunStore:
    """`kursk_run`'s settings with weekly series (explorer fans, conditioning)."""
    import dataclasses

    return start_run(dataclasses.replace(KURSK_RUN, series=True),
                     tmp_path_factory.mktemp("runs") / "kursk-series")


@pytest.fixture(scope="session")
def kursk_run_600(tmp_path_factory) -> RunStore:
    """A complete run of kursk-2024 (helpers.KURSK_RUN_600: 600 futures, seed 3)."""
    return start_run(KURSK_RUN_600, tmp_path_factory.mktemp("runs") / "kursk-600")


@pytest.fixture(scope="session")
def saltelli_run(tmp_path_factory) -> RunStore:
    """A Saltelli run of kursk-2024's drip-feed (helpers.SALTELLI_RUN)."""
    return start_run(SALTELLI_RUN, tmp_path_factory.mktemp("runs") / "saltelli")


@pytest.fixture(scope="session")
def claims_run(tmp_path_factory) -> Path:
    """The folder of a complete run of two kursk-2024 policies (helpers.CLAIMS_RUN: 400
    futures, seed 5, in chunks of 150)."""
    root = tmp_path_factory.mktemp("runs") / "claims"
    start_run(CLAIMS_RUN, root)
    return root


@pytest.fixture(scope="session")
def kursk_report(kursk_run, tmp_path_factory) -> Path:
    """The HTML report of a copy of `kursk_run` (its claims judged on the run's 300 futures)."""
    import offramp

    copy = tmp_path_factory.mktemp("reports") / "kursk"
    shutil.copytree(kursk_run.root, copy)
    return offramp.open_run(copy).report()


@pytest.fixture
def copy_run(tmp_path) -> Callable[[RunStore], RunStore]:
    """`copy_run(store)`: a copy of a run folder in this test's tmp_path, to write into."""

    def copy(store: RunStore) -> RunStore:
        target = tmp_path / f"copy-of-{store.root.name}"
        shutil.copytree(store.root, target)
        return RunStore.open(target)

    return copy


# --- Chromium ----------------------------------------------------------------------------------

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
) -> Callable[..., AbstractContextManager[BrowserVisit]]:
    """`with open_in_chromium(path_or_url) as visit:` a loaded page and its recorded problems.

    Requests to a host (any scheme but file:, data:, about:, blob:) are recorded in
    `visit.requests` and aborted, so a test that finds one never reaches the network; a page
    served by a local test server names its origin (`server="http://127.0.0.1:8050"`), whose
    requests go through.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")

    @contextmanager
    def visit(target: str | Path, server: str | None = None) -> Iterator[BrowserVisit]:
        local = LOCAL_SCHEMES + ((server.rstrip("/") + "/",) if server else ())
        url = str(target) if re.match(r"^[a-z]+:", str(target)) else Path(target).resolve().as_uri()
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                page = context.new_page()
                record = BrowserVisit(page)

                def on_request(request) -> None:
                    if not request.url.startswith(local):
                        record.requests.append(request.url)

                context.on("request", on_request)
                context.route(lambda url: not url.startswith(local), lambda r: r.abort())
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
