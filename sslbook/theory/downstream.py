"""Exact results of the downstream protocol: how many labels a probe needs.

See: Chapter 1, "The downstream protocol".
"""

from __future__ import annotations

import numpy as np

from sslbook._validation import check_array, check_float, check_int

__all__ = [
    "mean_estimation_bound",
    "mean_estimation_risk",
    "ols_expected_excess_risk",
]


def ols_expected_excess_risk(p: int, n: int, sigma: float = 1.0) -> float:
    r"""Expected excess risk of least squares with Gaussian design.

    For :math:`y=\langle w^*,x\rangle+\varepsilon`, :math:`x\sim\mathcal N(0,\Sigma)` in
    :math:`\mathbb R^p`, :math:`\varepsilon\sim\mathcal N(0,\sigma^2)` independent, and the OLS estimate
    :math:`\hat w` from :math:`n` samples,

    .. math:: \E\,\mathrm{ER}(\hat w) = \E\,(\hat w-w^*)^\top\Sigma(\hat w-w^*) = \frac{\sigma^2 p}{n-p-1},
              \qquad n > p+1,

    whatever :math:`\Sigma` and :math:`w^*` (for :math:`n = p+1` the expectation is infinite).

    See: Chapter 1, Theorem "Excess risk of least squares".

    Parameters
    ----------
    p : int
        Dimension of the representation, :math:`p\ge1`.
    n : int
        Number of labelled samples, :math:`n > p+1`.
    sigma : float
        Noise standard deviation.
    """
    p = check_int("p", p, minimum=1)
    n = check_int("n", n, minimum=1)
    sigma = check_float("sigma", sigma, minimum=0.0)
    if n <= p + 1:
        raise ValueError(f"n must exceed p + 1 = {p + 1} for a finite expected excess risk, got n={n}")
    return sigma**2 * p / (n - p - 1)


def mean_estimation_risk(population, n: int) -> float:
    r"""Exact mean squared error of a class mean estimated from :math:`n` i.i.d. draws of a finite population.

    If :math:`f(x)` is uniform over the rows of ``population`` (with mean :math:`\mu`), and
    :math:`\hat\mu_n` averages :math:`n` independent draws, then

    .. math:: \E\|\hat\mu_n-\mu\|^2 = \frac{\operatorname{tr}\Cov(f(x))}{n}
              = \frac{\E\|f(x)-\mu\|^2}{n}.

    See: Chapter 1, Lemma "Estimating a class mean".

    Parameters
    ----------
    population : array_like, shape (N, d)
        The finite class-conditional distribution of features (rows equally likely).
    n : int
        Number of draws.
    """
    F = check_array("population", population, ndim=2)
    n = check_int("n", n, minimum=1)
    centred = F - F.mean(axis=0)
    return float(np.mean(np.sum(centred**2, axis=1)) / n)


def mean_estimation_bound(radius: float, n: int) -> float:
    r"""The bound :math:`R^2/n` on :math:`\E\|\hat\mu_n-\mu\|^2` when :math:`\|f(x)\|\le R`.

    See: Chapter 1, Lemma "Estimating a class mean".
    """
    radius = check_float("radius", radius, minimum=0.0)
    n = check_int("n", n, minimum=1)
    return radius**2 / n
