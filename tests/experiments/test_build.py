"""Engine inputs are read from the scenario by name: one name per quantity, checked here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offramp.experiments import build
from offramp.scenario import schema


def test_every_engine_input_is_a_scenario_parameter_of_the_same_name():
    assert build.unmatched_names() == []


def test_a_second_spelling_is_found(monkeypatch):
    @dataclass(frozen=True)
    class StrikeRulesRenamed:
        damage_per_week: np.ndarray
        repairs_per_week: np.ndarray  # the scenario says repair_per_week
        escalation_damage_multiplier: np.ndarray

    monkeypatch.setattr(build, "ENGINE_SECTIONS", {StrikeRulesRenamed: (schema.Strikes,)})
    assert build.unmatched_names() == [
        "engine StrikeRulesRenamed.repairs_per_week has no scenario parameter",
        "scenario Strikes.repair_per_week reaches no engine field of StrikeRulesRenamed",
    ]


def test_optional_parameters_default_to_the_number_the_schema_declares():
    assert build._DEFAULTS == {"support_persistence": 0.95, "stock_drawdown_weeks": 52.0,
                               "relapse_reduction_per_rung": 0.35, "commitment_premium": 0.0,
                               "hardens_while_soil_held": 0.0, "pre_talks_multiplier": 0.0,
                               "line_focality": 0.0, "lifted_restrictions_multiplier": 1.0,
                               "restrictions_reimposed_weeks": 0.0,
                               "escalation_multiplier": 1.0, "offers_multiplier": 1.0,
                               "ladder_adoption_multiplier": 1.0, "offensive_multiplier": 1.0}
