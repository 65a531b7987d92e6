"""Tests of sslbook.losses.spectral_contrastive (the batch spectral contrastive loss of HaoChen et al.)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslbook.losses import spectral_contrastive


def _pairs(B=6, k=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, k, generator=g, dtype=dtype), torch.randn(B, k, generator=g, dtype=dtype)


def _double_loop(z, zp):
    B = z.shape[0]
    pos = sum(float(z[i] @ zp[i]) for i in range(B)) / B
    neg = sum(float(z[i] @ zp[j]) ** 2 for i in range(B) for j in range(B) if i != j) / (B * (B - 1))
    return -2.0 * pos + neg


@pytest.mark.parametrize("B,k,seed", [(2, 1, 0), (5, 3, 1), (9, 4, 2)])
def test_matches_double_loop(B, k, seed):
    z, zp = _pairs(B, k, seed)
    out = spectral_contrastive(z, zp)
    assert out.ndim == 0
    assert out.item() == pytest.approx(_double_loop(z, zp), abs=1e-12)


def test_wrong_formula_detected():
    # a deliberately wrong reference (diagonal kept in the negative term) differs: the test above can fail
    z, zp = _pairs(5, 3, 1)
    wrong = -2.0 * float((z * zp).sum(1).mean()) + float(((z @ zp.T) ** 2).mean())
    assert abs(spectral_contrastive(z, zp).item() - wrong) > 1e-3


def test_gradcheck_float64():
    z, zp = _pairs(4, 2, 3)
    z.requires_grad_(True)
    zp.requires_grad_(True)
    assert torch.autograd.gradcheck(spectral_contrastive, (z, zp), eps=1e-6, atol=1e-8)


def test_unbiased_for_population_loss():
    # finite graph: population loss by enumeration vs the mean of many batch estimates
    rng = np.random.default_rng(0)
    n, k = 4, 2
    W = rng.random((n, n))
    W = (W + W.T) / W.sum() / 2  # symmetric joint of a positive pair
    w = W.sum(1)
    f = rng.standard_normal((n, k))
    G = f @ f.T
    pop = -2.0 * np.sum(W * G) + np.sum(np.outer(w, w) * G**2)
    B, reps = 8, 4000
    flat = W.ravel() / W.sum()
    idx = rng.choice(n * n, size=(reps, B), p=flat)
    a, b = idx // n, idx % n
    ft = torch.as_tensor(f)
    est = np.array([spectral_contrastive(ft[a[r]], ft[b[r]]).item() for r in range(reps)])
    se = est.std(ddof=1) / np.sqrt(reps)
    assert abs(est.mean() - pop) < 4 * se


def test_float32_runs():
    z, zp = _pairs(4, 2, 0, dtype=torch.float32)
    assert spectral_contrastive(z, zp).dtype == torch.float32


def test_bad_input():
    z, zp = _pairs(4, 2)
    with pytest.raises(TypeError, match="z"):
        spectral_contrastive(z.numpy(), zp)
    with pytest.raises(ValueError, match="z_pos"):
        spectral_contrastive(z, zp[:3])
    with pytest.raises(ValueError, match="z"):
        spectral_contrastive(z[0], zp[0])
    with pytest.raises(ValueError, match="at least 2"):
        spectral_contrastive(z[:1], zp[:1])
    with pytest.raises(TypeError, match="z_pos"):
        spectral_contrastive(z, zp.long())


# ----------------------------------------------------------------------------------------------------
# sslbook.train.train_spectral
# ----------------------------------------------------------------------------------------------------


def test_train_spectral_reaches_closed_form():
    from sslbook.data import AugmentationGraph
    from sslbook.theory import spectral_closed_form, spectral_loss
    from sslbook.train import train_spectral

    g = AugmentationGraph.planted_classes(2, natural_per_class=4, aug_per_class=4, aug_per_input=2, rng=0)
    torch.manual_seed(0)
    emb = torch.nn.Embedding(g.n_aug, 2)
    torch.nn.init.normal_(emb.weight, std=0.1)
    hist = train_spectral(emb, g, steps=200, final_steps=100, batch_size=128, lr=0.05, rng=0, progress=False)
    assert hist.loss.shape == (300,) and hist.extra["phase_steps"] == (200, 100)
    f = emb.weight.detach().double().numpy()
    best = spectral_closed_form(g, 2).value
    assert best - 1e-12 <= spectral_loss(g, f) <= best * (1 - 0.02)
    # the same run through an MLP on one-hot inputs
    mlp = torch.nn.Sequential(torch.nn.Linear(g.n_aug, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    train_spectral(mlp, g, steps=20, batch_size=32, inputs=np.eye(g.n_aug), rng=1, progress=False)


def test_train_spectral_bad_input():
    from sslbook.data import AugmentationGraph
    from sslbook.train import train_spectral

    g = AugmentationGraph.planted_classes(2, natural_per_class=4, aug_per_class=4, aug_per_input=2, rng=0)
    emb = torch.nn.Embedding(g.n_aug, 2)
    with pytest.raises(TypeError, match="graph"):
        train_spectral(emb, g.W, steps=1)
    with pytest.raises(ValueError, match="batch_size"):
        train_spectral(emb, g, steps=1, batch_size=1)
    with pytest.raises(ValueError, match="inputs"):
        train_spectral(emb, g, steps=1, inputs=np.eye(3))
    with pytest.raises(ValueError, match="final_lr"):
        train_spectral(emb, g, steps=1, final_lr=-1.0)


def test_spectral_batch_losses_mean_is_population_loss():
    from sslbook.data import AugmentationGraph
    from sslbook.theory import spectral_loss
    from sslbook.train import spectral_batch_losses

    g = AugmentationGraph.planted_classes(2, natural_per_class=4, aug_per_class=4, aug_per_input=2, rng=0)
    f = np.random.default_rng(1).standard_normal((g.n_aug, 3))
    out = spectral_batch_losses(f, g, batches=2000, batch_size=16, rng=2)
    assert out.shape == (2000,)
    se = out.std(ddof=1) / np.sqrt(out.size)
    assert abs(out.mean() - spectral_loss(g, f)) < 4 * se
    assert abs(out.mean() - (spectral_loss(g, f) + 0.2)) > 4 * se  # a wrong target is rejected
    with pytest.raises(ValueError, match="f"):
        spectral_batch_losses(f[:3], g, batches=2)
    with pytest.raises(ValueError, match="batches"):
        spectral_batch_losses(f, g, batches=0)
    with pytest.raises(TypeError, match="graph"):
        spectral_batch_losses(f, g.W, batches=2)
