"""Encoders :math:`f:\\mathcal X\\to\\mathbb R^d` used across the book.

See: Chapter 1 (representations and probes); later chapters train them with :mod:`sslbook.train`.
"""

from __future__ import annotations

import torch
from torch import nn

from sslbook._validation import check_choice, check_float, check_int


class LinearEncoder(nn.Module):
    r"""A linear representation :math:`f(x) = Ux`, :math:`U\in\mathbb R^{d\times d_{in}}`.

    Parameters
    ----------
    d_in : int
        Input dimension.
    d : int
        Representation dimension.
    max_fro : float, optional
        If given, :meth:`project` rescales :math:`U` so that :math:`\|U\|_F \le` ``max_fro``
        (the norm-bounded class of the CURL bounds); the trainer calls it after each step.
    """

    def __init__(self, d_in: int, d: int, *, max_fro: float | None = None):
        super().__init__()
        d_in = check_int("d_in", d_in, minimum=1)
        d = check_int("d", d, minimum=1)
        self.max_fro = None if max_fro is None else check_float("max_fro", max_fro, minimum=0.0, strict_min=True)
        self.linear = nn.Linear(d_in, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @torch.no_grad()
    def project(self) -> None:
        """Rescale the weights onto the Frobenius ball of radius ``max_fro`` (no-op without one)."""
        if self.max_fro is None:
            return
        norm = self.linear.weight.norm()
        if norm > self.max_fro:
            self.linear.weight.mul_(self.max_fro / norm)


class MLPEncoder(nn.Module):
    r"""A multilayer perceptron :math:`f(x)=W_L\sigma(\cdots\sigma(W_1x))`, optionally L2-normalised.

    Parameters
    ----------
    d_in : int
        Input dimension.
    hidden : int or sequence of int
        Widths of the hidden layers.
    d : int
        Representation dimension.
    activation : {"relu", "gelu", "tanh"}
    normalize : bool
        Project the output onto the unit sphere (as in InfoNCE/SimCLR).
    """

    def __init__(self, d_in: int, hidden, d: int, *, activation: str = "relu", normalize: bool = False):
        super().__init__()
        d_in = check_int("d_in", d_in, minimum=1)
        d = check_int("d", d, minimum=1)
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        widths = [check_int("hidden[i]", w, minimum=1) for w in widths]
        activation = check_choice("activation", activation, ("relu", "gelu", "tanh"))
        act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[activation]
        layers: list[nn.Module] = []
        prev = d_in
        for w in widths:
            layers += [nn.Linear(prev, w), act()]
            prev = w
        layers.append(nn.Linear(prev, d))
        self.net = nn.Sequential(*layers)
        self.normalize = bool(normalize)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net(x)
        return nn.functional.normalize(z, dim=-1) if self.normalize else z


@torch.no_grad()
def encode(model: nn.Module, X, *, batch_size: int = 4096, device=None):
    """Apply a trained encoder to a numpy array in batches; returns a float64 numpy array.

    See: Chapter 1 (features for probes).
    """
    import numpy as np

    from sslbook._validation import check_array
    from sslbook.device import get_device

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X = check_array("X", X, ndim=2)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    dev = get_device(device)
    model = model.to(dev).eval()
    out = [
        model(torch.as_tensor(X[i : i + batch_size], dtype=torch.float32, device=dev)).float().cpu().numpy()
        for i in range(0, X.shape[0], batch_size)
    ]
    return np.concatenate(out).astype(np.float64)
