"""Argument checks shared by the loss modules (torch tensors); a private module, public names."""

from __future__ import annotations

import torch

from sslbook._validation import check_float

__all__ = ["check_tensor", "require", "check_pair", "check_positive"]


def check_tensor(name: str, value, ndim: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim not in ndim:
        raise ValueError(f"{name} must have ndim in {ndim}, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def require(ok: torch.Tensor, message: str, exc: type[Exception] = ValueError) -> None:
    """Raise ``exc(message)`` unless the boolean tensor ``ok`` is true.

    On the CPU this is an ordinary check; on a GPU it is an asynchronous device assertion, so that a training
    step does not synchronise with the host (a failure surfaces at the next synchronisation).
    """
    if ok.device.type == "cpu":
        if not bool(ok):
            raise exc(message)
    else:
        torch._assert_async(ok)


def check_pair(name: str, value, other_name: str, other, *, min_rows: int = 1, why: str = "") -> tuple:
    """Two (B, d) feature tensors of the same shape with at least ``min_rows`` rows (positive pairs, two views)."""
    value = check_tensor(name, value, (2,))
    other = check_tensor(other_name, other, (2,))
    if other.shape != value.shape:
        raise ValueError(f"{other_name} must have the shape of {name} {tuple(value.shape)}, got {tuple(other.shape)}")
    if value.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows{why}, got {value.shape[0]}")
    return value, other


def check_positive(name: str, value) -> float:
    return check_float(name, value, minimum=0.0, strict_min=True)
