"""The toolbox of the book: convex surrogate losses, Jensen gaps, Rademacher complexity of linear classes, Pinsker.

Everything here is exact numpy/scipy (no torch). The two surrogate losses :func:`hinge_loss` and
:func:`logistic2_loss` are the numpy losses of Part II.
See: Chapter 2, "Toolbox".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from sslbook._validation import (
    check_array,
    check_float,
    check_int,
    check_memory,
    check_rng,
    check_simplex,
    check_work,
)

_LN2 = math.log(2.0)

#: Lipschitz constants of the surrogate losses with respect to the max-norm of the margins
#: (hence also the Euclidean norm): :math:`|\ell(v)-\ell(w)|\le L\,\|v-w\|_\infty`.
HINGE_LIPSCHITZ: float = 1.0
LOGISTIC2_LIPSCHITZ: float = 1.0 / _LN2


def _margins(v: ArrayLike) -> np.ndarray:
    """Margins as a float array whose last axis holds the k >= 1 margins (a 0-d input is k = 1)."""
    arr = check_array("v", v, ndim=None)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.shape[-1] < 1:
        raise ValueError(f"v must hold at least one margin on its last axis, got shape {arr.shape}")
    return arr


def hinge_loss(v: ArrayLike) -> np.ndarray:
    r"""Multi-class hinge loss of a vector of margins.

    .. math:: \ell(v)=\max\Big\{0,\;1+\max_{1\le i\le k}(-v_i)\Big\}=\max\{0,\,1-\min_i v_i\},
              \qquad v\in\mathbb R^k .

    Convex, non-increasing in every margin, :math:`\ell(0)=1`, and 1-Lipschitz in the max-norm.

    See: Chapter 2, Proposition "The two surrogate losses".

    Parameters
    ----------
    v : array_like, shape (..., k)
        Margins on the **last** axis (``k >= 1``). A 0-d input is one margin (``k = 1``); a 1-d input of
        shape ``(k,)`` is *one* vector of ``k`` margins. For ``n`` scalar margins pass shape ``(n, 1)``.

    Returns
    -------
    numpy.ndarray, shape v.shape[:-1]
        The loss of each margin vector (a 0-d array for a 0-d or 1-d input).
    """
    m = _margins(v)
    return np.maximum(0.0, 1.0 - m.min(axis=-1))


def logistic2_loss(v: ArrayLike) -> np.ndarray:
    r"""Multi-class logistic loss in base 2 of a vector of margins.

    .. math:: \ell(v)=\log_2\Big(1+\sum_{i=1}^k e^{-v_i}\Big),\qquad v\in\mathbb R^k ,

    computed stably as :math:`\mathrm{logaddexp}(0,\mathrm{logsumexp}(-v))/\ln 2`. Convex, decreasing in every
    margin, :math:`\ell(0)=\log_2(1+k)` (so :math:`\ell(0)=1` for ``k = 1``), and :math:`1/\ln 2`-Lipschitz in
    the max-norm.

    See: Chapter 2, Proposition "The two surrogate losses".

    Parameters
    ----------
    v : array_like, shape (..., k)
        Margins on the **last** axis (``k >= 1``). A 0-d input is one margin (``k = 1``); a 1-d input of
        shape ``(k,)`` is *one* vector of ``k`` margins. For ``n`` scalar margins pass shape ``(n, 1)``.

    Returns
    -------
    numpy.ndarray, shape v.shape[:-1]
        The loss of each margin vector (a 0-d array for a 0-d or 1-d input).
    """
    m = _margins(v)
    return np.asarray(np.logaddexp(0.0, logsumexp(-m, axis=-1)) / _LN2)


def jensen_gap(loss: Callable[[np.ndarray], np.ndarray], points: ArrayLike, probs: ArrayLike) -> np.ndarray:
    r"""Exact Jensen gap :math:`\mathbb E\,\ell(V)-\ell(\mathbb E V)` of a finite distribution of margin vectors.

    For :math:`V` equal to ``points[i]`` with probability ``probs[i]``,

    .. math:: \mathbb E\,\ell(V)-\ell(\mathbb E V)=\sum_i p_i\,\ell(v_i)-\ell\Big(\sum_i p_i v_i\Big),

    which is :math:`\ge 0` for every convex :math:`\ell` (Jensen's inequality).

    See: Chapter 2, Lemma "Jensen's inequality".

    Parameters
    ----------
    loss : callable
        Maps an array of shape ``(..., k)`` to shape ``(...)``, e.g. :func:`hinge_loss`.
    points : array_like, shape (..., n, k)
        The ``n`` atoms of each distribution (a batch of distributions on the leading axes).
    probs : array_like, shape (..., n)
        Their probabilities: non-negative, summing to 1 on the last axis.

    Returns
    -------
    numpy.ndarray, shape (...)
        One gap per distribution.
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    pts = check_array("points", points, ndim=None)
    if pts.ndim < 2:
        raise ValueError(f"points must have shape (..., n, k), got shape {pts.shape}")
    p = check_simplex("probs", probs)
    if p.shape != pts.shape[:-1]:
        raise ValueError(f"probs must have shape points.shape[:-1] = {pts.shape[:-1]}, got {p.shape}")
    expected_loss = np.sum(p * np.asarray(loss(pts)), axis=-1)
    mean_point = np.sum(p[..., None] * pts, axis=-2)
    return expected_loss - np.asarray(loss(mean_point))


# ----------------------------------------------------------------------------------------------------------------
# Rademacher complexity of the norm-bounded linear class F_B = {x -> W x : ||W||_F <= B}
# ----------------------------------------------------------------------------------------------------------------


def _check_linear_args(X: ArrayLike, B: float, d: int) -> tuple[np.ndarray, float, int]:
    X = check_array("X", X, ndim=2)
    B = check_float("B", B, minimum=0.0)
    d = check_int("d", d, minimum=1)
    return X, B, d


def linear_class_sup(X: ArrayLike, sigma: ArrayLike, B: float) -> np.ndarray:
    r"""Exact supremum of the Rademacher correlation over the linear class, for given signs.

    For :math:`\mathcal F_B=\{x\mapsto Wx:\ W\in\mathbb R^{d\times D},\ \|W\|_F\le B\}` and signs
    :math:`\sigma_j\in\{\pm1\}^d`,

    .. math:: \sup_{f\in\mathcal F_B}\sum_{j=1}^M\langle\sigma_j,f(x_j)\rangle
              =\sup_{\|W\|_F\le B}\Big\langle W,\sum_j\sigma_jx_j^\top\Big\rangle_F
              =B\,\Big\|\sum_{j=1}^M\sigma_jx_j^\top\Big\|_F ,

    attained at :math:`W=B\,A/\|A\|_F` with :math:`A=\sum_j\sigma_jx_j^\top` (Cauchy--Schwarz).

    See: Chapter 2, Theorem "Rademacher complexity of a norm-bounded linear class".

    Parameters
    ----------
    X : array_like, shape (M, D)
        The inputs :math:`x_j` as rows.
    sigma : array_like, shape (..., M, d)
        Signs (any real numbers are accepted; Rademacher signs are :math:`\pm1`).
    B : float
        Frobenius-norm radius of the class, :math:`B\ge0`.

    Returns
    -------
    numpy.ndarray, shape sigma.shape[:-2]
    """
    X = check_array("X", X, ndim=2)
    B = check_float("B", B, minimum=0.0)
    s = check_array("sigma", sigma, ndim=None)
    if s.ndim < 2 or s.shape[-2] != X.shape[0]:
        raise ValueError(f"sigma must have shape (..., M, d) with M = {X.shape[0]}, got shape {s.shape}")
    A = np.swapaxes(s, -1, -2) @ X  # (..., d, D) = sum_j sigma_j x_j^T
    return B * np.sqrt(np.sum(A * A, axis=(-2, -1)))


def rademacher_linear_bound(
    B: float,
    d: int,
    norms: ArrayLike | None = None,
    *,
    M: int | None = None,
    radius: float = 1.0,
    points_per_sample: int = 1,
) -> float:
    r"""Upper bound on the per-sample Rademacher complexity :math:`\mathcal R_S(\mathcal F_B)/M` of the linear class.

    With the input norms :math:`\|x_j\|` (``norms``),

    .. math:: \frac{\mathcal R_S(\mathcal F_B)}{M}\le\frac{B}{M}\sqrt{d\sum_{j=1}^M\|x_j\|^2}
              \le B\,\max_j\|x_j\|\,\sqrt{\frac dM};

    with only ``M`` (and ``radius`` :math:`\ge\max_j\|x_j\|`) the right-hand form
    :math:`B\cdot\mathrm{radius}\cdot\sqrt{d/M}` is returned.

    When each of the :math:`M` samples stacks ``points_per_sample`` :math:`=t` points (a CURL triple
    :math:`(x_j,x_j^+,x_j^-)` has :math:`t=3`), the supremum runs over all :math:`tM` points but is still divided
    by the number :math:`M` of samples: :math:`\mathcal R_S/M\le\frac BM\sqrt{d\sum_{\text{all }tM}\|x\|^2}
    \le B\cdot\mathrm{radius}\sqrt{td/M}`, i.e. :math:`B\sqrt{3d/M}` for unit-norm triples.

    See: Chapter 2, Theorem "Rademacher complexity of a norm-bounded linear class".

    Parameters
    ----------
    B : float
        Frobenius-norm radius of the class.
    d : int
        Number of outputs (the dimension of the representation).
    norms : array_like, shape (M,), optional
        Input norms :math:`\|x_j\|`. Give exactly one of ``norms`` and ``M``.
    M : int, optional
        Number of points, when only a radius is known.
    radius : float
        Bound on the input norms (used with ``M`` only).
    points_per_sample : int
        Points stacked per sample (3 for CURL triples); ``norms`` then lists all
        ``points_per_sample * M`` norms.
    """
    B = check_float("B", B, minimum=0.0)
    d = check_int("d", d, minimum=1)
    t = check_int("points_per_sample", points_per_sample, minimum=1)
    if (norms is None) == (M is None):
        raise ValueError("give exactly one of norms and M")
    if norms is not None:
        n = check_array("norms", norms, ndim=1)
        if np.any(n < 0):
            raise ValueError("norms must be non-negative")
        if n.size % t:
            raise ValueError(f"norms must list points_per_sample * M norms, got {n.size} for points_per_sample={t}")
        return float(B * np.sqrt(d * np.sum(n**2)) / (n.size // t))
    M = check_int("M", M, minimum=1)
    radius = check_float("radius", radius, minimum=0.0)
    return float(B * radius * np.sqrt(t * d / M))


def rademacher_linear_lower_bound(X: ArrayLike, B: float, d: int) -> float:
    r"""Lower bound on :math:`\mathcal R_S(\mathcal F_B)/M` from the first two moments of :math:`\|A\|_F^2`.

    With :math:`A=\sum_j\sigma_jx_j^\top`, the Gram matrix :math:`G=XX^\top`,
    :math:`m=\mathbb E\|A\|_F^2=d\,\mathrm{tr}\,G` and :math:`\mathbb E\|A\|_F^4=m^2+v` with
    :math:`v=2d\sum_{j\ne l}G_{jl}^2`, Hölder's inequality gives

    .. math:: \frac{\mathcal R_S(\mathcal F_B)}{M}=\frac BM\,\mathbb E\|A\|_F
              \ge\frac BM\,\frac{m^{3/2}}{\sqrt{m^2+v}}=\frac BM\sqrt{m}\,\Big(1+\frac v{m^2}\Big)^{-1/2}.

    It equals the upper bound :math:`\frac BM\sqrt m` of :func:`rademacher_linear_bound` exactly when the inputs
    are pairwise orthogonal (:math:`v=0`).

    See: Chapter 2, Theorem "Rademacher complexity of a norm-bounded linear class".

    Parameters
    ----------
    X : array_like, shape (M, D)
        The points as rows.
    B : float
        Frobenius-norm radius of the class.
    d : int
        Number of outputs.
    """
    X, B, d = _check_linear_args(X, B, d)
    M = X.shape[0]
    sq = np.sum(X * X, axis=1)
    m = d * float(sq.sum())
    if m == 0.0:
        return 0.0
    off = float(np.sum((X.T @ X) ** 2) - np.sum(sq**2))  # sum_{j != l} G_jl^2 = ||X^T X||_F^2 - sum_j ||x_j||^4
    v = 2.0 * d * max(off, 0.0)
    return B * math.sqrt(m) / math.sqrt(1.0 + v / m**2) / M


@dataclass(frozen=True)
class RademacherEstimate:
    r"""Estimate of the per-sample Rademacher complexity :math:`\mathcal R_S(\mathcal F)/M`.

    ``value`` is the mean over ``n_draws`` sign draws (or the exact average over all sign patterns, then
    ``stderr`` is 0 and ``exact`` is true); ``samples`` holds the per-draw suprema divided by :math:`M`.
    """

    value: float
    stderr: float
    n_draws: int
    exact: bool
    samples: np.ndarray

    def __str__(self) -> str:
        if self.exact:
            return f"R_S/M = {self.value:.6g} (exact, {self.n_draws} sign patterns)"
        return f"R_S/M = {self.value:.6g} ± {self.stderr:.2g} (s.e., {self.n_draws} draws)"


def empirical_rademacher_linear(
    X: ArrayLike, B: float, d: int, n_draws: int = 200, rng=None, *, chunk: int = 8_000_000
) -> RademacherEstimate:
    r"""Monte Carlo estimate of :math:`\mathcal R_S(\mathcal F_B)/M` for the linear class, using the exact supremum.

    .. math:: \mathcal R_S(\mathcal F_B)=\mathbb E_{\sigma}\sup_{\|W\|_F\le B}\sum_{j=1}^M\langle\sigma_j,Wx_j\rangle
              =B\,\mathbb E_\sigma\Big\|\sum_j\sigma_jx_j^\top\Big\|_F,\qquad\sigma_j\sim\mathrm{Unif}\{\pm1\}^d .

    Only the signs are sampled; the supremum is the closed form of :func:`linear_class_sup`.

    See: Chapter 2, Theorem "Rademacher complexity of a norm-bounded linear class".

    Parameters
    ----------
    X : array_like, shape (M, D)
        The points :math:`x_j` as rows.
    B : float
        Frobenius-norm radius of the class.
    d : int
        Number of outputs.
    n_draws : int
        Number of independent sign draws (at least 2, for a standard error).
    rng : numpy.random.Generator, int or None
        Source of the signs.
    chunk : int
        Largest number of signs held in memory at once.

    Returns
    -------
    RademacherEstimate
        Mean and standard error of :math:`B\|\sum_j\sigma_jx_j^\top\|_F/M` over the draws.
    """
    X, B, d = _check_linear_args(X, B, d)
    n_draws = check_int("n_draws", n_draws, minimum=2)
    rng = check_rng("rng", rng)
    chunk = check_int("chunk", chunk, minimum=1)
    M = X.shape[0]
    D = X.shape[1]
    per = max(1, chunk // (M * d))
    # per chunk: the signs (int8 and float64) and A = sum_j sigma_j x_j^T; over all draws, the samples
    check_work("n_draws", 2.0 * n_draws * d * M * (D + 1), what="the Monte Carlo sign draws")
    check_memory("n_draws", 16.0 * n_draws, what="the per-draw suprema")
    check_memory("chunk", 9.0 * min(per, n_draws) * M * d + 16.0 * min(per, n_draws) * d * D,
                 what="the sign draws of one chunk")
    sups = []
    done = 0
    while done < n_draws:
        c = min(per, n_draws - done)
        # signs stored as (c*d, M) so that A = sum_j sigma_j x_j^T is one matrix product (fast on 2 cores)
        sigma_t = rng.integers(0, 2, size=(c * d, M), dtype=np.int8).astype(np.float64)
        sigma_t *= 2.0
        sigma_t -= 1.0
        A = (sigma_t @ X).reshape(c, d * X.shape[1])
        sups.append(B * np.sqrt(np.einsum("ij,ij->i", A, A)))
        done += c
    samples = np.concatenate(sups) / M
    return RademacherEstimate(
        value=float(samples.mean()),
        stderr=float(samples.std(ddof=1) / np.sqrt(n_draws)),
        n_draws=n_draws,
        exact=False,
        samples=samples,
    )


def rademacher_linear_exact(X: ArrayLike, B: float, d: int, *, max_signs: int = 20) -> RademacherEstimate:
    r"""Exact :math:`\mathcal R_S(\mathcal F_B)/M` by enumerating all :math:`2^{Md}` sign patterns.

    See: Chapter 2, Theorem "Rademacher complexity of a norm-bounded linear class".

    Parameters
    ----------
    X : array_like, shape (M, D)
        The points as rows; ``M * d`` must not exceed ``max_signs``.
    B : float
        Frobenius-norm radius of the class.
    d : int
        Number of outputs.
    max_signs : int
        Refuse more than :math:`2^{\text{max\_signs}}` patterns.
    """
    X, B, d = _check_linear_args(X, B, d)
    max_signs = check_int("max_signs", max_signs, minimum=1, maximum=26)
    M = X.shape[0]
    if M * d > max_signs:
        raise ValueError(f"X has M * d = {M * d} signs, more than max_signs = {max_signs} for exact enumeration")
    n = M * d
    # all 2^n patterns (float64 signs, A of shape (2^n, d, D) and its square) in the order of
    # itertools.product((-1, 1), repeat=n): bit n-1-i of the pattern index gives sign i
    check_memory(f"max_signs (M * d = {n} signs)", 2.0**n * 8 * (n + 2 * d * X.shape[1] + 2),
                 what=f"the 2**{n} sign patterns")
    check_work(f"max_signs (M * d = {n} signs)", 2.0**n * 2 * n * X.shape[1], what=f"the 2**{n} sign patterns")
    bits = (np.arange(2**n, dtype=np.int64)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    sigma = (2.0 * bits - 1.0).reshape(-1, M, d)
    del bits
    samples = linear_class_sup(X, sigma, B) / M
    return RademacherEstimate(
        value=float(samples.mean()), stderr=0.0, n_draws=int(samples.size), exact=True, samples=samples
    )


# ----------------------------------------------------------------------------------------------------------------
# Pinsker's inequality
# ----------------------------------------------------------------------------------------------------------------


def _distributions(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = check_simplex("p", p)
    q = check_simplex("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape (..., n), got {p.shape} and {q.shape}")
    return p, q


def total_variation(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""Total variation distance :math:`\mathrm{TV}(p,q)=\tfrac12\sum_i|p_i-q_i|=\max_A\,(p(A)-q(A))`.

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Probability vectors on the last axis.
    """
    p, q = _distributions(p, q)
    return 0.5 * np.abs(p - q).sum(axis=-1)


def kl_divergence(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""Kullback--Leibler divergence :math:`\mathrm{KL}(p\,\|\,q)=\sum_i p_i\ln(p_i/q_i)` in nats.

    Terms with :math:`p_i=0` are 0; a term with :math:`p_i>0=q_i` makes the divergence :math:`+\infty`. It is
    summed as :math:`\sum_i(p_i\ln(p_i/q_i)-p_i+q_i)`, whose terms are non-negative, so round-off never makes it
    negative.

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    p, q : array_like, shape (..., n)
        Probability vectors on the last axis.
    """
    p, q = _distributions(p, q)
    # Each term p ln(p/q) - p + q is >= 0 (and the added -p + q sum to 0), so round-off cannot make KL < 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(np.where(p > 0, p, 1.0)) - np.log(q)
        terms = np.where(p > 0, p * log_ratio - p + q, q)
    return np.maximum(terms, 0.0).sum(axis=-1)


def pinsker_bound(kl: ArrayLike) -> np.ndarray:
    r"""Pinsker's bound :math:`\sqrt{\mathrm{KL}/2}` on the total variation distance (KL in nats).

    See: Chapter 2, Lemma "Pinsker's inequality".

    Parameters
    ----------
    kl : array_like
        Non-negative divergences (``inf`` allowed).
    """
    k = check_array("kl", kl, ndim=None, finite=False)
    if np.any(np.isnan(k)) or np.any(k < 0):
        raise ValueError("kl must be non-negative (and not NaN)")
    return np.sqrt(k / 2.0)
