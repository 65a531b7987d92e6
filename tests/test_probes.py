"""Tests of sslbook.probes: least squares, excess risk, probes on features, AVG-k and TOP-R."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from sslbook.data import GaussianMixture, few_label_split
from sslbook.probes import (
    PROBES,
    Classifier,
    KNNClassifier,
    LinearClassifier,
    avg_k_accuracy,
    class_means,
    excess_risk,
    few_label_accuracy,
    fit_probe,
    knn_probe,
    least_squares,
    linear_probe,
    mean_classifier,
    n_beaten_by,
    top_r_accuracy,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _balanced_labels(n, C, rng):
    return rng.permutation(np.arange(n) % C)


# ----------------------------------------------------------------------------------------------------
# least_squares
# ----------------------------------------------------------------------------------------------------


def test_least_squares_vector_matches_lstsq(rng):
    X = rng.standard_normal((30, 4))
    y = rng.standard_normal(30)
    w = least_squares(X, y)
    assert w.shape == (4,)
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_least_squares_matrix_targets_match_lstsq(rng):
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((30, 3))
    W = least_squares(X, Y)
    assert W.shape == (4, 3)
    np.testing.assert_allclose(W, np.linalg.lstsq(X, Y, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_least_squares_batched_vector_and_matrix(rng):
    X = rng.standard_normal((5, 20, 3))
    y = rng.standard_normal((5, 20))
    Y = rng.standard_normal((5, 20, 2))
    w = least_squares(X, y)
    W = least_squares(X, Y)
    assert w.shape == (5, 3) and W.shape == (5, 3, 2)
    for b in range(5):
        np.testing.assert_allclose(w[b], np.linalg.lstsq(X[b], y[b], rcond=None)[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(W[b], np.linalg.lstsq(X[b], Y[b], rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_least_squares_recovers_noiseless_coefficients(rng):
    X = rng.standard_normal((10, 3))
    w_star = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(least_squares(X, X @ w_star), w_star, atol=1e-12)


@pytest.mark.parametrize("ridge", [1e-3, 0.5, 10.0])
def test_least_squares_ridge_closed_form(rng, ridge):
    X = rng.standard_normal((15, 4))
    y = rng.standard_normal(15)
    expected = np.linalg.inv(X.T @ X + ridge * np.eye(4)) @ X.T @ y
    np.testing.assert_allclose(least_squares(X, y, ridge=ridge), expected, rtol=1e-10)
    # equivalently, OLS on the design augmented with sqrt(ridge) * I
    Xa = np.vstack([X, np.sqrt(ridge) * np.eye(4)])
    ya = np.concatenate([y, np.zeros(4)])
    np.testing.assert_allclose(least_squares(X, y, ridge=ridge), np.linalg.lstsq(Xa, ya, rcond=None)[0], rtol=1e-9)


def test_least_squares_ridge_batched(rng):
    X = rng.standard_normal((3, 8, 2))
    y = rng.standard_normal((3, 8))
    w = least_squares(X, y, ridge=2.0)
    for b in range(3):
        expected = np.linalg.solve(X[b].T @ X[b] + 2.0 * np.eye(2), X[b].T @ y[b])
        np.testing.assert_allclose(w[b], expected, rtol=1e-10)


def test_least_squares_singular_design_without_ridge_raises(rng):
    X = np.c_[rng.standard_normal((10, 2)), np.zeros(10)]  # a zero column
    y = rng.standard_normal(10)
    with pytest.raises(ValueError, match="X"):
        least_squares(X, y)
    with pytest.raises(ValueError, match="ridge"):
        least_squares(X, y)
    w = least_squares(X, y, ridge=1e-3)  # ridge makes it well posed
    assert np.all(np.isfinite(w)) and abs(w[2]) <= 1e-12 * np.linalg.norm(w)


def test_least_squares_rank_deficient_design_without_ridge_raises():
    # rank 2: the middle column is the mean of the other two
    X = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [1.0, 1.1, 1.2]])
    assert np.linalg.matrix_rank(X) == 2
    with pytest.raises(ValueError, match="X"):
        least_squares(X, np.arange(4.0))
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="X"):
        least_squares(rng.standard_normal((2, 3)), rng.standard_normal(2))  # n < p


def test_least_squares_bad_input(rng):
    X = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match="Y"):
        least_squares(X, rng.standard_normal(9))
    with pytest.raises(ValueError, match="Y"):
        least_squares(X, rng.standard_normal((2, 10, 1)))
    with pytest.raises(ValueError, match="X"):
        least_squares(rng.standard_normal(10), rng.standard_normal(10))
    with pytest.raises(ValueError, match="ridge"):
        least_squares(X, rng.standard_normal(10), ridge=-1.0)
    with pytest.raises(TypeError, match="ridge"):
        least_squares(X, rng.standard_normal(10), ridge="0")
    with pytest.raises(ValueError, match="X"):
        least_squares(np.full((10, 3), np.nan), rng.standard_normal(10))


# ----------------------------------------------------------------------------------------------------
# excess_risk
# ----------------------------------------------------------------------------------------------------


def test_excess_risk_identity(rng):
    w_star = rng.standard_normal(4)
    w_hat = rng.standard_normal(4)
    assert excess_risk(w_hat, w_star) == pytest.approx(float(np.sum((w_hat - w_star) ** 2)), rel=1e-12)
    assert excess_risk(w_star, w_star) == 0.0


def test_excess_risk_with_cov_and_batch(rng):
    w_star = rng.standard_normal(3)
    W_hat = rng.standard_normal((6, 3))
    A = rng.standard_normal((3, 3))
    cov = A @ A.T + np.eye(3)
    er = excess_risk(W_hat, w_star, cov)
    assert er.shape == (6,)
    direct = np.array([(w - w_star) @ cov @ (w - w_star) for w in W_hat])
    np.testing.assert_allclose(er, direct, rtol=1e-12)
    np.testing.assert_allclose(excess_risk(W_hat, w_star), np.sum((W_hat - w_star) ** 2, axis=1), rtol=1e-12)
    # it is the population risk gap E_x[(<w_hat - w*, x>)^2] for x ~ N(0, cov)
    x = rng.multivariate_normal(np.zeros(3), cov, size=200_000)
    mc = np.mean((x @ (W_hat[0] - w_star)) ** 2)
    assert er[0] == pytest.approx(mc, rel=0.02)


def test_excess_risk_shape_errors(rng):
    with pytest.raises(ValueError, match="w_hat"):
        excess_risk(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="w_hat"):
        excess_risk(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="w_hat"):
        excess_risk(np.zeros((2, 2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="w_star"):
        excess_risk(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="cov"):
        excess_risk(np.zeros(3), np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match="cov"):
        excess_risk(np.zeros(3), np.zeros(3), np.ones(3))


# ----------------------------------------------------------------------------------------------------
# class_means / mean_classifier
# ----------------------------------------------------------------------------------------------------


def test_class_means_exact():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    y = np.array([0, 0, 1, 2, 2])
    expected = np.array([[2.0, 3.0], [10.0, 0.0], [2.5, 2.5]])
    np.testing.assert_array_equal(class_means(X, y), expected)
    np.testing.assert_array_equal(class_means(X, y.astype(float)), expected)  # integral float labels


def test_class_means_random(rng):
    X = rng.standard_normal((50, 3))
    y = _balanced_labels(50, 4, rng)
    means = class_means(X, y)
    for c in range(4):
        np.testing.assert_allclose(means[c], X[y == c].mean(axis=0), rtol=1e-12)


def test_class_means_errors():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="labels"):
        class_means(X, [0, 0, 2, 2])  # class 1 missing
    with pytest.raises(ValueError, match="labels"):
        class_means(X, [0, 1, 1, 1], n_classes=3)  # class 2 missing
    with pytest.raises(ValueError, match="n_classes"):
        class_means(X, [0, 1, 2, 2], n_classes=2)
    with pytest.raises(ValueError, match="labels"):
        class_means(X, [0, 1, -1, 1])
    with pytest.raises(TypeError, match="labels"):
        class_means(X, [0, 1, 0.5, 1])
    with pytest.raises(ValueError, match="features and labels"):
        class_means(X, [0, 1, 0])
    with pytest.raises(ValueError, match="features"):
        class_means(np.zeros(4), [0, 1, 0, 1])


def test_mean_classifier_predicts_argmax_of_inner_products(rng):
    X = rng.standard_normal((40, 5))
    y = _balanced_labels(40, 3, rng)
    clf = mean_classifier(X, y)
    assert isinstance(clf, LinearClassifier) and isinstance(clf, Classifier)
    assert clf.n_classes == 3
    means = class_means(X, y)
    np.testing.assert_array_equal(clf.W, means)
    np.testing.assert_array_equal(clf.b, np.zeros(3))
    Xt = rng.standard_normal((25, 5))
    np.testing.assert_allclose(clf.scores(Xt), Xt @ means.T, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(Xt), np.argmax(Xt @ means.T, axis=1))
    yt = rng.integers(0, 3, 25)
    assert clf.accuracy(Xt, yt) == np.mean(clf.predict(Xt) == yt)


def test_mean_classifier_with_n_classes():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    clf = mean_classifier(X, [0, 1, 2], n_classes=3)
    assert clf.n_classes == 3
    with pytest.raises(ValueError, match="labels"):
        mean_classifier(X, [0, 1, 1], n_classes=3)


def test_centred_mean_classifier(rng):
    X = rng.standard_normal((40, 5)) + 3.0  # a common offset that the centring removes
    y = _balanced_labels(40, 3, rng)
    y[:5] = 0  # unbalanced: the labelled average is not the average of the class means
    clf = mean_classifier(X, y, center=True)
    means = class_means(X, y)
    m = X.mean(axis=0)
    np.testing.assert_allclose(clf.W, means - m, rtol=1e-12, atol=1e-12)
    Xt = rng.standard_normal((25, 5)) + 3.0
    expected = (Xt - m) @ (means - m).T  # <mu_c - m, x - m>
    np.testing.assert_allclose(clf.scores(Xt), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(clf.predict(Xt), np.argmax(expected, axis=1))
    # invariant to a common shift of all features, unlike the uncentred rule
    shifted = mean_classifier(X + 10.0, y, center=True)
    np.testing.assert_array_equal(shifted.predict(Xt + 10.0), clf.predict(Xt))
    # default is uncentred
    np.testing.assert_array_equal(mean_classifier(X, y).W, means)


def test_centred_mean_classifier_bad_center():
    X = np.zeros((4, 2))
    with pytest.raises(TypeError, match="center"):
        mean_classifier(X, [0, 1, 0, 1], center=1)
    with pytest.raises(TypeError, match="center"):
        mean_classifier(X, [0, 1, 0, 1], center="yes")


def test_centred_mean_classifier_accepts_tensors():
    import torch

    X = torch.randn(6, 2, requires_grad=True)
    clf = mean_classifier(X, [0, 1, 0, 1, 0, 1], center=True)
    assert clf.W.shape == (2, 2)


def test_linear_classifier_scores_shape_and_errors(rng):
    clf = LinearClassifier(W=rng.standard_normal((4, 3)), b=rng.standard_normal(4))
    X = rng.standard_normal((7, 3))
    assert clf.scores(X).shape == (7, 4)
    np.testing.assert_allclose(clf.scores(X), X @ clf.W.T + clf.b)
    with pytest.raises(ValueError, match="features"):
        clf.scores(rng.standard_normal((7, 2)))
    with pytest.raises(ValueError, match="features"):
        clf.scores(rng.standard_normal(3))
    with pytest.raises(ValueError, match="features and labels"):
        clf.accuracy(X, np.zeros(6, dtype=int))


# ----------------------------------------------------------------------------------------------------
# linear_probe
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def separable():
    gm = GaussianMixture.random(4, 6, separation=8.0, rng=0)
    X, y = gm.sample(200, rng=1)
    Xt, yt = gm.sample(400, rng=2)
    return gm, X, y, Xt, yt


def _logistic_objective(X, y, W, b, reg):
    z = X @ W.T + b
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(len(y)), y]) + 0.5 * reg * np.sum(W**2))


def test_logistic_probe_separable_mixture(separable):
    gm, X, y, Xt, yt = separable
    assert gm.bayes_accuracy(Xt, yt) > 0.97
    clf = linear_probe(X, y, device="cpu")
    assert isinstance(clf, LinearClassifier)
    assert clf.W.shape == (4, 6) and clf.b.shape == (4,)
    assert clf.W.dtype == np.float64
    assert clf.accuracy(X, y) > 0.97
    assert clf.accuracy(Xt, yt) > 0.95
    assert clf.scores(Xt).shape == (400, 4)


def _mean_squared_deviation(X):
    """s^2 = mean over entries of (X - column mean)^2, computed directly."""
    return float(np.mean((X - X.mean(axis=0)) ** 2))


@pytest.mark.parametrize("kind", ["logistic", "ols"])
@pytest.mark.parametrize(("a", "c"), [(1e200, 0.0), (1e-200, 0.0), (1e-3, 0.0), (1.0, 1e6), (-7.0, 3.0)])
def test_linear_probe_is_invariant_to_the_features_scale_and_shift(kind, a, c):
    """#14: reg is relative to the data, so f -> a f + c gives the same predictions (not W = 0 / majority class)."""
    gm = GaussianMixture.random(3, 5, separation=1.5, rng=3)
    X, y = gm.sample(300, rng=4)
    ref = linear_probe(X, y, kind=kind, device="cpu")
    moved = linear_probe(a * X + c, y, kind=kind, device="cpu")
    assert ref.accuracy(X, y) > 0.8  # far above the majority class (about 1/3)
    # predictions agree except possibly on points within rounding of a decision boundary
    assert np.mean(moved.predict(a * X + c) == ref.predict(X)) >= 1 - 2 / X.shape[0]
    np.testing.assert_allclose(moved.W * a, ref.W, rtol=1e-4, atol=1e-6 * np.abs(ref.W).max())


