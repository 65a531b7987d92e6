"""Benchmarks of sslbook (``make bench``): book execution, trainer throughput against a peer, exact calculators.

Prints a table per section and writes everything as JSON to ``_build/bench/bench.json``. Sections:

* ``book``    -- a clean fast-mode build of a copy of the book (wall time, per-chapter execution time from the
  Sphinx environment), then an unchanged rebuild that keeps the execution cache (``execute_notebooks: cache``
  in the copy; the real build uses ``force``) and a no-op incremental Sphinx rebuild.
* ``trainer`` -- steps per second of an InfoNCE step (MLP 64-512-128, batch 512): sslbook's ``fit`` with
  ``sslbook.losses.info_nce``, the same step as a bare loop, pytorch-metric-learning's ``NTXentLoss`` (the
  peer; installed in the bench environment only, see bench/requirements.txt) and a plain-PyTorch NT-Xent; and
  the time of the step's own matrix products alone (the GEMM limit).
* ``exact``   -- time of the exact population calculators against problem size, with a log-log slope.

Usage: ``python bench/bench.py [--sections book,trainer,exact] [--chapters book/a/x,book/b/y] [--threads N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pickle
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench"


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n== {title}", "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(out)


def _fmt(c) -> str:
    if isinstance(c, float):
        return f"{c:.4g}"
    return "-" if c is None else str(c)


def loglog_slope(xs, ys) -> float | None:
    import numpy as np

    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    ok = (xs > 0) & (ys > 0)
    if ok.sum() < 2:
        return None
    return float(np.polyfit(np.log(xs[ok]), np.log(ys[ok]), 1)[0])


def best_time(fn, *, repeat: int = 5, number: int = 1) -> float:
    """Minimum over ``repeat`` runs of the mean time of ``number`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


# ----------------------------------------------------------------------------------------------------
# 1. book execution
# ----------------------------------------------------------------------------------------------------


def _copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\n")
    for rel in files:
        if not rel or rel.startswith("_build/") or not (ROOT / rel).is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def _small_toc(chapters: list[str]) -> str:
    lines = ["format: jb-book", "root: book/intro", "parts:", "  - caption: Benchmark", "    numbered: true",
             "    chapters:"]
    lines += [f"      - file: {c.removesuffix('.md')}" for c in chapters]
    # the API pages and references: chapters cross-reference them (-W -n would fail without them)
    lines += ["  - caption: Reference", "    chapters:", "      - file: book/api/index", "        sections:",
              "          - glob: book/api/sslbook.*", "      - file: book/references"]
    return "\n".join(lines) + "\n"


def _exec_data(src: Path) -> dict[str, dict]:
    """Per-document execution data recorded by myst-nb in the pickled Sphinx environment."""
    env_file = src / "_build" / ".doctrees" / "environment.pickle"
    if not env_file.exists():
        return {}
    with open(env_file, "rb") as fh:
        env = pickle.load(fh)  # our own build's environment
    meta = getattr(env, "nb_metadata", {}) or {}
    return {doc: dict(d["exec_data"]) for doc, d in meta.items() if d.get("exec_data")}


def _build(src: Path, log: Path) -> tuple[float, int]:
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", "-W", "-n", "--keep-going", "."]
    env = {**os.environ, "SSLBOOK_FAST": os.environ.get("SSLBOOK_FAST", "1"), "SSLBOOK_PROGRESS": "0",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        rc = subprocess.run(cmd, cwd=src, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - t0, rc


def bench_book(chapters: list[str] | None, keep: bool) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    src = Path(tempfile.mkdtemp(prefix="sslbook-bench-book-"))
    try:
        _copy_repo(src)
        if chapters:
            (src / "_toc.yml").write_text(_small_toc(chapters))
        cfg = src / "_config.yml"
        text = cfg.read_text()
        # the copy uses the execution cache so that the rebuild can reuse it (an empty cache executes everything,
        # as `force` does); the real build keeps `force` because the cache hashes code cells only.
        text, n = re.subn(r"(?m)^(\s*execute_notebooks:\s*)\w+", r"\1cache", text)
        if n != 1:
            raise SystemExit("bench: could not find execute_notebooks in _config.yml")
        cfg.write_text(text)
        res: dict = {"chapters": chapters or "all (_toc.yml)", "fast": os.environ.get("SSLBOOK_FAST", "1")}
        wall, rc = _build(src, OUT / "book-clean.log")
        res["clean_build_s"], res["clean_build_rc"] = wall, rc
        res["per_document"] = _exec_data(src)
        # unchanged rebuild as `make book` would do it with the cache policy: site and doctrees removed,
        # the execution cache kept
        for d in ("html", "jupyter_execute", ".doctrees"):
            shutil.rmtree(src / "_build" / d, ignore_errors=True)
        wall, rc = _build(src, OUT / "book-cached.log")
        res["cached_rebuild_s"], res["cached_rebuild_rc"] = wall, rc
        cached = _exec_data(src)
        res["cached_rebuild_methods"] = sorted({d.get("method", "?") for d in cached.values()})
        # no-op incremental rebuild (nothing removed): what a second `jupyter-book build` costs under `force`
        wall, rc = _build(src, OUT / "book-incremental.log")
        res["incremental_rebuild_s"], res["incremental_rebuild_rc"] = wall, rc
        res["goals"] = {"clean_build_s": 15 * 60, "cached_rebuild_s": 60, "chapter_s": 45}
    finally:
        if keep:
            print(f"bench: book copy kept in {src}")
        else:
            shutil.rmtree(src, ignore_errors=True)
    rows = [[doc, d.get("runtime"), d.get("method"), "ok" if d.get("succeeded") else "FAILED"]
            for doc, d in sorted(res["per_document"].items())]
    print(table("book: per-chapter execution (clean build)", ["document", "seconds", "method", "status"], rows))
    print(table("book: builds", ["build", "seconds", "rc", "goal"], [
        ["clean fast-mode build", res["clean_build_s"], res["clean_build_rc"], "<= 900 s (whole book)"],
        ["unchanged rebuild, execution cache", res["cached_rebuild_s"], res["cached_rebuild_rc"], "<= 60 s"],
        ["no-op incremental rebuild", res["incremental_rebuild_s"], res["incremental_rebuild_rc"], "-"],
    ]))
    return res


# ----------------------------------------------------------------------------------------------------
# 2. trainer throughput
# ----------------------------------------------------------------------------------------------------


def _pml():
    """pytorch-metric-learning's NTXentLoss, from the bench environment (bench/requirements.txt)."""
    extra = OUT / "pydeps"
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
    try:
        from pytorch_metric_learning.losses import NTXentLoss
    except ImportError:
        return None, "pytorch-metric-learning is not installed (make bench installs it into _build/bench/pydeps)"
    import pytorch_metric_learning

    return NTXentLoss, pytorch_metric_learning.__version__


def plain_nt_xent(z1, z2, temperature: float):
    """NT-Xent as written in plain PyTorch (SimCLR-style reference: cosine logits, cross-entropy on 2B-1 others)."""
    import torch
    import torch.nn.functional as F

    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z.shape[0]
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.arange(n, device=z.device).roll(n // 2)
    return F.cross_entropy(sim, target)


def bench_trainer(steps: int, threads: int, batches=(128, 256, 512), d_in: int = 64, hidden: int = 512,
                  d: int = 128, temperature: float = 0.5, budget_s: float = 20.0, peer_mem_gb: float = 1.0) -> dict:
    """Throughput of the InfoNCE step at each batch size; the headline is batch 512 (or the largest the peer ran)."""
    import torch

    try:
        from sslbook.losses import info_nce
    except ImportError as exc:
        raise SystemExit(f"bench trainer: sslbook.losses.info_nce is missing ({exc}); it is the measured loss"
                         ) from None
    NTXentLoss, pml_version = _pml()
    torch.set_num_threads(threads)
    results: dict = {"mlp": f"{d_in}-{hidden}-{d}", "threads": threads, "steps": steps, "torch": torch.__version__,
                     "device": "cpu", "peer": f"pytorch-metric-learning {pml_version}" if NTXentLoss else pml_version,
                     "by_batch": {}}
    for batch in batches:
        results["by_batch"][batch] = _trainer_one(batch, steps, threads, d_in, hidden, d, temperature, budget_s,
                                                  NTXentLoss, pml_version, peer_mem_gb, info_nce)
    head = results["by_batch"][max(batches)]
    results["headline_batch"] = max(batches)
    results["ratio_vs_plain"] = head["ratio_vs_plain"]
    results["gemm_fraction_of_sslbook_step"] = head["gemm_fraction_of_sslbook_step"]
    peer_batches = [b for b in batches if results["by_batch"][b].get("ratio_vs_peer")]
    results["ratio_vs_peer"] = {b: results["by_batch"][b]["ratio_vs_peer"] for b in peer_batches}
    return results


def _trainer_one(batch, steps, threads, d_in, hidden, d, temperature, budget_s, NTXentLoss, pml_version,
                 peer_mem_gb, info_nce) -> dict:
    import torch

    from sslbook.models import MLPEncoder
    from sslbook.train import fit

    g = torch.Generator().manual_seed(0)
    pool = [(torch.randn(batch, d_in, generator=g), torch.randn(batch, d_in, generator=g)) for _ in range(4)]
    views = [(x, x + 0.1 * n) for x, n in pool]

    def make():
        torch.manual_seed(0)
        return MLPEncoder(d_in, hidden, d)

    def loop(loss_of_features, min_steps: int = 3) -> float:
        model = make()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def one(step):
            x1, x2 = views[step % len(views)]
            opt.zero_grad(set_to_none=True)
            z = model(torch.cat([x1, x2]))
            loss = loss_of_features(z[:batch], z[batch:])
            loss.backward()
            opt.step()

        one(0)  # warm-up
        t0 = time.perf_counter()
        done = 0
        while done < steps:  # stop early (after min_steps) when a variant is very slow
            one(done)
            done += 1
            if done >= min_steps and time.perf_counter() - t0 > budget_s:
                break
        return done / (time.perf_counter() - t0)

    def via_fit() -> float:
        model = make()

        def loss_fn(net, b):
            x1, x2 = b
            z = net(torch.cat([x1, x2]))
            return info_nce(z[:batch], z[batch:], temperature=temperature)

        fit(model, loss_fn, lambda s: views[s % len(views)], steps=1, progress=False, amp="off")  # warm-up
        h = fit(model, loss_fn, lambda s: views[s % len(views)], steps=steps, progress=False, amp="off")
        return steps / h.seconds

    out: dict = {"batch": batch}
    variants: dict[str, float | None] = {}
    variants["sslbook fit + info_nce"] = via_fit()
    variants["bare loop + sslbook info_nce"] = loop(lambda a, b: info_nce(a, b, temperature=temperature))
    peer_name = f"bare loop + pytorch-metric-learning {pml_version} NTXentLoss"
    n = 2 * batch
    peer_gb = n * n * (n - 2) * 5 / 1e9  # NTXentLoss builds an (n_pos x n_neg) mask: O((2B)^3) memory
    out["peer_memory_gb_estimate"] = peer_gb
    if NTXentLoss is None:
        out["peer_note"] = pml_version
    elif peer_gb > peer_mem_gb:
        out["peer_note"] = (f"skipped: NTXentLoss needs ~{peer_gb:.1f} GB at batch {batch} (its positive x negative "
                            f"mask is O((2B)^3)); raise --peer-mem-gb to run it")
    else:
        crit = NTXentLoss(temperature=temperature)
        lab = torch.arange(batch).repeat(2)
        variants[peer_name] = loop(lambda a, b: crit(torch.cat([a, b]), lab), min_steps=2)
    variants["bare loop + plain PyTorch NT-Xent"] = loop(lambda a, b: plain_nt_xent(a, b, temperature))

    # the three losses agree on the same input (same definition)
    z1, z2 = torch.randn(32, d, generator=g), torch.randn(32, d, generator=g)
    values = {"sslbook": float(info_nce(z1, z2, temperature=temperature)),
              "plain": float(plain_nt_xent(z1, z2, temperature))}
    if NTXentLoss is not None:
        values["pml"] = float(NTXentLoss(temperature=temperature)(torch.cat([z1, z2]), torch.arange(32).repeat(2)))
    out["loss_values_same_input_B32"] = values

    # GEMM limit: the step's own matrix products alone (forward, loss similarity, backward)
    shapes = [  # (m, k, n) for an (m, k) @ (k, n) product
        (n, d_in, hidden), (n, hidden, d),  # forward layers
        (n, d, n),  # similarity matrix
        (n, n, d), (n, n, d),  # its backward (two products)
        (d, n, hidden), (n, d, hidden),  # layer 2 backward: dW2, dH
        (hidden, n, d_in),  # layer 1 backward: dW1 (no input gradient)
    ]
    mats = [(torch.randn(m, k), torch.randn(k, c), torch.empty(m, c)) for m, k, c in shapes]

    def gemms():
        for a, b, o in mats:
            torch.mm(a, b, out=o)

    gemms()
    t_gemm = best_time(gemms, repeat=7, number=3)
    flops = sum(2 * m * k * c for m, k, c in shapes)
    out.update(gemm_seconds=t_gemm, gemm_gflops=flops / t_gemm / 1e9, gemm_flops_per_step=flops)
    ref = variants["sslbook fit + info_nce"]
    out["steps_per_second"] = variants
    out["ratio_vs_peer"] = ref / variants[peer_name] if variants.get(peer_name) else None
    out["ratio_vs_plain"] = ref / variants["bare loop + plain PyTorch NT-Xent"]
    out["gemm_fraction_of_sslbook_step"] = t_gemm * ref
    rows = [[name, sps, 1e3 / sps, t_gemm * sps, ref / sps] for name, sps in variants.items()]
    print(table(f"trainer: InfoNCE step, MLP {d_in}-{hidden}-{d}, batch {batch}, {threads} thread(s), cpu",
                ["variant", "steps/s", "ms/step", "GEMM fraction", "sslbook fit / variant"], rows), flush=True)
    print(f"GEMM limit: {t_gemm * 1e3:.2f} ms/step for {flops / 1e9:.2f} GFLOP ({out['gemm_gflops']:.1f} GFLOP/s)"
          + (f"; peer: {out['peer_note']}" if out.get("peer_note") else ""), flush=True)
    return out


# ----------------------------------------------------------------------------------------------------
# 3. exact calculators vs size
# ----------------------------------------------------------------------------------------------------


def _time_sizes(make, run, sizes, budget_s: float = 20.0) -> list[list]:
    rows, spent = [], 0.0
    for n in sizes:
        args = make(n)
        t = best_time(lambda args=args: run(*args), repeat=3)
        rows.append([n, t])
        spent += 3 * t
        if spent > budget_s:
            break
    return rows


def bench_exact(quick: bool) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    out: dict = {}
    cases = []

    def case(name, module, attr, complexity, sizes, make, run, size_name):
        try:
            mod = importlib.import_module(module)
            getattr(mod, attr)
        except (ImportError, AttributeError) as exc:
            out[name] = {"skipped": f"{module}.{attr} not available: {exc}"}
            return
        try:
            rows = _time_sizes(make, run, sizes[:3] if quick else sizes)
        except Exception as exc:  # an API still in flux: report, do not crash the bench
            out[name] = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
            return
        slope = loglog_slope([r[0] for r in rows[-3:]], [r[1] for r in rows[-3:]])  # the largest sizes
        out[name] = {"size": size_name, "complexity": complexity, "timings": rows, "loglog_slope": slope}
        cases.append((name, size_name, complexity, rows, slope))

    # CURL: C classes of n support points each in R^d; L_un enumerates (c, x, x+, x-): C * n^2 * (C n) margins,
    # and the pair losses C^2 * n^3: O(C^2 n^3 d)-ish time (the Gram matrix is (Cn)^2 d) and memory.
    C, d = 4, 8

    def make_curl(n):
        return ([rng.standard_normal((n, d)) for _ in range(C)], np.full(C, 1.0 / C))

    case("CURL exact losses (curl.exact_losses)", "sslbook.theory.curl", "exact_losses",
         "O(C^2 n^3): slope 3 in n (C=4 classes fixed)", [4, 8, 16, 24, 32, 48],
         make_curl, lambda f, r: importlib.import_module("sslbook.theory.curl").exact_losses(f, r), "n per class")

    # sampled counterpart: M tuples, k=1 negative
    def make_sample(m):
        return (rng.standard_normal((m, d)), rng.standard_normal((m, 1, d)), rng.standard_normal((m, 1, d)))

    case("CURL sampled losses (curl.sample_losses)", "sslbook.theory.curl", "sample_losses",
         "O(M k d): slope 1 in M", [10**3, 10**4, 10**5, 10**6], make_sample,
         lambda a, p, q: importlib.import_module("sslbook.theory.curl").sample_losses(a, p, q), "M tuples")

    # spectral closed form: eigendecomposition of an N x N matrix, O(N^3)
    def make_spec(n):
        W = rng.random((n, n))
        W = W + W.T
        deg = W.sum(axis=1)
        return (W / np.sqrt(np.outer(deg, deg)), 4)

    case("spectral closed form (spectral_closed_form)", "sslbook.theory.spectral", "spectral_closed_form",
         "O(N^3) (dense symmetric eigendecomposition): slope 3 in N", [64, 128, 256, 512, 1024],
         make_spec, lambda A, k: importlib.import_module("sslbook.theory.spectral").spectral_closed_form(A, k),
         "N vertices")

    # LM: per-context softmax optimum by damped Newton: per iteration O(S (V d + d^2 V + d^3))
    V, dd = 50, 8

    def make_lm(s):
        Phi = rng.standard_normal((dd, V))
        p = rng.dirichlet(np.ones(V), size=s)
        return (Phi, p)

    case("LM per-context optimum (softmax_optimal_theta)", "sslbook.theory.language_models",
         "softmax_optimal_theta", "O(S * iters * (V d^2 + d^3)): slope 1 in S (V=50, d=8)",
         [16, 64, 256, 1024, 4096], make_lm,
         lambda Phi, p: importlib.import_module("sslbook.theory.language_models").softmax_optimal_theta(Phi, p),
         "S contexts")

    case("Quad closed form (quad_closed_form)", "sslbook.theory.quad", "quad_closed_form",
         "O(d^2 V + S V d + d^3): slope 1 in S", [256, 1024, 4096, 16384], make_lm,
         lambda Phi, p: importlib.import_module("sslbook.theory.quad").quad_closed_form(Phi, p), "S contexts")

    rows = []
    for name, size_name, complexity, timings, slope in cases:
        for i, (n, t) in enumerate(timings):
            rows.append([name if i == 0 else "", f"{size_name}={n}", t * 1e3,
                         (f"{slope:.2f}" if slope is not None else "-") if i == 0 else "",
                         complexity if i == 0 else ""])
    print(table("exact calculators: time vs size", ["calculator", "size", "ms", "slope (3 largest)", "complexity"],
                rows))
    for name, v in out.items():
        if "skipped" in v:
            print(f"skipped: {name}: {v['skipped']}")
    return out


# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default="book,trainer,exact", help="comma-separated: book,trainer,exact")
    ap.add_argument("--chapters", default="", help="comma-separated chapter paths for a small toc (default: all)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    ap.add_argument("--steps", type=int, default=30, help="timed trainer steps per variant")
    ap.add_argument("--batches", default="128,256,512", help="trainer batch sizes (the last is the headline)")
    ap.add_argument("--peer-mem-gb", type=float, default=1.0, help="skip the peer where it needs more memory")
    ap.add_argument("--quick", action="store_true", help="exact section: three sizes only")
    ap.add_argument("--keep", action="store_true", help="keep the temporary book copy")
    ap.add_argument("--out", default=str(OUT / "bench.json"))
    args = ap.parse_args(argv)
    import torch

    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - {"book", "trainer", "exact"}
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}")
    threads = args.threads or torch.get_num_threads()
    report: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                                "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(), "threads": threads},
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if "book" in sections:
        chapters = [c.strip() for c in args.chapters.split(",") if c.strip()] or None
        report["book"] = bench_book(chapters, args.keep)
    if "trainer" in sections:
        batches = tuple(int(b) for b in args.batches.split(",") if b.strip())
        report["trainer"] = bench_trainer(args.steps, threads, batches=batches, peer_mem_gb=args.peer_mem_gb)
    if "exact" in sections:
        from threadpoolctl import threadpool_limits

        # BLAS/LAPACK threads as torch's: on a loaded 2-core machine, oversubscribed LAPACK threads made an
        # eigendecomposition 10x slower than one thread
        with threadpool_limits(limits=threads):
            report["exact"] = bench_exact(args.quick)
        report["exact"]["blas_threads"] = threads
    report["machine"]["loadavg_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nbench: wrote {out} (load average {report['machine']['loadavg_start']} -> "
          f"{report['machine']['loadavg_end']}: timings on a loaded machine are inflated)")
    failed = [k for k in ("clean_build_rc", "cached_rebuild_rc") if report.get("book", {}).get(k, 0) != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
