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

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_array, check_float, check_int

#: The seeds ``make verify-seeds`` runs by default; every statistical check of the book must pass at any seed.
SEEDS: tuple[int, ...] = tuple(range(10))


def _broadcast(names: tuple[str, str], a, b) -> tuple[np.ndarray, np.ndarray]:
    """Two finite float arrays of any shapes, broadcast against each other (an error names both arguments)."""
    a = check_array(names[0], a, ndim=None)
    b = check_array(names[1], b, ndim=None)
    try:
        return tuple(np.broadcast_arrays(a, b))
    except ValueError:
        raise ValueError(f"{names[0]} and {names[1]} must have broadcastable shapes, got {a.shape} and {b.shape}") \
            from None


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
    m, b = _broadcast(("measured", "bound"), measured, bound)
    slack = check_float("slack", slack, minimum=0.0)
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


@check_shapes(x=Shape("n", min_rows=2), y=Shape("n", min_rows=2))
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


@check_shapes(samples=Shape("n", min_rows=2))
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
    s = samples
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
        Default :data:`SEEDS` (0 to 9).

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


# ----------------------------------------------------------------------------------------------------------------
# The verification pattern every chapter uses: pin the numbers, then reject the nearest false statements.
# ----------------------------------------------------------------------------------------------------------------

#: MIME type of the record a :class:`Verification` leaves in its cell's outputs (read by the theorem index).
VERIFICATION_MIME = "application/vnd.sslbook.verification+json"


def _num(x: Any) -> Any:
    """A JSON-safe summary of a number or an array (scalars as floats, arrays by their worst entry)."""
    a = np.asarray(x, dtype=float)
    if a.size == 1:
        v = float(a.reshape(()))
        return v if np.isfinite(v) else str(v)
    return {"shape": list(a.shape), "max": float(np.max(a)) if a.size else None,
            "min": float(np.min(a)) if a.size else None}


def samples_to_separate(gap: float, sd: float, *, n_se: float = 3.0) -> int:
    r"""Samples needed for a mean to tell two targets ``gap`` apart at ``n_se`` standard errors each way.

    With :math:`n \ge (2\,n_{se}\,\sigma/\Delta)^2` the true target is within ``n_se`` standard errors
    and a target :math:`\Delta` away is beyond ``n_se`` of the mean, up to the error of :math:`\hat\sigma`.
    See: Introduction, "How to read this book".
    """
    gap = check_float("gap", gap, minimum=0.0, strict_min=True)
    sd = check_float("sd", sd, minimum=0.0, strict_min=True)
    n_se = check_float("n_se", n_se, minimum=0.0, strict_min=True)
    return int(np.ceil((2.0 * n_se * sd / gap) ** 2))


