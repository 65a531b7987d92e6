"""Encoders :math:`f:\\mathcal X\\to\\mathbb R^d` used across the book.

See: Chapter 1 (representations and probes); later chapters train them with :mod:`sslbook.train`.
"""

from __future__ import annotations

import torch
from torch import nn

from sslbook._validation import check_choice, check_float, check_int, check_memory

#: Bytes per float32 parameter in training: the weight, its gradient and Adam's two moments.
_TRAIN_BYTES_PER_PARAM = 4 * 4


class LinearEncoder(nn.Module):
    r"""A linear representation :math:`f(x) = Ux`, :math:`U\in\mathbb R^{d\times d_{in}}`.

    Parameters
    ----------
    d_in : int
        Input dimension.
    d : int
        Representation dimension.
    max_fro : float, optional
        If given, :meth:`project` rescales :math:`U` so that :math:`\|U\|_F \le` ``max_fro``
        (the norm-bounded class of the CURL bounds); the trainer calls it after each step.
    """

    def __init__(self, d_in: int, d: int, *, max_fro: float | None = None):
        super().__init__()
        d_in = check_int("d_in", d_in, minimum=1)
        d = check_int("d", d, minimum=1)
        self.max_fro = None if max_fro is None else check_float("max_fro", max_fro, minimum=0.0, strict_min=True)
        check_memory("d_in, d", _TRAIN_BYTES_PER_PARAM * d_in * d,
                     what="the LinearEncoder weights (float32, with gradient and Adam state)")
        self.d_in = d_in
        self.linear = nn.Linear(d_in, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @torch.no_grad()
    def project(self) -> None:
        """Rescale the weights onto the Frobenius ball of radius ``max_fro`` (no-op without one)."""
        if self.max_fro is None:
            return
        # min(1, R / ||U||) as a tensor: no host synchronisation on a GPU (R / 0 = inf is clamped to 1)
        norm = self.linear.weight.norm()
        self.linear.weight.mul_(torch.clamp(self.max_fro / norm, max=1.0))


class MLPEncoder(nn.Module):
    r"""A multilayer perceptron :math:`f(x)=W_L\sigma(\cdots\sigma(W_1x))`, optionally L2-normalised.

    Parameters
    ----------
    d_in : int
        Input dimension.
    hidden : int or sequence of int
        Widths of the hidden layers.
    d : int
        Representation dimension.
    activation : {"relu", "gelu", "tanh"}
    normalize : bool
        Project the output onto the unit sphere (as in InfoNCE/SimCLR).
    """

    def __init__(self, d_in: int, hidden, d: int, *, activation: str = "relu", normalize: bool = False):
        super().__init__()
        d_in = check_int("d_in", d_in, minimum=1)
        d = check_int("d", d, minimum=1)
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        widths = [check_int("hidden[i]", w, minimum=1) for w in widths]
        activation = check_choice("activation", activation, ("relu", "gelu", "tanh"))
        act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}[activation]
        sizes = [d_in, *widths, d]
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        check_memory("d_in, hidden, d", _TRAIN_BYTES_PER_PARAM * n_params,
                     what="the MLPEncoder weights (float32, with gradient and Adam state)")
        self.d_in = d_in
        layers: list[nn.Module] = []
        prev = d_in
        for w in widths:
            layers += [nn.Linear(prev, w), act()]
            prev = w
        layers.append(nn.Linear(prev, d))
        self.net = nn.Sequential(*layers)
        self.normalize = bool(normalize)

    @property
    def n_hidden(self) -> int:
        """The number of hidden layers (each a Linear map followed by the activation)."""
        return (len(self.net) - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net(x)
        return nn.functional.normalize(z, dim=-1) if self.normalize else z

    def hidden(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        r"""The activations :math:`h_\ell=\sigma(W_\ell\cdots\sigma(W_1x))` of hidden layer ``layer`` (1-based).

        See: Chapter "InfoNCE" (probes on the hidden layer).
        """
        layer = check_int("layer", layer, minimum=1, maximum=self.n_hidden)
        return self.net[: 2 * layer](x)


@torch.no_grad()
def encode(model: nn.Module, X, *, layer: int | None = None, batch_size: int = 4096, device=None):
    r"""Apply a trained encoder to a numpy array in batches; returns a float64 numpy array.

    With ``layer=None`` the rows are :math:`f(x)`; with ``layer=l`` they are the activations
    :math:`h_l(x)` of hidden layer ``l`` of an :class:`MLPEncoder` (see :meth:`MLPEncoder.hidden`).

    See: Chapter 1 (features for probes).

    Parameters
    ----------
    model : torch.nn.Module
        The encoder; its expected input width is read from ``model.d_in`` (the book's encoders) or from a
        first ``torch.nn.Linear`` layer.
    X : array_like, shape (n, d_in)
    layer : int, optional
        A hidden layer of an :class:`MLPEncoder`, from 1 to ``model.n_hidden``; ``None`` for the output.
    batch_size : int
    device : str or torch.device, optional

    Raises
    ------
    ValueError
        If ``X`` does not have the model's input width (or the model rejects its shape), or ``layer`` is out
        of range.
    TypeError
        If ``layer`` is given for a model that is not an :class:`MLPEncoder`.
    """
    import numpy as np

    from sslbook._validation import check_array
    from sslbook.device import get_device

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X = check_array("X", X, ndim=2)
    width = _input_width(model)
    if width is not None and X.shape[1] != width:
        raise ValueError(f"X must have {width} columns (the model's input width), got shape {X.shape}")
    if layer is not None:
        if not isinstance(model, MLPEncoder):
            raise TypeError(f"layer is only defined for an MLPEncoder, got model of type {type(model).__name__}")
        layer = check_int("layer", layer, minimum=1, maximum=model.n_hidden)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    dev = get_device(device)
    model = model.to(dev).eval()
    out = []
    for i in range(0, X.shape[0], batch_size):
        xb = torch.as_tensor(X[i : i + batch_size], dtype=torch.float32, device=dev)
        try:
            z = model(xb) if layer is None else model.hidden(xb, layer)
            out.append(z.float().cpu().numpy())
        except RuntimeError as exc:
            if "shape" not in str(exc) and "size" not in str(exc):
                raise
            raise ValueError(f"X of shape {X.shape} does not fit the model's input: {exc}") from exc
    return np.concatenate(out).astype(np.float64)


def _input_width(model: nn.Module) -> int | None:
    """The input width of ``model``: its ``d_in`` attribute, else the ``in_features`` of a leading Linear layer."""
    width = getattr(model, "d_in", None)
    if isinstance(width, int) and not isinstance(width, bool):
        return width
    first = next((m for m in model.modules() if not list(m.children())), None)
    return first.in_features if isinstance(first, nn.Linear) else None


# --- ch2 addition (issue 16): rows rescaled to a sphere, for features used outside training ---------------------


def project_to_sphere(features, *, radius: float = 1.0):
    r"""Rescale every row to norm ``radius``: :math:`x\mapsto R\,x/\|x\|`.

    The features a CURL encoder trained with ``radius=R`` (:func:`sslbook.train.train_contrastive`) sees, applied to
    the outputs of :func:`encode`; with ``radius=1`` the unit-sphere features of InfoNCE.

    See: Chapter 4, "A Table-1 analogue on the digits".

    Parameters
    ----------
    features : array_like, shape (n, d)
        Rows to rescale; none may be zero.
    radius : float
        The norm :math:`R>0` of every output row.

    Returns
    -------
    numpy.ndarray, shape (n, d)
    """
    import numpy as np

    from sslbook._validation import check_array, check_float

    F = check_array("features", features, ndim=2)
    radius = check_float("radius", radius, minimum=0.0, strict_min=True)
    norms = np.linalg.norm(F, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("features must have no zero row (its direction is undefined)")
    return radius * F / norms
