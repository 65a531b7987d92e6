"""Tests of sslbook.data.multiview and sslbook.theory.multiview against brute force on tiny instances."""

import itertools

import numpy as np
import pytest

from sslbook import testing
from sslbook.data import DiscreteMultiView
from sslbook.theory import (
    alternating_conditional_expectations,
    cca_objective,
    conditional_expectation_operator,
    density_ratio,
    landmark_predictor,
    landmark_variance,
    projection_residual,
    redundancy,
    whitened_cca,
)


def _joint2(rng, n1=4, n2=3):
    return rng.dirichlet(np.ones(n1 * n2)).reshape(n1, n2)


# ---------------------------------------------------------------- data
def test_discrete_multiview_marginals_and_sampling():
    rng = np.random.default_rng(0)
    mv = DiscreteMultiView.conditionally_independent(5, 4, 3, rng)
    j = mv.joint
    np.testing.assert_allclose(mv.p12, [[j[a, b].sum() for b in range(4)] for a in range(5)])
    np.testing.assert_allclose(mv.p1, mv.p12.sum(axis=1))
    np.testing.assert_allclose(mv.p2, mv.p12.sum(axis=0))
    np.testing.assert_allclose(mv.py.sum(), 1.0)
    post = mv.posterior_x1()
    for a in range(5):
        np.testing.assert_allclose(post[a], j[a].sum(axis=0) / j[a].sum())
    np.testing.assert_allclose(mv.posterior_x2().sum(axis=1), 1.0)
    x1, x2, y = mv.sample(40000, rng)
    counts = np.zeros_like(j)
    np.add.at(counts, (x1, x2, y), 1)
    assert np.abs(counts / 40000 - j).max() < 0.02


def test_conditionally_independent_is_ci():
    rng = np.random.default_rng(1)
    mv = DiscreteMultiView.conditionally_independent(5, 4, 3, rng)
    j = mv.joint
    for y in range(3):
        slab = j[:, :, y] / j[:, :, y].sum()
        np.testing.assert_allclose(slab, np.outer(slab.sum(axis=1), slab.sum(axis=0)), atol=1e-14)
    pert = mv.perturbed(0.3, rng)
    slab = pert.joint[:, :, 0] / pert.joint[:, :, 0].sum()
    assert np.abs(slab - np.outer(slab.sum(axis=1), slab.sum(axis=0))).max() > 1e-4
    np.testing.assert_allclose(mv.perturbed(0.0, rng).joint, j)


def test_from_conditionals_brute_force():
    prior = np.array([0.3, 0.7])
    a = np.array([[0.5, 0.5], [0.1, 0.9]])
    b = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    mv = DiscreteMultiView.from_conditionals(prior, a, b)
    for x1, x2, y in itertools.product(range(2), range(3), range(2)):
        assert mv.joint[x1, x2, y] == pytest.approx(prior[y] * a[y, x1] * b[y, x2])


def test_redundant_views_noise_zero_is_fully_redundant():
    mv = DiscreteMultiView.redundant_views(5, 3, 0.0, 0)
    q = redundancy(mv.joint)
    assert q.eps_x < 1e-14 and q.eps_z < 1e-14
    assert redundancy(DiscreteMultiView.redundant_views(5, 3, 0.4, 0).joint).eps_x > 1e-3


def test_data_bad_input():
    with pytest.raises(ValueError, match="joint"):
        DiscreteMultiView(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="prior"):
        DiscreteMultiView.from_conditionals([0.5, 0.6], np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="p_x2_given_y"):
        DiscreteMultiView.from_conditionals([0.5, 0.5], np.eye(2), np.ones((2, 2)))
    with pytest.raises(ValueError, match="concentration"):
        DiscreteMultiView.conditionally_independent(3, 3, 2, 0, concentration=0.0)
    with pytest.raises(ValueError, match="eps"):
        DiscreteMultiView.conditionally_independent(3, 3, 2, 0).perturbed(1.5)
    with pytest.raises(ValueError, match="noise"):
        DiscreteMultiView.redundant_views(3, 2, -0.1)
    with pytest.raises(TypeError, match="n"):
        DiscreteMultiView.redundant_views(3, 2, 0.1).sample(2.5)


# ---------------------------------------------------------------- operator and CCA
def test_conditional_expectation_operator_brute_force():
    rng = np.random.default_rng(2)
    p12 = _joint2(rng)
    g = rng.standard_normal(3)
    T = conditional_expectation_operator(p12)
    for a in range(4):
        expected = sum(p12[a, b] * g[b] for b in range(3)) / p12[a].sum()
        assert (T @ g)[a] == pytest.approx(expected)


