"""Tests of sslbook.theory.curl.guarantees: s(f), the collision cost, Theorem 4.5, Gen_M, the dream counterexample."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sslbook.data import LatentClassModel
from sslbook.testing import assert_bound
from sslbook.theory.curl import (
    collision_constant,
    collision_refined_bound,
    dream_counterexample,
    dream_unsup_loss,
    exact_losses,
    intraclass_deviation,
    linear_generalization_bound,
    linear_probe_loss,
    triple_moment,
)
from sslbook.theory.toolbox import hinge_loss, logistic2_loss

LOSSES = ("hinge", "logistic2")


def _instances(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        C = int(rng.integers(2, 5))
        out.append(LatentClassModel.random_finite(
            C, int(rng.integers(2, 5)), int(rng.integers(1, 4)), spread=float(rng.choice([0.3, 1.0, 2.5])),
            rng=rng, rho=rng.dirichlet(np.ones(C)), random_probs=True))
    return out


# ----------------------------------------------------------------------------------------------------
# s(f), Lemma 4.4 and Theorem 4.5
# ----------------------------------------------------------------------------------------------------


def test_collision_constants():
    assert collision_constant("hinge") == pytest.approx(1 / math.sqrt(2))
    assert collision_constant("logistic2") == pytest.approx(1 / (math.sqrt(2) * math.log(2)))
    with pytest.raises(ValueError, match="loss"):
        collision_constant("logistic")


def test_intraclass_deviation_matches_brute_force():
    for model in _instances(20, seed=1):
        tau = np.sum(model.rho**2)
        brute = 0.0
        for F, p, r in zip(model.points, model.probs, model.rho, strict=True):
            mu = sum(pi * x for pi, x in zip(p, F, strict=True))
            cov = sum(pi * np.outer(x - mu, x - mu) for pi, x in zip(p, F, strict=True))
            brute += r**2 / tau * math.sqrt(np.linalg.norm(cov, 2)) * sum(
                pi * np.linalg.norm(x) for pi, x in zip(p, F, strict=True))
        assert intraclass_deviation(model) == pytest.approx(brute, rel=1e-10)
        assert intraclass_deviation(list(model.points), model.rho, probs=list(model.probs)) == pytest.approx(brute)


def test_plus_minus_R_example_is_exact():
    for R in (0.8, 1.0, 3.0):
        feats = [np.array([[R, 0.0], [-R, 0.0]]), np.array([[0.0, R], [0.0, -R]])]
        s = intraclass_deviation(feats, [0.5, 0.5])
        assert s == pytest.approx(R**2, rel=1e-14)
        L = exact_losses(feats, [0.5, 0.5], loss="hinge")
        assert L.L_eq - 1 == pytest.approx(R**2 / 2 - 0.25, abs=1e-12)
        assert L.L_eq - 1 <= collision_constant("hinge") * s
    # collapsed classes have s = 0
    assert intraclass_deviation([np.ones((3, 2)), -np.ones((2, 2))], [0.5, 0.5]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_lemma44_holds_and_a_smaller_constant_fails(loss):
    gaps, bounds = [], []
    for model in _instances(60, seed=2):
        L = exact_losses(model, loss=loss)
        gaps.append(L.L_eq - 1)
        bounds.append(collision_constant(loss) * intraclass_deviation(model))
    gaps, bounds = np.array(gaps), np.array(bounds)
    assert_bound(gaps, bounds, slack=1e-12, name="Lemma 4.4")
    assert np.max(gaps / np.maximum(bounds, 1e-300)) > 0.3  # the lemma is not vacuously true here
    with pytest.raises(AssertionError):
        assert_bound(gaps, bounds / 3, slack=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_collision_refined_bound_population_form_and_wrong_sign(loss):
    lhs, rhs, wrong = [], [], []
    for model in _instances(60, seed=3):
        L = exact_losses(model, loss=loss)
        s = intraclass_deviation(model)
        lhs.append(L.L_mu_sup)
        rhs.append(collision_refined_bound(L.L_neq, s, L.tau, loss=loss))
        wrong.append(L.L_neq - collision_constant(loss) * L.tau / (1 - L.tau) * s - 0.2)
        # the Theorem 4.5 bound is never below the Lemma 4.3 bound (it upper-bounds L^= - 1 by c' s)
        assert rhs[-1] >= L.bound - 1e-12
    assert_bound(np.array(lhs), np.array(rhs), slack=1e-12)
    with pytest.raises(AssertionError):
        assert_bound(np.array(lhs), np.array(wrong), slack=1e-12)


def test_collision_refined_bound_formula_and_bad_input():
    val = collision_refined_bound(0.3, 2.0, 0.25, loss="hinge", gen=0.1)
    assert val == pytest.approx(0.3 + (1 / math.sqrt(2)) * (0.25 / 0.75) * 2.0 + 0.1 / 0.75)
    arr = collision_refined_bound(np.array([0.1, 0.2]), np.array([0.0, 1.0]), 0.5, loss="logistic2")
    assert arr.shape == (2,)
    with pytest.raises(ValueError, match="tau"):
        collision_refined_bound(0.3, 1.0, 1.0, loss="hinge")
    with pytest.raises(ValueError, match="s must"):
        collision_refined_bound(0.3, -1.0, 0.2, loss="hinge")
    with pytest.raises(ValueError, match="gen"):
        collision_refined_bound(0.3, 1.0, 0.2, loss="hinge", gen=-0.1)
    with pytest.raises(ValueError, match="loss"):
        collision_refined_bound(0.3, 1.0, 0.2, loss="square")


def test_intraclass_deviation_bad_input():
    with pytest.raises(TypeError, match="features"):
        intraclass_deviation(np.ones((3, 2)), [1.0])
    with pytest.raises(ValueError, match="rho"):
        intraclass_deviation([np.ones((2, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="rho"):
        intraclass_deviation([np.ones((2, 2)), np.ones((2, 2))], [0.3, 0.3])
    with pytest.raises(ValueError, match="dimension"):
        intraclass_deviation([np.ones((2, 2)), np.ones((2, 3))], [0.5, 0.5])
    with pytest.raises(ValueError, match="probs"):
        intraclass_deviation([np.ones((2, 2)), np.ones((2, 2))], [0.5, 0.5], probs=[[1.0], [0.5, 0.5]])
    gauss = LatentClassModel.random_gaussian(2, 2, rng=0)
    with pytest.raises(ValueError, match="finite"):
        intraclass_deviation(gauss)


# ----------------------------------------------------------------------------------------------------
# Gen_M
# ----------------------------------------------------------------------------------------------------


def test_triple_moment_matches_enumeration():
    model = _instances(1, seed=4)[0]
    brute = 0.0
    for c, (P, p) in enumerate(zip(model.points, model.probs, strict=True)):
        for (i, x), (j, xp) in itertools.product(enumerate(P), enumerate(P)):
            for cn, (Pn, pn) in enumerate(zip(model.points, model.probs, strict=True)):
                for m, xn in enumerate(Pn):
                    w = model.rho[c] * p[i] * p[j] * model.rho[cn] * pn[m]
                    brute += w * (x @ x) * np.sum((xp - xn) ** 2)
    assert triple_moment(model) == pytest.approx(brute, rel=1e-12)
    unit = [P / np.linalg.norm(P, axis=1, keepdims=True) for P in model.points]
    assert triple_moment(unit, model.rho, probs=list(model.probs)) <= 4.0


def test_generalization_bound_formula():
    g = linear_generalization_bound(400, 3.0, loss="hinge", delta=0.01, m2=2.0)
    assert g.rademacher == pytest.approx(2 * 9 * math.sqrt(2.0 / 400))
    a = 2 * 9.0
    assert g.loss_range == pytest.approx(float(hinge_loss(np.array([-a])) - hinge_loss(np.array([a]))))
    assert g.concentration == pytest.approx(g.loss_range * math.sqrt(math.log(100) / 800))
    assert g.total == pytest.approx(g.rademacher + g.concentration)
    small = linear_generalization_bound(400, 0.5, loss="hinge", delta=0.01)
    assert small.loss_range == pytest.approx(4 * 0.25)  # both ends inside the linear part of the hinge
    lg = linear_generalization_bound(100, 1.5, loss="logistic2", input_radius=0.5)
    a = 2 * 1.5**2 * 0.25
    assert lg.loss_range == pytest.approx(float(logistic2_loss(np.array([-a])) - logistic2_loss(np.array([a]))))
    assert lg.rademacher == pytest.approx(2 / math.log(2) * 1.5**2 * math.sqrt(4 * 0.5**4 / 100))
    # the rate in M is exactly M^{-1/2}
    ratio = linear_generalization_bound(1600, 3.0, loss="hinge").total / linear_generalization_bound(
        400, 3.0, loss="hinge").total
    assert ratio == pytest.approx(0.5)


def test_rademacher_step_linearisation():
    """sum_j sigma_j v_j(U) <= B^2 ||sum_j sigma_j Z_j||_F for every U in the class (step 5 of the proof)."""
    rng = np.random.default_rng(5)
    M, D, B = 12, 4, 1.7
    X, Xp, Xn = (rng.standard_normal((M, D)) for _ in range(3))
    Z = np.einsum("md,me->mde", X, Xp - Xn)
    for _ in range(200):
        U = rng.standard_normal((3, D))
        U *= B / np.linalg.norm(U) * rng.uniform(0.2, 1.0)
        sigma = rng.choice([-1.0, 1.0], size=M)
        v = np.einsum("md,md->m", X @ U.T, (Xp - Xn) @ U.T)
        assert sigma @ v <= B**2 * np.linalg.norm(np.einsum("m,mde->de", sigma, Z)) + 1e-10


def test_generalization_bound_holds_for_a_trained_encoder_and_a_wrong_one_fails(torch_one_thread):
    import torch

    from sslbook import models, train
    from sslbook.data import pool_triples, radial_clip

    rng = np.random.default_rng(6)
    torch.manual_seed(6)
    C, D, B, M = 6, 5, 3.0, 20
    pts = [radial_clip(rng.standard_normal(D) / 2 + 0.3 * rng.standard_normal((4, D))) for _ in range(C)]
    X, y = np.concatenate(pts), np.repeat(np.arange(C), 4)
    tr = pool_triples(X, y, M, rng=rng)
    enc = models.LinearEncoder(D, D, max_fro=B)
    train.train_contrastive(enc, lambda s: tr, steps=150, loss="hinge", lr=0.05, progress=False, device="cpu")
    U = enc.linear.weight.detach().double().numpy()
    exact = exact_losses([P @ U.T for P in pts], np.full(C, 1 / C), loss="hinge").L_un
    v = np.einsum("md,md->m", tr.anchor @ U.T, tr.positive @ U.T) - np.einsum(
        "md,md->m", tr.anchor @ U.T, tr.negatives[:, 0] @ U.T)
    gap = exact - float(np.mean(hinge_loss(v[:, None])))
    gen = linear_generalization_bound(M, B, loss="hinge", delta=0.01, m2=triple_moment(pts, np.full(C, 1 / C)))
    assert gap > 0.05  # 20 triples overfit
    assert_bound(gap, gen.total)
    with pytest.raises(AssertionError):  # a bound for a 100x smaller class does not cover this gap
        assert_bound(gap, linear_generalization_bound(M, B / 10, loss="hinge", delta=0.9).total)


def test_generalization_bound_bad_input():
    with pytest.raises(ValueError, match="M"):
        linear_generalization_bound(0, 1.0, loss="hinge")
    with pytest.raises(ValueError, match="delta"):
        linear_generalization_bound(10, 1.0, loss="hinge", delta=1.0)
    with pytest.raises(ValueError, match="m2"):
        linear_generalization_bound(10, 1.0, loss="hinge", m2=5.0)
    with pytest.raises(ValueError, match="input_radius"):
        linear_generalization_bound(10, 1.0, loss="hinge", input_radius=0.0)
    with pytest.raises(ValueError, match="loss"):
        linear_generalization_bound(10, 1.0, loss="log")
    with pytest.raises(ValueError, match="rho"):
        triple_moment([np.ones((2, 2)), np.ones((2, 2))], [0.9, 0.2])


# ----------------------------------------------------------------------------------------------------
# the dream counterexample and the supervised loss of a probe
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("R, eps", [(1.0, 0.1), (0.5, 0.1), (0.3, 0.8), (2.0, 0.6), (0.71, 0.05)])
def test_dream_unsup_loss_equals_enumeration(R, eps):
    ex = dream_counterexample(R, eps)
    exact = exact_losses(ex.f1, ex.rho, loss="hinge")
    assert dream_unsup_loss(R, eps) == pytest.approx(exact.L_un, abs=1e-12)
    assert ex.L_mu_sup_f1 == pytest.approx(exact.L_mu_sup, abs=1e-12)
    if R**2 >= 0.5 and eps**2 <= 0.5:
        assert exact.L_un == pytest.approx(0.75 + R**2 / 2 - 0.75 * eps**2, abs=1e-12)
    assert exact_losses(ex.f2, ex.rho, loss="hinge").L_un == pytest.approx(ex.L_un_f2)


def test_dream_counterexample_values():
    ex = dream_counterexample(1.0, 0.1)
    assert ex.L_un_f1 == pytest.approx(1.2425, abs=1e-12) and ex.L_un_f2 == 1.0
    # hinge of computed margins (>= 1 up to rounding): a tolerance, not == 0 (#14)
    assert linear_probe_loss(ex.f1, ex.probe(), ex.rho) == pytest.approx(0.0, abs=1e-12) and ex.L_sup_f1 == 0.0
    assert linear_probe_loss(ex.f1, ex.probe(ex.probe_scale / 2), ex.rho) == pytest.approx(0.5)
    rng = np.random.default_rng(7)
    for _ in range(20):  # f2 = 0: every probe has hinge loss 1
        assert linear_probe_loss(ex.f2, rng.standard_normal((2, 2)), ex.rho) == ex.L_sup_f2
    assert dream_unsup_loss(0.5, 0.1) == pytest.approx(0.99, abs=1e-12)
    with pytest.raises(ValueError, match="R"):
        dream_counterexample(0.0, 0.1)
    with pytest.raises(ValueError, match="eps"):
        dream_counterexample(1.0, -0.1)


def test_linear_probe_loss_matches_loops():
    rng = np.random.default_rng(8)
    feats = [rng.standard_normal((3, 2)) for _ in range(3)]
    rho = np.array([0.2, 0.3, 0.5])
    W = rng.standard_normal((3, 2))
    for loss, ell in (("hinge", hinge_loss), ("logistic2", logistic2_loss)):
        brute = sum(rho[c] / 3 * float(ell(np.array([(W[c] - W[o]) @ x for o in range(3) if o != c])))
                    for c in range(3) for x in feats[c])
        assert linear_probe_loss(feats, W, rho, loss=loss) == pytest.approx(brute, rel=1e-12)
    with pytest.raises(ValueError, match="W"):
        linear_probe_loss(feats, W[:2], rho)
    with pytest.raises(ValueError, match="2 classes"):
        linear_probe_loss([feats[0]], W[:1], [1.0])
