r"""Contrastive tuples (anchor, positive, negatives) drawn under the latent-class model of CURL.

The model of Arora et al. (ICML 2019): a class :math:`c^+\sim\rho`, then an anchor and a positive
:math:`x, x^+ \overset{iid}{\sim} \mathcal D_{c^+}`; each negative has its own class :math:`c_i^-\sim\rho` and
:math:`x_i^-\sim\mathcal D_{c_i^-}` (so a negative may share the anchor's class: a *collision*).

Two sources of classes are supported:

* a **labelled pool** (:func:`triple_indices`, :func:`pool_triples`): :math:`\mathcal D_c` is the uniform
  distribution over the pool's points of label :math:`c` (e.g. the digits, or finite point clouds);
* **Gaussian classes** (:func:`gaussian_triples`): :math:`\mathcal D_c=\mathcal N(\mu_c,\sigma^2 I)` from a
  :class:`sslbook.data.GaussianMixture`, optionally pushed through a radial clip (:func:`radial_clip`).

See: Chapter 4, "Training on sampled triples" and "A Table-1 analogue on the digits".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng


@dataclass(frozen=True)
class TripleIndices:
    """Indices into a labelled pool: ``anchor`` and ``positive`` of shape (n,), ``negatives`` of shape (n, k)."""

    anchor: np.ndarray
    positive: np.ndarray
    negatives: np.ndarray


@dataclass(frozen=True)
class Triples:
    r"""Inputs of contrastive tuples and their latent classes.

    Attributes
    ----------
    anchor : numpy.ndarray
        :math:`x`, shape (n, d).
    positive : numpy.ndarray
        :math:`x^+`, shape (n, d).
    negatives : numpy.ndarray
        :math:`x_1^-,\dots,x_k^-`, shape (n, k, d).
    c_pos : numpy.ndarray
        The class :math:`c^+` of anchor and positive, integers of shape (n,).
    c_neg : numpy.ndarray
        The classes :math:`c_i^-` of the negatives, integers of shape (n, k).
    """

    anchor: np.ndarray
    positive: np.ndarray
    negatives: np.ndarray
    c_pos: np.ndarray
    c_neg: np.ndarray

    @property
    def collisions(self) -> np.ndarray:
        """Whether negative :math:`i` shares the anchor's class, a boolean array of shape (n, k)."""
        return self.c_neg == self.c_pos[:, None]


@check_shapes(labels=Shape("N", dtype="int"), rho=Shape("C", simplex=True, atol=1e-5, optional=True))
def triple_indices(labels, n: int, *, k: int = 1, rho=None, rng=None) -> TripleIndices:
    r"""Sample ``n`` contrastive tuples from a labelled pool, as indices into the pool.

    Classes :math:`c^+, c^-_1,\dots,c^-_k \overset{iid}{\sim}\rho`; the anchor and the positive are drawn
    independently and uniformly among the pool points of label :math:`c^+` (they may coincide, as
    :math:`x,x^+\overset{iid}{\sim}\mathcal D_{c^+}` allows), each negative uniformly among the points of label
    :math:`c_i^-`. With the default :math:`\rho` (the label frequencies of the pool) the anchor and the negatives
    are simply uniform over the pool.

    See: Chapter 4, "A Table-1 analogue on the digits".

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Labels 0..C-1 of the pool; every class must occur.
    n : int
        Number of tuples.
    k : int
        Negatives per anchor.
    rho : array_like, shape (C,), optional
        Class distribution :math:`\rho` (default: the label frequencies).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    TripleIndices
    """
    y = labels
    if np.any(y < 0):
        raise ValueError("labels must be non-negative integers 0..C-1")
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    check_memory("n and k", 24.0 * n * (k + 2), what=f"the indices of {n} tuples with {k} negatives")
    rng = check_rng("rng", rng)
    C = int(y.max()) + 1
    counts = np.bincount(y, minlength=C)
    if np.any(counts == 0):
        raise ValueError(f"labels must contain every class 0..{C - 1}; missing {np.flatnonzero(counts == 0).tolist()}")
    order = np.argsort(y, kind="stable")  # pool indices grouped by class
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    def draw(classes: np.ndarray) -> np.ndarray:
        offset = np.floor(rng.random(classes.shape) * counts[classes]).astype(np.int64)
        return order[starts[classes] + offset]

    if rho is None:
        c_pos = y[rng.integers(0, y.size, size=n)]
        c_neg = y[rng.integers(0, y.size, size=(n, k))]
    else:
        if rho.shape[0] != C:
            raise ValueError(f"rho must have one entry per class ({C}), got {rho.shape[0]}")
        rho = rho / rho.sum()
        c_pos = rng.choice(C, size=n, p=rho)
        c_neg = rng.choice(C, size=(n, k), p=rho)
    return TripleIndices(anchor=draw(c_pos), positive=draw(c_pos), negatives=draw(c_neg))


