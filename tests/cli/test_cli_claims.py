"""`offramp claims`: a verdict per claim, on a scenario or on a run folder, and one line for every
mistake."""

from __future__ import annotations

import pytest

from helpers import CLAIMS_RUN, VERDICTS, run_cli
from offramp.cli.claims import DEFAULT_FUTURES as CLI_DEFAULT_FUTURES
from offramp.store import RunStore
from offramp.studies.claims import DEFAULT_FUTURES, evaluate_claims

RUN_SEED = CLAIMS_RUN.seed


@pytest.fixture(scope="module")
def small_run(claims_run):
    """A complete run of kursk-2024: 400 futures, seed 5, in chunks of 150 (three chunks)."""
    return claims_run


def test_the_cli_default_is_the_library_default():
    from offramp.cli.claims import RUN_DEFAULT_FUTURES
    from offramp.studies.summary import CLAIMS_MAX_FUTURES

    assert CLI_DEFAULT_FUTURES == DEFAULT_FUTURES == 2000
    # on a run folder, the claims are judged on the futures its report judges them on
    assert RUN_DEFAULT_FUTURES == CLAIMS_MAX_FUTURES


def printed_verdicts(stdout: str) -> dict[str, str]:
    """claim -> the verdict cell of its row (a row's cells may wrap over several lines)."""
    verdicts: dict[str, list[str]] = {}
    claim = None
    for line in table_rows(stdout):
        if not line.startswith("│"):  # a rule between rows, or the header
            claim = None
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        claim = cells[0] or claim
        if claim is not None and cells[4]:
            verdicts.setdefault(claim, []).append(cells[4])
    # The verdict, then its computed caveats ("caveat: ...") in the same cell.
    return {claim: " ".join(parts).split(" caveat:")[0] for claim, parts in verdicts.items()}


def test_cli_prints_a_verdict_per_claim():
    result = run_cli("claims", "kursk-2024", "--futures", "300")
    assert result.returncode == 0, result.stderr
    assert "300 futures, seed 0, sampler lhs" in result.stdout
    expected = {r.claim_id: r.verdict for r in evaluate_claims("kursk-2024", n_futures=300, seed=0)}
    assert set(expected.values()) <= VERDICTS
    assert printed_verdicts(result.stdout) == expected
    caveated = [r for r in evaluate_claims("kursk-2024", n_futures=300, seed=0) if r.caveats]
    assert caveated and result.stdout.count("caveat:") == sum(len(r.caveats) for r in caveated)


def table_rows(stdout: str) -> list[str]:
    """The printed table without its title (the title names the target)."""
    lines = stdout.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith("┏")):]


def test_cli_on_a_run_folder_prints_the_same_table(small_run, copy_run):
    small_run = copy_run(RunStore.open(small_run)).root  # the command stores the claims there
    on_run = run_cli("claims", str(small_run))
    assert on_run.returncode == 0, on_run.stderr
    assert f"on run {small_run}" in on_run.stdout and "all 400 futures, seed 5" in on_run.stdout
    on_scenario = run_cli("claims", "kursk-2024", "--futures", "400", "--seed", str(RUN_SEED))
    assert on_scenario.returncode == 0, on_scenario.stderr
    assert table_rows(on_run.stdout) == table_rows(on_scenario.stdout)


@pytest.mark.parametrize("target", ["no-such-scenario", "folder"])
def test_cli_bad_target_is_one_line(tmp_path, target):
    if target == "folder":
        target = str(tmp_path)  # a folder without a manifest
    result = run_cli("claims", target)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "run folder" in result.stderr and "Traceback" not in result.stderr


def test_cli_run_folder_rejects_scenario_options(small_run):
    result = run_cli("claims", str(small_run), "--seed", "1", "--set", "combat.noise_sd.value=0.2")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--seed and --set cannot be used with a run folder" in result.stderr


def test_cli_unknown_claim_is_a_user_error():
    result = run_cli("claims", "kursk-2024", "--futures", "20", "--claim", "ladder_make_peace")
    assert result.returncode == 2
    assert "did you mean 'ladder_makes_peace_last'" in result.stderr


def test_validate_still_passes():
    result = run_cli("validate", "kursk-2024")
    assert result.returncode == 0 and "valid" in result.stdout
