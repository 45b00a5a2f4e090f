"""Parameters: a fixed value or a distribution, always with a unit and a source.

A scenario number is written in one of these forms::

    initial_support: {value: 0.55, unit: share, source: "assumption: ..."}
    frontage_km: {dist: triangular, low: 40, mode: 60, high: 90, unit: km, source: "..."}

`dist` is one of uniform, triangular, truncnormal, lognormal, beta, bernoulli, choice. Every
distribution knows how to turn uniform numbers in [0, 1) into draws (`ppf`), which is what lets
the experiment layer use Monte Carlo, Latin hypercube or Sobol designs alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

# Anything beyond this is a typo (an extra zero run away), not a quantity of this model.
LARGEST_MAGNITUDE = 1e12

SEED_SOURCE = re.compile(
    r"^seed\s+(\d{3}_[0-9a-f]{16}\.txt)\s*:\s*\S.{9,}", re.IGNORECASE | re.DOTALL
)
ASSUMPTION_SOURCE = re.compile(r"^assumption\s*:\s*\S.{9,}", re.IGNORECASE | re.DOTALL)
PUBLISHED_SOURCE = re.compile(r"\b(1[6-9]\d\d|20\d\d)[a-z]?\b.*\S{3,}", re.DOTALL)
SOURCE_FORMS = (
    "'seed <file>.txt: <paraphrase>', 'Author (Year) Title ...' "
    "or 'assumption: <why>' (at least ten characters of explanation)"
)


def check_source(text: str) -> str:
    """Validate a `source` string: a seed passage, a published work, or a stated assumption."""
    text = text.strip()
    if SEED_SOURCE.match(text) or ASSUMPTION_SOURCE.match(text):
        return text
    if text.lower().startswith(("seed", "assumption")):
        raise ValueError(f"source must be {SOURCE_FORMS}")
    if PUBLISHED_SOURCE.search(text) and len(text) >= 15:
        return text
    raise ValueError(f"source must be {SOURCE_FORMS}")


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not a boolean")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if abs(value) > LARGEST_MAGNITUDE:
        raise ValueError(f"{name} = {value:g} is implausibly large (limit {LARGEST_MAGNITUDE:g})")
    return value


class _ParamBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = Field(min_length=1, description="Unit of the quantity, e.g. km2, share, per_week.")
    source: str = Field(description="Seed passage, published work, or 'assumption: why'.")
    note: str | None = Field(default=None, description="Free text for the reader.")
    hindsight: str | None = Field(
        default=None, min_length=10,
        description="Why this parameter uses a source dated after the scenario's as_of date (a "
        "parameter without it may not: offramp.scenario.sources).",
    )

    @field_validator("source")
    @classmethod
    def _source_is_citable(cls, text: str) -> str:
        return check_source(text)

    # --- the interface every parameter offers -------------------------------------------
    @property
    def is_uncertain(self) -> bool:
        return True

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        """Draws from the distribution, given uniform numbers in [0, 1)."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class Fixed(_ParamBase):
    """A known number."""

    value: float

    @field_validator("value")
    @classmethod
    def _check(cls, value: float) -> float:
        return _finite(value, "value")

    @property
    def is_uncertain(self) -> bool:
        return False

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        return np.full(np.shape(uniform), self.value, dtype=float)

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def describe(self) -> str:
        return f"{self.value:g}"


class Uniform(_ParamBase):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        _finite(self.low, "low"), _finite(self.high, "high")
        if not self.low < self.high:
            raise ValueError(
                f"uniform needs low < high, found low={self.low:g}, high={self.high:g}"
            )
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(uniform, dtype=float)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"uniform({self.low:g}, {self.high:g})"


