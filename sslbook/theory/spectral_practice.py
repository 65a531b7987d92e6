r"""The spectral contrastive loss in practice: the official estimator's norm clipping and the features' spectrum.

Pure numpy. Two facts the chapter derives and checks exactly on a finite augmentation graph (notation of
:mod:`sslbook.theory.spectral`: degrees :math:`w_x`, :math:`\bar A=D^{-1/2}WD^{-1/2}` with eigenvalues
:math:`\lambda_1\ge\lambda_2\ge\dots`, rows :math:`F_x=\sqrt{w_x}f(x)`):

* the official code of HaoChen, Wei, Gaidon and Ma (2021) rescales every feature of norm at least
  :math:`\sqrt\mu` onto the sphere of radius :math:`\sqrt\mu` and divides the loss by :math:`\mu`
  (:func:`clip_features`, :func:`clipped_spectral_loss`);
* at a minimiser of the population loss with :math:`k` features, the second moment
  :math:`\mathbb E_{x\sim w}[f(x)f(x)^\top]=F^\top F` has the eigenvalues :math:`\max(\lambda_i,0)`,
  :math:`i\le k` (:func:`feature_spectrum`, :func:`minimizer_feature_spectrum`).

See: Chapter "The augmentation graph and the spectral contrastive loss", "The official estimator" and
"The spectrum of the learned features".
"""

from __future__ import annotations

import numpy as np

from sslbook._validation import check_array, check_float, check_int
from sslbook.theory.spectral import normalized_adjacency, spectral_closed_form, spectral_loss

__all__ = [
    "clip_features",
    "clipped_spectral_loss",
    "feature_spectrum",
    "minimizer_feature_spectrum",
]


def clip_features(f, mu: float) -> np.ndarray:
    r"""Rescale every row of norm at least :math:`\sqrt\mu` to norm :math:`\sqrt\mu` (the official code's clipping).

    .. math:: c_\mu(z)=\begin{cases}z,&\|z\|<\sqrt\mu,\\ \sqrt\mu\,z/\|z\|,&\|z\|\ge\sqrt\mu,\end{cases}
              \qquad\text{i.e. } c_\mu(z)=\min\!\big(1,\sqrt\mu/\|z\|\big)\,z .

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The official estimator".

    Parameters
    ----------
    f : array_like, shape (n, k)
        One feature vector per row.
    mu : float
        :math:`\mu>0`.

    Returns
    -------
    numpy.ndarray, shape (n, k)
    """
    f = check_array("f", f, ndim=2)
    mu = check_float("mu", mu, minimum=0.0, strict_min=True)
    norms = np.linalg.norm(f, axis=1)
    radius = np.sqrt(mu)
    scale = np.where(norms >= radius, radius / np.where(norms > 0, norms, 1.0), 1.0)
    return f * scale[:, None]


def clipped_spectral_loss(graph_or_W, f, mu: float) -> float:
    r"""Population loss of the clipped estimator: :math:`L_\mu(f)=L(c_\mu\circ f)/\mu`.

    With :math:`L` the spectral contrastive loss (:func:`sslbook.theory.spectral.spectral_loss`) and
    :math:`c_\mu` the clipping of :func:`clip_features`,

    .. math:: L_\mu(f)=\frac1\mu\Big(-2\,\mathbb E_{(x,x^+)}[c_\mu(f(x))^\top c_\mu(f(x^+))]
              +\mathbb E_{x,x'}\big[(c_\mu(f(x))^\top c_\mu(f(x')))^2\big]\Big),

    the mean of the batch estimator :func:`sslbook.losses.spectral_contrastive_clipped` over independent
    positive pairs. It equals :math:`L(f)/\mu` when every :math:`\|f(x)\|\le\sqrt\mu`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The official estimator".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)
    f : array_like, shape (N, k)
    mu : float
        :math:`\mu>0`.

    Returns
    -------
    float
    """
    normalized_adjacency(graph_or_W)  # validates the weights
    mu = check_float("mu", mu, minimum=0.0, strict_min=True)
    return spectral_loss(graph_or_W, clip_features(f, mu)) / mu


