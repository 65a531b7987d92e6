"""Tests of sslbook.theory.head_tuning against brute force on tiny instances."""

import numpy as np
import pytest

from sslbook.data import HMM
from sslbook.theory import (
    balanced_threshold,
    best_threshold_error,
    head_error,
    rowspan_residual,
    separating_head_lp,
    solve_head,
)


def brute_threshold_error(s, y, w):
    """Try every cut between sorted distinct values, both directions, and the constants."""
    u = np.unique(s)
    cuts = np.concatenate([[u[0] - 1], (u[:-1] + u[1:]) / 2, [u[-1] + 1]])
    w = w / w.sum()
    best = min(w[y == 1].sum(), w[y == 0].sum())
    for t in cuts:
        for sign in (1, -1):
            pred = (sign * (s - t) >= 0).astype(int)
            best = min(best, w[pred != y].sum())
    return best


def test_solve_head_and_residual():
    rng = np.random.default_rng(0)
    hmm = HMM.random(4, 7, rng)
    mu = rng.normal(size=4)
    b = solve_head(hmm.B, mu)
    np.testing.assert_allclose(b @ hmm.B, mu, atol=1e-12)
    assert rowspan_residual(hmm.B, mu) < 1e-12
    tied = hmm.tie_emissions(0, 1)
    mu_sep = np.array([1.0, -1.0, 0.0, 0.0])
    # row space of a B with equal columns 0, 1 is {v : v_0 = v_1}; distance of e0 - e1 is sqrt(2)
    assert abs(rowspan_residual(tied.B, mu_sep) - np.sqrt(2)) < 1e-12
    with pytest.raises(ValueError, match="mu"):
        solve_head(tied.B, mu_sep)
    b2 = solve_head(tied.B, np.array([1.0, 1.0, 0.5, -2.0]))  # v_0 = v_1: in the row space
    np.testing.assert_allclose(b2 @ tied.B, [1.0, 1.0, 0.5, -2.0], atol=1e-12)
    with pytest.raises(ValueError, match="mu"):
        solve_head(hmm.B, np.ones(3))
    with pytest.raises(ValueError, match="B"):
        rowspan_residual(np.ones(3), np.ones(3))


def test_head_error_against_loop():
    rng = np.random.default_rng(1)
    G = rng.normal(size=(30, 3))
    y = rng.integers(0, 2, size=30)
    w = rng.random(30)
    b = rng.normal(size=3)
    manual = sum(w[i] for i in range(30) if int(G[i] @ b + 0.3 >= 0) != y[i]) / w.sum()
    assert abs(head_error(G, y, b, c=0.3, weights=w) - manual) < 1e-12
    y_true = (G @ b >= 0).astype(int)
    assert head_error(G, y_true, b) == pytest.approx(0.0, abs=1e-15)
    assert head_error(G, y_true, -b) > 0.9  # a wrong head fails
    with pytest.raises(ValueError, match="y"):
        head_error(G, np.full(30, 2), b)
    with pytest.raises(ValueError, match="b"):
        head_error(G, y, np.ones(4))
    with pytest.raises(ValueError, match="weights"):
        head_error(G, y, b, weights=-np.ones(30))


def test_balanced_threshold():
    rng = np.random.default_rng(2)
    s = rng.normal(size=101)
    w = rng.random(101)
    t = balanced_threshold(s, w)
    assert np.min(np.abs(s - t)) > 0
    # brute force over all midpoints: the returned one is the most balanced
    u = np.unique(s)
    mids = (u[:-1] + u[1:]) / 2
    gaps = [abs(w[s >= m].sum() / w.sum() - 0.5) for m in mids]
    assert abs(abs(w[s >= t].sum() / w.sum() - 0.5) - min(gaps)) < 1e-12
    with pytest.raises(ValueError, match="scores"):
        balanced_threshold(np.ones(5))


def test_best_threshold_error_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(20):
        s = rng.integers(0, 6, size=15).astype(float)  # many ties
        y = rng.integers(0, 2, size=15)
        w = rng.random(15)
        assert abs(best_threshold_error(s, y, w) - brute_threshold_error(s, y, w)) < 1e-12
    # separable data: zero; a wrong value (the error of one fixed rule) is not the minimum
    s = np.arange(10.0)
    y = (s >= 4).astype(int)
    assert best_threshold_error(s, y) < 1e-15
    assert best_threshold_error(s, 1 - y) < 1e-15  # the reversed direction is allowed
    y_alt = np.arange(10) % 2
    assert abs(best_threshold_error(s, y_alt) - 0.4) < 1e-12
    with pytest.raises(ValueError, match="y"):
        best_threshold_error(s, y[:5])


def test_separating_head_lp():
    rng = np.random.default_rng(4)
    G = rng.normal(size=(40, 3))
    b0 = rng.normal(size=3)
    y = (G @ b0 + 0.1 >= 0).astype(int)
    cert = separating_head_lp(G, y)
    assert cert.separable and head_error(G, y, cert.b, c=cert.c) == pytest.approx(0.0, abs=1e-15)
    assert np.all((2 * y - 1) * (G @ cert.b + cert.c) >= 1 - 1e-7)
    # XOR is not linearly separable: a Farkas certificate exists
    Gx = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    yx = np.array([1, 1, 0, 0])
    cx = separating_head_lp(Gx, yx)
    assert not cx.separable and cx.b is None
    assert np.all(cx.lam >= 0) and abs(cx.lam.sum() - 1) < 1e-12 and cx.residual < 1e-9
    assert abs(cx.lam[yx == 1].sum() - 0.5) < 1e-9
    np.testing.assert_allclose(cx.hull_point, [0.5, 0.5], atol=1e-9)
    # a wrong certificate (all mass on the positives) has a large residual
    s = 2 * yx - 1
    M = s[:, None] * np.hstack([Gx, np.ones((4, 1))])
    wrong = np.array([0.5, 0.5, 0.0, 0.0])
    assert np.max(np.abs(M.T @ wrong)) > 0.1
    with pytest.raises(ValueError, match="both labels"):
        separating_head_lp(Gx, np.ones(4, dtype=int))
    with pytest.raises(ValueError, match="G"):
        separating_head_lp(Gx, np.ones(3, dtype=int))
