"""Tests of sslbook.data.AugmentationGraph (finite augmentation graphs, planted classes, sampling)."""

from __future__ import annotations

import numpy as np
import pytest

from sslbook.data import AugmentationGraph


def _tiny():
    p_bar = np.array([0.5, 0.3, 0.2])
    A = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.4, 0.6, 0.0], [0.0, 0.0, 0.3, 0.7]])
    return AugmentationGraph(p_bar, A, labels=[0, 0, 1])


def test_matrices_match_loops():
    g = _tiny()
    N = g.n_aug
    W = np.zeros((N, N))
    for xb in range(g.n_natural):
        for x in range(N):
            for xp in range(N):
                W[x, xp] += g.p_bar[xb] * g.A[xb, x] * g.A[xb, xp]
    np.testing.assert_allclose(g.W, W, atol=1e-15)
    assert g.W.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(g.w, W.sum(axis=1), atol=1e-15)
    Abar = np.array([[W[i, j] / np.sqrt(W[i].sum() * W[j].sum()) for j in range(N)] for i in range(N)])
    np.testing.assert_allclose(g.Abar, Abar, atol=1e-15)
    np.testing.assert_allclose(g.laplacian(), np.eye(N) - Abar, atol=1e-15)
    assert (g.n_natural, g.n_aug, g.n_classes) == (3, 4, 2)
    assert "n_aug=4" in repr(g)


def test_label_posterior_and_bayes_labels():
    g = _tiny()
    post = g.label_posterior()
    # x = 2: mass 0.3*0.6 from class 0, 0.2*0.3 from class 1
    np.testing.assert_allclose(post[2], [0.18 / 0.24, 0.06 / 0.24])
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    np.testing.assert_array_equal(g.bayes_labels(), [0, 0, 0, 1])
    with pytest.raises(ValueError, match="labels"):
        AugmentationGraph(g.p_bar, g.A).label_posterior()


def test_sampling_frequencies():
    g = _tiny()
    rng = np.random.default_rng(0)
    n = 200_000
    x, xp = g.sample_positive_pairs(n, rng)
    freq = np.zeros((4, 4))
    np.add.at(freq, (x, xp), 1.0 / n)
    se = np.sqrt(g.W * (1 - g.W) / n) + 1e-12
    assert np.all(np.abs(freq - g.W) <= 4 * se + 1e-9)
    x, xp = g.sample_independent_pairs(n, rng)
    freq = np.zeros((4, 4))
    np.add.at(freq, (x, xp), 1.0 / n)
    target = np.outer(g.w, g.w)
    assert np.all(np.abs(freq - target) <= 4 * np.sqrt(target * (1 - target) / n) + 1e-9)
    xb, x = g.sample(n, rng)
    joint = np.zeros((3, 4))
    np.add.at(joint, (xb, x), 1.0 / n)
    target = g.p_bar[:, None] * g.A
    assert np.all(np.abs(joint - target) <= 4 * np.sqrt(target * (1 - target) / n) + 1e-9)
    # a wrong target (the independent-pair law) is rejected by the same test
    x, xp = g.sample_positive_pairs(n, rng)
    freq = np.zeros((4, 4))
    np.add.at(freq, (x, xp), 1.0 / n)
    assert not np.all(np.abs(freq - np.outer(g.w, g.w)) <= 4 * se + 1e-9)


def test_planted_classes_structure():
    g = AugmentationGraph.planted_classes(3, natural_per_class=6, aug_per_class=5, aug_per_input=3, leak=0.1,
                                          rng=1)
    assert (g.n_natural, g.n_aug, g.n_classes) == (18, 15, 3)
    np.testing.assert_allclose(g.A.sum(axis=1), 1.0)
    aug_class = np.repeat(np.arange(3), 5)
    out_mass = (g.A * (aug_class[None, :] != g.labels[:, None])).sum(axis=1)
    np.testing.assert_allclose(out_mass, 0.1, atol=1e-12)
    assert np.all((g.A > 0).sum(axis=1) == 6)


def test_planted_classes_same_draws_for_every_leak():
    a = AugmentationGraph.planted_classes(3, leak=0.2, rng=7)
    b = AugmentationGraph.planted_classes(3, leak=0.01, rng=7)
    np.testing.assert_array_equal(a.A > 0, b.A > 0)


def test_planted_classes_without_leak_splits_into_connected_classes():
    g = AugmentationGraph.planted_classes(4, leak=0.0, rng=3)
    nu = np.sort(np.linalg.eigvalsh(g.laplacian()))
    assert np.sum(np.abs(nu) < 1e-10) == 4  # exactly r components: each class is connected
    assert nu[4] > 0.05


def test_bad_input():
    g = _tiny()
    with pytest.raises(ValueError, match="p_bar"):
        AugmentationGraph([0.5, 0.6, 0.1], g.A)
    with pytest.raises(ValueError, match="A"):
        AugmentationGraph(g.p_bar, g.A * 2)
    with pytest.raises(ValueError, match="p_bar and A disagree on n"):
        AugmentationGraph(g.p_bar, g.A[:2])
    with pytest.raises(ValueError, match="zero probability"):
        AugmentationGraph([1.0, 0.0, 0.0], g.A)
    with pytest.raises(ValueError, match="labels"):
        AugmentationGraph(g.p_bar, g.A, labels=[0, 1])
    with pytest.raises(ValueError, match="n"):
        g.sample_positive_pairs(0)
    with pytest.raises(TypeError, match="rng"):
        g.sample(3, rng="seed")
    with pytest.raises(ValueError, match="r"):
        AugmentationGraph.planted_classes(1)
    with pytest.raises(ValueError, match="leak"):
        AugmentationGraph.planted_classes(2, leak=1.0)
    with pytest.raises(ValueError, match="natural_per_class"):
        AugmentationGraph.planted_classes(2, natural_per_class=3, aug_per_class=5)
    with pytest.raises(ValueError, match="aug_per_input"):
        AugmentationGraph.planted_classes(2, aug_per_input=1)
    with pytest.raises(ValueError, match="concentration"):
        AugmentationGraph.planted_classes(2, concentration=0.0)
