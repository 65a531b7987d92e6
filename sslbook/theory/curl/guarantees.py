r"""From the contrastive loss to a downstream guarantee: the CURL bound calculators of Chapter 4.

* the intraclass deviation :math:`s(f)` and the collision cost of CURL's Lemma 4.4 (:func:`intraclass_deviation`,
  :func:`collision_constant`);
* the collision-refined guarantee of CURL's Theorem 4.5 (:func:`collision_refined_bound`);
* the generalization term :math:`\mathrm{Gen}_M` of a norm-bounded linear encoder trained on :math:`M` triples
  (:func:`linear_generalization_bound`, with the exact second moment :func:`triple_moment`);
* the exact two-representation counterexample to a "competitive" guarantee (:func:`dream_counterexample`).

All pure numpy. Representations on finite latent classes are given as in ``sslbook.theory.curl.losses``:
per-class feature arrays ``features[c]`` of shape ``(n_c, d)`` with the class distribution ``rho`` and optional
within-class probabilities ``probs`` (default uniform), or a finite :class:`sslbook.data.LatentClassModel`.

See: Chapter 4, "From training loss to a downstream guarantee". The results are those of Arora et al. (ICML
2019), Sections 4 and 5, in the forms derived in the chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sslbook._validation import check_array, check_choice, check_float, check_int
from sslbook.theory.curl._enumeration import LOSSES, unpack_classes
from sslbook.theory.toolbox import HINGE_LIPSCHITZ, LOGISTIC2_LIPSCHITZ, hinge_loss, logistic2_loss

__all__ = [
    "DreamCounterexample",
    "GeneralizationBound",
    "collision_constant",
    "collision_refined_bound",
    "dream_counterexample",
    "dream_unsup_loss",
    "intraclass_deviation",
    "linear_generalization_bound",
    "linear_probe_loss",
    "triple_moment",
]

_LN2 = math.log(2.0)


def _check_loss(loss: str) -> str:
    return check_choice("loss", loss, LOSSES)


def _classes(features, rho, probs, name: str = "features") -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Validated per-class features, within-class probabilities and rho (one class allowed)."""
    return unpack_classes(features, rho, probs, min_classes=1, name=name)


# ----------------------------------------------------------------------------------------------------
# Lemma 4.4 and Theorem 4.5: the cost of class collisions
# ----------------------------------------------------------------------------------------------------


def collision_constant(loss: str) -> float:
    r"""The constant :math:`c'` of the collision-cost lemma, :math:`L^{=}_{un}(f)-1\le c'\,s(f)`.

    .. math:: c' = \frac{1}{\sqrt2}\ \text{(hinge)},\qquad c'=\frac{1}{\sqrt2\,\ln 2}\ (\log_2\text{-logistic}).

    Derived in Chapter 4 from :math:`\ell(v)-1-\ell'(0)v\le|v|/2` (hinge) or :math:`|v|/(2\ln2)` (logistic),
    :math:`\mathbb E[v\mid x]=0` within a colliding class and :math:`\mathbb E|v|\le\sqrt{2f(x)^\top\Sigma f(x)}`.

    See: Chapter 4, Lemma "The cost of a class collision".

    Parameters
    ----------
    loss : {"hinge", "logistic2"}
    """
    loss = _check_loss(loss)
    return 1.0 / math.sqrt(2.0) if loss == "hinge" else 1.0 / (math.sqrt(2.0) * _LN2)


