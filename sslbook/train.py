"""One generic training loop for any (model, loss, batch sampler).

Every trainer of the book is a thin wrapper around :func:`fit`: it moves the model and the batches to the
device (cuda, else mps, else cpu), uses mixed precision on CUDA (bf16 where the GPU supports it), shows a
tqdm progress bar when the output is interactive, stops with :class:`TrainingDivergedError` when the loss
becomes NaN or infinite, and returns a :class:`History` of the loss at every step.
See: Introduction, "Running the book"; used from Part II on.
"""

from __future__ import annotations

import contextlib
import os
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
    """Raised when the training loss becomes NaN or infinite, or explodes (see ``fit(explode_ratio=...)``)."""


#: Default of ``fit(explode_ratio=...)``: a loss above this many times the scale of the first loss is divergence.
EXPLODE_RATIO = 1e6

#: Consecutive steps the fp16 gradient scaler may skip (halving its scale each time) before the run is declared
#: diverged: :math:`2^{16}` (the initial scale) halved 50 times is far below any useful scale.
MAX_SCALER_SKIPS = 50


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


def _check_batch(batch: Any, step: int, where: str = "the batch") -> None:
    """A batch drawn by ``sample_batch(step)`` must exist and hold no empty array (checked on shapes: no sync)."""
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
                _check_batch(b, step, f"element {i} of the batch")
    elif isinstance(batch, dict):
        for k, b in batch.items():
            if b is not None:
                _check_batch(b, step, f"entry {k!r} of the batch")


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


