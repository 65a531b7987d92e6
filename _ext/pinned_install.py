"""Pin the chapters' install cell to the commit that built the page (issue #14, item 6).

Every chapter starts with a (removed-from-HTML) cell that installs the package when it is missing::

    "sslbook @ git+https://github.com/sslbook/sslbook@main"

At build time this extension replaces ``@main`` in that requirement by the commit being built, in the source
that myst-nb executes, hence in the executed notebook that the page offers for download
(``_build/html/_sources/<page>.ipynb``): a reader who downloads a chapter installs the package the page was
built and checked with, not the moving ``main``. The commit is ``GITHUB_SHA`` (set by GitHub Actions), else
``git rev-parse HEAD`` of the book's repository, else ``main`` is kept. It is also written to
``_build/html/sslbook-commit.txt`` (what ``tests/test_install_cell.py`` checks against).

The committed ``.md``/``.ipynb`` files keep ``@main``; so does the Colab button, which opens the committed
notebook of the branch: a notebook can't name its own commit, so the branch's notebook and the branch's
package are the consistent pair there.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

#: The requirement as the chapters write it; ``@main`` is replaced.
REQUIREMENT = "sslbook @ git+https://github.com/sslbook/sslbook@"
_PATTERN = re.compile(re.escape(REQUIREMENT) + r"main(?=[\"'])")
_SHA = re.compile(r"[0-9a-f]{40}")
COMMIT_FILE = "sslbook-commit.txt"


def build_commit(srcdir: str | os.PathLike | None = None) -> str:
    """The commit being built: ``GITHUB_SHA``, else ``git rev-parse HEAD`` in ``srcdir``, else ``"main"``."""
    sha = os.environ.get("GITHUB_SHA", "").strip().lower()
    if _SHA.fullmatch(sha):
        return sha
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=srcdir or ".", capture_output=True, text=True,
                             timeout=30, check=True).stdout.strip().lower()
    except (OSError, subprocess.SubprocessError):
        return "main"
    return out if _SHA.fullmatch(out) else "main"


def pin(text: str, commit: str) -> str:
    """``text`` with every install requirement ``...sslbook@main"`` pinned to ``commit``."""
    return _PATTERN.sub(REQUIREMENT + commit, text)


def _source_read(app, docname, source):
    source[0] = pin(source[0], app.config.sslbook_commit)


def _config_inited(app, config):
    if not config.sslbook_commit:
        config.sslbook_commit = build_commit(app.srcdir)


def _build_finished(app, exception):
    if exception is None and app.builder.format == "html":
        Path(app.outdir, COMMIT_FILE).write_text(app.config.sslbook_commit + "\n", encoding="utf-8")


def setup(app):
    app.add_config_value("sslbook_commit", "", "env")
    app.connect("config-inited", _config_inited)
    app.connect("source-read", _source_read)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
