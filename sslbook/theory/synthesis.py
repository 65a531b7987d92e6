r"""The identities that make the book's frameworks one (exact, finite alphabets; numpy and scipy only).

* :func:`ci_lemma_terms` evaluates every object of the conditional-independence lemma of Lee et al. on a finite
  joint table :math:`P(x_1,y,x_2)`: the pretext optimum :math:`\psi^*(x_1)=\mathbb E[X_2\mid x_1]` (from the
  :math:`(X_1,X_2)` marginal alone), the matrix :math:`A=[\mathbb E[X_2\mid Y=y]]_y`, the posterior and the CI
  violation.
* :func:`hmm_next_token_joint` builds the table :math:`P(x_{1:T},H_{T+1},X_{T+1})` of a hidden Markov model by
  summing over every hidden path, so that the HMM identity :math:`G=Bq` can be read as that lemma.
* :func:`reconstruction_risk` is the reconstruction loss :math:`\mathbb E\|e_W-\psi(S)\|^2` of a next-word
  predictor, the quantity that Quad rescales.
* :func:`partition_erm_risk` is the exact expected error of the empirical risk minimiser over all functions that
  are constant on the cells of a partition of the contexts (a lookup table when every context is its own cell).

See: Chapter "One framework, several assumptions", Section "One framework, as identities".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_int, check_memory, check_simplex

__all__ = [
    "CILemmaTerms",
    "PartitionERMRisk",
    "ci_lemma_terms",
    "hmm_next_token_joint",
    "partition_erm_risk",
    "reconstruction_risk",
]


@dataclass(frozen=True)
class CILemmaTerms:
    r"""The objects of the CI lemma on a finite joint (see :func:`ci_lemma_terms`).

    Attributes
    ----------
    p_x1 : numpy.ndarray
        Shape ``(n1,)``.
        :math:`P(X_1=a)`.
    psi_star : numpy.ndarray
        Shape ``(n1, d2)``.
        :math:`\psi^*(a)=\mathbb E[X_2\mid X_1=a]`, from the :math:`(X_1,X_2)` marginal alone.
    A : numpy.ndarray
        Shape ``(d2, k)``.
        Columns :math:`\mathbb E[X_2\mid Y=y]`.
    posterior : numpy.ndarray
        Shape ``(n1, k)``.
        :math:`P(Y=y\mid X_1=a)`.
    ci_violation : float
        :math:`\max_{y,a,b}|P(a,b\mid y)-P(a\mid y)P(b\mid y)|` (0 exactly under :math:`X_1\perp X_2\mid Y`).
    lemma_residual : float
        :math:`\max_a\|\psi^*(a)-A\,P(Y\mid a)\|_\infty`.
    rank_A : int
        Numerical rank of :math:`A`.
    """

    p_x1: np.ndarray
    psi_star: np.ndarray
    A: np.ndarray
    posterior: np.ndarray
    ci_violation: float
    lemma_residual: float
    rank_A: int


def _joint_table(name: str, joint: ArrayLike, ndim: int) -> np.ndarray:
    P = check_array(name, joint, ndim=ndim)
    if P.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {P.shape}")
    if np.any(P < 0) or not np.isclose(P.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"{name} must be non-negative and sum to 1, got total {P.sum():.6g}")
    return P


def ci_lemma_terms(joint: ArrayLike, alphabet: ArrayLike | None = None) -> CILemmaTerms:
    r"""Every object of the CI lemma on a finite joint table :math:`P(X_1=a,Y=y,X_2=b)`.

    .. math:: \psi^*(a)=\frac{\sum_bP(a,b)\,x_2(b)}{P(a)},\qquad
              A_{:,y}=\frac{\sum_{a,b}P(a,y,b)\,x_2(b)}{P(y)},\qquad
              P(y\mid a)=\frac{\sum_bP(a,y,b)}{P(a)},

    where :math:`x_2(b)` is row :math:`b` of ``alphabet`` (the one-hot vector :math:`e_b` by default). The
    lemma says :math:`\psi^*=A\,P(Y\mid\cdot)` when :math:`X_1\perp X_2\mid Y`; this function computes both
    sides separately and reports the residual.

    See: Chapter "One framework, several assumptions", Section "One framework, as identities"; Chapter
    "Predicting what you already know", Lemma "Conditional independence makes the target linear".

    Parameters
    ----------
    joint : array_like, shape (n1, k, n2)
        Non-negative, summing to 1; every :math:`P(X_1=a)` and :math:`P(Y=y)` positive.
    alphabet : array_like, shape (n2, d2), optional
        The values of :math:`X_2` (default: the identity, i.e. :math:`X_2` one-hot).

    Returns
    -------
    CILemmaTerms
    """
    P = _joint_table("joint", joint, 3)
    n1, k, n2 = P.shape
    values = np.eye(n2) if alphabet is None else check_array("alphabet", alphabet, ndim=2)
    if values.shape[0] != n2:
        raise ValueError(f"alphabet must have {n2} rows (one per value of X2), got shape {values.shape}")
    p_x1, p_y = P.sum(axis=(1, 2)), P.sum(axis=(0, 2))
    if np.any(p_x1 <= 0) or np.any(p_y <= 0):
        raise ValueError("joint must give every value of X1 and of Y a positive probability")
    p12 = P.sum(axis=1)
    psi_star = (p12 @ values) / p_x1[:, None]
    A = ((P.sum(axis=0) @ values) / p_y[:, None]).T
    posterior = P.sum(axis=2) / p_x1[:, None]
    cond = P / p_y[None, :, None]                                   # P(a, b | y)
    product = cond.sum(axis=2)[:, :, None] * cond.sum(axis=0)[None, :, :]
    return CILemmaTerms(
        p_x1=p_x1, psi_star=psi_star, A=A, posterior=posterior,
        ci_violation=float(np.abs(cond - product).max()),
        lemma_residual=float(np.abs(psi_star - posterior @ A.T).max()),
        rank_A=int(np.linalg.matrix_rank(A)))


def hmm_next_token_joint(pi: ArrayLike, A: ArrayLike, B: ArrayLike, T: int) -> np.ndarray:
    r"""The table :math:`P(x_{1:T},H_{T+1}=h,X_{T+1}=x)` of an HMM, by a sum over every hidden path.

    .. math:: P(x_{1:T},h_{T+1},x_{T+1})=\sum_{h_{1:T}}\pi_{h_1}B_{x_1h_1}\prod_{t=2}^{T+1}A_{h_{t-1}h_t}
              \prod_{t=2}^{T}B_{x_th_t}\;B_{x_{T+1}h_{T+1}} .

    No forward recursion is used: the :math:`m^{T+1}` paths are enumerated explicitly, so the table is an
    independent route to the quantities that :meth:`sslbook.data.HMM.enumerate_contexts` computes recursively.
    Contexts are in lexicographic order (last token fastest), as in that method.

    See: Chapter "One framework, several assumptions", Section "One framework, as identities".

    Parameters
    ----------
    pi : array_like, shape (m,)
        Initial distribution.
    A : array_like, shape (m, m)
        Transition matrix (rows on the simplex).
    B : array_like, shape (V, m)
        Emission matrix (columns on the simplex).
    T : int
        Context length (>= 1).

    Returns
    -------
    numpy.ndarray, shape (V**T, m, V)
    """
    pi = check_simplex("pi", pi, ndim=1)
    A = check_simplex("A", A, ndim=2)
    B = check_array("B", B, ndim=2)
    T = check_int("T", T, minimum=1)
    m = pi.size
    if A.shape != (m, m):
        raise ValueError(f"A must have shape ({m}, {m}) to match pi, got {A.shape}")
    if B.shape[1] != m:
        raise ValueError(f"B must have {m} columns (one per hidden state), got shape {B.shape}")
    check_simplex("B", B.T, ndim=2)
    V = B.shape[0]
    check_memory("T", 8.0 * (V**T * m**(T + 1) + V**T * m * V), what="the table over contexts and hidden paths")
    paths = np.stack(np.unravel_index(np.arange(m ** (T + 1)), (m,) * (T + 1)), axis=1)
    contexts = np.stack(np.unravel_index(np.arange(V**T), (V,) * T), axis=1)
    weight = pi[paths[:, 0]] * np.prod(A[paths[:, :-1], paths[:, 1:]], axis=1)      # P(h_{1:T+1})
    emit = np.ones((V**T, paths.shape[0]))
    for t in range(T):
        emit *= B[contexts[:, t][:, None], paths[:, t][None, :]]                     # P(x_{1:T} | h_{1:T})
    onehot_last = np.eye(m)[paths[:, -1]]                                              # 1[h_{T+1} = h]
    p_ctx_state = (emit * weight) @ onehot_last                                        # P(x_{1:T}, h_{T+1})
    return p_ctx_state[:, :, None] * B.T[None, :, :]


@check_shapes(p_context=Shape("S", simplex=True), p_next=Shape("S V", simplex=True), psi="S V")
def reconstruction_risk(p_context: ArrayLike, p_next: ArrayLike, psi: ArrayLike) -> float:
    r"""The reconstruction loss :math:`\mathbb E\|e_W-\psi(S)\|^2` of a next-word predictor, by enumeration.

    .. math:: \sum_sp_L(s)\sum_wp^*_s(w)\,\|e_w-\psi(s)\|^2 ,

    the pretext loss of Lee et al. with :math:`X_1=S` (the context) and :math:`X_2=e_W` (the next word, one-hot).
    For :math:`\psi=\Phi^\top f`, it equals :math:`1+2\,\ell_{quad}(f,\Phi)` (completing the square).

    See: Chapter "One framework, several assumptions", Section "One framework, as identities".

    Parameters
    ----------
    p_context : array_like, shape (S,)
        Context distribution :math:`p_L`.
    p_next : array_like, shape (S, V)
        Next-word distributions (rows on the simplex).
    psi : array_like, shape (S, V)
        Predictions :math:`\psi(s)\in\mathbb R^V`.

    Returns
    -------
    float
    """
    p_L, p = p_context, p_next
    S, V = p.shape
    check_memory("p_next", 8.0 * S * V * V, what="the (context, word, coordinate) table")
    diff = np.eye(V)[None, :, :] - psi[:, None, :]                                    # e_w - psi(s)
    return float(np.sum(p_L[:, None] * p * np.sum(diff**2, axis=2)))


@dataclass(frozen=True)
class PartitionERMRisk:
    r"""Exact expected error of the cell-wise empirical-mean predictor (see :func:`partition_erm_risk`).

    Attributes
    ----------
    total : float
        :math:`\mathbb E_{\rm data}\,\mathbb E_X\|\hat\psi(X)-\psi^*(X)\|^2`, the sum of the three terms below.
    approximation : float
        :math:`\mathbb E_X\|m_{c(X)}-\psi^*(X)\|^2` (zero when every context is its own cell).
    estimation : float
        :math:`\sum_cP(c)\,(1-\|m_c\|^2)\,\mathbb E[J_c^{-1};J_c\ge1]` (the variance of non-empty cells).
    empty_cells : float
        :math:`\sum_cP(c)(1-P(c))^n\|d-m_c\|^2` (cells that no sample reached, predicted by the default).
    unseen_mass : float
        :math:`\sum_cP(c)(1-P(c))^n`, the expected probability of an empty cell.
    """

    total: float
    approximation: float
    estimation: float
    empty_cells: float
    unseen_mass: float


@check_shapes(p_x=Shape("S", simplex=True), psi_star=Shape("S V", simplex=True), cells=Shape("S", dtype="int"),
              default=Shape("V", optional=True))
def partition_erm_risk(p_x: ArrayLike, psi_star: ArrayLike, cells: ArrayLike, n: int,
                       default: ArrayLike | None = None) -> PartitionERMRisk:
    r"""Exact expected error of the empirical risk minimiser over functions constant on the cells of a partition.

    With :math:`n` i.i.d. pairs :math:`(X,e_W)`, :math:`X\sim p_x` and :math:`P(W\mid X=x)=\psi^*(x)`, the
    minimiser of :math:`\sum_i\|e_{w_i}-\psi(x_i)\|^2` over functions constant on each cell :math:`c` is the
    empirical mean :math:`\hat\psi_c` of the :math:`J_c` one-hot targets in that cell (``default`` where
    :math:`J_c=0`). With :math:`m_c=\mathbb E[e_W\mid X\in c]` and :math:`J_c\sim\mathrm{Bin}(n,P(c))`,

    .. math:: \mathbb E\,\mathbb E_X\|\hat\psi(X)-\psi^*(X)\|^2
              =\mathbb E_X\|m_{c(X)}-\psi^*(X)\|^2+\sum_cP(c)\Big[(1-\|m_c\|^2)\,\mathbb E[J_c^{-1};J_c\ge1]
              +(1-P(c))^n\,\|d-m_c\|^2\Big].

    The cross terms vanish because :math:`m_c` is the :math:`p_x`-weighted mean of :math:`\psi^*` over the cell and
    :math:`\hat\psi_c` is unbiased for :math:`m_c` given :math:`J_c\ge1`. One cell per context is the ERM over
    *all* functions (a lookup table).

    See: Chapter "One framework, several assumptions", Section "One framework, as identities".

    Parameters
    ----------
    p_x : array_like, shape (S,)
        Law of the contexts.
    psi_star : array_like, shape (S, V)
        :math:`\psi^*(x)=P(W\mid x)` (rows on the simplex).
    cells : array_like of int, shape (S,)
        Cell index of each context, in ``0 .. C-1``; every cell non-empty.
    n : int
        Number of sampled pairs (>= 1).
    default : array_like, shape (V,), optional
        Prediction on empty cells (default: the mean :math:`\mathbb E[e_W]`).

    Returns
    -------
    PartitionERMRisk
    """
    psi = psi_star
    n = check_int("n", n, minimum=1)
    n_cells = int(cells.max()) + 1 if cells.size else 0
    if cells.min() < 0 or np.unique(cells).size != n_cells:
        raise ValueError(f"cells must use every index 0 .. {n_cells - 1} at least once")
    d = psi.T @ p_x if default is None else default
    check_memory("n", 8.0 * n_cells * n, what="the binomial table of cell counts")
    member = np.eye(n_cells)[cells]                                   # (S, C)
    P_c = member.T @ p_x
    if np.any(P_c <= 0):
        raise ValueError("every cell must have positive probability")
    m_c = (member * p_x[:, None]).T @ psi / P_c[:, None]
    approx = float(np.sum(p_x * np.sum((psi - m_c[cells]) ** 2, axis=1)))
    j = np.arange(1, n + 1)
    inv_j = stats.binom.pmf(j[None, :], n, P_c[:, None]) @ (1.0 / j)  # E[1/J; J >= 1]
    empty = (1.0 - P_c) ** n
    estimation = float(np.sum(P_c * (1.0 - np.sum(m_c**2, axis=1)) * inv_j))
    empty_term = float(np.sum(P_c * empty * np.sum((d[None] - m_c) ** 2, axis=1)))
    return PartitionERMRisk(total=approx + estimation + empty_term, approximation=approx, estimation=estimation,
                            empty_cells=empty_term, unseen_mass=float(np.sum(P_c * empty)))
