"""The whole book as one PDF, printed from the executed HTML build (issue #19); run by ``make pdf``.

Nothing is executed again: the chapter pages of ``<build>/html`` are read in ``_toc.yml`` order, their
articles are joined into one HTML file (``<build>/pdf/book.html``: ids prefixed by the page, links between
pages turned into links inside the file, image paths made relative to it), a title page (commit and mode)
and a table of contents are put in front, and Debian's Chromium prints it with the vendored MathJax and
no network (every request that is not ``file://`` is aborted). The PDF goes to ``<build>/pdf/sslbook.pdf``
and, with ``--site``, beside the site as ``<build>/html/sslbook.pdf`` (the introduction links it there).

This file is not a Sphinx extension; it sits in ``_ext`` (excluded from the book's sources) to be linted.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "sslbook.pdf"
MODE_RE = re.compile(r"\| mode: (fast|full) \|")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html { font-size: 10.5pt; }
body { background: #fff !important; }
.pdf-doc { break-before: page; }
.pdf-part { break-before: page; padding-top: 30vh; text-align: center; }
.pdf-part + .pdf-doc { break-before: page; }
.pdf-title { text-align: center; padding-top: 22vh; }
.pdf-title h1 { font-size: 2.2rem; }
.pdf-build { margin-top: 3rem; font-family: monospace; font-size: 0.95rem; }
.pdf-toc ol { list-style: none; padding-left: 0; }
.pdf-toc li.pdf-toc-part { font-weight: bold; margin-top: 0.8rem; }
.pdf-toc li { margin: 0.15rem 0; }
img { max-width: 100% !important; height: auto; break-inside: avoid; }
figure, .cell_output img, div.math, mjx-container[display="true"] { break-inside: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
/* Printed code and outputs wrap: nothing scrolls out of view on paper. */
pre, .highlight pre, .cell_output pre, div.output pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: break-word; overflow: visible !important;
}
.table-wrapper, .bd-article, .cell_output, .output { overflow: visible !important; }
mjx-container[display="true"] { overflow: visible !important; max-width: 100%; }
.headerlink, .toggle-button, button, .copybtn, .d-print-none, .sd-tab-set > input { display: none !important; }
"""


def toc_docs(root: Path = ROOT) -> list[tuple[str | None, str]]:
    """``(part caption, document name)`` for every page of ``_toc.yml`` in reading order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")) or {}
    out: list[tuple[str | None, str]] = []

    def name(path: str) -> str:
        return re.sub(r"\.(md|ipynb|rst)$", "", path)

    def walk(entries, part):
        for entry in entries or []:
            if isinstance(entry.get("file"), str):
                out.append((part, name(entry["file"])))
            if isinstance(entry.get("glob"), str):
                for path in sorted(root.glob(entry["glob"] + ".*")):
                    doc = path.relative_to(root).with_suffix("").as_posix()
                    if path.suffix in (".md", ".rst", ".ipynb") and (part, doc) not in out:
                        out.append((part, doc))
            walk(entry.get("sections"), part)

    if isinstance(toc.get("root"), str):
        out.append((None, name(toc["root"])))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"), part.get("caption"))
    walk(toc.get("chapters"), None)
    return out


def slug(doc: str) -> str:
    return "d-" + re.sub(r"[^A-Za-z0-9_-]", "-", doc)


def build_mode(pages: list[str]) -> str:
    """The mode printed by ``sslbook.setup()`` in the executed pages: fast, full, or mixed."""
    modes = {m for text in pages for m in MODE_RE.findall(text)}
    if len(modes) == 1:
        return modes.pop()
    if modes:
        return "mixed (" + ", ".join(sorted(modes)) + ")"
    return "full" if os.environ.get("SSLBOOK_FAST", "1").strip() in ("0", "false", "no") else "fast"


def commit_id(root: Path = ROOT) -> str:
    """The checked-out commit, with ``+modified`` when tracked files differ from it."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return sha + (" +modified" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GITHUB_SHA", "unknown")


