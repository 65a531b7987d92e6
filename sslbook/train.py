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


def train_contrastive(
    model: nn.Module,
    sample_triples: Callable[[int], Any],
    *,
    steps: int,
    loss: str = "logistic2",
    radius: float | None = None,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    device=None,
    amp: str = "auto",
    progress: bool | None = None,
    desc: str = "contrastive training",
    cpu_threads: int | None = 1,
) -> History:
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

    Returns
    -------
    History
        As :func:`fit`, with ``extra = {"loss": loss, "radius": radius}``.
    """
    from sslbook import losses

    if not callable(sample_triples):
        raise TypeError(f"sample_triples must be callable, got {type(sample_triples).__name__}")
    loss = check_choice("loss", loss, ("logistic2", "hinge"))
    if radius is not None:
        radius = check_float("radius", radius, minimum=0.0, strict_min=True)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    criterion = losses.contrastive_logistic2 if loss == "logistic2" else losses.contrastive_hinge

    def batches(step: int):
        batch = sample_triples(step)
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

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos, x_neg = batch
        if x.ndim != 2 or x_pos.shape != x.shape:
            raise ValueError(f"sample_triples must give x and x_pos of equal shape (B, d_in), got "
                             f"{tuple(x.shape)} and {tuple(x_pos.shape)}")
        if x_neg.ndim == 2:
            x_neg = x_neg.unsqueeze(1)
        if x_neg.ndim != 3 or x_neg.shape[0] != x.shape[0] or x_neg.shape[2] != x.shape[1]:
            raise ValueError(f"sample_triples must give x_neg of shape (B, k, d_in), got {tuple(x_neg.shape)}")
        B, k = x_neg.shape[:2]
        z = net(torch.cat([x, x_pos, x_neg.reshape(B * k, -1)]))
        if radius is not None:
            z = radius * nn.functional.normalize(z, dim=-1)
        return criterion(z[:B], z[B : 2 * B], z[2 * B :].reshape(B, k, -1))

    threads = torch.get_num_threads()
    if cpu_threads is not None and get_device(device).type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        history = fit(model, loss_fn, batches, steps=steps, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
                      device=device, amp=amp, progress=progress, desc=desc)
    finally:
        torch.set_num_threads(threads)
    history.extra.update(loss=loss, radius=radius)
    return history


# ----------------------------------------------------------------------------------------------------
# Self-prediction: fit the pretext regression X1 -> X2 (Chapter "Predicting what you already know")
# ----------------------------------------------------------------------------------------------------


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
        from sslbook._validation import check_array

        x1 = check_array("x1", x1, ndim=2)
        if x1.shape[1] != self.mean_x1.shape[0]:
            raise ValueError(f"x1 must have {self.mean_x1.shape[0]} columns, got {x1.shape[1]}")
        if self.kind == "ridge":
            return (x1 - self.mean_x1) @ self.coef + self.mean_x2
        from sslbook.models import encode

        return encode(self.model, x1 - self.mean_x1) + self.mean_x2


def fit_pretext_regression(
    x1,
    x2,
    *,
    kind: str = "ridge",
    ridge: float = 1e-3,
    hidden: int = 128,
    steps: int = 500,
    lr: float = 3e-3,
    batch_size: int = 256,
    seed: int = 0,
    device=None,
    progress: bool | None = None,
) -> PretextRegressor:
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

    Returns
    -------
    PretextRegressor
    """
    from sslbook._validation import check_array, check_same_length
    from sslbook.models import MLPEncoder

    x1 = check_array("x1", x1, ndim=2)
    x2 = check_array("x2", x2, ndim=2)
    check_same_length(("x1", "x2"), x1, x2)
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

    threads = torch.get_num_threads()
    if n * d1 < 10**6:
        torch.set_num_threads(1)  # tiny problem: threads cost more than they give
    try:
        history = fit(model, loss_fn, sample_batch, steps=steps, lr=lr, weight_decay=ridge, device=device,
                      amp="off", progress=progress, desc="pretext MLP")
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return PretextRegressor("mlp", m1, m2, model=model, history=history)


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: training on augmented views (owner: InfoNCE chapter; add below this line)


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: spectral-loss training on a finite graph (owner: augmentation-graph chapter; add below)


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: adversarial-probe training (owner: inductive-biases chapter; add below this line)
