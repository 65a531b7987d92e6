"""Tests of sslbook.data.hmm: forward-backward against brute-force path enumeration."""

import itertools

import numpy as np
import pytest

from sslbook.data import HMM


def brute_force(hmm, x, initial=None):
    """P(x), P(H_t | x) for all t, P(X_{T+1} | x) by summing over all m^(T+1) hidden paths."""
    pi = hmm.pi if initial is None else initial
    T = len(x)
    joint = np.zeros((T + 1,) + (hmm.m,))  # accumulates P(x, H_t = h), t = 1..T+1
    next_tok = np.zeros(hmm.V)
    total = 0.0
    for path in itertools.product(range(hmm.m), repeat=T + 1):
        p = pi[path[0]] * hmm.B[x[0], path[0]]
        for t in range(1, T):
            p *= hmm.A[path[t - 1], path[t]] * hmm.B[x[t], path[t]]
        p *= hmm.A[path[T - 1], path[T]]
        total += p
        for t in range(T + 1):
            joint[t, path[t]] += p
        next_tok += p * hmm.B[:, path[T]]
    return total, joint / total, next_tok / total


@pytest.fixture
def hmm():
    return HMM.random(3, 4, np.random.default_rng(0), initial="uniform")


def test_forward_backward_matches_brute_force(hmm):
    rng = np.random.default_rng(1)
    x = hmm.sample(5, 5, rng)
    smooth = hmm.smoothing(x)
    for i in range(5):
        total, marg, nxt = brute_force(hmm, x[i])
        np.testing.assert_allclose(hmm.log_likelihood(x[i]), np.log(total), rtol=1e-12)
        np.testing.assert_allclose(smooth[i], marg[:5], atol=1e-12)
        np.testing.assert_allclose(hmm.posterior(x[i]), marg[4], atol=1e-12)
        np.testing.assert_allclose(hmm.next_state(x[i]), marg[5], atol=1e-12)
        np.testing.assert_allclose(hmm.predictive(x[i]), nxt, atol=1e-12)
    np.testing.assert_allclose(hmm.filtering(x)[:, -1], hmm.posterior(x), atol=1e-14)
    # a wrong recursion (forgetting the transition) must disagree
    wrong = HMM(hmm.pi, np.eye(3), hmm.B)
    assert not np.allclose(wrong.posterior(x[0]), brute_force(hmm, x[0])[1][4], atol=1e-3)


def test_long_sequence_no_underflow():
    hmm = HMM.random(4, 10, np.random.default_rng(2))
    x = hmm.sample(3, 3000, np.random.default_rng(3))
    post = hmm.posterior(x)
    assert np.all(np.isfinite(post)) and np.allclose(post.sum(1), 1)
    ll = hmm.log_likelihood(x)
    assert np.all(np.isfinite(ll)) and np.all(ll < -1000)


def test_enumerate_contexts(hmm):
    for L in (0, 1, 3):
        c = hmm.enumerate_contexts(L)
        assert c.contexts.shape == (hmm.V ** L, L)
        assert abs(c.probs.sum() - 1) < 1e-12
        np.testing.assert_allclose(c.next_token.sum(1), 1, atol=1e-12)
    c = hmm.enumerate_contexts(3)
    stat = hmm.stationary()
    np.testing.assert_allclose(stat @ hmm.A, stat, atol=1e-12)
    np.testing.assert_allclose(c.next_token, hmm.predictive(c.contexts, initial="stationary"), atol=1e-12)
    np.testing.assert_allclose(c.posterior, hmm.posterior(c.contexts, initial=stat), atol=1e-12)
    np.testing.assert_allclose(np.exp(hmm.log_likelihood(c.contexts, initial=stat)), c.probs, rtol=1e-12)
    total, _, nxt = brute_force(hmm, c.contexts[17], initial=stat)
    assert abs(total - c.probs[17]) < 1e-14
    np.testing.assert_allclose(c.next_token[17], nxt, atol=1e-12)
    # stationarity: the marginal of the last token equals B pi_stat
    last = np.zeros(hmm.V)
    np.add.at(last, c.contexts[:, -1], c.probs)
    np.testing.assert_allclose(last, hmm.B @ stat, atol=1e-12)
    with pytest.raises(ValueError, match="L"):
        hmm.enumerate_contexts(-1)


