"""Tests of sslbook.losses.info_nce, align and uniform against direct loops of their textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sslbook.losses import align, info_nce, uniform


def _pair(B=5, d=3, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    z1 = scale * torch.randn(B, d, generator=g, dtype=torch.float64)
    z2 = scale * torch.randn(B, d, generator=g, dtype=torch.float64)
    return z1, z2


def _info_nce_loop(z1, z2, tau, normalize=True):
    """NT-Xent written out: anchor a, positive a +- B, the 2B - 2 other rows are negatives."""
    u = torch.cat([z1, z2])
    if normalize:
        u = u / u.norm(dim=1, keepdim=True)
    n, B = u.shape[0], u.shape[0] // 2
    total = 0.0
    for a in range(n):
        p = (a + B) % n
        negatives = [b for b in range(n) if b not in (a, p)]
        assert len(negatives) == 2 * B - 2
        pos = math.exp(float(u[a] @ u[p]) / tau)
        neg = sum(math.exp(float(u[a] @ u[b]) / tau) for b in negatives)
        total += -math.log(pos / (pos + neg))
    return total / n


def _uniform_loop(z, t):
    B = z.shape[0]
    vals = [math.exp(-t * float(((z[i] - z[j]) ** 2).sum())) for i in range(B) for j in range(i + 1, B)]
    return math.log(sum(vals) / len(vals))


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("normalize", [True, False])
def test_info_nce_matches_loop(tau, normalize):
    z1, z2 = _pair(scale=0.7)
    assert info_nce(z1, z2, temperature=tau, normalize=normalize).item() == pytest.approx(
        _info_nce_loop(z1, z2, tau, normalize), rel=1e-10)
    # a wrong formula (positive counted among the negatives only once per direction) differs
    assert abs(info_nce(z1, z2, temperature=tau).item() - _info_nce_loop(z1, z1, tau)) > 1e-3


def test_info_nce_is_symmetric_and_bounded():
    z1, z2 = _pair(B=6, d=4, seed=1)
    tau = 0.3
    val = info_nce(z1, z2, temperature=tau).item()
    assert val == pytest.approx(info_nce(z2, z1, temperature=tau).item(), rel=1e-12)
    assert math.log(11) - 2 / tau <= val <= math.log(11) + 2 / tau
    # identical, well-separated views give a loss close to log(1 + (2B-2) e^{-1/tau}) for orthonormal rows
    e = torch.eye(6, dtype=torch.float64)
    expected = math.log(1 + 10 * math.exp(-1 / tau))
    assert info_nce(e, e, temperature=tau).item() == pytest.approx(expected, rel=1e-12)


def test_info_nce_stable_at_small_temperature():
    z1, z2 = _pair(B=4, d=3, seed=2)
    val = info_nce(z1, z2, temperature=1e-4)
    assert torch.isfinite(val)
    z1n = z1 / z1.norm(dim=1, keepdim=True)
    assert val.item() > 0
    e = torch.eye(4, dtype=torch.float64)
    assert info_nce(e, e, temperature=1e-3).item() == pytest.approx(0.0, abs=1e-300)
    assert torch.isfinite(info_nce(z1n, -z1n, temperature=1e-4))


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0])
def test_align_matches_loop(alpha):
    z1, z2 = _pair()
    expected = sum(float(((z1[i] - z2[i]) ** 2).sum()) ** (alpha / 2) for i in range(5)) / 5
    assert align(z1, z2, alpha=alpha).item() == pytest.approx(expected, rel=1e-12)
    assert align(z1, z1, alpha=alpha).item() == 0.0


@pytest.mark.parametrize("t", [0.5, 2.0, 5.0])
def test_uniform_matches_loop(t):
    z1, _ = _pair(B=6, d=3, seed=3)
    assert uniform(z1, t=t).item() == pytest.approx(_uniform_loop(z1, t), rel=1e-10)
    # a wrong average (over all ordered pairs including i = j) gives another number
    B = 6
    wrong = math.log((math.exp(_uniform_loop(z1, t)) * B * (B - 1) + B) / B**2)
    assert abs(uniform(z1, t=t).item() - wrong) > 1e-3


def test_uniform_stable_for_far_points():
    z = torch.tensor([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]], dtype=torch.float64)
    expected = -2 * 1e4 + math.log((2 + math.exp(-2 * 1e4)) / 3)  # logsumexp of -2*1e4, -2*1e4, -4*1e4
    assert uniform(z, t=2).item() == pytest.approx(expected, rel=1e-12)
    assert uniform(torch.zeros(3, 2)).item() == pytest.approx(0.0, abs=1e-6)  # log(3) - log(3) in float32


def test_gradcheck_float64():
    z1, z2 = _pair(B=4, d=3, seed=4)
    z1.requires_grad_(True)
    z2.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: info_nce(a, b, temperature=0.4), (z1, z2))
    assert torch.autograd.gradcheck(lambda a, b: info_nce(a, b, temperature=0.4, normalize=False), (z1, z2))
    assert torch.autograd.gradcheck(lambda a, b: align(a, b), (z1, z2))
    assert torch.autograd.gradcheck(lambda a, b: align(a, b, alpha=3), (z1, z2))
    assert torch.autograd.gradcheck(lambda a: uniform(a, t=2), (z1,))


def test_float32_agrees_with_float64():
    z1, z2 = _pair(B=16, d=8, seed=5)
    for f in (lambda a, b: info_nce(a, b, temperature=0.2), align, lambda a, b: uniform(a)):
        assert f(z1.float(), z2.float()).item() == pytest.approx(f(z1, z2).item(), rel=1e-5, abs=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    z1, z2 = _pair(B=16, d=8, seed=6)
    for f in (lambda a, b: info_nce(a, b, temperature=0.2), align, lambda a, b: uniform(a)):
        assert f(z1.cuda(), z2.cuda()).item() == pytest.approx(f(z1, z2).item(), rel=1e-10)


def test_bad_input():
    z1, z2 = _pair()
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature"):
            info_nce(z1, z2, temperature=bad)
    with pytest.raises(ValueError, match="alpha"):
        align(z1, z2, alpha=0)
    with pytest.raises(ValueError, match="t must"):
        uniform(z1, t=-1)
    with pytest.raises(ValueError, match="z2"):
        info_nce(z1, z2[:3], temperature=0.5)
    with pytest.raises(ValueError, match="z2"):
        align(z1, z2[:, :2])
    with pytest.raises(ValueError, match="z1"):
        info_nce(z1[:1], z2[:1], temperature=0.5)
    with pytest.raises(ValueError, match="z"):
        uniform(z1[:1])
    with pytest.raises(ValueError, match="z1"):
        info_nce(z1[0], z2[0], temperature=0.5)
    with pytest.raises(TypeError, match="z1"):
        info_nce(z1.numpy(), z2, temperature=0.5)
    with pytest.raises(TypeError, match="z"):
        uniform(torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="temperature"):
        info_nce(z1, z2, temperature="0.5")


# ----------------------------------------------------------------------------------------------------
# train_views (sslbook.train): two-view training with these losses
# ----------------------------------------------------------------------------------------------------


def _tiny_views_setup():
    from sslbook.augment import Compose, GaussianNoise, RandomShift
    from sslbook.models import MLPEncoder

    X = torch.rand(40, 16, generator=torch.Generator().manual_seed(0)).numpy()
    torch.manual_seed(0)
    return X, MLPEncoder(16, 32, 4), Compose(RandomShift(1, image_shape=(4, 4)), GaussianNoise(0.05))


@pytest.mark.parametrize("loss", ["info_nce", "align_uniform"])
def test_train_views_records_alignment_and_uniformity(loss):
    from sslbook.train import train_views

    X, net, aug = _tiny_views_setup()
    h = train_views(net, X, aug, loss=loss, steps=40, batch_size=16, lr=1e-2, seed=1, device="cpu", progress=False)
    assert h.loss.shape == h.extra["align"].shape == h.extra["uniform"].shape == (40,)
    assert np.all(h.extra["align"] >= 0) and np.all(h.extra["align"] <= 4)
    assert np.all(h.extra["uniform"] <= 0) and np.all(h.extra["uniform"] >= -8)  # t = 2, |u - v|^2 <= 4
    assert h.loss[-10:].mean() < h.loss[:10].mean()
    # the same seed gives the same run
    X, net2, aug = _tiny_views_setup()
    h2 = train_views(net2, X, aug, loss=loss, steps=40, batch_size=16, lr=1e-2, seed=1, device="cpu",
                     progress=False)
    np.testing.assert_allclose(h2.loss, h.loss, rtol=1e-5)


def test_train_views_callable_loss_and_bad_input():
    from sslbook.train import train_views

    X, net, aug = _tiny_views_setup()
    h = train_views(net, X, aug, loss=lambda a, b: align(a, b) + uniform(a), steps=3, batch_size=8,
                    device="cpu", progress=False)
    assert h.extra["loss"] == "callable"
    with pytest.raises(ValueError, match="loss"):
        train_views(net, X, aug, loss="nce", steps=3)
    with pytest.raises(ValueError, match="batch_size"):
        train_views(net, X, aug, steps=3, batch_size=41)
    with pytest.raises(ValueError, match="temperature"):
        train_views(net, X, aug, steps=3, temperature=0.0)
    with pytest.raises(TypeError, match="augment"):
        train_views(net, X, None, steps=3)
    with pytest.raises(TypeError, match="model"):
        train_views(None, X, aug, steps=3)
