"""Batches of a training run: checked on the host, moved to the device.

See: Introduction, "Running the book".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sslbook.device import get_device


def to_device(batch: Any, device: torch.device) -> Any:
    """Move a batch (tensor, numpy array, or a tuple/list/dict of them) to ``device`` as tensors.

    Float numpy arrays become float32 tensors, integer arrays int64 tensors. Towards a CUDA device, numpy arrays
    go through pinned (page-locked) memory and every host-to-device copy is asynchronous (``non_blocking``);
    every other copy, device-to-host in particular, is blocking, so the host never reads a tensor before its
    copy has ended.
    """
    if not isinstance(device, torch.device):
        device = get_device(device)
    cuda = device.type == "cuda"
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=cuda and batch.device.type == "cpu")
    if isinstance(batch, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(batch))
        if t.is_floating_point():
            t = t.float()
        elif batch.dtype.kind in "iu":
            t = t.long()
        if cuda:
            return t.pin_memory().to(device, non_blocking=True)
        return t.to(device)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(to_device(b, device) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def check_batch(batch: Any, step: int, where: str = "the batch") -> None:
    """Check a batch drawn by ``sample_batch(step)``: it exists and holds no empty array.

    Checked on shapes only, so it never synchronises a GPU. Used by :func:`sslbook.train.fit` at every step.

    See: Introduction, "Running the book" (what stops a training run).

    Parameters
    ----------
    batch : tensor, numpy array, or a tuple/list/dict of them
    step : int
        The step that drew it (named in the error).
    where : str
        How the error names the checked part (nested entries are named ``element i`` or ``entry 'k'``).

    Raises
    ------
    TypeError
        When ``batch`` is ``None``.
    ValueError
        When an array of the batch has no elements.
    """
    if batch is None:
        raise TypeError(f"sample_batch(step) returned None at step {step}; it must return a batch (tensors or "
                        "numpy arrays, or a tuple/list/dict of them)")
    if isinstance(batch, (torch.Tensor, np.ndarray)):
        if batch.ndim > 0 and (batch.numel() if isinstance(batch, torch.Tensor) else batch.size) == 0:
            raise ValueError(f"sample_batch(step) returned an empty batch at step {step}: {where} has shape "
                             f"{tuple(batch.shape)}; a loss over no examples is undefined")
    elif isinstance(batch, (tuple, list)):
        for i, b in enumerate(batch):
            if b is not None:
                check_batch(b, step, f"element {i} of the batch")
    elif isinstance(batch, dict):
        for k, b in batch.items():
            if b is not None:
                check_batch(b, step, f"entry {k!r} of the batch")