def test_logistic_probe_matches_sklearn_objective():
    from sklearn.linear_model import LogisticRegression

    gm = GaussianMixture.random(3, 5, separation=1.5, rng=3)
    X, y = gm.sample(300, rng=4)
    n, rel = X.shape[0], 1e-2
    ours = linear_probe(X, y, kind="logistic", reg=rel, max_iter=500, device="cpu")
    reg = rel * _mean_squared_deviation(X)  # the penalty is relative to the features' spread
    sk = LogisticRegression(C=1.0 / (n * reg), tol=1e-12, max_iter=10_000).fit(X, y)
    f_ours = _logistic_objective(X, y, ours.W, ours.b, reg)
    f_sk = _logistic_objective(X, y, sk.coef_, sk.intercept_, reg)
    assert f_ours == pytest.approx(f_sk, rel=1e-4, abs=1e-6)
    assert f_ours <= f_sk + 1e-6
    # at the optimum the gradient with respect to b vanishes: predicted class frequencies match the labels'
    z = X @ ours.W.T + ours.b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p.mean(axis=0), np.bincount(y, minlength=3) / n, atol=1e-5)


def test_logistic_probe_restores_the_torch_thread_count(separable):
    import torch

    _, X, y, _, _ = separable
    before = torch.get_num_threads()
    linear_probe(X, y, max_iter=5, device="cpu")
    assert torch.get_num_threads() == before


