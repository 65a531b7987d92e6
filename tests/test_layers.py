"""The package's import graph: layers, no cycle, no private name across modules, no torch in theory (AST).

Every ``import``/``from ... import`` in ``sslbook/`` is read from the source (also those inside functions, which
are dependencies all the same; only ``if TYPE_CHECKING:`` blocks are skipped), and each module gets a floor:

======= ========================================================================== ===================
floor   modules                                                                    book layer
======= ========================================================================== ===================
0       ``_validation``, ``_shapes`` (any ``sslbook._x``), ``config``, ``device``, ground
        ``testing``
1       ``theory`` (pure numpy/scipy math)                                         1a
2       ``data`` (the generative models; may use ``theory``)                       1b
3       ``models``, ``losses``, ``augment``, ``checkpoint``                        2, learnable parts
4       ``train``, ``probes``, ``lm``                                              3, learning
5       ``explorers``, ``plotting``, ``session``, ``widgets``, the package root    4, reader-facing
======= ========================================================================== ===================

An import may only go to the same floor or below (``theory`` never imports ``data``; ``data`` may import
``theory``). The graph has no cycle, no module imports another module's private (``_x``) name, and ``theory``
never imports torch. ``bench/package_report.py`` prints the same graph and these violations.

See: ``/work/shared/reference/architecture.md`` ("Layers") and issue #16, item 2.
"""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass, field

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "sslbook"

#: Floor of each module, by the longest matching dotted prefix (see the module docstring).
FLOORS: dict[str, int] = {
    "sslbook._validation": 0, "sslbook._shapes": 0, "sslbook.config": 0, "sslbook.device": 0, "sslbook.testing": 0,
    "sslbook._version": 0, "sslbook.spread": 0,
    "sslbook.theory": 1,
    "sslbook.data": 2,
    "sslbook.models": 3, "sslbook.losses": 3, "sslbook.augment": 3, "sslbook.checkpoint": 3,
    "sslbook.train": 4, "sslbook.probes": 4, "sslbook.metrics": 4, "sslbook.lm": 4,
    "sslbook.explorers": 5, "sslbook.plotting": 5, "sslbook.session": 5, "sslbook.widgets": 5, "sslbook": 5,
}
FLOOR_NAMES = {0: "0", 1: "1a (theory)", 2: "1b (data)", 3: "2", 4: "3", 5: "4"}

#: Violations present when this test was written, each fixed by the helper named (issue #16, items 1-2). The
#: lead deletes an entry when the fix is merged (``test_expected_violations_still_occur`` skips, naming the stale
#: entries, and ``bench/package_report.py`` prints them); then deletes the list.
EXPECTED: dict[str, str] = {
}


@dataclass
class Module:
    name: str
    path: pathlib.Path
    imports: dict[str, set[str]] = field(default_factory=dict)  # target module -> names imported from it
    torch: bool = False


