"""Plant single wrong constants in the package, one at a time, and see which chapters notice (``make plant-errors``).

Issue #15 asks whether the book's own verification cells catch a broken formula. For each *mutation* (one
numeric constant of a formula changed: an integer ``c -> c + 1``, a float ``c -> 1.5 c``; or a curated edit from
``CURATED`` below, such as a bound's constant halved), this script copies the working tree's ``sslbook/`` into
a scratch folder, applies the one edit there, and executes the chapters whose source calls the edited function
(nbval, fast mode, ``PYTHONPATH`` pointing at the scratch copy). A mutation is **caught** when at least one of
those chapters fails. The working tree is never modified.

Sites are the numeric operands of arithmetic (``ast.BinOp``) inside public functions of ``sslbook/theory/``
(with its subpackages), ``sslbook/losses/``, ``sslbook/probes.py`` and ``sslbook/metrics.py`` that some chapter
calls, excluding 0, ±1 and argument-check helpers; ``--n`` of them are drawn with ``--seed`` (default: all curated
edits plus 30 drawn sites).

Usage: ``python bench/plant_errors.py [--n 30] [--seed 0] [--jobs 2] [--json _build/bench/plant-errors.json]``.
Not part of CI (it executes chapters dozens of times).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
OUT = ROOT / "_build" / "bench"

#: Hand-picked wrong statements (file, exact old text, new text, what it means). Each old text must occur once.
CURATED: list[tuple[str, str, str, str]] = [
    ("sslbook/theory/infonce_negatives.py", "np.log(m - 1) - 1.0 / (tau * (m - 1))",
     "np.log(m - 1) - 1.0 / (tau * m)", "regular-simplex limit with -1/m instead of -1/(m-1)"),
    ("sslbook/theory/vacuity.py", "return (1.0 - 2.0 * delta * m / (d - J)) ** 2,",
     "return (1.0 - 2.0 * delta * m / (d - J)),", "leaky-cube eigenvalues without the square"),
    ("sslbook/theory/spectral_practice.py", "radius = np.sqrt(mu)", "radius = mu",
     "official norm clipping at mu instead of sqrt(mu)"),
    ("sslbook/theory/spectral.py", "disagreement_bound=_ratio(4.0 * alpha, nu_next)",
     "disagreement_bound=_ratio(2.0 * alpha, nu_next)", "HaoChen disagreement bound 2a/nu instead of 4a/nu"),
    ("sslbook/theory/spectral.py", "error_bound=_ratio(4.0 * alpha, nu_next) + alpha",
     "error_bound=_ratio(4.0 * alpha, nu_next)", "HaoChen error bound without its + alpha"),
    ("sslbook/theory/natural_tasks.py", "return tau + np.sqrt(2.0 * B**2 * eps / gamma)",
     "return tau + np.sqrt(2.0 * B**2 * eps * gamma)", "sqrt(eps) bound with gamma multiplied, not divided"),
    ("sslbook/theory/quad.py", "return float(tau + np.linalg.norm(v) * np.sqrt(2.0 * eps / gamma))",
     "return float(tau + np.linalg.norm(v, np.inf) * np.sqrt(2.0 * eps / gamma))", "Quad bound with ||v||_inf"),
    ("sslbook/theory/downstream.py", "return sigma**2 * p / (n - p - 1)", "return sigma**2 * p / (n - p)",
     "OLS excess risk sigma^2 p/(n-p) instead of /(n-p-1)"),
    ("sslbook/theory/curl/guarantees.py", 'return 1.0 / math.sqrt(2.0) if loss == "hinge"',
     'return 1.0 if loss == "hinge"', "collision constant c' = 1 for the hinge loss"),
    ("sslbook/theory/curl/guarantees.py", "rademacher=2.0 * lip * B**2 * math.sqrt(m2 / M)",
     "rademacher=1.0 * lip * B**2 * math.sqrt(m2 / M)", "Rademacher term without its factor 2"),
    ("sslbook/theory/curl/guarantees.py", "math.sqrt(math.log(1.0 / delta) / (2.0 * M))",
     "math.sqrt(math.log(2.0 / delta) / (2.0 * M))", "log(2/delta) instead of log(1/delta)"),
    ("sslbook/theory/curl/guarantees.py", "s += w * math.sqrt(top) * float(p @ np.linalg.norm(F, axis=1))",
     "s += w * math.sqrt(np.trace(cov)) * float(p @ np.linalg.norm(F, axis=1))", "s(f) with the trace"),
    ("sslbook/theory/curl/negatives.py", "return float(total / (8.0 * math.log(2.0) * b))",
     "return float(total / (4.0 * math.log(2.0) * b))", "block-gap constant 4 ln 2 instead of 8 ln 2"),
    ("sslbook/losses/spectral.py", "off_sq = gram.pow(2).masked_fill(eye, 0.0).sum() / (b * (b - 1))",
     "off_sq = gram.pow(2).masked_fill(eye, 0.0).sum() / (b * b)", "batch spectral loss over B^2 (biased)"),
    ("sslbook/theory/inductive_biases.py", "gap2 = lam[k - 1] ** 2 - lam[k] ** 2", "gap2 = lam[k - 1] - lam[k]",
     "Davis-Kahan without squares"),
    ("sslbook/probes.py", "return LinearClassifier(W=W, b=-W @ m)", "return LinearClassifier(W=W, b=W @ m)",
     "centred mean classifier with the bias sign flipped"),
]


def chapters() -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in sorted((ROOT / "book").rglob("*.md"))
            if "_build" not in p.parts and not p.name.startswith("_") and p.with_suffix(".ipynb").exists()}


def function_sites(texts: dict[Path, str]) -> list[dict]:
    files = (sorted((ROOT / "sslbook" / "theory").rglob("*.py")) + sorted((ROOT / "sslbook" / "losses").rglob("*.py"))
             + [ROOT / "sslbook" / "probes.py", ROOT / "sslbook" / "metrics.py"])
    sites = []
    for f in files:
        src = f.read_text()
        tree = ast.parse(src)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_check") or fn.name.startswith("__"):
                continue
            users = [p for p, t in texts.items() if re.search(rf"\b{re.escape(fn.name)}\b", t)]
            if not users:
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.BinOp):
                    continue
                for c in (node.left, node.right):
                    if (isinstance(c, ast.Constant) and type(c.value) in (int, float) and abs(c.value) >= 0.1
                            and c.value not in (0, 1, -1) and c.end_lineno == c.lineno):
                        new = c.value * 1.5 if isinstance(c.value, float) else c.value + 1
                        sites.append({"file": str(f.relative_to(ROOT)), "function": fn.name, "line": c.lineno,
                                      "col": (c.col_offset, c.end_col_offset), "old": repr(c.value),
                                      "new": repr(new), "users": [str(u.relative_to(ROOT)) for u in users],
                                      "what": f"{c.value!r} -> {new!r}"})
    return sites


def curated_sites(texts: dict[Path, str]) -> list[dict]:
    out = []
    for rel, old, new, what in CURATED:
        src = (ROOT / rel).read_text()
        if src.count(old) != 1:
            raise SystemExit(f"plant-errors: curated edit not found exactly once in {rel}: {old!r} "
                             "(the package moved on: update CURATED)")
        line = src[: src.index(old)].count("\n") + 1
        fn = None
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef) and node.lineno <= line <= node.end_lineno:
                fn = node.name
        users = [p for p, t in texts.items() if fn and re.search(rf"\b{re.escape(fn)}\b", t)]
        out.append({"file": rel, "function": fn, "line": line, "old_text": old, "new_text": new,
                    "users": [str(u.relative_to(ROOT)) for u in users], "what": what})
    return out


def apply(site: dict, copy: Path) -> None:
    target = copy / site["file"]
    src = target.read_text()
    if "old_text" in site:
        target.write_text(src.replace(site["old_text"], site["new_text"], 1))
        return
    lines = src.splitlines(keepends=True)
    line = lines[site["line"] - 1]
    c0, c1 = site["col"]
    assert line[c0:c1] == site["old"], (site, line[c0:c1])
    lines[site["line"] - 1] = line[:c0] + site["new"] + line[c1:]
    target.write_text("".join(lines))


def run_site(site: dict, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="plant-") as d:
        copy = Path(d)
        shutil.copytree(ROOT / "sslbook", copy / "sslbook")
        apply(site, copy)
        env = dict(os.environ, PYTHONPATH=str(copy), SSLBOOK_FAST="1", SSLBOOK_PROGRESS="0", MPLBACKEND="Agg",
                   PYDEVD_DISABLE_FILE_VALIDATION="1")
        env.pop("CI", None)
        results = {}
        for md in site["users"]:
            nb = ROOT / Path(md).with_suffix(".ipynb")
            t0 = time.time()
            try:
                r = subprocess.run([str(PY), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--nbval-lax",
                                    "--nbval-current-env", str(nb)], cwd=d, env=env, capture_output=True,
                                   text=True, timeout=timeout)
                failed = r.returncode != 0
                why = ""
                if failed:
                    m = re.findall(r"(\w*(?:Error|Exception)[^\n]{0,160})", r.stdout)
                    why = m[-1] if m else r.stdout.strip().splitlines()[-1][:160]
                results[md] = {"red": failed, "why": why, "seconds": round(time.time() - t0, 1)}
            except subprocess.TimeoutExpired:
                results[md] = {"red": None, "why": "timeout", "seconds": timeout}
            if results[md]["red"]:
                break  # caught: no need to run the other chapters
    return {**{k: v for k, v in site.items() if k != "col"}, "chapters": results,
            "caught": any(r["red"] for r in results.values())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="drawn constant sites (besides the curated edits)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--no-curated", action="store_true")
    ap.add_argument("--json", default=str(OUT / "plant-errors.json"))
    args = ap.parse_args()
    texts = chapters()
    sites = [] if args.no_curated else curated_sites(texts)
    drawn = function_sites(texts)
    random.Random(args.seed).shuffle(drawn)
    sites += drawn[: args.n]
    print(f"plant-errors: {len(sites)} mutations ({len(sites) - min(args.n, len(drawn))} curated, "
          f"{min(args.n, len(drawn))} drawn of {len(drawn)} sites), {args.jobs} job(s)", flush=True)
    t0 = time.time()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda s: run_site(s, args.timeout), sites))
    caught = sum(r["caught"] for r in results)
    for r in results:
        mark = "RED  " if r["caught"] else "green"
        where = next((f"{c}: {v['why']}" for c, v in r["chapters"].items() if v["red"]), "")
        print(f"{mark} {r['file']}:{r['line']} {r['function']}() {r['what']}  {where[:140]}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"caught": caught, "total": len(results), "results": results}, indent=1))
    print(f"\nplant-errors: {caught} of {len(results)} planted errors turned a chapter red "
          f"({time.time() - t0:.0f} s; {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
