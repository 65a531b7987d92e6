"""One generic training loop for any (model, loss, batch sampler): :func:`fit`.

Every trainer of the book is a thin wrapper around :func:`fit`: it moves the model and the batches to the
device (cuda, else mps, else cpu), uses mixed precision on CUDA (bf16 where the GPU supports it), shows a
tqdm progress bar when the output is interactive, stops with :class:`TrainingDivergedError` when the loss
becomes NaN or infinite, and returns a :class:`History` of the loss at every step. The loop is built from
:func:`sslbook.train.check_batch` and :func:`sslbook.train.to_device` (the batches),
:class:`sslbook.train.LossMonitor` (the checks) and :func:`sslbook.train.resume_run` /
:func:`sslbook.train.save_run` (checkpoints).
See: Introduction, "Running the book"; used from Part II on.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sslbook import config
from sslbook._validation import check_choice, check_float, check_int
from sslbook.checkpoint import check_checkpoint_path, check_generators
from sslbook.device import get_device
from sslbook.train.batches import check_batch, to_device
from sslbook.train.checks import LossMonitor
from sslbook.train.history import EXPLODE_RATIO, History, TrainingDivergedError
from sslbook.train.resume import ResumePoint, resume_run, save_run

_OPTIMISERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def _precision(device: torch.device, amp: str) -> str:
    if amp == "off" or device.type != "cuda":
        return "fp32"
    # bf16 needs compute capability >= 8.0 (Ampere); older GPUs get fp16 with a gradient scaler.
    major, minor = torch.cuda.get_device_capability(device)
    if amp == "auto":
        return "bf16" if major >= 8 else "fp16"
    if amp == "bf16" and major < 8:
        raise ValueError(f"amp='bf16' was requested but {torch.cuda.get_device_name(device)} (compute capability "
                         f"{major}.{minor}) has no native bfloat16 (it needs 8.0 or more); use amp='fp16' or 'auto'")
    return amp


def _use_compile(compile: bool | None, device: torch.device) -> bool:
    """``compile=None``: on only on CUDA and only when ``SSLBOOK_COMPILE=1``; never on the CPU by default."""
    if compile is None:
        return device.type == "cuda" and os.environ.get("SSLBOOK_COMPILE", "0").strip() == "1"
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True, False or None, got {type(compile).__name__}")
    return compile


@contextlib.contextmanager
def _deterministic(enabled: bool, device: torch.device):
    """``torch.use_deterministic_algorithms(True)`` and deterministic cuDNN for the block; restored afterwards."""
    if not enabled:
        yield
        return
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # required by deterministic cuBLAS
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]


@dataclass(frozen=True)
class _Options:
    """The checked arguments of :func:`fit`."""

    steps: int
    lr: float
    weight_decay: float
    optimizer: str
    amp: str
    explode_ratio: float | None
    desc: str
    override: bool
    deterministic: bool
    device: torch.device
    check_every: int
    progress: bool
    generators: tuple
    checkpoint: Path | None
    checkpoint_every: int | None
    compile: bool

    @property
    def config(self) -> dict:
        """The arguments a checkpoint records (and a resume compares)."""
        return {"lr": self.lr, "optimizer": self.optimizer, "weight_decay": self.weight_decay}


def _check_options(*, model, loss_fn, sample_batch, steps, lr, optimizer, weight_decay, device, amp, check_every,
                   explode_ratio, progress, desc, checkpoint, checkpoint_every, override_checkpoint, generators,
                   compile, deterministic) -> _Options:
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
    if explode_ratio is not None:
        explode_ratio = check_float("explode_ratio", explode_ratio, minimum=1.0)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {type(desc).__name__}")
    for name, flag in (("override_checkpoint", override_checkpoint), ("deterministic", deterministic)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {type(flag).__name__}")
    dev = get_device(device)
    if check_every is None:
        check_every = 1 if dev.type == "cpu" else 25
    check_every = check_int("check_every", check_every, minimum=1)
    if progress is None:
        progress = config.progress_enabled()
    elif not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {type(progress).__name__}")
    generators = check_generators(generators)
    ckpt_path = None if checkpoint is None else check_checkpoint_path("checkpoint", checkpoint)
    if checkpoint_every is not None:
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        if ckpt_path is None:
            raise ValueError("checkpoint_every needs checkpoint (a file path)")
    elif ckpt_path is not None:
        checkpoint_every = max(1, steps // 10)
    return _Options(steps=steps, lr=lr, weight_decay=weight_decay, optimizer=optimizer, amp=amp,
                    explode_ratio=explode_ratio, desc=desc, override=override_checkpoint,
                    deterministic=deterministic, device=dev, check_every=check_every, progress=progress,
                    generators=generators, checkpoint=ckpt_path, checkpoint_every=checkpoint_every,
                    compile=_use_compile(compile, dev))


class _Run:
    """A model, its optimiser, gradient scaler and loss monitor: one step at a time (see :func:`fit`)."""

    def __init__(self, model: nn.Module, loss_fn: Callable, o: _Options):
        self.o, self.loss_fn = o, loss_fn
        self.model = model.to(o.device)
        self.model.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("model has no trainable parameters")
        self.opt = _OPTIMISERS[o.optimizer](self.params, lr=o.lr, weight_decay=o.weight_decay)
        self.precision = _precision(o.device, o.amp)
        self.autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision == "fp16" else None
        self.project = getattr(self.model, "project", None)
        self.net = torch.compile(self.model) if o.compile else self.model
        self.at = ResumePoint()
        if o.checkpoint is not None and o.checkpoint.exists():
            self.at = resume_run(o.checkpoint, model=self.model, opt=self.opt, scaler=self.scaler,
                                 params=self.params, config_now=o.config, steps=o.steps, override=o.override,
                                 generators=o.generators)
        self.monitor = LossMonitor(steps=o.steps, start_step=self.at.step, prior=self.at.loss,
                                   check_every=o.check_every, device=o.device, scaled=self.scaler is not None,
                                   lr=o.lr, precision=self.precision, explode_ratio=o.explode_ratio,
                                   skipped_before=self.at.skipped)

    def step(self, batch: Any) -> None:
        """One optimiser step on ``batch`` (already on the device); its loss goes to the monitor."""
        self.opt.zero_grad(set_to_none=True)
        if self.autocast_dtype is not None:
            with torch.autocast(device_type="cuda", dtype=self.autocast_dtype):
                loss = self.loss_fn(self.net, batch)
        else:
            loss = self.loss_fn(self.net, batch)
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            raise TypeError("loss_fn must return a scalar torch.Tensor")
        self.monitor.record(loss)
        scaler = self.scaler
        if scaler is not None:
            scaler.scale(loss).backward()
            scale = getattr(scaler, "_scale", None)
            before = scale.clone() if isinstance(scale, torch.Tensor) else None
            scaler.step(self.opt)
            scaler.update()
            if before is not None:  # the scaler lowers its scale exactly when it skips the step
                self.monitor.mark_skipped((scaler._scale < before).any())
        else:
            loss.backward()
            self.opt.step()
        self.monitor.advance()
        if callable(self.project):
            self.project()

    def weights_finite(self) -> bool:
        return bool(torch.stack([torch.isfinite(p).all() for p in self.params]).all())

    def save(self, done: int, elapsed: float) -> None:
        """Save the run after ``done`` steps; weights that are NaN or infinite are never saved."""
        o = self.o
        if not self.weights_finite():
            raise TrainingDivergedError(
                f"a parameter became NaN or infinite by step {done - 1} of {o.steps} (lr={o.lr:g}, precision="
                f"{self.precision}); the checkpoint {str(o.checkpoint)!r} keeps its last finite state")
        save_run(o.checkpoint, done=done, steps=o.steps, config_now=o.config, model=self.model, opt=self.opt,
                 scaler=self.scaler, losses=np.concatenate(self.monitor.host), generators=o.generators,
                 seconds=self.at.seconds + elapsed, skipped=self.monitor.skipped)

    def check_weights(self) -> None:
        """After the last step: every parameter must be finite."""
        if self.at.step < self.o.steps and not self.weights_finite():
            last, steps = self.monitor.last, self.o.steps
            raise TrainingDivergedError(
                f"a parameter became NaN or infinite in the update of step {steps - 1} of {steps} (last finite "
                f"loss {last[1] if last else float('nan'):.6g} at step {last[0] if last else steps - 1}; "
                f"lr={self.o.lr:g}, precision={self.precision})"
            )

    def history(self, elapsed: float) -> History:
        """The :class:`History` of the run, ``elapsed`` seconds after its (re)start."""
        extra: dict[str, Any] = {}
        if self.o.checkpoint is not None:
            extra = {"checkpoint": str(self.o.checkpoint), "resumed_from": self.at.step}
        if self.scaler is not None:
            extra["skipped_steps"] = int(self.monitor.skipped)
        return History(loss=self.monitor.losses(), device=str(self.o.device), precision=self.precision,
                       seconds=self.at.seconds + elapsed, extra=extra)


def _train(run: _Run, sample_batch: Callable[[int], Any]) -> float:
    """Run the steps from the resume point to ``steps``; returns the seconds they took."""
    from tqdm.auto import tqdm

    o, monitor = run.o, run.monitor
    start = time.perf_counter()
    bar = tqdm(range(run.at.step, o.steps), total=o.steps, initial=run.at.step, desc=o.desc,
               disable=not o.progress, leave=False)
    with _deterministic(o.deterministic, o.device):
        for step in bar:
            raw = sample_batch(step)
            check_batch(raw, step)
            run.step(to_device(raw, o.device))
            done = step + 1
            saving = o.checkpoint is not None and (done % o.checkpoint_every == 0 or done == o.steps)
            if monitor.full or done % o.check_every == 0 or done == o.steps or saving:
                monitor.flush(done)
                if o.progress and monitor.last is not None:
                    bar.set_postfix(loss=f"{monitor.last[1]:.4f}")
            if saving:
                run.save(done, time.perf_counter() - start)
    bar.close()
    monitor.flush(o.steps)
    return time.perf_counter() - start


def fit(model: nn.Module, loss_fn: Callable[[nn.Module, Any], torch.Tensor], sample_batch: Callable[[int], Any], *,
        steps: int, lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0, device=None,
        amp: str = "auto", check_every: int | None = None, explode_ratio: float | None = EXPLODE_RATIO,
        progress: bool | None = None, desc: str = "training", checkpoint=None, checkpoint_every: int | None = None,
        override_checkpoint: bool = False, generators=(), compile: bool | None = None,
        deterministic: bool = False) -> History:
    r"""Minimise ``loss_fn(model, batch)`` over ``steps`` batches drawn by ``sample_batch(step)``.

    Each step draws a batch, checks it (:func:`check_batch`), moves it to the device (:func:`to_device`) and
    takes one optimiser step; :class:`LossMonitor` checks the losses; with ``checkpoint`` the run resumes from
    and saves to a file (:func:`resume_run`, :func:`save_run`).

    Parameters
    ----------
    model : torch.nn.Module
        Moved to the device; its ``project()`` method, if any (e.g. a norm constraint), runs after every step.
    loss_fn : callable
        ``loss_fn(model, batch) -> scalar tensor``.
    sample_batch : callable
        ``sample_batch(step) -> batch`` (tensors or numpy arrays, or tuples/dicts of them); ``None`` or an empty
        array is an error. For an exact resume it may depend only on ``step`` and on random generators that are
        global (Python, numpy's legacy state, torch) or listed in ``generators``.
    steps : int
        Optimiser steps in total (those before a resume included).
    lr, optimizer, weight_decay : float, {"adam", "adamw", "sgd"}, float
        The optimiser: learning rate, algorithm, weight decay.
    device : str or torch.device, optional
        Default: auto (cuda, else mps, else cpu).
    amp : {"auto", "off", "bf16", "fp16"}
        Mixed precision on CUDA only: ``"auto"`` is bf16 from compute capability 8.0 (an explicit ``"bf16"``
        below it is a ``ValueError``), else fp16 with a gradient scaler, whose skipped (overflowing) steps are
        not checked and are counted in ``history.extra["skipped_steps"]`` (more than ``MAX_SCALER_SKIPS``
        in a row is divergence). Verification runs pass ``"off"`` (fp32).
    check_every : int, optional
        Steps between checks of the losses for NaN, inf and explosion (each synchronises a GPU); default 1 on the
        CPU, 25 on a GPU. The last step and every saving step are always checked; the error names the bad step.
    explode_ratio : float or None
        A finite loss above ``explode_ratio * max(|first loss|, 1)`` in absolute value is divergence (the floor 1
        keeps a first loss near 0 from making every later loss explode). Default ``EXPLODE_RATIO`` (``1e6``),
        far above what a run that makes progress reaches; ``None`` disables the check.
    progress : bool, optional
        Show a progress bar (label ``desc``); default :func:`sslbook.config.progress_enabled`.
    desc : str
    checkpoint : str or os.PathLike, optional
        If the file exists, resume from it (model, optimiser, scaler, losses, every random state); then save to
        it atomically every ``checkpoint_every`` steps (default ``max(1, steps // 10)``) and at the end. On the
        CPU a resumed run reproduces the uninterrupted one exactly; a finished checkpoint returns at once; NaN or
        infinite weights are never saved. A checkpoint saved with other arguments or that does not agree with
        itself is a ``ValueError`` (:func:`check_resume_state`).
    checkpoint_every : int, optional
    override_checkpoint : bool
        Resume although ``lr``, ``weight_decay``, ``optimizer`` or the model's class differ from the checkpoint's,
        with this call's values (another ``optimizer`` starts a fresh state); parameter shapes must still agree.
    generators : sequence of numpy.random.Generator or torch.Generator, optional
        The generators ``sample_batch`` draws from (e.g. ``ctx.rng``), saved in and restored from the checkpoint.
    compile : bool, optional
        Run the model through ``torch.compile``; default: on only on CUDA with ``SSLBOOK_COMPILE=1``.
    deterministic : bool
        ``torch.use_deterministic_algorithms(True)`` and deterministic cuDNN without benchmark (with
        ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` on CUDA if unset) during the run: reproducible GPU runs, slower; an
        operation without a deterministic kernel raises ``RuntimeError``. CPU runs are deterministic without it.

    Returns
    -------
    History
        With ``extra = {"checkpoint": path, "resumed_from": step}`` when ``checkpoint`` is given.

    Raises
    ------
    TrainingDivergedError
        When a loss (or, after the last step, a parameter) is NaN or infinite, or a loss explodes, naming the step
        and the last finite loss.
    """
    o = _check_options(**locals())  # every argument, checked
    run = _Run(model, loss_fn, o)
    elapsed = _train(run, sample_batch)
    run.check_weights()
    return run.history(elapsed)
