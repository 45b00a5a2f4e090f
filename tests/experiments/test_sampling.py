"""Sampling: the seed decides the futures, for every sampler and in the run folder; a Saltelli run
holds SALib's design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offramp.experiments.runner import RunSettings, start_run
from offramp.experiments.sampling import (
    design_size,
    latin_hypercube,
    saltelli_design,
    saltelli_size,
    sample_futures,
    uncertain_parameters,
)
from offramp.store import RunStore

N_FUTURES = 64  # a power of two: the Sobol sampler does not warn


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


# --- the Saltelli sampler --------------------------------------------------------------------


def test_saltelli_run_has_n_times_2d_plus_2_futures_in_salib_order(kursk, saltelli_run):
    manifest = saltelli_run.manifest
    scenario = kursk
    names = uncertain_parameters(scenario)
    per_base = 2 * len(names) + 2
    assert manifest["sampler"] == "saltelli"
    assert manifest["saltelli"]["base_samples"] == 1000 // per_base
    assert manifest["n_futures"] == 1000 // per_base * per_base == len(saltelli_run.read_futures())
    assert manifest["saltelli"]["parameters"] == names
    # The futures are SALib's unit design mapped through each parameter's inverse CDF.
    unit = saltelli_design({"names": names, "bounds": [[0.0, 1.0]] * len(names)},
                           manifest["saltelli"]["base_samples"], seed=2, calc_second_order=True)
    futures = sample_futures(scenario, 1000, 2, "saltelli")
    from offramp.scenario.walk import scenario_parameters

    params = scenario_parameters(scenario)
    np.testing.assert_array_equal(futures[names[0]].to_numpy(), params[names[0]].ppf(unit[:, 0]))
    pd.testing.assert_frame_equal(futures.reset_index(drop=True).rename_axis("future"),
                                  saltelli_run.read_futures())


@pytest.mark.parametrize(("n_futures", "n_dims"), [(1, 1), (7, 3), (1_000, 40), (20_000, 3)])
def test_our_latin_hypercube_is_scipys_bit_for_bit(n_futures, n_dims):
    """`latin_hypercube` reorders SciPy's arithmetic for speed, not its numbers."""
    from scipy.stats import qmc

    ours = latin_hypercube(np.random.default_rng(np.random.SeedSequence(5)), n_futures, n_dims)
    theirs = qmc.LatinHypercube(d=n_dims, rng=np.random.default_rng(np.random.SeedSequence(5))
                                ).random(n_futures)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
def test_the_latin_hypercube_is_scipys_whether_or_not_the_generator_can_skip_ahead(
        bit_generator):
    """PCG64 skips the uniforms and draws them a block at a time after the shuffles; MT19937
    cannot skip ahead and draws them first: SciPy's numbers either way (3 blocks of futures)."""
    from scipy.stats import qmc

    ours = latin_hypercube(np.random.Generator(bit_generator(9)), 20_000, 4)
    theirs = qmc.LatinHypercube(d=4, rng=np.random.Generator(bit_generator(9))).random(20_000)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("raw_draws", [1, 7, 1_000])
def test_the_compiled_shuffle_is_numpys_across_refills_of_its_draws(monkeypatch, raw_draws):
    """The compiled shuffle reads PCG64's 32-bit draws from batches of 64-bit ones: batches
    that run out in the middle of a shuffle, and an odd number of halves used by one shuffle
    (the other half carried to the next), give NumPy's permutations, hence SciPy's design."""
    from scipy.stats import qmc

    from offramp.experiments import sampling

    monkeypatch.setattr(sampling, "_RAW_DRAWS", raw_draws)
    ours = latin_hypercube(np.random.default_rng(np.random.SeedSequence(11)), 2_001, 5)
    theirs = qmc.LatinHypercube(d=5, rng=np.random.default_rng(np.random.SeedSequence(11))
                                ).random(2_001)
    np.testing.assert_array_equal(ours, theirs)
    generator = np.random.default_rng(3)
    shuffle = sampling._compiled_shuffle(generator)
    assert shuffle is not None
    mine = [np.arange(n, dtype=np.int32) for n in (2, 3, 1_000)]
    numpys = [order.copy() for order in mine]
    reference = np.random.default_rng(3)
    for order, expected in zip(mine, numpys, strict=True):
        shuffle(order)
        reference.shuffle(expected)
        np.testing.assert_array_equal(order, expected)
