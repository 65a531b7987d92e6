"""The API reference of the built site documents every public function and class of sslbook.

Runs after `make book` (as in CI); locally it skips without a build, under CI a missing build fails.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from pathlib import Path

import pytest

import sslbook

ROOT = Path(__file__).resolve().parents[1]
API_HTML = ROOT / "_build" / "html" / "book" / "api"
#: Subpackages documented on one page through their __init__ (members re-exported in __all__).
FLAT_PACKAGES = ("sslbook.data", "sslbook.explorers", "sslbook.losses", "sslbook.theory.curl", "sslbook.train")
#: Packages with one page per module (``sslbook.theory.spectral`` on ``sslbook.theory.spectral.html``).
PAGE_PER_MODULE = ("sslbook.theory",)


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(sslbook.__path__, prefix="sslbook."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _documented_as(module: str) -> tuple[str, str]:
    """(page module, id prefix) under which the members of ``module`` appear."""
    for pkg in FLAT_PACKAGES:
        if module == pkg or module.startswith(pkg + "."):
            return pkg, pkg
    for pkg in PAGE_PER_MODULE:
        if module.startswith(pkg + "."):
            page = ".".join(module.split(".")[: pkg.count(".") + 2])
            return page, page
    return module, module


def _public_members(module: str) -> list[str]:
    mod = importlib.import_module(module)
    out = []
    for name, obj in vars(mod).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) == module:
            out.append(name)
    return out


def _require_build() -> None:
    if not (API_HTML / "index.html").exists():
        msg = "no built site: run `make book` first"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_member_is_documented(module: str):
    _require_build()
    page_module, prefix = _documented_as(module)
    page = API_HTML / f"{page_module}.html"
    assert page.exists(), f"no API page for {page_module}: add book/api/{page_module}.md and list it in _toc.yml"
    html = page.read_text()
    missing = [name for name in _public_members(module) if f'id="{prefix}.{name}"' not in html]
    if page_module in FLAT_PACKAGES and missing:
        pytest.fail(f"{module}: {missing} not documented; export them in {page_module}.__all__")
    assert not missing, f"{module}: {missing} missing from {page.name}"
