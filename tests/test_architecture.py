"""The layers are the pipeline: no module imports a layer above its own (docs: README, Layout).

    errors                                   everything may import it
    engine, scenario, store, calibration     the bottom: each imports only itself (and errors)
    experiments, analysis                    siblings: neither imports the other
    studies                                  experiments and analysis applied to questions
    report                                   renders what studies and the store hold
    cli, api                                 the face

Every `import` counts, at module level or inside a function: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "offramp"
RANK = {
    "errors": 0,
    "engine": 1, "scenario": 1, "store": 1, "calibration": 1, "data": 1,
    "experiments": 2, "analysis": 2,
    "studies": 3,
    "report": 4,
    "cli": 5, "api": 5,
    "__init__": 6, "__main__": 6,
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every offramp import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(module, name, node.lineno) for name in names
                      if name == "offramp" or name.startswith("offramp.")]
    return found


def back_arrows() -> list[str]:
    arrows = []
    for module, imported, line in _imports():
        source, target = _layer(module), _layer(imported)
        if source == target or target == "errors":
            continue
        if RANK[target] >= RANK[source]:
            arrows.append(f"{module}:{line} imports {imported} ({source} -> {target})")
    return arrows


def test_every_layer_is_known():
    layers = {_layer(module) for module, _, _ in _imports()}
    layers |= {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()
               if not path.name.startswith((".", "_")) or path.stem in ("__init__", "__main__")}
    layers.discard("__pycache__")
    assert layers <= set(RANK), layers - set(RANK)


def test_no_module_imports_a_layer_above_its_own():
    assert back_arrows() == []


def test_the_walk_sees_lazy_imports():
    """The check is not vacuous: a function-level import of the report from the engine would be
    found (here, the CLI's lazy imports of studies are)."""
    lazy = [(m, i) for m, i, _ in _imports() if m == "offramp.cli.run" and i.startswith(
        "offramp.studies")]
    assert lazy