def test_enumerate_drops_zero_probability():
    B = np.array([[1.0, 0.0], [0.0, 0.5], [0.0, 0.5]])
    hmm = HMM(None, np.array([[0.0, 1.0], [1.0, 0.0]]) * 0.5 + 0.25, B)
    c = hmm.enumerate_contexts(2)
    assert np.all(c.probs > 0) and abs(c.probs.sum() - 1) < 1e-12
    assert len(c.probs) == 9  # all contexts have positive probability here
    hmm2 = HMM(None, np.array([[0.0, 1.0], [1.0, 0.0]]), B)
    c2 = hmm2.enumerate_contexts(2)
    assert len(c2.probs) < 9 and abs(c2.probs.sum() - 1) < 1e-12
    with pytest.raises(ValueError, match="probability zero"):
        hmm2.posterior([0, 0])


def test_sampling_frequencies(hmm):
    rng = np.random.default_rng(4)
    n, L = 40000, 2
    x, h = hmm.sample(n, L, rng, return_states=True)
    assert x.shape == (n, L) and h.shape == (n, L) and x.dtype.kind == "i"
    c = hmm.enumerate_contexts(L, initial=None)  # the chain of the sampler (started at pi)
    counts = np.bincount(x[:, 0] * hmm.V + x[:, 1], minlength=hmm.V ** L)
    se = np.sqrt(c.probs * (1 - c.probs) / n)
    z = (counts / n - c.probs) / se
    assert np.max(np.abs(z)) < 3  # every one of the 16 cells within 3 s.e. (fixed seed)
    freq_h0 = np.bincount(h[:, 0], minlength=hmm.m) / n
    assert np.all(np.abs(freq_h0 - hmm.pi) < 3 * np.sqrt(hmm.pi * (1 - hmm.pi) / n) + 1e-12)
    # a wrong probability table must be rejected by the same check
    zw = (counts / n - c.probs[::-1]) / se[::-1]
    assert np.max(np.abs(zw)) > 3


def test_forward_torch_matches_numpy(hmm):
    torch = pytest.importorskip("torch")
    x = hmm.sample(50, 20, np.random.default_rng(5))
    post, ll = hmm.forward_torch(x)
    np.testing.assert_allclose(post.numpy(), hmm.posterior(x), atol=1e-12)
    np.testing.assert_allclose(ll.numpy(), hmm.log_likelihood(x), rtol=1e-12)
    post2, _ = hmm.forward_torch(torch.as_tensor(x), initial="stationary")
    np.testing.assert_allclose(post2.numpy(), hmm.posterior(x, initial="stationary"), atol=1e-12)


def test_random_and_tie(hmm):
    h = HMM.random(4, 6, 0)
    assert h.emission_rank() == 4
    np.testing.assert_allclose(h.pi, h.stationary())
    u = h.with_initial(np.full(4, 0.25))
    assert np.allclose(u.pi, 0.25) and np.array_equal(u.A, h.A) and np.array_equal(u.B, h.B)
    t = h.tie_emissions(0, 1)
    assert t.emission_rank() == 3 and np.array_equal(t.B[:, 0], t.B[:, 1])
    with pytest.raises(ValueError, match="tied"):
        h.tie_emissions(1, 1)


def test_bad_input():
    A = np.array([[0.9, 0.1], [0.2, 0.8]])
    B = np.array([[0.5, 0.1], [0.5, 0.9]])
    pi = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match="A"):
        HMM(pi, np.array([[0.9, 0.2], [0.2, 0.8]]), B)  # a row not summing to 1
    with pytest.raises(ValueError, match="B"):
        HMM(pi, A, np.array([[0.5, 0.1], [0.6, 0.9]]))  # a column not summing to 1
    with pytest.raises(ValueError, match="pi"):
        HMM(np.array([0.6, 0.5]), A, B)
    with pytest.raises(ValueError, match="A"):
        HMM(pi, np.array([[1.1, -0.1], [0.2, 0.8]]), B)  # negative entry
    with pytest.raises(ValueError, match="B"):
        HMM(pi, A, np.array([[1.2, 0.1], [-0.2, 0.9]]))
    with pytest.raises(ValueError, match="A"):
        HMM(pi, np.ones((2, 3)) / 3, B)  # not square
    with pytest.raises(ValueError, match="B"):
        HMM(pi, A, np.ones((3, 3)) / 3)  # wrong number of columns
    with pytest.raises(ValueError, match="pi"):
        HMM(np.ones(3) / 3, A, B)
    with pytest.raises(ValueError, match="reducible"):
        HMM(None, np.eye(2), B)
    hmm = HMM(pi, A, B)
    with pytest.raises(ValueError, match="x"):
        hmm.posterior([0, 2])
    with pytest.raises(TypeError, match="x"):
        hmm.posterior([0.5, 1.0])
    with pytest.raises(ValueError, match="n"):
        hmm.sample(0, 3)
    with pytest.raises(ValueError, match="initial"):
        hmm.posterior([0, 1], initial=np.array([0.2, 0.2]))
    with pytest.raises(ValueError, match="m"):
        HMM.random(0, 3)
