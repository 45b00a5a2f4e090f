"""The compiled weekly loop (`offramp.engine.blocks`) gives the Python loop's bits.

`model.simulate` takes the compiled path for every run but those with extension mechanisms or
an observer; the Python loop for those. Both must leave every outcome of every future the same
to the bit, whatever the block size: each case below runs once each way, with blocks of 128
futures (three blocks, the last one partial) and with the default block size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from engine_testkit import scenario_without

from offramp.engine import blocks, model, simulate
from offramp.engine.inputs import History
from offramp.engine.noise import compiled_kernels_enabled
from offramp.engine.policy import Trigger
from offramp.experiments.build import build_inputs
from offramp.experiments.sampling import sample_futures
from offramp.scenario.loader import builtin_scenarios, load_scenario
from offramp.scenario.schema import Scenario

FUTURES = 300
APPLIES = blocks.applies  # (the tests replace it)

pytestmark = pytest.mark.skipif(not compiled_kernels_enabled(),
                                reason="the compiled loop needs the compiled kernels")


def _outcomes(scenario: Scenario, futures: pd.DataFrame, policy: str, compiled: bool,
              monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, np.ndarray], bool]:
    """(outcomes, whether the compiled path ran) of one policy on `futures` (indices offset,
    so that the draws are not those of futures 0..n-1)."""
    inputs, levers = build_inputs(scenario, futures, policy)
    taken: list[bool] = []

    def spy(*args: object, **kwargs: object) -> bool:
        taken.append(compiled and APPLIES(*args, **kwargs))  # type: ignore[arg-type]
        return taken[-1]

    monkeypatch.setattr(model.blocks, "applies", spy)
    outcomes = simulate(inputs, levers, 7, np.arange(FUTURES) + 1000).outcomes
    return outcomes, any(taken)


def _assert_same(compiled: dict[str, np.ndarray], python: dict[str, np.ndarray],
                 label: str) -> None:
    assert compiled.keys() == python.keys()
    for name, values in python.items():
        np.testing.assert_array_equal(compiled[name], values, err_msg=f"{label}: {name}")


def _check(scenario: Scenario, label: str, monkeypatch: pytest.MonkeyPatch,
           block_futures: int) -> list[str]:
    """Every policy of `scenario` both ways; the policies that took the compiled path."""
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", block_futures)
    futures = sample_futures(scenario, FUTURES, seed=4)
    compiled_policies = []
    for policy in scenario.policies:
        compiled, took = _outcomes(scenario, futures, policy, True, monkeypatch)
        python, _ = _outcomes(scenario, futures, policy, False, monkeypatch)
        _assert_same(compiled, python, f"{label}, {policy}")
        if took:
            compiled_policies.append(policy)
    return compiled_policies


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_builtin_scenario_gives_the_same_bits_both_ways(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(name).scenario
    compiled = _check(scenario, name, monkeypatch, block_futures=128)
    assert compiled == list(scenario.policies), f"{name}: not every policy was compiled"


def test_the_block_size_changes_no_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario("kursk-2024").scenario
    futures = sample_futures(scenario, FUTURES, seed=4)
    by_size = []
    for block_futures in (128, 300, blocks.BLOCK_FUTURES):
        monkeypatch.setattr(blocks, "BLOCK_FUTURES", block_futures)
        by_size.append(_outcomes(scenario, futures, "negotiate-now", True, monkeypatch))
    assert all(took for _, took in by_size)
    for outcomes, _ in by_size[1:]:
        _assert_same(outcomes, by_size[0][0], "block sizes")


@pytest.mark.parametrize("without", [
    {"salients": False}, {"backers": False}, {"rivals": False}, {"issues": False}])
def test_scenarios_without_a_part_give_the_same_bits_both_ways(
        kursk_data: dict, without: dict[str, bool], monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = scenario_without(kursk_data, **without)
    assert _check(scenario, f"kursk-2024 without {without}", monkeypatch, block_futures=128)


def _trigger_outcomes(levers: object, inputs: object, compiled: bool,
                      monkeypatch: pytest.MonkeyPatch, history: History | None = None
                      ) -> dict[str, np.ndarray]:
    monkeypatch.setattr(model.blocks, "applies",
                        APPLIES if compiled else (lambda *args, **kwargs: False))
    return simulate(inputs, levers, 3, np.arange(FUTURES) + 500,  # type: ignore[arg-type]
                    history=history).outcomes


# Every variable a trigger may read, every operator, every duration and every lever, with
# thresholds that hold in some futures and weeks and not in others.
TRIGGERS = [
    (Trigger("week", ">=", 30.0, aid_multiplier=0.25),
     Trigger("escalation_events", "==", 1.0, once=False, for_weeks=6, lift_restrictions=True)),
    (Trigger("a_territory_share", "<", 0.8, seek_talks=True),
     Trigger("salient_km2", "<=", 700.0, withdraw=True)),
    (Trigger("support_a", ">", 0.45, once=False, aid_multiplier=1.7),
     Trigger("support_b", "<", 0.6, for_weeks=3, seek_talks=True)),
    (Trigger("generating_capacity", "<", 0.9, lift_restrictions=True, aid_multiplier=1.2),
     Trigger("main_backer_shell_stock", "!=", 0.0, once=False, for_weeks=2,
             seek_talks=False)),
    (Trigger("a_shell_stock", ">=", 1e6, withdraw=True, lift_restrictions=False),
     Trigger("talks_open", "==", 1.0, once=False, aid_multiplier=0.5)),
    (Trigger("ladder_rung", ">=", 1.0, seek_talks=True),
     Trigger("highest_escalation_rung", ">=", 2.0, lift_restrictions=True),
     Trigger("rival_opened", "==", 1.0, once=False, for_weeks=4, aid_multiplier=0.0)),
]


@pytest.mark.parametrize("triggers", TRIGGERS, ids=lambda ts: "+".join(t.variable for t in ts))
@pytest.mark.parametrize("policy", ["negotiate-now", "arm-and-hold"])
def test_triggers_give_the_same_bits_both_ways(
        triggers: tuple[Trigger, ...], policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario("kursk-2024").scenario
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", 128)
    inputs, levers = build_inputs(scenario, sample_futures(scenario, FUTURES, seed=9), policy)
    adaptive = dataclasses.replace(levers, triggers=triggers)
    assert APPLIES(inputs, plain_run=True)
    compiled = _trigger_outcomes(adaptive, inputs, True, monkeypatch)
    _assert_same(compiled, _trigger_outcomes(adaptive, inputs, False, monkeypatch),
                 f"{policy} with {triggers}")
    static = _trigger_outcomes(levers, inputs, True, monkeypatch)  # the triggers did act
    assert any(not np.array_equal(compiled[name], static[name], equal_nan=True)
               for name in static)


def test_side_bs_rules_give_the_same_bits_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules on side a's lever this week and on the state, each multiplier set, followed in
    part of the futures (kursk-2024-russia-adapts' rules, made to act more often)."""
    scenario = load_scenario("kursk-2024-russia-adapts").scenario
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", 128)
    inputs, levers = build_inputs(scenario, sample_futures(scenario, FUTURES, seed=2),
                                  "lift-if-escalated")
    assert inputs.opponent is not None
    opponent = dataclasses.replace(
        inputs.opponent, names=("lifted", "week", "holding"),
        conditions=((("restrictions_lifted", "==", 1.0),), (("week", ">=", 20.0),),
                    (("salient_km2", ">", 300.0), ("support_b", "<", 0.9))),
        **{field: np.broadcast_to(np.array(values, dtype=np.float32)[:, None],
                                  (3, FUTURES)).copy()
           for field, values in (("follows", [0.7, 0.5, 0.6]),
                                 ("escalation_multiplier", [2.0, 1.0, 1.5]),
                                 ("offers_multiplier", [0.5, 1.5, 1.0]),
                                 ("ladder_adoption_multiplier", [1.0, 0.7, 1.2]),
                                 ("offensive_multiplier", [1.3, 1.0, 0.8]))})
    ruled = dataclasses.replace(inputs, opponent=opponent)
    compiled = _trigger_outcomes(levers, ruled, True, monkeypatch)
    _assert_same(compiled, _trigger_outcomes(levers, ruled, False, monkeypatch), "side b")
    without = _trigger_outcomes(levers, dataclasses.replace(inputs, opponent=None), True,
                                monkeypatch)
    assert any(not np.array_equal(compiled[name], without[name], equal_nan=True)
               for name in without)


