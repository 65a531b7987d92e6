"""Tests of sslbook.explorers: the widgets build headless and redraw, and what they draw is the tested theory.

The computations themselves (``explorers.curl_negatives_curve``, ``explorers.aci_violation_curve``) are tested against
brute-force computations in tests/test_curl.py and tests/test_self_prediction.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sslbook import explorers  # noqa: E402

widgets = pytest.importorskip("ipywidgets")


@pytest.fixture(autouse=True)
def _close_figures(restore_rcparams):
    yield
    plt.close("all")


def _controls(box):
    return {c.description: c for c in box.children[1].children}


def test_generic_explorer_calls_plot_on_build_and_on_change():
    calls = []

    def plot(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [a, b])
        return fig

    box = explorers.explorer(plot, {"a": widgets.IntSlider(value=1, description="a"),
                                    "b": widgets.FloatSlider(value=0.5, description="b")}, title="demo")
    assert isinstance(box, widgets.VBox) and isinstance(box.children[-1], widgets.Output)
    assert calls == [(1, 0.5)]
    box.children[1].children[0].value = 3
    assert calls[-1] == (3, 0.5)
    assert not plt.get_fignums(), "figures are closed after drawing"


def test_generic_explorer_bad_input():
    with pytest.raises(TypeError, match="plot"):
        explorers.explorer(None, {"a": widgets.IntSlider()})
    with pytest.raises(ValueError, match="controls"):
        explorers.explorer(lambda: None, {})
    with pytest.raises(TypeError, match="controls"):
        explorers.explorer(lambda a: None, {"a": 3})


def test_curl_negatives_plot_draws_the_exact_curve():
    fig = explorers.plot_curl_negatives(n_classes=3, k=2, k_max=3)
    ax_tau, ax_loss = fig.axes
    ks = np.arange(1, 4)
    tau_line = ax_tau.lines[0]
    np.testing.assert_allclose(tau_line.get_xdata(), ks)
    np.testing.assert_allclose(tau_line.get_ydata(), 1 - (2 / 3) ** ks, atol=1e-15)  # closed form, uniform rho
    curve = explorers.curl_negatives_curve(3, ks)
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), curve.L_mu_tilde)
    np.testing.assert_allclose(ax_loss.lines[2].get_ydata(), (curve.L_un - curve.tau_k) / (1 - curve.tau_k))
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_curl_negatives_explorer_builds_and_redraws():
    box = explorers.curl_negatives_explorer(n_classes=3, k=2)
    controls = _controls(box)
    assert controls["classes C"].value == 3 and controls["negatives k"].value == 2
    assert controls["negatives k"].max == explorers.CURL_K_MAX
    controls["loss"].value = "hinge"  # one redraw
    with pytest.raises(ValueError, match="n_classes"):
        explorers.curl_negatives_explorer(n_classes=explorers.CURL_CLASSES_MAX + 1)
    with pytest.raises(ValueError, match="k"):
        explorers.plot_curl_negatives(n_classes=3, k=4, k_max=3)


def test_aci_plot_draws_the_exact_curve():
    fig = explorers.plot_aci(violation=0.4, signal2=1.0, seed=1, n_points=5)
    ax_eps, ax_err = fig.axes
    curve = explorers.aci_violation_curve(np.linspace(0, 1, 5), seed=1)
    np.testing.assert_allclose(ax_eps.lines[0].get_ydata(), curve.eps_ci)
    # eps_CI is linear in the violation: an independent check of what is drawn
    eps = np.asarray(ax_eps.lines[0].get_ydata())
    np.testing.assert_allclose(eps, eps[-1] * np.linspace(0, 1, 5), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ax_err.lines[0].get_ydata(), eps**2 / curve.sigma_min_A**2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ax_err.lines[1].get_ydata(), curve.e_apx)
    assert np.all(curve.e_apx <= curve.bound + 1e-12)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_aci_explorer_builds_and_redraws():
    box = explorers.aci_explorer(violation=0.2)
    controls = _controls(box)
    assert controls["violation v"].value == pytest.approx(0.2)
    controls["signal of X2"].value = 0.5  # one redraw
    with pytest.raises(ValueError, match="violation"):
        explorers.aci_explorer(violation=1.5)
    with pytest.raises(ValueError, match="violation"):
        explorers.plot_aci(violation=-0.1)


def test_lm_bound_plot_draws_the_tested_curve():
    fig = explorers.plot_lm_bound(epsilon=0.01, gamma=0.2, B=2.0, seed=1, n_points=4)
    ax_eps, ax_b = fig.axes
    eps = np.geomspace(*explorers.LM_EPS_RANGE, 4)
    curve = explorers.lm_bound_curve(eps, gamma=0.2, B=2.0, seed=1)
    bound_line, gap_line, loss_line = ax_eps.lines[:3]
    np.testing.assert_allclose(bound_line.get_xdata(), eps, rtol=1e-8)
    # independent of lm_bound_curve's bound: the closed form sqrt(2 kappa^2 eps / gamma), kappa = argument B
    np.testing.assert_allclose(bound_line.get_ydata(), np.sqrt(2 * 2.0**2 * eps / 0.2), rtol=1e-7)
    np.testing.assert_allclose(gap_line.get_ydata(), curve.gap)
    excess = curve.loss - curve.tau
    np.testing.assert_allclose(loss_line.get_ydata(), excess[excess > 0])
    assert np.all(curve.loss <= curve.bound)  # LM-T1 on what is drawn
    b_grid = np.geomspace(*explorers.LM_B_RANGE, 4)
    taus = [explorers.lm_bound_curve([0.01], gamma=0.2, B=b, seed=1).tau for b in b_grid]
    np.testing.assert_allclose(ax_b.lines[2].get_ydata(), taus)
    assert np.all(np.diff(taus) < 0), "tau_T falls as the word weights grow"
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_lm_bound_explorer_builds_and_redraws():
    box = explorers.lm_bound_explorer(epsilon=0.01, gamma=0.2, B=2.0)
    controls = _controls(box)
    assert controls["coverage γ"].value == pytest.approx(0.2)
    assert controls["excess xent ε"].value == pytest.approx(0.01)
    controls["κ = ‖v‖∞"].value = 8.0  # one redraw
    with pytest.raises(ValueError, match="gamma"):
        explorers.lm_bound_explorer(gamma=0.01)
    with pytest.raises(ValueError, match="epsilon"):
        explorers.plot_lm_bound(epsilon=10.0)
    with pytest.raises(ValueError, match="B"):
        explorers.plot_lm_bound(B=100.0)


def test_haochen_plot_draws_the_tested_curve():
    fig = explorers.plot_haochen(leak=0.02, k=3, r=3, seed=1, n_points=4)
    ax_nu, ax_b = fig.axes
    grid = np.geomspace(*explorers.HAOCHEN_LEAK_RANGE, 4)
    curve = explorers.haochen_leak_curve(grid, 3, r=3, seed=1)
    here = explorers.haochen_leak_curve([0.02], 3, r=3, seed=1)
    heights = [p.get_height() for p in ax_nu.patches]
    np.testing.assert_allclose(heights[: explorers.HAOCHEN_K_MAX + 1], here.nu[0, : explorers.HAOCHEN_K_MAX + 1])
    assert heights[-1] == pytest.approx(here.nu_next[0])  # the highlighted bar is nu_{k+1}
    lines = ax_b.lines
    np.testing.assert_allclose(lines[0].get_xdata(), grid)
    np.testing.assert_allclose(lines[0].get_ydata(), curve.delta / curve.nu_next)  # Delta / nu_{k+1}
    np.testing.assert_allclose(lines[2].get_ydata(), 4 * curve.alpha / curve.nu_next + curve.alpha)
    np.testing.assert_allclose(lines[3].get_ydata(), np.maximum(curve.error, 1e-4))
    assert np.all(curve.error <= curve.error_bound)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_haochen_explorer_builds_and_redraws():
    box = explorers.haochen_explorer(leak=0.02, k=2, r=3)
    controls = _controls(box)
    assert controls["leakage"].value == pytest.approx(0.02) and controls["features k"].value == 2
    controls["classes r"].value = 2  # one redraw
    with pytest.raises(ValueError, match="r"):
        explorers.haochen_explorer(r=explorers.HAOCHEN_CLASSES_MAX + 1)
    with pytest.raises(ValueError, match="leak"):
        explorers.plot_haochen(leak=0.5)
    with pytest.raises(ValueError, match="k"):
        explorers.plot_haochen(k=0)