def intraclass_deviation(features, rho=None, *, probs=None) -> float:
    r"""The intraclass deviation :math:`s(f)` of a representation on finite latent classes, exactly.

    .. math:: s(f)=\mathbb E_{c\sim\rho_{=}}\Big[\sqrt{\|\Sigma(f,c)\|_2}\;\mathbb E_{x\sim\mathcal D_c}\|f(x)\|\Big],
              \qquad \rho_{=}(c)=\frac{\rho(c)^2}{\tau},\quad \Sigma(f,c)=\mathrm{Cov}_{x\sim\mathcal D_c}f(x),

    with :math:`\tau=\sum_c\rho(c)^2` and :math:`\|\cdot\|_2` the spectral norm (largest eigenvalue of the
    population covariance). :math:`\rho_{=}` is the law of the class of a collision, :math:`c^+=c^-`.

    See: Chapter 4, Lemma "The cost of a class collision".

    Parameters
    ----------
    features : sequence of array_like or LatentClassModel
        ``features[c]`` of shape ``(n_c, d)``: :math:`f(x)` on the support of class ``c``.
    rho : array_like, shape (C,), optional
        Class distribution (required with feature arrays).
    probs : sequence of array_like, optional
        Within-class probabilities (default uniform).

    Returns
    -------
    float
    """
    feats, ps, r = _classes(features, rho, probs)
    nu = r**2 / np.sum(r**2)
    s = 0.0
    for F, p, w in zip(feats, ps, nu, strict=True):
        if w == 0:
            continue
        mu = p @ F
        cov = (F - mu).T @ ((F - mu) * p[:, None])
        top = max(float(np.linalg.eigvalsh(cov)[-1]), 0.0)
        s += w * math.sqrt(top) * float(p @ np.linalg.norm(F, axis=1))
    return float(s)


def collision_refined_bound(L_neq, s, tau, *, loss: str, gen=0.0):
    r"""The collision-refined guarantee (Arora et al. 2019, Theorem 4.5, in the form derived in Chapter 4).

    .. math:: L^{\ne}_{un}(f)+\beta\,s(f)+\eta\,\mathrm{Gen}_M,\qquad
              \beta=c'\,\frac{\tau}{1-\tau},\quad \eta=\frac1{1-\tau},

    with :math:`c'` from :func:`collision_constant`. With ``gen = 0`` it bounds :math:`L^\mu_{sup}(f)` for every
    :math:`f`; with the generalization term it bounds :math:`L^\mu_{sup}(\hat f)` of the empirical minimiser
    against any competitor :math:`f`.

    See: Chapter 4, Theorem "A guarantee with the collision cost made explicit".

    Parameters
    ----------
    L_neq : float or array_like
        :math:`L^{\ne}_{un}(f)`.
    s : float or array_like
        :math:`s(f)\ge0` (:func:`intraclass_deviation`).
    tau : float or array_like
        Collision probability in :math:`[0,1)`.
    loss : {"hinge", "logistic2"}
    gen : float or array_like
        :math:`\mathrm{Gen}_M\ge0`.

    Returns
    -------
    float or numpy.ndarray
    """
    c = collision_constant(loss)
    L = check_array("L_neq", L_neq, ndim=None)
    s = check_array("s", s, ndim=None)
    t = check_array("tau", tau, ndim=None)
    g = check_array("gen", gen, ndim=None)
    if np.any(s < 0):
        raise ValueError("s must be non-negative")
    if np.any(t < 0) or np.any(t >= 1):
        raise ValueError("tau must lie in [0, 1)")
    if np.any(g < 0):
        raise ValueError("gen must be non-negative")
    out = L + c * t / (1.0 - t) * s + g / (1.0 - t)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------------------
# Lemma 4.2: the generalization term for a norm-bounded linear encoder
# ----------------------------------------------------------------------------------------------------


def triple_moment(inputs, rho=None, *, probs=None) -> float:
    r"""Exact second moment :math:`m_2=\mathbb E\,\|x\|^2\,\|x^+-x^-\|^2` of the CURL triples of finite classes.

    Given :math:`c^+`, :math:`x` is independent of :math:`(x^+,x^-)`, so

    .. math:: m_2=\sum_c\rho(c)\,\mathbb E_{\mathcal D_c}\|x\|^2\Big(\mathbb E_{\mathcal D_c}\|x^+\|^2
              +\mathbb E_{\bar{\mathcal D}}\|x^-\|^2-2\,m_c^\top\bar m\Big),

    with :math:`m_c` the class means, :math:`\bar{\mathcal D}=\sum_c\rho(c)\mathcal D_c` the law of a negative and
    :math:`\bar m` its mean. :math:`\sqrt{m_2}` is the scale of the Rademacher term of
    :func:`linear_generalization_bound`; :math:`m_2\le4r^4` when :math:`\|x\|\le r`.

    See: Chapter 4, Lemma "Generalization of a norm-bounded linear encoder".

    Parameters
    ----------
    inputs : sequence of array_like or LatentClassModel
        ``inputs[c]`` of shape ``(n_c, D)``: the support of class ``c`` (the inputs, not features).
    rho : array_like, shape (C,), optional
    probs : sequence of array_like, optional

    Returns
    -------
    float
    """
    feats, ps, r = _classes(inputs, rho, probs, name="inputs")
    sq = np.array([p @ np.sum(F**2, axis=1) for F, p in zip(feats, ps, strict=True)])  # E_c ||x||^2
    means = np.stack([p @ F for F, p in zip(feats, ps, strict=True)])
    mbar = r @ means
    return float(np.sum(r * sq * (sq + r @ sq - 2.0 * means @ mbar)))


