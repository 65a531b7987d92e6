"""The chapters' install cell installs the commit that built the page (``_ext/pinned_install.py``, issue #14).

The unit tests of the substitution always run; the check of a built site runs when ``_build/html`` exists
(``make book``), is skipped with a message otherwise, and fails under ``CI=true`` when there is no build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*/*.md") if p.name != "_template.md")


def _ext():
    spec = importlib.util.spec_from_file_location("pinned_install", ROOT / "_ext" / "pinned_install.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SHA = "0123456789abcdef0123456789abcdef01234567"


def test_pin_replaces_only_the_install_requirement():
    ext = _ext()
    cell = '["pip", "install", "-q",\n "sslbook @ git+https://github.com/sslbook/sslbook@main"])'
    assert ext.pin(cell, SHA) == cell.replace("sslbook@main", f"sslbook@{SHA}")
    for other in ('"sslbook @ git+https://github.com/sslbook/sslbook@mainline"',  # another branch
                  '"other @ git+https://github.com/other/other@main"',  # another package
                  "https://github.com/sslbook/sslbook/blob/main/LICENSE"):
        assert ext.pin(other, SHA) == other
    assert ext.pin(cell, "main") == cell


def test_build_commit_prefers_github_sha_then_git_then_main(monkeypatch, tmp_path):
    ext = _ext()
    monkeypatch.setenv("GITHUB_SHA", SHA.upper())
    assert ext.build_commit(tmp_path) == SHA
    monkeypatch.setenv("GITHUB_SHA", "not-a-sha")
    assert ext.build_commit(tmp_path) == "main"  # tmp_path is no git repository
    monkeypatch.delenv("GITHUB_SHA")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:
        assert ext.build_commit(ROOT) == head.stdout.strip()


def test_every_chapter_has_the_install_requirement_the_build_pins():
    ext = _ext()
    with_cell = [p for p in CHAPTERS if "pip" in p.read_text(encoding="utf-8")
                 and "git+https://github.com/sslbook" in p.read_text(encoding="utf-8")]
    assert with_cell, "no chapter has an install cell"
    for path in with_cell:
        text = path.read_text(encoding="utf-8")
        assert ext.pin(text, SHA) != text, f"{path.relative_to(ROOT)}: the install requirement is not the pinned form"


def test_built_notebooks_install_the_commit_that_built_them():
    if not SITE.is_dir():
        msg = "no built site in _build/html: run `make book` to check the pinned install cell"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    stamp = SITE / _ext().COMMIT_FILE
    if not stamp.is_file():
        msg = f"{stamp.relative_to(ROOT)} is missing: the build predates _ext/pinned_install.py; rebuild the book"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    commit = stamp.read_text(encoding="utf-8").strip()
    notebooks = sorted((SITE / "_sources").rglob("*.ipynb"))
    assert notebooks, "the built site offers no notebook for download"
    checked = 0
    for nb in notebooks:
        source = "".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"])
        if "git+https://github.com/sslbook/sslbook@" not in source:
            continue
        checked += 1
        assert f"sslbook/sslbook@{commit}\"" in source, f"{nb.relative_to(SITE)} does not install {commit}"
        if commit != "main":
            assert "sslbook/sslbook@main\"" not in source, f"{nb.relative_to(SITE)} still installs @main"
    assert checked >= 1
