r"""InfoNCE (NT-Xent), and the alignment and uniformity losses of Wang and Isola (ICML 2020).

See: Chapter "InfoNCE, alignment and uniformity".
"""

from __future__ import annotations

import math

import torch

from sslbook.losses._tensors import check_pair, check_positive, check_tensor

__all__ = ["info_nce", "align", "uniform"]


def info_nce(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float, normalize: bool = True) -> torch.Tensor:
    r"""InfoNCE in the NT-Xent form of SimCLR: in-batch negatives, both directions, batch mean.

    The :math:`2B` features :math:`u_1,\dots,u_{2B}` are the rows of ``z1`` followed by those of ``z2``
    (divided by their norms when ``normalize``); the positive of :math:`u_a` is :math:`u_{p(a)}` with
    :math:`p(a) = a \pm B`, and its :math:`2B-2` negatives are all other rows:

    .. math:: \mathcal L = \frac{1}{2B}\sum_{a=1}^{2B}\Big[-\frac{u_a^\top u_{p(a)}}{\tau}
              + \log\sum_{b\ne a} \exp\Big(\frac{u_a^\top u_b}{\tau}\Big)\Big],

    computed with ``logsumexp`` (stable for any :math:`\tau>0`); the normalized temperature-scaled cross
    entropy (NT-Xent) of Chen et al. (2020), the InfoNCE loss of van den Oord et al. (2018). With
    ``normalize=True``, :math:`\log(2B-1) - 2/\tau \le \mathcal L \le \log(2B-1) + 2/\tau`.

    See: Chapter "InfoNCE, alignment and uniformity", "The loss".

    Parameters
    ----------
    z1, z2 : torch.Tensor, shape (B, d)
        Features of the two views; row :math:`i` of ``z1`` and of ``z2`` come from the same input.
        :math:`B \ge 2`.
    temperature : float
        :math:`\tau > 0`.
    normalize : bool
        Divide every row by its Euclidean norm first (cosine similarities, as in SimCLR).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z1, z2 = check_pair("z1", z1, "z2", z2, min_rows=2, why=" (in-batch negatives)")
    tau = check_positive("temperature", temperature)
    if normalize and 2.0 / tau > torch.finfo(z1.dtype).max:
        # |u_a^T u_b| <= 1, so the loss lies within 2/tau of log(2B-1): beyond the dtype's range it is not finite
        raise ValueError(f"temperature must be >= {2.0 / torch.finfo(z1.dtype).max:.3g} for {z1.dtype} features "
                         f"(the loss reaches 2/temperature), got {tau:.3g}")
    u = torch.cat([z1, z2], dim=0)
    if normalize:
        u = torch.nn.functional.normalize(u, dim=1)
    n = u.shape[0]
    B = n // 2
    sims = u @ u.T
    sims.fill_diagonal_(float("-inf"))  # in place: the product's backward does not need its output
    # shift each row by its largest off-diagonal similarity before dividing by tau (cross_entropy is invariant to
    # it): the largest logit is 0, so a small temperature gives no inf - inf = NaN
    logits = (sims - sims.max(dim=1, keepdim=True).values.detach()) / tau
    pos_idx = torch.cat([torch.arange(B, n, device=u.device), torch.arange(0, B, device=u.device)])
    # cross_entropy = logsumexp over the row minus the positive logit, averaged (one fused kernel).
    return torch.nn.functional.cross_entropy(logits, pos_idx)


def align(z1: torch.Tensor, z2: torch.Tensor, *, alpha: float = 2) -> torch.Tensor:
    r"""Alignment loss of Wang and Isola (2020): mean distance of positive pairs to the power :math:`\alpha`.

    .. math:: \mathcal L_{\rm align} = \frac1B\sum_{i=1}^B \|z_{1,i} - z_{2,i}\|_2^{\alpha}.

    The features are used as given (the paper applies it to features on the unit sphere).

    See: Chapter "InfoNCE, alignment and uniformity", "Alignment and uniformity".

    Parameters
    ----------
    z1, z2 : torch.Tensor, shape (B, d)
        Features of positive pairs.
    alpha : float
        :math:`\alpha > 0`.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z1, z2 = check_pair("z1", z1, "z2", z2)
    alpha = check_positive("alpha", alpha)
    sq = ((z1 - z2) ** 2).sum(dim=1)
    if alpha == 2.0:
        return sq.mean()
    # d^alpha = (d^2)^(alpha/2); the gradient at d = 0 is 0 for alpha > 1 (clamped to avoid 0 * inf)
    return torch.where(sq > 0, sq.clamp_min(torch.finfo(sq.dtype).tiny) ** (alpha / 2), torch.zeros_like(sq)).mean()


def uniform(z: torch.Tensor, *, t: float = 2) -> torch.Tensor:
    r"""Uniformity loss of Wang and Isola (2020): log of the mean Gaussian potential over distinct pairs.

    .. math:: \mathcal L_{\rm uniform} = \log\Big(\binom{B}{2}^{-1}\sum_{i<j} e^{-t\|z_i - z_j\|_2^2}\Big),

    the pairs :math:`i<j` as in the authors' code (``torch.pdist``), computed with ``logsumexp``.

    See: Chapter "InfoNCE, alignment and uniformity", "Alignment and uniformity".

    Parameters
    ----------
    z : torch.Tensor, shape (B, d)
        Features, :math:`B\ge 2` (usually on the unit sphere).
    t : float
        :math:`t > 0`.

    Returns
    -------
    torch.Tensor
        A scalar, at most 0.
    """
    z = check_tensor("z", z, (2,))
    if z.shape[0] < 2:
        raise ValueError(f"z must have at least 2 rows, got {z.shape[0]}")
    t = check_positive("t", t)
    if t > torch.finfo(z.dtype).max:  # t would round to inf in z's dtype: inf * 0 = NaN on coincident points
        raise ValueError(f"t must be at most {torch.finfo(z.dtype).max:.3g} for {z.dtype} features, got {t:.3g}")
    B = z.shape[0]
    i, j = torch.triu_indices(B, B, offset=1, device=z.device)
    norms = (z * z).sum(dim=1)
    sq = (norms[i] + norms[j] - 2 * (z @ z.T)[i, j]).clamp_min(0.0)
    return torch.logsumexp(-t * sq, dim=0) - math.log(sq.shape[0])