@dataclass(frozen=True)
class GeneralizationBound:
    r"""The generalization term :math:`\mathrm{Gen}_M=` ``rademacher`` :math:`+` ``concentration``.

    Attributes
    ----------
    rademacher : float
        :math:`2L_\ell B^2\sqrt{m_2/M}`, twice the bound on the Rademacher complexity of the loss class.
    concentration : float
        :math:`\Delta\sqrt{\ln(1/\delta)/(2M)}` (McDiarmid).
    loss_range : float
        :math:`\Delta=\ell(-2B^2r^2)-\ell(2B^2r^2)`, the range of the loss over the class.
    M : int
    delta : float
    """

    rademacher: float
    concentration: float
    loss_range: float
    M: int
    delta: float

    @property
    def total(self) -> float:
        r""":math:`\mathrm{Gen}_M`."""
        return self.rademacher + self.concentration


def linear_generalization_bound(M: int, B: float, *, loss: str, delta: float = 0.05, input_radius: float = 1.0,
                                m2: float | None = None) -> GeneralizationBound:
    r"""Generalization term of the CURL loss for linear encoders :math:`f(x)=Ux`, :math:`\|U\|_F\le B`.

    For inputs with :math:`\|x\|\le r`, one negative, and the hinge (:math:`L_\ell=1`) or :math:`\log_2`-logistic
    (:math:`L_\ell=1/\ln2`) loss: with probability at least :math:`1-\delta` over :math:`M` i.i.d. triples,
    simultaneously for every :math:`f` in the class,

    .. math:: L_{un}(f)-\hat L_{un}(f)\le\mathrm{Gen}_M
              =2L_\ell B^2\sqrt{\frac{m_2}{M}}+\Delta\sqrt{\frac{\ln(1/\delta)}{2M}},

    with :math:`m_2=\mathbb E\|x\|^2\|x^+-x^-\|^2\le4r^4` (:func:`triple_moment`) and
    :math:`\Delta=\ell(-2B^2r^2)-\ell(2B^2r^2)` (hinge: :math:`1+2B^2r^2-\max\{0,1-2B^2r^2\}`; logistic:
    :math:`2B^2r^2/\ln2`). The same bound holds for :math:`\hat L_{un}(f)-L_{un}(f)`.

    See: Chapter 4, Lemma "Generalization of a norm-bounded linear encoder".

    Parameters
    ----------
    M : int
        Number of training triples.
    B : float
        Frobenius-norm radius of the class.
    loss : {"hinge", "logistic2"}
    delta : float
        Failure probability in (0, 1).
    input_radius : float
        :math:`r`, a bound on every input norm.
    m2 : float, optional
        :math:`m_2`; default the worst case :math:`4r^4`. Must lie in :math:`[0, 4r^4]`.

    Returns
    -------
    GeneralizationBound
    """
    M = check_int("M", M, minimum=1)
    B = check_float("B", B, minimum=0.0)
    loss = _check_loss(loss)
    delta = check_float("delta", delta, minimum=0.0, maximum=1.0, strict_min=True)
    if delta >= 1.0:
        raise ValueError(f"delta must be < 1, got {delta}")
    r = check_float("input_radius", input_radius, minimum=0.0, strict_min=True)
    worst = 4.0 * r**4
    m2 = worst if m2 is None else check_float("m2", m2, minimum=0.0)
    if m2 > worst * (1 + 1e-12):
        raise ValueError(f"m2 must be <= 4 * input_radius**4 = {worst:.6g}, got {m2:.6g}")
    a = 2.0 * B**2 * r**2  # largest |margin| over the class
    ell = hinge_loss if loss == "hinge" else logistic2_loss
    lip = HINGE_LIPSCHITZ if loss == "hinge" else LOGISTIC2_LIPSCHITZ
    if loss == "hinge":
        width = float(ell(np.array([-a]))) - float(ell(np.array([a])))
    else:
        width = a / _LN2  # log2(1 + e^a) - log2(1 + e^-a), exact and free of overflow
    return GeneralizationBound(
        rademacher=2.0 * lip * B**2 * math.sqrt(m2 / M),
        concentration=width * math.sqrt(math.log(1.0 / delta) / (2.0 * M)),
        loss_range=width,
        M=M,
        delta=delta,
    )


