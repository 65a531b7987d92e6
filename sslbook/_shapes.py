"""Declarative shape checks: dimension symbols bound across the array arguments of a function (floor 0).

The companion of :mod:`sslbook._validation` (whose :func:`~sslbook._validation.check_array` converts each
array), in the spirit of scikit-learn's ``validate_params``: a public function declares the shape of each array
argument with named dimensions, and one decorator converts the arrays, checks their number of dimensions and
requires every symbol to take one size across all the arguments that use it::

    @check_shapes(X="n d", y=Shape("n", dtype="int"), W="d k", p=Shape("k", simplex=True))
    def f(X, y, W, p): ...

A dimension string lists one token per axis:

========== ======================================================================================
``n``      a symbol: any size, the same in every argument that uses ``n``
``3``      a literal size
``*``      one axis of any size, bound to nothing
``[S]``    an optional leading axis (``"[S] V"``: shape ``(V,)`` or ``(S, V)``)
``...``    any number (zero or more) of axes of any size
``""``     a scalar (0-d array)
========== ======================================================================================

The declaration is readable as ``func.__shapes__`` (a mapping from argument name to :class:`Shape`), so that
``tests/test_bad_input.py`` generates wrong-rank and mismatched-dimension inputs from it.

See: Chapter "Running the book" (input validation at the public boundary).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import numpy as np

from sslbook._validation import check_array

__all__ = ["Bound", "Shape", "ShapeSpec", "bind_shapes", "check_shapes", "declared_shapes"]

_TOKEN = re.compile(r"\[[A-Za-z_]\w*\]|\.\.\.|\*|\d+|[A-Za-z_]\w*")
_F = TypeVar("_F")


@dataclasses.dataclass(frozen=True)
class Shape:
    r"""The declared shape and kind of one array argument.

    Parameters
    ----------
    dims : str
        One token per axis, separated by spaces or commas (optionally in parentheses): a symbol (``n``), a literal
        size (``3``), ``*`` (any size), ``[S]`` (an optional leading axis) or ``...`` (zero or more axes).
        ``""`` declares a scalar.
    dtype : {"float", "int"}
        ``"float"`` converts to float64 (finite unless ``finite=False``); ``"int"`` requires integer labels
        (int64), as :func:`sslbook._validation.check_array`.
    simplex : bool
        Require probability vectors along ``axis``: entries :math:`p_i\ge0` with :math:`\sum_i p_i=1`
        (to ``atol``).
    axis : int or None
        The axis that sums to one when ``simplex`` (default: the last); ``None``: the whole array is one
        distribution (a joint probability table).
    optional : bool
        ``None`` is accepted (and passed on unchanged); declared arguments whose default is ``None`` must say so.
    finite : bool
        Reject NaN and infinite entries (float arrays).
    min_rows : int
        Minimum length of the first axis (``1``: empty inputs are rejected, as ``check_array``).
    atol : float
        Absolute tolerance of the ``simplex`` sums.
    """

    dims: str
    dtype: Literal["float", "int"] = "float"
    simplex: bool = False
    axis: int | None = -1
    optional: bool = False
    finite: bool = True
    min_rows: int = 1
    atol: float = 1e-9

    def __post_init__(self) -> None:
        if not isinstance(self.dims, str):
            raise TypeError(f"Shape dims must be a string such as 'n d', got {type(self.dims).__name__}")
        text = self.dims.strip().removeprefix("(").removesuffix(")")
        tokens = tuple(_TOKEN.findall(text))
        if re.sub(r"[\s,]", "", text) != "".join(tokens):
            raise ValueError(f"Shape dims {self.dims!r} has an invalid token (use names, integers, *, [S], ...)")
        n_opt = 0
        while n_opt < len(tokens) and tokens[n_opt].startswith("["):
            n_opt += 1
        if any(t.startswith("[") for t in tokens[n_opt:]):
            raise ValueError(f"Shape dims {self.dims!r}: optional axes [S] must come first")
        if tokens.count("...") > 1 or (n_opt and "..." in tokens):
            raise ValueError(f"Shape dims {self.dims!r}: at most one '...', and not with optional axes")
        if self.dtype not in ("float", "int"):
            raise ValueError(f"Shape dtype must be 'float' or 'int', got {self.dtype!r}")
        if self.simplex and self.dtype != "float":
            raise ValueError("Shape(simplex=True) needs dtype='float'")
        object.__setattr__(self, "_tokens", tokens)
        object.__setattr__(self, "_n_optional", n_opt)

    # --- reading the declaration ----------------------------------------------------------------------

    @property
    def tokens(self) -> tuple[str, ...]:
        """The axis tokens, e.g. ``("[S]", "V")``."""
        return self._tokens  # type: ignore[attr-defined]

    @property
    def min_ndim(self) -> int:
        """The fewest axes an argument may have."""
        return len(self.tokens) - self._n_optional - ("..." in self.tokens)  # type: ignore[attr-defined]

    @property
    def max_ndim(self) -> int | None:
        """The most axes an argument may have (``None``: unbounded, the dims contain ``...``)."""
        return None if "..." in self.tokens else len(self.tokens)

    @property
    def symbols(self) -> tuple[str, ...]:
        """The dimension symbols (optional axes without brackets), in order."""
        return tuple(t.strip("[]") for t in self.tokens if t not in ("...", "*") and not t.isdigit())

    def describe(self) -> str:
        """The dims as a shape tuple, e.g. ``"(n, d)"`` or ``"([S], V)"``."""
        inner = ", ".join(self.tokens)
        return f"({inner},)" if len(self.tokens) == 1 else f"({inner})"

    def axis_tokens(self, ndim: int) -> list[str]:
        """The token of each axis of an argument with ``ndim`` axes (``"*"`` for axes that ``...`` covers).

        Raises
        ------
        ValueError
            If ``ndim`` is not between :attr:`min_ndim` and :attr:`max_ndim`.
        """
        if ndim < self.min_ndim or (self.max_ndim is not None and ndim > self.max_ndim):
            raise ValueError(f"{ndim} axes do not fit {self.describe()}")
        tokens = list(self.tokens)
        if "..." in tokens:
            i = tokens.index("...")
            return tokens[:i] + ["*"] * (ndim - len(tokens) + 1) + tokens[i + 1:]
        drop = len(tokens) - ndim  # optional leading axes left out
        return [t.strip("[]") for t in tokens[drop:]]


#: A declaration: a :class:`Shape`, or its dims string for a float array (``"n d"`` is ``Shape("n d")``).
ShapeSpec = str | Shape


def _as_shape(name: str, spec: ShapeSpec) -> Shape:
    if isinstance(spec, Shape):
        return spec
    if isinstance(spec, str):
        return Shape(spec)
    raise TypeError(f"the shape of {name} must be a string or a Shape, got {type(spec).__name__}")


class Bound(dict):
    """The converted arrays of :func:`bind_shapes` by argument name, with the bound sizes in ``.dims``."""

    dims: dict[str, int]


class _Binder:
    """Sizes of the symbols seen so far and the argument that fixed each one (for the error messages)."""

    def __init__(self, dims: Mapping[str, int] | None = None):
        self.dims: dict[str, int] = {}
        self.owner: dict[str, tuple[str, tuple[int, ...]] | None] = {}
        for sym, size in (dims or {}).items():
            self.dims[sym] = int(size)
            self.owner[sym] = None

    def check(self, name: str, value: Any, shape: Shape) -> Any:
        if value is None and shape.optional:
            return None
        arr = check_array(name, value, ndim=None, dtype=shape.dtype, min_rows=shape.min_rows, finite=shape.finite)
        if arr.ndim < shape.min_ndim or (shape.max_ndim is not None and arr.ndim > shape.max_ndim):
            raise ValueError(f"{name} must have shape {shape.describe()} ({_ndim_text(shape)} dimensions), "
                             f"got shape {arr.shape}")
        for i, (tok, size) in enumerate(zip(shape.axis_tokens(arr.ndim), arr.shape, strict=True)):
            if tok == "*":
                continue
            if tok.isdigit():
                if size != int(tok):
                    raise ValueError(f"{name} must have shape {shape.describe()}: size {tok} on axis {i}, "
                                     f"got shape {arr.shape}")
                continue
            self._bind(name, arr.shape, tok, size)
        if shape.simplex:
            _check_simplex(name, arr, shape)
        return arr

    def _bind(self, name: str, shp: tuple[int, ...], sym: str, size: int) -> None:
        if sym not in self.dims:
            self.dims[sym], self.owner[sym] = size, (name, shp)
            return
        if self.dims[sym] == size:
            return
        owner = self.owner[sym]
        if owner is None:
            raise ValueError(f"{name} has {sym} = {size} (shape {shp}), expected {sym} = {self.dims[sym]}")
        other, other_shape = owner
        if other == name:
            raise ValueError(f"{name} must have equal sizes on the axes named {sym}, got shape {shp}")
        raise ValueError(f"{other} and {name} disagree on {sym}: {other} has {sym} = {self.dims[sym]} "
                         f"(shape {other_shape}), {name} has {sym} = {size} (shape {shp})")


def _ndim_text(shape: Shape) -> str:
    if shape.max_ndim is None:
        return f"{shape.min_ndim} or more"
    if shape.max_ndim == shape.min_ndim:
        return str(shape.min_ndim)
    return f"{shape.min_ndim} to {shape.max_ndim}"


def _check_simplex(name: str, arr: np.ndarray, shape: Shape) -> None:
    where = "in total" if shape.axis is None else "on its last axis" if shape.axis == -1 else f"on axis {shape.axis}"
    if arr.size == 0 or (shape.axis is not None and arr.shape[shape.axis] < 1):
        raise ValueError(f"{name} must hold probability vectors {where}, got shape {arr.shape}")
    sums = arr.sum() if shape.axis is None else arr.sum(axis=shape.axis)
    if np.any(arr < 0) or not np.allclose(sums, 1.0, rtol=0, atol=shape.atol):
        worst = float(np.max(np.abs(np.asarray(sums) - 1.0)))
        raise ValueError(f"{name} must be non-negative and sum to 1 {where}, got min entry {arr.min():.3g} "
                         f"and a sum off by {worst:.3g}")


def bind_shapes(args: Mapping[str, tuple[Any, ShapeSpec]], *, dims: Mapping[str, int] | None = None) -> Bound:
    r"""Convert and check several array arguments against declared shapes, binding the dimension symbols.

    The function form of :func:`check_shapes`, for checks that depend on an object's state (pass its sizes as
    ``dims``). Arguments are checked in order; the first one that uses a symbol fixes its size.

    Parameters
    ----------
    args : mapping of str to (value, ShapeSpec)
        Argument name → (value, declared shape), e.g. ``{"X": (X, "n d"), "y": (y, Shape("n", dtype="int"))}``.
    dims : mapping of str to int, optional
        Sizes known in advance, e.g. ``{"V": self.vocab}``.

    Returns
    -------
    Bound
        A dict of the converted arrays (``None`` for an optional argument given as ``None``) with the bound sizes
        as ``.dims``, e.g. ``out["X"]``, ``out.dims["n"]``.

    Raises
    ------
    TypeError
        If an argument is not a numeric array (or not integer labels for ``dtype="int"``).
    ValueError
        If an argument has the wrong number of dimensions, a wrong literal size, non-finite entries, is empty,
        is not a probability table (``simplex``), or two arguments disagree on a symbol (the message names
        both arguments, the symbol and both sizes).
    """
    binder = _Binder(dims)
    out = Bound()
    for name, (value, spec) in args.items():
        out[name] = binder.check(name, value, _as_shape(name, spec))
    out.dims = dict(binder.dims)
    return out


def check_shapes(**specs: ShapeSpec) -> Callable[[_F], _F]:
    r"""Decorator: convert and check the declared array arguments of a function, a class or a dataclass.

    Each keyword names an argument and gives its :class:`Shape` (a dims string for a float array). A call
    converts the declared arguments (as :func:`sslbook._validation.check_array`), checks them in declaration
    order with :func:`bind_shapes`, and passes the converted arrays on. A class (a dataclass too: decorate
    above ``@dataclass``) is checked at ``__init__``, so a dataclass's fields hold the converted arrays before
    its ``__post_init__`` runs. The declaration is exposed as ``__shapes__`` (argument → :class:`Shape`) for
    the bad-input tests.

    Parameters
    ----------
    **specs : ShapeSpec
        ``name="n d"`` or ``name=Shape("n", dtype="int", optional=True)``.

    Returns
    -------
    callable
        The decorator.

    Raises
    ------
    TypeError
        At decoration, if a declared name is not a parameter (of ``__init__`` for a class), or a parameter whose
        default is ``None`` is declared without ``optional=True``.

    Examples
    --------
    >>> @check_shapes(X="n d", y=Shape("n", dtype="int"))
    ... def n_rows(X, y):
    ...     return X.shape[0]
    >>> n_rows([[1.0, 2.0]], [0])
    1
    """
    shapes = {name: _as_shape(name, spec) for name, spec in specs.items()}

    def decorate(obj: _F) -> _F:
        if isinstance(obj, type):  # a class, dataclasses included: check the arguments of __init__
            obj.__init__ = _decorate_function(obj.__init__, shapes)  # type: ignore[misc]
            obj.__shapes__ = obj.__init__.__shapes__  # type: ignore[attr-defined, misc]
            return obj
        return _decorate_function(obj, shapes)  # type: ignore[arg-type]

    return decorate


def _check_defaults(where: str, shapes: Mapping[str, Shape], params: Mapping[str, Any]) -> None:
    unknown = [n for n in shapes if n not in params]
    if unknown:
        raise TypeError(f"check_shapes on {where}: {unknown} are not parameters ({list(params)})")
    for name, shape in shapes.items():
        if params[name] is None and not shape.optional:
            raise TypeError(f"check_shapes on {where}: {name} defaults to None; declare Shape(..., optional=True)")


def _decorate_function(func: Callable, shapes: dict[str, Shape]) -> Callable:
    sig = inspect.signature(func)
    defaults = {n: (None if p.default is None else ...) for n, p in sig.parameters.items()}
    _check_defaults(func.__qualname__, shapes, defaults)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        given = {n: (bound.arguments[n], s) for n, s in shapes.items() if n in bound.arguments}
        bound.arguments.update(bind_shapes(given))
        return func(*bound.args, **bound.kwargs)

    wrapper.__shapes__ = MappingProxyType(shapes)  # type: ignore[attr-defined]
    return wrapper


def declared_shapes(obj: Any) -> Mapping[str, Shape] | None:
    """The shapes declared by :func:`check_shapes` on a function or class (``None`` if it declares none)."""
    shapes = getattr(obj, "__shapes__", None)
    return shapes if isinstance(shapes, Mapping) else None
