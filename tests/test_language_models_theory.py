"""Tests of sslbook.theory.language_models against brute force on tiny vocabularies."""

import numpy as np
import pytest
from scipy.optimize import minimize

from sslbook import explorers, testing
from sslbook import theory as th
from sslbook.theory import natural_tasks as nt


def _rand(rng, S=5, V=4, d=2):
    Phi = rng.standard_normal((d, V))
    p = rng.dirichlet(np.ones(V), size=S)
    return Phi, p


def test_cross_entropy_and_epsilon_brute_force():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(3), size=4), rng.dirichlet(np.ones(3), size=4)
    brute = np.array([-sum(p[s, w] * np.log(q[s, w]) for w in range(3)) for s in range(4)])
    np.testing.assert_allclose(th.next_word_cross_entropy(p, q), brute, rtol=1e-13)
    pc = np.array([0.1, 0.2, 0.3, 0.4])
    ent = -np.sum(p * np.log(p), axis=1)
    np.testing.assert_allclose(nt.excess_cross_entropy(pc, p, q), pc @ (brute - ent), rtol=1e-12)
    zero = np.array([[1.0, 0.0, 0.0]])
    assert th.next_word_cross_entropy(np.array([[0.5, 0.5, 0.0]]), zero)[0] == np.inf
    assert th.next_word_cross_entropy(zero, zero)[0] == 0.0
    with pytest.raises(ValueError, match="p_star"):
        th.next_word_cross_entropy(np.array([0.5, 0.6]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="p_context"):
        nt.excess_cross_entropy(np.ones(4), p, q)


def test_gamma_and_change_of_measure():
    pl = np.array([0.5, 0.3, 0.2, 0.0])
    pt = np.array([0.0, 0.2, 0.8, 0.0])
    g = nt.coverage(pt, pl)
    assert g == pytest.approx(min(0.3 / 0.2, 0.2 / 0.8))
    h = np.array([0.0, 0.0, 1.0, 0.0])  # the indicator of the worst context makes change of measure tight
    assert pt @ h == pytest.approx((pl @ h) / g)
    with pytest.raises(AssertionError):
        testing.assert_bound(pt @ h, (pl @ h) / (1.01 * g), slack=1e-12)  # a wrong gamma fails
    assert nt.coverage(pl, pl) == 1.0
    assert nt.coverage(np.array([0, 0, 0, 1.0]), pl) == 0.0
    with pytest.raises(ValueError, match="p_task"):
        nt.coverage(np.array([0.5, 0.6, 0, 0]), pl)


def test_downstream_bound_formula():
    np.testing.assert_allclose(nt.natural_task_bound(0.1, 2.0, [0.0, 0.02], 0.5), [0.1, 0.1 + np.sqrt(0.32)])
    assert np.isinf(nt.natural_task_bound(0.1, 2.0, 0.02, 0.0))
    with pytest.raises(ValueError, match="epsilon"):
        nt.natural_task_bound(0.1, 2.0, -0.1, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        nt.natural_task_bound(0.1, 2.0, 0.1, 1.5)
    with pytest.raises(ValueError, match="tau"):
        nt.natural_task_bound(-0.1, 2.0, 0.1, 0.5)


def test_task_loss_brute_force():
    u, y, pt = np.array([0.3, -1.0, 2.0]), np.array([1, 1, -1]), np.array([0.2, 0.3, 0.5])
    brute = sum(pt[i] * np.log(1 + np.exp(-y[i] * u[i])) for i in range(3))
    assert th.natural_task_loss(u, y, pt) == pytest.approx(brute, rel=1e-13)
    hinge = sum(pt[i] * max(0.0, 1 - y[i] * u[i]) for i in range(3))
    assert th.natural_task_loss(u, y, pt, loss="hinge") == pytest.approx(hinge)
    assert th.logistic_loss(0.0) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="labels"):
        th.natural_task_loss(u, np.array([1, 0, -1]), pt)
    with pytest.raises(ValueError, match="loss"):
        th.natural_task_loss(u, y, pt, loss="square")


def test_softmax_model_brute_force_and_gradient():
    rng = np.random.default_rng(1)
    Phi, p = _rand(rng)
    theta = rng.standard_normal((5, 2))
    for s in range(5):
        logits = np.array([theta[s] @ Phi[:, w] for w in range(4)])
        q = np.exp(logits) / np.exp(logits).sum()
        np.testing.assert_allclose(th.softmax_probs(Phi, theta)[s], q, atol=1e-14)
        xent = -sum(p[s, w] * np.log(q[w]) for w in range(4))
        np.testing.assert_allclose(th.softmax_cross_entropy(Phi, theta, p)[s], xent, rtol=1e-12)
    np.testing.assert_allclose(th.conditional_mean_embedding(Phi, p), p @ Phi.T)
    grad = th.softmax_gradient(Phi, theta, p)
    h = 1e-6
    for i in range(2):  # central finite differences
        e = np.zeros(2)
        e[i] = h
        fd = (th.softmax_cross_entropy(Phi, theta + e, p) - th.softmax_cross_entropy(Phi, theta - e, p)) / (2 * h)
        np.testing.assert_allclose(grad[:, i], fd, atol=1e-8)
    with pytest.raises(ValueError, match="theta"):
        th.softmax_probs(Phi, np.ones((5, 3)))
    with pytest.raises(ValueError, match="p"):
        th.softmax_cross_entropy(Phi, theta, np.ones((5, 4)))


def test_optimal_theta_matches_scipy_and_matches_moments():
    rng = np.random.default_rng(2)
    Phi, p = _rand(rng, S=6, V=5, d=3)
    theta_star = th.softmax_optimal_theta(Phi, p)
    for s in range(6):  # independent solver, one context at a time
        res = minimize(lambda t, ps=p[s]: th.softmax_cross_entropy(Phi, t, ps), np.zeros(3), method="BFGS", tol=1e-12)
        assert th.softmax_cross_entropy(Phi, theta_star[s], p[s]) <= res.fun + 1e-10
    q = th.softmax_probs(Phi, theta_star)
    assert np.max(np.abs((q - p) @ Phi.T)) < 1e-9  # moment matching
    assert np.abs(q - p).sum(axis=1).min() > 1e-3  # ... though p is not matched
    np.testing.assert_allclose(th.softmax_excess(Phi, theta_star, p, theta_star), 0.0, atol=1e-12)
    single = th.softmax_optimal_theta(Phi, p[0])
    np.testing.assert_allclose(single, theta_star[0], atol=1e-7)


def test_optimal_theta_zero_entries():
    with pytest.raises(ValueError, match="p has zero entries"):
        th.softmax_optimal_theta(np.eye(3), np.array([0.5, 0.5, 0.0]))
    # a zero entry whose Phi p is still interior: the optimum is finite (uniform here)
    theta = th.softmax_optimal_theta(np.array([[1.0, -1.0, 0.0]]), np.array([0.5, 0.5, 0.0]))
    np.testing.assert_allclose(theta, [0.0], atol=1e-12)
    with pytest.raises(ValueError, match="tol"):
        th.softmax_optimal_theta(np.eye(2), np.array([0.5, 0.5]), tol=0.0)


def test_modified_pinsker_random_and_tight():
    rng = np.random.default_rng(3)
    worst = 0.0
    for V, d in [(2, 1), (5, 2), (12, 4)]:
        Phi, p = _rand(rng, S=300, V=V, d=d)
        theta = rng.standard_normal((300, d)) * rng.uniform(0.01, 3, size=(300, 1))
        lam = rng.standard_normal((300, d))
        v = lam @ Phi
        excess = th.softmax_excess(Phi, theta, p)
        lhs = np.abs(np.sum(v * (th.softmax_probs(Phi, theta) - p), axis=1))
        bound = th.modified_pinsker_bound(v, excess)
        testing.assert_bound(lhs, bound, slack=1e-10, name="modified Pinsker")
        worst = max(worst, np.max(lhs / bound))
    assert worst < 1
    # near-tight: 2 words, v = (1, -1), p* = (1/2, 1/2); a wrong constant fails
    Phi, p, v = np.array([[1.0, -1.0]]), np.array([0.5, 0.5]), np.array([1.0, -1.0])
    theta = np.array([1e-3])
    lhs = abs(v @ (th.softmax_probs(Phi, theta) - p))
    excess = th.softmax_excess(Phi, theta, p)
    bound = th.modified_pinsker_bound(v, excess)
    assert lhs <= bound and lhs / bound > 0.999
    with pytest.raises(AssertionError):
        testing.assert_bound(lhs, np.sqrt(1.9 * excess), name="wrong constant")
    with pytest.raises(ValueError, match="excess"):
        th.modified_pinsker_bound(v, -1.0)


def test_modified_pinsker_fails_outside_the_rowspan():
    rng = np.random.default_rng(4)
    Phi, p = _rand(rng, S=50, V=6, d=2)
    theta_star = th.softmax_optimal_theta(Phi, p)
    v = rng.standard_normal(6)  # generic v is not in rowspan(Phi)
    lhs = np.abs((th.softmax_probs(Phi, theta_star) - p) @ v)
    bound = th.modified_pinsker_bound(v, th.softmax_excess(Phi, theta_star, p, theta_star))
    with pytest.raises(AssertionError):
        testing.assert_bound(lhs, bound, slack=1e-10)


# ------------------------------------------------------------------ the explorer's computation (issue #8)


def test_noise_scale_hits_the_target_epsilon():
    rng = np.random.default_rng(5)
    pc = rng.dirichlet(np.ones(4))
    p = rng.dirichlet(np.ones(5), size=4)
    xi = rng.standard_normal((4, 5))
    targets = np.array([0.0, 1e-4, 1e-2, 0.5, 3.0])
    alpha = nt.noise_scale(targets, pc, p, xi)
    assert 0 <= alpha[0] <= 1e-6 and np.all(np.diff(alpha) > 0)  # Newton's root of eps(alpha) ~ alpha^2 at 0
    for a, e in zip(alpha[1:], targets[1:], strict=True):
        # independent: the KL of the softmax model, summed by hand
        q = np.exp(np.log(p) + a * xi)
        q /= q.sum(axis=1, keepdims=True)
        kl = sum(pc[s] * sum(p[s, w] * np.log(p[s, w] / q[s, w]) for w in range(5)) for s in range(4))
        assert kl == pytest.approx(e, rel=1e-8)
        q_off = np.exp(np.log(p) + 1.01 * a * xi)
        q_off /= q_off.sum(axis=1, keepdims=True)
        assert nt.excess_cross_entropy(pc, p, q_off) > e * 1.01  # a wrong alpha misses the target
    with pytest.raises(ValueError, match="epsilon"):
        nt.noise_scale([-0.1], pc, p, xi)
    with pytest.raises(ValueError, match="noise"):
        nt.noise_scale([0.1], pc, p, xi[:, :3])
    with pytest.raises(ValueError, match="epsilon"):
        nt.noise_scale([0.1], pc, p, np.ones((4, 5)))  # constant noise: the model never moves


def test_coverage_mixture_has_the_prescribed_gamma():
    rng = np.random.default_rng(6)
    pl = rng.dirichlet(np.ones(8))
    pt = np.zeros(8)
    pt[[1, 4, 6]] = rng.dirichlet(np.ones(3))
    g0 = nt.coverage(pt, pl)
    for g in (g0, 0.5 * (g0 + 1), 0.9, 1.0):
        mix = nt.coverage_mixture(pl, pt, g)
        assert mix.sum() == pytest.approx(1.0) and np.all(mix >= 0)
        assert nt.coverage(mix, pl) == pytest.approx(g, rel=1e-10)
        # brute force: it is the mixture (1 - t) p_L + t p_T for some t in [0, 1]
        t = (mix - pl)[1] / (pt - pl)[1]
        np.testing.assert_allclose(mix, (1 - t) * pl + t * pt, atol=1e-15)
    np.testing.assert_allclose(nt.coverage_mixture(pl, pt, 1.0), pl)
    with pytest.raises(ValueError, match="gamma"):
        nt.coverage_mixture(pl, pt, 0.5 * g0)
    with pytest.raises(ValueError, match="p_task"):
        nt.coverage_mixture(pl, np.ones(8), 0.9)


def test_lm_bound_curve_against_direct_computation():
    from sslbook.data import SyntheticLanguage

    eps = np.array([1e-4, 1e-2, 0.3])
    kw = dict(seed=3, n_contexts=40, vocab=6, n_topics=3)
    curve = explorers.lm_bound_curve(eps, gamma=0.5, B=2.0, **kw)
    # rebuild the instance independently, with the same draws as the documented construction
    rng = np.random.default_rng(3)
    lang = SyntheticLanguage.topic_model(40, 6, 3, rng)
    p0 = lang.task_distribution(rng, fraction=0.3, concentration=0.3)
    v = rng.uniform(-1, 1, 6)
    v *= 2.0 / np.abs(v).max()
    task = lang.natural_task(v, p_task=p0)
    xi = rng.standard_normal((40, 6))
    p_t = nt.coverage_mixture(lang.p_context, p0, 0.5)
    assert curve.gamma == pytest.approx(0.5) and curve.gamma_min == pytest.approx(lang.gamma(p0))
    np.testing.assert_allclose(curve.epsilon, eps, rtol=1e-8)
    tau = th.natural_task_loss(lang.p_next @ v - task.threshold, task.labels, p_t)
    assert curve.tau == pytest.approx(tau, rel=1e-12)
    for a, loss, gap in zip(curve.alpha, curve.loss, curve.gap, strict=True):
        q = th.softmax_probs(np.eye(6), np.log(lang.p_next) + a * xi)
        assert loss == pytest.approx(th.natural_task_loss(q @ v - task.threshold, task.labels, p_t), rel=1e-12)
        assert gap == pytest.approx(p_t @ np.abs((q - lang.p_next) @ v), rel=1e-12)
    np.testing.assert_allclose(curve.bound, nt.natural_task_bound(tau, 2.0, curve.epsilon, 0.5))
    testing.assert_bound(curve.loss, curve.bound, name="LM-T1")  # the theorem on the explorer's models
    testing.assert_bound(curve.loss - curve.tau, curve.gap, slack=1e-12, name="Lipschitz step")
    with pytest.raises(AssertionError):  # a bound without the sqrt(2/gamma) factor fails here
        testing.assert_bound(curve.gap, curve.B * np.sqrt(curve.epsilon) / 10, name="wrong constant")
    # B scales the margins only: tau falls with B, the labels (and epsilon) do not move
    big = explorers.lm_bound_curve(eps, gamma=0.5, B=8.0, **kw)
    assert big.tau < curve.tau
    np.testing.assert_allclose(big.epsilon, curve.epsilon)
    np.testing.assert_allclose(big.gap, 4 * curve.gap, rtol=1e-12)


def test_lm_bound_curve_bad_input():
    kw = dict(n_contexts=40, vocab=6, n_topics=3)
    with pytest.raises(ValueError, match="gamma"):
        explorers.lm_bound_curve([0.1], gamma=1e-6, **kw)
    with pytest.raises(ValueError, match="B"):
        explorers.lm_bound_curve([0.1], B=0.0, **kw)
    with pytest.raises(ValueError, match="epsilons"):
        explorers.lm_bound_curve([-0.1], **kw)
    with pytest.raises(TypeError, match="seed"):
        explorers.lm_bound_curve([0.1], seed=True, **kw)
