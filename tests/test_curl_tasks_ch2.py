"""The (k+1)-way task law and task average of sslbook.theory.curl.tasks, and sslbook.spread (helper ch2)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sslbook import theory
from sslbook.spread import spread
from sslbook.theory.curl.tasks import k_way_task_law, mean_classifier_task_loss, task_average

ELL = {"hinge": lambda V: np.maximum(0.0, 1.0 - V.min(axis=-1)),
       "logistic2": lambda V: np.log2(1.0 + np.exp(-V).sum(axis=-1))}


def _instance(seed=0, n_classes=4):
    rng = np.random.default_rng(seed)
    feats = [rng.standard_normal((2, 2)) * 0.5 + rng.standard_normal(2) for _ in range(n_classes)]
    return feats, rng.dirichlet(np.ones(n_classes))


def _brute(feats, rho, k, loss):
    """Sums over ordered tuples (c+, c-_1..c-_k) without collision: (L_mu_tilde, distinct part, p_distinct)."""
    mus = np.stack([F.mean(axis=0) for F in feats])
    tot = dis = p_no = p_dis = 0.0
    for t in itertools.product(range(len(rho)), repeat=k + 1):
        if t[0] in t[1:]:
            continue
        w = float(np.prod(rho[list(t)]))
        val = float(np.mean(ELL[loss](feats[t[0]] @ (mus[t[0]] - mus[list(t[1:])]).T)))
        tot, p_no = tot + w * val, p_no + w
        if len(set(t)) == k + 1:
            dis, p_dis = dis + w * val, p_dis + w
    return tot / p_no, (dis / p_dis if p_dis else float("nan")), p_dis / p_no


@pytest.mark.parametrize("loss", ["hinge", "logistic2"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_task_average_matches_ordered_tuples_and_k_negative_losses(loss, k):
    feats, rho = _instance(k)
    avg = task_average(feats, rho, k=k, loss=loss)
    tot, dis, p = _brute(feats, rho, k, loss)
    np.testing.assert_allclose([avg.L_mu_tilde, avg.distinct, avg.p_distinct], [tot, dis, p], rtol=1e-10)
    ref = theory.curl.k_negative_losses(feats, rho, k=k, loss=loss)
    np.testing.assert_allclose(avg.L_mu_tilde, ref.L_mu_tilde, rtol=1e-10)
    np.testing.assert_allclose(avg.tau_k, ref.tau_k, rtol=1e-12)


def test_law_sums_to_one_and_label_law_is_uniform_over_singletons():
    _, rho = _instance(3)
    law = k_way_task_law(rho, 3)
    np.testing.assert_allclose(law.prob.sum(), 1.0, rtol=1e-12)
    # the multiset (0, 1, 2, 2): anchor 0 or 1, each first in 3!/2! orderings
    row = [i for i, t in enumerate(law.tasks) if tuple(t) == (0, 1, 2, 2)][0]
    expected = 2 * math.factorial(3) / 2 * rho[0] * rho[1] * rho[2] ** 2 / (1 - theory.curl.tau_k(rho, 3))
    np.testing.assert_allclose(law.prob[row], expected, rtol=1e-12)


def test_label_laws_differ_on_repeated_tasks_and_agree_on_distinct_ones():
    feats, rho = _instance(5)
    vals = {lab: mean_classifier_task_loss(feats, rho, task=[0, 1, 1], loss="logistic2", labels=lab)
            for lab in ("singletons", "entries", "classes")}
    assert len({round(v, 9) for v in vals.values()}) == 3
    same = {lab: mean_classifier_task_loss(feats, rho, task=[0, 1, 2], loss="logistic2", labels=lab)
            for lab in ("singletons", "entries", "classes")}
    np.testing.assert_allclose(list(same.values()), same["singletons"], rtol=1e-12)


def test_bad_tasks_raise():
    feats, rho = _instance(0)
    with pytest.raises(ValueError, match="task"):
        mean_classifier_task_loss(feats, rho, task=[1, 1])
    with pytest.raises(ValueError, match="task"):
        mean_classifier_task_loss(feats, rho, task=[0, 9])
    with pytest.raises(ValueError, match="max_tasks"):
        k_way_task_law(rho, 3, max_tasks=2)


def test_spread():
    s = spread([1.0, 2.0, 3.0, 6.0])
    assert (s.mean, s.low, s.high) == pytest.approx((3.0, 1.0, 6.0), abs=1e-12) and s.n == 4
    np.testing.assert_allclose(s.sd, np.sqrt(14 / 3), rtol=1e-12)
    np.testing.assert_allclose(s.se, np.sqrt(14 / 3) / 2, rtol=1e-12)
    assert spread([2.0]).sd == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="values"):
        spread([1.0, np.nan])


@pytest.mark.parametrize("loss", ["hinge", "logistic2"])
def test_plain_enumeration_matches_curl_exact_losses(loss):
    feats, rho = _instance(7, n_classes=3)
    ref = theory.enumerated_losses(feats, rho, loss=loss)
    pkg = theory.curl.exact_losses(feats, rho, loss=loss)
    np.testing.assert_allclose([ref["L_un"], ref["L_eq"], ref["L_neq"], ref["L_mu"], ref["tau"]],
                               [pkg.L_un, pkg.L_eq, pkg.L_neq, pkg.L_mu_sup, pkg.tau], rtol=1e-10)
    ln = theory.enumerated_losses(feats, rho, loss=lambda v: np.logaddexp(0.0, -v))
    if loss == "logistic2":
        np.testing.assert_allclose(ln["L_un"], np.log(2) * ref["L_un"], rtol=1e-12)
    with pytest.raises(ValueError, match="rho"):
        theory.enumerated_losses(feats, [0.5, 0.5], loss=loss)


def test_project_to_sphere():
    from sslbook.models import project_to_sphere

    F = np.array([[3.0, 4.0], [0.0, -2.0]])
    np.testing.assert_allclose(project_to_sphere(F, radius=3.0), [[1.8, 2.4], [0.0, -3.0]], rtol=1e-12)
    with pytest.raises(ValueError, match="features"):
        project_to_sphere(np.zeros((2, 2)))