# ----------------------------------------------------------------------------------------------------
# Section 5: no "dream" competitive guarantee
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DreamCounterexample:
    r"""Two latent classes and two representations for which contrastive ERM picks the useless one.

    Attributes
    ----------
    R : float
        Scale of the nuisance coordinate.
    eps : float
        Scale of the class coordinate.
    rho : numpy.ndarray
        :math:`(\tfrac12,\tfrac12)`.
    f1 : list
        Two arrays of shape (2, 2): class 0 :math:`\mapsto\{(R,\epsilon),(-R,\epsilon)\}`, class 1
        :math:`\mapsto\{(R,-\epsilon),(-R,-\epsilon)\}`, each point with probability ½.
    f2 : list
        :math:`f_2\equiv0` (two arrays of zeros).
    L_un_f1 : float
        Closed form of the hinge :math:`L_{un}(f_1)` (:func:`dream_unsup_loss`).
    L_un_f2 : float
        :math:`L_{un}(f_2)=\ell(0)=1`.
    L_sup_f1 : float
        :math:`L_{sup}(f_1)=0` (best linear probe, hinge), attained at probe scale ``probe_scale``.
    L_sup_f2 : float
        :math:`L_{sup}(f_2)=1`.
    L_mu_sup_f1 : float
        The mean classifier's hinge loss :math:`\max\{0,1-2\epsilon^2\}` on :math:`f_1`.
    probe_scale : float
        :math:`t=1/(2\epsilon)`: the probe with rows :math:`\pm(0,t)` has hinge loss 0 on :math:`f_1`.
    """

    R: float
    eps: float
    rho: np.ndarray
    f1: list
    f2: list
    L_un_f1: float
    L_un_f2: float
    L_sup_f1: float
    L_sup_f2: float
    L_mu_sup_f1: float
    probe_scale: float

    def probe(self, scale: float | None = None) -> np.ndarray:
        r"""The linear probe :math:`W` with rows :math:`(0,t)`, :math:`(0,-t)` (default :math:`t` = ``probe_scale``)."""
        t = self.probe_scale if scale is None else check_float("scale", scale, minimum=0.0)
        return np.array([[0.0, t], [0.0, -t]])


def dream_unsup_loss(R: float, eps: float) -> float:
    r"""Exact hinge :math:`L_{un}(f_1)` of :func:`dream_counterexample`, for all :math:`R,\epsilon\ge0`.

    With :math:`a=2R^2`, :math:`e=2\epsilon^2` and :math:`(\cdot)_+=\max\{0,\cdot\}`: a collision (probability ½)
    gives margins :math:`0,\pm a` with probabilities ½, ¼, ¼; no collision gives :math:`e, e\pm a`. Hence

    .. math:: L_{un}(f_1)=\tfrac12\Big[\tfrac12+\tfrac14(1-a)_++\tfrac14(1+a)\Big]
              +\tfrac12\Big[\tfrac12(1-e)_++\tfrac14(1-a-e)_++\tfrac14(1+a-e)_+\Big],

    which equals :math:`\tfrac34+\tfrac{R^2}2-\tfrac{3\epsilon^2}4` when :math:`R^2\ge\tfrac12` and
    :math:`\epsilon^2\le\tfrac12`.

    See: Chapter 4, Proposition "No competitive guarantee without more assumptions".
    """
    R = check_float("R", R, minimum=0.0)
    eps = check_float("eps", eps, minimum=0.0)
    a, e = 2.0 * R**2, 2.0 * eps**2

    def pos(z: float) -> float:
        return max(0.0, z)

    collision = 0.5 + 0.25 * pos(1 - a) + 0.25 * (1 + a)
    distinct = 0.5 * pos(1 - e) + 0.25 * pos(1 - a - e) + 0.25 * pos(1 + a - e)
    return 0.5 * collision + 0.5 * distinct


