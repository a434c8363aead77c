"""The layout's rules, read from the source: data flows one way (no layer imports a higher
one), no import cycles, the engine imports no observer, accounting path or view, and no
module is much over 400 lines. See README "Layout"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Folder of the repository -> package it installs as (pyproject.toml's package-dir).
PACKAGES = {"mcusim": "mcusim", "base": "mcusim.base", "isa": "mcusim.isa",
            "memory": "mcusim.memory", "traces": "mcusim.traces", "sim": "mcusim.sim",
            "nn": "mcusim.nn"}
# Layers, lowest first: a module may import its own layer and the ones below. The longest
# matching prefix decides a module's layer.
LAYERS = [
    ("mcusim.base",),  # errors, units, TOML loading
    ("mcusim.isa", "mcusim.traces"),  # decoding and cycle tables; profile data and formats
    ("mcusim.memory",),  # boards, SoCs, flash, footprint
    ("mcusim.sim.result",),  # the result object
    ("mcusim.sim.devices",),  # peripherals, semihosting, flash data path
    ("mcusim.sim.core",),  # the machine: engine, blocks, memory map, stops, firmware
    ("mcusim.sim.observe",),  # profiler, memory tracker
    ("mcusim.sim.accounting",),  # batched and native paths
    ("mcusim.sim", "mcusim"),  # composition (make_simulation) and the public names
    ("mcusim.nn",),  # the model path: uses the simulator's public API
    ("mcusim.sim.cli",),  # commands and reports: views of the result
]
MAX_LINES = 420  # "no module over about 400 lines"


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _ImportFinder(ast.NodeVisitor):
    def __init__(self, package: str, runtime_only: bool):
        self.package, self.runtime_only = package, runtime_only
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:  # noqa: N802 - the NodeVisitor convention
        if self.runtime_only and _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        self.found.update(a.name for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
        for a in node.names:
            name = f"{base}.{a.name}"
            self.found.add(name if name in MODULES else base)


def _imports(module: str, runtime_only: bool) -> set[str]:
    """The mcusim modules `module` imports (`from a import b` is a.b when that is a module,
    else a); with `runtime_only`, not those under `if TYPE_CHECKING:`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    finder = _ImportFinder(package, runtime_only)
    finder.visit(ast.parse(path.read_text(), str(path)))
    return {m for m in finder.found if m in MODULES and m != module}


def _layer(module: str) -> int:
    best, rank = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS"
    return rank


def test_every_module_is_in_a_layer():
    assert "mcusim.sim.core.engine" in MODULES and "mcusim.base.errors" in MODULES
    for module in MODULES:
        _layer(module)


def test_no_layer_imports_a_higher_one():
    wrong = [f"{m} (layer {_layer(m)}) imports {i} (layer {_layer(i)})"
             for m in MODULES for i in sorted(_imports(m, runtime_only=False))
             if _layer(i) > _layer(m)]
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_imports_the_model_path():
    wrong = [f"{m} imports {i}" for m in MODULES for i in _imports(m, runtime_only=False)
             if i.startswith("mcusim.nn") and m.startswith("mcusim.sim")
             and not m.startswith("mcusim.sim.cli")]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {m: _imports(m, runtime_only=True) for m in MODULES}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []

    def walk(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if n.startswith(m + "."):
                continue  # a package importing its own submodule is not a cycle
            if state.get(n) == 1:
                cycles.append(path[path.index(n):] + [n])
            elif n not in state:
                walk(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m, [m])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        for n in _imports(m, runtime_only=True):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


@pytest.mark.parametrize("view", ["mcusim.sim.cli", "mcusim.sim.observe",
                                  "mcusim.sim.accounting", "mcusim.traces.callgrind",
                                  "mcusim.traces.chrome", "mcusim.traces.collapsed",
                                  "mcusim.traces.view"])
def test_the_engine_imports_no_observer_accounting_path_or_view(view):
    reached = [m for m in _closure("mcusim.sim.core.engine")
               if m == view or m.startswith(view + ".")]
    assert not reached, reached


def test_no_module_is_much_over_400_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long
