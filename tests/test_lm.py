"""Tests of sslbook.lm: the softmax LM, its trainer, feature extractors, exact probes and the prompt language."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax

from sslbook import data, lm, losses, train


@pytest.fixture(scope="module")
def language():
    spec = data.prompt_hmm(2, 3, np.random.default_rng(0), prompt_rate=0.3)
    hmm = data.HMM(spec.pi, spec.A, spec.B)
    enum = hmm.enumerate_contexts(2)
    return spec, hmm, enum


def test_prompt_hmm_structure(language):
    spec, hmm, enum = language
    assert spec.vocab == 6 and spec.prompt == 5 and spec.class_words == (3, 4)
    np.testing.assert_allclose(spec.A.sum(axis=1), 1.0)
    np.testing.assert_allclose(spec.B.sum(axis=0), 1.0)
    np.testing.assert_allclose(spec.A.T @ spec.pi, spec.pi, atol=1e-12)
    assert np.all(enum.next_token > 0) and len(enum.probs) == 36
    # after the prompt the class word of the base state is most likely
    m = spec.base_class.size
    for h in range(m):
        answer = spec.B[:, 2 * m + h]
        assert np.argmax(answer) == spec.class_words[spec.base_class[h]]


def test_hidden_class_task(language):
    spec, hmm, enum = language
    C, post, pL = enum.contexts, enum.posterior, enum.probs
    plain = data.hidden_class_task(spec, C, post, pL, prompt=False)
    regular = np.all(C < spec.n_regular, axis=1)
    np.testing.assert_allclose(plain.p_task, np.where(regular, pL, 0) / pL[regular].sum())
    # q_pos by brute force: P(class of H_{L+1} = 1 | s) from the joint over hidden paths
    s = int(np.flatnonzero(regular)[0])
    x = C[s]
    n = spec.A.shape[0]
    joint = np.zeros(n)
    for h1 in range(n):
        for h2 in range(n):
            w = spec.pi[h1] * spec.B[x[0], h1] * spec.A[h1, h2] * spec.B[x[1], h2]
            joint += w * spec.A[h2]
    assert plain.q_pos[s] == pytest.approx(joint @ spec.state_class / joint.sum(), abs=1e-12)
    prompted = data.hidden_class_task(spec, C, post, pL, prompt=True)
    assert prompted.p_task.sum() == pytest.approx(1.0)
    assert np.all(C[prompted.p_task > 0][:, -1] == spec.prompt)
    # pushing forward keeps the label mass
    assert prompted.p_task @ prompted.q_pos == pytest.approx(plain.p_task @ plain.q_pos, abs=1e-12)


def test_lm_batches_frequencies(language):
    _, _, enum = language
    sample = train.lm_batches(enum.contexts, enum.probs, enum.next_token, batch_size=20000, rng=1)
    ctx, words = sample(0)
    assert ctx.shape == (20000, 2) and words.shape == (20000,)
    idx = ctx[:, 0] * 6 + ctx[:, 1]
    freq = np.bincount(idx, minlength=36) / 20000
    assert np.max(np.abs(freq - enum.probs)) < 4 * np.sqrt(0.25 / 20000) + 1e-3
    s = int(np.argmax(enum.probs))
    wf = np.bincount(words[idx == s], minlength=6) / np.sum(idx == s)
    assert np.max(np.abs(wf - enum.next_token[s])) < 0.06


def test_softmax_lm_forward_tabular_and_mlp():
    torch.manual_seed(0)
    for encoder in ("tabular", "mlp"):
        model = lm.SoftmaxLM(4, 2, 3, encoder=encoder)
        x = torch.tensor([[0, 1], [3, 2], [0, 1]])
        z = model(x)
        assert z.shape == (3, 4)
        torch.testing.assert_close(z, model.features(x) @ model.Phi)
        torch.testing.assert_close(z[0], z[2])
    tab = lm.SoftmaxLM(4, 2, 3, encoder="tabular")
    torch.testing.assert_close(tab.features(torch.tensor([[3, 2]]))[0], tab.table.weight[3 * 4 + 2])


def test_lm_outputs_and_features():
    torch.manual_seed(1)
    model = lm.SoftmaxLM(5, 2, 3)
    C = np.array([[0, 1], [4, 4], [2, 3]])
    out = lm.outputs(model, C)
    with torch.no_grad():
        F = model.features(torch.as_tensor(C)).double().numpy()
    np.testing.assert_allclose(out.features, F, atol=1e-6)
    P = softmax(F @ out.Phi, axis=1)
    np.testing.assert_allclose(lm.features(out, "probs"), P, atol=1e-6)
    np.testing.assert_allclose(lm.features(out, "conditional_mean"),
                               np.stack([sum(P[s, w] * out.Phi[:, w] for w in range(5)) for s in range(3)]),
                               atol=1e-6)
    np.testing.assert_allclose(lm.features(out, "word_logits", [1, 4]), (F @ out.Phi)[:, [1, 4]], atol=1e-6)
    np.testing.assert_allclose(lm.features(out, "word_probs", [2]), P[:, [2]], atol=1e-6)
    with pytest.raises(ValueError, match="words"):
        lm.features(out, "word_probs")
    with pytest.raises(ValueError, match="words"):
        lm.features(out, "word_logits", [7])
    with pytest.raises(ValueError, match="kind"):
        lm.features(out, "hidden")


def test_logistic_probe_matches_loop_and_sklearn_free_minimum():
    rng = np.random.default_rng(2)
    G = rng.standard_normal((12, 2))
    pt = rng.dirichlet(np.ones(12))
    q = rng.uniform(size=12)
    u = np.array([0.7, -1.2])
    loss = sum(pt[s] * (q[s] * np.log1p(np.exp(-G[s] @ u)) + (1 - q[s]) * np.log1p(np.exp(G[s] @ u)))
               for s in range(12))
    res = lm.logistic_probe(G, pt, q, u=u)
    assert res.loss == pytest.approx(loss, abs=1e-12)
    acc = sum(pt[s] * (q[s] if G[s] @ u > 0 else 1 - q[s]) for s in range(12))
    assert res.accuracy == pytest.approx(acc, abs=1e-12)
    best = lm.logistic_probe(G, pt, q, intercept=True)
    # first-order optimality of the minimiser (gradient of the exact loss)
    X = np.hstack([G, np.ones((12, 1))])
    grad = X.T @ (pt * (expit(X @ np.append(best.u, best.b)) - q))
    assert np.abs(grad).max() < 1e-6
    assert best.loss <= lm.logistic_probe(G, pt, q, u=np.append(u, 0.0), intercept=True).loss
    assert lm.logistic_probe(G, pt, q, u=np.zeros(2)).loss == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="q_pos"):
        lm.logistic_probe(G, pt, q + 1)
    with pytest.raises(ValueError, match="p_task"):
        lm.logistic_probe(G, pt * 2, q)
    with pytest.raises(ValueError, match="u"):
        lm.logistic_probe(G, pt, q, u=np.ones(3))


def test_train_lm_reduces_loss_and_checkpoints(language):
    spec, _, enum = language
    torch.manual_seed(0)
    model = lm.SoftmaxLM(spec.vocab, 2, 3)
    batches = train.lm_batches(enum.contexts, enum.probs, enum.next_token, batch_size=128, rng=0)
    C = torch.as_tensor(enum.contexts)
    P = torch.as_tensor(enum.next_token, dtype=torch.float32)
    W = torch.as_tensor(enum.probs, dtype=torch.float32)

    def population(net, step):
        return losses.xent_lm(net(C), P, weight=W).item()

    hist = train.train_lm(model, batches, steps=150, lr=1e-2, checkpoints=[0, 150], callback=population,
                       progress=False)
    (s0, l0), (s1, l1) = hist.extra["checkpoints"]
    assert (s0, s1) == (0, 150) and l1 < l0 - 0.1
    assert hist.extra["loss"] == "xent" and len(hist.loss) == 150
    # the Quad trainer with exact full batches decreases the population Quad loss
    quad_model = lm.SoftmaxLM(spec.vocab, 2, 3, encoder="tabular")
    hq = train.train_lm(quad_model, lambda step: (enum.contexts, enum.next_token, enum.probs), steps=100,
                     loss="quad", lr=0.05, progress=False)
    assert hq.loss[-1] < hq.loss[0]


def test_bad_input(language):
    spec, _, enum = language
    with pytest.raises(ValueError, match="encoder"):
        lm.SoftmaxLM(4, 2, 3, encoder="rnn")
    with pytest.raises(ValueError, match="vocab"):
        lm.SoftmaxLM(1, 2, 3)
    model = lm.SoftmaxLM(spec.vocab, 2, 3)
    with pytest.raises(ValueError, match="contexts"):
        model(torch.zeros(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="loss"):
        train.train_lm(model, lambda s: None, steps=1, loss="mse")
    with pytest.raises(TypeError, match="callback"):
        train.train_lm(model, lambda s: None, steps=1, checkpoints=[1])
    with pytest.raises(ValueError, match="n_states"):
        data.prompt_hmm(3, 4, 0)
    with pytest.raises(ValueError, match="p_context"):
        train.lm_batches(enum.contexts, enum.probs * 2, enum.next_token, batch_size=4)
    with pytest.raises(TypeError, match="spec"):
        data.hidden_class_task(None, enum.contexts, enum.posterior, enum.probs, prompt=True)


def test_data_does_not_import_the_learning_layer():
    """Layers: sslbook.data imports only theory and _validation (never train, lm or models)."""
    import ast
    from pathlib import Path

    root = Path(data.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                for banned in ("sslbook.train", "sslbook.lm", "sslbook.models", "sslbook.probes"):
                    assert not (name == banned or name.startswith(banned + ".")), f"{path.name} imports {name}"
