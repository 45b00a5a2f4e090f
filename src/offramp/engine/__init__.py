"""The simulation engine: a war's stocks and flows, stepped weekly over many futures at once.

The engine knows nothing of scenario files: it takes plain arrays (`EngineInputs`), the levers
of one policy (`Levers`), a seed and the global indices of the futures in the chunk, and returns
one array per outcome (`OUTCOME_NAMES`) plus optional weekly series (`SERIES_NAMES`).
`offramp.experiments.build` makes the inputs from a scenario; `offramp.experiments.simulate`
runs a policy over many futures in chunks.
"""

from offramp.engine.inputs import (
    Backers,
    BargainingRules,
    Belligerents,
    CalendarRules,
    CombatRules,
    EngineInputs,
    EscalationRules,
    ForcesRules,
    LadderRules,
    Levers,
    LeverSchedule,
    Rivals,
    StrikeRules,
    TerritoryRules,
    Theaters,
)
from offramp.engine.model import simulate
from offramp.engine.outcomes import OUTCOME_NAMES, SERIES_NAMES, EngineResult
from offramp.engine.state import CEASEFIRE, SETTLED, WAR

__all__ = [
    "OUTCOME_NAMES",
    "SERIES_NAMES",
    "CEASEFIRE",
    "SETTLED",
    "WAR",
    "Backers",
    "BargainingRules",
    "Belligerents",
    "CalendarRules",
    "CombatRules",
    "EngineInputs",
    "EngineResult",
    "EscalationRules",
    "ForcesRules",
    "LadderRules",
    "LeverSchedule",
    "Levers",
    "Rivals",
    "StrikeRules",
    "TerritoryRules",
    "Theaters",
    "simulate",
]
