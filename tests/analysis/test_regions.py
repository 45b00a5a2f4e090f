"""Regions (offramp.analysis.regions): a box is reported only where failures concentrate (where
failure regions are put into words is tests/report/test_words.py)."""

from __future__ import annotations

from offramp.analysis.regions import concentrates


def test_a_region_must_concentrate_failures():
    assert concentrates(60, 100, 0.3)  # 60% against 30% overall
    assert not concentrates(31, 100, 0.3)
