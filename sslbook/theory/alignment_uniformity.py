r"""Alignment and uniformity (Wang and Isola, ICML 2020): exact energies on the circle and the large-N limit
of the contrastive loss, in numpy/scipy.

* The Gaussian-potential energy :math:`\mathcal L_{\rm uniform}(\mu;t)=\log\iint e^{-t\|u-v\|^2}\,d\mu(u)\,d\mu(v)`
  on the circle :math:`S^1`: in closed form for the uniform measure (:func:`uniform_circle_energy`), by
  quadrature for any density (:func:`circle_energy`), and for the von Mises family by quadrature or by its
  Fourier series (:func:`von_mises_energy`).
* The contrastive loss with :math:`N` explicit negatives (:func:`infonce_n_negatives`) and its limit
  :math:`\mathcal L(N)-\log N\to -\mathbb E_{\rm pos}[f(x)^\top f(y)]/\tau+\mathbb E_x\log\mathbb E_{x^-}
  e^{f(x^-)^\top f(x)/\tau}` (:func:`infonce_limit`), for given embeddings.

See: Chapter "InfoNCE, alignment and uniformity".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ive, logsumexp

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_choice, check_float, check_int

__all__ = ["circle_energy", "infonce_limit", "infonce_n_negatives", "uniform_circle_energy", "von_mises_energy"]


def uniform_circle_energy(t) -> float | np.ndarray:
    r"""Uniformity loss of the uniform distribution :math:`\sigma_1` on the circle, in closed form.

    .. math:: \mathcal L_{\rm uniform}(\sigma_1; t) = -2t + \log I_0(2t) = \log\big(e^{-2t} I_0(2t)\big),

    evaluated as ``log(ive(0, 2t))`` (the exponentially scaled Bessel function; no overflow for large t).

    See: Chapter "InfoNCE, alignment and uniformity", "Uniformity on the circle".

    Parameters
    ----------
    t : float or array_like
        :math:`t > 0`.

    Returns
    -------
    float or numpy.ndarray
    """
    arr = check_array("t", t, ndim=None)
    if np.any(arr <= 0):
        raise ValueError(f"t must be > 0, got {t!r}")
    out = np.log(ive(0, 2 * arr))
    return float(out) if out.ndim == 0 else out


def circle_energy(density: Callable[[np.ndarray], np.ndarray], t: float, *, grid: int = 512) -> float:
    r"""Uniformity loss of a distribution on the circle with density :math:`p` (w.r.t. :math:`d\theta`), by
    quadrature.

    .. math:: \mathcal L_{\rm uniform}(p;t) = \log\int_0^{2\pi}\!\!\int_0^{2\pi} p(\theta)p(\theta')\,
              e^{-t(2-2\cos(\theta-\theta'))}\,d\theta\,d\theta',

    since :math:`\|u_\theta-u_{\theta'}\|^2 = 2-2\cos(\theta-\theta')` for unit vectors
    :math:`u_\theta=(\cos\theta,\sin\theta)`. The periodic trapezoidal rule on ``grid`` equispaced angles
    converges geometrically for smooth periodic integrands. The density is renormalised on the grid.

    See: Chapter "InfoNCE, alignment and uniformity", "Uniformity on the circle".

    Parameters
    ----------
    density : callable
        Maps an array of angles in :math:`[0, 2\pi)` to non-negative density values.
    t : float
        :math:`t > 0`.
    grid : int
        Number of quadrature nodes, at least 8.

    Returns
    -------
    float
    """
    if not callable(density):
        raise TypeError(f"density must be callable, got {type(density).__name__}")
    t = check_float("t", t, minimum=0.0, strict_min=True)
    grid = check_int("grid", grid, minimum=8)
    theta = 2 * np.pi * np.arange(grid) / grid
    p = np.asarray(density(theta), dtype=np.float64)
    if p.shape != theta.shape or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("density must return finite non-negative values of the shape of its input")
    if p.sum() <= 0:
        raise ValueError("density must not vanish on the grid")
    w = p / p.sum()
    log_kernel = -t * (2 - 2 * np.cos(theta[:, None] - theta[None, :]))
    with np.errstate(divide="ignore"):
        logw = np.log(w)
    return float(logsumexp(log_kernel + logw[:, None] + logw[None, :]))


def von_mises_energy(kappa: float, t: float, *, method: str = "quadrature", grid: int = 512,
                     terms: int = 200) -> float:
    r"""Uniformity loss of the von Mises distribution :math:`p_\kappa(\theta)\propto e^{\kappa\cos\theta}` on
    the circle.

    ``method="series"`` uses the Fourier expansion (Jacobi--Anger):

    .. math:: \mathcal L_{\rm uniform}(p_\kappa;t) = \log\Big(e^{-2t}\Big[I_0(2t)
              + 2\sum_{n\ge1} I_n(2t)\,\Big(\frac{I_n(\kappa)}{I_0(\kappa)}\Big)^2\Big]\Big),

    truncated after ``terms`` terms; ``method="quadrature"`` uses :func:`circle_energy`. :math:`\kappa=0` is the
    uniform distribution.

    See: Chapter "InfoNCE, alignment and uniformity", "Uniformity on the circle".

    Parameters
    ----------
    kappa : float
        Concentration :math:`\kappa\ge 0`.
    t : float
        :math:`t > 0`.
    method : {"quadrature", "series"}
    grid : int
        Quadrature nodes.
    terms : int
        Series terms.

    Returns
    -------
    float
    """
    kappa = check_float("kappa", kappa, minimum=0.0)
    t = check_float("t", t, minimum=0.0, strict_min=True)
    method = check_choice("method", method, ("quadrature", "series"))
    grid = check_int("grid", grid, minimum=8)
    terms = check_int("terms", terms, minimum=1)
    if method == "quadrature":
        return circle_energy(lambda th: np.exp(kappa * (np.cos(th) - 1)), t, grid=grid)
    n = np.arange(1, terms + 1)
    ratio = ive(n, kappa) / ive(0, kappa) if kappa > 0 else np.zeros(terms)
    return float(np.log(ive(0, 2 * t) + 2 * np.sum(ive(n, 2 * t) * ratio**2)))


#: Positive pairs (f(x_i), f(y_i)) and a support of negatives, in the same embedding space.
_PAIRS = {"anchors": "n d", "positives": "n d", "negatives": "m d"}


@check_shapes(**_PAIRS, weights=Shape("m", simplex=True, optional=True, atol=1e-5 + 1e-10))
def infonce_limit(anchors, positives, negatives, tau: float, *, weights=None) -> float:
    r"""The large-:math:`N` limit of the contrastive loss minus :math:`\log N` (Wang and Isola, Theorem 1).

    .. math:: \lim_{N\to\infty}\mathcal L(N)-\log N = -\frac1\tau\,\frac1n\sum_{i=1}^n f(x_i)^\top f(y_i)
              + \frac1n\sum_{i=1}^n\log\sum_{j} w_j\, e^{f(x_j^-)^\top f(x_i)/\tau},

    for the empirical distribution of the :math:`n` positive pairs :math:`(f(x_i), f(y_i))` and the negative
    distribution that puts mass :math:`w_j` on :math:`f(x^-_j)` (the exact expectation when the data distribution
    is this finite set).

    See: Chapter "InfoNCE, alignment and uniformity", "The large-N limit".

    Parameters
    ----------
    anchors, positives : array_like, shape (n, d)
        :math:`f(x_i)` and :math:`f(y_i)`.
    negatives : array_like, shape (m, d)
        Support :math:`f(x^-_j)` of the negative distribution.
    tau : float
        Temperature :math:`\tau > 0`.
    weights : array_like, shape (m,), optional
        Probabilities :math:`w_j`; default uniform.

    Returns
    -------
    float
    """
    a, p, ng = anchors, positives, negatives
    tau = check_float("tau", tau, minimum=0.0, strict_min=True)
    if weights is None:
        logw = np.full(ng.shape[0], -np.log(ng.shape[0]))
    else:  # the simplex tolerance is that of np.isclose(sum, 1)
        with np.errstate(divide="ignore"):
            logw = np.log(weights)
    align_term = -np.mean(np.sum(a * p, axis=1)) / tau
    uniform_term = np.mean(logsumexp(a @ ng.T / tau + logw[None, :], axis=1))
    return float(align_term + uniform_term)


@check_shapes(**_PAIRS, neg_index=Shape("n N", dtype="int"))
def infonce_n_negatives(anchors, positives, negatives, neg_index, tau: float) -> float:
    r"""The contrastive loss with :math:`N` explicit negatives per anchor, averaged over the anchors.

    .. math:: \hat{\mathcal L}(N) = \frac1n\sum_{i=1}^n -\log\frac{e^{f(x_i)^\top f(y_i)/\tau}}
              {e^{f(x_i)^\top f(y_i)/\tau} + \sum_{k=1}^N e^{f(x^-_{j(i,k)})^\top f(x_i)/\tau}},

    the negatives of anchor :math:`i` being the rows ``neg_index[i]`` of ``negatives``; computed with
    ``logsumexp``.

    See: Chapter "InfoNCE, alignment and uniformity", "The large-N limit".

    Parameters
    ----------
    anchors, positives : array_like, shape (n, d)
    negatives : array_like, shape (m, d)
        A pool of negative embeddings.
    neg_index : array_like of int, shape (n, N)
        Indices into ``negatives``.
    tau : float
        :math:`\tau > 0`.

    Returns
    -------
    float
    """
    a, p, ng, idx = anchors, positives, negatives, neg_index
    tau = check_float("tau", tau, minimum=0.0, strict_min=True)
    if idx.size and (idx.min() < 0 or idx.max() >= ng.shape[0]):
        raise ValueError(f"neg_index must lie in [0, {ng.shape[0]})")
    pos = np.sum(a * p, axis=1) / tau
    neg = np.take_along_axis(a @ ng.T / tau, idx, axis=1)
    return float(np.mean(logsumexp(np.concatenate([pos[:, None], neg], axis=1), axis=1) - pos))
