"""Self-prediction: fit the pretext regression :math:`X_1\to X_2` (:func:`fit_pretext_regression`).

See: Chapter "Predicting what you already know", "A learned pretext model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sslbook._shapes import bind_shapes, check_shapes
from sslbook._validation import check_choice, check_float, check_int
from sslbook.device import cpu_threads
from sslbook.models import MLPEncoder, encode
from sslbook.train.history import History
from sslbook.train.loop import fit


@dataclass
class PretextRegressor:
    """A fitted pretext model :math:`\\tilde\\psi: x_1\\mapsto\\hat x_2` (see :func:`fit_pretext_regression`)."""

    kind: str
    mean_x1: np.ndarray
    mean_x2: np.ndarray
    coef: np.ndarray | None = None  #: (d1, d2) for kind="ridge"
    model: nn.Module | None = None  #: the MLP for kind="mlp"
    history: History | None = None

    def transform(self, x1) -> np.ndarray:
        """The learned features :math:`\\tilde\\psi(x_1)`, shape (n, d2) (numpy)."""
        x1 = bind_shapes({"x1": (x1, "n d1")}, dims={"d1": self.mean_x1.shape[0]})["x1"]
        if self.kind == "ridge":
            return (x1 - self.mean_x1) @ self.coef + self.mean_x2
        return encode(self.model, x1 - self.mean_x1) + self.mean_x2


@check_shapes(x1="n d1", x2="n d2")
def fit_pretext_regression(x1, x2, *, kind: str = "ridge", ridge: float = 1e-3, hidden: int = 128, steps: int = 500,
                           lr: float = 3e-3, batch_size: int = 256, seed: int = 0, device=None,
                           progress: bool | None = None, checkpoint=None,
                           checkpoint_every: int | None = None) -> PretextRegressor:
    r"""Fit the reconstruction pretext task :math:`\tilde\psi\in\arg\min_\psi\hat{\mathbb E}\|X_2-\psi(X_1)\|^2`.

    ``kind="ridge"``: closed form on centred data, :math:`\hat M=(X_1^\top X_1+\lambda nI)^{-1}X_1^\top X_2`
    (a linear :math:`\tilde\psi`); ``kind="mlp"``: a one-hidden-layer MLP trained with :func:`fit` (Adam, MSE).

    See: Chapter "Predicting what you already know", "A learned pretext model".

    Parameters
    ----------
    x1 : array_like, shape (n1, d1)
    x2 : array_like, shape (n1, d2)
        Unlabelled pairs.
    kind : {"ridge", "mlp"}
    ridge : float
        :math:`\lambda\ge0` (per sample) for ``"ridge"``; weight decay for ``"mlp"``.
    hidden, steps, lr, batch_size : int, int, float, int
        MLP width, optimiser steps, learning rate, minibatch size (``"mlp"`` only).
    seed : int
        Seeds the MLP initialisation and minibatches.
    device : str or torch.device, optional
    progress : bool, optional
    checkpoint, checkpoint_every
        Passed to :func:`fit` (``"mlp"`` only): resume from and save to this file.

    Returns
    -------
    PretextRegressor
    """
    kind = check_choice("kind", kind, ("ridge", "mlp"))
    ridge = check_float("ridge", ridge, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    m1, m2 = x1.mean(axis=0), x2.mean(axis=0)
    c1, c2 = x1 - m1, x2 - m2
    n, d1 = c1.shape
    if kind == "ridge":
        gram = c1.T @ c1 + ridge * n * np.eye(d1)
        try:
            coef = np.linalg.solve(gram, c1.T @ c2)
        except np.linalg.LinAlgError:
            raise ValueError("ridge must be > 0 when x1 is rank-deficient") from None
        return PretextRegressor("ridge", m1, m2, coef=coef)
    hidden = check_int("hidden", hidden, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MLPEncoder(d1, hidden, c2.shape[1])
    X1 = torch.as_tensor(c1, dtype=torch.float32)
    X2 = torch.as_tensor(c2, dtype=torch.float32)

    def sample_batch(step):
        idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
        return X1[idx], X2[idx]

    def loss_fn(net, batch):
        a, b = batch
        return ((net(a) - b) ** 2).sum(dim=1).mean()

    with cpu_threads(1 if n * d1 < 10**6 else None):  # tiny problem: threads cost more than they give
        history = fit(model, loss_fn, sample_batch, steps=steps, lr=lr, weight_decay=ridge, device=device,
                      amp="off", progress=progress, desc="pretext MLP", checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=(gen,))
    model.eval()
    return PretextRegressor("mlp", m1, m2, model=model, history=history)
