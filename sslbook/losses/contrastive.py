r"""The CURL contrastive losses on margins (Arora et al., ICML 2019): hinge and base-2 logistic.

See: Chapter 3 (the CURL framework) and Chapter 4 (training a contrastive encoder).
"""

from __future__ import annotations

import math

import torch

from sslbook.losses._tensors import check_pair, check_tensor

__all__ = ["contrastive_margins", "contrastive_hinge", "contrastive_logistic2"]


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
    anchor, positive = check_pair("anchor", anchor, "positive", positive)
    negatives = check_tensor("negatives", negatives, (2, 3))
    if negatives.ndim == 2:
        negatives = negatives.unsqueeze(1)
    if negatives.shape[0] != anchor.shape[0] or negatives.shape[2] != anchor.shape[1]:
        raise ValueError(
            f"negatives must have shape (B, k, d) = ({anchor.shape[0]}, k, {anchor.shape[1]}), "
            f"got {tuple(negatives.shape)}"
        )
    if negatives.shape[1] == 0:
        raise ValueError(f"negatives must hold k >= 1 negatives per anchor, got shape {tuple(negatives.shape)}")
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
