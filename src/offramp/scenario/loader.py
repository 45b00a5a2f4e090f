"""Reading scenario files: safe YAML with positions, `extends`, `--set` overrides, clear errors.

The YAML is composed into nodes and turned into plain Python by hand, so that every value keeps
the file, line and column it came from, duplicate keys are caught, and no tag can construct an
object. Validation errors from pydantic are translated into the user's terms: the file and line,
the field path (`theaters.kursk.frontage_km`), what was expected and what was found.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import re
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from offramp.errors import UserError
from offramp.scenario.params import DISTRIBUTION_NAMES, PARAM_KINDS, param_kind
from offramp.scenario.schema import FieldProblem, Scenario
from offramp.scenario.sources import hindsight

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 40
MAX_ERRORS_SHOWN = 12
MAX_EXTENDS_DEPTH = 16

Path_ = tuple[str | int, ...]
PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a file position, or a command-line override."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class LoadedScenario:
    """A validated scenario with the raw data and the origin of every value."""

    scenario: Scenario
    source: str
    data: dict[str, Any]
    origins: dict[Path_, Origin] = field(repr=False, default_factory=dict)

    @property
    def digest(self) -> str:
        """A stable hash of the resolved scenario (after extends and overrides)."""
        return scenario_digest(self.data)


def scenario_digest(data: dict[str, Any]) -> str:
    """sha256 of a resolved scenario's data (key order and formatting do not count): what a run's
    manifest records as `scenario_hash`."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ScenarioError(UserError):
    """A scenario file that cannot be read or does not validate."""


# --- built-ins --------------------------------------------------------------------------------


