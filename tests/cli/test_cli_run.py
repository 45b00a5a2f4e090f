"""`offramp run` and `offramp query`: the comparison printed, the report written, SQL over the run
folder, and one clear line for every bad argument."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, run_cli


def test_cli_run_prints_the_comparison_and_writes_the_report(tmp_path):
    result = run_cli("run", "--futures", "200", "--out", str(tmp_path / "cli"), "--series")
    assert result.returncode == 0, result.stderr
    for text in ("Per policy", "Paired", "negotiate-now", "not forecasts", "report:"):
        assert text in result.stdout, text
    report = tmp_path / "cli" / "report.html"
    assert report.is_file()
    html = report.read_text()
    assert "Not a forecast" in html and "<svg" in html and "Where every number comes from" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # nothing to fetch

    query = run_cli("query", str(tmp_path / "cli"),
                    "select policy, count(*) as n from outcomes group by policy order by policy")
    assert query.returncode == 0, query.stderr
    assert "arm-and-hold" in query.stdout and "200" in query.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--policies", "negotiate-later"], "unknown policy negotiate-later"),
        (["--futures", "0"], "--futures must be at least 1"),
        (["--sampler", "grid"], "unknown sampler 'grid'"),
        (["--out", "/proc/offramp-cannot-write-here"], "cannot write"),
    ],
)
def test_bad_run_arguments_get_one_clear_line(args, expected):
    # Through the real entry point (`python -m offramp`): a user's mistake is one line, never a
    # traceback, in a real process too.
    result = run_cli("run", "--no-report", *args, in_process=False)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_rejects_a_bad_requirement_before_it_starts(tmp_path):
    result = run_cli("run", "--futures", "20", "--require", "nonsense >= 1",
                     "--out", str(tmp_path / "bad"))
    assert_one_line_error(result, "'nonsense'")
    assert not (tmp_path / "bad").exists()


def test_a_run_of_one_policy_and_its_report(tmp_path):
    """One policy: nothing to pair, so the paired table is empty, not a crash."""
    out = tmp_path / "one"
    result = run_cli("run", "kursk-2024", "--futures", "60", "--policies", "drip-feed",
                     "--out", out)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert (out / "report.html").is_file()
    assert run_cli("report", out).returncode == 0


def test_bad_settings_are_refused_before_the_progress_bar_is_drawn(tmp_path):
    result = run_cli("run", "kursk-2024", "--policies", "nope", "--futures", "10",
                     "--out", tmp_path / "x")
    assert_one_line_error(result, "unknown policy nope")
    assert result.stdout == ""  # no progress bar, nothing else
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, expected", [
    (("run", "kursk-2024", "--seed", "-1", "--futures", "10"), "--seed must be"),
    (("claims", "kursk-2024", "--seed", "-1", "--futures", "10"), "--seed must be"),
    (("calibrate", "--seed", "-1"), "--seed must be"),
])
def test_bad_seeds_are_one_line_errors(tmp_path, args, expected):
    assert_one_line_error(run_cli(*args, "--out", tmp_path / "x") if args[0] == "run"
                          else run_cli(*args), expected)


@pytest.mark.parametrize("args, expected", [
    (("run", "kursk-2024", "--workers", "1000", "--futures", "10"), "local workers only share"),
    (("run", "kursk-2024", "--workers", "0", "--futures", "10"), "--workers must be at least 1"),
    (("calibrate", "--bootstrap", "1000000000"), "--bootstrap must be from 0 to 100,000"),
])
def test_unbounded_work_is_refused_before_it_starts(tmp_path, args, expected):
    assert_one_line_error(run_cli(*args, "--out", tmp_path / "x") if args[0] == "run"
                          else run_cli(*args), expected)
    assert not (tmp_path / "x").exists()


def test_an_unreachable_scheduler_is_a_fault_of_the_machine(tmp_path):
    result = run_cli("run", "kursk-2024", "--futures", "10", "--dask", "garbage://x",
                     "--out", tmp_path / "x")
    assert_one_line_error(result, "cannot reach the Dask scheduler at 'garbage://x'", code=3)


def test_many_policies_get_a_row_each_and_no_pairs_table(tmp_path):
    """Thirteen policies: the terminal shows a row per policy; the ordered pairs are left to
    the report (each against the most robust) and to Python."""
    import yaml

    policies = {f"aid-{i}": {"description": "drip-feed with more aid",
                             "source": "assumption: a test of many policies at once",
                             "aid_multiplier": 1 + i / 10} for i in range(13)}
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump({"extends": "kursk-2024", "scenario": {
        "name": "many", "default_policies": list(policies)}, "policies": policies}))
    result = run_cli("run", path, "--futures", "20", "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "Paired wins of 13 policies (156 ordered pairs)" in result.stdout
    assert "(A)" not in result.stdout
    page = (tmp_path / "run" / "report.html").read_text()
    assert "each is shown against the most robust" in page
    assert page.count(" vs ") < 40  # 24 pairs with the best, not 156
