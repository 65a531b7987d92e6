"""Tests of sslbook.data.contrastive_pairs: contrastive tuples from labelled pools and Gaussian classes."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook.data import (
    GaussianMixture,
    TripleIndices,
    Triples,
    gaussian_triples,
    pool_triples,
    radial_clip,
    triple_indices,
)
from sslbook.testing import assert_close_mc


@pytest.fixture
def pool():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 3], [5, 10, 20, 65])  # class frequencies 0.05, 0.1, 0.2, 0.65
    rng.shuffle(y)
    X = rng.standard_normal((y.size, 3))
    return X, y


def test_shapes_and_same_label_positives(pool):
    X, y = pool
    idx = triple_indices(y, 500, k=3, rng=1)
    assert isinstance(idx, TripleIndices)
    assert idx.anchor.shape == (500,) and idx.positive.shape == (500,) and idx.negatives.shape == (500, 3)
    assert np.all(y[idx.anchor] == y[idx.positive])
    assert idx.anchor.min() >= 0 and idx.negatives.max() < y.size


def test_default_rho_makes_anchor_and_negatives_uniform_over_the_pool(pool):
    X, y = pool
    n = 40_000
    idx = triple_indices(y, n, k=2, rng=2)
    for points in (idx.anchor, idx.negatives.ravel()):
        counts = np.bincount(points, minlength=y.size)
        for j in (0, 7, 50):  # each pool point is drawn with probability 1/N
            assert_close_mc((points == j).astype(float), 1.0 / y.size)
        assert counts.min() > 0


def test_positive_uniform_within_class_and_independent_of_anchor(pool):
    X, y = pool
    idx = triple_indices(y, 40_000, rng=3)
    members = np.flatnonzero(y == 1)
    in_class = y[idx.anchor] == 1
    pos = idx.positive[in_class]
    for j in members[:3]:
        assert_close_mc((pos == j).astype(float), 1.0 / members.size)
    # x and x+ are independent draws: they coincide with probability 1/n_c
    assert_close_mc((idx.anchor[in_class] == pos).astype(float), 1.0 / members.size)


def test_explicit_rho_and_collision_rate(pool):
    X, y = pool
    rho = np.array([0.25, 0.25, 0.25, 0.25])
    idx = triple_indices(y, 40_000, k=1, rho=rho, rng=4)
    classes = y[idx.anchor]
    for c in range(4):
        assert_close_mc((classes == c).astype(float), 0.25)
    collisions = (y[idx.negatives[:, 0]] == classes).astype(float)
    assert_close_mc(collisions, float(np.sum(rho**2)))
    # a wrong collision probability (the default rho's) is rejected
    with pytest.raises(AssertionError):
        assert_close_mc(collisions, float(np.sum((np.bincount(y) / y.size) ** 2)))


def test_pool_triples_returns_inputs_and_classes(pool):
    X, y = pool
    t = pool_triples(X, y, 50, k=2, rng=5)
    assert isinstance(t, Triples)
    assert t.anchor.shape == (50, 3) and t.negatives.shape == (50, 2, 3)
    again = triple_indices(y, 50, k=2, rng=5)
    np.testing.assert_array_equal(t.anchor, X[again.anchor])
    np.testing.assert_array_equal(t.negatives, X[again.negatives])
    np.testing.assert_array_equal(t.c_pos, y[again.anchor])
    np.testing.assert_array_equal(t.collisions, t.c_neg == t.c_pos[:, None])


def test_radial_clip():
    X = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    out = radial_clip(X, 1.0)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    batch = np.random.default_rng(6).standard_normal((4, 5, 3)) * 3
    clipped = radial_clip(batch, 0.5)
    assert np.all(np.linalg.norm(clipped, axis=-1) <= 0.5 + 1e-12)
    cos = np.sum(clipped * batch, -1) / (np.linalg.norm(clipped, axis=-1) * np.linalg.norm(batch, axis=-1))
    np.testing.assert_allclose(cos, 1.0)
    with pytest.raises(ValueError, match="radius"):
        radial_clip(X, 0.0)
    with pytest.raises(ValueError, match="X"):
        radial_clip(1.0)


def test_gaussian_triples():
    mix = GaussianMixture(means=np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 3.0]]), sigma=0.5,
                          weights=np.array([0.5, 0.3, 0.2]))
    t = gaussian_triples(mix, 20_000, k=2, rng=7)
    assert t.anchor.shape == (20_000, 2) and t.negatives.shape == (20_000, 2, 2) and t.c_neg.shape == (20_000, 2)
    for c in range(3):
        assert_close_mc((t.c_pos == c).astype(float), mix.weights[c])
        assert_close_mc(t.positive[t.c_pos == c, 0], mix.means[c, 0])
        assert_close_mc(t.negatives[t.c_neg == c][:, 1], mix.means[c, 1])
    # anchor and positive are independent given the class
    d = t.anchor - t.positive
    assert_close_mc(np.sum(d**2, axis=1), 2 * 2 * 0.25)
    clipped = gaussian_triples(mix, 1000, clip=1.0, rng=8)
    assert np.linalg.norm(clipped.anchor, axis=1).max() <= 1.0 + 1e-12


def test_bad_input(pool):
    X, y = pool
    with pytest.raises(ValueError, match="labels"):
        triple_indices(np.array([0, 0, 2]), 5)
    with pytest.raises(ValueError, match="labels"):
        triple_indices(np.array([0, -1]), 5)
    with pytest.raises(ValueError, match="n"):
        triple_indices(y, 0)
    with pytest.raises(ValueError, match="k"):
        triple_indices(y, 5, k=0)
    with pytest.raises(ValueError, match="rho"):
        triple_indices(y, 5, rho=[0.5, 0.5])
    with pytest.raises(ValueError, match="rho"):
        triple_indices(y, 5, rho=[0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="X and labels"):
        pool_triples(X[:5], y, 5)
    with pytest.raises(TypeError, match="mixture"):
        gaussian_triples("mixture", 5)
    mix = GaussianMixture.random(2, 2, rng=0)
    with pytest.raises(ValueError, match="clip"):
        gaussian_triples(mix, 5, clip=-1.0)