def builtin_scenarios() -> dict[str, Path]:
    """Names and paths of the scenarios shipped inside the package."""
    folder = resources.files("offramp.scenario") / "builtin"
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def resolve_scenario_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A built-in name (`kursk-2024`) or a path to a YAML file."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to / candidate
    if candidate.is_file():
        if candidate.suffix.lower() not in (".yaml", ".yml"):
            # a scenario is a YAML file: anything else (/etc/shadow) is refused unread, so that
            # its lines never come back as "unknown key" errors
            raise ScenarioError(f"{candidate}: a scenario file ends in .yaml or .yml")
        return candidate.resolve()
    builtins = builtin_scenarios()
    if name_or_path in builtins:
        return builtins[name_or_path]
    if candidate.exists():
        raise ScenarioError(f"{candidate}: is not a file")
    guess = difflib.get_close_matches(name_or_path, list(builtins), n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    raise ScenarioError(
        f"no scenario file '{name_or_path}' and no built-in scenario of that name "
        f"(built-ins: {', '.join(builtins)}){hint}"
    )


# --- YAML with positions ----------------------------------------------------------------------


class _Converter:
    """Turns a composed YAML node tree into plain data, recording the origin of every value."""

    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file = file
        self.loader = loader
        self.origins: dict[Path_, Origin] = {}
        self.nodes_seen = 0

    def origin(self, node: yaml.Node) -> Origin:
        mark = node.start_mark
        return Origin(self.file, mark.line + 1, mark.column + 1)

    def fail(self, node: yaml.Node, path: Path_, message: str) -> ScenarioError:
        where = f" at {format_path(path)}" if path else ""
        return ScenarioError(f"{self.origin(node)}: {message}{where}")

    def convert(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            raise self.fail(node, path, f"the document is too large (more than {MAX_NODES} values)")
        if len(path) > MAX_DEPTH:
            raise self.fail(
                node, path, f"the document is nested too deeply (over {MAX_DEPTH} levels)"
            )
        self.origins[path] = self.origin(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in PLAIN_TAGS:
            raise self.fail(node, path, f"tag {node.tag!r} is not allowed")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, path, "merge keys ('<<') are not supported; write it out")
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.fail(key_node, path, f"keys must be text, found {key_node.value!r}")
            if key in result:
                first = self.origins.get((*path, key))
                assert first is not None  # recorded when the key was first read
                raise self.fail(
                    key_node, path, f"duplicate key '{key}' (first written at line {first.line})"
                )
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            raise self.fail(
                node, path, f"tag {node.tag!r} is not allowed ({error.problem})"
            ) from None
        except ValueError as error:  # e.g. an impossible timestamp like 2024-13-45
            raise self.fail(node, path, f"cannot read {node.value!r}: {error}") from None
        if isinstance(value, float) and value != value:
            raise self.fail(node, path, "NaN is not a number this model can use")
        if isinstance(value, dt.datetime):
            return value
        return value


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Path_, Origin]]:
    """Parse one YAML file into a mapping plus the origin of each value."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{name}: cannot read the file ({error.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{name}: the file is {len(raw):,} bytes; a scenario is at most {MAX_FILE_BYTES:,}"
        )
    if b"\x00" in raw:
        raise ScenarioError(f"{name}: this is not a text file (it contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{name}: this is not UTF-8 text (bad byte at offset {error.start})"
        ) from None
    return parse_yaml_text(text, name)


def parse_yaml_text(text: str, name: str) -> tuple[dict[str, Any], dict[Path_, Origin]]:
    """Parse YAML text (already decoded) into a mapping plus the origin of each value."""
    if not text.strip():
        raise ScenarioError(f"{name}: the file is empty; a scenario is a YAML mapping")
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        converter = _Converter(name, loader)
        if root is None:
            raise ScenarioError(f"{name}: the file has no content; a scenario is a YAML mapping")
        data = converter.convert(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = error.problem or error.context or "invalid YAML"
        raise ScenarioError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{name}: invalid YAML: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{name}: the document is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ScenarioError(f"{name}:1:1: a scenario must be a YAML mapping, found a {kind}")
    return data, converter.origins


# --- extends and overrides --------------------------------------------------------------------


def _is_parameter(node: Any) -> bool:
    return isinstance(node, dict) and ("value" in node or "dist" in node)


def _merge(base: Any, override: Any) -> Any:
    """Deep merge: sections merge key by key; a parameter or any other value is replaced whole.

    A parameter is replaced whole so that a child can swap a value for a distribution without
    inheriting the parent's stale `value` key.
    """
    if isinstance(base, dict) and isinstance(override, dict) and not _is_parameter(override):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict[Path_, Origin]]:
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"{chain[-1]}: 'extends' forms a cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{path}: 'extends' chain is longer than {MAX_EXTENDS_DEPTH}")
    data, origins = read_yaml(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data, origins
    if not isinstance(parent_name, str) or not parent_name.strip():
        where = origins.get(("extends",), Origin(str(path)))
        raise ScenarioError(
            f"{where}: 'extends' must name a scenario or a file, found {parent_name!r}"
        )
    try:
        parent_path = resolve_scenario_path(parent_name, relative_to=path.parent)
    except ScenarioError as error:
        raise ScenarioError(f"{origins[('extends',)]}: extends: {error}") from None
    parent, parent_origins = _read_with_extends(parent_path, (*chain, path))
    merged_origins = dict(parent_origins)
    merged_origins.update({k: v for k, v in origins.items() if k != ("extends",)})
    return _merge(parent, data), merged_origins


def _short(text: str, limit: int = 120) -> str:
    """Text as an error quotes it: cut in the middle when long (a pasted file, a deep path)."""
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2:]}"


def parse_override(text: str) -> tuple[Path_, Any]:
    """`theaters.kursk.frontage_km.value=50` -> (path, 50). The value is read as YAML."""
    if "=" not in text:
        raise ScenarioError(f"--set {_short(text)!r}: expected PATH=VALUE, "
                            "e.g. combat.noise_sd.value=0.2")
    dotted, _, value_text = text.partition("=")
    keys = tuple(part.strip() for part in dotted.strip().split("."))
    if not dotted.strip() or any(not k for k in keys):
        raise ScenarioError(f"--set {_short(text)!r}: the path before '=' is empty or has an "
                            "empty part")
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError:
        raise ScenarioError(
            f"--set {_short(text)!r}: cannot read the value {_short(value_text)!r}") from None
    path: Path_ = tuple(int(k) if k.isdigit() else k for k in keys)
    return path, value


def apply_override(data: dict, path: Path_, value: Any, text: str) -> None:
    node: Any = data
    for depth, key in enumerate(path[:-1]):
        child = node[key] if _has(node, key) else None
        if not isinstance(child, dict | list):
            shown = format_path(path[: depth + 1])
            raise ScenarioError(f"--set {_short(text)!r}: '{_short(shown)}' is not a section of "
                                "the scenario")
        node = child
    last = path[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise ScenarioError(f"--set {_short(text)!r}: '{_short(format_path(path))}' is not an "
                            "item of the list")
    if last == "value" and isinstance(node, dict) and "dist" in node:
        _fix_parameter(node, value, text)  # PARAM.value=V on a distribution
    elif isinstance(node, dict) and _is_parameter(node.get(last)) \
            and not isinstance(value, dict):
        _fix_parameter(node[last], value, text)  # PARAM=V: the number, keeping unit and source
    else:
        node[last] = value


def _fix_parameter(parameter: dict, value: Any, text: str) -> None:
    """Fix an uncertain (or fixed) parameter at `value`: its distribution goes, its unit stays,
    and its source says where the number now comes from."""
    for key in [k for k in parameter if k not in ("unit", "source", "note", "hindsight")]:
        del parameter[key]
    parameter["value"] = value
    parameter["source"] = f"assumption: set on the command line (--set {text}); the file's " \
        f"source was: {parameter.get('source', '')}"


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


# --- validation errors in the user's terms ----------------------------------------------------


def format_path(path: Path_) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def _data_path(loc: tuple, data: Any, missing: bool) -> Path_:
    """The pydantic error location with union tags removed (keeps keys present in the data)."""
    path: list[str | int] = []
    node = data
    for i, key in enumerate(loc):
        if _has(node, key):
            path.append(key)
            node = node[key]
        elif missing and i == len(loc) - 1 and isinstance(node, dict):
            path.append(key)  # a missing field: the key is not in the data by definition
        # anything else is a tag pydantic adds for a union member: skip it
    return tuple(path)


def _unwrap(annotation: Any, value: Any) -> Any:
    """Follow Annotated, Optional and tagged unions to the model that validates `value`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0], value)
    if origin in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        members = [
            typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m
            for m in members
        ]
        if set(members) <= set(PARAM_KINDS.values()):
            return PARAM_KINDS.get(param_kind(value) or "", None)
        if isinstance(value, dict):
            for member in members:
                role = getattr(member, "model_fields", {}).get("role")
                if role is not None and value.get("role") in typing.get_args(role.annotation):
                    return member
        return members[0] if len(members) == 1 else None
    return annotation


