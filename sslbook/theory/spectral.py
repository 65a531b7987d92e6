r"""The spectral contrastive loss on a finite augmentation graph: exact values, minimizers and bounds.

Pure numpy. A graph is given as an :class:`sslbook.data.AugmentationGraph` (anything with attributes ``W``,
and ``p_bar``, ``A``, ``labels`` where needed) or directly as a weight matrix :math:`W` (symmetric,
non-negative, summing to 1). Notation: :math:`w_x` degrees, :math:`\bar A=D^{-1/2}WD^{-1/2}` with eigenvalues
:math:`\lambda_1\ge\lambda_2\ge\dots` (descending), :math:`L=I-\bar A` with eigenvalues
:math:`\nu_i=1-\lambda_i` (ascending) (HaoChen, Wei, Gaidon and Ma, 2021).

See: Chapter "The augmentation graph and the spectral contrastive loss".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import Shape, bind_shapes
from sslbook._validation import check_array, check_int

__all__ = [
    "HaoChenBound",
    "LowRankPSD",
    "SpectralSolution",
    "dirichlet_energy",
    "eckart_young",
    "graph_laplacian_spectrum",
    "haochen_bound",
    "normalized_adjacency",
    "spectral_closed_form",
    "spectral_loss",
    "spectral_loss_matrix",
]


def _weights(graph_or_W) -> np.ndarray:
    """The weight matrix W of a graph object or an array, validated."""
    W = getattr(graph_or_W, "W", graph_or_W)
    W = check_array("graph_or_W", W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"graph_or_W must be a square weight matrix, got shape {W.shape}")
    if np.any(W < 0) or not np.allclose(W, W.T, rtol=0, atol=1e-12):
        raise ValueError("graph_or_W must be symmetric with non-negative entries")
    if not np.isclose(W.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"graph_or_W must sum to 1 (a joint distribution of positive pairs), got {W.sum():.6g}")
    if np.any(W.sum(axis=1) <= 0):
        raise ValueError("graph_or_W has a vertex of zero degree")
    return W


def _features(name: str, f, n: int) -> np.ndarray:
    f = check_array(name, f, ndim=(1, 2))
    if f.ndim == 1:
        f = f[:, None]
    if f.shape[0] != n:
        raise ValueError(f"{name} must have one row per vertex ({n}), got {f.shape[0]}")
    return f


def normalized_adjacency(graph_or_W) -> np.ndarray:
    r"""Normalized adjacency :math:`\bar A=D^{-1/2}WD^{-1/2}`, :math:`D=\operatorname{diag}(w)`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The augmentation graph".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)

    Returns
    -------
    numpy.ndarray, shape (N, N)
    """
    W = _weights(graph_or_W)
    s = 1.0 / np.sqrt(W.sum(axis=1))
    return s[:, None] * W * s[None, :]


def graph_laplacian_spectrum(graph_or_W) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues :math:`0=\nu_1\le\nu_2\le\dots\le\nu_N` of :math:`L=I-\bar A` and orthonormal eigenvectors.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The augmentation graph".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)

    Returns
    -------
    nu : numpy.ndarray, shape (N,)
        Ascending (:math:`\nu_i=1-\lambda_i(\bar A)`).
    U : numpy.ndarray, shape (N, N)
        Column ``i`` is the eigenvector of ``nu[i]``.
    """
    Abar = normalized_adjacency(graph_or_W)
    lam, U = np.linalg.eigh(Abar)  # ascending in lambda
    return 1.0 - lam[::-1], U[:, ::-1]


def spectral_loss(graph_or_W, f) -> float:
    r"""Population spectral contrastive loss of a representation :math:`f` of the vertices.

    .. math:: L(f) = -2\sum_{x,x'}w_{xx'}\,f(x)^\top f(x') + \sum_{x,x'}w_xw_{x'}\,\big(f(x)^\top f(x')\big)^2
              = -2\,\mathbb E_{(x,x^+)}[f(x)^\top f(x^+)] + \mathbb E_{x,x'}[(f(x)^\top f(x'))^2].

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The spectral contrastive loss".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)
    f : array_like, shape (N, k) or (N,)
        Row :math:`x` is :math:`f(x)`.

    Returns
    -------
    float
    """
    W = _weights(graph_or_W)
    f = _features("f", f, W.shape[0])
    w = W.sum(axis=1)
    G = f @ f.T
    return float(-2.0 * np.sum(W * G) + w @ (G**2) @ w)


