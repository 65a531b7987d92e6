"""Fast and full mode, and every problem size of the book in one place.

One switch, the environment variable ``SSLBOOK_FAST``, picks the mode:

* ``SSLBOOK_FAST=1`` (also ``true``, ``yes``, ``on``): fast mode, small sizes. The Makefile sets it unless
  it is called with ``FULL=1``; a chapter then runs in at most 45 s on 2 CPU cores.
* ``SSLBOOK_FAST=0`` (also ``false``, ``no``, ``off``): full mode, the large run meant for a GPU.
* unset: fast when the variable ``CI`` is set; otherwise full when CUDA is available, fast on a CPU
  (a Colab reader on a CPU runtime gets fast mode, on a GPU runtime full mode).

Chapters never hard-code a size: they call :func:`size` with a name registered in :data:`SIZES`.
See: Introduction, "Running the book".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Size:
    """A problem size in fast and in full mode, with what it counts."""

    fast: int | float
    full: int | float
    doc: str

    def __post_init__(self):
        for name in ("fast", "full"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
            if not value > 0 or value == float("inf"):
                raise ValueError(f"{name} must be positive and finite, got {value}")
        if not isinstance(self.doc, str):
            raise TypeError(f"doc must be a str, got {type(self.doc).__name__}")


#: Every size used by the book, keyed ``"<chapter>.<what>"`` (``"ch01.ols_trials"``, ``"selfpred.trials"``).
SIZES: dict[str, Size] = {
    # Chapter 1 -- the downstream protocol
    "ch01.ols_trials": Size(1000, 20000, "Monte Carlo trials per (p, n) for the OLS excess risk"),
    "ch01.rate_trials": Size(400, 5000, "Monte Carlo trials per n for the log-log rate"),
    "ch01.small_np_trials": Size(8000, 40000, "OLS trials at p=10, n=16 (separates p/(n-p-1) from p/(n-p))"),
    "ch01.mean_trials": Size(2000, 20000, "Monte Carlo draws of a class-mean estimate"),
    "ch01.digits_repeats": Size(5, 30, "random labelled subsets per number of labels (digits probes)"),
    "ch01.probe_iters": Size(100, 500, "L-BFGS iterations of the logistic probe"),
    # Chapter 2 -- toolbox (add entries below this line)
    "ch02.jensen_instances": Size(2000, 20000, "random finite distributions per loss for the exact Jensen check"),
    "ch02.rademacher_draws": Size(200, 1000, "Monte Carlo sign draws per sample size M (Rademacher complexity)"),
    "ch02.rademacher_max_M": Size(4096, 16384, "largest sample size M of the Rademacher rate experiment"),
    "ch02.pinsker_pairs": Size(2000, 20000, "random pairs of distributions for the exact Pinsker check"),
    # Chapter 3 -- the CURL framework (add entries below this line)
    "ch03.random_instances": Size(150, 2000, "random finite latent-class instances (exact surrogate-lemma check)"),
    "ch03.mc_tuples": Size(20000, 400000, "sampled tuples comparing the empirical with the exact contrastive loss"),
    # Chapter 4 -- from training loss to downstream guarantee (add entries below this line)
    "ch04.collision_instances": Size(100, 1000, "random finite instances per loss for the collision-cost check"),
    "ch04.gen_replicas": Size(4, 24, "independent training sets per sample size M (linear encoder)"),
    "ch04.gen_sizes": Size(5, 7, "number of sample sizes M = 50, 100, 200, ... (linear encoder)"),
    "ch04.gen_steps": Size(100, 300, "full-batch Adam steps per linear encoder"),
    "ch04.digits_steps": Size(250, 3000, "contrastive training steps of the digits MLP (batch 256)"),
    "ch04.digits_repeats": Size(5, 30, "random 5-label sets per class for the mu-5 column"),
    "ch04.table_restarts": Size(6, 10, "restarts of the digits Table-1 analogue (new split, initialisation, batches)"),
    "ch04.heldout_per_class": Size(20, 40, "held-out digits per class in the exact surrogate-lemma check"),
    "ch04.probe_iters": Size(100, 500, "L-BFGS iterations of the logistic probe (TR column)"),
    # Chapter 5 -- negatives and blocks (add entries below this line)
    "ch05.mc_tuples": Size(20000, 400000, "sampled tuples per Monte Carlo check (collisions, k negatives, blocks)"),
    "ch05.random_instances": Size(20, 300, "random finite instances for the exact k-negative bound"),
    "ch05.sweep_steps": Size(200, 3000, "training steps per k in the negatives sweep"),
    "ch05.sweep_restarts": Size(5, 10, "training restarts per k in the negatives sweep (new initialisation, batches)"),
    # Self-prediction: predicting what you already know (keys "selfpred.*"; add entries below this line)
    "selfpred.posterior_points": Size(2000, 20000, "sampled x1 points for the exact CI => linear check"),
    "selfpred.aci_instances": Size(50, 500, "random linear-Gaussian instances for the approximate-CI bound"),
    "selfpred.ols_trials": Size(3000, 20000, "Monte Carlo datasets per (features, n2) for the k/n2 rate"),
    "selfpred.rate_trials": Size(300, 5000, "Monte Carlo datasets per n2 for the log-log slope"),
    "selfpred.pretext_trials": Size(100, 1000, "labelled datasets per (n1, n2) in the learned-pretext report"),
    "selfpred.digits_repeats": Size(3, 20, "random labelled sets per n2 in the digits-halves report"),
    "selfpred.mlp_steps": Size(300, 3000, "Adam steps of the digits pretext MLP"),
    "selfpred.learned_trials": Size(600, 6000, "labelled datasets for the learned-features risk check (n1=40, n2=20)"),
    "selfpred.orthogonality_pairs": Size(20000, 100000, "generative (x1, x2) draws for the E[(X2 - psi*) g] = 0 check; "
                                         "z of the constant-psi variant was 17 or more at 20000 over seeds 0-9"),
    # Self-prediction: multiple views, CCA and redundancy (keys "multiview.*"; add entries below this line)
    "multiview.topic_docs": Size(3000, 30000, "unlabelled documents for the topic-model pretext regression"),
    "multiview.topic_repeats": Size(5, 20, "random labelled sets per number of labels (topic model)"),
    "multiview.random_instances": Size(200, 2000, "random finite joints per exact check (CCA, CI span, redundancy)"),
    "multiview.landmark_repeats": Size(2000, 20000, "independent landmark sets per m (landmark-error Monte Carlo)"),
    "multiview.ratio_repeats": Size(20, 200, "sampled datasets per n for the plug-in density-ratio transfer check"),
    # Augmentations: the augmentation graph and the spectral loss (keys "auggraph.*"; add entries below this line)
    "auggraph.classes": Size(4, 6, "planted classes r of the main augmentation graph"),
    "auggraph.aug_per_class": Size(10, 25, "augmented (and natural) inputs per planted class"),
    "auggraph.aug_per_input": Size(4, 6, "augmentations per natural input inside its class (and leaked)"),
    "auggraph.random_instances": Size(20, 400, "random planted graphs for the exact loss identity and bound checks"),
    "auggraph.mc_batches": Size(1000, 10000, "sampled batches of 64 positive pairs (unbiased batch loss check)"),
    "auggraph.train_steps": Size(200, 3000, "Adam steps of the embedding table at the first learning rate"),
    "auggraph.final_steps": Size(100, 1500, "Adam steps at the final (10x smaller) learning rate"),
    "auggraph.batch": Size(128, 1024, "positive pairs per training step"),
    "auggraph.digits_steps": Size(200, 3000, "training steps of each digits MLP (spectral and InfoNCE, batch 256)"),
    "auggraph.digits_restarts": Size(3, 5, "independent trainings per loss in the digits comparison"),
    "auggraph.probe_repeats": Size(3, 20, "random labelled sets per probe and trained encoder (digits)"),
    "auggraph.probe_iters": Size(100, 500, "L-BFGS iterations of the logistic probes (digits)"),
    # Augmentations: InfoNCE, alignment and uniformity (keys "infonce.*"; add entries below this line)
    "infonce.limit_anchors": Size(2000, 20000, "anchors shared by L(N) and its large-N limit (toy encoder)"),
    "infonce.mc_pairs": Size(200000, 2000000, "Monte Carlo pairs of uniform angles for the circle energy"),
    "infonce.circle_steps": Size(150, 1500, "align+uniform steps of the 2-d encoder on the circle (batch 256)"),
    "infonce.digits_steps": Size(200, 3000, "InfoNCE training steps of the digits MLP (batch 256)"),
    "infonce.probe_repeats": Size(5, 30, "random labelled sets per probe in the digits comparison"),
    "infonce.probe_iters": Size(100, 500, "L-BFGS iterations of the logistic probes (digits)"),
    "infonce.sweep_steps": Size(160, 1500, "longest NT-Xent run of the temperature sweep on digits (batch 128)"),
    "infonce.sweep_probe_repeats": Size(3, 20, "random labelled sets per k-NN probe in the temperature sweep"),
    "infonce.sweep_bootstrap": Size(1000, 10000, "bootstrap resamples of the runs for the rank correlations"),
    "infonce.random_configs": Size(1000, 20000, "random aligned configurations tested against the simplex"),
    # Augmentations: why inductive biases are unavoidable (keys "inductive.*"; add entries below this line)
    "inductive.graph_levels": Size(2, 3, "values of each discretized scale u in the finite augmentation graph"),
    "inductive.targets": Size(100, 1000, "random linear targets g for the linear-class guarantee"),
    "inductive.rate_trials": Size(20, 200, "independent pair samples per n for the subspace-error rate"),
    "inductive.rate_max_log2n": Size(13, 16, "largest log2(n) of the subspace-error rate (n from 2**8)"),
    "inductive.mlp_steps": Size(300, 3000, "Adam steps per encoder (batch 256) in the adversarial-probe experiment"),
    "inductive.mlp_width": Size(64, 256, "hidden width of the MLP encoders"),
    "inductive.eval_pairs": Size(10000, 100000, "fresh pairs for the loss estimate and the probe of a trained encoder"),
    "inductive.sweep_steps": Size(150, 1500, "training steps per run in the architecture/optimizer sweep"),
    "inductive.relabel_max_d": Size(10, 12, "largest d of the exact relabelling check (d = 4, 6, ..., this)"),
    "inductive.relabel_perms": Size(200, 2000, "uniformly random relabellings per d for the expected probe error"),
    "inductive.leak_draws": Size(20, 200, "random representations of the moved coordinates per leaky cube"),
    "inductive.big_d": Size(20, 20, "input dimension of the MLP runs at larger d (HypercubeAugmentation allows <= 20)"),
    "inductive.big_d_restarts": Size(3, 5, "training restarts per encoder at larger d"),
    "inductive.big_d_steps": Size(300, 3000, "Adam steps per encoder (batch 256) at larger d"),
    "inductive.big_d_eval": Size(6000, 40000, "fresh pairs for the loss estimate and the probe at larger d"),
    # Language models: natural tasks and the sqrt(eps) guarantee (keys "lmnatural.*"; add entries below this line)
    "lmnatural.contexts": Size(300, 3000, "contexts S of the synthetic languages (natural-task chapter)"),
    "lmnatural.pinsker_draws": Size(3000, 30000, "random (context, theta, lambda) draws, modified-Pinsker check"),
    "lmnatural.sigma_points": Size(10, 24, "perturbation sizes per direction in the sqrt(eps) rate experiment"),
    # Language models: conditional mean features, Quad, a tiny LM (keys "lmquad.*"; add entries below this line)
    "lmquad.random_instances": Size(10, 200, "random (language, embeddings) instances for the exact Quad checks"),
    "lmquad.random_embeddings": Size(200, 5000, "random embeddings Phi compared with the Ky Fan optimum"),
    "lmquad.kyfan_steps": Size(600, 3000, "full-batch Adam steps of the tabular Quad model with learned Phi"),
    "lmquad.n_regular": Size(7, 12, "regular words of the prompt language (vocabulary = this + 3)"),
    "lmquad.lm_steps": Size(500, 8000, "training steps of each tiny LM (cross-entropy and Quad)"),
    "lmquad.batch": Size(256, 1024, "(context, next word) pairs per training step"),
    "lmquad.probe_repeats": Size(40, 200, "labelled samples per size in the finite-sample probe comparison"),
    # Language models: HMMs and head tuning (keys "lmhmm.*"; add entries below this line)
    "lmhmm.max_T": Size(4, 5, "largest context length T for exact enumeration (V**(T+1) contexts, V = 10)"),
    "lmhmm.brute_sequences": Size(4, 20, "sampled sequences checked against brute-force path enumeration"),
    "lmhmm.tied_max_T": Size(5, 6, "largest context length for the certified rank-deficient instance (6**T)"),
    "lmhmm.probe_sequences": Size(2000, 20000, "sampled contexts for the logistic head on a sampled corpus"),
    # Synthesis and explorers (keys "synthesis.*"; add entries below this line)
    "synthesis.vacuity_points": Size(10, 40, "values of each vacuity parameter (tau, gamma, nu, ...)"),
    "synthesis.max_cube_dim": Size(6, 8, "largest hypercube dimension d in the disjoint-augmentation count"),
    "synthesis.random_instances": Size(20, 200, "random finite instances per exact headline check"),
    "synthesis.pinsker_pairs": Size(2000, 20000, "random pairs of distributions in the Pinsker headline check"),
    "synthesis.lookup_max_T": Size(6, 7, "longest context in the exact lookup-table (all-functions ERM) curve"),
    "synthesis.lookup_datasets": Size(400, 4000, "sampled datasets for the lookup-table Monte Carlo check"),
}


def _parse_flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"environment variable {name} must be one of {sorted(_TRUE | _FALSE)}, got {raw!r}")


def fast_mode() -> bool:
    """Return ``True`` in fast mode (small sizes), ``False`` in full mode.

    Read at each call, so a changed ``SSLBOOK_FAST`` takes effect at once.
    """
    raw = os.environ.get("SSLBOOK_FAST")
    if raw is not None and raw.strip() != "":
        return _parse_flag("SSLBOOK_FAST", raw)
    if os.environ.get("CI"):
        return True
    from sslbook.device import cuda_available

    return not cuda_available()


def mode() -> str:
    """Return ``"fast"`` or ``"full"``."""
    return "fast" if fast_mode() else "full"


def size(name: str) -> int | float:
    """Return the size registered as ``name`` in :data:`SIZES` for the current mode.

    Parameters
    ----------
    name : str
        A key of :data:`SIZES`, e.g. ``"ch01.ols_trials"``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in SIZES:
        raise ValueError(f"name must be one of the registered sizes {sorted(SIZES)}, got {name!r}")
    entry = SIZES[name]
    return entry.fast if fast_mode() else entry.full


def progress_enabled() -> bool:
    """Whether trainers show tqdm progress bars.

    ``SSLBOOK_PROGRESS=0/1`` decides when set; otherwise bars are off under ``CI`` (so an executed page of the
    static site carries no bar residue) and on elsewhere.
    """
    raw = os.environ.get("SSLBOOK_PROGRESS")
    if raw is not None and raw.strip() != "":
        return _parse_flag("SSLBOOK_PROGRESS", raw)
    return not os.environ.get("CI")


def seed_from_env(default: int = 0) -> int:
    """Return the seed in ``SSLBOOK_SEED`` (a non-negative integer), else ``default``."""
    from sslbook._validation import check_int

    default = check_int("default", default, minimum=0, maximum=2**32 - 1)
    raw = os.environ.get("SSLBOOK_SEED")
    if raw is None or raw.strip() == "":
        return default
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"environment variable SSLBOOK_SEED must be a non-negative integer, got {raw!r}") from None
    if not 0 <= seed < 2**32:
        raise ValueError(f"environment variable SSLBOOK_SEED must be an integer in [0, 2**32), got {raw!r}")
    return seed
