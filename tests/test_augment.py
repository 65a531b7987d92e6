"""Tests of sslbook.augment: shifts, resized crops, noise and composition against direct loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslbook.augment import Compose, GaussianNoise, RandomResizedCrop, RandomShift, two_views


def _images(B=6, H=5, W=4, seed=0):
    return torch.rand(B, H * W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_shift_matches_loop_for_the_drawn_offsets():
    x = _images()
    aug = RandomShift(2, image_shape=(5, 4), fill=-1.0)
    out = aug(x, torch.Generator().manual_seed(3)).reshape(6, 5, 4)
    offsets = torch.randint(0, 5, (6, 2), generator=torch.Generator().manual_seed(3)) - 2
    img = x.reshape(6, 5, 4)
    for b in range(6):
        dr, dc = offsets[b].tolist()
        for r in range(5):
            for c in range(4):
                inside = 0 <= r - dr < 5 and 0 <= c - dc < 4
                expected = img[b, r - dr, c - dc].item() if inside else -1.0
                assert out[b, r, c].item() == expected
    # a wrong sign of the offsets gives other images (unless every offset is zero)
    assert (offsets != 0).any()


def test_shift_zero_is_identity_and_3d_input_keeps_shape():
    x = _images()
    assert torch.equal(RandomShift(0, image_shape=(5, 4))(x, torch.Generator().manual_seed(0)), x)
    x3 = x.reshape(6, 5, 4)
    assert RandomShift(1, image_shape=(5, 4))(x3).shape == (6, 5, 4)


def test_every_offset_occurs_uniformly():
    x = torch.zeros(4000, 9, dtype=torch.float64)
    x[:, 4] = 1.0  # one bright centre pixel of a 3x3 image
    out = RandomShift(1, image_shape=(3, 3))(x, torch.Generator().manual_seed(1))
    where = out.argmax(dim=1).numpy()
    counts = np.bincount(where, minlength=9)
    assert out.sum(dim=1).eq(1).all()  # the pixel never leaves a 3x3 image for shifts of 1
    expected = 4000 / 9
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_crop_full_scale_is_identity_and_small_crop_interpolates():
    x = _images(H=8, W=8)
    out = RandomResizedCrop((1.0, 1.0), image_shape=(8, 8))(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x, rtol=0, atol=1e-12)
    # a constant image stays constant; values stay within the input range
    c = torch.full((3, 64), 0.3, dtype=torch.float64)
    torch.testing.assert_close(RandomResizedCrop((0.3, 0.5))(c), c)
    y = RandomResizedCrop((0.3, 0.5))(x, torch.Generator().manual_seed(0))
    assert y.min() >= x.min() - 1e-12 and y.max() <= x.max() + 1e-12
    assert not torch.allclose(y, x)


def test_crop_of_linear_ramp_is_the_affine_map():
    # bilinear resampling reproduces a linear image exactly: the crop of the ramp r(i,j) = j is an affine ramp
    H = W = 8
    ramp = torch.arange(W, dtype=torch.float64).repeat(H, 1).reshape(1, -1).repeat(5, 1)
    out = RandomResizedCrop((0.25, 0.6), image_shape=(H, W))(ramp, torch.Generator().manual_seed(2)).reshape(5, H, W)
    for b in range(5):
        rows = out[b]
        assert torch.allclose(rows, rows[0].expand(H, W))  # constant along columns
        d = torch.diff(rows[0])
        assert torch.allclose(d, d[0].expand_as(d)) and 0 < d[0] < 1  # zoomed in: slope below 1


def test_noise_moments_and_seeding():
    x = torch.zeros(20000, 4, dtype=torch.float64)
    out = GaussianNoise(0.3)(x, torch.Generator().manual_seed(0))
    assert abs(out.mean().item()) < 3 * 0.3 / np.sqrt(out.numel())
    assert abs(out.std().item() - 0.3) < 0.01
    again = GaussianNoise(0.3)(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert torch.equal(GaussianNoise(0.0)(x), x)


def test_compose_applies_in_order_from_one_generator():
    x = _images(H=8, W=8)
    shift, noise = RandomShift(1), GaussianNoise(0.1)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    out = Compose(shift, noise)(x, g1)
    expected = noise(shift(x, g2), g2)
    assert torch.equal(out, expected)
    a, b = two_views(x, Compose(shift, noise), torch.Generator().manual_seed(0))
    assert a.shape == b.shape == x.shape and not torch.equal(a, b)
    assert "RandomShift" in repr(Compose(shift, noise))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_with_cpu_generator_equals_cpu():
    x = _images(H=8, W=8)
    aug = Compose(RandomResizedCrop(), RandomShift(1), GaussianNoise(0.1))
    out_cpu = aug(x, torch.Generator().manual_seed(0))
    out_gpu = aug(x.cuda(), torch.Generator().manual_seed(0))
    assert out_gpu.device.type == "cuda"
    torch.testing.assert_close(out_gpu.cpu(), out_cpu)
    assert aug(x.cuda(), torch.Generator(device="cuda").manual_seed(0)).device.type == "cuda"


def test_bad_input():
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(-1)
    with pytest.raises(TypeError, match="max_shift"):
        RandomShift(1.5)
    with pytest.raises(ValueError, match="image_shape"):
        RandomShift(1, image_shape=(8,))
    with pytest.raises(ValueError, match="scale"):
        RandomResizedCrop((0.8, 0.5))
    with pytest.raises(ValueError, match="scale"):
        RandomResizedCrop((0.0, 0.5))
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="x"):
        RandomShift(1)(torch.zeros(3, 10))
    with pytest.raises(ValueError, match="x"):
        RandomShift(1)(torch.zeros(3, 7, 8))
    with pytest.raises(TypeError, match="x"):
        RandomShift(1)(np.zeros((3, 64)))
    with pytest.raises(TypeError, match="x"):
        GaussianNoise(0.1)(torch.zeros(3, 64, dtype=torch.long))
    with pytest.raises(TypeError, match="generator"):
        RandomShift(1)(torch.zeros(3, 64), generator=0)
    with pytest.raises(ValueError, match="transforms"):
        Compose()
    with pytest.raises(TypeError, match="transforms"):
        Compose(RandomShift(1), 3)
    with pytest.raises(TypeError, match="augment"):
        two_views(torch.zeros(3, 64), None)
