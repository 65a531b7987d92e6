r"""The :math:`(k{+}1)`-way tasks behind CURL's :math:`k`-negative bound, and the mean classifier's loss on them.

With :math:`k` negatives the classes of a tuple, :math:`(c^+,c^-_1,\dots,c^-_k)\sim\rho^{k+1}`, form a
:math:`(k{+}1)`-way task. Conditioned on no collision (:math:`c^+\notin\{c^-_i\}`), the negative classes may still
repeat among themselves, so the "task" is a **multiset** of classes. This module makes that exact:

* :func:`k_way_task_law`: the law of the class multiset given no collision, and the conditional law of the
  anchor's class given the multiset (uniform over the classes that occur **once**: the degenerate label law);
* :func:`mean_classifier_task_loss`: the mean classifier's loss on one task under a stated label law;
* :func:`task_average`: the conditional expectation :math:`\tilde L^\mu_{sup}` of Chapter 5 written as an
  average over tasks, split into tasks of :math:`k+1` distinct classes (uniform labels, the usual
  :math:`(k{+}1)`-way average) and degenerate tasks with repeated negative classes.

Representations on finite latent classes are given as in :mod:`sslbook.theory.curl`.

See: Chapter 5, "Negatives and blocks", Proposition "The k-negative task average".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_choice, check_int
from sslbook.theory.curl._enumeration import unpack_classes
from sslbook.theory.curl.losses import tau_k as collision_prob_k
from sslbook.theory.toolbox import hinge_loss, logistic2_loss

__all__ = ["KWayTaskAverage", "KWayTaskLaw", "task_average", "k_way_task_law", "mean_classifier_task_loss"]

#: The surrogate losses (as in :mod:`sslbook.theory.curl`).
LOSSES = ("hinge", "logistic2")
#: Label laws of a task with repeated classes (see :func:`mean_classifier_task_loss`).
LABEL_LAWS = ("singletons", "entries", "classes")


def _classes(features, rho, probs):
    """Validated per-class features, within-class probabilities and rho (the conventions of theory.curl)."""

    feats, ps, r = unpack_classes(features, rho, probs)
    if np.sum(r > 0) < 2:
        raise ValueError("rho must put positive mass on at least two classes")
    return feats, ps, r


@dataclass(frozen=True)
class KWayTaskLaw:
    r"""Law of the class multiset of a :math:`k`-negative tuple given no collision.

    Attributes
    ----------
    tasks : numpy.ndarray
        Shape ``(T, k+1)``.
        Each row a multiset of classes (sorted), with at least one class of multiplicity 1.
    prob : numpy.ndarray
        Shape ``(T,)``.
        :math:`\mathbb P(\text{multiset}\mid I^+=\emptyset)
        =\frac{|S|\,k!}{\prod_c n_c!}\prod_c\rho(c)^{n_c}\big/(1-\tau_k)`, with :math:`n_c` the multiplicities
        and :math:`S` the classes of multiplicity 1.
    distinct : numpy.ndarray of bool
        Shape ``(T,)``.
        Rows whose :math:`k+1` classes are distinct.
    tau_k : float
    k : int
    """

    tasks: np.ndarray
    prob: np.ndarray
    distinct: np.ndarray
    tau_k: float
    k: int

    @property
    def p_distinct(self) -> float:
        r""":math:`\mathbb P(\text{all } k+1 \text{ classes distinct}\mid I^+=\emptyset)`."""
        return float(self.prob[self.distinct].sum())


def k_way_task_law(rho, k: int, *, max_tasks: int = 200_000) -> KWayTaskLaw:
    r"""The law of the task :math:`\{c^+,c^-_1,\dots,c^-_k\}` (a multiset) given no collision.

    Given the multiset, every ordering with the anchor first and the anchor's class not among the negatives
    has probability :math:`\prod_c\rho(c)^{n_c}`; the anchor's class must have multiplicity 1, and each class
    :math:`a` of multiplicity 1 is first in :math:`k!/\prod_c n_c!` orderings. So the anchor's class is
    uniform over the classes of multiplicity 1 (the **degenerate label law**), and

    .. math:: \mathbb P(\text{multiset}\mid I^+=\emptyset)=\frac{|S|\;k!}{\prod_c n_c!}\,
              \frac{\prod_c\rho(c)^{n_c}}{1-\tau_k},\qquad \tau_k=1-\sum_c\rho(c)(1-\rho(c))^k .

    See: Chapter 5, Proposition "The k-negative task average".

    Parameters
    ----------
    rho : array_like, shape (C,)
        Class distribution (at least two classes with positive mass).
    k : int
        Number of negatives.
    max_tasks : int
        Refuse (ValueError) enumerations with more multisets than this.

    Returns
    -------
    KWayTaskLaw
    """

    k = check_int("k", k, minimum=1)
    max_tasks = check_int("max_tasks", max_tasks, minimum=1)
    tau_k = collision_prob_k(rho, k)
    r = np.asarray(rho, dtype=float)
    if np.sum(r > 0) < 2:
        raise ValueError("rho must put positive mass on at least two classes")
    support = np.flatnonzero(r > 0)
    total = math.comb(support.size + k, k + 1)
    if total > max_tasks:
        raise ValueError(f"k={k} over {support.size} classes gives {total} multisets, more than max_tasks={max_tasks}")
    rows, probs = [], []
    for m in itertools.combinations_with_replacement(support.tolist(), k + 1):
        counts = np.bincount(m, minlength=r.size)
        n_single = int(np.sum(counts == 1))
        if n_single == 0:
            continue
        log_w = math.lgamma(k + 1) - sum(math.lgamma(n + 1) for n in counts) + float(counts @ np.log(np.where(
            counts > 0, r, 1.0)))
        rows.append(m)
        probs.append(n_single * math.exp(log_w) / (1.0 - tau_k))
    tasks = np.array(rows, dtype=np.int64).reshape(-1, k + 1)
    distinct = np.array([len(set(t)) == k + 1 for t in rows], dtype=bool)
    return KWayTaskLaw(tasks=tasks, prob=np.array(probs), distinct=distinct, tau_k=tau_k, k=k)


def _loss_fn(loss: str):
    loss = check_choice("loss", loss, LOSSES)
    return hinge_loss if loss == "hinge" else logistic2_loss


def _task_loss(ell, feats, ps, mu, task, labels: str) -> float:
    task = [int(c) for c in task]
    counts = {c: task.count(c) for c in task}
    if labels == "singletons":
        heads = [c for c in counts if counts[c] == 1]
        entries = [(a, [c for c in task if c != a]) for a in heads]
    elif labels == "entries":
        entries = [(task[j], task[:j] + task[j + 1:]) for j in range(len(task))]
    else:  # "classes": repeated classes merged, label uniform over the distinct classes
        distinct = sorted(counts)
        entries = [(a, [c for c in distinct if c != a]) for a in distinct]
    total = 0.0
    for a, others in entries:
        s = feats[a] @ mu.T  # f(x)^T mu_c for every point x of class a and every class c
        total += float(ps[a] @ ell(s[:, [a]] - s[:, others]))
    return total / len(entries)


def mean_classifier_task_loss(features, rho=None, *, task, probs=None, loss: str = "hinge",
                              labels: str = "singletons") -> float:
    r"""Loss of the mean classifier on one :math:`(k{+}1)`-way task, a multiset of classes.

    With labels uniform over a set :math:`S` of the task's classes,

    .. math:: L^\mu_{sup}(\mathcal T,f)=\frac1{|S|}\sum_{a\in S}\mathbb E_{x\sim\mathcal D_a}\,
              \ell\big(\{f(x)^\top(\mu_a-\mu_b)\}_{b\in\mathcal T\setminus\{a\}}\big),

    the other classes counted with their multiplicity. ``labels="singletons"`` (the law a tuple induces given
    no collision): :math:`S` is the classes of multiplicity 1. The two other laws are what one gets by
    counting repeated classes as distinct entries (``"entries"``: label uniform over the :math:`k+1` entries,
    a repeated label then competes against its own copy) or by merging them (``"classes"``: label uniform over
    the distinct classes, margins against the other distinct classes only). For a task of distinct classes all
    three coincide with the usual uniform-label loss.

    See: Chapter 5, Proposition "The k-negative task average".

    Parameters
    ----------
    features, rho, probs :
        As in :func:`sslbook.theory.curl.exact_losses`.
    task : sequence of int
        The classes of the task (at least two entries; repeats allowed).
    loss : {"hinge", "logistic2"}
    labels : {"singletons", "entries", "classes"}

    Returns
    -------
    float
    """
    ell = _loss_fn(loss)
    labels = check_choice("labels", labels, LABEL_LAWS)
    feats, ps, _ = _classes(features, rho, probs)
    if isinstance(task, (str, bytes)) or not hasattr(task, "__len__"):
        raise TypeError("task must be a sequence of class indices")
    task = [check_int(f"task[{i}]", c, minimum=0) for i, c in enumerate(task)]
    if len(task) < 2 or max(task) >= len(feats):
        raise ValueError(f"task must hold at least two class indices in [0, {len(feats) - 1}], got {task}")
    if labels == "singletons" and all(task.count(c) > 1 for c in task):
        raise ValueError("task has no class of multiplicity 1: no tuple without collision gives it")
    if labels == "classes" and len(set(task)) < 2:
        raise ValueError("task must hold at least two distinct classes")
    mu = np.stack([p @ F for F, p in zip(feats, ps, strict=True)])
    return _task_loss(ell, feats, ps, mu, task, labels)


@dataclass(frozen=True)
class KWayTaskAverage:
    r"""The mean classifier's :math:`k`-negative loss :math:`\tilde L^\mu_{sup}` as an average over tasks.

    Attributes
    ----------
    L_mu_tilde : float
        :math:`\tilde L^\mu_{sup}=p\,\bar L^\mu_{k+1}+(1-p)\,L^\mu_{rep}`.
    distinct : float
        :math:`\bar L^\mu_{k+1}`: average of the uniform-label loss over tasks of :math:`k+1` distinct classes,
        :math:`\{c_0,\dots,c_k\}\sim\rho^{k+1}` conditioned on being distinct (NaN if fewer than :math:`k+1`
        classes have positive mass).
    repeated : float
        :math:`L^\mu_{rep}`: average over tasks with a repeated negative class, degenerate label law (NaN when
        no such task has positive probability, e.g. :math:`k=1`).
    p_distinct : float
        :math:`p=\mathbb P(\text{distinct}\mid I^+=\emptyset)`.
    p_all_distinct : float
        :math:`(1-\tau_k)\,p=\mathbb P(c^+,c^-_1,\dots,c^-_k\text{ distinct})`.
    tau_k : float
    k : int
    loss : str
    labels : str
    """

    L_mu_tilde: float
    distinct: float
    repeated: float
    p_distinct: float
    p_all_distinct: float
    tau_k: float
    k: int
    loss: str
    labels: str


def task_average(features, rho=None, *, k: int, probs=None, loss: str = "hinge",
                      labels: str = "singletons") -> KWayTaskAverage:
    r"""The mean classifier's loss with :math:`k` negatives written as an average over :math:`(k{+}1)`-way tasks.

    .. math:: \tilde L^\mu_{sup}(f)=\sum_{\mathcal T}\mathbb P(\mathcal T\mid I^+=\emptyset)\,
              L^\mu_{sup}(\mathcal T,f)=p\,\bar L^\mu_{k+1}(f)+(1-p)\,L^\mu_{rep}(f),

    with the task law of :func:`k_way_task_law` and the label law ``labels`` of
    :func:`mean_classifier_task_loss` (``"singletons"`` gives :math:`\tilde L^\mu_{sup}`; the others are false
    variants kept for the chapter's checks).

    See: Chapter 5, Proposition "The k-negative task average".

    Parameters
    ----------
    features, rho, probs :
        As in :func:`sslbook.theory.curl.exact_losses`.
    k : int
        Number of negatives.
    loss : {"hinge", "logistic2"}
    labels : {"singletons", "entries", "classes"}

    Returns
    -------
    KWayTaskAverage
    """
    ell = _loss_fn(loss)
    labels = check_choice("labels", labels, LABEL_LAWS)
    k = check_int("k", k, minimum=1)
    feats, ps, r = _classes(features, rho, probs)
    law = k_way_task_law(r, k)
    mu = np.stack([p @ F for F, p in zip(feats, ps, strict=True)])
    values = np.array([_task_loss(ell, feats, ps, mu, t, labels) for t in law.tasks])
    p, q = law.p_distinct, float(law.prob[~law.distinct].sum())
    dis = float(values[law.distinct] @ law.prob[law.distinct] / p) if p > 0 else float("nan")
    rep = float(values[~law.distinct] @ law.prob[~law.distinct] / q) if q > 0 else float("nan")
    total = float(values @ law.prob)
    return KWayTaskAverage(L_mu_tilde=total, distinct=dis, repeated=rep, p_distinct=p,
                           p_all_distinct=(1.0 - law.tau_k) * p, tau_k=law.tau_k, k=k, loss=loss, labels=labels)
