"""`offramp schema`: the scenario language as JSON Schema, which the built-in files satisfy."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from helpers import run_cli
from offramp.scenario.loader import builtin_scenarios, resolve_scenario_path


def test_the_schema_accepts_the_builtin_files_and_names_a_mistake():
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["title"] == "offramp scenario"
    validator = jsonschema.Draft202012Validator(document)
    for name in builtin_scenarios():
        data = yaml.safe_load(resolve_scenario_path(name).read_text())
        if "extends" in data:
            continue  # a variant holds only what it changes
        errors = list(validator.iter_errors(json.loads(json.dumps(data, default=str))))
        assert errors == [], (name, errors[:1])
    kursk = yaml.safe_load(resolve_scenario_path("kursk-2024").read_text())
    kursk["combat"]["attrition_per_weak"] = kursk["combat"].pop("attrition_per_week")
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(json.loads(json.dumps(kursk, default=str)))
