"""The import graph of sslbook: floors, no upward import, no cycle, no private name imported across modules.

The floors are those of the API reference (book/api/index.md); a module may import from its own floor and the
floors below. Read from the source with ``ast`` (nothing is imported), so a lazy import inside a function counts
too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "sslbook"

#: Floor of each top-level module or subpackage of sslbook (book/api/index.md).
FLOORS = {
    "_validation": 0, "config": 0, "device": 0, "testing": 0,
    "theory": 1,
    "data": 2,
    "models": 3, "losses": 3, "augment": 3,
    "train": 4, "checkpoint": 4, "probes": 4, "lm": 4,
    "explorers": 5, "plotting": 5, "session": 5,
}
#: Private names still imported across modules, each with the change that removes it.
KNOWN_PRIVATE = {
    ("sslbook.train", "sslbook.checkpoint._check_path"): "the train/ package split of issue 16 makes it public",
    ("sslbook.train", "sslbook.checkpoint._check_generators"): "the train/ package split of issue 16 makes it public",
}
#: Floor-0 modules whose names are private by convention but shared on purpose.
SHARED_PRIVATE_MODULES = ("sslbook._validation",)
#: Packages that must not import torch at all (pure numpy/scipy).
NO_TORCH = ("sslbook._validation", "sslbook.theory")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = ".".join(("sslbook", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
        out[name] = path
    return out


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every ``import``/``from ... import`` of sslbook or torch in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sslbook":
                out += [(f"sslbook.{a.name}", []) for a in node.names]
            elif node.module.split(".")[0] in ("sslbook", "torch"):
                out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.split(".")[0] in ("sslbook", "torch")]
    return out


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "sslbook" else None


MODULES = _modules()
EDGES = {name: _imports(path) for name, path in MODULES.items()}


def test_every_module_has_a_floor():
    missing = sorted({_top(m) for m in MODULES if _top(m) is not None} - set(FLOORS))
    assert not missing, f"give these modules a floor in FLOORS and in book/api/index.md: {missing}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) is not None))
def test_no_upward_import(module):
    floor = FLOORS[_top(module)]
    upward = [t for t, _ in EDGES[module] if _top(t) in FLOORS and FLOORS[_top(t)] > floor]
    assert not upward, f"{module} (floor {floor}) imports from a higher floor: {upward}"
    if module.startswith(NO_TORCH):
        assert not [t for t, _ in EDGES[module] if t.split(".")[0] == "torch"], f"{module} imports torch"


def test_no_cycle_between_top_level_modules():
    graph: dict[str, set[str]] = {}
    for module, targets in EDGES.items():
        a = _top(module)
        if a is None:  # the package __init__ imports every subpackage
            continue
        graph.setdefault(a, set()).update(b for t, _ in targets if (b := _top(t)) and b != a)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join(path + [nxt])}"
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_no_private_name_imported_across_modules():
    found = []
    for module, targets in EDGES.items():
        for target, names in targets:
            if target.split(".")[0] != "sslbook" or target == module:
                continue
            parts = target.split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])
                if part.startswith("_") and target not in SHARED_PRIVATE_MODULES and not module.startswith(owner + "."):
                    found.append((module, target))  # a private module of another package
            found += [(module, f"{target}.{n}") for n in names if n.startswith("_") and not n.startswith("__")]
    unexpected = sorted(set(found) - set(KNOWN_PRIVATE))
    assert not unexpected, f"private names imported across modules (make them public where shared): {unexpected}"