def test_logistic_probe_regularisation_shrinks_weights(separable):
    _, X, y, _, _ = separable
    small = linear_probe(X, y, reg=1e-3, device="cpu")
    large = linear_probe(X, y, reg=1.0, device="cpu")
    assert np.linalg.norm(large.W) < np.linalg.norm(small.W)


def test_ols_probe_matches_sklearn_ridge(separable):
    from sklearn.linear_model import Ridge

    _, X, y, _, _ = separable
    n, reg = X.shape[0], 0.05
    clf = linear_probe(X, y, kind="ols", reg=reg)
    Y = np.eye(4)[y]
    ridge = Ridge(alpha=n * reg * _mean_squared_deviation(X), fit_intercept=True).fit(X, Y)
    wrong = Ridge(alpha=n * reg, fit_intercept=True).fit(X, Y)  # the absolute penalty (before #14)
    assert not np.allclose(clf.W, wrong.coef_, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(clf.W, ridge.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(clf.b, ridge.intercept_, rtol=1e-8, atol=1e-10)


def test_ols_probe_without_reg_is_least_squares_with_intercept(rng):
    X = rng.standard_normal((30, 3))
    y = _balanced_labels(30, 3, rng)
    clf = linear_probe(X, y, kind="ols", reg=0.0)
    Xa = np.c_[X, np.ones(30)]
    sol = np.linalg.lstsq(Xa, np.eye(3)[y], rcond=None)[0]
    np.testing.assert_allclose(clf.W, sol[:3].T, atol=1e-10)
    np.testing.assert_allclose(clf.b, sol[3], atol=1e-10)


def test_ols_probe_accuracy(separable):
    _, X, y, Xt, yt = separable
    assert linear_probe(X, y, kind="ols").accuracy(Xt, yt) > 0.9


def test_linear_probe_n_classes(rng):
    X = rng.standard_normal((20, 3))
    y = _balanced_labels(20, 3, rng)
    assert linear_probe(X, y, kind="ols", n_classes=5).W.shape == (5, 3)
    assert linear_probe(X, y, n_classes=5, max_iter=20, device="cpu").W.shape == (5, 3)
    with pytest.raises(ValueError, match="n_classes"):
        linear_probe(X, y, n_classes=2)


def test_linear_probe_bad_args(rng):
    X = rng.standard_normal((20, 3))
    y = _balanced_labels(20, 2, rng)
    with pytest.raises(ValueError, match="kind"):
        linear_probe(X, y, kind="svm")
    with pytest.raises(TypeError, match="kind"):
        linear_probe(X, y, kind=None)
    with pytest.raises(ValueError, match="reg"):
        linear_probe(X, y, reg=-1e-3)
    with pytest.raises(ValueError, match="reg"):
        linear_probe(X, y, reg=np.inf)
    with pytest.raises(TypeError, match="reg"):
        linear_probe(X, y, reg="0.1")
    with pytest.raises(ValueError, match="max_iter"):
        linear_probe(X, y, max_iter=0)
    with pytest.raises(ValueError, match="features and labels"):
        linear_probe(X, y[:-1])
    with pytest.raises(ValueError, match="device"):
        linear_probe(X, y, device="tpu")


# ----------------------------------------------------------------------------------------------------
# knn_probe
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("k", [1, 5])
def test_knn_probe_matches_sklearn(separable, metric, k):
    from sklearn.neighbors import KNeighborsClassifier

    _, X, y, Xt, yt = separable
    clf = knn_probe(X, y, k=k, metric=metric)
    assert isinstance(clf, KNNClassifier) and clf.n_classes == 4
    sk = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(X, y)
    np.testing.assert_allclose(clf.scores(Xt), sk.predict_proba(Xt))
    np.testing.assert_array_equal(clf.predict(Xt), sk.predict(Xt))
    assert clf.accuracy(Xt, yt) == pytest.approx(sk.score(Xt, yt))


def test_knn_probe_scores_with_absent_classes(rng):
    X = rng.standard_normal((12, 2))
    y = np.array([0, 2] * 6)  # class 1 absent from the training labels
    clf = knn_probe(X, y, k=3, n_classes=4)
    S = clf.scores(rng.standard_normal((5, 2)))
    assert S.shape == (5, 4)
    np.testing.assert_allclose(S.sum(axis=1), 1.0)
    assert np.all(S[:, [1, 3]] == 0)
    np.testing.assert_allclose(S * 3, np.round(S * 3))  # fractions of 3 neighbours


def test_knn_probe_bad_args(rng):
    X = rng.standard_normal((10, 2))
    y = _balanced_labels(10, 2, rng)
    with pytest.raises(ValueError, match="k"):
        knn_probe(X, y, k=0)
    with pytest.raises(ValueError, match="k"):
        knn_probe(X, y, k=11)
    with pytest.raises(TypeError, match="k"):
        knn_probe(X, y, k=2.0)
    with pytest.raises(ValueError, match="metric"):
        knn_probe(X, y, metric="manhattan")
    with pytest.raises(ValueError, match="n_classes"):
        knn_probe(X, y, n_classes=1)


# ----------------------------------------------------------------------------------------------------
# fit_probe / few_label_accuracy
# ----------------------------------------------------------------------------------------------------


def test_probes_constant():
    assert PROBES == ("mean", "logistic", "ols", "knn")


def test_fit_probe_dispatches(separable):
    _, X, y, Xt, _ = separable
    mean = fit_probe(X, y, "mean")
    np.testing.assert_allclose(mean.W, mean_classifier(X, y, center=True).W)  # centred by default
    np.testing.assert_allclose(fit_probe(X, y, "mean", center=False).W, mean_classifier(X, y).W)
    np.testing.assert_allclose(fit_probe(X, y, "ols", reg=0.1).W, linear_probe(X, y, kind="ols", reg=0.1).W)
    logistic = fit_probe(X, y, "logistic", reg=0.1, max_iter=30, device="cpu")
    np.testing.assert_allclose(logistic.W, linear_probe(X, y, reg=0.1, max_iter=30, device="cpu").W, rtol=1e-8)
    knn = fit_probe(X, y, "knn", k=3)
    assert isinstance(knn, KNNClassifier)
    np.testing.assert_array_equal(knn.predict(Xt), knn_probe(X, y, k=3).predict(Xt))
    for probe in PROBES:
        assert isinstance(fit_probe(X, y, probe), Classifier)


def test_fit_probe_bad_args(separable):
    _, X, y, _, _ = separable
    with pytest.raises(ValueError, match="probe"):
        fit_probe(X, y, "svm")
    with pytest.raises(TypeError, match="probe"):
        fit_probe(X, y, None)
    with pytest.raises(ValueError, match="reg"):
        fit_probe(X, y, "ols", reg=-1.0)
    with pytest.raises(ValueError, match="k must"):
        fit_probe(X, y, "knn", k=0)


def test_few_label_accuracy_matches_a_manual_loop(separable):
    _, X, y, _, _ = separable
    accs = few_label_accuracy(X, y, 3, probe="ols", repeats=4, rng=5)
    assert accs.shape == (4,) and accs.dtype == np.float64
    assert np.all((0.0 <= accs) & (accs <= 1.0))
    rng = np.random.default_rng(5)
    manual = []
    for _ in range(4):
        tr, te = few_label_split(y, 3, rng)
        manual.append(linear_probe(X[tr], y[tr], kind="ols").accuracy(X[te], y[te]))
    np.testing.assert_array_equal(accs, manual)
    np.testing.assert_array_equal(accs, few_label_accuracy(X, y, 3, probe="ols", repeats=4, rng=5))
    assert not np.array_equal(accs, few_label_accuracy(X, y, 3, probe="ols", repeats=4, rng=6))


@pytest.mark.parametrize("probe", ["mean", "logistic", "knn"])
def test_few_label_accuracy_on_separable_mixture(separable, probe):
    _, X, y, _, _ = separable
    kwargs = {"k": 1} if probe == "knn" else {"max_iter": 50, "device": "cpu"} if probe == "logistic" else {}
    accs = few_label_accuracy(X, y, 5, probe=probe, repeats=2, rng=0, **kwargs)
    assert accs.shape == (2,)
    assert np.all(accs > 0.9)


def test_few_label_accuracy_bad_args(separable):
    _, X, y, _, _ = separable
    with pytest.raises(ValueError, match="repeats"):
        few_label_accuracy(X, y, 3, repeats=0)
    with pytest.raises(ValueError, match="probe"):
        few_label_accuracy(X, y, 3, probe="svm")
    with pytest.raises(ValueError, match="n_per_class"):
        few_label_accuracy(X, y, 1000, probe="ols")
    with pytest.raises(ValueError, match="rng"):
        few_label_accuracy(X, y, 3, rng=-1)
    with pytest.raises(ValueError, match="features and labels"):
        few_label_accuracy(X, y[:-1], 3)


# ----------------------------------------------------------------------------------------------------
# n_beaten_by / TOP-R
# ----------------------------------------------------------------------------------------------------

# A hand-made example with ties (C = 3). m_i = number of wrong classes scoring >= the true class.
HAND_SCORES = np.array(
    [
        [3.0, 1.0, 2.0],  # label 0: nobody beats it                     -> m = 0
        [1.0, 1.0, 0.0],  # label 1: class 0 ties with it (tie = error)  -> m = 1
        [0.0, 2.0, 1.0],  # label 2: class 1 beats it                     -> m = 1
        [5.0, 5.0, 5.0],  # label 2: both rivals tie                       -> m = 2
    ]
)
HAND_LABELS = np.array([0, 1, 2, 2])


def test_n_beaten_by_hand_example():
    np.testing.assert_array_equal(n_beaten_by(HAND_SCORES, HAND_LABELS), [0, 1, 1, 2])


def test_top_r_hand_example_ties_count_as_errors():
    assert top_r_accuracy(HAND_SCORES, HAND_LABELS, 1) == 0.25
    assert top_r_accuracy(HAND_SCORES, HAND_LABELS, 2) == 0.75
    assert top_r_accuracy(HAND_SCORES, HAND_LABELS, 3) == 1.0


def test_top_1_is_accuracy_without_ties(rng):
    S = rng.standard_normal((50, 6))
    y = rng.integers(0, 6, 50)
    assert top_r_accuracy(S, y, 1) == np.mean(np.argmax(S, axis=1) == y)


def test_top_r_matches_sort_and_top_c_is_one(rng):
    S = rng.standard_normal((60, 5))
    y = rng.integers(0, 5, 60)
    order = np.argsort(-S, axis=1)
    rank = np.argmax(order == y[:, None], axis=1)  # 0 = best
    prev = 0.0
    for r in range(1, 6):
        acc = top_r_accuracy(S, y, r)
        assert acc == np.mean(rank < r)
        assert acc >= prev
        prev = acc
    assert top_r_accuracy(S, y, 5) == 1.0
    assert top_r_accuracy(HAND_SCORES, HAND_LABELS, 3) == 1.0


def test_top_r_errors():
    with pytest.raises(ValueError, match="r must"):
        top_r_accuracy(HAND_SCORES, HAND_LABELS, 0)
    with pytest.raises(ValueError, match="r must"):
        top_r_accuracy(HAND_SCORES, HAND_LABELS, 4)
    with pytest.raises(TypeError, match="r must"):
        top_r_accuracy(HAND_SCORES, HAND_LABELS, 1.0)
    with pytest.raises(ValueError, match="labels"):
        top_r_accuracy(HAND_SCORES, [0, 1, 2, 3], 1)
    with pytest.raises(ValueError, match="labels"):
        top_r_accuracy(HAND_SCORES, [0, 1, 2, -1], 1)
    with pytest.raises(ValueError, match="scores and labels"):
        top_r_accuracy(HAND_SCORES, [0, 1, 2], 1)
    with pytest.raises(ValueError, match="scores"):
        top_r_accuracy(HAND_SCORES[0], [0], 1)


# ----------------------------------------------------------------------------------------------------
# AVG-k
# ----------------------------------------------------------------------------------------------------


def test_avg_k_hand_example_c3():
    # Closed form per example: C(C-1-m, k-1)/C(C-1, k-1) with m = [0, 1, 1, 2].
    # k = 2: [1, 1/2, 1/2, 0]; per class: class 0 -> 1, class 1 -> 1/2, class 2 -> (1/2 + 0)/2 = 1/4.
    # By tasks: {0,1}: class 0 right (3 > 1), class 1 wrong (tie 1 = 1) -> 1/2;
    #           {0,2}: class 0 right (3 > 2), class 2: row 2 right (1 > 0), row 3 wrong (tie) -> (1 + 1/2)/2 = 3/4;
    #           {1,2}: class 1 right (1 > 0), class 2: row 2 wrong (2 > 1), row 3 wrong (tie) -> (1 + 0)/2 = 1/2.
    # Mean over tasks (1/2 + 3/4 + 1/2)/3 = 7/12 = mean over classes (1 + 1/2 + 1/4)/3.
    assert avg_k_accuracy(HAND_SCORES, HAND_LABELS, 2) == pytest.approx(7 / 12, abs=1e-15)
    assert avg_k_accuracy(HAND_SCORES, HAND_LABELS, 2, method="enumerate") == pytest.approx(7 / 12, abs=1e-15)
    # k = C = 3: one task, class-balanced TOP-1: class 0 -> 1, class 1 -> 0, class 2 -> 0
    assert avg_k_accuracy(HAND_SCORES, HAND_LABELS, 3) == pytest.approx(1 / 3, abs=1e-15)
    assert avg_k_accuracy(HAND_SCORES, HAND_LABELS, 3, method="enumerate") == pytest.approx(1 / 3, abs=1e-15)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("C", [3, 5, 7])
def test_avg_k_closed_form_equals_enumeration(C, ties):
    rng = np.random.default_rng(100 * C + ties)
    n = 8 * C + 3  # unbalanced classes
    y = np.concatenate([np.arange(C), rng.integers(0, C, n - C)])
    S = rng.integers(0, 3, (n, C)).astype(float) if ties else rng.standard_normal((n, C))
    S[y == 0] += 0.5 * np.eye(C)[0]  # make the scores informative for one class
    for k in range(2, C + 1):
        exact = avg_k_accuracy(S, y, k)
        enum = avg_k_accuracy(S, y, k, method="enumerate")
        assert exact == pytest.approx(enum, abs=1e-12), (C, k)


@pytest.mark.parametrize("C", [3, 5, 7])
def test_avg_c_is_class_balanced_top1_and_non_increasing(C):
    rng = np.random.default_rng(C)
    n = 10 * C
    y = _balanced_labels(n, C, rng)
    y[: n // 3] = 0  # imbalance
    y[n // 3 : n // 3 + C] = np.arange(C)
    S = rng.standard_normal((n, C)) + 1.5 * np.eye(C)[y]
    correct = np.argmax(S, axis=1) == y
    balanced_top1 = np.mean([correct[y == c].mean() for c in range(C)])
    assert avg_k_accuracy(S, y, C) == pytest.approx(balanced_top1, abs=1e-12)
    values = [avg_k_accuracy(S, y, k) for k in range(2, C + 1)]
    assert all(a >= b - 1e-15 for a, b in zip(values, values[1:], strict=False))
    assert all(0.0 <= v <= 1.0 for v in values)


def test_avg_k_perfect_and_worst_scores():
    C = 4
    y = np.arange(C).repeat(3)
    perfect = np.eye(C)[y]
    for k in range(2, C + 1):
        assert avg_k_accuracy(perfect, y, k) == 1.0
        assert avg_k_accuracy(-perfect, y, k) == 0.0
        assert avg_k_accuracy(np.zeros((12, C)), y, k) == 0.0  # all ties: all errors


def test_avg_k_formula_for_a_single_m():
    # every example beaten by exactly m rivals: AVG-k = C(C-1-m, k-1)/C(C-1, k-1)
    C, m = 6, 2
    y = np.arange(C)
    S = np.zeros((C, C))
    for i in range(C):
        S[i, i] = 1.0
        S[i, [(i + 1) % C, (i + 2) % C]] = 2.0
    assert np.all(n_beaten_by(S, y) == m)
    for k in range(2, C + 1):
        assert avg_k_accuracy(S, y, k) == pytest.approx(comb(C - 1 - m, k - 1) / comb(C - 1, k - 1), abs=1e-15)


def test_avg_k_errors():
    S, y = HAND_SCORES, HAND_LABELS
    with pytest.raises(ValueError, match="k must"):
        avg_k_accuracy(S, y, 1)
    with pytest.raises(ValueError, match="k must"):
        avg_k_accuracy(S, y, 4)
    with pytest.raises(TypeError, match="k must"):
        avg_k_accuracy(S, y, 2.0)
    with pytest.raises(ValueError, match="labels"):
        avg_k_accuracy(S, [0, 0, 2, 2], 2)  # class 1 missing
    with pytest.raises(ValueError, match="labels"):
        avg_k_accuracy(S, [0, 1, 2, 3], 2)  # out of range
    with pytest.raises(ValueError, match="labels"):
        avg_k_accuracy(S, [0, 1, 2, -1], 2)
    with pytest.raises(ValueError, match="scores and labels"):
        avg_k_accuracy(S, [0, 1, 2], 2)
    with pytest.raises(ValueError, match="method"):
        avg_k_accuracy(S, y, 2, method="sampled")
    with pytest.raises(ValueError, match="scores"):
        avg_k_accuracy(np.array([[0.0, np.nan, 1.0]]), [0], 2)
    big = np.eye(30)
    with pytest.raises(ValueError, match="method"):
        avg_k_accuracy(big, np.arange(30), 15, method="enumerate")
    assert avg_k_accuracy(big, np.arange(30), 15) == 1.0
