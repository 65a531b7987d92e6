r"""Language models and natural tasks: cross-entropy, the softmax optimum, modified Pinsker, the √ε bounds.

Pure numpy/scipy. Contexts are indexed by the rows of the arrays: ``p`` of shape ``(S, V)`` holds one
next-word distribution per context, ``theta`` of shape ``(S, d)`` one context vector per context, and the
word embeddings ``Phi`` have shape ``(d, V)`` (column :math:`\phi_w`). A softmax language model predicts
:math:`p_\theta=\mathrm{softmax}(\Phi^\top\theta)`.
See: Chapter "Natural tasks and the square-root guarantee".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog
from scipy.special import logsumexp, softmax

from sslbook._validation import check_array, check_choice, check_float, check_int, check_simplex
from sslbook.theory.toolbox import kl_divergence

_ATOL = 1e-9


def _simplex_rows(name: str, p: ArrayLike, ndim: int | tuple[int, ...] = 2) -> np.ndarray:
    return check_simplex(name, p, ndim=ndim, atol=_ATOL)


def _phi_theta(Phi: ArrayLike, theta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    Phi = check_array("Phi", Phi, ndim=2)
    theta = check_array("theta", theta, ndim=(1, 2))
    if theta.shape[-1] != Phi.shape[0]:
        raise ValueError(f"theta must have last dimension d = {Phi.shape[0]} (Phi is {Phi.shape}), got {theta.shape}")
    return Phi, theta


def _phi_p(Phi: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    Phi = check_array("Phi", Phi, ndim=2)
    p = _simplex_rows("p", p, ndim=(1, 2))
    if p.shape[-1] != Phi.shape[1]:
        raise ValueError(f"p must have last dimension V = {Phi.shape[1]} (Phi is {Phi.shape}), got {p.shape}")
    return Phi, p


# ----------------------------------------------------------------------------------------------------------------
# general language models
# ----------------------------------------------------------------------------------------------------------------


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
    p = _simplex_rows("p_star", p_star, ndim=None)
    q = _simplex_rows("q", q, ndim=None)
    if p.shape != q.shape:
        raise ValueError(f"p_star and q must have the same shape, got {p.shape} and {q.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, q, 1.0)), 0.0)
    return terms.sum(axis=-1)


def lm_epsilon(p_context: ArrayLike, p_star: ArrayLike, q: ArrayLike) -> float:
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
    pc = _simplex_rows("p_context", p_context, ndim=1)
    p = _simplex_rows("p_star", p_star)
    q = _simplex_rows("q", q)
    if p.shape != q.shape or p.shape[0] != pc.shape[0]:
        raise ValueError(
            f"p_context, p_star and q must have shapes (S,), (S, V), (S, V), got {pc.shape}, {p.shape}, {q.shape}"
        )
    kl = kl_divergence(p, q)
    mask = pc > 0
    return float(np.sum(pc[mask] * kl[mask]))


def lm_gamma(p_task: ArrayLike, p_context: ArrayLike) -> float:
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
    pt = _simplex_rows("p_task", p_task, ndim=1)
    pc = _simplex_rows("p_context", p_context, ndim=1)
    if pt.shape != pc.shape:
        raise ValueError(f"p_task and p_context must have the same shape, got {pt.shape} and {pc.shape}")
    mask = pt > 0
    return float(min(1.0, np.min(pc[mask] / pt[mask])))


def lm_downstream_bound(tau: float, B: float, epsilon: ArrayLike, gamma: float) -> np.ndarray:
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
        Margins :math:`y\,(\lambda^\top g+b)`.
    """
    return np.logaddexp(0.0, -check_array("m", m, ndim=None))


