"""The suite's `run_cli` (tests/helpers.py) runs the command in this process; what it gives must be
what a real `python -m offramp` process gives, or the in-process CLI tests prove nothing."""

from __future__ import annotations

import pytest

import offramp.scenario.loader
from helpers import run_cli


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "kursk-2024"),
        ("validate", "kursk-2042"),  # a UserError: exit code 2 and one line on stderr
        ("run", "--futures", "0", "--no-report"),
        ("claims", "kursk-2024", "--futures", "20", "--claim", "ladder_make_peace"),
    ],
    ids=["valid", "misspelt", "bad-option-value", "unknown-claim"],
)
def test_in_process_gives_what_a_real_process_gives(args):
    inside, real = run_cli(*args), run_cli(*args, in_process=False)
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        real.returncode, real.stdout, real.stderr)


def test_a_usage_error_is_the_same_but_for_the_program_name():
    # click names the program after how Python was started ("python -m offramp" in a real
    # process), so only the usage line may differ.
    inside, real = run_cli("explain"), run_cli("explain", in_process=False)
    assert inside.returncode == real.returncode == 2
    assert inside.stderr.splitlines()[2:] == real.stderr.splitlines()[2:]
    assert "Missing argument 'scenario'" in inside.stderr


def test_with_debug_an_unexpected_exception_leaves_a_traceback_and_exit_code_1(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not a user's mistake")

    monkeypatch.setattr(offramp.scenario.loader, "load_scenario", broken)
    result = run_cli("--debug", "validate", "kursk-2024")
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.rstrip().endswith("RuntimeError: a bug, not a user's mistake")


def test_faults_of_the_machine_exit_3_and_bugs_exit_1_without_a_traceback(monkeypatch):
    import errno

    from offramp.scenario import loader

    def disk_full():
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/chunk.tmp")

    monkeypatch.setattr(loader, "builtin_scenarios", disk_full)
    result = run_cli("scenarios")
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "No space left on device (/runs/x/chunk.tmp)" in result.stderr
    assert "--resume" in result.stderr

    def bug():
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(loader, "builtin_scenarios", bug)
    result = run_cli("scenarios")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "internal error" in result.stderr and "--debug" in result.stderr
    debugged = run_cli("--debug", "scenarios")
    assert "Traceback" in debugged.stderr and "ZeroDivisionError" in debugged.stderr
