"""Spectral training against an adversarial linear probe: :func:`probe_r2`, :func:`train_adversarial_probe`.

See: Chapter "Why inductive biases are unavoidable", "An expressive class can be fooled".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from sslbook import losses
from sslbook._validation import check_float, check_int
from sslbook.device import cpu_threads as torch_threads
from sslbook.device import get_device
from sslbook.train.history import History
from sslbook.train.loop import fit


def probe_r2(z: torch.Tensor, y: torch.Tensor, *, ridge: float = 1e-4) -> torch.Tensor:
    r"""Fraction of the label variance explained by the best linear probe on a batch (differentiable).

    With centred features :math:`Z_c` (B, k) and centred one-hot labels :math:`Y_c` (B, C),

    .. math:: R^2=\frac{\operatorname{tr}\big(Y_c^\top Z_c(Z_c^\top Z_c+\rho I)^{-1}Z_c^\top Y_c\big)}
              {\|Y_c\|_F^2}\in[0,1],

    the least-squares probe with intercept solved in closed form, i.e. trained to optimality in the inner loop.

    See: Chapter "Why inductive biases are unavoidable", "An expressive class can be fooled".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features.
    y : torch.Tensor of int, shape (B,)
        Class labels in ``0..C-1``.
    ridge : float
        :math:`\rho>0`, a small ridge for a stable solve.
    """
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        raise ValueError(f"z must be a 2-d torch.Tensor (B, k), got {type(z).__name__}")
    if not z.is_floating_point():
        raise TypeError(f"z must be a floating-point tensor, got dtype {z.dtype}")
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise ValueError("y must be a 1-d torch.Tensor of labels with one entry per row of z")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    ridge = check_float("ridge", ridge, minimum=0.0, strict_min=True)
    if y.shape[0] < 2:
        raise ValueError(f"y must hold at least two labels (one per row of z), got {y.shape[0]}")
    # With S = Y Y^T (S_ij = [y_i = y_j]) and Z_c^T 1 = 0: Z_c^T Y_c Y_c^T Z_c = Z_c^T S Z_c and
    # ||Y_c||_F^2 = B - sum(S) / B. No one-hot matrix, hence no number of classes to read from the device.
    yl = y.long()
    S = (yl[:, None] == yl[None, :]).to(z.dtype)
    Zc = z - z.mean(dim=0)
    G = Zc.T @ Zc + ridge * torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    n = z.shape[0]
    total = n - S.sum() / n  # an integer over n: 0 for one class, at least (2n - 2) / n >= 1 otherwise
    if z.device.type == "cpu":
        if bool(total < 0.5):
            raise ValueError("y must hold at least two classes in the batch")
    else:
        torch._assert_async(total >= 0.5)  # no host synchronisation on a GPU
    return torch.trace(torch.linalg.solve(G, Zc.T @ (S @ Zc))) / total


def train_adversarial_probe(model: nn.Module, sample_batch: Callable[[int], Any], *, steps: int,
                            adv_weight: float = 1.0, lr: float = 3e-3, optimizer: str = "adam",
                            weight_decay: float = 0.0, device=None, progress: bool | None = None,
                            desc: str = "spectral training",
                            cpu_threads: int | None = 1, checkpoint=None, checkpoint_every: int | None = None,
                            generators=()) -> History:
    r"""Spectral contrastive training with an adversarial linear probe: a thin wrapper around :func:`fit`.

    Each step draws positive pairs with labels :math:`(x_i,x_i^+,y_i)` and minimises

    .. math:: \hat L_{spec}(f)+\vartheta\cdot\tfrac12\big(R^2(f(x),y)+R^2(f(x^+),y)\big),

    where :math:`\hat L_{spec}` is :func:`sslbook.losses.spectral_contrastive` and :math:`R^2` the label variance
    explained by the best linear probe on the batch (:func:`probe_r2`): the encoder *maximises* the probe's
    squared error, up to chance level. With ``adv_weight=0`` this is plain spectral contrastive training.
    The labels are used only to build a deliberately bad near-minimizer of the spectral loss.

    See: Chapter "Why inductive biases are unavoidable", "An expressive class can be fooled".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder.
    sample_batch : callable
        ``sample_batch(step)`` returns ``(x, x_pos, y)`` (shapes (B, d_in), (B, d_in), (B,)) or an object with
        attributes ``x``, ``x_pos``, ``y`` such as :class:`sslbook.data.AugmentedPairs`.
    steps : int
    adv_weight : float
        :math:`\vartheta\ge0` (the book's symbol; the glossary keeps :math:`\lambda` for eigenvalues).
    lr, optimizer, weight_decay, device, progress, desc
        Passed to :func:`fit` (fp32 throughout).
    cpu_threads : int, optional
        Torch threads on the CPU during training (restored afterwards); ``None`` keeps torch's setting.
    checkpoint, checkpoint_every, generators
        Passed to :func:`fit`: resume from and save to this file; ``generators`` are those ``sample_batch``
        draws from (for an exact resume).

    Returns
    -------
    History
        As :func:`fit`, with ``extra = {"adv_weight": adv_weight}``.
    """
    if not callable(sample_batch):
        raise TypeError(f"sample_batch must be callable, got {type(sample_batch).__name__}")
    adv_weight = check_float("adv_weight", adv_weight, minimum=0.0)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)

    def batches(step: int):
        batch = sample_batch(step)
        if all(hasattr(batch, name) for name in ("x", "x_pos", "y")):
            batch = (batch.x, batch.x_pos, batch.y)
        if not isinstance(batch, (tuple, list)) or len(batch) != 3:
            raise TypeError("sample_batch(step) must return (x, x_pos, y) or an object with attributes x, x_pos, y")
        return tuple(batch)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos, y = batch
        if x.ndim != 2 or x_pos.shape != x.shape or y.shape != x.shape[:1]:
            raise ValueError(f"sample_batch must give x, x_pos of shape (B, d_in) and y of shape (B,), got "
                             f"{tuple(x.shape)}, {tuple(x_pos.shape)}, {tuple(y.shape)}")
        b = x.shape[0]
        z = net(torch.cat([x, x_pos]))
        loss = losses.spectral_contrastive(z[:b], z[b:])
        if adv_weight > 0:
            loss = loss + adv_weight * 0.5 * (probe_r2(z[:b], y) + probe_r2(z[b:], y))
        return loss

    with torch_threads(cpu_threads if get_device(device).type == "cpu" else None):
        history = fit(model, loss_fn, batches, steps=steps, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
                      device=device, amp="off", progress=progress, desc=desc, checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=generators)
    history.extra.update(adv_weight=adv_weight)
    return history
