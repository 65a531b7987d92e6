"""Tests of sslbook.theory.toolbox: surrogate losses, Jensen gaps, Rademacher complexity of linear classes, Pinsker."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from sslbook.testing import assert_bound, assert_close_mc, assert_slope
from sslbook.theory import (
    HINGE_LIPSCHITZ,
    LOGISTIC2_LIPSCHITZ,
    empirical_rademacher_linear,
    hinge_loss,
    jensen_gap,
    kl_divergence,
    linear_class_sup,
    logistic2_loss,
    pinsker_bound,
    rademacher_linear_bound,
    rademacher_linear_exact,
    rademacher_linear_lower_bound,
    total_variation,
)

LOSSES = [hinge_loss, logistic2_loss]

# ----------------------------------------------------------------------------------------------------
# surrogate losses
# ----------------------------------------------------------------------------------------------------


def _hinge_brute(v):
    return max(0.0, 1.0 + max(-x for x in v))


def _logistic2_brute(v):
    return math.log2(1.0 + sum(math.exp(-x) for x in v))


def test_losses_match_the_formulas_elementwise():
    rng = np.random.default_rng(0)
    V = rng.normal(scale=3.0, size=(50, 4))
    np.testing.assert_allclose(hinge_loss(V), [_hinge_brute(v) for v in V], rtol=0, atol=1e-14)
    np.testing.assert_allclose(logistic2_loss(V), [_logistic2_brute(v) for v in V], rtol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_value_at_zero(k):
    assert hinge_loss(np.zeros(k)) == 1.0
    assert logistic2_loss(np.zeros(k)) == pytest.approx(math.log2(1 + k), abs=1e-14)


def test_shapes_and_k1_semantics():
    assert hinge_loss(0.5).shape == () and float(hinge_loss(0.5)) == 0.5
    assert logistic2_loss(0.0).shape == ()
    assert hinge_loss([0.5, 2.0]).shape == ()  # one vector of k = 2 margins
    assert hinge_loss(np.zeros((3, 5, 2))).shape == (3, 5)
    np.testing.assert_allclose(logistic2_loss(np.array([[0.0], [1.0]])), [1.0, math.log2(1 + math.exp(-1))])


def test_logistic_is_numerically_stable():
    out = logistic2_loss(np.array([[-800.0, -799.0], [800.0, 900.0]]))
    assert np.all(np.isfinite(out))
    assert out[0] == pytest.approx((800 + math.log1p(math.exp(-1))) / math.log(2), rel=1e-12)
    assert 0 < out[1] < 1e-300 or out[1] == 0.0


def test_losses_dominate_the_zero_one_loss():
    rng = np.random.default_rng(1)
    V = rng.normal(scale=2.0, size=(2000, 3))
    err = (V.min(axis=1) <= 0).astype(float)
    for loss in LOSSES:
        assert np.all(loss(V) >= err - 1e-15)


@pytest.mark.parametrize(("loss", "L"), [(hinge_loss, HINGE_LIPSCHITZ), (logistic2_loss, LOGISTIC2_LIPSCHITZ)])
def test_lipschitz_constants_hold_and_are_tight(loss, L):
    rng = np.random.default_rng(2)
    V, W = rng.normal(scale=4.0, size=(2, 5000, 3))
    ratio = np.abs(loss(V) - loss(W)) / np.abs(V - W).max(axis=1)
    assert ratio.max() <= L + 1e-12
    # tight: at very negative margins both losses have slope -L in each direction
    v, w = np.array([-50.0]), np.array([-51.0])
    assert abs(float(loss(v) - loss(w))) == pytest.approx(L, rel=1e-9)
    if loss is logistic2_loss:  # the constant 1 would be wrong for the log2 loss
        with pytest.raises(AssertionError):
            assert_bound(ratio, 1.0)


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_bad_input(loss):
    with pytest.raises(ValueError, match="v must"):
        loss(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="v must"):
        loss([np.nan])
    with pytest.raises(TypeError, match="v must"):
        loss("abc")


# ----------------------------------------------------------------------------------------------------
# Jensen gap
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_jensen_gap_nonnegative_and_matches_direct_sum(loss):
    rng = np.random.default_rng(3)
    pts = rng.normal(scale=2.0, size=(300, 5, 3))
    probs = rng.dirichlet(np.ones(5), size=300)
    gaps = jensen_gap(loss, pts, probs)
    direct = np.array([sum(p * loss(v) for p, v in zip(pr, P, strict=True)) - loss(pr @ P)
                       for P, pr in zip(pts, probs, strict=True)])
    np.testing.assert_allclose(gaps, direct, atol=1e-12)
    assert gaps.min() >= -1e-12


def test_jensen_gap_exact_cases_and_failure_for_a_nonconvex_loss():
    # point mass: zero gap; V uniform on {0, 2} around the hinge's kink at 1: gap 1/2
    assert jensen_gap(hinge_loss, [[0.3, -1.0]], [1.0]) == 0.0
    assert jensen_gap(hinge_loss, [[0.0], [2.0]], [0.5, 0.5]) == pytest.approx(0.5, abs=1e-15)
    # the 0-1 loss is not convex: V uniform on {-1, 0.5} has E V = -0.25, so the gap is 0.5 - 1 < 0
    def zero_one(v):
        return (np.asarray(v).min(axis=-1) <= 0).astype(float)
    gap = jensen_gap(zero_one, [[-1.0], [0.5]], [0.5, 0.5])
    assert gap == pytest.approx(-0.5)
    with pytest.raises(AssertionError):
        assert_bound(-gap, 0.0, name="Jensen for the 0-1 loss")


def test_jensen_gap_bad_input():
    with pytest.raises(TypeError, match="loss"):
        jensen_gap(3, [[0.0]], [1.0])
    with pytest.raises(ValueError, match="points"):
        jensen_gap(hinge_loss, [0.0, 1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="probs"):
        jensen_gap(hinge_loss, [[0.0], [1.0]], [0.5])
    with pytest.raises(ValueError, match="probs"):
        jensen_gap(hinge_loss, [[0.0], [1.0]], [0.7, 0.7])
    with pytest.raises(ValueError, match="probs"):
        jensen_gap(hinge_loss, [[0.0], [1.0]], [1.5, -0.5])


# ----------------------------------------------------------------------------------------------------
# Rademacher complexity of the linear class
# ----------------------------------------------------------------------------------------------------


def test_linear_class_sup_matches_numerical_maximisation():
    rng = np.random.default_rng(4)
    M, D, d, B = 5, 3, 2, 1.7
    X = rng.normal(size=(M, D))
    sigma = rng.choice([-1.0, 1.0], size=(M, d))
    sup = float(linear_class_sup(X, sigma, B))

    def neg_corr(w):
        W = w.reshape(d, D)
        W = W * min(1.0, B / max(np.linalg.norm(W), 1e-300))  # project onto the ball
        return -np.sum(sigma * (X @ W.T))

    best = -minimize(neg_corr, rng.normal(size=d * D), method="Nelder-Mead",
                     options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-12}).fun
    assert best == pytest.approx(sup, rel=1e-5)
    # no W in the ball beats the closed form
    Ws = rng.normal(size=(2000, d, D))
    Ws *= B * rng.uniform(size=(2000, 1, 1)) ** 0.5 / np.linalg.norm(Ws, axis=(1, 2), keepdims=True)
    corr = np.einsum("md,ndD,mD->n", sigma, Ws, X)
    assert corr.max() <= sup + 1e-12


def test_exact_rademacher_by_enumeration_and_second_moment():
    rng = np.random.default_rng(5)
    M, D, d, B = 4, 3, 3, 2.0
    X = rng.normal(size=(M, D))
    exact = rademacher_linear_exact(X, B, d)
    assert exact.exact and exact.n_draws == 2 ** (M * d) and exact.stderr == 0.0
    # brute force: average of the closed-form sup over all sign patterns, one at a time
    total = 0.0
    for code in range(2 ** (M * d)):
        bits = [(code >> i) & 1 for i in range(M * d)]
        s = (2 * np.array(bits, dtype=float) - 1).reshape(M, d)
        total += np.linalg.norm(s.T @ X) * B
    assert exact.value == pytest.approx(total / 2 ** (M * d) / M, rel=1e-12)
    # the Jensen step is exact in second moment: E sup^2 = B^2 d sum ||x_j||^2
    second = np.mean((exact.samples * M) ** 2)
    assert second == pytest.approx(B**2 * d * np.sum(X**2), rel=1e-12)
    # ... and the fourth moment is m^2 + v, which gives the lower bound
    G = X @ X.T
    m, v = d * np.trace(G), 2 * d * (np.sum(G**2) - np.sum(np.diag(G) ** 2))
    assert np.mean((exact.samples * M) ** 4) == pytest.approx(B**4 * (m**2 + v), rel=1e-12)
    lower = rademacher_linear_lower_bound(X, B, d)
    assert lower == pytest.approx(B * m**1.5 / np.sqrt(m**2 + v) / M, rel=1e-12)
    norms = np.linalg.norm(X, axis=1)
    bound = rademacher_linear_bound(B, d, norms)
    assert lower <= exact.value <= bound
    with pytest.raises(AssertionError):  # the upper bound is not a lower bound for correlated inputs
        assert_bound(bound, exact.value, name="upper bound used as a lower bound")
    assert bound <= rademacher_linear_bound(B, d, M=M, radius=norms.max()) + 1e-15


def test_orthonormal_inputs_make_the_bound_exact():
    M, d, B = 4, 3, 1.5
    X = np.eye(M)
    exact = rademacher_linear_exact(X, B, d)
    assert exact.value == pytest.approx(B * math.sqrt(d / M), rel=1e-12)
    assert rademacher_linear_lower_bound(X, B, d) == pytest.approx(exact.value, rel=1e-12)
    assert rademacher_linear_lower_bound(np.zeros((3, 2)), B, d) == 0.0
    assert np.ptp(exact.samples) < 1e-12


def test_bound_formulas():
    assert rademacher_linear_bound(2.0, 4, M=16) == pytest.approx(1.0)
    assert rademacher_linear_bound(2.0, 4, M=16, radius=0.5) == pytest.approx(0.5)
    assert rademacher_linear_bound(1.0, 16, M=100, points_per_sample=3) == pytest.approx(math.sqrt(3 * 16 / 100))
    assert rademacher_linear_bound(1.0, 16, np.ones(300), points_per_sample=3) == pytest.approx(math.sqrt(0.48))
    assert rademacher_linear_bound(1.0, 2, [3.0, 4.0]) == pytest.approx(math.sqrt(2 * 25) / 2)


@pytest.mark.parametrize("seed", [0, 1])
def test_monte_carlo_below_bound_tight_rate_and_wrong_constant_fails(seed):
    rng = np.random.default_rng(seed)
    d, D, B = 8, 16, 2.0
    Ms = np.array([8, 32, 128, 512])
    values, bounds = [], []
    for M in Ms:
        X = rng.normal(size=(M, D))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        est = empirical_rademacher_linear(X, B, d, n_draws=1000, rng=rng)
        bound = rademacher_linear_bound(B, d, M=int(M))
        # 4 s.e. here: 16 one-sided checks per test, and the true value lies between two bounds 0.8 % apart
        assert_bound(est.value, bound + 4 * est.stderr)
        assert_bound(rademacher_linear_lower_bound(X, B, d), est.value + 4 * est.stderr)
        assert est.value / bound > 0.98  # tight for unit-norm inputs
        with pytest.raises(AssertionError):  # a wrong constant (half the bound) is violated
            assert_bound(est.value, bound / 2 + 3 * est.stderr)
        # E sup^2 = B^2 d M exactly
        assert_close_mc((est.samples * M) ** 2, B**2 * d * M, n_se=4)
        values.append(est.value)
        bounds.append(bound)
    assert_slope(Ms, values, -0.55, -0.45)
    with pytest.raises(AssertionError):  # a rate of -1 is rejected
        assert_slope(Ms, values, -1.1, -0.9)


def test_rademacher_bad_input():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="^B must"):
        empirical_rademacher_linear(X, -1.0, 2, rng=0)
    with pytest.raises(ValueError, match="^d must"):
        empirical_rademacher_linear(X, 1.0, 0, rng=0)
    with pytest.raises(ValueError, match="n_draws"):
        empirical_rademacher_linear(X, 1.0, 2, n_draws=1, rng=0)
    with pytest.raises(ValueError, match="X must"):
        empirical_rademacher_linear(np.ones(3), 1.0, 2, rng=0)
    with pytest.raises(TypeError, match="rng"):
        empirical_rademacher_linear(X, 1.0, 2, rng="seed")
    with pytest.raises(ValueError, match="max_signs"):
        rademacher_linear_exact(np.ones((11, 2)), 1.0, 2)
    with pytest.raises(ValueError, match="sigma"):
        linear_class_sup(X, np.ones((4, 2)), 1.0)
    with pytest.raises(ValueError, match="exactly one of norms and M"):
        rademacher_linear_bound(1.0, 2)
    with pytest.raises(ValueError, match="exactly one of norms and M"):
        rademacher_linear_bound(1.0, 2, [1.0], M=1)
    with pytest.raises(ValueError, match="norms"):
        rademacher_linear_bound(1.0, 2, [-1.0])
    with pytest.raises(ValueError, match="norms"):
        rademacher_linear_bound(1.0, 2, [1.0, 1.0], points_per_sample=3)
    with pytest.raises(ValueError, match="^M must"):
        rademacher_linear_bound(1.0, 2, M=0)
    with pytest.raises(ValueError, match="points_per_sample"):
        rademacher_linear_bound(1.0, 2, M=2, points_per_sample=0)


def test_monte_carlo_is_reproducible_unbiased_and_chunked():
    X = np.random.default_rng(6).normal(size=(4, 3))
    a = empirical_rademacher_linear(X, 1.0, 3, n_draws=4000, rng=7)
    np.testing.assert_array_equal(a.samples, empirical_rademacher_linear(X, 1.0, 3, n_draws=4000, rng=7).samples)
    b = empirical_rademacher_linear(X, 1.0, 3, n_draws=4000, rng=8, chunk=12)  # one draw per chunk
    exact = rademacher_linear_exact(X, 1.0, 3).value
    assert_close_mc(a.samples, exact, n_se=4)
    assert_close_mc(b.samples, exact, n_se=4)
    with pytest.raises(AssertionError):  # a biased target (the upper bound) is rejected
        assert_close_mc(a.samples, rademacher_linear_bound(1.0, 3, np.linalg.norm(X, axis=1)), n_se=4)
    assert "s.e." in str(a) and "exact" in str(rademacher_linear_exact(X[:3], 1.0, 2))


# ----------------------------------------------------------------------------------------------------
# Pinsker
# ----------------------------------------------------------------------------------------------------


def test_tv_and_kl_values():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert total_variation(p, q) == pytest.approx(0.5)
    assert kl_divergence(p, q) == pytest.approx(math.log(2))
    assert kl_divergence(q, p) == np.inf
    assert kl_divergence(p, p) == 0.0
    # round-off: p_1 = 1 exactly in floating point, so the plain sum p ln(p/q) would be about -2.7e-36
    assert kl_divergence([1.0, 2.48e-36], [1.0, 7.44e-36]) >= 0.0
    rng = np.random.default_rng(8)
    P, Q = rng.dirichlet(np.ones(4), size=(2, 20))
    np.testing.assert_allclose(kl_divergence(P, Q), [sum(a * math.log(a / b) for a, b in zip(x, y, strict=True))
                                                      for x, y in zip(P, Q, strict=True)], rtol=1e-12)
    np.testing.assert_allclose(total_variation(P, Q), 0.5 * np.abs(P - Q).sum(axis=1))


def test_pinsker_holds_is_tight_and_wrong_constant_fails():
    rng = np.random.default_rng(9)
    P = rng.dirichlet(np.full(5, 0.5), size=2000)
    Q = rng.dirichlet(np.full(5, 0.5), size=2000)
    tv, bound = total_variation(P, Q), pinsker_bound(kl_divergence(P, Q))
    assert_bound(tv, bound, slack=1e-12)
    eps = 1e-3
    p, q = np.array([0.5 + eps, 0.5 - eps]), np.array([0.5, 0.5])
    assert total_variation(p, q) / pinsker_bound(kl_divergence(p, q)) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(AssertionError):  # sqrt(KL/4): a wrong constant is violated near the tight case
        assert_bound(total_variation(p, q), np.sqrt(kl_divergence(p, q) / 4))
    assert pinsker_bound(np.inf) == np.inf


def test_pinsker_bad_input():
    with pytest.raises(ValueError, match="p and q"):
        total_variation([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="^p must"):
        kl_divergence([0.7, 0.7], [0.5, 0.5])
    with pytest.raises(ValueError, match="^q must"):
        kl_divergence([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match="kl"):
        pinsker_bound(-0.1)
