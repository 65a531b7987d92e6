r"""The spectral contrastive loss (HaoChen et al., NeurIPS 2021), unclipped and with the official norm clipping.

See: Chapter "The augmentation graph and the spectral contrastive loss".
"""

from __future__ import annotations

import math

import torch

from sslbook.losses._tensors import check_pair, check_positive

__all__ = ["spectral_contrastive", "spectral_contrastive_clipped"]


def spectral_contrastive(z: torch.Tensor, z_pos: torch.Tensor) -> torch.Tensor:
    r"""Batch estimate of the spectral contrastive loss of HaoChen, Wei, Gaidon and Ma (2021).

    The population loss is
    :math:`L(f) = -2\,\mathbb E_{(x,x^+)}[f(x)^\top f(x^+)] + \mathbb E_{x,x'}[(f(x)^\top f(x'))^2]`
    with :math:`(x,x^+)` a positive pair and :math:`x,x'` independent draws of the marginal :math:`w`.
    On a batch of positive pairs :math:`(z_i, z_i^+) = (f(x_i), f(x_i^+))`, :math:`i=1,\dots,B`,

    .. math:: \hat L = -\frac2B\sum_{i=1}^B \langle z_i, z_i^+\rangle
              + \frac1{B(B-1)}\sum_{i\ne j} \langle z_i, z_j^+\rangle^2,

    an unbiased estimate of :math:`L(f)` when the pairs are independent (for :math:`i\ne j`, :math:`x_i` and
    :math:`x_j^+` are independent with marginal :math:`w` each).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "Training on sampled pairs".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features :math:`f(x_i)` of the anchors, :math:`B\ge2`.
    z_pos : torch.Tensor, shape (B, k)
        Features :math:`f(x_i^+)` of their positives.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z, z_pos = check_pair("z", z, "z_pos", z_pos, min_rows=2, why=" (the negative term needs pairs i != j)")
    b = z.shape[0]
    gram = z @ z_pos.T  # (B, B): <z_i, z_pos_j>
    eye = torch.eye(b, dtype=torch.bool, device=z.device)
    off_sq = gram.pow(2).masked_fill(eye, 0.0).sum() / (b * (b - 1))
    return -2.0 * torch.diagonal(gram).mean() + off_sq


def spectral_contrastive_clipped(z: torch.Tensor, z_pos: torch.Tensor, *, mu: float = 1.0) -> torch.Tensor:
    r"""The spectral contrastive batch loss as HaoChen et al.'s official code computes it (norms clipped at sqrt(mu)).

    Every feature of norm at least :math:`\sqrt\mu` is rescaled onto the sphere of radius :math:`\sqrt\mu`,
    :math:`c_\mu(z)=\min(1,\sqrt\mu/\|z\|)\,z`, and the batch loss of :func:`spectral_contrastive` on the clipped
    features is divided by :math:`\mu`:

    .. math:: \hat L_\mu = \frac1\mu\Big(-\frac2B\sum_{i=1}^B \langle c_\mu(z_i), c_\mu(z_i^+)\rangle
              + \frac1{B(B-1)}\sum_{i\ne j} \langle c_\mu(z_i), c_\mu(z_j^+)\rangle^2\Big).

    When every norm is at most :math:`\sqrt\mu` this is exactly :func:`spectral_contrastive` divided by
    :math:`\mu` (equal to it at :math:`\mu=1`); otherwise it is an unbiased estimate of the *clipped* population
    loss :math:`L(c_\mu\circ f)/\mu` (:func:`sslbook.theory.spectral_practice.clipped_spectral_loss`), a different
    objective, bounded: :math:`-2\le\hat L_\mu\le2+\mu`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The official estimator".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features of the anchors, :math:`B\ge2`.
    z_pos : torch.Tensor, shape (B, k)
        Features of their positives.
    mu : float
        :math:`\mu>0` (1 in the official CIFAR-10 configuration, 10 on ImageNet).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z, z_pos = check_pair("z", z, "z_pos", z_pos, min_rows=2, why=" (the negative term needs pairs i != j)")
    mu = check_positive("mu", mu)
    radius = math.sqrt(mu)

    def clip(t: torch.Tensor) -> torch.Tensor:
        norms = t.norm(dim=1, keepdim=True)
        return t * torch.where(norms >= radius, radius / norms.clamp_min(torch.finfo(t.dtype).tiny), 1.0)

    return spectral_contrastive(clip(z), clip(z_pos)) / mu