@check_shapes(X="N d", labels=Shape("N", dtype="int"))
def pool_triples(X, labels, n: int, *, k: int = 1, rho=None, rng=None) -> Triples:
    r"""Sample ``n`` contrastive tuples from a labelled pool and return their inputs.

    The sampling is that of :func:`triple_indices`: same-label positives, negatives from :math:`\rho`.

    See: Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    X : array_like, shape (N, d)
        The pool's inputs.
    labels : array_like of int, shape (N,)
    n, k, rho, rng
        As in :func:`triple_indices`.

    Returns
    -------
    Triples
    """
    idx = triple_indices(labels, n, k=k, rho=rho, rng=rng)
    return Triples(anchor=X[idx.anchor], positive=X[idx.positive], negatives=X[idx.negatives],
                   c_pos=labels[idx.anchor], c_neg=labels[idx.negatives])


@check_shapes(X="... d")
def radial_clip(X, radius: float = 1.0) -> np.ndarray:
    r"""Project points onto the ball of radius :math:`r`: :math:`x\mapsto x\,\min\{1, r/\|x\|\}`.

    Applied to the inputs of every class, it keeps the latent-class structure (each :math:`\mathcal D_c` is
    replaced by its image) and guarantees :math:`\|x\|\le r`, as the generalization bound of Chapter 4 needs.

    See: Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    X : array_like, shape (..., d)
    radius : float
        :math:`r > 0`.

    Returns
    -------
    numpy.ndarray, same shape as ``X``
    """
    radius = check_float("radius", radius, minimum=0.0, strict_min=True)
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        scale = np.where(norms > radius, radius / np.where(norms > 0, norms, 1.0), 1.0)
    return X * scale


def gaussian_triples(mixture, n: int, *, k: int = 1, clip: float | None = None, rng=None) -> Triples:
    r"""Sample ``n`` contrastive tuples from Gaussian latent classes.

    :math:`c^+, c_1^-,\dots,c_k^- \overset{iid}{\sim}\rho` (the mixture's weights),
    :math:`x, x^+ \overset{iid}{\sim}\mathcal N(\mu_{c^+},\sigma^2 I)`,
    :math:`x_i^- \sim\mathcal N(\mu_{c_i^-},\sigma^2 I)`; with ``clip=r`` every input is then passed through
    :func:`radial_clip`, so that :math:`\|x\|\le r`.

    See: Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    mixture : sslbook.data.GaussianMixture
        The latent classes: ``means`` (C, d), ``sigma``, ``weights`` = :math:`\rho`.
    n : int
        Number of tuples.
    k : int
        Negatives per anchor.
    clip : float, optional
        Radius of the radial clip (default: no clip).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    Triples
    """
    from sslbook.data.mixtures import GaussianMixture

    if not isinstance(mixture, GaussianMixture):
        raise TypeError(f"mixture must be a sslbook.data.GaussianMixture, got {type(mixture).__name__}")
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    if clip is not None:
        clip = check_float("clip", clip, minimum=0.0, strict_min=True)
    rng = check_rng("rng", rng)
    C, d = mixture.means.shape
    check_memory("n and k", 8.0 * n * ((k + 2) * d * 2 + k + 1), what=f"{n} tuples of {k + 2} points in {d} dimensions")
    c_pos = rng.choice(C, size=n, p=mixture.weights)
    c_neg = rng.choice(C, size=(n, k), p=mixture.weights)

    def draw(classes: np.ndarray) -> np.ndarray:
        x = mixture.means[classes] + mixture.sigma * rng.standard_normal(classes.shape + (d,))
        return x if clip is None else radial_clip(x, clip)

    return Triples(anchor=draw(c_pos), positive=draw(c_pos), negatives=draw(c_neg), c_pos=c_pos, c_neg=c_neg)
