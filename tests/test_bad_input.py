"""Bad input to every public function of sslbook raises ValueError/TypeError naming the argument (hypothesis).

A registry maps each public function or class to a builder of valid arguments and to the kinds of corruption
each argument must reject: wrong shapes, dtypes, NaN/inf, negative or zero sizes and temperatures,
probabilities that do not sum to one, empty inputs. A property test draws (argument, corruption) pairs with
hypothesis and checks that the call raises ``ValueError``/``TypeError`` whose message names the argument --
never an IndexError deep inside, never a silent answer. ``test_registry_is_complete`` fails when a public
function or class of the package has neither a registry entry nor an explicit, justified exemption.

Kinds of corruption (``kinds`` of an entry, inferred from the valid value when not given):

======== ===============================================================================
nan      one entry (or the scalar) set to NaN or +-inf
ndim     one axis added or the first axis indexed away
empty    zero rows (an empty list for a sequence argument)
type     a string where a number/array/callable is expected, an int where a string is
dtype    a complex array for a float array; non-integral floats for integer labels;
         an integer tensor for a float tensor
neg      a negative number; zero  a zero
simplex  probabilities that do not sum to one, or with a negative entry
choice   a string that is not one of the allowed options
mismatch one more slice on an axis whose size is fixed by the declaration (generated)
======== ===============================================================================

Callables decorated with ``sslbook._shapes.check_shapes`` declare their array arguments' shapes
(``fn.__shapes__``); for those arguments ``ndim`` and ``mismatch`` are generated from the declaration: a number
of axes it rejects, and a size that disagrees with a literal or with another argument sharing the symbol.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sslbook
from sslbook._shapes import Shape, declared_shapes

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------------
# valid-argument helpers
# ----------------------------------------------------------------------------------------------------


def arr(*shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def ten(*shape, seed=0):
    return torch.from_numpy(arr(*shape, seed=seed)).float()


def simplex(n, seed=0):
    p = np.random.default_rng(seed).random(n) + 0.1
    return p / p.sum()


def labels(n, c=2):
    return np.arange(n) % c


def spd(p, seed=0):
    a = arr(p, p, seed=seed)
    return a @ a.T + p * np.eye(p)


@dataclass
class Entry:
    """A public callable, a builder of valid keyword arguments, and the corruptions each argument rejects."""

    qualname: str
    build: Callable[[], dict]
    kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # overrides/extends the inferred kinds
    only: bool = False  # True: test only the arguments named in ``kinds``
    positional: tuple[str, ...] = ()  # arguments that must be passed positionally
    varargs: str | None = None  # a ``*args`` argument, given as a list and passed unpacked
    target: Callable | None = None  # the callable itself, for tests of this file (default: import qualname)

    @property
    def fn(self):
        if self.target is not None:
            return self.target
        module, name = self.qualname.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)

    @property
    def shapes(self) -> Mapping[str, Shape]:
        """The shapes the callable declares with ``check_shapes`` (empty if none)."""
        return declared_shapes(self.fn) or {}

    def call(self, kwargs: dict):
        args = [kwargs.pop(name) for name in self.positional]
        if self.varargs is not None:
            args += list(kwargs.pop(self.varargs))
        return self.fn(*args, **kwargs)

    def plan(self) -> list[tuple[str, str]]:
        valid = self.build()
        out = []
        names = list(self.kinds) if self.only else list(valid)
        for name in names:
            kinds = self.kinds.get(name)
            if kinds is None:
                kinds = infer_kinds(valid[name])
            out += [(name, k) for k in kinds if not (k == "ndim" and name in self.shapes)]
        for name, shape in self.shapes.items():  # generated from the declaration (see corrupt_declared)
            if valid.get(name) is None:
                continue
            if wrong_ranks(shape, np.ndim(valid[name])):
                out.append((name, "ndim"))
            if bound_axes(self.shapes, valid, name):
                out.append((name, "mismatch"))
        return out


def infer_kinds(value) -> tuple[str, ...]:
    if isinstance(value, bool) or value is None:
        return ()
    if isinstance(value, torch.Tensor):
        return ("ndim", "type", "dtype", "empty") if value.is_floating_point() else ("ndim", "type")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iu":
            return ("ndim", "type", "dtype", "empty")
        return ("nan", "ndim", "type", "dtype", "empty")
    if isinstance(value, int):
        return ("type", "neg")
    if isinstance(value, float):
        return ("type", "nan")
    if isinstance(value, str):
        return ("type", "choice")
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        return ("type", "empty", "nan")
    if callable(value):
        return ("type",)
    return ()


def wrong_ranks(shape: Shape, ndim: int) -> list[int]:
    """The numbers of axes just outside those ``shape`` accepts (one fewer than the least, one more than the most),
    that an argument with ``ndim`` axes can reach by indexing axes away or adding them."""
    out = [shape.min_ndim - 1] if 0 < shape.min_ndim <= ndim else []
    return out + ([shape.max_ndim + 1] if shape.max_ndim is not None else [])


def bound_axes(shapes: Mapping[str, Shape], valid: dict, name: str) -> list[int]:
    """Axes of argument ``name`` whose size the declaration fixes: a literal, or a symbol that another given
    argument also uses (changing such an axis alone must be rejected)."""
    value = valid[name]
    axes = shapes[name].axis_tokens(np.ndim(value))
    others = {sym for other, shape in shapes.items() if other != name and valid.get(other) is not None
              for sym in shape.axis_tokens(np.ndim(valid[other]))}
    return [i for i, tok in enumerate(axes) if tok.isdigit() or (tok != "*" and tok in others)
            or axes.count(tok) > 1]


def _grow(value, axis: int, zeros: bool):
    """``value`` with one more slice on ``axis``: a copy of the last slice, or zeros."""
    take = value.narrow(axis, value.shape[axis] - 1, 1) if isinstance(value, torch.Tensor) else \
        np.take(value, [-1], axis=axis)
    if zeros:
        take = take * 0
    return torch.cat([value, take], dim=axis) if isinstance(value, torch.Tensor) else \
        np.concatenate([value, take], axis=axis)


def corrupt_declared(valid: dict, shapes: Mapping[str, Shape], name: str, kind: str, data):
    """A corruption generated from the declared shape of argument ``name``.

    ``ndim``: axes added in front, or leading axes indexed away, to a number of axes the declaration rejects.
    ``mismatch``: one more slice on an axis whose size a literal or another argument fixes (zeros on the simplex
    axis, a copy of the last slice elsewhere, so that probability tables stay valid).
    """
    shape, value = shapes[name], valid[name]
    if not isinstance(value, (np.ndarray, torch.Tensor)):
        value = np.asarray(value)
    if kind == "ndim":
        rank = data.draw(st.sampled_from(wrong_ranks(shape, value.ndim)))
        return value[(None,) * (rank - value.ndim)] if rank > value.ndim else value[(0,) * (value.ndim - rank)]
    axis = data.draw(st.sampled_from(bound_axes(shapes, valid, name)))
    on_simplex = shape.simplex and (shape.axis is None or axis == shape.axis % value.ndim)
    return _grow(value, axis, zeros=on_simplex)


def corrupt(value, kind: str, data):
    """A corrupted copy of ``value`` of the given kind (hypothesis draws the details)."""
    if kind == "type":
        return data.draw(st.sampled_from([3, 2.5])) if isinstance(value, str) else "not-a-valid-value"
    if kind == "choice":
        return "no-such-option"
    if kind == "neg":
        if isinstance(value, int):
            return -data.draw(st.integers(1, 1000))
        return -data.draw(st.floats(1e-6, 1e6))
    if kind == "zero":
        return 0 if isinstance(value, int) else 0.0
    if isinstance(value, (list, tuple)) and not isinstance(value, torch.Tensor):
        if kind == "empty":
            return []
        value = [np.array(v, dtype=float) for v in value]
        if kind == "nan":
            i = data.draw(st.integers(0, len(value) - 1))
            value[i] = corrupt(value[i], "nan", data)
            return value
    if isinstance(value, (int, float)):
        if kind == "nan":
            return data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    if isinstance(value, torch.Tensor):
        t = value.clone()
        if kind == "ndim":
            return t[None] if data.draw(st.booleans()) or t.ndim == 1 else t[0]
        if kind == "empty":
            return t[:0]
        if kind == "dtype":
            return t.long() if t.is_floating_point() else t.double()
        if kind == "nan":
            flat = t.reshape(-1)
            flat[data.draw(st.integers(0, flat.numel() - 1))] = data.draw(st.sampled_from([math.nan, math.inf]))
            return flat.reshape(t.shape)
    if isinstance(value, np.ndarray):
        a = value.copy()
        if kind == "ndim":
            return a[None] if data.draw(st.booleans()) or a.ndim == 1 else a[0]
        if kind == "empty":
            return a[:0]
        if kind == "dtype":
            return a + 0.5 if a.dtype.kind in "iu" else a.astype(complex) + 1j
        if kind == "nan":
            a = a.astype(float)
            a.flat[data.draw(st.integers(0, a.size - 1))] = data.draw(
                st.sampled_from([math.nan, math.inf, -math.inf]))
            return a
        if kind == "simplex":
            a = a.astype(float)
            if data.draw(st.booleans()):
                return a * data.draw(st.sampled_from([1.5, 0.5]))
            a.flat[0] -= 1.0
            a.flat[1] += 1.0
            return a  # sums to one, with a negative entry
    raise AssertionError(f"no corruption {kind!r} for {type(value).__name__}")


# ----------------------------------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------------------------------


def _model2():
    from sslbook.models import MLPEncoder

    return MLPEncoder(3, [4, 4], 2)


def _model():
    from sslbook.models import MLPEncoder

    torch.manual_seed(0)
    return MLPEncoder(3, 4, 2)


def _mse(model, batch):
    return ((model(batch[0]) - batch[1]) ** 2).mean()


def _batch(step):
    return ten(8, 3), ten(8, 2, seed=1)


def _triples(step):
    return arr(8, 3), arr(8, 3, seed=1), arr(8, 2, 3, seed=2)


def _feats():
    return [arr(3, 2, seed=0, scale=0.3), arr(2, 2, seed=1, scale=0.3) + 1.0, arr(2, 2, seed=2, scale=0.3) - 1.0]


def _ckpt_path(write: bool = False) -> str:
    import tempfile

    path = f"{tempfile.gettempdir()}/sslbook-test-bad-input.pt"
    if write:
        sslbook.checkpoint.save_checkpoint(path, {"x": 1})
    return path


def _hinge(v):
    from sslbook.theory.toolbox import hinge_loss

    return hinge_loss(v)


def _scores():
    return arr(10, 3)


def _rows(s, v, seed=0):
    """(s, v) rows on the simplex (full support)."""
    return np.stack([simplex(v, seed=seed + i) for i in range(s)])


def _hmm_args():
    return dict(pi=np.array([0.5, 0.5]), A=np.array([[0.9, 0.1], [0.2, 0.8]]),
                B=np.array([[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]]))


def _mixture():
    from sslbook.data.mixtures import GaussianMixture

    return GaussianMixture(means=arr(3, 2), sigma=0.5, weights=simplex(3))


def _aci_fields():
    from sslbook.data import LinearGaussianACI

    model = LinearGaussianACI.random(1, 1, 3, 2, violation=0.5, rng=0)
    return {f: getattr(model, f) for f in ("B1", "B2", "S1", "S2", "C12", "k")}


def _aci_blocks():
    from sslbook.data import LinearGaussianACI

    model = LinearGaussianACI.random(1, 1, 3, 2, violation=0.5, rng=0)
    b = model.blocks
    return dict(cov=model.cov, y=np.asarray(b["Y"]), ybar=np.asarray(b["Ybar"]), x1=np.asarray(b["X1"]),
                x2=np.asarray(b["X2"]))


def _noise():
    from sslbook.augment import GaussianNoise

    return GaussianNoise(0.1)


def _shift():
    from sslbook.augment import RandomShift

    return RandomShift(1, image_shape=(2, 2))


def _flat_density(theta):
    return np.ones_like(theta)


def _graph_args():
    return dict(p_bar=np.array([0.5, 0.3, 0.2]),
                A=np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.4, 0.6, 0.0], [0.0, 0.0, 0.3, 0.7]]),
                labels=np.array([0, 0, 1]))


def _graph():
    from sslbook.data import AugmentationGraph

    return AugmentationGraph(**_graph_args())


def _diag_M():
    return np.diag([0.9, 0.5, 0.1])


def _pairs(step):
    return ten(8, 3), ten(8, 3, seed=1), torch.from_numpy(labels(8)).long()


def _widgets():
    pytest.importorskip("ipywidgets")


def _slider():
    _widgets()
    import ipywidgets

    return {"a": ipywidgets.IntSlider(value=1, description="a")}


def _plot_a(a):
    import matplotlib.pyplot as plt

    return plt.subplots()[0]


_LM_CACHE: dict = {}


def _lm_language():
    """The prompt-HMM language of tests/test_lm.py (cached): spec and its contexts of length 2."""
    if not _LM_CACHE:
        from sslbook.data import HMM, prompt_hmm

        spec = prompt_hmm(2, 3, np.random.default_rng(0), prompt_rate=0.3)
        _LM_CACHE["spec"] = spec
        _LM_CACHE["enum"] = HMM(spec.pi, spec.A, spec.B).enumerate_contexts(2)
    return _LM_CACHE["spec"], _LM_CACHE["enum"]


def _lm_model(vocab=6):
    from sslbook.lm import SoftmaxLM

    torch.manual_seed(0)
    return SoftmaxLM(vocab, 2, 3, hidden=8, token_dim=4)


def _lm_outputs():
    from sslbook.lm import outputs as lm_outputs

    _, enum = _lm_language()
    return lm_outputs(_lm_model(), enum.contexts)


def _lm_batch(step):
    _, enum = _lm_language()
    return enum.contexts[:8], enum.next_token[:8]


E = Entry
T3 = ("ndim", "type", "dtype", "empty")  # tensor kinds (NaN in torch losses: see EXEMPT_KINDS below)
ARR = ("nan", "ndim", "type", "dtype", "empty")  # float array kinds
PROB = ARR + ("simplex",)  # probability vector/matrix kinds

REGISTRY: list[Entry] = [
    # --- losses (torch) -----------------------------------------------------------------------------
    E("sslbook.losses.contrastive.contrastive_margins",
      lambda: dict(anchor=ten(4, 3), positive=ten(4, 3, seed=1), negatives=ten(4, 2, 3, seed=2)),
      {"anchor": T3, "positive": T3, "negatives": ("type", "dtype", "empty")}),
    E("sslbook.losses.contrastive.contrastive_hinge",
      lambda: dict(anchor=ten(4, 3), positive=ten(4, 3, seed=1), negatives=ten(4, 2, 3, seed=2)),
      {"anchor": T3, "positive": T3, "negatives": ("type", "dtype", "empty")}),
    E("sslbook.losses.contrastive.contrastive_logistic2",
      lambda: dict(anchor=ten(4, 3), positive=ten(4, 3, seed=1), negatives=ten(4, 2, 3, seed=2)),
      {"anchor": T3, "positive": T3, "negatives": ("type", "dtype", "empty")}),
    E("sslbook.losses.spectral.spectral_contrastive", lambda: dict(z=ten(4, 3), z_pos=ten(4, 3, seed=1))),
    E("sslbook.losses.spectral.spectral_contrastive_clipped",
      lambda: dict(z=ten(4, 3), z_pos=ten(4, 3, seed=1), mu=1.0),
      {"z": ("ndim", "type", "dtype", "empty"), "z_pos": ("ndim", "type", "dtype", "empty"),
       "mu": ("type", "nan", "neg", "zero")}),
    E("sslbook.losses.infonce.info_nce", lambda: dict(z1=ten(4, 3), z2=ten(4, 3, seed=1), temperature=0.5),
      {"temperature": ("type", "nan", "neg", "zero")}),
    E("sslbook.losses.infonce.align", lambda: dict(z1=ten(4, 3), z2=ten(4, 3, seed=1), alpha=2.0),
      {"alpha": ("type", "nan", "neg", "zero")}),
    E("sslbook.losses.infonce.uniform", lambda: dict(z=ten(4, 3), t=2.0), {"t": ("type", "nan", "neg", "zero")}),
    # --- train / checkpoint ---------------------------------------------------------------------------
    E("sslbook.train.loop.fit", lambda: dict(model=_model(), loss_fn=_mse, sample_batch=_batch, steps=1, lr=1e-3,
                                        optimizer="adam", weight_decay=0.0, check_every=1, progress=False),
      {"steps": ("type", "neg", "zero"), "lr": ("type", "nan", "neg", "zero"), "weight_decay": ("type", "nan", "neg"),
       "check_every": ("type", "neg", "zero"), "model": ("type",)}),
    E("sslbook.train.contrastive.train_contrastive",
      lambda: dict(model=_model(), sample_triples=_triples, steps=1, loss="hinge", radius=1.0, progress=False),
      {"steps": ("type", "neg", "zero"), "radius": ("type", "nan", "neg", "zero"), "model": ("type",)}),
    E("sslbook.train.pretext.fit_pretext_regression", lambda: dict(x1=arr(20, 3), x2=arr(20, 2, seed=1), ridge=1e-3),
      {"x1": ("nan", "ndim", "type", "dtype"), "x2": ("nan", "ndim", "type", "dtype"),
       "ridge": ("type", "nan", "neg")}),
    E("sslbook.train.batches.to_device", lambda: dict(batch=arr(2, 3), device=torch.device("cpu")),
      {"device": ("type",)}, only=True),
    E("sslbook.checkpoint.capture_rng_state", lambda: dict(generators=[np.random.default_rng(0)]),
      {"generators": ("type",)}),
    E("sslbook.checkpoint.restore_rng_state",
      lambda: dict(state=sslbook.checkpoint.capture_rng_state(), generators=()), {"state": ("type",)}, only=True),
    E("sslbook.checkpoint.save_checkpoint", lambda: dict(path=_ckpt_path(), state={}),
      {"state": ("type",), "path": ("type",)}, only=True),
    E("sslbook.checkpoint.load_checkpoint", lambda: dict(path=_ckpt_path(write=True)), {"path": ("type",)}, only=True),
    # --- models -------------------------------------------------------------------------------------
    E("sslbook.models.LinearEncoder", lambda: dict(d_in=3, d=2, max_fro=1.0),
      {"d_in": ("type", "neg", "zero"), "d": ("type", "neg", "zero"), "max_fro": ("type", "nan", "neg", "zero")}),
    E("sslbook.models.MLPEncoder", lambda: dict(d_in=3, hidden=4, d=2, activation="relu"),
      {"d_in": ("type", "neg", "zero"), "d": ("type", "neg", "zero"), "hidden": ("type", "neg", "zero")}),
    E("sslbook.models.encode", lambda: dict(model=_model(), X=arr(5, 3), batch_size=2),
      {"model": ("type",), "X": ("nan", "ndim", "type", "dtype"), "batch_size": ("type", "neg", "zero")}),
    E("sslbook.models.encode", lambda: dict(model=_model2(), X=arr(5, 3), layer=2),
      {"layer": ("type", "neg", "zero")}),
    # --- probes -------------------------------------------------------------------------------------
    E("sslbook.probes.least_squares", lambda: dict(X=arr(10, 3), Y=arr(10, 2, seed=1), ridge=0.0),
      {"ridge": ("type", "nan", "neg")}),
    E("sslbook.probes.excess_risk", lambda: dict(w_hat=arr(3), w_star=arr(3, seed=1), cov=spd(3)),
      {"w_hat": ("nan", "type", "dtype", "empty"), "w_star": ("nan", "type", "dtype", "empty"),
       "cov": ("nan", "ndim", "type", "dtype", "empty")}),
    E("sslbook.probes.class_means", lambda: dict(features=arr(6, 2), labels=labels(6), n_classes=2),
      {"n_classes": ("type", "neg", "zero")}),
    E("sslbook.probes.mean_classifier", lambda: dict(features=arr(6, 2), labels=labels(6), n_classes=2),
      {"n_classes": ("type", "neg", "zero")}),
    E("sslbook.probes.linear_probe", lambda: dict(features=arr(8, 2), labels=labels(8), kind="logistic", reg=1e-3,
                                                  max_iter=5),
      {"reg": ("type", "nan", "neg"), "max_iter": ("type", "neg", "zero")}),
    E("sslbook.probes.LinearClassifier", lambda: dict(W=arr(3, 2), b=arr(3)), {"W": ("nan", "type", "dtype", "empty"),
                                                                             "b": ("nan", "type", "dtype")}),
    E("sslbook.probes.knn_probe", lambda: dict(features=arr(8, 2), labels=labels(8), k=3, metric="euclidean"),
      {"k": ("type", "neg", "zero")}),
    E("sslbook.probes.KNNClassifier", lambda: dict(model=object(), n_classes=2), {"n_classes": ("type", "neg", "zero")},
      only=True),
    E("sslbook.probes.fit_probe", lambda: dict(features=arr(8, 2), labels=labels(8), probe="mean")),
    E("sslbook.probes.few_label_accuracy", lambda: dict(features=arr(12, 2), labels=labels(12), n_per_class=2,
                                                        probe="mean", repeats=2, rng=0),
      {"n_per_class": ("type", "neg", "zero"), "repeats": ("type", "neg", "zero"), "rng": ("type",)}),
    E("sslbook.metrics.n_beaten_by", lambda: dict(scores=_scores(), labels=labels(10, 3))),
    E("sslbook.metrics.top_r_accuracy", lambda: dict(scores=_scores(), labels=labels(10, 3), r=2),
      {"r": ("type", "neg", "zero")}),
    E("sslbook.metrics.avg_k_accuracy", lambda: dict(scores=_scores(), labels=labels(10, 3), k=2, method="exact"),
      {"k": ("type", "neg", "zero")}),
    # --- config / device / session ---------------------------------------------------------------------
    E("sslbook.config.size", lambda: dict(name="ch01.ols_trials")),
    E("sslbook.config.seed_from_env", lambda: dict(default=0)),
    E("sslbook.config.Size", lambda: dict(fast=10, full=100, doc="what"),
      {"fast": ("type", "neg", "zero"), "full": ("type", "neg", "zero"), "doc": ("type",)}, only=True),
    E("sslbook.device.get_device", lambda: dict(device="cpu")),
    E("sslbook.session.seed_everything", lambda: dict(seed=0)),
    E("sslbook.session.setup", lambda: dict(seed=0, quiet=True), {"seed": ("type", "neg")}, only=True),
    # --- testing ------------------------------------------------------------------------------------
    E("sslbook.testing.assert_bound", lambda: dict(measured=arr(3) - 10, bound=arr(3, seed=1) + 10, slack=0.0),
      {"measured": ("nan", "type", "dtype", "empty"), "bound": ("nan", "type", "dtype"),
       "slack": ("type", "nan", "neg")}),
    E("sslbook.testing.loglog_slope", lambda: dict(x=np.array([1.0, 2, 4, 8]), y=np.array([1.0, 0.5, 0.26, 0.12]),
                                                   confidence=0.95),
      {"x": ("nan", "type", "dtype", "empty", "neg"), "y": ("nan", "type", "dtype", "empty", "neg"),
       "confidence": ("type", "nan", "neg", "zero")}),
    E("sslbook.testing.assert_slope", lambda: dict(x=np.array([1.0, 2, 4, 8]), y=np.array([1.0, 0.5, 0.26, 0.12]),
                                                   low=-1.5, high=-0.5),
      {"x": ("nan", "type", "dtype", "empty"), "y": ("nan", "type", "dtype", "empty"), "low": ("type", "nan"),
       "high": ("type", "nan")}),
    E("sslbook.testing.assert_close_mc", lambda: dict(samples=arr(50), target=0.0, n_se=3.0),
      {"samples": ("nan", "type", "dtype", "empty"), "target": ("type", "nan"),
       "n_se": ("type", "nan", "neg", "zero")}),
    E("sslbook.testing.across_seeds", lambda: dict(check=lambda s: s, seeds=(0, 1)), {"check": ("type",)}),
    E("sslbook.testing.samples_to_separate", lambda: dict(gap=0.5, sd=1.0, n_se=3.0)),
    E("sslbook.testing.verify", lambda: dict(label="thm-x"), {"label": ("type",)}, only=True, positional=("label",)),
    # --- plotting -----------------------------------------------------------------------------------
    E("sslbook.plotting.moving_average", lambda: dict(values=arr(6), window=3),
      {"values": ("nan", "ndim", "type", "dtype", "empty"), "window": ("type", "neg", "zero")}),
    E("sslbook.plotting.bound_vs_measured", lambda: dict(x=np.arange(1.0, 4), measured=arr(3), bound=arr(3) + 1,
                                                         xlabel="n", ylabel="loss"),
      {"x": ("nan", "type", "empty"), "measured": ("nan", "type", "empty"), "bound": ("nan", "type"),
       "xlabel": ("type",)}, only=True),
    E("sslbook.plotting.loglog_rate", lambda: dict(x=np.array([1.0, 2, 4]), y=np.array([1.0, 0.5, 0.25]), xlabel="n",
                                                   ylabel="r"),
      {"x": ("nan", "type", "empty", "neg"), "y": ("nan", "type", "empty", "neg"), "xlabel": ("type",)}, only=True),
    # --- theory.toolbox -----------------------------------------------------------------------------
    E("sslbook.theory.toolbox.hinge_loss", lambda: dict(v=arr(4, 2)), {"v": ("nan", "type", "dtype")}),
    E("sslbook.theory.toolbox.logistic2_loss", lambda: dict(v=arr(4, 2)), {"v": ("nan", "type", "dtype")}),
    E("sslbook.theory.toolbox.jensen_gap", lambda: dict(loss=_hinge, points=arr(4, 2), probs=simplex(4)),
      {"probs": ("nan", "type", "simplex", "empty"), "points": ("nan", "type", "dtype", "empty"),
       "loss": ("type",)}),
    E("sslbook.theory.complexity.linear_class_sup", lambda: dict(X=arr(5, 2), sigma=np.sign(arr(3, 5, 2)), B=1.0),
      {"B": ("type", "nan", "neg"), "X": ("nan", "ndim", "type", "dtype", "empty"), "sigma": ("type", "empty")},
      only=True),
    E("sslbook.theory.complexity.rademacher_linear_bound", lambda: dict(B=1.0, d=2, norms=np.abs(arr(5))),
      {"B": ("type", "nan", "neg"), "d": ("type", "neg", "zero"), "norms": ("nan", "type", "empty", "neg")}),
    E("sslbook.theory.complexity.rademacher_linear_lower_bound", lambda: dict(X=arr(5, 2), B=1.0, d=2),
      {"B": ("type", "nan", "neg"), "d": ("type", "neg", "zero")}),
    E("sslbook.theory.complexity.empirical_rademacher_linear", lambda: dict(X=arr(5, 2), B=1.0, d=2, n_draws=4, rng=0),
      {"B": ("type", "nan", "neg"), "d": ("type", "neg", "zero"), "n_draws": ("type", "neg", "zero")}),
    E("sslbook.theory.complexity.rademacher_linear_exact", lambda: dict(X=arr(4, 2), B=1.0, d=2),
      {"B": ("type", "nan", "neg"), "d": ("type", "neg", "zero")}),
    E("sslbook.theory.toolbox.total_variation", lambda: dict(p=simplex(4), q=simplex(4, seed=1)),
      {"p": ("nan", "type", "simplex", "empty"), "q": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.toolbox.kl_divergence", lambda: dict(p=simplex(4), q=simplex(4, seed=1)),
      {"p": ("nan", "type", "simplex", "empty"), "q": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.toolbox.pinsker_bound", lambda: dict(kl=np.abs(arr(3))),
      {"kl": ("type", "neg")}),  # +inf is a valid divergence: no "nan" kind
    # --- theory.curl --------------------------------------------------------------------------------
    E("sslbook.theory.curl.losses.tau", lambda: dict(rho=simplex(3)), {"rho": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.curl.losses.tau_k", lambda: dict(rho=simplex(3), k=2),
      {"rho": ("nan", "type", "simplex", "empty"), "k": ("type", "neg", "zero")}),
    E("sslbook.theory.curl.losses.surrogate_bound", lambda: dict(L_un=0.8, tau=0.3),
      {"L_un": ("type", "nan"), "tau": ("type", "nan", "neg")}),
    E("sslbook.theory.curl.losses.exact_losses", lambda: dict(features=_feats(), rho=simplex(3), loss="hinge"),
      {"rho": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.curl.negatives.k_negative_losses", lambda: dict(features=_feats(), rho=simplex(3), k=2),
      {"rho": ("nan", "type", "simplex"), "k": ("type", "neg", "zero")}),
    E("sslbook.theory.curl.negatives.block_loss", lambda: dict(features=_feats(), rho=simplex(3), b=2),
      {"rho": ("nan", "type", "simplex"), "b": ("type", "neg", "zero")}),
    E("sslbook.theory.curl.negatives.block_gap_bound", lambda: dict(features=_feats(), rho=simplex(3), b=2),
      {"rho": ("nan", "type", "simplex"), "b": ("type", "neg", "zero")}),
    E("sslbook.theory.curl.losses.sample_losses",
      lambda: dict(anchors=arr(4, 2), positives=arr(4, 1, 2, seed=1), negatives=arr(4, 3, 2, seed=2))),
    E("sslbook.explorers.negatives.curl_polygon_features", lambda: dict(n_classes=3, radius=0.6, spread=0.1),
      {"n_classes": ("type", "neg", "zero"), "radius": ("type", "nan", "neg", "zero"),
       "spread": ("type", "nan", "neg")}),
    E("sslbook.explorers.negatives.curl_negatives_curve", lambda: dict(n_classes=3, ks=np.array([1, 2])),
      {"n_classes": ("type", "neg", "zero"), "ks": ("type", "empty", "neg")}),
    # --- theory.downstream --------------------------------------------------------------------------
    E("sslbook.theory.downstream.ols_expected_excess_risk", lambda: dict(p=2, n=10, sigma=1.0),
      {"p": ("type", "neg", "zero"), "n": ("type", "neg", "zero"), "sigma": ("type", "nan", "neg")}),
    E("sslbook.theory.downstream.mean_estimation_risk", lambda: dict(population=arr(20, 2), n=3),
      {"n": ("type", "neg", "zero")}),
    E("sslbook.theory.downstream.mean_estimation_bound", lambda: dict(radius=1.0, n=3),
      {"radius": ("type", "nan", "neg"), "n": ("type", "neg", "zero")}),
    # --- data ---------------------------------------------------------------------------------------
    E("sslbook.data.regression.gaussian_linear_regression", lambda: dict(n=10, p=2, sigma=1.0, rng=0),
      {"n": ("type", "neg", "zero"), "p": ("type", "neg", "zero"), "sigma": ("type", "nan", "neg"),
       "rng": ("type",)}),
    E("sslbook.data.regression.random_covariance", lambda: dict(p=3, condition=10.0, rng=0),
      {"p": ("type", "neg", "zero"), "condition": ("type", "nan", "neg", "zero"), "rng": ("type",)}),
    E("sslbook.data.contrastive_pairs.triple_indices", lambda: dict(labels=labels(10), n=4, k=1, rng=0),
      {"labels": ("ndim", "type", "dtype", "empty"), "n": ("type", "neg", "zero"), "k": ("type", "neg", "zero")}),
    E("sslbook.data.contrastive_pairs.pool_triples", lambda: dict(X=arr(10, 2), labels=labels(10), n=4, rng=0),
      {"n": ("type", "neg", "zero")}),
    E("sslbook.data.contrastive_pairs.radial_clip", lambda: dict(X=arr(5, 2), radius=1.0),
      {"radius": ("type", "nan", "neg", "zero"), "X": ("nan", "type", "dtype", "empty")}),
    E("sslbook.data.splits.few_label_split", lambda: dict(labels=labels(10), n_per_class=2, rng=0),
      {"n_per_class": ("type", "neg", "zero")}),
    E("sslbook.data.latent_classes.LatentClassModel", lambda: dict(rho=simplex(3), points=_feats()),
      {"rho": ("nan", "type", "simplex", "empty"), "points": ("type", "empty", "nan")}),
    E("sslbook.data.mixtures.GaussianMixture", lambda: dict(means=arr(3, 2), sigma=0.5, weights=simplex(3)),
      {"means": ("nan", "type", "dtype", "empty"), "sigma": ("type", "nan", "neg"),
       "weights": ("nan", "type", "simplex")}),
    E("sslbook.data.multiview.DiscreteMultiView", lambda: dict(joint=np.full((2, 2, 2), 1 / 8)),
      {"joint": ("nan", "type", "simplex", "empty")}),
    E("sslbook.data.digits.digits", lambda: dict(scale=True, halves=False), {"scale": ("type",)}),
    # --- theory.curl_bounds -------------------------------------------------------------------------
    E("sslbook.theory.curl.guarantees.collision_constant", lambda: dict(loss="hinge")),
    E("sslbook.theory.curl.guarantees.intraclass_deviation", lambda: dict(features=_feats(), rho=simplex(3)),
      {"rho": ("nan", "type", "simplex")}),
    E("sslbook.theory.curl.guarantees.triple_moment", lambda: dict(inputs=_feats(), rho=simplex(3)),
      {"rho": ("nan", "type", "simplex")}),
    E("sslbook.theory.curl.guarantees.collision_refined_bound", lambda: dict(L_neq=0.5, s=0.1, tau=0.3, loss="hinge"),
      {"L_neq": ("type", "nan"), "s": ("type", "nan", "neg"), "tau": ("type", "nan", "neg"), "loss": ("choice",)}),
    E("sslbook.theory.curl.guarantees.linear_generalization_bound",
      lambda: dict(M=100, B=1.0, loss="hinge", delta=0.05),
      {"M": ("type", "neg", "zero"), "B": ("type", "nan", "neg"), "delta": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.curl.guarantees.dream_unsup_loss", lambda: dict(R=1.0, eps=0.1),
      {"R": ("type", "nan", "neg"), "eps": ("type", "nan", "neg")}),
    E("sslbook.theory.curl.guarantees.dream_counterexample", lambda: dict(R=1.0, eps=0.1),
      {"R": ("type", "nan", "neg"), "eps": ("type", "nan", "neg")}),
    E("sslbook.theory.curl.guarantees.linear_probe_loss", lambda: dict(features=_feats(), W=arr(3, 2), rho=simplex(3)),
      {"W": ("nan", "type", "dtype", "empty"), "rho": ("nan", "type", "simplex")}),
    # --- theory.multiview ---------------------------------------------------------------------------
    E("sslbook.theory.multiview.conditional_expectation_operator", lambda: dict(p12=np.full((2, 3), 1 / 6)),
      {"p12": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.multiview.whitened_cca", lambda: dict(p12=np.full((2, 3), 1 / 6), k=1),
      {"p12": ("nan", "type", "simplex", "empty"), "k": ("type", "neg", "zero")}),
    E("sslbook.theory.multiview.density_ratio", lambda: dict(p_xz=np.full((2, 3), 1 / 6)),
      {"p_xz": ("nan", "type", "simplex", "empty")}),
    E("sslbook.theory.multiview.projection_residual", lambda: dict(A=arr(4, 2), B=arr(4, 3, seed=1)),
      {"A": ("nan", "type", "dtype", "empty"), "B": ("nan", "type", "dtype", "empty")}),
    E("sslbook.theory.multiview.cca_objective",
      lambda: dict(p12=np.full((2, 3), 1 / 6), psi1=arr(2, 1), psi2=arr(3, 1, seed=1)),
      {"p12": ("nan", "type", "simplex", "empty"), "psi1": ("nan", "type", "dtype"), "psi2": ("nan", "type", "dtype")},
      only=True),
    E("sslbook.theory.multiview.alternating_conditional_expectations",
      lambda: dict(p12=simplex(6).reshape(2, 3), k=1, n_iter=2, rng=0),
      {"p12": ("nan", "type", "simplex", "empty"), "k": ("type", "neg", "zero"), "n_iter": ("type", "neg")},
      only=True),
    E("sslbook.theory.multiview.landmark_predictor", lambda: dict(p_xz=simplex(6).reshape(2, 3), h_z=arr(3)),
      {"p_xz": ("nan", "type", "simplex", "empty"), "h_z": ("nan", "type", "dtype", "empty")}, only=True),
    E("sslbook.theory.multiview.landmark_variance", lambda: dict(p_xz=simplex(6).reshape(2, 3), h_z=arr(3), m=2),
      {"p_xz": ("nan", "type", "simplex", "empty"), "h_z": ("nan", "type", "dtype", "empty"),
       "m": ("type", "neg", "zero")}, only=True),
    E("sslbook.theory.multiview.redundancy", lambda: dict(joint=simplex(8).reshape(2, 2, 2)),
      {"joint": ("nan", "type", "simplex", "empty")}),
    E("sslbook.data.multiview.TopicModelDocs", lambda: dict(topics=np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])),
      {"topics": ("nan", "type", "simplex", "empty")}),
    # --- theory.self_prediction ---------------------------------------------------------------------
    E("sslbook.theory.self_prediction.partial_covariance", lambda: dict(cov=spd(4), a=[0], b=[1], c=[2, 3]),
      {"cov": ("nan", "ndim", "type", "dtype", "empty")}),
    E("sslbook.theory.self_prediction.conditional_mean_map", lambda: dict(cov=spd(4), target=[0], given=[1, 2]),
      {"cov": ("nan", "ndim", "type", "dtype", "empty")}),
    E("sslbook.theory.self_prediction.eps_ci", lambda: dict(cov=spd(4), x1=[0], x2=[1], given=[2]),
      {"cov": ("nan", "ndim", "type", "dtype", "empty")}),
    # --- augment (torch) ----------------------------------------------------------------------------
    E("sslbook.augment.Compose", lambda: dict(transforms=[_noise()]), {"transforms": ("type", "empty")},
      varargs="transforms"),
    E("sslbook.augment.GaussianNoise", lambda: dict(sigma=0.1), {"sigma": ("type", "nan", "neg")}),
    E("sslbook.augment.RandomResizedCrop", lambda: dict(scale=(0.5, 1.0), image_shape=(4, 4)),
      {"scale": ("type",), "image_shape": ("type",)}),
    E("sslbook.augment.RandomShift", lambda: dict(max_shift=1, image_shape=(4, 4), fill=0.0),
      {"max_shift": ("type", "neg"), "image_shape": ("type",), "fill": ("type", "nan")}),
    E("sslbook.augment.two_views", lambda: dict(x=ten(4, 4), augment=_shift(), generator=None),
      {"x": ("ndim", "type", "dtype"), "augment": ("type",)}),
    # --- data: HMM, language, self-prediction, Gaussian triples -------------------------------------
    E("sslbook.data.hmm.HMM", _hmm_args, {k: PROB for k in "piAB"}),
    E("sslbook.data.language.SyntheticLanguage", lambda: dict(p_context=simplex(3), p_next=_rows(3, 4)),
      {"p_context": PROB,
       "p_next": PROB}),
    E("sslbook.data.contrastive_pairs.gaussian_triples", lambda: dict(mixture=_mixture(), n=4, k=1, clip=None, rng=0),
      {"mixture": ("type",), "n": ("type", "neg", "zero"), "k": ("type", "neg", "zero"), "rng": ("type",)}),
    E("sslbook.data.self_prediction.CIGaussianMixture",
      lambda: dict(prior=np.array([0.5, 0.5]), means=np.array([[0.0], [3.0]]), alphabet=np.array([[0.0], [1.0]]),
                   emission=np.array([[0.9, 0.1], [0.2, 0.8]]), scale=1.0),
      {"prior": PROB, "means": ("nan", "ndim", "type", "dtype"),
       "alphabet": ARR,
       "emission": PROB, "scale": ("type", "nan", "neg", "zero")}),
    E("sslbook.data.self_prediction.LinearGaussianACI", _aci_fields,
      {"B1": ("nan", "ndim", "type", "dtype"), "B2": ("nan", "ndim", "type", "dtype"),
       "S1": ARR, "S2": ARR,
       "C12": ARR, "k": ("type", "neg", "zero")}),
    # --- losses for language models (torch) --------------------------------------------------------
    E("sslbook.losses.language_model.xent_lm",
      lambda: dict(logits=ten(4, 3), target=torch.tensor([0, 1, 2, 0])),
      {"logits": T3, "target": ("ndim", "type", "empty")}),
    E("sslbook.losses.language_model.quad_lm",
      lambda: dict(theta=ten(4, 2), Phi=ten(2, 3, seed=1), target=torch.tensor([0, 1, 2, 0])),
      {"theta": T3, "Phi": T3, "target": ("ndim", "type", "empty")}),
    # --- lm -----------------------------------------------------------------------------------------
    E("sslbook.data.prompts.prompt_hmm", lambda: dict(n_states=2, n_regular=3, rng=0, prompt_rate=0.3, answer_noise=0.1,
                                            floor=0.02, stickiness=0.85, concentration=0.5),
      {"n_states": ("type", "neg", "zero"), "n_regular": ("type", "neg", "zero"), "rng": ("type",),
       "prompt_rate": ("type", "nan", "neg"), "answer_noise": ("type", "nan", "neg"), "floor": ("type", "nan", "neg"),
       "stickiness": ("type", "nan", "neg", "zero"), "concentration": ("type", "nan", "neg", "zero")}),
    E("sslbook.lm.SoftmaxLM", lambda: dict(vocab=4, context_length=2, dim=3, encoder="mlp", hidden=8, token_dim=4),
      {"vocab": ("type", "neg", "zero"), "context_length": ("type", "neg", "zero"), "dim": ("type", "neg", "zero"),
       "encoder": ("type", "choice"), "hidden": ("type", "neg", "zero"), "token_dim": ("type", "neg", "zero")}),
    E("sslbook.data.prompts.hidden_class_task",
      lambda: dict(spec=_lm_language()[0], contexts=_lm_language()[1].contexts, posterior=_lm_language()[1].posterior,
                   p_context=_lm_language()[1].probs, prompt=False),
      {"spec": ("type",), "contexts": ("ndim", "type", "dtype", "empty"),
       "posterior": PROB,
       "p_context": PROB}),
    E("sslbook.train.language_model.lm_batches",
      lambda: dict(context_tokens=_lm_language()[1].contexts, p_context=_lm_language()[1].probs,
                   p_next=_lm_language()[1].next_token, batch_size=8, rng=0),
      {"context_tokens": ("ndim", "type", "dtype", "empty"),
       "p_context": PROB,
       "p_next": PROB, "batch_size": ("type", "neg", "zero"),
       "rng": ("type",)}),
    E("sslbook.lm.outputs", lambda: dict(model=_lm_model(), contexts=_lm_language()[1].contexts, batch_size=16),
      {"model": ("type",), "contexts": ("ndim", "type", "dtype", "empty"), "batch_size": ("type", "neg", "zero")}),
    E("sslbook.lm.features", lambda: dict(outputs=_lm_outputs(), kind="word_probs", words=[3, 4]),
      {"outputs": ("type",), "kind": ("type", "choice"), "words": ("type", "empty")}),
    E("sslbook.lm.logistic_probe", lambda: dict(features=arr(6, 2), p_task=simplex(6), q_pos=np.linspace(0.1, 0.9, 6),
                                                reg=0.1, max_iter=20),
      {"features": ARR, "p_task": ("nan", "ndim", "type", "dtype", "simplex"),
       "q_pos": ("nan", "ndim", "type", "dtype", "neg"), "reg": ("type", "nan", "neg"),
       "max_iter": ("type", "neg", "zero")}),
    E("sslbook.train.language_model.train_lm",
      lambda: dict(model=_lm_model(), sample_batch=_lm_batch, steps=1, loss="xent", lr=1e-3, progress=False),
      {"model": ("type",), "sample_batch": ("type",), "steps": ("type", "neg", "zero"), "loss": ("type", "choice"),
       "lr": ("type", "nan", "neg", "zero")}),
    # --- theory.language_models ---------------------------------------------------------------------
    E("sslbook.theory.natural_tasks.next_word_cross_entropy", lambda: dict(p_star=_rows(3, 4), q=_rows(3, 4, 5)),
      {"p_star": ("nan", "type", "dtype", "simplex", "empty"), "q": ("nan", "type", "dtype", "simplex", "empty")}),
    E("sslbook.theory.natural_tasks.excess_cross_entropy",
      lambda: dict(p_context=simplex(3), p_star=_rows(3, 4), q=_rows(3, 4, 5)),
      {k: PROB for k in ("p_context", "p_star", "q")}),
    E("sslbook.theory.natural_tasks.coverage", lambda: dict(p_task=simplex(3), p_context=simplex(3, seed=1)),
      {k: PROB for k in ("p_task", "p_context")}),
    E("sslbook.theory.natural_tasks.natural_task_bound",
      lambda: dict(tau=0.1, B=1.0, epsilon=np.array([0.01, 0.1]), gamma=0.5),
      {"tau": ("type", "nan", "neg"), "B": ("type", "nan", "neg"), "epsilon": ("nan", "type", "dtype", "neg"),
       "gamma": ("type", "nan", "neg")}),  # gamma = 0 gives the vacuous bound inf (documented)
    E("sslbook.theory.natural_tasks.logistic_loss", lambda: dict(m=arr(4)), {"m": ("nan", "type", "dtype")}),
    E("sslbook.theory.natural_tasks.natural_task_loss",
      lambda: dict(scores=arr(3), labels=np.array([1, -1, 1]), p_task=simplex(3), loss="logistic"),
      {"scores": ARR, "labels": ("ndim", "type", "dtype", "empty"),
       "p_task": PROB, "loss": ("type", "choice")}),
    E("sslbook.theory.language_models.softmax_probs", lambda: dict(Phi=arr(2, 4), theta=arr(3, 2, seed=1)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype")}),
    E("sslbook.theory.language_models.conditional_mean_embedding", lambda: dict(Phi=arr(2, 4), p=_rows(3, 4)),
      {"Phi": ARR, "p": ("nan", "type", "dtype", "simplex")}),
    E("sslbook.theory.language_models.softmax_cross_entropy",
      lambda: dict(Phi=arr(2, 4), theta=arr(3, 2, seed=1), p=_rows(3, 4)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype"),
       "p": ("nan", "type", "dtype", "simplex")}),
    E("sslbook.theory.language_models.softmax_gradient",
      lambda: dict(Phi=arr(2, 4), theta=arr(3, 2, seed=1), p=_rows(3, 4)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype"),
       "p": ("nan", "type", "dtype", "simplex")}),
    E("sslbook.theory.language_models.softmax_optimal_theta",
      lambda: dict(Phi=arr(2, 4), p=_rows(3, 4), tol=1e-8, max_iter=50),
      {"Phi": ARR, "p": ("nan", "type", "dtype", "simplex"),
       "tol": ("type", "nan", "neg", "zero"), "max_iter": ("type", "neg", "zero")}),
    E("sslbook.theory.language_models.softmax_excess",
      lambda: dict(Phi=arr(2, 4), theta=arr(3, 2, seed=1), p=_rows(3, 4)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype"),
       "p": ("nan", "type", "dtype", "simplex")}),
    E("sslbook.theory.natural_tasks.modified_pinsker_bound", lambda: dict(v=arr(3, 4), excess=np.abs(arr(3))),
      {"v": ("nan", "type", "dtype", "empty"), "excess": ("nan", "type", "dtype", "neg")}),
    E("sslbook.theory.natural_tasks.noise_scale",
      lambda: dict(epsilon=np.array([0.01, 0.05]), p_context=simplex(3), p_star=_rows(3, 4), noise=arr(3, 4)),
      {"epsilon": ("nan", "type", "dtype", "neg"), "p_context": PROB,
       "p_star": PROB, "noise": ("nan", "ndim", "type", "dtype")}),
    E("sslbook.theory.natural_tasks.coverage_mixture",
      lambda: dict(p_context=simplex(3), p_task=simplex(3, seed=1), gamma=1.0),
      {"p_context": PROB,
       "p_task": PROB, "gamma": ("type", "nan", "neg", "zero")}),
    E("sslbook.explorers.lm_bound.lm_bound_curve",
      lambda: dict(epsilons=[0.05], B=4.0, seed=0, n_contexts=12, vocab=5, n_topics=2),
      {"epsilons": ("type", "empty", "nan"), "B": ("type", "nan", "neg", "zero"), "seed": ("type", "neg"),
       "n_contexts": ("type", "neg", "zero"), "vocab": ("type", "neg", "zero"), "n_topics": ("type", "neg", "zero")}),
    # --- theory.quad --------------------------------------------------------------------------------
    E("sslbook.theory.quad.quad_loss", lambda: dict(theta=arr(3, 2), Phi=arr(2, 4, seed=1), p_next=_rows(3, 4)),
      {"theta": ARR, "Phi": ARR,
       "p_next": PROB}),
    E("sslbook.theory.quad.quad_closed_form", lambda: dict(Phi=arr(2, 4, seed=1), p_next=_rows(3, 4)),
      {"Phi": ARR, "p_next": PROB}),
    E("sslbook.theory.quad.quad_excess", lambda: dict(theta=arr(3, 2), Phi=arr(2, 4, seed=1), p_next=_rows(3, 4)),
      {"theta": ARR, "Phi": ARR,
       "p_next": PROB}),
    E("sslbook.theory.quad.quad_omega", lambda: dict(p_context=simplex(3), p_next=_rows(3, 4)),
      {"p_context": PROB,
       "p_next": PROB}),
    E("sslbook.theory.quad.quad_optimal_value",
      lambda: dict(Phi=arr(2, 4, seed=1), p_context=simplex(3), p_next=_rows(3, 4)),
      {"Phi": ARR, "p_context": PROB,
       "p_next": PROB}),
    E("sslbook.theory.quad.quad_optimal_embeddings", lambda: dict(p_context=simplex(3), p_next=_rows(3, 4), d=2),
      {"p_context": PROB,
       "p_next": PROB, "d": ("type", "neg", "zero")}),
    E("sslbook.theory.quad.quad_downstream_bound", lambda: dict(tau=0.1, v=arr(4), eps=0.01, gamma=0.5),
      {"tau": ("type", "nan", "neg"), "v": ARR, "eps": ("type", "nan", "neg"),
       "gamma": ("type", "nan", "neg", "zero")}),
    # --- theory.head_tuning -------------------------------------------------------------------------
    E("sslbook.theory.head_tuning.rowspan_residual", lambda: dict(B=arr(4, 2), mu=arr(2, seed=1)),
      {"B": ARR, "mu": ARR}),
    E("sslbook.theory.head_tuning.solve_head", lambda: dict(B=arr(4, 2), mu=arr(2, seed=1), tol=1e-9),
      {"B": ARR, "mu": ARR,
       "tol": ("type", "nan", "neg")}),
    E("sslbook.theory.head_tuning.head_error",
      lambda: dict(G=arr(5, 3), y=labels(5), b=arr(3, seed=1), c=0.3, weights=simplex(5)),
      {"G": ARR, "y": ("ndim", "type", "dtype", "empty"),
       "b": ARR, "c": ("type", "nan"), "weights": ("nan", "ndim", "type", "dtype")}),
    E("sslbook.theory.head_tuning.balanced_threshold", lambda: dict(scores=arr(5), weights=simplex(5)),
      {"scores": ARR, "weights": ("nan", "ndim", "type", "dtype")}),
    E("sslbook.theory.head_tuning.separating_head_lp", lambda: dict(G=arr(5, 3), y=labels(5)),
      {"G": ARR, "y": ("ndim", "type", "dtype", "empty")}),
    E("sslbook.theory.head_tuning.best_threshold_error",
      lambda: dict(scores=arr(5), y=labels(5), weights=simplex(5), decimals=None),
      {"scores": ARR, "y": ("ndim", "type", "dtype", "empty"),
       "weights": ("nan", "ndim", "type", "dtype")}),
    # --- theory.alignment_uniformity ----------------------------------------------------------------
    E("sslbook.theory.alignment_uniformity.uniform_circle_energy", lambda: dict(t=2.0),
      {"t": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.alignment_uniformity.circle_energy", lambda: dict(density=_flat_density, t=2.0, grid=16),
      {"density": ("type",), "t": ("type", "nan", "neg", "zero"), "grid": ("type", "neg", "zero")}),
    E("sslbook.theory.alignment_uniformity.von_mises_energy",
      lambda: dict(kappa=1.0, t=2.0, method="quadrature", grid=16, terms=5),
      {"kappa": ("type", "nan", "neg"), "t": ("type", "nan", "neg", "zero"), "method": ("type", "choice"),
       "grid": ("type", "neg", "zero"), "terms": ("type", "neg", "zero")}),
    E("sslbook.theory.alignment_uniformity.infonce_limit",
      lambda: dict(anchors=arr(3, 2), positives=arr(3, 2, seed=1), negatives=arr(4, 2, seed=2), tau=0.5,
                   weights=simplex(4)),
      {"anchors": ARR, "positives": ARR,
       "negatives": ARR, "tau": ("type", "nan", "neg", "zero"),
       "weights": PROB}),
    E("sslbook.theory.alignment_uniformity.infonce_n_negatives",
      lambda: dict(anchors=arr(3, 2), positives=arr(3, 2, seed=1), negatives=arr(4, 2, seed=2),
                   neg_index=np.array([[0, 1], [2, 3], [1, 2]]), tau=0.5),
      {"anchors": ARR, "positives": ARR,
       "negatives": ARR, "neg_index": ("ndim", "type", "dtype", "empty"),
       "tau": ("type", "nan", "neg", "zero")}),
    # --- theory.infonce_negatives ------------------------------------------------------------------
    E("sslbook.theory.infonce_negatives.simplex_limit", lambda: dict(m=3, tau=0.5),
      {"m": ("type", "neg", "zero"), "tau": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.infonce_negatives.finite_limit_terms",
      lambda: dict(features=np.repeat(np.eye(3), 2, axis=0), groups=np.repeat(np.arange(3), 2), tau=0.5),
      {"features": ARR, "groups": ("ndim", "type", "dtype", "empty"), "tau": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.infonce_negatives.first_order_bias",
      lambda: dict(s_pos=2.0, s_values=np.array([2.0, -1.0]), probs=np.array([1 / 3, 2 / 3])),
      {"s_pos": ("type", "nan"), "s_values": ARR, "probs": PROB}),
    E("sslbook.theory.infonce_negatives.two_point_bias",
      lambda: dict(n_negatives=16, s_pos=2.0, s_values=np.array([2.0, -1.0]), p_first=1 / 3),
      {"n_negatives": ("type", "neg", "zero"), "s_pos": ("type", "nan"),
       "s_values": ("nan", "type", "dtype"), "p_first": ("type", "nan", "neg")}),
    E("sslbook.theory.infonce_negatives.two_point_remainder_bound",
      lambda: dict(n_negatives=16, s_pos=2.0, s_values=np.array([2.0, -1.0]), p_first=1 / 3),
      {"n_negatives": ("type", "neg", "zero"), "s_pos": ("type", "nan"),
       "s_values": ("nan", "type", "dtype"), "p_first": ("type", "nan", "neg")}),
    E("sslbook.theory.infonce_negatives.ntxent_collapsed_loss",
      lambda: dict(n_inputs=6, n_classes=3, batch_size=3, s_pos=2.0, s_values=np.array([2.0, -1.0])),
      {"n_inputs": ("type", "neg", "zero"), "n_classes": ("type", "neg", "zero"),
       "batch_size": ("type", "neg", "zero"), "s_pos": ("type", "nan"), "s_values": ("nan", "type", "dtype")}),
    # --- theory.self_prediction (ACI) ---------------------------------------------------------------
    E("sslbook.theory.self_prediction.aci_bound", _aci_blocks,
      {"cov": ARR, "y": ("type", "dtype", "empty"),
       "ybar": ("type", "dtype", "empty"), "x1": ("type", "dtype", "empty"), "x2": ("type", "dtype", "empty")}),
    E("sslbook.explorers.aci.aci_violation_curve",
      lambda: dict(violations=[0.5], signal2=1.0, k=1, m=1, d1=3, d2=2, seed=0),
      {"violations": ("type", "empty", "nan"), "signal2": ("type", "nan", "neg", "zero"), "k": ("type", "neg", "zero"),
       "m": ("type", "neg"), "d1": ("type", "neg", "zero"), "d2": ("type", "neg", "zero"), "seed": ("type", "neg")}),
    E("sslbook.theory.self_prediction.approximation_error",
      lambda: dict(target_map=arr(1, 3), feature_map=arr(2, 3, seed=1), cov_x=spd(3)),
      {"target_map": ARR, "feature_map": ARR,
       "cov_x": ARR}),
    E("sslbook.theory.self_prediction.linear_prediction_error",
      lambda: dict(W=arr(1, 2, seed=2), target_map=arr(1, 3), feature_map=arr(2, 3, seed=1), cov_x=spd(3)),
      {"W": ARR, "target_map": ARR,
       "feature_map": ARR, "cov_x": ARR}),
    # --- augmentation graph and spectral theory ------------------------------------------------------
    E("sslbook.data.augmentation_graph.AugmentationGraph", _graph_args,
      {"p_bar": PROB, "A": PROB, "labels": ("ndim", "type", "dtype", "empty")}),
    E("sslbook.theory.spectral.normalized_adjacency", lambda: dict(graph_or_W=_graph().W), {"graph_or_W": ARR}),
    E("sslbook.theory.spectral.graph_laplacian_spectrum", lambda: dict(graph_or_W=_graph().W), {"graph_or_W": ARR}),
    E("sslbook.theory.spectral.spectral_loss", lambda: dict(graph_or_W=_graph().W, f=arr(4, 2)),
      {"graph_or_W": ARR, "f": ARR}),
    E("sslbook.theory.spectral.spectral_loss_matrix", lambda: dict(graph_or_W=_graph().W, f=arr(4, 2)),
      {"graph_or_W": ARR, "f": ARR}),
    E("sslbook.theory.spectral.dirichlet_energy", lambda: dict(graph_or_W=_graph().W, u=arr(4)),
      {"graph_or_W": ARR, "u": ARR}),
    E("sslbook.theory.spectral.eckart_young", lambda: dict(S=spd(3), k=1), {"S": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.theory.spectral.spectral_closed_form", lambda: dict(graph_or_Abar=_graph().Abar, k=1, w=_graph().w),
      {"graph_or_Abar": ARR, "k": ("type", "neg", "zero"), "w": ("nan", "ndim", "type", "dtype", "neg")}),
    E("sslbook.theory.spectral.haochen_bound", lambda: dict(graph=_graph(), y_hat=np.array([0, 0, 1, 1]), k=1),
      {"graph": ("type",), "y_hat": ("ndim", "type", "dtype", "empty"), "k": ("type", "neg", "zero")}),
    E("sslbook.theory.spectral_practice.clip_features", lambda: dict(f=arr(4, 2), mu=1.0),
      {"f": ARR, "mu": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.spectral_practice.clipped_spectral_loss",
      lambda: dict(graph_or_W=_graph().W, f=arr(4, 2), mu=1.0),
      {"graph_or_W": ARR, "f": ARR, "mu": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.spectral_practice.feature_spectrum", lambda: dict(f=arr(4, 2), w=simplex(4)),
      {"f": ARR, "w": PROB}),
    E("sslbook.theory.spectral_practice.minimizer_feature_spectrum", lambda: dict(graph_or_W=_graph().W, k=1),
      {"graph_or_W": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.explorers.haochen.haochen_leak_curve",
      lambda: dict(leaks=[0.05], k=2, r=2, natural_per_class=3, aug_per_class=3, aug_per_input=2, seed=0),
      {"leaks": ("type", "empty", "nan"), "k": ("type", "neg", "zero"), "r": ("type", "neg", "zero"),
       "natural_per_class": ("type", "neg", "zero"), "aug_per_class": ("type", "neg", "zero"),
       "aug_per_input": ("type", "neg", "zero"), "seed": ("type", "neg")}),
    # --- theory.inductive_biases --------------------------------------------------------------------
    E("sslbook.theory.inductive_biases.linear_aug_matrix", lambda: dict(sigma=spd(3), sigma_plus=0.5 * spd(3, seed=1)),
      {"sigma": ARR, "sigma_plus": ARR}),
    E("sslbook.theory.inductive_biases.linear_spectral_loss",
      lambda: dict(W=arr(2, 3), sigma=spd(3), sigma_plus=0.5 * spd(3, seed=1)),
      {"W": ARR, "sigma": ARR, "sigma_plus": ARR}),
    E("sslbook.theory.inductive_biases.spectral_linear_closed_form",
      lambda: dict(sigma=spd(3), sigma_plus=0.5 * spd(3, seed=1), k=1),
      {"sigma": ARR, "sigma_plus": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.theory.inductive_biases.linear_class_bound", lambda: dict(a=arr(3), M=_diag_M(), k=1),
      {"a": ARR, "M": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.theory.inductive_biases.best_linear_probe_residual",
      lambda: dict(a=arr(3), W=arr(2, 3, seed=1), sigma=spd(3)), {"a": ARR, "W": ARR, "sigma": ARR}),
    E("sslbook.theory.inductive_biases.subspace_miss", lambda: dict(W=arr(1, 3), sigma=spd(3), M=_diag_M(), k=1),
      {"W": ARR, "sigma": ARR, "M": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.theory.inductive_biases.davis_kahan_bound",
      lambda: dict(excess=0.01, eigenvalues=np.array([0.9, 0.5, 0.1]), k=1),
      {"excess": ("type", "nan", "neg"), "eigenvalues": ARR, "k": ("type", "neg", "zero")}),
    E("sslbook.theory.inductive_biases.estimate_aug_moments", lambda: dict(x=arr(10, 3), x_pos=arr(10, 3, seed=1)),
      {"x": ARR, "x_pos": ARR}),
    E("sslbook.theory.components.augmentation_components",
      lambda: dict(p_bar=_graph_args()["p_bar"], aug=_graph_args()["A"]), {"p_bar": PROB, "aug": PROB}),
    E("sslbook.theory.components.spectral_loss_finite",
      lambda: dict(p_bar=_graph_args()["p_bar"], aug=_graph_args()["A"], F=arr(4, 2)),
      {"p_bar": PROB, "aug": PROB, "F": ARR}),
    E("sslbook.theory.components.invariant_spectral_loss", lambda: dict(F=arr(3, 2), p=simplex(3)),
      {"F": ARR, "p": PROB}),
    E("sslbook.theory.components.feature_bayes_error", lambda: dict(F=arr(4, 2), labels=labels(4), p=simplex(4)),
      {"F": ARR, "labels": ("ndim", "type", "dtype", "empty"), "p": PROB}),
    # --- theory.vacuity (ch3b) -----------------------------------------------------------------------
    E("sslbook.theory.vacuity.sign_linear_probe_error",
      lambda: dict(F=np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]), labels=labels(4),
                   p=simplex(4)),
      {"F": ARR, "labels": ("ndim", "type", "dtype", "empty"), "p": PROB}),
    E("sslbook.theory.vacuity.expected_relabel_error", lambda: dict(n_inputs=16, n_cells=4),
      {"n_inputs": ("type", "neg", "zero"), "n_cells": ("type", "neg", "zero")}),
    E("sslbook.theory.vacuity.leaky_cube_spectrum", lambda: dict(d=4, n_invariant=1, leak=0.1),
      {"d": ("type", "neg", "zero"), "n_invariant": ("type", "neg", "zero"), "leak": ("type", "nan", "neg")}),
    E("sslbook.theory.vacuity.label_blind_excess", lambda: dict(d=4, n_invariant=1, leak=0.1, k=2, centred=False),
      {"d": ("type", "neg", "zero"), "n_invariant": ("type", "neg", "zero"), "leak": ("type", "nan", "neg"),
       "k": ("type", "neg", "zero"), "centred": ("type",)}),
    # --- data.hypercube -----------------------------------------------------------------------------
    E("sslbook.data.hypercube.HypercubeAugmentation", lambda: dict(d=4, r=1, u_low=0.0, u_high=1.0),
      {"d": ("type", "neg", "zero"), "r": ("type", "neg", "zero"), "u_low": ("type", "nan", "neg"),
       "u_high": ("type", "nan", "neg", "zero")}),
    E("sslbook.data.hypercube.parity_features", lambda: dict(xbar=np.sign(arr(5, 4)), subsets=[(0, 1), (2, 3)]),
      {"xbar": ARR, "subsets": ("type",)}),
    # --- explorers ----------------------------------------------------------------------------------
    E("sslbook.explorers.negatives.plot_curl_negatives", lambda: dict(n_classes=3, k=2, loss="hinge", k_max=3),
      {"n_classes": ("type", "neg", "zero"), "k": ("type", "neg", "zero"), "loss": ("type", "choice"),
       "k_max": ("type", "neg", "zero")}),
    E("sslbook.explorers.aci.plot_aci", lambda: dict(violation=0.3, signal2=1.0, seed=1, n_points=3),
      {"violation": ("type", "nan", "neg"), "signal2": ("type", "nan", "neg", "zero"), "seed": ("type", "neg"),
       "n_points": ("type", "neg", "zero")}),
    E("sslbook.explorers.lm_bound.plot_lm_bound", lambda: dict(epsilon=0.01, gamma=0.5, B=4.0, seed=0, n_points=3),
      {"epsilon": ("type", "nan", "neg", "zero"), "gamma": ("type", "nan", "neg", "zero"),
       "B": ("type", "nan", "neg", "zero"), "seed": ("type", "neg"), "n_points": ("type", "neg", "zero")}),
    E("sslbook.explorers.haochen.plot_haochen", lambda: dict(leak=0.05, k=2, r=2, seed=0, n_points=3),
      {"leak": ("type", "nan", "neg"), "k": ("type", "neg", "zero"), "r": ("type", "neg", "zero"),
       "seed": ("type", "neg"), "n_points": ("type", "neg", "zero")}),
    E("sslbook.explorers.core.explorer", lambda: dict(plot=_plot_a, controls=_slider(), title=None),
      {"plot": ("type",), "controls": ("type",)}),
    E("sslbook.explorers.negatives.curl_negatives_explorer", lambda: _widgets() or dict(n_classes=3, k=2, loss="hinge"),
      {"n_classes": ("type", "neg", "zero"), "k": ("type", "neg", "zero"), "loss": ("type", "choice")}),
    E("sslbook.explorers.aci.aci_explorer", lambda: _widgets() or dict(violation=0.3, signal2=1.0, seed=1),
      {"violation": ("type", "nan", "neg"), "signal2": ("type", "nan", "neg", "zero"), "seed": ("type", "neg")}),
    E("sslbook.explorers.lm_bound.lm_bound_explorer",
      lambda: _widgets() or dict(epsilon=0.01, gamma=0.5, B=4.0, seed=0),
      {"epsilon": ("type", "nan", "neg", "zero"), "gamma": ("type", "nan", "neg", "zero"),
       "B": ("type", "nan", "neg", "zero"), "seed": ("type", "neg")}),
    E("sslbook.explorers.haochen.haochen_explorer", lambda: _widgets() or dict(leak=0.05, k=2, r=2, seed=0),
      {"leak": ("type", "nan", "neg"), "k": ("type", "neg", "zero"), "r": ("type", "neg", "zero"),
       "seed": ("type", "neg")}),
    # --- trainers (tiny: one or two steps) ----------------------------------------------------------
    E("sslbook.train.adversarial.probe_r2", lambda: dict(z=ten(8, 2), y=torch.from_numpy(labels(8)).long(), ridge=1e-4),
      {"z": T3, "y": ("ndim", "type", "empty"), "ridge": ("type", "nan", "neg", "zero")}),
    E("sslbook.train.spectral.spectral_batch_losses",
      lambda: dict(f=arr(4, 2), graph=_graph(), batches=2, batch_size=4, rng=0),
      {"f": ARR, "graph": ("type",), "batches": ("type", "neg", "zero"), "batch_size": ("type", "neg", "zero"),
       "rng": ("type",)}),
    E("sslbook.train.views.train_views",
      lambda: dict(model=_model(), X=arr(8, 3), augment=_noise(), steps=1, batch_size=4, temperature=0.5,
                   device="cpu", progress=False),
      {"model": ("type",), "X": ("nan", "type", "dtype", "empty"),  # X of shape (n,) is valid: X is (n, ...)
       "augment": ("type",), "steps": ("type", "neg", "zero"),
       "batch_size": ("type", "neg", "zero"), "temperature": ("type", "nan", "neg", "zero")}),
    E("sslbook.train.spectral.train_spectral",
      lambda: dict(model=_model(), graph=_graph(), steps=1, batch_size=4, lr=0.05, inputs=np.eye(4, 3), rng=0,
                   device="cpu", progress=False),
      {"model": ("type",), "graph": ("type",), "steps": ("type", "neg", "zero"), "batch_size": ("type", "neg", "zero"),
       "lr": ("type", "nan", "neg", "zero"), "inputs": ARR, "rng": ("type",)}),
    E("sslbook.train.adversarial.train_adversarial_probe",
      lambda: dict(model=_model(), sample_batch=_pairs, steps=1, adv_weight=1.0, lr=1e-3, device="cpu", progress=False),
      {"model": ("type",), "sample_batch": ("type",), "steps": ("type", "neg", "zero"),
       "adv_weight": ("type", "nan", "neg"), "lr": ("type", "nan", "neg", "zero")}),
    # --- ch5 additions
    E("sslbook.theory.synthesis.ci_lemma_terms", lambda: dict(joint=np.full((2, 3, 2), 1 / 12), alphabet=arr(2, 2)),
      {"joint": PROB, "alphabet": ARR}),
    E("sslbook.theory.synthesis.hmm_next_token_joint",
      lambda: dict(pi=simplex(2), A=_rows(2, 2), B=_rows(2, 3).T, T=2),
      {"pi": PROB, "A": PROB, "B": PROB, "T": ("type", "neg", "zero")}),
    E("sslbook.theory.synthesis.reconstruction_risk", lambda: dict(p_context=simplex(3), p_next=_rows(3, 4),
                                                                   psi=arr(3, 4)),
      {"p_context": PROB, "p_next": PROB, "psi": ARR}),
    E("sslbook.theory.synthesis.partition_erm_risk",
      lambda: dict(p_x=simplex(3), psi_star=_rows(3, 4), cells=np.array([0, 1, 0]), n=5, default=simplex(4)),
      {"p_x": PROB, "psi_star": PROB, "cells": ("ndim", "type", "dtype", "empty"), "n": ("type", "neg", "zero"),
       "default": ARR}),
    # --- theory additions
    E("sslbook.explorers.core.import_widgets", lambda: dict(), {}, only=True),
    # --- ch2 additions (theory.curl_tasks, spread) ------------------------------------------------------
    E("sslbook.theory.curl.tasks.k_way_task_law", lambda: dict(rho=simplex(3), k=2),
      {"rho": ("nan", "type", "simplex", "empty"), "k": ("type", "neg", "zero")}),
    E("sslbook.theory.curl.tasks.mean_classifier_task_loss",
      lambda: dict(features=_feats(), rho=simplex(3), task=[0, 1, 1], loss="hinge", labels="singletons"),
      {"rho": ("nan", "type", "simplex"), "task": ("type", "empty", "neg"), "loss": ("choice", "type"),
       "labels": ("choice", "type")}),
    E("sslbook.theory.curl.tasks.task_average",
      lambda: dict(features=_feats(), rho=simplex(3), k=2, loss="logistic2", labels="singletons"),
      {"rho": ("nan", "type", "simplex"), "k": ("type", "neg", "zero"), "loss": ("choice", "type"),
       "labels": ("choice", "type")}),
    E("sslbook.spread.spread", lambda: dict(values=arr(5)), {"values": ("nan", "ndim", "type", "dtype", "empty")}),
    E("sslbook.models.project_to_sphere", lambda: dict(features=arr(4, 3), radius=3.0),
      {"features": ("nan", "ndim", "type", "dtype", "empty"), "radius": ("type", "nan", "neg", "zero")}),
    E("sslbook.theory.curl.enumeration.enumerated_losses",
      lambda: dict(features=_feats(), rho=simplex(3), loss="hinge"),
      {"rho": ("nan", "type", "simplex", "empty"), "loss": ("choice",)}),
    # --- ch4 additions (theory.lm_geometry) --------------------------------------------------------------
    E("sslbook.theory.lm_geometry.log_partition", lambda: dict(Phi=arr(3, 5), theta=arr(4, 3, seed=1)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype", "empty")}),
    E("sslbook.theory.lm_geometry.embedding_covariance", lambda: dict(Phi=arr(3, 5), theta=arr(4, 3, seed=1)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype", "empty")}),
    E("sslbook.theory.lm_geometry.softmax_linearization",
      lambda: dict(Phi=arr(3, 5), theta=arr(4, 3, seed=1), theta0=arr(3, seed=2)),
      {"Phi": ARR, "theta": ("nan", "type", "dtype", "empty"), "theta0": ("nan", "type", "dtype", "empty")}),
    E("sslbook.theory.lm_geometry.refined_coverage",
      lambda: dict(p_task=simplex(4), p_context=simplex(4, seed=1), g=arr(4, 2, seed=2)),
      {"p_task": PROB, "p_context": PROB, "g": ARR}),
    # --- train additions
    E("sslbook.device.cpu_threads", lambda: dict(n=1), {"n": ("type", "neg", "zero")}),
    E("sslbook.checkpoint.check_checkpoint_path", lambda: dict(name="path", path="run.pt"),
      {"path": ("type",)}, only=True),
    E("sslbook.checkpoint.check_generators", lambda: dict(generators=[np.random.default_rng(0)]),
      {"generators": ("type",)}, only=True),
]

#: Public callables that are not in the registry, and why.
EXEMPT: dict[str, str] = {
    "sslbook.config.fast_mode": "no arguments",
    "sslbook.config.mode": "no arguments",
    "sslbook.config.progress_enabled": "no arguments",
    "sslbook.device.cuda_available": "no arguments",
    "sslbook.device.mps_available": "no arguments",
    "sslbook.plotting.use_style": "no arguments",
    "sslbook.train.history.TrainingDivergedError": "an exception class",
    "sslbook.probes.Classifier": "abstract base class without arguments",
    "sslbook.session.Session": "result container built by setup() (frozen dataclass)",
    "sslbook.train.history.History": "result container built by fit() (dataclass)",
    "sslbook.train.pretext.PretextRegressor": "result container built by fit_pretext_regression(); transform() "
                                              "checks x1",
    "sslbook.testing.SlopeFit": "result container (frozen dataclass)",
    "sslbook.testing.Verification": "built by testing.verify(), which is registered (a context manager of checks)",
    "sslbook.testing.MonteCarloCheck": "result container (frozen dataclass)",
    "sslbook.theory.complexity.RademacherEstimate": "result container (frozen dataclass)",
    "sslbook.theory.curl.losses.CurlLosses": "result container (frozen dataclass)",
    "sslbook.theory.curl.negatives.CurlKNegativeLosses": "result container (frozen dataclass)",
    "sslbook.explorers.negatives.NegativesCurve": "result container (frozen dataclass)",
    "sslbook.theory.curl.guarantees.GeneralizationBound": "result container (frozen dataclass)",
    "sslbook.theory.curl.guarantees.DreamCounterexample": "result container (frozen dataclass)",
    "sslbook.theory.self_prediction.ACIBound": "result container (frozen dataclass)",
    "sslbook.explorers.aci.ACICurve": "result container (frozen dataclass)",
    "sslbook.theory.multiview.CCAResult": "result container (frozen dataclass)",
    "sslbook.theory.multiview.RedundancyQuantities": "result container (frozen dataclass)",
    "sslbook.data.contrastive_pairs.TripleIndices": "result container (dataclass of index arrays)",
    "sslbook.data.contrastive_pairs.Triples": "result container (dataclass of sampled arrays)",
    "sslbook.data.latent_classes.ContrastiveTuples": "result container (dataclass of sampled arrays)",
    "sslbook.data.hmm.HMMContexts": "result container built by HMM.enumerate_contexts() (NamedTuple)",
    "sslbook.data.language.NaturalTask": "result container built by SyntheticLanguage.natural_task() (dataclass)",
    "sslbook.lm.LMOutputs": "result container built by outputs() (dataclass)",
    "sslbook.data.prompts.LMTask": "result container built by hidden_class_task() (dataclass)",
    "sslbook.lm.ProbeResult": "result container built by logistic_probe() (dataclass)",
    "sslbook.data.prompts.PromptHMM": "result container built by prompt_hmm(), which checks the arguments (dataclass)",
    "sslbook.theory.head_tuning.SeparationCertificate": "result container (dataclass)",
    "sslbook.explorers.lm_bound.LMBoundCurve": "result container (dataclass)",
    "sslbook.theory.quad.QuadEmbeddings": "result container (dataclass)",
    "sslbook.theory.spectral.HaoChenBound": "result container (dataclass)",
    "sslbook.explorers.haochen.HaoChenLeakCurve": "result container (dataclass)",
    "sslbook.theory.spectral.LowRankPSD": "result container (dataclass)",
    "sslbook.theory.spectral.SpectralSolution": "result container (dataclass)",
    "sslbook.theory.components.ComponentSpectra": "result container (dataclass)",
    "sslbook.theory.inductive_biases.LinearClassBound": "result container (dataclass)",
    "sslbook.theory.inductive_biases.LinearSpectralSolution": "result container (dataclass)",
    "sslbook.data.hypercube.AugmentedPairs": "result container built by HypercubeAugmentation.sample_pairs()",
    "sslbook.theory.synthesis.CILemmaTerms": "result container (frozen dataclass)",
    "sslbook.theory.synthesis.PartitionERMRisk": "result container (frozen dataclass)",
    # --- ch2 additions
    "sslbook.theory.curl.tasks.KWayTaskLaw": "result container built by k_way_task_law() (frozen dataclass)",
    "sslbook.theory.curl.tasks.KWayTaskAverage": "result container built by curl_task_average() (frozen dataclass)",
    "sslbook.spread.Spread": "result container built by spread() (frozen dataclass)",
    # --- train additions
    "sslbook.train.batches.check_batch": "fit()'s per-step check of a sampled batch; its errors are tested in "
                                         "tests/test_train.py (None, empty arrays, nested entries)",
    "sslbook.train.checks.LossMonitor": "fit()'s loss buffer, built by fit() from its checked arguments",
    "sslbook.train.resume.ResumePoint": "result container built by resume_run() (frozen dataclass)",
    "sslbook.train.resume.check_resume_state": "fit()'s check of a loaded checkpoint; tested with tampered "
                                               "checkpoints in tests/test_checkpoint.py",
    "sslbook.train.resume.resume_run": "called by fit() with its checked arguments; tested through fit()'s resume",
    "sslbook.train.resume.save_run": "called by fit() with its checked arguments; tested through fit()'s resume",
}

#: Corruptions a callable deliberately does not reject, and why (documented exceptions to the rule).
EXEMPT_KINDS = {
    "nan in torch losses": "the torch losses run inside the training loop: a NaN check there would synchronise a "
                           "GPU at every step; fit() detects a non-finite loss instead (see decisions.md)",
}


# ----------------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------------


def _public_callables() -> list[str]:
    out = []
    for info in pkgutil.walk_packages(sslbook.__path__, prefix="sslbook."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == info.name:
                out.append(f"{info.name}.{name}")
    return sorted(out)


def test_registry_is_complete():
    registered = {e.qualname for e in REGISTRY}
    missing = [q for q in _public_callables() if q not in registered and q not in EXEMPT]
    assert not missing, (f"{len(missing)} public callables have no bad-input registry entry (tests/test_bad_input.py"
                         f" REGISTRY) nor a justified exemption (EXEMPT): {missing}")


def test_registry_names_exist():
    stale = [e.qualname for e in REGISTRY if not _exists(e.qualname)] + [q for q in EXEMPT if not _exists(q)]
    assert not stale, f"registry/exemption entries for callables that do not exist: {stale}"


def _exists(qualname: str) -> bool:
    module, name = qualname.rsplit(".", 1)
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.qualname.removeprefix("sslbook."))
def test_valid_arguments_work(entry: Entry):
    """The builder's arguments are valid: so a failure below is caused by the corruption alone."""
    import matplotlib.pyplot as plt

    entry.call(entry.build())
    plt.close("all")


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.qualname.removeprefix("sslbook."))
@SETTINGS
@given(data=st.data())
def test_bad_input_raises_naming_the_argument(entry: Entry, data):
    import matplotlib.pyplot as plt

    plan = entry.plan()
    if not plan:
        return
    name, kind = data.draw(st.sampled_from(plan), label="argument, corruption")
    try:
        check_corruption(entry, name, kind, data)
    finally:
        plt.close("all")


