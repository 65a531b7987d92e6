r"""The population augmentation graph of a finite set of natural inputs and augmentations.

Natural inputs :math:`\bar x\in\{0,\dots,\bar n-1\}` have probabilities :math:`P_{\bar X}(\bar x)` and each has an
augmentation distribution :math:`\mathcal A(x\mid\bar x)` over augmented inputs :math:`x\in\{0,\dots,N-1\}`. A
positive pair is two independent augmentations of one natural input; the graph on augmented inputs has edge
weights

.. math:: w_{xx'} = \mathbb E_{\bar x\sim P_{\bar X}}\big[\mathcal A(x\mid\bar x)\,\mathcal A(x'\mid\bar x)\big],
          \qquad W = \mathcal A^\top \operatorname{diag}(P_{\bar X})\,\mathcal A,

degrees :math:`w_x=\sum_{x'}w_{xx'}` (the marginal of one augmentation), normalized adjacency
:math:`\bar A=D^{-1/2}WD^{-1/2}` and Laplacian :math:`L=I-\bar A` (HaoChen, Wei, Gaidon and Ma, 2021).

See: Chapter "The augmentation graph and the spectral contrastive loss".
"""

from __future__ import annotations

import numpy as np

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng


@check_shapes(p_bar=Shape("n", simplex=True), A=Shape("n N", simplex=True),
              labels=Shape("n", dtype="int", optional=True))
