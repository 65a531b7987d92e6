r"""Multiple views on finite alphabets: the conditional-expectation operator, whitened CCA, density ratios.

Two views :math:`X_1\in\{1..n_1\}`, :math:`X_2\in\{1..n_2\}` with joint table :math:`P_{12}` (and, where a label
enters, :math:`P(x_1,x_2,y)`). Every quantity here is an exact finite sum or a matrix decomposition.

See: Chapter "Multiple views: nonlinear CCA, SimSiam and multi-view redundancy".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_float, check_int, check_rng, check_work

__all__ = [
    "CCAResult",
    "RedundancyQuantities",
    "alternating_conditional_expectations",
    "cca_objective",
    "conditional_expectation_operator",
    "density_ratio",
    "landmark_predictor",
    "landmark_variance",
    "projection_residual",
    "redundancy",
    "whitened_cca",
]

_POS_TOL = 1e-300


#: A joint probability table of two variables (the whole table sums to 1), and of three (X, Z, Y).
_JOINT2 = Shape("n1 n2", simplex=True, axis=None)
_JOINT3 = Shape("nx nz k", simplex=True, axis=None)


def _check_pair_marginals(name: str, p12: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p1, p2 = p12.sum(axis=1), p12.sum(axis=0)
    if np.any(p1 <= _POS_TOL) or np.any(p2 <= _POS_TOL):
        raise ValueError(f"{name} must have positive marginals (drop symbols of probability zero)")
    return p1, p2


@check_shapes(p12=_JOINT2)
def conditional_expectation_operator(p12) -> np.ndarray:
    r"""Matrix of the conditional-expectation operator :math:`T:g\mapsto\mathbb E[g(X_2)\mid X_1]`.

    .. math:: (Tg)(x_1)=\sum_{x_2}P(x_2\mid x_1)\,g(x_2),\qquad T=D_1^{-1}P_{12},

    with :math:`D_1=\operatorname{diag}(P(x_1))`. Each row of ``T`` is a conditional distribution.

    See: Chapter "Multiple views", Theorem "Whitened CCA is the SVD of T".

    Parameters
    ----------
    p12 : array_like, shape (n1, n2)
        Joint probabilities :math:`P(x_1,x_2)` with positive marginals.

    Returns
    -------
    numpy.ndarray, shape (n1, n2)
    """
    p1, _ = _check_pair_marginals("p12", p12)
    return p12 / p1[:, None]


@dataclass(frozen=True)
class CCAResult:
    r"""Top-:math:`k` whitened CCA pairs of a finite joint.

    Attributes
    ----------
    sigma : numpy.ndarray
        Shape (k,). Canonical correlations, the singular values of :math:`\bar P=D_1^{-1/2}P_{12}D_2^{-1/2}`,
        descending; ``sigma[0] == 1`` (the trivial pair).
    psi1 : numpy.ndarray
        Shape (n1, k). :math:`\psi_1=D_1^{-1/2}U_k`, functions of :math:`x_1` with
        :math:`\mathbb E[\psi_1\psi_1^\top]=I_k`.
    psi2 : numpy.ndarray
        Shape (n2, k). :math:`\psi_2=D_2^{-1/2}V_k`, with :math:`\mathbb E[\psi_2\psi_2^\top]=I_k`.
    """

    sigma: np.ndarray
    psi1: np.ndarray
    psi2: np.ndarray


@check_shapes(p12=_JOINT2)
def whitened_cca(p12, k: int) -> CCAResult:
    r"""Closed-form whitened (nonlinear) CCA on finite alphabets, including the trivial pair.

    With :math:`\bar P=D_1^{-1/2}P_{12}D_2^{-1/2}=U\Sigma V^\top`,

    .. math:: \psi_1=D_1^{-1/2}U_k,\quad \psi_2=D_2^{-1/2}V_k,\qquad
              \max_{\mathbb E[\psi_i\psi_i^\top]=I_k}\ \mathbb E\langle\psi_1(X_1),\psi_2(X_2)\rangle
              =\sum_{i\le k}\sigma_i,

    and :math:`T\psi_2=\psi_1\operatorname{diag}(\sigma)`; :math:`\sigma_1=1` with constant
    :math:`\psi_{1,1}=\psi_{2,1}=1` (signs are fixed so that the first pair is :math:`+1`).

    See: Chapter "Multiple views", Theorem "Whitened CCA is the SVD of T".

    Parameters
    ----------
    p12 : array_like, shape (n1, n2)
        Joint probabilities with positive marginals.
    k : int
        Number of pairs, :math:`1\le k\le\min(n_1,n_2)`.

    Returns
    -------
    CCAResult
    """
    p1, p2 = _check_pair_marginals("p12", p12)
    k = check_int("k", k, minimum=1, maximum=min(p12.shape))
    s1, s2 = np.sqrt(p1), np.sqrt(p2)
    B = p12 / s1[:, None] / s2[None, :]
    U, sigma, Vt = np.linalg.svd(B)
    U, V = U[:, :k], Vt[:k].T
    psi1, psi2 = U / s1[:, None], V / s2[:, None]
    sign = np.sign(psi1[0, 0]) or 1.0  # make the trivial pair the constant +1
    psi1[:, 0] *= sign
    psi2[:, 0] *= sign
    return CCAResult(sigma=sigma[:k].copy(), psi1=psi1, psi2=psi2)


@check_shapes(p12=_JOINT2, psi1="n1 k", psi2="n2 k")
def cca_objective(p12, psi1, psi2) -> float:
    r"""The whitened CCA objective :math:`\mathbb E\langle\psi_1(X_1),\psi_2(X_2)\rangle
    =\operatorname{tr}(\psi_1^\top P_{12}\psi_2)`.

    Equivalently :math:`\tfrac12\big(2k-\mathbb E\|\psi_1(X_1)-\psi_2(X_2)\|^2\big)` for whitened features.

    See: Chapter "Multiple views", Theorem "Whitened CCA is the SVD of T".

    Parameters
    ----------
    p12 : array_like, shape (n1, n2)
        Joint probabilities.
    psi1 : array_like, shape (n1, k)
        Features of view 1 (row ``x1`` is :math:`\psi_1(x_1)`).
    psi2 : array_like, shape (n2, k)
        Features of view 2.
    """
    return float(np.trace(psi1.T @ p12 @ psi2))


def _whiten(psi: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Columns orthonormal in L2(p): QR of D^{1/2} psi."""
    s = np.sqrt(p)
    Q, _ = np.linalg.qr(psi * s[:, None])
    return Q / s[:, None]