def check_corruption(entry: Entry, name: str, kind: str, data) -> None:
    """Call ``entry`` with argument ``name`` corrupted (``kind``): it must raise an error that names ``name``."""
    kwargs = entry.build()
    if name in entry.shapes and kind in ("ndim", "mismatch"):
        kwargs[name] = corrupt_declared(kwargs, entry.shapes, name, kind, data)
    else:
        kwargs[name] = corrupt(kwargs[name], kind, data)
    with pytest.raises((ValueError, TypeError)) as info:
        entry.call(kwargs)
    assert name in str(info.value), (f"{entry.qualname}: {kind} corruption of {name!r} raised "
                                     f"{type(info.value).__name__} without naming it: {info.value}")


@pytest.mark.parametrize("entry", [e for e in REGISTRY if e.shapes], ids=lambda e: e.qualname.removeprefix("sslbook."))
def test_declared_arguments_are_exercised(entry: Entry):
    """Every argument a callable declares with ``check_shapes`` is given by the builder (or optional), so that
    its generated corruptions run."""
    valid = entry.build()
    missing = [n for n, s in entry.shapes.items() if n not in valid and not s.optional]
    assert not missing, f"{entry.qualname}: declared arguments {missing} are not built, so never corrupted"
    assert any(k in ("ndim", "mismatch") for _, k in entry.plan()) or all(
        s.max_ndim is None and s.min_ndim == 0 for s in entry.shapes.values())


