r"""Head tuning on a pretrained language model (Wei, Xie, Ma 2021): exact heads and certificates of failure.

The downstream label of a context is a linear threshold of a hidden-state posterior,
:math:`y(x)=1[\mu^\top q(x)\ge0]` with :math:`q(x)=P(H_{T+1}\mid x_{1:T})`, and the pretrained model outputs the
next-token distribution :math:`G(x)=B\,q(x)`. A linear head :math:`b` predicts :math:`1[b^\top G(x)+c\ge0]`.
If :math:`b^\top B=\mu^\top` the head reproduces the label exactly; when no such :math:`b` exists a linear program
can certify that **no** head is error-free (a Farkas certificate: the convex hulls of the two classes' features
intersect). Pure numpy/scipy.

See: Chapter "Latent-variable languages: HMMs and head tuning".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float

__all__ = [
    "SeparationCertificate",
    "balanced_threshold",
    "best_threshold_error",
    "head_error",
    "rowspan_residual",
    "separating_head_lp",
    "solve_head",
]


@check_shapes(B="n m", mu="m")
def rowspan_residual(B: Any, mu: Any) -> float:
    r"""Distance from :math:`\mu` to the row space of :math:`B`, :math:`\min_b\|B^\top b-\mu\|_2`.

    Zero exactly when a linear head on :math:`G=Bq` can reproduce :math:`\mu^\top q`; always zero when :math:`B`
    has full column rank.

    See: Chapter "Latent-variable languages: HMMs and head tuning", Theorem "Head tuning is exact".

    Parameters
    ----------
    B : array_like, shape (V, m)
        Emission matrix.
    mu : array_like, shape (m,)
        Label direction on hidden-state posteriors.

    Returns
    -------
    float
        :math:`\|(I-B^+B)\mu\|_2`.
    """
    b = np.linalg.lstsq(B.T, mu, rcond=None)[0]
    return float(np.linalg.norm(B.T @ b - mu))


@check_shapes(B="n m", mu="m")
def solve_head(B: Any, mu: Any, *, tol: float = 1e-9) -> np.ndarray:
    r"""The minimum-norm head :math:`b` with :math:`b^\top B=\mu^\top` (so :math:`b^\top Bq=\mu^\top q` for all q).

    See: Chapter "Latent-variable languages: HMMs and head tuning", Theorem "Head tuning is exact".

    Parameters
    ----------
    B : array_like, shape (V, m)
        Emission matrix.
    mu : array_like, shape (m,)
        Label direction.
    tol : float
        Largest accepted residual :math:`\|B^\top b-\mu\|_2/(1+\|\mu\|_2)`.

    Returns
    -------
    numpy.ndarray
        :math:`b=(B^\top)^+\mu`, shape (V,).

    Raises
    ------
    ValueError
        If :math:`\mu` is not in the row space of :math:`B` (no exact head exists).
    """
    tol = check_float("tol", tol, minimum=0.0)
    b = np.linalg.lstsq(B.T, mu, rcond=None)[0]
    res = float(np.linalg.norm(B.T @ b - mu))
    if res > tol * (1.0 + np.linalg.norm(mu)):
        raise ValueError(f"mu is not in the row space of B (residual {res:.3g}): no exact linear head exists")
    return b


#: Labels in {0, 1} and optional non-negative weights, one per row of the features (or scores).
_LABELS = Shape("n", dtype="int")
_WEIGHTS = Shape("n", optional=True)


def _labels_and_weights(y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Check the 0/1 labels; the weights normalised to sum to 1 (uniform when None)."""
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels in {0, 1}")
    if weights is None:
        return np.full(y.shape[0], 1.0 / y.shape[0])
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return weights / weights.sum()


