"""Enumerate every parameter of a scenario with its dotted path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from offramp.scenario.params import PARAM_KINDS

if TYPE_CHECKING:
    from offramp.scenario.params import _ParamBase

_PARAM_TYPES = tuple(PARAM_KINDS.values())


def iter_parameters(node: object, prefix: str = "") -> Iterator[tuple[str, _ParamBase]]:
    """Yield `(path, param)` for every parameter below `node`, in document order."""
    if isinstance(node, _PARAM_TYPES):
        yield prefix, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from iter_parameters(getattr(node, name), f"{prefix}.{name}" if prefix else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from iter_parameters(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_parameters(value, f"{prefix}[{index}]")


def scenario_parameters(scenario: BaseModel) -> dict[str, _ParamBase]:
    """All parameters of a scenario (policies hold levers, not parameters)."""
    return {path: param for path, param in iter_parameters(scenario)}
