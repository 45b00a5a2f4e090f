"""What the record of war termination treats as ordinary, and whether a scenario's futures do it.

Each behaviour is measured on one policy's outcomes and weekly series (as
`offramp.experiments.simulate.run_futures(..., record_series=True)` returns them), as the share
of futures that show it. docs/model.md tabulates them for kursk-2024; a behaviour in ~0 or ~1 of
the futures is one the model cannot produce or cannot avoid, and a verdict that hinges on it says
more about the model than about the war.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from offramp.experiments.simulate import run_futures
from offramp.scenario.schema import Scenario

LONG_TALKS_WEEKS = 12
"""Talks open this long without a deal (Korea 1951-53, Istanbul 2022)."""
COLLAPSE_WEEKS = 4
COLLAPSE_SHARE = 0.5
COLLAPSE_FROM_KM2 = 500.0
"""A sudden collapse of held enemy soil: at least half of what a side held (from at least
500 km2) lost within four weeks while the war is on."""
EARLY_WEEK = 22
"""Week 22 of kursk-2024 is the January 2025 inauguration: the seed thinks a ceasefire before it
unlikely."""


@dataclass(frozen=True)
class Behaviour:
    key: str
    description: str
    rare_because: str | None = None
    """Why a source expects it in few futures (None: nothing says it should be rare)."""


BEHAVIOURS = (
    Behaviour("long_talks_without_deal",
              f"talks stay open {LONG_TALKS_WEEKS} weeks or more without a deal"),
    Behaviour("deadlocked_over_issue",
              f"talks open {LONG_TALKS_WEEKS} weeks or more while an issue beside territory has "
              "no zone of agreement"),
    Behaviour("settled_early", f"a settlement before week {EARLY_WEEK}",
              rare_because="seed 000 thinks a ceasefire before the January 2025 inauguration "
              "unlikely; Russia's terms of 14 June 2024 and Ukraine's 2024 positions on "
              "neutrality and sanctions do not overlap until one side's support falls"),
    Behaviour("ladder_ceasefire", "the ladder's ceasefire rung is reached"),
    Behaviour("hardened_by_soil", "side b refuses talks while its soil is held"),
    Behaviour("salient_collapse",
              f"held enemy soil collapses (half lost within {COLLAPSE_WEEKS} weeks)"),
    Behaviour("escalation_top_rung", "the top rung of the escalation ladder is reached"),
)


def longest_talks_without_deal(talks_open: np.ndarray, settlement_week: np.ndarray
                               ) -> np.ndarray:
    """(n,) the longest run of weeks with talks open and no deal struck that week; `talks_open`
    is the (weeks + 1, n) series (row w + 1: the end of week w)."""
    talks = np.asarray(talks_open, dtype=bool)[1:]
    longest = np.zeros(talks.shape[1])
    current = np.zeros(talks.shape[1])
    for week in range(talks.shape[0]):  # over weeks, vectorized over futures
        current = np.where(talks[week] & (settlement_week != week), current + 1, 0)
        np.maximum(longest, current, out=longest)
    return longest


def sudden_collapse(salient_km2: np.ndarray, settlement_week: np.ndarray) -> np.ndarray:
    """(n,) bool: held enemy soil lost by half or more within COLLAPSE_WEEKS weeks while at war."""
    held = np.asarray(salient_km2, dtype=float)
    before, after = held[:-COLLAPSE_WEEKS], held[COLLAPSE_WEEKS:]
    lost = (before >= COLLAPSE_FROM_KM2) & (after <= COLLAPSE_SHARE * before)
    end_rows = np.arange(before.shape[0])[:, None] + COLLAPSE_WEEKS
    at_war = np.isnan(settlement_week)[None, :] | (end_rows <= settlement_week[None, :])
    return (lost & at_war).any(axis=0)


def behaviour_flags(outcomes: pd.DataFrame, series: Mapping[str, np.ndarray],
                    ceasefire_rung: int | None, top_escalation_rung: int = 1
                    ) -> dict[str, np.ndarray]:
    """Per future, whether it shows each behaviour (BEHAVIOURS' keys). `ceasefire_rung` is the
    1-based index of the ladder's ceasefire rung (None: none), `top_escalation_rung` the value of
    `highest_escalation_rung` at the top of the escalation ladder (1: the strike surge)."""
    settled = outcomes["settlement_week"].to_numpy(dtype=float)
    rung = outcomes["highest_rung"].to_numpy()
    return {
        "long_talks_without_deal": longest_talks_without_deal(series["talks_open"], settled)
        >= LONG_TALKS_WEEKS,
        "deadlocked_over_issue": outcomes["deadlock_weeks"].to_numpy() >= LONG_TALKS_WEEKS,
        "settled_early": settled < EARLY_WEEK,
        "ladder_ceasefire": rung >= ceasefire_rung if ceasefire_rung else np.zeros(len(rung), bool),
        "hardened_by_soil": outcomes["refused_talks_over_soil"].to_numpy(dtype=bool),
        "salient_collapse": sudden_collapse(series["salient_km2"], settled),
        "escalation_top_rung": outcomes["highest_escalation_rung"].to_numpy()
        >= top_escalation_rung,
    }


def measure_behaviours(scenario: Scenario, futures: pd.DataFrame, seed: int = 0
                       ) -> pd.DataFrame:
    """Share of futures showing each behaviour, per policy (rows: behaviours)."""
    effects = [rung.effect for rung in scenario.ladder.rungs]
    ceasefire = effects.index("ceasefire") + 1 if "ceasefire" in effects else None
    table = {}
    for policy in scenario.policies:
        run = run_futures(scenario, futures, policy, seed=seed, record_series=True)
        assert run.series is not None
        flags = behaviour_flags(run.outcomes, run.series, ceasefire,
                                1 + len(scenario.escalation.rungs))
        table[policy] = {key: float(values.mean()) for key, values in flags.items()}
    frame = pd.DataFrame(table)
    frame.insert(0, "behaviour", [next(b.description for b in BEHAVIOURS if b.key == key)
                                  for key in frame.index])
    return frame
