"""Tests of sslbook.theory.quad: the Quad closed form, excess, optimal value and Ky Fan embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from sslbook import theory
from sslbook.theory import quad


def _instance(seed=0, S=15, V=7, d=3):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(V), size=S)
    pc = rng.dirichlet(np.ones(S))
    Phi = rng.standard_normal((d, V))
    return rng, p, pc, Phi


def test_quad_loss_matches_loop():
    rng, p, _, Phi = _instance()
    theta = rng.standard_normal((p.shape[0], Phi.shape[0]))
    expected = [sum(p[s, w] * (-theta[s] @ Phi[:, w]) for w in range(p.shape[1]))
                + 0.5 * sum((theta[s] @ Phi[:, w]) ** 2 for w in range(p.shape[1])) for s in range(p.shape[0])]
    np.testing.assert_allclose(quad.quad_loss(theta, Phi, p), expected, atol=1e-12)


def test_closed_form_is_numerical_minimum():
    _, p, _, Phi = _instance(1)
    star = quad.quad_closed_form(Phi, p)
    for s in range(3):
        res = minimize(lambda t, s=s: quad.quad_loss(t[None], Phi, p[s:s + 1])[0], np.zeros(Phi.shape[0]),
                       method="BFGS", options={"gtol": 1e-10})
        np.testing.assert_allclose(res.x, star[s], atol=1e-6)


def test_excess_identity_and_nonnegative():
    rng, p, _, Phi = _instance(2)
    star = quad.quad_closed_form(Phi, p)
    theta = star + rng.standard_normal(star.shape)
    diff = theta - star
    expected = 0.5 * np.sum((diff @ Phi) ** 2, axis=1)
    np.testing.assert_allclose(quad.quad_excess(theta, Phi, p), expected, rtol=1e-10)
    assert np.all(quad.quad_excess(star, Phi, p) < 1e-12)
    # a wrong identity (without the 1/2) is detected
    assert not np.allclose(quad.quad_excess(theta, Phi, p), 2 * expected)


def test_optimal_value_and_omega():
    _, p, pc, Phi = _instance(3)
    omega = quad.quad_omega(pc, p)
    np.testing.assert_allclose(omega, sum(pc[s] * np.outer(p[s], p[s]) for s in range(len(pc))), atol=1e-14)
    star = quad.quad_closed_form(Phi, p)
    direct = float(pc @ quad.quad_loss(star, Phi, p))
    np.testing.assert_allclose(quad.quad_optimal_value(Phi, pc, p), direct, atol=1e-12)


def test_optimal_embeddings_ky_fan():
    rng, p, pc, _ = _instance(4, S=30, V=8, d=3)
    best = quad.quad_optimal_embeddings(pc, p, 3)
    lam = np.sort(np.linalg.eigvalsh(quad.quad_omega(pc, p)))[::-1]
    np.testing.assert_allclose(best.value, -0.5 * lam[:3].sum(), atol=1e-14)
    np.testing.assert_allclose(quad.quad_optimal_value(best.Phi, pc, p), best.value, atol=1e-12)
    np.testing.assert_allclose(best.Phi @ best.Phi.T, np.eye(3), atol=1e-12)
    assert best.gap == pytest.approx(lam[2] - lam[3])
    for _ in range(50):
        assert quad.quad_optimal_value(rng.standard_normal((3, 8)), pc, p) >= best.value - 1e-12
    # d = V: every full-rank Phi is optimal, gap 0
    full = quad.quad_optimal_embeddings(pc, p, 8)
    assert full.gap == 0.0
    np.testing.assert_allclose(full.value, -0.5 * np.trace(quad.quad_omega(pc, p)), atol=1e-12)


def test_downstream_bound():
    v = np.array([3.0, -4.0])
    assert quad.quad_downstream_bound(0.1, v, 0.02, 0.5) == pytest.approx(0.1 + 5 * np.sqrt(0.08))
    assert quad.quad_downstream_bound(0.1, v, 0.0, 0.5) == pytest.approx(0.1)


def test_exported():
    assert theory.quad_closed_form is quad.quad_closed_form
    assert "quad_optimal_embeddings" in theory.__all__


def test_bad_input():
    _, p, pc, Phi = _instance()
    with pytest.raises(ValueError, match="p_next"):
        quad.quad_closed_form(Phi, p * 2)
    with pytest.raises(ValueError, match="Phi"):
        quad.quad_closed_form(np.zeros((3, p.shape[1])), p)
    with pytest.raises(ValueError, match="Phi"):
        quad.quad_closed_form(Phi[:, :3], p)
    with pytest.raises(ValueError, match="theta"):
        quad.quad_loss(np.zeros((2, 3)), Phi, p)
    with pytest.raises(ValueError, match="p_context"):
        quad.quad_omega(pc[:-1], p)
    with pytest.raises(ValueError, match="d"):
        quad.quad_optimal_embeddings(pc, p, p.shape[1] + 1)
    with pytest.raises(ValueError, match="gamma"):
        quad.quad_downstream_bound(0.1, np.ones(3), 0.1, 0.0)
    with pytest.raises(ValueError, match="eps"):
        quad.quad_downstream_bound(0.1, np.ones(3), -0.1, 0.5)
