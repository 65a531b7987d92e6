r"""Interactive explorers: sliders over the parameters of a bound, in Jupyter or Colab (ipywidgets).

Each explorer has two parts:

* a plotting function ``plot_<name>(...)`` that draws one setting (the chapter shows it as a static figure of
  the default setting, since widgets do not run in the static website);
* an explorer ``<name>_explorer(...)`` that only wires controls to that plotting function with
  :func:`explorer`.

The numbers come from tested functions of :mod:`sslbook.theory` (the explorer computes nothing itself).
Adding an explorer is one plotting function and a few lines of controls::

    def my_explorer(a=1.0):
        w = _widgets()
        return explorer(plot_my_thing, {"a": w.FloatSlider(value=a, min=0, max=2, description="a")})

ipywidgets is an optional dependency (``pip install sslbook[widgets]``; Colab and Jupyter have it): it is
imported only when an explorer is built.

See: Chapter 5, "Too many negatives can hurt"; Chapter "Predicting what you already know".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from sslbook import theory
from sslbook._validation import check_choice, check_float, check_int

__all__ = [
    "aci_explorer",
    "curl_negatives_explorer",
    "explorer",
    "haochen_explorer",
    "lm_bound_explorer",
    "plot_aci",
    "plot_curl_negatives",
    "plot_haochen",
    "plot_lm_bound",
]

#: Largest number of negatives and of classes offered by the CURL explorer (exact enumeration stays < ~2 s).
CURL_K_MAX = 8
CURL_CLASSES_MAX = 10


def _widgets():
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - ipywidgets is installed with the book
        raise ImportError("the explorers need ipywidgets: pip install 'sslbook[widgets]' (or ipywidgets)") from err
    return ipywidgets


def explorer(plot: Callable[..., Any], controls: Mapping[str, Any], *, title: str | None = None):
    """Wire widget ``controls`` to a plotting function: each change redraws ``plot(**values)``.

    See: the explorers of Chapters 5 and "Predicting what you already know".

    Parameters
    ----------
    plot : callable
        Called with one keyword argument per control; draws a matplotlib figure (shown, then closed).
    controls : mapping of str to ipywidgets.ValueWidget
        The controls, by keyword of ``plot``.
    title : str, optional
        A line of text above the controls.

    Returns
    -------
    ipywidgets.VBox
        Children: (optional title), a box of the controls, the output area.
    """
    w = _widgets()
    if not callable(plot):
        raise TypeError(f"plot must be callable, got {type(plot).__name__}")
    if not isinstance(controls, Mapping) or not controls:
        raise ValueError("controls must be a non-empty mapping of keyword -> widget")
    for name, control in controls.items():
        if not isinstance(control, w.ValueWidget):
            raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget, got {type(control).__name__}")

    def draw(**values):
        import matplotlib.pyplot as plt

        fig = plot(**values)
        plt.show()
        plt.close(fig)

    out = w.interactive_output(draw, dict(controls))
    children = [w.HTML(f"<b>{title}</b>")] if title else []
    children += [w.HBox(list(controls.values())), out]
    return w.VBox(children)


# --------------------------------------------------------------------------- Part II: negatives (Chapter 5)


@functools.lru_cache(maxsize=64)
def _negatives_curve(n_classes: int, k_max: int, loss: str):
    # Cached: moving the k slider or redrawing the default setting recomputes nothing.
    return theory.curl_negatives_curve(n_classes, np.arange(1, k_max + 1), loss=loss)


def plot_curl_negatives(n_classes: int = 6, k: int = 4, *, loss: str = "logistic2", k_max: int = CURL_K_MAX):
    r"""Collision probability :math:`\tau_k` and the :math:`k`-negative bound :math:`(L_{un}-\tau_k)/(1-\tau_k)`
    against the exact mean-classifier loss :math:`\tilde L^\mu_{sup}`, for uniform :math:`\rho` on ``n_classes``
    classes on a regular polygon (:func:`sslbook.theory.curl_negatives_curve`), over
    :math:`k=1,\dots,k_{max}`, with the setting ``k`` marked.

    See: Chapter 5, "Too many negatives can hurt".

    Parameters
    ----------
    n_classes : int
        Number of classes :math:`C\ge2`.
    k : int
        The number of negatives to mark, :math:`1\le k\le k_{max}`.
    loss : {"hinge", "logistic2"}
    k_max : int
        Largest number of negatives drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    k_max = check_int("k_max", k_max, minimum=1)
    k = check_int("k", k, minimum=1, maximum=k_max)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    curve = _negatives_curve(n_classes, k_max, loss)
    i = k - 1
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(curve.ks, curve.tau_k, "o-", color=MEASURED, label=r"$\tau_k=1-(1-1/C)^k$")
    axes[0].plot(curve.ks, curve.ks / curve.n_classes, "--", color=PALETTE[5], label=r"$k/C$")
    axes[0].plot([k], [curve.tau_k[i]], "o", ms=12, mfc="none", color=PREDICTED)
    axes[0].set(xlabel="negatives $k$", ylabel=r"collision probability $\tau_k$", ylim=(0, 1.02),
                title=f"$C={curve.n_classes}$: " + rf"$\tau_{{{k}}}={curve.tau_k[i]:.3f}$")
    axes[0].legend(loc="lower right")
    axes[1].plot(curve.ks, curve.L_mu_tilde, "o-", color=MEASURED, label=r"exact $\tilde L^\mu_{sup}$")
    axes[1].plot(curve.ks, curve.L_neq, "s--", color=PALETTE[2], label=r"$L^{\neq}_{un}$")
    axes[1].plot(curve.ks, curve.bound, "^-", color=PREDICTED, label=r"bound $(L_{un}-\tau_k)/(1-\tau_k)$")
    axes[1].axvline(k, color=PALETTE[5], lw=0.8)
    axes[1].set(xlabel="negatives $k$", ylabel=f"loss ({loss})", yscale="log",
                title=rf"$k={k}$: bound {curve.bound[i]:.2f} vs $\tilde L^\mu_{{sup}}$ {curve.L_mu_tilde[i]:.2f}")
    axes[1].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def curl_negatives_explorer(n_classes: int = 6, k: int = 4, *, loss: str = "logistic2"):
    """Sliders for the number of classes and of negatives (and a loss menu) over :func:`plot_curl_negatives`.

    See: Chapter 5, "Too many negatives can hurt".

    Parameters
    ----------
    n_classes, k : int
        Initial slider values.
    loss : {"hinge", "logistic2"}
        Initial loss.

    Returns
    -------
    ipywidgets.VBox
    """
    w = _widgets()
    n_classes = check_int("n_classes", n_classes, minimum=2, maximum=CURL_CLASSES_MAX)
    k = check_int("k", k, minimum=1, maximum=CURL_K_MAX)
    loss = check_choice("loss", loss, ("logistic2", "hinge"))
    style = {"description_width": "initial"}
    controls = {
        "n_classes": w.IntSlider(value=n_classes, min=2, max=CURL_CLASSES_MAX, description="classes C",
                                 continuous_update=False, style=style),
        "k": w.IntSlider(value=k, min=1, max=CURL_K_MAX, description="negatives k", continuous_update=False,
                         style=style),
        "loss": w.Dropdown(options=["logistic2", "hinge"], value=loss, description="loss"),
    }
    return explorer(plot_curl_negatives, controls,
                    title="Negatives: collision probability and the k-negative bound (exact values)")