def _scipy_ppf(uniform: np.ndarray, standard: Callable[[np.ndarray], np.ndarray],
               support: tuple[float, float], loc: float, scale: float) -> np.ndarray:
    """What ``scipy.stats``' ``rv_continuous.ppf(uniform, ..., loc, scale)`` computes for valid
    shape parameters, step for step, so the same bits (tested against SciPy): `standard` (the
    distribution's ``_ppf``) on the uniforms strictly inside (0, 1), taken out as one array,
    then times `scale` plus `loc`; the support's ends at 0 and 1; NaN elsewhere. It spares
    importing scipy.stats (~0.7 CPU-s) for the distributions whose inverse CDF is closed-form."""
    q = np.asarray(uniform, dtype=float)
    output = np.full(q.shape, np.nan)
    output[q == 0] = support[0] * scale + loc
    output[q == 1] = support[1] * scale + loc
    inside = (q > 0) & (q < 1)
    if inside.any():
        output[inside] = standard(q[inside]) * scale + loc
    return output


class Triangular(_ParamBase):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        for name in ("low", "mode", "high"):
            _finite(getattr(self, name), name)
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "triangular needs low <= mode <= high and low < high, found "
                f"low={self.low:g}, mode={self.mode:g}, high={self.high:g}"
            )
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        shape = (self.mode - self.low) / width

        def standard(q: np.ndarray) -> np.ndarray:  # SciPy's triang._ppf
            return np.where(q < shape, np.sqrt(shape * q), 1 - np.sqrt((1 - shape) * (1 - q)))

        return _scipy_ppf(uniform, standard, (0.0, 1.0), loc=self.low, scale=width)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"


class TruncNormal(_ParamBase):
    dist: Literal["truncnormal"]
    mean: float
    sd: float
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> TruncNormal:
        for name in ("mean", "sd", "low", "high"):
            _finite(getattr(self, name), name)
        if not self.sd > 0:
            raise ValueError(f"truncnormal needs sd > 0, found sd={self.sd:g}")
        if not self.low < self.high:
            raise ValueError(
                f"truncnormal needs low < high, found low={self.low:g}, high={self.high:g}"
            )
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        from scipy import stats

        return stats.truncnorm.ppf(uniform, a, b, loc=self.mean, scale=self.sd)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        return f"truncnormal(mean {self.mean:g}, sd {self.sd:g}, [{self.low:g}, {self.high:g}])"


class LogNormal(_ParamBase):
    """Lognormal given by its median and the sd of its logarithm."""

    dist: Literal["lognormal"]
    median: float
    sigma: float

    @model_validator(mode="after")
    def _check(self) -> LogNormal:
        _finite(self.median, "median"), _finite(self.sigma, "sigma")
        if not self.median > 0:
            raise ValueError(f"lognormal needs median > 0, found median={self.median:g}")
        if not 0 < self.sigma <= 5:
            raise ValueError(f"lognormal needs 0 < sigma <= 5, found sigma={self.sigma:g}")
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        def standard(q: np.ndarray) -> np.ndarray:  # SciPy's lognorm._ppf
            return np.exp(self.sigma * ndtri(q))

        return _scipy_ppf(uniform, standard, (0.0, math.inf), loc=0.0, scale=self.median)

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def describe(self) -> str:
        return f"lognormal(median {self.median:g}, sigma {self.sigma:g})"


class Beta(_ParamBase):
    """Beta(a, b), optionally rescaled from [0, 1] to [low, high]."""

    dist: Literal["beta"]
    a: float
    b: float
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> Beta:
        for name in ("a", "b", "low", "high"):
            _finite(getattr(self, name), name)
        if not (self.a > 0 and self.b > 0):
            raise ValueError(f"beta needs a > 0 and b > 0, found a={self.a:g}, b={self.b:g}")
        if not self.low < self.high:
            raise ValueError(f"beta needs low < high, found low={self.low:g}, high={self.high:g}")
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        from scipy import stats

        return stats.beta.ppf(uniform, self.a, self.b, loc=self.low, scale=self.high - self.low)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def describe(self) -> str:
        scaled = "" if (self.low, self.high) == (0.0, 1.0) else f" on [{self.low:g}, {self.high:g}]"
        return f"beta({self.a:g}, {self.b:g}){scaled}"


