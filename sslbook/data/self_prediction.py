"""Generative models for self-prediction (reconstruction) pretext tasks: predict :math:`X_2` from :math:`X_1`.

* :class:`CIGaussianMixture`: a class label :math:`Y`, Gaussian :math:`X_1\\mid Y`, and :math:`X_2\\mid Y` on a
  finite alphabet, independent given :math:`Y` (conditional independence, CI). Bayes posteriors are exact and
  :math:`\\mathbb E[X_2\\mid X_1]` is a finite sum over the joint table of :math:`(X_1, X_2)`.
* :class:`LinearGaussianACI`: jointly Gaussian :math:`(Y, Z, X_1, X_2)` with a latent :math:`Z` and a tunable
  CI violation (noise cross-covariance), with the analytic joint covariance.

See: Chapter "Predicting what you already know".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng


@check_shapes(prior=Shape("k", simplex=True, atol=1e-10), means="k d1", alphabet="m d2",
              emission=Shape("k m", simplex=True, atol=1e-10))
@dataclass(frozen=True)
class CIGaussianMixture:
    r"""Class :math:`Y\in\{0,\dots,k-1\}` with prior :math:`\pi`; :math:`X_1\mid Y=y\sim\mathcal N(\mu_y,
    s^2 I_{d_1})`; :math:`X_2\mid Y=y` takes the value :math:`a_j\in\mathbb R^{d_2}` (row ``j`` of ``alphabet``)
    with probability :math:`Q_{yj}`; :math:`X_1\perp X_2\mid Y`.

    The joint density of :math:`(X_1, X_2)` with :math:`Y` marginalised is
    :math:`p(x_1, a_j)=\sum_y \pi_y\,\mathcal N(x_1;\mu_y,s^2I)\,Q_{yj}`, a finite table in :math:`j` for each
    :math:`x_1`, so :math:`\mathbb E[X_2\mid X_1=x_1]=\sum_j a_j\,p(x_1,a_j)/\sum_j p(x_1,a_j)` is computed
    exactly from the joint (:meth:`conditional_mean_x2`), without using :math:`P(Y\mid x_1)`.

    See: Chapter "Predicting what you already know", "CI makes the task linear".

    Parameters
    ----------
    prior : array_like, shape (k,)
        Class probabilities :math:`\pi` (positive, summing to one).
    means : array_like, shape (k, d1)
        Class means :math:`\mu_y` of :math:`X_1`.
    alphabet : array_like, shape (m, d2)
        The finite set of values :math:`a_j` of :math:`X_2`.
    emission : array_like, shape (k, m)
        :math:`Q_{yj}=P(X_2=a_j\mid Y=y)` (rows sum to one).
    scale : float
        Noise standard deviation :math:`s>0` of :math:`X_1`.
    """

    prior: np.ndarray
    means: np.ndarray
    alphabet: np.ndarray
    emission: np.ndarray
    scale: float = 1.0

    def __post_init__(self):
        if np.any(self.prior <= 0):
            raise ValueError("prior must be positive and sum to one")
        object.__setattr__(self, "scale", check_float("scale", self.scale, minimum=0.0, strict_min=True))

    @classmethod
    def random(cls, k: int, d1: int, d2: int, m: int, *, separation: float = 2.0, tie: bool = False,
               rng=None) -> CIGaussianMixture:
        r"""A random instance: uniform prior, means :math:`\mathcal N(0, \text{separation}^2 I_{d_1})` per class,
        a standard normal alphabet and Dirichlet(1) emission rows.

        Parameters
        ----------
        k, d1, d2, m : int
            Classes, dimension of :math:`X_1`, dimension of :math:`X_2`, alphabet size.
        separation : float
            Scale of the class means of :math:`X_1` (noise scale 1).
        tie : bool
            Give classes 0 and 1 the same emission row, so that they share :math:`\mathbb E[X_2\mid Y]` and
            :math:`\mathrm{rank}\,A\le k-1`.
        rng : numpy.random.Generator or int, optional
        """
        k = check_int("k", k, minimum=2)
        d1 = check_int("d1", d1, minimum=1)
        d2 = check_int("d2", d2, minimum=1)
        m = check_int("m", m, minimum=2)
        check_memory("k, d1, d2 and m", 32.0 * k * m * (d1 + d2) + 32.0 * (d1 + d2) ** 2,
                     what="the mixture's parameters")
        separation = check_float("separation", separation, minimum=0.0)
        if not isinstance(tie, bool):
            raise TypeError(f"tie must be a bool, got {type(tie).__name__}")
        rng = check_rng("rng", rng)
        means = separation * rng.standard_normal((k, d1))
        emission = rng.dirichlet(np.ones(m), size=k)
        if tie:
            emission[1] = emission[0]
        return cls(np.full(k, 1.0 / k), means, rng.standard_normal((m, d2)), emission, 1.0)

    @property
    def k(self) -> int:
        """Number of classes."""
        return self.prior.shape[0]

    @property
    def A(self) -> np.ndarray:
        r"""The matrix :math:`A=[\mathbb E[X_2\mid Y=0],\dots,\mathbb E[X_2\mid Y=k-1]]`, shape (d2, k)."""
        return self.alphabet.T @ self.emission.T

    def _log_class_densities(self, x1: np.ndarray) -> np.ndarray:
        """log N(x1; mu_y, s^2 I) for every class, shape (n, k)."""
        d1 = self.means.shape[1]
        sq = np.sum((x1[:, None, :] - self.means[None]) ** 2, axis=-1)
        return -0.5 * sq / self.scale**2 - d1 * np.log(self.scale) - 0.5 * d1 * np.log(2 * np.pi)

    def _check_x1(self, x1) -> np.ndarray:
        return bind_shapes({"x1": (x1, "n d1")}, dims={"d1": self.means.shape[1]})["x1"]

    def posterior(self, x1) -> np.ndarray:
        r"""Exact Bayes posterior :math:`P(Y=y\mid X_1=x_1)\propto\pi_y\,\mathcal N(x_1;\mu_y,s^2I)`, shape (n, k)."""
        x1 = self._check_x1(x1)
        logits = np.log(self.prior) + self._log_class_densities(x1)
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    def joint_table(self, x1) -> np.ndarray:
        r"""Joint density :math:`p(x_1, a_j)=\sum_y\pi_y\,\mathcal N(x_1;\mu_y,s^2I)\,Q_{yj}`, shape (n, m).

        :math:`Y` is marginalised out here; nothing downstream of this table refers to :math:`Y`.
        """
        x1 = self._check_x1(x1)
        log_joint_y = np.log(self.prior) + self._log_class_densities(x1)  # (n, k)
        shift = log_joint_y.max(axis=1, keepdims=True)  # rescales each row; cancels on conditioning
        return (np.exp(log_joint_y - shift) @ self.emission) * np.exp(shift)

    def conditional_mean_x2(self, x1) -> np.ndarray:
        r"""The pretext optimum :math:`\psi^*(x_1)=\mathbb E[X_2\mid X_1=x_1]=\sum_j a_j\,p(x_1,a_j)/
        \sum_j p(x_1,a_j)`, computed from :meth:`joint_table` alone. Shape (n, d2)."""
        x1 = self._check_x1(x1)
        log_joint_y = np.log(self.prior) + self._log_class_densities(x1)
        table = np.exp(log_joint_y - log_joint_y.max(axis=1, keepdims=True)) @ self.emission  # p(x1, a_j) rescaled
        cond = table / table.sum(axis=1, keepdims=True)  # P(X2 = a_j | X1 = x1)
        return cond @ self.alphabet

    def sample(self, n: int, rng=None):
        """Draw ``n`` triples; returns ``x1`` (n, d1), ``x2`` (n, d2) and ``y`` (n,)."""
        n = check_int("n", n, minimum=1)
        check_memory("n", 24.0 * n * (self.means.shape[-1] + self.emission.shape[-1] + 1), what="the samples")
        rng = check_rng("rng", rng)
        y = rng.choice(self.k, size=n, p=self.prior)
        x1 = self.means[y] + self.scale * rng.standard_normal((n, self.means.shape[1]))
        u = rng.random(n)[:, None]
        j = np.minimum((u > np.cumsum(self.emission[y], axis=1)).sum(axis=1), self.alphabet.shape[0] - 1)
        return x1, self.alphabet[j], y


@check_shapes(B1="d1 r", B2="d2 r", S1="d1 d1", S2="d2 d2", C12="d1 d2")
@dataclass(frozen=True)
class LinearGaussianACI:
    r"""Jointly Gaussian :math:`(Y, Z, X_1, X_2)` with zero mean: :math:`\bar Y=[Y;Z]\sim\mathcal N(0, I_{k+m})`,
    :math:`X_i=\Lambda_i\bar Y+N_i` with noise :math:`(N_1,N_2)` independent of :math:`\bar Y`,
    :math:`\mathrm{Cov}(N_i)=S_i`, :math:`\mathrm{Cov}(N_1,N_2)=C_{12}`. CI given :math:`\bar Y` holds exactly
    when :math:`C_{12}=0`, and then :math:`\Sigma_{12\mid\bar Y}=C_{12}`.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    B1 : array_like, shape (d1, k + m)
        The loadings :math:`\Lambda_1` (the code keeps the name ``B1``).
    B2 : array_like, shape (d2, k + m)
        The loadings :math:`\Lambda_2`.
    S1 : array_like, shape (d1, d1)
    S2 : array_like, shape (d2, d2)
    C12 : array_like, shape (d1, d2)
        The noise covariance must be positive semidefinite.
    k : int
        The first ``k`` coordinates of :math:`\bar Y` are the target :math:`Y`; the rest are the latent :math:`Z`.
    """

    B1: np.ndarray
    B2: np.ndarray
    S1: np.ndarray
    S2: np.ndarray
    C12: np.ndarray
    k: int

    def __post_init__(self):
        k = check_int("k", self.k, minimum=1, maximum=self.B1.shape[1])
        noise = np.block([[self.S1, self.C12], [self.C12.T, self.S2]])
        if np.min(np.linalg.eigvalsh((noise + noise.T) / 2)) < -1e-10:
            raise ValueError("C12 too large: the noise covariance [[S1, C12], [C12^T, S2]] is not PSD")
        object.__setattr__(self, "k", k)

    @classmethod
    def random(cls, k: int, m: int, d1: int, d2: int, *, violation: float = 0.0, signal2: float = 1.0,
               rng=None) -> LinearGaussianACI:
        r"""A random instance: Gaussian :math:`\Lambda_1`, :math:`\Lambda_2` (entries :math:`\mathcal N(0,1/(k+m))`,
        :math:`\Lambda_2` times ``signal2``), :math:`S_1=I`, :math:`S_2=I` and
        :math:`C_{12}=\text{violation}\cdot U V^\top` with :math:`U, V` having orthonormal columns, so the noise
        covariance is PSD for :math:`0\le\text{violation}\le1` (CI at ``violation=0``).

        Parameters
        ----------
        k, m, d1, d2 : int
            Dimensions of :math:`Y`, :math:`Z`, :math:`X_1`, :math:`X_2`.
        violation : float
            In [0, 1].
        signal2 : float
            Scale of :math:`\Lambda_2` (a small value makes :math:`\sigma_{\min}(A)` small).
        rng : numpy.random.Generator or int, optional
        """
        k = check_int("k", k, minimum=1)
        m = check_int("m", m, minimum=0)
        d1 = check_int("d1", d1, minimum=1)
        d2 = check_int("d2", d2, minimum=1)
        check_memory("k, m, d1 and d2", 64.0 * (k + m + d1 + d2) ** 2, what="the joint covariance")
        violation = check_float("violation", violation, minimum=0.0, maximum=1.0)
        signal2 = check_float("signal2", signal2, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        r = k + m
        B1 = rng.standard_normal((d1, r)) / np.sqrt(r)
        B2 = signal2 * rng.standard_normal((d2, r)) / np.sqrt(r)
        q = min(d1, d2)
        U = np.linalg.qr(rng.standard_normal((d1, q)))[0]
        V = np.linalg.qr(rng.standard_normal((d2, q)))[0]
        return cls(B1, B2, np.eye(d1), np.eye(d2), violation * U @ V.T, k)

    @property
    def dims(self) -> tuple[int, int, int, int]:
        """(k, m, d1, d2)."""
        return self.k, self.B1.shape[1] - self.k, self.B1.shape[0], self.B2.shape[0]

    @property
    def blocks(self) -> dict[str, np.ndarray]:
        """Index arrays of ``"Y"``, ``"Z"``, ``"Ybar"``, ``"X1"``, ``"X2"`` in :attr:`cov`."""
        k, m, d1, d2 = self.dims
        r = k + m
        return {"Y": np.arange(k), "Z": np.arange(k, r), "Ybar": np.arange(r),
                "X1": np.arange(r, r + d1), "X2": np.arange(r + d1, r + d1 + d2)}

    @property
    def cov(self) -> np.ndarray:
        r"""Analytic joint covariance of :math:`(Y, Z, X_1, X_2)`:
        :math:`\Sigma_{\bar Y\bar Y}=I`, :math:`\Sigma_{X_i\bar Y}=\Lambda_i`,
        :math:`\Sigma_{X_iX_j}=\Lambda_i\Lambda_j^\top+\mathrm{Cov}(N_i,N_j)`."""
        r = self.B1.shape[1]
        B = np.vstack([self.B1, self.B2])
        noise = np.block([[self.S1, self.C12], [self.C12.T, self.S2]])
        return np.block([[np.eye(r), B.T], [B, B @ B.T + noise]])

    def sample(self, n: int, *, trials: int | None = None, rng=None):
        """Draw ``n`` samples (optionally ``trials`` independent datasets, a leading axis).

        Returns ``y`` (..., n, k), ``z`` (..., n, m), ``x1`` (..., n, d1), ``x2`` (..., n, d2).
        """
        n = check_int("n", n, minimum=1)
        rng = check_rng("rng", rng)
        shape = (n,) if trials is None else (check_int("trials", trials, minimum=1), n)
        check_memory("n and trials", 24.0 * float(np.prod(shape, dtype=float)) * self.cov.shape[0], what="the samples")
        cov = self.cov
        w, V = np.linalg.eigh(cov)
        root = V * np.sqrt(np.clip(w, 0.0, None))
        draws = rng.standard_normal(shape + (cov.shape[0],)) @ root.T
        b = self.blocks
        return draws[..., b["Y"]], draws[..., b["Z"]], draws[..., b["X1"]], draws[..., b["X2"]]