def natural_task_loss(scores: ArrayLike, labels: ArrayLike, p_task: ArrayLike, *, loss: str = "logistic") -> float:
    r"""Population loss of a linear classifier on a finite task: :math:`\sum_s p_{\mathcal T}(s)\,\ell(y_s\,u_s)`.

    ``scores`` are the classifier outputs :math:`u_s`, e.g. :math:`v^\top p_{\cdot\mid s}-c` or
    :math:`\lambda^\top\Phi p_{f(s)}-c`. ``loss`` is ``"logistic"`` (:func:`logistic_loss`) or ``"hinge"``
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
    u = check_array("scores", scores, ndim=1)
    y = check_array("labels", labels, ndim=1, dtype="int")
    pt = _simplex_rows("p_task", p_task, ndim=1)
    loss = check_choice("loss", loss, ("logistic", "hinge"))
    if not (u.shape == y.shape == pt.shape):
        raise ValueError(f"scores, labels and p_task must have the same length, got {u.shape}, {y.shape}, {pt.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError("labels must be -1 or +1")
    m = y * u
    values = logistic_loss(m) if loss == "logistic" else np.maximum(0.0, 1.0 - m)
    return float(pt @ values)


# ----------------------------------------------------------------------------------------------------------------
# softmax language models
# ----------------------------------------------------------------------------------------------------------------


def softmax_probs(Phi: ArrayLike, theta: ArrayLike) -> np.ndarray:
    r"""Next-word distributions of a softmax model, :math:`p_{\theta_s}=\mathrm{softmax}(\Phi^\top\theta_s)`.

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Softmax language model".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings (columns :math:`\phi_w`).
    theta : array_like, shape (S, d) or (d,)
        Context vectors :math:`\theta_s=f(s)`.

    Returns
    -------
    numpy.ndarray, shape (S, V) or (V,)
    """
    Phi, theta = _phi_theta(Phi, theta)
    return softmax(theta @ Phi, axis=-1)


def conditional_mean_embedding(Phi: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Conditional mean embedding :math:`\Phi p_{\cdot\mid s}=\sum_w p_{\cdot\mid s}(w)\,\phi_w\in\mathbb R^d`.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    p : array_like, shape (S, V) or (V,)
        Next-word distributions.

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)
    """
    Phi, p = _phi_p(Phi, p)
    return p @ Phi.T


def softmax_cross_entropy(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Per-context cross-entropy of a softmax model.

    .. math:: \ell_{\mathrm{xent},s}(\theta)=\mathbb E_{w\sim p_{\cdot\mid s}}[-\theta^\top\phi_w]
              +\ln\sum_{w'}e^{\theta^\top\phi_{w'}}
              =-\theta^\top\Phi p_{\cdot\mid s}+\mathrm{logsumexp}(\Phi^\top\theta) .

    See: Chapter "Natural tasks and the square-root guarantee", Definition "Softmax language model".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)
        True next-word distributions (same leading shape as ``theta``).

    Returns
    -------
    numpy.ndarray, shape (S,) or ()
    """
    Phi, theta = _phi_theta(Phi, theta)
    Phi, p = _phi_p(Phi, p)
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    return _xent(Phi, theta, p)


def _xent(Phi: np.ndarray, theta: np.ndarray, p: np.ndarray) -> np.ndarray:
    logits = theta @ Phi
    return logsumexp(logits, axis=-1) - np.sum(p * logits, axis=-1)


def softmax_gradient(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Gradient of the per-context cross-entropy, :math:`\nabla_\theta\ell_{\mathrm{xent},s}=\Phi(p_\theta-p^*_s)`.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)
    """
    Phi, theta = _phi_theta(Phi, theta)
    Phi, p = _phi_p(Phi, p)
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    return (softmax(theta @ Phi, axis=-1) - p) @ Phi.T


def _finite_optimum_exists(Phi: np.ndarray, p_s: np.ndarray) -> bool:
    """Whether Phi p_s lies in the relative interior of conv{phi_w}: max delta s.t. q >= delta, Phi q = Phi p_s."""
    d, V = Phi.shape
    c = np.zeros(V + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-np.eye(V), np.ones((V, 1))])
    A_eq = np.vstack([np.append(np.ones(V), 0.0), np.hstack([Phi, np.zeros((d, 1))])])
    b_eq = np.append(1.0, Phi @ p_s)
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(V), A_eq=A_eq, b_eq=b_eq, bounds=[(0, 1)] * (V + 1), method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)


