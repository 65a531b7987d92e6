"""The book as one PDF (``make pdf``, run by ``make book``; issue #19), read back with pypdf.

What is expected comes from the executed HTML build and ``_toc.yml``, not from the PDF builder's manifest.
Locally these tests skip when there is no HTML build; when one exists, or when the environment variable
``CI`` is set, a missing PDF fails. ``SSLBOOK_PDF_BUILD`` names another build folder (default ``_build``).
"""

from __future__ import annotations

import functools
import html
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
from pdfbook import MODE_RE, PDF_NAME, slug, toc_docs  # noqa: E402

# Read at import: tests/conftest.py removes CI from the environment of every test.
UNDER_CI = bool(os.environ.get("CI"))
BUILD = Path(os.environ.get("SSLBOOK_PDF_BUILD") or ROOT / "_build")
SITE = BUILD / "html"
PDF = BUILD / "pdf" / PDF_NAME

# Page-count range, from the text volume of the built pages (TeX sources and code included, as the HTML
# holds them). An A4 page with these margins at 10.5 pt holds at most ~95 characters x ~60 lines ~ 5,700
# characters, so fewer than text/6000 pages means text is missing (a truncated print, a dropped chapter).
# A page is at least 1/8 full except where a page break is forced (a part, a chapter) or a figure or a
# display formula does not fit the rest of a page, so the count is at most breaks + figures + text/800
# (a duplicated book, blank pages between blocks).
MAX_CHARS_PER_PAGE = 6000
MIN_CHARS_PER_PAGE = 800

RAW_TEX = (r"\(", r"\)", r"\[", "$$")
MATHJAX_ERRORS = ("Math input error", "Undefined control sequence", "Missing close brace", "Missing argument")


def _norm(text: str) -> str:
    """Text without whitespace and ligatures: PDF text extraction breaks lines, spaces and "fi" differently."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _article(text: str) -> str:
    start = text.find('<article class="bd-article"')
    end = text.find("</article>", start)
    return text[start:end] if start != -1 else ""


def _plain(fragment: str) -> str:
    fragment = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", fragment, flags=re.S)
    fragment = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


@functools.cache
def _expected() -> dict:
    """Parts, pages (doc, title, figures) and text volume of the HTML build, in _toc.yml order."""
    pages, parts = [], []
    for part, doc in toc_docs(ROOT):
        path = SITE / f"{doc}.html"
        if not path.exists():
            continue
        text = _article(path.read_text(encoding="utf-8"))
        h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", text, flags=re.S)
        title = " ".join(_plain(h1.group(1)).split()) if h1 else doc
        figures = set(re.findall(r"<img\b[^>]*\bsrc=\"[^\"]*_images/([^\"]+)\"", text))
        pages.append({"doc": doc, "title": title, "figures": figures, "chars": len(_norm(_plain(text)))})
        if part and part not in parts:
            parts.append(part)
    return {"pages": pages, "parts": parts}


@pytest.fixture(scope="module")
def reader():
    if not PDF.exists():
        if not (SITE / "index.html").exists() and not UNDER_CI:
            pytest.skip(f"no HTML build at {SITE}: run `make book` (it builds the PDF too)")
        pytest.fail(f"no PDF at {PDF}: run `make pdf` (after `make book`)", pytrace=False)
    from pypdf import PdfReader

    return PdfReader(PDF)


@pytest.fixture(scope="module")
def texts(reader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


@pytest.fixture(scope="module")
def starts(reader) -> dict[str, int]:
    """First page (0-based) of every built page, from the PDF's named destinations."""
    dests = reader.named_destinations
    out = {}
    for page in _expected()["pages"]:
        dest = dests.get("/" + slug(page["doc"])) or dests.get(slug(page["doc"]))
        number = reader.get_destination_page_number(dest) if dest is not None else None
        if number is not None:  # None: a destination on a page the PDF lacks
            out[page["doc"]] = number
    return out