class Bernoulli(_ParamBase):
    """1 with probability p, else 0."""

    dist: Literal["bernoulli"]
    p: float

    @field_validator("p")
    @classmethod
    def _check(cls, p: float) -> float:
        _finite(p, "p")
        if not 0 <= p <= 1:
            raise ValueError(f"bernoulli needs 0 <= p <= 1, found p={p:g}")
        return p

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        return (np.asarray(uniform) >= 1.0 - self.p).astype(float)

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def describe(self) -> str:
        return f"bernoulli(p {self.p:g})"


class Choice(_ParamBase):
    """One of a list of numbers, with optional weights."""

    dist: Literal["choice"]
    options: list[float] = Field(min_length=1, max_length=1000)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _check(self) -> Choice:
        for option in self.options:
            _finite(option, "options")
        if self.weights is not None:
            if len(self.weights) != len(self.options):
                raise ValueError(
                    f"choice needs one weight per option: {len(self.options)} options, "
                    f"{len(self.weights)} weights"
                )
            if any(not math.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("choice weights must be non-negative and not all zero")
            if not math.isfinite(sum(self.weights)):  # 1e308 + 1e308: the shares would be NaN
                raise ValueError("choice weights are too large to add up (their sum overflows); "
                                 "write them as shares or small whole numbers")
        return self

    def ppf(self, uniform: np.ndarray) -> np.ndarray:
        weights = np.ones(len(self.options)) if self.weights is None else np.asarray(self.weights)
        cumulative = np.cumsum(weights / weights.sum())
        index = np.searchsorted(cumulative, np.asarray(uniform), side="right")
        return np.asarray(self.options, dtype=float)[np.minimum(index, len(self.options) - 1)]

    def support(self) -> tuple[float, float]:
        return (min(self.options), max(self.options))

    def describe(self) -> str:
        options = ", ".join(f"{o:g}" for o in self.options)
        return f"choice({options})" if self.weights is None else f"choice({options}; weighted)"


PARAM_KINDS: dict[str, type[_ParamBase]] = {
    "fixed": Fixed,
    "uniform": Uniform,
    "triangular": Triangular,
    "truncnormal": TruncNormal,
    "lognormal": LogNormal,
    "beta": Beta,
    "bernoulli": Bernoulli,
    "choice": Choice,
}
DISTRIBUTION_NAMES = tuple(name for name in PARAM_KINDS if name != "fixed")


def param_kind(data: Any) -> str | None:
    """The tag that picks a parameter's model: 'fixed', or the name given in `dist`."""
    if isinstance(data, BaseModel):
        return "fixed" if isinstance(data, Fixed) else getattr(data, "dist", None)
    if not isinstance(data, dict):
        return None
    if "dist" in data:
        return data["dist"] if isinstance(data["dist"], str) else None
    return "fixed" if "value" in data else None


if TYPE_CHECKING:
    # The same union spelled out for the type checker, which cannot evaluate the one built
    # from PARAM_KINDS below (keep the two lists alike).
    Param = Fixed | Uniform | Triangular | TruncNormal | LogNormal | Beta | Bernoulli | Choice
else:
    Param = Annotated[
        Union[tuple(Annotated[model, Tag(tag)] for tag, model in PARAM_KINDS.items())],  # noqa: UP007
        Discriminator(
            param_kind,
            custom_error_type="param_form",
            custom_error_message=(
                "expected a parameter: a mapping with 'value', 'unit' and 'source', or with "
                "'dist' (one of "
                + ", ".join(DISTRIBUTION_NAMES)
                + "), its arguments, 'unit' and 'source'"
            ),
        ),
    ]
"""A scenario number: `Fixed` or one of the distributions."""
