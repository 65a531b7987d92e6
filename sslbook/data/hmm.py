r"""Hidden Markov models: sampling, scaled forward--backward, exact context enumeration.

A hidden chain :math:`H_1,H_2,\dots\in[m]` starts from :math:`\pi` and moves with
:math:`A_{hh'}=P(H_{t+1}=h'\mid H_t=h)`; each state emits a token :math:`X_t\in[V]` with
:math:`B_{xh}=P(X_t=x\mid H_t=h)` (column :math:`h` of :math:`B` is the emission distribution of state :math:`h`).
The pretrained language model of the chapter is the exact next-token distribution

.. math:: P(X_{T+1}\mid x_{1:T}) = B A^\top P(H_T\mid x_{1:T}) = B\,P(H_{T+1}\mid x_{1:T}).

All inference is batched over rows of an integer array ``x`` of shape (n, T) and uses the *scaled* forward
recursion (the filtering distribution is renormalized at every step), so long sequences do not underflow.

See: Chapter "Latent-variable languages: HMMs and head tuning".
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sslbook._shapes import Shape, bind_shapes, check_shapes
from sslbook._validation import check_choice, check_float, check_int, check_memory, check_rng

_ATOL = 1e-8
_MAX_CONTEXTS = 5_000_000


class HMMContexts(NamedTuple):
    r"""All contexts of one length with their exact probabilities (see :meth:`HMM.enumerate_contexts`).

    A named tuple ``(contexts, probs, next_token, posterior)``:

    * ``contexts``: integer array (S, L), the contexts :math:`x_{1:L}` in lexicographic order (last token
      fastest);
    * ``probs``: (S,), :math:`P(x_{1:L})`, summing to 1 over all :math:`V^L` contexts;
    * ``next_token``: (S, V), the exact next-token distributions :math:`P(X_{L+1}\mid x_{1:L})`;
    * ``posterior``: (S, m), the filtering distributions :math:`P(H_L\mid x_{1:L})`.
    """

    contexts: np.ndarray
    probs: np.ndarray
    next_token: np.ndarray
    posterior: np.ndarray


@check_shapes(A=Shape("m m", simplex=True, atol=_ATOL), B=Shape("V m", simplex=True, axis=0, atol=_ATOL),
              pi=Shape("m", simplex=True, atol=_ATOL, optional=True))
class HMM:
    r"""A discrete hidden Markov model :math:`(\pi, A, B)`.

    See: Chapter "Latent-variable languages: HMMs and head tuning", Definition "Hidden Markov model".

    Parameters
    ----------
    pi : array_like, shape (m,), or None
        Distribution of :math:`H_1` (non-negative, sums to 1). ``None`` uses the stationary distribution of ``A``.
    A : array_like, shape (m, m)
        Transitions :math:`A_{hh'}=P(H_{t+1}=h'\mid H_t=h)`; rows sum to 1.
    B : array_like, shape (V, m)
        Emissions :math:`B_{xh}=P(X=x\mid H=h)`; columns sum to 1.
    """

    def __init__(self, pi: Any, A: Any, B: Any):
        self.A = A.copy()
        self.B = B.copy()
        self.pi = self.stationary() if pi is None else pi.copy()

    # ------------------------------------------------------------------ basics
    @property
    def m(self) -> int:
        """Number of hidden states."""
        return self.A.shape[0]

    @property
    def V(self) -> int:
        """Vocabulary size (number of tokens)."""
        return self.B.shape[0]

    def __repr__(self) -> str:
        return f"HMM(m={self.m}, V={self.V})"

    def stationary(self) -> np.ndarray:
        r"""The stationary distribution :math:`\pi_\infty` of the hidden chain, :math:`A^\top\pi_\infty=\pi_\infty`.

        Raises ValueError when it is not unique (a reducible chain).
        """
        vals, vecs = np.linalg.eig(self.A.T)
        ones = np.abs(vals - 1.0) < 1e-9
        if ones.sum() != 1:
            raise ValueError("A has no unique stationary distribution (the chain is reducible)")
        v = np.real(vecs[:, np.argmax(ones)])
        v = v / v.sum()
        return np.clip(v, 0.0, None) / np.clip(v, 0.0, None).sum()

    def with_initial(self, pi: Any) -> HMM:
        """The same chain and emissions started from ``pi`` (``None``: the stationary distribution)."""
        return HMM(pi, self.A, self.B)

    def emission_rank(self, tol: float = 1e-10) -> int:
        """Rank of the emission matrix ``B`` (``m`` means full column rank)."""
        return int(np.linalg.matrix_rank(self.B, tol=tol))

    @classmethod
    def random(
        cls,
        m: int,
        V: int,
        rng: Any = None,
        *,
        alpha_A: float = 1.0,
        alpha_B: float = 1.0,
        initial: str = "stationary",
    ) -> HMM:
        r"""A random HMM: rows of :math:`A` and columns of :math:`B` drawn from symmetric Dirichlet laws.

        Parameters
        ----------
        m : int
            Number of hidden states (>= 1).
        V : int
            Vocabulary size (>= 1).
        rng : numpy.random.Generator, int or None
            Randomness.
        alpha_A, alpha_B : float
            Dirichlet concentrations (> 0) of the transition rows and emission columns.
        initial : {"stationary", "uniform"}
            Initial distribution :math:`\pi`.
        """
        m = check_int("m", m, minimum=1)
        V = check_int("V", V, minimum=1)
        check_memory("m and V", 24.0 * (m * m + m * V + m), what="the HMM's matrices")
        alpha_A = check_float("alpha_A", alpha_A, minimum=0.0, strict_min=True)
        alpha_B = check_float("alpha_B", alpha_B, minimum=0.0, strict_min=True)
        initial = check_choice("initial", initial, ("stationary", "uniform"))
        rng = check_rng("rng", rng)
        A = rng.dirichlet(np.full(m, alpha_A), size=m)
        B = rng.dirichlet(np.full(V, alpha_B), size=m).T
        pi = None if initial == "stationary" else np.full(m, 1.0 / m)
        return cls(pi, A, B)

    def tie_emissions(self, keep: int, tied: int) -> HMM:
        """A copy whose state ``tied`` emits exactly like state ``keep`` (column ``tied`` of B replaced)."""
        keep = check_int("keep", keep, minimum=0, maximum=self.m - 1)
        tied = check_int("tied", tied, minimum=0, maximum=self.m - 1)
        if keep == tied:
            raise ValueError(f"keep and tied must differ, got {keep} twice")
        B = self.B.copy()
        B[:, tied] = B[:, keep]
        return HMM(self.pi, self.A, B)

    # ---------------------------------------------------------------- sampling
    def sample(self, n: int, T: int, rng: Any = None, *, return_states: bool = False):
        r"""Sample ``n`` independent sequences :math:`x_{1:T}` (the chain starts from :math:`\pi`).

        Parameters
        ----------
        n : int
            Number of sequences (>= 1).
        T : int
            Length (>= 1).
        rng : numpy.random.Generator, int or None
            Randomness.
        return_states : bool
            Also return the hidden states.

        Returns
        -------
        numpy.ndarray or tuple of numpy.ndarray
            Tokens, integers of shape (n, T); with ``return_states`` also the states (n, T).
        """
        n = check_int("n", n, minimum=1)
        T = check_int("T", T, minimum=1)
        check_memory("n and T", 24.0 * n * T, what="the sampled tokens and states")
        rng = check_rng("rng", rng)
        cum_pi = np.cumsum(self.pi)
        cum_A = np.cumsum(self.A, axis=1)
        cum_B = np.cumsum(self.B, axis=0).T  # (m, V): row h = CDF of the emission of state h
        H = np.empty((n, T), dtype=np.int64)
        X = np.empty((n, T), dtype=np.int64)
        u = rng.random((n, T, 2))
        H[:, 0] = np.minimum((u[:, 0, 0, None] >= cum_pi[None, :]).sum(1), self.m - 1)
        for t in range(1, T):
            H[:, t] = np.minimum((u[:, t, 0, None] >= cum_A[H[:, t - 1]]).sum(1), self.m - 1)
        for t in range(T):
            X[:, t] = np.minimum((u[:, t, 1, None] >= cum_B[H[:, t]]).sum(1), self.V - 1)
        return (X, H) if return_states else X

    # --------------------------------------------------------------- inference
    def _check_x(self, x: Any) -> tuple[np.ndarray, bool]:
        x = bind_shapes({"x": (x, Shape("[n] T", dtype="int", min_rows=0))})["x"]
        single = x.ndim == 1
        x = x[None, :] if single else x
        if x.size and (x.min() < 0 or x.max() >= self.V):
            raise ValueError(f"x must hold tokens in [0, {self.V}), got range [{x.min()}, {x.max()}]")
        return x, single

    def _forward(self, x: np.ndarray, initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled forward pass: (filtering posteriors (n, T, m), log normalizers (n, T))."""
        n, T = x.shape
        alpha = np.empty((n, T, self.m))
        logc = np.empty((n, T))
        prior = np.broadcast_to(initial, (n, self.m))
        for t in range(T):
            a = prior * self.B[x[:, t]]
            c = a.sum(axis=1)
            if np.any(c <= 0):
                raise ValueError("x contains a sequence of probability zero under this HMM")
            alpha[:, t] = a / c[:, None]
            logc[:, t] = np.log(c)
            prior = alpha[:, t] @ self.A
        return alpha, logc

    def _initial(self, initial: Any) -> np.ndarray:
        if initial is None:
            return self.pi
        if isinstance(initial, str):
            check_choice("initial", initial, ("stationary",))
            return self.stationary()
        return bind_shapes({"initial": (initial, Shape("m", simplex=True, atol=_ATOL))}, dims={"m": self.m})["initial"]

    def filtering(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r"""All filtering distributions :math:`P(H_t\mid x_{1:t})`, shape (n, T, m) (or (T, m) for one sequence).

        ``initial`` overrides :math:`\pi` (an array, or ``"stationary"``).
        """
        x, single = self._check_x(x)
        alpha, _ = self._forward(x, self._initial(initial))
        return alpha[0] if single else alpha

    def posterior(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r"""Filtering posterior :math:`P(H_T\mid x_{1:T})` of the last hidden state, shape (n, m).

        For an empty context (T = 0) this is the initial distribution. See :meth:`filtering` for ``initial``.
        """
        x, single = self._check_x(x)
        init = self._initial(initial)
        if x.shape[1] == 0:
            out = np.broadcast_to(init, (x.shape[0], self.m)).copy()
        else:
            out = self._forward(x, init)[0][:, -1]
        return out[0] if single else out

    def next_state(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r"""Predicted next hidden state :math:`P(H_{T+1}\mid x_{1:T})=A^\top P(H_T\mid x_{1:T})`, shape (n, m)."""
        return self.posterior(x, initial=initial) @ self.A

    def predictive(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r"""Next-token distribution :math:`P(X_{T+1}\mid x_{1:T})=B\,A^\top P(H_T\mid x_{1:T})`, shape (n, V)."""
        return self.next_state(x, initial=initial) @ self.B.T

    def log_likelihood(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r""":math:`\log P(x_{1:T})` for each row (sum of the log normalizers of the scaled forward pass)."""
        x, single = self._check_x(x)
        _, logc = self._forward(x, self._initial(initial))
        out = logc.sum(axis=1)
        return out[0] if single else out

    def smoothing(self, x: Any, *, initial: Any = None) -> np.ndarray:
        r"""Smoothing posteriors :math:`P(H_t\mid x_{1:T})` for every t (forward--backward), shape (n, T, m).

        Scaled backward recursion: :math:`\hat\beta_T=1`,
        :math:`\hat\beta_t=A\,(B_{x_{t+1}}\odot\hat\beta_{t+1})/c_{t+1}` and
        :math:`P(H_t\mid x_{1:T})=\hat\alpha_t\odot\hat\beta_t`.
        """
        x, single = self._check_x(x)
        alpha, logc = self._forward(x, self._initial(initial))
        n, T = x.shape
        c = np.exp(logc)
        beta = np.ones((n, T, self.m))
        for t in range(T - 2, -1, -1):
            beta[:, t] = ((self.B[x[:, t + 1]] * beta[:, t + 1]) @ self.A.T) / c[:, t + 1, None]
        gamma = alpha * beta
        gamma /= gamma.sum(axis=2, keepdims=True)  # exact up to rounding; removes drift
        return gamma[0] if single else gamma

    def enumerate_contexts(self, L: int, *, initial: Any = "stationary", drop_zero: bool = True) -> HMMContexts:
        r"""All :math:`V^L` contexts of length L with exact probabilities and next-token distributions.

        By default the chain starts from its stationary distribution, so the context law is that of any window
        of L consecutive tokens of a long stationary text. Computed by the unnormalized forward recursion over
        the tree of prefixes, :math:`\alpha(x_{1:l},\cdot)=(\alpha(x_{1:l-1},\cdot)A)\odot B_{x_l,\cdot}`.

        Parameters
        ----------
        L : int
            Context length (>= 0; at most 5e6 contexts).
        initial : "stationary", None or array_like
            Start of the chain (``None``: :math:`\pi`).
        drop_zero : bool
            Drop contexts of probability zero (their conditionals are undefined). With strictly positive
            emissions (e.g. :meth:`random`) no context is dropped.
        """
        L = check_int("L", L, minimum=0)
        if self.V ** L > _MAX_CONTEXTS:
            raise ValueError(f"L too large: V**L = {self.V ** L} contexts exceeds {_MAX_CONTEXTS}")
        init = self._initial(initial)
        alpha = init[None, :]
        for step in range(L):
            prior = alpha @ self.A if step else alpha
            alpha = (prior[:, None, :] * self.B[None, :, :]).reshape(-1, self.m)
        probs = alpha.sum(axis=1)
        contexts = np.stack(np.unravel_index(np.arange(self.V ** L), (self.V,) * L), axis=1) if L else \
            np.zeros((1, 0), dtype=np.int64)
        keep = probs > 0
        if not drop_zero and not np.all(keep):
            raise ValueError("some contexts have probability zero; use drop_zero=True")
        contexts, probs, alpha = contexts[keep].astype(np.int64), probs[keep], alpha[keep]
        post = alpha / probs[:, None]
        return HMMContexts(contexts, probs, post @ self.A @ self.B.T, post)

    # ------------------------------------------------------------------- torch
    def forward_torch(self, x: Any, *, device: Any = None, initial: Any = None):
        r"""Scaled forward recursion in torch (float64), batched over rows of ``x``.

        Parameters
        ----------
        x : array_like or torch.Tensor
            Integer tokens of shape (n, T), T >= 1.
        device : str or torch.device, optional
            Where to compute (default: the device of ``x`` if it is a tensor, else CPU).
        initial : None, "stationary" or array_like
            Start of the chain (``None``: :math:`\pi`).

        Returns
        -------
        tuple of torch.Tensor
            ``(posterior, log_likelihood)``: :math:`P(H_T\mid x_{1:T})` of shape (n, m) and
            :math:`\log P(x_{1:T})` of shape (n,).
        """
        import torch

        from sslbook.device import get_device

        if device is not None:
            device = get_device(device)  # a clear error for an unavailable 'cuda' or 'mps'
        if isinstance(x, torch.Tensor):
            if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
                raise TypeError(f"x must hold integer tokens, got dtype {x.dtype}")
            device = x.device if device is None else device
            xt = x.to(device=device, dtype=torch.long)
        else:
            xn, _ = self._check_x(x)
            xt = torch.as_tensor(xn, dtype=torch.long, device=device)
        if xt.ndim != 2 or xt.shape[1] < 1:
            raise ValueError(f"x must have shape (n, T) with T >= 1, got {tuple(xt.shape)}")
        if xt.numel() and (int(xt.min()) < 0 or int(xt.max()) >= self.V):
            raise ValueError(f"x must hold tokens in [0, {self.V})")
        A = torch.as_tensor(self.A, dtype=torch.float64, device=xt.device)
        Bt = torch.as_tensor(self.B, dtype=torch.float64, device=xt.device)
        prior = torch.as_tensor(self._initial(initial), dtype=torch.float64, device=xt.device).expand(xt.shape[0], -1)
        loglik = torch.zeros(xt.shape[0], dtype=torch.float64, device=xt.device)
        post = prior
        for t in range(xt.shape[1]):
            a = prior * Bt[xt[:, t]]
            c = a.sum(dim=1)
            post = a / c[:, None]
            loglik = loglik + torch.log(c)
            prior = post @ A
        return post, loglik
