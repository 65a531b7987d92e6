"""Tests of sslbook.theory.downstream: the OLS excess-risk formula and the class-mean estimation risk."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook.data import gaussian_linear_regression, random_covariance
from sslbook.probes import excess_risk, least_squares
from sslbook.testing import assert_bound, assert_close_mc
from sslbook.theory import mean_estimation_bound, mean_estimation_risk, ols_expected_excess_risk

# ----------------------------------------------------------------------------------------------------
# ols_expected_excess_risk
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "n", "sigma", "expected"),
    [(4, 20, 1.0, 4 / 15), (1, 3, 1.0, 1.0), (10, 100, 2.0, 4 * 10 / 89), (3, 5, 0.5, 0.25 * 3 / 1), (2, 9, 0.0, 0.0)],
)
def test_ols_formula_values(p, n, sigma, expected):
    assert ols_expected_excess_risk(p, n, sigma) == pytest.approx(expected, rel=1e-15)


def test_ols_formula_default_sigma_and_monotonicity():
    assert ols_expected_excess_risk(4, 20) == ols_expected_excess_risk(4, 20, 1.0)
    values = [ols_expected_excess_risk(5, n) for n in range(7, 50)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize(("p", "n"), [(4, 5), (4, 4), (4, 1), (1, 2)])
def test_ols_formula_needs_n_above_p_plus_1(p, n):
    with pytest.raises(ValueError, match="n must"):
        ols_expected_excess_risk(p, n)


def test_ols_formula_bad_args():
    with pytest.raises(ValueError, match="^p must"):
        ols_expected_excess_risk(0, 10)
    with pytest.raises(TypeError, match="^p must"):
        ols_expected_excess_risk(2.0, 10)
    with pytest.raises(TypeError, match="^n must"):
        ols_expected_excess_risk(2, 10.5)
    with pytest.raises(ValueError, match="sigma"):
        ols_expected_excess_risk(2, 10, -1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_ols_formula_monte_carlo(seed):
    p, n, sigma, trials = 4, 20, 1.0, 2000
    cov = random_covariance(p, condition=10.0, rng=seed)  # the formula holds whatever Sigma is
    X, y, w_star = gaussian_linear_regression(n, p, trials=trials, sigma=sigma, cov=cov, rng=seed)
    w_hat = least_squares(X, y)
    er = excess_risk(w_hat, w_star, cov)
    target = ols_expected_excess_risk(p, n, sigma)
    assert_close_mc(er, target, n_se=4.0)
    # and the check can fail: the naive sigma^2 p / n (no finite-sample correction) is rejected
    with pytest.raises(AssertionError):
        assert_close_mc(er, sigma**2 * p / n, n_se=4.0)


# ----------------------------------------------------------------------------------------------------
# mean_estimation_risk / mean_estimation_bound
# ----------------------------------------------------------------------------------------------------


def test_mean_estimation_risk_is_trace_of_population_cov_over_n():
    rng = np.random.default_rng(0)
    F = rng.standard_normal((50, 3)) * np.array([1.0, 2.0, 0.5]) + 4.0
    for n in (1, 5, 20):
        direct = np.trace(np.cov(F, rowvar=False, ddof=0)) / n
        assert mean_estimation_risk(F, n) == pytest.approx(direct, rel=1e-12)
        # a wrong implementation with the sample (ddof=1) covariance is measurably different
        wrong = np.trace(np.cov(F, rowvar=False, ddof=1)) / n
        assert abs(mean_estimation_risk(F, n) - wrong) > 1e-3 * wrong


def test_mean_estimation_risk_hand_example():
    F = np.array([[0.0, 0.0], [2.0, 0.0]])  # mean (1, 0); squared distances 1 and 1
    assert mean_estimation_risk(F, 1) == 1.0
    assert mean_estimation_risk(F, 4) == 0.25
    assert mean_estimation_risk(np.ones((5, 2)), 3) == 0.0


def test_mean_estimation_risk_monte_carlo():
    rng = np.random.default_rng(1)
    F = rng.standard_normal((30, 2))
    n, draws = 5, 4000
    idx = rng.integers(0, F.shape[0], size=(draws, n))
    err = np.sum((F[idx].mean(axis=1) - F.mean(axis=0)) ** 2, axis=1)
    assert_close_mc(err, mean_estimation_risk(F, n), n_se=4.0)


def test_mean_estimation_bound():
    assert mean_estimation_bound(2.0, 4) == 1.0
    assert mean_estimation_bound(0.0, 3) == 0.0
    rng = np.random.default_rng(2)
    F = rng.standard_normal((40, 3))
    R = np.max(np.linalg.norm(F, axis=1))
    ns = [1, 2, 5, 10]
    assert_bound([mean_estimation_risk(F, n) for n in ns], [mean_estimation_bound(R, n) for n in ns])
    # a bound with a wrong (too small) radius fails
    with pytest.raises(AssertionError):
        assert_bound([mean_estimation_risk(F, n) for n in ns], [mean_estimation_bound(0.5, n) for n in ns])


def test_mean_estimation_bad_args():
    with pytest.raises(ValueError, match="population"):
        mean_estimation_risk(np.zeros(3), 2)
    with pytest.raises(ValueError, match="population"):
        mean_estimation_risk(np.full((2, 2), np.nan), 2)
    with pytest.raises(ValueError, match="^n must"):
        mean_estimation_risk(np.zeros((3, 2)), 0)
    with pytest.raises(ValueError, match="radius"):
        mean_estimation_bound(-1.0, 2)
    with pytest.raises(TypeError, match="radius"):
        mean_estimation_bound("1", 2)
    with pytest.raises(ValueError, match="^n must"):
        mean_estimation_bound(1.0, 0)