def dream_counterexample(R: float = 1.0, eps: float = 0.1) -> DreamCounterexample:
    r"""The exact counterexample to a "dream" competitive guarantee (our construction, hinge loss, one negative).

    Two equally likely classes. :math:`f_1` maps class 0 to :math:`\{(\pm R,\epsilon)\}` and class 1 to
    :math:`\{(\pm R,-\epsilon)\}` (uniformly): the second coordinate separates the classes perfectly, so
    :math:`L_{sup}(f_1)=0`, but the large first coordinate makes the contrastive loss large,
    :math:`L_{un}(f_1)=\tfrac34+\tfrac{R^2}2-\tfrac{3\epsilon^2}4` (for :math:`R^2\ge\tfrac12`). The constant
    :math:`f_2\equiv0` has :math:`L_{un}(f_2)=1` and :math:`L_{sup}(f_2)=1` (chance level). When
    :math:`R^2>\tfrac12+\tfrac32\epsilon^2`, :math:`L_{un}(f_1)>L_{un}(f_2)` and contrastive ERM over
    :math:`\{f_1,f_2\}` picks :math:`f_2`.

    See: Chapter 4, Proposition "No competitive guarantee without more assumptions".

    Parameters
    ----------
    R : float
        Scale of the nuisance coordinate, :math:`R>0`.
    eps : float
        Scale of the class coordinate, :math:`\epsilon>0`.

    Returns
    -------
    DreamCounterexample
    """
    R = check_float("R", R, minimum=0.0, strict_min=True)
    eps = check_float("eps", eps, minimum=0.0, strict_min=True)
    f1 = [np.array([[R, eps], [-R, eps]]), np.array([[R, -eps], [-R, -eps]])]
    f2 = [np.zeros((2, 2)), np.zeros((2, 2))]
    return DreamCounterexample(
        R=R, eps=eps, rho=np.array([0.5, 0.5]), f1=f1, f2=f2,
        L_un_f1=dream_unsup_loss(R, eps), L_un_f2=1.0, L_sup_f1=0.0, L_sup_f2=1.0,
        L_mu_sup_f1=max(0.0, 1.0 - 2.0 * eps**2), probe_scale=1.0 / (2.0 * eps),
    )


def linear_probe_loss(features, W, rho=None, *, probs=None, loss: str = "hinge") -> float:
    r"""Exact supervised loss :math:`L_{sup}(\mathcal T,Wf)` of a linear classifier on finite classes.

    The task is the set of all classes with label distribution :math:`\rho`; for :math:`g=Wf`,

    .. math:: L_{sup}(\mathcal T,Wf)=\sum_c\rho(c)\,\mathbb E_{x\sim\mathcal D_c}\,
              \ell\big(\{g(x)_c-g(x)_{c'}\}_{c'\ne c}\big).

    See: Chapter 4, Proposition "No competitive guarantee without more assumptions".

    Parameters
    ----------
    features : sequence of array_like or LatentClassModel
        ``features[c]`` of shape ``(n_c, d)``.
    W : array_like, shape (C, d)
        One row per class.
    rho : array_like, shape (C,), optional
        Label distribution (required with feature arrays).
    probs : sequence of array_like, optional
    loss : {"hinge", "logistic2"}

    Returns
    -------
    float
    """
    feats, ps, r = _classes(features, rho, probs)
    C = len(feats)
    if C < 2:
        raise ValueError("features must hold at least 2 classes for a classification task")
    W = check_array("W", W, ndim=2)
    if W.shape != (C, feats[0].shape[1]):
        raise ValueError(f"W must have shape {(C, feats[0].shape[1])}, got {W.shape}")
    ell = hinge_loss if _check_loss(loss) == "hinge" else logistic2_loss
    total = 0.0
    for c, (F, p) in enumerate(zip(feats, ps, strict=True)):
        scores = F @ W.T
        margins = scores[:, [c]] - np.delete(scores, c, axis=1)
        total += r[c] * float(p @ ell(margins))
    return float(total)
