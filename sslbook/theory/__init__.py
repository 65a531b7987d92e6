"""Exact population quantities and bound calculators (pure numpy/scipy; never imports torch).

One module per part of the book; each function names the result it implements.
"""

from sslbook.theory.downstream import (
    mean_estimation_bound,
    mean_estimation_risk,
    ols_expected_excess_risk,
)

__all__ = ["mean_estimation_bound", "mean_estimation_risk", "ols_expected_excess_risk"]
