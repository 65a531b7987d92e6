r"""The hypercube with sign-preserving scaling augmentations (Saunshi et al., 2022, Example 1).

A natural input is a uniform sign vector :math:`\bar x\in\{\pm1\}^d`. An augmentation keeps the first :math:`r`
("relevant") coordinates and rescales each of the other :math:`d-r` ("noise") coordinates by an independent
scale :math:`u_i\sim U((a_i,b_i])` with :math:`0\le a_i<b_i`:

.. math:: x_i=\bar x_i\ (i\le r),\qquad x_i=u_i\,\bar x_i\ (i>r).

Since :math:`u_i>0`, :math:`\operatorname{sign}(x)=\bar x`: augmentation sets of distinct natural inputs are
disjoint. The label is linear in the relevant coordinates, :math:`y=\mathbb 1[w^\top\bar x_{1:r}>0]`.
Every second moment is analytic (:meth:`HypercubeAugmentation.sigma`, :meth:`HypercubeAugmentation.sigma_plus`).

See: Chapter "Why inductive biases are unavoidable".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_int, check_memory, check_rng


@dataclass(frozen=True)
class AugmentedPairs:
    """Positive pairs drawn by :meth:`HypercubeAugmentation.sample_pairs` (numpy arrays)."""

    x: np.ndarray  #: anchors, shape (n, d)
    x_pos: np.ndarray  #: positives (a second augmentation of the same natural input), shape (n, d)
    xbar: np.ndarray  #: the natural inputs, shape (n, d), entries +-1
    y: np.ndarray  #: labels in {0, 1}, shape (n,)


class HypercubeAugmentation:
    r"""Uniform :math:`\bar x\in\{\pm1\}^d`; augmentations rescale the last :math:`d-r` coordinates.

    See: Chapter "Why inductive biases are unavoidable", "The hypercube".

    Parameters
    ----------
    d : int
        Input dimension, ``1 <= r < d <= 20``.
    r : int
        Number of relevant (unscaled) coordinates.
    u_low, u_high : float or array_like of shape (d - r,)
        Each noise coordinate :math:`i>r` is scaled by :math:`u_i\sim U((a_i,b_i])`, independently per
        coordinate and per augmentation; ``0 <= u_low < u_high``. The paper's choice is :math:`U((0,1])`.
    label_weights : array_like of shape (r,), optional
        :math:`w` in :math:`y=\mathbb 1[w^\top\bar x_{1:r}>0]`; default :math:`e_1` (the label is the sign of
        the first coordinate). No natural input may have :math:`w^\top\bar x_{1:r}=0`.
    """

    def __init__(self, d: int, r: int, *, u_low=0.0, u_high=1.0, label_weights=None):
        self.d = check_int("d", d, minimum=2, maximum=20)
        self.r = check_int("r", r, minimum=1, maximum=self.d - 1)
        q = self.d - self.r
        given = bind_shapes({"u_low": (u_low, "[q]"), "u_high": (u_high, "[q]"),
                             "label_weights": (label_weights, Shape("r", optional=True))}, dims={"q": q, "r": self.r})
        lo, hi = (np.broadcast_to(given[name], (q,)).copy() for name in ("u_low", "u_high"))
        if np.any(lo < 0):
            raise ValueError(f"u_low must be >= 0, got {lo}")
        if np.any(hi <= lo):
            raise ValueError(f"u_high must be > u_low in every coordinate, got {hi} and {lo}")
        self.u_low, self.u_high = lo, hi
        if label_weights is None:
            w = np.zeros(self.r)
            w[0] = 1.0
        else:
            w = given["label_weights"]
        signs = np.array(list(itertools.product([-1.0, 1.0], repeat=self.r)))
        if np.any(np.abs(signs @ w) < 1e-12):
            raise ValueError("label_weights must give no ties: w @ xbar[:r] != 0 for every sign vector")
        self.label_weights = w

    def __repr__(self) -> str:
        return f"HypercubeAugmentation(d={self.d}, r={self.r}, u_low={self.u_low}, u_high={self.u_high})"

    # -- moments ---------------------------------------------------------------------------------------
    def u_moments(self) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`(\mathbb E u_i,\ \mathbb E u_i^2)` for the noise coordinates, each of shape (d - r,).

        For :math:`u\sim U((a,b])`: :math:`\mathbb Eu=(a+b)/2`, :math:`\mathbb Eu^2=(a^2+ab+b^2)/3`.
        """
        a, b = self.u_low, self.u_high
        return (a + b) / 2, (a * a + a * b + b * b) / 3

    def sigma(self) -> np.ndarray:
        r""":math:`\Sigma=\mathbb E[xx^\top]=\mathrm{diag}(1_r,\ \mathbb E u_i^2)`, shape (d, d).

        Off-diagonal terms vanish because distinct coordinates of :math:`\bar x` are independent signs.
        """
        _, m2 = self.u_moments()
        return np.diag(np.concatenate([np.ones(self.r), m2]))

    def sigma_plus(self) -> np.ndarray:
        r""":math:`\Sigma_+=\mathbb E[x(x^+)^\top]=\mathrm{diag}(1_r,\ (\mathbb E u_i)^2)`, shape (d, d)."""
        m1, _ = self.u_moments()
        return np.diag(np.concatenate([np.ones(self.r), m1**2]))

    # -- natural inputs and labels ----------------------------------------------------------------------
    def natural_inputs(self) -> np.ndarray:
        r"""All :math:`2^d` natural inputs :math:`\bar x\in\{\pm1\}^d`, shape (2**d, d); each has probability
        :math:`2^{-d}`."""
        return np.array(list(itertools.product([-1.0, 1.0], repeat=self.d)))

    def labels(self, xbar) -> np.ndarray:
        r"""Labels :math:`y=\mathbb 1[w^\top\bar x_{1:r}>0]\in\{0,1\}` of natural inputs (or of augmented
        inputs: only the signs of the relevant coordinates matter), shape (n,)."""
        xbar = self._check_points(xbar, natural=False)
        return (np.sign(xbar[:, : self.r]) @ self.label_weights > 0).astype(np.int64)

    def _check_points(self, xbar, *, natural: bool) -> np.ndarray:
        """Rows on the cube (``natural``: entries +-1) or augmentations of it (relevant entries +-1, noise
        entries of absolute value in ``(u_low, u_high]`` or +-1): a point off the cube has no label, and a zero
        relevant coordinate would be a tie broken silently."""
        xbar = bind_shapes({"xbar": (xbar, "n d")}, dims={"d": self.d})["xbar"]
        head, tail = np.abs(xbar[:, : self.r]), np.abs(xbar[:, self.r:])
        if np.any(head != 1.0):
            raise ValueError(f"xbar must have entries +-1 in its first r = {self.r} (relevant) coordinates; got a "
                             "point off the hypercube")
        if natural and np.any(tail != 1.0):
            raise ValueError("xbar must hold natural inputs (every entry +-1); got a point off the hypercube")
        if not natural:
            ok = (tail == 1.0) | ((tail > self.u_low) & (tail <= self.u_high))
            if not np.all(ok):
                raise ValueError("xbar must hold natural or augmented inputs: noise coordinates of absolute value "
                                 "1 or in (u_low, u_high]; got a point off the augmented cube")
        return xbar

    def sample_natural(self, n: int, rng=None) -> np.ndarray:
        """``n`` i.i.d. uniform natural inputs, shape (n, d)."""
        n = check_int("n", n, minimum=1)
        check_memory("n", 32.0 * n * self.d, what="the natural inputs and their augmentations")
        rng = check_rng("rng", rng)
        return rng.choice(np.array([-1.0, 1.0]), size=(n, self.d))

    def augment(self, xbar, rng=None) -> np.ndarray:
        r"""One augmentation of each row of ``xbar``: noise coordinates times fresh :math:`u_i`, shape (n, d).

        The scale is drawn as :math:`u=b-(b-a)\,v` with :math:`v\sim U([0,1))`, so :math:`u\in(a,b]` (never 0).
        """
        xbar = self._check_points(xbar, natural=True)
        rng = check_rng("rng", rng)
        u = self.u_high - (self.u_high - self.u_low) * rng.random((xbar.shape[0], self.d - self.r))
        x = xbar.copy()
        x[:, self.r :] *= u
        return x

    def sample_pairs(self, n: int, rng=None) -> AugmentedPairs:
        """``n`` positive pairs: a natural input, two independent augmentations of it, and its label."""
        rng = check_rng("rng", rng)
        xbar = self.sample_natural(n, rng)
        return AugmentedPairs(x=self.augment(xbar, rng), x_pos=self.augment(xbar, rng), xbar=xbar,
                              y=self.labels(xbar))

    # -- a finite version of the augmentation graph -----------------------------------------------------
    def discretized_graph(self, m: int = 2):
        r"""A finite augmentation model: each scale takes the ``m`` midpoints of :math:`m` equal bins of
        :math:`(a_i,b_i]`, with probability :math:`1/m` each.

        Returns
        -------
        p_bar : numpy.ndarray, shape (2**d,)
            Uniform probabilities of the natural inputs (rows of :meth:`natural_inputs`).
        aug : scipy.sparse.csr_matrix, shape (2**d, 2**d * m**(d - r))
            :math:`\mathcal A(x\mid\bar x)`: row :math:`\bar x` is a probability vector over augmented points.
        points : numpy.ndarray, shape (2**d * m**(d - r), d)
            The augmented points, grouped by natural input (block :math:`j` holds the augmentations of
            natural input :math:`j`).
        """
        m = check_int("m", m, minimum=1, maximum=8)
        q = self.d - self.r
        n_aug = m**q
        if 2**self.d * n_aug > 2_000_000:
            raise ValueError(f"m={m} gives {2**self.d * n_aug} augmented points; use a smaller d or m")
        bins = (np.arange(m) + 0.5) / m  # midpoints of m equal bins of (0, 1]
        levels = self.u_low[:, None] + (self.u_high - self.u_low)[:, None] * bins[None, :]  # (q, m)
        grid = np.array(list(itertools.product(range(m), repeat=q)), dtype=np.int64).reshape(n_aug, q)
        scales = levels[np.arange(q)[None, :], grid]  # (n_aug, q)
        xbar = self.natural_inputs()
        n_nat = xbar.shape[0]
        points = np.repeat(xbar, n_aug, axis=0)
        points[:, self.r :] *= np.tile(scales, (n_nat, 1))
        rows = np.repeat(np.arange(n_nat), n_aug)
        cols = np.arange(n_nat * n_aug)
        aug = sparse.csr_matrix((np.full(n_nat * n_aug, 1.0 / n_aug), (rows, cols)), shape=(n_nat, n_nat * n_aug))
        return np.full(n_nat, 1.0 / n_nat), aug, points