def _declared_but_unchecked(X, y):
    """Declares y (below) but checks only X: the registry must catch it."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError("X must be 2-d")
    return X.sum() + np.asarray(y).sum()


_declared_but_unchecked.__shapes__ = {"X": Shape("n d"), "y": Shape("n")}


@SETTINGS
@given(data=st.data())
def test_registry_catches_a_declared_but_unchecked_argument(data):
    """The generated corruptions fail a callable whose declaration promises a check it does not make."""
    entry = Entry("tests.unchecked", lambda: dict(X=arr(4, 2), y=arr(4)), target=_declared_but_unchecked, only=True)
    plan = entry.plan()
    assert ("y", "mismatch") in plan and ("y", "ndim") in plan and ("X", "mismatch") in plan
    check_corruption(entry, "X", "ndim", data)  # X is checked: passes
    kind = data.draw(st.sampled_from(["ndim", "mismatch"]))
    with pytest.raises(pytest.fail.Exception):
        check_corruption(entry, "y", kind, data)


# ----------------------------------------------------------------------------------------------------
# Issue #14: named categories of bad input that used to give silent wrong answers, huge allocations or
# hangs. Each case must raise ValueError/TypeError whose message names the argument (``match``).
# ----------------------------------------------------------------------------------------------------


def _raises(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def _softmax_lm(encoder="mlp"):
    from sslbook.lm import SoftmaxLM

    torch.manual_seed(0)
    return SoftmaxLM(4, 2, 3, encoder=encoder)


def _const_batch(contexts, target, *rest):
    return lambda step: (contexts, target, *rest)


WRONG_TOKEN_RANGES = {
    "mlp token >= vocab (reads another position's embedding)": (
        lambda: _softmax_lm()(torch.tensor([[0, 5]])), ValueError, "contexts"),
    "tabular token >= vocab (another context)": (
        lambda: _softmax_lm("tabular")(torch.tensor([[0, 7]])), ValueError, "contexts"),
    "tabular token >= vocab in the last position": (
        lambda: _softmax_lm("tabular")(torch.tensor([[3, 4]])), ValueError, "contexts"),
    "negative token": (lambda: _softmax_lm()(torch.tensor([[-1, 0]])), ValueError, "contexts"),
    "float tokens (truncated by .long())": (
        lambda: _softmax_lm()(torch.tensor([[0.7, 1.2]])), TypeError, "contexts"),
    "lm_outputs token >= vocab": (
        lambda: __import__("sslbook.lm").lm.outputs(_softmax_lm(), np.array([[0, 4]])), ValueError, "contexts"),
    "lm_outputs float tokens": (
        lambda: __import__("sslbook.lm").lm.outputs(_softmax_lm(), torch.tensor([[0.5, 1.0]])), TypeError,
        "contexts"),
    "train_lm sampler token >= vocab": (
        lambda: __import__("sslbook.train").train.train_lm(  # noqa: E501
            _softmax_lm(), _const_batch(np.array([[0, 9]]), np.array([1])),
                                                     steps=1, progress=False), ValueError, "contexts"),
    "train_lm sampler float tokens": (
        lambda: __import__("sslbook.train").train.train_lm(  # noqa: E501
            _softmax_lm(), _const_batch(np.array([[0.5, 1.0]]),
                                                                                 np.array([1])),
                                                     steps=1, progress=False), TypeError, "contexts"),
    "train_lm next word >= vocab": (
        lambda: __import__("sslbook.train").train.train_lm(  # noqa: E501
            _softmax_lm(), _const_batch(np.array([[0, 1]]), np.array([4])),
                                                     steps=1, progress=False), ValueError, "target"),
    "xent_lm target index >= V": (
        lambda: __import__("sslbook.losses").losses.xent_lm(torch.zeros(2, 3), torch.tensor([0, 3])), ValueError,
        "target"),
    "hmm.forward_torch float tokens": (
        lambda: __import__("sslbook.data").data.HMM.random(2, 3, rng=0).forward_torch(torch.tensor([[0.5]])),
        TypeError, "x"),
    "hmm.forward_torch token >= V": (
        lambda: __import__("sslbook.data").data.HMM.random(2, 3, rng=0).forward_torch(torch.tensor([[3]])),
        ValueError, "x"),
}


@pytest.mark.parametrize("case", list(WRONG_TOKEN_RANGES), ids=list(WRONG_TOKEN_RANGES))
def test_wrong_token_ranges(case):
    _raises(*WRONG_TOKEN_RANGES[case])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_forward_torch_on_cuda_without_cuda_names_the_device():
    from sslbook.data import HMM

    _raises(lambda: HMM.random(2, 3, rng=0).forward_torch(np.zeros((1, 2), int), device="cuda"), ValueError,
            "cuda")


@pytest.mark.parametrize("kind", ["logistic", "ols"])
@pytest.mark.parametrize(("a", "c"), [(1e200, 0.0), (1e-200, 0.0), (1e-3, 0.0), (1.0, 1e6)])
def test_scale(kind, a, c):
    """linear_probe's regularisation is relative to the data: rescaled or shifted features give the same
    accuracy (not W = 0, not the majority class)."""
    from sslbook.data import GaussianMixture
    from sslbook.probes import linear_probe

    X, y = GaussianMixture.random(3, 4, separation=3.0, rng=1).sample(300, rng=2)
    ref = linear_probe(X, y, kind=kind, device="cpu").accuracy(X, y)
    moved = linear_probe(a * X + c, y, kind=kind, device="cpu").accuracy(a * X + c, y)
    majority = np.bincount(y).max() / y.size
    assert ref > majority + 0.3
    assert abs(moved - ref) <= 2 / y.size  # at most a point on a decision boundary moves


EMPTY_NEGATIVES = {
    name: (lambda fn=fn: getattr(__import__("sslbook.losses").losses, fn)(ten(4, 3), ten(4, 3, seed=1),
                                                                         torch.zeros(4, 0, 3)),
           ValueError, "negatives")
    for name, fn in [("hinge", "contrastive_hinge"), ("logistic2", "contrastive_logistic2"),
                     ("margins", "contrastive_margins")]
}


@pytest.mark.parametrize("case", list(EMPTY_NEGATIVES), ids=list(EMPTY_NEGATIVES))
def test_empty_negatives(case):
    _raises(*EMPTY_NEGATIVES[case])


@pytest.mark.parametrize("tau", [1e-39, 1e-300, 0.0, -1.0, float("inf"), float("nan")])
def test_extreme_temperatures_rejected(tau):
    from sslbook.losses import info_nce

    _raises(lambda: info_nce(ten(4, 3), ten(4, 3, seed=1), temperature=tau), ValueError, "temperature")


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("tau", [1e-30, 1e-8, 1e30])
def test_extreme_temperatures_finite_where_accepted(tau, normalize):
    """A temperature that is accepted gives a finite loss, never NaN (tiny tau: inf - inf before #14)."""
    from sslbook.losses import info_nce

    z1, z2 = ten(4, 3), ten(4, 3, seed=1)
    z1.requires_grad_(True)
    loss = info_nce(z1, z2, temperature=tau, normalize=normalize)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.all(torch.isfinite(z1.grad))
    if tau == 1e30:  # all logits 0: the loss is log(2B - 1)
        assert loss.item() == pytest.approx(math.log(7), rel=1e-6)


DEGENERATE_WEIGHTS = {
    "xent_lm zero weights": (lambda: __import__("sslbook.losses").losses.xent_lm(
        torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), weight=torch.zeros(4)), ValueError, "weight"),
    "xent_lm negative weight": (lambda: __import__("sslbook.losses").losses.xent_lm(
        torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), weight=torch.tensor([1.0, -1.0, 1.0, 1.0])), ValueError,
        "weight"),
    "xent_lm NaN weight": (lambda: __import__("sslbook.losses").losses.xent_lm(
        torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), weight=torch.tensor([1.0, float("nan"), 1.0, 1.0])),
        ValueError, "weight"),
    "quad_lm zero weights": (lambda: __import__("sslbook.losses").losses.quad_lm(
        ten(4, 2), ten(2, 3), torch.tensor([0, 1, 2, 0]), weight=torch.zeros(4)), ValueError, "weight"),
    "xent_lm targets summing to 2.5": (lambda: __import__("sslbook.losses").losses.xent_lm(
        torch.zeros(2, 3), torch.tensor([[1.0, 1.0, 0.5], [1.0, 0.0, 0.0]])), ValueError, "target"),
    "xent_lm negative target probability": (lambda: __import__("sslbook.losses").losses.xent_lm(
        torch.zeros(1, 3), torch.tensor([[1.5, -0.5, 0.0]])), ValueError, "target"),
    "prompt_hmm stickiness 1 (reducible chain)": (
        lambda: __import__("sslbook.data").data.prompt_hmm(2, 4, rng=0, stickiness=1.0), ValueError, "stickiness"),
}


