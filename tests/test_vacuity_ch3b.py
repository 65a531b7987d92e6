"""Unit tests of sslbook.theory.vacuity: relabelled encoders and the leaky hypercube (exact values)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from sslbook import theory
from sslbook.theory import vacuity

SQUARE = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])


def _grid_error(F, y, p):
    """Best half-plane on a fine grid of directions and offsets (independent of the enumeration)."""
    ang = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    normals = np.stack([np.cos(ang), np.sin(ang)])
    if F.shape[1] == 1:
        F = np.c_[F, np.zeros(len(F))]
    pred = (F @ normals)[:, :, None] + np.linspace(-3, 3, 61) > 0
    return np.min(np.sum(p[:, None, None] * (pred != (y[:, None, None] == 1)), axis=0))


def test_sign_linear_probe_error_xor_and_separable():
    y_xor = np.array([1, 0, 0, 1])                 # label = product of the signs
    assert vacuity.sign_linear_probe_error(SQUARE, y_xor) == pytest.approx(0.25)
    assert theory.feature_bayes_error(SQUARE, y_xor) == pytest.approx(0.0, abs=1e-15)
    assert vacuity.sign_linear_probe_error(SQUARE, np.array([0, 0, 1, 1])) == pytest.approx(0.0, abs=1e-15)
    assert vacuity.sign_linear_probe_error(SQUARE[:, :1], np.array([0, 0, 1, 1])) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_sign_linear_probe_error_matches_a_halfplane_grid(seed):
    rng = np.random.default_rng(seed)
    n = 40
    F = np.sign(rng.normal(size=(n, 2)))
    y = rng.integers(0, 2, n)
    p = rng.random(n)
    p /= p.sum()
    assert vacuity.sign_linear_probe_error(F, y, p) == pytest.approx(_grid_error(F, y, p), abs=1e-12)
    assert vacuity.sign_linear_probe_error(F, y, p) >= theory.feature_bayes_error(F, y, p) - 1e-12


def test_sign_linear_probe_error_rejects_non_sign_features():
    with pytest.raises(ValueError, match="F"):
        vacuity.sign_linear_probe_error(np.full((4, 2), 0.5), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="F"):
        vacuity.sign_linear_probe_error(np.ones((4, 3)), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="labels"):
        vacuity.sign_linear_probe_error(SQUARE, np.array([0, 1, 2, 1]))


def test_expected_relabel_error_small_cases():
    # N = 4, two cells of two inputs: H ~ Hyp(4, 2, 2) takes 0, 1, 2 w.p. 1/6, 4/6, 1/6 -> E e = (2/4)(4/6) = 1/3
    assert vacuity.expected_relabel_error(4, 2) == pytest.approx(1 / 3, abs=1e-15)
    assert vacuity.expected_relabel_error(16, 1) == pytest.approx(0.5, abs=1e-15)  # one cell: f constant
    assert vacuity.expected_relabel_error(16, 16) == pytest.approx(0.0, abs=1e-15)  # singleton cells


@pytest.mark.parametrize("N,c", [(16, 4), (64, 4), (256, 8), (1024, 4)])
def test_expected_relabel_error_matches_scipy_and_a_brute_force(N, c):
    h = np.arange(N // c + 1)
    ref = c / N * np.sum(hypergeom(N, N // 2, N // c).pmf(h) * np.minimum(h, N // c - h))
    assert vacuity.expected_relabel_error(N, c) == pytest.approx(ref, rel=1e-9)
    limit = 0.5 - math.sqrt((c - 1) / (2 * math.pi * N))
    assert abs(vacuity.expected_relabel_error(N, c) - limit) < 0.5 * (0.5 - limit)


def test_expected_relabel_error_by_enumeration():
    N, c = 8, 2                                       # all 8! relabellings, by brute force
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cells = np.repeat(np.arange(c), N // c)
    errs = []
    for perm in itertools.permutations(range(N)):
        lab = y[list(perm)]
        errs.append(sum(min(lab[cells == j].sum(), (cells == j).sum() - lab[cells == j].sum()) for j in range(c)) / N)
    assert vacuity.expected_relabel_error(N, c) == pytest.approx(np.mean(errs), abs=1e-12)


def test_expected_relabel_error_argument_checks():
    with pytest.raises(ValueError, match="n_inputs"):
        vacuity.expected_relabel_error(10, 4)
    with pytest.raises(ValueError, match="n_inputs"):
        vacuity.expected_relabel_error(2**17, 4)


def _explicit_abar(d, J, leak):
    xb = np.array(list(itertools.product([-1.0, 1.0], repeat=d)))
    A = (1 - leak) * np.eye(2**d)
    for j in range(J, d):
        flipped = xb.copy()
        flipped[:, j] *= -1
        idx = [int(np.flatnonzero((xb == f).all(1))[0]) for f in flipped]
        A[np.arange(2**d), idx] += leak / (d - J)
    return xb, A, A.T @ A


@pytest.mark.parametrize("d,J,leak", [(4, 1, 0.0), (4, 1, 0.2), (5, 2, 0.5), (6, 3, 0.05)])
def test_leaky_cube_spectrum_matches_the_explicit_graph(d, J, leak):
    _, _, Abar = _explicit_abar(d, J, leak)
    vals, mults = vacuity.leaky_cube_spectrum(d, J, leak)
    assert mults.sum() == 2**d
    np.testing.assert_allclose(np.repeat(vals, mults), np.sort(np.linalg.eigvalsh(Abar))[::-1], atol=1e-10)
    assert np.all(np.diff(vals) <= 1e-15)


def test_label_blind_excess_is_attained_and_is_a_lower_bound():
    d, J, leak, k = 5, 2, 0.2, 2
    xb, A, _ = _explicit_abar(d, J, leak)
    p = np.full(2**d, 2.0**-d)
    zeta1 = (1 - 2 * leak / (d - J)) ** 2
    got = theory.spectral_loss_finite(p, A, np.c_[np.ones(2**d), np.sqrt(zeta1) * xb[:, J]]) + k
    assert got == pytest.approx(vacuity.label_blind_excess(d, J, leak, k), abs=1e-12)
    got_c = theory.spectral_loss_finite(p, A, np.sqrt(zeta1) * xb[:, J:J + 2]) + k
    assert got_c == pytest.approx(vacuity.label_blind_excess(d, J, leak, k, centred=True), abs=1e-12)
    rng = np.random.default_rng(0)
    moved = (xb[:, J:] > 0).astype(int) @ (2 ** np.arange(d - J))
    for _ in range(50):
        F = rng.normal(size=(2 ** (d - J), k))[moved]
        assert theory.spectral_loss_finite(p, A, F) + k >= vacuity.label_blind_excess(d, J, leak, k) - 1e-12
    assert vacuity.label_blind_excess(d, J, 0.0, k) == pytest.approx(0.0, abs=1e-15)


def test_label_blind_excess_argument_checks():
    with pytest.raises(ValueError, match="k"):
        vacuity.label_blind_excess(6, 1, 0.1, 3)            # k > 2**J: the minimum over all f is not -k
    with pytest.raises(ValueError, match="k"):
        vacuity.label_blind_excess(3, 2, 0.1, 3, centred=True)
    with pytest.raises(ValueError, match="leak"):
        vacuity.label_blind_excess(6, 2, 0.6, 2)
    with pytest.raises(ValueError, match="n_invariant"):
        vacuity.leaky_cube_spectrum(4, 4, 0.1)
    with pytest.raises(TypeError, match="centred"):
        vacuity.label_blind_excess(6, 2, 0.1, 2, centred="yes")
