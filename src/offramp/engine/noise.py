"""Counter-based random numbers: every draw is a hash of (key, stream, week, future index).

Why a hash and not a generator: a generator's output depends on how many numbers were drawn
before, so it changes with the chunking of futures, the order of work on a cluster, and with
the policy (a policy that skips a mechanism would shift every later draw). A hash of the
coordinates of a draw has none of these dependencies:

- the same future (global index) gets the same numbers whichever chunk it sits in;
- every policy sees exactly the same numbers (common random numbers), so a difference
  between policies is paired, not noise;
- each random purpose has its own stream id (`Stream`), so adding draws in one mechanism never
  moves the draws of another.

The hash is the splitmix64 finalizer (Steele, Lea & Flood 2014, as used by
java.util.SplittableRandom), applied twice: once to the future index with the first key word
(precomputed per chunk), once more after mixing in (second key word, stream, sub-stream, week).
All arithmetic is uint64 with wrap-around.

Resolution: each 64-bit hash yields two uniforms (the top 24 bits of each 32-bit half,
k / 2**24 in [0, 1), exact in float32) or four
standard normals, each the inverse normal CDF at the midpoint of one of 2**14 equal-probability
bins (a table lookup: quantised to 16,384 levels, |z| <= 3.9; ample for weekly shocks whose
scale is itself uncertain, several times cheaper than Box-Muller with float64 trigonometry, and
the 64 KB table stays in cache).

Two implementations give the same bits: `_draw_numpy` (whole-array NumPy, the reference) and
`_draw_compiled` (one Numba loop in `_noise_kernels` that hashes, splits and scales in a single
pass: NumPy needs about fifteen passes over the (hashes, n) array for the same work, and the hash
was an eighth of the engine's time). The compiled one is used for chunks of at least
`COMPILED_MIN_FUTURES` futures when Numba is importable and `OFFRAMP_NUMBA` is not "0"; tests
check that both give identical arrays.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import IntEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB

_U30, _U27, _U31 = np.uint64(30), np.uint64(27), np.uint64(31)
_M1, _M2, _G = np.uint64(_MIX1), np.uint64(_MIX2), np.uint64(_GOLDEN)
_U8 = np.uint32(8)
_TWO_TO_MINUS_24 = np.float32(2.0**-24)

# Inverse normal CDF at the midpoints of 2**14 equal-probability bins, indexed by the top 14 bits
# of a 16-bit word.
_NORMAL_BITS = 14
_NORMAL_TABLE = ndtri((np.arange(1 << _NORMAL_BITS) + 0.5) / (1 << _NORMAL_BITS)).astype(np.float32)
_NORMAL_SHIFT = np.uint16(16 - _NORMAL_BITS)


class Stream(IntEnum):
    """One id per random purpose. Never renumber: results are keyed on these values."""

    COMBAT = 1  # normals: lognormal casualty noise, per side and theater
    SUPPORT = 2  # normals: opinion shocks, belligerents then backers
    FOG = 3  # normals: observation noise on territory and held enemy soil, per side
    ESCALATION = 4  # uniforms: event, talks closure
    TALKS = 5  # uniforms: talks open/close, settlement
    LADDER = 6  # uniforms: adoption, ceasefire relapse, violation per rung
    RIVALS = 7  # uniforms: opening, per rival
    ELECTION = 8  # uniforms: winner, per election
    ROUT = 9  # uniforms: a force breaks, per side and theater (only with combat.rout)
    HARDENING = 10  # uniforms: whether holding b's soil hardens b, once per future (week 0)
    ESCALATION_RUNGS = 11  # uniforms: event, talks closure, per rung above the strike surge
    OPPONENT = 12  # uniforms: whether side b follows each of its rules, once per future (week 0)


Key = tuple[int, int]


def make_key(seed: int) -> Key:
    """The two 64-bit key words for a run's seed (NumPy's SeedSequence spreads the entropy)."""
    words = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def _as_key(key: Key | int | np.ndarray) -> Key:
    """Accept a key pair, or an int taken as a seed."""
    if isinstance(key, int | np.integer):
        return make_key(int(key))
    first, second = key
    return int(first) & _MASK64, int(second) & _MASK64


def _mix_int(x: int) -> int:
    """splitmix64 finalizer on a Python int (for per-call scalars)."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * _MIX1) & _MASK64
    x = ((x ^ (x >> 27)) * _MIX2) & _MASK64
    return x ^ (x >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer on a uint64 array (returns a new array; the input is untouched)."""
    z = z ^ (z >> _U30)
    z *= _M1
    z ^= z >> _U27
    z *= _M2
    z ^= z >> _U31
    return z


def _stream_base(key_word: int, stream: int, sub: int, week: int) -> int:
    if not (0 <= stream < 1 << 16 and 0 <= sub < 1 << 16 and 0 <= week < 1 << 32):
        raise ValueError(f"stream {stream}, sub {sub} or week {week} out of range")
    return _mix_int(key_word ^ _mix_int((stream << 48) | (sub << 32) | week))


@lru_cache(maxsize=8192)
def _bases(key_word: int, stream: int, week: int, n_hashes: int) -> np.ndarray:
    """The per-call scalars of the hash (the same for every chunk and policy of a run: kept)."""
    bases = np.array([_stream_base(key_word, stream, h, week) for h in range(n_hashes)],
                     dtype=np.uint64)
    bases.setflags(write=False)
    return bases


class NoiseSource:
    """Random numbers for one chunk of futures, identified by their global indices."""

    def __init__(self, key: Key | int, future_index: np.ndarray):
        self.key = _as_key(key)
        index = np.asarray(future_index, dtype=np.uint64)
        if index.ndim != 1:
            raise ValueError("future_index must be a 1-d array of global future indices")
        self.n = index.shape[0]
        with np.errstate(over="ignore"):
            # Hash the index once per chunk; every later draw re-mixes this with a scalar.
            self._index_hash = _mix_array(index * _G + np.uint64(self.key[0]))

    def _stream_base(self, stream: int, sub: int, week: int) -> int:
        return _stream_base(self.key[1], stream, sub, week)

    def _bases(self, stream: int, week: int, n_hashes: int) -> np.ndarray:
        return _bases(self.key[1], stream, week, n_hashes)

    def _hashes(self, stream: int, week: int, n_hashes: int) -> np.ndarray:
        return _mix_array(self._index_hash[None, :] ^ self._bases(stream, week, n_hashes)[:, None])

    def uniforms(self, stream: int, week: int, count: int) -> np.ndarray:
        """(count, n) uniforms in [0, 1), float32 with 24-bit resolution (exact multiples of
        2**-24, so comparisons with hazards as small as 1e-4 are accurate to 0.1%)."""
        return _draw(self._index_hash, self._bases(stream, week, (count + 1) // 2), count,
                     uniforms=True)

    def normals(self, stream: int, week: int, count: int) -> np.ndarray:
        """(count, n) standard normals, float32 (inverse-CDF table, 14 bits each)."""
        return _draw(self._index_hash, self._bases(stream, week, (count + 3) // 4), count,
                     uniforms=False)


def _draw_numpy(index_hash: np.ndarray, bases: np.ndarray, count: int, uniforms: bool
                ) -> np.ndarray:
    """(count, n) draws from the hashes of (index_hash, base) pairs: whole-array NumPy."""
    n = index_hash.shape[0]
    hashed = _mix_array(index_hash[None, :] ^ bases[:, None])
    if uniforms:
        words = _little_endian_words(hashed, "<u4")
        top_bits = words.reshape(2 * bases.shape[0], n)[:count] >> _U8
        draws: npt.NDArray[np.float32] = np.multiply(top_bits, _TWO_TO_MINUS_24,
                                                     dtype=np.float32)
        return draws
    lanes = _little_endian_words(hashed, "<u2")
    values: npt.NDArray[np.float32] = _NORMAL_TABLE.take(lanes >> _NORMAL_SHIFT)
    return values.reshape(4 * bases.shape[0], n)[:count]


COMPILED_MIN_FUTURES = 2048
"""Chunks at least this large draw through the compiled kernels; smaller ones (tests, tiny
runs) through NumPy, which spares them loading the noise kernels from Numba's cache (once per
process; Numba itself is imported with the mechanisms' kernels).
Both give the same bits, so the choice changes no result."""

# The compiled kernels' signatures: (index_hash, bases, out) and (index_hash, bases, table, out),
# each returning `out` filled.
_UniformsKernel = Callable[
    [npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.float32]],
    npt.NDArray[np.float32]]
_NormalsKernel = Callable[
    [npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.float32],
     npt.NDArray[np.float32]],
    npt.NDArray[np.float32]]
_Kernels = tuple[_UniformsKernel, _NormalsKernel]

_kernels: _Kernels | tuple[()] | None = None  # () once tried and not available


def _compiled_kernels() -> _Kernels | None:
    """(uniforms kernel, normals kernel), imported on first use; None without Numba or with
    OFFRAMP_NUMBA=0."""
    global _kernels
    if _kernels is None:
        _kernels = ()
        if os.environ.get("OFFRAMP_NUMBA", "1") != "0":
            try:
                from offramp.engine import _noise_kernels
            except ImportError:  # pragma: no cover - numba is a dependency
                pass
            else:
                _kernels = (_noise_kernels.uniforms_kernel, _noise_kernels.normals_kernel)
    return _kernels or None


def compiled_kernels_enabled() -> bool:
    """True when the engine's compiled (Numba) kernels are available and not turned off."""
    return _compiled_kernels() is not None


def _draw_compiled(index_hash: np.ndarray, bases: np.ndarray, count: int, uniforms: bool
                   ) -> np.ndarray:
    """The same draws as `_draw_numpy`, in one compiled pass."""
    kernels = _compiled_kernels()
    assert kernels is not None  # `_draw` comes here only when they are enabled
    uniforms_kernel, normals_kernel = kernels
    out = np.empty((count, index_hash.shape[0]), dtype=np.float32)
    if uniforms:
        return uniforms_kernel(index_hash, bases, out)
    return normals_kernel(index_hash, bases, _NORMAL_TABLE, out)


def _draw(index_hash: np.ndarray, bases: np.ndarray, count: int, uniforms: bool) -> np.ndarray:
    # Once the kernels are loaded they serve every size (the retired groups are small).
    if (_kernels or index_hash.shape[0] >= COMPILED_MIN_FUTURES) and compiled_kernels_enabled():
        return _draw_compiled(index_hash, bases, count, uniforms)
    return _draw_numpy(index_hash, bases, count, uniforms)


def _little_endian_words(z: np.ndarray, word: str) -> np.ndarray:
    """Split each uint64 of z (shape (h, n)) into its 16- or 32-bit words, low word first,
    as an (h, words, n) view; the same on every platform (the hash is read little-endian)."""
    per_value = 8 // np.dtype(word).itemsize
    h, n = z.shape
    words: np.ndarray = z.astype("<u8", copy=False).view(word).reshape(h, n, per_value)
    return np.moveaxis(words, 2, 1)


def uniform(key: Key | int, stream: int, week: int, future_index: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) (float64, 24-bit resolution) for the given futures: a pure function of
    its arguments. `key` is a pair of uint64 words (`make_key(seed)`) or an int seed.
    """
    draws: np.ndarray = NoiseSource(key, future_index).uniforms(stream, week, 1)[0]
    return draws.astype(np.float64)


def normal(key: Key | int, stream: int, week: int, future_index: np.ndarray) -> np.ndarray:
    """Standard normals for the given futures: a pure function of its arguments."""
    draws: np.ndarray = NoiseSource(key, future_index).normals(stream, week, 1)[0]
    return draws