@dataclass
class Verification:
    """Checks of one stated result, in the book's pattern: **pin**, **hold**, **reject**.

    * :meth:`pin` / :meth:`pin_mc` pin a value the package computed to an independent computation (an inline
      formula, an enumeration, a generic optimiser): exact (relative tolerance, 1e-10 by default) or sampled
      (a stated number of standard errors);
    * :meth:`holds` / :meth:`check` assert the statement's inequality or property on those numbers;
    * :meth:`rejects_value`, :meth:`rejects_bound`, :meth:`rejects_mc` and :meth:`rejects` assert that a named
      *false variant* of the statement (a wrong constant, a missing factor, k for k+1, ...) **fails** on the
      same numbers, so the check could tell the statement from it.

    Use it as a context manager: on leaving the block without an error it checks that at least one check ran,
    and that at least one false variant was rejected unless ``no_variants`` says why none can be (e.g. an
    existence claim); then it shows a one-line summary and leaves a machine-readable record (MIME type
    :data:`VERIFICATION_MIME`) in the cell's outputs, from which the theorem index builds its "rejects" column.

    Parameters
    ----------
    label : str
        The ``prf:`` label of the result (the cell is tagged ``verifies-<label>``).
    no_variants : str, optional
        Why this result has no false variant to reject; then rejecting none is allowed (and shown).

    Examples
    --------
    >>> with Verification("thm-demo") as v:
    ...     v.pin("sum of 1..n", sum(range(11)), 10 * 11 / 2)
    ...     v.rejects_value("n(n-1)/2", 10 * 9 / 2, sum(range(11)))  # doctest: +SKIP
    """

    label: str
    no_variants: str | None = None
    checks: list = None  # type: ignore[assignment]
    rejected: list = None  # type: ignore[assignment]
    quiet: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(f"label must be a non-empty string (the prf: label), got {self.label!r}")
        if self.no_variants is not None and (not isinstance(self.no_variants, str) or not self.no_variants.strip()):
            raise ValueError("no_variants must be None or a non-empty reason")
        self.checks = []
        self.rejected = []

    # -- pinning and holding ------------------------------------------------------------------------------
    def pin(self, name: str, value, reference, *, rtol: float = 1e-10, atol: float = 0.0) -> float:
        """Assert ``|value - reference| <= atol + rtol |reference|`` elementwise; return the worst relative error."""
        v, r = _broadcast(("value", "reference"), value, reference)
        rtol = check_float("rtol", rtol, minimum=0.0)
        atol = check_float("atol", atol, minimum=0.0)
        err = np.abs(v - r)
        tol = atol + rtol * np.abs(r)
        rel = float(np.max(err / np.maximum(np.abs(r), np.finfo(float).tiny))) if err.size else 0.0
        if err.size and np.any(err > tol):
            i = int(np.argmax(err - tol))
            raise AssertionError(f"{self.label}: {name}: value {v.flat[i]:.12g} differs from the independent "
                                 f"{r.flat[i]:.12g} by {err.flat[i]:.3g} > tolerance {tol.flat[i]:.3g}")
        self.checks.append({"kind": "pin", "name": str(name), "value": _num(v), "reference": _num(r),
                            "rel_err": rel, "rtol": rtol, "atol": atol})
        return rel

    def pin_mc(self, name: str, samples, target: float, *, n_se: float = 3.0) -> MonteCarloCheck:
        """Assert that the mean of i.i.d. ``samples`` is within ``n_se`` standard errors of ``target``."""
        res = assert_close_mc(samples, target, n_se=n_se)
        self.checks.append({"kind": "pin_mc", "name": str(name), "mean": res.mean, "stderr": res.stderr,
                            "target": res.target, "z": res.z, "n": res.n, "n_se": n_se})
        return res

    def holds(self, name: str, measured, bound, *, slack: float = 0.0) -> None:
        """Assert the stated inequality ``measured <= bound + slack`` (see :func:`assert_bound`)."""
        assert_bound(measured, bound, slack=slack, name=f"{self.label}: {name}")
        self.checks.append({"kind": "holds", "name": str(name), "measured": _num(measured), "bound": _num(bound),
                            "slack": slack})

    def check(self, name: str, condition: bool, detail: str = "") -> None:
        """Assert a property that is not a pin or an inequality (e.g. a rank, an ordering)."""
        if not isinstance(condition, (bool, np.bool_)):
            raise TypeError(f"condition must be a bool, got {type(condition).__name__}")
        if not condition:
            raise AssertionError(f"{self.label}: {name} fails" + (f" ({detail})" if detail else ""))
        self.checks.append({"kind": "check", "name": str(name), "detail": str(detail)})

    # -- rejecting false variants -------------------------------------------------------------------------
    def _rejected(self, name: str, why: str) -> None:
        self.rejected.append({"name": str(name), "why": why})

    def rejects_value(self, name: str, variant, reference, *, rtol: float = 1e-10, atol: float = 0.0) -> None:
        """Assert that the false variant's value is **not** within the tolerance of ``reference`` (somewhere)."""
        v, r = _broadcast(("variant", "reference"), variant, reference)
        err = np.abs(v - r)
        tol = atol + rtol * np.abs(r)
        if not np.any(err > tol):
            raise AssertionError(f"{self.label}: the false variant '{name}' agrees with the independent value "
                                 f"within the tolerance: the check cannot tell them apart")
        i = int(np.argmax(err - tol))
        self._rejected(name, f"off by {err.flat[i]:.3g} (tolerance {tol.flat[i]:.3g})")

    def rejects_bound(self, name: str, measured, variant_bound, *, slack: float = 0.0) -> None:
        """Assert that the false (too strong) bound is **violated** at some point by ``measured``."""
        m, b = _broadcast(("measured", "variant_bound"), measured, variant_bound)
        excess = m - b
        if not np.any(excess > slack):
            raise AssertionError(f"{self.label}: the false variant '{name}' also holds on these numbers: the "
                                 f"instance cannot tell it from the statement")
        i = int(np.argmax(excess))
        self._rejected(name, f"violated by {excess.flat[i]:.3g} at {int(np.sum(excess > slack))} of "
                             f"{excess.size} points")

    def rejects_mc(self, name: str, samples, variant_target: float, *, n_se: float = 3.0) -> None:
        """Assert that the sample mean is **more** than ``n_se`` standard errors from the false target."""
        s = bind_shapes({"samples": (samples, Shape("n", min_rows=2))})["samples"]
        t = check_float("variant_target", variant_target)
        mean = float(s.mean())
        se = float(s.std(ddof=1) / np.sqrt(s.size))
        z = float("inf") if se == 0.0 and mean != t else (0.0 if se == 0.0 else (mean - t) / se)
        if not abs(z) > n_se:
            raise AssertionError(f"{self.label}: the false variant '{name}' (target {t:.6g}) is within {n_se:g} "
                                 f"standard errors of the mean {mean:.6g} (z = {z:+.2f}): too few samples to tell")
        self._rejected(name, f"z = {z:+.1f}")

    def rejects(self, name: str, check: Callable[[], Any]) -> None:
        """Assert that ``check()`` (the same assertion applied to the false variant) raises ``AssertionError``."""
        if not callable(check):
            raise TypeError(f"check must be callable, got {type(check).__name__}")
        try:
            check()
        except AssertionError as exc:
            self._rejected(name, str(exc).splitlines()[0][:160] if str(exc) else "fails")
            return
        raise AssertionError(f"{self.label}: the false variant '{name}' passes the check: it has no teeth")

    # -- the record ------------------------------------------------------------------------------------------
    def record(self) -> dict:
        """The machine-readable record (what the theorem index reads)."""
        return {"label": self.label, "checks": self.checks, "rejects": self.rejected,
                "no_variants": self.no_variants}

    def summary(self) -> str:
        kinds = {}
        for c in self.checks:
            kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in kinds.items())
        rej = "; ".join(r["name"] for r in self.rejected) or f"none ({self.no_variants})"
        return f"\u2713 {self.label}: {parts}; rejects {len(self.rejected)} false variant(s): {rej}"

    def done(self) -> dict:
        """Check completeness, show the summary, leave the record in the cell output; return the record."""
        if not self.checks:
            raise AssertionError(f"{self.label}: no check was run")
        if not self.rejected and self.no_variants is None:
            raise AssertionError(f"{self.label}: no false variant was rejected; reject the nearest false statement "
                                 f"or say why there is none (no_variants=...)")
        rec = self.record()
        if not self.quiet:
            _emit(rec, self.summary())
        return rec

    def __enter__(self) -> Verification:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.done()
        return False


def _emit(record: dict, text: str) -> None:
    """Display ``text`` with ``record`` attached under :data:`VERIFICATION_MIME` (plain print outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency of the book, not of the package
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    import json

    display({"text/plain": text, VERIFICATION_MIME: json.loads(json.dumps(record, default=str))}, raw=True)


def verify(label: str, *, no_variants: str | None = None) -> Verification:
    """Start the checks of the result ``label``: ``with testing.verify("thm-x") as v: ...``.

    See :class:`Verification`.
    """
    return Verification(label, no_variants=no_variants)
