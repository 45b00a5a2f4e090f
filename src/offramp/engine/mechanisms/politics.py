"""Politics: public support for fighting on, and backers' support for aid.

Seed 000: close to half of Ukrainians favour negotiations; personnel is hard to find; the
economy suffers from strikes on infrastructure; support for aid may wane in the US and Europe.
Mueller (1973): support falls with the log of cumulative casualties.

Belligerent i (arrays (2, n)):

    logit S_i = logit S_i(0)
                - weariness_per_log_casualties_i * ln(1 + casualties_i / casualty_scale_i)
                - weariness_per_energy_loss_i * (capacity_i(0) - capacity_i)+  + u_i
    u_i      <- support_persistence_i * u_i + support_noise_sd_i * z        (AR(1) opinion noise)

with casualties counted from week 0 and capacity the generating capacity (`strikes`; side b's is
not struck). Backer k (arrays (K, n)), a random walk in logit with drift:

    logit U_k <- logit U_k + support_drift_per_week_k + support_noise_sd_k * z
                 - support_shock * (escalation event last week)
                 - sum of the support_shock of the escalation rungs reached last week

Support feeds mobilization (`forces`), aid (`aid`), resolve and audience costs (`bargaining`)
and the ladder's pressure (`ladder`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from offramp.engine import vector_math
from offramp.engine.inputs import FLOAT, SIDE_A, Backers, Belligerents
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.vector_math import F32, Array, full, jit

_EDGE = 1e-6


@dataclass(frozen=True)
class PoliticsState:
    support: np.ndarray  # (2, n) share supporting fighting on
    opinion_shock: np.ndarray  # (2, n) AR(1) term, logit units
    backer_support_logit: np.ndarray  # (K, n)
    backer_support: np.ndarray  # (K, n) expit of the above
    initial_support_logit: np.ndarray  # (2, n) constant, kept to save recomputing it


def _logit(share: np.ndarray) -> np.ndarray:
    logits: np.ndarray = logit(np.clip(share, _EDGE, 1.0 - _EDGE))
    return logits


def initial_state(belligerents: Belligerents, backers: Backers) -> PoliticsState:
    return PoliticsState(
        support=belligerents.initial_support,
        opinion_shock=np.zeros_like(belligerents.initial_support),
        backer_support_logit=_logit(backers.initial_support),
        backer_support=backers.initial_support,
        initial_support_logit=_logit(belligerents.initial_support),
    )


def step(
    belligerents: Belligerents, backers: Backers, state: PoliticsState, *,
    casualties_total: np.ndarray, capacity_a: np.ndarray, escalation_event: np.ndarray,
    support_shock: np.ndarray, noise: NoiseSource, week: int,
    support_logit_shift: np.ndarray | None = None, rung_shock: np.ndarray | None = None,
) -> PoliticsState:
    """Update support after this week's losses, strikes and last week's escalation (and an
    extension's shift, on the logit scale)."""
    z = noise.normals(Stream.SUPPORT, week, 2 + backers.count)
    n = z.shape[-1]
    support = np.empty((2, n), dtype=FLOAT)
    opinion_shock = np.empty((2, n), dtype=FLOAT)
    backer_logit = np.empty((backers.count, n), dtype=FLOAT)
    backer_support = np.empty((backers.count, n), dtype=FLOAT)
    def sides(values: np.ndarray) -> np.ndarray:
        return full(values, (2, n))

    def backer_rows(values: np.ndarray) -> np.ndarray:
        return full(values, (backers.count, n))

    def futures(values: np.ndarray, dtype: type = FLOAT) -> np.ndarray:
        return full(values, (n,), dtype)

    _step_kernel(
        sides(belligerents.support_persistence), sides(belligerents.support_noise_sd),
        sides(belligerents.weariness_per_log_casualties), sides(belligerents.casualty_scale),
        sides(state.initial_support_logit), sides(state.opinion_shock), sides(casualties_total),
        futures(belligerents.generating_capacity_share[SIDE_A]),
        futures(belligerents.weariness_per_energy_loss[SIDE_A]), futures(capacity_a), z,
        None if support_logit_shift is None else sides(support_logit_shift),
        backer_rows(state.backer_support_logit), backer_rows(backers.support_drift_per_week),
        backer_rows(backers.support_noise_sd), backer_rows(support_shock),
        futures(escalation_event, bool), None if rung_shock is None else futures(rung_shock),
        support, opinion_shock, backer_logit, backer_support)
    return PoliticsState(support=support, opinion_shock=opinion_shock,
                         backer_support_logit=backer_logit, backer_support=backer_support,
                         initial_support_logit=state.initial_support_logit)


@jit
def _step_kernel(
    persistence: Array, noise_sd: Array, weariness: Array, casualty_scale: Array,
    initial_logit: Array, opinion_shock: Array, casualties_total: Array,
    capacity_share_a: Array, energy_weariness_a: Array, capacity_a: Array, z: Array,
    shift: Array | None, backer_logit: Array, drift: Array, backer_noise_sd: Array,
    support_shock: Array, event: Array, rung_shock: Array | None,
    support_out: Array, shock_out: Array, backer_logit_out: Array, backer_support_out: Array,
) -> None:
    n = z.shape[1]
    for side in range(2):
        for i in range(n):
            shock = persistence[side, i] * opinion_shock[side, i] \
                + noise_sd[side, i] * z[side, i]
            logit = initial_logit[side, i] - weariness[side, i] * vector_math.log1p(
                casualties_total[side, i] / casualty_scale[side, i]) + shock
            if side == SIDE_A:
                logit -= energy_weariness_a[i] * max(F32(0.0), capacity_share_a[i]
                                                     - capacity_a[i])
            if shift is not None:
                logit += shift[side, i]
            shock_out[side, i] = shock
            support_out[side, i] = vector_math.expit(logit)
    for k in range(backer_logit.shape[0]):
        for i in range(n):
            logit = backer_logit[k, i] + drift[k, i] + backer_noise_sd[k, i] * z[2 + k, i] \
                - support_shock[k, i] * F32(event[i])
            if rung_shock is not None:  # last week's escalation rungs above the strike surge
                logit -= rung_shock[i]
            backer_logit_out[k, i] = logit
            backer_support_out[k, i] = vector_math.expit(logit)
