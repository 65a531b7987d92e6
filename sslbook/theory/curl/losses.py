r"""Exact population losses of the CURL framework with one negative (contrastive learning with latent classes).

Every expectation is a finite sum: each latent class :math:`c` has a finite support (the feature vectors
:math:`f(x)` of its points, with probabilities), so :math:`L_{un}`, :math:`L^{=}_{un}`, :math:`L^{\ne}_{un}` and
:math:`L^\mu_{sup}` are computed by enumeration, without sampling. The representation enters only through the
per-class feature arrays, so any :math:`f` can be plugged in, including a collapsed one (constant within each
class).

A representation is given either as a sequence of ``C`` arrays ``features[c]`` of shape ``(n_c, d)`` (the
features of the support points of class ``c``) with ``rho`` and optional ``probs``, or as a finite
:class:`sslbook.data.LatentClassModel` (whose points are then the features; use its ``represent(f)`` to apply
a representation).

See: Chapter 3, "The CURL framework and the surrogate lemma" (Arora et al. 2019, Section 4).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sslbook._shapes import check_shapes
from sslbook._validation import check_array, check_class_distribution
from sslbook.theory.curl._enumeration import (
    LOSSES,
    check_negatives,
    class_means,
    expected_loss,
    loss_function,
    prepare_classes,
    stack_support,
)

__all__ = ["LOSSES", "CurlLosses", "exact_losses", "sample_losses", "surrogate_bound", "tau", "tau_k"]


def tau(rho) -> float:
    r"""Collision probability :math:`\tau=\mathbb P_{c,c'\sim\rho^2}(c=c')=\sum_c\rho(c)^2`.

    The probability that a negative :math:`x^-` is drawn from the class of the anchor.

    See: Chapter 3, Definition "Class collision".

    Parameters
    ----------
    rho : array_like, shape (C,)
        Class distribution (non-negative, sums to 1).
    """
    r = check_class_distribution(rho)
    return float(np.sum(r**2))


def tau_k(rho, k: int) -> float:
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
    r = check_class_distribution(rho)
    k = check_negatives(k)
    return float(1.0 - np.sum(r * (1.0 - r) ** k))


def surrogate_bound(L_un, tau):
    r"""The surrogate bound :math:`\dfrac{L_{un}(f)-\tau}{1-\tau}` on :math:`L^\mu_{sup}(f)`
    (Arora et al. 2019, Lemma 4.3).

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
        r"""The surrogate bound (Lemma 4.3) :math:`(L_{un}-\tau)/(1-\tau)`."""
        return surrogate_bound(self.L_un, self.tau)


def _curl_un(ell, F, cls, p, q) -> float:
    """L_un by enumeration over all (x, x+, x-) of the stacked support, x+ in the class of x, x- anywhere."""
    G = F @ F.T
    neg = np.flatnonzero(q > 0)  # x- with probability q(x-) = rho(c-) p(x-)
    margins, weights = [], []
    for c in np.unique(cls[q > 0]):  # c+ = c
        anc = np.flatnonzero((cls == c) & (p > 0))  # x and x+ range over the support of class c
        margins.append((G[np.ix_(anc, anc)][:, :, None] - G[np.ix_(anc, neg)][:, None, :]).ravel())
        weights.append((q[anc][:, None, None] * p[anc][None, :, None] * q[neg][None, None, :]).ravel())
    return expected_loss(ell, np.concatenate(margins)[:, None], np.concatenate(weights))


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


def exact_losses(features, rho=None, *, probs=None, loss: str = "hinge") -> CurlLosses:
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
    ell = loss_function(loss)
    feats, ps, r = prepare_classes(features, rho, probs)
    F, cls, p, q = stack_support(feats, ps, r)
    tau = float(np.sum(r**2))
    L_un = _curl_un(ell, F, cls, p, q)
    C = len(feats)
    active = [c for c in range(C) if r[c] > 0]
    pair = _pair_losses(ell, feats, ps, active)
    L_eq = sum(r[a] ** 2 * pair[a, a] for a in active) / tau
    L_neq = sum(r[a] * r[b] * pair[a, b] for a in active for b in active if a != b) / (1.0 - tau)
    mu = class_means(feats, ps)
    tasks = list(itertools.combinations(active, 2))  # task {a, b} has probability 2 rho(a) rho(b) / (1 - tau)
    task_losses = _mean_classifier_task_losses(ell, feats, ps, mu, tasks)
    L_mu = sum(2.0 * r[a] * r[b] / (1.0 - tau) * t for (a, b), t in zip(tasks, task_losses, strict=True))
    return CurlLosses(L_un=float(L_un), L_eq=float(L_eq), L_neq=float(L_neq), L_mu_sup=float(L_mu), tau=tau,
                      loss=loss)



@check_shapes(anchors="M d", positives="M b d", negatives="M k d")
def sample_losses(anchors, positives, negatives, *, loss: str = "hinge") -> np.ndarray:
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
    ell = loss_function(loss)
    A, P, N = anchors, positives, negatives
    b = P.shape[1]
    if b == 1:
        margins = np.einsum("md,md->m", A, P[:, 0])[:, None] - np.einsum("md,mkd->mk", A, N)
    else:
        if N.shape[1] != b:
            raise ValueError(f"negatives must hold a block of {b} points like positives, got {N.shape[1]}")
        margins = np.einsum("md,md->m", A, P.mean(axis=1) - N.mean(axis=1))[:, None]
    return np.asarray(ell(margins), dtype=float)


