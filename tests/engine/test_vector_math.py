"""The kernels' own exp and log: accurate to float32, and the same bits wherever a value falls
in a vectorized loop (its body or its scalar remainder)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.special import expit

from offramp.engine import vector_math
from offramp.engine.vector_math import F32, Array


# compiled here, not cached: a cache in tests/ would outlive a change of vector_math
@numba.njit(nogil=True, error_model="numpy")
def _apply(kind: int, x: Array, y: Array, out: Array) -> None:
    for i in range(x.shape[0]):
        if kind == 0:
            out[i] = vector_math.exp(x[i])
        elif kind == 1:
            out[i] = vector_math.log(x[i])
        elif kind == 2:
            out[i] = vector_math.log1p(x[i])
        elif kind == 3:
            out[i] = vector_math.expit(x[i])
        else:
            out[i] = vector_math.power(x[i], y[i])


def apply(kind: int, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=F32)
    out = np.empty_like(x)
    _apply(kind, x, np.ascontiguousarray(x if y is None else y, dtype=F32), out)
    return out


def relative_error(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(np.abs(got - exact) / np.maximum(np.abs(exact), 1e-30)))


def test_exp_is_accurate_to_float32_and_exact_at_its_edges() -> None:
    x = np.linspace(-87.0, 88.0, 200_001, dtype=F32)
    assert relative_error(apply(0, x), np.exp(x.astype(float))) < 3e-7
    edges = apply(0, np.array([-1e6, -88.0, 0.0, 1.0], dtype=F32))
    assert edges[0] == 0.0 and edges[1] == 0.0  # underflow is exactly 0, as in NumPy
    assert edges[2] == 1.0
    assert edges[3] == pytest.approx(np.e, rel=2e-7)


def test_log_is_accurate_to_float32_and_floored_at_zero() -> None:
    x = np.exp(np.linspace(-85.0, 85.0, 200_001)).astype(F32)
    exact = np.log(x.astype(float))
    assert np.max(np.abs(apply(1, x) - exact) / np.maximum(np.abs(exact), 1.0)) < 2.5e-7
    assert apply(1, np.array([1.0], dtype=F32))[0] == 0.0
    assert apply(1, np.array([0.0, -1.0], dtype=F32)).tolist() == [vector_math.LOG_OF_ZERO] * 2


def test_log1p_expit_and_power() -> None:
    x = np.concatenate([np.linspace(-0.99, 10.0, 10_001), np.logspace(-12, -1, 200)])
    assert relative_error(apply(2, x), np.log1p(x.astype(F32).astype(float))) < 3e-7
    logits = np.linspace(-30.0, 30.0, 10_001, dtype=F32)
    assert np.max(np.abs(apply(3, logits) - expit(logits.astype(float)))) < 2e-7
    base = np.array([0.0, 0.0, 2.0, 0.5, 3.0], dtype=F32)
    exponent = np.array([0.0, 0.7, 0.5, 2.0, 0.0], dtype=F32)
    got = apply(4, base, exponent)
    assert got[0] == 1.0 and got[1] == 0.0 and got[4] == 1.0  # 0 ** 0 = 1, 0 ** y = 0
    np.testing.assert_allclose(got[2:4], [np.sqrt(2.0), 0.25], rtol=5e-7)


@pytest.mark.parametrize("kind", [0, 1, 2, 3])
def test_the_same_bits_in_the_vector_body_and_the_remainder(kind: int) -> None:
    """A value gives the same bits whether it falls in a vector register or the scalar loop
    after it: results do not depend on how futures are chunked."""
    rng = np.random.default_rng(3)
    x = (rng.random(1_003) * 20 - 10).astype(F32) if kind in (0, 3) \
        else (rng.random(1_003) * 50).astype(F32)
    whole = apply(kind, x)
    for start in (0, 1, 5, 17):
        for stop in (start + 1, start + 7, 1_003):
            np.testing.assert_array_equal(apply(kind, x[start:stop]), whole[start:stop])


def test_cached_kernels_are_forgotten_when_vector_math_changes(tmp_path):
    """Numba's cache would keep kernels compiled with an old exp/log: a change of the source
    deletes them, an unchanged source keeps them."""
    source = tmp_path / "vector_math.py"
    source.write_text("one")
    cached = tmp_path / "engine" / "mechanisms" / "__pycache__" / "combat._step_kernel.nbi"
    cached.parent.mkdir(parents=True)
    cached.write_text("compiled")
    marker = tmp_path / "engine" / "__pycache__" / "vector_math.sha256"
    assert vector_math.forget_stale_kernels(source, tmp_path, marker)  # no marker yet
    assert not cached.exists()
    cached.write_text("compiled")
    assert not vector_math.forget_stale_kernels(source, tmp_path, marker)  # unchanged
    assert cached.exists()
    source.write_text("two")
    assert vector_math.forget_stale_kernels(source, tmp_path, marker)
    assert not cached.exists()


def test_the_compiled_loops_cache_is_forgotten_when_any_engine_file_changes(tmp_path):
    """The compiled weekly loop has every mechanism's kernel compiled into its cache: a change
    of any of the files deletes the loop's cached variants, and only them."""
    sources = [tmp_path / "combat.py", tmp_path / "politics.py"]
    for source in sources:
        source.write_text("kernel")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    loop, kernel = cache / "blocks._run_weeks-900.py311.nbi", cache / "combat._step-296.nbi"
    marker = cache / "blocks.sha256"
    vector_math.forget_stale_kernels(sources, tmp_path, marker, kernels="blocks.*")
    loop.write_text("compiled")
    kernel.write_text("compiled")
    assert not vector_math.forget_stale_kernels(sources, tmp_path, marker, kernels="blocks.*")
    sources[1].write_text("another kernel")
    assert vector_math.forget_stale_kernels(sources, tmp_path, marker, kernels="blocks.*")
    assert not loop.exists() and kernel.exists()
