"""Argument checks shared by the public functions (floor 0: stdlib and numpy only).

Every public function of :mod:`sslbook` validates its arguments at the boundary and raises a
:class:`TypeError` or :class:`ValueError` that names the argument and says what was expected.
Inner loops call unchecked internals.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` after checking its type and range.

    ``strict_min=True`` requires ``value > minimum`` instead of ``>=``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_min and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_min and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of the strings ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype: str = "float",
    min_rows: int = 1,
    finite: bool = True,
) -> np.ndarray:
    """Convert ``value`` to a numpy array and check its dimension, kind and values.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : array_like
        The argument (a torch tensor is accepted and moved to the CPU).
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    dtype : {"float", "int"}
        ``"float"`` converts to float64; ``"int"`` requires integer values (labels).
    min_rows : int
        Minimum length of the first axis.
    finite : bool
        Reject NaN and infinite entries (float arrays).
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu()
        if value.is_floating_point() and value.dtype.itemsize < 4:  # bf16/fp16 from mixed precision
            value = value.float()
        value = value.numpy()
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got an object array")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {arr.shape}")
    if dtype == "int":
        integral_floats = arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
        if arr.dtype.kind not in "iu" and not integral_floats:
            raise TypeError(f"{name} must hold integer labels, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
    elif dtype == "float":
        if arr.dtype.kind not in "iufb":
            raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float64, copy=False)
        if finite and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, found NaN or inf")
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown dtype {dtype!r}")
    if arr.ndim >= 1 and arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows, got {arr.shape[0]}")
    return arr


