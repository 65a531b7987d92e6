"""Tests of sslbook.data.hypercube: the hypercube with sign-preserving scaling augmentations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sslbook.data import AugmentedPairs, HypercubeAugmentation, parity_features


def test_natural_inputs_enumerate_the_cube():
    cube = HypercubeAugmentation(4, 1)
    X = cube.natural_inputs()
    assert X.shape == (16, 4)
    assert {tuple(x) for x in X} == set(itertools.product([-1.0, 1.0], repeat=4))


def test_labels_default_and_weighted():
    cube = HypercubeAugmentation(5, 3, label_weights=[1.0, 1.0, 1.0])  # majority of 3 signs
    X = cube.natural_inputs()
    np.testing.assert_array_equal(cube.labels(X), (X[:, :3].sum(axis=1) > 0).astype(int))
    default = HypercubeAugmentation(5, 2)
    np.testing.assert_array_equal(default.labels(X), (X[:, 0] > 0).astype(int))
    assert default.labels(X).mean() == pytest.approx(0.5, abs=1e-15)


def test_augmentations_keep_signs_and_relevant_coordinates():
    cube = HypercubeAugmentation(6, 2)
    rng = np.random.default_rng(0)
    p = cube.sample_pairs(2000, rng)
    assert isinstance(p, AugmentedPairs)
    for x in (p.x, p.x_pos):
        np.testing.assert_array_equal(np.sign(x), p.xbar)          # disjoint augmentation sets
        np.testing.assert_array_equal(x[:, :2], p.xbar[:, :2])
        u = np.abs(x[:, 2:])
        assert u.min() > 0 and u.max() <= 1
    assert not np.allclose(p.x, p.x_pos)
    np.testing.assert_array_equal(p.y, cube.labels(p.xbar))


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (0.5, 1.5), ([0.0, 0.2, 0.5], [1.0, 1.0, 1.5])])
def test_moments_match_monte_carlo(lo, hi):
    cube = HypercubeAugmentation(5, 2, u_low=lo, u_high=hi)
    rng = np.random.default_rng(1)
    p = cube.sample_pairs(100_000, rng)
    S_mc = p.x.T @ p.x / len(p.x)
    Sp_mc = (p.x.T @ p.x_pos + p.x_pos.T @ p.x) / (2 * len(p.x))
    np.testing.assert_allclose(S_mc, cube.sigma(), atol=0.01)
    np.testing.assert_allclose(Sp_mc, cube.sigma_plus(), atol=0.01)
    # a wrong constant (E u^2 = (E u)^2) is detected
    assert np.abs(np.diag(S_mc)[2:] - np.diag(cube.sigma_plus())[2:]).max() > 0.02


def test_moments_closed_forms():
    cube = HypercubeAugmentation(3, 1)
    m1, m2 = cube.u_moments()
    np.testing.assert_allclose(m1, 0.5)
    np.testing.assert_allclose(m2, 1 / 3)
    var = HypercubeAugmentation(3, 1, u_low=0.5, u_high=1.5)
    np.testing.assert_allclose(var.u_moments()[1], 13 / 12)


def test_discretized_graph_brute_force():
    cube = HypercubeAugmentation(3, 1)
    p_bar, aug, points = cube.discretized_graph(2)
    assert aug.shape == (8, 8 * 4) and points.shape == (32, 3)
    A = aug.toarray()
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    X = cube.natural_inputs()
    for j in range(8):
        support = np.flatnonzero(A[j])
        np.testing.assert_array_equal(np.sign(points[support]), np.tile(X[j], (4, 1)))
        assert sorted(np.abs(points[support, 1:]).ravel().tolist()) == [0.25] * 4 + [0.75] * 4
    np.testing.assert_allclose(p_bar, 1 / 8)


def test_parity_features_are_orthonormal():
    X = HypercubeAugmentation(6, 2).natural_inputs()
    F = parity_features(X, [(2, 3), (4, 5), (0,)])
    np.testing.assert_allclose(F.T @ F / len(F), np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(F[:, 2], X[:, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="r"):
        HypercubeAugmentation(4, 4)
    with pytest.raises(ValueError, match="u_high"):
        HypercubeAugmentation(4, 1, u_low=1.0, u_high=0.5)
    with pytest.raises(ValueError, match="u_low"):
        HypercubeAugmentation(4, 1, u_low=-0.1)
    with pytest.raises(ValueError, match="label_weights"):
        HypercubeAugmentation(4, 2, label_weights=[1.0, 1.0])  # ties
    with pytest.raises(TypeError, match="d"):
        HypercubeAugmentation(4.0, 1)
    cube = HypercubeAugmentation(4, 1)
    with pytest.raises(ValueError, match="xbar"):
        cube.labels(np.ones((2, 3)))
    with pytest.raises(ValueError, match="n"):
        cube.sample_pairs(0)
    with pytest.raises(ValueError, match="subsets"):
        parity_features(np.ones((2, 3)), [])
