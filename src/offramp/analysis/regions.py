"""Where in parameter space an event concentrates: PRIM's box, kept only when it says something.

`failure_region` looks for a box of futures where a claim fails; `holding_region` for a sizeable
box where a claim that fails overall does hold, confirmed on futures it was not found on. Both
return a `Region`: either a box (cut to its significant restrictions) or the reason there is
none, as data. `offramp.report.words` puts a region into words; `Region.to_dict` and
`Region.from_dict` store it with a study's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from offramp.analysis.discovery import Box, binomial_upper_tail, prim, significant_box
from offramp.analysis.paired import (
    RankedFutures,
    bootstrap_mean_ci,
    paired_shares,
    rank_drivers,
    verdict_for,
)

PRIM_PEEL_ALPHA = 0.05
PRIM_THRESHOLD = 0.8
"""The density PRIM aims for when it picks a box on its peeling trajectory."""
MIN_SUBSET_MASS = 0.10
"""'Sizeable': a subset where the claim holds must contain at least 10% of compared futures."""
MIN_PRIM_CASES = 10
"""Fewer positive futures than this are too few to describe a region of parameter space."""
QUASI_P_MAX = 0.05
"""A PRIM restriction is reported only if its quasi-p-value is below this (Bryant & Lempert)."""
MAX_CONDITIONS = 3
"""At most this many conditions describe a region: the most significant restrictions."""
SCREENED_COLUMNS = 8
"""PRIM searches only the parameters most associated with the event (see screen_columns)."""
CONCENTRATION_P_MAX = 0.001
"""A failure region is reported only if failures are clearly denser in it than overall (strict,
because the box was chosen on the same futures the test is run on)."""

RegionKind = Literal["box", "none", "everywhere", "too_few", "spread", "no_parameters",
                     "not_compared"]


@dataclass(frozen=True)
class Region:
    """A region of futures where an event concentrates, or why none is described.

    kind: "box" (a box was found), "none" (no future has the event), "everywhere" (every future
    has it), "too_few" (too few futures with it), "spread" (no box where it concentrates),
    "no_parameters" (no uncertain parameter varies), "not_compared" (no future to search).
    `count` of `total` futures have the event. For a box, `binary` names the restricted columns
    that only take 0 and 1 (said "is 0" / "is 1"); a holding region also carries, from the
    futures it was not found on, the share inside the box and the share of those where the
    claim holds (`confirmed_mass`, `confirmed_share`).
    """

    kind: RegionKind
    count: int = 0
    total: int = 0
    box: Box | None = None
    binary: tuple[str, ...] = ()
    confirmed_mass: float | None = None
    confirmed_share: float | None = None

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else float("nan")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "count": self.count, "total": self.total,
                                "binary": list(self.binary),
                                "confirmed_mass": self.confirmed_mass,
                                "confirmed_share": self.confirmed_share}
        if self.box is not None:
            box = self.box
            data["box"] = {
                "limits": {name: (sorted(limit, key=str) if isinstance(limit, frozenset)
                                  else [float(limit[0]), float(limit[1])])
                           for name, limit in box.limits.items()},
                "categorical": [name for name, limit in box.limits.items()
                                if isinstance(limit, frozenset)],
                "data_range": {name: [float(low), float(high)]
                               for name, (low, high) in box.data_range.items()},
                "coverage": box.coverage, "density": box.density, "mass": box.mass,
                "n_futures": box.n_futures, "n_interest": box.n_interest,
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Region:
        stored = data.get("box")
        box = None
        if stored is not None:
            categorical = set(stored["categorical"])
            box = Box(
                limits={name: frozenset(limit) if name in categorical else tuple(limit)
                        for name, limit in stored["limits"].items()},
                coverage=stored["coverage"], density=stored["density"], mass=stored["mass"],
                n_futures=stored["n_futures"], n_interest=stored["n_interest"],
                data_range={name: tuple(pair) for name, pair in stored["data_range"].items()},
            )
        return cls(kind=data["kind"], count=data["count"], total=data["total"], box=box,
                   binary=tuple(data.get("binary", ())),
                   confirmed_mass=data.get("confirmed_mass"),
                   confirmed_share=data.get("confirmed_share"))


def screen_columns(X: pd.DataFrame, y: np.ndarray, keep: int,
                   ranks: np.ndarray | None = None) -> pd.DataFrame:
    """The `keep` columns most associated with y (|rank correlation|, `rank_drivers`), in X's
    order.

    PRIM given ~120 columns and a few thousand futures peels whichever column helps most by
    chance at each step; searching only the columns that matter most (feature scoring before
    PRIM, as in EMA practice) gives boxes that say something.
    """
    if X.shape[1] <= keep:
        return X
    chosen = set(rank_drivers(X, np.asarray(y, dtype=float), ranks).index[:keep])
    return X[[name for name in X.columns if name in chosen]]


def concentrates(in_box_cases: int, in_box: int, overall_rate: float) -> bool:
    """Is the event clearly more frequent in the box than overall (one-sided binomial test)?

    A box cut to its significant restrictions can end up barely denser than the whole; saying
    "fails in 2% of futures where ..." when it fails in 2% overall would describe nothing.
    """
    if in_box == 0:
        return False
    return binomial_upper_tail(in_box_cases, in_box, overall_rate) < CONCENTRATION_P_MAX


def binary_columns(box: Box, X: pd.DataFrame) -> tuple[str, ...]:
    """The box's restricted columns that only take 0 and 1 in `X` (said "is 0" / "is 1")."""
    return tuple(name for name in box.limits if bool(X[name].isin((0.0, 1.0)).all()))


