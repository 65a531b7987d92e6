r"""Explorer of Chapter 5: the collision probability :math:`\tau_k` and the :math:`k`-negative bound against the
exact mean-classifier loss, on classes placed on a regular polygon (every value exact).

See: Chapter 5, "Too many negatives can hurt".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_choice, check_float, check_int, check_memory
from sslbook.explorers.core import explorer, import_widgets
from sslbook.theory.curl import LOSSES, k_negative_losses

__all__ = [
    "CURL_CLASSES_MAX",
    "CURL_K_MAX",
    "NegativesCurve",
    "curl_negatives_curve",
    "curl_negatives_explorer",
    "curl_polygon_features",
    "plot_curl_negatives",
]


#: Largest number of negatives and of classes offered by the CURL explorer (exact enumeration stays < ~2 s).
CURL_K_MAX = 8
CURL_CLASSES_MAX = 10


@dataclass(frozen=True)
class NegativesCurve:
    r""":math:`\tau_k`, the exact losses and the :math:`k`-negative bound as functions of :math:`k`
    (see :func:`curl_negatives_curve`)."""

    n_classes: int  #: number of latent classes C (uniform rho)
    ks: np.ndarray  #: numbers of negatives
    tau_k: np.ndarray  #: collision probability 1 - (1 - 1/C)^k
    L_un: np.ndarray  #: exact contrastive loss with k negatives
    L_neq: np.ndarray  #: exact contrastive loss given no collision
    L_mu_tilde: np.ndarray  #: exact (k+1)-way mean-classifier loss given no collision
    bound: np.ndarray  #: (L_un - tau_k) / (1 - tau_k)
    loss: str  #: surrogate loss


def curl_polygon_features(n_classes: int, *, radius: float = 0.6, spread: float = 0.0) -> list[np.ndarray]:
    r"""Class-wise features on a regular polygon: class :math:`c` sits at
    :math:`r\,(\cos\frac{2\pi c}{C},\sin\frac{2\pi c}{C})`, with two equally likely points
    :math:`(1\pm s)` times that centre when ``spread`` :math:`s>0` (one point when :math:`s=0`).

    With :math:`s=0` the representation is constant on classes with means of equal norm: the equality case of
    the :math:`k`-negative bound for the hinge loss.

    See: Chapter 5, "Too many negatives can hurt" (the explorer).

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    radius : float
        Norm :math:`r>0` of the class centres.
    spread : float
        Relative radial spread :math:`s\in[0,1)` of the two points of a class.

    Returns
    -------
    list of numpy.ndarray
        ``C`` arrays of shape ``(1, 2)`` or ``(2, 2)``.
    """
    C = check_int("n_classes", n_classes, minimum=2)
    check_memory("n_classes", 256.0 * C, what="the class features")
    r = check_float("radius", radius, minimum=0.0, strict_min=True)
    s = check_float("spread", spread, minimum=0.0)
    if s >= 1:
        raise ValueError(f"spread must be < 1, got {s}")
    angles = 2 * np.pi * np.arange(C) / C
    centres = r * np.column_stack([np.cos(angles), np.sin(angles)])
    if s == 0:
        return [c[None, :] for c in centres]
    return [np.stack([(1 - s) * c, (1 + s) * c]) for c in centres]


def curl_negatives_curve(n_classes: int, ks, *, radius: float = 0.6, spread: float = 0.0,
                         loss: str = "logistic2", max_multisets: int = 200_000) -> NegativesCurve:
    r"""The collision probability :math:`\tau_k`, the :math:`k`-negative bound
    :math:`(L_{un}-\tau_k)/(1-\tau_k)` and the exact mean-classifier loss :math:`\tilde L^\mu_{sup}` for uniform
    :math:`\rho` on :math:`C` classes placed on a regular polygon (:func:`curl_polygon_features`), for each
    number of negatives :math:`k` in ``ks``.

    Every value is exact (:func:`sslbook.theory.curl.k_negative_losses`); :math:`\tau_k=1-(1-1/C)^k`.

    See: Chapter 5, Theorem "The k-negative surrogate bound" (the explorer of that chapter).

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    ks : int or sequence of int
        Numbers of negatives, each :math:`\ge1`.
    radius, spread : float
        As in :func:`curl_polygon_features`.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) enumerations larger than this (large :math:`k` with many points).

    Returns
    -------
    NegativesCurve
    """
    check_choice("loss", loss, LOSSES)
    ks_arr = np.atleast_1d(np.asarray(ks))
    if ks_arr.ndim != 1 or ks_arr.size == 0 or not np.issubdtype(ks_arr.dtype, np.integer):
        raise TypeError(f"ks must be an integer or a non-empty sequence of integers, got {ks!r}")
    ks_list = [check_int("k", int(k), minimum=1) for k in ks_arr]
    feats = curl_polygon_features(n_classes, radius=radius, spread=spread)
    rho = np.full(len(feats), 1.0 / len(feats))
    res = [k_negative_losses(feats, rho, k=k, loss=loss, max_multisets=max_multisets) for k in ks_list]
    tau = np.array([r.tau_k for r in res])
    L_un = np.array([r.L_un for r in res])
    return NegativesCurve(
        n_classes=len(feats), ks=np.array(ks_list), tau_k=tau, L_un=L_un, L_neq=np.array([r.L_neq for r in res]),
        L_mu_tilde=np.array([r.L_mu_tilde for r in res]), bound=(L_un - tau) / (1.0 - tau), loss=loss,
    )


@functools.lru_cache(maxsize=64)
def _negatives_curve(n_classes: int, k_max: int, loss: str):
    # Cached: moving the k slider or redrawing the default setting recomputes nothing.
    return curl_negatives_curve(n_classes, np.arange(1, k_max + 1), loss=loss)


def plot_curl_negatives(n_classes: int = 6, k: int = 4, *, loss: str = "logistic2", k_max: int = CURL_K_MAX):
    r"""Collision probability :math:`\tau_k` and the :math:`k`-negative bound :math:`(L_{un}-\tau_k)/(1-\tau_k)`
    against the exact mean-classifier loss :math:`\tilde L^\mu_{sup}`, for uniform :math:`\rho` on ``n_classes``
    classes on a regular polygon (:func:`curl_negatives_curve`), over
    :math:`k=1,\dots,k_{max}`, with the setting ``k`` marked.

    See: Chapter 5, "Too many negatives can hurt".

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    k : int
        The number of negatives to mark, :math:`1\le k\le k_{max}`.
    loss : {"hinge", "logistic2"}
    k_max : int
        Largest number of negatives drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    k_max = check_int("k_max", k_max, minimum=1)
    k = check_int("k", k, minimum=1, maximum=k_max)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    curve = _negatives_curve(n_classes, k_max, loss)
    i = k - 1
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(curve.ks, curve.tau_k, "o-", color=MEASURED, label=r"$\tau_k=1-(1-1/C)^k$")
    axes[0].plot(curve.ks, curve.ks / curve.n_classes, "--", color=PALETTE[5], label=r"$k/C$")
    axes[0].plot([k], [curve.tau_k[i]], "o", ms=12, mfc="none", color=PREDICTED)
    axes[0].set(xlabel="negatives $k$", ylabel=r"collision probability $\tau_k$", ylim=(0, 1.02),
                title=f"$C={curve.n_classes}$: " + rf"$\tau_{{{k}}}={curve.tau_k[i]:.3f}$")
    axes[0].legend(loc="lower right")
    axes[1].plot(curve.ks, curve.L_mu_tilde, "o-", color=MEASURED, label=r"exact $\tilde L^\mu_{sup}$")
    axes[1].plot(curve.ks, curve.L_neq, "s--", color=PALETTE[2], label=r"$L^{\neq}_{un}$")
    axes[1].plot(curve.ks, curve.bound, "^-", color=PREDICTED, label=r"bound $(L_{un}-\tau_k)/(1-\tau_k)$")
    axes[1].axvline(k, color=PALETTE[5], lw=0.8)
    axes[1].set(xlabel="negatives $k$", ylabel=f"loss ({loss})", yscale="log",
                title=rf"$k={k}$: bound {curve.bound[i]:.2f} vs $\tilde L^\mu_{{sup}}$ {curve.L_mu_tilde[i]:.2f}")
    axes[1].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def curl_negatives_explorer(n_classes: int = 6, k: int = 4, *, loss: str = "logistic2"):
    """Sliders for the number of classes and of negatives (and a loss menu) over :func:`plot_curl_negatives`.

    See: Chapter 5, "Too many negatives can hurt".

    Parameters
    ----------
    n_classes, k : int
        Initial slider values.
    loss : {"hinge", "logistic2"}
        Initial loss.

    Returns
    -------
    ipywidgets.VBox
    """
    w = import_widgets()
    n_classes = check_int("n_classes", n_classes, minimum=2, maximum=CURL_CLASSES_MAX)
    k = check_int("k", k, minimum=1, maximum=CURL_K_MAX)
    loss = check_choice("loss", loss, ("logistic2", "hinge"))
    style = {"description_width": "initial"}
    controls = {
        "n_classes": w.IntSlider(value=n_classes, min=2, max=CURL_CLASSES_MAX, description="classes C",
                                 continuous_update=False, style=style),
        "k": w.IntSlider(value=k, min=1, max=CURL_K_MAX, description="negatives k", continuous_update=False,
                         style=style),
        "loss": w.Dropdown(options=["logistic2", "hinge"], value=loss, description="loss"),
    }
    return explorer(plot_curl_negatives, controls,
                    title="Negatives: collision probability and the k-negative bound (exact values)")

