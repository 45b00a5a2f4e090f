"""Experiments: futures sampled from a scenario's uncertainties, run under each policy."""

DEFAULT_CHUNK_SIZE = 65_536
"""Futures per chunk, for the runner and for one engine call. A run setting: it never changes a
result (the engine's noise is keyed by the global future index). The engine works through a
chunk in cache-sized blocks whatever its size (`engine.blocks.BLOCK_FUTURES`), so a chunk only
needs to be large enough to amortise what is done once per chunk (engine inputs, state, the
outcome file and the manifest's update: 16,384 -> 65,536 saved 1.2-1.9 us a future of 35-40
in `run_chunk`, kursk-2024's four policies, alternated, 2026-12-08) and small enough that a
killed run loses little (~4 CPU-s of work)."""

SERIES_CHUNK_SIZE = 16_384
"""Futures per chunk of a run with weekly series: a chunk's series stay in memory until they
are written (~250 bytes per future, policy and week: ~1.7 GB at 16,384 futures x 4 policies x
105 weeks), which a larger chunk would multiply."""


def default_chunk_size(series: bool) -> int:
    """The chunk size a run takes when none is given."""
    return SERIES_CHUNK_SIZE if series else DEFAULT_CHUNK_SIZE
