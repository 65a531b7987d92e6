"""A report on the shape of the package, for the closing note of a restructuring (issue #16).

Prints, for ``sslbook/``:

* the import graph (module, its floor, the ``sslbook`` modules it imports) and the layer violations, as
  ``tests/test_layers.py`` defines them (the same code: floors, cycles, upward and private imports);
* the longest modules (lines) and the longest functions and methods (lines, decorators and docstring included);
* the ``duplicates`` tool's pairs of repeated code over ``sslbook/`` (when that command is on the PATH).

Usage: ``.venv/bin/python bench/package_report.py [--rev REV] [--top N] [--no-duplicates]`` from the repository
root. ``--rev``: report on the package as committed at ``REV`` (e.g. the commit before a restructuring, for the
"before" column), extracted with ``git archive`` into a temporary folder; ``--top``: rows in the longest-module
and longest-function tables (default 10). It reads the source only and writes nothing in the repository.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import shutil
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_layers import EXPECTED, FLOOR_NAMES, ROOT, floor, import_graph, violations  # noqa: E402

#: The size limits of issue #16, item 6.
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def module_lengths(root: pathlib.Path = ROOT) -> list[tuple[int, str]]:
    """(lines, path) of every module, longest first."""
    rows = [(len(p.read_text().splitlines()), str(p.relative_to(root.parent))) for p in root.rglob("*.py")]
    return sorted(rows, reverse=True)


def function_lengths(root: pathlib.Path = ROOT) -> list[tuple[int, str]]:
    """(lines, path:line qualified name) of every function and method, longest first."""
    rows: list[tuple[int, str]] = []

    def visit(node: ast.AST, rel: pathlib.Path, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                    rows.append((child.end_lineno - start + 1, f"{rel}:{child.lineno} {name}"))
                visit(child, rel, f"{name}.")

    for path in root.rglob("*.py"):
        visit(ast.parse(path.read_text()), path.relative_to(root.parent), "")
    return sorted(rows, reverse=True)


def print_graph(root: pathlib.Path) -> None:
    modules = import_graph(root)
    print("## Import graph (module [floor] -> sslbook modules it imports)\n")
    for name in sorted(modules, key=lambda n: (floor(n), n)):
        targets = sorted(t for t in modules[name].imports if t in modules)
        torch = "  (+ torch)" if modules[name].torch else ""
        print(f"{name} [{FLOOR_NAMES[floor(name)]}] -> {', '.join(targets) or '-'}{torch}")
    found = violations(modules)
    print(f"\n## Layer violations: {len(found)} ({sum(v in EXPECTED for v in found)} listed as expected in "
          "tests/test_layers.py)\n")
    for v in found:
        owner = EXPECTED.get(v)
        print(f"{v}" + (f"  [expected; owner: {owner}]" if owner else "  [NEW]"))
    stale = [v for v in EXPECTED if v not in found]
    for v in stale:
        print(f"(fixed, delete from EXPECTED) {v}")


def print_sizes(root: pathlib.Path, top: int) -> None:
    mods = module_lengths(root)
    over = [r for r in mods if r[0] > MAX_MODULE_LINES]
    print(f"\n## Longest modules ({len(over)} over {MAX_MODULE_LINES} lines)\n")
    for n, path in mods[:top]:
        print(f"{n:6d}  {path}")
    funcs = function_lengths(root)
    over = [r for r in funcs if r[0] > MAX_FUNCTION_LINES]
    print(f"\n## Longest functions ({len(over)} over {MAX_FUNCTION_LINES} lines)\n")
    for n, where in funcs[:max(top, len(over))]:
        print(f"{n:6d}  {where}")


def print_duplicates(root: pathlib.Path, most: int = 40) -> None:
    print("\n## Duplicates (the `duplicates` tool over sslbook/)\n")
    tool = shutil.which("duplicates")
    if tool is None:
        print("the `duplicates` command is not on the PATH here: skipped")
        return
    out = subprocess.run([tool, "--repo", str(root), "--most", str(most), "--seconds", "60"],
                         capture_output=True, text=True, check=False)
    print((out.stdout + out.stderr).rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="rows of the longest-module/function tables")
    parser.add_argument("--no-duplicates", action="store_true", help="skip the duplicates tool")
    parser.add_argument("--rev", help="report on sslbook/ as committed at this git revision")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = ROOT
        if args.rev:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.rev, "sslbook"], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            root = pathlib.Path(tmp) / "sslbook"
        print(f"# Package report: sslbook/ at {args.rev or 'the working tree'}\n")
        print_graph(root)
        print_sizes(root, args.top)
        if not args.no_duplicates:
            print_duplicates(root)


if __name__ == "__main__":
    main()
