r"""Exact CURL losses with :math:`k` negatives and with blocks (finite latent classes, by enumeration).

The :math:`k` negatives of a tuple, and the points of a block, are i.i.d.; the losses are symmetric in them, so
each expectation is a finite sum over multisets of support points with multinomial weights (no sampling).
Representations are given as in ``sslbook.theory.curl.losses``.

See: Chapter 5, "Negatives and blocks" (Arora et al. 2019, Sections 6.1 and 6.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_int
from sslbook.theory.curl._enumeration import (
    WeightedLossSum,
    check_negatives,
    class_means,
    loss_function,
    multisets,
    prepare_classes,
    stack_support,
)
from sslbook.theory.curl.losses import surrogate_bound

__all__ = ["CurlKNegativeLosses", "block_gap_bound", "block_loss", "k_negative_losses"]


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
        return surrogate_bound(self.L_un, self.tau_k)


def k_negative_losses(
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
        As in :func:`exact_losses`.
    k : int
        Number of negatives.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) enumerations with more multisets than this.

    Returns
    -------
    CurlKNegativeLosses
    """
    ell = loss_function(loss)
    k = check_negatives(k)
    max_multisets = check_int("max_multisets", max_multisets, minimum=1)
    feats, ps, r = prepare_classes(features, rho, probs)
    F, cls, p, q = stack_support(feats, ps, r)
    G = F @ F.T
    tau_k = float(1.0 - np.sum(r * (1.0 - r) ** k))
    idx, _, prob = multisets(q, k, max_multisets, "k")
    L_un = WeightedLossSum(ell, k)
    for i in np.flatnonzero(q > 0):  # anchor x; positives x+ in its class; negative multisets idx
        pos = np.flatnonzero((cls == cls[i]) & (p > 0))
        margins = G[i, pos][:, None, None] - G[i, idx][None, :, :]  # (n_pos, M, k)
        L_un.add(margins, q[i] * p[pos][:, None] * prob[None, :])
    mu = class_means(feats, ps)
    L_neq = WeightedLossSum(ell, k)
    L_mu = WeightedLossSum(ell, k)
    for c in np.flatnonzero((r > 0) & (r < 1)):
        weight = r[c] * (1.0 - r[c]) ** k / (1.0 - tau_k)  # P(c+ = c | no collision)
        q_other = np.where(cls != c, q, 0.0) / (1.0 - r[c])  # negatives given c- != c+
        idx_c, _, prob_c = multisets(q_other, k, max_multisets, "k")
        rho_other = np.where(np.arange(len(r)) != c, r, 0.0) / (1.0 - r[c])
        cidx, _, cprob = multisets(rho_other, k, max_multisets, "k")  # negative classes given no collision
        pos = np.flatnonzero((cls == c) & (p > 0))
        for i in pos:
            margins = G[i, pos][:, None, None] - G[i, idx_c][None, :, :]
            L_neq.add(margins, weight * p[i] * p[pos][:, None] * prob_c[None, :])
            s = mu @ F[i]  # f(x)^T mu_c for every class c
            L_mu.add(s[c] - s[cidx], weight * p[i] * cprob)
    return CurlKNegativeLosses(L_un=L_un.value(), L_neq=L_neq.value(), L_mu_tilde=L_mu.value(), tau_k=tau_k, k=k,
                               loss=loss)


def block_loss(features, rho=None, *, b: int, probs=None, loss: str = "logistic2",
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
        As in :func:`exact_losses`.
    b : int
        Block size, :math:`b\ge1`.
    loss : {"hinge", "logistic2"}
    max_multisets : int
        Refuse (ValueError) a class whose block multisets outnumber this.

    Returns
    -------
    float
    """
    ell = loss_function(loss)
    b = check_int("b", b, minimum=1)
    max_multisets = check_int("max_multisets", max_multisets, minimum=1)
    feats, ps, r = prepare_classes(features, rho, probs)
    active = np.flatnonzero(r > 0)
    blocks = {}
    for c in active:
        _, counts, prob = multisets(ps[c], b, max_multisets, "b")
        blocks[c] = (counts / b, prob)  # block-mean coefficients on the support of class c
    total = WeightedLossSum(ell, 1)
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


def block_gap_bound(features, rho=None, *, b: int, probs=None) -> float:
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
        As in :func:`exact_losses`.
    b : int
        Block size.

    Returns
    -------
    float
    """
    b = check_int("b", b, minimum=1)
    feats, ps, r = prepare_classes(features, rho, probs)
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
