r"""Synthetic languages with a finite context set: exact next-word distributions and natural tasks.

A :class:`SyntheticLanguage` is a finite set of contexts :math:`s\in\{0,\dots,S-1\}` with a distribution
:math:`p_L` and, for each context, the true next-word distribution :math:`p^*_{\cdot\mid s}` over a vocabulary of
:math:`V` words. Every population quantity of Part IV (cross-entropy, :math:`\epsilon`, the coverage
coefficient :math:`\gamma`, a natural task's loss) is then an exact finite sum.
See: Chapter "Natural tasks and the square-root guarantee".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import softmax

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng

_ATOL = 1e-9


@dataclass(frozen=True)
class NaturalTask:
    r"""A binary task on the contexts of a :class:`SyntheticLanguage`.

    Contexts are drawn from ``p_task`` (:math:`p_{\mathcal T}`) and labelled
    :math:`y_s=\mathrm{sign}(v^\top p^*_{\cdot\mid s}-c)` (ties get :math:`+1`), so the classifier
    :math:`p\mapsto v^\top p-c` reaches every label with margin :math:`y_s(v^\top p^*_{\cdot\mid s}-c)\ge0`.

    Attributes
    ----------
    p_task : numpy.ndarray
        (S,): distribution of the task's contexts.
    labels : numpy.ndarray
        (S,): labels in :math:`\{-1,+1\}` (integers).
    v : numpy.ndarray
        (V,): the task vector (word weights) :math:`v`.
    threshold : float
        The threshold :math:`c`.
    """

    p_task: np.ndarray
    labels: np.ndarray
    v: np.ndarray
    threshold: float

    @property
    def B(self) -> float:
        r"""The max-norm :math:`B=\|v\|_\infty` of the task vector."""
        return float(np.max(np.abs(self.v)))


@check_shapes(p_context=Shape("S", simplex=True, atol=_ATOL), p_next=Shape("S V", simplex=True, atol=_ATOL),
              Phi=Shape("d V", optional=True), theta=Shape("S d", optional=True),
              context_tokens=Shape("S L", dtype="int", optional=True))
class SyntheticLanguage:
    r"""A language with finitely many contexts and known next-word distributions.

    .. math:: s\sim p_L,\qquad w\mid s\sim p^*_{\cdot\mid s}\in\Delta_V .

    See: Chapter "Natural tasks and the square-root guarantee", Section "Contexts and next words".

    Parameters
    ----------
    p_context : array_like, shape (S,)
        The context distribution :math:`p_L` (non-negative, sums to 1).
    p_next : array_like, shape (S, V)
        Row :math:`s` is :math:`p^*_{\cdot\mid s}` (each row non-negative, summing to 1).
    Phi : array_like, shape (d, V), optional
        Word embeddings that generated the language when it is softmax-realizable
        (:math:`p^*_{\cdot\mid s}=\mathrm{softmax}(\Phi^\top\theta_s)`); ``None`` otherwise.
    theta : array_like, shape (S, d), optional
        The context vectors :math:`\theta_s` that go with ``Phi``.
    context_tokens : array_like of int, shape (S, L), optional
        The token sequence of each context (e.g. from an HMM); ``None`` when contexts are abstract.

    Attributes
    ----------
    p_context, p_next, Phi, theta, context_tokens
        As given (float64 / int64 copies).
    n_contexts : int
        :math:`S`.
    vocab : int
        :math:`V`.
    """

    def __init__(
        self,
        p_context: ArrayLike,
        p_next: ArrayLike,
        *,
        Phi: ArrayLike | None = None,
        theta: ArrayLike | None = None,
        context_tokens: ArrayLike | None = None,
    ) -> None:
        if p_next.shape[1] < 2:
            raise ValueError(f"p_next must have at least 2 words (columns), got shape {p_next.shape}")
        self.p_context = p_context.copy()
        self.p_next = p_next.copy()
        self.n_contexts, self.vocab = p_next.shape
        if (Phi is None) != (theta is None):
            raise ValueError("Phi and theta must be given together (or both be None)")
        self.Phi = None if Phi is None else Phi.copy()
        self.theta = None if theta is None else theta.copy()
        self.context_tokens = None if context_tokens is None else context_tokens.copy()

    def __repr__(self) -> str:
        kind = "softmax-realizable" if self.Phi is not None else "general"
        return f"SyntheticLanguage(S={self.n_contexts}, V={self.vocab}, {kind})"

    # ------------------------------------------------------------------------------------------------------------
    # constructors
    # ------------------------------------------------------------------------------------------------------------

    @classmethod
    def softmax_realizable(
        cls,
        n_contexts: int,
        vocab: int,
        dim: int,
        rng: Any = None,
        *,
        scale: float = 1.0,
        context_concentration: float = 1.0,
    ) -> SyntheticLanguage:
        r"""A language whose next-word distributions are a softmax of linear logits.

        .. math:: \Phi_{ij}\sim\mathcal N(0,1),\quad \theta_s\sim\mathcal N(0,\mathrm{scale}^2 I_d/d),\quad
                  p^*_{\cdot\mid s}=\mathrm{softmax}(\Phi^\top\theta_s),\quad
                  p_L\sim\mathrm{Dirichlet}(\alpha\mathbf 1_S).

        See: Chapter "Natural tasks and the square-root guarantee", Section "Contexts and next words".

        Parameters
        ----------
        n_contexts : int
            :math:`S\ge1`.
        vocab : int
            :math:`V\ge2`.
        dim : int
            :math:`d\ge1`, the embedding dimension.
        rng : numpy.random.Generator, int or None
            Randomness.
        scale : float
            Typical norm of :math:`\theta_s` (larger = more peaked next-word distributions).
        context_concentration : float
            Dirichlet parameter :math:`\alpha>0` of :math:`p_L` (large = nearly uniform).
        """
        S = check_int("n_contexts", n_contexts, minimum=1)
        V = check_int("vocab", vocab, minimum=2)
        d = check_int("dim", dim, minimum=1)
        scale = check_float("scale", scale, minimum=0.0)
        alpha = check_float("context_concentration", context_concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        Phi = rng.standard_normal((d, V))
        theta = rng.standard_normal((S, d)) * scale / np.sqrt(d)
        p_next = softmax(theta @ Phi, axis=1)
        p_context = rng.dirichlet(np.full(S, alpha))
        return cls(p_context, p_next, Phi=Phi, theta=theta)

    @classmethod
    def topic_model(
        cls,
        n_contexts: int,
        vocab: int,
        n_topics: int,
        rng: Any = None,
        *,
        topic_concentration: float = 0.3,
        mixture_concentration: float = 0.5,
        context_concentration: float = 1.0,
    ) -> SyntheticLanguage:
        r"""A language whose next word comes from a mixture of topics (not softmax-realizable in general).

        .. math:: \beta_k\sim\mathrm{Dirichlet}(a\mathbf 1_V),\quad \pi_s\sim\mathrm{Dirichlet}(b\mathbf 1_K),\quad
                  p^*_{\cdot\mid s}=\sum_{k=1}^K\pi_s(k)\,\beta_k .

        A mixture of distributions is not of the form :math:`\mathrm{softmax}(\Phi^\top\theta)` for a small
        :math:`d`, so an optimal softmax model cannot match :math:`p^*` exactly; every entry is positive almost
        surely (full support), so its optimum is finite.

        See: Chapter "Natural tasks and the square-root guarantee", Section "First-order optimality".

        Parameters
        ----------
        n_contexts, vocab, n_topics : int
            :math:`S\ge1`, :math:`V\ge2`, :math:`K\ge1`.
        rng : numpy.random.Generator, int or None
            Randomness.
        topic_concentration, mixture_concentration, context_concentration : float
            Dirichlet parameters :math:`a,b,\alpha>0` of the topics, the mixtures and :math:`p_L`.
        """
        S = check_int("n_contexts", n_contexts, minimum=1)
        V = check_int("vocab", vocab, minimum=2)
        K = check_int("n_topics", n_topics, minimum=1)
        a = check_float("topic_concentration", topic_concentration, minimum=0.0, strict_min=True)
        b = check_float("mixture_concentration", mixture_concentration, minimum=0.0, strict_min=True)
        alpha = check_float("context_concentration", context_concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        topics = rng.dirichlet(np.full(V, a), size=K)
        mix = rng.dirichlet(np.full(K, b), size=S)
        p_next = mix @ topics
        # Dirichlet draws with small parameters can underflow to exact zeros: keep full support.
        p_next = np.maximum(p_next, 1e-12)
        p_next /= p_next.sum(axis=1, keepdims=True)
        p_context = rng.dirichlet(np.full(S, alpha))
        return cls(p_context, p_next)

    @classmethod
    def from_hmm(cls, hmm: Any, L: int) -> SyntheticLanguage:
        r"""The language of all length-``L`` contexts of a stationary hidden Markov model.

        Contexts are the :math:`V^L` token sequences :math:`x_{1:L}` with their stationary probabilities, and
        :math:`p^*_{\cdot\mid s}=P(X_{L+1}\mid x_{1:L})`, both from ``hmm.enumerate_contexts(L)``. Contexts of
        probability zero are dropped (their next-token distributions are undefined).

        See: Chapter "Natural tasks and the square-root guarantee", Section "Contexts and next words".

        Parameters
        ----------
        hmm : sslbook.data.HMM
            The hidden Markov model (its ``enumerate_contexts(L)`` returns an
            :class:`sslbook.data.HMMContexts` with fields ``contexts``, ``probs`` and ``next_token``).
        L : int
            Context length, ``L >= 1``.
        """
        L = check_int("L", L, minimum=1)
        if not hasattr(hmm, "enumerate_contexts"):
            raise TypeError(f"hmm must have an enumerate_contexts(L) method, got {type(hmm).__name__}")
        out = hmm.enumerate_contexts(L)
        contexts, probs, next_dists = out.contexts, out.probs, out.next_token
        probs = probs / probs.sum()  # exact up to round-off; renormalise for the simplex check
        return cls(probs, next_dists, context_tokens=contexts)

    # ------------------------------------------------------------------------------------------------------------
    # sampling and the language-model objective
    # ------------------------------------------------------------------------------------------------------------

    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw ``n`` independent (context, next word) pairs :math:`s\sim p_L`, :math:`w\sim p^*_{\cdot\mid s}`.

        Parameters
        ----------
        n : int
            Number of pairs, ``n >= 1``.
        rng : numpy.random.Generator, int or None
            Randomness.

        Returns
        -------
        contexts, words : numpy.ndarray of int, shape (n,)
        """
        n = check_int("n", n, minimum=1)
        L = 1 if self.context_tokens is None else self.context_tokens.shape[1]
        check_memory("n", 16.0 * n * (L + 2), what="the samples")
        rng = check_rng("rng", rng)
        s = rng.choice(self.n_contexts, size=n, p=self.p_context)
        cum = np.cumsum(self.p_next[s], axis=1)
        u = rng.random(n)[:, None] * cum[:, -1:]
        w = np.minimum((u >= cum).sum(axis=1), self.vocab - 1)
        return s.astype(np.int64), w.astype(np.int64)

    def entropy(self) -> float:
        r"""The optimal cross-entropy :math:`\mathbb E_{s\sim p_L}H(p^*_{\cdot\mid s})` (nats)."""
        p = self.p_next
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
        return float(self.p_context @ h)

    def cross_entropy(self, q: ArrayLike) -> float:
        r"""Cross-entropy :math:`\mathbb E_{s\sim p_L}\mathbb E_{w\sim p^*_{\cdot\mid s}}[-\ln q_{\cdot\mid s}(w)]` of a
        language model ``q`` (nats).

        Parameters
        ----------
        q : array_like, shape (S, V)
            The model's next-word distributions, one row per context.
        """
        from sslbook.theory.language_models import next_word_cross_entropy

        return float(self.p_context @ next_word_cross_entropy(self.p_next, q))

    def epsilon(self, q: ArrayLike) -> float:
        r"""Excess cross-entropy :math:`\epsilon=\mathbb E_{s\sim p_L}\mathrm{KL}(p^*_{\cdot\mid s}\|q_{\cdot\mid s})`.

        Parameters
        ----------
        q : array_like, shape (S, V)
            The model's next-word distributions.
        """
        from sslbook.theory.language_models import lm_epsilon

        return lm_epsilon(self.p_context, self.p_next, q)

    # ------------------------------------------------------------------------------------------------------------
    # downstream tasks
    # ------------------------------------------------------------------------------------------------------------

    def task_distribution(self, rng: Any = None, *, fraction: float = 0.3, concentration: float = 1.0) -> np.ndarray:
        r"""A task distribution :math:`p_{\mathcal T}\ne p_L` supported on a random subset of the contexts.

        A random ``fraction`` of the contexts (at least one) is kept and :math:`p_{\mathcal T}` on them is
        proportional to :math:`p_L(s)\,u_s` with :math:`u\sim\mathrm{Dirichlet}(\text{concentration})`.

        See: Chapter "Natural tasks and the square-root guarantee", Definition "Coverage coefficient".

        Parameters
        ----------
        rng : numpy.random.Generator, int or None
            Randomness.
        fraction : float
            Fraction of the contexts in the support, in (0, 1].
        concentration : float
            Dirichlet parameter of the reweighting (small = far from :math:`p_L`, small :math:`\gamma`).

        Returns
        -------
        numpy.ndarray, shape (S,)
        """
        fraction = check_float("fraction", fraction, minimum=0.0, maximum=1.0, strict_min=True)
        conc = check_float("concentration", concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        positive = np.flatnonzero(self.p_context > 0)
        if positive.size == 0:  # pragma: no cover - p_context sums to 1
            raise ValueError("p_context has no positive entry")
        k = max(1, int(round(fraction * positive.size)))
        support = rng.choice(positive, size=k, replace=False)
        p_task = np.zeros(self.n_contexts)
        p_task[support] = self.p_context[support] * rng.dirichlet(np.full(k, conc))
        p_task[support] = np.maximum(p_task[support], 1e-300)
        return p_task / p_task.sum()

    def gamma(self, p_task: ArrayLike) -> float:
        r"""Coverage coefficient :math:`\gamma(p_{\mathcal T})=\min_{s:\,p_{\mathcal T}(s)>0}p_L(s)/p_{\mathcal T}(s)`.

        See :func:`sslbook.theory.lm_gamma`.

        Parameters
        ----------
        p_task : array_like, shape (S,)
            The task's context distribution.
        """
        from sslbook.theory.language_models import lm_gamma

        return lm_gamma(p_task, self.p_context)

    def natural_task(
        self,
        v: ArrayLike,
        *,
        p_task: ArrayLike | None = None,
        threshold: float | None = None,
    ) -> NaturalTask:
        r"""The binary task labelled by the word weights ``v``: :math:`y_s=\mathrm{sign}(v^\top p^*_{\cdot\mid s}-c)`.

        With :math:`v=\Phi^\top\lambda` the task is linear in the :math:`d`-dimensional conditional mean
        embedding :math:`\Phi p^*_{\cdot\mid s}` (natural w.r.t. :math:`\Phi`).

        See: Chapter "Natural tasks and the square-root guarantee", Definition "Natural task".

        Parameters
        ----------
        v : array_like, shape (V,)
            Word weights (e.g. ``Phi.T @ lam``).
        p_task : array_like, shape (S,), optional
            Distribution of the task's contexts; default :math:`p_L`.
        threshold : float, optional
            The threshold :math:`c`; default the :math:`p_{\mathcal T}`-weighted median of
            :math:`v^\top p^*_{\cdot\mid s}` (balanced classes).

        Returns
        -------
        NaturalTask
        """
        given = bind_shapes({"v": (v, "V"), "p_task": (p_task, Shape("S", simplex=True, atol=_ATOL, optional=True))},
                            dims={"V": self.vocab, "S": self.n_contexts})
        v = given["v"]
        pt = self.p_context.copy() if p_task is None else given["p_task"]
        scores = self.p_next @ v
        if threshold is None:
            order = np.argsort(scores)
            cum = np.cumsum(pt[order])
            c = float(scores[order][np.searchsorted(cum, 0.5)])
            # put c strictly between two distinct scores when possible, so no margin is exactly 0
            higher = scores[scores > c]
            if higher.size:
                c = 0.5 * (c + float(higher.min()))
        else:
            c = check_float("threshold", threshold)
        labels = np.where(scores >= c, 1, -1).astype(np.int64)
        return NaturalTask(p_task=pt, labels=labels, v=v.copy(), threshold=c)
