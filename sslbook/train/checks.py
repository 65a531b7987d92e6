"""The checks of a training run: NaN, inf, explosion and fp16 scaler skips, at no more than one sync per check.

See: Introduction, "Running the book" (what stops a training run).
"""

from __future__ import annotations

import numpy as np
import torch

from sslbook.train.history import MAX_SCALER_SKIPS, TrainingDivergedError


class LossMonitor:
    r"""The losses of a run, kept in a small device buffer and checked each time it is copied to the host.

    :func:`sslbook.train.fit` records the loss of every step with :meth:`record` (no synchronisation) and calls
    :meth:`flush` every ``check_every`` steps, when the buffer is full and at the last step: one blocking copy,
    after which every loss of the buffer is checked. A loss is *divergence* when it is NaN or infinite, or when
    it explodes, :math:`|\ell_t| > r\cdot\max(|\ell_0|, 1)` with :math:`r` = ``explode_ratio`` and
    :math:`\ell_0` the first loss of the run. A step skipped by the fp16 gradient scaler is not checked; more
    than ``sslbook.train.MAX_SCALER_SKIPS`` skips in a row is divergence. No buffer of length ``steps``
    is allocated up front.

    See: Introduction, "Running the book" (what stops a training run).

    Parameters
    ----------
    steps : int
        Steps of the whole run (named in the errors).
    start_step : int
        First step of this call (after a resume, the steps done before it).
    prior : numpy.ndarray, shape (start_step,)
        Losses of the steps done before a resume.
    check_every : int
        Steps between checks (bounds the buffer).
    device : torch.device
        Where the buffer lives.
    scaled : bool
        Whether the run has an fp16 gradient scaler (then skipped steps are recorded).
    lr : float
    precision : str
        Named in the errors.
    explode_ratio : float or None
        :math:`r`; ``None`` disables the explosion check.
    skipped_before : int
        Scaler-skipped steps before a resume.
    """

    def __init__(self, *, steps: int, start_step: int, prior: np.ndarray, check_every: int, device: torch.device,
                 scaled: bool, lr: float, precision: str, explode_ratio: float | None, skipped_before: int = 0):
        self.steps, self.lr, self.precision, self.explode_ratio = steps, lr, precision, explode_ratio
        self.chunk = max(1, min(steps - start_step, check_every, 4096))
        self.buf = torch.empty(self.chunk, device=device)
        self.skipbuf = torch.zeros(self.chunk, dtype=torch.bool, device=device) if scaled else None
        self.host: list[np.ndarray] = [prior]
        self.n_buf = 0
        self.ref = float(prior[0]) if len(prior) and np.isfinite(prior[0]) else None
        #: ``(step, loss)`` of the last finite, checked loss, or None
        self.last = (start_step - 1, float(prior[-1])) if len(prior) else None
        self.run_skips = 0
        self.skipped = skipped_before

    @property
    def full(self) -> bool:
        """Whether the buffer must be flushed before the next :meth:`record`."""
        return self.n_buf == self.chunk

    def record(self, loss: torch.Tensor) -> None:
        """Store the loss of a step in the device buffer (no synchronisation)."""
        self.buf[self.n_buf] = loss.detach().float()

    def mark_skipped(self, skipped: torch.Tensor) -> None:
        """Store whether the gradient scaler skipped the step just recorded (a bool tensor on the device)."""
        self.skipbuf[self.n_buf] = skipped

    def advance(self) -> None:
        """Close the step just recorded."""
        self.n_buf += 1

    def diverged(self, kind: str, value: float, at: int, why: str = "") -> TrainingDivergedError:
        """The error for a bad loss ``value`` at step ``at``, naming the last finite loss."""
        last = self.last
        before = (f"last finite loss {last[1]:.6g} at step {last[0]}" if last is not None
                  else "no finite loss before it")
        return TrainingDivergedError(f"training loss {kind} {value:.6g} at step {at} of {self.steps} ({before}; "
                                     f"lr={self.lr:g}, precision={self.precision}){why}; lower the learning rate "
                                     "or check the data")

    def flush(self, done: int) -> None:
        """Copy the buffer to the host (one synchronisation) and check its losses; ``done`` steps are done."""
        if self.n_buf == 0:
            return
        n = self.n_buf
        vals = self.buf[:n].double().cpu().numpy()  # blocking copy: one synchronisation
        skipped = self.skipbuf[:n].cpu().numpy() if self.skipbuf is not None else np.zeros(n, dtype=bool)
        lo = done - n
        self.n_buf = 0
        for i, v in enumerate(vals.tolist()):
            if skipped[i]:  # the gradient scaler skipped this step: the optimiser did not move
                self._skip(lo + i)
                continue
            self.run_skips = 0
            self._check(v, lo + i)
        self.host.append(vals)

    def _skip(self, at: int) -> None:
        self.run_skips += 1
        self.skipped += 1
        if self.run_skips > MAX_SCALER_SKIPS:
            raise TrainingDivergedError(
                f"the fp16 gradient scaler skipped more than {MAX_SCALER_SKIPS} steps in a row, up to step "
                f"{at} of {self.steps} (lr={self.lr:g}); lower the learning rate or use amp='bf16' or 'off'")

    def _check(self, v: float, at: int) -> None:
        if not np.isfinite(v):
            raise self.diverged("became", v, at)
        ratio = self.explode_ratio
        if self.ref is None:
            self.ref = v
        elif ratio is not None and abs(v) > ratio * max(abs(self.ref), 1.0):
            raise self.diverged("exploded to", v, at,
                                f": more than explode_ratio={ratio:g} times max(|first loss|, 1), first "
                                f"loss {self.ref:.6g} (pass a larger explode_ratio, or None, if it is expected)")
        self.last = (at, v)

    def losses(self) -> np.ndarray:
        """Every loss flushed so far (those before a resume included), float64."""
        return np.concatenate(self.host).astype(np.float64)
