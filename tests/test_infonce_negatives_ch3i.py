"""Unit tests of sslbook.theory.infonce_negatives (perfect encoders, the bias of finitely many negatives)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sslbook.theory import alignment_uniformity as au
from sslbook.theory import infonce_negatives as T


def _simplex_circle(m=3, r=2):
    ang = 2 * np.pi * np.arange(m) / m
    V = np.c_[np.cos(ang), np.sin(ang)]
    return np.repeat(V, r, axis=0), np.repeat(np.arange(m), r)


def test_simplex_limit_closed_form():
    for m, tau in [(2, 0.5), (3, 0.2), (4, 1.0), (10, 0.1)]:
        ref = -1 / tau + np.log((np.exp(1 / tau) + (m - 1) * np.exp(-1 / (tau * (m - 1)))) / m)
        assert T.simplex_limit(m, tau) == pytest.approx(ref, rel=1e-12)


def test_finite_limit_terms_matches_infonce_limit_on_enumerated_pairs():
    F, g = _simplex_circle()
    a, u = T.finite_limit_terms(F, g, 0.5)
    assert a == pytest.approx(-2.0, rel=1e-12)  # perfectly aligned: -1/tau
    assert a + u == pytest.approx(T.simplex_limit(3, 0.5), rel=1e-12)
    # a non-aligned encoder with unequal groups: pin to infonce_limit with all (x, y) pairs weighted
    rng = np.random.default_rng(0)
    F = rng.normal(size=(5, 3))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    g = np.array([0, 0, 0, 1, 1])
    pairs = [(i, j) for i in range(5) for j in range(5) if g[i] == g[j]]
    w = np.array([1 / (5 * np.sum(g == g[i])) for i, _ in pairs])  # P(x = i, y = j)
    align = -np.sum(w * np.array([F[i] @ F[j] for i, j in pairs])) / 0.5
    a, u = T.finite_limit_terms(F, g, 0.5)
    assert a == pytest.approx(align, rel=1e-12)
    # infonce_limit with positives = anchors: alignment -1/tau plus the same uniformity term
    assert u == pytest.approx(au.infonce_limit(F, F, F, 0.5) + 1 / 0.5, rel=1e-12)


def test_finite_limit_terms_rejects_non_unit_features():
    with pytest.raises(ValueError, match="unit"):
        T.finite_limit_terms(2 * np.eye(3), np.arange(3), 0.5)


def test_two_point_bias_matches_enumeration_and_first_order():
    tau, m = 0.5, 3
    sv = np.array([1 / tau, -1 / (tau * (m - 1))])
    sp, p = 1 / tau, 1 / m
    g = p * np.exp(sv[0]) + (1 - p) * np.exp(sv[1])
    for N in (1, 2, 4):
        tot = np.mean([np.log(np.exp(sp) + np.exp(sv[(np.array(c) != 0).astype(int)]).sum()) - sp
                       for c in itertools.product(range(m), repeat=N)])
        assert -sp + np.log(N) + np.log(g) + T.two_point_bias(N, sp, sv, p) == pytest.approx(tot, rel=1e-12)
    c1 = T.first_order_bias(sp, sv, [p, 1 - p])
    for N in (10**4, 10**6):
        b = T.two_point_bias(N, sp, sv, p)
        R = b - c1 / N + np.exp(2 * sp) / (2 * g**2 * N**2)
        assert abs(R) <= T.two_point_remainder_bound(N, sp, sv, p)
    # a deliberately wrong coefficient (variance term without the 1/2) violates the bound at N = 10^6
    N = 10**6
    wrong = 2 * c1 - np.exp(sp) / g  # e^{s+}/g - V/g^2
    b = T.two_point_bias(N, sp, sv, p)
    assert abs(b - wrong / N + np.exp(2 * sp) / (2 * g**2 * N**2)) > T.two_point_remainder_bound(N, sp, sv, p)


def test_first_order_bias_degenerate_law_has_no_variance_term():
    # a single negative value: V = 0, c1 = e^{s+}/g
    assert T.first_order_bias(1.0, [0.5], [1.0]) == pytest.approx(np.exp(1.0) / np.exp(0.5), rel=1e-12)


def test_ntxent_collapsed_loss_matches_info_nce_over_all_batches():
    import torch

    from sslbook import losses

    tau, m, D, nb = 0.5, 3, 6, 3
    tri = np.c_[np.cos(2 * np.pi * np.arange(m) / m), np.sin(2 * np.pi * np.arange(m) / m)]
    cls = np.arange(D) % m
    vals = []
    for b in itertools.combinations(range(D), nb):
        z = torch.tensor(tri[cls[list(b)]])
        vals.append(losses.info_nce(z, z, temperature=tau).item())
    sv = np.array([1 / tau, -1 / (tau * (m - 1))])
    assert T.ntxent_collapsed_loss(D, m, nb, 1 / tau, sv) == pytest.approx(np.mean(vals), rel=1e-12)
    with pytest.raises(ValueError, match="multiple"):
        T.ntxent_collapsed_loss(7, 3, 3, 2.0, sv)
