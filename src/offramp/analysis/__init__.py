"""Analysis of outcome tables: comparison, robustness, scenario discovery, global sensitivity,
paired statistics and the verdict rule.

Everything here works on plain DataFrames and arrays (the futures table ``X``, one row per future,
and the long outcomes table, one row per future and policy); it imports nothing of offramp's but
the condition language (`offramp.scenario.conditions`) and errors, so data flows one way.

* `regret`, `regret_summary`, `satisficing`, `requirements_met`, `robustness_table` — robustness
  of policies across futures (`offramp.analysis.robustness`).
* `prim`, `cart`, `significant_box` — scenario discovery: boxes of futures where an outcome of
  interest concentrates (`offramp.analysis.discovery`).
* `sensitivity` — which uncertain parameters drive an outcome, through SALib
  (`offramp.analysis.sensitivity`).
* `offramp.analysis.paired` — paired statistics over shared futures and a claim's verdict rule;
  `offramp.analysis.regions` — where an event concentrates (PRIM), kept only when significant.
"""

from offramp.analysis.discovery import (
    Box,
    CartResult,
    PrimBox,
    PrimResult,
    cart,
    prim,
    significant_box,
)
from offramp.analysis.robustness import (
    regret,
    regret_summary,
    requirements_met,
    robustness_table,
    satisficing,
)
from offramp.analysis.sensitivity import sensitivity

__all__ = [
    "Box",
    "CartResult",
    "PrimBox",
    "PrimResult",
    "cart",
    "prim",
    "regret",
    "regret_summary",
    "requirements_met",
    "robustness_table",
    "satisficing",
    "sensitivity",
    "significant_box",
]
