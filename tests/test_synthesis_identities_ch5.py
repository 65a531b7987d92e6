"""Tests of sslbook.theory.synthesis: the identities that make the frameworks one (helper ch5)."""

import numpy as np
import pytest

from sslbook import data, theory


def _hmm(seed=0, m=3, V=4):
    return data.HMM.random(m, V, np.random.default_rng(seed))


def test_hmm_joint_is_the_ci_lemma_with_A_equal_B():
    hmm = _hmm()
    joint = theory.hmm_next_token_joint(hmm.pi, hmm.A, hmm.B, 3)
    terms = theory.ci_lemma_terms(joint)
    enum = hmm.enumerate_contexts(3)
    assert joint.shape == (64, 3, 4) and np.isclose(joint.sum(), 1.0)
    np.testing.assert_allclose(terms.A, hmm.B, atol=1e-14)
    np.testing.assert_allclose(terms.psi_star, enum.next_token, atol=1e-14)
    np.testing.assert_allclose(terms.posterior, hmm.next_state(enum.contexts, initial="stationary"), atol=1e-14)
    assert terms.ci_violation < 1e-14 and terms.lemma_residual < 1e-14 and terms.rank_A == 3


def test_ci_lemma_detects_dependence():
    rng = np.random.default_rng(1)
    joint = rng.dirichlet(np.ones(24)).reshape(2, 3, 4)      # generic: not CI given Y
    terms = theory.ci_lemma_terms(joint)
    assert terms.ci_violation > 1e-3 and terms.lemma_residual > 1e-3


def test_ci_lemma_alphabet_values():
    rng = np.random.default_rng(2)
    px1, px2 = rng.dirichlet(np.ones(5), 3), rng.dirichlet(np.ones(4), 3)   # rows P(. | y)
    joint = np.einsum("y,ya,yb->ayb", np.full(3, 1 / 3), px1, px2)
    values = rng.standard_normal((4, 2))
    terms = theory.ci_lemma_terms(joint, alphabet=values)
    np.testing.assert_allclose(terms.A, (px2 @ values).T, atol=1e-14)
    assert terms.lemma_residual < 1e-14


def test_reconstruction_is_one_plus_twice_quad():
    rng = np.random.default_rng(3)
    lang = data.SyntheticLanguage.topic_model(12, 6, 3, rng)
    Phi = rng.standard_normal((4, 6))
    theta = rng.standard_normal((12, 4))
    lhs = theory.reconstruction_risk(lang.p_context, lang.p_next, theta @ Phi)
    rhs = 1 + 2 * lang.p_context @ theory.quad_loss(theta, Phi, lang.p_next)
    assert np.isclose(lhs, rhs, rtol=1e-12)
    # the pretext optimum (Phi = I) is psi* = p*, with loss 1 - E||p*||^2
    best = theory.reconstruction_risk(lang.p_context, lang.p_next, lang.p_next)
    assert np.isclose(best, 1 - lang.p_context @ np.sum(lang.p_next**2, axis=1), rtol=1e-12)


def test_partition_erm_risk_small_exact_enumeration():
    """n = 2 samples, two contexts in one cell or two: enumerate every dataset by hand."""
    p_x = np.array([0.3, 0.7])
    psi = np.array([[0.2, 0.8], [0.6, 0.4]])
    d = psi.T @ p_x
    for cells in (np.array([0, 1]), np.array([0, 0])):
        n_cells = cells.max() + 1
        total = 0.0
        pairs = [(x, w) for x in range(2) for w in range(2)]
        for a in pairs:
            for b in pairs:
                prob = p_x[a[0]] * psi[a[0], a[1]] * p_x[b[0]] * psi[b[0], b[1]]
                pred = np.tile(d, (n_cells, 1))
                for c in range(n_cells):
                    ws = [s[1] for s in (a, b) if cells[s[0]] == c]
                    if ws:
                        pred[c] = np.mean(np.eye(2)[ws], axis=0)
                total += prob * np.sum(p_x * np.sum((pred[cells] - psi) ** 2, axis=1))
        r = theory.partition_erm_risk(p_x, psi, cells, 2)
        assert np.isclose(r.total, total, rtol=1e-12)
        assert np.isclose(r.total, r.approximation + r.estimation + r.empty_cells)
    assert theory.partition_erm_risk(p_x, psi, np.array([0, 1]), 2).approximation == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("call, match", [
    (lambda: theory.ci_lemma_terms(np.ones((2, 2, 2))), "sum to 1"),
    (lambda: theory.ci_lemma_terms(np.full((2, 2, 2), 1 / 8), alphabet=np.eye(3)), "alphabet"),
    (lambda: theory.hmm_next_token_joint([1.0], [[1.0]], [[0.5], [0.5]], 0), "T"),
    (lambda: theory.partition_erm_risk([0.5, 0.5], np.eye(2), [0, 2], 3), "cells"),
    (lambda: theory.reconstruction_risk([1.0], [[0.5, 0.5]], [[0.5]]), "psi"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