def test_page_count_in_range(reader):
    exp = _expected()
    chars = sum(p["chars"] for p in exp["pages"])
    figures = sum(len(p["figures"]) for p in exp["pages"])
    breaks = 1 + len(exp["parts"]) + len(exp["pages"])  # title page, part pages, every page of the site
    low = max(breaks, chars // MAX_CHARS_PER_PAGE)
    high = breaks + figures + chars // MIN_CHARS_PER_PAGE
    n = len(reader.pages)
    assert low <= n <= high, f"{n} pages, expected {low}..{high} for {chars} characters and {figures} figures"


def test_every_page_of_the_book_in_order(reader, texts, starts):
    pages = _expected()["pages"]
    missing = [p["doc"] for p in pages if p["doc"] not in starts]
    assert not missing, f"pages of _toc.yml missing from the PDF: {missing}"
    order = [starts[p["doc"]] for p in pages]
    assert order == sorted(order) and len(set(order)) == len(order), (
        "pages do not start on their own PDF pages in _toc.yml order: "
        + ", ".join(f"{p['doc']}@{starts[p['doc']] + 1}" for p in pages)
    )
    assert order[-1] < len(reader.pages)
    for page in pages:
        first = starts[page["doc"]]
        assert _norm(page["title"]) in _norm(texts[first] + texts[min(first + 1, len(texts) - 1)]), (
            f"title {page['title']!r} not on PDF page {first + 1}"
        )


def test_contents_lists_chapter_titles_in_order(texts, starts):
    pages = _expected()["pages"]
    front = _norm("".join(texts[: starts[pages[0]["doc"]]]))
    at = 0
    for page in pages:
        found = front.find(_norm(page["title"]), at)
        assert found != -1, f"{page['title']!r} missing from the contents (or out of order)"
        at = found + 1


def test_no_raw_tex_and_no_mathjax_errors(texts):
    bad = []
    for number, text in enumerate(texts, start=1):
        for needle in RAW_TEX + MATHJAX_ERRORS:
            if needle in text:
                at = text.index(needle)
                bad.append(f"page {number}: {needle!r} in {text[max(0, at - 40) : at + 40]!r}")
    assert not bad, "raw TeX or MathJax errors in the PDF:\n" + "\n".join(bad[:20])


def _images_on(page) -> list[tuple[int, int]]:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    out = []
    for ref in (xobjects.get_object() if xobjects is not None else {}).values():
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Image":
            out.append((int(obj.get("/Width", 0)), int(obj.get("/Height", 0))))
    return out


def test_every_figure_present(reader, starts):
    pages = [p for p in _expected()["pages"] if p["doc"] in starts]  # a missing page fails the order test
    bounds = [starts[p["doc"]] for p in pages] + [len(reader.pages)]
    bad = []
    for page, lo, hi in zip(pages, bounds, bounds[1:], strict=False):
        images = [im for number in range(lo, hi) for im in _images_on(reader.pages[number])]
        big = [im for im in images if min(im) >= 32]
        if len(big) < len(page["figures"]):
            bad.append(f"{page['doc']}: {len(page['figures'])} figures in the HTML, {len(big)} images in the PDF")
    assert not bad, "\n".join(bad)


def test_internal_links_resolve(reader, starts):
    dests = reader.named_destinations
    internal, broken, local_files = 0, [], []
    for number, page in enumerate(reader.pages, start=1):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            action = action.get_object() if action is not None else {}
            dest = annot.get("/Dest", action.get("/D"))
            if dest is not None:
                internal += 1
                name = str(dest) if isinstance(dest, str) else None
                if name is not None and name not in dests:
                    broken.append(f"page {number}: {name}")
                continue
            uri = str(action.get("/URI", ""))
            if uri and urlsplit(uri).scheme not in ("http", "https", "mailto"):
                local_files.append(f"page {number}: {uri}")
    assert not broken, "internal links without a destination:\n" + "\n".join(broken[:20])
    assert not local_files, "links to local files (dead in a downloaded PDF):\n" + "\n".join(local_files[:20])
    # The contents alone link every page of the book: fewer internal links means links were lost.
    assert internal >= len(starts), f"only {internal} internal links for {len(starts)} pages"


def test_first_page_names_commit_and_mode(texts):
    first = " ".join(texts[0].split())
    found = re.search(r"Built from commit ([0-9a-f]{40})( \+modified)? mode: (fast|full)\b", first)
    assert found, f"first page does not name commit and mode: {first!r}"
    built_modes = {
        m for p in _expected()["pages"] for m in MODE_RE.findall((SITE / f"{p['doc']}.html").read_text("utf-8"))
    }
    if built_modes:
        assert {found.group(3)} == built_modes, f"first page says {found.group(3)}, the pages ran {built_modes}"
    known = subprocess.run(
        ["git", "cat-file", "-e", found.group(1) + "^{commit}"], cwd=ROOT, capture_output=True
    ).returncode
    assert known == 0, f"commit {found.group(1)} is not in this repository"


def test_pdf_published_beside_the_site(reader):
    copy = SITE / PDF_NAME
    assert copy.exists(), f"{copy} missing: `make pdf` copies the PDF into the site (the introduction links it)"
    assert copy.read_bytes() == PDF.read_bytes(), f"{copy} differs from {PDF}"


def test_long_output_lines_wrap_on_the_site():
    css = ROOT / "_vendor" / "sslbook.css"
    rule = re.search(r"div\.cell_output pre[^{]*\{([^}]*)\}", css.read_text(encoding="utf-8"), flags=re.S)
    assert rule and "pre-wrap" in rule.group(1), f"{css}: no white-space: pre-wrap for output blocks"
    intro = SITE / "book" / "intro.html"
    if intro.exists():
        assert "sslbook.css" in intro.read_text(encoding="utf-8"), "built pages do not load sslbook.css"
