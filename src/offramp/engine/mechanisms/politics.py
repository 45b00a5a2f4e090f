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
from scipy.special import expit, logit

from offramp.engine.inputs import SIDE_A, Backers, Belligerents
from offramp.engine.noise import NoiseSource, Stream

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
    shock = belligerents.support_persistence * state.opinion_shock \
        + belligerents.support_noise_sd * z[:2]
    weariness = belligerents.weariness_per_log_casualties * np.log1p(
        casualties_total / belligerents.casualty_scale)
    support_logit = state.initial_support_logit - weariness + shock
    energy_lost = np.maximum(0.0, belligerents.generating_capacity_share[SIDE_A] - capacity_a)
    support_logit[SIDE_A] -= belligerents.weariness_per_energy_loss[SIDE_A] * energy_lost
    if support_logit_shift is not None:
        support_logit += support_logit_shift

    backer_logit = (state.backer_support_logit + backers.support_drift_per_week
                    + backers.support_noise_sd * z[2:] - support_shock * escalation_event)
    if rung_shock is not None:  # last week's escalation rungs above the strike surge
        backer_logit = backer_logit - rung_shock
    return PoliticsState(support=expit(support_logit), opinion_shock=shock,
                         backer_support_logit=backer_logit,
                         backer_support=expit(backer_logit),
                         initial_support_logit=state.initial_support_logit)
