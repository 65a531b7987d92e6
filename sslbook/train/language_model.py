r"""Training a softmax language model: :func:`lm_batches` (a sampler) and :func:`train_lm`.

With cross-entropy, :math:`\ell_{xent}(f,\Phi)=\mathbb E_{(s,w)}[-\log p_{f(s)}(w)]`; with the Quad loss,
:func:`sslbook.losses.quad_lm`. The model is :class:`sslbook.lm.SoftmaxLM`.

See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from sslbook import losses
from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_choice, check_int, check_memory, check_rng
from sslbook.device import cpu_threads as torch_threads
from sslbook.device import get_device
from sslbook.lm import SoftmaxLM
from sslbook.train.history import History
from sslbook.train.loop import fit


@check_shapes(context_tokens=Shape("S L", dtype="int"), p_context=Shape("S", simplex=True),
              p_next=Shape("S V", simplex=True))
def lm_batches(context_tokens, p_context, p_next, *, batch_size: int, rng: Any = None) -> Callable[[int], tuple]:
    r"""A sampler of (context, next word) pairs :math:`s\sim p_L`, :math:`w\sim p^*_{\cdot\mid s}` for :func:`train_lm`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    context_tokens : array_like of int, shape (S, L)
    p_context : array_like, shape (S,)
    p_next : array_like, shape (S, V)
    batch_size : int
    rng : numpy.random.Generator, int or None

    Returns
    -------
    callable
        ``sample_batch(step) -> (contexts (B, L) int64, words (B,) int64)`` as numpy arrays.
    """
    tokens, pc, pn = context_tokens, p_context, p_next  # converted and checked by check_shapes
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_memory("batch_size", 8.0 * batch_size * (tokens.shape[1] + pn.shape[1] + 4), what="one batch")
    rng = check_rng("rng", rng)
    cum_c = np.cumsum(pc)
    cum_n = np.cumsum(pn, axis=1)

    def sample_batch(step: int) -> tuple[np.ndarray, np.ndarray]:
        s = np.minimum(np.searchsorted(cum_c, rng.random(batch_size) * cum_c[-1], side="right"), len(pc) - 1)
        u = rng.random(batch_size)[:, None] * cum_n[s, -1:]
        w = np.minimum((u >= cum_n[s]).sum(axis=1), pn.shape[1] - 1)
        return tokens[s].astype(np.int64), w.astype(np.int64)

    return sample_batch


def train_lm(model: SoftmaxLM, sample_batch: Callable[[int], Any], *, steps: int, loss: str = "xent", lr: float = 3e-3,
             checkpoints=None, callback: Callable[[SoftmaxLM, int], Any] | None = None, optimizer: str = "adam",
             weight_decay: float = 0.0, device=None, amp: str = "auto", progress: bool | None = None,
             desc: str | None = None, cpu_threads: int | None = 1, checkpoint=None,
             checkpoint_every: int | None = None, generators=()) -> History:
    r"""Train a :class:`SoftmaxLM` with the cross-entropy or the Quad loss (a thin wrapper around ``fit``).

    Each step draws ``(contexts, target)`` and minimises :func:`sslbook.losses.xent_lm` on the logits
    :math:`\Phi^\top f(s)` (``loss="xent"``) or :func:`sslbook.losses.quad_lm` on :math:`(f(s),\Phi)`
    (``loss="quad"``). At each step of ``checkpoints`` (the number of optimiser updates done so far, 0 and
    ``steps`` included if listed) ``callback(model, step)`` is called in eval mode without gradients, and its
    results are collected in ``history.extra["checkpoints"]`` as ``(step, result)`` pairs.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    model : SoftmaxLM
    sample_batch : callable
        ``sample_batch(step) -> (contexts, target)``: integer contexts (B, L) and next words (B,) or next-word
        distributions (B, V) (e.g. :func:`lm_batches`); numpy arrays or tensors. A third element ``weight`` (B,)
        makes the loss the weighted mean (all contexts with weights :math:`p_L(s)`: the exact population loss).
    steps : int
    loss : {"xent", "quad"}
    lr : float
    checkpoints : sequence of int, optional
        Steps in ``[0, steps]`` at which to call ``callback``.
    callback : callable, optional
        ``callback(model, step) -> object``.
    optimizer, weight_decay, device, amp, progress
        Passed to :func:`sslbook.train.fit`.
    desc : str, optional
        Progress-bar label.
    cpu_threads : int, optional
        Torch threads while training on the CPU (restored afterwards); 1 is fastest for tiny models.
    checkpoint, checkpoint_every, generators
        Passed to :func:`sslbook.train.fit`: resume from and save to this file (not to be confused with
        ``checkpoints``, the evaluation steps); ``generators`` are those ``sample_batch`` draws from (for an exact
        resume). After a resume, ``callback`` results of the steps done before it are not repeated.

    Returns
    -------
    sslbook.train.History
        With ``extra = {"loss": loss, "checkpoints": [(step, result), ...]}``.
    """
    if not isinstance(model, SoftmaxLM):
        raise TypeError(f"model must be a SoftmaxLM, got {type(model).__name__}")
    if not callable(sample_batch):
        raise TypeError(f"sample_batch must be callable, got {type(sample_batch).__name__}")
    steps = check_int("steps", steps, minimum=1)
    loss = check_choice("loss", loss, ("xent", "quad"))
    marks = sorted({check_int("checkpoints[i]", int(c), minimum=0, maximum=steps) for c in (checkpoints or [])})
    if marks and not callable(callback):
        raise TypeError("callback must be callable when checkpoints are given")
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    calls = _Callbacks(callback, marks)

    def batches(step: int):
        calls.at(model, step)
        batch = sample_batch(step)
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise TypeError("sample_batch(step) must return (contexts, target) or (contexts, target, weight)")
        _check_lm_batch(batch, model)
        return tuple(batch)

    with torch_threads(cpu_threads if get_device(device).type == "cpu" else None):
        trained = model if loss == "xent" else _QuadForward(model)
        history = fit(trained, _lm_loss(loss), batches, steps=steps, lr=lr, optimizer=optimizer,
                      weight_decay=weight_decay, device=device, amp=amp, progress=progress, desc=desc or f"{loss} LM",
                      checkpoint=checkpoint, checkpoint_every=checkpoint_every, generators=generators)
        calls.at(model, steps)
    history.extra.update(loss=loss, checkpoints=calls.results)
    return history


class _Callbacks:
    """``callback(model, step)`` at the steps ``marks``, in eval mode and without gradients; results kept in order."""

    def __init__(self, callback: Callable | None, marks: list[int]):
        self.callback, self.pending = callback, set(marks)
        self.results: list[tuple[int, Any]] = []

    def at(self, model: SoftmaxLM, step: int) -> None:
        if step not in self.pending:
            return
        was_training = model.training
        model.eval()
        with torch.no_grad():
            self.results.append((step, self.callback(model, step)))
        model.train(was_training)


def _lm_loss(kind: str) -> Callable[[nn.Module, Any], torch.Tensor]:
    """The batch loss of :func:`train_lm`: cross-entropy on the logits, or Quad on :math:`(f(s), \\Phi)`."""

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        contexts, target = batch[:2]
        weight = batch[2].float() if len(batch) == 3 else None
        if target.is_floating_point():
            target = target.float()
        if kind == "xent":
            return losses.xent_lm(net(contexts).float(), target, weight=weight)
        feats, Phi = net(contexts)  # through forward: under torch.compile, the compiled graph
        return losses.quad_lm(feats.float(), Phi.float(), target, weight=weight)

    return loss_fn


class _QuadForward(nn.Module):
    """``(f(s), Phi)`` from the forward of a :class:`SoftmaxLM`, so that ``fit(compile=True)`` compiles Quad too."""

    def __init__(self, lm: SoftmaxLM):
        super().__init__()
        self.lm = lm

    def forward(self, contexts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.lm.features(contexts), self.lm.Phi


def _check_lm_batch(batch, model: SoftmaxLM) -> None:
    """Check a batch of :func:`train_lm` on the host: integer in-range contexts, targets and weights.

    Tensors already on a GPU are left to the model's and the loss's asynchronous device checks (no host sync).
    """
    def host(x):
        if isinstance(x, torch.Tensor):
            return None if x.device.type != "cpu" else x
        return x

    contexts, target = host(batch[0]), host(batch[1])
    if contexts is not None:
        if getattr(contexts, "dtype", None) is not None and (
                (isinstance(contexts, torch.Tensor) and contexts.is_floating_point())
                or (isinstance(contexts, np.ndarray) and contexts.dtype.kind not in "iu")):
            raise TypeError(f"sample_batch(step) contexts must hold integer tokens, got dtype {contexts.dtype}")
        model.check_tokens("sample_batch(step) contexts", check_array("contexts", contexts, ndim=2, dtype="int"))
    if target is not None:
        t = target.numpy() if isinstance(target, torch.Tensor) else np.asarray(target)
        if t.dtype.kind in "iu":
            if t.ndim != 1 or (t.size and (t.min() < 0 or t.max() >= model.vocab)):
                raise ValueError(f"sample_batch(step) target must be next words of shape (B,) in [0, {model.vocab})"
                                 f" (the model's vocab), got shape {t.shape}"
                                 + (f" and values in [{t.min()}, {t.max()}]" if t.size else ""))
        elif t.dtype.kind == "f" and t.ndim == 2 and t.shape[1] != model.vocab:
            raise ValueError(f"sample_batch(step) target distributions must have {model.vocab} columns (the "
                             f"model's vocab), got shape {t.shape}")


# ---------------------------------------------------------------------------------------------------------------
