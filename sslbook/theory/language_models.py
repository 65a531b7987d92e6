r"""Softmax language models: probabilities, conditional mean embeddings, cross-entropy, the optimum.

Pure numpy/scipy. Contexts are indexed by the rows of the arrays: ``p`` of shape ``(S, V)`` holds one
next-word distribution per context, ``theta`` of shape ``(S, d)`` one context vector per context, and the
word embeddings ``Phi`` have shape ``(d, V)`` (column :math:`\phi_w`). A softmax language model predicts
:math:`p_\theta=\mathrm{softmax}(\Phi^\top\theta)`. The natural tasks and the √ε guarantee are in
:mod:`sslbook.theory.natural_tasks`.

See: Chapter "Natural tasks and the square-root guarantee".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog
from scipy.special import logsumexp, softmax

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int

__all__ = [
    "conditional_mean_embedding",
    "softmax_cross_entropy",
    "softmax_excess",
    "softmax_gradient",
    "softmax_optimal_theta",
    "softmax_probs",
]


#: Word embeddings, context vectors and next-word distributions (one per context, or a single one).
_PHI = "d V"
_THETA = "[S] d"
_P = Shape("[S] V", simplex=True)


@check_shapes(Phi=_PHI, theta=_THETA)
def softmax_probs(Phi: ArrayLike, theta: ArrayLike) -> np.ndarray:
    r"""Next-word distributions of a softmax model, :math:`p_{\theta_s}=\mathrm{softmax}(\Phi^\top\theta_s)`.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Softmax language model".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings (columns :math:`\phi_w`).
    theta : array_like, shape (S, d) or (d,)
        Context vectors :math:`\theta_s=f(s)`.

    Returns
    -------
    numpy.ndarray, shape (S, V) or (V,)
    """
    return softmax(theta @ Phi, axis=-1)


@check_shapes(Phi=_PHI, p=_P)
def conditional_mean_embedding(Phi: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Conditional mean embedding :math:`\Phi p_{\cdot\mid s}=\sum_w p_{\cdot\mid s}(w)\,\phi_w\in\mathbb R^d`.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    p : array_like, shape (S, V) or (V,)
        Next-word distributions.

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)
    """
    return p @ Phi.T


@check_shapes(Phi=_PHI, theta=_THETA, p=_P)
def softmax_cross_entropy(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Per-context cross-entropy of a softmax model.

    .. math:: \ell_{\mathrm{xent},s}(\theta)=\mathbb E_{w\sim p_{\cdot\mid s}}[-\theta^\top\phi_w]
              +\ln\sum_{w'}e^{\theta^\top\phi_{w'}}
              =-\theta^\top\Phi p_{\cdot\mid s}+\mathrm{logsumexp}(\Phi^\top\theta) .

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Softmax language model".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)
        True next-word distributions (same leading shape as ``theta``).

    Returns
    -------
    numpy.ndarray, shape (S,) or ()
    """
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    return _xent(Phi, theta, p)


def _xent(Phi: np.ndarray, theta: np.ndarray, p: np.ndarray) -> np.ndarray:
    logits = theta @ Phi
    return logsumexp(logits, axis=-1) - np.sum(p * logits, axis=-1)


@check_shapes(Phi=_PHI, theta=_THETA, p=_P)
def softmax_gradient(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Gradient of the per-context cross-entropy, :math:`\nabla_\theta\ell_{\mathrm{xent},s}=\Phi(p_\theta-p^*_s)`.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)
    """
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    return (softmax(theta @ Phi, axis=-1) - p) @ Phi.T


def _finite_optimum_exists(Phi: np.ndarray, p_s: np.ndarray) -> bool:
    """Whether Phi p_s lies in the relative interior of conv{phi_w}: max delta s.t. q >= delta, Phi q = Phi p_s."""
    d, V = Phi.shape
    c = np.zeros(V + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-np.eye(V), np.ones((V, 1))])
    A_eq = np.vstack([np.append(np.ones(V), 0.0), np.hstack([Phi, np.zeros((d, 1))])])
    b_eq = np.append(1.0, Phi @ p_s)
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(V), A_eq=A_eq, b_eq=b_eq, bounds=[(0, 1)] * (V + 1), method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)


