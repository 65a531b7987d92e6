r"""Discrete multi-view data: a finite joint :math:`P(x_1,x_2,y)` of two views and a label.

Constructors give joints with conditionally independent views (:math:`X_1\perp X_2\mid Y`), perturbations of
them that break conditional independence, and redundant views (both views are noisy copies of one latent
state that determines the label). Every population quantity is then an exact finite sum
(:mod:`sslbook.theory.multiview`); :meth:`DiscreteMultiView.sample` draws i.i.d. triples.

See: Chapter "Multiple views: nonlinear CCA, SimSiam and multi-view redundancy".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng


@check_shapes(joint=Shape("n1 n2 k", simplex=True, axis=None))
@dataclass(frozen=True)
class DiscreteMultiView:
    r"""A finite joint distribution :math:`P(x_1,x_2,y)` of two views and a label.

    Attributes
    ----------
    joint : numpy.ndarray
        :math:`P(x_1,x_2,y)`, shape (n1, n2, k), summing to 1.
    """

    joint: np.ndarray

    @property
    def p12(self) -> np.ndarray:
        r""":math:`P(x_1,x_2)`, shape (n1, n2)."""
        return self.joint.sum(axis=2)

    @property
    def p1(self) -> np.ndarray:
        r""":math:`P(x_1)`, shape (n1,)."""
        return self.joint.sum(axis=(1, 2))

    @property
    def p2(self) -> np.ndarray:
        r""":math:`P(x_2)`, shape (n2,)."""
        return self.joint.sum(axis=(0, 2))

    @property
    def py(self) -> np.ndarray:
        r""":math:`P(y)`, shape (k,)."""
        return self.joint.sum(axis=(0, 1))

    def posterior_x1(self) -> np.ndarray:
        r""":math:`P(y\mid x_1)`, shape (n1, k) (rows of zero-probability symbols are NaN)."""
        p1y = self.joint.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return p1y / p1y.sum(axis=1, keepdims=True)

    def posterior_x2(self) -> np.ndarray:
        r""":math:`P(y\mid x_2)`, shape (n2, k)."""
        p2y = self.joint.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return p2y / p2y.sum(axis=1, keepdims=True)

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``n`` i.i.d. triples; returns integer arrays ``(x1, x2, y)`` of shape (n,)."""
        n = check_int("n", n, minimum=1)
        rng = check_rng("rng", rng)
        flat = rng.choice(self.joint.size, size=n, p=self.joint.ravel() / self.joint.sum())
        x1, x2, y = np.unravel_index(flat, self.joint.shape)
        return x1.astype(np.int64), x2.astype(np.int64), y.astype(np.int64)

    @classmethod
    @check_shapes(prior=Shape("k", simplex=True), p_x1_given_y=Shape("k n1", simplex=True),
                  p_x2_given_y=Shape("k n2", simplex=True))
    def from_conditionals(cls, prior, p_x1_given_y, p_x2_given_y) -> DiscreteMultiView:
        r"""The conditionally independent joint :math:`P(y)P(x_1\mid y)P(x_2\mid y)`.

        Parameters
        ----------
        prior : array_like, shape (k,)
            :math:`P(y)`.
        p_x1_given_y : array_like, shape (k, n1)
            Row :math:`y` is :math:`P(\cdot\mid y)` of view 1.
        p_x2_given_y : array_like, shape (k, n2)
            Row :math:`y` is :math:`P(\cdot\mid y)` of view 2.
        """
        return cls(np.einsum("y,ya,yb->aby", prior, p_x1_given_y, p_x2_given_y))

    @classmethod
    def conditionally_independent(
        cls, n1: int, n2: int, k: int, rng=None, *, concentration: float = 0.5
    ) -> DiscreteMultiView:
        r"""A random joint with :math:`X_1\perp X_2\mid Y`: Dirichlet prior and class-conditionals.

        Small ``concentration`` gives peaked class-conditionals (well-separated classes).

        Parameters
        ----------
        n1, n2 : int
            Alphabet sizes of the two views (at least ``k`` for the rank condition to be possible).
        k : int
            Number of labels.
        rng : numpy.random.Generator, int or None
        concentration : float
            Dirichlet parameter of each class-conditional.
        """
        n1 = check_int("n1", n1, minimum=1)
        n2 = check_int("n2", n2, minimum=1)
        k = check_int("k", k, minimum=1)
        concentration = check_float("concentration", concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        prior = rng.dirichlet(np.full(k, 5.0))
        a = rng.dirichlet(np.full(n1, concentration), size=k)
        b = rng.dirichlet(np.full(n2, concentration), size=k)
        return cls.from_conditionals(prior, a, b)

    def perturbed(self, eps: float, rng=None) -> DiscreteMultiView:
        r"""The mixture :math:`(1-\epsilon)P+\epsilon Q` with a random full joint :math:`Q(x_1,x_2,y)`.

        For :math:`\epsilon>0` conditional independence generically fails.

        Parameters
        ----------
        eps : float
            Mixing weight in [0, 1].
        rng : numpy.random.Generator, int or None
        """
        eps = check_float("eps", eps, minimum=0.0, maximum=1.0)
        rng = check_rng("rng", rng)
        q = rng.dirichlet(np.ones(self.joint.size)).reshape(self.joint.shape)
        return DiscreteMultiView((1 - eps) * self.joint + eps * q)

    @classmethod
    def redundant_views(cls, n_states: int, k: int, noise: float, rng=None) -> DiscreteMultiView:
        r"""Two noisy copies of one latent state :math:`S` that (softly) determines the label.

        :math:`S` uniform on ``n_states`` symbols; :math:`Y\mid S` from a random peaked distribution; each view
        equals :math:`S` with probability :math:`1-\text{noise}` and is uniform otherwise, independently given
        :math:`S`. The latent is summed out. At ``noise = 0`` each view reveals :math:`S`, so
        :math:`\epsilon_X=\epsilon_Z=0`; redundancy degrades as ``noise`` grows.

        Parameters
        ----------
        n_states : int
            Alphabet size of :math:`S` and of both views.
        k : int
            Number of labels.
        noise : float
            Corruption probability in [0, 1].
        rng : numpy.random.Generator, int or None
        """
        n_states = check_int("n_states", n_states, minimum=1)
        k = check_int("k", k, minimum=1)
        noise = check_float("noise", noise, minimum=0.0, maximum=1.0)
        check_memory("n_states and k", 32.0 * n_states * n_states * k, what="the joint table")
        rng = check_rng("rng", rng)
        p_y_s = rng.dirichlet(np.full(k, 0.3), size=n_states)
        channel = (1 - noise) * np.eye(n_states) + noise / n_states
        joint = np.einsum("s,sx,sz,sy->xzy", np.full(n_states, 1.0 / n_states), channel, channel, p_y_s)
        return cls(joint)


@check_shapes(topics=Shape("k V", simplex=True))
@dataclass(frozen=True)
class TopicModelDocs:
    r"""Single-topic documents split into two halves: the two views of a topic model.

    A document has one topic :math:`y\sim\mathrm{Uniform}\{1,\dots,k\}`; the words of both halves are drawn
    i.i.d. from the topic's word distribution :math:`\beta_y` over a vocabulary of size :math:`V`. The views
    are the halves' normalised bags of words :math:`X_1, X_2\in\Delta^{V-1}`, so :math:`X_1\perp X_2\mid Y`
    exactly and :math:`\mathbb E[X_2\mid Y=y]=\beta_y`: the matrix :math:`A` of the CI lemma is
    :math:`\beta^\top`, of rank :math:`k` for generic topics.

    See: Chapter "Multiple views: nonlinear CCA, SimSiam and multi-view redundancy", "Two halves of a document".

    Attributes
    ----------
    topics : numpy.ndarray
        :math:`\beta`, shape (k, V), rows summing to 1.
    """

    topics: np.ndarray

    @classmethod
    def random(cls, k: int, vocab: int, *, concentration: float = 0.1, rng=None) -> TopicModelDocs:
        r"""Topics drawn i.i.d. from a symmetric :math:`\mathrm{Dirichlet}(\alpha)` over ``vocab`` words."""
        k = check_int("k", k, minimum=2)
        vocab = check_int("vocab", vocab, minimum=2)
        check_memory("k and vocab", 16.0 * k * vocab, what="the topics")
        concentration = check_float("concentration", concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        topics = rng.dirichlet(np.full(vocab, concentration), size=k)
        topics = np.maximum(topics, 1e-300)
        return cls(topics / topics.sum(axis=1, keepdims=True))

    @property
    def k(self) -> int:
        """Number of topics."""
        return self.topics.shape[0]

    def sample(self, n: int, half_length: int, rng=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` documents of ``2 * half_length`` words: returns ``X1``, ``X2`` (n, V) word frequencies of the
        two halves, and the topics ``y`` (n,)."""
        n = check_int("n", n, minimum=1)
        half_length = check_int("half_length", half_length, minimum=1)
        check_memory("n", 8.0 * n * (4 * self.topics.shape[1] + 4), what="the documents' word counts")
        rng = check_rng("rng", rng)
        y = rng.integers(0, self.k, size=n)
        counts = np.stack([rng.multinomial(half_length, self.topics[y]) for _ in range(2)])
        x1, x2 = counts / half_length
        return x1, x2, y
