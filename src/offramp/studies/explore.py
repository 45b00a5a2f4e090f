"""Exploring a run by restricting its uncertain parameters: the question an analyst asks next
("what if Western support is low *and* Russia mobilizes?"), answered from the stored tables.

`Explorer(store).summary({"actors.united_states.initial_support": (0.0, 0.4), ...})` gives, for
the futures whose parameters lie in every range: how many there are, and per policy the share
meeting the run's requirements, the share ended, the median territory share, and which policy
meets them most often there. Each call is one DuckDB query over the run's Parquet files (on a
connection that may read only those files, as `offramp query`'s), so a run of millions of
futures is never loaded into memory; the answer is plain JSON-able data, for a browser
front end or a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offramp.engine import OUTCOME_NAMES
from offramp.errors import UserError
from offramp.experiments.manifest import RunManifest
from offramp.scenario.conditions import check_conditions
from offramp.store import RunStore
from offramp.store.query import run_connection


def _identifier(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PolicyInRegion:
    meets: float  # share of the region's futures meeting every requirement
    ended: float  # share of them where the war ended by the horizon
    territory_median: float  # median of side a's territory share


@dataclass(frozen=True)
class RegionSummary:
    futures: int  # futures in the region
    policies: dict[str, PolicyInRegion]
    best: str | None  # the policy meeting the requirements most often there (None: no futures)

    def as_dict(self) -> dict[str, Any]:
        return {"futures": self.futures, "best": self.best,
                "policies": {p: vars(s) for p, s in self.policies.items()}}


class Explorer:
    """Repeated questions about one run (one connection, the views made once)."""

    def __init__(self, store: RunStore):
        self.store = store
        self.manifest = RunManifest.of(store)
        self.parameters = tuple(p["parameter"] for p in self.manifest.parameters
                                if p.get("parameter"))
        conditions = check_conditions(self.manifest.requirements, OUTCOME_NAMES)
        self._meets = " AND ".join(
            f"({_identifier(c.name)} {'=' if c.op == '==' else c.op} {float(c.value)!r})"
            for c in conditions) or "TRUE"
        self._connection = run_connection(store)

    def close(self) -> None:
        self._connection.close()

    def summary(self, ranges: Mapping[str, tuple[float, float]]) -> RegionSummary:
        """The run restricted to futures whose parameters lie in `ranges` (inclusive)."""
        where, values = [], []
        for name, (low, high) in ranges.items():
            if name not in self.parameters:
                raise UserError(f"{name!r} is not an uncertain parameter of this run")
            if not (math.isfinite(low) and math.isfinite(high)) or low > high:
                raise UserError(f"the range of {name!r} must be two numbers, low <= high; "
                                f"found ({low}, {high})")
            where.append(f"f.{_identifier(name)} BETWEEN ? AND ?")
            values += [float(low), float(high)]
        region = " AND ".join(where) or "TRUE"
        rows = self._connection.execute(
            f"SELECT o.policy, count(*) AS n, avg(CASE WHEN {self._meets} THEN 1 ELSE 0 END), "
            f"avg(CASE WHEN o.ended THEN 1 ELSE 0 END), median(o.a_territory_share) "
            f"FROM outcomes o JOIN futures f USING (future) WHERE {region} GROUP BY o.policy",
            values).fetchall()
        found = {policy: PolicyInRegion(float(meets), float(ended), float(median))
                 for policy, _, meets, ended, median in rows}
        ordered = {p: found[p] for p in self.manifest.policies if p in found}
        futures = int(rows[0][1]) if rows else 0
        best = max(ordered, key=lambda p: ordered[p].meets) if ordered else None
        return RegionSummary(futures=futures, policies=ordered, best=best)
