"""Helpers shared by the test modules (`from helpers import ...`; tests/ is on pytest's
`pythonpath`): the one way to run the `offramp` command, the test scenarios, and the settings of
the small runs that tests/conftest.py makes once per session.

`run_cli(*args)` runs `offramp ARGS` in this process through typer's `CliRunner`, by calling
`offramp.cli.app.main` (the console script's entry point) with `sys.argv` set, so a `UserError`
becomes exit code 2 and one line on stderr exactly as in a real process, and an unexpected
exception leaves a traceback on stderr and exit code 1, as Python would (only click's usage
line names the program differently; tests/cli/test_cli_runner.py checks the rest). `run_cli(*args,
in_process=False)` runs `python -m offramp ARGS` in a subprocess: for what only a real process
shows (SIGKILL and resume, `python -m offramp` start-up, argument errors through the real entry
point). Both return a `subprocess.CompletedProcess` (returncode, stdout, stderr).
"""

from __future__ import annotations

import contextlib
import html
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import yaml

from offramp.experiments.runner import RunSettings

TESTS = Path(__file__).parent
SCENARIOS = TESTS / "scenarios"
"""The test scenarios: minimal.yaml and the malformed corpus (malformed/)."""
MINIMAL = SCENARIOS / "minimal.yaml"
"""The smallest complete scenario (docs/scenario-language.md)."""

KURSK_RUN = RunSettings(scenario="kursk-2024", n_futures=300, seed=7, chunk_size=100)
"""The `kursk_run` fixture: 300 futures of kursk-2024 in three chunks, every policy."""
KURSK_RUN_600 = RunSettings(scenario="kursk-2024", n_futures=600, seed=3, chunk_size=300)
"""The `kursk_run_600` fixture: enough futures for PRIM and PAWN to find something."""
SALTELLI_RUN = RunSettings(scenario="kursk-2024", n_futures=1000, sampler="saltelli", seed=2,
                           policies=("drip-feed",), chunk_size=500)
"""The `saltelli_run` fixture: a Saltelli design for Sobol indices, one policy."""
CLAIMS_RUN = RunSettings(n_futures=400, seed=5, chunk_size=150,
                         policies=("arm-and-hold", "drip-feed"))
"""The `claims_run` fixture: kursk-2024, 400 futures, seed 5, in chunks of 150 (three chunks)."""

VERDICTS = {"holds", "holds only under conditions", "fails", "not testable"}
"""Every verdict a claim can get."""

CLI_ENV = {"NO_COLOR": "1", "TERM": "dumb"}
CLI_COLUMNS = 250  # wide enough for a row of the claims table on one line


def minimal_data() -> dict:
    """minimal.yaml as a fresh dict (change it freely)."""
    return yaml.safe_load(MINIMAL.read_text())


def report_sections(page: str) -> dict[str, str]:
    """Each section of a report's HTML by its heading (as shown, entities decoded)."""
    sections = {}
    for section in re.findall(r"<section[^>]*>(.*?)</section>", page, flags=re.DOTALL):
        heading = re.match(r"<h2>(.*?)</h2>", section)
        assert heading, section[:200]
        sections[html.unescape(heading.group(1))] = section
    return sections


def claims_section(page: str, claim_ids: list[str]) -> str:
    """The report's Claims section, checked to hold one row per claim (and nothing "Not
    computed"); returns its HTML."""
    sections = report_sections(page)
    assert "Claims" in sections, f"no Claims section; sections: {list(sections)}"
    claims = sections["Claims"]
    assert "Not computed" not in claims
    assert claims.count("<tr>") == len(claim_ids) + 1  # the header and one row per claim
    for claim_id in claim_ids:
        assert f'<span class="meta">{html.escape(claim_id)}</span>' in claims, claim_id
    return claims


