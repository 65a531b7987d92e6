r"""Vacuity of function-class-agnostic guarantees: relabelled encoders and nearly disjoint augmentations.

With disjoint augmentation sets, permuting the natural inputs under a good encoder keeps the spectral
contrastive loss and can destroy the downstream label (:func:`sign_linear_probe_error`,
:func:`expected_relabel_error`). When the augmentations leak a little mass to neighbouring inputs, the
augmentation graph of the hypercube is diagonal in the parity basis (:func:`leaky_cube_spectrum`) and a
representation that ignores the invariant coordinates must pay an excess loss (:func:`label_blind_excess`).

Pure numpy (and the standard library's exact integers). See: Chapter "Why inductive biases are unavoidable",
"Relabelling the components" and "Nearly disjoint augmentations" (Saunshi et al., ICML 2022).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int

__all__ = [
    "expected_relabel_error",
    "label_blind_excess",
    "leaky_cube_spectrum",
    "sign_linear_probe_error",
]


def _square_dichotomies(n_cols: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The labellings of the vertices of {-1, 1}^n_cols (n_cols <= 2) that a half-plane realizes."""
    vertices = np.array(list(itertools.product([-1.0, 1.0], repeat=n_cols)))
    out = []
    for lab in itertools.product([0, 1], repeat=len(vertices)):
        lab = np.array(lab)
        # on the square, only the two XOR labellings (label = product of the signs, or its negation) fail
        if n_cols == 2 and lab.sum() == 2 and lab[0] == lab[3]:
            continue
        out.append(lab)
    return vertices, out


@check_shapes(F="N k", labels=Shape("N", dtype="int"), p=Shape("N", simplex=True, optional=True))
def sign_linear_probe_error(F, labels, p=None) -> float:
    r"""Exact error of the best **linear** classifier :math:`\mathbb 1[v^\top f+b>0]` of sign features.

    For features :math:`f\in\{\pm1\}^k` with :math:`k\le2` the feature takes at most four values (the vertices
    of the square); a line with an offset realizes every labelling of them except the two XOR patterns, so

    .. math:: \min_{v,b}\mathbb P\big(\mathbb 1[v^\top f+b>0]\ne y\big)
              =\min_{\ell\ \text{separable}}\sum_{c\in\{\pm1\}^k}\mathbb P\big(f=c,\ y\ne\ell(c)\big).

    It is at least the error of the best classifier of any kind
    (:func:`sslbook.theory.components.feature_bayes_error`), with equality unless the Bayes labelling is XOR.

    See: Chapter "Why inductive biases are unavoidable", "Relabelling the components".

    Parameters
    ----------
    F : array_like, shape (N, k), k <= 2
        Features of each population point, every entry -1 or +1.
    labels : array_like of int, shape (N,)
        Binary labels (0/1).
    p : array_like, shape (N,), optional
        Probabilities of the points (default uniform).
    """
    if F.shape[1] > 2:
        raise ValueError(f"F must have at most 2 columns (sign features on the square), got {F.shape[1]}")
    if not np.all(np.isin(F, (-1.0, 1.0))):
        raise ValueError("F must have entries -1 or +1 (sign features)")
    if not np.all(np.isin(labels, (0, 1))):
        raise ValueError("labels must be 0 or 1")
    if p is None:
        p = np.full(F.shape[0], 1.0 / F.shape[0])
    vertices, dichotomies = _square_dichotomies(F.shape[1])
    cell = np.zeros(F.shape[0], dtype=int)
    for j in range(F.shape[1]):                 # index of the vertex, in itertools.product order
        cell = 2 * cell + (F[:, j] > 0)
    mass = np.zeros((len(vertices), 2))
    np.add.at(mass, (cell, labels.astype(int)), p)
    return float(min(np.sum(mass[np.arange(len(vertices)), 1 - lab]) for lab in dichotomies))


def expected_relabel_error(n_inputs: int, n_cells: int) -> float:
    r"""Expected error of the best classifier of a uniformly random relabelling of balanced inputs.

    ``n_inputs`` :math:`=|\bar{\mathcal X}|` equally likely inputs, half of each label, are assigned by a
    uniformly random permutation to ``n_cells`` feature values of :math:`|\bar{\mathcal X}|/c` inputs each (a
    good encoder composed with a permutation of the components). The number of positives in a cell is
    hypergeometric, :math:`H\sim\mathrm{Hyp}(|\bar{\mathcal X}|,\,|\bar{\mathcal X}|/2,\,|\bar{\mathcal X}|/c)`, and

    .. math:: \mathbb E\,e(\pi)=\frac{c}{|\bar{\mathcal X}|}\,
              \mathbb E\min\big(H,\ |\bar{\mathcal X}|/c-H\big)
              =\frac12-\sqrt{\frac{c-1}{2\pi|\bar{\mathcal X}|}}+o\big(|\bar{\mathcal X}|^{-1/2}\big),

    computed exactly with integer binomial coefficients.

    See: Chapter "Why inductive biases are unavoidable", "Relabelling the components".

    Parameters
    ----------
    n_inputs : int
        :math:`|\bar{\mathcal X}|`, even, a multiple of ``n_cells``, at most :math:`2^{16}`.
    n_cells : int
        :math:`c\ge1`, the number of distinct feature values.
    """
    N = check_int("n_inputs", n_inputs, minimum=2, maximum=2**16)
    c = check_int("n_cells", n_cells, minimum=1)
    if N % 2 or N % c:
        raise ValueError(f"n_inputs must be even and a multiple of n_cells, got {N} and {c}")
    size, pos = N // c, N // 2
    total = math.comb(N, size)
    acc = sum(math.comb(pos, h) * math.comb(N - pos, size - h) * min(h, size - h)
              for h in range(max(0, size - (N - pos)), min(size, pos) + 1))
    return float(Fraction(c * acc, N * total))