def spectral_loss_matrix(graph_or_W, f) -> float:
    r"""The spectral loss in matrix form, :math:`\|\bar A-FF^\top\|_F^2-\|\bar A\|_F^2` with :math:`F_x=\sqrt{w_x}f(x)`.

    Equal to :func:`spectral_loss` (an identity, checked in the chapter).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The loss as a matrix factorization".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)
    f : array_like, shape (N, k) or (N,)

    Returns
    -------
    float
    """
    W = _weights(graph_or_W)
    f = _features("f", f, W.shape[0])
    Abar = normalized_adjacency(W)
    F = np.sqrt(W.sum(axis=1))[:, None] * f
    return float(np.sum((Abar - F @ F.T) ** 2) - np.sum(Abar**2))


@dataclass(frozen=True)
class LowRankPSD:
    r"""Best approximation :math:`FF^\top` of a symmetric matrix by a PSD matrix of rank at most :math:`k`."""

    F: np.ndarray  #: (n, k) factor, column i = sqrt(max(lambda_i, 0)) u_i
    eigenvalues: np.ndarray  #: all eigenvalues of S, descending
    error: float  #: min ||S - FF^T||_F^2 = sum_i lambda_i^2 - sum_{i<=k} max(lambda_i, 0)^2
    k: int


def eckart_young(S, k: int) -> LowRankPSD:
    r"""Eckart–Young for PSD factors: :math:`\min_{F\in\mathbb R^{n\times k}}\|S-FF^\top\|_F^2`.

    For symmetric :math:`S` with eigenpairs :math:`(\lambda_i,u_i)`, :math:`\lambda_1\ge\dots\ge\lambda_n`,

    .. math:: \min_F\|S-FF^\top\|_F^2=\sum_{i=1}^n\lambda_i^2-\sum_{i=1}^k\max(\lambda_i,0)^2,

    attained at :math:`F=[\sqrt{\max(\lambda_1,0)}\,u_1,\dots,\sqrt{\max(\lambda_k,0)}\,u_k]` (and at :math:`FO` for
    any orthogonal :math:`O`).

    See: Chapter "The augmentation graph and the spectral contrastive loss", Lemma "Eckart–Young".

    Parameters
    ----------
    S : array_like, shape (n, n)
        Symmetric.
    k : int
        Rank, :math:`1\le k\le n`.

    Returns
    -------
    LowRankPSD
    """
    S = check_array("S", S, ndim=2)
    if S.shape[0] != S.shape[1] or not np.allclose(S, S.T, rtol=0, atol=1e-10 * max(1.0, np.abs(S).max())):
        raise ValueError(f"S must be a symmetric square matrix, got shape {S.shape}")
    k = check_int("k", k, minimum=1, maximum=S.shape[0])
    lam, U = np.linalg.eigh((S + S.T) / 2)
    lam, U = lam[::-1], U[:, ::-1]
    top = np.maximum(lam[:k], 0.0)
    F = U[:, :k] * np.sqrt(top)[None, :]
    error = float(np.sum(lam**2) - np.sum(top**2))
    return LowRankPSD(F=F, eigenvalues=lam, error=error, k=k)


@dataclass(frozen=True)
class SpectralSolution:
    r"""A minimizer of the spectral contrastive loss with :math:`k` features, and the minimum."""

    f: np.ndarray | None  #: (N, k) the representation f*(x) = F*_x / sqrt(w_x) (None without degrees)
    F: np.ndarray  #: (N, k) the matrix minimizer F* = U_k diag(sqrt(max(lambda_i, 0)))
    eigenvalues: np.ndarray  #: eigenvalues lambda_i of Abar, descending
    value: float  #: min L(f) = -sum_{i<=k} max(lambda_i, 0)^2
    k: int