@check_shapes(G="n k", y=_LABELS, b="k", weights=_WEIGHTS)
def head_error(G: Any, y: Any, b: Any, *, c: float = 0.0, weights: Any = None) -> float:
    r"""Weighted 0-1 error of the head :math:`x\mapsto 1[b^\top G(x)+c\ge0]`.

    See: Chapter "Latent-variable languages: HMMs and head tuning".

    Parameters
    ----------
    G : array_like, shape (S, V)
        Features of the S contexts (e.g. next-token distributions).
    y : array_like, shape (S,)
        Labels in {0, 1}.
    b : array_like, shape (V,)
        Head.
    c : float
        Bias.
    weights : array_like, shape (S,), optional
        Context probabilities (normalized here; default uniform).

    Returns
    -------
    float
        :math:`\sum_s w_s\,1[\hat y_s\ne y_s]`.
    """
    w = _labels_and_weights(y, weights)
    c = check_float("c", c)
    pred = (G @ b + c >= 0).astype(np.int64)
    return float(w[pred != y].sum())


@check_shapes(scores="n", weights=_WEIGHTS)
def balanced_threshold(scores: Any, weights: Any = None) -> float:
    r"""A threshold :math:`\theta` that splits the (weighted) scores as evenly as possible without touching any.

    Returns the midpoint between the weighted median score and the next larger distinct score, so that
    :math:`1[s\ge\theta]` has positive mass close to 1/2 and every score is at distance
    :math:`\ge` half a gap from :math:`\theta` (no ties that rounding could flip).

    See: Chapter "Latent-variable languages: HMMs and head tuning".

    Parameters
    ----------
    scores : array_like, shape (S,)
        Scores, e.g. :math:`\mu^\top q(x)` over contexts.
    weights : array_like, shape (S,), optional
        Probabilities of the contexts (default uniform).

    Returns
    -------
    float
        The threshold.
    """
    s = scores
    w = np.full(s.shape[0], 1.0) if weights is None else weights
    u, inv = np.unique(s, return_inverse=True)
    if u.shape[0] < 2:
        raise ValueError("scores must take at least two distinct values")
    mass = np.bincount(inv, weights=w, minlength=u.shape[0])
    upper = mass[::-1].cumsum()[::-1] / mass.sum()  # mass of {s >= u_k}
    k = int(np.argmin(np.abs(upper[1:] - 0.5))) + 1  # best split between u_{k-1} and u_k
    return float(0.5 * (u[k - 1] + u[k]))


@dataclass(frozen=True)
class SeparationCertificate:
    r"""Outcome of :func:`separating_head_lp`.

    Attributes
    ----------
    separable : bool
        Whether some head :math:`(b,c)` classifies every context correctly.
    b : numpy.ndarray or None
        A separating head with :math:`s_i(b^\top G_i+c)\ge1` (``s_i=2y_i-1``) when separable.
    c : float or None
        Its bias.
    lam : numpy.ndarray or None
        When not separable: a Farkas certificate :math:`\zeta\ge0`, :math:`\sum_i\zeta_i=1`,
        :math:`\sum_i\zeta_i s_i(G_i,1)=0`: the classes have equal mass 1/2 in :math:`\zeta` and the
        :math:`\zeta`-weighted means of their features coincide.
    residual : float
        :math:`\|\sum_i\zeta_i s_i(G_i,1)\|_\infty` (0 up to rounding for a valid certificate), or ``nan``.
    hull_point : numpy.ndarray or None
        The common point :math:`2\sum_{y_i=1}\zeta_iG_i` of the two convex hulls.
    """

    separable: bool
    b: np.ndarray | None
    c: float | None
    lam: np.ndarray | None
    residual: float
    hull_point: np.ndarray | None


