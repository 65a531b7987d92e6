"""Tests of sslbook.data.latent_classes: construction, collision probabilities, sampling, representations."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook.data import ContrastiveTuples, LatentClassModel
from sslbook.testing import assert_close_mc
from sslbook.theory.curl import tau as curl_tau
from sslbook.theory.curl import tau_k as curl_tau_k


@pytest.fixture
def finite():
    pts = [np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[5.0, 5.0]]),
           np.array([[-3.0, 1.0], [-4.0, 2.0], [-5.0, 0.0]])]
    probs = [np.array([0.25, 0.75]), np.array([1.0]), np.array([0.2, 0.3, 0.5])]
    return LatentClassModel([0.5, 0.2, 0.3], pts, probs)


def _class_of(model, X):
    """Class of each point of X (finite disjoint supports), -1 when it belongs to none."""
    out = np.full(X.shape[:-1], -1)
    for c, P in enumerate(model.points):
        hit = np.any(np.all(X[..., None, :] == P, axis=-1), axis=-1)
        out[hit] = c
    return out


# ----------------------------------------------------------------------------------------------------
# construction
# ----------------------------------------------------------------------------------------------------


def test_attributes(finite):
    m = finite
    assert m.kind == "finite" and m.n_classes == 3 and m.dim == 2 and m.sigma is None
    np.testing.assert_allclose(m.means[0], [0.75, 0.0])
    np.testing.assert_allclose(m.means[2], [0.2 * -3 + 0.3 * -4 + 0.5 * -5, 0.2 + 0.6])
    np.testing.assert_allclose(m.rho, [0.5, 0.2, 0.3])
    assert "finite" in repr(m)
    with pytest.raises(ValueError):
        m.rho[0] = 1.0  # read-only
    assert m.tau() == pytest.approx(curl_tau([0.5, 0.2, 0.3]))
    assert m.tau_k(3) == pytest.approx(curl_tau_k([0.5, 0.2, 0.3], 3))
    assert m.tau_k(3) == pytest.approx(1 - (0.5 * 0.5**3 + 0.2 * 0.8**3 + 0.3 * 0.7**3), abs=1e-15)


def test_uniform_probs_by_default():
    m = LatentClassModel([0.5, 0.5], [np.zeros((4, 1)), np.ones((2, 1))])
    np.testing.assert_allclose(m.probs[0], 0.25)
    np.testing.assert_allclose(m.probs[1], 0.5)


def test_gaussian_model():
    m = LatentClassModel.random_gaussian(4, 3, sigma=0.5, rng=0)
    assert m.kind == "gaussian" and m.means.shape == (4, 3) and m.sigma == 0.5
    np.testing.assert_allclose(m.rho, 0.25)
    with pytest.raises(ValueError, match="finite"):
        _ = m.points
    with pytest.raises(ValueError, match="finite"):
        m.collapsed()
    X, y = m.sample_labeled(4000, rng=1)
    for c in range(4):
        np.testing.assert_allclose(X[y == c].mean(axis=0), m.means[c], atol=4 * 0.5 / np.sqrt((y == c).sum()))


def test_construction_errors(finite):
    pts = list(finite.points)
    with pytest.raises(ValueError, match="exactly one"):
        LatentClassModel([0.5, 0.5])
    with pytest.raises(ValueError, match="exactly one"):
        LatentClassModel([0.5, 0.5], pts[:2], means=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rho"):
        LatentClassModel([0.5, 0.6, -0.1], pts)
    with pytest.raises(ValueError, match="rho"):
        LatentClassModel([0.5, 0.3, 0.3], pts)
    with pytest.raises(ValueError, match="rho"):
        LatentClassModel([0.5, 0.5], pts)
    with pytest.raises(ValueError, match="points"):
        LatentClassModel([0.5, 0.5], [np.zeros((2, 2)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match="points"):
        LatentClassModel([0.5, 0.5], [np.zeros(2), np.zeros(2)])
    with pytest.raises(TypeError, match="points"):
        LatentClassModel([0.5, 0.5], np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="probs"):
        LatentClassModel([0.5, 0.5], pts[:2], [np.array([0.5, 0.5])])
    with pytest.raises(ValueError, match="probs"):
        LatentClassModel([0.5, 0.5], pts[:2], [np.array([0.5, 0.4]), np.array([1.0])])
    with pytest.raises(ValueError, match="probs"):
        LatentClassModel([0.5, 0.5], pts[:2], [np.array([1.0]), np.array([1.0])])
    with pytest.raises(ValueError, match="sigma"):
        LatentClassModel([0.5, 0.5], means=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="sigma"):
        LatentClassModel([0.5, 0.5], means=np.zeros((2, 2)), sigma=0.0)
    with pytest.raises(ValueError, match="sigma"):
        LatentClassModel([0.5, 0.5], pts[:2], sigma=1.0)
    with pytest.raises(ValueError, match="probs"):
        LatentClassModel([0.5, 0.5], means=np.zeros((2, 2)), sigma=1.0, probs=[np.ones(1)])


def test_random_finite():
    m = LatentClassModel.random_finite(5, 3, 4, spread=0.1, rng=0)
    assert m.n_classes == 5 and m.dim == 4 and all(P.shape == (3, 4) for P in m.points)
    np.testing.assert_allclose(m.rho, 0.2)
    allpts = np.concatenate(m.points)
    assert np.unique(allpts, axis=0).shape[0] == 15  # disjoint supports
    o = LatentClassModel.random_finite(5, 3, 4, spread=0.1, rng=0, disjoint=False, rho=[0.1, 0.2, 0.3, 0.2, 0.2],
                                       random_probs=True)
    for c in range(1, 5):
        np.testing.assert_array_equal(o.points[c][0], o.points[c - 1][-1])  # shared support point
    assert all(abs(p.sum() - 1) < 1e-12 and not np.allclose(p, 1 / 3) for p in o.probs)
    np.testing.assert_allclose(o.rho, [0.1, 0.2, 0.3, 0.2, 0.2])
    with pytest.raises(ValueError, match="C"):
        LatentClassModel.random_finite(1, 3, 2)
    with pytest.raises(ValueError, match="spread"):
        LatentClassModel.random_finite(3, 3, 2, spread=-1.0)
    with pytest.raises(ValueError, match="centres"):
        LatentClassModel.random_finite(3, 3, 2, centres=np.zeros((2, 2)))
    fixed = LatentClassModel.random_finite(3, 2, 2, spread=0.0, centres=np.eye(3)[:, :2], rng=0)
    np.testing.assert_allclose(fixed.means, np.eye(3)[:, :2])
    same = LatentClassModel.random_finite(5, 3, 4, spread=0.1, rng=0)
    for a, b in zip(m.points, same.points, strict=True):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------------------
# representations
# ----------------------------------------------------------------------------------------------------


def test_represent_and_collapse(finite):
    W = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    r = finite.represent(lambda X: X @ W.T)
    assert r.dim == 3
    for P, Q in zip(finite.points, r.points, strict=True):
        np.testing.assert_allclose(Q, P @ W.T)
    np.testing.assert_allclose(r.means, finite.means @ W.T)  # linear f commutes with the mean
    c = finite.collapsed()
    for k, P in enumerate(c.points):
        np.testing.assert_allclose(P, np.repeat(finite.means[k][None], len(P), axis=0))
    np.testing.assert_allclose(c.means, finite.means)
    with pytest.raises(TypeError, match="f"):
        finite.represent(3)
    with pytest.raises(ValueError, match="row"):
        finite.represent(lambda X: X[:1])


# ----------------------------------------------------------------------------------------------------
# sampling
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "b"), [(1, 1), (3, 1), (1, 4)])
def test_sample_tuples_shapes_and_classes(finite, k, b):
    t = finite.sample_tuples(500, k_neg=k, block=b, rng=0)
    assert isinstance(t, ContrastiveTuples)
    assert t.anchors.shape == (500, 2) and t.positives.shape == (500, b, 2)
    assert t.negatives.shape == (500, k if b == 1 else b, 2)
    assert t.negative_class.shape == (500, k if b == 1 else 1)
    np.testing.assert_array_equal(_class_of(finite, t.anchors), t.anchor_class)
    np.testing.assert_array_equal(_class_of(finite, t.positives), np.repeat(t.anchor_class[:, None], b, axis=1))
    neg_cls = _class_of(finite, t.negatives)
    np.testing.assert_array_equal(neg_cls, np.broadcast_to(t.negative_class, neg_cls.shape))


def test_sampling_frequencies(finite):
    t = finite.sample_tuples(20000, k_neg=2, rng=1)
    for c in range(3):
        assert_close_mc((t.anchor_class == c).astype(float), finite.rho[c], n_se=4)
    # within-class probabilities of class 0: the second point has probability 0.75
    is0 = t.anchor_class == 0
    assert_close_mc((t.anchors[is0, 0] == 1.0).astype(float), 0.75, n_se=4)
    # collisions: tau_2, and a wrong formula (tau) is rejected
    assert_close_mc(t.collision().astype(float), finite.tau_k(2), n_se=4)
    with pytest.raises(AssertionError):
        assert_close_mc(t.collision().astype(float), finite.tau(), n_se=4)


def test_sampling_is_reproducible(finite):
    a = finite.sample_tuples(50, k_neg=2, rng=3)
    b = finite.sample_tuples(50, k_neg=2, rng=3)
    np.testing.assert_array_equal(a.negatives, b.negatives)
    np.testing.assert_array_equal(a.anchor_class, b.anchor_class)


def test_sample_tuples_errors(finite):
    with pytest.raises(ValueError, match="k_neg"):
        finite.sample_tuples(10, k_neg=2, block=2)
    with pytest.raises(ValueError, match="M"):
        finite.sample_tuples(0)
    with pytest.raises(ValueError, match="block"):
        finite.sample_tuples(5, block=0)
    with pytest.raises(TypeError, match="rng"):
        finite.sample_tuples(5, rng="seed")


def test_sample_labeled_and_task(finite):
    X, y = finite.sample_labeled(300, rng=0)
    np.testing.assert_array_equal(_class_of(finite, X), y)
    X, y, task = finite.sample_task(400, n_way=2, rng=0)
    assert task.shape == (2,) and task[0] != task[1]
    assert set(np.unique(y)) <= set(task)
    np.testing.assert_array_equal(_class_of(finite, X), y)
    assert_close_mc((y == task[0]).astype(float), 0.5, n_se=4)  # uniform labels over the task
    with pytest.raises(ValueError, match="n_way"):
        finite.sample_task(10, n_way=4)
    g = LatentClassModel.random_gaussian(3, 2, rng=0)
    Xg, yg, tg = g.sample_task(20, n_way=3, rng=0)
    assert Xg.shape == (20, 2) and sorted(tg) == [0, 1, 2]
