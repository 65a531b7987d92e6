"""Few-label splits for the downstream protocol.

See: Chapter 1, "Probes on real digits".
"""

from __future__ import annotations

import numpy as np

from sslbook._shapes import Shape, bind_shapes
from sslbook._validation import check_int, check_rng


def few_label_split(labels, n_per_class: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``n_per_class`` labelled examples of every class; the rest is the test set.

    Parameters
    ----------
    labels : array_like of int, shape (n,)
    n_per_class : int
        Labelled examples per class; every class must have more than that many.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    train_idx, test_idx : numpy.ndarray of int
        Disjoint indices covering ``range(n)``.
    """
    y = bind_shapes({"labels": (labels, Shape("n", dtype="int"))})["labels"]
    n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    rng = check_rng("rng", rng)
    train = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if idx.size <= n_per_class:
            raise ValueError(f"n_per_class={n_per_class} leaves no test example of class {c} ({idx.size} examples)")
        train.append(rng.choice(idx, size=n_per_class, replace=False))
    train_idx = np.sort(np.concatenate(train))
    test_idx = np.setdiff1d(np.arange(y.size), train_idx)
    return train_idx, test_idx
