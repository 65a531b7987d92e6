"""Run every chapter's verifications at several seeds and print a chapter x seed table (``make verify-seeds``).

Each (chapter, seed) pair is one nbval run of the chapter's notebook with ``SSLBOOK_SEED=seed`` (fast mode
unless ``SSLBOOK_FAST=0``), so every assertion of the chapter is checked at that seed. Pairs run in parallel
(``--jobs``, default 2, one torch thread per kernel). Exits non-zero when any pair fails; the log of each
failure is kept under ``_build/bench/verify-seeds/``.

Usage: ``python bench/verify_seeds.py [--seeds 0,1,...,9] [--jobs 2] [book/part/chapter.ipynb ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench"


def chapter_notebooks() -> list[Path]:
    """The chapter notebooks listed in _toc.yml (in book order), else every notebook under book/."""
    toc = ROOT / "_toc.yml"
    found: list[Path] = []
    if toc.exists():
        for line in toc.read_text().splitlines():
            line = line.strip()
            if line.startswith("- file:"):
                nb = ROOT / (line.split(":", 1)[1].strip() + ".ipynb")
                if nb.exists():
                    found.append(nb)
    if not found:
        found = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def run_one(nb: Path, seed: int, threads_per_kernel: int | None) -> dict:
    env = {**os.environ, "SSLBOOK_SEED": str(seed), "SSLBOOK_PROGRESS": "0",
           "SSLBOOK_FAST": os.environ.get("SSLBOOK_FAST", "1"), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if threads_per_kernel:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads_per_kernel)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env"]
    sanitize = ROOT / "tests" / "nbval_sanitize.cfg"
    if sanitize.exists():
        cmd += ["--nbval-sanitize-with", str(sanitize)]
    cmd.append(str(nb))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    ok = proc.returncode == 0
    log = None
    if not ok:
        logdir = OUT / "verify-seeds"
        logdir.mkdir(parents=True, exist_ok=True)
        log = logdir / f"{nb.stem}-seed{seed}.log"
        log.write_text(proc.stdout + "\n" + proc.stderr)
    return {"notebook": str(nb.relative_to(ROOT)), "seed": seed, "passed": ok, "seconds": round(seconds, 1),
            "log": str(log.relative_to(ROOT)) if log else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks (default: the chapters of _toc.yml)")
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--jobs", type=int, default=2, help="parallel nbval runs (default 2)")
    ap.add_argument("--json", default=str(OUT / "verify-seeds.json"))
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if not seeds or min(seeds) < 0:
        ap.error("--seeds must be a comma-separated list of non-negative integers")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    notebooks = [Path(nb).resolve() for nb in args.notebooks] if args.notebooks else chapter_notebooks()
    missing = [str(nb) for nb in notebooks if not nb.exists()]
    if missing:
        ap.error(f"no such notebooks: {missing}")
    if not notebooks:
        ap.error("no chapter notebooks found")
    pairs = [(nb, s) for nb in notebooks for s in seeds]
    threads = 1 if args.jobs > 1 else None
    print(f"verify-seeds: {len(notebooks)} chapter(s) x seeds {seeds}, {args.jobs} job(s), "
          f"fast={os.environ.get('SSLBOOK_FAST', '1')}", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda p: run_one(p[0], p[1], threads), pairs))
    by = {(r["notebook"], r["seed"]): r for r in results}
    names = [str(nb.relative_to(ROOT)) for nb in notebooks]
    width = max(len("chapter"), *(len(n) for n in names))
    print("\n" + "chapter".ljust(width) + "".join(f"  seed {s:<9}" for s in seeds))
    print("-" * width + "".join("  " + "-" * 14 for _ in seeds))
    for name in names:
        cells = []
        for s in seeds:
            r = by[(name, s)]
            cells.append(f"  {('pass' if r['passed'] else 'FAIL') + ' (' + format(r['seconds'], '.0f') + ' s)':<14}")
        print(name.ljust(width) + "".join(cells))
    failed = [r for r in results if not r["passed"]]
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seeds": seeds, "results": results}, indent=2))
    if failed:
        print(f"\nverify-seeds: {len(failed)} of {len(results)} runs FAILED; logs:")
        for r in failed:
            print(f"  {r['notebook']} seed {r['seed']}: {r['log']}")
        return 1
    print(f"\nverify-seeds: all {len(results)} runs passed ({out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
