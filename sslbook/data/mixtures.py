"""Gaussian mixtures: the simplest data with latent classes.

See: Chapter 1 (probes on synthetic classes); Part II builds the latent-class model on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_array, check_float, check_int, check_memory, check_rng


@check_shapes(means="C d", weights=Shape("C", simplex=True, atol=1e-5))
@dataclass(frozen=True)
class GaussianMixture:
    r"""Classes :math:`c\sim\rho`, then :math:`x\mid c\sim\mathcal N(\mu_c,\sigma^2 I_d)`.

    Attributes
    ----------
    means : numpy.ndarray
        Class means, shape (C, d).
    sigma : float
        Noise standard deviation.
    weights : numpy.ndarray
        The class distribution :math:`\rho`, shape (C,).
    """

    means: np.ndarray
    sigma: float
    weights: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "sigma", check_float("sigma", self.sigma, minimum=0.0, strict_min=True))

    @classmethod
    def random(cls, n_classes: int, dim: int, *, separation: float = 3.0, sigma: float = 1.0, rng=None):
        r"""Means drawn i.i.d. :math:`\mathcal N(0, \frac{s^2}{2} I_d)`, so that
        :math:`\E\|\mu_a-\mu_b\|^2 = s^2 d`; uniform weights."""
        n_classes = check_int("n_classes", n_classes, minimum=1)
        dim = check_int("dim", dim, minimum=1)
        separation = check_float("separation", separation, minimum=0.0)
        check_memory("n_classes and dim", 16.0 * n_classes * dim, what="the class means")
        rng = check_rng("rng", rng)
        means = rng.standard_normal((n_classes, dim)) * separation / np.sqrt(2.0)
        return cls(means=means, sigma=sigma, weights=np.full(n_classes, 1.0 / n_classes))

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self.means.shape[0]

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` labelled points: ``X`` of shape (n, d) and integer labels ``y``."""
        n = check_int("n", n, minimum=1)
        check_memory("n", 16.0 * n * (self.means.shape[1] + 1), what="the samples")
        rng = check_rng("rng", rng)
        y = rng.choice(self.n_classes, size=n, p=self.weights)
        X = self.means[y] + self.sigma * rng.standard_normal((n, self.means.shape[1]))
        return X, y

    def posterior(self, X) -> np.ndarray:
        r"""Exact class posterior :math:`P(c\mid x)\propto\rho_c\exp(-\|x-\mu_c\|^2/2\sigma^2)`, shape (n, C)."""
        X = bind_shapes({"X": (X, "n d")}, dims={"d": self.means.shape[1]})["X"]
        sq = ((X[:, None, :] - self.means[None]) ** 2).sum(-1)
        with np.errstate(divide="ignore"):
            logits = np.log(self.weights)[None] - sq / (2 * self.sigma**2)
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    def bayes_accuracy(self, X, y) -> float:
        """Accuracy of the Bayes classifier :math:`\\arg\\max_c P(c\\mid x)` on labelled points."""
        y = check_array("y", y, ndim=1, dtype="int")
        post = self.posterior(X)
        if post.shape[0] != y.shape[0]:
            raise ValueError(f"X and y must have the same number of rows, got {post.shape[0]} and {y.shape[0]}")
        return float(np.mean(np.argmax(post, axis=1) == y))
