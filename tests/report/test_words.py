"""Plain words (offramp.report.words): where a claim fails, said with the scenario's names."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from offramp.analysis.regions import failure_region
from offramp.report.words import ParameterNames, failure_text, names_of_scenario
from offramp.scenario.loader import load_scenario


def test_failure_conditions_name_the_driver_in_plain_words():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(3000, 30)), columns=[f"noise_{i}" for i in range(30)])
    X["combat.driver"] = rng.uniform(size=3000)
    fails = (X["combat.driver"].to_numpy() > 0.7) & (rng.uniform(size=3000) < 0.9)
    text = failure_text(failure_region(X, fails), ParameterNames({}))
    limit = re.search(r"where combat driver is above ([0-9.]+);", text)
    assert text.startswith("the claim fails in") and limit, text
    assert 0.65 < float(limit.group(1)) < 0.75 and "noise_" not in text
    assert "(coverage)" in text and "Overall it fails in" in text
    spread = failure_region(X, rng.uniform(size=3000) < 0.3)
    assert spread.kind == "spread"
    assert failure_text(spread, ParameterNames({})).startswith("no region found")
    assert failure_region(X, np.zeros(3000, dtype=bool)).kind == "none"


def test_failure_conditions_use_the_scenarios_names():
    # Worded as `offramp discover` words a box: the scenario's names, not its parameter paths.
    scenario = load_scenario("kursk-2024").scenario
    rng = np.random.default_rng(1)
    path = "actors.ukraine.cost_of_war_per_year"
    X = pd.DataFrame(rng.uniform(size=(3000, 12)), columns=[f"noise_{i}" for i in range(12)])
    X[path] = rng.uniform(0.05, 0.15, size=3000)
    fails = (X[path].to_numpy() > 0.1) & (rng.uniform(size=3000) < 0.9)
    text = failure_text(failure_region(X, fails), names_of_scenario(scenario))
    assert re.search(r"where Ukraine's cost of war per year is above 0\.0\d+;", text), text
    assert path not in text
