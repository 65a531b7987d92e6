"""Tests of sslbook.theory.spectral (spectral contrastive loss, Eckart-Young, HaoChen's exact bound)."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook.data import AugmentationGraph
from sslbook.theory import (
    dirichlet_energy,
    eckart_young,
    graph_laplacian_spectrum,
    haochen_bound,
    normalized_adjacency,
    spectral_closed_form,
    spectral_loss,
    spectral_loss_matrix,
)


def _graph(seed=0, r=3, leak=0.1):
    return AugmentationGraph.planted_classes(r, natural_per_class=5, aug_per_class=4, aug_per_input=3, leak=leak,
                                             rng=seed)


def test_normalized_adjacency_and_spectrum():
    g = _graph()
    np.testing.assert_allclose(normalized_adjacency(g), g.Abar, atol=1e-15)
    np.testing.assert_allclose(normalized_adjacency(g.W), g.Abar, atol=1e-15)
    nu, U = graph_laplacian_spectrum(g)
    assert np.all(np.diff(nu) >= -1e-12) and abs(nu[0]) < 1e-12
    np.testing.assert_allclose(U @ np.diag(nu) @ U.T, g.laplacian(), atol=1e-12)
    np.testing.assert_allclose(np.abs(U[:, 0]), np.sqrt(g.w), atol=1e-10)  # u_1 = sqrt(w)


def test_spectral_loss_matches_double_loop_and_matrix_form():
    g = _graph(1)
    rng = np.random.default_rng(0)
    f = rng.standard_normal((g.n_aug, 2))
    W, w = g.W, g.w
    direct = 0.0
    for x in range(g.n_aug):
        for xp in range(g.n_aug):
            dot = float(f[x] @ f[xp])
            direct += -2 * W[x, xp] * dot + w[x] * w[xp] * dot**2
    assert spectral_loss(g, f) == pytest.approx(direct, abs=1e-12)
    assert spectral_loss_matrix(g, f) == pytest.approx(direct, abs=1e-12)
    assert spectral_loss(g, f[:, 0]) == pytest.approx(spectral_loss(g, f[:, :1]))
    # a wrong identity (no factor 2) is detectably different
    wrong = np.sum((g.Abar - (np.sqrt(w)[:, None] * f) @ (np.sqrt(w)[:, None] * f).T) ** 2)
    assert abs(wrong - direct) > 1e-3


def test_eckart_young_lower_bound_and_attainment():
    rng = np.random.default_rng(2)
    S = rng.standard_normal((6, 6))
    S = (S + S.T) / 2  # indefinite
    for k in (1, 2, 4):
        ey = eckart_young(S, k)
        assert np.sum((S - ey.F @ ey.F.T) ** 2) == pytest.approx(ey.error, abs=1e-10)
        lam = np.linalg.eigvalsh(S)[::-1]
        assert ey.error == pytest.approx(np.sum(lam**2) - np.sum(np.maximum(lam[:k], 0) ** 2), abs=1e-12)
        trials = np.array([np.sum((S - F @ F.T) ** 2) for F in rng.standard_normal((2000, 6, k)) * 0.7])
        assert trials.min() >= ey.error - 1e-12
        # local perturbations of the optimum do not go below it, and a wrong value (error - 0.01) is beaten
        near = np.array([np.sum((S - (ey.F + 1e-3 * D) @ (ey.F + 1e-3 * D).T) ** 2)
                         for D in rng.standard_normal((200, 6, k))])
        assert near.min() >= ey.error - 1e-12
        assert near.min() < ey.error + 1e-2


def test_spectral_closed_form():
    g = _graph(3)
    for k in (1, 3, 5):
        sol = spectral_closed_form(g, k)
        assert sol.value == pytest.approx(-np.sum(sol.eigenvalues[:k] ** 2), abs=1e-14)
        assert spectral_loss(g, sol.f) == pytest.approx(sol.value, abs=1e-12)
        rot = np.linalg.qr(np.random.default_rng(k).standard_normal((k, k)))[0]
        assert spectral_loss(g, sol.f @ rot) == pytest.approx(sol.value, abs=1e-12)
        rng = np.random.default_rng(k)
        for _ in range(50):
            assert spectral_loss(g, sol.f + 0.05 * rng.standard_normal(sol.f.shape)) >= sol.value - 1e-12
    from_abar = spectral_closed_form(g.Abar, 3, w=g.w)
    np.testing.assert_allclose(from_abar.f @ from_abar.f.T, spectral_closed_form(g, 3).f @ spectral_closed_form(
        g, 3).f.T, atol=1e-10)
    assert spectral_closed_form(g.Abar, 2).f is None


def test_dirichlet_energy():
    g = _graph(4)
    rng = np.random.default_rng(0)
    u = rng.standard_normal((g.n_aug, 2))
    direct = sum(0.5 * g.W[x, xp] * np.sum((u[x] - u[xp]) ** 2) for x in range(g.n_aug) for xp in range(g.n_aug))
    assert dirichlet_energy(g, u) == pytest.approx(direct, abs=1e-13)
    gvec = np.sqrt(g.w)[:, None] * u
    assert dirichlet_energy(g.W, u) == pytest.approx(np.trace(gvec.T @ g.laplacian() @ gvec), abs=1e-13)


def test_haochen_bound_quantities_by_brute_force():
    g = _graph(5, leak=0.15)
    y_hat = g.bayes_labels()
    rng = np.random.default_rng(0)
    y_hat[rng.choice(g.n_aug, 3, replace=False)] = rng.integers(0, 3, 3)  # any labelling is allowed
    for k in range(1, 8):
        b = haochen_bound(g, y_hat, k)
        alpha = sum(g.p_bar[i] * g.A[i, x] * (y_hat[x] != g.labels[i])
                    for i in range(g.n_natural) for x in range(g.n_aug))
        delta = sum(g.W[x, xp] * (y_hat[x] != y_hat[xp]) for x in range(g.n_aug) for xp in range(g.n_aug))
        assert (b.alpha, b.delta) == (pytest.approx(alpha), pytest.approx(delta))
        nu, U = graph_laplacian_spectrum(g)
        assert b.nu_next == pytest.approx(nu[k])
        G = np.sqrt(g.w)[:, None] * np.eye(3)[y_hat]
        P = U[:, :k] @ U[:, :k].T
        assert b.residual == pytest.approx(np.sum((G - P @ G) ** 2), abs=1e-12)
        assert b.residual <= b.residual_bound + 1e-12
        assert b.disagreement <= 2 * b.residual + 1e-12
        assert b.disagreement <= b.disagreement_bound + 1e-12
        assert b.error <= b.error_bound + 1e-12
        assert b.delta <= 2 * b.alpha + 1e-12


def test_residual_bound_is_tight_when_N_is_k_plus_1():
    # with N = k + 1 every g_c lies in the span of u_1..u_{k+1}: residual = Delta / nu_{k+1} exactly,
    # so a bound with a smaller constant (a deliberately wrong one) fails
    g = AugmentationGraph([0.6, 0.4], [[0.7, 0.3], [0.2, 0.8]], labels=[0, 1])
    b = haochen_bound(g, np.array([0, 1]), 1)
    assert b.residual == pytest.approx(b.residual_bound, rel=1e-12)
    assert b.residual > 0.99 * b.delta / b.nu_next


def test_bad_input():
    g = _graph()
    with pytest.raises(ValueError, match="graph_or_W"):
        spectral_loss(np.ones((3, 3)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="graph_or_W"):
        normalized_adjacency(np.array([[0.5, 0.1], [0.2, 0.2]]))
    with pytest.raises(ValueError, match="f"):
        spectral_loss(g, np.ones((g.n_aug + 1, 2)))
    with pytest.raises(ValueError, match="S"):
        eckart_young(np.arange(4.0).reshape(2, 2), 1)
    with pytest.raises(ValueError, match="k"):
        eckart_young(np.eye(3), 4)
    with pytest.raises(ValueError, match="graph_or_Abar"):
        spectral_closed_form(np.arange(4.0).reshape(2, 2), 1)
    with pytest.raises(ValueError, match="w"):
        spectral_closed_form(g.Abar, 1, w=np.ones(2))
    with pytest.raises(ValueError, match="u"):
        dirichlet_energy(g, np.ones(2))
    with pytest.raises(TypeError, match="graph"):
        haochen_bound(g.W, np.zeros(g.n_aug, dtype=int), 1)
    with pytest.raises(ValueError, match="y_hat"):
        haochen_bound(g, np.zeros(3, dtype=int), 1)
    with pytest.raises(ValueError, match="k"):
        haochen_bound(g, np.zeros(g.n_aug, dtype=int), g.n_aug)
    with pytest.raises(ValueError, match="labels"):
        haochen_bound(AugmentationGraph(g.p_bar, g.A), np.zeros(g.n_aug, dtype=int), 1)
    rank_one = AugmentationGraph([0.5, 0.5], [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]], labels=[0, 1])
    with pytest.raises(ValueError, match="lambda_k"):  # Abar has rank 1: lambda_2 = 0
        haochen_bound(rank_one, np.zeros(3, dtype=int), 2)


# ------------------------------------------------------------------ the explorer's computation (issue #8)


def test_haochen_leak_curve_against_direct_computation():
    from sslbook.explorers import haochen_leak_curve

    leaks = [0.0, 0.01, 0.2]
    sizes = dict(natural_per_class=5, aug_per_class=4, aug_per_input=3)
    curve = haochen_leak_curve(leaks, 3, r=3, seed=2, **sizes)
    for i, leak in enumerate(leaks):
        g = AugmentationGraph.planted_classes(3, leak=leak, rng=2, **sizes)
        y_hat = g.bayes_labels()
        b = haochen_bound(g, y_hat, 3)
        # independent: nu from the eigenvalues of I - D^{-1/2} W D^{-1/2}, computed here
        d = g.W.sum(axis=1)
        nu = np.sort(np.linalg.eigvalsh(np.eye(len(d)) - g.W / np.sqrt(np.outer(d, d))))
        np.testing.assert_allclose(curve.nu[i], nu, atol=1e-12)
        assert curve.nu_next[i] == pytest.approx(max(nu[3], 0.0), abs=1e-12)
        assert curve.alpha[i] == pytest.approx(b.alpha) and curve.error[i] == pytest.approx(b.error)
        assert curve.residual[i] == pytest.approx(b.residual)
    # leak 0 with k = r: three components, Bayes labels exact, every quantity and bound is 0
    assert curve.alpha[0] == 0 and curve.error_bound[0] == 0 and np.sum(curve.nu[0] < 1e-10) == 3
    # the theorem on the curve, and a deliberately wrong constant that fails
    assert np.all(curve.residual <= curve.residual_bound + 1e-12)
    assert np.all(curve.error <= curve.error_bound + 1e-12)
    np.testing.assert_allclose(curve.error_bound, 4 * curve.alpha / np.maximum(curve.nu_next, 1e-300) + curve.alpha)
    assert np.any(curve.residual[1:] > curve.residual_bound[1:] / 20)


def test_haochen_leak_curve_bad_input():
    from sslbook.explorers import haochen_leak_curve

    with pytest.raises(ValueError, match="leaks"):
        haochen_leak_curve([1.0], 2)
    with pytest.raises(ValueError, match="leaks"):
        haochen_leak_curve([], 2)
    with pytest.raises(ValueError, match="k"):
        haochen_leak_curve([0.1], 24, r=3, aug_per_class=8)
    with pytest.raises(TypeError, match="seed"):
        haochen_leak_curve([0.1], 2, seed=1.5)
