"""Scores of a classifier on a C-class problem: TOP-R and AVG-k (average accuracy over k-way tasks).

From class scores :math:`s_{ic}` and true labels :math:`y_i`, :func:`n_beaten_by` counts the wrong classes
that score at least as high as the true one; TOP-R and AVG-k are functions of those counts. The probes that
produce the scores are in :mod:`sslbook.probes` (which re-exports these functions).

See: Chapter 1, "Scoring a representation: AVG-k and TOP-R".
"""

from __future__ import annotations

from math import comb

import numpy as np

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_choice, check_int

#: Class scores: ``scores`` (n, C) and integer ``labels`` (n,).
_SCORED = {"scores": "n C", "labels": Shape("n", dtype="int")}


def _scores_labels(scores, labels):
    out = bind_shapes({name: (value, _SCORED[name]) for name, value in (("scores", scores), ("labels", labels))})
    S, y = out["scores"], out["labels"]
    if np.any(y < 0) or np.any(y >= S.shape[1]):
        raise ValueError(f"labels must lie in 0..{S.shape[1] - 1} (one column of scores per class)")
    return S, y


@check_shapes(**_SCORED)
def n_beaten_by(scores, labels) -> np.ndarray:
    r"""For each example, the number :math:`m_i` of wrong classes scoring at least as high as the true one.

    :math:`m_i = \#\{c \ne y_i : s_{ic} \ge s_{iy_i}\}`; ties count against the classifier.
    See: Chapter 1, "Scoring a representation: AVG-k and TOP-R".
    """
    S, y = _scores_labels(scores, labels)
    true = S[np.arange(S.shape[0]), y]
    return np.sum(S >= true[:, None], axis=1) - 1


@check_shapes(**_SCORED)
def top_r_accuracy(scores, labels, r: int) -> float:
    r"""TOP-R accuracy: the fraction of examples whose true class is among the R highest scores.

    :math:`\mathrm{TOP}\text{-}R = \frac1n\sum_i \mathbb 1[m_i < R]` with :math:`m_i` from :func:`n_beaten_by`
    (ties count against the classifier).

    See: Chapter 1, "Scoring a representation: AVG-k and TOP-R".

    Parameters
    ----------
    scores : array_like, shape (n, C)
    labels : array_like of int, shape (n,)
    r : int
        :math:`1 \le R \le C`.
    """
    S, y = _scores_labels(scores, labels)
    r = check_int("r", r, minimum=1, maximum=S.shape[1])
    return float(np.mean(n_beaten_by(S, y) < r))


@check_shapes(**_SCORED)
def avg_k_accuracy(scores, labels, k: int, *, method: str = "exact") -> float:
    r"""AVG-k: accuracy averaged over all k-way tasks, each task's accuracy balanced over its classes.

    A k-way task is a k-subset :math:`T` of the C classes; on it the classifier predicts
    :math:`\arg\max_{c\in T} s_c`. AVG-k averages, uniformly over all :math:`\binom Ck` tasks, the task's
    class-balanced accuracy. Averaging over tasks in closed form (Chapter 1, Proposition "AVG-k in closed form"):

    .. math:: \mathrm{AVG}\text{-}k = \frac1C\sum_{c=1}^C \frac1{n_c}\sum_{i:y_i=c}
              \binom{C-1-m_i}{k-1}\Big/\binom{C-1}{k-1}.

    See: Chapter 1, "Scoring a representation: AVG-k and TOP-R".

    Parameters
    ----------
    scores : array_like, shape (n, C)
    labels : array_like of int, shape (n,)
        Every class must occur.
    k : int
        :math:`2 \le k \le C`.
    method : {"exact", "enumerate"}
        ``"exact"`` uses the formula above; ``"enumerate"`` loops over all tasks (the check of the formula).
    """
    S, y = _scores_labels(scores, labels)
    C = S.shape[1]
    k = check_int("k", k, minimum=2, maximum=C)
    method = check_choice("method", method, ("exact", "enumerate"))
    counts = np.bincount(y, minlength=C)
    if np.any(counts == 0):
        raise ValueError(f"labels must contain every class; missing {np.flatnonzero(counts == 0).tolist()}")
    if method == "exact":
        m = n_beaten_by(S, y)
        p_correct = np.array([comb(C - 1 - int(mi), k - 1) for mi in m]) / comb(C - 1, k - 1)
        per_class = np.bincount(y, weights=p_correct, minlength=C) / counts
        return float(per_class.mean())
    from itertools import combinations

    if comb(C, k) > 200_000:
        raise ValueError(f"method='enumerate' would loop over C(C,k)={comb(C, k)} tasks; use method='exact'")
    true = S[np.arange(S.shape[0]), y]
    task_accs = []
    for task in combinations(range(C), k):
        T = np.array(task)
        accs = []
        for c in T:
            idx = y == c
            rivals = T[T != c]
            beaten = np.any(S[idx][:, rivals] >= true[idx][:, None], axis=1)
            accs.append(np.mean(~beaten))
        task_accs.append(np.mean(accs))
    return float(np.mean(task_accs))
