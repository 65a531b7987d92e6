"""Tests of sslbook.theory.inductive_biases and the adversarial-probe trainer (sslbook.train)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from sslbook.data import HypercubeAugmentation, parity_features
from sslbook.testing import assert_bound
from sslbook.theory import (
    augmentation_components,
    best_linear_probe_residual,
    davis_kahan_bound,
    estimate_aug_moments,
    feature_bayes_error,
    invariant_spectral_loss,
    linear_aug_matrix,
    linear_class_bound,
    linear_spectral_loss,
    spectral_linear_closed_form,
    spectral_loss_finite,
    subspace_miss,
)


def _random_instance(rng, D=5):
    """Sigma > 0 and Sigma_+ = Sigma^{1/2} N Sigma^{1/2} with 0 <= N <= I (as for positive pairs)."""
    A = rng.normal(size=(D, D))
    S = A @ A.T + 0.2 * np.eye(D)
    Q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    N = (Q * rng.random(D)) @ Q.T
    w, U = np.linalg.eigh(S)
    Sh = (U * np.sqrt(w)) @ U.T
    return S, Sh @ N @ Sh, N


def _finite_pairs_model(rng, n_nat=4, n_aug=6):
    """A finite model with overlapping augmentations: p_bar, A(x | xbar), features phi(x)."""
    p = rng.random(n_nat)
    p /= p.sum()
    A = rng.random((n_nat, n_aug)) * (rng.random((n_nat, n_aug)) < 0.7)
    A[:, 0] += 0.1
    A /= A.sum(axis=1, keepdims=True)
    return p, A


# ----------------------------------------------------------------------------------------------------
# the linear class
# ----------------------------------------------------------------------------------------------------


def test_linear_aug_matrix_brute_force():
    rng = np.random.default_rng(0)
    S, Sp, N = _random_instance(rng)
    np.testing.assert_allclose(linear_aug_matrix(S, Sp), N, atol=1e-10)
    M = linear_aug_matrix(np.diag([1.0, 4.0]), np.diag([0.5, 1.0]))
    np.testing.assert_allclose(M, np.diag([0.5, 0.25]), atol=1e-14)


def test_linear_spectral_loss_against_finite_enumeration():
    """L_spec(W) from Sigma, Sigma_+ equals the exact finite-model loss of x -> W phi(x)."""
    rng = np.random.default_rng(1)
    p, A = _finite_pairs_model(rng)
    phi = rng.normal(size=(A.shape[1], 3))
    w = A.T @ p
    S = (phi * w[:, None]).T @ phi
    m = A @ phi
    Sp = (m * p[:, None]).T @ m
    for _ in range(5):
        W = rng.normal(size=(2, 3))
        np.testing.assert_allclose(linear_spectral_loss(W, S, Sp), spectral_loss_finite(p, A, phi @ W.T),
                                   atol=1e-12)


def test_closed_form_is_the_numerical_minimum():
    rng = np.random.default_rng(2)
    S, Sp, _ = _random_instance(rng, D=4)
    for k in (1, 2):
        sol = spectral_linear_closed_form(S, Sp, k)
        np.testing.assert_allclose(linear_spectral_loss(sol.W, S, Sp), sol.loss, atol=1e-12)
        np.testing.assert_allclose(sol.loss, -np.sum(sol.eigenvalues[:k] ** 2), atol=1e-12)

        def objective(v, k=k):
            return linear_spectral_loss(v.reshape(k, 4), S, Sp)

        best = minimize(objective, rng.normal(size=4 * k), method="BFGS").fun
        assert best >= sol.loss - 1e-8 and best <= sol.loss + 1e-6


def test_hypercube_m_eigenvalues():
    for lo, hi, lam in [(0.0, 1.0, 3 / 4), (0.5, 1.5, 12 / 13)]:
        cube = HypercubeAugmentation(6, 2, u_low=lo, u_high=hi)
        sol = spectral_linear_closed_form(cube.sigma(), cube.sigma_plus(), 2)
        np.testing.assert_allclose(sol.eigenvalues, [1, 1] + [lam] * 4, atol=1e-12)
        assert np.abs(sol.W[:, 2:]).max() < 1e-12


def test_linear_class_bound_and_probe_residual():
    rng = np.random.default_rng(3)
    for _ in range(30):
        S, Sp, _ = _random_instance(rng)
        k = int(rng.integers(1, 4))
        sol = spectral_linear_closed_form(S, Sp, k)
        a = rng.normal(size=5)
        terms = linear_class_bound(a, sol.M, k)
        # brute force residual: least squares of g = a^T S^{-1/2} x on f = W x, from samples of a Gaussian x
        w, U = np.linalg.eigh(S)
        X = rng.normal(size=(20000, 5)) @ ((U * np.sqrt(w)) @ U.T)
        g = X @ ((U / np.sqrt(w)) @ U.T) @ a
        F = X @ sol.W.T
        v = np.linalg.lstsq(F, g, rcond=None)[0]
        mc = np.mean((g - F @ v) ** 2)
        exact = best_linear_probe_residual(a, sol.W, S)
        assert abs(mc - exact) < 0.05 * max(1.0, exact)
        np.testing.assert_allclose(exact, terms.residual, atol=1e-9)
        np.testing.assert_allclose(terms.energy, a @ a - a @ sol.M @ a, atol=1e-10)
        assert_bound(terms.residual, terms.bound, slack=1e-10)
        # a wrong constant (the gap doubled) makes the inequality fail for a target in the bottom eigenspace
    M = np.diag([1.0, 0.5, 0.5])
    t = linear_class_bound(np.array([0.0, 1.0, 1.0]), M, 1)
    assert t.residual == pytest.approx(t.bound)
    with pytest.raises(AssertionError):
        assert_bound(t.residual, t.energy / (2 * t.gap))


def test_linear_class_bound_zero_gap():
    t = linear_class_bound(np.array([0.0, 1.0]), np.eye(2), 1)
    assert np.isnan(t.bound)  # 0 / 0: zero energy and zero gap
    t = linear_class_bound(np.array([0.0, 1.0]), np.diag([1.0, 1.0 - 1e-16]), 1)
    assert t.gap < 1e-14


def test_davis_kahan_on_random_near_minimizers():
    rng = np.random.default_rng(4)
    ratios = []
    for _ in range(150):
        S, Sp, _ = _random_instance(rng)
        k = int(rng.integers(1, 4))
        sol = spectral_linear_closed_form(S, Sp, k)
        W = sol.W + rng.random() * rng.normal(size=sol.W.shape)
        eps = linear_spectral_loss(W, S, Sp) - sol.loss
        t = subspace_miss(W, S, sol.M, k)
        b = davis_kahan_bound(eps, sol.eigenvalues, k)
        assert t <= b + 1e-9
        ratios.append(t / b)
    # a bound with the gap squared replaced by the gap (a wrong constant) fails somewhere
    assert max(ratios) > 0.5


def test_davis_kahan_is_tight_on_the_hypercube():
    """Swapping e_1 for a noise direction costs exactly lambda_k^2 - lambda_{k+1}^2."""
    cube = HypercubeAugmentation(4, 2)
    S, Sp = cube.sigma(), cube.sigma_plus()
    sol = spectral_linear_closed_form(S, Sp, 2)
    V = np.zeros((2, 4))
    V[0, 2] = np.sqrt(3 / 4)
    V[1, 1] = 1.0
    W = V @ np.diag(1 / np.sqrt(np.diag(S)))
    eps = linear_spectral_loss(W, S, Sp) - sol.loss
    np.testing.assert_allclose(eps, 7 / 16, atol=1e-12)
    np.testing.assert_allclose(subspace_miss(W, S, sol.M, 2), 1.0, atol=1e-12)
    np.testing.assert_allclose(davis_kahan_bound(eps, sol.eigenvalues, 2), 1.0, atol=1e-12)
    with pytest.raises(AssertionError):  # the wrong gap 1 - lambda_{k+1} instead of its squares
        assert_bound(subspace_miss(W, S, sol.M, 2), eps / (1 - 3 / 4) / 2)


def test_subspace_miss_is_sin_theta():
    rng = np.random.default_rng(5)
    M = np.diag([3.0, 2.0, 1.0, 0.5])
    for _ in range(10):
        W = rng.normal(size=(2, 4))
        Qb = np.linalg.qr(W.T)[0]
        cosines = np.linalg.svd(Qb.T @ np.eye(4)[:, :2], compute_uv=False)
        np.testing.assert_allclose(subspace_miss(W, np.eye(4), M, 2), np.sum(1 - cosines**2), atol=1e-12)


def test_estimate_aug_moments():
    rng = np.random.default_rng(6)
    x, xp = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    S, Sp = estimate_aug_moments(x, xp)
    np.testing.assert_allclose(S, sum(np.outer(a, a) for a in x) / 50, atol=1e-12)
    brute = sum(np.outer(a, b) + np.outer(b, a) for a, b in zip(x, xp, strict=True)) / 100
    np.testing.assert_allclose(Sp, brute, atol=1e-12)
    S2, Sp2 = estimate_aug_moments(x, xp, symmetric=True)
    brute = sum(np.outer(a - b, a - b) for a, b in zip(x, xp, strict=True)) / 100
    np.testing.assert_allclose(S2 - Sp2, brute, atol=1e-12)


def test_symmetric_estimator_is_exact_on_the_hypercube():
    cube = HypercubeAugmentation(6, 2)
    p = cube.sample_pairs(40, np.random.default_rng(7))
    W = spectral_linear_closed_form(*estimate_aug_moments(p.x, p.x_pos, symmetric=True), 2).W
    assert np.abs(W[:, 2:]).max() < 1e-10 * np.abs(W).max()
    W_anchor = spectral_linear_closed_form(*estimate_aug_moments(p.x, p.x_pos), 2).W
    assert np.abs(W_anchor[:, 2:]).max() > 1e-4  # the anchor-only estimate is not exact


# ----------------------------------------------------------------------------------------------------
# all functions: the augmentation graph
# ----------------------------------------------------------------------------------------------------


def test_augmentation_components_against_dense_spectrum():
    rng = np.random.default_rng(8)
    for _ in range(5):
        p, A = _finite_pairs_model(rng, n_nat=5, n_aug=12)
        A[:, 0] = 0.0
        A[2:, :6] = 0.0   # two groups of natural inputs with separate supports
        A[:2, 6:] = 0.0
        A[A.sum(axis=1) == 0, 1] = 1.0
        A /= A.sum(axis=1, keepdims=True)
        W = A.T @ np.diag(p) @ A
        w = W.sum(axis=1)
        keep = w > 0
        Wk = W[np.ix_(keep, keep)]
        Abar = Wk / np.sqrt(np.outer(w[keep], w[keep]))
        dense = np.sort(np.linalg.eigvalsh(Abar))[::-1]
        comps = augmentation_components(p, A)
        np.testing.assert_allclose(np.sort(np.concatenate(comps.eigenvalues))[::-1], dense, atol=1e-12)
        assert comps.n_components == 2
        assert comps.unit_multiplicity == int(np.sum(np.abs(dense - 1) < 1e-10))


def test_hypercube_graph_has_one_unit_eigenvalue_per_natural_input():
    cube = HypercubeAugmentation(4, 1)
    p, aug, _ = cube.discretized_graph(2)
    comps = augmentation_components(p, aug)
    assert comps.n_components == 16 and comps.unit_multiplicity == 16
    np.testing.assert_allclose(comps.top(17), [1.0] * 16 + [0.0], atol=1e-12)


def test_spectral_loss_finite_brute_force():
    rng = np.random.default_rng(9)
    p, A = _finite_pairs_model(rng)
    F = rng.normal(size=(A.shape[1], 2))
    w = A.T @ p
    pos = sum(p[j] * A[j, a] * A[j, b] * F[a] @ F[b] for j in range(len(p))
              for a in range(A.shape[1]) for b in range(A.shape[1]))
    neg = sum(w[a] * w[b] * (F[a] @ F[b]) ** 2 for a in range(A.shape[1]) for b in range(A.shape[1]))
    np.testing.assert_allclose(spectral_loss_finite(p, A, F), -2 * pos + neg, atol=1e-12)


def test_two_minimizers_on_the_hypercube():
    cube = HypercubeAugmentation(6, 2)
    p, aug, pts = cube.discretized_graph(2)
    X = cube.natural_inputs()
    y = cube.labels(X)
    good, bad = np.sign(pts[:, :2]), parity_features(pts, [(2, 3), (4, 5)])
    np.testing.assert_allclose(spectral_loss_finite(p, aug, good), -2, atol=1e-12)
    np.testing.assert_allclose(spectral_loss_finite(p, aug, bad), -2, atol=1e-12)
    np.testing.assert_allclose(invariant_spectral_loss(X[:, :2]), -2, atol=1e-12)
    assert spectral_loss_finite(p, aug, pts[:, [0, 2]]) > -2 + 1e-3
    assert feature_bayes_error(X[:, :2], y) == pytest.approx(0.0, abs=1e-15)
    assert feature_bayes_error(parity_features(X, [(2, 3), (4, 5)]), y) == 0.5


def test_feature_bayes_error_brute_force():
    F = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
    y = np.array([0, 1, 1, 1, 0])
    p = np.array([0.1, 0.2, 0.3, 0.3, 0.1])
    assert feature_bayes_error(F, y, p) == pytest.approx(0.1 + 0.1)
    assert feature_bayes_error(F, y) == pytest.approx(2 / 5)


def test_bad_input():
    S = np.eye(3)
    with pytest.raises(ValueError, match="sigma"):
        linear_aug_matrix(np.diag([1.0, 0.0, 1.0]), S)
    with pytest.raises(ValueError, match="sigma_plus"):
        linear_aug_matrix(S, np.ones((2, 2)))
    with pytest.raises(ValueError, match="k"):
        spectral_linear_closed_form(S, S, 4)
    with pytest.raises(ValueError, match="a"):
        linear_class_bound(np.ones(2), S, 1)
    with pytest.raises(ValueError, match="excess"):
        davis_kahan_bound(-1.0, [1.0, 0.5], 1)
    with pytest.raises(ValueError, match="p_bar"):
        augmentation_components(np.array([0.5, 0.6]), np.eye(2))
    with pytest.raises(ValueError, match="aug"):
        augmentation_components(np.array([0.5, 0.5]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="F"):
        spectral_loss_finite(np.array([0.5, 0.5]), np.eye(2), np.ones((3, 1)))
    with pytest.raises(ValueError, match="labels"):
        feature_bayes_error(np.ones((3, 1)), [0, 1])
    with pytest.raises(ValueError, match="x_pos"):
        estimate_aug_moments(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="symmetric"):
        estimate_aug_moments(np.ones((3, 2)), np.ones((3, 2)), symmetric=1)


# ----------------------------------------------------------------------------------------------------
# adversarial-probe training (sslbook.train)
# ----------------------------------------------------------------------------------------------------


def test_probe_r2_matches_least_squares():
    from sslbook.train import probe_r2

    rng = np.random.default_rng(10)
    z = rng.normal(size=(64, 3))
    y = rng.integers(0, 3, size=64)
    Y = np.eye(3)[y]
    Z1 = np.c_[z, np.ones(64)]
    resid = Y - Z1 @ np.linalg.lstsq(Z1, Y, rcond=None)[0]
    expected = 1 - np.sum(resid**2) / np.sum((Y - Y.mean(0)) ** 2)
    got = probe_r2(torch.from_numpy(z), torch.from_numpy(y), ridge=1e-12).item()
    np.testing.assert_allclose(got, expected, atol=1e-8)
    perfect = probe_r2(torch.from_numpy(Y[:, :2].copy()), torch.from_numpy(y)).item()
    assert perfect > 0.999
    with pytest.raises(ValueError, match="y"):
        probe_r2(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long))


def test_train_adversarial_probe_runs_and_uses_the_adversary():
    from sslbook.models import LinearEncoder
    from sslbook.train import train_adversarial_probe

    cube = HypercubeAugmentation(4, 1)
    rng = np.random.default_rng(11)
    torch.manual_seed(0)
    net = LinearEncoder(4, 1)
    hist = train_adversarial_probe(net, lambda s: cube.sample_pairs(128, rng), steps=100, adv_weight=0.0,
                                   lr=0.03, progress=False)
    assert hist.loss.shape == (100,) and hist.extra["adv_weight"] == 0.0
    assert hist.final_loss < -0.8  # the linear minimum is -1
    with pytest.raises(ValueError, match="adv_weight"):
        train_adversarial_probe(net, lambda s: cube.sample_pairs(8, rng), steps=1, adv_weight=-1.0)
    with pytest.raises(TypeError, match="sample_batch"):
        train_adversarial_probe(net, None, steps=1)
