"""Spectral contrastive training on a finite augmentation graph: :func:`train_spectral`, :func:`spectral_batch_losses`.

See: Chapter "The augmentation graph and the spectral contrastive loss".
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sslbook._shapes import bind_shapes
from sslbook._validation import check_float, check_int, check_rng
from sslbook.checkpoint import check_checkpoint_path
from sslbook.device import cpu_threads as torch_threads
from sslbook.device import get_device
from sslbook.losses import spectral_contrastive
from sslbook.train.history import History
from sslbook.train.loop import fit


def _check_graph(graph) -> None:
    if not hasattr(graph, "sample_positive_pairs") or not hasattr(graph, "n_aug"):
        raise TypeError(f"graph must be an AugmentationGraph, got {type(graph).__name__}")


def _input_table(inputs, graph, dev: torch.device) -> torch.Tensor:
    """The input vector of each augmented input (one row per vertex), moved to the device once."""
    table = bind_shapes({"inputs": (inputs, "N d")}, dims={"N": graph.n_aug})["inputs"]  # N: augmented inputs
    return torch.as_tensor(table, dtype=torch.float32, device=dev)


def _phases(steps: int, lr: float, final_steps: int, final_lr: float, checkpoint) -> list[tuple]:
    """(steps, learning rate, checkpoint) of each phase; the second phase's checkpoint ends in ``.final``."""
    phases = [(steps, lr, checkpoint)]
    if final_steps:
        phases.append((final_steps, final_lr,
                       None if checkpoint is None else checkpoint.with_name(checkpoint.name + ".final")))
    return phases


def train_spectral(model: nn.Module, graph, *, steps: int, batch_size: int = 256, lr: float = 0.05,
                   final_steps: int = 0, final_lr: float | None = None, inputs=None, rng=None, optimizer: str = "adam",
                   device=None,
                   progress: bool | None = None, cpu_threads: int | None = 1, checkpoint=None,
                   checkpoint_every: int | None = None) -> History:
    r"""Minimise the spectral contrastive loss on positive pairs sampled from a finite augmentation graph.

    Each step draws ``batch_size`` positive pairs :math:`(x_i,x_i^+)` from ``graph`` (two augmentations of one
    natural input) and takes an optimiser step on :func:`sslbook.losses.spectral_contrastive`,

    .. math:: \hat L = -\frac2B\sum_i f(x_i)^\top f(x_i^+) + \frac1{B(B-1)}\sum_{i\ne j}(f(x_i)^\top f(x_j^+))^2,

    an unbiased estimate of the population loss. Two phases: ``steps`` at ``lr``, then ``final_steps`` at
    ``final_lr`` (a smaller rate lowers the noise floor of the last iterate). Thin wrapper around :func:`fit`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "Training on sampled pairs".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder. With ``inputs=None`` it receives the vertex indices (int64 tensor of shape (B,)), e.g. a
        ``torch.nn.Embedding`` (a tabular :math:`f`); otherwise it receives ``inputs[x]``.
    graph : AugmentationGraph
        Anything with ``sample_positive_pairs(n, rng)`` and ``n_aug``.
    steps, lr : int, float
        Optimiser steps and learning rate of the first phase.
    batch_size : int
        Positive pairs per step (at least 2).
    final_steps, final_lr : int, float
        Steps (0: none) and learning rate (default ``lr / 10``) of the second phase.
    inputs : array_like, shape (n_aug, d_in), optional
        Input vector of each augmented input (e.g. one-hot rows for an MLP).
    rng : numpy.random.Generator or int, optional
        Draws the pairs.
    optimizer, device, progress
        Passed to :func:`fit` (verification runs use fp32: ``amp="off"``).
    cpu_threads : int, optional
        Torch threads while training on the CPU (restored afterwards); ``None`` keeps torch's setting.
    checkpoint, checkpoint_every
        Passed to :func:`fit` with ``rng``: the first phase resumes from and saves to ``checkpoint``, the second
        to the same name with the suffix ``.final`` appended.

    Returns
    -------
    History
        The batch loss of both phases, ``extra = {"phase_steps": (steps, final_steps)}``.
    """
    _check_graph(graph)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=2)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    final_steps = check_int("final_steps", final_steps, minimum=0)
    final_lr = lr / 10 if final_lr is None else check_float("final_lr", final_lr, minimum=0.0, strict_min=True)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    rng = check_rng("rng", rng)
    dev = get_device(device)
    table = None if inputs is None else _input_table(inputs, graph, dev)
    if checkpoint is not None:
        checkpoint = check_checkpoint_path("checkpoint", checkpoint)

    def batches(step: int):
        x, x_pos = graph.sample_positive_pairs(batch_size, rng)
        return torch.from_numpy(x), torch.from_numpy(x_pos)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos = batch
        if table is not None:
            x, x_pos = table[x], table[x_pos]
        return spectral_contrastive(net(x), net(x_pos))

    with torch_threads(cpu_threads if dev.type == "cpu" else None):
        phases = _phases(steps, lr, final_steps, final_lr, checkpoint)
        runs = [fit(model, loss_fn, batches, steps=n, lr=rate, optimizer=optimizer, device=dev, amp="off",
                    progress=progress, desc=f"spectral training (lr={rate:g})", checkpoint=path,
                    checkpoint_every=checkpoint_every if path is not None else None, generators=(rng,))
                for n, rate, path in phases]
    model.eval()
    return History(loss=np.concatenate([h.loss for h in runs]), device=runs[0].device, precision="fp32",
                   seconds=float(sum(h.seconds for h in runs)), extra={"phase_steps": (steps, final_steps)})


def spectral_batch_losses(
    f, graph, *, batches: int, batch_size: int = 64, rng=None, cpu_threads: int | None = 1
) -> np.ndarray:
    r"""Batch spectral losses :func:`sslbook.losses.spectral_contrastive` of a fixed table :math:`f` on sampled pairs.

    Draws ``batches`` independent batches of ``batch_size`` positive pairs from ``graph`` and returns the batch
    loss of each; their mean estimates the population loss :math:`L(f)` without bias (a Monte Carlo check of
    the estimator).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The spectral contrastive loss".

    Parameters
    ----------
    f : array_like, shape (n_aug, k)
        Row :math:`x` is :math:`f(x)`.
    graph : AugmentationGraph
    batches : int
        Number of batches (at least 1).
    batch_size : int
        Pairs per batch (at least 2).
    rng : numpy.random.Generator or int, optional
    cpu_threads : int, optional
        Torch threads during the loop (restored afterwards); one thread is fastest for these tiny batches.

    Returns
    -------
    numpy.ndarray, shape (batches,)
    """
    _check_graph(graph)
    f = bind_shapes({"f": (f, "N k")}, dims={"N": graph.n_aug})["f"]  # N: augmented inputs
    batches = check_int("batches", batches, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=2)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    rng = check_rng("rng", rng)
    table = torch.as_tensor(f)
    out = np.empty(batches)
    with torch_threads(cpu_threads), torch.no_grad():
        for i in range(batches):
            x, x_pos = graph.sample_positive_pairs(batch_size, rng)
            out[i] = float(spectral_contrastive(table[x], table[x_pos]))
    return out
