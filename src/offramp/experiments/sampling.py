"""Futures: one draw of every uncertain parameter, by Monte Carlo, Latin hypercube, Sobol or
Saltelli.

The design is made once per run over all futures (it is a global design: a Latin hypercube of
10,000 rows is not ten of 1,000), then stored; chunks slice it. Uniform numbers in [0, 1) come
from SciPy's samplers (SALib's for Saltelli) and are mapped through each parameter's inverse CDF.

The Saltelli design exists for Sobol indices (`offramp sensitivity --method sobol`): its rows come
in blocks of 2D + 2 (D uncertain parameters) that must stay together and in order, so it cannot
give an arbitrary number of futures. `--futures` is then a budget: the run has
N = futures // (2D + 2) base samples and N·(2D + 2) futures (`saltelli_size`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd

from offramp.engine.vector_math import jit
from offramp.errors import UserError
from offramp.scenario.walk import scenario_parameters

Sampler = Literal["lhs", "mc", "sobol", "saltelli"]
SAMPLERS: tuple[str, ...] = ("lhs", "mc", "sobol", "saltelli")


def saltelli_size(n_futures: int, n_dims: int) -> tuple[int, int]:
    """(base samples N, futures N·(2D + 2)) of the largest Saltelli design within `n_futures`.

    Second-order rows are included (2D + 2 rows per base sample, not D + 2) so that SALib can
    also estimate pairwise interactions from the same runs.
    """
    per_base = 2 * n_dims + 2
    base = n_futures // per_base
    if base < 1:
        raise UserError(
            f"--sampler saltelli needs at least 2D + 2 = {per_base} futures for the scenario's "
            f"D = {n_dims} uncertain parameters (one base sample), found {n_futures}; "
            f"Sobol indices want hundreds of base samples, e.g. --futures {per_base * 256:,}"
        )
    return base, base * per_base


def uniform_design(n_futures: int, n_dims: int, seed: int, sampler: Sampler) -> np.ndarray:
    """An (n_futures, n_dims) array of numbers in [0, 1).

    For "saltelli" the array has `saltelli_size(n_futures, n_dims)[1]` rows instead.
    """
    if n_futures < 1:
        raise UserError(f"the number of futures must be at least 1, found {n_futures}")
    if sampler == "saltelli":
        return _saltelli_unit_design(n_futures, n_dims, seed)
    if n_dims == 0:
        return np.empty((n_futures, 0))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if sampler == "mc":
        return rng.random((n_futures, n_dims))
    if sampler == "lhs":
        return latin_hypercube(rng, n_futures, n_dims)  # (sample_futures fills its own rows)
    if sampler == "sobol":
        # Scrambled Sobol' points keep their balance properties only in powers of two; SciPy
        # warns otherwise, which is the user's informed choice here.
        from scipy.stats import qmc  # slow to import (~0.7 CPU-s): only this sampler needs it

        engine = qmc.Sobol(d=n_dims, scramble=True, rng=rng)
        return engine.random(n_futures)
    raise UserError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")


_LHS_BLOCK = 2048
"""Futures per block of the Latin hypercube's last step (a block of uniforms, 2,048 x 158
dimensions: 2.6 MB, stays in cache)."""


def latin_hypercube(rng: np.random.Generator, n_futures: int, n_dims: int) -> np.ndarray:
    """SciPy's `qmc.LatinHypercube(d=n_dims, rng=rng).random(n_futures)`, the same numbers,
    computed with the dimensions first (`_fill_latin_hypercube`), as an F-ordered (n_futures,
    n_dims) view whose columns (what sampling reads) are contiguous. tests/experiments checks
    the bits against SciPy's."""
    ranks = np.empty((n_dims, n_futures))
    _fill_latin_hypercube(rng, n_futures, ranks, np.arange(n_dims))
    return ranks.T


