"""Checkpoint and resume of :func:`sslbook.train.fit`: what is saved, and what a checkpoint must agree with.

See: Introduction, "Running the book" (checkpoints and resume arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from sslbook.checkpoint import (
    FORMAT_VERSION,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)

#: The ``kind`` recorded in the checkpoints written by :func:`sslbook.train.fit`.
KIND = "sslbook.train.fit"


def _shapes(module: nn.Module) -> dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _check_header(state: dict, where: str, steps: int) -> int:
    """The format, the fields, the step count, the loss history and the time of a checkpoint; returns its step."""
    if state.get("format") != FORMAT_VERSION or state.get("kind") != KIND:
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
    if not isinstance(state["config"], dict):
        raise ValueError(f"{where} is corrupt: config is a {type(state['config']).__name__}")
    return step


def _check_optimiser(optim, where: str, saved_cfg: dict, params: list, step: int, scaled: bool) -> None:
    """The optimiser state of a checkpoint fits the parameters, the saved run's lr and weight decay, and its step."""
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
            if not (n == step if not scaled else 0 <= n <= step):
                raise ValueError(f"{where} is corrupt: its optimiser has taken {n:g} steps but the checkpoint is at "
                                 f"step {step}")


def check_resume_state(state: dict, path: str, *, model: nn.Module, params: list, config_now: dict, steps: int,
                       override: bool, scaled: bool) -> dict:
    """Validate a loaded checkpoint of :func:`sslbook.train.fit` against this run.

    See: Introduction, "Running the book" (checkpoints and resume arguments).

    Parameters
    ----------
    state : dict
        From :func:`sslbook.checkpoint.load_checkpoint`.
    path : str
        Named in the errors.
    model : torch.nn.Module
        Its parameter shapes must be the checkpoint's (never overridable).
    params : list of torch.Tensor
        The trained parameters (the optimiser state must fit them).
    config_now : dict
        This call's ``lr``, ``optimizer`` and ``weight_decay``.
    steps : int
        Steps of the whole run (the checkpoint must not be beyond).
    override : bool
        Accept arguments that differ from the saved ones.
    scaled : bool
        Whether the run has an fp16 gradient scaler (then the optimiser may have taken fewer steps).

    Returns
    -------
    dict
        The differing arguments, ``{name: (saved, now)}``.

    Raises
    ------
    ValueError
        On anything a legitimate save cannot produce (a tampered or foreign file) and, unless ``override``, on
        arguments that differ from the saved ones.
    """
    where = f"checkpoint {path!r}"
    step = _check_header(state, where, steps)
    saved_cfg = state["config"]
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
    _check_optimiser(state["optim"], where, saved_cfg, params, step, scaled)
    return differ


@dataclass(frozen=True)
class ResumePoint:
    """Where a run resumed by :func:`resume_run` starts (a fresh run: all zero)."""

    step: int = 0  #: steps done before this call
    loss: np.ndarray = field(default_factory=lambda: np.empty(0))  #: their losses (float64)
    seconds: float = 0.0  #: their training time
    skipped: int = 0  #: steps among them skipped by the fp16 gradient scaler


def resume_run(path, *, model: nn.Module, opt: torch.optim.Optimizer, scaler, params: list, config_now: dict,
               steps: int, override: bool, generators: tuple) -> ResumePoint:
    """Load the checkpoint at ``path`` into the model, the optimiser, the scaler and the random generators.

    The checkpoint is checked first (:func:`check_resume_state`). Unless the optimiser differs, its state is
    loaded and its ``lr`` and ``weight_decay`` set to this call's (equal to the saved ones unless overridden).

    See: Introduction, "Running the book" (checkpoints and resume arguments).

    Parameters
    ----------
    path : pathlib.Path
        An existing checkpoint written by :func:`sslbook.train.fit`.
    model, opt, scaler
        The run's model, optimiser and gradient scaler (``None`` without fp16).
    params, config_now, steps, override
        As in :func:`check_resume_state`.
    generators : tuple
        The caller's random generators, restored.

    Returns
    -------
    ResumePoint

    Raises
    ------
    ValueError
        On a checkpoint that does not fit (see :func:`check_resume_state`), an optimiser state or random states
        that do not restore.
    """
    state = load_checkpoint(path)
    differ = check_resume_state(state, str(path), model=model, params=params, config_now=config_now, steps=steps,
                                override=override, scaled=scaler is not None)
    model.load_state_dict(state["model"])
    if "optimizer" not in differ:
        try:
            opt.load_state_dict(state["optim"])
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"checkpoint {str(path)!r} is corrupt: its optimiser state does not load: "
                             f"{exc}") from exc
        for group in opt.param_groups:  # this call's values (equal to the saved ones unless overridden)
            group["lr"], group["weight_decay"] = config_now["lr"], config_now["weight_decay"]
    if scaler is not None and state["scaler"]:
        scaler.load_state_dict(state["scaler"])
    try:
        restore_rng_state(state["rng"], generators)
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"checkpoint {str(path)!r}: its random states do not restore ({exc})") from exc
    return ResumePoint(step=state["step"], loss=state["loss"].double().numpy(), seconds=state["seconds"],
                       skipped=int(state.get("skipped_steps", 0)))


def save_run(path, *, done: int, steps: int, config_now: dict, model: nn.Module, opt: torch.optim.Optimizer,
             scaler, losses: np.ndarray, generators: tuple, seconds: float, skipped: int) -> None:
    """Save a run of :func:`sslbook.train.fit` after ``done`` steps, atomically, with every random state.

    See: Introduction, "Running the book" (checkpoints and resume arguments).

    Parameters
    ----------
    path : pathlib.Path
    done, steps : int
        Steps done, and of the whole run.
    config_now : dict
        ``lr``, ``optimizer``, ``weight_decay`` (checked on resume).
    model, opt, scaler
        Their states are saved (``scaler`` may be ``None``).
    losses : numpy.ndarray, shape (done,)
    generators : tuple
        The caller's random generators (their states are saved with the global ones).
    seconds : float
        Training time so far.
    skipped : int
        Steps skipped by the fp16 gradient scaler so far.
    """
    save_checkpoint(path, {
        "format": FORMAT_VERSION, "kind": KIND, "step": done, "steps": steps,
        "steps_semantic": "total", "config": dict(config_now), "optimizer": config_now["optimizer"],
        "model_class": type(model).__qualname__, "model": model.state_dict(), "optim": opt.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "loss": torch.from_numpy(losses), "rng": capture_rng_state(generators),
        "seconds": float(seconds), "skipped_steps": int(skipped),
    })
