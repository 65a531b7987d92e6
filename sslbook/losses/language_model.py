r"""Language-model objectives on logits: cross-entropy and the Quad objective.

See: Part IV (language models).
"""

from __future__ import annotations

import torch

from sslbook.losses._tensors import check_tensor, require

__all__ = ["xent_lm", "quad_lm"]


def _lm_target(target, logits_shape: tuple[int, int]) -> tuple[torch.Tensor, bool]:
    """Validate an LM target: next-word indices (B,) or next-word distributions (B, V). Returns (target, is_dist)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    B, V = logits_shape
    if target.is_floating_point():
        if tuple(target.shape) != (B, V):
            raise ValueError(f"target (next-word distributions) must have shape {(B, V)}, got {tuple(target.shape)}")
        if B:
            # rows on the simplex, to the rounding of a sum of V terms in the target's dtype
            atol = max(V * torch.finfo(target.dtype).eps, 1e-6) * 4
            ok = torch.isfinite(target).all() & (target >= 0).all() & ((target.sum(dim=1) - 1).abs() <= atol).all()
            require(ok, "target (next-word distributions) must be finite, non-negative, and each row must sum to 1")
        return target, True
    if target.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        if tuple(target.shape) != (B,):
            raise ValueError(f"target (next-word indices) must have shape {(B,)}, got {tuple(target.shape)}")
        if B:
            require(((target >= 0) & (target < V)).all(), f"target indices must lie in [0, {V}) (V = {V})")
        return target.long(), False
    raise TypeError(f"target must be an integer or floating-point tensor, got dtype {target.dtype}")


def _lm_weighted_mean(per_context: torch.Tensor, weight) -> torch.Tensor:
    if weight is None:
        return per_context.mean()
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor of shape {tuple(per_context.shape)}, "
                        f"got {type(weight).__name__}")
    if weight.shape != per_context.shape:
        raise ValueError(f"weight must be a tensor of shape {tuple(per_context.shape)}, got {tuple(weight.shape)}")
    if not weight.is_floating_point():
        weight = weight.to(per_context.dtype)
    require(torch.isfinite(weight).all() & (weight >= 0).all() & (weight.sum() > 0),
             "weight must be finite and non-negative with a positive sum (the weighted mean divides by it)")
    return (weight * per_context).sum() / weight.sum()


def xent_lm(logits: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Language-model cross-entropy of a softmax LM, averaged over contexts (Saunshi, Malladi and Arora, 2021).

    For logits :math:`z_b=\Phi^\top f(s_b)` of context :math:`s_b` and a next word :math:`w_b`, or a next-word
    distribution :math:`p^*_b`,

    .. math:: \ell_{xent}(s_b) = -\log\mathrm{softmax}(z_b)_{w_b}
              \quad\text{or}\quad
              \ell_{xent}(s_b) = \mathbb E_{w\sim p^*_b}[-z_{b,w}] + \log\sum_{w'}e^{z_{b,w'}},

    returned as the mean over the batch, or the weighted mean :math:`\sum_b\omega_b\ell(s_b)/\sum_b\omega_b` (with
    ``weight`` :math:`=p_L(s_b)` and all contexts in the batch, the exact population loss).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    logits : torch.Tensor, shape (B, V)
    target : torch.Tensor, shape (B,) of int or (B, V) of float
        Sampled next words, or next-word distributions (rows on the simplex).
    weight : torch.Tensor, shape (B,), optional
        Non-negative context weights.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    logits = check_tensor("logits", logits, (2,))
    if logits.shape[0] == 0:
        raise ValueError("logits must have at least one row, got shape (0, V)")
    target, is_dist = _lm_target(target, tuple(logits.shape))
    if is_dist:
        per = -(target * logits).sum(dim=1) + torch.logsumexp(logits, dim=1)
    else:
        per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    return _lm_weighted_mean(per, weight)


def quad_lm(theta: torch.Tensor, Phi: torch.Tensor, target: torch.Tensor, *,
            weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""The Quad language-model loss (Saunshi, Malladi and Arora, 2021), averaged over contexts.

    The log-partition of the cross-entropy is replaced by a quadratic: for features :math:`\theta_b=f(s_b)`,
    word embeddings :math:`\Phi\in\mathbb R^{d\times V}` (columns :math:`\phi_w`) and a next word :math:`w_b` or
    distribution :math:`p^*_b`,

    .. math:: \ell_{quad}(s_b) = -\theta_b^\top\phi_{w_b} + \tfrac12\|\Phi^\top\theta_b\|^2
              \quad\text{or}\quad
              \ell_{quad}(s_b) = -\theta_b^\top\Phi p^*_b + \tfrac12\|\Phi^\top\theta_b\|^2 ;

    the sampled form is an unbiased estimate of the second. Mean (or ``weight``-ed mean) over the batch.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Definition "The Quad objective".

    Parameters
    ----------
    theta : torch.Tensor, shape (B, d)
    Phi : torch.Tensor, shape (d, V)
    target : torch.Tensor, shape (B,) of int or (B, V) of float
    weight : torch.Tensor, shape (B,), optional

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    theta = check_tensor("theta", theta, (2,))
    if theta.shape[0] == 0:
        raise ValueError("theta must have at least one row, got shape (0, d)")
    Phi = check_tensor("Phi", Phi, (2,))
    if Phi.shape[0] != theta.shape[1]:
        raise ValueError(f"Phi must have shape (d, V) with d = {theta.shape[1]}, got {tuple(Phi.shape)}")
    logits = theta @ Phi
    target, is_dist = _lm_target(target, tuple(logits.shape))
    linear = (target * logits).sum(dim=1) if is_dist else logits.gather(1, target[:, None])[:, 0]
    per = -linear + 0.5 * (logits * logits).sum(dim=1)
    return _lm_weighted_mean(per, weight)
