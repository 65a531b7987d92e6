"""The downstream protocol: probes trained on frozen features, and how they are scored.

A representation :math:`f` is judged by what a simple classifier on top of it can do with few labels:
the mean classifier :math:`W^\\mu` (rows :math:`\\mu_c = \\E_{x\\sim\\mathcal D_c} f(x)`), a linear probe
(logistic or least squares), or k-nearest neighbours; scored by accuracy, AVG-k (average accuracy over
k-way tasks) and TOP-R (:mod:`sslbook.metrics`, re-exported here).
See: Chapter 1, "The downstream protocol".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_psd,
    check_work,
)

# Scoring a classifier (AVG-k, TOP-R) lives in sslbook.metrics; re-exported here, beside the probes it scores.
from sslbook.metrics import avg_k_accuracy as avg_k_accuracy
from sslbook.metrics import n_beaten_by as n_beaten_by
from sslbook.metrics import top_r_accuracy as top_r_accuracy

#: Labelled features: ``features`` (n, d) and integer ``labels`` (n,).
_LABELLED = {"features": "n d", "labels": Shape("n", dtype="int")}

# ----------------------------------------------------------------------------------------------------
# Least squares and its excess risk (regression targets)
# ----------------------------------------------------------------------------------------------------


def least_squares(X, Y, *, ridge: float = 0.0) -> np.ndarray:
    r"""Ordinary (or ridge) least squares without intercept, batched over leading axes.

    .. math:: \hat W = (X^\top X + \lambda I)^{-1} X^\top Y

    See: Chapter 1, "Least squares on a representation".

    Parameters
    ----------
    X : array_like, shape (..., n, p)
        Design matrices (a leading batch axis holds independent problems).
    Y : array_like, shape (..., n) or (..., n, m)
        Targets.
    ridge : float
        :math:`\lambda \ge 0`; with ``ridge=0`` the design must have full column rank.

    Returns
    -------
    numpy.ndarray, shape (..., p) or (..., p, m)
    """
    X = check_array("X", X, ndim=(2, 3))
    Y = check_array("Y", Y, ndim=(1, 2, 3))
    ridge = check_float("ridge", ridge, minimum=0.0)
    vector = Y.ndim == X.ndim - 1
    if vector:
        Y = Y[..., None]
    if Y.shape[:-1] != X.shape[:-1]:
        raise ValueError(f"Y must have shape {X.shape[:-1]} (+ targets), got {Y.shape}")
    p = X.shape[-1]
    gram = np.swapaxes(X, -1, -2) @ X
    if ridge > 0:
        gram = gram + ridge * np.eye(p)
    elif X.shape[-2] < p or np.any(np.linalg.matrix_rank(X) < p):
        raise ValueError(f"X must have full column rank p={p} for ridge=0 (rank-deficient design); use ridge > 0")
    try:
        if X.ndim == 3:  # many small problems: one BLAS thread avoids oversubscription (much faster)
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1):
                W = np.linalg.solve(gram, np.swapaxes(X, -1, -2) @ Y)
        else:
            W = np.linalg.solve(gram, np.swapaxes(X, -1, -2) @ Y)
    except np.linalg.LinAlgError:
        raise ValueError("X must have full column rank for ridge=0 (X^T X is singular); use ridge > 0") from None
    return W[..., 0] if vector else W


@check_shapes(w_hat="[B] p", w_star="p", cov=Shape("p p", optional=True))
def excess_risk(w_hat, w_star, cov=None) -> np.ndarray:
    r"""Excess risk of a linear predictor when the target is linear: :math:`(\hat w-w^*)^\top\Sigma(\hat w-w^*)`.

    For :math:`y = \langle w^*, x\rangle + \varepsilon` with :math:`\E[xx^\top]=\Sigma`, this equals
    :math:`\E_x[(\langle\hat w,x\rangle - \langle w^*,x\rangle)^2] = \mathrm{ER}(\hat w)`.

    See: Chapter 1, "Least squares on a representation".

    Parameters
    ----------
    w_hat : array_like, shape (..., p)
        Estimates (batched over leading axes).
    w_star : array_like, shape (p,)
        The true coefficients.
    cov : array_like, shape (p, p), optional
        :math:`\Sigma` (default identity).

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    delta = w_hat - w_star
    if cov is None:
        return np.sum(delta**2, axis=-1)
    cov = check_psd("cov", cov)
    return np.einsum("...i,ij,...j->...", delta, cov, delta)