def _damped_newton_step(Phi, P, theta, f, q, mean, grad):
    """One Newton step per context (pseudo-inverse of the Hessian) with a backtracking (Armijo) line search."""
    H = np.einsum("sv,iv,jv->sij", q, Phi, Phi) - mean[:, :, None] * mean[:, None, :]
    w, U = np.linalg.eigh(H)
    cut = 1e-13 * np.maximum(w[:, -1:], 1e-300)
    inv = np.where(w > cut, 1.0 / np.where(w > cut, w, 1.0), 0.0)
    step = -np.einsum("sij,sj->si", U, inv * np.einsum("sji,sj->si", U, grad))
    slope = np.sum(grad * step, axis=1)
    t = np.ones(P.shape[0])
    active = np.ones(P.shape[0], dtype=bool)
    new_theta, new_f = theta.copy(), f.copy()
    for _ in range(60):
        cand = theta[active] + t[active, None] * step[active]
        f_cand = _xent(Phi, cand, P[active])
        ok = f_cand <= f[active] + 1e-4 * t[active] * slope[active] + 1e-14 * (1.0 + np.abs(f[active]))
        idx = np.flatnonzero(active)
        new_theta[idx[ok]] = cand[ok]
        new_f[idx[ok]] = f_cand[ok]
        active[idx[ok]] = False
        if not active.any():
            break
        t[active] *= 0.5
    return new_theta, new_f


@check_shapes(Phi=_PHI, p=_P)
def softmax_optimal_theta(Phi: ArrayLike, p: ArrayLike, *, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    r"""The best context vector of a softmax model for each context (a convex problem per context).

    .. math:: \theta^*_s\in\arg\min_{\theta\in\mathbb R^d}\ \ell_{\mathrm{xent},s}(\theta),\qquad
              \text{characterised by}\quad \Phi\,p_{\theta^*_s}=\Phi\,p_{\cdot\mid s} .

    Damped Newton's method, vectorized over contexts: the Hessian is
    :math:`\Phi(\mathrm{diag}(p_\theta)-p_\theta p_\theta^\top)\Phi^\top` (a pseudo-inverse handles directions
    with constant logits), with a backtracking line search; it stops when
    :math:`\max_s\|\Phi(p_{\theta_s}-p_{\cdot\mid s})\|_\infty\le` ``tol``. A finite minimiser exists iff
    :math:`\Phi p_{\cdot\mid s}` lies in the relative interior of :math:`\mathrm{conv}\{\phi_w\}` (always true
    for :math:`p` of full support); for a row with zero entries this is checked by a linear program and a
    ``ValueError`` is raised when it fails.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings.
    p : array_like, shape (S, V) or (V,)
        True next-word distributions.
    tol : float
        Tolerance on the max-norm of the gradient (the moment mismatch).
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)

    Raises
    ------
    ValueError
        When a row of ``p`` has zeros and no finite optimum exists.
    RuntimeError
        When Newton's method has not converged after ``max_iter`` iterations.
    """
    tol = check_float("tol", tol, minimum=0.0, strict_min=True)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    single = p.ndim == 1
    P = p[None, :] if single else p
    for s in np.flatnonzero(np.any(P <= 0, axis=1)):
        if not _finite_optimum_exists(Phi, P[s]):
            raise ValueError(
                f"p has zero entries in context {s} and Phi p lies on the boundary of the convex hull of the "
                "word embeddings: the cross-entropy has no finite minimiser (the optimum is at infinity)"
            )
    theta = np.zeros((P.shape[0], Phi.shape[0]))
    target = P @ Phi.T
    f = _xent(Phi, theta, P)
    for _ in range(max_iter):
        q = softmax(theta @ Phi, axis=-1)
        mean = q @ Phi.T
        grad = mean - target
        if np.max(np.abs(grad)) <= tol:
            return theta[0] if single else theta
        theta, f = _damped_newton_step(Phi, P, theta, f, q, mean, grad)
    q = softmax(theta @ Phi, axis=-1)
    worst = float(np.max(np.abs(q @ Phi.T - target)))
    if worst <= tol:
        return theta[0] if single else theta
    raise RuntimeError(f"softmax_optimal_theta did not converge in {max_iter} iterations (moment gap {worst:.3g})")


@check_shapes(Phi=_PHI, theta=_THETA, p=_P, theta_star=Shape("[S] d", optional=True))
def softmax_excess(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike, theta_star: ArrayLike | None = None) -> np.ndarray:
    r"""Per-context excess cross-entropy over the best softmax model with the same :math:`\Phi`.

    .. math:: \ell_{\mathrm{xent},s}(\theta_s)-\inf_{\theta'}\ell_{\mathrm{xent},s}(\theta')\ \ge0 .

    See: Chapter "Natural tasks and the square-root guarantee", Lemma "Modified Pinsker".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)
    theta_star : array_like, optional
        The optimum from :func:`softmax_optimal_theta` (computed when omitted).
    """
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    ts = softmax_optimal_theta(Phi, p) if theta_star is None else theta_star
    if ts.shape != theta.shape:
        raise ValueError(f"theta_star must have shape {theta.shape}, got {ts.shape}")
    return np.maximum(_xent(Phi, theta, p) - _xent(Phi, ts, p), 0.0)
