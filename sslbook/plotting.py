"""The book's one plotting style and its recurring figures.

Every figure of the book has axis labels; chapters give it a caption through cell metadata.
See: Introduction, "How to read this book".
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_int

#: Colours used for "measured" and "bound / prediction" throughout the book.
MEASURED = "#1f5fa8"
PREDICTED = "#c0392b"
PALETTE = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#5d6d7e"]

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "font.family": "DejaVu Sans",
}


def use_style() -> None:
    """Apply the house style to matplotlib (called by :func:`sslbook.session.setup`)."""
    mpl.rcParams.update(_STYLE)


def _ax(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _check_labels(**labels) -> None:
    for name, value in labels.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__}")


@check_shapes(values="n")
def moving_average(values, window: int) -> np.ndarray:
    r"""The trailing moving average :math:`\bar v_t=\frac1w\sum_{s=t-w+1}^{t}v_s` for :math:`t\ge w`.

    Returns ``len(values) - window + 1`` values, the one at index ``i`` averaging ``values[i:i + window]``
    (plot it against ``steps[window - 1:]``). See: Chapter "InfoNCE" (training curves).

    Raises
    ------
    ValueError
        If ``values`` is not a finite 1-d array or ``window`` is not in ``1..len(values)``.
    """
    window = check_int("window", window, minimum=1, maximum=values.shape[0])
    return np.convolve(values, np.ones(window) / window, mode="valid")


@check_shapes(x="n", measured="n", bound="n", measured_err=Shape("n", optional=True))
def bound_vs_measured(
    x,
    measured,
    bound,
    *,
    measured_err=None,
    xlabel: str,
    ylabel: str,
    measured_label: str = "measured",
    bound_label: str = "bound",
    logx: bool = False,
    logy: bool = False,
    ax=None,
):
    """Plot a measured quantity (with optional error bars) against a bound or exact prediction.

    Parameters
    ----------
    x, measured, bound : array_like, shape (n,)
        Abscissae, measured values and the theoretical curve.
    measured_err : array_like, shape (n,), optional
        Half-widths of error bars (e.g. 3 standard errors).
    xlabel, ylabel : str
        Axis labels (required: every figure of the book is labelled).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_labels(xlabel=xlabel, ylabel=ylabel)
    ax = _ax(ax)
    ax.plot(x, bound, "-", color=PREDICTED, label=bound_label, zorder=2)
    if measured_err is None:
        ax.plot(x, measured, "o", color=MEASURED, label=measured_label, zorder=3)
    else:
        ax.errorbar(x, measured, yerr=measured_err, fmt="o", color=MEASURED, capsize=3, label=measured_label, zorder=3)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def loglog_rate(x, y, *, slope: float | None = None, xlabel: str, ylabel: str, label: str = "measured", ax=None):
    """Log-log plot of ``y`` against ``x`` with the fitted slope in the legend.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Positive values.
    slope : float, optional
        A reference slope drawn through the first point (e.g. ``-1`` for a :math:`1/n` rate).
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sslbook.testing import loglog_slope

    _check_labels(xlabel=xlabel, ylabel=ylabel, label=label)
    fit = loglog_slope(x, y)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ax = _ax(ax)
    ax.loglog(x, y, "o-", color=MEASURED, label=f"{label} (slope {fit.slope:.2f})")
    if slope is not None:
        ax.loglog(x, y[0] * (x / x[0]) ** slope, "--", color=PREDICTED, label=f"reference slope {slope:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