@check_shapes(G="n k", y=_LABELS)
def separating_head_lp(G: Any, y: Any) -> SeparationCertificate:
    r"""Decide by linear programming whether a linear head separates the labels, with a certificate either way.

    Primal: find :math:`(b,c)` with :math:`s_i(b^\top G_i+c)\ge1` for all i (:math:`s_i=2y_i-1`); on a finite
    set this is feasible iff some head :math:`1[b^\top G+c\ge0]` has zero error. If it is infeasible, Farkas'
    lemma gives :math:`\zeta\ge0`, :math:`\sum\zeta_i=1`, :math:`\sum_i\zeta_is_i(G_i,1)=0`, found by a
    second LP and returned so that it can be checked independently: for any head
    :math:`\sum_i\zeta_i s_i(b^\top G_i+c)=0`, impossible if every term were positive.

    See: Chapter "Latent-variable languages: HMMs and head tuning", Proposition "A certified failure".

    Parameters
    ----------
    G : array_like, shape (S, V)
        Features of the contexts.
    y : array_like, shape (S,)
        Labels in {0, 1} (both present).

    Returns
    -------
    SeparationCertificate
    """
    _labels_and_weights(y, None)
    if y.min() == y.max():
        raise ValueError("y must contain both labels")
    s = 2.0 * y - 1.0
    M = s[:, None] * np.hstack([G, np.ones((G.shape[0], 1))])  # rows s_i (G_i, 1)
    n, d = M.shape
    primal = linprog(np.zeros(d), A_ub=-M, b_ub=-np.ones(n), bounds=[(None, None)] * d, method="highs")
    if primal.status == 0:
        z = primal.x
        return SeparationCertificate(True, z[:-1], float(z[-1]), None, float("nan"), None)
    if primal.status != 2:  # pragma: no cover - numerical trouble
        raise RuntimeError(f"LP failed: {primal.message}")
    A_eq = np.vstack([M.T, np.ones((1, n))])
    b_eq = np.zeros(d + 1)
    b_eq[-1] = 1.0
    dual = linprog(np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    if dual.status != 0:  # pragma: no cover - numerical trouble
        raise RuntimeError(f"Farkas LP failed: {dual.message}")
    lam = np.clip(dual.x, 0.0, None)
    lam = lam / lam.sum()
    residual = float(np.max(np.abs(M.T @ lam)))
    hull = 2.0 * (lam[y == 1] @ G[y == 1])
    return SeparationCertificate(False, None, None, lam, residual, hull)


@check_shapes(scores="n", y=_LABELS, weights=_WEIGHTS)
def best_threshold_error(scores: Any, y: Any, weights: Any = None, *, decimals: int | None = None) -> float:
    r"""Smallest weighted 0-1 error of a one-dimensional threshold rule :math:`1[a\,s+c\ge0]` (any a, c).

    Exact: with the distinct score values :math:`u_1<\dots<u_K`, the rules are "positive iff
    :math:`s\ge u_k`", "positive iff :math:`s\le u_k`" and the two constants; all are scanned with cumulative sums.
    ``decimals`` rounds the scores first (merging values that differ only by rounding).

    See: Chapter "Latent-variable languages: HMMs and head tuning", Proposition "A certified failure".

    Parameters
    ----------
    scores : array_like, shape (S,)
        One real feature per context.
    y : array_like, shape (S,)
        Labels in {0, 1}.
    weights : array_like, shape (S,), optional
        Probabilities (normalized here; default uniform).
    decimals : int, optional
        Round the scores to this many decimals before grouping equal values.

    Returns
    -------
    float
        The minimal error.
    """
    s = scores
    w = _labels_and_weights(y, weights)
    if decimals is not None:
        s = np.round(s, int(decimals))
    u, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=w * (y == 1), minlength=u.shape[0])
    neg = np.bincount(inv, weights=w * (y == 0), minlength=u.shape[0])
    pos_below = np.concatenate([[0.0], np.cumsum(pos)])  # positive mass strictly below u_k (k = 0..K)
    neg_below = np.concatenate([[0.0], np.cumsum(neg)])
    P, N = pos.sum(), neg.sum()
    up = pos_below + (N - neg_below)  # rule "positive iff s >= u_k" (k = K: all negative)
    down = neg_below[1:] + (P - pos_below[1:])  # rule "positive iff s <= u_k"
    return float(min(up.min(), down.min(), P, N))