# ----------------------------------------------------------------------------------------------------
# Classifiers on features
# ----------------------------------------------------------------------------------------------------


def _features_labels(features, labels):
    out = bind_shapes({name: (value, _LABELLED[name]) for name, value in (("features", features), ("labels", labels))})
    X, y = out["features"], out["labels"]
    if np.any(y < 0):
        raise ValueError("labels must be non-negative integers 0..C-1")
    return X, y


def _n_classes(y: np.ndarray, n_classes: int | None) -> int:
    if n_classes is None:
        return int(y.max()) + 1
    n_classes = check_int("n_classes", n_classes, minimum=1)
    check_memory("n_classes", 24.0 * n_classes * max(y.size, 1), what="per-example class scores")
    if y.max() >= n_classes:
        raise ValueError(f"labels must be < n_classes={n_classes}, found label {int(y.max())}")
    return n_classes


class Classifier:
    """Shared scoring interface: ``scores``, ``predict``, ``accuracy``."""

    n_classes: int

    def scores(self, features) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict(self, features) -> np.ndarray:
        """Predicted class: :math:`\\arg\\max_c` of the scores."""
        return np.argmax(self.scores(features), axis=1)

    def accuracy(self, features, labels) -> float:
        """Fraction of correct predictions; ``labels`` must lie in ``0..n_classes-1``."""
        X, y = _features_labels(features, labels)
        if y.size and y.max() >= self.n_classes:
            raise ValueError(f"labels must lie in 0..{self.n_classes - 1} (the classifier's n_classes = "
                             f"{self.n_classes}), found label {int(y.max())}")
        return float(np.mean(self.predict(X) == y))


@check_shapes(W="C d", b="C")
@dataclass
class LinearClassifier(Classifier):
    r"""A linear classifier :math:`x\mapsto Wx+b` with ``W`` of shape (C, d)."""

    W: np.ndarray
    b: np.ndarray

    @property
    def n_classes(self) -> int:  # type: ignore[override]
        return self.W.shape[0]

    def scores(self, features) -> np.ndarray:
        """Scores :math:`Wf(x)+b`, shape (n, C)."""
        X = bind_shapes({"features": (features, "n d")}, dims={"d": self.W.shape[1]})["features"]
        return X @ self.W.T + self.b


@check_shapes(**_LABELLED)
def class_means(features, labels, n_classes: int | None = None) -> np.ndarray:
    r"""Per-class means :math:`\hat\mu_c = \frac1{n_c}\sum_{i:y_i=c} f(x_i)`, shape (C, d).

    Every class in ``range(n_classes)`` must have at least one example.
    See: Chapter 1, "The mean classifier".
    """
    X, y = _features_labels(features, labels)
    C = _n_classes(y, n_classes)
    counts = np.bincount(y, minlength=C)
    if np.any(counts == 0):
        raise ValueError(f"labels must contain every class 0..{C - 1}; missing {np.flatnonzero(counts == 0).tolist()}")
    sums = np.zeros((C, X.shape[1]))
    np.add.at(sums, y, X)
    return sums / counts[:, None]


@check_shapes(**_LABELLED)
def mean_classifier(features, labels, n_classes: int | None = None, *, center: bool = False) -> LinearClassifier:
    r"""The mean classifier :math:`W^\mu`: row :math:`c` is the class mean :math:`\hat\mu_c`.

    It predicts :math:`\arg\max_c \langle \hat\mu_c, f(x)\rangle` (inner products, as in the CURL analysis;
    no bias). It needs no optimisation, which is why the theory of contrastive learning uses it.
    With ``center=True`` the features are first centred at their labelled average :math:`m`:
    :math:`\arg\max_c \langle \hat\mu_c-m, f(x)-m\rangle`.

    See: Chapter 1, "The mean classifier".

    Parameters
    ----------
    features : array_like, shape (n, d)
    labels : array_like of int, shape (n,)
    n_classes : int, optional
        Number of classes C (default ``max(labels) + 1``).
    center : bool
        Centre the features at the average of the labelled examples.
    """
    if not isinstance(center, bool):
        raise TypeError(f"center must be a bool, got {type(center).__name__}")
    means = class_means(features, labels, n_classes)
    if not center:
        return LinearClassifier(W=means, b=np.zeros(means.shape[0]))
    m = features.mean(axis=0)  # converted by check_shapes
    W = means - m
    return LinearClassifier(W=W, b=-W @ m)