def module_name(path: pathlib.Path, root: pathlib.Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(tree: ast.AST):
    """``ast.walk`` without the bodies of ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def import_graph(root: pathlib.Path = ROOT) -> dict[str, Module]:
    """Every module of the package with the ``sslbook`` modules it imports (and the names it imports from each)."""
    paths = sorted(root.rglob("*.py"))
    modules = {module_name(p, root): Module(module_name(p, root), p) for p in paths}
    for mod in modules.values():
        package = mod.name if mod.path.name == "__init__.py" else mod.name.rpartition(".")[0]
        nodes = list(_walk(ast.parse(mod.path.read_text(), filename=str(mod.path))))
        aliases: dict[str, str] = {}  # local name -> sslbook module it is bound to
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    mod.torch |= alias.name.split(".")[0] == "torch"
                    if alias.name.split(".")[0] == "sslbook":
                        mod.imports.setdefault(alias.name, set())
                        if alias.asname:
                            aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                mod.torch |= source.split(".")[0] == "torch"
                if source.split(".")[0] != "sslbook":
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:  # ``from sslbook import theory``: the module sslbook.theory
                        mod.imports.setdefault(sub, set())
                        aliases[alias.asname or alias.name] = sub
                    else:
                        mod.imports.setdefault(source, set()).add(alias.name)
        for node in nodes:  # ``curl._check_rho`` through a module alias is a private import too
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                mod.imports.setdefault(aliases[node.value.id], set()).add(node.attr)
        mod.imports.pop(mod.name, None)
    return modules


def floor(name: str) -> int:
    """The floor of module ``name``: its longest dotted prefix in :data:`FLOORS` (the package root only for
    ``sslbook`` itself); any ``sslbook._x`` is floor 0."""
    if name == "sslbook":
        return FLOORS[name]
    parts = name.split(".")
    for i in range(len(parts), 1, -1):
        prefix = ".".join(parts[:i])
        if prefix in FLOORS:
            return FLOORS[prefix]
        if i == 2 and parts[1].startswith("_"):
            return 0
    raise KeyError(f"module {name} has no floor: add it to FLOORS in tests/test_layers.py")


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in modules[v].imports:
            if w not in modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(modules):
        if v not in index:
            visit(v)
    return sorted(out)


def violations(modules: dict[str, Module] | None = None) -> list[str]:
    """All violations of the layer rules, one line each (the keys of :data:`EXPECTED` use the same words)."""
    modules = import_graph() if modules is None else modules
    out = []
    for mod in modules.values():
        for target, names in sorted(mod.imports.items()):
            if target in modules and floor(target) > floor(mod.name):
                out.append(f"upward: {mod.name} -> {target} "
                           f"(floor {FLOOR_NAMES[floor(mod.name)]} imports {FLOOR_NAMES[floor(target)]})")
            out += [f"private: {mod.name} imports {target}.{n}" for n in sorted(names)
                    if n.startswith("_") and not n.startswith("__")]
        if mod.torch and floor(mod.name) == 1:
            out.append(f"torch: {mod.name} imports torch")
    out += [f"cycle: {', '.join(c)}" for c in cycles(modules)]
    return sorted(out)


# ----------------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------------


def test_every_module_has_a_floor():
    for name in import_graph():
        floor(name)


def test_no_new_layer_violations():
    new = [v for v in violations() if v not in EXPECTED]
    assert not new, "import-graph violations (see tests/test_layers.py docstring):\n" + "\n".join(new)


def test_expected_violations_still_occur():
    """An entry of EXPECTED whose violation is gone (fixed) is to be deleted from the list by the lead when merging:
    reported as a skip (not a failure, so that the helpers' branches that fix them stay green)."""
    stale = [v for v in EXPECTED if v not in violations()]
    if stale:
        pytest.skip("fixed: delete these entries from EXPECTED in tests/test_layers.py: " + "; ".join(stale))


def test_expected_violations_are_owned_by_helpers_fixing_them():
    assert set(EXPECTED.values()) <= {"theory", "train", "lead"}


# --- the checker itself must be able to fail -------------------------------------------------------


def _tree(tmp_path: pathlib.Path, files: dict[str, str]) -> dict[str, Module]:
    for rel, text in files.items():
        path = tmp_path / "sslbook" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(tmp_path / "sslbook")


def test_checker_finds_upward_private_torch_and_cycles(tmp_path):
    modules = _tree(tmp_path, {
        "__init__.py": "",
        "_validation.py": "",
        "theory/__init__.py": "from . import curl\n",
        "theory/curl.py": "def f():\n    from sslbook.data.language import Lang\n    import torch\n",
        "data/__init__.py": "",
        "data/language.py": "from sslbook.theory.curl import _check_rho, f\nfrom sslbook import _validation\n",
        "models.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sslbook.train import fit\n",
        "train.py": "from sslbook.models import *\n",
        "probes.py": "from sslbook import checkpoint\nimport sslbook.losses as L\n"
                     "checkpoint._check_path('x')\nL._norm(1)\nL.info_nce(2)\n",
        "checkpoint.py": "", "losses.py": "",
    })
    assert set(modules["sslbook.theory"].imports) == {"sslbook.theory.curl"}  # relative import resolved
    assert modules["sslbook.data.language"].imports["sslbook.theory.curl"] == {"_check_rho", "f"}
    assert "sslbook._validation" in modules["sslbook.data.language"].imports  # a module, not a name
    assert "sslbook.train" not in modules["sslbook.models"].imports  # TYPE_CHECKING skipped
    found = violations(modules)
    assert found == sorted([
        "upward: sslbook.theory.curl -> sslbook.data.language (floor 1a (theory) imports 1b (data))",
        "private: sslbook.data.language imports sslbook.theory.curl._check_rho",
        "torch: sslbook.theory.curl imports torch",
        "private: sslbook.probes imports sslbook.checkpoint._check_path",
        "private: sslbook.probes imports sslbook.losses._norm",
        "cycle: sslbook.data.language, sslbook.theory.curl",
    ])


def test_checker_accepts_a_clean_tree(tmp_path):
    modules = _tree(tmp_path, {
        "__init__.py": "from sslbook import plotting\n",
        "_validation.py": "import numpy\n",
        "theory/__init__.py": "from sslbook._validation import check_int\n",
        "data/__init__.py": "from sslbook.theory import x\nimport torch\n",  # torch is allowed outside theory
        "plotting.py": "from sslbook.data import y\n",
    })
    assert violations(modules) == []


def test_unknown_module_has_no_floor():
    with pytest.raises(KeyError, match="no floor"):
        floor("sslbook.newthing")
    assert floor("sslbook._checks") == 0 and floor("sslbook.train.loop") == 4 and floor("sslbook.data.prompts") == 2