def _rewrite(article, doc: str, docs: set[str], html_dir: Path, out_dir: Path, baseurl: str) -> None:
    prefix = slug(doc)
    here = posixpath.dirname(doc)
    for el in article.find_all(id=True):
        el["id"] = f"{prefix}--{el['id']}"
    for a in article.find_all("a", href=True):
        href = a["href"]
        parts = urlsplit(href)
        if parts.scheme or href.startswith("//"):
            continue
        if not parts.path:
            a["href"] = f"#{prefix}--{parts.fragment}" if parts.fragment else f"#{prefix}"
            continue
        target = posixpath.normpath(posixpath.join(here, parts.path))
        tdoc = target[: -len(".html")] if target.endswith(".html") else None
        if tdoc in docs:
            a["href"] = f"#{slug(tdoc)}--{parts.fragment}" if parts.fragment else f"#{slug(tdoc)}"
        else:  # a file of the site that is not in the PDF (a download, the PDF itself): the published copy
            a["href"] = baseurl + target + (f"#{parts.fragment}" if parts.fragment else "")
    for tag, attr in (("img", "src"), ("source", "src"), ("object", "data")):
        for el in article.find_all(tag, attrs={attr: True}):
            src = el[attr]
            if urlsplit(src).scheme or src.startswith("//"):
                continue
            target = html_dir / posixpath.normpath(posixpath.join(here, src))
            el[attr] = os.path.relpath(target, out_dir)
            if tag == "img":
                el["loading"] = "eager"
                el.attrs.pop("srcset", None)


def assemble(build: Path, out_dir: Path, root: Path = ROOT) -> dict:
    """Write ``out_dir/book.html``; return the manifest (titles in order, figures, commit, mode)."""
    from bs4 import BeautifulSoup

    html_dir = build / "html"
    entries = [(part, doc) for part, doc in toc_docs(root) if (html_dir / f"{doc}.html").exists()]
    missing = [doc for _, doc in toc_docs(root) if not (html_dir / f"{doc}.html").exists()]
    if not entries:
        raise SystemExit(f"no built pages in {html_dir}: run `make book` first")
    docs = {doc for _, doc in entries}
    texts = {doc: (html_dir / f"{doc}.html").read_text(encoding="utf-8") for _, doc in entries}
    first = BeautifulSoup(texts[entries[0][1]], "html.parser")
    baseurl = "https://sslbook.github.io/sslbook/"
    canon = first.find("link", rel="canonical")
    if canon is not None:
        baseurl = canon["href"][: -len(entries[0][1] + ".html")]
    title = (first.find("title").get_text() if first.find("title") else "").split(" — ")[-1].strip()
    if not title or title == entries[0][1]:
        title = "Understanding Self-Supervised Representation Learning"
    first_dir = posixpath.dirname(entries[0][1])

    def rel(src: str) -> str:
        return os.path.relpath(html_dir / posixpath.normpath(posixpath.join(first_dir, src.split("?")[0])), out_dir)

    head = ['<meta charset="utf-8">', f"<title>{title}</title>"]
    for link in first.find_all("link", rel="stylesheet"):
        head.append(f'<link rel="stylesheet" href="{rel(link["href"])}">')
    for script in first.find_all("script"):
        if script.string and "window.MathJax" in script.string:
            head.append(f"<script>{script.string}</script>")
        elif script.get("src") and "mathjax" in script["src"]:
            head.append(f'<script defer src="{rel(script["src"])}"></script>')
    head.append(f"<style>{PRINT_CSS}</style>")

    mode, commit = build_mode(list(texts.values())), commit_id(root)
    body, toc_items, chapters, figures = [], [], [], []
    last_part = None
    for part, doc in entries:
        soup = BeautifulSoup(texts[doc], "html.parser")
        article = soup.find("article", class_="bd-article")
        if article is None:
            continue
        for junk in article.select(".headerlink, script, .d-print-none, .toggle-button"):
            junk.decompose()
        h1 = article.find("h1")
        heading = " ".join(h1.get_text(" ").split()) if h1 else doc
        _rewrite(article, doc, docs, html_dir, out_dir, baseurl)
        if part and part != last_part:
            body.append(f'<div class="pdf-part" id="{slug(doc)}-part"><h1>{part}</h1></div>')
            toc_items.append(f'<li class="pdf-toc-part"><a href="#{slug(doc)}-part">{part}</a></li>')
        last_part = part
        toc_items.append(f'<li><a href="#{slug(doc)}">{heading}</a></li>')
        imgs = [img["src"] for img in article.find_all("img", src=True) if "_images/" in img["src"]]
        figures.extend(imgs)
        chapters.append({"doc": doc, "title": heading, "part": part, "figures": len(imgs)})
        body.append(f'<section class="pdf-doc" id="{slug(doc)}">{article.decode_contents()}</section>')

    built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    front = (
        f'<div class="pdf-title"><h1>{title}</h1><p>The sslbook authors</p>'
        f'<p>Online: <a href="{baseurl}">{baseurl}</a></p>'
        f'<p class="pdf-build">Built from commit {commit}<br>mode: {mode}<br>{built}</p></div>'
        f'<nav class="pdf-toc pdf-doc" id="pdf-contents"><h1>Contents</h1><ol>{"".join(toc_items)}</ol></nav>'
    )
    page = (
        f'<!DOCTYPE html><html lang="en"><head>{"".join(head)}</head>'
        f'<body><div class="bd-article">{front}{"".join(body)}</div></body></html>'
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "book.html").write_text(page, encoding="utf-8")
    return {"commit": commit, "mode": mode, "chapters": chapters, "figures": figures, "missing": missing}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("Chromium not found: install Debian's package (`apt-get install -y chromium`)")
    return found


