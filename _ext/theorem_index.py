"""The theorem index: a table of every stated result, generated while the book is built.

A page holds the directive ``{theorem-index}``; it leaves a placeholder node in the doctree. When the page is
written (all documents read and executed, every number assigned), a post-transform that runs *before*
Sphinx resolves cross-references replaces the placeholder by a table with one row per ``prf:`` theorem,
lemma, proposition or corollary of the book:

* the result, with its number as sphinx-proof assigns it (``env.toc_fignumbers``) and a link to it;
* its chapter (section number and title, linked);
* the verification cells: every code cell tagged ``verifies-<label>`` in the executed notebooks that myst-nb
  wrote to ``_build/jupyter_execute`` (any chapter may verify a result of another one);
* the false variants of the statement that its checks rejected in this build: the records that
  :class:`sslbook.testing.Verification` leaves in the cells' outputs (MIME type ``VERIFICATION_MIME``); a
  verified result that rejects none shows "none" (class ``thm-rejects-none``) unless its check says why
  (``no_variants=...``, class ``thm-rejects-why``);
* the status from this build: ``pass`` when every such cell was executed and has no error output, ``fail``
  otherwise; ``no verification`` when no cell is tagged; ``cited, not verified`` (with the citation, left
  as a ``{cite}`` reference for sphinxcontrib-bibtex to resolve) for a result of class ``cited``.

Events: ``doctree-read`` records which documents hold the directive (purged and merged for parallel reads);
``env-updated`` returns those documents so that every build, incremental ones included, rewrites them; the
post-transform (priority 5 < ReferencesResolver's 10) builds the table from sphinx-proof's ``env.proof_list``,
the unresolved doctrees of the chapters (``env.get_doctree``) and the executed notebooks.

Each row has the id ``thm-index-<label>`` and the class ``thm-status-<pass|fail|unverified|cited>``; the
tests read the built page through them.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

#: The sphinx-proof directive types the index lists (definitions, remarks ... are not results).
RESULT_TYPES = ("theorem", "lemma", "proposition", "corollary")
#: Row classes by status.
STATUS_CLASS = {"pass": "thm-status-pass", "fail": "thm-status-fail",
                "unverified": "thm-status-unverified", "cited": "thm-status-cited"}
STATUS_TEXT = {"pass": "\u2713 pass", "fail": "\u2717 fail", "unverified": "no verification",
               "cited": "cited, not verified"}
TAG_PREFIX = "verifies-"
#: The MIME type of the records sslbook.testing.Verification displays (kept equal to sslbook.testing's constant;
#: tests/test_theorem_index.py checks that).
VERIFICATION_MIME = "application/vnd.sslbook.verification+json"


class theorem_index_placeholder(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Replaced by the table when the page is written."""


def _skip(self, node):
    raise nodes.SkipNode


class TheoremIndexDirective(SphinxDirective):
    has_content = False

    def run(self):
        return [theorem_index_placeholder()]


# --------------------------------------------------------------------------- environment bookkeeping


def _doctree_read(app, doctree):
    env = app.env
    if not hasattr(env, "sslbook_theorem_index_docs"):
        env.sslbook_theorem_index_docs = set()
    if any(True for _ in doctree.findall(theorem_index_placeholder)):
        env.sslbook_theorem_index_docs.add(env.docname)
        # The table (with the results' titles, which hold math) is built after reading, so the math domain has
        # not seen it: declare the page as having equations, or Sphinx would not load MathJax there.
        env.get_domain("math").data["has_equations"][env.docname] = True


def _purge(app, env, docname):
    getattr(env, "sslbook_theorem_index_docs", set()).discard(docname)


def _merge(app, env, docnames, other):
    if not hasattr(env, "sslbook_theorem_index_docs"):
        env.sslbook_theorem_index_docs = set()
    env.sslbook_theorem_index_docs |= getattr(other, "sslbook_theorem_index_docs", set())


def _env_updated(app, env):
    # Rewrite the index page on every build: any chapter may have changed or been re-executed.
    return sorted(getattr(env, "sslbook_theorem_index_docs", set()))


# --------------------------------------------------------------------------- data gathering


def _doc_order(env) -> list[str]:
    """Documents in table-of-contents order (depth first from the root document)."""
    order, seen = [], set()

    def walk(doc):
        if doc in seen:
            return
        seen.add(doc)
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    order += sorted(d for d in env.all_docs if d not in seen)
    return order


def executed_notebook(env, docname: str) -> Path | None:
    """The notebook myst-nb executed and wrote for ``docname`` (``<build>/jupyter_execute/<docname>.ipynb``)."""
    folder = getattr(getattr(env, "mystnb_config", None), "output_folder", None)
    if not folder:
        return None
    path = Path(folder) / f"{docname}.ipynb"
    return path if path.exists() else None


