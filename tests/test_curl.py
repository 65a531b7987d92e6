"""Tests of sslbook.theory.curl: every exact CURL loss against a brute-force enumeration on tiny instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sslbook.data import LatentClassModel
from sslbook.explorers import curl_negatives_curve, curl_polygon_features
from sslbook.testing import assert_bound, assert_close_mc
from sslbook.theory import curl
from sslbook.theory.curl._enumeration import multisets

LOSSES = ("hinge", "logistic2")


def ref_loss(name, v):
    """Independent reference implementations of the two surrogate losses (one margin vector)."""
    v = np.asarray(v, dtype=float)
    if name == "hinge":
        return max(0.0, 1.0 + max(-v))
    return math.log2(1.0 + sum(math.exp(-x) for x in v))


@pytest.fixture
def tiny():
    """3 classes, 1-3 points each, non-uniform rho and within-class probabilities, 2-d features."""
    rng = np.random.default_rng(7)
    feats = [rng.normal(size=(2, 2)), rng.normal(size=(3, 2)) + 1.0, rng.normal(size=(1, 2)) - 1.0]
    probs = [np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3]), np.array([1.0])]
    rho = np.array([0.5, 0.3, 0.2])
    return feats, probs, rho


def brute_one_negative(feats, probs, rho, loss):
    C = len(feats)
    tau = float(np.sum(rho**2))
    L_un = L_eq = L_neq = 0.0
    for cp, cn in itertools.product(range(C), repeat=2):
        for (x, px), (xp, pxp), (xn, pxn) in itertools.product(
            zip(feats[cp], probs[cp], strict=True), zip(feats[cp], probs[cp], strict=True),
            zip(feats[cn], probs[cn], strict=True)
        ):
            term = rho[cp] * rho[cn] * px * pxp * pxn * ref_loss(loss, [x @ (xp - xn)])
            L_un += term
            if cp == cn:
                L_eq += term / tau
            else:
                L_neq += term / (1 - tau)
    mu = [p @ F for F, p in zip(feats, probs, strict=True)]
    L_mu = 0.0
    for a, b in itertools.permutations(range(C), 2):  # ordered pairs: conditional law of (c+, c-) given c+ != c-
        for x, px in zip(feats[a], probs[a], strict=True):
            L_mu += rho[a] * rho[b] / (1 - tau) * px * ref_loss(loss, [x @ (mu[a] - mu[b])])
    return L_un, L_eq, L_neq, L_mu, tau


# ----------------------------------------------------------------------------------------------------
# tau, tau_k, the bound
# ----------------------------------------------------------------------------------------------------


def test_tau_values():
    assert curl.tau([0.25] * 4) == pytest.approx(0.25, abs=1e-15)
    assert curl.tau([1.0, 0.0]) == pytest.approx(1.0, abs=1e-15)
    assert curl.tau([0.5, 0.3, 0.2]) == pytest.approx(0.38, abs=1e-15)
    assert curl.tau_k([0.5, 0.3, 0.2], 1) == pytest.approx(curl.tau([0.5, 0.3, 0.2]), abs=1e-15)
    # uniform: 1 - (1 - 1/C)^k
    assert curl.tau_k(np.full(10, 0.1), 5) == pytest.approx(1 - 0.9**5, abs=1e-15)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_tau_k_by_enumeration_of_class_tuples(k):
    rho = np.array([0.5, 0.3, 0.2])
    brute = sum(
        np.prod(rho[list(t)]) for t in itertools.product(range(3), repeat=k + 1) if t[0] in t[1:]
    )
    assert curl.tau_k(rho, k) == pytest.approx(brute, abs=1e-14)
    assert curl.tau_k(rho, k + 1) > curl.tau_k(rho, k)


def test_tau_bad_input():
    with pytest.raises(ValueError, match="rho"):
        curl.tau([0.5, 0.6])
    with pytest.raises(ValueError, match="rho"):
        curl.tau([1.2, -0.2])
    with pytest.raises(ValueError, match="rho"):
        curl.tau(np.ones((2, 2)) / 4)
    with pytest.raises(ValueError, match="k"):
        curl.tau_k([0.5, 0.5], 0)
    with pytest.raises(TypeError, match="k"):
        curl.tau_k([0.5, 0.5], 1.5)


def test_lemma43_bound_formula():
    assert curl.surrogate_bound(0.6, 0.2) == pytest.approx(0.5, abs=1e-15)
    assert curl.surrogate_bound(1.0, 0.3) == pytest.approx(1.0, abs=1e-15)
    out = curl.surrogate_bound(np.array([0.6, 1.0]), np.array([0.2, 0.5]))
    np.testing.assert_allclose(out, [0.5, 1.0], atol=1e-15)
    with pytest.raises(ValueError, match="tau"):
        curl.surrogate_bound(0.5, 1.0)
    with pytest.raises(ValueError, match="tau"):
        curl.surrogate_bound(0.5, -0.1)
    with pytest.raises(ValueError, match="L_un"):
        curl.surrogate_bound(np.nan, 0.1)


# ----------------------------------------------------------------------------------------------------
# one negative
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_exact_losses_match_brute_force(tiny, loss):
    feats, probs, rho = tiny
    res = curl.exact_losses(feats, rho, probs=probs, loss=loss)
    L_un, L_eq, L_neq, L_mu, tau = brute_one_negative(feats, probs, rho, loss)
    np.testing.assert_allclose([res.L_un, res.L_eq, res.L_neq, res.L_mu_sup, res.tau],
                               [L_un, L_eq, L_neq, L_mu, tau], rtol=0, atol=1e-12)
    assert res.loss == loss
    assert res.bound == pytest.approx((L_un - tau) / (1 - tau), abs=1e-12)
    # the decomposition and the lemma, from independently computed pieces
    assert abs(res.L_un - (res.tau * res.L_eq + (1 - res.tau) * res.L_neq)) < 1e-12
    assert res.L_mu_sup <= res.L_neq + 1e-12
    assert res.L_mu_sup <= res.bound + 1e-12


@pytest.mark.parametrize("loss", LOSSES)
def test_collapsed_representation_attains_equality(loss):
    m = LatentClassModel.random_finite(4, 3, 3, 0.7, rng=1, rho=[0.4, 0.3, 0.2, 0.1], random_probs=True)
    res = curl.exact_losses(m.collapsed(), loss=loss)
    assert abs(res.L_eq - 1.0) < 1e-12  # l(0) = 1
    assert abs(res.L_mu_sup - res.bound) < 1e-12
    # a deliberately wrong bound (the 1/(1 - tau) factor dropped) is violated on the same instance
    with pytest.raises(AssertionError):
        assert_bound(res.L_mu_sup, res.L_un - res.tau, name="wrong bound")
    # and a spread-out representation is strictly inside the bound: the reverse inequality fails
    spread = curl.exact_losses(m, loss=loss)
    assert spread.L_mu_sup < spread.bound - 1e-6
    with pytest.raises(AssertionError):
        assert_bound(spread.bound, spread.L_mu_sup, name="reversed lemma")


def test_model_and_arrays_agree(tiny):
    feats, probs, rho = tiny
    m = LatentClassModel(rho, feats, probs)
    a = curl.exact_losses(m, loss="logistic2")
    b = curl.exact_losses(feats, rho, probs=probs, loss="logistic2")
    assert a == b


def test_zero_mass_class_is_ignored(tiny):
    feats, probs, rho = tiny
    base = curl.exact_losses(feats[:2], [0.6, 0.4], probs=probs[:2])
    padded = curl.exact_losses(feats, [0.6, 0.4, 0.0], probs=probs)
    np.testing.assert_allclose([base.L_un, base.L_eq, base.L_neq, base.L_mu_sup],
                               [padded.L_un, padded.L_eq, padded.L_neq, padded.L_mu_sup], atol=1e-14)


def test_exact_losses_bad_input(tiny):
    feats, probs, rho = tiny
    with pytest.raises(ValueError, match="loss"):
        curl.exact_losses(feats, rho, loss="squared")
    with pytest.raises(ValueError, match="rho"):
        curl.exact_losses(feats, [0.5, 0.5], probs=probs)
    with pytest.raises(ValueError, match="rho"):
        curl.exact_losses(feats)
    with pytest.raises(ValueError, match="rho"):
        curl.exact_losses(feats, [1.0, 0.0, 0.0], probs=probs)  # tau = 1
    with pytest.raises(ValueError, match="features"):
        curl.exact_losses([feats[0], np.ones((2, 3))], [0.5, 0.5])
    with pytest.raises(ValueError, match="features"):
        curl.exact_losses([feats[0]], [1.0])
    with pytest.raises(TypeError, match="features"):
        curl.exact_losses(np.ones((3, 2)), [0.5, 0.5])
    with pytest.raises(ValueError, match="probs"):
        curl.exact_losses(feats, rho, probs=[np.array([0.5, 0.6]), *probs[1:]])
    with pytest.raises(ValueError, match="probs"):
        curl.exact_losses(feats, rho, probs=probs[:2])
    with pytest.raises(ValueError, match="probs"):
        curl.exact_losses(feats, rho, probs=[np.array([1.0]), *probs[1:]])
    m = LatentClassModel(rho, feats, probs)
    with pytest.raises(ValueError, match="rho"):
        curl.exact_losses(m, rho)
    g = LatentClassModel.random_gaussian(3, 2, rng=0)
    with pytest.raises(ValueError, match="finite"):
        curl.exact_losses(g)


# ----------------------------------------------------------------------------------------------------
# k negatives
# ----------------------------------------------------------------------------------------------------


def brute_k_negatives(feats, probs, rho, k, loss):
    """Enumerate all ordered (x, x+, x-_1..x-_k) and all ordered negative class tuples."""
    C = len(feats)
    pts = [(c, i) for c in range(C) for i in range(len(feats[c]))]
    q = {(c, i): rho[c] * probs[c][i] for c, i in pts}
    mu = [p @ F for F, p in zip(feats, probs, strict=True)]
    tau_k = 1 - sum(rho[c] * (1 - rho[c]) ** k for c in range(C))
    L_un = L_neq = L_mu = 0.0
    for c, i in pts:
        x = feats[c][i]
        for j in range(len(feats[c])):
            xp = feats[c][j]
            for negs in itertools.product(pts, repeat=k):
                w = q[c, i] * probs[c][j] * np.prod([q[n] for n in negs])
                v = [x @ (xp - feats[n[0]][n[1]]) for n in negs]
                val = ref_loss(loss, v)
                L_un += w * val
                if all(n[0] != c for n in negs):
                    L_neq += w * val / (1 - tau_k)
        for ncls in itertools.product([a for a in range(C) if a != c], repeat=k):
            w = rho[c] * probs[c][i] * np.prod(rho[list(ncls)]) / (1 - tau_k)
            L_mu += w * ref_loss(loss, [x @ (mu[c] - mu[a]) for a in ncls])
    return L_un, L_neq, L_mu, tau_k


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_k_negatives_match_brute_force(tiny, loss, k):
    feats, probs, rho = tiny
    res = curl.k_negative_losses(feats, rho, k=k, probs=probs, loss=loss)
    expected = brute_k_negatives(feats, probs, rho, k, loss)
    np.testing.assert_allclose([res.L_un, res.L_neq, res.L_mu_tilde, res.tau_k], expected, rtol=0, atol=1e-12)
    assert res.k == k and res.loss == loss
    # the [D] bound in multiplied form, and the Jensen step
    assert (1 - res.tau_k) * res.L_mu_tilde + res.tau_k <= res.L_un + 1e-12
    assert res.L_mu_tilde <= res.L_neq + 1e-12
    assert res.bound == pytest.approx(curl.surrogate_bound(res.L_un, res.tau_k), abs=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_k_equals_one_is_the_one_negative_loss(tiny, loss):
    feats, probs, rho = tiny
    one = curl.exact_losses(feats, rho, probs=probs, loss=loss)
    k1 = curl.k_negative_losses(feats, rho, k=1, probs=probs, loss=loss)
    np.testing.assert_allclose([k1.L_un, k1.L_neq, k1.L_mu_tilde, k1.tau_k],
                               [one.L_un, one.L_neq, one.L_mu_sup, one.tau], atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_k_negatives_collapsed_jensen_equality(loss):
    m = LatentClassModel.random_finite(3, 2, 2, 0.5, rng=3, rho=[0.5, 0.3, 0.2])
    res = curl.k_negative_losses(m.collapsed(), k=3, loss=loss)
    assert abs(res.L_neq - res.L_mu_tilde) < 1e-12
    spread = curl.k_negative_losses(m, k=3, loss=loss)
    assert spread.L_neq > spread.L_mu_tilde + 1e-6  # strict Jensen gap otherwise


@pytest.mark.parametrize("k", [1, 2, 4])
def test_k_negatives_closed_form_and_a_failing_variant(k):
    """Collapsed f onto orthogonal means of norm 1/2, hinge: every margin is 1/4 without collision, and 0 or 1/4
    with one, so L~mu = 3/4, the collision loss is exactly 1 and the [D] bound is an equality."""
    rho = np.array([0.5, 0.3, 0.2])
    feats = [np.repeat(0.5 * np.eye(3)[c][None], 2, axis=0) for c in range(3)]
    res = curl.k_negative_losses(feats, rho, k=k, loss="hinge")
    tau_k = curl.tau_k(rho, k)
    assert res.L_mu_tilde == pytest.approx(0.75, abs=1e-12)
    assert res.L_un == pytest.approx((1 - tau_k) * 0.75 + tau_k, abs=1e-12)
    assert_bound((1 - res.tau_k) * res.L_mu_tilde + res.tau_k, res.L_un, slack=1e-12)
    with pytest.raises(AssertionError):  # dropping the 1/(1 - tau_k) factor gives a false bound
        assert_bound(res.L_mu_tilde, res.L_un - res.tau_k, slack=1e-12, name="wrong k-negative bound")


def test_k_negatives_bad_input(tiny):
    feats, probs, rho = tiny
    with pytest.raises(ValueError, match="k"):
        curl.k_negative_losses(feats, rho, k=0, probs=probs)
    with pytest.raises(ValueError, match="max_multisets"):
        curl.k_negative_losses(feats, rho, k=3, probs=probs, max_multisets=10)
    with pytest.raises(ValueError, match="loss"):
        curl.k_negative_losses(feats, rho, k=2, probs=probs, loss="hinge2")


def test_multisets_are_a_distribution():
    probs = np.array([0.2, 0.0, 0.5, 0.3])
    idx, counts, prob = multisets(probs, 4, 1000, "k")
    assert idx.shape == (math.comb(3 + 4 - 1, 4), 4)
    assert not np.any(idx == 1)  # zero-probability point never drawn
    np.testing.assert_allclose(counts.sum(axis=1), 4)
    assert prob.sum() == pytest.approx(1.0, abs=1e-14)
    # brute force: probability of the multiset {0, 0, 2, 3}
    brute = sum(np.prod(probs[list(t)]) for t in itertools.product(range(4), repeat=4) if sorted(t) == [0, 0, 2, 3])
    row = np.flatnonzero((counts == [2, 0, 1, 1]).all(axis=1))
    assert prob[row[0]] == pytest.approx(brute, abs=1e-15)


# ----------------------------------------------------------------------------------------------------
# blocks
# ----------------------------------------------------------------------------------------------------


def brute_block(feats, probs, rho, b, loss):
    C = len(feats)
    total = 0.0
    for cp, cn in itertools.product(range(C), repeat=2):
        for i, px in enumerate(probs[cp]):
            x = feats[cp][i]
            for P in itertools.product(range(len(feats[cp])), repeat=b):
                for N in itertools.product(range(len(feats[cn])), repeat=b):
                    w = rho[cp] * rho[cn] * px * np.prod(probs[cp][list(P)]) * np.prod(probs[cn][list(N)])
                    v = x @ (feats[cp][list(P)].mean(axis=0) - feats[cn][list(N)].mean(axis=0))
                    total += w * ref_loss(loss, [v])
    return total


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("b", [1, 2, 3])
def test_block_loss_matches_brute_force(tiny, loss, b):
    feats, probs, rho = tiny
    feats, probs = [feats[0], feats[2]], [probs[0], probs[2]]
    rho2 = np.array([0.6, 0.4])
    got = curl.block_loss(feats, rho2, b=b, probs=probs, loss=loss)
    assert got == pytest.approx(brute_block(feats, probs, rho2, b, loss), abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_block_loss_monotone_and_above_the_limit(tiny, loss):
    feats, probs, rho = tiny
    one = curl.exact_losses(feats, rho, probs=probs, loss=loss)
    values = np.array([curl.block_loss(feats, rho, b=b, probs=probs, loss=loss) for b in (1, 2, 3, 5, 8)])
    assert values[0] == pytest.approx(one.L_un, abs=1e-12)
    assert np.all(np.diff(values) <= 1e-12)
    assert np.all(values >= (1 - one.tau) * one.L_mu_sup + one.tau - 1e-12)


def test_block_gap_bound_brute_force_and_validity(tiny):
    feats, probs, rho = tiny
    brute = 0.0
    for a, c in itertools.product(range(3), repeat=2):
        for i, x in enumerate(feats[a]):
            var = 0.0
            for F, p in ((feats[a], probs[a]), (feats[c], probs[c])):
                s = F @ x
                var += p @ (s - p @ s) ** 2
            brute += rho[a] * rho[c] * probs[a][i] * var
    for b in (1, 2, 5):
        bound = curl.block_gap_bound(feats, rho, b=b, probs=probs)
        assert bound == pytest.approx(brute / (8 * math.log(2) * b), rel=1e-12)
    one = curl.exact_losses(feats, rho, probs=probs, loss="logistic2")
    floor = (1 - one.tau) * one.L_mu_sup + one.tau
    for b in (1, 2, 3, 6):
        gap = curl.block_loss(feats, rho, b=b, probs=probs, loss="logistic2") - floor
        assert_bound(gap, curl.block_gap_bound(feats, rho, b=b, probs=probs), slack=1e-12)
    with pytest.raises(ValueError, match="b"):
        curl.block_gap_bound(feats, rho, b=0, probs=probs)


def test_block_gap_bound_is_asymptotically_tight():
    """Two identical classes on {-1, +1}: every mean margin is 0, where l'' = 1/(4 ln 2) is largest, so
    b * gap -> E sigma^2 / (8 ln 2) and a bound with half the constant is violated."""
    feats = [np.array([[1.0], [-1.0]])] * 2
    rho = [0.5, 0.5]
    b = 40
    one = curl.exact_losses(feats, rho, loss="logistic2")
    assert one.L_mu_sup == pytest.approx(1.0) and one.L_eq == pytest.approx(one.L_neq)
    gap = curl.block_loss(feats, rho, b=b, loss="logistic2") - 1.0
    bound = curl.block_gap_bound(feats, rho, b=b)
    assert bound == pytest.approx(2.0 / (8 * math.log(2) * b), rel=1e-12)  # sigma^2 = 1 + 1
    assert 0.9 * bound < gap <= bound
    with pytest.raises(AssertionError):
        assert_bound(gap, bound / 2, name="half the constant")


def test_block_loss_bad_input(tiny):
    feats, probs, rho = tiny
    with pytest.raises(ValueError, match="b"):
        curl.block_loss(feats, rho, b=0, probs=probs)
    with pytest.raises(ValueError, match="max_multisets"):
        curl.block_loss(feats, rho, b=30, probs=probs, max_multisets=50)


# ----------------------------------------------------------------------------------------------------
# sampled tuples
# ----------------------------------------------------------------------------------------------------


def test_sample_losses_values():
    A = np.array([[1.0, 0.0], [0.0, 2.0]])
    P = np.array([[[1.0, 1.0]], [[0.0, 1.0]]])
    N = np.array([[[0.0, 3.0], [2.0, 0.0]], [[1.0, 1.0], [0.0, -1.0]]])
    got = curl.sample_losses(A, P, N, loss="hinge")
    # margins: row 0: (1 - 0, 1 - 2) = (1, -1); row 1: (2 - 2, 2 + 2) = (0, 4)
    np.testing.assert_allclose(got, [ref_loss("hinge", [1, -1]), ref_loss("hinge", [0, 4])], atol=1e-15)
    got = curl.sample_losses(A, P, N, loss="logistic2")
    np.testing.assert_allclose(got, [ref_loss("logistic2", [1, -1]), ref_loss("logistic2", [0, 4])], atol=1e-14)
    # blocks of 2: margin between the block means
    Pb = np.concatenate([P, P + 1.0], axis=1)
    got = curl.sample_losses(A, Pb, N, loss="hinge")
    v = [A[m] @ (Pb[m].mean(0) - N[m].mean(0)) for m in range(2)]
    np.testing.assert_allclose(got, [ref_loss("hinge", [x]) for x in v], atol=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_sampled_loss_estimates_the_exact_loss(loss):
    m = LatentClassModel.random_finite(3, 2, 2, 0.5, rng=5, rho=[0.5, 0.3, 0.2])
    exact = curl.k_negative_losses(m, k=2, loss=loss)
    t = m.sample_tuples(20000, k_neg=2, rng=11)
    samples = curl.sample_losses(t.anchors, t.positives, t.negatives, loss=loss)
    assert_close_mc(samples, exact.L_un, n_se=4)
    with pytest.raises(AssertionError):  # the no-collision loss is a different number
        assert_close_mc(samples, exact.L_neq, n_se=4)
    block_exact = curl.block_loss(m, b=3, loss=loss)
    tb = m.sample_tuples(20000, block=3, rng=12)
    assert_close_mc(curl.sample_losses(tb.anchors, tb.positives, tb.negatives, loss=loss), block_exact, n_se=4)


def test_sample_losses_bad_input():
    A, P, N = np.zeros((3, 2)), np.zeros((3, 1, 2)), np.zeros((3, 2, 2))
    with pytest.raises(ValueError, match="anchors and positives disagree on M"):  # the number of rows
        curl.sample_losses(A[:2], P, N)
    with pytest.raises(ValueError, match="anchors and positives disagree on d"):  # the feature dimension
        curl.sample_losses(A, np.zeros((3, 1, 3)), N)
    with pytest.raises(ValueError, match="negatives"):
        curl.sample_losses(A, np.zeros((3, 2, 2)), np.zeros((3, 3, 2)))
    with pytest.raises(ValueError, match="positives"):
        curl.sample_losses(A, np.zeros((3, 2)), N)
    with pytest.raises(ValueError, match="loss"):
        curl.sample_losses(A, P, N, loss="nope")


# ---------------------------------------------------------------- the explorer's curve (issue #8)


def _brute_k_negative_constant(feats, k, loss):
    """L_un and L~mu for class-constant features and uniform rho, by enumerating all class tuples."""
    C = len(feats)
    L_un, L_nc, p_nc = 0.0, 0.0, 0.0
    for t in itertools.product(range(C), repeat=k + 1):
        f = feats[t[0]][0]
        v = np.array([f @ (f - feats[c][0]) for c in t[1:]])
        value = float(ref_loss(loss, v))
        L_un += value / C ** (k + 1)
        if t[0] not in t[1:]:
            L_nc += value / C ** (k + 1)
            p_nc += 1 / C ** (k + 1)
    return L_un, L_nc / p_nc, 1 - p_nc


@pytest.mark.parametrize("loss", LOSSES)
def test_negatives_curve_against_tuple_enumeration(loss):
    curve = curl_negatives_curve(3, [1, 2, 3], radius=0.8, loss=loss)
    feats = curl_polygon_features(3, radius=0.8)
    for i, k in enumerate(curve.ks):
        L_un, L_mu, tau = _brute_k_negative_constant(feats, int(k), loss)
        np.testing.assert_allclose([curve.L_un[i], curve.L_mu_tilde[i], curve.tau_k[i]], [L_un, L_mu, tau],
                                   atol=1e-12)
        assert abs(curve.tau_k[i] - (1 - (1 - 1 / 3) ** k)) < 1e-15
    # constant on classes: Jensen is tight; the bound is the closed form of its inputs
    np.testing.assert_allclose(curve.L_neq, curve.L_mu_tilde, atol=1e-12)
    np.testing.assert_allclose(curve.bound, (curve.L_un - curve.tau_k) / (1 - curve.tau_k), atol=1e-12)
    assert_bound(curve.L_mu_tilde, curve.bound, slack=1e-12, name="k-negative bound")


def test_negatives_curve_spread_k1_matches_exact_losses():
    curve = curl_negatives_curve(4, 1, spread=0.4, loss="hinge")
    feats = curl_polygon_features(4, spread=0.4)
    assert all(f.shape == (2, 2) for f in feats)
    np.testing.assert_allclose(np.linalg.norm(feats[1], axis=1), [0.6 * 0.6, 0.6 * 1.4])
    one = curl.exact_losses(feats, np.full(4, 0.25), loss="hinge")
    np.testing.assert_allclose([curve.L_un[0], curve.L_neq[0], curve.L_mu_tilde[0], curve.tau_k[0]],
                               [one.L_un, one.L_neq, one.L_mu_sup, one.tau], atol=1e-12)
    # a wrong collision probability (tau instead of tau_k for k = 3) is told apart
    three = curl_negatives_curve(4, 3)
    assert abs(three.tau_k[0] - curl.tau(np.full(4, 0.25))) > 0.1


def test_negatives_curve_bad_input():
    with pytest.raises(ValueError, match="n_classes"):
        curl_negatives_curve(1, [1])
    with pytest.raises(ValueError, match="k"):
        curl_negatives_curve(3, [0, 1])
    with pytest.raises(TypeError, match="ks"):
        curl_negatives_curve(3, [1.5])
    with pytest.raises(ValueError, match="loss"):
        curl_negatives_curve(3, [1], loss="square")
    with pytest.raises(ValueError, match="spread"):
        curl_polygon_features(3, spread=1.0)
    with pytest.raises(ValueError, match="radius"):
        curl_polygon_features(3, radius=0.0)
    with pytest.raises(ValueError, match="max_multisets"):
        curl_negatives_curve(10, [8], spread=0.5, max_multisets=100)
