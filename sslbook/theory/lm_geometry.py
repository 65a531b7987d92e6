r"""Geometry of softmax language models: the log-partition function, its curvature, and refined coverage.

Two facts used in Part IV of the book. (1) The conditional mean embedding is the gradient of the
log-partition function, :math:`\Phi p_\theta=\nabla_\theta\log Z(\theta)`, and its Jacobian is the covariance of
the word embeddings under :math:`p_\theta`; so where :math:`\log Z` is close to a quadratic, :math:`\Phi p_{f(s)}` is
close to an affine image of :math:`f(s)`. (2) The change of measure of the √ε guarantees only needs to hold in
the directions that the error vectors span: a matrix (data-dependent) coverage coefficient.

Pure numpy/scipy. Shapes as in :mod:`sslbook.theory.language_models`: ``Phi`` is ``(d, V)``, ``theta`` is
``(S, d)`` or ``(d,)``.
See: Chapter "Conditional mean features, Quad, and a tiny language model" and Chapter "Natural tasks and the
square-root guarantee".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp, softmax

from sslbook._validation import check_array, check_simplex

__all__ = ["embedding_covariance", "log_partition", "refined_coverage", "softmax_linearization"]


def _phi_theta(Phi: ArrayLike, theta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    Phi = check_array("Phi", Phi, ndim=2)
    theta = check_array("theta", theta, ndim=(1, 2))
    if theta.shape[-1] != Phi.shape[0]:
        raise ValueError(f"theta must have last dimension d = {Phi.shape[0]} (Phi is {Phi.shape}), got {theta.shape}")
    return Phi, theta


def log_partition(Phi: ArrayLike, theta: ArrayLike) -> np.ndarray:
    r"""Log-partition function of a softmax model, :math:`\log Z(\theta)=\log\sum_we^{\theta^\top\phi_w}`.

    Its gradient is the conditional mean embedding :math:`\Phi p_\theta` and its Hessian is
    :func:`embedding_covariance`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Proposition "Conditional mean
    features are nearly linear in f(s)".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings (columns :math:`\phi_w`).
    theta : array_like, shape (S, d) or (d,)
        Context vectors.

    Returns
    -------
    numpy.ndarray, shape (S,) or ()
    """
    Phi, theta = _phi_theta(Phi, theta)
    return logsumexp(theta @ Phi, axis=-1)


def embedding_covariance(Phi: ArrayLike, theta: ArrayLike) -> np.ndarray:
    r"""Covariance of the word embeddings under :math:`p_\theta`, the Hessian of :math:`\log Z`.

    .. math:: \Sigma_\theta=\mathrm{Cov}_{w\sim p_\theta}(\phi_w)
              =\Phi\big(\mathrm{diag}(p_\theta)-p_\theta p_\theta^\top\big)\Phi^\top=\nabla^2_\theta\log Z(\theta) .

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Proposition "Conditional mean
    features are nearly linear in f(s)".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)

    Returns
    -------
    numpy.ndarray, shape (S, d, d) or (d, d)
    """
    Phi, theta = _phi_theta(Phi, theta)
    p = softmax(theta @ Phi, axis=-1)
    mean = p @ Phi.T
    second = np.einsum("...v,iv,jv->...ij", p, Phi, Phi)
    return second - mean[..., :, None] * mean[..., None, :]


def softmax_linearization(Phi: ArrayLike, theta: ArrayLike, theta0: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""First-order (quadratic-:math:`\log Z`) approximation of the conditional mean embedding, and its residual.

    .. math:: \Phi p_\theta=\Phi p_{\theta_0}+\Sigma_{\theta_0}(\theta-\theta_0)+r(\theta),\qquad
              \|r(\theta)\|_2\le\tfrac12\,D^3\,\|\theta-\theta_0\|_2^2,

    with :math:`\Sigma_{\theta_0}` of :func:`embedding_covariance` and :math:`D=\max_{w,w'}\|\phi_w-\phi_{w'}\|_2`.
    The affine part is exactly the gradient of the second-order Taylor polynomial of :math:`\log Z` at
    :math:`\theta_0`, :math:`\log Z(\theta_0)+\Delta^\top\Phi p_{\theta_0}+\tfrac12\Delta^\top\Sigma_{\theta_0}\Delta`
    with :math:`\Delta=\theta-\theta_0`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Proposition "Conditional mean
    features are nearly linear in f(s)".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
        Points :math:`\theta=f(s)`.
    theta0 : array_like, shape (d,)
        Reference point :math:`\theta_0`.

    Returns
    -------
    (affine, residual) : tuple of numpy.ndarray, each of the shape of ``theta``
        :math:`\Phi p_{\theta_0}+\Sigma_{\theta_0}(\theta-\theta_0)` and :math:`r(\theta)`.
    """
    Phi, theta = _phi_theta(Phi, theta)
    theta0 = check_array("theta0", theta0, ndim=1)
    if theta0.shape[0] != Phi.shape[0]:
        raise ValueError(f"theta0 must have length d = {Phi.shape[0]}, got {theta0.shape[0]}")
    p0 = softmax(theta0 @ Phi)
    affine = p0 @ Phi.T + (theta - theta0) @ embedding_covariance(Phi, theta0).T
    return affine, softmax(theta @ Phi, axis=-1) @ Phi.T - affine


