r"""Small softmax language models, their training, their features, and exact downstream evaluation.

A softmax language model maps a context :math:`s` (here: the last :math:`L` tokens) to features
:math:`f(s)\in\mathbb R^d` and predicts :math:`p_{f(s)}=\mathrm{softmax}(\Phi^\top f(s))` with word embeddings
:math:`\Phi\in\mathbb R^{d\times V}`. With finitely many contexts and exact next-word distributions (e.g. from
:meth:`sslbook.data.HMM.enumerate_contexts`) every population quantity is a finite sum: the excess loss
:math:`\epsilon`, the per-context excess, and the loss of the best linear probe on any feature map.

See: Chapter "Conditional mean features, Quad, and a tiny language model".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import expit, log_expit, softmax
from torch import nn

from sslbook._validation import check_array, check_choice, check_float, check_int, check_memory, check_rng
from sslbook.device import get_device

__all__ = [
    "LMOutputs",
    "LMTask",
    "PromptHMM",
    "ProbeResult",
    "SoftmaxLM",
    "hidden_class_task",
    "lm_batches",
    "lm_features",
    "lm_outputs",
    "logistic_probe",
    "prompt_hmm",
    "train_lm",
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
# Training
# ---------------------------------------------------------------------------------------------------------------


def lm_batches(context_tokens, p_context, p_next, *, batch_size: int, rng: Any = None) -> Callable[[int], tuple]:
    r"""A sampler of (context, next word) pairs :math:`s\sim p_L`, :math:`w\sim p^*_{\cdot\mid s}` for :func:`train_lm`.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    context_tokens : array_like of int, shape (S, L)
    p_context : array_like, shape (S,)
    p_next : array_like, shape (S, V)
    batch_size : int
    rng : numpy.random.Generator, int or None

    Returns
    -------
    callable
        ``sample_batch(step) -> (contexts (B, L) int64, words (B,) int64)`` as numpy arrays.
    """
    tokens = check_array("context_tokens", context_tokens, ndim=2, dtype="int")
    pc = check_array("p_context", p_context, ndim=1)
    pn = check_array("p_next", p_next, ndim=2)
    if pc.shape[0] != tokens.shape[0] or pn.shape[0] != tokens.shape[0]:
        raise ValueError("context_tokens, p_context and p_next must have one row per context")
    if np.any(pc < 0) or not np.isclose(pc.sum(), 1.0, atol=1e-9):
        raise ValueError("p_context must be non-negative and sum to 1")
    if np.any(pn < 0) or not np.allclose(pn.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("p_next must have rows on the simplex")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_memory("batch_size", 8.0 * batch_size * (tokens.shape[1] + pn.shape[1] + 4), what="one batch")
    rng = check_rng("rng", rng)
    cum_c = np.cumsum(pc)
    cum_n = np.cumsum(pn, axis=1)

    def sample_batch(step: int) -> tuple[np.ndarray, np.ndarray]:
        s = np.minimum(np.searchsorted(cum_c, rng.random(batch_size) * cum_c[-1], side="right"), len(pc) - 1)
        u = rng.random(batch_size)[:, None] * cum_n[s, -1:]
        w = np.minimum((u >= cum_n[s]).sum(axis=1), pn.shape[1] - 1)
        return tokens[s].astype(np.int64), w.astype(np.int64)

    return sample_batch


def train_lm(
    model: SoftmaxLM,
    sample_batch: Callable[[int], Any],
    *,
    steps: int,
    loss: str = "xent",
    lr: float = 3e-3,
    checkpoints=None,
    callback: Callable[[SoftmaxLM, int], Any] | None = None,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    device=None,
    amp: str = "auto",
    progress: bool | None = None,
    desc: str | None = None,
    cpu_threads: int | None = 1,
    checkpoint=None,
    checkpoint_every: int | None = None,
    generators=(),
):
    r"""Train a :class:`SoftmaxLM` with the cross-entropy or the Quad loss (a thin wrapper around ``fit``).

    Each step draws ``(contexts, target)`` and minimises :func:`sslbook.losses.xent_lm` on the logits
    :math:`\Phi^\top f(s)` (``loss="xent"``) or :func:`sslbook.losses.quad_lm` on :math:`(f(s),\Phi)`
    (``loss="quad"``). At each step of ``checkpoints`` (the number of optimiser updates done so far, 0 and
    ``steps`` included if listed) ``callback(model, step)`` is called in eval mode without gradients, and its
    results are collected in ``history.extra["checkpoints"]`` as ``(step, result)`` pairs.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A tiny language model".

    Parameters
    ----------
    model : SoftmaxLM
    sample_batch : callable
        ``sample_batch(step) -> (contexts, target)``: integer contexts (B, L) and next words (B,) or next-word
        distributions (B, V) (e.g. :func:`lm_batches`); numpy arrays or tensors. A third element ``weight`` (B,)
        makes the loss the weighted mean (all contexts with weights :math:`p_L(s)`: the exact population loss).
    steps : int
    loss : {"xent", "quad"}
    lr : float
    checkpoints : sequence of int, optional
        Steps in ``[0, steps]`` at which to call ``callback``.
    callback : callable, optional
        ``callback(model, step) -> object``.
    optimizer, weight_decay, device, amp, progress
        Passed to :func:`sslbook.train.fit`.
    desc : str, optional
        Progress-bar label.
    cpu_threads : int, optional
        Torch threads while training on the CPU (restored afterwards); 1 is fastest for tiny models.
    checkpoint, checkpoint_every, generators
        Passed to :func:`sslbook.train.fit`: resume from and save to this file (not to be confused with
        ``checkpoints``, the evaluation steps); ``generators`` are those ``sample_batch`` draws from (for an exact
        resume). After a resume, ``callback`` results of the steps done before it are not repeated.

    Returns
    -------
    sslbook.train.History
        With ``extra = {"loss": loss, "checkpoints": [(step, result), ...]}``.
    """
    from sslbook import losses
    from sslbook.train import fit

    if not isinstance(model, SoftmaxLM):
        raise TypeError(f"model must be a SoftmaxLM, got {type(model).__name__}")
    if not callable(sample_batch):
        raise TypeError(f"sample_batch must be callable, got {type(sample_batch).__name__}")
    steps = check_int("steps", steps, minimum=1)
    loss = check_choice("loss", loss, ("xent", "quad"))
    marks = sorted({check_int("checkpoints[i]", int(c), minimum=0, maximum=steps) for c in (checkpoints or [])})
    if marks and not callable(callback):
        raise TypeError("callback must be callable when checkpoints are given")
    if cpu_threads is not None:
        cpu_threads = check_int("cpu_threads", cpu_threads, minimum=1)
    results: list[tuple[int, Any]] = []
    pending = set(marks)

    def evaluate(net: SoftmaxLM, step: int) -> None:
        was_training = net.training
        net.eval()
        with torch.no_grad():
            results.append((step, callback(net, step)))
        net.train(was_training)

    def batches(step: int):
        if step in pending:
            evaluate(model, step)
        batch = sample_batch(step)
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise TypeError("sample_batch(step) must return (contexts, target) or (contexts, target, weight)")
        _check_lm_batch(batch, model)
        return tuple(batch)

    def loss_fn(net: nn.Module, batch) -> torch.Tensor:
        contexts, target = batch[:2]
        weight = batch[2].float() if len(batch) == 3 else None
        if target.is_floating_point():
            target = target.float()
        if loss == "xent":
            return losses.xent_lm(net(contexts).float(), target, weight=weight)
        feats, Phi = net(contexts)  # through forward: under torch.compile, the compiled graph
        return losses.quad_lm(feats.float(), Phi.float(), target, weight=weight)

    threads = torch.get_num_threads()
    if cpu_threads is not None and get_device(device).type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        trained = model if loss == "xent" else _QuadForward(model)
        history = fit(trained, loss_fn, batches, steps=steps, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
                      device=device, amp=amp, progress=progress, desc=desc or f"{loss} LM", checkpoint=checkpoint,
                      checkpoint_every=checkpoint_every, generators=generators)
        if steps in pending:
            evaluate(model, steps)
    finally:
        torch.set_num_threads(threads)
    history.extra.update(loss=loss, checkpoints=results)
    return history


class _QuadForward(nn.Module):
    """``(f(s), Phi)`` from the forward of a :class:`SoftmaxLM`, so that ``fit(compile=True)`` compiles Quad too."""

    def __init__(self, lm: SoftmaxLM):
        super().__init__()
        self.lm = lm

    def forward(self, contexts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.lm.features(contexts), self.lm.Phi


def _check_lm_batch(batch, model: SoftmaxLM) -> None:
    """Check a batch of :func:`train_lm` on the host: integer in-range contexts, targets and weights.

    Tensors already on a GPU are left to the model's and the loss's asynchronous device checks (no host sync).
    """
    def host(x):
        if isinstance(x, torch.Tensor):
            return None if x.device.type != "cpu" else x
        return x

    contexts, target = host(batch[0]), host(batch[1])
    if contexts is not None:
        if getattr(contexts, "dtype", None) is not None and (
                (isinstance(contexts, torch.Tensor) and contexts.is_floating_point())
                or (isinstance(contexts, np.ndarray) and contexts.dtype.kind not in "iu")):
            raise TypeError(f"sample_batch(step) contexts must hold integer tokens, got dtype {contexts.dtype}")
        _check_tokens("sample_batch(step) contexts", check_array("contexts", contexts, ndim=2, dtype="int"), model)
    if target is not None:
        t = target.numpy() if isinstance(target, torch.Tensor) else np.asarray(target)
        if t.dtype.kind in "iu":
            if t.ndim != 1 or (t.size and (t.min() < 0 or t.max() >= model.vocab)):
                raise ValueError(f"sample_batch(step) target must be next words of shape (B,) in [0, {model.vocab})"
                                 f" (the model's vocab), got shape {t.shape}"
                                 + (f" and values in [{t.min()}, {t.max()}]" if t.size else ""))
        elif t.dtype.kind == "f" and t.ndim == 2 and t.shape[1] != model.vocab:
            raise ValueError(f"sample_batch(step) target distributions must have {model.vocab} columns (the "
                             f"model's vocab), got shape {t.shape}")


# ---------------------------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------------------------


def _check_tokens(name: str, tokens: np.ndarray, model: SoftmaxLM) -> None:
    """Integer contexts (host array) of the model's context length with tokens in ``[0, vocab)``."""
    if tokens.ndim != 2 or tokens.shape[1] != model.context_length:
        raise ValueError(f"{name} must have shape (S, {model.context_length}) (the model's context_length), "
                         f"got {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= model.vocab):
        raise ValueError(f"{name} must hold tokens in [0, {model.vocab}) (the model's vocab), got values in "
                         f"[{tokens.min()}, {tokens.max()}]")


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
def lm_outputs(model: SoftmaxLM, contexts, *, batch_size: int = 8192) -> LMOutputs:
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
    _check_tokens("contexts", tokens, model)
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


def lm_features(outputs: LMOutputs, kind: str, words=None) -> np.ndarray:
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
        From :func:`lm_outputs`.
    kind : {"f", "conditional_mean", "probs", "word_logits", "word_probs"}
    words : sequence of int, optional
        Word indices (required for the ``word_*`` kinds).

    Returns
    -------
    numpy.ndarray, shape (S, k)
    """
    if not isinstance(outputs, LMOutputs):
        raise TypeError(f"outputs must be LMOutputs (from lm_outputs), got {type(outputs).__name__}")
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
    G = check_array("features", features, ndim=2)
    pt = check_array("p_task", p_task, ndim=1)
    q = check_array("q_pos", q_pos, ndim=1)
    if pt.shape[0] != G.shape[0] or q.shape[0] != G.shape[0]:
        raise ValueError("features, p_task and q_pos must have one row per context")
    if np.any(pt < 0) or not np.isclose(pt.sum(), 1.0, atol=1e-9):
        raise ValueError("p_task must be non-negative and sum to 1")
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


# ---------------------------------------------------------------------------------------------------------------
# A synthetic language with a prompt: HMM text, a prompt token, and class words
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptHMM:
    r"""Matrices of an HMM language with a prompt token and two class words (see :func:`prompt_hmm`).

    Tokens ``0..n_regular-1`` are regular words, ``class_words = (n_regular, n_regular + 1)`` the two class words
    (":(" and ":)") and ``prompt = n_regular + 2`` the prompt token. Hidden states ``k`` in ``[0, 3m)`` are
    (base state ``k % m``, mode ``k // m``) with modes normal / prompt / answer.
    """

    pi: np.ndarray  #: stationary distribution, shape (3m,)
    A: np.ndarray  #: transitions, shape (3m, 3m)
    B: np.ndarray  #: emissions, shape (V, 3m) (columns sum to 1)
    base_class: np.ndarray  #: class 0/1 of each base state, shape (m,)
    n_regular: int
    class_words: tuple[int, int]
    prompt: int

    @property
    def vocab(self) -> int:
        """Number of tokens :math:`V` = regular words + 2 class words + the prompt."""
        return self.n_regular + 3

    @property
    def state_class(self) -> np.ndarray:
        """Class (0 or 1) of the base state of every hidden state, an array of length 3m."""
        return np.tile(self.base_class, 3)


def prompt_hmm(n_states: int, n_regular: int, rng: Any = None, *, prompt_rate: float = 0.2,
               answer_noise: float = 0.1, floor: float = 0.02, stickiness: float = 0.85,
               concentration: float = 0.5) -> PromptHMM:
    r"""An HMM "language" in which a prompt token is followed by a word naming the class of the hidden state.

    Base states :math:`h\in[m]` (first half class 0, second half class 1) move with a sticky chain
    :math:`A_0` (probability ``stickiness`` to stay within the class) and emit regular words from
    :math:`\beta_h\sim\mathrm{Dirichlet}`. With probability ``prompt_rate`` the next state is instead a *prompt*
    state (same base state, emits the prompt token), always followed by an *answer* state that emits the class word
    of :math:`h` (the other one with probability ``answer_noise``). Every state also emits every token with
    probability ``floor`` (uniformly), so all contexts have positive probability and all next-word distributions
    full support.

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A language with a prompt".

    Parameters
    ----------
    n_states : int
        :math:`m\ge2` base states (even).
    n_regular : int
        Number of regular words, :math:`\ge2`.
    rng : numpy.random.Generator, int or None
    prompt_rate, answer_noise, floor, stickiness : float
        In [0, 1) (``stickiness`` in (0, 1)).
    concentration : float
        Dirichlet parameter of the regular-word emissions.

    Returns
    -------
    PromptHMM
        Pass ``(pi, A, B)`` to :class:`sslbook.data.HMM`.
    """
    m = check_int("n_states", n_states, minimum=2)
    if m % 2:
        raise ValueError(f"n_states must be even, got {m}")
    R = check_int("n_regular", n_regular, minimum=2)
    rng = check_rng("rng", rng)
    q = check_float("prompt_rate", prompt_rate, minimum=0.0, maximum=1.0)
    eta = check_float("answer_noise", answer_noise, minimum=0.0, maximum=1.0)
    floor = check_float("floor", floor, minimum=0.0, maximum=1.0)
    stick = check_float("stickiness", stickiness, minimum=0.0, strict_min=True, maximum=1.0)
    if stick >= 1:
        raise ValueError(f"stickiness must be < 1 (at 1 the chain never changes class: it is reducible), got {stick}")
    conc = check_float("concentration", concentration, minimum=0.0, strict_min=True)
    check_memory("n_states and n_regular", 32.0 * ((3 * m) ** 2 + (R + 3) * 3 * m), what="the HMM's matrices")
    if q >= 1 or floor >= 1:
        raise ValueError("prompt_rate and floor must be < 1")
    cls = np.repeat([0, 1], m // 2)
    same = cls[:, None] == cls[None, :]
    raw = rng.dirichlet(np.ones(m), size=m)
    A0 = np.where(same, raw, 0.0)
    A0 = stick * A0 / A0.sum(axis=1, keepdims=True) + (1 - stick) * np.where(~same, raw, 0.0) / \
        np.where(~same, raw, 0.0).sum(axis=1, keepdims=True)
    V = R + 3
    A = np.zeros((3 * m, 3 * m))
    A[:m, :m] = (1 - q) * A0
    A[:m, m:2 * m] = q * A0
    A[m:2 * m, 2 * m:] = np.eye(m)
    A[2 * m:, :m] = A0
    B = np.zeros((V, 3 * m))
    B[:R, :m] = rng.dirichlet(np.full(R, conc), size=m).T
    B[V - 1, m:2 * m] = 1.0
    for h in range(m):
        B[R + cls[h], 2 * m + h] = 1 - eta
        B[R + 1 - cls[h], 2 * m + h] = eta
    B = (1 - floor) * B + floor / V
    vals, vecs = np.linalg.eig(A.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi = np.abs(pi) / np.abs(pi).sum()
    return PromptHMM(pi=pi, A=A, B=B, base_class=cls, n_regular=R, class_words=(R, R + 1), prompt=V - 1)


@dataclass(frozen=True)
class LMTask:
    r"""A binary task on a finite context set: :math:`s\sim p_{\mathcal T}`, :math:`P(y=+1\mid s)=q_s`."""

    p_task: np.ndarray  #: task distribution over the model's contexts, shape (S,)
    q_pos: np.ndarray  #: P(y = +1 | s), shape (S,)


def hidden_class_task(spec: PromptHMM, contexts, posterior, p_context, *, prompt: bool) -> LMTask:
    r"""The task "class of the next hidden state", on regular text, with or without the prompt appended.

    Task contexts are the contexts made of regular words only, with :math:`p_{\mathcal T}(s)\propto p_L(s)`; the
    label is :math:`y=+1` iff the base state of :math:`H_{L+1}` has class 1, so
    :math:`q_s=P(c(H_{L+1})=1\mid s)` from the filtering posterior :math:`P(H_L\mid s)`. With ``prompt=True`` each
    context :math:`x_{1:L}` is replaced by :math:`(x_{2:L},\pi)` (the prompt appended, the window kept at
    :math:`L` tokens) and the distribution and labels are pushed forward to those contexts (exactly).

    See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A language with a prompt".

    Parameters
    ----------
    spec : PromptHMM
    contexts : array_like of int, shape (S, L)
        All contexts (from :meth:`sslbook.data.HMM.enumerate_contexts`).
    posterior : array_like, shape (S, 3m)
        :math:`P(H_L\mid s)`.
    p_context : array_like, shape (S,)
    prompt : bool

    Returns
    -------
    LMTask
    """
    if not isinstance(spec, PromptHMM):
        raise TypeError(f"spec must be a PromptHMM, got {type(spec).__name__}")
    tok = check_array("contexts", contexts, ndim=2, dtype="int")
    post = check_array("posterior", posterior, ndim=2)
    pc = check_array("p_context", p_context, ndim=1)
    if post.shape != (tok.shape[0], spec.A.shape[0]) or pc.shape[0] != tok.shape[0]:
        raise ValueError("contexts, posterior and p_context must describe the same contexts")
    if np.any(post < 0) or not np.allclose(post.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("posterior must have rows on the simplex")
    if np.any(pc < 0) or not np.isclose(pc.sum(), 1.0, atol=1e-9):
        raise ValueError("p_context must be non-negative and sum to 1")
    regular = np.all(tok < spec.n_regular, axis=1)
    if not regular.any():
        raise ValueError("no context made of regular words only")
    p_task = np.where(regular, pc, 0.0)
    p_task /= p_task.sum()
    q_pos = (post @ spec.A) @ spec.state_class.astype(float)
    if not prompt:
        return LMTask(p_task=p_task, q_pos=np.clip(q_pos, 0.0, 1.0))
    index = {tuple(row): i for i, row in enumerate(tok.tolist())}
    target = np.empty(tok.shape[0], dtype=np.int64)
    for i, row in enumerate(tok.tolist()):
        key = tuple(row[1:]) + (spec.prompt,)
        if key not in index:
            raise ValueError("contexts must contain every context (x_2..x_L, prompt)")
        target[i] = index[key]
    pt = np.bincount(target, weights=p_task, minlength=tok.shape[0])
    mass = np.bincount(target, weights=p_task * q_pos, minlength=tok.shape[0])
    qp = np.divide(mass, pt, out=np.zeros_like(pt), where=pt > 0)
    return LMTask(p_task=pt, q_pos=np.clip(qp, 0.0, 1.0))
