"""Finite enumeration shared by the CURL calculators (private to :mod:`sslbook.theory.curl`).

Per-class supports are unpacked and validated once (:func:`unpack_classes`), stacked into one support
(:func:`stack_support`), and expectations are finite weighted sums of a surrogate loss over margins, accumulated in
large batches (:class:`WeightedLossSum`); i.i.d. draws enter through their multisets (:func:`multisets`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import gammaln

from sslbook._validation import check_choice, check_class_distribution, check_class_supports, check_int
from sslbook.theory.toolbox import hinge_loss, logistic2_loss

#: The convex surrogate losses of the CURL framework (both have :math:`\ell(0)=1` for one margin).
LOSSES = ("hinge", "logistic2")

CHUNK = 2_000_000  # entries of a margin array evaluated at once


def loss_function(loss: str):
    """The surrogate loss named ``loss`` (one of :data:`LOSSES`), as a function of margins ``(..., k)``."""
    loss = check_choice("loss", loss, LOSSES)
    return hinge_loss if loss == "hinge" else logistic2_loss


def check_negatives(k) -> int:
    r"""The number of negatives :math:`k\ge1`."""
    return check_int("k", k, minimum=1)


def unpack_classes(features, rho, probs, *, min_classes: int = 2, name: str = "features"):
    """Return (list of (n_c, d) arrays, list of (n_c,) probabilities, rho) after validation.

    Shared by the one-negative, k-negative and guarantee calculators (the guarantees accept one class).
    """
    if hasattr(features, "rho") and hasattr(features, "points") and hasattr(features, "kind"):
        if features.kind != "finite":
            raise ValueError(f"{name} must be a finite LatentClassModel (exact losses need finite supports)")
        if rho is not None or probs is not None:
            raise ValueError(f"rho and probs must be None when {name} is a LatentClassModel")
        return list(features.points), list(features.probs), np.asarray(features.rho, dtype=float)
    feats, ps = check_class_supports(features, probs, name=name, min_classes=min_classes)
    if rho is None:
        raise ValueError(f"rho must be given with per-class arrays {name}")
    return list(feats), list(ps), check_class_distribution(rho, len(feats))


def prepare_classes(features, rho, probs):
    feats, ps, r = unpack_classes(features, rho, probs)
    if np.sum(r > 0) < 2:
        raise ValueError("rho must put positive mass on at least two classes (otherwise 1 - tau = 0)")
    return feats, ps, r


def stack_support(feats, ps, r):
    F = np.concatenate(feats, axis=0)
    cls = np.concatenate([np.full(len(Fc), c) for c, Fc in enumerate(feats)])
    p = np.concatenate(ps)
    return F, cls, p, r[cls] * p  # features, class of each row, within-class prob, marginal prob


def class_means(feats, ps):
    return np.stack([p @ F for F, p in zip(feats, ps, strict=True)])


def expected_loss(ell, margins, weights) -> float:
    """``sum(weights * ell(margins))`` with margins of shape weights.shape + (k,), evaluated in chunks."""
    m = margins.reshape(-1, margins.shape[-1])
    w = weights.reshape(-1)
    step = max(1, CHUNK // m.shape[1])
    return float(sum(w[i:i + step] @ ell(m[i:i + step]) for i in range(0, m.shape[0], step)))


class WeightedLossSum:
    """Accumulates ``sum(weights * ell(margins))`` over many small arrays, calling ``ell`` on large batches."""

    def __init__(self, ell, k: int):
        self.ell, self.k = ell, k
        self._margins, self._weights, self._size, self._total = [], [], 0, 0.0

    def add(self, margins: np.ndarray, weights: np.ndarray) -> None:
        m = margins.reshape(-1, self.k)
        w = np.broadcast_to(weights, margins.shape[:-1]).reshape(-1)
        if m.size >= CHUNK:
            self._total += expected_loss(self.ell, m, w)
            return
        self._margins.append(m)
        self._weights.append(w)
        self._size += m.size
        if self._size >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._margins:
            self._total += float(np.concatenate(self._weights) @ self.ell(np.concatenate(self._margins)))
        self._margins, self._weights, self._size = [], [], 0

    def value(self) -> float:
        self._flush()
        return self._total


def multisets(probs: np.ndarray, size: int, max_multisets: int, name: str):
    """All multisets of ``size`` i.i.d. draws from ``probs`` (over its support) with their probabilities.

    Returns ``idx`` (M, size) indices into ``probs`` (sorted within a row), ``counts`` (M, len(probs)) and
    ``prob`` (M,), the multinomial probability :math:`\\frac{size!}{\\prod_j m_j!}\\prod_j p_j^{m_j}`.
    """
    support = np.flatnonzero(probs > 0)
    n = support.size
    total = math.comb(n + size - 1, size)
    if total > max_multisets:
        raise ValueError(
            f"{name}={size} over {n} support points needs {total} multisets, more than max_multisets="
            f"{max_multisets}: use smaller supports or a smaller {name}"
        )
    flat = itertools.chain.from_iterable(itertools.combinations_with_replacement(range(n), size))
    local = np.fromiter(flat, dtype=np.int64, count=total * size).reshape(total, size)
    counts = np.zeros((total, probs.size))
    np.add.at(counts, (np.repeat(np.arange(total), size), support[local].ravel()), 1.0)
    with np.errstate(divide="ignore"):
        logq = np.where(probs > 0, np.log(np.where(probs > 0, probs, 1.0)), 0.0)
    logp = gammaln(size + 1) - gammaln(counts + 1).sum(axis=1) + counts @ logq
    return support[local], counts, np.exp(logp)

