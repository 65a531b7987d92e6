"""Tests of sslbook.models: LinearEncoder, MLPEncoder and encode."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from sslbook.models import LinearEncoder, MLPEncoder, encode

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_linear_encoder_shape_and_linearity():
    torch.manual_seed(0)
    enc = LinearEncoder(5, 3)
    x = torch.randn(7, 5)
    z = enc(x)
    assert z.shape == (7, 3)
    torch.testing.assert_close(z, x @ enc.linear.weight.T)
    assert enc.linear.bias is None
    assert enc.max_fro is None


def test_linear_encoder_project():
    torch.manual_seed(0)
    enc = LinearEncoder(4, 4, max_fro=0.1)
    with torch.no_grad():
        enc.linear.weight.fill_(1.0)  # norm 4
    enc.project()
    assert float(enc.linear.weight.detach().norm()) == pytest.approx(0.1, rel=1e-6)
    torch.testing.assert_close(enc.linear.weight, torch.full((4, 4), 0.025))
    # inside the ball: untouched
    inside = LinearEncoder(4, 2, max_fro=100.0)
    before = inside.linear.weight.detach().clone()
    inside.project()
    torch.testing.assert_close(inside.linear.weight.detach(), before)
    # no radius: a no-op
    free = LinearEncoder(4, 2)
    before = free.linear.weight.detach().clone()
    free.project()
    torch.testing.assert_close(free.linear.weight.detach(), before)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "argname"),
    [
        ((0, 3), {}, ValueError, "d_in"),
        ((3, 0), {}, ValueError, "^d must"),
        ((3.0, 3), {}, TypeError, "d_in"),
        ((3, "3"), {}, TypeError, "^d must"),
        ((3, 3), {"max_fro": 0.0}, ValueError, "max_fro"),
        ((3, 3), {"max_fro": -1.0}, ValueError, "max_fro"),
        ((3, 3), {"max_fro": "1"}, TypeError, "max_fro"),
    ],
)
def test_linear_encoder_bad_args(args, kwargs, exc, argname):
    with pytest.raises(exc, match=argname):
        LinearEncoder(*args, **kwargs)


@pytest.mark.parametrize("hidden", [8, [8], (8, 6), []])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
def test_mlp_encoder_shapes(hidden, activation):
    enc = MLPEncoder(5, hidden, 3, activation=activation)
    assert enc(torch.randn(4, 5)).shape == (4, 3)
    widths = [hidden] if isinstance(hidden, int) else list(hidden)
    linears = [m for m in enc.net if isinstance(m, nn.Linear)]
    assert [lin.out_features for lin in linears] == [*widths, 3]
    assert linears[0].in_features == 5


def test_mlp_encoder_normalize():
    torch.manual_seed(0)
    enc = MLPEncoder(5, 16, 4, normalize=True)
    z = enc(torch.randn(10, 5) * 10)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(10))
    raw = MLPEncoder(5, 16, 4, normalize=False)
    raw.load_state_dict(enc.state_dict())
    assert not torch.allclose(raw(torch.randn(10, 5) * 10).norm(dim=1), torch.ones(10))


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "argname"),
    [
        ((0, 8, 3), {}, ValueError, "d_in"),
        ((5, 8, 0), {}, ValueError, "^d must"),
        ((5, 0, 3), {}, ValueError, "hidden"),
        ((5, [8, -1], 3), {}, ValueError, "hidden"),
        ((5, [8.0], 3), {}, TypeError, "hidden"),
        ((5, True, 3), {}, TypeError, "hidden"),
        ((5, 8, 3), {"activation": "sigmoid"}, ValueError, "activation"),
        ((5, 8, 3), {"activation": None}, TypeError, "activation"),
    ],
)
def test_mlp_encoder_bad_args(args, kwargs, exc, argname):
    with pytest.raises(exc, match=argname):
        MLPEncoder(*args, **kwargs)


def test_encode_returns_float64_numpy():
    torch.manual_seed(0)
    enc = MLPEncoder(6, 8, 3)
    X = np.random.default_rng(0).standard_normal((25, 6))
    Z = encode(enc, X, device="cpu")
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float64 and Z.shape == (25, 3)
    with torch.no_grad():
        expected = enc(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(Z, expected, rtol=1e-6)
    assert not enc.training  # encode puts the model in eval mode


def test_encode_batches_consistently():
    torch.manual_seed(0)
    enc = MLPEncoder(6, 8, 3, normalize=True)
    X = np.random.default_rng(1).standard_normal((30, 6))
    a = encode(enc, X, batch_size=7)
    b = encode(enc, X, batch_size=4096)
    c = encode(enc, X, batch_size=1)
    assert a.shape == b.shape == c.shape == (30, 3)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c, b, rtol=1e-6, atol=1e-7)


def test_encode_accepts_tensors_and_lists():
    enc = LinearEncoder(2, 2)
    Z = encode(enc, torch.ones(3, 2))
    assert Z.shape == (3, 2)
    assert encode(enc, [[1.0, 2.0]]).shape == (1, 2)


def test_encode_bad_args():
    enc = LinearEncoder(3, 2)
    with pytest.raises(TypeError, match="model"):
        encode(lambda x: x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X"):
        encode(enc, np.zeros(3))
    with pytest.raises(ValueError, match="X"):
        encode(enc, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="batch_size"):
        encode(enc, np.zeros((2, 3)), batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        encode(enc, np.zeros((2, 3)), batch_size=2.5)
    with pytest.raises(ValueError, match="device"):
        encode(enc, np.zeros((2, 3)), device="tpu")


# ----------------------------------------------------------------------------------------------------
# sizes checked before allocating, input width (#14)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "names"), [
    (lambda: MLPEncoder(3, 10**6, 10**5), "d_in, hidden, d"),
    (lambda: MLPEncoder(3, [10, 10**9], 2), "d_in, hidden, d"),
    (lambda: LinearEncoder(10**6, 10**5), "d_in, d"),
])
def test_constructor_sizes_are_checked_before_allocating(make, names):
    with pytest.raises(ValueError, match=rf"{re.escape(names)} implies about .* of memory"):
        make()


def test_constructor_size_check_admits_moderate_sizes():
    assert sum(p.numel() for p in MLPEncoder(784, [512, 512], 128).parameters()) > 6 * 10**5


def test_encode_wrong_input_width_names_x():
    X = np.zeros((5, 4))
    for model in (LinearEncoder(3, 2), MLPEncoder(3, 8, 2), torch.nn.Sequential(torch.nn.Linear(3, 2))):
        with pytest.raises(ValueError, match=r"X must have 3 columns.*\(5, 4\)"):
            encode(model, X)

    class Custom(torch.nn.Module):  # no d_in, no leading Linear: the model's own error is wrapped
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3, 2))

        def forward(self, x):
            return x @ self.w

    with pytest.raises(ValueError, match=r"X of shape \(5, 4\) does not fit"):
        encode(Custom(), X)
    assert encode(Custom(), np.zeros((5, 3))).shape == (5, 2)


def test_project_is_a_clamped_rescale():
    enc = LinearEncoder(3, 2, max_fro=1.0)
    with torch.no_grad():
        enc.linear.weight.zero_()
    enc.project()  # norm 0: R / 0 = inf is clamped to 1, no NaN
    assert torch.equal(enc.linear.weight, torch.zeros(2, 3))
    with torch.no_grad():
        enc.linear.weight.fill_(0.1)
    before = enc.linear.weight.clone()
    enc.project()  # inside the ball: unchanged
    assert torch.equal(enc.linear.weight, before)
    with torch.no_grad():
        enc.linear.weight.fill_(2.0)
    enc.project()
    assert abs(float(enc.linear.weight.detach().norm()) - 1.0) < 1e-6


def test_encode_hidden_layer_matches_the_network_prefix():
    torch.manual_seed(0)
    net = MLPEncoder(3, [5, 4], 2, normalize=True)
    X = np.random.default_rng(0).standard_normal((7, 3))
    xt = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        h1, h2 = net.net[:2](xt).numpy(), net.net[:4](xt).numpy()
    np.testing.assert_allclose(encode(net, X, layer=1), h1, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(encode(net, X, layer=2), h2, rtol=1e-6, atol=1e-7)
    assert net.n_hidden == 2
    assert (encode(net, X, layer=1) >= 0).all()  # post-ReLU
    np.testing.assert_allclose(np.linalg.norm(encode(net, X), axis=1), 1.0, rtol=1e-5)


def test_encode_layer_out_of_range_or_wrong_model():
    net = MLPEncoder(3, [5, 4], 2)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="layer"):
        encode(net, X, layer=3)
    with pytest.raises(ValueError, match="layer"):
        encode(net, X, layer=0)
    with pytest.raises(TypeError, match="layer"):
        encode(LinearEncoder(3, 2), X, layer=1)
