"""Contrastive training on sampled tuples with a CURL loss: :func:`train_contrastive`.

See: Chapter 4, "Training on sampled triples".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from sslbook import losses
from sslbook._validation import check_choice, check_float, check_int
from sslbook.device import cpu_threads as torch_threads
from sslbook.device import get_device
from sslbook.train.history import History
from sslbook.train.loop import fit


def _as_triple(batch) -> tuple:
    """``(x, x_pos, x_neg)`` from a tuple, a :class:`sslbook.data.Triples` or a ``ContrastiveTuples``."""
    if all(hasattr(batch, name) for name in ("anchor", "positive", "negatives")):
        batch = (batch.anchor, batch.positive, batch.negatives)
    elif all(hasattr(batch, name) for name in ("anchors", "positives", "negatives")):
        # ContrastiveTuples from LatentClassModel.sample_tuples: positives are (B, block, d_in)
        if batch.positives.shape[1] != 1:
            raise ValueError("sample_triples must give one positive per anchor (block = 1)")
        batch = (batch.anchors, batch.positives[:, 0], batch.negatives)
    if not isinstance(batch, (tuple, list)) or len(batch) != 3:
        raise TypeError("sample_triples(step) must return (x, x_pos, x_neg) or an object with "
                        "attributes anchor, positive, negatives")
    return tuple(batch)


def _check_triple(x: torch.Tensor, x_pos: torch.Tensor, x_neg: torch.Tensor) -> tuple:
    """Shapes (B, d_in), (B, d_in), (B, k, d_in) of a batch on the device (one negative (B, d_in) is k = 1)."""
    if x.ndim != 2 or x_pos.shape != x.shape:
        raise ValueError(f"sample_triples must give x and x_pos of equal shape (B, d_in), got "
                         f"{tuple(x.shape)} and {tuple(x_pos.shape)}")
    if x_neg.ndim == 2:
        x_neg = x_neg.unsqueeze(1)
    if x_neg.ndim != 3 or x_neg.shape[0] != x.shape[0] or x_neg.shape[2] != x.shape[1]:
        raise ValueError(f"sample_triples must give x_neg of shape (B, k, d_in), got {tuple(x_neg.shape)}")
    return x, x_pos, x_neg


def train_contrastive(model: nn.Module, sample_triples: Callable[[int], Any], *, steps: int, loss: str = "logistic2",
                      radius: float | None = None, lr: float = 1e-3, optimizer: str = "adam",
                      weight_decay: float = 0.0, device=None, amp: str = "auto", progress: bool | None = None,
                      desc: str = "contrastive training", cpu_threads: int | None = 1, checkpoint=None,
                      checkpoint_every: int | None = None, generators=()) -> History:
    r"""Train an encoder on contrastive tuples with a CURL loss: a thin wrapper around :func:`fit`.

    Each step draws a batch ``(x, x_pos, x_neg)`` of anchors, positives and negatives, encodes all of them in
    one forward pass, optionally rescales the features to norm :math:`R`
    (:math:`f(x) = R\,g(x)/\|g(x)\|`, the CURL assumption :math:`\|f\|\le R` met with equality), and minimises

    .. math:: \hat L_{un}(f) = \frac1B\sum_{b=1}^B \ell\big(\{f(x_b)^\top(f(x_b^+) - f(x_{bi}^-))\}_{i=1}^k\big)

    with the hinge (:func:`sslbook.losses.contrastive_hinge`) or the :math:`\log_2`-logistic
    (:func:`sslbook.losses.contrastive_logistic2`) surrogate :math:`\ell`.

    See: Chapter 4, "Training on sampled triples" and "A Table-1 analogue on the digits".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder :math:`g`; its ``project()`` (e.g. :class:`sslbook.models.LinearEncoder` with ``max_fro``)
        is called after every step by :func:`fit`.
    sample_triples : callable
        ``sample_triples(step)`` returns ``(x, x_pos, x_neg)`` with shapes (B, d_in), (B, d_in) and
        (B, k, d_in) or (B, d_in) — numpy arrays or tensors — or an object with attributes ``anchor``,
        ``positive``, ``negatives`` such as :class:`sslbook.data.Triples`, or a
        :class:`sslbook.data.ContrastiveTuples` with one positive per anchor.
    steps : int
        Optimiser steps.
    loss : {"logistic2", "hinge"}
        The surrogate :math:`\ell`.
    radius : float, optional
        If given, features are rescaled to this norm :math:`R` before the loss.
    lr, optimizer, weight_decay, device, amp, progress, desc
        Passed to :func:`fit`.
    cpu_threads : int, optional
        Torch threads while training on the CPU (restored afterwards). The default 1 suits the book's small
        problems: on two shared cores, intra-op threading of small matrices is several times slower than one
        thread. ``None`` keeps torch's setting.
    checkpoint, checkpoint_every, generators
        Passed to :func:`fit`: resume from and save to this file; ``generators`` are those ``sample_triples``
        draws from (for an exact resume).

    Returns
    -------
    History
        As :func:`fit`, with ``extra = {"loss": loss, "radius": radius}``.
    """
    if not callable(sample_triples):
        raise TypeError(f"sample_triples must be callable, got {type(sample_triples).__name__}")
    loss = check_choice("loss", loss, ("logistic2", "hinge"))
    if radius is not None:
        radius = check_float("radius", radius, minimum=0.0, strict_min=True)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    criterion = losses.contrastive_logistic2 if loss == "logistic2" else losses.contrastive_hinge

    def batches(step: int):
        return _as_triple(sample_triples(step))

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos, x_neg = _check_triple(*batch)
        B, k = x_neg.shape[:2]
        z = net(torch.cat([x, x_pos, x_neg.reshape(B * k, -1)]))
        if radius is not None:
            z = radius * nn.functional.normalize(z, dim=-1)
        return criterion(z[:B], z[B : 2 * B], z[2 * B :].reshape(B, k, -1))

    with torch_threads(cpu_threads if get_device(device).type == "cpu" else None):
        history = fit(model, loss_fn, batches, steps=steps, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
                      device=device, amp=amp, progress=progress, desc=desc, checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=generators)
    history.extra.update(loss=loss, radius=radius)
    return history