@check_shapes(xbar="n d")
def parity_features(xbar, subsets) -> np.ndarray:
    r"""Parities :math:`\prod_{i\in S}\operatorname{sign}(x_i)` of given coordinate subsets, shape (n, len(subsets)).

    Distinct non-empty subsets give orthonormal functions under the uniform distribution on :math:`\{\pm1\}^d`.
    See: Chapter "Why inductive biases are unavoidable", "Two minimizers".

    Parameters
    ----------
    xbar : array_like, shape (n, d)
        Natural or augmented inputs (only signs are used).
    subsets : sequence of sequence of int
        0-based coordinate indices, e.g. ``[(2, 3), (4, 5)]``.
    """
    if np.any(xbar == 0):
        raise ValueError("xbar must have no zero entries (the sign of 0 is undefined: a point off the cube)")
    if not isinstance(subsets, (list, tuple)) or len(subsets) == 0:
        raise ValueError("subsets must be a non-empty list of index tuples")
    s = np.sign(xbar)
    out = []
    for sub in subsets:
        idx = [check_int("subsets[i][j]", i, minimum=0, maximum=xbar.shape[1] - 1) for i in sub]
        if len(idx) == 0:
            raise ValueError("subsets must not contain an empty subset")
        out.append(np.prod(s[:, idx], axis=1))
    return np.stack(out, axis=1)
