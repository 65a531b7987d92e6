"""One generic training loop for any (model, loss, batch sampler).

Every trainer of the book is a thin wrapper around :func:`fit`: it moves the model and the batches to the
device (cuda, else mps, else cpu), uses mixed precision on CUDA (bf16 where the GPU supports it), shows a
tqdm progress bar when the output is interactive, stops with :class:`TrainingDivergedError` when the loss
becomes NaN or infinite, and returns a :class:`History` of the loss at every step.
See: Introduction, "Running the book"; used from Part II on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from sslbook import config
from sslbook._validation import check_choice, check_float, check_int
from sslbook.device import get_device


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


@dataclass
class History:
    """Loss at every step, and what the run used."""

    loss: np.ndarray
    device: str
    precision: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        """Mean loss over the last 10 % of steps (at least one)."""
        tail = max(1, len(self.loss) // 10)
        return float(np.mean(self.loss[-tail:]))


def to_device(batch: Any, device: torch.device) -> Any:
    """Move a batch (tensor, numpy array, or a tuple/list/dict of them) to ``device`` as tensors.

    Float numpy arrays become float32 tensors, integer arrays int64 tensors.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(batch))
        if t.is_floating_point():
            t = t.float()
        elif batch.dtype.kind in "iu":
            t = t.long()
        return t.to(device)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(to_device(b, device) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def _precision(device: torch.device, amp: str) -> str:
    if amp == "off" or device.type != "cuda":
        return "fp32"
    if amp == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return amp


def fit(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
    sample_batch: Callable[[int], Any],
    *,
    steps: int,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    device=None,
    amp: str = "auto",
    check_every: int | None = None,
    progress: bool | None = None,
    desc: str = "training",
) -> History:
    r"""Minimise ``loss_fn(model, batch)`` over ``steps`` batches drawn by ``sample_batch(step)``.

    Parameters
    ----------
    model : torch.nn.Module
        Moved to the device. If it has a ``project()`` method (e.g. a norm constraint), it is called after
        every optimiser step.
    loss_fn : callable
        ``loss_fn(model, batch) -> scalar tensor``.
    sample_batch : callable
        ``sample_batch(step) -> batch`` (tensors or numpy arrays, or tuples/dicts of them); moved to the device.
    steps : int
        Number of optimiser steps.
    lr : float
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}
    weight_decay : float
    device : str or torch.device, optional
        Default: auto (cuda, else mps, else cpu).
    amp : {"auto", "off", "bf16", "fp16"}
        Mixed precision on CUDA only: ``"auto"`` is bf16 on GPUs that support it, else fp16 with a gradient
        scaler. Verification runs pass ``"off"`` (fp32).
    check_every : int, optional
        Check the loss for NaN/inf every this many steps (each check synchronises a GPU); default 1 on the
        CPU and 25 on a GPU. The last step is always checked.
    progress : bool, optional
        Show a progress bar; default :func:`sslbook.config.progress_enabled`.
    desc : str
        Label of the progress bar.

    Returns
    -------
    History

    Raises
    ------
    TrainingDivergedError
        When the loss is NaN or infinite, naming the step.
    """
    from tqdm.auto import tqdm

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not callable(sample_batch):
        raise TypeError(f"sample_batch must be callable, got {type(sample_batch).__name__}")
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    optimizer = check_choice("optimizer", optimizer, ("adam", "adamw", "sgd"))
    amp = check_choice("amp", amp, ("auto", "off", "bf16", "fp16"))
    dev = get_device(device)
    if check_every is None:
        check_every = 1 if dev.type == "cpu" else 25
    check_every = check_int("check_every", check_every, minimum=1)
    if progress is None:
        progress = config.progress_enabled()

    model = model.to(dev)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[optimizer]
    opt = opt_cls(params, lr=lr, weight_decay=weight_decay)
    precision = _precision(dev, amp)
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    project = getattr(model, "project", None)

    losses = torch.empty(steps, device=dev)
    checked = 0
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        batch = to_device(sample_batch(step), dev)
        opt.zero_grad(set_to_none=True)
        if autocast_dtype is not None:
            with torch.autocast(device_type="cuda", dtype=autocast_dtype):
                loss = loss_fn(model, batch)
        else:
            loss = loss_fn(model, batch)
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            raise TypeError("loss_fn must return a scalar torch.Tensor")
        losses[step] = loss.detach().float()
        if (step + 1) % check_every == 0 or step == steps - 1:
            window = losses[checked : step + 1]
            if not bool(torch.isfinite(window).all()):
                bad = checked + int(torch.nonzero(~torch.isfinite(window))[0, 0])
                raise TrainingDivergedError(
                    f"training loss became {losses[bad].item()} at step {bad} of {steps} "
                    f"(lr={lr:g}, precision={precision}); lower the learning rate or check the data"
                )
            checked = step + 1
            if progress:
                bar.set_postfix(loss=f"{losses[step].item():.4f}")
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        if callable(project):
            project()
    bar.close()
    seconds = time.perf_counter() - start
    return History(loss=losses.cpu().numpy().astype(np.float64), device=str(dev), precision=precision,
                   seconds=seconds)
