"""Unit tests of sslbook.theory.spectral_practice and sslbook.losses.spectral_contrastive_clipped.

Chapter "The augmentation graph and the spectral contrastive loss": the official estimator's norm clipping and
the spectrum of the features at the optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslbook import data, losses, theory
from sslbook.theory import spectral_practice as sp


def _graph(seed=0, r=3):
    return data.AugmentationGraph.planted_classes(r, natural_per_class=6, aug_per_class=5, aug_per_input=3,
                                                  leak=0.1, rng=np.random.default_rng(seed))


def _batch_np(a, b):
    G, n = a @ b.T, len(a)
    return -2 * np.mean(np.diag(G)) + (np.sum(G**2) - np.sum(np.diag(G) ** 2)) / (n * (n - 1))


def test_clip_features_radius_and_identity():
    rng = np.random.default_rng(0)
    z = 3 * rng.standard_normal((50, 4))
    for mu in (0.5, 1.0, 4.0):
        c = sp.clip_features(z, mu)
        norms = np.linalg.norm(z, axis=1)
        np.testing.assert_allclose(np.linalg.norm(c, axis=1), np.minimum(norms, np.sqrt(mu)), rtol=1e-12)
        inside = norms < np.sqrt(mu)
        np.testing.assert_array_equal(c[inside], z[inside])
        # direction kept
        np.testing.assert_allclose(c / np.linalg.norm(c, axis=1, keepdims=True),
                                   z / norms[:, None], rtol=1e-12)
    np.testing.assert_allclose(sp.clip_features(np.zeros((2, 3)), 1.0), 0.0, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="f"):
        sp.clip_features(np.array([3.0, -0.5]), 1.0)


def test_torch_clipped_matches_numpy_and_official_form():
    rng = np.random.default_rng(1)
    z, zp = 2 * rng.standard_normal((12, 3)), 2 * rng.standard_normal((12, 3))
    for mu in (1.0, 4.0, 10.0):
        R = np.sqrt(mu)
        ref = _batch_np(sp.clip_features(z, mu), sp.clip_features(zp, mu)) / mu
        got = float(losses.spectral_contrastive_clipped(torch.from_numpy(z), torch.from_numpy(zp), mu=mu))
        assert got == pytest.approx(ref, rel=1e-10)
        # the false variant clipping at mu (not sqrt(mu)) differs when mu > 1
        if mu > 1:
            wrong = _batch_np(z * np.minimum(1, mu / np.linalg.norm(z, axis=1))[:, None],
                              zp * np.minimum(1, mu / np.linalg.norm(zp, axis=1))[:, None]) / mu
            assert abs(wrong - got) > 1e-6
        assert R > 0


def test_clipped_equals_unclipped_inside_ball_and_is_bounded():
    rng = np.random.default_rng(2)
    z, zp = (torch.from_numpy(0.1 * rng.standard_normal((10, 3))) for _ in range(2))
    assert float(losses.spectral_contrastive_clipped(z, zp, mu=1.0)) == pytest.approx(
        float(losses.spectral_contrastive(z, zp)), rel=1e-12)
    assert float(losses.spectral_contrastive_clipped(z, zp, mu=4.0)) == pytest.approx(
        float(losses.spectral_contrastive(z, zp)) / 4, rel=1e-12)
    for mu in (1.0, 3.0):
        for _ in range(20):
            a, b = (torch.from_numpy(50 * rng.standard_normal((6, 4))) for _ in range(2))
            val = float(losses.spectral_contrastive_clipped(a, b, mu=mu))
            assert -2 - 1e-9 <= val <= 2 + mu + 1e-9
    spike = 3.0 * torch.eye(3, 5, dtype=torch.float64)
    assert float(losses.spectral_contrastive(spike, spike)) == pytest.approx(-18.0)
    assert float(losses.spectral_contrastive_clipped(spike, spike, mu=1.0)) == pytest.approx(-2.0)


def test_clipped_loss_gradient_is_finite_at_zero():
    z = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    zp = torch.ones(4, 3, dtype=torch.float64)
    losses.spectral_contrastive_clipped(z, zp, mu=1.0).backward()
    assert torch.isfinite(z.grad).all()


def test_clipped_population_loss():
    g = _graph()
    rng = np.random.default_rng(3)
    f = rng.standard_normal((g.n_aug, 2))
    assert sp.clipped_spectral_loss(g, f, 2.0) == pytest.approx(
        theory.spectral_loss(g, sp.clip_features(f, 2.0)) / 2.0, rel=1e-12)
    small = 1e-3 * f
    assert sp.clipped_spectral_loss(g, small, 1.0) == pytest.approx(theory.spectral_loss(g, small), rel=1e-12)


def test_feature_spectrum_at_minimizer():
    g = _graph(seed=4)
    Abar = theory.normalized_adjacency(g)
    lam = np.sort(np.linalg.eigvalsh(Abar))[::-1]
    for k in (1, 2, 3, 5):
        f = theory.spectral_closed_form(g, k).f
        rot = np.linalg.qr(np.random.default_rng(k).standard_normal((k, k)))[0]
        np.testing.assert_allclose(sp.feature_spectrum(f @ rot, g.w), lam[:k], atol=1e-12)
        np.testing.assert_allclose(sp.minimizer_feature_spectrum(g, k), lam[:k], atol=1e-12)
        cov = np.sort(np.r_[0.0, lam[1:k]])[::-1]
        np.testing.assert_allclose(sp.feature_spectrum(f @ rot, g.w, center=True), cov, atol=1e-12)
        np.testing.assert_allclose(sp.minimizer_feature_spectrum(g, k, center=True), cov, atol=1e-12)
    # squared eigenvalues are a false variant
    assert not np.allclose(sp.minimizer_feature_spectrum(g, 3), lam[:3] ** 2, atol=1e-6)


def test_feature_spectrum_uniform_weights_and_validation():
    X = np.random.default_rng(5).standard_normal((100, 3))
    ev = sp.feature_spectrum(X)
    np.testing.assert_allclose(ev, np.sort(np.linalg.eigvalsh(X.T @ X / 100))[::-1], atol=1e-12)
    evc = sp.feature_spectrum(X, center=True)
    np.testing.assert_allclose(evc, np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1], atol=1e-12)
    with pytest.raises(ValueError, match="w"):
        sp.feature_spectrum(X, np.ones(99) / 99)
    with pytest.raises(ValueError, match="w"):
        sp.feature_spectrum(X, np.ones(100))
    with pytest.raises(TypeError, match="center"):
        sp.feature_spectrum(X, center="yes")
    with pytest.raises(ValueError, match="mu"):
        sp.clip_features(X, 0.0)
    with pytest.raises(ValueError, match="mu"):
        losses.spectral_contrastive_clipped(torch.ones(3, 2), torch.ones(3, 2), mu=-1.0)
    with pytest.raises(ValueError, match="k"):
        sp.minimizer_feature_spectrum(_graph(), 0)