def test_whitened_cca_against_brute_force_optimum():
    rng = np.random.default_rng(3)
    p12 = _joint2(rng, 3, 3)
    cca = whitened_cca(p12, 2)
    assert cca.sigma[0] == pytest.approx(1.0)
    np.testing.assert_allclose(cca.psi1[:, 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(cca.psi1.T @ np.diag(p12.sum(1)) @ cca.psi1, np.eye(2), atol=1e-12)
    # brute force over many whitened pairs: none beats sum(sigma); the closed form attains it
    best, best_a = -np.inf, -np.inf
    s1, s2 = np.sqrt(p12.sum(1))[:, None], np.sqrt(p12.sum(0))[:, None]
    B = p12 / s1 / s2.T
    for _ in range(3000):
        a = np.linalg.qr(rng.standard_normal((3, 2)))[0]
        b = np.linalg.qr(rng.standard_normal((3, 2)))[0]
        best = max(best, cca_objective(p12, a / s1, b / s2))
        # for fixed a the best b is explicit: max_b tr(a^T B b) = nuclear norm of a^T B
        best_a = max(best_a, np.linalg.norm(a.T @ B, "nuc"))
    optimum = cca_objective(p12, cca.psi1, cca.psi2)
    assert optimum == pytest.approx(cca.sigma.sum(), abs=1e-12)
    assert max(best, best_a) <= optimum + 1e-12
    assert best_a > optimum - 1e-3  # the search over a gets close, so the optimum is not inflated
    # the objective by enumeration of pairs
    direct = sum(p12[a, b] * cca.psi1[a] @ cca.psi2[b] for a in range(3) for b in range(3))
    assert optimum == pytest.approx(direct)


def test_ace_converges_to_cca_span():
    rng = np.random.default_rng(4)
    p12 = _joint2(rng, 6, 5)
    cca = whitened_cca(p12, 2)
    psi1, psi2 = alternating_conditional_expectations(p12, 2, 200, rng=0)
    assert projection_residual(cca.psi1, psi1) < 1e-8
    assert projection_residual(cca.psi2, psi2) < 1e-8
    psi1_0, _ = alternating_conditional_expectations(p12, 2, 0, rng=0)
    assert projection_residual(cca.psi1, psi1_0) > 1e-6


def test_projection_residual():
    A = np.array([[1.0, 0], [0, 1], [0, 0]])
    assert projection_residual(A, A @ np.array([[2.0], [3.0]])) < 1e-15
    assert projection_residual(A, np.array([0.0, 0, 5])) == pytest.approx(1.0)
    B = np.array([1.0, 0, 1]) / np.sqrt(2)
    assert projection_residual(A, B) == pytest.approx(np.sqrt(0.5))  # sin 45 degrees
    with pytest.raises(ValueError, match="A and B"):
        projection_residual(A, np.ones(4))
    with pytest.raises(ValueError, match="rtol"):
        projection_residual(A, A, rtol=2.0)


def test_ci_span_and_its_failure():
    rng = np.random.default_rng(5)
    mv = DiscreteMultiView.conditionally_independent(8, 7, 3, rng)
    cca = whitened_cca(mv.p12, 3)
    assert projection_residual(cca.psi1, mv.posterior_x1()) < 1e-10
    pert = mv.perturbed(0.1, rng)
    assert projection_residual(whitened_cca(pert.p12, 3).psi1, pert.posterior_x1()) > 1e-3


def test_cca_bad_input():
    with pytest.raises(ValueError, match="p12"):
        whitened_cca(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="p12"):
        whitened_cca(np.array([[0.5, 0.5], [0.0, 0.0]]), 1)
    with pytest.raises(ValueError, match="k"):
        whitened_cca(np.full((2, 2), 0.25), 3)
    with pytest.raises(ValueError, match="psi1"):
        cca_objective(np.full((2, 2), 0.25), np.ones((3, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="n_iter"):
        alternating_conditional_expectations(np.full((2, 2), 0.25), 1, -1)


# ---------------------------------------------------------------- density ratio and redundancy
def test_density_ratio_and_landmarks_brute_force():
    rng = np.random.default_rng(6)
    p = _joint2(rng, 4, 5)
    r = density_ratio(p)
    px, pz = p.sum(1), p.sum(0)
    assert r[1, 2] == pytest.approx(p[1, 2] / (px[1] * pz[2]))
    h = rng.standard_normal((5, 2))
    g = landmark_predictor(p, h)
    for x in range(4):
        np.testing.assert_allclose(g[x], sum(h[z] * p[x, z] / px[x] for z in range(5)))
    np.testing.assert_allclose(landmark_predictor(p, h[:, 0]), g[:, 0])
    zs = np.array([0, 3, 3])
    np.testing.assert_allclose(landmark_predictor(p, h, landmarks=zs), (r[:, zs] @ h[zs]) / 3)
    # exact landmark variance against enumeration of all landmark pairs (m = 2)
    exact = 0.0
    for z1, z2 in itertools.product(range(5), repeat=2):
        g_hat = landmark_predictor(p, h, landmarks=[z1, z2])
        exact += pz[z1] * pz[z2] * px @ np.sum((g_hat - g) ** 2, axis=1)
    assert landmark_variance(p, h, 2) == pytest.approx(exact, rel=1e-12)


def test_redundancy_brute_force_and_bound():
    rng = np.random.default_rng(7)
    joint = rng.dirichlet(np.ones(3 * 2 * 2)).reshape(3, 2, 2)
    vals = np.array([0.0, 1.0])  # Y in {0, 1}: E[Y|.] = P(Y=1|.)
    q = redundancy(joint, y_values=vals)
    pxz = joint.sum(2)
    e_xz = joint[:, :, 1] / pxz
    e_x = joint[:, :, 1].sum(1) / pxz.sum(1)
    e_z = joint[:, :, 1].sum(0) / pxz.sum(0)
    g = (pxz / pxz.sum(1, keepdims=True)) @ e_z
    eps_x = sum(pxz[x, z] * (e_x[x] - e_xz[x, z]) ** 2 for x in range(3) for z in range(2))
    eps_z = sum(pxz[x, z] * (e_z[z] - e_xz[x, z]) ** 2 for x in range(3) for z in range(2))
    err = sum(pxz[x, z] * (g[x] - e_xz[x, z]) ** 2 for x in range(3) for z in range(2))
    assert q.eps_x == pytest.approx(eps_x) and q.eps_z == pytest.approx(eps_z)
    assert q.error_vs_xz == pytest.approx(err)
    testing.assert_bound(q.error_vs_x, q.eps_z, slack=1e-12)
    testing.assert_bound(q.error_vs_xz, q.eps_x + q.eps_z, slack=1e-12)
    # one-hot default equals the sum over the two indicator coordinates
    q2 = redundancy(joint)
    assert q2.eps_x == pytest.approx(2 * q.eps_x)  # binary: both coordinates carry the same error


def test_redundancy_bound_detects_a_wrong_predictor():
    """The verification must fail for a predictor other than E[E[Y|Z]|X] (e.g. a constant)."""
    joint = DiscreteMultiView.redundant_views(6, 3, 0.05, 0).joint
    q = redundancy(joint, g=np.full((6, 3), 1 / 3))
    with pytest.raises(AssertionError):
        testing.assert_bound(q.error_vs_x, q.eps_z, slack=1e-12)
    with pytest.raises(AssertionError):
        testing.assert_bound(q.error_vs_xz, q.eps_x + q.eps_z, slack=1e-12)


def test_redundancy_bad_input():
    with pytest.raises(ValueError, match="joint"):
        redundancy(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="y_values"):
        redundancy(np.full((2, 2, 2), 1 / 8), y_values=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="g"):
        redundancy(np.full((2, 2, 2), 1 / 8), g=np.ones(3))
    with pytest.raises(ValueError, match="h_z"):
        landmark_predictor(np.full((2, 2), 0.25), np.ones(3))
    with pytest.raises(ValueError, match="landmarks"):
        landmark_predictor(np.full((2, 2), 0.25), np.ones(2), landmarks=[2])
    with pytest.raises(ValueError, match="m"):
        landmark_variance(np.full((2, 2), 0.25), np.ones(2), 0)
    with pytest.raises(ValueError, match="p_xz"):
        density_ratio(np.array([[0.5, 0.0], [0.5, 0.0]]))


def test_topic_model_docs_is_conditionally_independent_and_validated():
    from sslbook.data import TopicModelDocs

    rng = np.random.default_rng(0)
    docs = TopicModelDocs.random(3, 6, rng=rng)
    assert docs.k == 3 and np.allclose(docs.topics.sum(axis=1), 1.0)
    x1, x2, y = docs.sample(4000, 5, rng)
    assert x1.shape == x2.shape == (4000, 6) and np.allclose(x1.sum(axis=1), 1.0)
    # E[X2 | Y = y] = beta_y, within 4 standard errors per coordinate
    for c in range(3):
        sel = x2[y == c]
        se = sel.std(axis=0, ddof=1) / np.sqrt(len(sel)) + 1e-12
        assert np.all(np.abs(sel.mean(axis=0) - docs.topics[c]) <= 4 * se + 1e-4)  # + rare words never drawn
    # X1 and X2 are independent given Y: within-topic cross-covariance ~ 0
    sel = y == 0
    cross = np.cov(x1[sel].T, x2[sel].T)[:6, 6:]
    assert np.abs(cross).max() < 0.02
    with pytest.raises(ValueError, match="topics"):
        TopicModelDocs(np.ones((2, 3)))
    with pytest.raises(ValueError, match="k"):
        TopicModelDocs.random(1, 5)
    with pytest.raises(ValueError, match="half_length"):
        docs.sample(3, 0)
