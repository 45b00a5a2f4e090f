"""Sampling: the seed decides the futures, for every sampler and in the run folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offramp.experiments.runner import RunSettings, start_run
from offramp.experiments.sampling import (
    design_size,
    saltelli_size,
    sample_futures,
    uncertain_parameters,
)
from offramp.scenario.loader import load_scenario
from offramp.store import RunStore

N_FUTURES = 64  # a power of two: the Sobol sampler does not warn


@pytest.fixture(scope="module")
def kursk():
    return load_scenario("kursk-2024").scenario


@pytest.fixture(scope="module")
def uncertain(kursk) -> list[str]:
    columns = uncertain_parameters(kursk)
    assert len(columns) > 10, "kursk-2024 should have many uncertain parameters"
    return columns


def _assert_seed_decides(first: pd.DataFrame, again: pd.DataFrame, other: pd.DataFrame,
                         uncertain: list[str]) -> None:
    """`first` and `again` share a seed, `other` has another one."""
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert list(other.columns) == list(first.columns)
    assert len(other) == len(first)
    same = [c for c in uncertain if np.array_equal(first[c].to_numpy(), other[c].to_numpy())]
    assert not same, f"uncertain columns identical under two seeds: {same[:5]}"
    fixed = [c for c in first.columns if c not in set(uncertain)]
    pd.testing.assert_frame_equal(first[fixed], other[fixed], check_exact=True)


@pytest.mark.parametrize("sampler", ["lhs", "mc", "sobol"])
def test_the_seed_decides_the_futures(kursk, uncertain, sampler):
    first = sample_futures(kursk, N_FUTURES, 1, sampler)
    again = sample_futures(kursk, N_FUTURES, 1, sampler)
    other = sample_futures(kursk, N_FUTURES, 2, sampler)
    assert len(first) == N_FUTURES and first.index.name == "future"
    _assert_seed_decides(first, again, other, uncertain)
    # Seed 0 is not special: it differs from seed 1 too.
    zero = sample_futures(kursk, N_FUTURES, 0, sampler)
    assert not zero[uncertain].equals(first[uncertain])


def test_the_seed_decides_a_saltelli_design(kursk, uncertain):
    per_base = 2 * len(uncertain) + 2
    budget = 4 * per_base + 3  # four base samples; the 3 left over are dropped
    assert saltelli_size(budget, len(uncertain)) == (4, 4 * per_base)
    assert design_size(kursk, budget, "saltelli") == 4 * per_base
    first = sample_futures(kursk, budget, 1, "saltelli")
    again = sample_futures(kursk, budget, 1, "saltelli")
    other = sample_futures(kursk, budget, 2, "saltelli")
    assert len(first) == 4 * per_base
    _assert_seed_decides(first, again, other, uncertain)


@pytest.fixture(scope="module")
def runs_by_seed(tmp_path_factory) -> dict[int, RunStore]:
    root = tmp_path_factory.mktemp("seeded-runs")
    return {
        seed: start_run(
            RunSettings(scenario="kursk-2024", n_futures=50, seed=seed, chunk_size=50,
                        policies=("negotiate-now",)),
            root / f"seed{seed}",
        )
        for seed in (1, 2)
    }


def test_the_run_folder_stores_the_seeds_futures(kursk, uncertain, runs_by_seed):
    for seed, store in runs_by_seed.items():
        stored = store.read_futures()
        expected = sample_futures(kursk, 50, seed, "lhs").reset_index(drop=True)
        pd.testing.assert_frame_equal(stored, expected, check_exact=True, check_names=False)
    first, other = (runs_by_seed[s].read_futures() for s in (1, 2))
    same = [c for c in uncertain if np.array_equal(first[c].to_numpy(), other[c].to_numpy())]
    assert not same, f"futures.parquet columns identical under seeds 1 and 2: {same[:5]}"
