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


def test_an_unexpected_exception_leaves_a_traceback_and_exit_code_1(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not a user's mistake")

    monkeypatch.setattr(offramp.scenario.loader, "load_scenario", broken)
    result = run_cli("validate", "kursk-2024")
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.rstrip().endswith("RuntimeError: a bug, not a user's mistake")