def spectral_closed_form(graph_or_Abar, k: int, *, w=None) -> SpectralSolution:
    r"""Closed-form minimizer of the spectral contrastive loss: the top-:math:`k` eigenvectors of :math:`\bar A`.

    .. math:: F^* = [\sqrt{\lambda_1}u_1,\dots,\sqrt{\lambda_k}u_k],\qquad f^*(x)=F^*_x/\sqrt{w_x},\qquad
              \min_f L(f) = -\sum_{i\le k}\lambda_i(\bar A)^2

    (with :math:`\max(\lambda_i,0)` in place of :math:`\lambda_i` for a matrix that is not PSD).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "Minimizers are eigenvectors".

    Parameters
    ----------
    graph_or_Abar : AugmentationGraph or array_like, shape (N, N)
        A graph (uses its :math:`\bar A` and degrees :math:`w`) or a symmetric matrix taken as :math:`\bar A`.
    k : int
        Number of features, :math:`1\le k\le N`.
    w : array_like, shape (N,), optional
        Degrees, to return :math:`f^*` when an array is given (ignored for a graph).

    Returns
    -------
    SpectralSolution
    """
    if hasattr(graph_or_Abar, "W"):
        W = _weights(graph_or_Abar)
        Abar = normalized_adjacency(W)
        w = W.sum(axis=1)
    else:
        Abar = check_array("graph_or_Abar", graph_or_Abar, ndim=2)
        if Abar.shape[0] != Abar.shape[1] or not np.allclose(Abar, Abar.T, rtol=0, atol=1e-10):
            raise ValueError(f"graph_or_Abar must be a symmetric square matrix, got shape {Abar.shape}")
        if w is not None:
            w = check_array("w", w, ndim=1)
            if w.shape[0] != Abar.shape[0] or np.any(w <= 0):
                raise ValueError(f"w must be {Abar.shape[0]} positive degrees")
    ey = eckart_young(Abar, k)
    f = None if w is None else ey.F / np.sqrt(w)[:, None]
    value = -float(np.sum(np.maximum(ey.eigenvalues[: ey.k], 0.0) ** 2))
    return SpectralSolution(f=f, F=ey.F, eigenvalues=ey.eigenvalues, value=value, k=ey.k)


def dirichlet_energy(graph_or_W, u) -> float:
    r"""Dirichlet energy :math:`\tfrac12\sum_{x,x'}w_{xx'}(u(x)-u(x'))^2=\tfrac12\mathbb E_{(x,x^+)}(u(x)-u(x^+))^2`.

    For several functions (columns of ``u``) the energies are summed. In normalized coordinates
    :math:`g=\sqrt w\odot u` it equals :math:`g^\top Lg`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    graph_or_W : AugmentationGraph or array_like, shape (N, N)
    u : array_like, shape (N,) or (N, m)

    Returns
    -------
    float
    """
    W = _weights(graph_or_W)
    u = _features("u", u, W.shape[0])
    diff = u[:, None, :] - u[None, :, :]
    return float(0.5 * np.sum(W[:, :, None] * diff**2))


@dataclass(frozen=True)
class HaoChenBound:
    r"""The quantities of the exact downstream bound for the spectral minimizer with :math:`k` features."""

    k: int
    alpha: float  #: P(yhat(x) != y(xbar))
    delta: float  #: P(yhat(x) != yhat(x+)) over positive pairs
    nu_next: float  #: nu_{k+1}, the (k+1)-th smallest Laplacian eigenvalue
    residual: float  #: weighted least-squares residual of one-hot yhat regressed on f*
    residual_bound: float  #: delta / nu_{k+1}
    disagreement: float  #: P_w(probe(x) != yhat(x))
    disagreement_bound: float  #: 4 alpha / nu_{k+1}
    error: float  #: P(probe(x) != y(xbar))
    error_bound: float  #: 4 alpha / nu_{k+1} + alpha
    predictions: np.ndarray  #: (N,) the probe's class for each augmented input


def _ratio(a: float, b: float) -> float:
    if b <= 0:
        return 0.0 if a == 0 else float("inf")
    return a / b