def _check_cube(d, n_invariant, leak):
    d = check_int("d", d, minimum=2)
    J = check_int("n_invariant", n_invariant, minimum=1)
    if J >= d:
        raise ValueError(f"n_invariant must be < d (some coordinates must move), got {J} and d = {d}")
    delta = check_float("leak", leak, minimum=0.0, maximum=0.5)
    return d, J, delta


def leaky_cube_spectrum(d: int, n_invariant: int, leak: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Spectrum of :math:`\bar A` for the hypercube whose augmentations leak to neighbouring inputs.

    Natural inputs uniform on :math:`\{\pm1\}^d`; an augmentation keeps :math:`\bar x` with probability
    :math:`1-\delta` and otherwise flips one of the last :math:`d-J` coordinates, chosen uniformly. Then
    :math:`\bar A=\mathcal A^2` is diagonal in the parity basis :math:`\chi_S(x)=\prod_{i\in S}x_i`:

    .. math:: \bar A\chi_S=\mu_m\chi_S,\qquad \mu_m=\Big(1-\frac{2\delta m}{d-J}\Big)^2,\qquad
              m=|S\cap\{J+1,\dots,d\}|,

    with multiplicity :math:`2^J\binom{d-J}{m}`.

    See: Chapter "Why inductive biases are unavoidable", "Nearly disjoint augmentations".

    Parameters
    ----------
    d : int
    n_invariant : int
        :math:`J`, the number of coordinates the augmentations never change, :math:`1\le J<d`.
    leak : float
        :math:`\delta\in[0,\tfrac12]`.

    Returns
    -------
    eigenvalues, multiplicities : ndarray, shape (d - J + 1,)
        :math:`\mu_0\ge\mu_1\ge\dots\ge\mu_{d-J}` and their multiplicities (they sum to :math:`2^d`).
    """
    d, J, delta = _check_cube(d, n_invariant, leak)
    m = np.arange(d - J + 1)
    return (1.0 - 2.0 * delta * m / (d - J)) ** 2, np.array([2**J * math.comb(d - J, int(i)) for i in m])


def label_blind_excess(d: int, n_invariant: int, leak: float, k: int, *, centred: bool = False) -> float:
    r"""Smallest excess spectral loss of a representation that ignores the invariant coordinates.

    On the leaky hypercube of :func:`leaky_cube_spectrum` (with :math:`2^J\ge k`, so that the minimum over
    all functions is :math:`-k`), every :math:`f:\{\pm1\}^d\to\mathbb R^k` that depends on
    :math:`x_{J+1},\dots,x_d` only satisfies

    .. math:: L_{spec}(f)+k\ \ge\ (k-1)\,(1-\mu_1^2),\qquad\text{and}\quad L_{spec}(f)+k\ge k\,(1-\mu_1^2)
              \ \text{if}\ \mathbb Ef=0,

    with equality at :math:`f=(1,\sqrt{\mu_1}x_{J+1},\dots)` (respectively :math:`\sqrt{\mu_1}(x_{J+1},\dots)`).

    See: Chapter "Why inductive biases are unavoidable", "Nearly disjoint augmentations".

    Parameters
    ----------
    d, n_invariant, leak
        As in :func:`leaky_cube_spectrum`.
    k : int
        Representation dimension, :math:`k\le2^J` and :math:`k\le d-J` (``k - 1 <= d - J`` if not centred).
    centred : bool
        Whether the features have mean zero.
    """
    d, J, delta = _check_cube(d, n_invariant, leak)
    k = check_int("k", k, minimum=1)
    if not isinstance(centred, (bool, np.bool_)):
        raise TypeError(f"centred must be a bool, got {type(centred).__name__}")
    if k > 2**J:
        raise ValueError(f"k must be <= 2**n_invariant = {2**J} (so that the minimum over all f is -k), got {k}")
    n_free = k if centred else k - 1          # directions that must come from the parities of moved coordinates
    if n_free > d - J:
        raise ValueError(f"k must be <= {d - J + (0 if centred else 1)} here, got {k}")
    mu1 = (1.0 - 2.0 * delta / (d - J)) ** 2
    return float(n_free * (1.0 - mu1**2))
