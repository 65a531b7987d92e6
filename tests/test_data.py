"""Tests of sslbook.data: digits, few-label splits, Gaussian linear regression, Gaussian mixtures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from sslbook.data import GaussianMixture, digits, few_label_split, gaussian_linear_regression, random_covariance

# ----------------------------------------------------------------------------------------------------
# digits
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_data():
    return digits(halves=True)


def test_digits_shapes_and_scale(digit_data):
    X, y, left, right = digit_data
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert left.shape == (1797, 32) and right.shape == (1797, 32)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    X2, y2 = digits()
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


def test_digits_unscaled():
    X, _ = digits(scale=False)
    assert X.max() == 16.0 and X.min() == 0.0
    np.testing.assert_array_equal(X / 16.0, digits()[0])


def test_digits_halves_reconstruct_the_image(digit_data):
    X, _, left, right = digit_data
    images = np.concatenate([left.reshape(-1, 8, 4), right.reshape(-1, 8, 4)], axis=2)
    np.testing.assert_array_equal(images.reshape(-1, 64), X)
    # left half = columns 0..3 of each row of the 8x8 image
    np.testing.assert_array_equal(left[0, :4], X[0, :4])
    np.testing.assert_array_equal(right[0, :4], X[0, 4:8])


@pytest.mark.parametrize("kwargs", [{"scale": 1}, {"halves": "yes"}, {"scale": None}])
def test_digits_bad_args(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=name):
        digits(**kwargs)


# ----------------------------------------------------------------------------------------------------
# few_label_split
# ----------------------------------------------------------------------------------------------------


def test_few_label_split_properties():
    y = np.repeat(np.arange(4), [5, 7, 6, 10])
    train, test = few_label_split(y, 3, rng=0)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(y.size))
    np.testing.assert_array_equal(np.bincount(y[train]), [3, 3, 3, 3])
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert train.dtype.kind == "i" and test.dtype.kind == "i"


def test_few_label_split_on_digits(digit_data):
    _, y, _, _ = digit_data
    train, test = few_label_split(y, 10, rng=np.random.default_rng(1))
    assert train.size == 100 and test.size == 1797 - 100
    np.testing.assert_array_equal(np.bincount(y[train]), np.full(10, 10))


def test_few_label_split_reproducible():
    y = np.arange(60) % 3
    a = few_label_split(y, 4, rng=7)
    b = few_label_split(y, 4, rng=7)
    c = few_label_split(y, 4, rng=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = few_label_split(y, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], d[0])


def test_few_label_split_errors():
    y = np.array([0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="n_per_class"):
        few_label_split(y, 2)  # class 1 would have no test example
    with pytest.raises(ValueError, match="n_per_class"):
        few_label_split(y, 0)
    with pytest.raises(TypeError, match="n_per_class"):
        few_label_split(y, 1.0)
    with pytest.raises(TypeError, match="labels"):
        few_label_split([0.5, 1.0, 0.0], 1)
    with pytest.raises(ValueError, match="labels"):
        few_label_split(np.zeros((2, 2), dtype=int), 1)
    with pytest.raises(ValueError, match="rng"):
        few_label_split(y, 1, rng=-1)
    with pytest.raises(TypeError, match="rng"):
        few_label_split(y, 1, rng="seed")


# ----------------------------------------------------------------------------------------------------
# gaussian_linear_regression / random_covariance
# ----------------------------------------------------------------------------------------------------


def test_regression_shapes():
    X, y, w = gaussian_linear_regression(20, 3, rng=0)
    assert X.shape == (20, 3) and y.shape == (20,) and w.shape == (3,)
    X, y, w = gaussian_linear_regression(20, 3, trials=5, rng=0)
    assert X.shape == (5, 20, 3) and y.shape == (5, 20) and w.shape == (3,)


def test_regression_reproducible_and_model():
    a = gaussian_linear_regression(30, 4, trials=2, rng=3)
    b = gaussian_linear_regression(30, 4, trials=2, rng=np.random.default_rng(3))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    X, y, w = gaussian_linear_regression(30, 4, sigma=0.0, w_star=[1.0, 0.0, -1.0, 2.0], rng=0)
    np.testing.assert_array_equal(w, [1.0, 0.0, -1.0, 2.0])
    np.testing.assert_allclose(y, X @ w, atol=1e-12)


def test_regression_noise_level():
    X, y, w = gaussian_linear_regression(20_000, 2, sigma=0.5, rng=1)
    resid = y - X @ w
    assert resid.std() == pytest.approx(0.5, rel=0.03)
    assert abs(np.mean(resid * X[:, 0])) < 0.02  # noise independent of x


def test_regression_cov():
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    X, _, _ = gaussian_linear_regression(20_000, 3, cov=cov, rng=2)
    emp = X.T @ X / X.shape[0]
    np.testing.assert_allclose(emp, cov, atol=0.05)
    X0, _, _ = gaussian_linear_regression(20_000, 3, rng=2)
    np.testing.assert_allclose(X0.T @ X0 / X0.shape[0], np.eye(3), atol=0.05)


def test_regression_errors():
    with pytest.raises(ValueError, match="w_star"):
        gaussian_linear_regression(10, 3, w_star=[1.0, 2.0])
    with pytest.raises(ValueError, match="w_star"):
        gaussian_linear_regression(10, 3, w_star=np.ones((3, 1)))
    with pytest.raises(ValueError, match="cov"):
        gaussian_linear_regression(10, 2, cov=np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalue -1
    with pytest.raises(ValueError, match="cov"):
        gaussian_linear_regression(10, 2, cov=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="cov"):
        gaussian_linear_regression(10, 2, cov=np.eye(3))
    with pytest.raises(ValueError, match="^n must"):
        gaussian_linear_regression(0, 2)
    with pytest.raises(ValueError, match="^p must"):
        gaussian_linear_regression(10, 0)
    with pytest.raises(ValueError, match="trials"):
        gaussian_linear_regression(10, 2, trials=0)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_linear_regression(10, 2, sigma=-1.0)
    with pytest.raises(TypeError, match="rng"):
        gaussian_linear_regression(10, 2, rng=1.5)


def test_regression_non_symmetric_cov_raises():
    with pytest.raises(ValueError, match="cov"):
        gaussian_linear_regression(10, 2, cov=np.array([[1.0, 0.9], [0.0, 1.0]]))


@pytest.mark.parametrize(("p", "condition"), [(2, 10.0), (5, 100.0), (8, 1.0)])
def test_random_covariance(p, condition):
    cov = random_covariance(p, condition=condition, rng=0)
    assert cov.shape == (p, p)
    np.testing.assert_allclose(cov, cov.T, atol=1e-12)
    eig = np.linalg.eigvalsh(cov)
    assert eig.min() > 0
    assert eig.min() == pytest.approx(1.0, rel=1e-9)
    assert eig.max() / eig.min() == pytest.approx(condition, rel=1e-9)
    np.testing.assert_allclose(np.sort(eig), np.logspace(0, np.log10(condition), p), rtol=1e-9)
    np.testing.assert_array_equal(cov, random_covariance(p, condition=condition, rng=0))
    # usable as the covariance of the regression design
    gaussian_linear_regression(5, p, cov=cov, rng=0)


def test_random_covariance_rotation_is_random():
    a = random_covariance(4, condition=10.0, rng=0)
    b = random_covariance(4, condition=10.0, rng=1)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(np.linalg.eigvalsh(a), np.linalg.eigvalsh(b), rtol=1e-9)


def test_random_covariance_errors():
    with pytest.raises(ValueError, match="condition"):
        random_covariance(3, condition=0.5)
    with pytest.raises(ValueError, match="^p must"):
        random_covariance(0)
    with pytest.raises(TypeError, match="^p must"):
        random_covariance(2.0)


# ----------------------------------------------------------------------------------------------------
# GaussianMixture
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def mixture():
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, -2.0]])
    return GaussianMixture(means=means, sigma=1.5, weights=np.array([0.5, 0.3, 0.2]))


def test_mixture_attributes(mixture):
    assert mixture.n_classes == 3
    assert mixture.means.dtype == np.float64
    assert isinstance(mixture.sigma, float)
    gm = GaussianMixture(means=[[0, 1], [1, 0]], sigma=1, weights=[0.5, 0.5])  # lists and ints are converted
    assert isinstance(gm.means, np.ndarray) and gm.means.dtype == np.float64 and gm.sigma == 1.0
    with pytest.raises(AttributeError):
        mixture.sigma = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "exc", "argname"),
    [
        ({"weights": [0.5, 0.3, 0.3]}, ValueError, "weights"),
        ({"weights": [0.5, 0.5]}, ValueError, "weights"),
        ({"weights": [1.2, -0.1, -0.1]}, ValueError, "weights"),
        ({"weights": [[0.5, 0.3, 0.2]]}, ValueError, "weights"),
        ({"sigma": 0.0}, ValueError, "sigma"),
        ({"sigma": -1.0}, ValueError, "sigma"),
        ({"sigma": np.nan}, ValueError, "sigma"),
        ({"sigma": "1"}, TypeError, "sigma"),
        ({"means": [0.0, 1.0, 2.0]}, ValueError, "means"),
        ({"means": np.full((3, 2), np.inf)}, ValueError, "means"),
    ],
)
def test_mixture_validation(kwargs, exc, argname):
    args = {"means": np.zeros((3, 2)), "sigma": 1.0, "weights": np.full(3, 1 / 3)}
    args.update(kwargs)
    with pytest.raises(exc, match=argname):
        GaussianMixture(**args)


def test_mixture_random():
    gm = GaussianMixture.random(5, 3, separation=2.0, sigma=0.5, rng=0)
    assert gm.means.shape == (5, 3) and gm.sigma == 0.5
    np.testing.assert_allclose(gm.weights, np.full(5, 0.2))
    np.testing.assert_array_equal(gm.means, GaussianMixture.random(5, 3, separation=2.0, sigma=0.5, rng=0).means)
    # E||mu_a - mu_b||^2 = s^2 d
    big = GaussianMixture.random(2, 20_000, separation=2.0, rng=1)
    assert np.sum((big.means[0] - big.means[1]) ** 2) == pytest.approx(4.0 * 20_000, rel=0.03)
    with pytest.raises(ValueError, match="n_classes"):
        GaussianMixture.random(0, 3)
    with pytest.raises(ValueError, match="separation"):
        GaussianMixture.random(2, 3, separation=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        GaussianMixture.random(2, 3, sigma=0.0)


def test_mixture_sample_shapes_and_reproducibility(mixture):
    X, y = mixture.sample(50, rng=0)
    assert X.shape == (50, 2) and y.shape == (50,)
    assert y.dtype.kind == "i" and set(np.unique(y)) <= {0, 1, 2}
    X2, y2 = mixture.sample(50, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = mixture.sample(50, rng=1)
    assert not np.array_equal(X, X3)
    with pytest.raises(ValueError, match="^n must"):
        mixture.sample(0)
    with pytest.raises(TypeError, match="^n must"):
        mixture.sample(5.0)


def test_mixture_sample_distribution(mixture):
    X, y = mixture.sample(30_000, rng=2)
    np.testing.assert_allclose(np.bincount(y, minlength=3) / y.size, mixture.weights, atol=0.01)
    for c in range(3):
        Xc = X[y == c]
        np.testing.assert_allclose(Xc.mean(axis=0), mixture.means[c], atol=0.1)
        assert Xc.std(axis=0) == pytest.approx(np.full(2, 1.5), rel=0.05)


def test_mixture_posterior_is_bayes_rule(mixture):
    X, _ = mixture.sample(40, rng=3)
    post = mixture.posterior(X)
    assert post.shape == (40, 3)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
    joint = np.stack(
        [
            mixture.weights[c] * multivariate_normal(mixture.means[c], mixture.sigma**2 * np.eye(2)).pdf(X)
            for c in range(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(post, joint / joint.sum(axis=1, keepdims=True), rtol=1e-10, atol=1e-14)


def test_mixture_posterior_far_away_points_and_zero_weight():
    gm = GaussianMixture(means=[[0.0], [1.0], [2.0]], sigma=0.1, weights=[0.5, 0.5, 0.0])
    post = gm.posterior([[1000.0], [-1000.0], [2.0]])
    assert np.all(np.isfinite(post))
    np.testing.assert_allclose(post[:, 2], 0.0)
    np.testing.assert_allclose(post[0], [0.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(post[1], [1.0, 0.0, 0.0], atol=1e-12)


def test_mixture_posterior_errors(mixture):
    with pytest.raises(ValueError, match="X"):
        mixture.posterior(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X"):
        mixture.posterior(np.zeros(2))


def test_bayes_accuracy(mixture):
    X, y = mixture.sample(2000, rng=4)
    acc = mixture.bayes_accuracy(X, y)
    assert acc == np.mean(np.argmax(mixture.posterior(X), axis=1) == y)
    assert 0.5 < acc < 1.0
    # the Bayes rule beats the nearest-mean rule (unequal weights) on a large sample
    nearest = np.argmin(((X[:, None, :] - mixture.means[None]) ** 2).sum(-1), axis=1)
    assert acc >= np.mean(nearest == y) - 0.01
    sep = GaussianMixture.random(3, 5, separation=20.0, sigma=1.0, rng=0)
    Xs, ys = sep.sample(300, rng=0)
    assert sep.bayes_accuracy(Xs, ys) == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(TypeError, match="^y must"):
        mixture.bayes_accuracy(X[:3], [0.5, 1.0, 2.0])


def test_bayes_accuracy_mismatched_lengths_raise(mixture):
    X, _ = mixture.sample(10, rng=0)
    with pytest.raises(ValueError, match="y"):
        mixture.bayes_accuracy(X, [0])
    with pytest.raises(ValueError, match="X and y|y and X"):
        mixture.bayes_accuracy(X, [0, 1])
