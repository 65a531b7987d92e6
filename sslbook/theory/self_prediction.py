"""Self-prediction (reconstruction) pretext tasks in closed form: partial covariance, the CI-violation
:math:`\\epsilon_{CI}`, Gaussian conditional-mean features and the approximation error of a linear probe.

All quantities are exact functions of a joint covariance matrix of zero-mean jointly Gaussian variables
(pure numpy).
See: Chapter "Predicting what you already know".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import check_shapes
from sslbook._validation import check_array, check_psd

__all__ = [
    "ACIBound",
    "aci_bound",
    "approximation_error",
    "conditional_mean_map",
    "eps_ci",
    "linear_prediction_error",
    "partial_covariance",
]


def _check_cov(cov) -> np.ndarray:
    """A joint covariance: symmetric positive semi-definite (a matrix that is not gives meaningless blocks)."""
    return check_psd("cov", cov)


def _check_index(name: str, idx, size: int) -> np.ndarray:
    idx = check_array(name, np.atleast_1d(idx), ndim=1, dtype="int")
    if idx.size == 0 or idx.min() < 0 or idx.max() >= size:
        raise ValueError(f"{name} must be a non-empty index array into cov of size {size}")
    return idx


def _inv_sqrt(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    if w.min() <= 0:
        raise ValueError("cov: the block Sigma_11 of X1 must be positive definite")
    return (V / np.sqrt(w)) @ V.T


def partial_covariance(cov, a, b, c) -> np.ndarray:
    r"""Partial covariance :math:`\Sigma_{AB\mid C}=\Sigma_{AB}-\Sigma_{AC}\Sigma_{CC}^{-1}\Sigma_{CB}`.

    For jointly Gaussian variables it is the covariance of :math:`A` and :math:`B` given :math:`C`; it is zero
    when :math:`A\perp B\mid C`.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    cov : array_like, shape (D, D)
        Joint covariance.
    a, b, c : array_like of int
        Indices of the blocks :math:`A`, :math:`B`, :math:`C` (:math:`\Sigma_{CC}` positive definite).

    Returns
    -------
    numpy.ndarray, shape (len(a), len(b))
    """
    cov = _check_cov(cov)
    a, b, c = (_check_index(n, v, cov.shape[0]) for n, v in (("a", a), ("b", b), ("c", c)))
    S_cc = cov[np.ix_(c, c)]
    try:
        sol = np.linalg.solve(S_cc, cov[np.ix_(c, b)])
    except np.linalg.LinAlgError:
        raise ValueError("c: the block Sigma_CC must be invertible") from None
    return cov[np.ix_(a, b)] - cov[np.ix_(a, c)] @ sol


def eps_ci(cov, x1, x2, given) -> float:
    r"""The CI violation :math:`\epsilon_{CI}=\big\|\Sigma_{11}^{-1/2}\,\Sigma_{12\mid\bar Y}\big\|_F`.

    Zero exactly when the partial covariance of :math:`X_1, X_2` given :math:`\bar Y` vanishes (CI for jointly
    Gaussian variables).

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    cov : array_like, shape (D, D)
    x1, x2, given : array_like of int
        Indices of :math:`X_1`, :math:`X_2` and :math:`\bar Y=[Y;Z]`.

    Returns
    -------
    float
    """
    cov = _check_cov(cov)
    x1 = _check_index("x1", x1, cov.shape[0])
    P = partial_covariance(cov, x1, x2, given)
    return float(np.linalg.norm(_inv_sqrt(cov[np.ix_(x1, x1)]) @ P))


def conditional_mean_map(cov, target, given) -> np.ndarray:
    r"""The matrix :math:`M=\Sigma_{TG}\Sigma_{GG}^{-1}` of :math:`\mathbb E[T\mid G=g]=Mg` (zero-mean Gaussians).

    With ``target`` :math:`X_2` and ``given`` :math:`X_1` this is the pretext optimum
    :math:`\psi^*(x_1)=\Sigma_{21}\Sigma_{11}^{-1}x_1`; with target :math:`Y` it is :math:`f^*`.

    See: Chapter "Predicting what you already know", "The Gaussian warm-up".

    Parameters
    ----------
    cov : array_like, shape (D, D)
    target, given : array_like of int

    Returns
    -------
    numpy.ndarray, shape (len(target), len(given))
    """
    cov = _check_cov(cov)
    t = _check_index("target", target, cov.shape[0])
    g = _check_index("given", given, cov.shape[0])
    try:
        return np.linalg.solve(cov[np.ix_(g, g)], cov[np.ix_(g, t)]).T
    except np.linalg.LinAlgError:
        raise ValueError("given: the block Sigma_GG must be invertible") from None


@check_shapes(W="k m", target_map="k d", feature_map="m d", cov_x="d d")
def linear_prediction_error(W, target_map, feature_map, cov_x) -> float:
    r"""Population error :math:`\mathbb E\|f^*(X)-W\psi(X)\|^2=\mathrm{tr}\big((F-WM)\Sigma_X(F-WM)^\top\big)` of
    the linear predictor :math:`W\psi`, for :math:`f^*(x)=Fx`, :math:`\psi(x)=Mx`, :math:`\mathbb E[XX^\top]=
    \Sigma_X`.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    W : array_like, shape (t, p)
    target_map : array_like, shape (t, d)
        :math:`F`.
    feature_map : array_like, shape (p, d)
        :math:`M`.
    cov_x : array_like, shape (d, d)

    Returns
    -------
    float
    """
    F, M, S = target_map, feature_map, check_psd("cov_x", cov_x)
    D = F - W @ M
    return float(np.trace(D @ S @ D.T))


@check_shapes(target_map="k d", feature_map="m d", cov_x="d d")
def approximation_error(target_map, feature_map, cov_x) -> float:
    r"""Approximation error :math:`e_{apx}(\psi)=\min_W\mathbb E\|f^*(X)-W\psi(X)\|^2` for linear
    :math:`f^*(x)=Fx` and features :math:`\psi(x)=Mx`: the minimiser is
    :math:`W=F\Sigma_XM^\top(M\Sigma_XM^\top)^{+}`.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    target_map : array_like, shape (t, d)
    feature_map : array_like, shape (p, d)
    cov_x : array_like, shape (d, d)

    Returns
    -------
    float
    """
    F, M, S = target_map, feature_map, check_psd("cov_x", cov_x)
    W = F @ S @ M.T @ np.linalg.pinv(M @ S @ M.T)
    return max(linear_prediction_error(W, F, M, S), 0.0)


@dataclass(frozen=True)
class ACIBound:
    """The quantities of the approximate-CI bound (see :func:`aci_bound`)."""

    eps_ci: float  #: epsilon_CI = ||Sigma_11^{-1/2} Sigma_{12|Ybar}||_F
    sigma_min_A: float  #: smallest singular value of A = Sigma_{2 Ybar} Sigma_{Ybar Ybar}^{-1}
    e_apx: float  #: min_W E||E[Ybar|X1] - W psi*(X1)||^2
    e_apx_y: float  #: the same for the target block Y alone (<= e_apx)
    error_pinv: float  #: E||E[Ybar|X1] - A^+ psi*(X1)||^2, computed as a prediction error
    error_pinv_closed_form: float  #: ||A^+ Sigma_{21|Ybar} Sigma_11^{-1/2}||_F^2
    bound: float  #: eps_ci^2 / sigma_min(A)^2
    identity_residual: float  #: max abs entry of Sigma_21 S11^-1 - (A Sigma_{Ybar 1} + Sigma_{21|Ybar}) S11^-1


def aci_bound(cov, y, ybar, x1, x2) -> ACIBound:
    r"""Every term of the approximate-CI bound for jointly Gaussian :math:`(\bar Y, X_1, X_2)`.

    With :math:`A=\Sigma_{2\bar Y}\Sigma_{\bar Y\bar Y}^{-1}` (full column rank),
    :math:`\psi^*(x_1)=A\,\bar f^*(x_1)+\Sigma_{21\mid\bar Y}\Sigma_{11}^{-1}x_1`, hence

    .. math::
        e_{apx}(\psi^*)\le\mathbb E\|\bar f^*-A^+\psi^*\|^2=\|A^+\Sigma_{21\mid\bar Y}\Sigma_{11}^{-1/2}\|_F^2
        \le\frac{\epsilon_{CI}^2}{\sigma_{\min}(A)^2}.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    cov : array_like, shape (D, D)
    y, ybar, x1, x2 : array_like of int
        Indices of :math:`Y` (a sub-block of :math:`\bar Y`), :math:`\bar Y`, :math:`X_1`, :math:`X_2`.

    Returns
    -------
    ACIBound
    """
    cov = _check_cov(cov)
    D = cov.shape[0]
    y, ybar, x1, x2 = (_check_index(n, v, D) for n, v in (("y", y), ("ybar", ybar), ("x1", x1), ("x2", x2)))
    if not np.all(np.isin(y, ybar)):
        raise ValueError("y must be a sub-block of ybar")
    S11 = cov[np.ix_(x1, x1)]
    A = conditional_mean_map(cov, x2, ybar)  # E[X2 | Ybar] = A Ybar
    svals = np.linalg.svd(A, compute_uv=False)
    if A.shape[0] < A.shape[1] or svals.min() <= 1e-12 * max(svals.max(), 1.0):
        raise ValueError("cov: A = Sigma_{2 Ybar} Sigma_{Ybar Ybar}^{-1} must have full column rank")
    M = conditional_mean_map(cov, x2, x1)  # psi*
    Fbar = conditional_mean_map(cov, ybar, x1)  # E[Ybar | X1]
    Fy = conditional_mean_map(cov, y, x1)
    P21 = partial_covariance(cov, x2, x1, ybar)
    S11_inv = np.linalg.inv(S11)
    identity = np.max(np.abs(M - (A @ Fbar + P21 @ S11_inv)))
    A_pinv = np.linalg.pinv(A)
    eps = eps_ci(cov, x1, x2, ybar)
    return ACIBound(
        eps_ci=eps,
        sigma_min_A=float(svals.min()),
        e_apx=approximation_error(Fbar, M, S11),
        e_apx_y=approximation_error(Fy, M, S11),
        error_pinv=linear_prediction_error(A_pinv, Fbar, M, S11),
        error_pinv_closed_form=float(np.linalg.norm(A_pinv @ P21 @ _inv_sqrt(S11)) ** 2),
        bound=eps**2 / float(svals.min()) ** 2,
        identity_residual=float(identity),
    )