def _fill_latin_hypercube(rng: np.random.Generator, n_futures: int, values: np.ndarray,
                          rows: np.ndarray) -> None:
    """`latin_hypercube` written into `values[rows]`, the (n_futures,) rows of a C-ordered
    array, one per dimension in order: row i of a dimension is (perm_i - u_i) / n.

    SciPy draws all the uniforms, then a permutation per dimension, then subtracts. Here each
    dimension's permutation is a contiguous row, and the uniforms, which are the stream's next
    n x d draws (one 64-bit draw each, row after row), are skipped over first (`advance`) and
    drawn afterwards a block of futures at a time, from the same positions of the stream, as
    the block is subtracted: no (n, d) array of them (1.5 GB at 1,000,000 x 190, most of a
    run's peak memory, and ~2 CPU-s of page faults for its fresh memory; a bit generator that
    cannot skip ahead draws them first, as SciPy does).
    """
    n_dims = len(rows)
    rng = rng.spawn(1)[0]  # as SciPy's QMC engines do: a child generator of their own
    uniforms_from = rng.bit_generator.state
    skip = getattr(rng.bit_generator, "advance", None)  # PCG64 (default_rng's) and Philox
    drawn_first = rng.uniform(size=(n_futures, n_dims)) if skip is None else None
    if skip is not None:
        skip(n_futures * n_dims)
    # A permutation per dimension, in SciPy's order of draws. A shuffle's swaps depend only on
    # the length and the generator, so 32-bit ranks shuffle to the same order as floats, in
    # half the memory they jump across (250,000 x 190: 1.8 -> 1.1 CPU-s for the whole design).
    order = np.empty(n_futures, dtype=np.int32 if n_futures < 2**31 else np.int64)
    shuffle = _compiled_shuffle(rng) if n_futures < 2**31 else None
    for row in rows:
        order[:] = np.arange(1, n_futures + 1, dtype=order.dtype)
        (rng.shuffle if shuffle is None else shuffle)(order)
        values[row] = order
    if drawn_first is None:  # back to the uniforms (the child generator is not used after)
        rng.bit_generator.state = uniforms_from
        uniforms = np.empty((min(_LHS_BLOCK, n_futures), n_dims))
    for start in range(0, n_futures, _LHS_BLOCK):
        stop = min(n_futures, start + _LHS_BLOCK)
        if drawn_first is None:
            drawn = uniforms[:stop - start]
            rng.random(out=drawn)  # = rng.uniform(): 0 + 1 x the same draw
        else:
            drawn = drawn_first[start:stop]
        _subtract_uniforms(values, rows, drawn, start)
    for row in rows:
        values[row] /= n_futures


_RAW_DRAWS = 1 << 20
"""64-bit draws taken from the generator at a time by `_compiled_shuffle` (8 MB)."""


def _compiled_shuffle(rng: np.random.Generator) -> Callable[[np.ndarray], None] | None:
    """`rng.shuffle` for 1-D arrays shorter than 2**31, the same swaps, compiled
    (`_shuffle_from`): for a PCG64 generator whose 32-bit buffer is empty (as `advance` and
    `spawn` leave it), else None. NumPy draws each swap's index by masked rejection on 32-bit
    draws, which PCG64 makes from its 64-bit outputs, low half first, then high: the outputs
    taken in bulk (`random_raw`) and read as 32-bit halves are that sequence, carried from one
    shuffle to the next. The generator is left further on than NumPy's would be (a batch is
    drawn ahead), so it must not be drawn from afterwards (`_fill_latin_hypercube` goes back to
    a saved state). 1,000,000 ranks: 15.8 against 22.1 ms (the same order, tested against
    SciPy's design)."""
    bits = rng.bit_generator
    if type(bits) is not np.random.PCG64 or bits.state["has_uint32"]:
        return None
    halves = np.empty(0, dtype=np.uint32)
    used = 0

    def shuffle(order: np.ndarray) -> None:
        nonlocal halves, used
        last = len(order) - 1
        while last >= 1:
            if used >= len(halves):
                halves, used = bits.random_raw(_RAW_DRAWS).view(np.uint32), 0
            used, last = _shuffle_from(order, halves, used, last)

    return shuffle


@jit
def _shuffle_from(order: np.ndarray, halves: np.ndarray, used: int,
                  last: int) -> tuple[int, int]:
    """NumPy's Fisher-Yates (`Generator.shuffle`: i from `last` down to 1, swapped with
    j = `random_interval(i)`: the smallest all-ones mask >= i, 32-bit draws under it until one
    is <= i) on draws taken from `halves` from `used`. Returns (draws used, the i to go on
    from: 0 when done, else where the draws ran out)."""
    i = last
    while i >= 1:
        mask = np.uint64(i)
        for shift in (1, 2, 4, 8, 16):
            mask |= mask >> np.uint64(shift)
        while True:
            if used >= halves.shape[0]:
                return used, i
            value = np.uint64(halves[used]) & mask
            used += 1
            if value <= np.uint64(i):
                break
        j = np.int64(value)
        order[i], order[j] = order[j], order[i]
        i -= 1
    return used, 0


@jit
def _subtract_uniforms(values: np.ndarray, rows: np.ndarray, drawn: np.ndarray,
                       start: int) -> None:
    """values[rows[d], start + i] -= drawn[i, d]: a block of uniforms (futures x dimensions,
    as drawn) taken from the dimensions' rows, a future at a time, reading along the block's
    rows (NumPy, a dimension at a time, read the block's columns through a buffered copy of
    each: 0.56 against 0.28 CPU-s at 1,000,000 futures x 158 dimensions, besides the 0.47 of
    drawing the uniforms)."""
    for i in range(drawn.shape[0]):
        for d in range(drawn.shape[1]):
            values[rows[d], start + i] -= drawn[i, d]


