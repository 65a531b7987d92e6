r"""Plain enumerations of the one-negative CURL losses: the independent route the chapters check against.

:func:`sslbook.theory.curl.exact_losses` computes the exact losses of a finite latent-class model with
vectorised sums. The function here computes the same quantities by the most direct loop, over every ordered
pair of classes :math:`(c^+,c^-)` and every triple of support points :math:`(x,x^+,x^-)`, with the two surrogate
losses typed out; it shares no code with :mod:`sslbook.theory.curl`, so pinning one to the other tests both.

See: Chapter 3, "Splitting the loss by collisions"; Chapter 4, "Check it".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sslbook._validation import check_choice
from sslbook.theory.curl._enumeration import unpack_classes

__all__ = ["enumerated_losses"]

#: The surrogates of one margin, typed out (not :mod:`sslbook.theory.toolbox`'s implementations).
TYPED_LOSSES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "hinge": lambda v: np.maximum(0.0, 1.0 - v),
    "logistic2": lambda v: np.logaddexp(0.0, -v) / math.log(2.0),
}


def enumerated_losses(features, rho, probs=None, loss="hinge") -> dict[str, float]:
    r"""The one-negative CURL losses by a sum over every class pair and point triple.

    .. math:: L_{un}=\sum_{a,b}\rho(a)\rho(b)\sum_{x,x^+\in a}\sum_{x^-\in b}p(x)p(x^+)p(x^-)\,
              \ell\big(f(x)^\top(f(x^+)-f(x^-))\big),

    split into :math:`a=b` (:math:`\tau L^{=}_{un}`) and :math:`a\ne b` (:math:`(1-\tau)L^{\ne}_{un}`), and
    :math:`L^\mu_{sup}=\sum_{a\ne b}\frac{\rho(a)\rho(b)}{1-\tau}\sum_{x\in a}p(x)\,\ell(f(x)^\top(\mu_a-\mu_b))`.

    See: Chapter 3, "Splitting the loss by collisions".

    Parameters
    ----------
    features : sequence of array_like, each (n_c, d)
        The features of the support points of each class.
    rho : array_like, shape (C,)
        Class probabilities (non-negative, summing to 1, and :math:`\tau<1`).
    probs : sequence of array_like, optional
        Within-class probabilities (uniform when None).
    loss : {"hinge", "logistic2"} or callable
        A callable maps an array of margins to the losses, elementwise.

    Returns
    -------
    dict
        ``L_un``, ``L_eq``, ``L_neq``, ``L_mu`` (the mean-classifier loss :math:`L^\mu_{sup}`) and ``tau``.
    """
    ell = loss if callable(loss) else TYPED_LOSSES[check_choice("loss", loss, tuple(TYPED_LOSSES))]
    feats, prs, r = unpack_classes(features, rho, probs)
    tau = float(np.sum(r**2))
    if not tau < 1.0:
        raise ValueError("rho must put mass on two or more classes (tau < 1)")
    mus = [p @ F for F, p in zip(feats, prs, strict=True)]
    eq = neq = mu = 0.0
    for a, (Fa, pa) in enumerate(zip(feats, prs, strict=True)):
        for b, (Fb, pb) in enumerate(zip(feats, prs, strict=True)):
            v = (Fa @ Fa.T)[:, :, None] - (Fa @ Fb.T)[:, None, :]          # v[i, j, k]
            w = pa[:, None, None] * pa[None, :, None] * pb[None, None, :]
            term = r[a] * r[b] * float(np.sum(w * ell(v)))
            if a == b:
                eq += term
            else:
                neq += term
                mu += r[a] * r[b] * float(pa @ ell(Fa @ (mus[a] - mus[b])))
    return {"L_un": eq + neq, "L_eq": eq / tau, "L_neq": neq / (1 - tau), "L_mu": mu / (1 - tau), "tau": tau}
