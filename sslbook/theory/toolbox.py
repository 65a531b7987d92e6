"""The toolbox of the book: convex surrogate losses, Jensen gaps, total variation, KL and Pinsker.

Everything here is exact numpy/scipy (no torch). The two surrogate losses :func:`hinge_loss` and
:func:`logistic2_loss` are the numpy losses of Part II. The Rademacher complexity of linear classes is in
:mod:`sslbook.theory.complexity`.
See: Chapter 2, "Toolbox".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from sslbook._validation import check_array, check_simplex

__all__ = [
    "HINGE_LIPSCHITZ",
    "LOGISTIC2_LIPSCHITZ",
    "hinge_loss",
    "jensen_gap",
    "kl_divergence",
    "logistic2_loss",
    "pinsker_bound",
    "total_variation",
]

_LN2 = math.log(2.0)

#: Lipschitz constants of the surrogate losses with respect to the max-norm of the margins
#: (hence also the Euclidean norm): :math:`|\ell(v)-\ell(w)|\le L\,\|v-w\|_\infty`.
HINGE_LIPSCHITZ: float = 1.0
LOGISTIC2_LIPSCHITZ: float = 1.0 / _LN2


def _margins(v: ArrayLike) -> np.ndarray:
    """Margins as a float array whose last axis holds the k >= 1 margins (a 0-d input is k = 1)."""
    arr = check_array("v", v, ndim=None)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.shape[-1] < 1:
        raise ValueError(f"v must hold at least one margin on its last axis, got shape {arr.shape}")
    return arr


def hinge_loss(v: ArrayLike) -> np.ndarray:
    r"""Multi-class hinge loss of a vector of margins.

    .. math:: \ell(v)=\max\Big\{0,\;1+\max_{1\le i\le k}(-v_i)\Big\}=\max\{0,\,1-\min_i v_i\},
              \qquad v\in\mathbb R^k .

    Convex, non-increasing in every margin, :math:`\ell(0)=1`, and 1-Lipschitz in the max-norm.

    See: Chapter 2, Proposition "The two surrogate losses".

    Parameters
    ----------
    v : array_like, shape (..., k)
        Margins on the **last** axis (``k >= 1``). A 0-d input is one margin (``k = 1``); a 1-d input of
        shape ``(k,)`` is *one* vector of ``k`` margins. For ``n`` scalar margins pass shape ``(n, 1)``.

    Returns
    -------
    numpy.ndarray, shape v.shape[:-1]
        The loss of each margin vector (a 0-d array for a 0-d or 1-d input).
    """
    m = _margins(v)
    return np.maximum(0.0, 1.0 - m.min(axis=-1))


def logistic2_loss(v: ArrayLike) -> np.ndarray:
    r"""Multi-class logistic loss in base 2 of a vector of margins.

    .. math:: \ell(v)=\log_2\Big(1+\sum_{i=1}^k e^{-v_i}\Big),\qquad v\in\mathbb R^k ,

    computed stably as :math:`\mathrm{logaddexp}(0,\mathrm{logsumexp}(-v))/\ln 2`. Convex, decreasing in every
    margin, :math:`\ell(0)=\log_2(1+k)` (so :math:`\ell(0)=1` for ``k = 1``), and :math:`1/\ln 2`-Lipschitz in
    the max-norm.

    See: Chapter 2, Proposition "The two surrogate losses".

    Parameters
    ----------
    v : array_like, shape (..., k)
        Margins on the **last** axis (``k >= 1``). A 0-d input is one margin (``k = 1``); a 1-d input of
        shape ``(k,)`` is *one* vector of ``k`` margins. For ``n`` scalar margins pass shape ``(n, 1)``.

    Returns
    -------
    numpy.ndarray, shape v.shape[:-1]
        The loss of each margin vector (a 0-d array for a 0-d or 1-d input).
    """
    m = _margins(v)
    return np.asarray(np.logaddexp(0.0, logsumexp(-m, axis=-1)) / _LN2)


def jensen_gap(loss: Callable[[np.ndarray], np.ndarray], points: ArrayLike, probs: ArrayLike) -> np.ndarray:
    r"""Exact Jensen gap :math:`\mathbb E\,\ell(V)-\ell(\mathbb E V)` of a finite distribution of margin vectors.

    For :math:`V` equal to ``points[i]`` with probability ``probs[i]``,

    .. math:: \mathbb E\,\ell(V)-\ell(\mathbb E V)=\sum_i p_i\,\ell(v_i)-\ell\Big(\sum_i p_i v_i\Big),

    which is :math:`\ge 0` for every convex :math:`\ell` (Jensen's inequality).

    See: Chapter 2, Lemma "Jensen's inequality".

    Parameters
    ----------
    loss : callable
        Maps an array of shape ``(..., k)`` to shape ``(...)``, e.g. :func:`hinge_loss`.
    points : array_like, shape (..., n, k)
        The ``n`` atoms of each distribution (a batch of distributions on the leading axes).
    probs : array_like, shape (..., n)
        Their probabilities: non-negative, summing to 1 on the last axis.

    Returns
    -------
    numpy.ndarray, shape (...)
        One gap per distribution.
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    pts = check_array("points", points, ndim=None)
    if pts.ndim < 2:
        raise ValueError(f"points must have shape (..., n, k), got shape {pts.shape}")
    p = check_simplex("probs", probs)
    if p.shape != pts.shape[:-1]:
        raise ValueError(f"probs must have shape points.shape[:-1] = {pts.shape[:-1]}, got {p.shape}")
    expected_loss = np.sum(p * np.asarray(loss(pts)), axis=-1)
    mean_point = np.sum(p[..., None] * pts, axis=-2)
    return expected_loss - np.asarray(loss(mean_point))


# ----------------------------------------------------------------------------------------------------------------
# Pinsker's inequality
# ----------------------------------------------------------------------------------------------------------------


def _distributions(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = check_simplex("p", p)
    q = check_simplex("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape (..., n), got {p.shape} and {q.shape}")
    return p, q


def total_variation(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""Total variation distance :math:`\mathrm{TV}(p,q)=\tfrac12\sum_i|p_i-q_i|=\max_A\,(p(A)-q(A))`.

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Probability vectors on the last axis.
    """
    p, q = _distributions(p, q)
    return 0.5 * np.abs(p - q).sum(axis=-1)


def kl_divergence(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""Kullback--Leibler divergence :math:`\mathrm{KL}(p\,\|\,q)=\sum_i p_i\ln(p_i/q_i)` in nats.

    Terms with :math:`p_i=0` are 0; a term with :math:`p_i>0=q_i` makes the divergence :math:`+\infty`. It is
    summed as :math:`\sum_i(p_i\ln(p_i/q_i)-p_i+q_i)`, whose terms are non-negative, so round-off never makes it
    negative.

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Probability vectors on the last axis.
    """
    p, q = _distributions(p, q)
    # Each term p ln(p/q) - p + q is >= 0 (and the added -p + q sum to 0), so round-off cannot make KL < 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(np.where(p > 0, p, 1.0)) - np.log(q)
        terms = np.where(p > 0, p * log_ratio - p + q, q)
    return np.maximum(terms, 0.0).sum(axis=-1)


def pinsker_bound(kl: ArrayLike) -> np.ndarray:
    r"""Pinsker's bound :math:`\sqrt{\mathrm{KL}/2}` on the total variation distance (KL in nats).

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    kl : array_like
        Non-negative divergences (``inf`` allowed).
    """
    k = check_array("kl", kl, ndim=None, finite=False)
    if np.any(np.isnan(k)) or np.any(k < 0):
        raise ValueError("kl must be non-negative (and not NaN)")
    return np.sqrt(k / 2.0)