def _shapes(module: nn.Module) -> dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _resume_state(state: dict, path: str, *, model: nn.Module, opt: torch.optim.Optimizer, params: list,
                  config_now: dict, steps: int, override: bool, scaler) -> dict:
    """Validate a loaded checkpoint against this run; returns the differing arguments (``{name: (saved, now)}``).

    Raises ValueError on anything a legitimate save cannot produce (a tampered or foreign file) and, unless
    ``override``, on arguments that differ from the saved ones.
    """
    from sslbook.checkpoint import FORMAT_VERSION

    where = f"checkpoint {path!r}"
    if state.get("format") != FORMAT_VERSION or state.get("kind") != "sslbook.train.fit":
        raise ValueError(f"{where} was not written by sslbook.train.fit (format {FORMAT_VERSION})")
    missing = {"step", "steps_semantic", "config", "model_class", "model", "optim", "scaler", "loss", "rng",
               "seconds"} - set(state)
    if missing:
        raise ValueError(f"{where} is incomplete or was tampered with: missing {sorted(missing)}")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"{where} is corrupt: its step count {step!r} is not a positive integer")
    if step > steps:
        raise ValueError(f"{where} is at step {step}, beyond steps={steps} (steps counts all the steps of the run, "
                         "those before the resume included)")
    if state["steps_semantic"] != "total":
        raise ValueError(f"{where} counts steps as {state['steps_semantic']!r}, not 'total'")
    loss = state["loss"]
    if not isinstance(loss, torch.Tensor) or loss.ndim != 1 or loss.shape[0] != step:
        got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"{where} is corrupt: its loss history ({got}) does not have one entry per step done "
                         f"({step})")
    seconds = state["seconds"]
    if not isinstance(seconds, float) or not np.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{where} is corrupt: seconds={seconds!r}")
    saved_cfg = state["config"]
    if not isinstance(saved_cfg, dict):
        raise ValueError(f"{where} is corrupt: config is a {type(saved_cfg).__name__}")
    # The model's architecture can never be overridden: the weights must fit.
    saved_shapes = {k: tuple(v.shape) for k, v in state["model"].items()} if isinstance(state["model"], dict) else {}
    now_shapes = _shapes(model)
    if saved_shapes != now_shapes:
        diff = sorted(set(saved_shapes) ^ set(now_shapes)) or [
            k for k in now_shapes if saved_shapes[k] != now_shapes[k]]
        k = diff[0]
        raise ValueError(f"{where} does not fit this model: parameter {k!r} has shape {saved_shapes.get(k)} in the "
                         f"checkpoint and {now_shapes.get(k)} in the model")
    differ = {k: (saved_cfg.get(k), v) for k, v in config_now.items() if saved_cfg.get(k) != v}
    if state["model_class"] != type(model).__qualname__:
        differ["model class"] = (state["model_class"], type(model).__qualname__)
    if differ and not override:
        listing = ", ".join(f"{k}={a!r} in the checkpoint but {b!r} now" for k, (a, b) in differ.items())
        raise ValueError(f"{where} was saved with other arguments: {listing}; pass the checkpoint's values, or "
                         "override_checkpoint=True to continue with this call's")
    optim = state["optim"]
    if not isinstance(optim, dict) or not isinstance(optim.get("state"), dict) \
            or not isinstance(optim.get("param_groups"), list) or len(optim["param_groups"]) != 1 \
            or len(optim["param_groups"][0].get("params", ())) != len(params):
        raise ValueError(f"{where} is corrupt: its optimiser state does not match {len(params)} parameter tensors")
    group = optim["param_groups"][0]
    if group.get("lr") != saved_cfg.get("lr") or group.get("weight_decay") != saved_cfg.get("weight_decay"):
        raise ValueError(f"{where} is corrupt: its optimiser state holds lr={group.get('lr')!r}, "
                         f"weight_decay={group.get('weight_decay')!r} but the run saved lr={saved_cfg.get('lr')!r}, "
                         f"weight_decay={saved_cfg.get('weight_decay')!r}")
    for idx, entry in optim["state"].items():
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(params) \
                or not isinstance(entry, dict):
            raise ValueError(f"{where} is corrupt: optimiser state for parameter {idx!r}")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and tuple(value.shape) != tuple(params[idx].shape):
                raise ValueError(f"{where} is corrupt: optimiser state {name!r} of parameter {idx} has shape "
                                 f"{tuple(value.shape)}, not {tuple(params[idx].shape)}")
        if "step" in entry:
            n = float(entry["step"])
            if not (n == step if scaler is None else 0 <= n <= step):
                raise ValueError(f"{where} is corrupt: its optimiser has taken {n:g} steps but the checkpoint is at "
                                 f"step {step}")
    return differ


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
    explode_ratio: float | None = EXPLODE_RATIO,
    progress: bool | None = None,
    desc: str = "training",
    checkpoint=None,
    checkpoint_every: int | None = None,
    override_checkpoint: bool = False,
    generators=(),
    compile: bool | None = None,
    deterministic: bool = False,
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
        ``None`` or an empty array in the batch is an error. For an exact resume it must depend only on ``step``
        and on random generators that are global (Python, numpy's legacy state, torch) or listed in
        ``generators``.
    steps : int
        Number of optimiser steps (in total, including those of a resumed run).
    lr : float
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}
    weight_decay : float
    device : str or torch.device, optional
        Default: auto (cuda, else mps, else cpu).
    amp : {"auto", "off", "bf16", "fp16"}
        Mixed precision on CUDA only: ``"auto"`` is bf16 on GPUs of compute capability 8.0 or more, else fp16
        with a gradient scaler; an explicit ``"bf16"`` on an older GPU is a ``ValueError``. With fp16, a step
        whose scaled gradients overflow is skipped by the gradient scaler (which lowers its scale), as intended:
        its loss is then not checked, and ``history.extra["skipped_steps"]`` counts such steps; more than
        :data:`MAX_SCALER_SKIPS` skips in a row is divergence. Verification runs pass ``"off"`` (fp32).
    check_every : int, optional
        Check the losses for NaN, inf and explosion every this many steps (each check synchronises a GPU);
        default 1 on the CPU and 25 on a GPU. The last step, and every step that saves a checkpoint, are always
        checked; the check names the first bad step.
    explode_ratio : float or None
        The run stops with :class:`TrainingDivergedError` when a finite loss exceeds, in absolute value,
        ``explode_ratio * max(|first loss|, 1)`` (the first loss of the run; the floor 1 keeps a first loss
        near 0 from making every later loss "explode"). Default :data:`EXPLODE_RATIO` (``1e6``), far above what
        a training that makes progress reaches (every chapter's training runs under it). ``None`` disables the
        check. Checked with the NaN/inf check (every ``check_every`` steps), so at no extra synchronisation.
    progress : bool, optional
        Show a progress bar; default :func:`sslbook.config.progress_enabled`.
    desc : str
        Label of the progress bar.
    checkpoint : str or os.PathLike, optional
        A checkpoint file. If it exists, the run resumes from it (model, optimiser, gradient scaler, losses so
        far and every random state, see :func:`sslbook.checkpoint.capture_rng_state`); the run then saves to
        it atomically every ``checkpoint_every`` steps and at the end. On the CPU a resumed run reproduces the
        uninterrupted run exactly. A finished checkpoint makes a repeated call return at once. Weights that
        are NaN or infinite are never saved. The checkpoint records ``lr``, ``optimizer``, ``weight_decay``, the
        model's class and parameter shapes; resuming with other values is a ``ValueError`` (see
        ``override_checkpoint``); a checkpoint whose step count, loss history or optimiser state do not agree
        is a ``ValueError``.
    checkpoint_every : int, optional
        Steps between saves; default ``max(1, steps // 10)``. Only with ``checkpoint``.
    override_checkpoint : bool
        Resume even though ``lr``, ``weight_decay``, ``optimizer`` or the model's class differ from the
        checkpoint's: the optimiser continues with this call's ``lr`` and ``weight_decay`` (its moments are
        kept; a different ``optimizer`` starts a fresh optimiser state). The parameter shapes must still agree.
    generators : sequence of numpy.random.Generator or torch.Generator, optional
        The caller's generators that ``sample_batch`` draws from (e.g. ``ctx.rng``): saved in and restored
        from the checkpoint.
    compile : bool, optional
        Run the model through ``torch.compile`` (worth it for long GPU runs, not for the book's small CPU
        problems). Default: on only on CUDA when the environment variable ``SSLBOOK_COMPILE=1``.
    deterministic : bool
        Run with ``torch.use_deterministic_algorithms(True)``, ``torch.backends.cudnn.deterministic = True``
        and ``benchmark = False`` (and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` on CUDA if unset), restored
        afterwards: reproducible GPU runs at some cost in speed; an operation without a deterministic kernel
        raises ``RuntimeError``. The CPU runs of the book are deterministic without it.

    Returns
    -------
    History
        With ``extra = {"checkpoint": path, "resumed_from": step}`` when ``checkpoint`` is given.

    Raises
    ------
    TrainingDivergedError
        When the loss (or, after the last step, a parameter) is NaN or infinite, or the loss explodes (see
        ``explode_ratio``), naming the step and the last finite loss.
    """
    from tqdm.auto import tqdm

    from sslbook.checkpoint import (
        FORMAT_VERSION,
        _check_generators,
        _check_path,
        capture_rng_state,
        load_checkpoint,
        restore_rng_state,
        save_checkpoint,
    )

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
    generators = _check_generators(generators)
    ckpt_path = None if checkpoint is None else _check_path("checkpoint", checkpoint)
    if checkpoint_every is not None:
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        if ckpt_path is None:
            raise ValueError("checkpoint_every needs checkpoint (a file path)")
    elif ckpt_path is not None:
        checkpoint_every = max(1, steps // 10)
    use_compile = _use_compile(compile, dev)

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
    net = torch.compile(model) if use_compile else model
    run_config = {"lr": lr, "optimizer": optimizer, "weight_decay": weight_decay}

    prior = np.empty(0)
    start_step, seconds_before, skipped_before = 0, 0.0, 0
    if ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        differ = _resume_state(state, str(ckpt_path), model=model, opt=opt, params=params, config_now=run_config,
                               steps=steps, override=override_checkpoint, scaler=scaler)
        start_step = state["step"]
        model.load_state_dict(state["model"])
        if "optimizer" not in differ:
            try:
                opt.load_state_dict(state["optim"])
            except (ValueError, KeyError, TypeError, RuntimeError) as exc:
                raise ValueError(f"checkpoint {str(ckpt_path)!r} is corrupt: its optimiser state does not load: "
                                 f"{exc}") from exc
            for group in opt.param_groups:  # this call's values (equal to the saved ones unless overridden)
                group["lr"], group["weight_decay"] = lr, weight_decay
        if scaler is not None and state["scaler"]:
            scaler.load_state_dict(state["scaler"])
        prior = state["loss"].double().numpy()
        try:
            restore_rng_state(state["rng"], generators)
        except (ValueError, KeyError, TypeError, IndexError, RuntimeError, AttributeError) as exc:
            raise ValueError(f"checkpoint {str(ckpt_path)!r}: its random states do not restore ({exc})") from exc
        seconds_before = state["seconds"]
        skipped_before = int(state.get("skipped_steps", 0))

    # The losses: a device buffer of at most `chunk` steps, copied to the host at every check (a check
    # synchronises anyway) and whenever it is full. No buffer of length `steps` is allocated up front.
    chunk = max(1, min(steps - start_step, check_every, 4096))
    buf = torch.empty(chunk, device=dev)
    skipbuf = torch.zeros(chunk, dtype=torch.bool, device=dev) if scaler is not None else None
    host: list[np.ndarray] = [prior]
    n_buf = 0
    track = {"ref": float(prior[0]) if len(prior) and np.isfinite(prior[0]) else None,
             "last": (start_step - 1, float(prior[-1])) if len(prior) else None,
             "run_skips": 0, "skipped": skipped_before}

    def diverged(kind: str, value: float, at: int, why: str = "") -> TrainingDivergedError:
        last = track["last"]
        before = (f"last finite loss {last[1]:.6g} at step {last[0]}" if last is not None
                  else "no finite loss before it")
        return TrainingDivergedError(f"training loss {kind} {value:.6g} at step {at} of {steps} ({before}; "
                                     f"lr={lr:g}, precision={precision}){why}; lower the learning rate or check "
                                     "the data")

    def flush(done: int) -> None:
        nonlocal n_buf
        if n_buf == 0:
            return
        vals = buf[:n_buf].double().cpu().numpy()  # blocking copy: one synchronisation
        skipped = skipbuf[:n_buf].cpu().numpy() if skipbuf is not None else np.zeros(n_buf, dtype=bool)
        lo = done - n_buf
        n_buf = 0
        for i, v in enumerate(vals.tolist()):
            if skipped[i]:  # the gradient scaler skipped this step: the optimiser did not move
                track["run_skips"] += 1
                track["skipped"] += 1
                if track["run_skips"] > MAX_SCALER_SKIPS:
                    raise TrainingDivergedError(
                        f"the fp16 gradient scaler skipped more than {MAX_SCALER_SKIPS} steps in a row, up to step "
                        f"{lo + i} of {steps} (lr={lr:g}); lower the learning rate or use amp='bf16' or 'off'")
                continue
            track["run_skips"] = 0
            if not np.isfinite(v):
                raise diverged("became", v, lo + i)
            if track["ref"] is None:
                track["ref"] = v
            elif explode_ratio is not None and abs(v) > explode_ratio * max(abs(track["ref"]), 1.0):
                raise diverged("exploded to", v, lo + i,
                               f": more than explode_ratio={explode_ratio:g} times max(|first loss|, 1), first "
                               f"loss {track['ref']:.6g} (pass a larger explode_ratio, or None, if it is expected)")
            track["last"] = (lo + i, v)
        host.append(vals)

    def weights_finite() -> bool:
        return bool(torch.stack([torch.isfinite(p).all() for p in params]).all())

    def save(done: int, elapsed: float) -> None:
        if not weights_finite():
            raise TrainingDivergedError(
                f"a parameter became NaN or infinite by step {done - 1} of {steps} (lr={lr:g}, precision="
                f"{precision}); the checkpoint {str(ckpt_path)!r} keeps its last finite state")
        save_checkpoint(ckpt_path, {
            "format": FORMAT_VERSION, "kind": "sslbook.train.fit", "step": done, "steps": steps,
            "steps_semantic": "total", "config": dict(run_config), "optimizer": optimizer,
            "model_class": type(model).__qualname__, "model": model.state_dict(), "optim": opt.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else {},
            "loss": torch.from_numpy(np.concatenate(host)), "rng": capture_rng_state(generators),
            "seconds": float(seconds_before + elapsed), "skipped_steps": int(track["skipped"]),
        })

    start = time.perf_counter()
    bar = tqdm(range(start_step, steps), total=steps, initial=start_step, desc=desc, disable=not progress,
               leave=False)
    with _deterministic(deterministic, dev):
        for step in bar:
            raw = sample_batch(step)
            _check_batch(raw, step)
            batch = to_device(raw, dev)
            opt.zero_grad(set_to_none=True)
            if autocast_dtype is not None:
                with torch.autocast(device_type="cuda", dtype=autocast_dtype):
                    loss = loss_fn(net, batch)
            else:
                loss = loss_fn(net, batch)
            if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                raise TypeError("loss_fn must return a scalar torch.Tensor")
            buf[n_buf] = loss.detach().float()
            if scaler is not None:
                scaler.scale(loss).backward()
                scale = getattr(scaler, "_scale", None)
                before = scale.clone() if isinstance(scale, torch.Tensor) else None
                scaler.step(opt)
                scaler.update()
                if before is not None:  # the scaler lowers its scale exactly when it skips the step
                    skipbuf[n_buf] = (scaler._scale < before).any()
            else:
                loss.backward()
                opt.step()
            n_buf += 1
            if callable(project):
                project()
            done = step + 1
            saving = ckpt_path is not None and (done % checkpoint_every == 0 or done == steps)
            if n_buf == chunk or done % check_every == 0 or done == steps or saving:
                flush(done)
                if progress and track["last"] is not None:
                    bar.set_postfix(loss=f"{track['last'][1]:.4f}")
            if saving:
                save(done, time.perf_counter() - start)
    bar.close()
    flush(steps)
    if start_step < steps and not weights_finite():
        last = track["last"]
        raise TrainingDivergedError(
            f"a parameter became NaN or infinite in the update of step {steps - 1} of {steps} (last finite loss "
            f"{last[1] if last else float('nan'):.6g} at step {last[0] if last else steps - 1}; lr={lr:g}, "
            f"precision={precision})"
        )
    seconds = seconds_before + time.perf_counter() - start
    extra: dict[str, Any] = {}
    if ckpt_path is not None:
        extra = {"checkpoint": str(ckpt_path), "resumed_from": start_step}
    if scaler is not None:
        extra["skipped_steps"] = int(track["skipped"])
    return History(loss=np.concatenate(host).astype(np.float64), device=str(dev), precision=precision,
                   seconds=seconds, extra=extra)


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
    checkpoint=None,
    checkpoint_every: int | None = None,
    generators=(),
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
    checkpoint, checkpoint_every, generators
        Passed to :func:`fit`: resume from and save to this file; ``generators`` are those ``sample_triples``
        draws from (for an exact resume).

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
                      device=device, amp=amp, progress=progress, desc=desc, checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=generators)
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
    checkpoint=None,
    checkpoint_every: int | None = None,
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
    checkpoint, checkpoint_every
        Passed to :func:`fit` (``"mlp"`` only): resume from and save to this file.

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
                      amp="off", progress=progress, desc="pretext MLP", checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=(gen,))
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return PretextRegressor("mlp", m1, m2, model=model, history=history)


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: training on augmented views (owner: InfoNCE chapter; add below this line)


def train_views(
    model: nn.Module,
    X,
    augment: Callable,
    *,
    loss: str | Callable = "info_nce",
    steps: int,
    batch_size: int = 256,
    temperature: float = 0.5,
    alpha: float = 2.0,
    t: float = 2.0,
    uniform_weight: float = 1.0,
    normalize: bool = True,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    seed: int = 0,
    device=None,
    amp: str = "auto",
    progress: bool | None = None,
    desc: str = "two-view training",
    cpu_threads: int | None = 1,
    checkpoint=None,
    checkpoint_every: int | None = None,
) -> History:
    r"""Train an encoder on two augmented views of each input: a thin wrapper around :func:`fit`.

    Each step draws ``batch_size`` rows :math:`x_1,\dots,x_B` of ``X`` (without replacement), two independent
    views :math:`a(x_i), a'(x_i)` with ``augment``, encodes both, rescales the features onto the unit sphere
    (``normalize``) and minimises

    * ``loss="info_nce"``: the NT-Xent loss :func:`sslbook.losses.info_nce` with temperature :math:`\tau`;
    * ``loss="align_uniform"``: :math:`\mathcal L_{\rm align}(\alpha) + \lambda\,\tfrac12\big(
      \mathcal L_{\rm uniform}(z;t) + \mathcal L_{\rm uniform}(z';t)\big)` (:func:`sslbook.losses.align`,
      :func:`sslbook.losses.uniform`), as in Wang and Isola's code;
    * a callable ``loss(z1, z2) -> scalar``.

    At every step it also records the alignment (:math:`\alpha=2`) and the uniformity (:math:`t=2`) of the
    normalised features of the training batch, in ``history.extra["align"]`` and ``history.extra["uniform"]``
    (one value per step, computed without gradients).

    See: Chapter "InfoNCE, alignment and uniformity", "A contrastive encoder on the digits".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder; maps a batch of the shape of ``X[idx]`` to features (B, d).
    X : array_like or torch.Tensor, shape (n, ...)
        Unlabelled inputs; moved to the device once.
    augment : callable
        ``augment(x, generator)`` on a batch (see :mod:`sslbook.augment`).
    loss : {"info_nce", "align_uniform"} or callable
    steps : int
    batch_size : int
        :math:`B\ge2` (at most ``n``).
    temperature : float
        :math:`\tau>0` (``"info_nce"``).
    alpha, t, uniform_weight : float
        :math:`\alpha>0`, :math:`t>0`, :math:`\lambda\ge0` (``"align_uniform"``).
    normalize : bool
        Put the features on the unit sphere before the loss.
    lr, optimizer, weight_decay, device, amp, progress, desc
        As in :func:`fit`.
    seed : int
        Seeds the batches and the augmentations (a :class:`torch.Generator` on the device).
    cpu_threads : int, optional
        Torch threads while training on the CPU (1 is fastest for small models); ``None`` keeps the setting.
    checkpoint, checkpoint_every
        Passed to :func:`fit` (with the batch generator, for an exact resume). After a resume, the alignment
        and uniformity of the steps done before it are NaN (they are not stored in the checkpoint).

    Returns
    -------
    History
        With ``extra["align"]``, ``extra["uniform"]`` (numpy arrays of length ``steps``).
    """
    from sslbook import losses as L

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(augment):
        raise TypeError(f"augment must be callable, got {type(augment).__name__}")
    if isinstance(loss, str):
        loss = check_choice("loss", loss, ("info_nce", "align_uniform"))
    elif not callable(loss):
        raise TypeError(f"loss must be 'info_nce', 'align_uniform' or a callable, got {type(loss).__name__}")
    steps = check_int("steps", steps, minimum=1)
    temperature = check_float("temperature", temperature, minimum=0.0, strict_min=True)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
    t = check_float("t", t, minimum=0.0, strict_min=True)
    uniform_weight = check_float("uniform_weight", uniform_weight, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    dev = get_device(device)
    if isinstance(X, torch.Tensor):
        data = X.detach().to(dev, dtype=torch.float32)
    else:
        from sslbook._validation import check_array

        data = torch.as_tensor(check_array("X", X, min_rows=2), dtype=torch.float32, device=dev)
    n = data.shape[0]
    batch_size = check_int("batch_size", batch_size, minimum=2, maximum=n)
    gen = torch.Generator(device=dev).manual_seed(seed)
    align_log: list[torch.Tensor] = []
    uniform_log: list[torch.Tensor] = []

    def sample_batch(step):
        idx = torch.randperm(n, generator=gen, device=dev)[:batch_size]
        x = data[idx]
        return augment(x, gen), augment(x, gen)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        v1, v2 = batch
        z = net(torch.cat([v1, v2]))
        if normalize:
            z = nn.functional.normalize(z, dim=-1)
        z1, z2 = z[:batch_size], z[batch_size:]
        with torch.no_grad():
            zf1 = nn.functional.normalize(z1.detach().float(), dim=-1)
            zf2 = nn.functional.normalize(z2.detach().float(), dim=-1)
            align_log.append(L.align(zf1, zf2))
            uniform_log.append(0.5 * (L.uniform(zf1) + L.uniform(zf2)))
        if loss == "info_nce":
            return L.info_nce(z1, z2, temperature=temperature)
        if loss == "align_uniform":
            return L.align(z1, z2, alpha=alpha) + uniform_weight * 0.5 * (L.uniform(z1, t=t) + L.uniform(z2, t=t))
        return loss(z1, z2)

    threads = torch.get_num_threads()
    if cpu_threads is not None and dev.type == "cpu":
        torch.set_num_threads(check_int("cpu_threads", cpu_threads, minimum=1))
    try:
        history = fit(model, loss_fn, sample_batch, steps=steps, lr=lr, optimizer=optimizer,
                      weight_decay=weight_decay, device=dev, amp=amp, progress=progress, desc=desc,
                      checkpoint=checkpoint, checkpoint_every=checkpoint_every, generators=(gen,))
    finally:
        torch.set_num_threads(threads)

    def per_step(log: list[torch.Tensor]) -> np.ndarray:
        done = np.full(steps, np.nan)
        if log:
            done[steps - len(log):] = torch.stack(log).cpu().numpy()
        return done

    history.extra.update(loss=loss if isinstance(loss, str) else "callable", align=per_step(align_log),
                         uniform=per_step(uniform_log))
    return history


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: spectral-loss training on a finite graph (owner: augmentation-graph chapter; add below)


def train_spectral(
    model: nn.Module,
    graph,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 0.05,
    final_steps: int = 0,
    final_lr: float | None = None,
    inputs=None,
    rng=None,
    optimizer: str = "adam",
    device=None,
    progress: bool | None = None,
    cpu_threads: int | None = 1,
    checkpoint=None,
    checkpoint_every: int | None = None,
) -> History:
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
    steps : int
        Optimiser steps of the first phase.
    batch_size : int
        Positive pairs per step (at least 2).
    lr : float
        Learning rate of the first phase.
    final_steps : int
        Steps of the second phase (0: none).
    final_lr : float, optional
        Learning rate of the second phase; default ``lr / 10``.
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
    from sslbook._validation import check_array, check_rng
    from sslbook.losses import spectral_contrastive

    if not hasattr(graph, "sample_positive_pairs") or not hasattr(graph, "n_aug"):
        raise TypeError(f"graph must be an AugmentationGraph, got {type(graph).__name__}")
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=2)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    final_steps = check_int("final_steps", final_steps, minimum=0)
    final_lr = lr / 10 if final_lr is None else check_float("final_lr", final_lr, minimum=0.0, strict_min=True)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    rng = check_rng("rng", rng)
    dev = get_device(device)
    table = None
    if inputs is not None:
        table = check_array("inputs", inputs, ndim=2)
        if table.shape[0] != graph.n_aug:
            raise ValueError(f"inputs must have one row per augmented input ({graph.n_aug}), got {table.shape[0]}")
        table = torch.as_tensor(table, dtype=torch.float32, device=dev)  # moved once, not at every step
    if checkpoint is not None:
        from sslbook.checkpoint import _check_path

        checkpoint = _check_path("checkpoint", checkpoint)

    def batches(step: int):
        x, x_pos = graph.sample_positive_pairs(batch_size, rng)
        return torch.from_numpy(x), torch.from_numpy(x_pos)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos = batch
        if table is not None:
            x, x_pos = table[x], table[x_pos]
        return spectral_contrastive(net(x), net(x_pos))

    threads = torch.get_num_threads()
    if cpu_threads is not None and dev.type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        phases = [(steps, lr, checkpoint)]
        if final_steps:
            phases.append((final_steps, final_lr,
                           None if checkpoint is None else checkpoint.with_name(checkpoint.name + ".final")))
        runs = [fit(model, loss_fn, batches, steps=n, lr=rate, optimizer=optimizer, device=dev, amp="off",
                    progress=progress, desc=f"spectral training (lr={rate:g})", checkpoint=path,
                    checkpoint_every=checkpoint_every if path is not None else None, generators=(rng,))
                for n, rate, path in phases]
    finally:
        torch.set_num_threads(threads)
    model.eval()
    history = History(loss=np.concatenate([h.loss for h in runs]), device=runs[0].device, precision="fp32",
                      seconds=float(sum(h.seconds for h in runs)))
    history.extra.update(phase_steps=(steps, final_steps))
    return history


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
    from sslbook._validation import check_array, check_rng
    from sslbook.losses import spectral_contrastive

    if not hasattr(graph, "sample_positive_pairs") or not hasattr(graph, "n_aug"):
        raise TypeError(f"graph must be an AugmentationGraph, got {type(graph).__name__}")
    f = check_array("f", f, ndim=2)
    if f.shape[0] != graph.n_aug:
        raise ValueError(f"f must have one row per augmented input ({graph.n_aug}), got {f.shape[0]}")
    batches = check_int("batches", batches, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=2)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    rng = check_rng("rng", rng)
    table = torch.as_tensor(f)
    out = np.empty(batches)
    threads = torch.get_num_threads()
    if cpu_threads is not None:
        torch.set_num_threads(cpu_threads)
    try:
        with torch.no_grad():
            for i in range(batches):
                x, x_pos = graph.sample_positive_pairs(batch_size, rng)
                out[i] = float(spectral_contrastive(table[x], table[x_pos]))
    finally:
        torch.set_num_threads(threads)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Augmentations part: adversarial-probe training (owner: inductive-biases chapter; add below this line)


def probe_r2(z: torch.Tensor, y: torch.Tensor, *, ridge: float = 1e-4) -> torch.Tensor:
    r"""Fraction of the label variance explained by the best linear probe on a batch (differentiable).

    With centred features :math:`Z_c` (B, k) and centred one-hot labels :math:`Y_c` (B, C),

    .. math:: R^2=\frac{\operatorname{tr}\big(Y_c^\top Z_c(Z_c^\top Z_c+\rho I)^{-1}Z_c^\top Y_c\big)}
              {\|Y_c\|_F^2}\in[0,1],

    the least-squares probe with intercept solved in closed form, i.e. trained to optimality in the inner loop.

    See: Chapter "Why inductive biases are unavoidable", "An expressive class can be fooled".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features.
    y : torch.Tensor of int, shape (B,)
        Class labels in ``0..C-1``.
    ridge : float
        :math:`\rho>0`, a small ridge for a stable solve.
    """
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        raise ValueError(f"z must be a 2-d torch.Tensor (B, k), got {type(z).__name__}")
    if not z.is_floating_point():
        raise TypeError(f"z must be a floating-point tensor, got dtype {z.dtype}")
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise ValueError("y must be a 1-d torch.Tensor of labels with one entry per row of z")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    ridge = check_float("ridge", ridge, minimum=0.0, strict_min=True)
    if y.shape[0] < 2:
        raise ValueError(f"y must hold at least two labels (one per row of z), got {y.shape[0]}")
    # With S = Y Y^T (S_ij = [y_i = y_j]) and Z_c^T 1 = 0: Z_c^T Y_c Y_c^T Z_c = Z_c^T S Z_c and
    # ||Y_c||_F^2 = B - sum(S) / B. No one-hot matrix, hence no number of classes to read from the device.
    yl = y.long()
    S = (yl[:, None] == yl[None, :]).to(z.dtype)
    Zc = z - z.mean(dim=0)
    G = Zc.T @ Zc + ridge * torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    n = z.shape[0]
    total = n - S.sum() / n  # an integer over n: 0 for one class, at least (2n - 2) / n >= 1 otherwise
    if z.device.type == "cpu":
        if bool(total < 0.5):
            raise ValueError("y must hold at least two classes in the batch")
    else:
        torch._assert_async(total >= 0.5)  # no host synchronisation on a GPU
    return torch.trace(torch.linalg.solve(G, Zc.T @ (S @ Zc))) / total


def train_adversarial_probe(
    model: nn.Module,
    sample_batch: Callable[[int], Any],
    *,
    steps: int,
    adv_weight: float = 1.0,
    lr: float = 3e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    device=None,
    progress: bool | None = None,
    desc: str = "spectral training",
    cpu_threads: int | None = 1,
    checkpoint=None,
    checkpoint_every: int | None = None,
    generators=(),
) -> History:
    r"""Spectral contrastive training with an adversarial linear probe: a thin wrapper around :func:`fit`.

    Each step draws positive pairs with labels :math:`(x_i,x_i^+,y_i)` and minimises

    .. math:: \hat L_{spec}(f)+\lambda\cdot\tfrac12\big(R^2(f(x),y)+R^2(f(x^+),y)\big),

    where :math:`\hat L_{spec}` is :func:`sslbook.losses.spectral_contrastive` and :math:`R^2` the label variance
    explained by the best linear probe on the batch (:func:`probe_r2`): the encoder *maximises* the probe's
    squared error, up to chance level. With ``adv_weight=0`` this is plain spectral contrastive training.
    The labels are used only to build a deliberately bad near-minimizer of the spectral loss.

    See: Chapter "Why inductive biases are unavoidable", "An expressive class can be fooled".

    Parameters
    ----------
    model : torch.nn.Module
        The encoder.
    sample_batch : callable
        ``sample_batch(step)`` returns ``(x, x_pos, y)`` (shapes (B, d_in), (B, d_in), (B,)) or an object with
        attributes ``x``, ``x_pos``, ``y`` such as :class:`sslbook.data.AugmentedPairs`.
    steps : int
    adv_weight : float
        :math:`\lambda\ge0`.
    lr, optimizer, weight_decay, device, progress, desc
        Passed to :func:`fit` (fp32 throughout).
    cpu_threads : int, optional
        Torch threads on the CPU during training (restored afterwards); ``None`` keeps torch's setting.
    checkpoint, checkpoint_every, generators
        Passed to :func:`fit`: resume from and save to this file; ``generators`` are those ``sample_batch``
        draws from (for an exact resume).

    Returns
    -------
    History
        As :func:`fit`, with ``extra = {"adv_weight": adv_weight}``.
    """
    from sslbook import losses

    if not callable(sample_batch):
        raise TypeError(f"sample_batch must be callable, got {type(sample_batch).__name__}")
    adv_weight = check_float("adv_weight", adv_weight, minimum=0.0)
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)

    def batches(step: int):
        batch = sample_batch(step)
        if all(hasattr(batch, name) for name in ("x", "x_pos", "y")):
            batch = (batch.x, batch.x_pos, batch.y)
        if not isinstance(batch, (tuple, list)) or len(batch) != 3:
            raise TypeError("sample_batch(step) must return (x, x_pos, y) or an object with attributes x, x_pos, y")
        return tuple(batch)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        x, x_pos, y = batch
        if x.ndim != 2 or x_pos.shape != x.shape or y.shape != x.shape[:1]:
            raise ValueError(f"sample_batch must give x, x_pos of shape (B, d_in) and y of shape (B,), got "
                             f"{tuple(x.shape)}, {tuple(x_pos.shape)}, {tuple(y.shape)}")
        b = x.shape[0]
        z = net(torch.cat([x, x_pos]))
        loss = losses.spectral_contrastive(z[:b], z[b:])
        if adv_weight > 0:
            loss = loss + adv_weight * 0.5 * (probe_r2(z[:b], y) + probe_r2(z[b:], y))
        return loss

    threads = torch.get_num_threads()
    if cpu_threads is not None and get_device(device).type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        history = fit(model, loss_fn, batches, steps=steps, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
                      device=device, amp="off", progress=progress, desc=desc, checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=generators)
    finally:
        torch.set_num_threads(threads)
    history.extra.update(adv_weight=adv_weight)
    return history