def run_cli(*args: str | Path, columns: int = CLI_COLUMNS, in_process: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """`offramp ARGS` with a terminal `columns` wide and no colour (see the module docstring)."""
    argv = [str(arg) for arg in args]
    env = {**CLI_ENV, "COLUMNS": str(columns)}
    if not in_process:
        return subprocess.run([sys.executable, "-m", "offramp", *argv], capture_output=True,
                              text=True, env={**os.environ, **env}, timeout=timeout)
    return _run_in_process(argv, env)


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str,
                          code: int = 2) -> None:
    """The command failed as a user's mistake (exit code 2; 3 for a fault of the machine or the
    run's files): one line on stderr naming `expected`, no traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def _run_in_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    from typer.testing import CliRunner

    from offramp.cli.app import main

    runner = CliRunner()
    with runner.isolation(env=env) as (stdout, stderr, _):
        try:
            with _fresh_consoles(), _argv(["offramp", *argv]):
                main()
            code = 0
        except SystemExit as exit_:
            code = _exit_code(exit_)
        except Exception:  # what Python does with an exception nobody catches
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue(), stderr.getvalue()
    return subprocess.CompletedProcess(["offramp", *argv], code, out.decode(), err.decode())


def _exit_code(exit_: SystemExit) -> int:
    """The process's exit status for `sys.exit(code)` (a message goes to stderr, status 1)."""
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    print(exit_.code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _fresh_consoles() -> Iterator[None]:
    """The CLI's module-level rich consoles, made again inside the runner's isolation.

    offramp.cli.app makes `console` and `err_console` when it is imported, reading the terminal's
    width and colours then; a subprocess makes them under COLUMNS and NO_COLOR. Made again here,
    they see the same environment (the other commands make their console when they run).
    """
    from rich.console import Console

    from offramp.report.console import stdout_console

    importlib.import_module("offramp.cli")  # registers every command on the app
    app_module = importlib.import_module("offramp.cli.app")
    fresh = {
        "console": stdout_console(),
        "err_console": Console(stderr=True, soft_wrap=app_module.err_console.soft_wrap),
    }
    saved = []
    for name, module in list(sys.modules.items()):
        if name == "offramp.cli" or name.startswith("offramp.cli."):
            for attribute, console in fresh.items():
                if isinstance(getattr(module, attribute, None), Console):
                    saved.append((module, attribute, getattr(module, attribute)))
                    setattr(module, attribute, console)
    try:
        yield
    finally:
        for module, attribute, console in saved:
            setattr(module, attribute, console)


def interrupted_copy(run_root: Path, root: Path, pending: tuple[int, ...]) -> None:
    """A copy of a complete run folder as it looks when killed before chunks `pending` were
    written: the other chunks' files in place (outcome chunks rebuilt from the joined file, rows
    as the runner writes them: a chunk is a range of futures, with their checksums; the pending
    chunks' series parts removed), the joined outcomes absent,
    the run running. (A complete run keeps no chunks, so a test of resuming makes its
    interrupted run this way.)"""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from offramp.store.atomic import file_digest, write_arrow

    shutil.copytree(run_root, root)
    manifest = json.loads((root / "manifest.json").read_text())
    (root / "chunks").mkdir(exist_ok=True)
    table = pq.read_table(root / "outcomes.parquet").to_pandas()
    for index, (first, stop) in enumerate(manifest["chunk_bounds"]):
        if index not in pending:
            rows = table[(table["future"] >= first) & (table["future"] < stop)]
            name = f"chunks/outcomes-{index:05d}.arrow"
            write_arrow(root / name, pa.Table.from_pandas(rows, preserve_index=False))
            manifest.setdefault("checksums", {})[name] = file_digest(root / name)
    (root / "outcomes.parquet").unlink()
    manifest.get("checksums", {}).pop("outcomes.parquet", None)
    for index in pending:  # series parts are written in place, chunk by chunk
        name = f"series/part-{index:05d}.parquet"
        (root / name).unlink(missing_ok=True)
        manifest.get("checksums", {}).pop(name, None)
    manifest["chunks"] = {str(i): "pending" if i in pending else "done"
                          for i in range(len(manifest["chunk_bounds"]))}
    manifest["status"] = "running"
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
