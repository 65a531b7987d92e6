"""Tests of sslbook.data.language (SyntheticLanguage, NaturalTask) against brute force on tiny instances."""

import itertools

import numpy as np
import pytest

from sslbook import testing
from sslbook.data import HMM, SyntheticLanguage
from sslbook.theory import kl_divergence, softmax_optimal_theta, softmax_probs


def _tiny(rng=0):
    return SyntheticLanguage.topic_model(6, 4, 2, rng)


def test_constructor_validates():
    p_next = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="p_context"):
        SyntheticLanguage([0.5, 0.4, 0.2], p_next)
    with pytest.raises(ValueError, match="p_context"):
        SyntheticLanguage([1.2, -0.1, -0.1], p_next)
    with pytest.raises(ValueError, match="p_next"):
        SyntheticLanguage([0.5, 0.5], p_next)
    with pytest.raises(ValueError, match="p_next"):
        SyntheticLanguage([0.2, 0.3, 0.5], np.array([[0.5, 0.6], [0.5, 0.5], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="Phi"):
        SyntheticLanguage([0.2, 0.3, 0.5], p_next, Phi=np.ones((1, 2)))
    with pytest.raises(ValueError, match="context_tokens"):
        SyntheticLanguage([0.2, 0.3, 0.5], p_next, context_tokens=np.zeros((2, 1), dtype=int))
    lang = SyntheticLanguage([0.2, 0.3, 0.5], p_next)
    assert (lang.n_contexts, lang.vocab) == (3, 2) and "S=3" in repr(lang)


def test_constructors_validate_sizes():
    with pytest.raises(ValueError, match="n_contexts"):
        SyntheticLanguage.softmax_realizable(-1, 5, 2, 0)
    with pytest.raises(ValueError, match="vocab"):
        SyntheticLanguage.softmax_realizable(3, 1, 2, 0)
    with pytest.raises(TypeError, match="dim"):
        SyntheticLanguage.softmax_realizable(3, 5, 2.5, 0)
    with pytest.raises(ValueError, match="n_topics"):
        SyntheticLanguage.topic_model(3, 5, 0, 0)
    with pytest.raises(ValueError, match="topic_concentration"):
        SyntheticLanguage.topic_model(3, 5, 2, 0, topic_concentration=0.0)
    with pytest.raises(ValueError, match="L"):
        SyntheticLanguage.from_hmm(HMM.random(2, 3, 0), 0)
    with pytest.raises(TypeError, match="hmm"):
        SyntheticLanguage.from_hmm(object(), 2)


def test_softmax_realizable_is_a_softmax():
    lang = SyntheticLanguage.softmax_realizable(7, 5, 3, np.random.default_rng(1), scale=2.0)
    for s in range(7):  # brute force, one context at a time
        logits = [lang.theta[s] @ lang.Phi[:, w] for w in range(5)]
        np.testing.assert_allclose(lang.p_next[s], np.exp(logits) / np.sum(np.exp(logits)), atol=1e-14)
    theta_star = softmax_optimal_theta(lang.Phi, lang.p_next)
    np.testing.assert_allclose(softmax_probs(lang.Phi, theta_star), lang.p_next, atol=1e-9)


def test_topic_model_is_a_full_support_mixture_not_realizable():
    lang = SyntheticLanguage.topic_model(20, 8, 3, np.random.default_rng(2))
    assert np.all(lang.p_next > 0) and lang.Phi is None
    np.testing.assert_allclose(lang.p_next.sum(axis=1), 1.0, atol=1e-12)
    Phi = np.random.default_rng(3).standard_normal((2, 8))
    q = softmax_probs(Phi, softmax_optimal_theta(Phi, lang.p_next))
    assert np.abs(q - lang.p_next).sum(axis=1).mean() > 0.05  # d = 2 < V - 1 cannot match p*


def test_from_hmm_matches_brute_force_over_hidden_paths():
    hmm = HMM.random(2, 3, np.random.default_rng(4))
    L = 2
    lang = SyntheticLanguage.from_hmm(hmm, L)
    pi = hmm.stationary()
    for i, x in enumerate(lang.context_tokens):
        joint = np.zeros(hmm.V)  # P(x_{1:L}, X_{L+1} = w), summing over all hidden paths
        for h in itertools.product(range(hmm.m), repeat=L + 1):
            path = pi[h[0]] * np.prod([hmm.A[h[t], h[t + 1]] for t in range(L)])
            emit = np.prod([hmm.B[x[t], h[t]] for t in range(L)])
            joint += path * emit * hmm.B[:, h[L]]
        np.testing.assert_allclose(lang.p_context[i], joint.sum(), atol=1e-12)
        np.testing.assert_allclose(lang.p_next[i], joint / joint.sum(), atol=1e-12)
    assert lang.n_contexts == hmm.V**L


def test_sample_matches_the_joint_distribution():
    lang = _tiny()
    s, w = lang.sample(40000, np.random.default_rng(5))
    assert s.shape == w.shape == (40000,) and s.dtype == np.int64
    joint = lang.p_context[:, None] * lang.p_next
    for i, j in [(0, 0), (2, 1), (5, 3)]:
        testing.assert_close_mc(((s == i) & (w == j)).astype(float), joint[i, j], n_se=4)
    with pytest.raises(ValueError, match="n"):
        lang.sample(0)


def test_cross_entropy_is_entropy_plus_epsilon():
    lang = _tiny()
    q = np.random.default_rng(6).dirichlet(np.ones(4), size=6)
    brute = -sum(lang.p_context[s] * lang.p_next[s, w] * np.log(q[s, w]) for s in range(6) for w in range(4))
    np.testing.assert_allclose(lang.cross_entropy(q), brute, rtol=1e-12)
    np.testing.assert_allclose(lang.cross_entropy(q), lang.entropy() + lang.epsilon(q), rtol=1e-12)
    np.testing.assert_allclose(lang.epsilon(q), lang.p_context @ kl_divergence(lang.p_next, q), rtol=1e-12)
    assert lang.epsilon(lang.p_next) == pytest.approx(0.0, abs=1e-14)
    with pytest.raises(ValueError, match="q"):
        lang.epsilon(q[:, ::-1] * 2)


def test_task_distribution_and_gamma():
    lang = SyntheticLanguage.topic_model(50, 5, 2, np.random.default_rng(7))
    pt = lang.task_distribution(np.random.default_rng(8), fraction=0.2)
    assert np.count_nonzero(pt) == 10 and pt.sum() == pytest.approx(1.0)
    g = lang.gamma(pt)
    # brute force: the largest alpha on a fine grid with alpha * p_T <= p_L everywhere
    grid = np.linspace(0, 1, 200001)
    ok = [a for a in grid[::1000] if np.all(a * pt <= lang.p_context + 1e-15)]
    assert max(ok) <= g < max(ok) + 0.005 + 1e-12
    assert np.all(g * pt <= lang.p_context + 1e-15)
    assert not np.all(1.01 * g * pt <= lang.p_context)  # a wrong (larger) gamma fails
    assert lang.gamma(lang.p_context) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="fraction"):
        lang.task_distribution(0, fraction=0.0)


def test_natural_task_labels_by_brute_force():
    lang = SyntheticLanguage.softmax_realizable(40, 6, 3, np.random.default_rng(9))
    lam = np.array([1.0, -0.5, 0.2])
    v = lang.Phi.T @ lam
    pt = lang.task_distribution(np.random.default_rng(10), fraction=0.5)
    task = lang.natural_task(v, p_task=pt)
    for s in range(40):
        score = sum(v[w] * lang.p_next[s, w] for w in range(6))
        assert task.labels[s] == (1 if score >= task.threshold else -1)
    assert task.B == pytest.approx(np.abs(v).max())
    neg, pos = pt[task.labels == -1].sum(), pt[task.labels == 1].sum()
    assert neg >= 0.5 - 1e-12 and pos > 0  # the threshold sits just above the p_T-weighted median
    assert np.all(np.abs(lang.p_next @ v - task.threshold) > 0)  # no zero margin
    fixed = lang.natural_task(v, threshold=0.0)
    np.testing.assert_array_equal(fixed.labels, np.where(lang.p_next @ v >= 0, 1, -1))
    with pytest.raises(ValueError, match="v"):
        lang.natural_task(np.ones(5))
    with pytest.raises(ValueError, match="p_task"):
        lang.natural_task(v, p_task=np.full(40, 0.5))
