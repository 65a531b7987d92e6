"""Tests of sslbook.data.self_prediction, sslbook.theory.self_prediction and train.fit_pretext_regression."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook import testing
from sslbook.data import CIGaussianMixture, LinearGaussianACI
from sslbook.theory import (
    aci_bound,
    approximation_error,
    conditional_mean_map,
    eps_ci,
    linear_prediction_error,
    partial_covariance,
)
from sslbook.train import fit_pretext_regression


def _tiny_mixture(tie=False, seed=0):
    return CIGaussianMixture.random(3, 2, 3, 4, separation=1.5, tie=tie, rng=seed)


# ---------------------------------------------------------------- CIGaussianMixture


def test_mixture_posterior_matches_bayes_by_hand():
    mix = _tiny_mixture()
    x1 = np.array([[0.3, -0.2], [1.0, 2.0]])
    dens = np.array([[mix.prior[y] * np.exp(-0.5 * np.sum((x - mix.means[y]) ** 2)) for y in range(3)] for x in x1])
    np.testing.assert_allclose(mix.posterior(x1), dens / dens.sum(1, keepdims=True), atol=1e-14)


def test_conditional_mean_from_joint_by_brute_force_sum():
    mix = _tiny_mixture()
    x1 = np.array([[0.5, 0.1], [-1.0, 0.7]])
    for i, x in enumerate(x1):
        # brute force: p(x1, x2=a_j) = sum_y pi_y N(x1; mu_y, I) Q_yj, then condition on x1
        table = np.array([sum(mix.prior[y] * np.exp(-0.5 * np.sum((x - mix.means[y]) ** 2)) * mix.emission[y, j]
                              for y in range(3)) for j in range(4)])
        expect = table @ mix.alphabet / table.sum()
        np.testing.assert_allclose(mix.conditional_mean_x2(x1)[i], expect, atol=1e-13)
    # the table is proportional to the joint density (normalising constant of N cancels on conditioning)
    tab = mix.joint_table(x1)
    assert tab.shape == (2, 4) and np.all(tab > 0)


def test_mixture_lemma_rank_and_tie():
    mix = _tiny_mixture()
    x1, _, _ = mix.sample(500, rng=1)
    np.testing.assert_allclose(mix.conditional_mean_x2(x1), mix.posterior(x1) @ mix.A.T, atol=1e-12)
    tied = _tiny_mixture(tie=True)
    assert np.linalg.matrix_rank(tied.A) == 2
    np.testing.assert_allclose(tied.emission[0], tied.emission[1])


def test_mixture_sample_frequencies():
    mix = CIGaussianMixture([0.5, 0.5], [[0.0], [3.0]], [[0.0], [1.0]], [[0.9, 0.1], [0.2, 0.8]])
    x1, x2, y = mix.sample(20000, rng=0)
    assert abs(np.mean(x2[y == 0, 0]) - 0.1) < 0.02 and abs(np.mean(x2[y == 1, 0]) - 0.8) < 0.02
    assert abs(x1[y == 1, 0].mean() - 3.0) < 0.05


def test_mixture_bad_input():
    with pytest.raises(ValueError, match="prior"):
        CIGaussianMixture([0.5, 0.6], [[0.0], [1.0]], [[0.0], [1.0]], [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="emission"):
        CIGaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[0.0], [1.0]], [[1, 0.5], [0, 1]])
    with pytest.raises(ValueError, match="means"):
        CIGaussianMixture([0.5, 0.5], [[0.0]], [[0.0], [1.0]], [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="scale"):
        CIGaussianMixture([0.5, 0.5], [[0.0], [1.0]], [[0.0], [1.0]], [[1, 0], [0, 1]], scale=0.0)
    with pytest.raises(ValueError, match="x1"):
        _tiny_mixture().posterior(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="k"):
        CIGaussianMixture.random(1, 2, 2, 2)
    with pytest.raises(TypeError, match="tie"):
        CIGaussianMixture.random(2, 2, 2, 2, tie=1)


# ---------------------------------------------------------------- LinearGaussianACI


def test_aci_covariance_matches_samples_and_blocks():
    model = LinearGaussianACI.random(1, 1, 3, 2, violation=0.5, rng=0)
    y, z, x1, x2 = model.sample(50000, rng=1)
    emp = np.cov(np.hstack([y, z, x1, x2]).T)
    np.testing.assert_allclose(emp, model.cov, atol=0.06)
    b = model.blocks
    assert list(b["X2"]) == [5, 6] and model.dims == (1, 1, 3, 2)
    # Sigma_{12 | Ybar} = C12 by construction
    np.testing.assert_allclose(partial_covariance(model.cov, b["X1"], b["X2"], b["Ybar"]), model.C12, atol=1e-12)
    y, z, x1, x2 = model.sample(5, trials=3, rng=2)
    assert x1.shape == (3, 5, 3) and z.shape == (3, 5, 1)


def test_aci_bad_input():
    with pytest.raises(ValueError, match="violation"):
        LinearGaussianACI.random(1, 1, 3, 2, violation=1.5)
    with pytest.raises(ValueError, match="C12"):
        LinearGaussianACI(np.ones((2, 1)), np.ones((2, 1)), np.eye(2), np.eye(2), 2 * np.eye(2), 1)
    with pytest.raises(ValueError, match="B2"):
        LinearGaussianACI(np.ones((2, 1)), np.ones((2, 2)), np.eye(2), np.eye(2), np.zeros((2, 2)), 1)
    with pytest.raises(ValueError, match="k"):
        LinearGaussianACI(np.ones((2, 1)), np.ones((2, 1)), np.eye(2), np.eye(2), np.zeros((2, 2)), 2)


# ---------------------------------------------------------------- theory


def test_partial_covariance_equals_conditional_covariance_by_regression():
    rng = np.random.default_rng(0)
    L = rng.standard_normal((5, 5))
    S = L @ L.T + np.eye(5)
    a, b, c = [0, 1], [2], [3, 4]
    # independent computation: covariance of residuals after projecting on C (Schur complement of the joint)
    idx = a + b + c
    P = np.linalg.inv(np.linalg.inv(S[np.ix_(idx, idx)])[:3, :3])  # covariance of (A, B) given C
    np.testing.assert_allclose(partial_covariance(S, a, b, c), P[:2, 2:3], atol=1e-12)


def test_conditional_mean_map_and_errors():
    rng = np.random.default_rng(1)
    L = rng.standard_normal((4, 4))
    S = L @ L.T + np.eye(4)
    Mmap = conditional_mean_map(S, [3], [0, 1, 2])
    np.testing.assert_allclose(Mmap, S[3:, :3] @ np.linalg.inv(S[:3, :3]), atol=1e-12)
    F = rng.standard_normal((2, 3))
    G = rng.standard_normal((1, 3))
    Sx = S[:3, :3]
    e = approximation_error(F, G, Sx)
    # independent: least squares in whitened coordinates, min_W ||(F - W G) Sx^{1/2}||_F
    root = np.linalg.cholesky(Sx)
    Wt, *_ = np.linalg.lstsq((G @ root).T, (F @ root).T, rcond=None)
    assert abs(e - linear_prediction_error(Wt.T, F, G, Sx)) < 1e-12
    assert e < linear_prediction_error(Wt.T + 0.01, F, G, Sx)
    assert approximation_error(F, np.eye(3), Sx) < 1e-12  # invertible features: no approximation error


def test_aci_bound_identity_exact_step_and_wrong_variant():
    checked_wrong = False
    rng = np.random.default_rng(0)
    for _ in range(30):
        model = LinearGaussianACI.random(2, 2, 12, 5, violation=rng.uniform(0, 1), signal2=rng.uniform(0.3, 2),
                                         rng=rng)
        b = model.blocks
        r = aci_bound(model.cov, b["Y"], b["Ybar"], b["X1"], b["X2"])
        assert r.identity_residual < 1e-10
        np.testing.assert_allclose(r.error_pinv, r.error_pinv_closed_form, rtol=1e-9)
        testing.assert_bound(r.e_apx, r.bound, slack=1e-12)
        if r.e_apx > r.eps_ci**2:  # the variant without sigma_min^2 fails here
            with pytest.raises(AssertionError):
                testing.assert_bound(r.e_apx, r.eps_ci**2)
            checked_wrong = True
    assert checked_wrong
    ci = LinearGaussianACI.random(1, 1, 6, 3, violation=0.0, rng=0)
    b = ci.blocks
    r = aci_bound(ci.cov, b["Y"], b["Ybar"], b["X1"], b["X2"])
    assert r.eps_ci < 1e-12 and r.e_apx < 1e-12


def test_eps_ci_by_hand():
    model = LinearGaussianACI.random(1, 0, 2, 2, violation=0.3, rng=3)
    b = model.blocks
    S11 = model.cov[np.ix_(b["X1"], b["X1"])]
    w, V = np.linalg.eigh(S11)
    expect = np.linalg.norm(V @ np.diag(w**-0.5) @ V.T @ model.C12)
    assert abs(eps_ci(model.cov, b["X1"], b["X2"], b["Ybar"]) - expect) < 1e-12


def test_theory_bad_input():
    S = np.eye(3)
    with pytest.raises(ValueError, match="cov"):
        partial_covariance(np.ones((2, 3)), [0], [1], [2])
    with pytest.raises(ValueError, match="c"):
        partial_covariance(S, [0], [1], [5])
    with pytest.raises(ValueError, match="W"):
        linear_prediction_error(np.ones((2, 2)), np.ones((1, 3)), np.ones((2, 3)), S)
    with pytest.raises(ValueError, match="y"):
        model = LinearGaussianACI.random(1, 1, 3, 2, rng=0)
        b = model.blocks
        aci_bound(model.cov, b["X1"][:1], b["Ybar"], b["X1"], b["X2"])
    with pytest.raises(ValueError, match="full column rank"):
        model = LinearGaussianACI.random(1, 2, 3, 2, rng=0)  # d2 < k + m
        b = model.blocks
        aci_bound(model.cov, b["Y"], b["Ybar"], b["X1"], b["X2"])


# ---------------------------------------------------------------- fit_pretext_regression


def test_fit_pretext_ridge_matches_lstsq_and_mlp_runs():
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((200, 3))
    x2 = x1 @ rng.standard_normal((3, 2)) + 1.0
    reg = fit_pretext_regression(x1, x2, ridge=0.0)
    c1 = np.hstack([x1, np.ones((200, 1))])
    coef, *_ = np.linalg.lstsq(c1, x2, rcond=None)
    np.testing.assert_allclose(reg.transform(x1), c1 @ coef, atol=1e-10)
    mlp = fit_pretext_regression(x1, x2, kind="mlp", hidden=16, steps=80, lr=2e-2, progress=False)
    err = np.mean((mlp.transform(x1) - x2) ** 2)
    assert err < 0.5 * np.mean((x2 - x2.mean(0)) ** 2)


def test_fit_pretext_bad_input():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="kind"):
        fit_pretext_regression(x, x, kind="svm")
    with pytest.raises(ValueError, match="x1"):
        fit_pretext_regression(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="ridge"):
        fit_pretext_regression(x, x, ridge=-1.0)
    reg = fit_pretext_regression(np.eye(5)[:, :2], x, ridge=0.1)
    with pytest.raises(ValueError, match="x1"):
        reg.transform(np.zeros((3, 4)))


# ---------------------------------------------------------------- the explorer's curve (issue #8)


def test_aci_violation_curve_against_the_instance_structure():
    from sslbook.explorers import aci_violation_curve

    v = np.array([0.0, 0.05, 0.2, 0.6, 1.0])
    curve = aci_violation_curve(v, signal2=0.8, seed=3)
    inst = LinearGaussianACI.random(2, 2, 12, 5, violation=1.0, signal2=0.8, rng=3)
    # Sigma_{Ybar Ybar} = I, so A = B2; Sigma_{12|Ybar} = C12 = v U V^T; Sigma_11 = B1 B1^T + I.
    assert abs(curve.sigma_min_A - np.linalg.svd(inst.B2, compute_uv=False).min()) < 1e-10
    S11 = inst.B1 @ inst.B1.T + np.eye(12)
    w, Q = np.linalg.eigh(S11)
    eps1 = np.linalg.norm(Q @ np.diag(w**-0.5) @ Q.T @ inst.C12)
    np.testing.assert_allclose(curve.eps_ci, v * eps1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(curve.bound, (v * eps1) ** 2 / curve.sigma_min_A**2, rtol=1e-9, atol=1e-12)
    # e_apx by a projection: || Fbar S^{1/2} (I - P) ||_F^2 with P the projector on the rows of M S^{1/2}
    for i, value in enumerate(v):
        cov = LinearGaussianACI.random(2, 2, 12, 5, violation=float(value), signal2=0.8, rng=3).cov
        Ybar, X1, X2 = np.arange(4), np.arange(4, 16), np.arange(16, 21)
        S = cov[np.ix_(X1, X1)]
        root = Q @ np.diag(w**0.5) @ Q.T
        Fbar = cov[np.ix_(Ybar, X1)] @ np.linalg.inv(S)
        M = cov[np.ix_(X2, X1)] @ np.linalg.inv(S)
        _, sv, Vt = np.linalg.svd(M @ root)
        basis = Vt[: int(np.sum(sv > 1e-10))]
        resid = Fbar @ root - (Fbar @ root) @ basis.T @ basis
        assert abs(curve.e_apx[i] - np.sum(resid**2)) < 1e-9
    # exact CI at violation 0: eps_CI vanishes up to round-off (BLAS kernels differ between machines)
    assert curve.e_apx[0] < 1e-12 and abs(curve.eps_ci[0]) < 1e-12 * max(1.0, float(np.max(curve.eps_ci)))
    testing.assert_bound(curve.e_apx, curve.bound, slack=1e-12, name="ACI bound")
    # the wrong variant without 1/sigma_min(A)^2 fails on this instance (sigma_min(A) < 1)
    assert curve.sigma_min_A < 1 and np.any(curve.e_apx > curve.eps_ci**2)


def test_aci_violation_curve_bad_input():
    from sslbook.explorers import aci_violation_curve

    with pytest.raises(ValueError, match="violations"):
        aci_violation_curve([0.2, 1.5])
    with pytest.raises(ValueError, match="violations"):
        aci_violation_curve([])
    with pytest.raises(TypeError, match="seed"):
        aci_violation_curve([0.1], seed=0.5)
    with pytest.raises(ValueError, match="seed"):
        aci_violation_curve([0.1], seed=-1)
    with pytest.raises(ValueError, match="violations"):
        aci_violation_curve([0.1, float("nan")])
    with pytest.raises(ValueError, match="signal2"):
        aci_violation_curve([0.1], signal2=-1.0)
