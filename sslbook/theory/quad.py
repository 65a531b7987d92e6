r"""The Quad objective of Saunshi, Malladi and Arora (2021): a language-model loss with a closed-form optimum.

Replacing the log-partition function of the softmax cross-entropy by a quadratic gives, for a context :math:`s`
with next-word distribution :math:`p^*_s`, features :math:`\theta\in\mathbb R^d` and word embeddings
:math:`\Phi\in\mathbb R^{d\times V}`,

.. math:: \ell_{quad,s}(\theta,\Phi) = -\theta^\top\Phi p^*_s + \tfrac12\|\Phi^\top\theta\|^2 ,

minimised by :math:`\theta^*_s=(\Phi\Phi^\top)^{-1}\Phi p^*_s`. Everything here is exact linear algebra on a
finite set of contexts (pure numpy).
See: Chapter "Conditional mean features, Quad, and a tiny language model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_float, check_int

__all__ = [
    "QuadEmbeddings",
    "quad_closed_form",
    "quad_downstream_bound",
    "quad_excess",
    "quad_loss",
    "quad_omega",
    "quad_optimal_embeddings",
    "quad_optimal_value",
]


#: The context distribution p_L, the next-word distributions p*_s, the word embeddings.
_CONTEXTS = Shape("S", simplex=True)
_NEXT_WORDS = Shape("S V", simplex=True)
_PHI = "d V"


def _full_row_rank(Phi: np.ndarray) -> np.ndarray:
    if np.linalg.matrix_rank(Phi) < Phi.shape[0]:
        raise ValueError(f"Phi must have full row rank d = {Phi.shape[0]} (Phi Phi^T invertible)")
    return Phi


@check_shapes(theta="S d", Phi=_PHI, p_next=_NEXT_WORDS)
def quad_loss(theta: ArrayLike, Phi: ArrayLike, p_next: ArrayLike) -> np.ndarray:
    r"""Per-context Quad loss :math:`\ell_{quad,s}(\theta,\Phi)=-\theta^\top\Phi p^*_s+\frac12\|\Phi^\top\theta\|^2`.

    It is the expectation over :math:`w\sim p^*_s` of :math:`-\theta_s^\top\phi_w+\tfrac12\|\Phi^\top\theta_s\|^2`,
    the cross-entropy with :math:`\log\sum_{w'}e^{\theta^\top\phi_{w'}}` replaced by a quadratic.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Definition "The Quad objective".

    Parameters
    ----------
    theta : array_like, shape (S, d)
        Features :math:`\theta_s=f(s)` of the S contexts.
    Phi : array_like, shape (d, V)
        Word embeddings (columns :math:`\phi_w`).
    p_next : array_like, shape (S, V)
        Next-word distributions :math:`p^*_s` (rows on the simplex).

    Returns
    -------
    numpy.ndarray, shape (S,)
    """
    logits = theta @ Phi
    return -np.sum(logits * p_next, axis=1) + 0.5 * np.sum(logits**2, axis=1)


@check_shapes(Phi=_PHI, p_next=_NEXT_WORDS)
def quad_closed_form(Phi: ArrayLike, p_next: ArrayLike) -> np.ndarray:
    r"""The Quad-optimal features :math:`f^*(s)=(\Phi\Phi^\top)^{-1}\Phi p^*_s`, one row per context.

    A *linear* function of the conditional mean embedding :math:`\Phi p^*_s`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Proposition "Quad closed form".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings of full row rank.
    p_next : array_like, shape (S, V)

    Returns
    -------
    numpy.ndarray, shape (S, d)
    """
    Phi = _full_row_rank(Phi)
    return np.linalg.solve(Phi @ Phi.T, Phi @ p_next.T).T


def quad_excess(theta: ArrayLike, Phi: ArrayLike, p_next: ArrayLike) -> np.ndarray:
    r"""Per-context Quad excess :math:`\ell_{quad,s}(\theta_s,\Phi)-\min_\theta\ell_{quad,s}(\theta,\Phi)`.

    Computed as a difference of two objective values (:func:`quad_loss` at ``theta`` and at
    :func:`quad_closed_form`), so that the identity
    :math:`\tfrac12(\theta_s-\theta^*_s)^\top\Phi\Phi^\top(\theta_s-\theta^*_s)` can be checked against it.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Proposition "Quad closed form".

    Parameters
    ----------
    theta : array_like, shape (S, d)
    Phi : array_like, shape (d, V)
    p_next : array_like, shape (S, V)

    Returns
    -------
    numpy.ndarray, shape (S,)
    """
    star = quad_closed_form(Phi, p_next)
    return quad_loss(theta, Phi, p_next) - quad_loss(star, Phi, p_next)


@check_shapes(p_context=_CONTEXTS, p_next=_NEXT_WORDS)
def quad_omega(p_context: ArrayLike, p_next: ArrayLike) -> np.ndarray:
    r"""Second-moment matrix of the next-word distributions :math:`\Omega=\mathbb E_{s\sim p_L}[p^*_sp^{*\top}_s]`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Theorem "Learning the embeddings".

    Parameters
    ----------
    p_context : array_like, shape (S,)
        Context distribution :math:`p_L`.
    p_next : array_like, shape (S, V)

    Returns
    -------
    numpy.ndarray, shape (V, V)
        Symmetric positive semi-definite.
    """
    return (p_next * p_context[:, None]).T @ p_next


@check_shapes(Phi=_PHI, p_context=_CONTEXTS, p_next=_NEXT_WORDS)
def quad_optimal_value(Phi: ArrayLike, p_context: ArrayLike, p_next: ArrayLike) -> float:
    r"""Optimal Quad pre-training loss for fixed embeddings, :math:`\min_f\mathbb E_{s}\ell_{quad,s}(f(s),\Phi)`.

    .. math:: \min_f\mathbb E_{s}\ell_{quad,s}(f(s),\Phi) = -\tfrac12\,\mathbb E_s\,p_s^{*\top}P_\Phi p^*_s
              = -\tfrac12\operatorname{tr}(P_\Phi\Omega),\qquad P_\Phi=\Phi^\top(\Phi\Phi^\top)^{-1}\Phi,

    computed here as :math:`-\tfrac12\operatorname{tr}(P_\Phi\Omega)` (not through :func:`quad_closed_form`).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Theorem "Learning the embeddings".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    p_context : array_like, shape (S,)
    p_next : array_like, shape (S, V)

    Returns
    -------
    float
    """
    omega = quad_omega(p_context, p_next)
    Phi = _full_row_rank(Phi)
    projector = Phi.T @ np.linalg.solve(Phi @ Phi.T, Phi)
    return float(-0.5 * np.trace(projector @ omega))


@dataclass(frozen=True)
class QuadEmbeddings:
    """Optimal Quad embeddings when :math:`\\Phi` is learned too (see :func:`quad_optimal_embeddings`)."""

    Phi: np.ndarray  #: orthonormal rows spanning the top-d eigenspace of Omega, shape (d, V)
    value: float  #: -1/2 * (sum of the d largest eigenvalues of Omega)
    eigenvalues: np.ndarray  #: all eigenvalues of Omega, descending
    gap: float  #: lambda_d - lambda_{d+1} (0 when d = V); the top-d eigenspace is unique iff gap > 0


@check_shapes(p_context=_CONTEXTS, p_next=_NEXT_WORDS)
def quad_optimal_embeddings(p_context: ArrayLike, p_next: ArrayLike, d: int) -> QuadEmbeddings:
    r"""Optimal Quad pre-training over features *and* embeddings (Ky Fan).

    .. math:: \min_{f,\ \Phi\in\mathbb R^{d\times V}}\mathbb E_{s\sim p_L}\ell_{quad,s}(f(s),\Phi)
              = -\tfrac12\sum_{i=1}^d\lambda_i(\Omega),

    attained exactly when :math:`\mathrm{rowspan}(\Phi)` is a top-:math:`d` eigenspace of :math:`\Omega`
    (:func:`quad_omega`).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Theorem "Learning the embeddings".

    Parameters
    ----------
    p_context : array_like, shape (S,)
    p_next : array_like, shape (S, V)
    d : int
        Embedding dimension, ``1 <= d <= V``.

    Returns
    -------
    QuadEmbeddings
    """
    omega = quad_omega(p_context, p_next)
    V = omega.shape[0]
    d = check_int("d", d, minimum=1, maximum=V)
    lam, U = np.linalg.eigh(omega)
    lam, U = lam[::-1], U[:, ::-1]
    gap = float(lam[d - 1] - lam[d]) if d < V else 0.0
    return QuadEmbeddings(Phi=U[:, :d].T.copy(), value=float(-0.5 * lam[:d].sum()), eigenvalues=lam, gap=gap)


def quad_downstream_bound(tau: float, v: ArrayLike, eps: float, gamma: float) -> float:
    r"""Downstream guarantee for :math:`\epsilon`-optimal Quad features: :math:`\tau+\|v\|_2\sqrt{2\epsilon/\gamma}`.

    If :math:`\mathbb E_{s\sim p_L}[\ell_{quad,s}(f(s),\Phi)-\ell_{quad,s}(f^*(s),\Phi)]\le\epsilon` and the task
    has loss at most :math:`\tau` with the classifier :math:`v=\Phi^\top a` on :math:`p^*_s`, then a linear
    classifier on :math:`f(s)` has task loss at most this value (1-Lipschitz surrogate, coverage :math:`\gamma`).
    Note the Euclidean norm :math:`\|v\|_2`: the :math:`\|v\|_\infty` form of the softmax case is false here.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Theorem "Quad downstream guarantee".

    Parameters
    ----------
    tau : float
        Task loss of the natural-task classifier on the true next-word distributions.
    v : array_like, shape (V,)
        That classifier, :math:`v=\Phi^\top a`.
    eps : float
        Quad excess pre-training loss, :math:`\ge0`.
    gamma : float
        Coverage coefficient in :math:`(0,1]`.

    Returns
    -------
    float
    """
    tau = check_float("tau", tau, minimum=0.0)
    v = check_array("v", v, ndim=1)
    eps = check_float("eps", eps, minimum=0.0)
    gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0, strict_min=True)
    return float(tau + np.linalg.norm(v) * np.sqrt(2.0 * eps / gamma))