@pytest.mark.parametrize("name", ["kursk-2024", "polish-soviet-1920"])
def test_weekly_series_are_the_same_bits_both_ways(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every series, state and levers (a trigger's withdrawal, lifted restrictions and talks
    sought included), in every week of every future."""
    scenario = load_scenario(name).scenario
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", 128)
    futures = sample_futures(scenario, FUTURES, seed=6)
    for policy in scenario.policies:
        inputs, levers = build_inputs(scenario, futures, policy)
        taken: list[bool] = []

        def spy(*args: object, taken: list[bool] = taken, **kwargs: object) -> bool:
            taken.append(APPLIES(*args, **kwargs))  # type: ignore[arg-type]
            return taken[-1]

        runs = []
        for applies in (spy, lambda *args, **kwargs: False):
            monkeypatch.setattr(model.blocks, "applies", applies)
            runs.append(simulate(inputs, levers, 2, np.arange(FUTURES), record_series=True))
        assert taken == [True], f"{name}, {policy}: the series were not compiled"
        compiled_run, python_run = runs
        assert compiled_run.series is not None and python_run.series is not None
        _assert_same(compiled_run.series, python_run.series, f"{name}, {policy}: series")
        _assert_same(compiled_run.outcomes, python_run.outcomes, f"{name}, {policy}")


@pytest.mark.parametrize("week", [1, 9, 200])
def test_branched_runs_give_the_same_bits_both_ways(
        week: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A branch from parent futures (each future repeated from one parent, other seed), with
    the parents' policy before the branch week and another after it: outcomes and series."""
    scenario = load_scenario("kursk-2024").scenario
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", 128)
    futures = sample_futures(scenario, FUTURES, seed=8)
    inputs, arm = build_inputs(scenario, futures, "arm-and-hold")
    _, negotiate = build_inputs(scenario, futures, "negotiate-now")
    parents = np.arange(FUTURES) * 7 + 3
    history = History(week, arm, 11, parents)
    runs = []
    for applies in (APPLIES, lambda *args, **kwargs: False):
        monkeypatch.setattr(model.blocks, "applies", applies)
        runs.append(simulate(inputs, negotiate, 4, np.arange(FUTURES), record_series=True,
                             history=history))
    compiled_run, python_run = runs
    assert compiled_run.series is not None and python_run.series is not None
    _assert_same(compiled_run.series, python_run.series, f"branch at week {week}: series")
    _assert_same(compiled_run.outcomes, python_run.outcomes, f"branch at week {week}")
    assert APPLIES(inputs, plain_run=True)


@pytest.mark.parametrize("parent, policy", [
    ("arm-and-hold", "negotiate-at-peak-leverage"),  # triggers from the branch week
    ("lift-if-escalated", "withdraw-if-untenable"),  # other triggers, started afresh
    ("withdraw-if-untenable", "withdraw-if-untenable"),  # the same triggers, watched on
])
def test_branches_into_adaptive_policies_give_the_same_bits_both_ways(
        parent: str, policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario("kursk-2024").scenario
    monkeypatch.setattr(blocks, "BLOCK_FUTURES", 128)
    futures = sample_futures(scenario, FUTURES, seed=12)
    inputs, parent_levers = build_inputs(scenario, futures, parent)
    _, levers = build_inputs(scenario, futures, policy)
    history = History(20, parent_levers, 4, np.arange(FUTURES) + 50)
    runs = [_trigger_outcomes(levers, inputs, compiled, monkeypatch, history)
            for compiled in (True, False)]
    _assert_same(runs[0], runs[1], f"{parent} then {policy}")