def _significant_prim_box(X: pd.DataFrame, flags: np.ndarray, ranks: np.ndarray | None = None
                          ) -> tuple[pd.DataFrame, Box | None]:
    """PRIM's first box on the screened columns, cut to its significant restrictions."""
    candidates = screen_columns(X, flags, SCREENED_COLUMNS, ranks)
    result = prim(candidates, flags, peel_alpha=PRIM_PEEL_ALPHA, threshold=PRIM_THRESHOLD)
    if not result.boxes:
        return candidates, None
    return candidates, significant_box(result.boxes[0], candidates, flags, QUASI_P_MAX,
                                       MAX_CONDITIONS)


def failure_region(X: pd.DataFrame, fails: np.ndarray, ranks: np.ndarray | None = None
                   ) -> Region:
    """Where in parameter space the claim fails (PRIM's first box), or why no region is given.
    `ranks`: `paired.centered_ranks(X)`, if already known."""
    count, total = int(fails.sum()), len(fails)
    if total == 0:
        return Region("not_compared")
    if X.shape[1] == 0:
        return Region("no_parameters", count, total)
    if count == 0:
        return Region("none", count, total)
    if count < MIN_PRIM_CASES:
        return Region("too_few", count, total)
    if count == total:
        return Region("everywhere", count, total)
    candidates, box = _significant_prim_box(X, fails, ranks)
    if box is None or not concentrates(box.n_interest, box.n_futures, float(fails.mean())):
        return Region("spread", count, total)
    return Region("box", count, total, box, binary_columns(box, candidates))


def holding_region(X: pd.DataFrame, directed: np.ndarray, tolerance: float,
                   seed: np.random.SeedSequence,
                   ranked: RankedFutures | None = None) -> Region | None:
    """A sizeable region where the claim holds, found by PRIM and confirmed out of sample.

    PRIM searches half of the futures (chosen at random) for a box where the claim holds; the
    box (cut to its significant restrictions) counts only if, on the other half, it holds at
    least MIN_SUBSET_MASS of the futures and the claim passes the overall rule inside it. A box
    judged on the futures it was fitted to would flatter itself: PRIM picks whatever region the
    noise happens to favour. None when there is no such region. `ranked`: X's futures (or more)
    sorted once, which spares sorting the search half's.
    """
    holds = directed > -tolerance
    if X.shape[1] == 0 or holds.sum() < 2 * MIN_PRIM_CASES or holds.all():
        return None
    search = np.random.default_rng(seed).random(len(X)) < 0.5
    if holds[search].sum() < MIN_PRIM_CASES or holds[search].all():
        return None
    candidates, box = _significant_prim_box(
        X[search], holds[search],
        None if ranked is None else ranked.centered(X.index[search], X.columns))
    if box is None:
        return None
    inside = box.contains(X[~search])
    confirm = directed[~search][inside]
    if inside.mean() < MIN_SUBSET_MASS:
        return None
    low, _ = bootstrap_mean_ci(confirm, seed=seed)
    confirmed = verdict_for(low, paired_shares(confirm, tolerance), tolerance, False, confirm.size)
    if confirmed != "holds":
        return None
    return Region("box", int(holds[search].sum()), int(search.sum()), box,
                  binary_columns(box, candidates), confirmed_mass=float(inside.mean()),
                  confirmed_share=float(np.mean(confirm > -tolerance)))
