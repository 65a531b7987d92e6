r"""Latent classes: the data model of contrastive learning in the CURL framework.

A class :math:`c` is drawn from :math:`\rho`; a **similar pair** is two independent draws :math:`x,x^+` from the
class distribution :math:`\mathcal D_c`; a **negative** :math:`x^-` comes from :math:`\mathcal D_{c^-}` with an
independent :math:`c^-\sim\rho` (it may share the anchor's class: a *collision*). Classes have either a finite
support (points with probabilities; every population quantity is then an exact finite sum, see
:mod:`sslbook.theory.curl`) or are Gaussian (for sampling only).

See: Chapter 3, "The CURL framework and the surrogate lemma"; Chapter 5, "Negatives and blocks".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sslbook._shapes import bind_shapes
from sslbook._validation import check_array, check_float, check_int, check_memory, check_rng
from sslbook.theory.curl import _check_rho, _check_supports, curl_tau, curl_tau_k


@dataclass(frozen=True)
class ContrastiveTuples:
    r"""Sampled contrastive tuples (see :meth:`LatentClassModel.sample_tuples`).

    Attributes
    ----------
    anchors : numpy.ndarray
        :math:`x`, shape (M, dim).
    positives : numpy.ndarray
        :math:`x^+`, shape (M, block, dim): a block of ``block`` points from the anchor's class.
    negatives : numpy.ndarray
        :math:`x^-_1,\dots,x^-_k`, shape (M, k, dim); for blocks (``block > 1``) ``k = block`` points from one
        class :math:`c^-`.
    anchor_class : numpy.ndarray
        :math:`c^+`, integers of shape (M,).
    negative_class : numpy.ndarray
        The classes of the negatives, integers of shape (M, k), or (M, 1) for blocks (whose negatives share one
        class).
    """

    anchors: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray
    anchor_class: np.ndarray
    negative_class: np.ndarray

    def collision(self) -> np.ndarray:
        r"""Boolean array (M,): whether some negative shares the anchor's class, :math:`c^+\in\{c^-_i\}`."""
        return np.any(self.negative_class == self.anchor_class[:, None], axis=1)


