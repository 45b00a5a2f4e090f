"""Experiments: futures sampled from a scenario's uncertainties, run under each policy."""

DEFAULT_CHUNK_SIZE = 16_384
"""Futures per chunk, for the runner and for one engine call: small enough that a week's arrays
stay in the CPU cache (larger chunks run slower per future), large enough to amortise Python
overhead. A run setting: it never changes a result (the engine's noise is keyed by the global
future index)."""
