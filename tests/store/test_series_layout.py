"""Weekly series are stored wide, one part per chunk (one row per future and policy, each series
a list of its weekly values), written once and never joined; `read_series` and the SQL view
`series` give them one row per future, policy and week, the engine's numbers to the bit. A run
made before (one joined long file, series.parquet) is read the same way."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from offramp.experiments.manifest import RunManifest
from offramp.experiments.simulate import run_futures
from offramp.store import RunStore
from offramp.store.atomic import file_digest
from offramp.store.query import run_sql
from offramp.studies.summary import run_bands


def test_a_part_holds_a_chunk_one_row_per_future_and_policy(kursk_series_run):
    manifest = RunManifest.of(kursk_series_run)
    weeks = manifest.scenario_meta["horizon_weeks"] + 1
    for index, (first, stop) in enumerate(kursk_series_run.manifest["chunk_bounds"]):
        part = pq.read_table(kursk_series_run.series_part(index))
        assert part["future"].to_pylist() == [f for f in range(first, stop)
                                              for _ in manifest.policies]
        assert part["policy"].to_pylist() == list(manifest.policies) * (stop - first)
        talks = part.schema.field("talks_open").type
        assert pa.types.is_fixed_size_list(talks) and talks.list_size == weeks
        assert talks.value_type == pa.float32()
    assert not (kursk_series_run.root / "series.parquet").exists(), "no joined copy"


def test_read_series_gives_the_engines_numbers_one_row_per_week(kursk_series_run):
    manifest = RunManifest.of(kursk_series_run)
    series = kursk_series_run.read_series()
    futures = kursk_series_run.read_futures()
    policy = manifest.policies[1]
    mine = series[series["policy"] == policy]
    engine = run_futures(manifest.scenario_model(), futures, policy, seed=manifest.seed,
                         record_series=True).series
    assert engine is not None
    for name in ("a_territory_share", "talks_open", "aid_multiplier"):
        expected = engine[name].T.reshape(-1)  # future-major, then week
        assert np.array_equal(mine[name].to_numpy(), expected), name
    assert mine["week"].to_numpy()[:3].tolist() == [0, 1, 2]
    assert list(series.columns[:3]) == ["future", "policy", "week"]


def test_the_sql_view_and_a_selection_are_the_same_rows(kursk_series_run):
    whole = kursk_series_run.read_series()
    view = run_sql(kursk_series_run, "SELECT * FROM series")
    assert view.equals(whole)
    some = kursk_series_run.read_series(["salient_km2", "talks_open"], [0, 5, 104])
    expected = whole.loc[whole["week"].isin([0, 5, 104]),
                         ["future", "policy", "week", "salient_km2", "talks_open"]]
    assert some.equals(expected.reset_index(drop=True))


def test_a_run_with_the_former_joined_long_series_is_still_read(kursk_series_run, tmp_path):
    root = tmp_path / "run"
    shutil.copytree(kursk_series_run.root, root)
    whole = kursk_series_run.read_series()
    pq.write_table(pa.Table.from_pandas(whole, preserve_index=False), root / "series.parquet")
    shutil.rmtree(root / "series")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["checksums"] = {name: digest for name, digest in manifest["checksums"].items()
                             if not name.startswith("series/")}
    manifest["checksums"]["series.parquet"] = file_digest(root / "series.parquet")
    (root / "manifest.json").write_text(json.dumps(manifest))
    legacy = RunStore.open(root)
    assert legacy.problems() == []
    assert legacy.read_series().equals(whole)
    assert run_sql(legacy, "SELECT * FROM series").equals(whole)
    legacy_bands, bands = run_bands(legacy, max_futures=200), run_bands(kursk_series_run, 200)
    assert legacy_bands.sample == (200, 300) and legacy_bands.kinds == bands.kinds
    pd.testing.assert_frame_equal(legacy_bands.table, bands.table)
    assert legacy.read_series(["talks_open"], [3]).equals(
        whole.loc[whole["week"] == 3, ["future", "policy", "week", "talks_open"]]
        .reset_index(drop=True))