def softmax_optimal_theta(Phi: ArrayLike, p: ArrayLike, *, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    r"""The best context vector of a softmax model for each context (a convex problem per context).

    .. math:: \theta^*_s\in\arg\min_{\theta\in\mathbb R^d}\ \ell_{\mathrm{xent},s}(\theta),\qquad
              \text{characterised by}\quad \Phi\,p_{\theta^*_s}=\Phi\,p_{\cdot\mid s} .

    Damped Newton's method, vectorized over contexts: the Hessian is
    :math:`\Phi(\mathrm{diag}(p_\theta)-p_\theta p_\theta^\top)\Phi^\top` (a pseudo-inverse handles directions
    with constant logits), with a backtracking line search; it stops when
    :math:`\max_s\|\Phi(p_{\theta_s}-p_{\cdot\mid s})\|_\infty\le` ``tol``. A finite minimiser exists iff
    :math:`\Phi p_{\cdot\mid s}` lies in the relative interior of :math:`\mathrm{conv}\{\phi_w\}` (always true
    for :math:`p` of full support); for a row with zero entries this is checked by a linear program and a
    ``ValueError`` is raised when it fails.

    See: Chapter "Natural tasks and the square-root guarantee", Proposition "First-order optimality".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
        Word embeddings.
    p : array_like, shape (S, V) or (V,)
        True next-word distributions.
    tol : float
        Tolerance on the max-norm of the gradient (the moment mismatch).
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    numpy.ndarray, shape (S, d) or (d,)

    Raises
    ------
    ValueError
        When a row of ``p`` has zeros and no finite optimum exists.
    RuntimeError
        When Newton's method has not converged after ``max_iter`` iterations.
    """
    Phi, p = _phi_p(Phi, p)
    tol = check_float("tol", tol, minimum=0.0, strict_min=True)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    single = p.ndim == 1
    P = p[None, :] if single else p
    for s in np.flatnonzero(np.any(P <= 0, axis=1)):
        if not _finite_optimum_exists(Phi, P[s]):
            raise ValueError(
                f"p has zero entries in context {s} and Phi p lies on the boundary of the convex hull of the "
                "word embeddings: the cross-entropy has no finite minimiser (the optimum is at infinity)"
            )
    S, d = P.shape[0], Phi.shape[0]
    theta = np.zeros((S, d))
    target = P @ Phi.T
    f = _xent(Phi, theta, P)
    for _ in range(max_iter):
        q = softmax(theta @ Phi, axis=-1)
        mean = q @ Phi.T
        grad = mean - target
        if np.max(np.abs(grad)) <= tol:
            return theta[0] if single else theta
        H = np.einsum("sv,iv,jv->sij", q, Phi, Phi) - mean[:, :, None] * mean[:, None, :]
        w, U = np.linalg.eigh(H)
        cut = 1e-13 * np.maximum(w[:, -1:], 1e-300)
        inv = np.where(w > cut, 1.0 / np.where(w > cut, w, 1.0), 0.0)
        step = -np.einsum("sij,sj->si", U, inv * np.einsum("sji,sj->si", U, grad))
        slope = np.sum(grad * step, axis=1)
        t = np.ones(S)
        active = np.ones(S, dtype=bool)
        new_theta, new_f = theta.copy(), f.copy()
        for _ in range(60):
            cand = theta[active] + t[active, None] * step[active]
            f_cand = _xent(Phi, cand, P[active])
            ok = f_cand <= f[active] + 1e-4 * t[active] * slope[active] + 1e-14 * (1.0 + np.abs(f[active]))
            idx = np.flatnonzero(active)
            new_theta[idx[ok]] = cand[ok]
            new_f[idx[ok]] = f_cand[ok]
            active[idx[ok]] = False
            if not active.any():
                break
            t[active] *= 0.5
        theta, f = new_theta, new_f
    q = softmax(theta @ Phi, axis=-1)
    worst = float(np.max(np.abs(q @ Phi.T - target)))
    if worst <= tol:
        return theta[0] if single else theta
    raise RuntimeError(f"softmax_optimal_theta did not converge in {max_iter} iterations (moment gap {worst:.3g})")


def softmax_excess(Phi: ArrayLike, theta: ArrayLike, p: ArrayLike, theta_star: ArrayLike | None = None) -> np.ndarray:
    r"""Per-context excess cross-entropy over the best softmax model with the same :math:`\Phi`.

    .. math:: \ell_{\mathrm{xent},s}(\theta_s)-\inf_{\theta'}\ell_{\mathrm{xent},s}(\theta')\ \ge0 .

    See: Chapter "Natural tasks and the square-root guarantee", Lemma "Modified Pinsker".

    Parameters
    ----------
    Phi : array_like, shape (d, V)
    theta : array_like, shape (S, d) or (d,)
    p : array_like, shape (S, V) or (V,)
    theta_star : array_like, optional
        The optimum from :func:`softmax_optimal_theta` (computed when omitted).
    """
    Phi, theta = _phi_theta(Phi, theta)
    Phi, p = _phi_p(Phi, p)
    if theta.shape[:-1] != p.shape[:-1]:
        raise ValueError(f"theta and p must have the same number of contexts, got {theta.shape} and {p.shape}")
    ts = softmax_optimal_theta(Phi, p) if theta_star is None else check_array("theta_star", theta_star, ndim=(1, 2))
    if ts.shape != theta.shape:
        raise ValueError(f"theta_star must have shape {theta.shape}, got {ts.shape}")
    return np.maximum(_xent(Phi, theta, p) - _xent(Phi, ts, p), 0.0)


def modified_pinsker_bound(v: ArrayLike, excess: ArrayLike) -> np.ndarray:
    r"""Right side of the modified Pinsker inequality, :math:`\sqrt{2\|v\|_\infty^2\,\mathrm{excess}}`.

    For :math:`v=\Phi^\top\lambda`: :math:`|v^\top(p_\theta-p^*_{\cdot\mid s})|\le
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


# ----------------------------------------------------------------------------------------------------------------
# the explorer of the chapter: the √ε bound against perturbed models (issue #8)
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LMBoundCurve:
    r"""The √ε bound against the perturbed models of one topic language (see :func:`lm_bound_curve`)."""

    epsilon: np.ndarray  #: excess cross-entropy E_{p_L} KL(p* || p^(alpha)) of each model (exact)
    alpha: np.ndarray  #: noise scale of each model, p^(alpha) = softmax(ln p* + alpha xi)
    loss: np.ndarray  #: downstream logistic loss of the fixed classifier (v, -c) on the model, under p_T
    gap: np.ndarray  #: ``E_{p_T} abs(v^T (p^(alpha) - p*))``, what Steps 2-3 of the proof bound
    bound: np.ndarray  #: tau + sqrt(2 B^2 epsilon / gamma)
    tau: float  #: loss of (v, -c) on the true distributions p*
    B: float  #: ||v||_inf
    gamma: float  #: coverage gamma(p_T) (exact)
    gamma_min: float  #: coverage of the instance's base task distribution (the smallest gamma offered)


@functools.lru_cache(maxsize=8)
def _lm_instance(seed: int, n_contexts: int, vocab: int, n_topics: int):
    # The chapter's construction, drawn from one seed; cached so that a redraw only recomputes the models.
    from sslbook.data.language import SyntheticLanguage  # lazy: sslbook.data imports sslbook.theory

    rng = np.random.default_rng(seed)
    lang = SyntheticLanguage.topic_model(n_contexts, vocab, n_topics, rng)
    p_base = lang.task_distribution(rng, fraction=0.3, concentration=0.3)
    v = rng.uniform(-1.0, 1.0, vocab)
    v /= np.abs(v).max()  # ||v||_inf = 1; scaled by B later (the labels do not change)
    task = lang.natural_task(v, p_task=p_base)
    xi = rng.standard_normal((n_contexts, vocab))
    arrays = (lang.p_context, lang.p_next, p_base, v, task.labels, xi)
    for a in arrays:
        a.setflags(write=False)
    return arrays + (float(task.threshold),)


@functools.lru_cache(maxsize=16)
def _lm_models(seed: int, n_contexts: int, vocab: int, n_topics: int, epsilons: tuple[float, ...]):
    # The perturbed models at the given epsilons (they depend neither on gamma nor on B): cached per slider value.
    p_context, p_star, _, _, _, xi, _ = _lm_instance(seed, n_contexts, vocab, n_topics)
    alpha = lm_noise_scale(np.array(epsilons), p_context, p_star, xi)
    q = softmax(np.log(p_star)[None] + alpha[:, None, None] * xi[None], axis=-1)
    eps_exact = np.array([lm_epsilon(p_context, p_star, qi) for qi in q])
    for a in (alpha, q, eps_exact):
        a.setflags(write=False)
    return alpha, q, eps_exact


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


def lm_noise_scale(epsilon: ArrayLike, p_context: ArrayLike, p_star: ArrayLike, noise: ArrayLike, *,
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
    pc = _simplex_rows("p_context", p_context, ndim=1)
    p = _simplex_rows("p_star", p_star)
    xi = check_array("noise", noise, ndim=2)
    if p.shape[0] != pc.shape[0] or xi.shape != p.shape:
        raise ValueError(f"p_context, p_star and noise must have shapes (S,), (S, V), (S, V), got {pc.shape}, "
                         f"{p.shape}, {xi.shape}")
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
    raise RuntimeError(f"lm_noise_scale did not converge (relative error {np.max(np.abs(err) / eps):.3g})")


def lm_coverage_mixture(p_context: ArrayLike, p_task: ArrayLike, gamma: float) -> np.ndarray:
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
    pc = _simplex_rows("p_context", p_context, ndim=1)
    pt = _simplex_rows("p_task", p_task, ndim=1)
    g0 = lm_gamma(pt, pc)
    gamma = check_float("gamma", gamma, maximum=1.0, minimum=g0 * (1 - 1e-12))
    if g0 >= 1.0 or gamma >= 1.0:
        return pc.copy()
    t = min(1.0, (1.0 / gamma - 1.0) / (1.0 / g0 - 1.0))
    return (1.0 - t) * pc + t * pt


def lm_bound_curve(epsilons: ArrayLike, *, gamma: float | None = None, B: float = 4.0, seed: int = 0,
                   n_contexts: int = 300, vocab: int = 30, n_topics: int = 6) -> LMBoundCurve:
    r"""The √ε bound :math:`\tau_{\mathcal T}+\sqrt{2B^2\epsilon/\gamma}` (Theorem LM-T1) against the downstream
    loss of the perturbed models of one topic language, at prescribed excess cross-entropies.

    The instance is the chapter's construction drawn from ``seed``: a topic language
    (:meth:`sslbook.data.SyntheticLanguage.topic_model`), a base task distribution :math:`p_0` on 30 % of the
    contexts, word weights :math:`v` with :math:`\|v\|_\infty=B`, labels :math:`y_s=\mathrm{sign}(v^\top p^*_s-c)`
    (:math:`c` the :math:`p_0`-median) and a Gaussian direction :math:`\xi`. The task distribution is the mixture of
    :math:`p_L` and :math:`p_0` with coverage exactly ``gamma`` (:func:`lm_coverage_mixture`), and for each
    :math:`\epsilon` the model is :math:`p^{(\alpha)}_s=\mathrm{softmax}(\ln p^*_s+\alpha\xi_s)` with
    :math:`\alpha` solving :math:`\mathbb E_{p_L}\mathrm{KL}(p^*_s\|p^{(\alpha)}_s)=\epsilon`
    (:func:`lm_noise_scale`). Scaling :math:`v` and :math:`c` by :math:`B` keeps the labels and lowers
    :math:`\tau_{\mathcal T}`: the trade-off between :math:`\tau_{\mathcal T}` and :math:`B`. Every value is a
    finite sum.

    See: Chapter "Natural tasks and the square-root guarantee", Theorem "LM-T1" (the explorer of that chapter).

    Parameters
    ----------
    epsilons : float or sequence of float
        Excess cross-entropies :math:`\epsilon\ge0`.
    gamma : float, optional
        Coverage in :math:`[\gamma(p_0),1]`; default :math:`\gamma(p_0)`.
    B : float
        :math:`\|v\|_\infty>0`.
    seed : int
        Seed of the instance.
    n_contexts, vocab, n_topics : int
        Size of the topic language.

    Returns
    -------
    LMBoundCurve
    """
    eps = np.atleast_1d(check_array("epsilons", epsilons, ndim=(0, 1), min_rows=0))
    if eps.size == 0 or np.any(eps < 0):
        raise ValueError("epsilons must be a non-empty sequence of non-negative values")
    B = check_float("B", B, minimum=0.0, strict_min=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    S = check_int("n_contexts", n_contexts, minimum=2)
    V = check_int("vocab", vocab, minimum=2)
    K = check_int("n_topics", n_topics, minimum=1)
    p_context, p_star, p_base, v1, labels, xi, c1 = _lm_instance(int(seed), S, V, K)
    g0 = lm_gamma(p_base, p_context)
    if gamma is None:
        gamma = g0
    gamma = check_float("gamma", gamma, maximum=1.0)
    if gamma < g0 * (1 - 1e-12):
        raise ValueError(f"gamma must be >= {g0:.4g} (the coverage of this instance's base task), got {gamma}")
    p_task = lm_coverage_mixture(p_context, p_base, gamma)
    alpha, q, eps_exact = _lm_models(int(seed), S, V, K, tuple(eps.tolist()))
    v, c = B * v1, B * c1
    loss = logistic_loss(labels[None] * (q @ v - c)) @ p_task
    gap = np.abs((q - p_star[None]) @ v) @ p_task
    tau = float(p_task @ logistic_loss(labels * (p_star @ v - c)))
    gamma_exact = lm_gamma(p_task, p_context)
    return LMBoundCurve(
        epsilon=eps_exact,
        alpha=alpha,
        loss=loss,
        gap=gap,
        bound=lm_downstream_bound(tau, B, eps_exact, gamma_exact),
        tau=tau,
        B=B,
        gamma=gamma_exact,
        gamma_min=g0,
    )