@check_shapes(**_LABELLED)
def linear_probe(
    features,
    labels,
    *,
    kind: str = "logistic",
    reg: float = 1e-3,
    n_classes: int | None = None,
    max_iter: int = 200,
    device=None,
) -> LinearClassifier:
    r"""Train a linear probe :math:`x\mapsto Wf(x)+b` on frozen features.

    * ``kind="logistic"``: multinomial logistic regression,
      :math:`\min_{W,b}\frac1n\sum_i -\log\mathrm{softmax}(Wf(x_i)+b)_{y_i} + \frac{\lambda s^2}{2}\|W\|_F^2`,
      solved by L-BFGS in torch (on the GPU when there is one).
    * ``kind="ols"``: least squares on one-hot targets,
      :math:`\min_{W,b}\frac1n\sum_i\|e_{y_i}-Wf(x_i)-b\|^2+\lambda s^2\|W\|_F^2`, in closed form.

    The penalty is scaled by the features' mean squared deviation
    :math:`s^2=\frac1{nd}\sum_{i,j}(f_j(x_i)-\bar f_j)^2`, so the probe is invariant to rescaling and shifting the
    features (:math:`f\mapsto af+c` gives the same predictions): ``reg`` is relative to the data. The problem is
    solved on the centred features divided by :math:`s` (well conditioned for any scale) and mapped back.

    See: Chapter 1, "Linear probes".

    Parameters
    ----------
    features : array_like, shape (n, d)
    labels : array_like of int, shape (n,)
    kind : {"logistic", "ols"}
    reg : float
        :math:`\lambda \ge 0`, relative to the features' mean squared deviation :math:`s^2`.
    n_classes : int, optional
    max_iter : int
        L-BFGS iterations (logistic).
    device : str or torch.device, optional
        Default: auto (cuda, mps, cpu).
    """
    X, y = _features_labels(features, labels)
    C = _n_classes(y, n_classes)
    kind = check_choice("kind", kind, ("logistic", "ols"))
    reg = check_float("reg", reg, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    n, d = X.shape
    # one-hot targets / logits (n, C) with their gradient, and W (C, d) with L-BFGS's 20-pair history (float64)
    check_memory("n_classes", 8.0 * (3 * n * C + 44 * C * d + 2 * n * d),
                 what="the probe's logits and weights (float64)")
    mean, scale = _location_scale(X)
    Z = (X - mean) / scale
    if kind == "ols":
        Y = np.eye(C)[y]
        Ym = Y.mean(axis=0)
        gram = Z.T @ Z + reg * n * np.eye(d)
        Wz = np.linalg.lstsq(gram, Z.T @ (Y - Ym), rcond=None)[0].T
        bz = Ym
    else:
        clf = _logistic_lbfgs(Z, y, C, reg, max_iter, device)
        Wz, bz = clf.W, clf.b
    W = Wz / scale
    return LinearClassifier(W=W, b=bz - W @ mean)


def _location_scale(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Column means and the root mean squared deviation :math:`s` of ``X`` (1 for constant features).

    Computed without overflow or underflow for any representable scale (``X * 1e200``, ``X * 1e-200``).
    """
    mean = X.mean(axis=0)
    if not np.all(np.isfinite(mean)):  # the sum overflowed: average the pre-scaled values
        top = np.max(np.abs(X))
        mean = (X / top).mean(axis=0) * top
    dev = X - mean
    top = float(np.max(np.abs(dev))) if dev.size else 0.0
    if not top > 0 or not np.isfinite(top):
        if not np.isfinite(top):
            raise ValueError("features must have a spread representable in float64 (their deviations overflow)")
        return mean, 1.0
    return mean, top * float(np.sqrt(np.mean((dev / top) ** 2)))


def _logistic_lbfgs(X, y, C, reg, max_iter, device) -> LinearClassifier:
    import torch
    import torch.nn.functional as F

    from sslbook.device import cpu_threads, get_device

    dev = get_device(device)
    dtype = torch.float64 if dev.type == "cpu" else torch.float32
    Xt = torch.as_tensor(X, dtype=dtype, device=dev)
    yt = torch.as_tensor(y, dtype=torch.long, device=dev)
    W = torch.zeros(C, X.shape[1], dtype=dtype, device=dev, requires_grad=True)
    b = torch.zeros(C, dtype=dtype, device=dev, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, b], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-9, tolerance_change=1e-12,
    )

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(Xt @ W.T + b, yt) + 0.5 * reg * (W * W).sum()
        loss.backward()
        return loss

    # Small CPU problems run faster on one thread (intra-op threading overhead dominates).
    with cpu_threads(1 if dev.type == "cpu" and X.size < 200_000 else None):
        loss = opt.step(closure)
    if not torch.isfinite(loss):
        raise FloatingPointError("the logistic probe's loss is not finite; scale the features or raise reg")
    return LinearClassifier(W=W.detach().cpu().double().numpy(), b=b.detach().cpu().double().numpy())


@dataclass
class KNNClassifier(Classifier):
    """k-nearest-neighbour vote (scikit-learn), with scores = fraction of the k neighbours in each class."""

    model: object
    n_classes: int

    def __post_init__(self):
        self.n_classes = check_int("n_classes", self.n_classes, minimum=1)

    def scores(self, features) -> np.ndarray:
        """Fraction of the k neighbours in each class, shape (n, C)."""
        X = check_array("features", features, ndim=2)
        proba = self.model.predict_proba(X)
        out = np.zeros((X.shape[0], self.n_classes))
        out[:, self.model.classes_] = proba
        return out


@check_shapes(**_LABELLED)
def knn_probe(features, labels, *, k: int = 5, metric: str = "euclidean", n_classes: int | None = None):
    """k-nearest-neighbour classifier on frozen features (scikit-learn's ``KNeighborsClassifier``).

    See: Chapter 1, "Linear probes".

    Parameters
    ----------
    features : array_like, shape (n, d)
    labels : array_like of int, shape (n,)
    k : int
        Number of neighbours, at most n.
    metric : {"euclidean", "cosine"}
    """
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _features_labels(features, labels)
    C = _n_classes(y, n_classes)
    k = check_int("k", k, minimum=1, maximum=X.shape[0])
    metric = check_choice("metric", metric, ("euclidean", "cosine"))
    model = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(X, y)
    return KNNClassifier(model=model, n_classes=C)


PROBES = ("mean", "logistic", "ols", "knn")


def fit_probe(features, labels, probe: str, **kwargs) -> Classifier:
    """Fit one of the book's probes by name: ``"mean"`` (centred mean classifier), ``"logistic"``, ``"ols"``
    (:func:`linear_probe`) or ``"knn"`` (:func:`knn_probe`); ``kwargs`` go to that function.

    See: Chapter 1, "Probes on real digits".
    """
    probe = check_choice("probe", probe, PROBES)
    if probe == "mean":
        return mean_classifier(features, labels, center=kwargs.pop("center", True), **kwargs)
    if probe == "knn":
        return knn_probe(features, labels, **kwargs)
    return linear_probe(features, labels, kind=probe, **kwargs)


@check_shapes(**_LABELLED)
def few_label_accuracy(features, labels, n_per_class: int, *, probe: str = "logistic", repeats: int = 5,
                       rng=None, **kwargs) -> np.ndarray:
    """Test accuracy of a probe trained on ``n_per_class`` random labelled examples per class.

    Each repeat draws a fresh labelled set (:func:`sslbook.data.few_label_split`), fits the probe
    (:func:`fit_probe`) and scores it on all remaining examples.

    See: Chapter 1, "Probes on real digits".

    Parameters
    ----------
    features : array_like, shape (n, d)
    labels : array_like of int, shape (n,)
    n_per_class : int
    probe : {"mean", "logistic", "ols", "knn"}
    repeats : int
        Number of random labelled sets.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    numpy.ndarray, shape (repeats,)
    """
    from sslbook._validation import check_rng
    from sslbook.data.splits import few_label_split

    X, y = _features_labels(features, labels)
    repeats = check_int("repeats", repeats, minimum=1)
    check_work("repeats", 1000.0 * repeats * X.size, what="the repeated probe fits")
    check_choice("probe", probe, PROBES)
    rng = check_rng("rng", rng)
    accs = np.empty(repeats)
    for r in range(repeats):
        tr, te = few_label_split(y, n_per_class, rng)
        accs[r] = fit_probe(X[tr], y[tr], probe, **kwargs).accuracy(X[te], y[te])
    return accs
