"""The Python API for notebooks (offramp.run, offramp.open_run): the same bits as the runner."""

from __future__ import annotations

import re

import pandas as pd

import offramp


def test_python_api(kursk_run, tmp_path):
    run = offramp.run("kursk-2024", futures=300, seed=7, chunk_size=150, out=tmp_path / "api")
    pd.testing.assert_frame_equal(run.outcomes, kursk_run.read_outcomes(), check_exact=True)
    table = run.compare()
    assert list(table.index) == ["negotiate-now", "arm-and-hold", "drip-feed", "as-happened"]
    assert table["ended_share"].between(0, 1).all()
    assert {"territory_share_median", "casualties_a_median"} <= set(table.columns)
    paired = run.paired()
    assert paired.shape[0] == 4 * 3  # every ordered pair of policies
    assert paired.index.names == ["policy", "versus"]
    assert ("negotiate-now", "drip-feed") in paired.index
    assert all(re.fullmatch(r"[a-z0-9_]+", column) for column in paired.columns)
    assert run.report().is_file()
    reopened = offramp.open_run(run.path)
    assert reopened.outcomes.dtypes.equals(run.outcomes.dtypes)
    assert int(reopened.query("select count(*) as n from outcomes")["n"][0]) == 300 * 4
    joined = reopened.query("select count(*) as n from outcomes join futures using (future)")
    assert int(joined["n"][0]) == 300 * 4


def test_a_run_shows_itself_in_a_notebook(kursk_run):
    run = offramp.open_run(kursk_run.root)
    shown = run._repr_html_()
    assert shown.startswith("<p><strong>Run(&#x27;kursk-2024&#x27;")
    assert "not a forecast" in shown and "<table" in shown
    for policy in run.manifest.policies:
        assert policy in shown


def test_the_run_draws_the_reports_figures(kursk_run):
    from matplotlib.figure import Figure

    run = offramp.open_run(kursk_run.root)
    figure = run.plot.distribution("casualties_a")
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].patches) == len(run.manifest.policies)  # one histogram each
