r"""Explorer of "Natural tasks and the √ε guarantee": the bound
:math:`\tau_{\mathcal T}+\sqrt{2\kappa^2\epsilon/\gamma}` against the downstream loss of perturbed models of one
topic language. The max-norm :math:`\kappa=\|v\|_\infty` of the word weights is the argument ``B`` (the paper's
name; in the book :math:`B` is the emission matrix of an HMM).

See: Chapter "Natural tasks and the √ε guarantee", Section "Explore it".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import softmax

from sslbook._validation import check_array, check_float, check_int, check_seed
from sslbook.data.language import SyntheticLanguage
from sslbook.explorers.core import explorer, import_widgets
from sslbook.theory.natural_tasks import (
    coverage,
    coverage_mixture,
    excess_cross_entropy,
    logistic_loss,
    natural_task_bound,
    noise_scale,
)

__all__ = [
    "LM_B_RANGE",
    "LM_EPS_RANGE",
    "LMBoundCurve",
    "lm_bound_curve",
    "lm_bound_explorer",
    "plot_lm_bound",
]


@dataclass(frozen=True)
class LMBoundCurve:
    r"""The √ε bound against the perturbed models of one topic language (see :func:`lm_bound_curve`)."""

    epsilon: np.ndarray  #: excess cross-entropy E_{p_L} KL(p* || p^(alpha)) of each model (exact)
    alpha: np.ndarray  #: noise scale of each model, p^(alpha) = softmax(ln p* + alpha xi)
    loss: np.ndarray  #: downstream logistic loss of the fixed classifier (v, -c) on the model, under p_T
    gap: np.ndarray  #: ``E_{p_T} abs(v^T (p^(alpha) - p*))``, what Steps 2-3 of the proof bound
    bound: np.ndarray  #: tau + sqrt(2 kappa^2 epsilon / gamma)
    tau: float  #: loss of (v, -c) on the true distributions p*
    B: float  #: kappa = ||v||_inf (the max-norm of the word weights)
    gamma: float  #: coverage gamma(p_T) (exact)
    gamma_min: float  #: coverage of the instance's base task distribution (the smallest gamma offered)


@functools.lru_cache(maxsize=8)
def _lm_instance(seed: int, n_contexts: int, vocab: int, n_topics: int):
    # The chapter's construction, drawn from one seed; cached so that a redraw only recomputes the models.
    rng = np.random.default_rng(seed)
    lang = SyntheticLanguage.topic_model(n_contexts, vocab, n_topics, rng)
    p_base = lang.task_distribution(rng, fraction=0.3, concentration=0.3)
    v = rng.uniform(-1.0, 1.0, vocab)
    v /= np.abs(v).max()  # ||v||_inf = 1; scaled by kappa (argument B) later (the labels do not change)
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
    alpha = noise_scale(np.array(epsilons), p_context, p_star, xi)
    q = softmax(np.log(p_star)[None] + alpha[:, None, None] * xi[None], axis=-1)
    eps_exact = np.array([excess_cross_entropy(p_context, p_star, qi) for qi in q])
    for a in (alpha, q, eps_exact):
        a.setflags(write=False)
    return alpha, q, eps_exact


def lm_bound_curve(epsilons: ArrayLike, *, gamma: float | None = None, B: float = 4.0, seed: int = 0,
                   n_contexts: int = 300, vocab: int = 30, n_topics: int = 6) -> LMBoundCurve:
    r"""The √ε bound :math:`\tau_{\mathcal T}+\sqrt{2\kappa^2\epsilon/\gamma}` (Theorem LM-T1) against the downstream
    loss of the perturbed models of one topic language, at prescribed excess cross-entropies.

    The instance is the chapter's construction drawn from ``seed``: a topic language
    (:meth:`sslbook.data.SyntheticLanguage.topic_model`), a base task distribution :math:`p_0` on 30 % of the
    contexts, word weights :math:`v` with :math:`\|v\|_\infty=\kappa` (``B``), labels
    :math:`y_s=\mathrm{sign}(v^\top p^*_s-c)`
    (:math:`c` the :math:`p_0`-median) and a Gaussian direction :math:`\xi`. The task distribution is the mixture of
    :math:`p_L` and :math:`p_0` with coverage exactly ``gamma``
    (:func:`sslbook.theory.natural_tasks.coverage_mixture`), and for each :math:`\epsilon` the model is
    :math:`p^{(\alpha)}_s=\mathrm{softmax}(\ln p^*_s+\alpha\xi_s)` with :math:`\alpha` solving :math:`\mathbb
    E_{p_L}\mathrm{KL}(p^*_s\|p^{(\alpha)}_s)=\epsilon` (:func:`sslbook.theory.natural_tasks.noise_scale`). Scaling
    :math:`v` and :math:`c` by :math:`\kappa` keeps the labels and lowers :math:`\tau_{\mathcal T}`: the trade-off
    between :math:`\tau_{\mathcal T}` and :math:`\kappa`. Every value is a finite sum.

    See: Chapter "Natural tasks and the square-root guarantee", Theorem "LM-T1" (the explorer of that chapter).

    Parameters
    ----------
    epsilons : float or sequence of float
        Excess cross-entropies :math:`\epsilon\ge0`.
    gamma : float, optional
        Coverage in :math:`[\gamma(p_0),1]`; default :math:`\gamma(p_0)`.
    B : float
        The max-norm :math:`\kappa=\|v\|_\infty>0` of the word weights.
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
    seed = check_seed("seed", seed)
    S = check_int("n_contexts", n_contexts, minimum=2)
    V = check_int("vocab", vocab, minimum=2)
    K = check_int("n_topics", n_topics, minimum=1)
    p_context, p_star, p_base, v1, labels, xi, c1 = _lm_instance(seed, S, V, K)
    g0 = coverage(p_base, p_context)
    if gamma is None:
        gamma = g0
    gamma = check_float("gamma", gamma, maximum=1.0)
    if gamma < g0 * (1 - 1e-12):
        raise ValueError(f"gamma must be >= {g0:.4g} (the coverage of this instance's base task), got {gamma}")
    p_task = coverage_mixture(p_context, p_base, gamma)
    alpha, q, eps_exact = _lm_models(seed, S, V, K, tuple(eps.tolist()))
    v, c = B * v1, B * c1
    loss = logistic_loss(labels[None] * (q @ v - c)) @ p_task
    gap = np.abs((q - p_star[None]) @ v) @ p_task
    tau = float(p_task @ logistic_loss(labels * (p_star @ v - c)))
    gamma_exact = coverage(p_task, p_context)
    return LMBoundCurve(
        epsilon=eps_exact,
        alpha=alpha,
        loss=loss,
        gap=gap,
        bound=natural_task_bound(tau, B, eps_exact, gamma_exact),
        tau=tau,
        B=B,
        gamma=gamma_exact,
        gamma_min=g0,
    )


