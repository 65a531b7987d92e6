r"""Natural tasks and the √ε guarantee: cross-entropy, excess cross-entropy, coverage, the bound.

Pure numpy/scipy. Contexts are indexed by the rows of the arrays: ``p_star`` and ``q`` of shape ``(S, V)`` hold
one next-word distribution per context, ``p_context`` (:math:`p_L`) and ``p_task`` (:math:`p_{\mathcal T}`) are
distributions over the ``S`` contexts. Also the perturbed models of the chapter's explorer: the noise scale at
which a model has a prescribed excess cross-entropy, and task distributions of prescribed coverage.

See: Chapter "Natural tasks and the square-root guarantee" (Saunshi, Malladi and Arora, ICLR 2021).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_choice, check_float, check_simplex
from sslbook.theory.toolbox import kl_divergence

__all__ = [
    "coverage",
    "coverage_mixture",
    "excess_cross_entropy",
    "logistic_loss",
    "modified_pinsker_bound",
    "natural_task_bound",
    "natural_task_loss",
    "next_word_cross_entropy",
    "noise_scale",
]

#: A distribution over the S contexts, and one next-word distribution per context.
_CONTEXTS = Shape("S", simplex=True)
_NEXT_WORDS = Shape("S V", simplex=True)


def next_word_cross_entropy(p_star: ArrayLike, q: ArrayLike) -> np.ndarray:
    r"""Per-context cross-entropy :math:`\mathbb E_{w\sim p^*_{\cdot\mid s}}[-\ln q_{\cdot\mid s}(w)]` (nats).

    .. math:: \ell_{\mathrm{xent},s}(q)=-\sum_w p^*_{\cdot\mid s}(w)\ln q_{\cdot\mid s}(w)
              =H(p^*_{\cdot\mid s})+\mathrm{KL}(p^*_{\cdot\mid s}\,\|\,q_{\cdot\mid s}),

    with :math:`0\ln0=0`; it is :math:`+\infty` when :math:`q` gives probability 0 to a possible word.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Cross-entropy and ε-optimality".

    Parameters
    ----------
    p_star, q : array_like, shape (..., V)
        True and model next-word distributions, one per context.

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    p = check_simplex("p_star", p_star, ndim=None)
    q = check_simplex("q", q, ndim=None)
    if p.shape != q.shape:
        raise ValueError(f"p_star and q must have the same shape, got {p.shape} and {q.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0)
    return terms.sum(axis=-1)


@check_shapes(p_context=_CONTEXTS, p_star=_NEXT_WORDS, q=_NEXT_WORDS)
def excess_cross_entropy(p_context: ArrayLike, p_star: ArrayLike, q: ArrayLike) -> float:
    r"""Excess cross-entropy of a language model, :math:`\epsilon=\mathbb E_{s\sim p_L}\mathrm{KL}(p^*_s\|q_s)`.

    Here :math:`p^*_s=p^*_{\cdot\mid s}` and :math:`q_s=q_{\cdot\mid s}`.

    It equals :math:`\ell_{\mathrm{xent}}(\{q\})-\ell_{\mathrm{xent}}(\{p^*\})`: a model is
    :math:`\epsilon`-optimal exactly when this is :math:`\le\epsilon`.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Cross-entropy and ε-optimality".

    Parameters
    ----------
    p_context : array_like, shape (S,)
        The context distribution :math:`p_L`.
    p_star, q : array_like, shape (S, V)
        True and model next-word distributions.
    """
    kl = kl_divergence(p_star, q)
    mask = p_context > 0
    return float(np.sum(p_context[mask] * kl[mask]))


@check_shapes(p_task=_CONTEXTS, p_context=_CONTEXTS)
def coverage(p_task: ArrayLike, p_context: ArrayLike) -> float:
    r"""Coverage coefficient of a task distribution by the context distribution.

    .. math:: \gamma(p_{\mathcal T})=\sup\{\alpha\in(0,1]:\ \alpha\,p_{\mathcal T}(s)\le p_L(s)\ \forall s\}
              =\min_{s:\,p_{\mathcal T}(s)>0}\frac{p_L(s)}{p_{\mathcal T}(s)} ,

    so that :math:`\mathbb E_{p_{\mathcal T}}h\le\gamma^{-1}\,\mathbb E_{p_L}h` for every :math:`h\ge0` (change of
    measure). It is 1 iff :math:`p_{\mathcal T}=p_L`, and 0 when the task puts mass on a context with
    :math:`p_L(s)=0`.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Coverage coefficient".

    Parameters
    ----------
    p_task, p_context : array_like, shape (S,)
        :math:`p_{\mathcal T}` and :math:`p_L`.
    """
    mask = p_task > 0
    return float(min(1.0, np.min(p_context[mask] / p_task[mask])))


def natural_task_bound(tau: float, B: float, epsilon: ArrayLike, gamma: float) -> np.ndarray:
    r"""The √ε guarantee for natural tasks (Theorems LM-T1 and LM-T2 of the chapter).

    .. math:: \ell_{\mathcal T}\le\tau+\sqrt{\frac{2B^2\epsilon}{\gamma(p_{\mathcal T})}} .

    For a general language model :math:`\epsilon` is the excess cross-entropy over :math:`p^*`; for a softmax
    model it is the excess over the best model with the same word embeddings :math:`\Phi`.

    See: Chapter "Natural tasks and the square-root guarantee", Theorems "LM-T1" and "LM-T2".

    Parameters
    ----------
    tau : float
        Loss of the natural-task classifier on the true distributions, :math:`\tau\ge0`.
    B : float
        Max-norm :math:`\|v\|_\infty\ge0` of the task vector.
    epsilon : array_like
        Excess cross-entropies (non-negative).
    gamma : float
        Coverage coefficient in :math:`[0,1]`; 0 gives an infinite bound.
    """
    tau = check_float("tau", tau, minimum=0.0)
    B = check_float("B", B, minimum=0.0)
    gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0)
    eps = check_array("epsilon", epsilon, ndim=None)
    if np.any(eps < 0):
        raise ValueError("epsilon must be non-negative")
    if gamma == 0.0:
        return np.full(eps.shape, np.inf)
    return tau + np.sqrt(2.0 * B**2 * eps / gamma)