class LatentClassModel:
    r"""Latent classes :math:`c\sim\rho` with class distributions :math:`\mathcal D_c`.

    Give either finite supports (``points`` and optional ``probs``) or Gaussian classes (``means`` and
    ``sigma``), :math:`\mathcal D_c=\mathcal N(\mu_c,\sigma^2 I)`.

    See: Chapter 3, Definition "Latent classes, similar pairs and negatives".

    Parameters
    ----------
    rho : array_like, shape (C,)
        Class distribution: non-negative, sums to 1.
    points : sequence of array_like, optional
        ``points[c]`` of shape ``(n_c, dim)``: the support of :math:`\mathcal D_c`.
    probs : sequence of array_like, optional
        ``probs[c]`` of shape ``(n_c,)``: probabilities of the support points (default uniform).
    means : array_like, shape (C, dim), optional
        Means of Gaussian classes.
    sigma : float, optional
        Standard deviation of Gaussian classes (> 0).
    """

    def __init__(self, rho, points: Sequence | None = None, probs: Sequence | None = None, *, means=None,
                 sigma: float | None = None):
        if (points is None) == (means is None):
            raise ValueError("give exactly one of points (finite classes) and means (Gaussian classes)")
        if points is not None:
            if sigma is not None:
                raise ValueError("sigma must be None for finite classes")
            pts, prs = _check_supports(points, probs, name="points")
            self._kind = "finite"
            self._points, self._probs = pts, prs
            self._means = np.stack([p @ P for P, p in zip(pts, prs, strict=True)])
            self._sigma = None
        else:
            if probs is not None:
                raise ValueError("probs must be None for Gaussian classes")
            mu = check_array("means", means, ndim=2)
            if sigma is None:
                raise ValueError("sigma must be given with means")
            self._sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True)
            self._kind = "gaussian"
            self._points = self._probs = None
            self._means = mu
        self._rho = _check_rho(rho, self._means.shape[0])
        for a in (self._rho, self._means, *(self._points or ()), *(self._probs or ())):
            a.setflags(write=False)

    # ------------------------------------------------------------------------------------------------
    # constructors
    # ------------------------------------------------------------------------------------------------

    @classmethod
    def random_finite(cls, C: int, points_per_class: int, dim: int, spread: float = 0.5, rng=None, *,
                      disjoint: bool = True, rho=None, random_probs: bool = False,
                      centres=None) -> LatentClassModel:
        r"""A random instance with finite classes.

        Class centres :math:`m_c\sim\mathcal N(0,I_{dim})` (or given); the support of class :math:`c` is
        ``points_per_class`` points :math:`m_c+\text{spread}\cdot z`, :math:`z\sim\mathcal N(0,I)` (disjoint
        supports with probability one). With ``disjoint=False`` each class :math:`c\ge1` shares its first
        support point with class :math:`c-1` (overlapping classes).

        Parameters
        ----------
        C : int
            Number of classes (>= 2).
        points_per_class : int
            Support size of each class.
        dim : int
            Dimension of the points.
        spread : float
            Within-class standard deviation around the class centre.
        rng : numpy.random.Generator, int or None
        disjoint : bool
            Disjoint supports (default) or consecutive classes sharing a point.
        rho : array_like, shape (C,), optional
            Class distribution (default uniform).
        random_probs : bool
            Draw the within-class probabilities from a flat Dirichlet instead of uniform.
        centres : array_like, shape (C, dim), optional
            Class centres (default: drawn from :math:`\mathcal N(0,I_{dim})`).
        """
        C = check_int("C", C, minimum=2)
        n = check_int("points_per_class", points_per_class, minimum=1)
        dim = check_int("dim", dim, minimum=1)
        spread = check_float("spread", spread, minimum=0.0)
        check_memory("C, points_per_class and dim", 16.0 * C * n * (dim + 1), what="the support points")
        rng = check_rng("rng", rng)
        if centres is None:
            centres = rng.standard_normal((C, dim))
        else:
            centres = bind_shapes({"centres": (centres, "C dim")}, dims={"C": C, "dim": dim})["centres"]
        pts = [centres[c] + spread * rng.standard_normal((n, dim)) for c in range(C)]
        if not disjoint:
            for c in range(1, C):
                pts[c][0] = pts[c - 1][-1]
        probs = [rng.dirichlet(np.ones(n)) for _ in range(C)] if random_probs else None
        rho = np.full(C, 1.0 / C) if rho is None else rho
        return cls(rho, pts, probs)

    @classmethod
    def random_gaussian(cls, C: int, dim: int, sigma: float = 1.0, separation: float = 3.0, rng=None, *,
                        rho=None) -> LatentClassModel:
        r"""Gaussian classes with means :math:`\mu_c\sim\mathcal N(0,\tfrac{s^2}{2}I)`
        (:math:`\mathbb E\|\mu_a-\mu_b\|^2=s^2\,dim`), covariance :math:`\sigma^2I`, uniform :math:`\rho` by default."""
        C = check_int("C", C, minimum=1)
        dim = check_int("dim", dim, minimum=1)
        separation = check_float("separation", separation, minimum=0.0)
        check_memory("C and dim", 16.0 * C * (dim + 1), what="the class means")
        rng = check_rng("rng", rng)
        means = rng.standard_normal((C, dim)) * separation / np.sqrt(2.0)
        rho = np.full(C, 1.0 / C) if rho is None else rho
        return cls(rho, means=means, sigma=sigma)

    # ------------------------------------------------------------------------------------------------
    # attributes
    # ------------------------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``"finite"`` or ``"gaussian"``."""
        return self._kind

    @property
    def rho(self) -> np.ndarray:
        r"""Class distribution :math:`\rho`, shape (C,)."""
        return self._rho

    @property
    def n_classes(self) -> int:
        """Number of classes C."""
        return self._means.shape[0]

    @property
    def dim(self) -> int:
        """Dimension of the points."""
        return self._means.shape[1]

    @property
    def means(self) -> np.ndarray:
        r"""Class means :math:`\mathbb E_{x\sim\mathcal D_c}x`, shape (C, dim) (exact for finite classes)."""
        return self._means

    @property
    def sigma(self) -> float | None:
        """Standard deviation of Gaussian classes (``None`` for finite classes)."""
        return self._sigma

    @property
    def points(self) -> tuple[np.ndarray, ...]:
        """Supports of the finite classes, ``points[c]`` of shape (n_c, dim)."""
        self._require_finite("points")
        return self._points

    @property
    def probs(self) -> tuple[np.ndarray, ...]:
        """Probabilities of the support points, ``probs[c]`` of shape (n_c,)."""
        self._require_finite("probs")
        return self._probs

    def _require_finite(self, what: str) -> None:
        if self._kind != "finite":
            raise ValueError(f"{what} needs finite classes; this model has Gaussian classes")

    def __repr__(self) -> str:
        return f"LatentClassModel(kind={self._kind!r}, n_classes={self.n_classes}, dim={self.dim})"

    # ------------------------------------------------------------------------------------------------
    # collision probabilities
    # ------------------------------------------------------------------------------------------------

    def tau(self) -> float:
        r"""Collision probability :math:`\tau=\sum_c\rho(c)^2` (see :func:`sslbook.theory.curl_tau`)."""
        return curl_tau(self._rho)

    def tau_k(self, k: int) -> float:
        r""":math:`\tau_k=1-\sum_c\rho(c)(1-\rho(c))^k` (see :func:`sslbook.theory.curl_tau_k`)."""
        return curl_tau_k(self._rho, k)

    # ------------------------------------------------------------------------------------------------
    # representations
    # ------------------------------------------------------------------------------------------------

    def represent(self, f: Callable[[np.ndarray], np.ndarray]) -> LatentClassModel:
        r"""The same latent classes seen through a representation: support points :math:`f(x)`.

        Parameters
        ----------
        f : callable
            Maps an array of points (n, dim) to features (n, d).
        """
        self._require_finite("represent")
        if not callable(f):
            raise TypeError(f"f must be callable, got {type(f).__name__}")
        feats = []
        for c, P in enumerate(self._points):
            Fc = check_array(f"f(points[{c}])", f(P), ndim=2)
            if Fc.shape[0] != P.shape[0]:
                raise ValueError(f"f must return one row per point, got {Fc.shape[0]} rows for {P.shape[0]}")
            feats.append(Fc)
        return LatentClassModel(self._rho, feats, self._probs)

    def collapsed(self) -> LatentClassModel:
        r"""The collapsed representation :math:`f(x)=\mu_{c(x)}`: every support point replaced by its class mean.

        Well defined when the supports are disjoint (a shared point would need two values).
        """
        self._require_finite("collapsed")
        pts = [np.repeat(self._means[c][None], P.shape[0], axis=0) for c, P in enumerate(self._points)]
        return LatentClassModel(self._rho, pts, self._probs)

    # ------------------------------------------------------------------------------------------------
    # sampling
    # ------------------------------------------------------------------------------------------------

    def _draw(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One independent point of each class in ``classes`` (any shape); returns classes.shape + (dim,)."""
        out = np.empty(classes.shape + (self.dim,))
        if self._kind == "gaussian":
            out[...] = self._means[classes] + self._sigma * rng.standard_normal(out.shape)
            return out
        for c in np.unique(classes):
            mask = classes == c
            idx = rng.choice(self._points[c].shape[0], size=int(mask.sum()), p=self._probs[c])
            out[mask] = self._points[c][idx]
        return out

    def sample_classes(self, shape, rng=None) -> np.ndarray:
        r"""Classes drawn i.i.d. from :math:`\rho`, of the given shape."""
        rng = check_rng("rng", rng)
        check_memory("shape", 16.0 * float(np.prod(np.asarray(shape, dtype=float))), what="the classes")
        return rng.choice(self.n_classes, size=shape, p=self._rho)

    def sample_tuples(self, M: int, k_neg: int = 1, block: int = 1, rng=None) -> ContrastiveTuples:
        r"""Draw ``M`` independent contrastive tuples.

        :math:`c^+\sim\rho`, anchor :math:`x\sim\mathcal D_{c^+}` and ``block`` positives
        :math:`x^+_j\sim\mathcal D_{c^+}`; with ``block = 1``, ``k_neg`` negatives with classes
        :math:`c^-_i\sim\rho` i.i.d. and :math:`x^-_i\sim\mathcal D_{c^-_i}`; with ``block > 1`` (and
        ``k_neg = 1``), one negative class :math:`c^-\sim\rho` and ``block`` negatives from it. All draws are
        independent.

        Parameters
        ----------
        M : int
            Number of tuples.
        k_neg : int
            Number of negatives :math:`k` (``block`` must be 1 when ``k_neg > 1``).
        block : int
            Block size :math:`b`.
        rng : numpy.random.Generator, int or None

        Returns
        -------
        ContrastiveTuples
        """
        M = check_int("M", M, minimum=1)
        k_neg = check_int("k_neg", k_neg, minimum=1)
        block = check_int("block", block, minimum=1)
        check_memory("M, k_neg and block", 16.0 * M * (k_neg + 2) * block * (self.dim + 1), what="the tuples")
        if k_neg > 1 and block > 1:
            raise ValueError("k_neg must be 1 when block > 1 (a block's negatives share one class)")
        rng = check_rng("rng", rng)
        c_pos = self.sample_classes(M, rng)
        anchors = self._draw(c_pos, rng)
        positives = self._draw(np.repeat(c_pos[:, None], block, axis=1), rng)
        if block == 1:
            c_neg = self.sample_classes((M, k_neg), rng)
            negatives = self._draw(c_neg, rng)
        else:
            c_neg = self.sample_classes((M, 1), rng)
            negatives = self._draw(np.repeat(c_neg, block, axis=1), rng)
        return ContrastiveTuples(anchors=anchors, positives=positives, negatives=negatives, anchor_class=c_pos,
                                 negative_class=c_neg)

    def sample_labeled(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        r"""``n`` labelled points: :math:`y\sim\rho`, :math:`x\sim\mathcal D_y`. Returns ``X`` (n, dim), ``y`` (n,)."""
        n = check_int("n", n, minimum=1)
        check_memory("n", 16.0 * n * (self.dim + 1), what="the labelled points")
        rng = check_rng("rng", rng)
        y = self.sample_classes(n, rng)
        return self._draw(y, rng), y

    def sample_task(self, n: int, n_way: int = 2, rng=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""A downstream task and labelled data for it.

        The task :math:`\mathcal T=\{c_1,\dots,c_{n\_way}\}` is drawn from :math:`\rho^{n\_way}` conditioned on
        distinct classes (rejection sampling); the ``n`` labels are uniform over the task
        (:math:`\mathcal D_{\mathcal T}` uniform) and :math:`x\sim\mathcal D_y`.

        Returns
        -------
        X : numpy.ndarray, shape (n, dim)
        y : numpy.ndarray of int, shape (n,)
            Class ids (members of ``task``).
        task : numpy.ndarray of int, shape (n_way,)
        """
        n = check_int("n", n, minimum=1)
        n_way = check_int("n_way", n_way, minimum=1)
        check_memory("n", 16.0 * n * (self.dim + 2), what="the task's points")
        if n_way > np.sum(self._rho > 0):
            raise ValueError(f"n_way must be at most the number of classes with positive mass, got {n_way}")
        rng = check_rng("rng", rng)
        while True:
            task = self.sample_classes(n_way, rng)
            if np.unique(task).size == n_way:
                break
        y = task[rng.integers(0, n_way, size=n)]
        return self._draw(y, rng), y, task
