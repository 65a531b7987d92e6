"""Training on two augmented views of each input: :func:`train_views` (InfoNCE, alignment and uniformity).

See: Chapter "InfoNCE, alignment and uniformity", "A contrastive encoder on the digits".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from sslbook import losses as L
from sslbook._validation import check_array, check_choice, check_float, check_int
from sslbook.device import cpu_threads as torch_threads
from sslbook.device import get_device
from sslbook.train.history import History
from sslbook.train.loop import fit


def _pair_loss(loss, *, temperature: float, alpha: float, t: float, uniform_weight: float) -> Callable:
    """The loss of two batches of view features ``(z1, z2)``: InfoNCE, alignment + uniformity, or ``loss``."""
    if loss == "info_nce":
        return lambda z1, z2: L.info_nce(z1, z2, temperature=temperature)
    if loss == "align_uniform":
        return lambda z1, z2: (L.align(z1, z2, alpha=alpha)
                               + uniform_weight * 0.5 * (L.uniform(z1, t=t) + L.uniform(z2, t=t)))
    return loss


def _per_step(log: list[torch.Tensor], steps: int) -> np.ndarray:
    """One value per step; NaN for the steps done before a resume (not logged in this call)."""
    done = np.full(steps, np.nan)
    if log:
        done[steps - len(log):] = torch.stack(log).cpu().numpy()
    return done


def _inputs(X, dev: torch.device) -> torch.Tensor:
    """The unlabelled inputs as a float32 tensor on the device (moved once)."""
    if isinstance(X, torch.Tensor):
        return X.detach().to(dev, dtype=torch.float32)
    return torch.as_tensor(check_array("X", X, min_rows=2), dtype=torch.float32, device=dev)


class _TwoViews:
    """Batches of two augmented views of rows of ``data``, their loss, and the alignment/uniformity logs."""

    def __init__(self, data: torch.Tensor, augment: Callable, batch_size: int, normalize: bool, objective: Callable,
                 gen: torch.Generator):
        self.data, self.augment, self.batch_size, self.normalize = data, augment, batch_size, normalize
        self.objective, self.gen = objective, gen
        self.align: list[torch.Tensor] = []
        self.uniform: list[torch.Tensor] = []

    def sample(self, step: int):
        idx = torch.randperm(self.data.shape[0], generator=self.gen, device=self.data.device)[:self.batch_size]
        x = self.data[idx]
        return self.augment(x, self.gen), self.augment(x, self.gen)

    def loss(self, net: nn.Module, batch) -> torch.Tensor:
        v1, v2 = batch
        z = net(torch.cat([v1, v2]))
        if self.normalize:
            z = nn.functional.normalize(z, dim=-1)
        z1, z2 = z[:self.batch_size], z[self.batch_size:]
        with torch.no_grad():
            zf1 = nn.functional.normalize(z1.detach().float(), dim=-1)
            zf2 = nn.functional.normalize(z2.detach().float(), dim=-1)
            self.align.append(L.align(zf1, zf2))
            self.uniform.append(0.5 * (L.uniform(zf1) + L.uniform(zf2)))
        return self.objective(z1, z2)


def train_views(model: nn.Module, X, augment: Callable, *, loss: str | Callable = "info_nce", steps: int,
                batch_size: int = 256, temperature: float = 0.5, alpha: float = 2.0, t: float = 2.0,
                uniform_weight: float = 1.0, normalize: bool = True, lr: float = 1e-3, optimizer: str = "adam",
                weight_decay: float = 0.0, seed: int = 0, device=None, amp: str = "auto",
                progress: bool | None = None, desc: str = "two-view training", cpu_threads: int | None = 1,
                checkpoint=None, checkpoint_every: int | None = None) -> History:
    r"""Train an encoder on two augmented views of each input: a thin wrapper around :func:`fit`.

    Each step draws ``batch_size`` rows :math:`x_1,\dots,x_B` of ``X`` (without replacement), two independent
    views :math:`a(x_i), a'(x_i)` with ``augment``, encodes both, rescales the features onto the unit sphere
    (``normalize``) and minimises

    * ``loss="info_nce"``: the NT-Xent loss :func:`sslbook.losses.info_nce` with temperature :math:`\tau`;
    * ``loss="align_uniform"``: :math:`\mathcal L_{\rm align}(\alpha) + \lambda\,\tfrac12\big(
      \mathcal L_{\rm uniform}(z;t) + \mathcal L_{\rm uniform}(z';t)\big)` (:func:`sslbook.losses.align`,
      :func:`sslbook.losses.uniform`), as in Wang and Isola's code;
    * a callable ``loss(z1, z2) -> scalar``.

    See: Chapter "InfoNCE, alignment and uniformity", "A contrastive encoder on the digits".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder; maps a batch of the shape of ``X[idx]`` to features (B, d).
    X : array_like or torch.Tensor, shape (n, ...)
        Unlabelled inputs; moved to the device once.
    augment : callable
        ``augment(x, generator)`` on a batch (see :mod:`sslbook.augment`).
    loss : {"info_nce", "align_uniform"} or callable
    steps : int
    batch_size : int
        :math:`B\ge2` (at most ``n``).
    temperature, alpha, t, uniform_weight : float
        :math:`\tau>0` (``"info_nce"``); :math:`\alpha>0`, :math:`t>0`, :math:`\lambda\ge0` (``"align_uniform"``).
    normalize : bool
        Put the features on the unit sphere before the loss.
    lr, optimizer, weight_decay, device, amp, progress, desc
        As in :func:`fit`.
    seed : int
        Seeds the batches and the augmentations (a :class:`torch.Generator` on the device).
    cpu_threads : int, optional
        Torch threads while training on the CPU (1 is fastest for small models); ``None`` keeps the setting.
    checkpoint, checkpoint_every
        Passed to :func:`fit` (with the batch generator, for an exact resume).

    Returns
    -------
    History
        With ``extra["align"]`` and ``extra["uniform"]``: the alignment (:math:`\alpha=2`) and uniformity
        (:math:`t=2`) of the normalised features of each step's batch (numpy arrays of length ``steps``, without
        gradients; NaN for the steps done before a resume, which the checkpoint does not store).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(augment):
        raise TypeError(f"augment must be callable, got {type(augment).__name__}")
    if isinstance(loss, str):
        loss = check_choice("loss", loss, ("info_nce", "align_uniform"))
    elif not callable(loss):
        raise TypeError(f"loss must be 'info_nce', 'align_uniform' or a callable, got {type(loss).__name__}")
    steps = check_int("steps", steps, minimum=1)
    temperature = check_float("temperature", temperature, minimum=0.0, strict_min=True)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
    t = check_float("t", t, minimum=0.0, strict_min=True)
    uniform_weight = check_float("uniform_weight", uniform_weight, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    dev = get_device(device)
    data = _inputs(X, dev)
    batch_size = check_int("batch_size", batch_size, minimum=2, maximum=data.shape[0])
    views = _TwoViews(data, augment, batch_size, normalize, gen=torch.Generator(device=dev).manual_seed(seed),
                      objective=_pair_loss(loss, temperature=temperature, alpha=alpha, t=t,
                                           uniform_weight=uniform_weight))
    n_threads = check_int("cpu_threads", cpu_threads, minimum=1) if cpu_threads is not None else None
    with torch_threads(n_threads if dev.type == "cpu" else None):
        history = fit(model, views.loss, views.sample, steps=steps, lr=lr, optimizer=optimizer,
                      weight_decay=weight_decay, device=dev, amp=amp, progress=progress, desc=desc,
                      checkpoint=checkpoint, checkpoint_every=checkpoint_every, generators=(views.gen,))
    history.extra.update(loss=loss if isinstance(loss, str) else "callable", align=_per_step(views.align, steps),
                         uniform=_per_step(views.uniform, steps))
    return history
