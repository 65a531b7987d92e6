"""The theorem index: every result is verified or cited (book-wide), and the built page lists them all.

* Source checks (always run): across the whole book, every ``prf:`` theorem/lemma/proposition/corollary has a
  verification cell tagged ``verifies-<label>`` in *some* chapter, or is of class ``cited`` with a citation
  (``tests/test_notebooks.py`` checks the same within each chapter: here a verification may live in another
  chapter); labels are unique; every ``verifies-`` tag names an existing result.
* Extension checks (always run): the helper that reads executed notebooks reports failed and unexecuted cells.
* Built page checks (after ``make book``): ``_build/html/book/theorem_index.html`` has one row per result of the
  chapters in ``_toc.yml``, with the status computed from the executed notebooks in ``_build/jupyter_execute``.
  Locally they skip without a build; under ``CI`` a missing build fails (as in tests/test_api_docs.py).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
from pathlib import Path

import jupytext
import pytest
from test_notebooks import _DIRECTIVE, CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
PAGE = BUILD / "html" / "book" / "theorem_index.html"
EXECUTED = BUILD / "jupyter_execute"
UNDER_CI = bool(os.environ.get("CI"))  # read at import: conftest removes CI from each test's environment


def _load_extension():
    spec = importlib.util.spec_from_file_location("theorem_index", ROOT / "_ext" / "theorem_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_results() -> dict[str, dict]:
    """label -> {"chapter": path relative to the repo, "cited": bool, "cites": bool} for the whole book."""
    out: dict[str, dict] = {}
    for md in CHAPTERS:
        for m in _DIRECTIVE.finditer(md.read_text()):
            label = re.search(r":label:\s*(\S+)", m.group("opts"))
            assert label, f"{md.name}: every prf result needs a :label:"
            label = label.group(1)
            assert label not in out, f"duplicate result label {label} ({out.get(label, {}).get('chapter')}, {md})"
            out[label] = {
                "chapter": md.relative_to(ROOT).with_suffix("").as_posix(),
                "cited": bool(re.search(r":class:\s*cited", m.group("opts"))),
                "cites": "{cite" in m.group("body"),
            }
    return out


def verification_tags() -> dict[str, list[str]]:
    """label -> chapters holding a code cell tagged verifies-<label>."""
    out: dict[str, list[str]] = {}
    for md in CHAPTERS:
        for cell in jupytext.read(md).cells:
            if cell.cell_type != "code":
                continue
            for tag in cell.metadata.get("tags", []):
                if tag.startswith("verifies-"):
                    out.setdefault(tag[len("verifies-"):], []).append(md.name)
    return out


def all_prf_labels() -> set[str]:
    """Labels of every prf directive (definitions included): a verification may also check a definition."""
    labels: set[str] = set()
    for md in CHAPTERS:
        for m in re.finditer(r"```\{prf:\w+\}[^\n]*\n(?::[^\n]*\n)*", md.read_text()):
            found = re.search(r":label:\s*(\S+)", m.group(0))
            if found:
                labels.add(found.group(1))
    return labels


RESULTS = book_results()
TAGS = verification_tags()
LABELS = all_prf_labels()


# --------------------------------------------------------------------------- sources


def test_the_book_states_results():
    assert RESULTS, "no prf theorem/lemma/proposition found under book/"


@pytest.mark.parametrize("label", sorted(RESULTS))
def test_every_result_is_verified_or_cited(label):
    info = RESULTS[label]
    if info["cited"]:
        assert info["cites"], f"{label} has :class: cited but no {{cite}} in its statement"
        return
    assert label in TAGS, (
        f"{label} ({info['chapter']}) has no verification cell tagged verifies-{label} in any chapter "
        "and is not marked :class: cited"
    )


def test_every_verification_tag_names_a_prf_label():
    unknown = {label: chapters for label, chapters in TAGS.items() if label not in LABELS}
    assert not unknown, f"verifies- tags naming no prf directive of the book (a typo?): {unknown}"


# --------------------------------------------------------------------------- the extension's notebook reader


def test_extension_reports_failed_and_unexecuted_cells():
    ext = _load_extension()
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {"tags": ["verifies-x"]}, "source": ""},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["verifies-a"]}, "execution_count": 2, "outputs": []},
        {"cell_type": "code", "metadata": {"tags": ["verifies-b", "hide-input"]}, "execution_count": 3,
         "outputs": [{"output_type": "error", "ename": "AssertionError", "evalue": "bound violated"}]},
        {"cell_type": "code", "metadata": {"tags": ["verifies-c"]}, "execution_count": None, "outputs": []},
    ]}
    found = ext.verification_cells(nb)
    assert set(found) == {"a", "b", "c"}  # markdown cells are not verifications
    none = {"rejects": [], "no_variants": []}
    assert found["a"] == [{"cell": 2, "executed": True, "error": None, **none}]
    assert found["b"] == [{"cell": 3, "executed": True, "error": "AssertionError: bound violated", **none}]
    assert found["c"] == [{"cell": 4, "executed": False, "error": None, **none}]


def test_extension_reads_the_verification_records():
    """The records sslbook.testing.Verification displays give the "rejects" column, per label of the cell."""
    from sslbook import testing

    ext = _load_extension()
    assert ext.VERIFICATION_MIME == testing.VERIFICATION_MIME
    v = testing.Verification("a", quiet=True)
    v.pin("x", 1.0, 1.0)
    v.rejects_value("x + 1", 2.0, 1.0)
    w = testing.Verification("b", no_variants="an existence claim", quiet=True)
    w.check("exists", True)
    out = [{"output_type": "display_data", "data": {"text/plain": "...", ext.VERIFICATION_MIME: v.done()}},
           {"output_type": "display_data", "data": {"text/plain": "...", ext.VERIFICATION_MIME: w.done()}},
           {"output_type": "stream", "name": "stdout", "text": "hello"}]
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["verifies-a", "verifies-b", "verifies-c"]},
                     "execution_count": 1, "outputs": out}]}
    found = ext.verification_cells(nb)
    assert found["a"][0]["rejects"] == ["x + 1"] and found["a"][0]["no_variants"] == []
    assert found["b"][0]["rejects"] == [] and found["b"][0]["no_variants"] == ["an existence claim"]
    assert found["c"][0]["rejects"] == [] and found["c"][0]["no_variants"] == []


# --------------------------------------------------------------------------- the built page


def _toc_docs() -> set[str]:
    import yaml

    docs: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    docs.add(re.sub(r"\.(md|ipynb)$", "", node[key]))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    return docs


def _rows() -> dict[str, dict]:
    if not PAGE.exists():
        msg = "no built theorem index: run `make book` first"
        if UNDER_CI:
            pytest.fail(msg + " (CI is set, so this fails instead of skipping)")
        pytest.skip(msg)
    text = PAGE.read_text(encoding="utf-8")
    rows = {}
    for m in re.finditer(r'<tr class="([^"]*)" id="thm-index-([^"]+)">(.*?)</tr>', text, re.S):
        status = re.search(r"thm-status-(\w+)", m.group(1))
        rows[html.unescape(m.group(2))] = {"status": status.group(1) if status else None, "html": m.group(3)}
    return rows


def _expected_status(label: str) -> str:
    """pass/fail from the executed notebooks, computed independently of the extension."""
    if RESULTS[label]["cited"]:
        return "cited"
    cells = []
    for path in EXECUTED.rglob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code" and f"verifies-{label}" in cell.get("metadata", {}).get("tags", []):
                cells.append(cell)
    if not cells:
        return "unverified"
    ok = all(c.get("execution_count") is not None and
             not any(o.get("output_type") == "error" for o in c.get("outputs", [])) for c in cells)
    return "pass" if ok else "fail"


def test_built_index_lists_every_result_of_the_book():
    rows = _rows()
    toc = _toc_docs()
    expected = {label for label, info in RESULTS.items() if info["chapter"] in toc}
    assert rows, "the theorem index page has no result rows"
    assert set(rows) == expected, (
        f"missing from the index: {sorted(expected - set(rows))}; unexpected: {sorted(set(rows) - expected)}"
    )


def test_built_index_status_matches_the_executed_notebooks():
    rows = _rows()
    wrong = {label: (row["status"], _expected_status(label)) for label, row in rows.items()
             if label in RESULTS and row["status"] != _expected_status(label)}
    assert not wrong, f"index status differs from the executed notebooks (shown, expected): {wrong}"


def test_built_index_shows_only_passing_or_cited_results():
    rows = _rows()
    bad = {label: row["status"] for label, row in rows.items() if row["status"] not in ("pass", "cited")}
    assert not bad, f"results failing or without verification in this build: {bad}"
    for label, row in rows.items():
        assert f"#{label}" in row["html"], f"{label}: the index row does not link to the result"
        if row["status"] == "cited":
            assert "cited, not verified" in row["html"]
            assert re.search(r'href="[^"]*references[^"]*"', row["html"]), f"{label}: cited without a citation link"


def test_built_index_every_verified_result_rejects_a_false_variant_or_says_why():
    """Issue #15: a verified result whose checks reject no false variant fails, unless its check states why."""
    rows = _rows()
    bare = sorted(label for label, row in rows.items()
                  if row["status"] == "pass" and "thm-rejects-none" in row["html"])
    assert not bare, f"verified results whose checks reject no false variant and do not say why: {bare}"
    for label, row in rows.items():
        if row["status"] == "pass":
            assert "thm-rejects" in row["html"], f"{label}: no rejects cell in the index row"
