"""Tests of sslbook.losses (CURL contrastive losses in torch) and of sslbook.train.train_contrastive."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sslbook import models
from sslbook.losses import contrastive_hinge, contrastive_logistic2, contrastive_margins
from sslbook.theory import hinge_loss, logistic2_loss
from sslbook.train import History, train_contrastive

LOSSES = [(contrastive_hinge, hinge_loss), (contrastive_logistic2, logistic2_loss)]


def _features(B=7, k=3, d=4, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    a = scale * torch.randn(B, d, generator=g, dtype=torch.float64)
    p = scale * torch.randn(B, d, generator=g, dtype=torch.float64)
    n = scale * torch.randn(B, k, d, generator=g, dtype=torch.float64)
    return a, p, n


# ----------------------------------------------------------------------------------------------------
# margins and losses
# ----------------------------------------------------------------------------------------------------


def test_margins_match_loops():
    a, p, n = _features()
    v = contrastive_margins(a, p, n)
    assert v.shape == (7, 3)
    for b in range(7):
        for i in range(3):
            assert v[b, i].item() == pytest.approx(float(a[b] @ (p[b] - n[b, i])), abs=1e-12)


def test_two_dim_negatives_mean_k_equals_one():
    a, p, n = _features(k=1)
    np.testing.assert_allclose(contrastive_margins(a, p, n[:, 0]).numpy(), contrastive_margins(a, p, n).numpy())


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("torch_loss, numpy_loss", LOSSES)
def test_losses_equal_numpy_losses_of_the_margins(torch_loss, numpy_loss, k):
    a, p, n = _features(k=k, scale=1.5)
    margins = contrastive_margins(a, p, n).numpy()
    expected = float(np.mean(numpy_loss(margins)))
    assert torch_loss(a, p, n).item() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # a wrong loss (natural log instead of log2, or no clamp at 0) gives another number
    wrong = float(np.mean(np.log1p(np.exp(-margins)).sum(-1))) if numpy_loss is logistic2_loss else float(
        np.mean(1 - margins.min(-1)))
    assert abs(torch_loss(a, p, n).item() - wrong) > 1e-3


@pytest.mark.parametrize("k", [1, 2, 5])
def test_value_at_zero_features(k):
    z = torch.zeros(4, 3)
    zn = torch.zeros(4, k, 3)
    assert contrastive_hinge(z, z, zn).item() == 1.0
    assert contrastive_logistic2(z, z, zn).item() == pytest.approx(math.log2(1 + k), abs=1e-6)


def test_logistic_is_stable_for_large_margins():
    a = torch.tensor([[30.0, 0.0]], dtype=torch.float64)
    p = torch.tensor([[30.0, 0.0]], dtype=torch.float64)
    n = torch.tensor([[[-30.0, 0.0]]], dtype=torch.float64)
    assert contrastive_logistic2(a, p, n).item() == pytest.approx(0.0, abs=1e-300)
    assert contrastive_logistic2(a, -p, -n).item() == pytest.approx(1800 / math.log(2), rel=1e-12)
    assert contrastive_hinge(a, -p, -n).item() == pytest.approx(1801.0)


@pytest.mark.parametrize("torch_loss, numpy_loss", LOSSES)
def test_gradients_flow(torch_loss, numpy_loss):
    a, p, n = (t.clone().requires_grad_(True) for t in _features())
    torch_loss(a, p, n).backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in (a, p, n))


def test_bad_input():
    a, p, n = _features()
    with pytest.raises(TypeError, match="anchor"):
        contrastive_hinge(a.numpy(), p, n)
    with pytest.raises(TypeError, match="positive"):
        contrastive_hinge(a, p.long(), n)
    with pytest.raises(ValueError, match="positive"):
        contrastive_hinge(a, p[:3], n)
    with pytest.raises(ValueError, match="negatives"):
        contrastive_logistic2(a, p, n[:, :, :2])
    with pytest.raises(ValueError, match="negatives"):
        contrastive_logistic2(a, p, n[None])
    with pytest.raises(ValueError, match="anchor"):
        contrastive_margins(a[0], p, n)


# ----------------------------------------------------------------------------------------------------
# train_contrastive
# ----------------------------------------------------------------------------------------------------


def _clustered_triples(rng, n=64, d=6, C=3):
    centres = 2.0 * np.eye(C, d)
    c_pos = rng.integers(0, C, n)
    c_neg = rng.integers(0, C, n)

    def draw(c):
        return centres[c] + 0.1 * rng.standard_normal((len(c), d))

    return draw(c_pos), draw(c_pos), draw(c_neg)[:, None, :]


@pytest.mark.parametrize("loss", ["hinge", "logistic2"])
def test_train_contrastive_lowers_the_loss_and_projects(loss, torch_one_thread):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    batch = _clustered_triples(rng)
    enc = models.LinearEncoder(6, 4, max_fro=2.0)
    hist = train_contrastive(enc, lambda step: batch, steps=60, loss=loss, lr=0.05, progress=False, device="cpu")
    assert isinstance(hist, History) and hist.loss.shape == (60,)
    assert hist.loss[-1] < 0.5 * hist.loss[0]
    assert enc.linear.weight.norm().item() <= 2.0 + 1e-6
    assert hist.extra == {"loss": loss, "radius": None}
    # the recorded loss is the loss of the batch: recompute it at the end with the numpy loss
    with torch.no_grad():
        U = enc.linear.weight.double().numpy()
    a, p, n = (x @ U.T for x in batch)
    v = np.einsum("bd,bd->b", a, p)[:, None] - np.einsum("bd,bkd->bk", a, n)
    ell = hinge_loss if loss == "hinge" else logistic2_loss
    final = float(np.mean(ell(v)))
    assert final <= hist.loss[-1] + 0.05


def test_train_contrastive_radius_and_triples_object(torch_one_thread):
    from sslbook.data import pool_triples

    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 5))
    y = np.arange(30) % 3
    enc = models.MLPEncoder(5, 8, 4)
    seen = {}

    def sample(step):
        seen["step"] = step
        return pool_triples(X, y, 16, k=2, rng=rng)

    hist = train_contrastive(enc, sample, steps=5, radius=2.5, progress=False, device="cpu")
    assert seen["step"] == 4 and hist.extra["radius"] == 2.5
    # with radius R every margin lies in [-2R^2, 2R^2], so the logistic loss is at most log2(1 + k e^{2R^2})
    assert np.all(hist.loss <= math.log2(1 + 2 * math.exp(2 * 2.5**2)))


def test_train_contrastive_restores_threads():
    before = torch.get_num_threads()
    batch = _clustered_triples(np.random.default_rng(2), n=8)
    train_contrastive(models.LinearEncoder(6, 2), lambda s: batch, steps=2, progress=False, device="cpu",
                      cpu_threads=1)
    assert torch.get_num_threads() == before


def test_train_contrastive_bad_input():
    enc = models.LinearEncoder(6, 2)
    batch = _clustered_triples(np.random.default_rng(3), n=8)
    with pytest.raises(ValueError, match="loss"):
        train_contrastive(enc, lambda s: batch, steps=2, loss="infonce", progress=False)
    with pytest.raises(TypeError, match="sample_triples"):
        train_contrastive(enc, batch, steps=2, progress=False)
    with pytest.raises(ValueError, match="radius"):
        train_contrastive(enc, lambda s: batch, steps=2, radius=0.0, progress=False)
    with pytest.raises(ValueError, match="cpu_threads"):
        train_contrastive(enc, lambda s: batch, steps=2, cpu_threads=0, progress=False)
    with pytest.raises(TypeError, match="sample_triples"):
        train_contrastive(enc, lambda s: batch[:2], steps=2, progress=False, device="cpu")
    with pytest.raises(ValueError, match="x_neg"):
        train_contrastive(enc, lambda s: (batch[0], batch[1], batch[2][:4]), steps=2, progress=False,
                          device="cpu")
    with pytest.raises(ValueError, match="x_pos"):
        train_contrastive(enc, lambda s: (batch[0], batch[1][:4], batch[2]), steps=2, progress=False,
                          device="cpu")
    with pytest.raises(ValueError, match="steps"):
        train_contrastive(enc, lambda s: batch, steps=0, progress=False)


def test_train_contrastive_accepts_latent_class_tuples(torch_one_thread):
    from sslbook.data import LatentClassModel

    rng = np.random.default_rng(4)
    lcm = LatentClassModel.random_gaussian(3, 4, rng=rng)
    enc = models.MLPEncoder(4, 8, 3)
    hist = train_contrastive(enc, lambda s: lcm.sample_tuples(16, k_neg=3, rng=rng), steps=3, progress=False,
                             device="cpu")
    assert len(hist.loss) == 3 and np.all(np.isfinite(hist.loss))
    with pytest.raises(ValueError, match="one positive"):
        train_contrastive(enc, lambda s: lcm.sample_tuples(16, block=2, rng=rng), steps=1, progress=False,
                          device="cpu")
