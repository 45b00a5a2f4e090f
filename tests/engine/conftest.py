"""Fixtures for the engine tests: kursk-2024's data, sampled futures, a state recorder (the
scenario itself, `kursk`, is tests/conftest.py's)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules import engine_testkit

from engine_testkit import Recorder  # noqa: E402

from offramp.experiments.sampling import sample_futures  # noqa: E402
from offramp.scenario.loader import load_scenario  # noqa: E402


@pytest.fixture(scope="session")
def kursk_data() -> dict:
    return load_scenario("kursk-2024").data


@pytest.fixture(scope="session")
def futures_2000(kursk) -> pd.DataFrame:
    """2,000 futures: the size of the directional (common-random-number) comparisons."""
    return sample_futures(kursk, 2000, seed=11)


@pytest.fixture(scope="session")
def futures_300(kursk) -> pd.DataFrame:
    return sample_futures(kursk, 300, seed=5)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