def logistic_loss(m: ArrayLike) -> np.ndarray:
    r"""Logistic loss in nats of a margin, :math:`\ell(m)=\ln(1+e^{-m})` (convex, 1-Lipschitz, :math:`\ell(0)=\ln2`).

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Natural task".

    Parameters
    ----------
    m : array_like
        Margins :math:`y\,(a^\top g+b)`.
    """
    return np.logaddexp(0.0, -check_array("m", m, ndim=None))


@check_shapes(scores="S", labels=Shape("S", dtype="int"), p_task=_CONTEXTS)
def natural_task_loss(scores: ArrayLike, labels: ArrayLike, p_task: ArrayLike, *, loss: str = "logistic") -> float:
    r"""Population loss of a linear classifier on a finite task: :math:`\sum_s p_{\mathcal T}(s)\,\ell(y_s\,u_s)`.

    ``scores`` are the classifier outputs :math:`u_s`, e.g. :math:`v^\top p_{\cdot\mid s}-c` or
    :math:`a^\top\Phi p_{f(s)}-c`. ``loss`` is ``"logistic"`` (:func:`logistic_loss`) or ``"hinge"``
    (:math:`\max(0,1-m)`), both 1-Lipschitz.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Natural task".

    Parameters
    ----------
    scores : array_like, shape (S,)
        Classifier outputs per context.
    labels : array_like, shape (S,)
        Labels in :math:`\{-1,+1\}`.
    p_task : array_like, shape (S,)
        The task's context distribution.
    loss : {"logistic", "hinge"}
    """
    loss = check_choice("loss", loss, ("logistic", "hinge"))
    if not np.all(np.isin(labels, (-1, 1))):
        raise ValueError("labels must be -1 or +1")
    m = labels * scores
    values = logistic_loss(m) if loss == "logistic" else np.maximum(0.0, 1.0 - m)
    return float(p_task @ values)