# --------------------------------------------------------------------------- Part V: approximate CI


def plot_aci(violation: float = 0.3, signal2: float = 1.0, *, seed: int = 1, n_points: int = 25):
    r"""The approximate-CI bound :math:`\epsilon_{CI}^2/\sigma_{\min}(A)^2` against the exact approximation error
    :math:`e_{apx}(\psi^*)` of the pretext optimum, as the CI violation :math:`v` of one linear-Gaussian instance
    grows from 0 to 1 (:func:`sslbook.theory.aci_violation_curve`), with the setting ``violation`` marked.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    violation : float
        The violation :math:`v\in[0,1]` to mark.
    signal2 : float
        Scale of :math:`B_2` (smaller: smaller :math:`\sigma_{\min}(A)`, looser bound).
    seed : int
        Seed of the instance.
    n_points : int
        Number of values of :math:`v` on the curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    violation = check_float("violation", violation, minimum=0.0, maximum=1.0)
    n_points = check_int("n_points", n_points, minimum=2)
    grid = np.linspace(0.0, 1.0, n_points)
    curve = theory.aci_violation_curve(grid, signal2=signal2, seed=seed)
    here = theory.aci_violation_curve([violation], signal2=signal2, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(curve.violation, curve.eps_ci, "-", color=MEASURED)
    axes[0].plot([violation], here.eps_ci, "o", ms=10, mfc="none", color=PREDICTED)
    axes[0].set(xlabel="violation $v$ (scale of $C_{12}$)", ylabel=r"$\epsilon_{CI}$",
                title=rf"$\epsilon_{{CI}}={here.eps_ci[0]:.3f}$, $\sigma_{{\min}}(A)={curve.sigma_min_A:.3f}$")
    axes[1].plot(curve.eps_ci, curve.bound, "-", color=PREDICTED,
                 label=r"bound $\epsilon_{CI}^2/\sigma_{\min}(A)^2$")
    axes[1].plot(curve.eps_ci, curve.e_apx, "o-", ms=3, color=MEASURED, label=r"exact $e_{apx}(\psi^*)$")
    axes[1].axvline(here.eps_ci[0], color=PALETTE[5], lw=0.8)
    axes[1].set(xlabel=r"$\epsilon_{CI}$", ylabel="approximation error", yscale="symlog",
                title=f"at $v={violation:.2f}$: bound {here.bound[0]:.3g}, exact {here.e_apx[0]:.3g}")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def aci_explorer(violation: float = 0.3, signal2: float = 1.0, *, seed: int = 1):
    """Sliders for the CI violation and the signal scale of :math:`X_2` over :func:`plot_aci`.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    violation, signal2 : float
        Initial slider values (:math:`v\\in[0,1]`, ``signal2`` in :math:`[0.1, 3]`).
    seed : int
        Seed of the instance (fixed while the sliders move).

    Returns
    -------
    ipywidgets.VBox
    """
    w = _widgets()
    violation = check_float("violation", violation, minimum=0.0, maximum=1.0)
    signal2 = check_float("signal2", signal2, minimum=0.1, maximum=3.0)
    seed = check_int("seed", seed, minimum=0, maximum=20)
    style = {"description_width": "initial"}
    controls = {
        "violation": w.FloatSlider(value=violation, min=0.0, max=1.0, step=0.02, description="violation v",
                                   continuous_update=False, style=style),
        "signal2": w.FloatSlider(value=signal2, min=0.1, max=3.0, step=0.1, description="signal of X2",
                                 continuous_update=False, style=style),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="instance", continuous_update=False,
                            style=style),
    }
    return explorer(plot_aci, controls, title="Approximate CI: epsilon_CI and the bound on the approximation error")


# --------------------------------------------------------------------------- Part IV: language models

#: Range of the excess cross-entropy offered by the language-model explorer (log scale).
LM_EPS_RANGE = (1e-5, 1.0)
#: Range of the max-norm B of the word weights offered by the language-model explorer.
LM_B_RANGE = (0.25, 16.0)


def plot_lm_bound(epsilon: float = 0.01, gamma: float = 0.1, B: float = 4.0, *, seed: int = 0,
                  n_points: int = 25):
    r"""The √ε bound :math:`\tau_{\mathcal T}+\sqrt{2B^2\epsilon/\gamma}` of Theorems LM-T1/LM-T2 against the
    downstream loss of the perturbed models :math:`\mathrm{softmax}(\ln p^*_s+\alpha\xi_s)` of one topic language
    (:func:`sslbook.theory.lm_bound_curve`): along :math:`\epsilon` (left, the setting marked) and along the
    max-norm :math:`B` of the word weights at that :math:`\epsilon`, where :math:`\tau_{\mathcal T}` falls as
    :math:`B` grows (right).

    See: Chapter "Natural tasks and the √ε guarantee", Section "Explore it".

    Parameters
    ----------
    epsilon : float
        Excess cross-entropy of the marked model, in ``LM_EPS_RANGE``.
    gamma : float
        Coverage :math:`\gamma(p_{\mathcal T})` in :math:`[\gamma_{\min},1]` (the task distribution is a mixture
        of :math:`p_L` and the instance's base task distribution, of coverage :math:`\gamma_{\min}`).
    B : float
        :math:`\|v\|_\infty`, in ``LM_B_RANGE``.
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
    curve = theory.lm_bound_curve(eps_grid, gamma=gamma, B=B, seed=seed)
    here = theory.lm_bound_curve([epsilon], gamma=gamma, B=B, seed=seed)
    b_grid = np.geomspace(*LM_B_RANGE, n_points)
    along_b = [theory.lm_bound_curve([epsilon], gamma=gamma, B=b, seed=seed) for b in b_grid]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    excess = curve.loss - curve.tau
    axes[0].loglog(curve.epsilon, curve.bound - curve.tau, "-", color=PREDICTED,
                   label=r"bound $-\,\tau_\mathcal{T}$: $\sqrt{2B^2\epsilon/\gamma}$")
    axes[0].loglog(curve.epsilon, curve.gap, "s--", ms=3, color=PALETTE[2],
                   label=r"$\mathbb{E}_{p_\mathcal{T}}|v^\top(p-p^*)|$ (proof, Step 3)")
    axes[0].loglog(curve.epsilon[excess > 0], excess[excess > 0], "o-", ms=3, color=MEASURED,
                   label=r"measured loss $-\,\tau_\mathcal{T}$")
    axes[0].plot([epsilon], [here.bound[0] - here.tau], "o", ms=9, mfc="none", color=PALETTE[4])
    axes[0].axvline(epsilon, color=PALETTE[5], lw=0.8)
    axes[0].set(xlabel=r"excess cross-entropy $\epsilon$", ylabel=r"excess over $\tau_\mathcal{T}$",
                # plain-text titles: they change at every redraw, and mathtext is slow to lay out
                title=f"γ = {here.gamma:.3f}, B = {B:.2g}, ε = {here.epsilon[0]:.2g}: "
                      f"bound {here.bound[0]:.3g}, loss {here.loss[0]:.3f}")
    axes[0].legend(loc="upper left", fontsize=8)
    bounds_b = np.array([c.bound[0] for c in along_b])
    losses_b = np.array([c.loss[0] for c in along_b])
    axes[1].semilogx(b_grid, bounds_b, "-", color=PREDICTED, label="bound")
    axes[1].semilogx(b_grid, losses_b, "o-", ms=3, color=MEASURED, label="loss of the model")
    axes[1].semilogx(b_grid, [c.tau for c in along_b], "--", color=PALETTE[5], label=r"$\tau_\mathcal{T}$ (at $p^*$)")
    axes[1].plot([B, B], [here.loss[0], here.bound[0]], "o", ms=9, mfc="none", color=PALETTE[4])
    axes[1].axvline(B, color=PALETTE[5], lw=0.8)
    axes[1].set(xlabel=r"max-norm of the word weights $B=\|v\|_\infty$", ylabel="downstream logistic loss",
                ylim=(0, 1.5 * max(bounds_b.min(), losses_b.max())),
                title=f"at ε = {here.epsilon[0]:.2g}: task loss at p*, τ = {here.tau:.3f}")
    axes[1].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def lm_bound_explorer(epsilon: float = 0.01, gamma: float = 0.1, B: float = 4.0, *, seed: int = 0):
    r"""Sliders for :math:`\epsilon`, :math:`\gamma` and :math:`B` (and the instance) over :func:`plot_lm_bound`;
    :math:`\tau_{\mathcal T}` follows from :math:`B` (larger word weights, larger margins).

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
    w = _widgets()
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
                              description="B = ‖v‖∞", continuous_update=False, style=style),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="instance", continuous_update=False, style=style),
    }
    return explorer(plot_lm_bound, controls, title="Natural tasks: the √ε bound against perturbed language models")


# --------------------------------------------------------------------------- Part III: the augmentation graph

#: Range of the leakage offered by the spectral explorer (log scale), largest number of classes and of features.
HAOCHEN_LEAK_RANGE = (1e-3, 0.3)
HAOCHEN_CLASSES_MAX = 5
HAOCHEN_K_MAX = 12


def _subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def plot_haochen(leak: float = 0.05, k: int = 3, r: int = 3, *, seed: int = 0, n_points: int = 16):
    r"""The spectral bound on a planted-class augmentation graph (:func:`sslbook.theory.haochen_leak_curve`):
    the smallest Laplacian eigenvalues at the leakage ``leak`` with :math:`\nu_{k+1}` marked (left), and along the
    leakage, at :math:`k` features, the measured residual, disagreement and error against :math:`\Delta/\nu_{k+1}`,
    :math:`4\alpha/\nu_{k+1}` and :math:`4\alpha/\nu_{k+1}+\alpha` (right).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    leak : float
        The leakage between classes to mark, in ``HAOCHEN_LEAK_RANGE``.
    k : int
        Number of features, :math:`1\le k\le` ``HAOCHEN_K_MAX``.
    r : int
        Number of planted classes, :math:`2\le r\le` ``HAOCHEN_CLASSES_MAX``.
    seed : int
        Seed of the graph.
    n_points : int
        Number of leakages on the curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from sslbook.plotting import MEASURED, PALETTE, PREDICTED

    leak = check_float("leak", leak, minimum=HAOCHEN_LEAK_RANGE[0], maximum=HAOCHEN_LEAK_RANGE[1])
    k = check_int("k", k, minimum=1, maximum=HAOCHEN_K_MAX)
    r = check_int("r", r, minimum=2, maximum=HAOCHEN_CLASSES_MAX)
    n_points = check_int("n_points", n_points, minimum=2)
    grid = np.geomspace(*HAOCHEN_LEAK_RANGE, n_points)
    curve = theory.haochen_leak_curve(grid, k, r=r, seed=seed)
    here = theory.haochen_leak_curve([leak], k, r=r, seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.8), width_ratios=(1, 1.25))
    n_eig = HAOCHEN_K_MAX + 1
    idx = np.arange(1, n_eig + 1)
    nu = here.nu[0, :n_eig]
    axes[0].bar(idx, nu, color=[PALETTE[2] if i <= r else PALETTE[5] for i in idx], alpha=0.8)
    axes[0].bar([k + 1], [nu[k]], color=PREDICTED, label=rf"$\nu_{{k+1}}=\nu_{{{k + 1}}}$")
    axes[0].axvline(r + 0.5, color=PALETTE[5], ls=":", lw=1)
    axes[0].set(xlabel=r"index $i$ ($r$ small eigenvalues in green)", ylabel=r"Laplacian eigenvalue $\nu_i$",
                # plain-text titles: they change at every redraw, and mathtext is slow to lay out
                title=f"leak {leak:.3g}: ν{_subscript(k + 1)} = {here.nu_next[0]:.3f}, α = {here.alpha[0]:.3f}, "
                      f"Δ = {here.delta[0]:.3f}")
    axes[0].legend(loc="upper left", fontsize=8)
    floor = 1e-4  # zero measured values are drawn at this floor on the log scale
    ax = axes[1]
    ax.loglog(grid, curve.residual_bound, "-", color=PREDICTED, label=r"$\Delta/\nu_{k+1}$")
    ax.loglog(grid, np.maximum(curve.residual, floor), "o", ms=4, color=PREDICTED, mfc="none", label="residual")
    ax.loglog(grid, curve.error_bound, "--", color=MEASURED, label=r"$4\alpha/\nu_{k+1}+\alpha$")
    ax.loglog(grid, np.maximum(curve.error, floor), "s", ms=4, color=MEASURED, label="error vs $y$")
    ax.loglog(grid, curve.disagreement_bound, ":", color=PALETTE[2], label=r"$4\alpha/\nu_{k+1}$")
    ax.loglog(grid, np.maximum(curve.disagreement, floor), "^", ms=4, color=PALETTE[2],
              label=r"disagreement with $\hat y$")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axvline(leak, color=PALETTE[5], lw=0.8)
    ax.set(xlabel="leakage between classes", ylabel="probability / squared error",
           ylim=(floor / 2, max(2.0, 1.2 * float(np.max(curve.error_bound[np.isfinite(curve.error_bound)],
                                                              initial=1.0)))),
           title=f"k = {k}, r = {r}: error {here.error[0]:.3f}, bound {here.error_bound[0]:.3g}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def haochen_explorer(leak: float = 0.05, k: int = 3, r: int = 3, *, seed: int = 0):
    """Sliders for the leakage, the number of features and of classes (and the graph) over :func:`plot_haochen`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "From eigenvalues to labels".

    Parameters
    ----------
    leak : float
        Initial leakage, in ``HAOCHEN_LEAK_RANGE``.
    k, r : int
        Initial numbers of features and of classes.
    seed : int
        Initial graph.

    Returns
    -------
    ipywidgets.VBox
    """
    w = _widgets()
    leak = check_float("leak", leak, minimum=HAOCHEN_LEAK_RANGE[0], maximum=HAOCHEN_LEAK_RANGE[1])
    k = check_int("k", k, minimum=1, maximum=HAOCHEN_K_MAX)
    r = check_int("r", r, minimum=2, maximum=HAOCHEN_CLASSES_MAX)
    seed = check_int("seed", seed, minimum=0, maximum=20)
    style = {"description_width": "initial"}
    lo, hi = np.log10(HAOCHEN_LEAK_RANGE)
    controls = {
        "leak": w.FloatLogSlider(value=leak, base=10, min=lo, max=hi, step=0.05, description="leakage",
                                 continuous_update=False, style=style),
        "k": w.IntSlider(value=k, min=1, max=HAOCHEN_K_MAX, description="features k", continuous_update=False,
                         style=style),
        "r": w.IntSlider(value=r, min=2, max=HAOCHEN_CLASSES_MAX, description="classes r", continuous_update=False,
                         style=style),
        "seed": w.IntSlider(value=seed, min=0, max=20, description="graph", continuous_update=False, style=style),
    }
    return explorer(plot_haochen, controls, title="Augmentation graph: the spectral gap and HaoChen's bound")
