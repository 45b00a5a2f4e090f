"""docs/model.md says what the code does: every kursk-2024 parameter is documented, with the
value or distribution the scenario file actually holds."""

from __future__ import annotations

import re
from pathlib import Path

from offramp.scenario.loader import load_scenario
from offramp.scenario.walk import scenario_parameters

MODEL_DOC = Path(__file__).parents[1] / "docs" / "model.md"
ROW = re.compile(r"^\| `(?P<path>[^`]+)` \| (?P<value>[^|]+) \|", re.MULTILINE)


def test_every_kursk_parameter_is_documented():
    text = MODEL_DOC.read_text()
    params = scenario_parameters(load_scenario("kursk-2024").scenario)
    missing = [path for path in params if f"`{path}`" not in text]
    assert missing == []


def test_documented_values_match_the_scenario_file():
    params = scenario_parameters(load_scenario("kursk-2024").scenario)
    stale = []
    for match in ROW.finditer(MODEL_DOC.read_text()):
        path, documented = match["path"], match["value"].strip()
        if path in params and documented != params[path].describe():
            stale.append(f"{path}: doc says {documented}, file says {params[path].describe()}")
    assert stale == []


README = Path(__file__).parents[1] / "README.md"
PACKAGE = Path(__file__).parents[1] / "src" / "offramp"


def test_the_readme_layout_lists_every_part_of_the_package():
    block = README.read_text().split("## Layout", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"^  (\S+?)/?\s{2,}", block, re.MULTILINE))
    parts = {path.name for path in PACKAGE.iterdir()
             if (path.is_dir() and (path / "__init__.py").is_file())
             or (path.suffix == ".py" and not path.name.startswith("__"))}
    assert listed == parts
