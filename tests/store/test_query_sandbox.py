"""A query reads the run and nothing else (store.query.run_sql): no other file on the machine,
no writing, no second statement, no extension; `discover --where` cannot smuggle SQL in."""

from __future__ import annotations

import pytest

from helpers import assert_one_line_error, run_cli
from offramp.store.query import run_sql
from offramp.store.run_store import StoreError


@pytest.mark.parametrize("sql, expected", [
    ("select * from read_csv('/etc/passwd')", "disabled by configuration"),
    ("select * from read_text('/etc/hostname')", "disabled by configuration"),
    ("select * from read_parquet('/etc/passwd')", "disabled by configuration"),
    ("select * from read_json('{root}/manifest.json')", "disabled by configuration"),
    ("copy (select 1) to '{root}/stolen.csv'", "found: COPY"),
    ("attach '{root}/other.db'", "found: ATTACH"),
    ("install httpfs", "found: LOAD"),
    ("select 1; select 2", "found: SELECT, SELECT"),
    ("set enable_external_access = true", "found: SET"),
])
def test_a_query_cannot_reach_beyond_the_run(kursk_run, sql, expected):
    root = kursk_run.root
    with pytest.raises(StoreError, match=expected):
        run_sql(kursk_run, sql.format(root=root))
    assert not (root / "stolen.csv").exists() and not (root / "other.db").exists()


def test_the_run_itself_is_still_queried(kursk_run):
    frame = run_sql(kursk_run, "select policy, count(*) as n from outcomes join futures using "
                               "(future) group by policy")
    assert frame["n"].sum() == len(kursk_run.read_outcomes())


def test_discover_where_cannot_smuggle_a_statement(kursk_run):
    root = kursk_run.root
    where = f"true) AS hit FROM outcomes; COPY (SELECT 1) TO '{root}/w.csv'; SELECT future, (true"
    result = run_cli("discover", root, "--policy", "drip-feed", "--where", where)
    assert_one_line_error(result, "one SELECT statement")
    assert not (root / "w.csv").exists()