def verification_records(cell: dict) -> list[dict]:
    """The :class:`sslbook.testing.Verification` records a code cell displayed (``{"label", "rejects", ...}``)."""
    out = []
    for o in cell.get("outputs", []):
        rec = o.get("data", {}).get(VERIFICATION_MIME) if isinstance(o.get("data"), dict) else None
        if isinstance(rec, str):
            try:
                rec = json.loads(rec)
            except ValueError:
                rec = None
        if isinstance(rec, dict) and isinstance(rec.get("label"), str):
            out.append(rec)
    return out


def verification_cells(nb: dict) -> dict[str, list[dict]]:
    """``label -> [{"cell": n, "executed": bool, "error": str | None, "rejects": [...], "no_variants": ...}]``.

    For the tagged code cells of a notebook. ``n`` counts code cells from 1. A cell passes when it was executed
    (``execution_count`` set) and none of its outputs is an error. ``rejects`` lists the names of the false
    variants the cell's records for that label rejected; ``no_variants`` the reasons given for rejecting none.
    """
    out: dict[str, list[dict]] = {}
    n = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        n += 1
        for tag in cell.get("metadata", {}).get("tags", []):
            if not tag.startswith(TAG_PREFIX):
                continue
            label = tag[len(TAG_PREFIX):]
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            records = [r for r in verification_records(cell) if r["label"] == label]
            out.setdefault(label, []).append({
                "cell": n,
                "executed": cell.get("execution_count") is not None,
                "error": f"{errors[0].get('ename', 'Error')}: {errors[0].get('evalue', '')}" if errors else None,
                "rejects": [str(v.get("name")) for r in records for v in r.get("rejects", []) if isinstance(v, dict)],
                "no_variants": [str(r["no_variants"]) for r in records if r.get("no_variants")],
            })
    return out


