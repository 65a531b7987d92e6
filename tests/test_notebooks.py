"""Structure of the chapters: md<->ipynb pairing, stripped outputs, the first cells, and verified results.

The notebooks themselves are executed by nbval (``make test``) and by the book build (``make book``).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def chapter_sources() -> list[Path]:
    """Every MyST notebook source under book/ (Markdown files with code cells), template excluded."""
    return sorted(
        p for p in BOOK.rglob("*.md")
        if "_build" not in p.parts and not p.name.startswith("_") and "```{code-cell}" in p.read_text()
    )


CHAPTERS = chapter_sources()
IDS = [str(p.relative_to(ROOT)) for p in CHAPTERS]


def _cells(nb) -> list[tuple[str, str, tuple[str, ...], str]]:
    out = []
    for cell in nb.cells:
        meta = dict(cell.get("metadata", {}))
        tags = tuple(sorted(meta.pop("tags", [])))
        mystnb = repr(meta.get("mystnb"))
        out.append((cell.cell_type, cell.source.strip(), tags, mystnb))
    return out


def test_there_are_chapters():
    assert CHAPTERS, "no chapter found under book/"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_front_matter_executes(md: Path):
    """A MyST notebook runs only with the full jupytext block and a kernelspec (book-conventions)."""
    head = md.read_text().split("---")[1]
    for key in ("jupytext:", "format_name: myst", "kernelspec:", "name: python3"):
        assert key in head, f"{md.name}: front matter lacks {key!r}"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_paired_notebook_in_sync(md: Path):
    """The committed .ipynb beside each chapter has exactly the cells of the .md (run `make sync`)."""
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.relative_to(ROOT)} is missing: run `make sync`"
    from_md = jupytext.read(md)
    committed = nbformat.read(ipynb, as_version=4)
    assert _cells(from_md) == _cells(committed), f"{ipynb.name} drifted from {md.name}: run `make sync`"
    assert committed.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_committed_notebook_has_no_outputs(md: Path):
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{md.with_suffix('.ipynb').name}: outputs must be stripped"
            assert cell.get("execution_count") is None


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_chapter_starts_with_install_and_setup(md: Path):
    """First code cell: hidden install-if-missing; then sslbook.setup() with no seed argument."""
    code = [c for c in jupytext.read(md).cells if c.cell_type == "code"]
    first = code[0]
    assert "remove-cell" in first.metadata.get("tags", []), "the install cell must be tagged remove-cell"
    assert "except ImportError" in first.source and "pip" in first.source, "install only when the import fails"
    assert "git+https://github.com/sslbook/sslbook" in first.source
    setup_calls = [c for c in code[:3] if "sslbook.setup(" in c.source]
    assert setup_calls, "one of the first cells must call sslbook.setup()"
    assert re.search(r"sslbook\.setup\(\s*\)", setup_calls[0].source), "chapters call setup() with no seed"


_DIRECTIVE = re.compile(
    r"```\{prf:(theorem|lemma|proposition|corollary)\}[^\n]*\n(?P<opts>(?::[^\n]*\n)*)(?P<body>.*?)```",
    re.S,
)


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_every_result_is_verified_or_cited(md: Path):
    """Each theorem/lemma/proposition has a verification cell tagged verifies-<label> with an assertion,
    unless it is marked `:class: cited` and cites its source."""
    text = md.read_text()
    nb = jupytext.read(md)
    results = list(_DIRECTIVE.finditer(text))
    for m in results:
        opts = m.group("opts")
        label = re.search(r":label:\s*(\S+)", opts)
        assert label, f"{md.name}: every prf result needs a :label:"
        label = label.group(1)
        if re.search(r":class:\s*cited", opts):
            assert "{cite}" in m.group("body") or "{cite" in m.group("body"), f"{label}: cited without a citation"
            continue
        cells = [c for c in nb.cells if f"verifies-{label}" in c.metadata.get("tags", [])]
        assert cells, f"{md.name}: {label} has no cell tagged verifies-{label}"
        asserts = r"\bassert\b|testing\.assert_|np\.testing\.assert|testing\.verify\("
        assert any(re.search(asserts, c.source) for c in cells), (
            f"{label}: its verification cell asserts nothing"
        )


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_figures_have_caption_and_name(md: Path):
    for cell in jupytext.read(md).cells:
        if cell.cell_type == "code" and re.search(r"plt\.(subplots|figure)\(", cell.source):
            fig = cell.metadata.get("mystnb", {}).get("figure", {})
            assert fig.get("caption") and fig.get("name"), f"{md.name}: a figure cell lacks caption or name"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for md in CHAPTERS:
        assert str(md.relative_to(ROOT).with_suffix("")) in toc, f"{md.name} is not in _toc.yml"
