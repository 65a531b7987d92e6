r"""Small softmax language models, their features, and exact downstream evaluation.

A softmax language model maps a context :math:`s` (here: the last :math:`L` tokens) to features
:math:`f(s)\in\mathbb R^d` and predicts :math:`p_{f(s)}=\mathrm{softmax}(\Phi^\top f(s))` with word embeddings
:math:`\Phi\in\mathbb R^{d\times V}`. With finitely many contexts and exact next-word distributions (e.g. from
:meth:`sslbook.data.HMM.enumerate_contexts`) every population quantity is a finite sum: the excess loss
:math:`\epsilon`, the per-context excess, and the loss of the best linear probe on any feature map. The models
are trained by :func:`sslbook.train.train_lm`; the prompt language is :func:`sslbook.data.prompt_hmm`.

See: Chapter "Conditional mean features, Quad, and a tiny language model".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import expit, log_expit, softmax
from torch import nn

from sslbook._shapes import Shape, check_shapes
from sslbook._validation import check_array, check_choice, check_float, check_int, check_memory

__all__ = [
    "LMOutputs",
    "ProbeResult",
    "SoftmaxLM",
    "features",
    "logistic_probe",
    "outputs",
]

# ---------------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------------


class SoftmaxLM(nn.Module):
    r"""A softmax language model on contexts of :math:`L` tokens: :math:`p_{f(s)}=\mathrm{softmax}(\Phi^\top f(s))`.

    * ``encoder="tabular"``: a free vector :math:`f(s)=\theta_s` for each of the :math:`V^L` contexts (the
      "all functions" class of the theory).
    * ``encoder="mlp"``: each position's token gets a (position-specific) embedding of size ``token_dim``; the
      :math:`L` embeddings are concatenated and passed through an MLP with ``hidden`` units to :math:`f(s)`.

    The output word embeddings :math:`\Phi` (attribute ``Phi``, shape (d, V)) are learned and untied from the input
    embeddings. The same model trained with :func:`sslbook.losses.quad_lm` is a Quad model.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    vocab : int
        :math:`V\ge2`.
    context_length : int
        :math:`L\ge1`.
    dim : int
        :math:`d\ge1`.
    encoder : {"mlp", "tabular"}
    hidden : int
        Hidden width of the MLP encoder.
    token_dim : int
        Size of the input token embeddings (MLP encoder).
    """

    def __init__(self, vocab: int, context_length: int, dim: int, *, encoder: str = "mlp", hidden: int = 64,
                 token_dim: int = 8):
        super().__init__()
        self.vocab = check_int("vocab", vocab, minimum=2)
        self.context_length = check_int("context_length", context_length, minimum=1)
        self.dim = check_int("dim", dim, minimum=1)
        self.encoder = check_choice("encoder", encoder, ("mlp", "tabular"))
        # float32 parameters; Adam keeps two more copies and the gradient one: 4 copies in training
        n_params = self.dim * self.vocab
        if self.encoder == "tabular":
            if self.vocab**self.context_length > 10**7:
                raise ValueError(
                    f"vocab**context_length = {self.vocab}**{self.context_length} is too large for a tabular "
                    "encoder (more than 1e7 contexts); use encoder='mlp' or a smaller context_length"
                )
            n_params += self.vocab**self.context_length * self.dim
        else:
            hidden = check_int("hidden", hidden, minimum=1)
            token_dim = check_int("token_dim", token_dim, minimum=1)
            n_params += (self.vocab * self.context_length * token_dim + self.context_length * token_dim * hidden
                         + hidden * hidden + hidden * self.dim)
        check_memory("vocab, context_length, dim, hidden, token_dim", 4.0 * 4 * n_params,
                     what="the SoftmaxLM parameters (float32, with gradient and Adam state)")
        if self.encoder == "tabular":
            self.table = nn.Embedding(self.vocab**self.context_length, self.dim)
            nn.init.normal_(self.table.weight, std=0.1)
            self.register_buffer("radix", self.vocab ** torch.arange(self.context_length - 1, -1, -1))
        else:
            self.tokens = nn.Embedding(self.vocab * self.context_length, token_dim)
            self.register_buffer("offset", self.vocab * torch.arange(self.context_length))
            self.mlp = nn.Sequential(nn.Linear(self.context_length * token_dim, hidden), nn.GELU(),
                                     nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, self.dim))
        self.Phi = nn.Parameter(torch.randn(self.dim, self.vocab) / np.sqrt(self.dim))

    def _check_contexts(self, contexts: torch.Tensor) -> torch.Tensor:
        """Integer contexts of shape (B, L) with tokens in ``[0, vocab)``.

        Out-of-range tokens would silently read another position's embedding (MLP encoder) or another context's
        vector (tabular encoder). On the CPU the check raises a :class:`ValueError`; on a GPU it is an asynchronous
        device assertion (no host synchronisation per step).
        """
        if not isinstance(contexts, torch.Tensor):
            raise TypeError(f"contexts must be an integer tensor of shape (B, {self.context_length}), "
                            f"got {type(contexts).__name__}")
        if contexts.is_floating_point() or contexts.is_complex() or contexts.dtype == torch.bool:
            raise TypeError(f"contexts must hold integer tokens, got dtype {contexts.dtype}")
        if contexts.ndim != 2 or contexts.shape[1] != self.context_length:
            raise ValueError(f"contexts must be an integer tensor of shape (B, {self.context_length}), "
                             f"got shape {tuple(contexts.shape)}")
        contexts = contexts.long()
        if contexts.numel():
            in_range = ((contexts >= 0) & (contexts < self.vocab)).all()
            if contexts.device.type == "cpu":
                if not bool(in_range):
                    raise ValueError(f"contexts must hold tokens in [0, {self.vocab}) (vocab = {self.vocab}), got "
                                     f"values in [{int(contexts.min())}, {int(contexts.max())}]")
            else:
                torch._assert_async(in_range)
        return contexts

    def check_tokens(self, name: str, tokens: np.ndarray) -> None:
        """Check integer contexts held on the host: shape (S, L) (the model's context length), tokens in [0, V).

        Parameters
        ----------
        name : str
            The argument's name, used in the error message.
        tokens : numpy.ndarray of int, shape (S, L)

        Raises
        ------
        ValueError
            On another shape or an out-of-range token.
        """
        if tokens.ndim != 2 or tokens.shape[1] != self.context_length:
            raise ValueError(f"{name} must have shape (S, {self.context_length}) (the model's context_length), "
                             f"got {tokens.shape}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.vocab):
            raise ValueError(f"{name} must hold tokens in [0, {self.vocab}) (the model's vocab), got values in "
                             f"[{tokens.min()}, {tokens.max()}]")

    def features(self, contexts: torch.Tensor) -> torch.Tensor:
        """The context features :math:`f(s)`, shape (B, d), for integer contexts of shape (B, L)."""
        contexts = self._check_contexts(contexts)
        if self.encoder == "tabular":
            return self.table((contexts * self.radix).sum(dim=1))
        emb = self.tokens(contexts + self.offset)  # (B, L, token_dim)
        return self.mlp(emb.flatten(1))

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        """The logits :math:`\\Phi^\\top f(s)`, shape (B, V)."""
        return self.features(contexts) @ self.Phi


# ---------------------------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LMOutputs:
    """A model's features, logits and word embeddings on a set of contexts (numpy, float64)."""

    features: np.ndarray  #: the features f(s), shape (S, d)
    logits: np.ndarray  #: the logits Phi^T f(s), shape (S, V)
    Phi: np.ndarray  #: the word embeddings, shape (d, V)

    @property
    def probs(self) -> np.ndarray:
        """The next-word distributions :math:`p_{f(s)}`, one row per context."""
        return softmax(self.logits, axis=1)


@torch.no_grad()
def outputs(model: SoftmaxLM, contexts, *, batch_size: int = 8192) -> LMOutputs:
    r"""Evaluate a :class:`SoftmaxLM` on integer contexts: :math:`f(s)`, :math:`\Phi^\top f(s)` and :math:`\Phi`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "Which features?".

    Parameters
    ----------
    model : SoftmaxLM
    contexts : array_like of int, shape (S, L)
    batch_size : int

    Returns
    -------
    LMOutputs
    """
    if not isinstance(model, SoftmaxLM):
        raise TypeError(f"model must be a SoftmaxLM, got {type(model).__name__}")
    if hasattr(contexts, "is_floating_point") and contexts.is_floating_point():
        raise TypeError(f"contexts must hold integer tokens, got dtype {contexts.dtype}")
    tokens = check_array("contexts", contexts, ndim=2, dtype="int")
    model.check_tokens("contexts", tokens)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_memory("contexts", 8.0 * tokens.shape[0] * (model.dim + model.vocab) * 2,
                 what="the features and logits (float64)")
    was_training = model.training
    model.eval()
    dev = model.Phi.device
    feats = [model.features(torch.as_tensor(tokens[i:i + batch_size], dtype=torch.long, device=dev)).double()
             for i in range(0, tokens.shape[0], batch_size)]
    model.train(was_training)
    F = torch.cat(feats).cpu().numpy()
    Phi = model.Phi.detach().double().cpu().numpy()
    return LMOutputs(features=F, logits=F @ Phi, Phi=Phi)


_KINDS = ("f", "conditional_mean", "probs", "word_logits", "word_probs")


def features(outputs: LMOutputs, kind: str, words=None) -> np.ndarray:
    r"""Downstream features of a language model (the feature types of Saunshi, Malladi and Arora, 2021).

    * ``"f"``: the context features :math:`f(s)\in\mathbb R^d`;
    * ``"conditional_mean"``: the conditional mean embedding :math:`\Phi p_{f(s)}=\sum_wp_{f(s)}(w)\phi_w`;
    * ``"probs"``: the full next-word distribution :math:`p_{f(s)}\in\mathbb R^V`;
    * ``"word_logits"``: the logits :math:`\phi_w^\top f(s)` of the given ``words`` (the paper's "subset" features,
      log-probabilities up to the per-context constant :math:`\log Z(s)`);
    * ``"word_probs"``: the probabilities :math:`p_{f(s)}(w)` of the given ``words`` (e.g. class words).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "Which features?".

    Parameters
    ----------
    outputs : LMOutputs
        From :func:`outputs`.
    kind : {"f", "conditional_mean", "probs", "word_logits", "word_probs"}
    words : sequence of int, optional
        Word indices (required for the ``word_*`` kinds).

    Returns
    -------
    numpy.ndarray, shape (S, k)
    """
    if not isinstance(outputs, LMOutputs):
        raise TypeError(f"outputs must be LMOutputs (from outputs), got {type(outputs).__name__}")
    kind = check_choice("kind", kind, _KINDS)
    if kind == "f":
        return outputs.features.copy()
    if kind == "conditional_mean":
        return outputs.probs @ outputs.Phi.T
    if kind == "probs":
        return outputs.probs
    if words is None:
        raise ValueError(f"words must be given for kind={kind!r}")
    idx = check_array("words", np.atleast_1d(words), ndim=1, dtype="int")
    V = outputs.logits.shape[1]
    if np.any(idx < 0) or np.any(idx >= V):
        raise ValueError(f"words must be indices in [0, {V})")
    return (outputs.logits if kind == "word_logits" else outputs.probs)[:, idx]


# ---------------------------------------------------------------------------------------------------------------
# Exact logistic probes on a finite task
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    """An exact logistic probe on a finite task (see :func:`logistic_probe`)."""

    loss: float  #: E_T log(1 + exp(-y (u^T g(s) + b)))  (natural log; 1-Lipschitz)
    accuracy: float  #: E_T 1[y = sign(u^T g(s) + b)] (ties count 1/2)
    u: np.ndarray  #: the weights, shape (k,)
    b: float  #: the bias (0 without intercept)


@check_shapes(features="S k", p_task=Shape("S", simplex=True), q_pos="S")
def logistic_probe(features, p_task, q_pos, *, u=None, intercept: bool = False, reg: float = 0.0,
                   max_iter: int = 500) -> ProbeResult:
    r"""Exact population logistic loss of a linear probe on a finite task, at given weights or minimised.

    .. math:: \ell_{\mathcal T}(g,u)=\sum_s p_{\mathcal T}(s)\big[q_s\,\ell(m_s)+(1-q_s)\,\ell(-m_s)\big],\quad
              m_s=u^\top g(s)+b,\quad \ell(m)=\log(1+e^{-m}),

    with :math:`q_s=P(y=+1\mid s)`. Without ``u`` it returns the minimiser (L-BFGS, exact gradient), i.e.
    :math:`\ell_{\mathcal T}(g)=\inf_u\ell_{\mathcal T}(g,u)` (plus ``reg/2 ||u||^2`` if ``reg > 0``, not included in
    the reported loss).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "Which features?".

    Parameters
    ----------
    features : array_like, shape (S, k)
        :math:`g(s)` for every context.
    p_task : array_like, shape (S,)
        Task distribution over the contexts (sums to 1).
    q_pos : array_like, shape (S,)
        :math:`P(y=+1\mid s)\in[0,1]`.
    u : array_like, shape (k,) or (k+1,), optional
        Evaluate at these weights (with the bias last when ``intercept``) instead of minimising.
    intercept : bool
        Fit a bias :math:`b` too.
    reg : float
        Ridge penalty on :math:`u` while minimising.
    max_iter : int

    Returns
    -------
    ProbeResult
    """
    G, pt, q = features, p_task, q_pos  # converted and checked by check_shapes
    if np.any(q < 0) or np.any(q > 1):
        raise ValueError("q_pos must lie in [0, 1]")
    reg = check_float("reg", reg, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    keep = pt > 0
    G, pt, q = G[keep], pt[keep], q[keep]
    X = np.hstack([G, np.ones((len(G), 1))]) if intercept else G
    scale = np.sqrt(np.mean(X**2, axis=0)) + 1e-12  # rescaling columns leaves the infimum unchanged

    def objective(w):
        m = (X / scale) @ w
        val = -(pt * (q * log_expit(m) + (1 - q) * log_expit(-m))).sum()
        grad = (X / scale).T @ (pt * (expit(m) - q))
        pen = np.zeros_like(w)
        pen[: G.shape[1]] = reg * w[: G.shape[1]] / scale[: G.shape[1]] ** 2
        return val + 0.5 * np.sum(pen * w), grad + pen

    if u is None:
        res = minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": 1e-12, "ftol": 1e-15})
        w = res.x / scale
    else:
        w = check_array("u", np.atleast_1d(u), ndim=1)
        if w.shape[0] != X.shape[1]:
            raise ValueError(f"u must have length {X.shape[1]}, got {w.shape[0]}")
    m = X @ w
    loss = float(-(pt * (q * log_expit(m) + (1 - q) * log_expit(-m))).sum())
    acc = float((pt * np.where(m > 0, q, np.where(m < 0, 1 - q, 0.5))).sum())
    return ProbeResult(loss=loss, accuracy=acc, u=w[: G.shape[1]].copy(), b=float(w[-1]) if intercept else 0.0)