#: Range of the excess cross-entropy offered by the language-model explorer (log scale).
LM_EPS_RANGE = (1e-5, 1.0)
#: Range of the max-norm kappa (argument B) of the word weights offered by the language-model explorer.
LM_B_RANGE = (0.25, 16.0)


def plot_lm_bound(epsilon: float = 0.01, gamma: float = 0.1, B: float = 4.0, *, seed: int = 0,
                  n_points: int = 25):
    r"""The √ε bound :math:`\tau_{\mathcal T}+\sqrt{2\kappa^2\epsilon/\gamma}` of Theorems LM-T1/LM-T2 against the
    downstream loss of the perturbed models :math:`\mathrm{softmax}(\ln p^*_s+\alpha\xi_s)` of one topic language
    (:func:`lm_bound_curve`): along :math:`\epsilon` (left, the setting marked) and along the
    max-norm :math:`\kappa` (argument ``B``) of the word weights at that :math:`\epsilon`, where
    :math:`\tau_{\mathcal T}` falls as :math:`\kappa` grows (right).

    See: Chapter "Natural tasks and the √ε guarantee", Section "Explore it".

    Parameters
    ----------
    epsilon : float
        Excess cross-entropy of the marked model, in ``LM_EPS_RANGE``.
    gamma : float
        Coverage :math:`\gamma(p_{\mathcal T})` in :math:`[\gamma_{\min},1]` (the task distribution is a mixture
        of :math:`p_L` and the instance's base task distribution, of coverage :math:`\gamma_{\min}`).
    B : float
        The max-norm :math:`\kappa=\|v\|_\infty`, in ``LM_B_RANGE``.
    seed : int
        Seed of the instance.
    n_points : int
        Number of points of each curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    epsilon = check_float("epsilon", epsilon, minimum=LM_EPS_RANGE[0], maximum=LM_EPS_RANGE[1])
    B = check_float("B", B, minimum=LM_B_RANGE[0], maximum=LM_B_RANGE[1])
    n_points = check_int("n_points", n_points, minimum=2)
    eps_grid = np.geomspace(*LM_EPS_RANGE, n_points)
    curve = lm_bound_curve(eps_grid, gamma=gamma, B=B, seed=seed)
    here = lm_bound_curve([epsilon], gamma=gamma, B=B, seed=seed)
    b_grid = np.geomspace(*LM_B_RANGE, n_points)
    along_b = [lm_bound_curve([epsilon], gamma=gamma, B=b, seed=seed) for b in b_grid]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    excess = curve.loss - curve.tau
    axes[0].loglog(curve.epsilon, curve.bound - curve.tau, "-", color=PREDICTED,
                   label=r"bound $-\,\tau_\mathcal{T}$: $\sqrt{2\kappa^2\epsilon/\gamma}$")
    axes[0].loglog(curve.epsilon, curve.gap, "s--", ms=3, color=PALETTE[2],
                   label=r"$\mathbb{E}_{p_\mathcal{T}}|v^\top(p-p^*)|$ (proof, Step 3)")
    axes[0].loglog(curve.epsilon[excess > 0], excess[excess > 0], "o-", ms=3, color=MEASURED,
                   label=r"measured loss $-\,\tau_\mathcal{T}$")
    axes[0].plot([epsilon], [here.bound[0] - here.tau], "o", ms=9, mfc="none", color=PALETTE[4])
    axes[0].axvline(epsilon, color=PALETTE[5], lw=0.8)
    axes[0].set(xlabel=r"excess cross-entropy $\epsilon$", ylabel=r"excess over $\tau_\mathcal{T}$",
                # plain-text titles: they change at every redraw, and mathtext is slow to lay out
                title=f"γ = {here.gamma:.3f}, κ = {B:.2g}, ε = {here.epsilon[0]:.2g}: "
                      f"bound {here.bound[0]:.3g}, loss {here.loss[0]:.3f}")
    axes[0].legend(loc="upper left", fontsize=8)
    bounds_b = np.array([c.bound[0] for c in along_b])
    losses_b = np.array([c.loss[0] for c in along_b])
    axes[1].semilogx(b_grid, bounds_b, "-", color=PREDICTED, label="bound")
    axes[1].semilogx(b_grid, losses_b, "o-", ms=3, color=MEASURED, label="loss of the model")
    axes[1].semilogx(b_grid, [c.tau for c in along_b], "--", color=PALETTE[5], label=r"$\tau_\mathcal{T}$ (at $p^*$)")
    axes[1].plot([B, B], [here.loss[0], here.bound[0]], "o", ms=9, mfc="none", color=PALETTE[4])
    axes[1].axvline(B, color=PALETTE[5], lw=0.8)
    axes[1].set(xlabel=r"max-norm of the word weights $\kappa=\|v\|_\infty$", ylabel="downstream logistic loss",
                ylim=(0, 1.5 * max(bounds_b.min(), losses_b.max())),
                title=f"at ε = {here.epsilon[0]:.2g}: task loss at p*, τ = {here.tau:.3f}")
    axes[1].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def lm_bound_explorer(epsilon: float = 0.01, gamma: float = 0.1, B: float = 4.0, *, seed: int = 0):
    r"""Sliders for :math:`\epsilon`, :math:`\gamma` and :math:`\kappa` (argument ``B``; and the instance) over
    :func:`plot_lm_bound`; :math:`\tau_{\mathcal T}` follows from :math:`\kappa` (larger word weights, larger margins).

    See: Chapter "Natural tasks and the √ε guarantee", Section "Explore it".

    Parameters
    ----------
    epsilon, gamma, B : float
        Initial slider values.
    seed : int
        Initial instance.

    Returns
    -------
    ipywidgets.VBox
    """
    w = import_widgets()
    epsilon = check_float("epsilon", epsilon, minimum=LM_EPS_RANGE[0], maximum=LM_EPS_RANGE[1])
    gamma = check_float("gamma", gamma, minimum=0.05, maximum=1.0)  # every seed's base coverage is below 0.05
    B = check_float("B", B, minimum=LM_B_RANGE[0], maximum=LM_B_RANGE[1])
    seed = check_int("seed", seed, minimum=0, maximum=20)
    style = {"description_width": "initial"}
    log10 = np.log10
    controls = {
        "epsilon": w.FloatLogSlider(value=epsilon, base=10, min=log10(LM_EPS_RANGE[0]), max=log10(LM_EPS_RANGE[1]),
                                    step=0.1, description="excess xent ε", continuous_update=False, style=style),
        "gamma": w.FloatSlider(value=gamma, min=0.05, max=1.0, step=0.01, description="coverage γ",
                               continuous_update=False, style=style),
        "B": w.FloatLogSlider(value=B, base=10, min=log10(LM_B_RANGE[0]), max=log10(LM_B_RANGE[1]), step=0.05,
                              description="κ = ‖v‖∞", continuous_update=False, style=style),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="instance", continuous_update=False, style=style),
    }
    return explorer(plot_lm_bound, controls, title="Natural tasks: the √ε bound against perturbed language models")

