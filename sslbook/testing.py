"""Assertions that turn a theorem into a check on numbers a chapter computed.

Every helper here can fail: ``tests/test_testing.py`` feeds each one a deliberately wrong value (a wrong
constant, a swapped sign) and expects an ``AssertionError``.
See: Introduction, "How to read this book" (exact versus statistical checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sslbook._validation import check_array, check_float, check_int, check_same_length

#: The seeds every statistical check of the book must pass.
SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)


def assert_bound(measured, bound, *, slack: float = 0.0, name: str = "bound") -> None:
    r"""Assert ``measured <= bound + slack`` elementwise.

    Parameters
    ----------
    measured, bound : array_like
        Same shape (or broadcastable); both must be finite.
    slack : float
        Non-negative allowance for floating-point round-off (e.g. ``1e-12``), never for a failing result.
    name : str
        Name of the inequality in the error message.

    Raises
    ------
    AssertionError
        With the worst violation when the inequality fails anywhere.
    """
    m = check_array("measured", measured, ndim=None)
    b = check_array("bound", bound, ndim=None)
    slack = check_float("slack", slack, minimum=0.0)
    try:
        m, b = np.broadcast_arrays(m, b)
    except ValueError:
        raise ValueError(f"measured and bound must have broadcastable shapes, got {m.shape} and {b.shape}") from None
    excess = m - b
    worst = int(np.argmax(excess)) if excess.size else 0
    if excess.size and excess.flat[worst] > slack:
        n_bad = int(np.sum(excess > slack))
        raise AssertionError(
            f"{name} violated at {n_bad} of {excess.size} points; worst: measured {m.flat[worst]:.6g} > "
            f"bound {b.flat[worst]:.6g} (+ slack {slack:g})"
        )


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit of :math:`\\log y = a + s \\log x`, with a confidence interval for the slope."""

    slope: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float
    confidence: float

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        return f"slope {self.slope:.3f} ({pct}% CI [{self.ci_low:.3f}, {self.ci_high:.3f}])"


def loglog_slope(x, y, *, confidence: float = 0.95) -> SlopeFit:
    r"""Fit the slope of :math:`\log y` against :math:`\log x` by least squares.

    The interval is the usual regression interval :math:`\hat s \pm t_{n-2,\,(1+c)/2}\,\mathrm{se}(\hat s)`;
    with two points it is reported as infinite.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Positive values, ``n >= 2``.
    confidence : float
        Level of the interval, in (0, 1).
    """
    x = check_array("x", x, ndim=1, min_rows=2)
    y = check_array("y", y, ndim=1, min_rows=2)
    check_same_length(("x", "y"), x, y)
    confidence = check_float("confidence", confidence, minimum=0.0, maximum=1.0, strict_min=True)
    if confidence >= 1.0:
        raise ValueError(f"confidence must be < 1, got {confidence}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a log-log slope")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ValueError("x must take at least two distinct values")
    res = stats.linregress(lx, ly)
    n = x.size
    if n > 2:
        t = stats.t.ppf(0.5 + confidence / 2, df=n - 2)
        half = float(t * res.stderr)
    else:
        half = float("inf")
    return SlopeFit(
        slope=float(res.slope),
        intercept=float(res.intercept),
        stderr=float(res.stderr) if n > 2 else float("inf"),
        ci_low=float(res.slope) - half,
        ci_high=float(res.slope) + half,
        confidence=confidence,
    )


def assert_slope(x, y, low: float, high: float) -> SlopeFit:
    """Assert that the fitted log-log slope of ``y`` against ``x`` lies in ``[low, high]``.

    Returns the :class:`SlopeFit`.
    """
    low = check_float("low", low)
    high = check_float("high", high)
    if low > high:
        raise ValueError(f"low must be <= high, got {low} > {high}")
    fit = loglog_slope(x, y)
    if not low <= fit.slope <= high:
        raise AssertionError(f"log-log {fit} outside the stated range [{low}, {high}]")
    return fit


@dataclass(frozen=True)
class MonteCarloCheck:
    """Result of :func:`assert_close_mc`: the sample mean, its standard error and the z-score."""

    mean: float
    stderr: float
    target: float
    z: float
    n: int

    def __str__(self) -> str:
        return (
            f"MC mean {self.mean:.6g} ± {self.stderr:.2g} (s.e., n={self.n}) vs target {self.target:.6g}: "
            f"z = {self.z:+.2f}"
        )


def assert_close_mc(samples, target: float, *, n_se: float = 3.0) -> MonteCarloCheck:
    r"""Assert that the mean of i.i.d. ``samples`` is within ``n_se`` standard errors of ``target``.

    The standard error is :math:`\hat\sigma/\sqrt n` with the sample standard deviation :math:`\hat\sigma`.

    Parameters
    ----------
    samples : array_like, shape (n,)
        Independent draws, ``n >= 2``.
    target : float
        The exact expectation the theory predicts.
    n_se : float
        Tolerance in standard errors (3 by the book's convention).
    """
    s = check_array("samples", samples, ndim=1, min_rows=2)
    target = check_float("target", target)
    n_se = check_float("n_se", n_se, minimum=0.0, strict_min=True)
    mean = float(s.mean())
    se = float(s.std(ddof=1) / np.sqrt(s.size))
    if se == 0.0:
        z = 0.0 if mean == target else float("inf")
    else:
        z = (mean - target) / se
    result = MonteCarloCheck(mean=mean, stderr=se, target=target, z=float(z), n=int(s.size))
    if not abs(result.z) <= n_se:
        raise AssertionError(f"{result}: more than {n_se:g} standard errors away")
    return result


def across_seeds(check: Callable[[int], Any], seeds: Iterable[int] = SEEDS) -> dict[int, Any]:
    """Run ``check(seed)`` for every seed and raise one ``AssertionError`` listing all failing seeds.

    Parameters
    ----------
    check : callable
        Takes a seed, raises ``AssertionError`` on failure, may return a value to report.
    seeds : iterable of int
        Default :data:`SEEDS` (0 to 4).

    Returns
    -------
    dict
        ``{seed: check(seed)}``.
    """
    if not callable(check):
        raise TypeError(f"check must be callable, got {type(check).__name__}")
    seeds = [check_int("seeds[i]", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    results, failures = {}, {}
    for seed in seeds:
        try:
            results[seed] = check(seed)
        except AssertionError as exc:
            failures[seed] = str(exc)
    if failures:
        lines = "\n".join(f"  seed {s}: {msg}" for s, msg in failures.items())
        raise AssertionError(f"check failed for {len(failures)} of {len(seeds)} seeds:\n{lines}")
    return results
