r"""Why inductive biases are unavoidable, over all functions: the augmentation graph component by component.

When augmentation sets are disjoint the augmentation graph splits into one component per natural input
(:func:`augmentation_components`), every component carries a unit eigenvalue of :math:`\bar A`, and the spectral
loss over all functions cannot tell a good representation from a useless one (:func:`spectral_loss_finite`,
:func:`invariant_spectral_loss`, :func:`feature_bayes_error`). The linear class is in
:mod:`sslbook.theory.inductive_biases`.

Pure numpy/scipy. See: Chapter "Why inductive biases are unavoidable" (Saunshi et al., ICML 2022).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_simplex

__all__ = [
    "ComponentSpectra",
    "augmentation_components",
    "feature_bayes_error",
    "invariant_spectral_loss",
    "spectral_loss_finite",
]

#: Probabilities of the natural inputs (default uniform).
_INPUT_PROBS = Shape("N", simplex=True, optional=True)


def _check_graph(p_bar, aug):
    p = check_simplex("p_bar", p_bar, ndim=1)
    A = sparse.csr_matrix(check_array("aug", aug, ndim=2)) if not sparse.issparse(aug) else aug.tocsr()
    if A.shape[0] != p.size:
        raise ValueError(f"aug must have {p.size} rows (one per natural input), got {A.shape[0]}")
    if A.nnz and (A.data.min() < 0 or not np.all(np.isfinite(A.data))):
        raise ValueError("aug must have non-negative finite entries")
    if not np.allclose(np.asarray(A.sum(axis=1)).ravel(), 1.0, rtol=0, atol=1e-9):
        raise ValueError("aug must have rows summing to 1 (one augmentation distribution per natural input)")
    return p, A.astype(np.float64)


@dataclass(frozen=True)
class ComponentSpectra:
    r"""Connected components of an augmentation graph and the spectrum of :math:`\bar A` on each."""

    labels: np.ndarray  #: (X,) component of each augmented point
    n_components: int
    eigenvalues: list  #: one array per component, descending
    unit_multiplicity: int  #: number of eigenvalues of :math:`\bar A` equal to 1 (to 1e-10)

    def top(self, k: int) -> np.ndarray:
        """The ``k`` largest eigenvalues of :math:`\\bar A` over all components, descending."""
        allv = np.sort(np.concatenate(self.eigenvalues))[::-1]
        return allv[:k]


def augmentation_components(p_bar, aug) -> ComponentSpectra:
    r"""Split the augmentation graph into connected components and diagonalize :math:`\bar A` on each.

    Edge weights :math:`w_{xx'}=\sum_{\bar x}p(\bar x)\mathcal A(x\mid\bar x)\mathcal A(x'\mid\bar x)`,
    :math:`w_x=\sum_{x'}w_{xx'}`, :math:`\bar A=D^{-1/2}WD^{-1/2}`; :math:`\bar A` is block diagonal over the
    components, so its spectrum is the union of the blocks' spectra. Augmented points of zero weight are dropped.

    See: Chapter "Why inductive biases are unavoidable", "All functions: the graph falls apart".

    Parameters
    ----------
    p_bar : array_like, shape (N,)
        Probabilities of the natural inputs.
    aug : array_like or scipy.sparse matrix, shape (N, X)
        Row :math:`\bar x` is the augmentation distribution :math:`\mathcal A(\cdot\mid\bar x)`.
    """
    p, A = _check_graph(p_bar, aug)
    W = (A.T @ sparse.diags(p) @ A).tocsr()
    w = np.asarray(W.sum(axis=1)).ravel()
    keep = np.flatnonzero(w > 0)
    W = W[keep][:, keep]
    w = w[keep]
    n_comp, lab = connected_components(W, directed=False)
    dinv = 1.0 / np.sqrt(w)
    Abar = sparse.diags(dinv) @ W @ sparse.diags(dinv)
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(n_comp + 1))
    eigs = []
    Abar = Abar.tocsr()
    for c in range(n_comp):
        idx = order[bounds[c] : bounds[c + 1]]
        block = Abar[idx][:, idx].toarray()
        eigs.append(np.linalg.eigvalsh((block + block.T) / 2)[::-1])
    labels = np.full(A.shape[1], -1, dtype=np.int64)
    labels[keep] = lab
    unit = int(sum(np.sum(np.abs(e - 1.0) < 1e-10) for e in eigs))
    return ComponentSpectra(labels=labels, n_components=int(n_comp), eigenvalues=eigs, unit_multiplicity=unit)


def spectral_loss_finite(p_bar, aug, F) -> float:
    r"""Exact spectral contrastive loss of a function on a finite augmentation model.

    .. math:: L_{spec}(f)=-2\sum_{\bar x}p(\bar x)\,\|m_f(\bar x)\|^2+\Big\|\sum_xw_xf(x)f(x)^\top\Big\|_F^2,
              \qquad m_f(\bar x)=\sum_x\mathcal A(x\mid\bar x)f(x),\ w_x=\sum_{\bar x}p(\bar x)\mathcal A(x\mid\bar x).

    See: Chapter "Why inductive biases are unavoidable", "All functions: the graph falls apart".

    Parameters
    ----------
    p_bar : array_like, shape (N,)
    aug : array_like or scipy.sparse matrix, shape (N, X)
        As in :func:`augmentation_components`.
    F : array_like, shape (X, k)
        :math:`f` evaluated at every augmented point.
    """
    p, A = _check_graph(p_bar, aug)
    F = check_array("F", F, ndim=2)
    if F.shape[0] != A.shape[1]:
        raise ValueError(f"F must have {A.shape[1]} rows (one per augmented point), got {F.shape[0]}")
    m = A @ F  # (N, k)
    w = np.asarray(A.T @ p).ravel()
    S = (F * w[:, None]).T @ F
    return float(-2.0 * np.sum(p[:, None] * m * m) + np.sum(S * S))


@check_shapes(F="N k", p=_INPUT_PROBS)
def invariant_spectral_loss(F, p=None) -> float:
    r"""Spectral loss of a function that is constant on each augmentation set, :math:`f(x)=h(\bar x)`:
    :math:`L_{spec}=-2\operatorname{tr}\Sigma_h+\|\Sigma_h\|_F^2` with :math:`\Sigma_h=\mathbb E_{\bar x}hh^\top`.

    See: Chapter "Why inductive biases are unavoidable", "Two minimizers".

    Parameters
    ----------
    F : array_like, shape (N, k)
        :math:`h` at every natural input.
    p : array_like, shape (N,), optional
        Probabilities of the natural inputs (default uniform).
    """
    if p is None:
        p = np.full(F.shape[0], 1.0 / F.shape[0])
    S = (F * p[:, None]).T @ F
    return float(-2.0 * np.trace(S) + np.sum(S * S))


@check_shapes(F="N k", labels=Shape("N", dtype="int"), p=_INPUT_PROBS)
def feature_bayes_error(F, labels, p=None) -> float:
    r"""Smallest error of *any* classifier of the features on a finite population:
    :math:`\sum_v\min_c P(f=v,\,y=c)^{\complement}` — for each distinct feature value :math:`v`, the
    probability mass of all labels but the most likely one.

    See: Chapter "Why inductive biases are unavoidable", "Two minimizers".

    Parameters
    ----------
    F : array_like, shape (N, k)
        Features of each population point.
    labels : array_like of int, shape (N,)
    p : array_like, shape (N,), optional
        Probabilities of the points (default uniform).
    """
    y = labels
    if p is None:
        p = np.full(F.shape[0], 1.0 / F.shape[0])
    _, groups = np.unique(np.round(F, 12), axis=0, return_inverse=True)
    groups = groups.ravel()
    classes = np.unique(y)
    mass = np.zeros((groups.max() + 1, classes.size))
    np.add.at(mass, (groups, np.searchsorted(classes, y)), p)
    return float(np.sum(mass.sum(axis=1) - mass.max(axis=1)))
