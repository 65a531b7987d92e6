r"""Self-supervised training losses on feature tensors (torch), one small function per loss.

Each loss takes the features an encoder produced and returns the **batch mean** as a scalar tensor, so that
:func:`sslbook.train.fit` can minimise it. The formula and the paper it comes from are in each docstring.

The contrastive losses of the CURL framework (Arora, Khandeparkar, Khodak, Plevrakis and Saunshi, "A Theoretical
Analysis of Contrastive Unsupervised Representation Learning", ICML 2019) act on the vector of **margins**

.. math:: v_i = f(x)^\top\big(f(x^+) - f(x_i^-)\big), \qquad i = 1,\dots,k,

of an anchor :math:`x`, a positive :math:`x^+` and :math:`k` negatives :math:`x_i^-`
(:func:`contrastive_margins`), through a convex surrogate :math:`\ell` with :math:`\ell(0)=1` for :math:`k=1`.

See: Chapter 3 (the CURL framework) and Chapter 4 (training a contrastive encoder).
"""

from __future__ import annotations

import math

import torch


def _check_tensor(name: str, value, ndim: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim not in ndim:
        raise ValueError(f"{name} must have ndim in {ndim}, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def contrastive_margins(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""Margins :math:`v_i = f(x)^\top(f(x^+) - f(x_i^-))` of a batch of contrastive tuples.

    .. math:: v_{bi} = \langle a_b,\, p_b - n_{bi}\rangle, \qquad b=1,\dots,B,\quad i=1,\dots,k.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
        Features :math:`f(x)` of the anchors.
    positive : torch.Tensor, shape (B, d)
        Features :math:`f(x^+)` of the positives.
    negatives : torch.Tensor, shape (B, k, d) or (B, d)
        Features :math:`f(x_i^-)` of the :math:`k` negatives of each anchor; shape (B, d) means :math:`k=1`.

    Returns
    -------
    torch.Tensor, shape (B, k)
    """
    anchor = _check_tensor("anchor", anchor, (2,))
    positive = _check_tensor("positive", positive, (2,))
    negatives = _check_tensor("negatives", negatives, (2, 3))
    if positive.shape != anchor.shape:
        raise ValueError(f"positive must have the shape of anchor {tuple(anchor.shape)}, got {tuple(positive.shape)}")
    if negatives.ndim == 2:
        negatives = negatives.unsqueeze(1)
    if negatives.shape[0] != anchor.shape[0] or negatives.shape[2] != anchor.shape[1]:
        raise ValueError(
            f"negatives must have shape (B, k, d) = ({anchor.shape[0]}, k, {anchor.shape[1]}), "
            f"got {tuple(negatives.shape)}"
        )
    return (anchor * positive).sum(-1, keepdim=True) - torch.einsum("bd,bkd->bk", anchor, negatives)


def contrastive_hinge(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""CURL contrastive loss with the hinge surrogate, averaged over the batch (Arora et al., 2019).

    .. math:: \hat L_{un}(f) = \frac1B\sum_{b=1}^B \ell(v_b),\qquad
              \ell(v) = \max\{0,\ 1 + \max_i(-v_i)\},

    with the margins :math:`v_b\in\mathbb R^k` of :func:`contrastive_margins`; :math:`\ell(0)=1`.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
    positive : torch.Tensor, shape (B, d)
    negatives : torch.Tensor, shape (B, k, d) or (B, d)

    Returns
    -------
    torch.Tensor
        A scalar, the batch mean.
    """
    v = contrastive_margins(anchor, positive, negatives)
    return torch.clamp(1.0 - v.min(dim=1).values, min=0.0).mean()


def contrastive_logistic2(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""CURL contrastive loss with the base-2 logistic surrogate, batch mean (Arora et al., 2019).

    .. math:: \hat L_{un}(f) = \frac1B\sum_{b=1}^B \ell(v_b),\qquad
              \ell(v) = \log_2\Big(1 + \sum_{i=1}^k e^{-v_i}\Big),

    with the margins :math:`v_b\in\mathbb R^k` of :func:`contrastive_margins`; :math:`\ell(0)=\log_2(1+k)`, which
    is 1 for :math:`k=1`. For :math:`k=1` it is the Quick-Thoughts objective divided by :math:`\ln 2`.
    Computed stably as :math:`\operatorname{logsumexp}(0,-v_1,\dots,-v_k)/\ln 2`.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
    positive : torch.Tensor, shape (B, d)
    negatives : torch.Tensor, shape (B, k, d) or (B, d)

    Returns
    -------
    torch.Tensor
        A scalar, the batch mean.
    """
    v = contrastive_margins(anchor, positive, negatives)
    zeros = torch.zeros_like(v[:, :1])
    return (torch.logsumexp(torch.cat([zeros, -v], dim=1), dim=1) / math.log(2.0)).mean()


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: the spectral contrastive loss (owner: augmentation-graph chapter; add below this line)


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: InfoNCE, alignment and uniformity (owner: InfoNCE chapter; add below this line)


# ---------------------------------------------------------------------------------------------------------------
# Language-model part: cross-entropy and Quad LM losses (owner: tiny-LM chapter; add below this line)
