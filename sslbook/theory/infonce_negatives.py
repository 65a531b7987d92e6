r"""Perfect encoders and the finite-negative bias of the contrastive loss (Wang and Isola, ICML 2020), exactly.

* On a finite data set whose natural inputs have disjoint, equal-size augmentation sets, the large-:math:`N`
  limit :math:`-\frac1\tau\mathbb E_{\rm pos}[f(x)^\top f(y)]+\mathbb E_x\log\mathbb E_{x^-}e^{f(x^-)^\top f(x)/\tau}`
  of any encoder is a finite sum (:func:`finite_limit_terms`); among perfectly aligned encoders it is smallest
  when the :math:`m` classes sit at the vertices of a regular simplex (:func:`simplex_limit`).
* The expected NT-Xent loss of a batch of :math:`n_{\rm b}` distinct inputs, for an encoder that maps every
  input of a class to one point, is a hypergeometric sum (:func:`ntxent_collapsed_loss`): its :math:`2n_{\rm b}-2`
  in-batch negatives come in pairs and exclude the anchor's own input, so they are not independent negatives.
* With :math:`N` i.i.d. negatives whose similarity to the anchor has a finite law, the loss minus
  :math:`\log N` exceeds its limit by a bias :math:`c_1/N+O(N^{-3/2})` (:func:`first_order_bias`); for a
  two-point law the bias and an explicit bound on the remainder are exact binomial sums
  (:func:`two_point_bias`, :func:`two_point_remainder_bound`).

See: Chapter "InfoNCE, alignment and uniformity", "Perfect encoders" and "The bias of finitely many negatives".
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from scipy.stats import binom, hypergeom

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int

__all__ = ["finite_limit_terms", "first_order_bias", "ntxent_collapsed_loss", "simplex_limit", "two_point_bias",
           "two_point_remainder_bound"]


def simplex_limit(m: int, tau: float) -> float:
    r"""Large-:math:`N` limit of the contrastive loss minus :math:`\log N` for a perfectly aligned encoder that
    puts :math:`m` equally likely classes at the vertices of a regular simplex.

    .. math:: \ell^*_m(\tau) = -\frac1\tau + \log\frac{e^{1/\tau}+(m-1)\,e^{-1/(\tau(m-1))}}{m},

    since the inner products of distinct vertices are all :math:`-1/(m-1)`. It is the minimum over perfectly
    aligned encoders (book: ``prop-perfect-encoders``); the simplex exists on :math:`S^{d-1}` iff :math:`d\ge m-1`.

    See: Chapter "InfoNCE, alignment and uniformity", "Perfect encoders".

    Parameters
    ----------
    m : int
        Number of classes (natural inputs), :math:`m\ge2`.
    tau : float
        Temperature :math:`\tau>0`.

    Returns
    -------
    float
    """
    m = check_int("m", m, minimum=2)
    tau = check_float("tau", tau, minimum=0.0, strict_min=True)
    terms = np.array([1.0 / tau, np.log(m - 1) - 1.0 / (tau * (m - 1))])
    return float(-1.0 / tau + logsumexp(terms) - np.log(m))


@check_shapes(features="n d", groups=Shape("n", dtype="int"))
def finite_limit_terms(features, groups, tau: float) -> tuple[float, float]:
    r"""The two terms of the large-:math:`N` limit for an encoder on a finite set of augmented inputs.

    The data distribution is uniform on the :math:`n` augmented inputs; a positive pair is :math:`x` uniform and
    :math:`y` uniform among the inputs with the same group (natural input) as :math:`x`, :math:`y=x` allowed (two
    independent augmentations), so both marginals are uniform. Returns

    .. math:: \Big(-\frac1\tau\,\frac1n\sum_x\frac1{|G(x)|}\sum_{y\in G(x)}f(x)^\top f(y),\quad
              \frac1n\sum_x\log\frac1n\sum_{x^-}e^{f(x^-)^\top f(x)/\tau}\Big),

    the alignment and uniformity terms of the limit (exact expectations).

    See: Chapter "InfoNCE, alignment and uniformity", "Perfect encoders".

    Parameters
    ----------
    features : array_like, shape (n, d)
        :math:`f(x)` for each augmented input, unit vectors.
    groups : array_like of int, shape (n,)
        The natural input of each augmented input.
    tau : float
        Temperature :math:`\tau>0`.

    Returns
    -------
    tuple of float
        (alignment term, uniformity term).
    """
    F, g = features, groups
    tau = check_float("tau", tau, minimum=0.0, strict_min=True)
    if not np.allclose(np.linalg.norm(F, axis=1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("features must be unit vectors (rows of norm 1)")
    S = F @ F.T / tau
    same = g[:, None] == g[None, :]
    align_term = -float(np.mean((S * same).sum(axis=1) / same.sum(axis=1)))
    uniform_term = float(np.mean(logsumexp(S, axis=1) - np.log(F.shape[0])))
    return align_term, uniform_term


@check_shapes(s_values="k", probs=Shape("k", simplex=True))
def first_order_bias(s_pos: float, s_values, probs) -> float:
    r"""Coefficient :math:`c_1` of the :math:`1/N` bias of the contrastive loss with :math:`N` i.i.d. negatives.

    For one anchor with positive similarity :math:`s^+` and negatives whose similarity :math:`s` (already divided
    by :math:`\tau`) takes the value ``s_values[j]`` with probability ``probs[j]``, with
    :math:`g=\mathbb E e^{s}` and :math:`V=\operatorname{Var}e^{s}`,

    .. math:: \mathbb E\log\Big(e^{s^+}+\sum_{i=1}^Ne^{s_i}\Big)-\log N-\log g = \frac{c_1}N+O(N^{-3/2}),\qquad
              c_1=\frac{e^{s^+}}g-\frac V{2g^2}

    (book: ``prop-infonce-bias``).

    See: Chapter "InfoNCE, alignment and uniformity", "The bias of finitely many negatives".

    Parameters
    ----------
    s_pos : float
        :math:`s^+=f(x)^\top f(y)/\tau`.
    s_values : array_like, shape (k,)
        Support of the negatives' similarity :math:`f(x^-)^\top f(x)/\tau`.
    probs : array_like, shape (k,)
        Its probabilities.

    Returns
    -------
    float
    """
    s_pos = check_float("s_pos", s_pos)
    v, p = s_values, probs
    e = np.exp(v)
    g = float(p @ e)
    var = float(p @ (e - g) ** 2)
    return float(np.exp(s_pos) / g - var / (2 * g * g))


def _two_point(n_negatives, s_pos, s_values, p_first):
    N = check_int("n_negatives", n_negatives, minimum=1)
    s_pos = check_float("s_pos", s_pos)
    v = s_values
    p = check_float("p_first", p_first, minimum=0.0, maximum=1.0)
    # the number K of negatives at the first value is Binomial(N, p); its mass outside mean +- 40 sd is < 1e-300
    sd = np.sqrt(N * p * (1 - p))
    lo, hi = max(0, int(N * p - 40 * sd) - 10), min(N, int(N * p + 40 * sd) + 10)
    K = np.arange(lo, hi + 1)
    w = binom.pmf(K, N, p)
    e = np.exp(v)
    g = p * e[0] + (1 - p) * e[1]
    # Y = e^{s+}/N + (mean of the N exponentials) - g, exactly, for each K
    Y = np.exp(s_pos) / N + (K * (e[0] - e[1])) / N + e[1] - g
    return N, s_pos, v, g, w, Y


@check_shapes(s_values="2")
def two_point_bias(n_negatives: int, s_pos: float, s_values, p_first: float) -> float:
    r"""Exact bias :math:`\mathcal L(N)-\log N-\mathcal L_\infty` for one anchor whose negatives' similarity takes
    two values.

    With :math:`s_i\in\{a_1,a_2\}` i.i.d., :math:`\mathbb P(s_i=a_1)=p`, the number :math:`K` of negatives at
    :math:`a_1` is Binomial(:math:`N,p`) and

    .. math:: b_N=\mathbb E\log\Big(e^{s^+}+Ke^{a_1}+(N-K)e^{a_2}\Big)-\log N-\log g
              =\sum_K\binom NKp^K(1-p)^{N-K}\log\Big(1+\frac{Y_K}g\Big),

    :math:`g=pe^{a_1}+(1-p)e^{a_2}`, :math:`Y_K=e^{s^+}/N+(Ke^{a_1}+(N-K)e^{a_2})/N-g`, summed with
    ``log1p`` (accurate when :math:`b_N` is tiny). The contrastive loss with :math:`N` negatives of this anchor is
    :math:`-s^++\log N+\log g+b_N`.

    See: Chapter "InfoNCE, alignment and uniformity", "The bias of finitely many negatives".

    Parameters
    ----------
    n_negatives : int
        :math:`N\ge1`.
    s_pos : float
        :math:`s^+` (similarity divided by :math:`\tau`).
    s_values : array_like, shape (2,)
        :math:`(a_1,a_2)`.
    p_first : float
        :math:`p=\mathbb P(s_i=a_1)\in[0,1]`.

    Returns
    -------
    float
    """
    _, _, _, g, w, Y = _two_point(n_negatives, s_pos, s_values, p_first)
    return float(w @ np.log1p(Y / g))


@check_shapes(s_values="2")
def two_point_remainder_bound(n_negatives: int, s_pos: float, s_values, p_first: float) -> float:
    r"""Bound on the remainder :math:`R_N=b_N-c_1/N+e^{2s^+}/(2g^2N^2)` of the finite-negative bias.

    Taylor's formula with the Lagrange remainder, :math:`\log(g+Y)=\log g+Y/g-Y^2/(2g^2)+Y^3/(3\xi^3)` with
    :math:`\xi` between :math:`g` and :math:`g+Y`, both at least :math:`e^{s_{\min}}`, gives

    .. math:: |R_N|\le\frac{e^{-3s_{\min}}}3\,\mathbb E|Y_N|^3,\qquad s_{\min}=\min(a_1,a_2),

    with :math:`\mathbb E|Y_N|^3` an exact binomial sum (it is :math:`O(N^{-3/2})`).

    See: Chapter "InfoNCE, alignment and uniformity", "The bias of finitely many negatives".

    Parameters
    ----------
    n_negatives : int
    s_pos : float
    s_values : array_like, shape (2,)
    p_first : float

    Returns
    -------
    float
    """
    _, _, v, _, w, Y = _two_point(n_negatives, s_pos, s_values, p_first)
    return float(np.exp(-3 * v.min()) / 3 * (w @ np.abs(Y) ** 3))


@check_shapes(s_values="2")
def ntxent_collapsed_loss(n_inputs: int, n_classes: int, batch_size: int, s_pos: float, s_values) -> float:
    r"""Exact expected NT-Xent loss for a class-collapsed, perfectly aligned encoder and a random batch.

    The data set has ``n_inputs`` natural inputs in ``n_classes`` classes of equal size; the encoder maps both
    views of every input of class :math:`c` to the same point, so an anchor's positive has similarity
    :math:`s^+` and another input has similarity :math:`a_1` (same class) or :math:`a_2` (other class), all
    divided by :math:`\tau`. A batch is :math:`n_{\rm b}` distinct inputs drawn uniformly without replacement
    (as :func:`sslbook.train.train_views` draws rows). Each of the :math:`n_{\rm b}-1` other inputs gives two
    in-batch negatives with the same similarity, and the number :math:`J` of them in the anchor's class is
    hypergeometric (:math:`n_{\rm b}-1` draws from :math:`D-1` inputs of which :math:`D/m-1` are in that class):

    .. math:: \mathbb E\,\mathcal L_{\rm NT\text{-}Xent}=\sum_J\mathbb P(J)\Big[-s^++\log\Big(e^{s^+}+2Je^{a_1}
              +2(n_{\rm b}-1-J)e^{a_2}\Big)\Big]

    (book: ``prop-ntxent-inbatch``).

    See: Chapter "InfoNCE, alignment and uniformity", "In-batch negatives are not independent".

    Parameters
    ----------
    n_inputs : int
        :math:`D`, a multiple of ``n_classes``.
    n_classes : int
        :math:`m\ge1`.
    batch_size : int
        :math:`n_{\rm b}`, with :math:`2\le n_{\rm b}\le D`.
    s_pos : float
        :math:`s^+`.
    s_values : array_like, shape (2,)
        :math:`(a_1, a_2)`: same-class and other-class similarities.

    Returns
    -------
    float
    """
    D = check_int("n_inputs", n_inputs, minimum=2)
    m = check_int("n_classes", n_classes, minimum=1)
    if D % m:
        raise ValueError(f"n_inputs ({D}) must be a multiple of n_classes ({m})")
    nb = check_int("batch_size", batch_size, minimum=2, maximum=D)
    s_pos = check_float("s_pos", s_pos)
    e = np.exp(s_values)
    J = np.arange(nb)
    w = hypergeom.pmf(J, D - 1, D // m - 1, nb - 1)
    terms = np.log(np.exp(s_pos) + 2 * J * e[0] + 2 * (nb - 1 - J) * e[1]) - s_pos
    return float(w @ terms)