@pytest.mark.parametrize("case", list(DEGENERATE_WEIGHTS), ids=list(DEGENERATE_WEIGHTS))
def test_degenerate_weights(case):
    _raises(*DEGENERATE_WEIGHTS[case])


NON_PSD = {
    "excess_risk cov = -I": (lambda: __import__("sslbook.probes").probes.excess_risk(
        np.ones(3), np.zeros(3), cov=-np.eye(3)), "cov"),
    "excess_risk indefinite cov": (lambda: __import__("sslbook.probes").probes.excess_risk(
        np.ones(2), np.zeros(2), cov=np.array([[1.0, 2.0], [2.0, 1.0]])), "cov"),
    "partial_covariance(-cov)": (lambda: __import__("sslbook.theory").theory.partial_covariance(
        -spd(4), [0], [1], [2, 3]), "cov"),
    "eps_ci(-cov)": (lambda: __import__("sslbook.theory").theory.eps_ci(-spd(4), [0], [1], [2, 3]), "cov"),
    "approximation_error cov_x = -I": (lambda: __import__("sslbook.theory.self_prediction").theory.self_prediction.
                                       approximation_error(np.ones((1, 2)), np.ones((1, 2)), -np.eye(2)), "cov_x"),
}


@pytest.mark.parametrize("case", list(NON_PSD), ids=list(NON_PSD))
def test_non_psd_covariances(case):
    fn, match = NON_PSD[case]
    _raises(fn, ValueError, match)