class AugmentationGraph:
    r"""A finite augmentation graph built from :math:`P_{\bar X}` and an augmentation matrix.

    .. math:: w_{xx'} = \sum_{\bar x} P_{\bar X}(\bar x)\,\mathcal A[\bar x, x]\,\mathcal A[\bar x, x'].

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The augmentation graph".

    Parameters
    ----------
    p_bar : array_like, shape (n_natural,)
        Probabilities :math:`P_{\bar X}(\bar x)` of the natural inputs (non-negative, summing to 1).
    A : array_like, shape (n_natural, n_aug)
        :math:`\mathcal A[\bar x, x]=\mathcal A(x\mid\bar x)`; each row is a probability vector. Every augmented
        input must have positive probability :math:`w_x>0` (drop the others).
    labels : array_like of int, shape (n_natural,), optional
        Downstream labels :math:`y(\bar x)` of the natural inputs, in :math:`\{0,\dots,C-1\}`.

    Attributes
    ----------
    p_bar, A, labels : numpy.ndarray
        The arguments (``labels`` may be ``None``).
    """

    def __init__(self, p_bar, A, labels=None):
        w = A.T @ p_bar
        if np.any(w <= 0):
            bad = np.flatnonzero(w <= 0)[:5].tolist()
            raise ValueError(f"A gives augmented inputs {bad} zero probability: drop those columns")
        if labels is not None and np.any(labels < 0):
            raise ValueError("labels must be non-negative integers")
        self.p_bar = p_bar
        self.A = A
        self.labels = labels
        self._cum = np.cumsum(A, axis=1)

    # ------------------------------------------------------------------ sizes and matrices
    @property
    def n_natural(self) -> int:
        """Number of natural inputs :math:`\\bar n`."""
        return int(self.p_bar.shape[0])

    @property
    def n_aug(self) -> int:
        """Number of augmented inputs :math:`N` (vertices of the graph)."""
        return int(self.A.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes :math:`C` (``max(labels) + 1``); requires labels."""
        self._require_labels()
        return int(self.labels.max()) + 1

    @property
    def W(self) -> np.ndarray:
        r"""Edge weights :math:`W=\mathcal A^\top\operatorname{diag}(P_{\bar X})\mathcal A`, shape (N, N); sum 1."""
        return self.A.T @ (self.p_bar[:, None] * self.A)

    @property
    def w(self) -> np.ndarray:
        r"""Degrees :math:`w_x=\sum_{x'}w_{xx'}=\sum_{\bar x}P_{\bar X}(\bar x)\mathcal A(x\mid\bar x)`, shape (N,)."""
        return self.A.T @ self.p_bar

    @property
    def Abar(self) -> np.ndarray:
        r"""Normalized adjacency :math:`\bar A=D^{-1/2}WD^{-1/2}`, shape (N, N)."""
        s = 1.0 / np.sqrt(self.w)
        return s[:, None] * self.W * s[None, :]

    def laplacian(self) -> np.ndarray:
        r"""Normalized Laplacian :math:`L=I-\bar A`, shape (N, N)."""
        return np.eye(self.n_aug) - self.Abar

    # ------------------------------------------------------------------ labels
    def _require_labels(self) -> None:
        if self.labels is None:
            raise ValueError("this graph has no labels: pass labels= to AugmentationGraph")

    def label_posterior(self) -> np.ndarray:
        r"""Posterior :math:`P(y(\bar x)=c\mid x)` of the label given one augmentation, shape (N, C)."""
        self._require_labels()
        joint = np.zeros((self.n_aug, self.n_classes))
        for c in range(self.n_classes):
            joint[:, c] = self.A[self.labels == c].T @ self.p_bar[self.labels == c]
        return joint / self.w[:, None]

    def bayes_labels(self) -> np.ndarray:
        r"""The labelling :math:`\hat y(x)=\arg\max_c P(y=c\mid x)` of augmented inputs (minimises :math:`\alpha`)."""
        return np.argmax(self.label_posterior(), axis=1)

    # ------------------------------------------------------------------ sampling
    def _augment(self, x_bar: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(x_bar.shape[0])
        x = (u[:, None] >= self._cum[x_bar]).sum(axis=1)
        return np.minimum(x, self.n_aug - 1)

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw :math:`\bar x\sim P_{\bar X}` and one augmentation :math:`x\sim\mathcal A(\cdot\mid\bar x)`.

        Returns
        -------
        x_bar, x : numpy.ndarray of int, shape (n,)
        """
        n = check_int("n", n, minimum=1)
        rng = check_rng("rng", rng)
        x_bar = rng.choice(self.n_natural, size=n, p=self.p_bar)
        return x_bar, self._augment(x_bar, rng)

    def sample_positive_pairs(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw ``n`` positive pairs :math:`(x,x^+)`: two independent augmentations of one :math:`\bar x`.

        The pair has joint distribution :math:`w_{xx'}`.

        Returns
        -------
        x, x_pos : numpy.ndarray of int, shape (n,)
        """
        n = check_int("n", n, minimum=1)
        rng = check_rng("rng", rng)
        x_bar = rng.choice(self.n_natural, size=n, p=self.p_bar)
        return self._augment(x_bar, rng), self._augment(x_bar, rng)

    def sample_independent_pairs(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw ``n`` independent pairs :math:`(x,x')\sim w\otimes w` (augmentations of independent inputs).

        Returns
        -------
        x, x_prime : numpy.ndarray of int, shape (n,)
        """
        n = check_int("n", n, minimum=1)
        rng = check_rng("rng", rng)
        x_bar = rng.choice(self.n_natural, size=(2, n), p=self.p_bar)
        return self._augment(x_bar[0], rng), self._augment(x_bar[1], rng)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def planted_classes(
        cls,
        r: int,
        *,
        natural_per_class: int = 10,
        aug_per_class: int = 10,
        aug_per_input: int = 4,
        leak: float = 0.05,
        concentration: float = 1.0,
        rng=None,
    ) -> AugmentationGraph:
        r"""A random graph with :math:`r` planted classes and tunable leakage between them.

        Class :math:`c` owns ``natural_per_class`` natural inputs (uniform :math:`P_{\bar X}`, label :math:`c`) and
        ``aug_per_class`` augmented inputs. Natural input :math:`j` of class :math:`c` puts mass :math:`1-`
        ``leak`` on ``aug_per_input`` augmentations of its own class (always including the :math:`j`-th and
        :math:`(j+1)`-th of a random cyclic order, so that every class is connected and every augmentation is
        reached) and mass ``leak`` on ``aug_per_input`` random augmentations of other classes, with
        Dirichlet(``concentration``) weights inside each part:

        .. math:: \mathcal A(\cdot\mid\bar x) = (1-\text{leak})\,\mathcal A_{\rm in}(\cdot\mid\bar x)
                  + \text{leak}\;\mathcal A_{\rm out}(\cdot\mid\bar x).

        The random draws do not depend on ``leak``: with the same ``rng`` state, graphs that differ only in
        ``leak`` share their supports and weights.

        See: Chapter "The augmentation graph and the spectral contrastive loss", "Planted classes".

        Parameters
        ----------
        r : int
            Number of classes, at least 2.
        natural_per_class : int
            Natural inputs per class, at least ``aug_per_class``.
        aug_per_class : int
            Augmented inputs per class, at least ``aug_per_input``.
        aug_per_input : int
            Support size of each part of :math:`\mathcal A(\cdot\mid\bar x)`, at least 2.
        leak : float
            Mass on other classes' augmentations, in [0, 1).
        concentration : float
            Dirichlet parameter of the weights (> 0).
        rng : numpy.random.Generator or int, optional

        Returns
        -------
        AugmentationGraph
            With ``labels`` set; augmented inputs are ordered by class (``aug_per_class`` per class).
        """
        r = check_int("r", r, minimum=2)
        aug_per_input = check_int("aug_per_input", aug_per_input, minimum=2)
        aug_per_class = check_int("aug_per_class", aug_per_class, minimum=aug_per_input)
        natural_per_class = check_int("natural_per_class", natural_per_class, minimum=aug_per_class)
        check_memory("r, natural_per_class and aug_per_class",
                     32.0 * (r * natural_per_class) * (r * aug_per_class) + 48.0 * (r * aug_per_class) ** 2,
                     what="the dense augmentation graph")
        leak = check_float("leak", leak, minimum=0.0, maximum=1.0)
        if leak >= 1.0:
            raise ValueError(f"leak must be < 1, got {leak}")
        concentration = check_float("concentration", concentration, minimum=0.0, strict_min=True)
        rng = check_rng("rng", rng)
        n_nat, n_aug = r * natural_per_class, r * aug_per_class
        a_in = np.zeros((n_nat, n_aug))
        a_out = np.zeros((n_nat, n_aug))
        labels = np.repeat(np.arange(r), natural_per_class)
        for c in range(r):
            own = c * aug_per_class + rng.permutation(aug_per_class)
            others = np.setdiff1d(np.arange(n_aug), c * aug_per_class + np.arange(aug_per_class))
            for j in range(natural_per_class):
                row = c * natural_per_class + j
                ring = [own[j % aug_per_class], own[(j + 1) % aug_per_class]]
                rest = np.setdiff1d(own, ring)
                extra = rng.choice(rest, size=aug_per_input - 2, replace=False)
                support = np.concatenate([ring, extra])
                a_in[row, support] = rng.dirichlet(np.full(aug_per_input, concentration))
                out = rng.choice(others, size=aug_per_input, replace=False)
                a_out[row, out] = rng.dirichlet(np.full(aug_per_input, concentration))
        A = (1.0 - leak) * a_in + leak * a_out
        return cls(np.full(n_nat, 1.0 / n_nat), A, labels=labels)

    def __repr__(self) -> str:
        lab = "" if self.labels is None else f", classes={self.n_classes}"
        return f"AugmentationGraph(n_natural={self.n_natural}, n_aug={self.n_aug}{lab})"
