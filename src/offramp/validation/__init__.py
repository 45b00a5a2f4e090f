"""Validation against the historical record: how two wars ended (docs/validation.md).

* `score_polish_soviet`, `score_winter_war` — each future scored against the criteria of
  docs/historical-scenarios.md (P1–P3, F1–F4), from one policy's outcomes and weekly series.
* `stop_quantities` — what each future looks like when its fighting first stops.
* `share_table`, `wilson_interval`, `reading` — shares of futures with 95 % intervals.
* `paired_difference`, `polish_comparison`, `winter_comparison` — seed 003's comparison of
  policies over the same futures, with bootstrap intervals.
* `measure_war` — runs a war's policies and returns all of the above (`offramp validate-history`).
"""

from offramp.validation.endings import (
    POLISH_CRITERIA,
    POLISH_SOVIET,
    WARS,
    WINTER_CRITERIA,
    WINTER_WAR,
    Criterion,
    PairedDifference,
    WarMeasurement,
    measure_war,
    paired_difference,
    polish_comparison,
    reading,
    score_polish_soviet,
    score_winter_war,
    share_table,
    stop_quantities,
    wilson_interval,
    winter_comparison,
)

__all__ = [
    "POLISH_CRITERIA",
    "POLISH_SOVIET",
    "WARS",
    "WINTER_CRITERIA",
    "WINTER_WAR",
    "Criterion",
    "PairedDifference",
    "WarMeasurement",
    "measure_war",
    "paired_difference",
    "polish_comparison",
    "reading",
    "score_polish_soviet",
    "score_winter_war",
    "share_table",
    "stop_quantities",
    "wilson_interval",
    "winter_comparison",
]
