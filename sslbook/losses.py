r"""Self-supervised training losses on feature tensors (torch), one small function per loss.

Each loss takes the features an encoder produced and returns the **batch mean** as a scalar tensor, so that
:func:`sslbook.train.fit` can minimise it. The formula and the paper it comes from are in each docstring.

The contrastive losses of the CURL framework (Arora, Khandeparkar, Khodak, Plevrakis and Saunshi, "A Theoretical
Analysis of Contrastive Unsupervised Representation Learning", ICML 2019) act on the vector of **margins**

.. math:: v_i = f(x)^\top\big(f(x^+) - f(x_i^-)\big), \qquad i = 1,\dots,k,

of an anchor :math:`x`, a positive :math:`x^+` and :math:`k` negatives :math:`x_i^-`
(:func:`contrastive_margins`), through a convex surrogate :math:`\ell` with :math:`\ell(0)=1` for :math:`k=1`.

See: Chapter 3 (the CURL framework) and Chapter 4 (training a contrastive encoder).
"""

from __future__ import annotations

import math

import torch


def _check_tensor(name: str, value, ndim: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim not in ndim:
        raise ValueError(f"{name} must have ndim in {ndim}, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _require(ok: torch.Tensor, message: str, exc: type[Exception] = ValueError) -> None:
    """Raise ``exc(message)`` unless the boolean tensor ``ok`` is true.

    On the CPU this is an ordinary check; on a GPU it is an asynchronous device assertion, so that a training
    step does not synchronise with the host (a failure surfaces at the next synchronisation).
    """
    if ok.device.type == "cpu":
        if not bool(ok):
            raise exc(message)
    else:
        torch._assert_async(ok)


def _check_pair(name: str, value, other_name: str, other, *, min_rows: int = 1, why: str = "") -> tuple:
    """Two (B, d) feature tensors of the same shape with at least ``min_rows`` rows (positive pairs, two views)."""
    value = _check_tensor(name, value, (2,))
    other = _check_tensor(other_name, other, (2,))
    if other.shape != value.shape:
        raise ValueError(f"{other_name} must have the shape of {name} {tuple(value.shape)}, got {tuple(other.shape)}")
    if value.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows{why}, got {value.shape[0]}")
    return value, other


def contrastive_margins(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""Margins :math:`v_i = f(x)^\top(f(x^+) - f(x_i^-))` of a batch of contrastive tuples.

    .. math:: v_{bi} = \langle a_b,\, p_b - n_{bi}\rangle, \qquad b=1,\dots,B,\quad i=1,\dots,k.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
        Features :math:`f(x)` of the anchors.
    positive : torch.Tensor, shape (B, d)
        Features :math:`f(x^+)` of the positives.
    negatives : torch.Tensor, shape (B, k, d) or (B, d)
        Features :math:`f(x_i^-)` of the :math:`k` negatives of each anchor; shape (B, d) means :math:`k=1`.

    Returns
    -------
    torch.Tensor, shape (B, k)
    """
    anchor, positive = _check_pair("anchor", anchor, "positive", positive)
    negatives = _check_tensor("negatives", negatives, (2, 3))
    if negatives.ndim == 2:
        negatives = negatives.unsqueeze(1)
    if negatives.shape[0] != anchor.shape[0] or negatives.shape[2] != anchor.shape[1]:
        raise ValueError(
            f"negatives must have shape (B, k, d) = ({anchor.shape[0]}, k, {anchor.shape[1]}), "
            f"got {tuple(negatives.shape)}"
        )
    if negatives.shape[1] == 0:
        raise ValueError(f"negatives must hold k >= 1 negatives per anchor, got shape {tuple(negatives.shape)}")
    return (anchor * positive).sum(-1, keepdim=True) - torch.einsum("bd,bkd->bk", anchor, negatives)


def contrastive_hinge(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""CURL contrastive loss with the hinge surrogate, averaged over the batch (Arora et al., 2019).

    .. math:: \hat L_{un}(f) = \frac1B\sum_{b=1}^B \ell(v_b),\qquad
              \ell(v) = \max\{0,\ 1 + \max_i(-v_i)\},

    with the margins :math:`v_b\in\mathbb R^k` of :func:`contrastive_margins`; :math:`\ell(0)=1`.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
    positive : torch.Tensor, shape (B, d)
    negatives : torch.Tensor, shape (B, k, d) or (B, d)

    Returns
    -------
    torch.Tensor
        A scalar, the batch mean.
    """
    v = contrastive_margins(anchor, positive, negatives)
    return torch.clamp(1.0 - v.min(dim=1).values, min=0.0).mean()


def contrastive_logistic2(anchor: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    r"""CURL contrastive loss with the base-2 logistic surrogate, batch mean (Arora et al., 2019).

    .. math:: \hat L_{un}(f) = \frac1B\sum_{b=1}^B \ell(v_b),\qquad
              \ell(v) = \log_2\Big(1 + \sum_{i=1}^k e^{-v_i}\Big),

    with the margins :math:`v_b\in\mathbb R^k` of :func:`contrastive_margins`; :math:`\ell(0)=\log_2(1+k)`, which
    is 1 for :math:`k=1`. For :math:`k=1` it is the Quick-Thoughts objective divided by :math:`\ln 2`.
    Computed stably as :math:`\operatorname{logsumexp}(0,-v_1,\dots,-v_k)/\ln 2`.

    See: Chapter 3, "The CURL framework"; Chapter 4, "Training on sampled triples".

    Parameters
    ----------
    anchor : torch.Tensor, shape (B, d)
    positive : torch.Tensor, shape (B, d)
    negatives : torch.Tensor, shape (B, k, d) or (B, d)

    Returns
    -------
    torch.Tensor
        A scalar, the batch mean.
    """
    v = contrastive_margins(anchor, positive, negatives)
    zeros = torch.zeros_like(v[:, :1])
    return (torch.logsumexp(torch.cat([zeros, -v], dim=1), dim=1) / math.log(2.0)).mean()


# ---------------------------------------------------------------------------------------------------------------
# The spectral contrastive loss (Chapter "The augmentation graph and the spectral contrastive loss")


def spectral_contrastive(z: torch.Tensor, z_pos: torch.Tensor) -> torch.Tensor:
    r"""Batch estimate of the spectral contrastive loss of HaoChen, Wei, Gaidon and Ma (2021).

    The population loss is
    :math:`L(f) = -2\,\mathbb E_{(x,x^+)}[f(x)^\top f(x^+)] + \mathbb E_{x,x'}[(f(x)^\top f(x'))^2]`
    with :math:`(x,x^+)` a positive pair and :math:`x,x'` independent draws of the marginal :math:`w`.
    On a batch of positive pairs :math:`(z_i, z_i^+) = (f(x_i), f(x_i^+))`, :math:`i=1,\dots,B`,

    .. math:: \hat L = -\frac2B\sum_{i=1}^B \langle z_i, z_i^+\rangle
              + \frac1{B(B-1)}\sum_{i\ne j} \langle z_i, z_j^+\rangle^2,

    an unbiased estimate of :math:`L(f)` when the pairs are independent (for :math:`i\ne j`, :math:`x_i` and
    :math:`x_j^+` are independent with marginal :math:`w` each).

    See: Chapter "The augmentation graph and the spectral contrastive loss", "Training on sampled pairs".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features :math:`f(x_i)` of the anchors, :math:`B\ge2`.
    z_pos : torch.Tensor, shape (B, k)
        Features :math:`f(x_i^+)` of their positives.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z, z_pos = _check_pair("z", z, "z_pos", z_pos, min_rows=2, why=" (the negative term needs pairs i != j)")
    b = z.shape[0]
    gram = z @ z_pos.T  # (B, B): <z_i, z_pos_j>
    eye = torch.eye(b, dtype=torch.bool, device=z.device)
    off_sq = gram.pow(2).masked_fill(eye, 0.0).sum() / (b * (b - 1))
    return -2.0 * torch.diagonal(gram).mean() + off_sq



# ---------------------------------------------------------------------------------------------------------------
# InfoNCE, alignment and uniformity (Chapter "InfoNCE, alignment and uniformity")


def _check_positive(name: str, value) -> float:
    from sslbook._validation import check_float

    return check_float(name, value, minimum=0.0, strict_min=True)


def info_nce(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float, normalize: bool = True) -> torch.Tensor:
    r"""InfoNCE in the NT-Xent form of SimCLR: in-batch negatives, both directions, batch mean.

    The :math:`2B` features :math:`u_1,\dots,u_{2B}` are the rows of ``z1`` followed by those of ``z2``
    (divided by their norms when ``normalize``); the positive of :math:`u_a` is :math:`u_{p(a)}` with
    :math:`p(a) = a \pm B`, and its :math:`2B-2` negatives are all other rows:

    .. math:: \mathcal L = \frac{1}{2B}\sum_{a=1}^{2B}\Big[-\frac{u_a^\top u_{p(a)}}{\tau}
              + \log\sum_{b\ne a} \exp\Big(\frac{u_a^\top u_b}{\tau}\Big)\Big],

    computed with ``logsumexp`` (stable for any :math:`\tau>0`); the normalized temperature-scaled cross
    entropy (NT-Xent) of Chen et al. (2020), the InfoNCE loss of van den Oord et al. (2018). With
    ``normalize=True``, :math:`\log(2B-1) - 2/\tau \le \mathcal L \le \log(2B-1) + 2/\tau`.

    See: Chapter "InfoNCE, alignment and uniformity", "The loss".

    Parameters
    ----------
    z1, z2 : torch.Tensor, shape (B, d)
        Features of the two views; row :math:`i` of ``z1`` and of ``z2`` come from the same input.
        :math:`B \ge 2`.
    temperature : float
        :math:`\tau > 0`.
    normalize : bool
        Divide every row by its Euclidean norm first (cosine similarities, as in SimCLR).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z1, z2 = _check_pair("z1", z1, "z2", z2, min_rows=2, why=" (in-batch negatives)")
    tau = _check_positive("temperature", temperature)
    if normalize and 2.0 / tau > torch.finfo(z1.dtype).max:
        # |u_a^T u_b| <= 1, so the loss lies within 2/tau of log(2B-1): beyond the dtype's range it is not finite
        raise ValueError(f"temperature must be >= {2.0 / torch.finfo(z1.dtype).max:.3g} for {z1.dtype} features "
                         f"(the loss reaches 2/temperature), got {tau:.3g}")
    u = torch.cat([z1, z2], dim=0)
    if normalize:
        u = torch.nn.functional.normalize(u, dim=1)
    n = u.shape[0]
    B = n // 2
    sims = u @ u.T
    sims.fill_diagonal_(float("-inf"))  # in place: the product's backward does not need its output
    # shift each row by its largest off-diagonal similarity before dividing by tau (cross_entropy is invariant to
    # it): the largest logit is 0, so a small temperature gives no inf - inf = NaN
    logits = (sims - sims.max(dim=1, keepdim=True).values.detach()) / tau
    pos_idx = torch.cat([torch.arange(B, n, device=u.device), torch.arange(0, B, device=u.device)])
    # cross_entropy = logsumexp over the row minus the positive logit, averaged (one fused kernel).
    return torch.nn.functional.cross_entropy(logits, pos_idx)


def align(z1: torch.Tensor, z2: torch.Tensor, *, alpha: float = 2) -> torch.Tensor:
    r"""Alignment loss of Wang and Isola (2020): mean distance of positive pairs to the power :math:`\alpha`.

    .. math:: \mathcal L_{\rm align} = \frac1B\sum_{i=1}^B \|z_{1,i} - z_{2,i}\|_2^{\alpha}.

    The features are used as given (the paper applies it to features on the unit sphere).

    See: Chapter "InfoNCE, alignment and uniformity", "Alignment and uniformity".

    Parameters
    ----------
    z1, z2 : torch.Tensor, shape (B, d)
        Features of positive pairs.
    alpha : float
        :math:`\alpha > 0`.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z1, z2 = _check_pair("z1", z1, "z2", z2)
    alpha = _check_positive("alpha", alpha)
    sq = ((z1 - z2) ** 2).sum(dim=1)
    if alpha == 2.0:
        return sq.mean()
    # d^alpha = (d^2)^(alpha/2); the gradient at d = 0 is 0 for alpha > 1 (clamped to avoid 0 * inf)
    return torch.where(sq > 0, sq.clamp_min(torch.finfo(sq.dtype).tiny) ** (alpha / 2), torch.zeros_like(sq)).mean()


def uniform(z: torch.Tensor, *, t: float = 2) -> torch.Tensor:
    r"""Uniformity loss of Wang and Isola (2020): log of the mean Gaussian potential over distinct pairs.

    .. math:: \mathcal L_{\rm uniform} = \log\Big(\binom{B}{2}^{-1}\sum_{i<j} e^{-t\|z_i - z_j\|_2^2}\Big),

    the pairs :math:`i<j` as in the authors' code (``torch.pdist``), computed with ``logsumexp``.

    See: Chapter "InfoNCE, alignment and uniformity", "Alignment and uniformity".

    Parameters
    ----------
    z : torch.Tensor, shape (B, d)
        Features, :math:`B\ge 2` (usually on the unit sphere).
    t : float
        :math:`t > 0`.

    Returns
    -------
    torch.Tensor
        A scalar, at most 0.
    """
    z = _check_tensor("z", z, (2,))
    if z.shape[0] < 2:
        raise ValueError(f"z must have at least 2 rows, got {z.shape[0]}")
    t = _check_positive("t", t)
    if t > torch.finfo(z.dtype).max:  # t would round to inf in z's dtype: inf * 0 = NaN on coincident points
        raise ValueError(f"t must be at most {torch.finfo(z.dtype).max:.3g} for {z.dtype} features, got {t:.3g}")
    B = z.shape[0]
    i, j = torch.triu_indices(B, B, offset=1, device=z.device)
    norms = (z * z).sum(dim=1)
    sq = (norms[i] + norms[j] - 2 * (z @ z.T)[i, j]).clamp_min(0.0)
    return torch.logsumexp(-t * sq, dim=0) - math.log(sq.shape[0])


# ---------------------------------------------------------------------------------------------------------------
# Language models: the cross-entropy and Quad losses (Chapter "Conditional mean features, Quad, ...")

def _lm_target(target, logits_shape: tuple[int, int]) -> tuple[torch.Tensor, bool]:
    """Validate an LM target: next-word indices (B,) or next-word distributions (B, V). Returns (target, is_dist)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    B, V = logits_shape
    if target.is_floating_point():
        if tuple(target.shape) != (B, V):
            raise ValueError(f"target (next-word distributions) must have shape {(B, V)}, got {tuple(target.shape)}")
        if B:
            # rows on the simplex, to the rounding of a sum of V terms in the target's dtype
            atol = max(V * torch.finfo(target.dtype).eps, 1e-6) * 4
            ok = torch.isfinite(target).all() & (target >= 0).all() & ((target.sum(dim=1) - 1).abs() <= atol).all()
            _require(ok, "target (next-word distributions) must be finite, non-negative, and each row must sum to 1")
        return target, True
    if target.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        if tuple(target.shape) != (B,):
            raise ValueError(f"target (next-word indices) must have shape {(B,)}, got {tuple(target.shape)}")
        if B:
            _require(((target >= 0) & (target < V)).all(), f"target indices must lie in [0, {V}) (V = {V})")
        return target.long(), False
    raise TypeError(f"target must be an integer or floating-point tensor, got dtype {target.dtype}")


def _lm_weighted_mean(per_context: torch.Tensor, weight) -> torch.Tensor:
    if weight is None:
        return per_context.mean()
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor of shape {tuple(per_context.shape)}, "
                        f"got {type(weight).__name__}")
    if weight.shape != per_context.shape:
        raise ValueError(f"weight must be a tensor of shape {tuple(per_context.shape)}, got {tuple(weight.shape)}")
    if not weight.is_floating_point():
        weight = weight.to(per_context.dtype)
    _require(torch.isfinite(weight).all() & (weight >= 0).all() & (weight.sum() > 0),
             "weight must be finite and non-negative with a positive sum (the weighted mean divides by it)")
    return (weight * per_context).sum() / weight.sum()


def xent_lm(logits: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Language-model cross-entropy of a softmax LM, averaged over contexts (Saunshi, Malladi and Arora, 2021).

    For logits :math:`z_b=\Phi^\top f(s_b)` of context :math:`s_b` and a next word :math:`w_b`, or a next-word
    distribution :math:`p^*_b`,

    .. math:: \ell_{xent}(s_b) = -\log\mathrm{softmax}(z_b)_{w_b}
              \quad\text{or}\quad
              \ell_{xent}(s_b) = \mathbb E_{w\sim p^*_b}[-z_{b,w}] + \log\sum_{w'}e^{z_{b,w'}},

    returned as the mean over the batch, or the weighted mean :math:`\sum_b\omega_b\ell(s_b)/\sum_b\omega_b` (with
    ``weight`` :math:`=p_L(s_b)` and all contexts in the batch, the exact population loss).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    logits : torch.Tensor, shape (B, V)
    target : torch.Tensor, shape (B,) of int or (B, V) of float
        Sampled next words, or next-word distributions (rows on the simplex).
    weight : torch.Tensor, shape (B,), optional
        Non-negative context weights.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    logits = _check_tensor("logits", logits, (2,))
    if logits.shape[0] == 0:
        raise ValueError("logits must have at least one row, got shape (0, V)")
    target, is_dist = _lm_target(target, tuple(logits.shape))
    if is_dist:
        per = -(target * logits).sum(dim=1) + torch.logsumexp(logits, dim=1)
    else:
        per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    return _lm_weighted_mean(per, weight)


def quad_lm(theta: torch.Tensor, Phi: torch.Tensor, target: torch.Tensor, *,
            weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""The Quad language-model loss (Saunshi, Malladi and Arora, 2021), averaged over contexts.

    The log-partition of the cross-entropy is replaced by a quadratic: for features :math:`\theta_b=f(s_b)`,
    word embeddings :math:`\Phi\in\mathbb R^{d\times V}` (columns :math:`\phi_w`) and a next word :math:`w_b` or
    distribution :math:`p^*_b`,

    .. math:: \ell_{quad}(s_b) = -\theta_b^\top\phi_{w_b} + \tfrac12\|\Phi^\top\theta_b\|^2
              \quad\text{or}\quad
              \ell_{quad}(s_b) = -\theta_b^\top\Phi p^*_b + \tfrac12\|\Phi^\top\theta_b\|^2 ;

    the sampled form is an unbiased estimate of the second. Mean (or ``weight``-ed mean) over the batch.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Definition "The Quad objective".

    Parameters
    ----------
    theta : torch.Tensor, shape (B, d)
    Phi : torch.Tensor, shape (d, V)
    target : torch.Tensor, shape (B,) of int or (B, V) of float
    weight : torch.Tensor, shape (B,), optional

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    theta = _check_tensor("theta", theta, (2,))
    if theta.shape[0] == 0:
        raise ValueError("theta must have at least one row, got shape (0, d)")
    Phi = _check_tensor("Phi", Phi, (2,))
    if Phi.shape[0] != theta.shape[1]:
        raise ValueError(f"Phi must have shape (d, V) with d = {theta.shape[1]}, got {tuple(Phi.shape)}")
    logits = theta @ Phi
    target, is_dist = _lm_target(target, tuple(logits.shape))
    linear = (target * logits).sum(dim=1) if is_dist else logits.gather(1, target[:, None])[:, 0]
    per = -linear + 0.5 * (logits * logits).sum(dim=1)
    return _lm_weighted_mean(per, weight)


# ---------------------------------------------------------------------------------------------------------------
# The official estimator of the spectral contrastive loss: norm clipping (Chapter "The augmentation graph and the
# spectral contrastive loss", "The official estimator")


def spectral_contrastive_clipped(z: torch.Tensor, z_pos: torch.Tensor, *, mu: float = 1.0) -> torch.Tensor:
    r"""The spectral contrastive batch loss as HaoChen et al.'s official code computes it (norms clipped at sqrt(mu)).

    Every feature of norm at least :math:`\sqrt\mu` is rescaled onto the sphere of radius :math:`\sqrt\mu`,
    :math:`c_\mu(z)=\min(1,\sqrt\mu/\|z\|)\,z`, and the batch loss of :func:`spectral_contrastive` on the clipped
    features is divided by :math:`\mu`:

    .. math:: \hat L_\mu = \frac1\mu\Big(-\frac2B\sum_{i=1}^B \langle c_\mu(z_i), c_\mu(z_i^+)\rangle
              + \frac1{B(B-1)}\sum_{i\ne j} \langle c_\mu(z_i), c_\mu(z_j^+)\rangle^2\Big).

    When every norm is at most :math:`\sqrt\mu` this is exactly :func:`spectral_contrastive` divided by
    :math:`\mu` (equal to it at :math:`\mu=1`); otherwise it is an unbiased estimate of the *clipped* population
    loss :math:`L(c_\mu\circ f)/\mu` (:func:`sslbook.theory.spectral_practice.clipped_spectral_loss`), a different
    objective, bounded: :math:`-2\le\hat L_\mu\le2+\mu`.

    See: Chapter "The augmentation graph and the spectral contrastive loss", "The official estimator".

    Parameters
    ----------
    z : torch.Tensor, shape (B, k)
        Features of the anchors, :math:`B\ge2`.
    z_pos : torch.Tensor, shape (B, k)
        Features of their positives.
    mu : float
        :math:`\mu>0` (1 in the official CIFAR-10 configuration, 10 on ImageNet).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    z, z_pos = _check_pair("z", z, "z_pos", z_pos, min_rows=2, why=" (the negative term needs pairs i != j)")
    mu = _check_positive("mu", mu)
    radius = math.sqrt(mu)

    def clip(t: torch.Tensor) -> torch.Tensor:
        norms = t.norm(dim=1, keepdim=True)
        return t * torch.where(norms >= radius, radius / norms.clamp_min(torch.finfo(t.dtype).tiny), 1.0)

    return spectral_contrastive(clip(z), clip(z_pos)) / mu
