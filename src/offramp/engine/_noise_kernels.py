"""The compiled (Numba) noise kernels: the same bits as `noise._draw_numpy`, in one pass.

Imported by `offramp.engine.noise` on first use (loading the kernels from Numba's cache, once
per process); compiled with the engine's `vector_math.jit`. Each 64-bit hash is the splitmix64
finalizer of (index hash XOR stream base), split into words low word first, exactly as the
NumPy reference.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offramp.engine.noise import _MIX1, _MIX2, _NORMAL_BITS
from offramp.engine.vector_math import jit

_U64s = npt.NDArray[np.uint64]
_F32s = npt.NDArray[np.float32]



@jit
def _mix_kernel(index_hash: _U64s, base: np.uint64, i: int) -> np.uint64:
    z: np.uint64 = index_hash[i] ^ base
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


@jit
def uniforms_kernel(index_hash: _U64s, bases: _U64s, out: _F32s) -> _F32s:
    # Row 2h is the low 32-bit word of hash h, row 2h + 1 the high one (as `_draw_numpy`).
    count, n = out.shape
    scale = np.float32(2.0**-24)
    for h in range(bases.shape[0]):
        base = bases[h]
        if 2 * h + 1 < count:
            for i in range(n):
                z = _mix_kernel(index_hash, base, i)
                out[2 * h, i] = np.float32((z & np.uint64(0xFFFFFFFF)) >> np.uint64(8)) * scale
                out[2 * h + 1, i] = np.float32(z >> np.uint64(40)) * scale
        else:
            for i in range(n):
                z = _mix_kernel(index_hash, base, i)
                out[2 * h, i] = np.float32((z & np.uint64(0xFFFFFFFF)) >> np.uint64(8)) * scale
    return out


@jit
def normals_kernel(index_hash: _U64s, bases: _U64s, table: _F32s, out: _F32s) -> _F32s:
    # Row 4h + w is 16-bit word w (low first) of hash h; its top 14 bits index the table. The
    # hashes of a base first, in a loop of arithmetic alone (it runs on vectors), then the table
    # read one row at a time: 25% faster than hashing and reading in one loop.
    count, n = out.shape
    shift = np.uint64(16 - _NORMAL_BITS)
    mask = np.uint64(0xFFFF)
    hashes = np.empty(n, dtype=np.uint64)
    for h in range(bases.shape[0]):
        base = bases[h]
        for i in range(n):
            hashes[i] = _mix_kernel(index_hash, base, i)
        for w in range(min(4, count - 4 * h)):
            row = out[4 * h + w]
            at = np.uint64(16 * w)
            for i in range(n):
                row[i] = table[((hashes[i] >> at) & mask) >> shift]
    return out