def _saltelli_unit_design(n_futures: int, n_dims: int, seed: int) -> np.ndarray:
    """SALib's Saltelli scheme over the unit hypercube (scrambled, so no row sits on 0)."""
    if n_dims == 0:
        raise UserError("--sampler saltelli needs at least one uncertain parameter")
    base, _ = saltelli_size(n_futures, n_dims)
    problem = {
        "num_vars": n_dims,
        "names": [f"u{i}" for i in range(n_dims)],
        "bounds": [[0.0, 1.0]] * n_dims,
    }
    return saltelli_design(problem, base, seed=seed, calc_second_order=True)


def saltelli_design(
    problem: dict[str, Any], n: int, seed: int = 0, calc_second_order: bool = False
) -> np.ndarray:
    """A Saltelli design (SALib's ``sample.sobol``) for Sobol indices.

    `problem` is a SALib problem dict (``{"names": [...], "bounds": [[low, high], ...]}``) or
    a mapping name -> (low, high), `n`
    the base sample size (a power of 2 keeps the Sobol' sequence balanced), `seed` the seed of
    the scrambling; `calc_second_order` also allows second-order indices (2D + 2 runs per base
    sample instead of D + 2). The result has ``n * (D + 2)`` (or ``n * (2D + 2)``) rows, columns
    in the order of the names: run the model on every row, in order, and pass rows and outputs
    to ``offramp.analysis.sensitivity.sensitivity(..., method="sobol")``.

    >>> saltelli_design({"a": (0.0, 1.0), "b": (-1.0, 1.0)}, n=8).shape
    (32, 2)
    """
    from SALib.sample import sobol as sobol_sample

    if not (isinstance(n, int) and n >= 1):
        raise UserError(f"n must be a positive integer, got {n!r}")
    if "names" not in problem:
        problem = {"names": list(problem), "bounds": [list(pair) for pair in problem.values()]}
    problem = {**problem, "num_vars": len(problem["names"])}
    with warnings.catch_warnings():  # SALib warns for a base size that is not a power of 2
        warnings.simplefilter("ignore")
        return sobol_sample.sample(problem, n, calc_second_order=calc_second_order, seed=seed)


def sample_futures(scenario, n_futures: int, seed: int, sampler: Sampler = "lhs") -> pd.DataFrame:
    """One row per future, one column per parameter path (fixed parameters included).

    The uncertain parameters fill the design's columns in the scenario's order (the order of
    `scenario_parameters`), which is what a Sobol analysis of a Saltelli run relies on.
    """
    params = scenario_parameters(scenario)
    uncertain = [path for path, p in params.items() if p.is_uncertain]
    column_of = {path: i for i, path in enumerate(uncertain)}
    # One row per parameter, filled in place: the frame's single block is this array (a frame
    # built from a dict of columns copied them all into one: 1.5 GB and ~2 CPU-s at 1,000,000)
    if sampler == "lhs" and uncertain and n_futures >= 1:
        # the design written straight into the uncertain parameters' rows, then each mapped
        # through its inverse CDF in place: no second (n, d) array (1.5 GB at 1,000,000)
        values = np.empty((len(params), n_futures))
        rows = np.array([row for row, path in enumerate(params) if path in column_of])
        _fill_latin_hypercube(np.random.default_rng(np.random.SeedSequence(seed)), n_futures,
                              values, rows)
        design = None
    else:
        design = uniform_design(n_futures, len(uncertain), seed, sampler)
        values = np.empty((len(params), len(design)))  # Saltelli: other than n_futures rows
    for row, (path, param) in zip(values, params.items(), strict=True):
        if path in column_of:
            row[:] = param.ppf(row if design is None else design[:, column_of[path]])
        else:
            row[:] = param.ppf(np.zeros(1))[0]
    frame = pd.DataFrame(values.T, columns=list(params), copy=False)
    frame.index.name = "future"
    return frame


def design_size(scenario, n_futures: int, sampler: Sampler) -> int:
    """How many futures `sample_futures` gives for `n_futures` asked (fewer for Saltelli)."""
    if sampler != "saltelli":
        return n_futures
    return saltelli_size(n_futures, len(uncertain_parameters(scenario)))[1]


def uncertain_parameters(scenario) -> list[str]:
    """Paths of the scenario's uncertain parameters, in the order of the design's columns."""
    return [path for path, p in scenario_parameters(scenario).items() if p.is_uncertain]
