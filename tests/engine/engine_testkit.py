"""Helpers shared by the engine tests (imported by the test modules)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from offramp.engine import EngineInputs, EngineResult, Levers, simulate
from offramp.engine.state import State
from offramp.experiments.build import build_inputs
from offramp.scenario.schema import Scenario

POLICIES = ("negotiate-now", "arm-and-hold", "drip-feed")


def run_engine(
    inputs: EngineInputs, levers: Levers, seed: int = 0,
    observe: Callable[[State], None] | None = None, record_series: bool = False,
) -> EngineResult:
    return simulate(inputs, levers, seed, np.arange(inputs.n_futures), observe=observe,
                    record_series=record_series)


def with_columns(futures: pd.DataFrame, **changes: float | Callable) -> pd.DataFrame:
    """A copy of `futures` with columns set to a value or transformed by a function.

    Keys are dotted paths with '.' written as '__' (Python keyword arguments).
    """
    changed = futures.copy()
    for key, change in changes.items():
        path = key.replace("__", ".")
        assert path in changed.columns, path
        changed[path] = change(changed[path]) if callable(change) else change
    return changed


def replace_in(inputs: EngineInputs, section: str, **fields) -> EngineInputs:
    """EngineInputs with some fields of one section replaced."""
    part = getattr(inputs, section)
    return dataclasses.replace(inputs, **{section: dataclasses.replace(part, **fields)})


def scenario_without(kursk_data: dict, *, salients: bool = True, backers: bool = True,
                     rivals: bool = True, issues: bool = True) -> Scenario:
    """kursk-2024 stripped of its salient theater, its backers, its rivals and/or the
    bargaining issues beside territory."""
    data = copy.deepcopy(kursk_data)
    if not issues:
        del data["bargaining"]["issues"]
    if not salients:
        data["theaters"] = {k: v for k, v in data["theaters"].items() if v["kind"] != "salient"}
    if not rivals or not backers:
        data["actors"] = {k: v for k, v in data["actors"].items() if v["role"] != "rival"}
    if not backers:
        data["actors"] = {k: v for k, v in data["actors"].items() if v["role"] != "backer"}
        data["elections"] = []
    return Scenario.model_validate(data)


class Recorder:
    """Keeps every weekly state of a run (pass as `observe`)."""

    def __init__(self) -> None:
        self.states: list[State] = []

    def __call__(self, state: State) -> None:
        self.states.append(state)



def inputs_for(scenario: Scenario, futures: pd.DataFrame, policy: str
               ) -> tuple[EngineInputs, Levers]:
    return build_inputs(scenario, futures, policy)
