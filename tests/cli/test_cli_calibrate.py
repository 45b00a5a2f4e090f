"""`offramp calibrate`: a table per dataset and law, a residual plot, and user errors without a
traceback (the calibration itself is tests/calibration/test_calibration.py's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli
from offramp.calibration import LAW_NAMES, list_datasets


def test_cli_prints_a_table_for_each_dataset() -> None:
    result = run_cli("calibrate", "--bootstrap", "2")
    assert result.returncode == 0, result.stderr
    for info in list_datasets():
        assert info.name in result.stdout
    for law in LAW_NAMES:
        assert result.stdout.count(f"{law} law: rank") == len(list_datasets())
    assert "ranking" in result.stdout


def test_cli_single_dataset_single_law_with_plot(tmp_path: Path) -> None:
    plot = tmp_path / "iwo.png"
    result = run_cli(
        "calibrate", "iwojima-helmbold", "--law", "square", "--bootstrap", "5", "--plot", str(plot)
    )
    assert result.returncode == 0, result.stderr
    assert "square law: rank 1 of 1" in result.stdout
    assert plot.exists()


def test_cli_list() -> None:
    result = run_cli("calibrate", "--list")
    assert result.returncode == 0, result.stderr
    for info in list_datasets():
        assert info.name in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        ("calibrate", "no-such-battle"),
        ("calibrate", "ardennes-wiper", "--law", "cubic"),
        ("calibrate", "ardennes-wiper", "--bootstrap", "-1"),
    ],
)
def test_cli_user_errors_exit_2_without_traceback(arguments: tuple[str, ...]) -> None:
    # Through the real entry point (`python -m offramp`), in a real process.
    result = run_cli(*arguments, in_process=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error" in result.stderr.lower()
