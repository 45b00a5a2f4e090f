"""Analysis of outcome tables: robustness, scenario discovery and global sensitivity.

Everything here works on plain DataFrames and arrays (the futures table ``X``, one row per future,
and the long outcomes table, one row per future and policy); nothing imports the engine, the
experiment layer or the scenario language, so data flows one way.

* `regret`, `regret_summary`, `satisficing`, `requirements_met`, `robustness_table` — robustness
  of policies across futures (`offramp.analysis.robustness`).
* `prim`, `cart`, `significant_box` — scenario discovery: boxes of futures where an outcome of
  interest concentrates (`offramp.analysis.discovery`).
* `sensitivity`, `saltelli_design` — which uncertain parameters drive an outcome, through SALib
  (`offramp.analysis.sensitivity`).
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
from offramp.analysis.sensitivity import saltelli_design, sensitivity

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
    "saltelli_design",
    "satisficing",
    "sensitivity",
    "significant_box",
]
