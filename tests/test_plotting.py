"""Tests of sslbook.plotting: the house style and the two recurring figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sslbook import plotting  # noqa: E402
from sslbook.plotting import MEASURED, PALETTE, PREDICTED, bound_vs_measured, loglog_rate, use_style  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_rcparams")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_use_style_sets_rcparams():
    mpl.rcParams["axes.grid"] = False
    mpl.rcParams["axes.spines.top"] = True
    mpl.rcParams["legend.frameon"] = True
    use_style()
    assert mpl.rcParams["axes.grid"] is True
    assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.spines.right"] is False
    assert mpl.rcParams["legend.frameon"] is False
    assert list(mpl.rcParams["figure.figsize"]) == [6.4, 4.0]
    colours = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert colours == PALETTE
    assert MEASURED in PALETTE and PREDICTED in PALETTE


def _legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_bound_vs_measured_labels_and_legend():
    use_style()
    x = np.array([10, 20, 40, 80])
    ax = bound_vs_measured(x, 1 / x, 2 / x, xlabel="n", ylabel="excess risk", bound_label="2/n", logx=True, logy=True)
    assert ax.get_xlabel() == "n" and ax.get_ylabel() == "excess risk"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert set(_legend_texts(ax)) == {"measured", "2/n"}
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), 2 / x)  # the bound, drawn first
    np.testing.assert_allclose(lines[1].get_ydata(), 1 / x)


def test_bound_vs_measured_error_bars_and_given_axes():
    fig, ax = plt.subplots()
    x = np.arange(1.0, 5.0)
    out = bound_vs_measured(
        x, x, x + 1, measured_err=0.1 * x, xlabel="a", ylabel="b", measured_label="mc", bound_label="theory", ax=ax
    )
    assert out is ax
    assert ax.get_xscale() == "linear"
    assert set(_legend_texts(ax)) == {"mc", "theory"}
    assert ax.containers  # the error bars


def test_bound_vs_measured_needs_labels():
    with pytest.raises(TypeError):
        bound_vs_measured([1, 2], [1, 2], [1, 2])  # xlabel and ylabel are required


@pytest.mark.parametrize(
    ("x", "measured", "bound", "err", "argname"),
    [
        ([1, 2, 3], [1, 2], [1, 2, 3], None, "x and measured"),
        ([1, 2, 3], [1, 2, 3], [1, 2], None, "x and bound"),
        ([1, 2, 3], [1, 2, 3], [1, 2, 3], [0.1, 0.1], "x and measured_err"),
        ([[1, 2, 3]], [1, 2, 3], [1, 2, 3], None, "x"),
        ([1, 2, 3], [1, np.nan, 3], [1, 2, 3], None, "measured"),
    ],
)
def test_bound_vs_measured_bad_input(x, measured, bound, err, argname):
    with pytest.raises(ValueError, match=argname):
        bound_vs_measured(x, measured, bound, measured_err=err, xlabel="x", ylabel="y")


def test_loglog_rate_labels_legend_and_reference():
    x = np.array([10.0, 20.0, 40.0, 80.0])
    ax = loglog_rate(x, 3 / x, slope=-1, xlabel="labels n", ylabel="risk", label="OLS")
    assert ax.get_xlabel() == "labels n" and ax.get_ylabel() == "risk"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    texts = _legend_texts(ax)
    assert texts == ["OLS (slope -1.00)", "reference slope -1"]
    ref = ax.get_lines()[1]
    np.testing.assert_allclose(ref.get_ydata(), 3 / x)  # through the first point with slope -1


def test_loglog_rate_without_reference():
    x = np.array([1.0, 2.0, 4.0])
    fig, ax = plt.subplots()
    out = loglog_rate(x, x**0.5, xlabel="x", ylabel="y", ax=ax)
    assert out is ax
    assert _legend_texts(ax) == ["measured (slope 0.50)"]


def test_loglog_rate_bad_input():
    with pytest.raises(ValueError, match="x and y"):
        loglog_rate([1.0, 2.0, 3.0], [1.0, 2.0], xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="positive"):
        loglog_rate([1.0, 2.0, 3.0], [1.0, -2.0, 3.0], xlabel="x", ylabel="y")
    with pytest.raises(TypeError):
        loglog_rate([1.0, 2.0], [1.0, 2.0])  # labels are required


def test_moving_average_is_the_trailing_window_mean():
    v = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    np.testing.assert_allclose(plotting.moving_average(v, 2), [1.5, 3.0, 6.0, 12.0])
    np.testing.assert_allclose(plotting.moving_average(v, 5), [6.2])
    np.testing.assert_allclose(plotting.moving_average(v, 1), v)
    with pytest.raises(ValueError, match="window"):
        plotting.moving_average(v, 6)
    with pytest.raises(ValueError, match="values"):
        plotting.moving_average(np.ones((2, 2)), 1)
