r"""Rademacher complexity of the norm-bounded linear class :math:`\mathcal F_B=\{x\mapsto Wx:\|W\|_F\le B\}`:
the supremum over the class in closed form, the upper and lower bounds, Monte Carlo and exact estimates.

Everything here is exact numpy (no torch).
See: Chapter 2, "Toolbox" (Rademacher complexity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sslbook._shapes import check_shapes
from sslbook._validation import check_array, check_float, check_int, check_memory, check_rng, check_work

__all__ = [
    "RademacherEstimate",
    "empirical_rademacher_linear",
    "linear_class_sup",
    "rademacher_linear_bound",
    "rademacher_linear_exact",
    "rademacher_linear_lower_bound",
]


def _check_linear_args(X: ArrayLike, B: float, d: int) -> tuple[np.ndarray, float, int]:
    X = check_array("X", X, ndim=2)
    B = check_float("B", B, minimum=0.0)
    d = check_int("d", d, minimum=1)
    return X, B, d


@check_shapes(X="M D", sigma="... M d")
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
    B = check_float("B", B, minimum=0.0)
    A = np.swapaxes(sigma, -1, -2) @ X  # (..., d, D) = sum_j sigma_j x_j^T
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
