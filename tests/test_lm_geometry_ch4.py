"""sslbook.theory.lm_geometry: log-partition derivatives and the refined coverage coefficient."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import eigh

from sslbook import theory


def _instance(seed=0, d=3, V=7, S=20):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, V)), rng.standard_normal((S, d)), rng


def test_gradient_and_hessian_of_log_partition():
    Phi, theta, _ = _instance()
    h = 1e-5
    grad_fd = np.stack([(theory.log_partition(Phi, theta + h * e) - theory.log_partition(Phi, theta - h * e)) / (2 * h)
                        for e in np.eye(3)], axis=-1)
    cm = theory.conditional_mean_embedding(Phi, theory.softmax_probs(Phi, theta))
    np.testing.assert_allclose(grad_fd, cm, atol=1e-8)
    hess_fd = np.stack([(theory.conditional_mean_embedding(Phi, theory.softmax_probs(Phi, theta + h * e))
                         - theory.conditional_mean_embedding(Phi, theory.softmax_probs(Phi, theta - h * e))) / (2 * h)
                        for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(theory.embedding_covariance(Phi, theta), hess_fd, atol=1e-8)
    # the uncentred second moment is not the Hessian
    p = theory.softmax_probs(Phi, theta)
    assert np.abs(np.einsum("sv,iv,jv->sij", p, Phi, Phi) - hess_fd).max() > 1e-2


def test_linearization_residual_bound_and_order():
    Phi, theta, rng = _instance(1)
    theta0 = theta.mean(axis=0)
    D = max(np.linalg.norm(Phi[:, i] - Phi[:, j]) for i in range(7) for j in range(7))
    affine, r = theory.softmax_linearization(Phi, theta, theta0)
    assert np.all(np.linalg.norm(r, axis=1) <= 0.5 * D**3 * np.linalg.norm(theta - theta0, axis=1) ** 2 + 1e-12)
    u = rng.standard_normal(3)
    ts = np.geomspace(1e-3, 1e-1, 6)
    res = [np.linalg.norm(theory.softmax_linearization(Phi, theta0 + t * u, theta0)[1]) for t in ts]
    slope = np.polyfit(np.log(ts), np.log(res), 1)[0]
    assert 1.9 < slope < 2.1
    np.testing.assert_allclose(theory.softmax_linearization(Phi, theta0, theta0)[1], 0.0, atol=1e-14)


def test_refined_coverage_matches_generalized_eigenvalue_and_dominates_gamma():
    rng = np.random.default_rng(3)
    S, k = 40, 3
    pc = rng.dirichlet(np.ones(S))
    pt = np.where(rng.random(S) < 0.4, rng.dirichlet(np.ones(S)), 0.0)
    pt /= pt.sum()
    g = rng.standard_normal((S, k))
    gam = theory.refined_coverage(pt, pc, g)
    mt, ml = np.einsum("s,si,sj->ij", pt, g, g), np.einsum("s,si,sj->ij", pc, g, g)
    np.testing.assert_allclose(gam, 1 / eigh(mt, ml, eigvals_only=True).max(), rtol=1e-10)
    assert gam >= theory.natural_tasks.coverage(pt, pc) - 1e-12
    assert np.linalg.eigvalsh(ml - gam * mt).min() > -1e-12
    assert np.linalg.eigvalsh(ml - 1.01 * gam * mt).min() < 0
    # one-dimensional indicator features of a single context give back the ratio p_L / p_T there
    s0 = int(np.argmax(pt))
    ind = np.zeros((S, 1))
    ind[s0] = 1.0
    np.testing.assert_allclose(theory.refined_coverage(pt, pc, ind), pc[s0] / pt[s0], rtol=1e-12)


def test_refined_coverage_degenerate_cases():
    pc = np.array([0.5, 0.5, 0.0])
    pt = np.array([0.0, 0.5, 0.5])
    g = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert theory.refined_coverage(pt, pc, g) == pytest.approx(0.0, abs=1e-15)  # a direction the corpus never shows
    assert theory.refined_coverage(pt, pc, np.zeros((3, 2))) == float("inf")


@pytest.mark.parametrize("bad", [np.ones((3, 2)), np.ones((4, 2, 1))])
def test_refined_coverage_rejects_bad_g(bad):
    with pytest.raises(ValueError, match="g"):
        theory.refined_coverage(np.full(4, 0.25), np.full(4, 0.25), bad)