def check_same_length(names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    """Check that two arrays have the same number of rows."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of rows, got {a.shape[0]} and {b.shape[0]}"
        )


def check_rng(name: str, rng: Any) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from a Generator, an int seed or ``None``.

    ``None`` draws fresh entropy; chapters pass the generator made by :func:`sslbook.session.setup`.
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} seed must be >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def check_simplex(
    name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None, atol: float = 1e-9
) -> np.ndarray:
    """``value`` as a float array of probability vectors on its last axis (non-negative, each summing to 1)."""
    arr = check_array(name, value, ndim=ndim)
    if arr.ndim == 0 or arr.shape[-1] < 1:
        raise ValueError(f"{name} must hold probability vectors on its last axis, got shape {arr.shape}")
    if np.any(arr < 0) or not np.allclose(arr.sum(axis=-1), 1.0, rtol=0, atol=atol):
        raise ValueError(f"{name} must be non-negative and sum to 1 on its last axis")
    return arr


def check_class_distribution(rho: Any, n_classes: int | None = None) -> np.ndarray:
    """A class distribution ``rho`` (one entry per class, non-negative, summing to 1) as float64, renormalised to
    sum to exactly 1; ``n_classes``, when given, is the number of entries it must have.

    Shared by the latent-class models (:mod:`sslbook.data.latent_classes`) and the CURL calculators
    (:mod:`sslbook.theory.curl`).
    """
    r = check_simplex("rho", rho, ndim=1)
    if n_classes is not None and r.shape[0] != n_classes:
        raise ValueError(f"rho must have one entry per class ({n_classes}), got {r.shape[0]}")
    return r / r.sum()


def check_class_supports(points: Any, probs: Any, *, name: str, min_classes: int = 1) -> tuple[tuple, tuple]:
    """Finite per-class supports: ``points[c]`` arrays ``(n_c, dim)`` of one dimension (``name`` in messages), and
    within-class probabilities ``probs[c]`` (uniform when ``probs`` is None), renormalised to sum to exactly 1.

    Shared by :class:`sslbook.data.LatentClassModel` and the exact CURL calculators (:mod:`sslbook.theory.curl`).
    """
    if isinstance(points, np.ndarray) or not hasattr(points, "__len__"):
        raise TypeError(f"{name} must be a sequence of per-class arrays of shape (n_c, d)")
    pts = tuple(check_array(f"{name}[{c}]", P, ndim=2) for c, P in enumerate(points))
    if len(pts) < min_classes:
        raise ValueError(f"{name} must hold at least {min_classes} classes, got {len(pts)}")
    dims = {P.shape[1] for P in pts}
    if len(dims) > 1:
        raise ValueError(f"{name} must have the same dimension in every class, got {sorted(dims)}")
    if probs is None:
        return pts, tuple(np.full(P.shape[0], 1.0 / P.shape[0]) for P in pts)
    if len(probs) != len(pts):
        raise ValueError(f"probs must have one array per class ({len(pts)}), got {len(probs)}")
    prs = []
    for c, (P, p) in enumerate(zip(pts, probs, strict=True)):
        p = check_simplex(f"probs[{c}]", p, ndim=1)
        if p.shape[0] != P.shape[0]:
            raise ValueError(f"probs[{c}] must have {P.shape[0]} entries (one per point), got {p.shape[0]}")
        prs.append(p / p.sum())
    return pts, tuple(prs)


def check_seed(name: str, value: Any) -> int:
    """A non-negative integer seed (``bool`` refused): :class:`TypeError` for a non-integer, :class:`ValueError`
    for a negative one."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


#: Default limit of :func:`check_memory`, in bytes (4 GiB); override with the environment variable
#: ``SSLBOOK_MAX_BYTES`` (an integer number of bytes, e.g. ``SSLBOOK_MAX_BYTES=34359738368`` for 32 GiB).
DEFAULT_MAX_BYTES = 4 * 2**30

#: Default limit of :func:`check_work` (elementary operations, about a minute of numpy on one core);
#: override with the environment variable ``SSLBOOK_MAX_WORK``.
DEFAULT_MAX_WORK = 2 * 10**10


def _env_limit(var: str, default: float) -> float:
    import os

    raw = os.environ.get(var)
    if raw is None or raw.strip() == "":
        return float(default)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {var} must be a number, got {raw!r}") from exc
    if not value > 0:
        raise ValueError(f"environment variable {var} must be > 0, got {raw!r}")
    return value


def max_bytes() -> float:
    """The memory limit of :func:`check_memory`: ``SSLBOOK_MAX_BYTES`` if set, else :data:`DEFAULT_MAX_BYTES`."""
    return _env_limit("SSLBOOK_MAX_BYTES", DEFAULT_MAX_BYTES)


def _fmt_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def check_memory(name: str, n_bytes: float, *, what: str = "") -> None:
    """Refuse an allocation of ``n_bytes`` bytes implied by the argument ``name`` if it exceeds the limit.

    Call it *before* allocating, with the size computed from the user's arguments (in Python integers or
    floats, so that it cannot overflow).

    Parameters
    ----------
    name : str
        The argument (or arguments) whose value implies the allocation; named in the error message.
    n_bytes : float
        Estimated number of bytes.
    what : str, optional
        What would be allocated (e.g. ``"the sign matrix"``), for the message.

    Raises
    ------
    ValueError
        If ``n_bytes`` exceeds :func:`max_bytes` (default 4 GiB, environment variable ``SSLBOOK_MAX_BYTES``),
        or is not a finite non-negative number.
    """
    try:
        n = float(n_bytes)
    except (TypeError, OverflowError):
        n = float("inf")
    limit = max_bytes()
    if not n <= limit:  # also catches NaN
        target = f" for {what}" if what else ""
        raise ValueError(
            f"{name} implies about {_fmt_bytes(n) if np.isfinite(n) else 'unbounded'} of memory{target} "
            f"({n:.3g} bytes), above the limit of {_fmt_bytes(limit)}; reduce {name} or raise the limit "
            "with the environment variable SSLBOOK_MAX_BYTES"
        )


def check_work(name: str, n_ops: float, *, what: str = "") -> None:
    """Refuse a computation of about ``n_ops`` elementary operations implied by the argument ``name``.

    The bound on run time, companion to :func:`check_memory`: loops whose length follows from a user argument
    (number of Monte-Carlo draws, enumeration sizes) call it before starting.

    Parameters
    ----------
    name : str
        The argument whose value implies the work; named in the error message.
    n_ops : float
        Estimated number of elementary (floating-point) operations.
    what : str, optional
        What would be computed, for the message.

    Raises
    ------
    ValueError
        If ``n_ops`` exceeds the limit (default :data:`DEFAULT_MAX_WORK`, environment variable
        ``SSLBOOK_MAX_WORK``).
    """
    try:
        n = float(n_ops)
    except (TypeError, OverflowError):
        n = float("inf")
    limit = _env_limit("SSLBOOK_MAX_WORK", DEFAULT_MAX_WORK)
    if not n <= limit:
        target = f" for {what}" if what else ""
        raise ValueError(
            f"{name} implies about {n:.3g} operations{target}, above the limit of {limit:.3g} "
            f"(minutes or more of run time); reduce {name} or raise the limit with the environment variable "
            "SSLBOOK_MAX_WORK"
        )


def check_psd(name: str, value: Any, *, pd: bool = False, size: int | None = None) -> np.ndarray:
    """``value`` as a symmetric positive semi-definite (``pd=True``: definite) float matrix, symmetrised.

    Symmetry is required to ``1e-10`` of the largest entry and the smallest eigenvalue must be at least
    ``-1e-10`` times the largest one in absolute value (``pd=True``: above ``+1e-12`` times it), tolerances far
    above the rounding of a computed covariance and far below any genuine negative direction.
    """
    S = check_array(name, value, ndim=2)
    if S.shape[0] != S.shape[1] or S.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {S.shape}")
    if size is not None and S.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size}, {size}), got {S.shape}")
    top = float(np.abs(S).max())
    if not np.allclose(S, S.T, rtol=0, atol=1e-10 * top):
        raise ValueError(f"{name} must be symmetric")
    S = (S + S.T) / 2
    w = np.linalg.eigvalsh(S)
    scale = float(np.abs(w).max())
    if pd and not w[0] > 1e-12 * scale:
        raise ValueError(f"{name} must be positive definite, smallest eigenvalue {w[0]:.3g}")
    if not pd and w[0] < -1e-10 * scale:
        raise ValueError(f"{name} must be positive semi-definite, smallest eigenvalue {w[0]:.3g}")
    return S