def refined_coverage(p_task: ArrayLike, p_context: ArrayLike, g: ArrayLike) -> float:
    r"""Data-dependent (matrix) coverage coefficient of a task distribution along features :math:`g`.

    .. math:: \gamma(p_{\mathcal T};g)=\sup\{\alpha>0:\ \alpha\,\mathbb E_{p_{\mathcal T}}[gg^\top]\preceq
              \mathbb E_{p_L}[gg^\top]\}
              =\frac1{\lambda_{\max}\big(\Gamma_L^{+1/2}\Gamma_{\mathcal T}\Gamma_L^{+1/2}\big)},

    with :math:`\Gamma_p=\mathbb E_{s\sim p}[g(s)g(s)^\top]`; it is 0 when :math:`\Gamma_{\mathcal T}` has a
    direction outside the range of :math:`\Gamma_L` and :math:`+\infty` when :math:`\Gamma_{\mathcal T}=0`. It
    gives the change of measure
    :math:`\mathbb E_{p_{\mathcal T}}(a^\top g)^2\le\gamma(p_{\mathcal T};g)^{-1}\mathbb E_{p_L}(a^\top g)^2` for
    every :math:`a`, and :math:`\gamma(p_{\mathcal T};g)\ge\gamma(p_{\mathcal T})` of
    :func:`sslbook.theory.natural_tasks.coverage` for every :math:`g`.
    Unlike :math:`\gamma(p_{\mathcal T})` it can exceed 1.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "Refined coverage".

    Parameters
    ----------
    p_task, p_context : array_like, shape (S,)
        :math:`p_{\mathcal T}` and :math:`p_L`.
    g : array_like, shape (S, k)
        Features of each context (e.g. the error vectors :math:`\Phi(p_{f(s)}-p^*_s)`).

    Returns
    -------
    float
    """
    pt = check_simplex("p_task", p_task, ndim=1, atol=1e-9)
    pc = check_simplex("p_context", p_context, ndim=1, atol=1e-9)
    G = check_array("g", g, ndim=2)
    if pt.shape != pc.shape or G.shape[0] != pt.shape[0]:
        raise ValueError(f"p_task, p_context and g must have one row per context, got {pt.shape}, {pc.shape}, "
                         f"{G.shape}")
    m_task = np.einsum("s,si,sj->ij", pt, G, G)
    m_lm = np.einsum("s,si,sj->ij", pc, G, G)
    evals, evecs = np.linalg.eigh(m_lm)
    tol = max(evals.max(), 0.0) * 1e-12 * G.shape[1]
    keep = evals > tol
    if not keep.any():
        return float("inf") if np.abs(m_task).max() <= tol else 0.0
    U, lam = evecs[:, keep], evals[keep]
    outside = m_task - U @ (U.T @ m_task @ U) @ U.T        # part of Gamma_T outside range(Gamma_L)
    if np.abs(outside).max() > 1e-9 * max(np.abs(m_task).max(), 1e-300):
        return 0.0
    W = U / np.sqrt(lam)                                     # Gamma_L^{+1/2} restricted to its range
    top = np.linalg.eigvalsh(W.T @ m_task @ W).max()
    return float("inf") if top <= 0 else float(1.0 / top)
