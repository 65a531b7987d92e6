r"""Exact population losses of the CURL framework (contrastive learning with latent classes).

Every expectation is a finite sum: each latent class :math:`c` has a finite support (the feature vectors
:math:`f(x)` of its points, with probabilities), so :math:`L_{un}`, :math:`L^{=}_{un}`, :math:`L^{\ne}_{un}`,
:math:`L^\mu_{sup}`, the :math:`k`-negative loss and the block loss are computed by enumeration, without
sampling. The representation enters only through the per-class feature arrays, so any :math:`f` can be plugged
in, including a collapsed one (constant within each class).

A representation is given either as a sequence of ``C`` arrays ``features[c]`` of shape ``(n_c, d)`` (the
features of the support points of class ``c``) with ``rho`` and optional ``probs``, or as a finite
:class:`sslbook.data.LatentClassModel` (whose points are then the features; use its ``represent(f)`` to apply
a representation).

See: Chapter 3, "The CURL framework and the surrogate lemma"; Chapter 5, "Negatives and blocks".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from sslbook._validation import check_array, check_choice, check_float, check_int, check_memory
from sslbook.theory.toolbox import hinge_loss, logistic2_loss

#: The convex surrogate losses of the CURL framework (both have :math:`\ell(0)=1` for one margin).
LOSSES = ("hinge", "logistic2")

_CHUNK = 2_000_000  # entries of a margin array evaluated at once


def _loss_fn(loss: str):
    loss = check_choice("loss", loss, LOSSES)
    return hinge_loss if loss == "hinge" else logistic2_loss


def _check_rho(rho, n_classes: int | None = None) -> np.ndarray:
    """Validate a class distribution and return it as float64, renormalised to sum to exactly 1."""
    r = check_array("rho", rho, ndim=1)
    if n_classes is not None and r.shape[0] != n_classes:
        raise ValueError(f"rho must have one entry per class ({n_classes}), got {r.shape[0]}")
    if np.any(r < 0):
        raise ValueError("rho must be non-negative")
    if not abs(r.sum() - 1.0) <= 1e-9:
        raise ValueError(f"rho must sum to 1, got {r.sum():.12g}")
    return r / r.sum()


def _check_supports(points, probs, *, name: str, min_classes: int = 1) -> tuple[tuple, tuple]:
    """Validate finite per-class supports: ``name[c]`` arrays (n_c, dim) of one dimension, and within-class
    probabilities ``probs[c]`` (uniform when ``probs`` is None), renormalised to sum to exactly 1.

    Shared by :class:`sslbook.data.LatentClassModel` and the exact calculators of this module.
    """
    if isinstance(points, np.ndarray) or not hasattr(points, "__len__"):
        raise TypeError(f"{name} must be a sequence of per-class arrays of shape (n_c, d)")
    pts = tuple(check_array(f"{name}[{c}]", P, ndim=2) for c, P in enumerate(points))
    if len(pts) < min_classes:
        raise ValueError(f"{name} must hold at least {min_classes} classes, got {len(pts)}")
    dims = {P.shape[1] for P in pts}
    if len(dims) > 1:
        raise ValueError(f"{name} must have the same dimension in every class, got {sorted(dims)}")
    if probs is None:
        return pts, tuple(np.full(P.shape[0], 1.0 / P.shape[0]) for P in pts)
    if len(probs) != len(pts):
        raise ValueError(f"probs must have one array per class ({len(pts)}), got {len(probs)}")
    prs = []
    for c, (P, p) in enumerate(zip(pts, probs, strict=True)):
        p = check_array(f"probs[{c}]", p, ndim=1)
        if p.shape[0] != P.shape[0]:
            raise ValueError(f"probs[{c}] must have {P.shape[0]} entries (one per point), got {p.shape[0]}")
        if np.any(p < 0) or not abs(p.sum() - 1.0) <= 1e-9:
            raise ValueError(f"probs[{c}] must be non-negative and sum to 1")
        prs.append(p / p.sum())
    return pts, tuple(prs)


def _check_k(k) -> int:
    return check_int("k", k, minimum=1)


def curl_tau(rho) -> float:
    r"""Collision probability :math:`\tau=\mathbb P_{c,c'\sim\rho^2}(c=c')=\sum_c\rho(c)^2`.

    The probability that a negative :math:`x^-` is drawn from the class of the anchor.

    See: Chapter 3, Definition "Class collision".

    Parameters
    ----------
    rho : array_like, shape (C,)
        Class distribution (non-negative, sums to 1).
    """
    r = _check_rho(rho)
    return float(np.sum(r**2))


def curl_tau_k(rho, k: int) -> float:
    r"""Collision probability with :math:`k` negatives,
    :math:`\tau_k=\mathbb P(c^+\in\{c^-_1,\dots,c^-_k\})=1-\sum_c\rho(c)\,(1-\rho(c))^k`.

    For :math:`k=1` it equals :math:`\tau`; it increases with :math:`k` towards 1.

    See: Chapter 5, Proposition "Collision probability with k negatives".

    Parameters
    ----------
    rho : array_like, shape (C,)
        Class distribution.
    k : int
        Number of negatives, :math:`k\ge1`.
    """
    r = _check_rho(rho)
    k = _check_k(k)
    return float(1.0 - np.sum(r * (1.0 - r) ** k))


def curl_lemma43_bound(L_un, tau):
    r"""The surrogate bound :math:`\dfrac{L_{un}(f)-\tau}{1-\tau}` on :math:`L^\mu_{sup}(f)` (Lemma 4.3 of CURL).

    With :math:`\tau_k` in place of :math:`\tau` it is the :math:`k`-negative bound on :math:`\tilde L^\mu_{sup}`,
    and with the block loss in place of :math:`L_{un}` Proposition 6.2.

    See: Chapter 3, Lemma "The surrogate lemma"; Chapter 5.

    Parameters
    ----------
    L_un : float or array_like
        Unsupervised (contrastive) loss values.
    tau : float or array_like
        Collision probabilities in :math:`[0,1)`, broadcastable with ``L_un``.

    Returns
    -------
    float or numpy.ndarray
        A float when both arguments are scalars.
    """
    L = check_array("L_un", L_un, ndim=None)
    t = check_array("tau", tau, ndim=None)
    if np.any(t < 0) or np.any(t >= 1):
        raise ValueError("tau must lie in [0, 1)")
    out = (L - t) / (1.0 - t)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------------


def _unpack(features, rho, probs, *, min_classes: int = 2, name: str = "features"):
    """Return (list of (n_c, d) arrays, list of (n_c,) probabilities, rho) after validation.

    Shared by :mod:`sslbook.theory.curl_bounds` (which also accepts a single class).
    """
    if hasattr(features, "rho") and hasattr(features, "points") and hasattr(features, "kind"):
        if features.kind != "finite":
            raise ValueError(f"{name} must be a finite LatentClassModel (exact losses need finite supports)")
        if rho is not None or probs is not None:
            raise ValueError(f"rho and probs must be None when {name} is a LatentClassModel")
        return list(features.points), list(features.probs), np.asarray(features.rho, dtype=float)
    feats, ps = _check_supports(features, probs, name=name, min_classes=min_classes)
    if rho is None:
        raise ValueError(f"rho must be given with per-class arrays {name}")
    return list(feats), list(ps), _check_rho(rho, len(feats))


def _prepare(features, rho, probs):
    feats, ps, r = _unpack(features, rho, probs)
    if np.sum(r > 0) < 2:
        raise ValueError("rho must put positive mass on at least two classes (otherwise 1 - tau = 0)")
    return feats, ps, r


def _stack(feats, ps, r):
    F = np.concatenate(feats, axis=0)
    cls = np.concatenate([np.full(len(Fc), c) for c, Fc in enumerate(feats)])
    p = np.concatenate(ps)
    return F, cls, p, r[cls] * p  # features, class of each row, within-class prob, marginal prob


def _class_means(feats, ps):
    return np.stack([p @ F for F, p in zip(feats, ps, strict=True)])


def _expected_loss(ell, margins, weights) -> float:
    """``sum(weights * ell(margins))`` with margins of shape weights.shape + (k,), evaluated in chunks."""
    m = margins.reshape(-1, margins.shape[-1])
    w = weights.reshape(-1)
    step = max(1, _CHUNK // m.shape[1])
    return float(sum(w[i:i + step] @ ell(m[i:i + step]) for i in range(0, m.shape[0], step)))


class _WeightedLossSum:
    """Accumulates ``sum(weights * ell(margins))`` over many small arrays, calling ``ell`` on large batches."""

    def __init__(self, ell, k: int):
        self.ell, self.k = ell, k
        self._margins, self._weights, self._size, self._total = [], [], 0, 0.0

    def add(self, margins: np.ndarray, weights: np.ndarray) -> None:
        m = margins.reshape(-1, self.k)
        w = np.broadcast_to(weights, margins.shape[:-1]).reshape(-1)
        if m.size >= _CHUNK:
            self._total += _expected_loss(self.ell, m, w)
            return
        self._margins.append(m)
        self._weights.append(w)
        self._size += m.size
        if self._size >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._margins:
            self._total += float(np.concatenate(self._weights) @ self.ell(np.concatenate(self._margins)))
        self._margins, self._weights, self._size = [], [], 0

    def value(self) -> float:
        self._flush()
        return self._total


def _multisets(probs: np.ndarray, size: int, max_multisets: int, name: str):
    """All multisets of ``size`` i.i.d. draws from ``probs`` (over its support) with their probabilities.

    Returns ``idx`` (M, size) indices into ``probs`` (sorted within a row), ``counts`` (M, len(probs)) and
    ``prob`` (M,), the multinomial probability :math:`\\frac{size!}{\\prod_j m_j!}\\prod_j p_j^{m_j}`.
    """
    support = np.flatnonzero(probs > 0)
    n = support.size
    total = math.comb(n + size - 1, size)
    if total > max_multisets:
        raise ValueError(
            f"{name}={size} over {n} support points needs {total} multisets, more than max_multisets="
            f"{max_multisets}: use smaller supports or a smaller {name}"
        )
    flat = itertools.chain.from_iterable(itertools.combinations_with_replacement(range(n), size))
    local = np.fromiter(flat, dtype=np.int64, count=total * size).reshape(total, size)
    counts = np.zeros((total, probs.size))
    np.add.at(counts, (np.repeat(np.arange(total), size), support[local].ravel()), 1.0)
    with np.errstate(divide="ignore"):
        logq = np.where(probs > 0, np.log(np.where(probs > 0, probs, 1.0)), 0.0)
    logp = gammaln(size + 1) - gammaln(counts + 1).sum(axis=1) + counts @ logq
    return support[local], counts, np.exp(logp)


# ----------------------------------------------------------------------------------------------------
# one negative: L_un, L^=, L^!=, L^mu_sup
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurlLosses:
    r"""Exact CURL losses of one representation with one negative.

    Attributes
    ----------
    L_un : float
        :math:`L_{un}(f)=\mathbb E\,\ell\big(f(x)^\top(f(x^+)-f(x^-))\big)`, by its own enumeration over all
        :math:`(c^+,c^-,x,x^+,x^-)`.
    L_eq, L_neq : float
        :math:`L^{=}_{un}` and :math:`L^{\ne}_{un}`: the same expectation conditioned on :math:`c^+=c^-` and on
        :math:`c^+\ne c^-`, computed class pair by class pair.
    L_mu_sup : float
        :math:`L^\mu_{sup}(f)`: the mean-classifier loss averaged over binary tasks :math:`\{c^+,c^-\}`,
        :math:`c^+\ne c^-`, with task weights :math:`2\rho(a)\rho(b)/(1-\tau)` and uniform labels.
    tau : float
        Collision probability :math:`\tau=\sum_c\rho(c)^2`.
    loss : str
        ``"hinge"`` or ``"logistic2"``.
    """

    L_un: float
    L_eq: float
    L_neq: float
    L_mu_sup: float
    tau: float
    loss: str

    @property
    def bound(self) -> float:
        r"""The Lemma 4.3 bound :math:`(L_{un}-\tau)/(1-\tau)`."""
        return curl_lemma43_bound(self.L_un, self.tau)


def _curl_un(ell, F, cls, p, q) -> float:
    """L_un by enumeration over all (x, x+, x-) of the stacked support, x+ in the class of x, x- anywhere."""
    G = F @ F.T
    neg = np.flatnonzero(q > 0)  # x- with probability q(x-) = rho(c-) p(x-)
    margins, weights = [], []
    for c in np.unique(cls[q > 0]):  # c+ = c
        anc = np.flatnonzero((cls == c) & (p > 0))  # x and x+ range over the support of class c
        margins.append((G[np.ix_(anc, anc)][:, :, None] - G[np.ix_(anc, neg)][:, None, :]).ravel())
        weights.append((q[anc][:, None, None] * p[anc][None, :, None] * q[neg][None, None, :]).ravel())
    return _expected_loss(ell, np.concatenate(margins)[:, None], np.concatenate(weights))


def _pair_losses(ell, feats, ps, active) -> dict:
    """E over x, x+ ~ D_a and x- ~ D_b of l(f(x)^T (f(x+) - f(x-))), for every ordered pair (a, b) of classes.

    Built from the per-class arrays (not from the stacked support used for L_un) and evaluated in one call.
    """
    pairs = [(a, b) for a in active for b in active]
    margins, weights, groups = [], [], []
    for g, (a, b) in enumerate(pairs):
        Fa, pa, Fb, pb = feats[a], ps[a], feats[b], ps[b]
        m = (Fa @ Fa.T)[:, :, None] - (Fa @ Fb.T)[:, None, :]
        w = pa[:, None, None] * pa[None, :, None] * pb[None, None, :]
        margins.append(m.ravel())
        weights.append(w.ravel())
        groups.append(np.full(m.size, g))
    values = np.concatenate(weights) * ell(np.concatenate(margins)[:, None])
    sums = np.bincount(np.concatenate(groups), weights=values, minlength=len(pairs))
    return dict(zip(pairs, sums, strict=True))


def _mean_classifier_task_losses(ell, feats, ps, mu, tasks) -> np.ndarray:
    """Loss of the mean classifier on each binary task {a, b} with uniform labels, in one call."""
    margins, weights, groups = [], [], []
    for g, (a, b) in enumerate(tasks):
        for c, other in ((a, b), (b, a)):
            margins.append(feats[c] @ (mu[c] - mu[other]))  # f(x)^T (mu_label - mu_other), x ~ D_label
            weights.append(0.5 * ps[c])
            groups.append(np.full(ps[c].size, g))
    values = np.concatenate(weights) * ell(np.concatenate(margins)[:, None])
    return np.bincount(np.concatenate(groups), weights=values, minlength=len(tasks))


def curl_exact_losses(features, rho=None, *, probs=None, loss: str = "hinge") -> CurlLosses:
    r"""Exact :math:`L_{un}`, :math:`L^{=}_{un}`, :math:`L^{\ne}_{un}`, :math:`L^\mu_{sup}` and :math:`\tau` of a
    representation on finite latent classes (one negative).

    With :math:`c^+,c^-\sim\rho` independent, :math:`x,x^+\sim\mathcal D_{c^+}`, :math:`x^-\sim\mathcal D_{c^-}`,

    .. math:: L_{un}(f)=\mathbb E\,\ell\big(f(x)^\top(f(x^+)-f(x^-))\big)
              =\tau\,L^{=}_{un}(f)+(1-\tau)\,L^{\ne}_{un}(f),

    .. math:: L^\mu_{sup}(f)=\sum_{a\ne b}\frac{\rho(a)\rho(b)}{1-\tau}\,
              \mathbb E_{x\sim\mathcal D_a}\,\ell\big(f(x)^\top(\mu_a-\mu_b)\big),\qquad
              \mu_c=\mathbb E_{x\sim\mathcal D_c}f(x).

    :math:`L_{un}` is computed by its own enumeration over all :math:`(c^+,c^-,x,x^+,x^-)`, not as the sum on the
    right, so the decomposition is a check; :math:`L^\mu_{sup}` is computed task by task (unordered pairs).

    See: Chapter 3, Definitions "Unsupervised loss" and "Mean-classifier loss", and the surrogate lemma.

    Parameters
    ----------
    features : sequence of array_like or LatentClassModel
        ``features[c]`` of shape ``(n_c, d)``: the features :math:`f(x)` of the support of class ``c``; or a
        finite :class:`sslbook.data.LatentClassModel` (its points are the features).
    rho : array_like, shape (C,), optional
        Class distribution (required with feature arrays; must be ``None`` with a model).
    probs : sequence of array_like, optional
        ``probs[c]`` of shape ``(n_c,)``: the probabilities of the support points (default uniform).
    loss : {"hinge", "logistic2"}
        The surrogate loss :math:`\ell`.

    Returns
    -------
    CurlLosses
    """
    ell = _loss_fn(loss)
    feats, ps, r = _prepare(features, rho, probs)
    F, cls, p, q = _stack(feats, ps, r)
    tau = float(np.sum(r**2))
    L_un = _curl_un(ell, F, cls, p, q)
    C = len(feats)
    active = [c for c in range(C) if r[c] > 0]
    pair = _pair_losses(ell, feats, ps, active)
    L_eq = sum(r[a] ** 2 * pair[a, a] for a in active) / tau
    L_neq = sum(r[a] * r[b] * pair[a, b] for a in active for b in active if a != b) / (1.0 - tau)
    mu = _class_means(feats, ps)
    tasks = list(itertools.combinations(active, 2))  # task {a, b} has probability 2 rho(a) rho(b) / (1 - tau)
    task_losses = _mean_classifier_task_losses(ell, feats, ps, mu, tasks)
    L_mu = sum(2.0 * r[a] * r[b] / (1.0 - tau) * t for (a, b), t in zip(tasks, task_losses, strict=True))
    return CurlLosses(L_un=float(L_un), L_eq=float(L_eq), L_neq=float(L_neq), L_mu_sup=float(L_mu), tau=tau,
                      loss=loss)


# ----------------------------------------------------------------------------------------------------
# k negatives
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurlKNegativeLosses:
    r"""Exact CURL losses with :math:`k` negatives.

    Attributes
    ----------
    L_un : float
        :math:`L_{un}(f)=\mathbb E\,\ell\big(\{f(x)^\top(f(x^+)-f(x^-_i))\}_{i=1}^k\big)`, negatives i.i.d. from the
        marginal :math:`\sum_c\rho(c)\mathcal D_c`.
    L_neq : float
        The same expectation conditioned on no collision, :math:`I^+=\{i:c^-_i=c^+\}=\emptyset`.
    L_mu_tilde : float
        :math:`\tilde L^\mu_{sup}(f)=\mathbb E\big[\mathbb E_{x\sim\mathcal D_{c^+}}
        \ell(\{f(x)^\top(\mu_{c^+}-\mu_{c^-_i})\}_{i=1}^k)\,\big|\,I^+=\emptyset\big]`.
    tau_k : float
        :math:`\tau_k=1-\sum_c\rho(c)(1-\rho(c))^k`.
    k : int
    loss : str
    """

    L_un: float
    L_neq: float
    L_mu_tilde: float
    tau_k: float
    k: int
    loss: str

    @property
    def bound(self) -> float:
        r"""The bound :math:`(L_{un}-\tau_k)/(1-\tau_k)` on :math:`\tilde L^\mu_{sup}`."""
        return curl_lemma43_bound(self.L_un, self.tau_k)


def curl_k_negative_losses(
    features, rho=None, *, k: int, probs=None, loss: str = "hinge", max_multisets: int = 500_000
) -> CurlKNegativeLosses:
    r"""Exact CURL losses with :math:`k` negatives, by enumeration over points.

    The :math:`k` negatives are i.i.d. and the loss is symmetric in them, so the expectation over negatives is
    a sum over the multisets of :math:`k` support points with multinomial weights (exact, no sampling):

    .. math:: L_{un}(f)=\sum_{x}\rho(c_x)p(x)\sum_{x^+}p(x^+)\sum_{\{x^-_i\}}
              \frac{k!}{\prod_j m_j!}\prod_j q(x_j)^{m_j}\;\ell\big(\{f(x)^\top(f(x^+)-f(x^-_i))\}_i\big),

    with :math:`q(x)=\rho(c_x)p(x)` the marginal. :math:`\tilde L^\mu_{sup}` enumerates the multisets of negative
    *classes* given :math:`c^+` and no collision (classes i.i.d. from :math:`\rho(c)/(1-\rho(c^+))`,
    :math:`c\ne c^+`; :math:`\mathbb P(c^+\mid I^+=\emptyset)=\rho(c^+)(1-\rho(c^+))^k/(1-\tau_k)`).

    See: Chapter 5, Theorem "The k-negative surrogate bound".

    Parameters
    ----------
    features, rho, probs :
        As in :func:`curl_exact_losses`.
    k : int
        Number of negatives.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) enumerations with more multisets than this.

    Returns
    -------
    CurlKNegativeLosses
    """
    ell = _loss_fn(loss)
    k = _check_k(k)
    max_multisets = check_int("max_multisets", max_multisets, minimum=1)
    feats, ps, r = _prepare(features, rho, probs)
    F, cls, p, q = _stack(feats, ps, r)
    G = F @ F.T
    tau_k = float(1.0 - np.sum(r * (1.0 - r) ** k))
    idx, _, prob = _multisets(q, k, max_multisets, "k")
    L_un = _WeightedLossSum(ell, k)
    for i in np.flatnonzero(q > 0):  # anchor x; positives x+ in its class; negative multisets idx
        pos = np.flatnonzero((cls == cls[i]) & (p > 0))
        margins = G[i, pos][:, None, None] - G[i, idx][None, :, :]  # (n_pos, M, k)
        L_un.add(margins, q[i] * p[pos][:, None] * prob[None, :])
    mu = _class_means(feats, ps)
    L_neq = _WeightedLossSum(ell, k)
    L_mu = _WeightedLossSum(ell, k)
    for c in np.flatnonzero((r > 0) & (r < 1)):
        weight = r[c] * (1.0 - r[c]) ** k / (1.0 - tau_k)  # P(c+ = c | no collision)
        q_other = np.where(cls != c, q, 0.0) / (1.0 - r[c])  # negatives given c- != c+
        idx_c, _, prob_c = _multisets(q_other, k, max_multisets, "k")
        rho_other = np.where(np.arange(len(r)) != c, r, 0.0) / (1.0 - r[c])
        cidx, _, cprob = _multisets(rho_other, k, max_multisets, "k")  # negative classes given no collision
        pos = np.flatnonzero((cls == c) & (p > 0))
        for i in pos:
            margins = G[i, pos][:, None, None] - G[i, idx_c][None, :, :]
            L_neq.add(margins, weight * p[i] * p[pos][:, None] * prob_c[None, :])
            s = mu @ F[i]  # f(x)^T mu_c for every class c
            L_mu.add(s[c] - s[cidx], weight * p[i] * cprob)
    return CurlKNegativeLosses(L_un=L_un.value(), L_neq=L_neq.value(), L_mu_tilde=L_mu.value(), tau_k=tau_k, k=k,
                               loss=loss)


# ----------------------------------------------------------------------------------------------------
# blocks
# ----------------------------------------------------------------------------------------------------


def curl_block_loss(features, rho=None, *, b: int, probs=None, loss: str = "logistic2",
                    max_multisets: int = 100_000) -> float:
    r"""Exact block contrastive loss :math:`L^{block}_{un}(f)` with blocks of size :math:`b`.

    .. math:: L^{block}_{un}(f)=\mathbb E\,\ell\Big(f(x)^\top\Big(\frac1b\sum_{i=1}^b f(x^+_i)
              -\frac1b\sum_{i=1}^b f(x^-_i)\Big)\Big),

    with :math:`c^+,c^-\sim\rho`, :math:`x,x^+_{1:b}\sim\mathcal D_{c^+}` and :math:`x^-_{1:b}\sim\mathcal D_{c^-}`
    independent. The block means depend only on the multisets of points drawn, so the expectation is a finite
    sum over pairs of multisets with multinomial weights. For :math:`b=1` it is :math:`L_{un}`.

    See: Chapter 5, Proposition "Block contrastive loss".

    Parameters
    ----------
    features, rho, probs :
        As in :func:`curl_exact_losses`.
    b : int
        Block size, :math:`b\ge1`.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) a class whose block multisets outnumber this.

    Returns
    -------
    float
    """
    ell = _loss_fn(loss)
    b = check_int("b", b, minimum=1)
    max_multisets = check_int("max_multisets", max_multisets, minimum=1)
    feats, ps, r = _prepare(features, rho, probs)
    active = np.flatnonzero(r > 0)
    blocks = {}
    for c in active:
        _, counts, prob = _multisets(ps[c], b, max_multisets, "b")
        blocks[c] = (counts / b, prob)  # block-mean coefficients on the support of class c
    total = _WeightedLossSum(ell, 1)
    for a in active:
        coef_a, prob_a = blocks[a]
        for i in np.flatnonzero(ps[a] > 0):
            fx = feats[a][i]
            pos_proj = coef_a @ (feats[a] @ fx)  # f(x)^T (mean of the positive block), (M_a,)
            for c in active:
                coef_c, prob_c = blocks[c]
                neg_proj = coef_c @ (feats[c] @ fx)
                margins = pos_proj[:, None] - neg_proj[None, :]
                total.add(margins[..., None], r[a] * ps[a][i] * r[c] * prob_a[:, None] * prob_c[None, :])
    return total.value()


def curl_block_gap_bound(features, rho=None, *, b: int, probs=None) -> float:
    r"""Upper bound on the gap of the block loss to its limit, for the :math:`\log_2`-logistic loss.

    With :math:`m=f(x)^\top(\mu_{c^+}-\mu_{c^-})` and the per-draw margin variance
    :math:`\sigma^2(x,c^+,c^-)=\mathrm{Var}_{x^+\sim\mathcal D_{c^+}}f(x)^\top f(x^+)
    +\mathrm{Var}_{x^-\sim\mathcal D_{c^-}}f(x)^\top f(x^-)`, a second-order Taylor bound with
    :math:`\ell''\le1/(4\ln2)` gives

    .. math:: 0\le L^{block}_{un}(f;b)-\big[(1-\tau)L^\mu_{sup}(f)+\tau\big]
              \le\frac{\mathbb E\,\sigma^2(x,c^+,c^-)}{8\ln2\;b}.

    See: Chapter 5, Proposition "Block contrastive loss".

    Parameters
    ----------
    features, rho, probs :
        As in :func:`curl_exact_losses`.
    b : int
        Block size.

    Returns
    -------
    float
    """
    b = check_int("b", b, minimum=1)
    feats, ps, r = _prepare(features, rho, probs)
    total = 0.0
    for a in np.flatnonzero(r > 0):
        for i in np.flatnonzero(ps[a] > 0):
            fx = feats[a][i]
            for c in np.flatnonzero(r > 0):
                var = 0.0
                for F, p in ((feats[a], ps[a]), (feats[c], ps[c])):
                    s = F @ fx
                    var += p @ s**2 - (p @ s) ** 2
                total += r[a] * ps[a][i] * r[c] * max(var, 0.0)
    return float(total / (8.0 * math.log(2.0) * b))


# ----------------------------------------------------------------------------------------------------
# losses of sampled tuples
# ----------------------------------------------------------------------------------------------------


def curl_sample_losses(anchors, positives, negatives, *, loss: str = "hinge") -> np.ndarray:
    r"""Contrastive loss of each sampled tuple (the terms of the empirical loss :math:`\hat L_{un}`).

    With one positive (``positives`` of shape ``(M, 1, d)``) and ``k`` negatives, the margins are
    :math:`f(x)^\top(f(x^+)-f(x^-_i))`, :math:`i=1..k`; with a block of ``b > 1`` positives and ``b`` negatives,
    one margin :math:`f(x)^\top(\bar f^+-\bar f^-)` between the block means.

    See: Chapter 3 (sampled versus exact :math:`L_{un}`); Chapter 5 (k negatives, blocks).

    Parameters
    ----------
    anchors : array_like, shape (M, d)
        :math:`f(x)`.
    positives : array_like, shape (M, b, d)
        :math:`f(x^+)` (``b = 1`` except for blocks).
    negatives : array_like, shape (M, k, d)
        :math:`f(x^-_i)`; for blocks (``b > 1``), ``k`` must equal ``b``.
    loss : {"hinge", "logistic2"}

    Returns
    -------
    numpy.ndarray, shape (M,)
    """
    ell = _loss_fn(loss)
    A = check_array("anchors", anchors, ndim=2)
    P = check_array("positives", positives, ndim=3)
    N = check_array("negatives", negatives, ndim=3)
    if P.shape[0] != A.shape[0] or N.shape[0] != A.shape[0]:
        raise ValueError(f"anchors, positives and negatives must have the same number of rows, got "
                         f"{A.shape[0]}, {P.shape[0]} and {N.shape[0]}")
    if P.shape[2] != A.shape[1] or N.shape[2] != A.shape[1]:
        raise ValueError("positives and negatives must have the feature dimension of anchors")
    b = P.shape[1]
    if b == 1:
        margins = np.einsum("md,md->m", A, P[:, 0])[:, None] - np.einsum("md,mkd->mk", A, N)
    else:
        if N.shape[1] != b:
            raise ValueError(f"negatives must hold a block of {b} points like positives, got {N.shape[1]}")
        margins = np.einsum("md,md->m", A, P.mean(axis=1) - N.mean(axis=1))[:, None]
    return np.asarray(ell(margins), dtype=float)



# ----------------------------------------------------------------------------------------------------
# explorer: negatives on a regular-polygon instance
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NegativesCurve:
    r""":math:`\tau_k`, the exact losses and the :math:`k`-negative bound as functions of :math:`k`
    (see :func:`curl_negatives_curve`)."""

    n_classes: int  #: number of latent classes C (uniform rho)
    ks: np.ndarray  #: numbers of negatives
    tau_k: np.ndarray  #: collision probability 1 - (1 - 1/C)^k
    L_un: np.ndarray  #: exact contrastive loss with k negatives
    L_neq: np.ndarray  #: exact contrastive loss given no collision
    L_mu_tilde: np.ndarray  #: exact (k+1)-way mean-classifier loss given no collision
    bound: np.ndarray  #: (L_un - tau_k) / (1 - tau_k)
    loss: str  #: surrogate loss


def curl_polygon_features(n_classes: int, *, radius: float = 0.6, spread: float = 0.0) -> list[np.ndarray]:
    r"""Class-wise features on a regular polygon: class :math:`c` sits at
    :math:`r\,(\cos\frac{2\pi c}{C},\sin\frac{2\pi c}{C})`, with two equally likely points
    :math:`(1\pm s)` times that centre when ``spread`` :math:`s>0` (one point when :math:`s=0`).

    With :math:`s=0` the representation is constant on classes with means of equal norm: the equality case of
    the :math:`k`-negative bound for the hinge loss.

    See: Chapter 5, "Too many negatives can hurt" (the explorer).

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    radius : float
        Norm :math:`r>0` of the class centres.
    spread : float
        Relative radial spread :math:`s\in[0,1)` of the two points of a class.

    Returns
    -------
    list of numpy.ndarray
        ``C`` arrays of shape ``(1, 2)`` or ``(2, 2)``.
    """
    C = check_int("n_classes", n_classes, minimum=2)
    check_memory("n_classes", 256.0 * C, what="the class features")
    r = check_float("radius", radius, minimum=0.0, strict_min=True)
    s = check_float("spread", spread, minimum=0.0)
    if s >= 1:
        raise ValueError(f"spread must be < 1, got {s}")
    angles = 2 * np.pi * np.arange(C) / C
    centres = r * np.column_stack([np.cos(angles), np.sin(angles)])
    if s == 0:
        return [c[None, :] for c in centres]
    return [np.stack([(1 - s) * c, (1 + s) * c]) for c in centres]


def curl_negatives_curve(n_classes: int, ks, *, radius: float = 0.6, spread: float = 0.0,
                         loss: str = "logistic2", max_multisets: int = 200_000) -> NegativesCurve:
    r"""The collision probability :math:`\tau_k`, the :math:`k`-negative bound
    :math:`(L_{un}-\tau_k)/(1-\tau_k)` and the exact mean-classifier loss :math:`\tilde L^\mu_{sup}` for uniform
    :math:`\rho` on :math:`C` classes placed on a regular polygon (:func:`curl_polygon_features`), for each
    number of negatives :math:`k` in ``ks``.

    Every value is exact (:func:`curl_k_negative_losses`); :math:`\tau_k=1-(1-1/C)^k`.

    See: Chapter 5, Theorem "The k-negative surrogate bound" (the explorer of that chapter).

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    ks : int or sequence of int
        Numbers of negatives, each :math:`\ge1`.
    radius, spread : float
        As in :func:`curl_polygon_features`.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) enumerations larger than this (large :math:`k` with many points).

    Returns
    -------
    NegativesCurve
    """
    _loss_fn(loss)
    ks_arr = np.atleast_1d(np.asarray(ks))
    if ks_arr.ndim != 1 or ks_arr.size == 0 or not np.issubdtype(ks_arr.dtype, np.integer):
        raise TypeError(f"ks must be an integer or a non-empty sequence of integers, got {ks!r}")
    ks_list = [_check_k(int(k)) for k in ks_arr]
    feats = curl_polygon_features(n_classes, radius=radius, spread=spread)
    rho = np.full(len(feats), 1.0 / len(feats))
    res = [curl_k_negative_losses(feats, rho, k=k, loss=loss, max_multisets=max_multisets) for k in ks_list]
    tau = np.array([r.tau_k for r in res])
    L_un = np.array([r.L_un for r in res])
    return NegativesCurve(
        n_classes=len(feats), ks=np.array(ks_list), tau_k=tau, L_un=L_un, L_neq=np.array([r.L_neq for r in res]),
        L_mu_tilde=np.array([r.L_mu_tilde for r in res]), bound=(L_un - tau) / (1.0 - tau), loss=loss,
    )
