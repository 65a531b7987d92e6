r"""Spread of a quantity measured over independent runs (training restarts, seeds, probe draws).

A single trained network is one draw: the book reports a trained model's numbers with their spread over
independent runs, :math:`\bar y\pm s` with :math:`s` the sample standard deviation, the standard error
:math:`s/\sqrt n` of the mean, and the range.

See: Chapter 4, "A Table-1 analogue on the digits"; Chapter 5, "A training sweep".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_array

__all__ = ["Spread", "spread"]


@dataclass(frozen=True)
class Spread:
    r"""Summary of :math:`n` independent measurements.

    Attributes
    ----------
    mean : float
        :math:`\bar y=\frac1n\sum_i y_i`.
    sd : float
        Sample standard deviation :math:`s=\sqrt{\frac1{n-1}\sum_i(y_i-\bar y)^2}` (0 for :math:`n=1`).
    se : float
        Standard error of the mean, :math:`s/\sqrt n`.
    low, high : float
        Smallest and largest value.
    n : int
    """

    mean: float
    sd: float
    se: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.sd:.3f} (sd over {self.n} values; range {self.low:.3f} to {self.high:.3f})"


def spread(values) -> Spread:
    r"""Mean, standard deviation, standard error and range of independent measurements.

    .. math:: \bar y=\frac1n\sum_{i=1}^n y_i,\qquad s^2=\frac1{n-1}\sum_{i=1}^n(y_i-\bar y)^2,\qquad
              \mathrm{se}=s/\sqrt n .

    See: Chapter 4, "A Table-1 analogue on the digits".

    Parameters
    ----------
    values : array_like, shape (n,)
        One finite value per run (at least one).

    Returns
    -------
    Spread
    """
    y = check_array("values", values, ndim=1, min_rows=1)
    sd = float(y.std(ddof=1)) if y.size > 1 else 0.0
    return Spread(mean=float(y.mean()), sd=sd, se=sd / float(np.sqrt(y.size)), low=float(y.min()),
                  high=float(y.max()), n=int(y.size))
