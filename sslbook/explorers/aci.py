r"""Explorer of "Predicting what you already know": the approximate-CI bound
:math:`\epsilon_{CI}^2/\sigma_{\min}(A)^2` against the exact approximation error, as the CI violation of one
linear-Gaussian instance grows.

See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_array, check_float, check_int, check_seed
from sslbook.data.self_prediction import LinearGaussianACI
from sslbook.explorers.core import explorer, import_widgets
from sslbook.theory.self_prediction import aci_bound

__all__ = ["ACICurve", "aci_explorer", "aci_violation_curve", "plot_aci"]


@dataclass(frozen=True)
class ACICurve:
    r"""The approximate-CI bound along a CI violation scaled by :math:`v` (see :func:`aci_violation_curve`)."""

    violation: np.ndarray  #: the scale v of the noise cross-covariance C_12 = v U V^T
    eps_ci: np.ndarray  #: epsilon_CI at each v (proportional to v)
    sigma_min_A: float  #: smallest singular value of A (does not depend on v)
    e_apx: np.ndarray  #: exact approximation error of the pretext optimum psi*
    bound: np.ndarray  #: eps_ci^2 / sigma_min(A)^2


def aci_violation_curve(violations, *, signal2: float = 1.0, k: int = 2, m: int = 2, d1: int = 12, d2: int = 5,
                        seed: int = 0) -> ACICurve:
    r"""The CI violation :math:`\epsilon_{CI}`, the exact approximation error :math:`e_{apx}(\psi^*)` and the bound
    :math:`\epsilon_{CI}^2/\sigma_{\min}(A)^2` for one linear-Gaussian instance whose noise cross-covariance is
    scaled by each :math:`v` in ``violations``.

    The instance is :meth:`sslbook.data.LinearGaussianACI.random` drawn with the integer ``seed``, so that
    :math:`\Lambda_1, \Lambda_2, U, V` (attributes ``B1``, ``B2``, ...) are the same for every :math:`v`
    (only :math:`C_{12}=v\,UV^\top` changes); every value
    is a closed form of its covariance (:func:`sslbook.theory.self_prediction.aci_bound`).

    See: Chapter "Predicting what you already know", Theorem "Approximate CI" (the explorer of that chapter).

    Parameters
    ----------
    violations : float or sequence of float
        Values of :math:`v` in :math:`[0,1]`.
    signal2 : float
        Scale of the loadings :math:`\Lambda_2`; small values make :math:`\sigma_{\min}(A)` small and the bound loose.
    k, m, d1, d2 : int
        Dimensions of :math:`Y` (the book's :math:`K`), :math:`Z`, :math:`X_1`, :math:`X_2`
        (:math:`d_2\ge K+m`, so that :math:`A` can have full column rank).
    seed : int
        Seed of the instance.

    Returns
    -------
    ACICurve
    """
    v = np.atleast_1d(check_array("violations", violations, ndim=(0, 1), min_rows=0))
    if v.size == 0 or np.any(v < 0) or np.any(v > 1):
        raise ValueError("violations must be a non-empty sequence of values in [0, 1]")
    seed = check_seed("seed", seed)
    results = []
    for value in v:
        inst = LinearGaussianACI.random(k, m, d1, d2, violation=float(value), signal2=signal2, rng=seed)
        b = inst.blocks
        results.append(aci_bound(inst.cov, b["Y"], b["Ybar"], b["X1"], b["X2"]))
    return ACICurve(
        violation=v,
        eps_ci=np.array([r.eps_ci for r in results]),
        sigma_min_A=results[0].sigma_min_A,
        e_apx=np.array([r.e_apx for r in results]),
        bound=np.array([r.bound for r in results]),
    )


def plot_aci(violation: float = 0.3, signal2: float = 1.0, *, seed: int = 1, n_points: int = 25):
    r"""The approximate-CI bound :math:`\epsilon_{CI}^2/\sigma_{\min}(A)^2` against the exact approximation error
    :math:`e_{apx}(\psi^*)` of the pretext optimum, as the CI violation :math:`v` of one linear-Gaussian instance
    grows from 0 to 1 (:func:`aci_violation_curve`), with the setting ``violation`` marked.

    See: Chapter "Predicting what you already know", "Approximate CI with a latent variable".

    Parameters
    ----------
    violation : float
        The violation :math:`v\in[0,1]` to mark.
    signal2 : float
        Scale of the loadings :math:`\Lambda_2` (smaller: smaller :math:`\sigma_{\min}(A)`, looser bound).
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
    curve = aci_violation_curve(grid, signal2=signal2, seed=seed)
    here = aci_violation_curve([violation], signal2=signal2, seed=seed)
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
    w = import_widgets()
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