def modified_pinsker_bound(v: ArrayLike, excess: ArrayLike) -> np.ndarray:
    r"""Right side of the modified Pinsker inequality, :math:`\sqrt{2\|v\|_\infty^2\,\mathrm{excess}}`.

    For :math:`v=\Phi^\top a`: :math:`|v^\top(p_\theta-p^*_{\cdot\mid s})|\le
    \sqrt{2\|v\|_\infty^2(\ell_{\mathrm{xent},s}(\theta)-\inf_{\theta'}\ell_{\mathrm{xent},s}(\theta'))}`.

    See: Chapter "Natural tasks and the square-root guarantee", Lemma "Modified Pinsker".

    Parameters
    ----------
    v : array_like, shape (V,) or (S, V)
        Word weights (one vector, or one per context).
    excess : array_like, shape () or (S,)
        Non-negative excess cross-entropies.
    """
    v = check_array("v", v, ndim=(1, 2))
    ex = check_array("excess", excess, ndim=(0, 1))
    if np.any(ex < 0):
        raise ValueError("excess must be non-negative")
    B = np.max(np.abs(v), axis=-1)
    return np.sqrt(2.0 * B**2 * ex)



# --------------------------------------------------------------------------------------------------------------
# perturbed models and task distributions of prescribed coverage (the explorer of the chapter)
# --------------------------------------------------------------------------------------------------------------


def _noise_epsilon(alpha: np.ndarray, p_context: np.ndarray, log_p: np.ndarray, xi: np.ndarray, mean_xi: np.ndarray):
    """epsilon(alpha) = E_{p_L}[logsumexp(ln p* + alpha xi) - alpha E_{p*} xi] and its derivative, per alpha."""
    logits = log_p[None] + alpha[:, None, None] * xi[None]
    top = logits.max(axis=-1, keepdims=True)
    q = np.exp(logits - top)
    z = q.sum(axis=-1)
    lse = np.log(z) + top[..., 0]
    eps = (lse - alpha[:, None] * mean_xi[None]) @ p_context
    deriv = (np.einsum("asv,sv->as", q, xi) / z - mean_xi[None]) @ p_context
    return eps, deriv