def feature_spectrum(f, w=None, *, center: bool = False) -> np.ndarray:
    r"""Eigenvalues (descending) of the features' second moment or covariance under the weights :math:`w`.

    .. math:: M=\sum_xw_x\,f(x)f(x)^\top=F^\top F\quad(F_x=\sqrt{w_x}f(x)),\qquad
              C=M-m\,m^\top,\quad m=\sum_xw_xf(x).

    With ``w=None`` the rows are weighted equally (an empirical distribution, e.g. encoder outputs).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The spectrum of the learned features".

    Parameters
    ----------
    f : array_like, shape (n, k)
    w : array_like, shape (n,), optional
        Non-negative weights summing to 1 (the degrees of a graph); default uniform.
    center : bool
        Return the eigenvalues of the covariance :math:`C` instead of the second moment :math:`M`.

    Returns
    -------
    numpy.ndarray, shape (k,)
    """
    f = check_array("f", f, ndim=2, min_rows=1)
    if w is None:
        w = np.full(f.shape[0], 1.0 / f.shape[0])
    else:
        w = check_array("w", w, ndim=1)
        if w.shape[0] != f.shape[0]:
            raise ValueError(f"w must have one weight per row of f ({f.shape[0]}), got {w.shape[0]}")
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-9):
            raise ValueError("w must be non-negative weights summing to 1")
    if not isinstance(center, (bool, np.bool_)):
        raise TypeError(f"center must be a bool, got {type(center).__name__}")
    M = f.T @ (w[:, None] * f)
    if center:
        m = w @ f
        M = M - np.outer(m, m)
    return np.linalg.eigvalsh((M + M.T) / 2)[::-1]


def minimizer_feature_spectrum(graph_or_W, k: int, *, center: bool = False) -> np.ndarray:
    r"""The spectrum of the features at a minimiser of the population spectral loss with :math:`k` features.

    At every minimiser :math:`F=F^*O` (:func:`sslbook.theory.spectral.spectral_closed_form`),
    :math:`F^\top F=O^\top\operatorname{diag}(\max(\lambda_1,0),\dots,\max(\lambda_k,0))\,O`, so the second moment
    has the eigenvalues :math:`\max(\lambda_i,0)`, :math:`i\le k`. The covariance is
    :math:`F^\top(I-ss^\top)F` with :math:`s=(\sqrt{w_x})_x`, an eigenvector of :math:`\bar A` for
    :math:`\lambda_1=1`: on a connected graph its eigenvalues are :math:`0,\lambda_2,\dots,\lambda_k`.
    Computed from :func:`sslbook.theory.spectral.spectral_closed_form` (eigenvalues descending).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The spectrum of the learned features".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)
    k : int
        Number of features, :math:`1\le k\le N`.
    center : bool
        The covariance spectrum instead of the second-moment spectrum.

    Returns
    -------
    numpy.ndarray, shape (k,)
    """
    Abar = normalized_adjacency(graph_or_W)  # validates the weights
    W = np.asarray(getattr(graph_or_W, "W", graph_or_W), dtype=float)
    k = check_int("k", k, minimum=1, maximum=W.shape[0])
    if not isinstance(center, (bool, np.bool_)):
        raise TypeError(f"center must be a bool, got {type(center).__name__}")
    sol = spectral_closed_form(Abar, k)                  # F* = U_k diag(sqrt(max(lambda_i, 0)))
    top = np.maximum(sol.eigenvalues[:k], 0.0)
    if not center:
        return top
    s = np.sqrt(W.sum(axis=1))
    F = sol.F
    proj = F.T @ s
    C = F.T @ F - np.outer(proj, proj)
    return np.linalg.eigvalsh((C + C.T) / 2)[::-1]
