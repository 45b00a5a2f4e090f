"""Experiments: futures sampled from a scenario's uncertainties, run under each policy."""
