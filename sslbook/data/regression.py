"""Linear regression with Gaussian design: the model behind the excess-risk formula of Chapter 1.

See: Chapter 1, "Least squares on a representation".
"""

from __future__ import annotations

import numpy as np

from sslbook._shapes import bind_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng


def gaussian_linear_regression(
    n: int,
    p: int,
    *,
    trials: int | None = None,
    sigma: float = 1.0,
    w_star=None,
    cov=None,
    rng=None,
):
    r"""Draw :math:`n` samples of :math:`y=\langle w^*,x\rangle+\varepsilon`, :math:`x\sim\mathcal N(0,\Sigma)`,
    :math:`\varepsilon\sim\mathcal N(0,\sigma^2)` independent.

    Parameters
    ----------
    n, p : int
        Sample size and dimension.
    trials : int, optional
        Draw this many independent datasets at once (a leading batch axis).
    sigma : float
        Noise standard deviation :math:`\sigma \ge 0`.
    w_star : array_like, shape (p,), optional
        True coefficients (default: a standard normal draw).
    cov : array_like, shape (p, p), optional
        Positive definite :math:`\Sigma` (default identity).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    X : numpy.ndarray, shape ([trials,] n, p)
    y : numpy.ndarray, shape ([trials,] n)
    w_star : numpy.ndarray, shape (p,)
    """
    n = check_int("n", n, minimum=1)
    p = check_int("p", p, minimum=1)
    sigma = check_float("sigma", sigma, minimum=0.0)
    rng = check_rng("rng", rng)
    shape = (n,) if trials is None else (check_int("trials", trials, minimum=1), n)
    check_memory("n and trials", 24.0 * float(np.prod(shape, dtype=float)) * (p + 1), what="the samples")
    if w_star is None:
        w_star = rng.standard_normal(p)
    else:
        w_star = bind_shapes({"w_star": (w_star, "p")}, dims={"p": p})["w_star"]
    Z = rng.standard_normal(shape + (p,))
    if cov is None:
        X = Z
    else:
        cov = bind_shapes({"cov": (cov, "p p")}, dims={"p": p})["cov"]
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
            raise ValueError("cov must be symmetric positive definite (it is not symmetric)")
        try:
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov must be symmetric positive definite") from None
        X = Z @ L.T
    y = X @ w_star + sigma * rng.standard_normal(shape)
    return X, y, w_star


def random_covariance(p: int, *, condition: float = 100.0, rng=None) -> np.ndarray:
    r"""A random covariance :math:`\Sigma=Q\,\mathrm{diag}(\lambda)\,Q^\top` with log-spaced eigenvalues from 1
    to ``condition`` and a Haar-random rotation :math:`Q`.

    Parameters
    ----------
    p : int
        Dimension.
    condition : float
        Condition number :math:`\lambda_{\max}/\lambda_{\min}\ge1`.
    rng : numpy.random.Generator or int, optional
    """
    p = check_int("p", p, minimum=1)
    condition = check_float("condition", condition, minimum=1.0)
    if p == 1 and condition != 1.0:
        raise ValueError(f"condition must be 1 when p=1 (a 1x1 covariance), got {condition}")
    rng = check_rng("rng", rng)
    Q, R = np.linalg.qr(rng.standard_normal((p, p)))
    Q = Q * np.sign(np.diag(R))  # Haar measure
    eig = np.logspace(0.0, np.log10(condition), p)
    return (Q * eig) @ Q.T