@check_shapes(p_context=_CONTEXTS, p_star=_NEXT_WORDS, noise="S V")
def noise_scale(epsilon: ArrayLike, p_context: ArrayLike, p_star: ArrayLike, noise: ArrayLike, *,
                   rtol: float = 1e-10) -> np.ndarray:
    r"""The noise scale :math:`\alpha\ge0` at which the model
    :math:`p^{(\alpha)}_s=\mathrm{softmax}(\ln p^*_s+\alpha\xi_s)` has excess cross-entropy exactly :math:`\epsilon`.

    .. math:: \epsilon(\alpha)=\mathbb E_{s\sim p_L}\mathrm{KL}(p^*_s\,\|\,p^{(\alpha)}_s)
              =\mathbb E_{s\sim p_L}\Big[\ln\sum_wp^*_s(w)e^{\alpha\xi_s(w)}-\alpha\,\mathbb E_{p^*_s}\xi_s\Big]

    is a cumulant generating function minus its tangent at 0: convex, :math:`\epsilon(0)=\epsilon'(0)=0`, and
    increasing on :math:`\alpha\ge0` (strictly unless :math:`\xi_s` is :math:`p^*_s`-a.s. constant on every
    context). It is inverted by Newton's method safeguarded by bisection, vectorized over the targets.

    See: Chapter "Natural tasks and the square-root guarantee", Section "Explore it".

    Parameters
    ----------
    epsilon : array_like, shape (n,)
        Target excess cross-entropies, non-negative.
    p_context : array_like, shape (S,)
        :math:`p_L`.
    p_star : array_like, shape (S, V)
        True next-word distributions (full support).
    noise : array_like, shape (S, V)
        The fixed direction :math:`\xi` of the log-probabilities.
    rtol : float
        Relative tolerance on :math:`\epsilon(\alpha)`.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    eps = np.atleast_1d(check_array("epsilon", epsilon, ndim=(0, 1)))
    if np.any(eps < 0):
        raise ValueError("epsilon must be non-negative")
    pc, p, xi = p_context, p_star, noise
    if np.any(p[pc > 0] <= 0):
        raise ValueError("p_star must have full support on the contexts with p_context > 0")
    rtol = check_float("rtol", rtol, minimum=0.0, strict_min=True)
    log_p = np.log(np.where(p > 0, p, 1.0))
    mean_xi = np.sum(p * xi, axis=1)
    out = np.zeros_like(eps)
    positive = eps > 0
    if positive.any():
        out[positive] = _invert_noise_epsilon(eps[positive], pc, log_p, xi, mean_xi, rtol)
    return out


def _invert_noise_epsilon(eps, pc, log_p, xi, mean_xi, rtol):
    # start from the second-order guess epsilon ~ alpha^2 E_{p_L} Var_{p*}(xi) / 2
    p = np.exp(log_p)
    second = pc @ np.sum(p * xi**2, axis=1)
    var = second - pc @ mean_xi**2
    if var <= 1e-12 * max(second, 1e-300):
        raise ValueError("epsilon is out of reach: the noise does not change the model (constant on every context)")
    lo = np.zeros_like(eps)
    hi = 1.5 * np.sqrt(2.0 * eps / var)
    for _ in range(200):  # bracket: epsilon(hi) >= target
        e_hi, _ = _noise_epsilon(hi, pc, log_p, xi, mean_xi)
        short = e_hi < eps
        if not short.any():
            break
        lo[short], hi[short] = hi[short], 2.0 * hi[short]
    else:
        raise ValueError("epsilon is out of reach: the noise does not change the model (constant on every context)")
    alpha = hi.copy()
    for _ in range(200):
        e, de = _noise_epsilon(alpha, pc, log_p, xi, mean_xi)
        err = e - eps
        if np.all(np.abs(err) <= rtol * eps):
            return alpha
        hi = np.where(err > 0, alpha, hi)
        lo = np.where(err < 0, alpha, lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = alpha - err / de
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        alpha = np.where(inside, newton, 0.5 * (lo + hi))
    raise RuntimeError(f"noise_scale did not converge (relative error {np.max(np.abs(err) / eps):.3g})")


@check_shapes(p_context=_CONTEXTS, p_task=_CONTEXTS)
def coverage_mixture(p_context: ArrayLike, p_task: ArrayLike, gamma: float) -> np.ndarray:
    r"""The task distribution :math:`(1-t)\,p_L+t\,p_{\mathcal T}` whose coverage is exactly ``gamma``.

    For :math:`t\in[0,1]` the coverage of the mixture is
    :math:`\min_s p_L(s)/((1-t)p_L(s)+t\,p_{\mathcal T}(s))=1/(1-t+t/\gamma_0)` with
    :math:`\gamma_0=\gamma(p_{\mathcal T})`, so :math:`t=(1/\gamma-1)/(1/\gamma_0-1)` gives coverage
    :math:`\gamma` for every :math:`\gamma\in[\gamma_0,1]`.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Coverage coefficient".

    Parameters
    ----------
    p_context, p_task : array_like, shape (S,)
        :math:`p_L` and a task distribution :math:`p_{\mathcal T}`.
    gamma : float
        Target coverage in :math:`[\gamma(p_{\mathcal T}),1]`.

    Returns
    -------
    numpy.ndarray, shape (S,)
    """
    pc, pt = p_context, p_task
    g0 = coverage(pt, pc)
    gamma = check_float("gamma", gamma, maximum=1.0, minimum=g0 * (1 - 1e-12))
    if g0 >= 1.0 or gamma >= 1.0:
        return pc.copy()
    t = min(1.0, (1.0 / gamma - 1.0) / (1.0 / g0 - 1.0))
    return (1.0 - t) * pc + t * pt
