"""Tests of the language-model losses xent_lm and quad_lm against direct loops, with gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sslbook import losses
from sslbook.theory import quad


def _data(B=5, V=6, d=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(B, d, generator=g, dtype=dtype)
    Phi = torch.randn(d, V, generator=g, dtype=dtype)
    p = torch.softmax(torch.randn(B, V, generator=g, dtype=dtype), dim=1)
    w = torch.randint(0, V, (B,), generator=g)
    weight = torch.rand(B, generator=g, dtype=dtype)
    return theta, Phi, p, w, weight


def test_xent_indices_and_distributions_match_loops():
    theta, Phi, p, w, weight = _data()
    logits = theta @ Phi
    B, V = logits.shape
    per_w = [-logits[b, w[b]].item() + math.log(sum(math.exp(logits[b, j].item()) for j in range(V)))
             for b in range(B)]
    assert losses.xent_lm(logits, w).item() == pytest.approx(np.mean(per_w), abs=1e-12)
    per_p = [sum(p[b, j].item() * (-logits[b, j].item()) for j in range(V))
             + math.log(sum(math.exp(logits[b, j].item()) for j in range(V))) for b in range(B)]
    assert losses.xent_lm(logits, p).item() == pytest.approx(np.mean(per_p), abs=1e-12)
    wn = weight.numpy()
    assert losses.xent_lm(logits, p, weight=weight).item() == pytest.approx(wn @ per_p / wn.sum(), abs=1e-12)
    # one-hot distributions give the index form
    assert losses.xent_lm(logits, torch.nn.functional.one_hot(w, V).double()).item() == pytest.approx(
        np.mean(per_w), abs=1e-12)


def test_quad_matches_loops_and_theory():
    theta, Phi, p, w, weight = _data(seed=1)
    B, V = p.shape
    per_w = [-(theta[b] @ Phi[:, w[b]]).item() + 0.5 * sum((theta[b] @ Phi[:, j]).item() ** 2 for j in range(V))
             for b in range(B)]
    assert losses.quad_lm(theta, Phi, w).item() == pytest.approx(np.mean(per_w), abs=1e-12)
    per_p = quad.quad_loss(theta.numpy(), Phi.numpy(), p.numpy())
    assert losses.quad_lm(theta, Phi, p).item() == pytest.approx(per_p.mean(), abs=1e-12)
    wn = weight.numpy()
    assert losses.quad_lm(theta, Phi, p, weight=weight).item() == pytest.approx(wn @ per_p / wn.sum(), abs=1e-12)
    # the sampled form is unbiased: averaging over w ~ p gives the distribution form
    exact = sum(p[0, j].item() * losses.quad_lm(theta[:1], Phi, torch.tensor([j])).item() for j in range(V))
    assert exact == pytest.approx(losses.quad_lm(theta[:1], Phi, p[:1]).item(), abs=1e-12)
    # a wrong sign on the quadratic term is detected
    assert losses.quad_lm(theta, Phi, p).item() != pytest.approx(
        float(np.mean(-np.sum((theta @ Phi).numpy() * p.numpy(), 1) - 0.5 * np.sum((theta @ Phi).numpy() ** 2, 1))))


def test_gradcheck():
    theta, Phi, p, w, weight = _data(B=3, V=4, d=2, seed=2)
    theta.requires_grad_(True)
    Phi.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t, P: losses.quad_lm(t, P, p, weight=weight), (theta, Phi))
    assert torch.autograd.gradcheck(lambda t, P: losses.quad_lm(t, P, w), (theta, Phi))
    assert torch.autograd.gradcheck(lambda t, P: losses.xent_lm(t @ P, p), (theta, Phi))
    assert torch.autograd.gradcheck(lambda t, P: losses.xent_lm(t @ P, w, weight=weight), (theta, Phi))


def test_quad_gradient_vanishes_at_closed_form():
    theta, Phi, p, _, _ = _data(seed=3)
    star = torch.tensor(quad.quad_closed_form(Phi.numpy(), p.numpy()), requires_grad=True)
    losses.quad_lm(star, Phi, p).backward()
    assert star.grad.abs().max().item() < 1e-12


def test_bad_input():
    theta, Phi, p, w, _ = _data()
    logits = theta @ Phi
    with pytest.raises(ValueError, match="target"):
        losses.xent_lm(logits, p[:, :3])
    with pytest.raises(ValueError, match="target"):
        losses.xent_lm(logits, w + 100)
    with pytest.raises(TypeError, match="target"):
        losses.xent_lm(logits, w.numpy())
    with pytest.raises(ValueError, match="logits"):
        losses.xent_lm(logits[0], w)
    with pytest.raises(ValueError, match="Phi"):
        losses.quad_lm(theta, Phi.T, p)
    with pytest.raises(ValueError, match="weight"):
        losses.quad_lm(theta, Phi, p, weight=torch.ones(2, dtype=torch.float64))
