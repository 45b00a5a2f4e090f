"""Extension mechanisms: a new mechanism in one module, acting through the core's channels.

The twelve core mechanisms are wired by hand in `model.simulate`, so that the weekly order and
what each one reads stay visible in one function. A new mechanism that acts on the war through
one of the channels below does not need that wiring: it is one module in
`offramp/engine/mechanisms/` that declares

    SECTION = "sanctions"           # the scenario section its parameters come from
    @dataclass(frozen=True)
    class Rules: ...                # arrays over futures, field names = the section's parameters
    def initial_state(rules, n) -> its piece of state (a frozen dataclass of arrays)
    def step(rules, own, world, noise, week) -> (its new piece of state, Effects)

and is found by `discover()`. It steps once a week after every core mechanism, reading the whole
week's `State` (`world`, read-only); its `Effects` act on the core mechanisms the next week.
`offramp.experiments.build` fills its `Rules` from the scenario section of the same name, when
the scenario has that section. docs/adding-a-mechanism.md walks through an example.

A mechanism that needs a channel not listed here is a core mechanism: it adds the channel here
and the line in `model.simulate` that applies it.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Effects:
    """What the extensions change in next week's core mechanisms (None: nothing)."""

    supply_multiplier: np.ndarray | None = None
    """(2, n) multiplies each side's own shell production plus imports (industry)."""
    advance_multiplier: np.ndarray | None = None
    """(n,) multiplies the advance in every theater (territory)."""
    support_logit_shift: np.ndarray | None = None
    """(2, n) added to each side's public support on the logit scale (politics)."""
    talks_push: np.ndarray | None = None
    """(n,) added to the push towards talks, like an election's (bargaining)."""

    def and_then(self, other: Effects) -> Effects:
        """Both effects: multipliers multiply, shifts and pushes add."""
        def join(mine: np.ndarray | None, theirs: np.ndarray | None, multiply: bool
                 ) -> np.ndarray | None:
            if mine is None or theirs is None:
                return theirs if mine is None else mine
            joined: np.ndarray = mine * theirs if multiply else mine + theirs
            return joined

        return Effects(
            supply_multiplier=join(self.supply_multiplier, other.supply_multiplier, True),
            advance_multiplier=join(self.advance_multiplier, other.advance_multiplier, True),
            support_logit_shift=join(self.support_logit_shift, other.support_logit_shift, False),
            talks_push=join(self.talks_push, other.talks_push, False),
        )


NO_EFFECTS = Effects()


def stream_of(section: str) -> int:
    """The noise stream of an extension: from its section name, clear of the core's `Stream` ids.

    Use it as `noise.uniforms(stream_of(SECTION), week, count)`; a name, not a number to pick,
    so two extensions cannot share a stream by accident.
    """
    return (1 << 15) | (zlib.crc32(section.encode()) & 0x7FFF)  # streams are 16-bit


@dataclass(frozen=True)
class Extended:
    """One extension mechanism and its rules for a chunk of futures."""

    mechanism: ModuleType | Any  # a module with SECTION, Rules, initial_state, step
    rules: Any


def is_extension(module: object) -> bool:
    return all(hasattr(module, name) for name in ("SECTION", "Rules", "initial_state", "step"))


@cache
def discover() -> tuple[ModuleType, ...]:
    """Every extension mechanism in `offramp.engine.mechanisms`, in name order."""
    from offramp.engine import mechanisms

    found = (importlib.import_module(f"{mechanisms.__name__}.{info.name}")
             for info in pkgutil.iter_modules(mechanisms.__path__))
    return tuple(module for module in found if is_extension(module))


def initial_states(extensions: tuple[Extended, ...], n: int) -> tuple[Any, ...]:
    return tuple(ext.mechanism.initial_state(ext.rules, n) for ext in extensions)


def step(extensions: tuple[Extended, ...], own: tuple[Any, ...], world: Any, noise: Any,
         week: int) -> tuple[tuple[Any, ...], Effects]:
    """Step every extension once; their effects combined, in the order given."""
    states, effects = [], NO_EFFECTS
    for ext, state in zip(extensions, own, strict=True):
        new_state, its_effects = ext.mechanism.step(ext.rules, state, world, noise, week)
        states.append(new_state)
        effects = effects.and_then(its_effects)
    return tuple(states), effects
