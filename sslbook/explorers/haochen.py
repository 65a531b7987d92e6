r"""Explorer of "The augmentation graph and the spectral contrastive loss": HaoChen's bound on a planted-class
augmentation graph, along the leakage between classes (every value exact).

See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_array, check_float, check_int, check_seed
from sslbook.data.augmentation_graph import AugmentationGraph
from sslbook.explorers.core import explorer, import_widgets
from sslbook.theory.spectral import graph_laplacian_spectrum, haochen_bound

__all__ = [
    "HAOCHEN_CLASSES_MAX",
    "HAOCHEN_K_MAX",
    "HAOCHEN_LEAK_RANGE",
    "HaoChenLeakCurve",
    "haochen_explorer",
    "haochen_leak_curve",
    "plot_haochen",
]


@dataclass(frozen=True)
class HaoChenLeakCurve:
    r"""The exact HaoChen quantities on one planted graph as its leakage varies (see :func:`haochen_leak_curve`)."""

    leak: np.ndarray  #: the leakages
    k: int  #: number of features
    n_classes: int  #: planted classes r
    nu: np.ndarray  #: (n_leak, N) Laplacian eigenvalues nu_1 <= ... <= nu_N at each leak
    alpha: np.ndarray  #: P(yhat(x) != y(xbar)) for the Bayes labelling
    delta: np.ndarray  #: P(yhat(x) != yhat(x+))
    nu_next: np.ndarray  #: nu_{k+1}
    residual: np.ndarray  #: weighted least-squares residual of one-hot yhat on f*
    residual_bound: np.ndarray  #: delta / nu_{k+1}
    disagreement: np.ndarray  #: P_w(probe != yhat)
    disagreement_bound: np.ndarray  #: 4 alpha / nu_{k+1}
    error: np.ndarray  #: P(probe(x) != y(xbar))
    error_bound: np.ndarray  #: 4 alpha / nu_{k+1} + alpha


def haochen_leak_curve(leaks, k: int, *, r: int = 3, natural_per_class: int = 8, aug_per_class: int = 8,
                       aug_per_input: int = 3, seed: int = 0) -> HaoChenLeakCurve:
    r"""The quantities of the exact downstream bound (:func:`sslbook.theory.spectral.haochen_bound`, Bayes labelling
    :math:`\hat y`) and the Laplacian spectrum of one planted-class graph at each leakage in ``leaks``.

    The graphs are :meth:`sslbook.data.AugmentationGraph.planted_classes` drawn with the integer ``seed``, so they
    share their supports and weights and differ only in the leakage. The measured residual, disagreement and
    error are compared with :math:`\Delta/\nu_{k+1}`, :math:`4\alpha/\nu_{k+1}` and :math:`4\alpha/\nu_{k+1}+\alpha`;
    every value is an exact finite sum or eigendecomposition.

    See: Chapter "The augmentation graph and the spectral contrastive loss", Theorem "Downstream error of the
    spectral minimizer" (the explorer of that chapter).

    Parameters
    ----------
    leaks : float or sequence of float
        Leakages in :math:`[0,1)`.
    k : int
        Number of features, :math:`1\le k<N` with :math:`N=r\cdot` ``aug_per_class``; :math:`\lambda_k(\bar A)`
        must be positive at every leak.
    r, natural_per_class, aug_per_class, aug_per_input : int
        Sizes of the planted graph (as in :meth:`~sslbook.data.AugmentationGraph.planted_classes`).
    seed : int
        Seed of the graph.

    Returns
    -------
    HaoChenLeakCurve
    """
    leak = np.atleast_1d(check_array("leaks", leaks, ndim=(0, 1), min_rows=0))
    if leak.size == 0 or np.any(leak < 0) or np.any(leak >= 1):
        raise ValueError("leaks must be a non-empty sequence of values in [0, 1)")
    r = check_int("r", r, minimum=2)
    aug_per_class = check_int("aug_per_class", aug_per_class, minimum=2)
    k = check_int("k", k, minimum=1, maximum=r * aug_per_class - 1)
    seed = check_seed("seed", seed)
    rows, spectra = [], []
    for value in leak:
        graph = AugmentationGraph.planted_classes(r, natural_per_class=natural_per_class, aug_per_class=aug_per_class,
                                                  aug_per_input=aug_per_input, leak=float(value), rng=seed)
        spectra.append(graph_laplacian_spectrum(graph)[0])
        rows.append(haochen_bound(graph, graph.bayes_labels(), k))
    fields = ("alpha", "delta", "nu_next", "residual", "residual_bound", "disagreement", "disagreement_bound",
              "error", "error_bound")
    return HaoChenLeakCurve(leak=leak, k=k, n_classes=r, nu=np.array(spectra),
                            **{name: np.array([getattr(b, name) for b in rows]) for name in fields})


#: Range of the leakage offered by the spectral explorer (log scale), largest number of classes and of features.
HAOCHEN_LEAK_RANGE = (1e-3, 0.3)
HAOCHEN_CLASSES_MAX = 5
HAOCHEN_K_MAX = 12


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def plot_haochen(leak: float = 0.05, k: int = 3, r: int = 3, *, seed: int = 0, n_points: int = 16):
    r"""The spectral bound on a planted-class augmentation graph (:func:`haochen_leak_curve`):
    the smallest Laplacian eigenvalues at the leakage ``leak`` with :math:`\nu_{k+1}` marked (left), and along the
    leakage, at :math:`k` features, the measured residual, disagreement and error against :math:`\Delta/\nu_{k+1}`,
    :math:`4\alpha/\nu_{k+1}` and :math:`4\alpha/\nu_{k+1}+\alpha` (right).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    leak : float
        The leakage between classes to mark, in ``HAOCHEN_LEAK_RANGE``.
    k : int
        Number of features, :math:`1\le k\le` ``HAOCHEN_K_MAX``.
    r : int
        Number of planted classes, :math:`2\le r\le` ``HAOCHEN_CLASSES_MAX``.
    seed : int
        Seed of the graph.
    n_points : int
        Number of leakages on the curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    leak = check_float("leak", leak, minimum=HAOCHEN_LEAK_RANGE[0], maximum=HAOCHEN_LEAK_RANGE[1])
    k = check_int("k", k, minimum=1, maximum=HAOCHEN_K_MAX)
    r = check_int("r", r, minimum=2, maximum=HAOCHEN_CLASSES_MAX)
    n_points = check_int("n_points", n_points, minimum=2)
    grid = np.geomspace(*HAOCHEN_LEAK_RANGE, n_points)
    curve = haochen_leak_curve(grid, k, r=r, seed=seed)
    here = haochen_leak_curve([leak], k, r=r, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8), width_ratios=(1, 1.25))
    n_eig = HAOCHEN_K_MAX + 1
    idx = np.arange(1, n_eig + 1)
    nu = here.nu[0, :n_eig]
    axes[0].bar(idx, nu, color=[PALETTE[2] if i <= r else PALETTE[5] for i in idx], alpha=0.8)
    axes[0].bar([k + 1], [nu[k]], color=PREDICTED, label=rf"$\nu_{{k+1}}=\nu_{{{k + 1}}}$")
    axes[0].axvline(r + 0.5, color=PALETTE[5], ls=":", lw=1)
    axes[0].set(xlabel=r"index $i$ ($r$ small eigenvalues in green)", ylabel=r"Laplacian eigenvalue $\nu_i$",
                # plain-text titles: they change at every redraw, and mathtext is slow to lay out
                title=f"leak {leak:.3g}: ν{_subscript(k + 1)} = {here.nu_next[0]:.3f}, α = {here.alpha[0]:.3f}, "
                      f"Δ = {here.delta[0]:.3f}")
    axes[0].legend(loc="upper left", fontsize=8)
    floor = 1e-4  # zero measured values are drawn at this floor on the log scale
    ax = axes[1]
    ax.loglog(grid, curve.residual_bound, "-", color=PREDICTED, label=r"$\Delta/\nu_{k+1}$")
    ax.loglog(grid, np.maximum(curve.residual, floor), "o", ms=4, color=PREDICTED, mfc="none", label="residual")
    ax.loglog(grid, curve.error_bound, "--", color=MEASURED, label=r"$4\alpha/\nu_{k+1}+\alpha$")
    ax.loglog(grid, np.maximum(curve.error, floor), "s", ms=4, color=MEASURED, label="error vs $y$")
    ax.loglog(grid, curve.disagreement_bound, ":", color=PALETTE[2], label=r"$4\alpha/\nu_{k+1}$")
    ax.loglog(grid, np.maximum(curve.disagreement, floor), "^", ms=4, color=PALETTE[2],
              label=r"disagreement with $\hat y$")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axvline(leak, color=PALETTE[5], lw=0.8)
    ax.set(xlabel="leakage between classes", ylabel="probability / squared error",
           ylim=(floor / 2, max(2.0, 1.2 * float(np.max(curve.error_bound[np.isfinite(curve.error_bound)],
                                                              initial=1.0)))),
           title=f"k = {k}, r = {r}: error {here.error[0]:.3f}, bound {here.error_bound[0]:.3g}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def haochen_explorer(leak: float = 0.05, k: int = 3, r: int = 3, *, seed: int = 0):
    """Sliders for the leakage, the number of features and of classes (and the graph) over :func:`plot_haochen`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    leak : float
        Initial leakage, in ``HAOCHEN_LEAK_RANGE``.
    k, r : int
        Initial numbers of features and of classes.
    seed : int
        Initial graph.

    Returns
    -------
    ipywidgets.VBox
    """
    w = import_widgets()
    leak = check_float("leak", leak, minimum=HAOCHEN_LEAK_RANGE[0], maximum=HAOCHEN_LEAK_RANGE[1])
    k = check_int("k", k, minimum=1, maximum=HAOCHEN_K_MAX)
    r = check_int("r", r, minimum=2, maximum=HAOCHEN_CLASSES_MAX)
    seed = check_int("seed", seed, minimum=0, maximum=20)
    style = {"description_width": "initial"}
    lo, hi = np.log10(HAOCHEN_LEAK_RANGE)
    controls = {
        "leak": w.FloatLogSlider(value=leak, base=10, min=lo, max=hi, step=0.05, description="leakage",
                                 continuous_update=False, style=style),
        "k": w.IntSlider(value=k, min=1, max=HAOCHEN_K_MAX, description="features k", continuous_update=False,
                         style=style),
        "r": w.IntSlider(value=r, min=2, max=HAOCHEN_CLASSES_MAX, description="classes r", continuous_update=False,
                         style=style),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="graph", continuous_update=False, style=style),
    }
    return explorer(plot_haochen, controls, title="Augmentation graph: the spectral gap and HaoChen's bound")