def haochen_bound(graph, y_hat, k: int, *, labels=None) -> HaoChenBound:
    r"""Exact downstream quantities of the spectral minimizer :math:`f^*` with :math:`k` features.

    With :math:`\hat y` a labelling of augmented inputs, :math:`\alpha=\mathbb P(\hat y(x)\ne y(\bar x))`,
    :math:`\Delta=\mathbb P_{(x,x^+)}(\hat y(x)\ne\hat y(x^+))`, the probe
    :math:`x\mapsto\arg\max_c(Bf^*(x))_c` with :math:`B` minimizing
    :math:`\sum_xw_x\|e_{\hat y(x)}-Bf^*(x)\|^2` (its minimum is the *residual*), the chapter proves

    .. math:: \text{residual}\le\frac{\Delta}{\nu_{k+1}},\qquad
              \mathbb P_w(\text{probe}\ne\hat y)\le\frac{4\alpha}{\nu_{k+1}},\qquad
              \mathbb P(\text{probe}(x)\ne y(\bar x))\le\frac{4\alpha}{\nu_{k+1}}+\alpha .

    This function computes both sides (it asserts nothing). Requires :math:`\lambda_k(\bar A)>0`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    graph : AugmentationGraph
        Needs ``p_bar``, ``A`` and ``W`` (and ``labels`` unless given).
    y_hat : array_like of int, shape (N,)
        :math:`\hat y(x)` for every augmented input.
    k : int
        Number of features, :math:`1\le k<N`.
    labels : array_like of int, shape (n_natural,), optional
        :math:`y(\bar x)`; default ``graph.labels``.

    Returns
    -------
    HaoChenBound
    """
    for attr in ("p_bar", "A", "W"):
        if not hasattr(graph, attr):
            raise TypeError(f"graph must have attribute {attr!r} (an AugmentationGraph), got {type(graph).__name__}")
    W = _weights(graph)
    N = W.shape[0]
    labels = getattr(graph, "labels", None) if labels is None else labels
    if labels is None:
        raise ValueError("labels must be given when the graph has none")
    arrays = bind_shapes({"graph.p_bar": (graph.p_bar, "n"), "graph.A": (graph.A, "n N"),
                          "labels": (labels, Shape("n", dtype="int")), "y_hat": (y_hat, Shape("N", dtype="int"))},
                         dims={"N": N})
    p_bar, A, labels, y_hat = (arrays[name] for name in ("graph.p_bar", "graph.A", "labels", "y_hat"))
    if np.any(y_hat < 0):
        raise ValueError("y_hat must hold non-negative labels")
    k = check_int("k", k, minimum=1, maximum=N - 1)
    sol = spectral_closed_form(graph, k)
    if sol.eigenvalues[k - 1] <= 1e-12:
        raise ValueError(f"k={k} needs lambda_k(Abar) > 0, got {sol.eigenvalues[k - 1]:.3g}")
    nu_next = max(float(1.0 - sol.eigenvalues[k]), 0.0)
    w = W.sum(axis=1)
    n_cls = int(max(y_hat.max(), labels.max())) + 1
    Y = np.eye(n_cls)[y_hat]  # one-hot yhat, (N, C)
    joint = p_bar[:, None] * A  # P(xbar, x)
    alpha = float(np.sum(joint * (y_hat[None, :] != labels[:, None])))
    delta = float(np.sum(W * (y_hat[:, None] != y_hat[None, :])))
    # weighted least squares of Y on f*: B^T = (f^T D f)^{-1} f^T D Y
    f = sol.f
    coef = np.linalg.solve(f.T @ (w[:, None] * f), f.T @ (w[:, None] * Y))
    pred = f @ coef
    residual = float(np.sum(w[:, None] * (Y - pred) ** 2))
    cls = np.argmax(pred, axis=1)
    disagreement = float(np.sum(w * (cls != y_hat)))
    error = float(np.sum(joint * (cls[None, :] != labels[:, None])))
    return HaoChenBound(
        k=k,
        alpha=alpha,
        delta=delta,
        nu_next=nu_next,
        residual=residual,
        residual_bound=_ratio(delta, nu_next),
        disagreement=disagreement,
        disagreement_bound=_ratio(4.0 * alpha, nu_next),
        error=error,
        error_bound=_ratio(4.0 * alpha, nu_next) + alpha,
        predictions=cls,
    )