LABELS_OUT_OF_RANGE = {
    "LinearClassifier.accuracy label 7 of 3 classes": (lambda: __import__("sslbook.probes").probes.LinearClassifier(
        np.eye(3), np.zeros(3)).accuracy(np.eye(4, 3), [0, 1, 2, 7]), "labels"),
    "negative label": (lambda: __import__("sslbook.probes").probes.LinearClassifier(
        np.eye(3), np.zeros(3)).accuracy(np.eye(4, 3), [0, 1, 2, -1]), "labels"),
    "mean classifier accuracy": (lambda: __import__("sslbook.probes").probes.mean_classifier(
        arr(6, 2), labels(6, 2)).accuracy(arr(3, 2), [0, 1, 2]), "labels"),
    "HypercubeAugmentation.labels off the cube (a tie)": (lambda: __import__("sslbook.data").data.HypercubeAugmentation(
        3, 1).labels(np.array([[0.0, 1.0, 1.0]])), "xbar"),
    "HypercubeAugmentation.augment off the cube": (lambda: __import__("sslbook.data").data.HypercubeAugmentation(
        3, 1).augment(np.array([[2.0, 1.0, -1.0]]), rng=0), "xbar"),
}


@pytest.mark.parametrize("case", list(LABELS_OUT_OF_RANGE), ids=list(LABELS_OUT_OF_RANGE))
def test_labels_out_of_range(case):
    fn, match = LABELS_OUT_OF_RANGE[case]
    _raises(fn, ValueError, match)


