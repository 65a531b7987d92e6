"""What a training run returns and how it stops: :class:`History` and :class:`TrainingDivergedError`.

See: Introduction, "Running the book" (what stops a training run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