def print_pdf(html_file: Path, pdf_file: Path) -> dict:
    """Print ``html_file`` with headless Chromium once MathJax has typeset; return what the page reported."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()

        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(html_file.resolve().as_uri(), wait_until="load", timeout=120_000)
        state = page.evaluate(
            """async () => {
              const MJ = window.MathJax;
              if (!(MJ && MJ.startup && MJ.startup.promise)) return {mathjax: false};
              await MJ.startup.promise;
              const imgs = [...document.images];
              await Promise.all(imgs.map((i) => i.complete ? null : new Promise((r) => {
                i.addEventListener('load', r); i.addEventListener('error', r); })));
              return {mathjax: true, formulas: document.querySelectorAll('mjx-container').length,
                      errors: document.querySelectorAll('mjx-merror').length,
                      broken_images: imgs.filter((i) => !i.naturalWidth && !i.src.endsWith('.svg')).map((i) => i.src)};
            }"""
        )
        page.pdf(
            path=str(pdf_file),
            format="A4",
            print_background=True,
            outline=True,
            tagged=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template='<div style="font-size:8pt;width:100%;text-align:center;">'
            '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
            margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
        )
        browser.close()
    state["blocked"] = blocked
    return state


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="_build", help="the build folder holding html/ (default: _build)")
    ap.add_argument("--site", action="store_true", help="also copy the PDF into <build>/html/")
    args = ap.parse_args(argv)
    build = Path(args.build).resolve()
    out_dir = build / "pdf"
    start = time.monotonic()
    manifest = assemble(build, out_dir)
    assembled = time.monotonic()
    pdf_file = out_dir / PDF_NAME
    state = print_pdf(out_dir / "book.html", pdf_file)
    manifest.update(
        state, seconds={"assemble": round(assembled - start, 1), "print": round(time.monotonic() - assembled, 1)}
    )
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    problems = []
    if not state.get("mathjax"):
        problems.append("MathJax did not load")
    if state.get("errors"):
        problems.append(f"{state['errors']} MathJax errors")
    if state.get("broken_images"):
        problems.append(f"images that did not load: {state['broken_images']}")
    if state.get("blocked"):
        problems.append(f"network requests (aborted): {sorted(set(state['blocked']))[:5]}")
    if problems:
        print("make pdf: " + "; ".join(problems), file=sys.stderr)
        return 1
    if args.site:
        shutil.copyfile(pdf_file, build / "html" / PDF_NAME)
    print(
        f"PDF: {pdf_file} ({len(manifest['chapters'])} pages of the book, {len(manifest['figures'])} figures, "
        f"commit {manifest['commit']}, mode {manifest['mode']}; assembled in {manifest['seconds']['assemble']} s, "
        f"printed in {manifest['seconds']['print']} s)"
    )
    if manifest["missing"]:
        print(f"warning: pages in _toc.yml without a built page: {manifest['missing']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
