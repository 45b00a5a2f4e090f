"""Single-precision exp and log that a compiled loop can vectorize, and the engine's `jit`.

The mechanisms' weekly kernels are Numba loops over futures. A loop that calls the C library's
`expf` or `logf` stays scalar (about 8 ns an element here), slower than NumPy's own SIMD
functions; these are written in plain arithmetic and bit operations, so LLVM turns a kernel's
loop into AVX2/AVX-512 instructions (about 0.4 ns an element) with the same bits as a scalar
evaluation: no fast-math, no fused multiply-add, so the results do not depend on the CPU's
vector width, on how futures are chunked or on which element of a vector a future falls.

Accuracy (tested against float64): `exp` within 3e-7 relative, `log` within 2 float32 ulps of
the result (absolute 1.2e-7 near 1); both are as good as the float32 state they act on.

Domain: `exp` is 0 below -87.3 (no subnormals: as in NumPy, e ** -1e6 is exactly 0) and
saturates at e ** 88.7 ~ 3.3e38 above (NumPy: inf; nothing in the engine comes near). `log`
takes x > 0; for x <= 0 it gives `LOG_OF_ZERO`, not NaN or -inf (the floor the engine puts on
logs of zero densities anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

_Function = TypeVar("_Function", bound=Callable[..., Any])


def forget_stale_kernels(sources: Path | Sequence[Path], package: Path, marker: Path,
                         kernels: str = "*") -> bool:
    """Delete the cached kernels under `package` whose names match `kernels` (a glob; all by
    default) when a file of `sources` has changed since they were compiled (their digest
    differs from the one `marker` holds); True if they were deleted.

    Numba keys a kernel's disk cache by the date and size of the kernel's own file, not by the
    functions of other files compiled into it: after a change of this module (an edit, or a
    `git pull` in an editable install) every cached kernel would silently keep the old exp and
    log, and the compiled weekly loop (`blocks`) every mechanism's old kernel. When the digest
    differs, the `*.nbi`/`*.nbc` files go and the kernels compile again on first use. (A
    reinstall rewrites every file, so Numba's own dates already catch it.)"""
    digest = hashlib.sha256()
    for source in [sources] if isinstance(sources, Path) else sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    try:
        if marker.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    for cached in package.rglob(f"__pycache__/{kernels}.nb[ic]"):
        cached.unlink(missing_ok=True)
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(digest.hexdigest())
    except OSError:  # a read-only install: Numba caches elsewhere, and upgrades rewrite files
        pass
    return True


_HERE = Path(__file__).resolve()
forget_stale_kernels(_HERE, _HERE.parents[1], _HERE.with_name("__pycache__") / "vector_math.sha256")


def jit(function: _Function) -> _Function:
    """How every engine kernel is compiled: cached on disk, no GIL, division by zero gives
    inf/nan as in NumPy (no Python exception, which would also stop vectorization), IEEE
    arithmetic (no fast-math: the same bits whatever the vector width)."""
    return cast(_Function, numba.njit(cache=True, nogil=True, error_model="numpy",
                                      fastmath=False)(function))


def full(values: np.ndarray | float, shape: tuple[int, ...],
         dtype: type | None = np.float32) -> np.ndarray:
    """`values` as a C-contiguous, writeable array of exactly `shape` for a kernel: itself when
    it is one already (the usual case, at no cost), else broadcast into a new array (a kernel's
    loop does not vectorize over a broadcast view's zero strides: aid's kernel took 0.13 ms
    with a (K, 1) lever broadcast, 0.033 ms with it copied; and Numba compiles a kernel once
    more for each combination of read-only arguments). `dtype=None`: an array's own dtype (a
    bool mask stays bool), float32 for a scalar."""
    if isinstance(values, np.ndarray):
        # the checks in order of cost: this runs ~180 times a chunk-week
        if dtype is None:
            dtype = values.dtype.type
        if values.shape == shape and (values.dtype.type is dtype or values.dtype == dtype):
            flags = values.flags
            if flags.c_contiguous and flags.writeable:
                return values
    elif dtype is None:
        dtype = np.float32
    return np.full(shape, values, dtype=dtype)


def inline(function: _Function) -> _Function:
    """A scalar function compiled into the kernels that call it (its loop stays vectorizable)."""
    return cast(_Function, numba.njit(inline="always")(function))


F32 = np.float32
Array = np.ndarray
"""A kernel's array argument (contiguous, futures last)."""
LOG_OF_ZERO = F32(-1e6)
"""What `log` returns for x <= 0: the floor the engine puts on logs of zero densities."""

_LN2_HI = F32(0.693359375)  # ln 2 split so that k * _LN2_HI is exact for |k| < 2**9
_LN2_LO = F32(-2.12194440e-4)
_LN2 = F32(0.6931471805599453)
_LOG2E = F32(1.4426950408889634)
_SQRT2 = F32(1.4142135623730951)
_EXP_LOW = F32(-87.3)
_EXP_HIGH = F32(88.7)


@intrinsic
def _float_bits_intrinsic(typingctx: Any, value: Any) -> Any:
    """The int32 with the same bits as a float32 (a register reinterpretation, vectorizable)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _bits_float_intrinsic(typingctx: Any, value: Any) -> Any:
    """The float32 with the same bits as an int32."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_float_bits = cast(Callable[[Any], Any], _float_bits_intrinsic)
_bits_float = cast(Callable[[Any], Any], _bits_float_intrinsic)


@inline
def _expm1_over_x(p6: Any, x: Any) -> Any:
    """(e ** x - 1) / x = 1 + x / 2! + x ** 2 / 3! + ... by Horner's scheme, `p6` the coefficient
    of x ** 6 (1 / 7!, with any higher terms already folded into it): what `exp` and `expm1`
    share of e's Taylor series."""
    p = p6 * x + F32(1.0 / 720.0)
    p = p * x + F32(1.0 / 120.0)
    p = p * x + F32(1.0 / 24.0)
    p = p * x + F32(1.0 / 6.0)
    p = p * x + F32(0.5)
    return p * x + F32(1.0)


@inline
def exp(x: Any) -> Any:
    """e ** x in float32: x = k ln 2 + r, |r| <= ln 2 / 2, e ** r by a degree-7 Taylor
    polynomial (Horner), times 2 ** k built in the exponent bits (as two halves, so that every
    k from -126 to 128 has them)."""
    x = F32(x)
    clamped = min(max(x, _EXP_LOW), _EXP_HIGH)
    k = np.floor(clamped * _LOG2E + F32(0.5))
    r = clamped - k * _LN2_HI - k * _LN2_LO
    p = _expm1_over_x(F32(1.0 / 5040.0), r) * r + F32(1.0)
    whole = np.int32(k)
    half = whole >> np.int32(1)
    value = (p * _bits_float((half + np.int32(127)) << np.int32(23))
             * _bits_float((whole - half + np.int32(127)) << np.int32(23)))
    return value * F32(x >= _EXP_LOW)  # below: 0, as the true value underflows


@inline
def log(x: Any) -> Any:
    """ln x in float32 for x > 0: x = 2 ** e * m with m in [sqrt(2)/2, sqrt(2)), and
    ln m = 2 atanh(s), s = (m - 1) / (m + 1), by its odd series to s ** 11 (|s| < 0.172)."""
    x = F32(x)
    bits = _float_bits(x)
    e = ((bits >> np.int32(23)) & np.int32(255)) - np.int32(127)
    m = _bits_float((bits & np.int32(0x7FFFFF)) | np.int32(0x3F800000))  # in [1, 2)
    high = np.int32(m > _SQRT2)
    m = m * (F32(1.0) - F32(0.5) * F32(high))
    e = e + high
    s = (m - F32(1.0)) / (m + F32(1.0))
    s2 = s * s
    p = F32(2.0 / 11.0)
    p = p * s2 + F32(2.0 / 9.0)
    p = p * s2 + F32(2.0 / 7.0)
    p = p * s2 + F32(2.0 / 5.0)
    p = p * s2 + F32(2.0 / 3.0)
    p = p * s2 + F32(2.0)
    result = F32(e) * _LN2 + s * p
    return result if x > F32(0.0) else LOG_OF_ZERO


@inline
def log1p(x: Any) -> Any:
    """ln(1 + x) in float32, accurate for small x too (the rounding of 1 + x is corrected)."""
    x = F32(x)
    u = F32(1.0) + x
    # ln(u) + (x - (u - 1)) / u: the first-order correction for the rounding of u
    small = u == F32(1.0)
    return x if small else log(u) + (x - (u - F32(1.0))) / u


@inline
def expm1(x: Any) -> Any:
    """e ** x - 1 in float32, accurate for small x too: below |x| = 0.35 by its Taylor series to
    x ** 8 (relative error under 1e-9), above through `exp`."""
    x = F32(x)
    p = _expm1_over_x(F32(1.0 / 40320.0) * x + F32(1.0 / 5040.0), x)
    return p * x if abs(x) < F32(0.35) else exp(x) - F32(1.0)


@inline
def expit(x: Any) -> Any:
    """1 / (1 + e ** -x) in float32."""
    return F32(1.0) / (F32(1.0) + exp(-F32(x)))


@inline
def power(base: Any, exponent: Any) -> Any:
    """base ** exponent for base >= 0 in float32, as exp(exponent ln base), with 0 ** 0 = 1 and
    0 ** y = 0 for y > 0 (the floored log)."""
    if exponent == F32(0.0):
        return F32(1.0)
    return exp(F32(exponent) * log(base))
