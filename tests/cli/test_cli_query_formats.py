"""`offramp query --format csv|json --output FILE`: every row at full precision, for other tools."""

from __future__ import annotations

import json

import pandas as pd

from helpers import assert_one_line_error, run_cli


def test_csv_and_json_give_every_row_at_full_precision(kursk_run, tmp_path):
    root = kursk_run.root
    expected = kursk_run.read_outcomes()
    out = tmp_path / "outcomes.csv"
    result = run_cli("query", root, "select * from outcomes order by future, policy",
                     "--format", "csv", "--output", out)
    assert result.returncode == 0, result.stderr
    read = pd.read_csv(out)
    assert len(read) == len(expected) > 50  # no row cap
    ordered = expected.sort_values(["future", "policy"]).reset_index(drop=True)
    assert (read["casualties_a"].to_numpy() == ordered["casualties_a"].to_numpy()).all()

    result = run_cli("query", root, "select future, policy, end_week from outcomes "
                     "where future < 3 order by future, policy", "--format", "json")
    rows = json.loads(result.stdout)
    assert len(rows) == 3 * expected["policy"].nunique()
    assert set(rows[0]) == {"future", "policy", "end_week"}
    assert any(row["end_week"] is None for row in rows)  # NaN as null: valid JSON


def test_bad_formats_are_one_line_errors(kursk_run, tmp_path):
    root = kursk_run.root
    assert_one_line_error(run_cli("query", root, "select 1", "--format", "xml"), "--format")
    assert_one_line_error(run_cli("query", root, "select 1", "--output", tmp_path / "x.csv"),
                          "--format csv")


def test_a_wide_result_shows_its_first_columns_and_says_how_to_get_all(kursk_run):
    result = run_cli("query", kursk_run.root, "select * from futures", columns=200)
    assert result.returncode == 0, result.stderr
    assert "of 300 rows and 12 of" in result.stdout and "--format csv" in result.stdout
    assert "603,550" in result.stdout  # Ukraine's area: a column wide enough to read
