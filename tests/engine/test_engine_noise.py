"""Counter-based noise: range, moments, independence of chunking, streams and weeks."""

from __future__ import annotations

import numpy as np
import pytest

from offramp.engine import noise as noise_module
from offramp.engine.noise import NoiseSource, Stream, make_key, normal, uniform


def test_uniform_lies_in_unit_interval_with_mean_one_half():
    draws = uniform(make_key(3), Stream.ESCALATION, 7, np.arange(200_000))
    assert draws.dtype == np.float64
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert draws.mean() == pytest.approx(0.5, abs=0.003)
    assert draws.var() == pytest.approx(1 / 12, rel=0.01)


def test_uniform_does_not_depend_on_chunking():
    key = make_key(42)
    whole = uniform(key, Stream.TALKS, 12, np.arange(1000))
    pieces = np.concatenate([uniform(key, Stream.TALKS, 12, np.arange(a, min(a + 37, 1000)))
                             for a in range(0, 1000, 37)])
    assert np.array_equal(whole, pieces)
    shuffled = np.random.default_rng(0).permutation(1000)
    assert np.array_equal(uniform(key, Stream.TALKS, 12, shuffled), whole[shuffled])


def test_same_arguments_same_bits_and_int_seed_is_a_key():
    index = np.arange(50)
    assert np.array_equal(uniform(9, 1, 2, index), uniform(make_key(9), 1, 2, index))
    assert np.array_equal(normal(9, 1, 2, index), normal(9, 1, 2, index))


@pytest.mark.parametrize("other", [("stream", 2), ("week", 4), ("seed", 8)])
def test_streams_weeks_and_seeds_are_uncorrelated(other):
    index = np.arange(100_000)
    base = dict(seed=7, stream=1, week=3)
    changed = dict(base, **{other[0]: other[1]})
    a = uniform(base["seed"], base["stream"], base["week"], index)
    b = uniform(changed["seed"], changed["stream"], changed["week"], index)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.015


def test_normals_are_standard_and_independent_within_a_call():
    source = NoiseSource(make_key(1), np.arange(100_000))
    z = source.normals(Stream.COMBAT, 0, 6)
    assert z.shape == (6, 100_000)
    assert z.mean(axis=1) == pytest.approx(np.zeros(6), abs=0.01)
    assert z.std(axis=1) == pytest.approx(np.ones(6), abs=0.01)
    correlations = np.corrcoef(z)[np.triu_indices(6, 1)]
    assert np.abs(correlations).max() < 0.015


def test_several_uniforms_per_call_match_single_calls():
    source = NoiseSource(make_key(5), np.arange(1000))
    block = source.uniforms(Stream.LADDER, 3, 5)
    assert np.array_equal(block[:2], source.uniforms(Stream.LADDER, 3, 2))
    assert np.array_equal(block[0], uniform(make_key(5), Stream.LADDER, 3, np.arange(1000)))


def test_event_frequencies_match_small_probabilities():
    # Rival hazards are of order 1e-4 a week: 32-bit uniforms must resolve them.
    draws = uniform(2, Stream.RIVALS, 0, np.arange(2_000_000))
    assert (draws < 1e-4).mean() == pytest.approx(1e-4, rel=0.2)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 9])
def test_compiled_draws_are_the_numpy_reference_bit_for_bit(count):
    if not noise_module.compiled_kernels_enabled():
        pytest.skip("numba is not installed or OFFRAMP_NUMBA=0")
    source = NoiseSource(make_key(11), np.arange(5000, 9000))
    for uniforms, per_hash in ((True, 2), (False, 4)):
        bases = source._bases(Stream.TALKS, 9, (count + per_hash - 1) // per_hash)
        reference = noise_module._draw_numpy(source._index_hash, bases, count, uniforms)
        compiled = noise_module._draw_compiled(source._index_hash, bases, count, uniforms)
        assert compiled.dtype == reference.dtype == np.float32
        assert compiled.shape == reference.shape == (count, 4000)
        assert compiled.tobytes() == reference.tobytes()


def test_engine_results_do_not_depend_on_the_noise_implementation(kursk, futures_300,
                                                                   monkeypatch):
    if not noise_module.compiled_kernels_enabled():
        pytest.skip("numba is not installed or OFFRAMP_NUMBA=0")
    from offramp.engine import simulate
    from offramp.experiments.build import build_inputs

    inputs, levers = build_inputs(kursk, futures_300, "negotiate-now")
    index = np.arange(inputs.n_futures) + 77
    monkeypatch.setattr(noise_module, "COMPILED_MIN_FUTURES", 0)  # compiled even for 300
    compiled = simulate(inputs, levers, 3, index, record_series=True)
    monkeypatch.setattr(noise_module, "_draw", noise_module._draw_numpy)
    reference = simulate(inputs, levers, 3, index, record_series=True)
    for name, values in reference.outcomes.items():
        assert values.tobytes() == compiled.outcomes[name].tobytes(), name
    for name, values in reference.series.items():
        assert values.tobytes() == compiled.series[name].tobytes(), name
