r"""A synthetic language with a prompt: HMM text, a prompt token and class words; tasks on its contexts.

:func:`prompt_hmm` builds the matrices of an HMM "language" in which a prompt token is followed by a word naming
the class of the hidden state (pass them to :class:`sslbook.data.HMM`); :func:`hidden_class_task` builds the
binary task "class of the next hidden state" on its contexts, with or without the prompt appended.

See: Chapter "Conditional mean features, Quad, and a tiny language model", Section "A language with a prompt".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sslbook._shapes import Shape, bind_shapes
from sslbook._validation import check_float, check_int, check_memory, check_rng

__all__ = ["LMTask", "PromptHMM", "hidden_class_task", "prompt_hmm"]


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
    out = bind_shapes({"contexts": (contexts, Shape("S L", dtype="int")),
                       "posterior": (posterior, Shape("S H", simplex=True)),
                       "p_context": (p_context, Shape("S", simplex=True))}, dims={"H": spec.A.shape[0]})
    tok, post, pc = out["contexts"], out["posterior"], out["p_context"]
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