def _model_at(path: Path_, data: Any) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path` (None if unknown)."""
    annotation: Any = Scenario
    node = data
    for key in path:
        annotation = _unwrap(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if key not in annotation.model_fields:
                return None
            annotation = annotation.model_fields[key].annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return None
        node = node[key] if _has(node, key) else None
    annotation = _unwrap(annotation, node)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _found(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe_error(error: ErrorDetails, path: Path_, data: dict) -> str:
    kind = error["type"]
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        model = _model_at(path[:-1], data)
        allowed = list(model.model_fields) if model else []
        guess = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        listing = f" (allowed: {', '.join(allowed)})" if allowed and not guess else ""
        return f"unknown key '{path[-1]}'{hint}{listing}"
    if kind == "missing":
        return "required field is missing"
    if kind == "param_form":
        value = error.get("input")
        if isinstance(value, dict) and isinstance(value.get("dist"), str):
            names = list(DISTRIBUTION_NAMES)
            guess = difflib.get_close_matches(value["dist"], names, n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            return f"unknown distribution '{value['dist']}'{hint} (known: {', '.join(names)})"
        return f"{message}; found {_found(value)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"{message}; found {_found(error.get('input'))}"
    value = error.get("input")
    if "input" in error and not isinstance(value, dict | list) and "found" not in message:
        return f"{message}; found {_found(value)}"
    return message


def explain_validation_error(
    error: ValidationError, data: dict, origins: dict[Path_, Origin], source: str,
    what: str = "the scenario",
) -> ScenarioError:
    """One line per problem: position, field path, what was expected and found."""
    located = [(item, _data_path(item["loc"], data, missing=item["type"] == "missing"))
               for item in error.errors(include_url=False)]
    # A value that may be a number or a schedule and is a wrong schedule fails both forms: the
    # error of the form it was not written in (at the field itself) says nothing useful.
    located = [(item, path) for item, path in located
               if not (isinstance(item.get("input"), list)
                       and any(len(other) > len(path) and other[:len(path)] == path
                               for _, other in located))]
    lines = []
    for item, path in located[:MAX_ERRORS_SHOWN]:
        problem = item.get("ctx", {}).get("error")
        if isinstance(problem, FieldProblem):
            path = (*path, *problem.path)
        where = next(
            (origins[path[:n]] for n in range(len(path), -1, -1) if path[:n] in origins),
            Origin(source),
        )
        field_name = format_path(path) or "(top level)"
        lines.append(f"{where}: {field_name}: {_describe_error(item, path, data)}")
    count = len(located)
    more = count - len(lines)
    header = f"{source}: {what} is not valid ({count} problem{'s' if count > 1 else ''})"
    tail = [f"... and {more} more"] if more > 0 else []
    return ScenarioError("\n".join([header, *(f"  {line}" for line in lines), *tail]))


# --- the entry point --------------------------------------------------------------------------


def load_scenario(name_or_path: str | Path, overrides: list[str] | None = None) -> LoadedScenario:
    """Read, merge (`extends`), override (`--set`) and validate a scenario.

    Raises `ScenarioError` (a `UserError`) with file, line, field path and expectation.
    """
    path = resolve_scenario_path(str(name_or_path))
    data, origins = _read_with_extends(path, ())
    for text in overrides or []:
        key_path, value = parse_override(text)
        apply_override(data, key_path, value, text)
        origins[key_path] = Origin(f"--set {text}")
    try:
        scenario = Scenario.model_validate(copy.deepcopy(data))
    except ValidationError as error:
        raise explain_validation_error(error, data, origins, str(path)) from None
    except RecursionError:
        raise ScenarioError(f"{path}: the document is nested too deeply") from None
    check_as_of(scenario, origins, str(path))
    check_schedules_reach(scenario, origins, str(path))
    return LoadedScenario(scenario=scenario, source=str(path), data=data, origins=origins)


def dotted_to_path(dotted: str) -> Path_:
    """'ladder.rungs[2].strength' -> ('ladder', 'rungs', 2, 'strength')."""
    return tuple(int(token[1:-1]) if token.startswith("[") else token
                 for token in re.findall(r"[^.\[\]]+|\[\d+\]", dotted))


def check_schedules_reach(scenario: Scenario, origins: dict[Path_, Origin], source: str
                          ) -> None:
    """Refuse a schedule step after the horizon (a typo, or a step that would never act), unless
    the horizon was shortened after the step was written: on the command line (`--set`), or in
    the file being loaded when the step comes from a file it `extends`. Such a step is never
    reached and is let be."""
    horizon = scenario.scenario.horizon_weeks
    horizon_origin = origins.get(("scenario", "horizon_weeks"))
    for where, week in scenario.schedule_steps():
        if week < horizon:
            continue
        step_origin = origins.get(where) or origins.get(where[:-1])
        shortened_later = horizon_origin is not None and step_origin is not None and (
            horizon_origin.file.startswith("--set")
            or (horizon_origin.file == source and step_origin.file != source))
        if not shortened_later:
            raise ScenarioError(
                f"{step_origin or scenario.scenario.name}: {format_path(where)}: starts in week "
                f"{week}, after the scenario's last week {horizon - 1} (week 0 is "
                f"{scenario.scenario.start_date.isoformat()}): it would never act")


def check_as_of(scenario: Scenario, origins: dict[Path_, Origin], source: str) -> None:
    """Refuse a parameter whose source postdates the scenario's `as_of` without saying why."""
    as_of = scenario.scenario.as_of
    if as_of is None:
        return
    unmarked = [item for item in hindsight(scenario, as_of) if item.reason is None]
    if not unmarked:
        return
    lines = []
    for item in unmarked[:MAX_ERRORS_SHOWN]:
        path = dotted_to_path(item.path)
        where = origins.get((*path, "source")) or origins.get(path) or Origin(source)
        lines.append(f"{where}: {item.path}: {item.message(as_of)}")
    count = len(unmarked)
    plural = "s cite" if count > 1 else " cites"
    header = (f"{source}: {count} parameter{plural} sources published after the scenario's "
              f"as_of date {as_of.isoformat()}")
    tail = [f"... and {count - len(lines)} more"] if count > len(lines) else []
    raise ScenarioError("\n".join([header, *(f"  {line}" for line in lines), *tail]))