def _gm():
    from sslbook.data import GaussianMixture

    return GaussianMixture.random(3, 4, rng=0)


HUGE_MEMORY = {
    "SoftmaxLM(10**9, 2, 3)": (lambda: __import__("sslbook.lm").lm.SoftmaxLM(10**9, 2, 3), "vocab"),
    "linear_probe n_classes=10**7": (lambda: __import__("sslbook.probes").probes.linear_probe(
        arr(20, 3), labels(20), n_classes=10**7), "n_classes"),
    "gaussian_triples(mix, 10**9, k=10)": (lambda: __import__("sslbook.data").data.gaussian_triples(
        _gm(), 10**9, k=10, rng=0), "n and k"),
    "rademacher_linear_exact max_signs=26": (lambda: __import__("sslbook.theory").theory.rademacher_linear_exact(
        arr(13, 2), 1.0, 2, max_signs=26), "max_signs"),
    "GaussianMixture.sample(10**11)": (lambda: _gm().sample(10**11, rng=0), "n"),
    "HMM.sample(10**6, 10**6)": (lambda: __import__("sslbook.data").data.HMM.random(2, 3, rng=0).sample(
        10**6, 10**6, rng=0), "n and T"),
    "triple_indices n=10**11": (lambda: __import__("sslbook.data").data.triple_indices(
        labels(10), 10**11, rng=0), "n and k"),
    "LinearGaussianACI.random d1=10**6": (lambda: __import__("sslbook.data").data.LinearGaussianACI.random(
        2, 2, 10**6, 3), "d1"),
    "lm_batches batch_size=10**11": (lambda: __import__("sslbook.train").train.lm_batches(
        np.zeros((2, 2), int), [0.5, 0.5], np.full((2, 3), 1 / 3), batch_size=10**11), "batch_size"),
    "prompt_hmm n_states=10**6": (lambda: __import__("sslbook.data").data.prompt_hmm(10**6, 4, rng=0), "n_states"),
    "mean_classifier n_classes=10**11": (lambda: __import__("sslbook.probes").probes.mean_classifier(
        arr(6, 2), labels(6), n_classes=10**11), "n_classes"),
}


