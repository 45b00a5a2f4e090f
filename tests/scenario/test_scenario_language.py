"""The scenario language: built-ins validate, every malformed file gets a clear error, no crash."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import MINIMAL, SCENARIOS, TESTS, minimal_data, run_cli
from offramp.errors import UserError
from offramp.scenario.loader import ScenarioError, builtin_scenarios, load_scenario
from offramp.scenario.walk import scenario_parameters

MALFORMED = sorted((SCENARIOS / "malformed").glob("*.yaml"))


def expectations(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect:").strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect:")
    ]


# --- built-ins -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_builtin_scenarios_validate(name):
    loaded = load_scenario(name)
    params = scenario_parameters(loaded.scenario)
    assert params, "a scenario without parameters is not a scenario"
    for path, param in params.items():
        assert param.unit.strip(), path
        assert param.source.strip(), path


def test_kursk_2024_has_the_three_policies_of_the_design_and_the_replay():
    scenario = load_scenario("kursk-2024").scenario
    policies = scenario.policies
    assert scenario.default_policies == ("negotiate-now", "arm-and-hold", "drip-feed",
                                         "as-happened")
    assert set(policies) == {*scenario.default_policies, "negotiate-at-peak-leverage",
                             "lift-if-escalated", "withdraw-if-untenable"}
    assert policies["negotiate-now"].seek_talks_from_week == 0
    assert policies["arm-and-hold"].lift_restrictions
    assert policies["drip-feed"].seek_talks_from_week is None


def test_minimal_scenario_validates():
    assert load_scenario(MINIMAL).scenario.scenario.name == "minimal"


# --- the malformed corpus --------------------------------------------------------------------


def test_the_corpus_is_large_enough():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_scenario_gets_a_clear_error(path):
    expected_texts = expectations(path)
    assert expected_texts, f"{path.name} has no '# expect:' line"
    # Every message names the file: an expectation found in its name (or in the folders of the
    # corpus) would match any error about the file, and prove nothing.
    where = path.relative_to(TESTS.parent).as_posix().lower()
    assert path.name.lower() in where
    for expected in expected_texts:
        assert expected.lower() not in where, (
            f"{path.name}: '# expect: {expected}' is part of the file's path, so any error "
            "about this file matches it; expect the message's own words"
        )
    result = run_cli("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert path.name in result.stderr or "extends" in path.name
    for expected in expected_texts:
        assert expected in result.stderr, f"{expected!r} not in:\n{result.stderr}"


def _write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _without(data: dict, *path: str) -> dict:
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)
)

GENERATED = {
    "empty": ("", ["empty"]),
    "only-spaces": ("   \n\n  ", ["empty"]),
    "only-comment": ("# nothing here\n", ["no content"]),
    "binary-junk": (bytes(range(256)) * 4, ["not a text file"]),
    "latin1": ("scenario:\n  title: caf\xe9\n".encode("latin-1"), ["not UTF-8"]),
    "scalar-document": ("42\n", ["must be a YAML mapping"]),
    "integer-key": ("1: 2\n", ["keys must be text"]),
    "missing-source": (
        _dump(_without(minimal_data(), "combat", "noise_sd", "source")),
        ["combat.noise_sd.source", "required field is missing"],
    ),
    "missing-section": (
        _dump(_without(minimal_data(), "bargaining")),
        ["bargaining", "required field is missing"],
    ),
    "missing-unit": (
        _dump(_without(minimal_data(), "actors", "blue", "reserves", "unit")),
        ["actors.blue.reserves.unit"],
    ),
    "billion-laughs": (BILLION_LAUGHS, ["too large"]),
    "deep-mapping": ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 60)), ["nested"]),
    "too-big": ("a: " + "x" * 2_100_000 + "\n", ["at most"]),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_malformed_input(tmp_path, name):
    content, expected = GENERATED[name]
    path = _write(tmp_path, f"{name}.yaml", content)
    result = run_cli("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert path.name in result.stderr
    for text in expected:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"


def test_missing_file_and_directory(tmp_path):
    for target in (str(tmp_path / "nope.yaml"), str(tmp_path)):
        result = run_cli("validate", target)
        assert result.returncode == 2 and "Traceback" not in result.stderr


def test_did_you_mean_for_a_misspelt_builtin():
    result = run_cli("validate", "kursk-2042")
    assert result.returncode == 2 and "did you mean 'kursk-2024'" in result.stderr


# --- extends and --set -----------------------------------------------------------------------


def test_extends_with_overrides(tmp_path):
    child = _write(
        tmp_path,
        "variant.yaml",
        "extends: kursk-2024\nscenario:\n  name: kursk-variant\n  horizon_weeks: 52\n"
        "combat:\n  noise_sd: {value: 0.2, unit: log sd,\n"
        "             source: 'assumption: a fixed noise level'}\n",
    )
    loaded = load_scenario(child)
    assert loaded.scenario.scenario.horizon_weeks == 52
    assert loaded.scenario.combat.noise_sd.value == 0.2  # a distribution replaced by a value
    assert loaded.scenario.policies.keys() == load_scenario("kursk-2024").scenario.policies.keys()
    assert loaded.digest != load_scenario("kursk-2024").digest


def test_set_overrides_a_value():
    loaded = load_scenario("kursk-2024", overrides=["scenario.horizon_weeks=12"])
    assert loaded.scenario.scenario.horizon_weeks == 12


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("no-equals-sign", "PATH=VALUE"),
        ("scenario.horizon_weeks=-3", "--set scenario.horizon_weeks=-3"),
        ("nosuch.section.value=3", "not a section"),
        ("ladder.rungs.99.strength.value=1", "ladder.rungs[99]"),
    ],
)
def test_bad_set_overrides(override, expected):
    with pytest.raises(ScenarioError) as caught:
        load_scenario("kursk-2024", overrides=[override])
    assert expected in str(caught.value)
    result = run_cli("validate", "kursk-2024", "--set", override)
    assert result.returncode == 2 and "Traceback" not in result.stderr


# --- fuzzing: the loader raises ScenarioError or succeeds, nothing else --------------------------


def _load_text(tmp_path: Path, text: str | bytes) -> None:
    path = _write(tmp_path, "fuzz.yaml", text)
    try:
        load_scenario(path)
    except ScenarioError as error:
        assert str(error).strip()
        assert isinstance(error, UserError)


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_bytes(tmp_path, data):
    _load_text(tmp_path, data)


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_fuzz_text(tmp_path, text):
    _load_text(tmp_path, text)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.dates(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.dictionaries(st.text(max_size=12), yaml_values, max_size=6))
def test_fuzz_structures(tmp_path, data):
    _load_text(tmp_path, yaml.safe_dump(data))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


MINIMAL_PATHS = list(_paths(minimal_data()))


@pytest.mark.slow
@FUZZ
@given(st.lists(st.tuples(st.sampled_from(MINIMAL_PATHS), yaml_values), min_size=1, max_size=3))
def test_fuzz_mutations_of_a_valid_scenario(tmp_path, mutations):
    data = minimal_data()
    for path, value in mutations:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    _load_text(tmp_path, yaml.safe_dump(data))


# --- claims isolate one cause --------------------------------------------------------------------


def _claim_variant(tmp_path, arm_levers: str, cause: str, extra: str = "") -> Path:
    path = tmp_path / "claim.yaml"
    path.write_text(
        "extends: kursk-2024\nclaims:\n  mixed:\n    statement: A test claim.\n"
        "    source: 'assumption: a claim written for a test'\n"
        f"    arm: {{policy: drip-feed, levers: {arm_levers}}}\n"
        "    versus: {policy: drip-feed}\n"
        f"    cause: {cause}\n    outcome: a_territory_share\n    expect: higher\n{extra}")
    return path


def test_a_claim_whose_arms_differ_beyond_its_cause_is_refused(tmp_path):
    path = _claim_variant(tmp_path, "{aid_multiplier: 1.5, seek_talks_from_week: 0}",
                          "[aid_multiplier]")
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "claims.mixed.cause" in result.stderr
    assert "differ in seek_talks_from_week besides the declared cause" in result.stderr


def test_a_confounded_claim_says_why_and_validates(tmp_path):
    path = _claim_variant(tmp_path, "{aid_multiplier: 1.5, seek_talks_from_week: 0}",
                          "[aid_multiplier]",
                          "    confounded_by: the op-ed proposes both together\n")
    assert load_scenario(path).scenario.claims["mixed"].confounded_by


def test_a_cause_the_arms_do_not_differ_in_is_refused(tmp_path):
    path = _claim_variant(tmp_path, "{aid_multiplier: 1.5}", "[aid_multiplier, pursue_ladder]")
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "do not differ in 'pursue_ladder'" in result.stderr


def test_every_kursk_claim_isolates_its_cause():
    scenario = load_scenario("kursk-2024").scenario
    for key, claim in scenario.claims.items():
        assert claim.confounded_by is None, key
        if claim.versus is not None:
            assert claim.cause, key


@pytest.mark.parametrize("override", ["combat.noise_sd.value=0.2", "combat.noise_sd=0.2"])
def test_set_fixes_a_distribution_at_a_number_keeping_its_unit(override):
    """The --help example works on kursk-2024, whose noise_sd is a distribution."""
    loaded = load_scenario("kursk-2024", overrides=[override])
    noise = loaded.scenario.combat.noise_sd
    assert noise.describe() == "0.2" and noise.unit == "log sd"
    assert noise.source.startswith(f"assumption: set on the command line (--set {override})")


def test_a_huge_set_is_quoted_short_in_its_error():
    deep = ".".join(["a"] * 40_000) + "=1"
    result = run_cli("validate", "kursk-2024", "--set", deep)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr) < 400 and "is not a section" in result.stderr


@pytest.mark.parametrize("override, expected", [
    ("actors.ukraine.national_area_km2=5e-324", "must lie in (0, inf)"),
    ('actors.ukraine.reserves={dist: choice, options: [1, 2], weights: [1e308, 1e308], '
     'unit: personnel, source: "assumption: a test of huge weights"}', "sum overflows"),
])
def test_numbers_that_validate_but_would_break_the_run_are_refused(override, expected):
    result = run_cli("validate", "kursk-2024", "--set", override)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-01"])
def test_a_start_date_whose_calendar_python_cannot_hold_is_refused(start):
    result = run_cli("validate", "polish-soviet-1920", "--set", f"scenario.start_date={start}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the start date must lie between 0002-01-01 and" in result.stderr
