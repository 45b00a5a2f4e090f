"""Extension mechanisms (`offramp.engine.extensions`): a mechanism declared in one module acts
through the core's channels, keeps its own state across chunks and retirement, and leaves every
number alone when its effects are neutral."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
from engine_testkit import Recorder, inputs_for, run_engine

from offramp.engine import simulate
from offramp.engine.extensions import Effects, Extended, discover, stream_of
from offramp.engine.inputs import FLOAT, SIDE_B
from offramp.engine.noise import NoiseSource, Stream
from offramp.engine.state import State
from offramp.experiments import build


class Blockade:
    """A hypothetical extension, written as its module would be: side b's own shell supply is
    cut by `supply_cut` from week `from_week` on, and it counts the weeks it has been in force."""

    SECTION = "blockade"

    @dataclass(frozen=True)
    class Rules:
        supply_cut: np.ndarray  # (n,) share of side b's own supply lost
        from_week: np.ndarray  # (n,)

    @dataclass(frozen=True)
    class BlockadeState:
        weeks_in_force: np.ndarray  # (n,)

    @staticmethod
    def initial_state(rules: Blockade.Rules, n: int) -> Blockade.BlockadeState:
        return Blockade.BlockadeState(np.zeros(n, dtype=FLOAT))

    @staticmethod
    def step(rules: Blockade.Rules, own: Blockade.BlockadeState, world: State,
             noise: NoiseSource, week: int) -> tuple[Blockade.BlockadeState, Effects]:
        in_force = (week >= rules.from_week).astype(FLOAT)
        cut = np.stack([np.ones_like(in_force), 1.0 - rules.supply_cut * in_force])
        return Blockade.BlockadeState(own.weeks_in_force + in_force), \
            Effects(supply_multiplier=cut.astype(FLOAT))


class Neutral:
    """Every channel at its neutral value: x * 1 and x + 0 change no bit."""

    SECTION = "neutral"

    @dataclass(frozen=True)
    class Rules:
        scale: np.ndarray

    @staticmethod
    def initial_state(rules: Neutral.Rules, n: int) -> Neutral.Rules:
        return rules

    @staticmethod
    def step(rules: Neutral.Rules, own: Neutral.Rules, world: State, noise: NoiseSource,
             week: int) -> tuple[Neutral.Rules, Effects]:
        n = rules.scale.shape[-1]
        ones, zeros = np.ones((2, n), dtype=FLOAT), np.zeros((2, n), dtype=FLOAT)
        # a draw from its own stream, to show that drawing moves no core number
        noise.uniforms(stream_of(Neutral.SECTION), week, 1)
        return own, Effects(supply_multiplier=ones, advance_multiplier=ones[0],
                            support_logit_shift=zeros, talks_push=zeros[0])


def _with(inputs, mechanism, **rules):
    n = inputs.n_futures
    made = mechanism.Rules(**{name: np.full(n, value, dtype=FLOAT)
                              for name, value in rules.items()})
    return dataclasses.replace(inputs, extensions=(Extended(mechanism, made),))


def test_neutral_extension_changes_no_number(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "negotiate-now")
    plain = run_engine(inputs, levers).outcomes
    extended = run_engine(_with(inputs, Neutral, scale=1.0), levers).outcomes
    for name, values in plain.items():
        np.testing.assert_array_equal(extended[name], values, err_msg=name)


def test_blockade_cuts_side_b_stocks_from_its_week(kursk, futures_300):
    inputs, levers = inputs_for(kursk, futures_300, "arm-and-hold")
    plain, blockaded = Recorder(), Recorder()
    run_engine(inputs, levers, observe=plain)
    run_engine(_with(inputs, Blockade, supply_cut=1.0, from_week=5), levers, observe=blockaded)
    stock = [[s.industry.shell_stock[SIDE_B] for s in r.states] for r in (plain, blockaded)]
    # the effect of week 5's step acts in week 6: states 0..6 are the same
    for week in range(7):
        np.testing.assert_array_equal(stock[1][week], stock[0][week])
    assert stock[1][20].sum() < 0.9 * stock[0][20].sum()
    assert blockaded.states[-1].extensions[0].weeks_in_force[0] == inputs.horizon_weeks - 5


@pytest.mark.parametrize("split", [1, 77, 150])
def test_extension_state_follows_futures_across_chunks_and_retirement(kursk, futures_300, split):
    inputs, levers = inputs_for(kursk, futures_300, "negotiate-now")
    extended = _with(inputs, Blockade, supply_cut=0.5, from_week=3)
    whole = run_engine(extended, levers).outcomes  # futures that settle leave the loop
    observed = run_engine(extended, levers, observe=lambda state: None).outcomes  # none leave
    index = np.arange(inputs.n_futures)
    from offramp.engine.state import take_futures
    parts = [simulate(take_futures(extended, part), levers, 0, part).outcomes
             for part in (index[:split], index[split:])]
    for name, values in whole.items():
        np.testing.assert_array_equal(observed[name], values, err_msg=name)
        np.testing.assert_array_equal(np.concatenate([p[name] for p in parts]), values,
                                      err_msg=name)


def test_effects_combine_multipliers_by_product_and_shifts_by_sum():
    first = Effects(supply_multiplier=np.array([0.5]), talks_push=np.array([0.1]))
    second = Effects(supply_multiplier=np.array([0.5]), talks_push=np.array([0.2]),
                     advance_multiplier=np.array([2.0]))
    both = first.and_then(second)
    assert both.supply_multiplier[0] == 0.25
    assert both.talks_push[0] == pytest.approx(0.3)
    assert both.advance_multiplier[0] == 2.0
    assert both.support_logit_shift is None


def test_extension_streams_are_clear_of_the_core_and_of_each_other():
    assert stream_of("blockade") != stream_of("sanctions")
    assert min(stream_of("blockade"), stream_of("sanctions")) > max(Stream)


def test_core_mechanisms_are_not_extensions():
    core = {"aid", "bargaining", "calendar", "combat", "escalation", "forces", "industry",
            "ladder", "politics", "rivals", "strikes", "territory"}
    assert not core & {module.__name__.rsplit(".", 1)[-1] for module in discover()}


def test_an_extension_without_a_scenario_section_is_named(monkeypatch):
    monkeypatch.setattr(build, "discover", lambda: (Blockade,))
    problems = build.unmatched_names()
    assert any("has no scenario section" in p for p in problems), problems