@pytest.mark.parametrize("case", list(HUGE_MEMORY), ids=list(HUGE_MEMORY))
def test_sizes_that_imply_huge_memory(case, monkeypatch):
    monkeypatch.delenv("SSLBOOK_MAX_BYTES", raising=False)
    fn, match = HUGE_MEMORY[case]
    with pytest.raises(ValueError, match="memory") as info:
        fn()
    assert match in str(info.value) and "bytes" in str(info.value)


UNBOUNDED_LOOPS = {
    "empirical_rademacher_linear n_draws=10**9": (lambda: __import__("sslbook.theory").theory.
                                                  empirical_rademacher_linear(arr(10, 3), 1.0, 1, n_draws=10**9,
                                                                              rng=0), "n_draws"),
    "alternating_conditional_expectations n_iter=10**11": (lambda: __import__("sslbook.theory").theory.
                                                           alternating_conditional_expectations(
                                                               np.full((3, 3), 1 / 9), 1, 10**11, rng=0), "n_iter"),
    "few_label_accuracy repeats=10**11": (lambda: __import__("sslbook.probes").probes.few_label_accuracy(
        arr(20, 3), labels(20), 2, probe="mean", repeats=10**11, rng=0), "repeats"),
}


@pytest.mark.parametrize("case", list(UNBOUNDED_LOOPS), ids=list(UNBOUNDED_LOOPS))
def test_unbounded_loops(case, monkeypatch):
    import time

    monkeypatch.delenv("SSLBOOK_MAX_WORK", raising=False)
    fn, match = UNBOUNDED_LOOPS[case]
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        fn()
    assert time.perf_counter() - start < 5.0  # refused up front, not after running


def test_extreme_temperatures_uniform():
    """uniform's t beyond the dtype's range rounded to inf and gave inf * 0 = NaN on coincident points."""
    from sslbook.losses import uniform

    z = ten(4, 3)
    z[1] = z[0]
    _raises(lambda: uniform(z, t=1e39), ValueError, "^t must be")
    assert torch.isfinite(uniform(z, t=1e38))
