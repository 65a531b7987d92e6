r"""Why inductive biases are unavoidable: exact quantities for Saunshi et al. (ICML 2022).

Two views of the same spectral contrastive loss
:math:`L_{spec}(f)=-2\,\mathbb E_{(x,x^+)}[f(x)^\top f(x^+)]+\mathbb E_{x,x'}[(f(x)^\top f(x'))^2]`:

* over **all functions** it only sees the augmentation graph; when augmentation sets are disjoint the graph
  splits into one component per natural input, every component carries a unit eigenvalue, and
  function-class-agnostic guarantees are vacuous (:mod:`sslbook.theory.components`);
* over **linear maps** :math:`f(x)=Wx` it only sees :math:`\Sigma=\mathbb E[xx^\top]` and
  :math:`\Sigma_+=\mathbb E[x(x^+)^\top]` through :math:`\mathbf M=\Sigma^{-1/2}\Sigma_+\Sigma^{-1/2}`
  (:func:`linear_aug_matrix`), and the spectral gap of :math:`\mathbf M` gives a guarantee
  (:func:`linear_class_bound`, :func:`davis_kahan_bound`).

Pure numpy/scipy. See: Chapter "Why inductive biases are unavoidable".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import check_shapes
from sslbook._validation import check_array, check_float, check_int

__all__ = [
    "LinearClassBound",
    "LinearSpectralSolution",
    "best_linear_probe_residual",
    "davis_kahan_bound",
    "estimate_aug_moments",
    "linear_aug_matrix",
    "linear_class_bound",
    "linear_spectral_loss",
    "spectral_linear_closed_form",
    "subspace_miss",
]


def _sym_sqrt_inv(S: np.ndarray) -> np.ndarray:
    w, U = np.linalg.eigh(S)
    return (U / np.sqrt(w)) @ U.T


def _check_cov(name: str, S, d: int | None = None, *, pd: bool) -> np.ndarray:
    S = check_array(name, S, ndim=2)
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be square, got shape {S.shape}")
    if d is not None and S.shape[0] != d:
        raise ValueError(f"{name} must have shape ({d}, {d}), got {S.shape}")
    if not np.allclose(S, S.T, rtol=0, atol=1e-10 * max(1.0, np.abs(S).max())):
        raise ValueError(f"{name} must be symmetric")
    w = np.linalg.eigvalsh(S)
    tol = 1e-12 * max(1.0, np.abs(w).max())
    if pd and w.min() <= tol:
        raise ValueError(f"{name} must be positive definite, smallest eigenvalue {w.min():.3g}")
    if not pd and w.min() < -tol * 1e3:
        raise ValueError(f"{name} must be positive semi-definite, smallest eigenvalue {w.min():.3g}")
    return (S + S.T) / 2


# ----------------------------------------------------------------------------------------------------
# The linear class: M, (P2-a) and (P2-b)
# ----------------------------------------------------------------------------------------------------


def linear_aug_matrix(sigma, sigma_plus) -> np.ndarray:
    r"""The augmentation matrix of the linear class, :math:`\mathbf M=\Sigma^{-1/2}\Sigma_+\Sigma^{-1/2}`.

    Its eigenvalues lie in :math:`[0,1]` when :math:`\Sigma_+` comes from positive pairs
    (:math:`0\preceq\Sigma_+\preceq\Sigma` by Jensen).

    See: Chapter "Why inductive biases are unavoidable", "The linear class".

    Parameters
    ----------
    sigma : array_like, shape (D, D)
        :math:`\Sigma=\mathbb E[\phi(x)\phi(x)^\top]`, symmetric positive definite.
    sigma_plus : array_like, shape (D, D)
        :math:`\Sigma_+=\mathbb E[\phi(x)\phi(x^+)^\top]`, symmetric positive semi-definite.

    Returns
    -------
    numpy.ndarray, shape (D, D)
    """
    S = _check_cov("sigma", sigma, pd=True)
    Sp = _check_cov("sigma_plus", sigma_plus, S.shape[0], pd=False)
    R = _sym_sqrt_inv(S)
    M = R @ Sp @ R
    return (M + M.T) / 2


def linear_spectral_loss(W, sigma, sigma_plus) -> float:
    r"""Population spectral contrastive loss of :math:`f(x)=W\phi(x)` (P2-a):
    :math:`L_{spec}(W)=-2\operatorname{tr}(W\Sigma_+W^\top)+\|W\Sigma W^\top\|_F^2`.

    See: Chapter "Why inductive biases are unavoidable", "The linear class".

    Parameters
    ----------
    W : array_like, shape (k, D)
    sigma, sigma_plus : array_like, shape (D, D)
        As in :func:`linear_aug_matrix`.
    """
    W = check_array("W", W, ndim=2)
    S = _check_cov("sigma", sigma, W.shape[1], pd=False)
    Sp = _check_cov("sigma_plus", sigma_plus, W.shape[1], pd=False)
    G = W @ S @ W.T
    return float(-2.0 * np.trace(W @ Sp @ W.T) + np.sum(G * G))


@dataclass(frozen=True)
class LinearSpectralSolution:
    r"""A minimizer of :math:`L_{spec}` over linear maps (see :func:`spectral_linear_closed_form`)."""

    W: np.ndarray  #: (k, D) the minimizer :math:`\Lambda_k^{1/2}U_k^\top\Sigma^{-1/2}`
    eigenvalues: np.ndarray  #: (D,) eigenvalues of M, descending
    eigenvectors: np.ndarray  #: (D, D) matching eigenvectors (columns) of M
    loss: float  #: the minimum :math:`-\sum_{i\le k}\lambda_i^2`
    M: np.ndarray  #: (D, D) the matrix M


def spectral_linear_closed_form(sigma, sigma_plus, k: int) -> LinearSpectralSolution:
    r"""Closed-form minimizer of the spectral loss over linear maps :math:`f(x)=W\phi(x)` (P2-a).

    With :math:`V=W\Sigma^{1/2}`, :math:`L_{spec}(W)=\|\mathbf M-V^\top V\|_F^2-\|\mathbf M\|_F^2`; by
    Eckart--Young the minimizers are :math:`V=O\Lambda_k^{1/2}U_k^\top` (top-:math:`k` eigenpairs of
    :math:`\mathbf M`, any orthogonal :math:`O`), with minimum :math:`-\sum_{i\le k}\lambda_i^2`. Returned
    with :math:`O=I`. Requires :math:`\lambda_k\ge0` (true for positive pairs).

    See: Chapter "Why inductive biases are unavoidable", "The linear class".

    Parameters
    ----------
    sigma, sigma_plus : array_like, shape (D, D)
        As in :func:`linear_aug_matrix`.
    k : int
        Representation dimension, ``1 <= k <= D``.
    """
    M = linear_aug_matrix(sigma, sigma_plus)
    D = M.shape[0]
    k = check_int("k", k, minimum=1, maximum=D)
    w, U = np.linalg.eigh(M)
    w, U = w[::-1], U[:, ::-1]
    if w[k - 1] < -1e-12:
        raise ValueError(f"M has a negative eigenvalue among its top k={k}: sigma_plus is not from positive pairs")
    lam = np.clip(w[:k], 0.0, None)
    S = _check_cov("sigma", sigma, pd=True)
    W = (np.sqrt(lam)[:, None] * U[:, :k].T) @ _sym_sqrt_inv(S)
    return LinearSpectralSolution(W=W, eigenvalues=w, eigenvectors=U, loss=float(-np.sum(lam**2)), M=M)


@dataclass(frozen=True)
class LinearClassBound:
    r"""The terms of the linear-class guarantee (P2-b) for one target (see :func:`linear_class_bound`)."""

    residual: float  #: :math:`\sum_{i>k}a_i^2`, the best probe's squared error on the spectral minimizer
    energy: float  #: :math:`\mathcal E(g)=a^\top(I-\mathbf M)a`
    gap: float  #: :math:`1-\lambda_{k+1}(\mathbf M)`
    bound: float  #: :math:`\mathcal E(g)/(1-\lambda_{k+1})` (``inf`` when the gap is 0 and the energy > 0)


def linear_class_bound(a, M, k: int) -> LinearClassBound:
    r"""The linear-class downstream guarantee (P2-b) for a target :math:`g(x)=a^\top\Sigma^{-1/2}\phi(x)`.

    .. math:: \min_u\mathbb E\big(g(x)-u^\top f^*(x)\big)^2=\sum_{i>k}a_i^2
              \le\frac{\mathcal E(g)}{1-\lambda_{k+1}(\mathbf M)},\qquad
              \mathcal E(g)=\tfrac12\mathbb E(g(x)-g(x^+))^2=a^\top(I-\mathbf M)a,

    with :math:`a_i=u_i^\top a` in the eigenbasis of :math:`\mathbf M` and :math:`f^*` the spectral minimizer
    of :func:`spectral_linear_closed_form` (assumes :math:`\lambda_k>0`).

    See: Chapter "Why inductive biases are unavoidable", "A guarantee for the linear class".

    Parameters
    ----------
    a : array_like, shape (D,)
        Target coefficients in whitened coordinates.
    M : array_like, shape (D, D)
        The matrix of :func:`linear_aug_matrix`.
    k : int
        Representation dimension, ``1 <= k < D``.
    """
    M = _check_cov("M", M, pd=False)
    D = M.shape[0]
    a = check_array("a", a, ndim=1)
    if a.shape != (D,):
        raise ValueError(f"a must have shape ({D},), got {a.shape}")
    k = check_int("k", k, minimum=1, maximum=D - 1)
    w, U = np.linalg.eigh(M)
    w, U = w[::-1], U[:, ::-1]
    coords = U.T @ a
    residual = float(np.sum(coords[k:] ** 2))
    energy = float(a @ (np.eye(D) - M) @ a)
    gap = float(1.0 - w[k])
    if gap > 1e-14:
        bound = energy / gap
    else:
        bound = float("inf") if energy > 1e-14 else float("nan")
    return LinearClassBound(residual=residual, energy=energy, gap=gap, bound=float(bound))


@check_shapes(a="D", W="k D", sigma="D D")
def best_linear_probe_residual(a, W, sigma) -> float:
    r"""Population squared error of the best linear probe on :math:`f(x)=W\phi(x)` for
    :math:`g(x)=a^\top\Sigma^{-1/2}\phi(x)`, from the normal equations (no eigendecomposition of M):

    .. math:: \min_u\mathbb E\big(g-u^\top f\big)^2=a^\top a-b^\top(W\Sigma W^\top)^{+}b,\qquad b=W\Sigma^{1/2}a.

    See: Chapter "Why inductive biases are unavoidable", "A guarantee for the linear class".

    Parameters
    ----------
    a : array_like, shape (D,)
    W : array_like, shape (k, D)
    sigma : array_like, shape (D, D)
        Positive definite.
    """
    S = _check_cov("sigma", sigma, pd=True)
    w, U = np.linalg.eigh(S)
    b = W @ ((U * np.sqrt(w)) @ U.T) @ a
    G = W @ S @ W.T
    return float(a @ a - b @ np.linalg.pinv(G, rcond=1e-12, hermitian=True) @ b)


def subspace_miss(W, sigma, M, k: int) -> float:
    r"""How much of the top-:math:`k` eigenspace of :math:`\mathbf M` the learned linear features miss.

    With :math:`V=W\Sigma^{1/2}`, :math:`Q` the orthogonal projector onto the row space of :math:`V` and
    :math:`P_k` the projector onto the top-:math:`k` eigenvectors of :math:`\mathbf M`,
    :math:`t=\|(I-Q)P_k\|_F^2=k-\|QP_k\|_F^2`. When :math:`V` has rank :math:`k` this is
    :math:`\|\sin\Theta\|_F^2=\sum_j\sin^2\theta_j` over the principal angles between the two subspaces.

    See: Chapter "Why inductive biases are unavoidable", "Near-minimizers of the linear class".

    Parameters
    ----------
    W : array_like, shape (k', D)
    sigma : array_like, shape (D, D)
        Positive definite.
    M : array_like, shape (D, D)
    k : int
        Dimension of the reference eigenspace, ``1 <= k <= D``.
    """
    W = check_array("W", W, ndim=2)
    S = _check_cov("sigma", sigma, W.shape[1], pd=True)
    M = _check_cov("M", M, W.shape[1], pd=False)
    D = M.shape[0]
    k = check_int("k", k, minimum=1, maximum=D)
    w, U = np.linalg.eigh(S)
    V = W @ ((U * np.sqrt(w)) @ U.T)
    u, sv, _ = np.linalg.svd(V.T, full_matrices=False)
    basis = u[:, sv > 1e-10 * max(sv.max(), 1e-300)]
    _, E = np.linalg.eigh(M)
    top = E[:, ::-1][:, :k]
    return float(k - np.sum((basis.T @ top) ** 2))


def davis_kahan_bound(excess, eigenvalues, k: int) -> float:
    r"""Davis--Kahan-type bound on the subspace of a near-minimizer of the linear spectral loss:
    :math:`\|(I-Q)P_k\|_F^2\le\varepsilon/(\lambda_k^2-\lambda_{k+1}^2)`.

    Here :math:`\varepsilon=L_{spec}(W)-\min L_{spec}` is the excess loss of :math:`W` and :math:`\lambda_i` the
    eigenvalues of :math:`\mathbf M` in descending order (see :func:`subspace_miss`).

    See: Chapter "Why inductive biases are unavoidable", "Near-minimizers of the linear class".

    Parameters
    ----------
    excess : float
        :math:`\varepsilon\ge0` (round-off below 0 is clipped).
    eigenvalues : array_like, shape (D,)
        Eigenvalues of M, any order (sorted here).
    k : int
        ``1 <= k < D``.

    Returns
    -------
    float
        ``inf`` when :math:`\lambda_k=\lambda_{k+1}`.
    """
    excess = check_float("excess", excess)
    if excess < -1e-9:
        raise ValueError(f"excess must be >= 0, got {excess}")
    lam = np.sort(check_array("eigenvalues", eigenvalues, ndim=1))[::-1]
    k = check_int("k", k, minimum=1, maximum=lam.size - 1)
    gap2 = lam[k - 1] ** 2 - lam[k] ** 2
    if gap2 <= 1e-15:
        return float("inf")
    return float(max(excess, 0.0) / gap2)


@check_shapes(x="n D", x_pos="n D")
def estimate_aug_moments(x, x_pos, *, symmetric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Sample estimates of :math:`\Sigma` and :math:`\Sigma_+` from :math:`n` positive pairs.

    :math:`\hat\Sigma_+=\frac1{2n}\sum_i(x_ix_i^{+\top}+x_i^+x_i^\top)`. With ``symmetric=False``,
    :math:`\hat\Sigma=\frac1n\sum_ix_ix_i^\top` (anchors only); with ``symmetric=True``,
    :math:`\hat\Sigma=\frac1{2n}\sum_i(x_ix_i^\top+x_i^+x_i^{+\top})`, so that
    :math:`\hat\Sigma-\hat\Sigma_+=\frac1{2n}\sum_i(x_i-x_i^+)(x_i-x_i^+)^\top`.

    See: Chapter "Why inductive biases are unavoidable", "From finitely many pairs".

    Parameters
    ----------
    x, x_pos : array_like, shape (n, D)
        Anchors and positives.
    symmetric : bool
    """
    if not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__}")
    n = x.shape[0]
    C = x.T @ x_pos / n
    Sp = (C + C.T) / 2
    S = (x.T @ x + x_pos.T @ x_pos) / (2 * n) if symmetric else x.T @ x / n
    return S, Sp