def _all_verifications(env, docs: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for doc in docs:
        path = executed_notebook(env, doc)
        if path is None:
            continue
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for label, cells in verification_cells(nb).items():
            for cell in cells:
                found.setdefault(label, []).append({**cell, "docname": doc})
    return found


def _find_result_node(doctree, label: str):
    for node in doctree.findall(nodes.Element):
        if label in node.get("ids", ()) and node.get("label") == label and node.get("realtype"):
            return node
    return None


# --------------------------------------------------------------------------- the table


def _bare_title(title: nodes.title) -> list[nodes.Node]:
    """Copies of the title's children without the " (" ... ")" that proof_title_format wraps around it."""
    children = [child.deepcopy() for child in title.children]
    first, last = children[0], children[-1]
    if isinstance(first, nodes.Text) and isinstance(last, nodes.Text):
        head, tail = str(first), str(last)
        if head.lstrip().startswith("(") and tail.rstrip().endswith(")"):
            if len(children) == 1:
                return [nodes.Text(head.strip()[1:-1])]
            children[0] = nodes.Text(head.lstrip()[1:])
            children[-1] = nodes.Text(tail.rstrip()[:-1])
    return children


def _para(*children) -> nodes.paragraph:
    return nodes.paragraph("", "", *children)


def _entry(*children) -> nodes.entry:
    return nodes.entry("", *children)


class TheoremIndexTransform(SphinxPostTransform):
    default_priority = 5  # before ReferencesResolver (10): the {cite} references we copy get resolved

    def run(self, **kwargs):
        placeholders = list(self.document.findall(theorem_index_placeholder))
        if not placeholders:
            return
        table = self._build()
        for ph in placeholders:
            ph.replace_self(table.deepcopy())

    def _chapter_label(self, doc: str) -> str:
        env = self.env
        number = env.toc_secnumbers.get(doc, {}).get("")
        title = env.titles[doc].astext() if doc in env.titles else doc
        return f"{'.'.join(map(str, number))}. {title}" if number else title

    def _build(self):
        env, builder, here = self.env, self.app.builder, self.env.docname
        proofs = getattr(env, "proof_list", {})
        order = {doc: i for i, doc in enumerate(_doc_order(env))}
        verif = _all_verifications(env, list(order))
        rows = []
        doctrees: dict[str, nodes.document] = {}
        for label, info in proofs.items():
            if info.get("realtype") not in RESULT_TYPES or info["docname"] not in env.all_docs:
                continue
            doc = info["docname"]
            if doc not in doctrees:
                doctrees[doc] = env.get_doctree(doc)
            node = _find_result_node(doctrees[doc], label)
            number = ""
            if not info.get("nonumber"):
                number = ".".join(map(str, env.toc_fignumbers.get(doc, {}).get(info["countertype"], {})
                                      .get(label, ())))
            rows.append((order.get(doc, len(order)), node.line if node is not None and node.line else 0,
                         label, info, number, node))
        rows.sort(key=lambda r: (r[0], r[1], r[2]))

        counts = dict.fromkeys(STATUS_CLASS, 0)
        tbody = nodes.tbody()
        for _, _, label, info, number, node in rows:
            doc = info["docname"]
            classes = node.get("classes", []) if node is not None else []
            cells = verif.get(label, [])
            if "cited" in classes:
                status = "cited"
            elif not cells:
                status = "unverified"
            elif all(c["executed"] and c["error"] is None for c in cells):
                status = "pass"
            else:
                status = "fail"
            counts[status] += 1

            # Result: linked "Theorem 2.1" + its title (math and all, copied from the chapter's doctree).
            kind = info["realtype"].title()
            link = make_refnode(builder, here, doc, label, nodes.Text(f"{kind} {number}".strip()))
            result = _para(nodes.strong("", "", link))
            title = None if node is None else next(iter(node.findall(nodes.title)), None)
            if title is not None and title.children:
                result += nodes.Text(" ")
                for child in _bare_title(title):
                    result += child
            result += nodes.Text(" ")
            result += nodes.literal("", label)

            chapter = _para(make_refnode(builder, here, doc, "", nodes.Text(self._chapter_label(doc))))

            where = nodes.bullet_list()
            for c in cells:
                number = self.env.toc_secnumbers.get(c["docname"], {}).get("")
                chapter_name = f"Chapter {'.'.join(map(str, number))}" if number else self._chapter_label(c["docname"])
                text = f"{chapter_name}, code cell {c['cell']}"
                if not c["executed"]:
                    text += " (not executed)"
                elif c["error"]:
                    text += f" ({c['error']})"
                item = _para(make_refnode(builder, here, c["docname"], "", nodes.Text(text)))
                where += nodes.list_item("", item)
            verification = _entry(where) if cells else _entry(_para(nodes.emphasis("", "none")))

            rejected = list(dict.fromkeys(v for c in cells for v in c.get("rejects", [])))
            reasons = list(dict.fromkeys(r for c in cells for r in c.get("no_variants", [])))
            if rejected:
                rej_list = nodes.bullet_list()
                for name in rejected:
                    rej_list += nodes.list_item("", _para(nodes.Text(name)))
                rejects = _entry(rej_list)
                rejects["classes"].append("thm-rejects")
            elif status == "cited":
                rejects = _entry(_para(nodes.Text("\u2014")))
            elif reasons:
                rejects = _entry(_para(nodes.emphasis("", "none: " + "; ".join(reasons))))
                rejects["classes"].append("thm-rejects-why")
            else:
                rejects = _entry(_para(nodes.strong("", "none")))
                rejects["classes"].append("thm-rejects-none")
            n_rejects = len(rejected)
            counts["rejects"] = counts.get("rejects", 0) + n_rejects

            status_par = _para(nodes.Text(STATUS_TEXT[status]))
            if status == "cited" and node is not None:
                cites = [x for x in node.findall(pending_xref) if x.get("refdomain") == "cite"]
                for x in cites:
                    status_par += nodes.Text(": " if x is cites[0] else "; ")
                    copy = x.deepcopy()
                    copy["refdoc"] = here
                    status_par += copy
                if not cites:
                    status_par += nodes.Text(" (no citation!)")

            row = nodes.row("", _entry(result), _entry(chapter), verification, rejects, _entry(status_par))
            row["ids"].append(f"thm-index-{label}")
            row["classes"] += ["thm-index-row", STATUS_CLASS[status]]
            tbody += row

        head = nodes.thead("", nodes.row("", *[_entry(_para(nodes.Text(h))) for h in
                                              ("Result", "Chapter", "Verification cells",
                                               "False variants rejected", "Status in this build")]))
        tgroup = nodes.tgroup(cols=5)
        for width in (34, 18, 16, 20, 12):
            tgroup += nodes.colspec(colwidth=width)
        tgroup += head
        tgroup += tbody
        # No "full-width" class: sphinx-book-theme's script then assumes a secondary sidebar (JS error without one).
        table = nodes.table("", tgroup, classes=["theorem-index"])

        summary = _para(nodes.Text(
            f"{len(rows)} results: {counts['pass']} verified and passing in this build, {counts['fail']} failing, "
            f"{counts['unverified']} without a verification, {counts['cited']} cited and not verified. "
            f"The checks rejected {counts.get('rejects', 0)} false variants of the statements."
        ))
        summary["classes"].append("theorem-index-summary")
        return nodes.container("", summary, table, classes=["theorem-index-container"])


def setup(app):
    app.add_node(theorem_index_placeholder, html=(_skip, None), latex=(_skip, None), text=(_skip, None),
                 man=(_skip, None), texinfo=(_skip, None))
    app.add_directive("theorem-index", TheoremIndexDirective)
    app.add_post_transform(TheoremIndexTransform)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-updated", _env_updated)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