@check_shapes(p12=_JOINT2)
def alternating_conditional_expectations(p12, k: int, n_iter: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    r"""Alternating conditional expectations (ACE): block power iteration for the top-:math:`k` CCA pairs.

    Starting from random whitened :math:`\psi_2`, repeat ``n_iter`` times

    .. math:: \psi_1\leftarrow\operatorname{whiten}_{P_1}\big(\mathbb E[\psi_2(X_2)\mid X_1]\big),\qquad
              \psi_2\leftarrow\operatorname{whiten}_{P_2}\big(\mathbb E[\psi_1(X_1)\mid X_2]\big),

    whitening by a QR decomposition in :math:`L^2(P_i)`. The span of :math:`\psi_1` converges to that of the
    top-:math:`k` left singular functions of :math:`T` at the rate :math:`(\sigma_{k+1}/\sigma_k)^{2t}` when
    :math:`\sigma_k>\sigma_{k+1}` (Breiman and Friedman's ACE, in its linear-algebra form).

    See: Chapter "Multiple views", Section "Learning the singular functions by alternation".

    Parameters
    ----------
    p12 : array_like, shape (n1, n2)
        Joint probabilities with positive marginals.
    k : int
        Number of functions per view.
    n_iter : int
        Number of full iterations (each applies :math:`T` and its adjoint once), ``>= 0``.
    rng : numpy.random.Generator, int or None
        Random start.

    Returns
    -------
    psi1 : numpy.ndarray, shape (n1, k)
    psi2 : numpy.ndarray, shape (n2, k)
    """
    p1, p2 = _check_pair_marginals("p12", p12)
    k = check_int("k", k, minimum=1, maximum=min(p12.shape))
    n_iter = check_int("n_iter", n_iter, minimum=0)
    check_work("n_iter", 8.0 * n_iter * p12.size * k, what="the alternating iterations")
    rng = check_rng("rng", rng)
    T, T_adj = p12 / p1[:, None], p12.T / p2[:, None]
    psi2 = _whiten(rng.standard_normal((p12.shape[1], k)), p2)
    psi1 = _whiten(T @ psi2, p1)
    for _ in range(n_iter):
        psi2 = _whiten(T_adj @ psi1, p2)
        psi1 = _whiten(T @ psi2, p1)
    return psi1, psi2


def _orthonormal_basis(name: str, A: np.ndarray, rtol: float) -> np.ndarray:
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        raise ValueError(f"{name} must have a non-zero column")
    return U[:, s > rtol * s[0]]


def projection_residual(A, B, *, rtol: float = 1e-10) -> float:
    r"""How far the column span of ``B`` sticks out of the column span of ``A``.

    .. math:: r(A,B)=\big\|(I-Q_AQ_A^\top)\,Q_B\big\|_2,

    with orthonormal bases :math:`Q_A,Q_B` of the spans (from an SVD; singular values below
    ``rtol`` times the largest are dropped). :math:`r=0` iff :math:`\operatorname{span}B\subseteq
    \operatorname{span}A`; :math:`r\le1`, and :math:`r=1` when some direction of :math:`B` is orthogonal to
    :math:`A`. Unlike arccos of principal-angle cosines, :math:`r` has no :math:`\sqrt{\text{eps}}` floor.

    See: Chapter "Multiple views", Theorem "Under CI the posterior lies in the CCA span".

    Parameters
    ----------
    A : array_like, shape (n, a)
    B : array_like, shape (n, b)
    rtol : float
        Relative rank tolerance for both bases.
    """
    A = check_array("A", A, ndim=(1, 2))
    B = check_array("B", B, ndim=(1, 2))
    A, B = A.reshape(A.shape[0], -1), B.reshape(B.shape[0], -1)
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must have the same number of rows, got {A.shape[0]} and {B.shape[0]}")
    rtol = check_float("rtol", rtol, minimum=0.0, maximum=1.0)
    QA, QB = _orthonormal_basis("A", A, rtol), _orthonormal_basis("B", B, rtol)
    R = QB - QA @ (QA.T @ QB)
    return float(np.linalg.norm(R, 2))


@check_shapes(p_xz=_JOINT2)
def density_ratio(p_xz) -> np.ndarray:
    r"""Density ratio :math:`r(x,z)=\dfrac{P(x,z)}{P(x)P(z)}` of a finite two-view joint.

    The Bayes-optimal contrastive classifier (positive pairs against independent pairs, balanced) is
    :math:`r/(1+r)`.

    See: Chapter "Multiple views", Section "Multi-view redundancy".

    Parameters
    ----------
    p_xz : array_like, shape (nx, nz)
        Joint probabilities with positive marginals.
    """
    p = p_xz
    px, pz = _check_pair_marginals("p_xz", p)
    return p / np.outer(px, pz)


def landmark_predictor(p_xz, h_z, landmarks=None) -> np.ndarray:
    r"""The linear predictor on the landmark embedding :math:`\psi(x)=(r(x,z))_z`.

    .. math:: g(x)=\sum_z P(z)\,h(z)\,r(x,z)=\mathbb E_{z\sim P_Z}[h(z)r(x,z)],

    or, with sampled landmarks :math:`z_1..z_m\sim P_Z`, the unbiased estimate
    :math:`\hat g(x)=\frac1m\sum_j h(z_j)r(x,z_j)`.

    See: Chapter "Multiple views", Proposition "Landmark identity".

    Parameters
    ----------
    p_xz : array_like, shape (nx, nz)
        Joint probabilities with positive marginals.
    h_z : array_like, shape (nz,) or (nz, q)
        A function of :math:`z`, e.g. :math:`\mathbb E[Y\mid Z=z]`.
    landmarks : array_like of int, shape (m,), optional
        Sampled landmark symbols; ``None`` uses the exact expectation over :math:`P_Z`.

    Returns
    -------
    numpy.ndarray, shape (nx,) or (nx, q)
    """
    rho = density_ratio(p_xz)
    h = check_array("h_z", h_z, ndim=(1, 2))
    if h.shape[0] != rho.shape[1]:
        raise ValueError(f"h_z must have {rho.shape[1]} rows (one per z), got {h.shape[0]}")
    h2 = h.reshape(h.shape[0], -1)
    if landmarks is None:
        pz = np.asarray(p_xz, dtype=float).sum(axis=0)
        out = rho @ (pz[:, None] * h2)
    else:
        idx = check_array("landmarks", landmarks, ndim=1, dtype="int")
        if np.any(idx < 0) or np.any(idx >= rho.shape[1]):
            raise ValueError(f"landmarks must be symbols in [0, {rho.shape[1]})")
        out = rho[:, idx] @ h2[idx] / idx.size
    return out[:, 0] if h.ndim == 1 else out


@dataclass(frozen=True)
class RedundancyQuantities:
    r"""Exact multi-view redundancy quantities of a finite joint :math:`P(x,z,y)` (see :func:`redundancy`).

    Attributes
    ----------
    eps_x, eps_z : float
        :math:`\epsilon_X=\mathbb E\|\mathbb E[Y|X]-\mathbb E[Y|X,Z]\|^2`, and the same with :math:`Z`.
    error_vs_x : float
        :math:`\mathbb E\|g(X)-\mathbb E[Y|X]\|^2` for :math:`g(x)=\mathbb E[\mathbb E[Y|Z]\mid X=x]`.
    error_vs_xz : float
        :math:`\mathbb E\|g(X)-\mathbb E[Y|X,Z]\|^2`.
    """

    eps_x: float
    eps_z: float
    error_vs_x: float
    error_vs_xz: float


def _y_values(y_values, k: int) -> np.ndarray:
    if y_values is None:
        return np.eye(k)
    v = check_array("y_values", y_values, ndim=(1, 2))
    if v.shape[0] != k:
        raise ValueError(f"y_values must have {k} rows (one per label), got {v.shape[0]}")
    return v.reshape(k, -1)


@check_shapes(joint=_JOINT3)
def redundancy(joint, y_values=None, g=None) -> RedundancyQuantities:
    r"""Exact redundancy constants and the errors of the one-view predictor :math:`g=\mathbb E[\mathbb E[Y|Z]|X]`.

    .. math:: \epsilon_X=\mathbb E\|\mathbb E[Y|X]-\mathbb E[Y|X,Z]\|^2,\quad
              \epsilon_Z=\mathbb E\|\mathbb E[Y|Z]-\mathbb E[Y|X,Z]\|^2,

    all expectations under :math:`P(x,z)`, computed by enumeration. :math:`Y` takes the value
    ``y_values[y]`` (default: one-hot vectors, so :math:`\mathbb E[Y|\cdot]` is the posterior).

    See: Chapter "Multiple views", Theorem "Redundancy bound".

    Parameters
    ----------
    joint : array_like, shape (nx, nz, k)
        :math:`P(x,z,y)`; the marginals :math:`P(x)`, :math:`P(z)` must be positive.
    y_values : array_like, shape (k,) or (k, q), optional
        The value of :math:`Y` for each label.
    g : array_like, shape (nx,) or (nx, q), optional
        A predictor of :math:`Y` from :math:`x` to score instead of :math:`\mathbb E[\mathbb E[Y|Z]|X]`.
    """
    p = joint
    pxz = p.sum(axis=2)
    px, pz = _check_pair_marginals("joint", pxz)
    v = _y_values(y_values, p.shape[2])
    safe = np.where(pxz > 0, pxz, 1.0)  # E[Y|x,z] is irrelevant (weight 0) where P(x,z) = 0
    e_xz = np.einsum("xzy,yq->xzq", p, v) / safe[:, :, None]
    e_x = np.einsum("xzy,yq->xq", p, v) / px[:, None]
    e_z = np.einsum("xzy,yq->zq", p, v) / pz[:, None]
    if g is None:
        g = (pxz / px[:, None]) @ e_z
    else:
        g_arr = check_array("g", g, ndim=(1, 2))
        if g_arr.size != e_x.size or g_arr.shape[0] != e_x.shape[0]:
            raise ValueError(f"g must have shape {e_x.shape[:1]} or {e_x.shape}, got {g_arr.shape}")
        g = g_arr.reshape(e_x.shape)

    def mse(a):  # E over P(x,z) of a squared norm
        return float(np.sum(pxz * np.sum(a**2, axis=-1)))

    return RedundancyQuantities(
        eps_x=mse(e_x[:, None, :] - e_xz),
        eps_z=mse(e_z[None, :, :] - e_xz),
        error_vs_x=mse(np.broadcast_to((g - e_x)[:, None, :], e_xz.shape)),
        error_vs_xz=mse(g[:, None, :] - e_xz),
    )


def landmark_variance(p_xz, h_z, m: int) -> float:
    r"""Exact mean squared error of the sampled-landmark predictor :math:`\hat g` of :func:`landmark_predictor`.

    For :math:`m` i.i.d. landmarks :math:`z_j\sim P_Z`, :math:`\hat g(x)` is an average of :math:`m` i.i.d. copies
    of :math:`h(z)r(x,z)` with mean :math:`g(x)`, so

    .. math:: \mathbb E\,\mathbb E_{x\sim P_X}\|\hat g(x)-g(x)\|^2
              =\frac1m\sum_x P(x)\Big(\sum_z P(z)\|h(z)\|^2r(x,z)^2-\|g(x)\|^2\Big).

    See: Chapter "Multiple views", Proposition "Landmark identity".

    Parameters
    ----------
    p_xz : array_like, shape (nx, nz)
        Joint probabilities with positive marginals.
    h_z : array_like, shape (nz,) or (nz, q)
        A function of :math:`z`.
    m : int
        Number of landmarks.
    """
    m = check_int("m", m, minimum=1)
    g = landmark_predictor(p_xz, h_z)
    p = np.asarray(p_xz, dtype=float)
    px, pz = p.sum(axis=1), p.sum(axis=0)
    r = density_ratio(p)
    h2 = np.sum(np.asarray(h_z, dtype=float).reshape(pz.size, -1) ** 2, axis=1)
    second = (r**2) @ (pz * h2)
    return float(px @ (second - np.sum(g.reshape(px.size, -1) ** 2, axis=1)) / m)
