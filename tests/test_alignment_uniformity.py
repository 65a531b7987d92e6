"""Tests of sslbook.theory.alignment_uniformity against Monte Carlo and brute-force sums."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from sslbook import testing
from sslbook.theory.alignment_uniformity import (
    circle_energy,
    infonce_limit,
    infonce_n_negatives,
    uniform_circle_energy,
    von_mises_energy,
)


@pytest.mark.parametrize("t", [0.1, 1.0, 2.0, 5.0])
def test_uniform_circle_energy_equals_integral(t):
    val, _ = integrate.quad(lambda th: np.exp(-t * (2 - 2 * np.cos(th))) / (2 * np.pi), 0, 2 * np.pi)
    assert uniform_circle_energy(t) == pytest.approx(np.log(val), rel=1e-10)
    assert circle_energy(lambda th: np.ones_like(th), t) == pytest.approx(np.log(val), rel=1e-10)


def test_uniform_circle_energy_monte_carlo_and_wrong_value_fails():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 2 * np.pi, (2, 200000))
    samples = np.exp(-2 * (2 - 2 * np.cos(a - b)))
    testing.assert_close_mc(samples, np.exp(uniform_circle_energy(2.0)))
    with pytest.raises(AssertionError):  # without the -2t shift: log I0(2t)
        testing.assert_close_mc(samples, np.exp(uniform_circle_energy(2.0) + 4.0))


def test_uniform_circle_energy_large_t_is_finite_and_array():
    out = uniform_circle_energy(np.array([1.0, 1e4]))
    assert out.shape == (2,) and np.all(np.isfinite(out))
    # I0(z) e^{-z} ~ 1/sqrt(2 pi z)
    assert out[1] == pytest.approx(-0.5 * np.log(2 * np.pi * 2e4), abs=1e-4)


@pytest.mark.parametrize("kappa", [0.0, 0.5, 2.0, 8.0])
def test_von_mises_quadrature_equals_series_and_double_integral(kappa):
    t = 2.0
    q = von_mises_energy(kappa, t)
    s = von_mises_energy(kappa, t, method="series")
    assert q == pytest.approx(s, abs=1e-12)
    norm = 2 * np.pi * np.i0(kappa)
    val, _ = integrate.dblquad(
        lambda a, b: np.exp(kappa * (np.cos(a) + np.cos(b)) - t * (2 - 2 * np.cos(a - b))) / norm**2,
        0, 2 * np.pi, 0, 2 * np.pi, epsabs=1e-12, epsrel=1e-10)
    assert q == pytest.approx(np.log(val), abs=1e-8)


def test_von_mises_values_of_the_catalogue_and_monotone():
    vals = [von_mises_energy(k, 2.0) for k in (0.5, 2.0, 8.0)]
    np.testing.assert_allclose(vals, [-1.48, -0.91, -0.35], atol=0.006)
    assert vals[0] < vals[1] < vals[2]
    assert von_mises_energy(0.0, 2.0) == pytest.approx(uniform_circle_energy(2.0), abs=1e-12)


def _brute_loss(a, p, ng, idx, tau):
    out = []
    for i in range(a.shape[0]):
        pos = np.exp(a[i] @ p[i] / tau)
        neg = sum(np.exp(a[i] @ ng[j] / tau) for j in idx[i])
        out.append(-np.log(pos / (pos + neg)))
    return np.mean(out)


def _embeddings(n=7, m=9, d=3, seed=0):
    rng = np.random.default_rng(seed)
    unit = lambda z: z / np.linalg.norm(z, axis=-1, keepdims=True)  # noqa: E731
    return unit(rng.normal(size=(n, d))), unit(rng.normal(size=(n, d))), unit(rng.normal(size=(m, d))), rng


def test_infonce_n_negatives_matches_loop():
    a, p, ng, rng = _embeddings()
    idx = rng.integers(0, 9, size=(7, 5))
    assert infonce_n_negatives(a, p, ng, idx, 0.5) == pytest.approx(_brute_loss(a, p, ng, idx, 0.5), rel=1e-12)


def test_infonce_limit_matches_loop_and_is_the_limit():
    a, p, ng, rng = _embeddings()
    tau = 0.5
    brute = np.mean([-a[i] @ p[i] / tau + np.log(np.mean(np.exp(ng @ a[i] / tau))) for i in range(7)])
    assert infonce_limit(a, p, ng, tau) == pytest.approx(brute, rel=1e-12)
    w = rng.dirichlet(np.ones(9))
    brute_w = np.mean([-a[i] @ p[i] / tau + np.log(np.sum(w * np.exp(ng @ a[i] / tau))) for i in range(7)])
    assert infonce_limit(a, p, ng, tau, weights=w) == pytest.approx(brute_w, rel=1e-12)
    # with every negative taken N/m times, L(N) - log N -> limit as N grows (error O(1/N))
    errs = []
    for reps in (10, 100, 1000):
        idx = np.tile(np.arange(9), (7, reps))
        N = idx.shape[1]
        errs.append(abs(infonce_n_negatives(a, p, ng, idx, tau) - np.log(N) - infonce_limit(a, p, ng, tau)))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3
    # a wrong limit (the alignment term dropped) is far from L(N) - log N
    wrong = infonce_limit(a, p, ng, tau) + np.mean(np.sum(a * p, axis=1)) / tau
    idx = np.tile(np.arange(9), (7, 1000))
    assert abs(infonce_n_negatives(a, p, ng, idx, tau) - np.log(9000) - wrong) > 0.01


def test_bad_input():
    a, p, ng, rng = _embeddings()
    idx = rng.integers(0, 9, size=(7, 5))
    with pytest.raises(ValueError, match="t must"):
        uniform_circle_energy(0.0)
    with pytest.raises(ValueError, match="kappa"):
        von_mises_energy(-1.0, 2.0)
    with pytest.raises(ValueError, match="method"):
        von_mises_energy(1.0, 2.0, method="mc")
    with pytest.raises(ValueError, match="grid"):
        circle_energy(np.cos, 1.0, grid=2)
    with pytest.raises(ValueError, match="density"):
        circle_energy(lambda th: np.cos(th), 1.0)
    with pytest.raises(TypeError, match="density"):
        circle_energy(3, 1.0)
    with pytest.raises(ValueError, match="tau"):
        infonce_limit(a, p, ng, 0.0)
    with pytest.raises(ValueError, match="positives"):
        infonce_limit(a, p[:3], ng, 0.5)
    with pytest.raises(ValueError, match="negatives"):
        infonce_limit(a, p, ng[:, :2], 0.5)
    with pytest.raises(ValueError, match="weights"):
        infonce_limit(a, p, ng, 0.5, weights=np.ones(9))
    with pytest.raises(ValueError, match="neg_index"):
        infonce_n_negatives(a, p, ng, idx + 9, 0.5)
    with pytest.raises(ValueError, match="neg_index"):
        infonce_n_negatives(a, p, ng, idx[:, 0], 0.5)
    with pytest.raises(TypeError, match="neg_index"):
        infonce_n_negatives(a, p, ng, idx + 0.5, 0.5)
