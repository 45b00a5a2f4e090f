"""Lanchester attrition laws in Bracken's generalized form, as pure functions.

One pair of exponents for both sides' attrition, named as the engine names them (docs/model.md,
`combat.firer_exponent` q and `combat.target_exponent` p):

    dB/dt = -a * R**q * B**p        (blue losses, inflicted by red)
    dR/dt = -b * B**q * R**p        (red losses, inflicted by blue)

`q` weights the *opposing* (firing) force (how much more fire a bigger enemy delivers), `p`
weights the *own* (target) force (how much more target a bigger force presents). Bracken (1995)
and Fricker (1998) write the letters the other way round (p on the enemy): their published
exponents are read with the letters swapped. The classical laws are corners of
that plane, which is why one fitting routine can compare them:

    square       q=1, p=0   aimed fire: losses grow with the enemy's size only
    linear       q=1, p=1   area fire: losses grow with both sizes
    logarithmic  q=0, p=1   losses proportional to own size (attrition by exposure)
    generalized  q, p free

Days are the time step, because the historical records are daily totals: the continuous law
is integrated as the daily recurrence that Helmbold used for Iwo Jima (losses on day t are set
by the forces at the start of day t; reinforcements arriving on day t join the fight on day t+1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Exponents (q, p) of the named special cases; `None` means both are fitted.
LAW_EXPONENTS: dict[str, tuple[float, float] | None] = {
    "square": (1.0, 0.0),
    "linear": (1.0, 1.0),
    "logarithmic": (0.0, 1.0),
    "generalized": None,
}
LAW_NAMES: tuple[str, ...] = tuple(LAW_EXPONENTS)


@dataclass(frozen=True)
class LawParameters:
    """One point in Bracken's parameter space.

    `blue_loss_coefficient` is a (red's effectiveness against blue), `red_loss_coefficient` is b
    (blue's effectiveness against red); `opponent_exponent` is q and `own_exponent` is p. The
    coefficients are per day and in the units of the force counts, so they only compare across
    datasets when q + p is the same (their dimension is force^(1 - q - p) per day).
    """

    blue_loss_coefficient: float
    red_loss_coefficient: float
    opponent_exponent: float
    own_exponent: float

    @property
    def effectiveness_ratio(self) -> float:
        """a / b: red's effectiveness against blue relative to blue's against red.

        Unlike a and b themselves it is dimension-free, so it is the number that compares across
        studies and force scales (Engel's Iwo Jima a/b ~ 5.1 says a Japanese defender removed
        about five times as many Marines as a Marine removed Japanese)."""
        return self.blue_loss_coefficient / self.red_loss_coefficient


def law_exponents(law: str) -> tuple[float, float] | None:
    """The fixed (q, p) of a named law, `None` for the generalized law; KeyError if unknown."""
    return LAW_EXPONENTS[law]


def attrition_rates(
    blue_force: ArrayLike, red_force: ArrayLike, parameters: LawParameters
) -> tuple[FloatArray, FloatArray]:
    """Daily losses (blue, red) that the law predicts from start-of-day forces.

    Vectorised over days. A side with no force inflicts no losses: this keeps q = 0 (where the
    opponent's size drops out of the formula) from killing soldiers of a side whose enemy has
    not yet landed or has been annihilated, and it avoids 0**0 ambiguities.
    """
    blue = np.asarray(blue_force, dtype=float)
    red = np.asarray(red_force, dtype=float)
    q = parameters.opponent_exponent
    p = parameters.own_exponent
    blue_positive = np.clip(blue, 0.0, None)
    red_positive = np.clip(red, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        blue_losses = (
            parameters.blue_loss_coefficient
            * np.power(red_positive, q)
            * np.power(blue_positive, p)
        )
        red_losses = (
            parameters.red_loss_coefficient * np.power(blue_positive, q) * np.power(red_positive, p)
        )
    blue_losses = np.where(red_positive > 0.0, blue_losses, 0.0)
    red_losses = np.where(blue_positive > 0.0, red_losses, 0.0)
    return blue_losses, red_losses


def daily_losses(
    blue_force: ArrayLike,
    red_force: ArrayLike,
    blue_arrivals: ArrayLike,
    red_arrivals: ArrayLike,
    parameters: LawParameters,
) -> tuple[FloatArray, FloatArray]:
    """Losses (blue, red) of each day: the law's rates, capped at what the side has that day.

    The cap (start-of-day force plus the day's arrivals, NaN arrivals counting as none) is the
    rule `simulate_daily` applies; without it the square law (p = 0) would go on removing
    soldiers from a side that has none left.
    """
    blue_rate, red_rate = attrition_rates(blue_force, red_force, parameters)
    blue_present = np.clip(
        np.asarray(blue_force, dtype=float) + np.nan_to_num(np.asarray(blue_arrivals, float)),
        0.0,
        None,
    )
    red_present = np.clip(
        np.asarray(red_force, dtype=float) + np.nan_to_num(np.asarray(red_arrivals, float)),
        0.0,
        None,
    )
    return np.minimum(blue_rate, blue_present), np.minimum(red_rate, red_present)


def simulate_daily(
    initial_blue: float,
    initial_red: float,
    blue_reinforcements: ArrayLike,
    red_reinforcements: ArrayLike,
    parameters: LawParameters,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Integrate the law day by day, with reinforcements, as Helmbold's Iwo Jima spreadsheet does.

    For day t = 0 .. n-1, with forces B[t], R[t] at the start of the day::

        blue_loss[t] = a * R[t]**q * B[t]**p
        B[t+1] = max(B[t] + blue_reinforcements[t] - blue_loss[t], 0)     (same for red)

    The floor at zero is Helmbold's; the loss recorded on the day a side is wiped out is what it
    had left (losses never exceed the force present that day, arrivals included). Non-finite
    reinforcements (days not recorded) count as zero.

    Returns `(blue_force, red_force, blue_losses, red_losses)`: the forces at the start of each
    day plus one final entry (length n + 1), and the losses during each day (length n). The loop
    over days is inherent: each day's forces depend on the previous day's losses.
    """
    blue_arrivals = np.nan_to_num(np.asarray(blue_reinforcements, dtype=float), nan=0.0)
    red_arrivals = np.nan_to_num(np.asarray(red_reinforcements, dtype=float), nan=0.0)
    if blue_arrivals.shape != red_arrivals.shape or blue_arrivals.ndim != 1:
        raise ValueError("blue and red reinforcements must be 1-D arrays of the same length")
    a = parameters.blue_loss_coefficient
    b = parameters.red_loss_coefficient
    q = parameters.opponent_exponent
    p = parameters.own_exponent
    blue, red = float(initial_blue), float(initial_red)
    blue_force, red_force = [blue], [red]
    blue_losses: list[float] = []
    red_losses: list[float] = []
    # Plain floats inside the loop: it runs inside every least-squares evaluation, and scalar
    # numpy calls would cost ten times more. The rule is the one in `daily_losses`.
    for blue_in, red_in in zip(blue_arrivals.tolist(), red_arrivals.tolist(), strict=True):
        blue_rate = a * red**q * blue**p if red > 0.0 else 0.0  # 0.0**0 == 1.0, as in numpy
        red_rate = b * blue**q * red**p if blue > 0.0 else 0.0
        blue_available = max(blue + blue_in, 0.0)
        red_available = max(red + red_in, 0.0)
        blue_losses.append(min(blue_rate, blue_available))
        red_losses.append(min(red_rate, red_available))
        blue = blue_available - blue_losses[-1]
        red = red_available - red_losses[-1]
        blue_force.append(blue)
        red_force.append(red)
    return (
        np.array(blue_force),
        np.array(red_force),
        np.array(blue_losses),
        np.array(red_losses),
    )
