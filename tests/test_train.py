"""Tests of sslbook.train: the generic training loop, divergence detection, moving batches to the device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from sslbook.models import LinearEncoder
from sslbook.train import History, TrainingDivergedError, fit, to_device

CPU = torch.device("cpu")

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _regression_problem(seed=0, n=64, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w = np.array([1.0, -2.0, 0.5], dtype=np.float32)[:d]
    return X, (X @ w)[:, None]


def _mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


# ----------------------------------------------------------------------------------------------------
# fit: training works, History
# ----------------------------------------------------------------------------------------------------


def test_fit_lowers_the_loss():
    torch.manual_seed(0)
    X, y = _regression_problem()
    model = LinearEncoder(3, 1)
    hist = fit(model, _mse, lambda step: (X, y), steps=150, lr=0.05, progress=False)
    assert isinstance(hist, History)
    assert len(hist.loss) == 150
    assert hist.loss.dtype == np.float64
    assert hist.device == "cpu"
    assert hist.precision == "fp32"
    assert hist.seconds >= 0
    assert hist.extra == {}
    # decreasing on average, and small at the end
    chunks = hist.loss.reshape(5, 30).mean(axis=1)
    assert np.all(np.diff(chunks) < 0)
    assert hist.final_loss < 1e-3 * hist.loss[0]
    w = model.linear.weight.detach().numpy().ravel()
    np.testing.assert_allclose(w, [1.0, -2.0, 0.5], atol=0.05)
    # History.loss is the loss computed at every step (before its update)
    x_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    with torch.no_grad():
        assert float(((model(x_t) - y_t) ** 2).mean()) < 2 * hist.loss[-1] + 1e-6


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_fit_optimizers(optimizer):
    torch.manual_seed(0)
    X, y = _regression_problem()
    hist = fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=40, lr=0.05, optimizer=optimizer,
               weight_decay=1e-4, progress=False, amp="off", device="cpu")
    assert hist.loss[-5:].mean() < hist.loss[:5].mean()


def test_fit_single_step_and_amp_ignored_on_cpu():
    X, y = _regression_problem()
    for amp in ("auto", "off", "bf16", "fp16"):
        hist = fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=1, amp=amp, progress=False)
        assert len(hist.loss) == 1 and hist.precision == "fp32"


def test_fit_passes_the_step_to_sample_batch():
    seen = []
    X, y = _regression_problem()

    def sample(step):
        seen.append(step)
        return {"x": X, "y": y}

    def loss_fn(model, batch):
        assert isinstance(batch["x"], torch.Tensor) and batch["x"].dtype == torch.float32
        return ((model(batch["x"]) - batch["y"]) ** 2).mean()

    fit(LinearEncoder(3, 1), loss_fn, sample, steps=6, progress=False)
    assert seen == list(range(6))


def test_history_final_loss():
    h = History(loss=np.arange(20, dtype=float), device="cpu", precision="fp32", seconds=0.0)
    assert h.final_loss == pytest.approx(18.5)  # mean of the last 2 (10 % of 20)
    h = History(loss=np.array([3.0, 1.0]), device="cpu", precision="fp32", seconds=0.0)
    assert h.final_loss == 1.0  # at least one step


# ----------------------------------------------------------------------------------------------------
# divergence
# ----------------------------------------------------------------------------------------------------


def _nan_at(bad_step, calls):
    X, y = _regression_problem()

    def sample(step):
        calls.append(step)
        return X, y, step

    def loss_fn(model, batch):
        x, t, step = batch
        loss = ((model(x) - t) ** 2).mean()
        return loss * float("nan") if step == bad_step else loss

    return sample, loss_fn


@pytest.mark.parametrize(("check_every", "raised_at"), [(1, 3), (5, 4), (2, 3), (4, 3)])
def test_nan_loss_raises_naming_the_step(check_every, raised_at):
    calls = []
    sample, loss_fn = _nan_at(3, calls)
    with pytest.raises(TrainingDivergedError, match=r"at step 3 of 10") as info:
        fit(LinearEncoder(3, 1), loss_fn, sample, steps=10, check_every=check_every, progress=False)
    assert "nan" in str(info.value).lower()
    assert isinstance(info.value, FloatingPointError)
    assert calls[-1] == raised_at  # it raised at the first check after the bad step, not later


def test_nan_at_last_step_is_always_checked():
    calls = []
    sample, loss_fn = _nan_at(6, calls)
    with pytest.raises(TrainingDivergedError, match="at step 6 of 7"):
        fit(LinearEncoder(3, 1), loss_fn, sample, steps=7, check_every=100, progress=False)


def test_inf_loss_raises():
    X, y = _regression_problem()

    def loss_fn(model, batch):
        return _mse(model, batch) + float("inf")

    with pytest.raises(TrainingDivergedError, match="at step 0"):
        fit(LinearEncoder(3, 1), loss_fn, lambda s: (X, y), steps=3, progress=False)


def test_huge_learning_rate_diverges():
    X, y = _regression_problem()
    with pytest.raises(TrainingDivergedError, match="lr=1e\\+20"):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X * 1e10, y), steps=50, lr=1e20, optimizer="sgd", progress=False)


# ----------------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------------


def test_non_scalar_loss_raises_type_error():
    X, y = _regression_problem()
    with pytest.raises(TypeError, match="loss_fn"):
        fit(LinearEncoder(3, 1), lambda m, b: (m(b[0]) - b[1]) ** 2, lambda s: (X, y), steps=2, progress=False)
    with pytest.raises(TypeError, match="loss_fn"):
        fit(LinearEncoder(3, 1), lambda m, b: 1.0, lambda s: (X, y), steps=2, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "exc", "argname"),
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.0}, TypeError, "steps"),
        ({"steps": True}, TypeError, "steps"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1e-3}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"lr": "1e-3"}, TypeError, "lr"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer"),
        ({"optimizer": None}, TypeError, "optimizer"),
        ({"amp": "fp8"}, ValueError, "amp"),
        ({"amp": True}, TypeError, "amp"),
        ({"check_every": 0}, ValueError, "check_every"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"device": 0}, TypeError, "device"),
    ],
)
def test_fit_bad_args(kwargs, exc, argname):
    X, y = _regression_problem()
    args = {"steps": 2, "progress": False}
    args.update(kwargs)
    with pytest.raises(exc, match=argname):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), **args)


def test_fit_bad_model_and_callables():
    X, y = _regression_problem()
    with pytest.raises(TypeError, match="model"):
        fit(lambda x: x, _mse, lambda s: (X, y), steps=1, progress=False)
    with pytest.raises(TypeError, match="loss_fn"):
        fit(LinearEncoder(3, 1), "mse", lambda s: (X, y), steps=1, progress=False)
    with pytest.raises(TypeError, match="sample_batch"):
        fit(LinearEncoder(3, 1), _mse, (X, y), steps=1, progress=False)
    frozen = LinearEncoder(3, 1).requires_grad_(False)
    with pytest.raises(ValueError, match="model"):
        fit(frozen, _mse, lambda s: (X, y), steps=1, progress=False)
    with pytest.raises(ValueError, match="model"):
        fit(nn.Identity(), lambda m, b: b[0].sum(), lambda s: (X, y), steps=1, progress=False)


# ----------------------------------------------------------------------------------------------------
# projection after each step
# ----------------------------------------------------------------------------------------------------


def test_project_keeps_frobenius_norm_bounded():
    torch.manual_seed(0)
    X, y = _regression_problem()
    target = 100 * y  # pulls the weights far outside the ball
    model = LinearEncoder(3, 1, max_fro=0.5)
    fit(model, _mse, lambda s: (X, target), steps=30, lr=10.0, optimizer="sgd", progress=False)
    assert float(model.linear.weight.detach().norm()) <= 0.5 * (1 + 1e-6)
    # without a radius the same run leaves the ball
    free = LinearEncoder(3, 1)
    fit(free, _mse, lambda s: (X, target), steps=30, lr=0.1, optimizer="sgd", progress=False)
    assert float(free.linear.weight.detach().norm()) > 0.5


def test_project_called_after_every_step():
    events = []

    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            return self.lin(x)

        def project(self):
            events.append(("project", float(self.lin.weight.detach().sum())))

    X, y = _regression_problem()
    model = Counting()

    def loss_fn(m, b):
        events.append(("loss", None))
        return _mse(m, b)

    fit(model, loss_fn, lambda s: (X, y), steps=5, lr=0.1, progress=False)
    assert [e[0] for e in events] == ["loss", "project"] * 5
    # project sees the updated weights: consecutive calls see different weights
    sums = [e[1] for e in events if e[0] == "project"]
    assert len(set(sums)) == 5


# ----------------------------------------------------------------------------------------------------
# to_device
# ----------------------------------------------------------------------------------------------------


def test_to_device_numpy_dtypes():
    t = to_device(np.zeros(3, dtype=np.float64), CPU)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert to_device(np.zeros(3, dtype=np.float16), CPU).dtype == torch.float32
    assert to_device(np.arange(3), CPU).dtype == torch.int64
    assert to_device(np.arange(3, dtype=np.int64), CPU).dtype == torch.int64
    assert to_device(np.array([True, False]), CPU).dtype == torch.bool
    np.testing.assert_array_equal(to_device(np.arange(4.0), CPU).numpy(), np.arange(4.0))


def test_to_device_int32_becomes_int64():
    assert to_device(np.arange(3, dtype=np.int32), CPU).dtype == torch.int64


def test_to_device_negative_strides():
    t = to_device(np.arange(4.0)[::-1], CPU)
    np.testing.assert_array_equal(t.numpy(), [3.0, 2.0, 1.0, 0.0])


def test_to_device_containers():
    batch = (np.zeros((2, 3)), [np.arange(2), torch.ones(2)], {"a": np.ones(1), "b": 7, "c": "text"})
    out = to_device(batch, CPU)
    assert isinstance(out, tuple) and len(out) == 3
    assert out[0].dtype == torch.float32 and out[0].shape == (2, 3)
    assert isinstance(out[1], list)
    assert out[1][0].dtype == torch.int64
    assert isinstance(out[1][1], torch.Tensor)
    assert isinstance(out[2], dict) and set(out[2]) == {"a", "b", "c"}
    assert out[2]["a"].dtype == torch.float32
    assert out[2]["b"] == 7 and out[2]["c"] == "text"  # non-arrays pass through


def test_to_device_tensor_keeps_dtype():
    t = torch.arange(3, dtype=torch.float64)
    assert to_device(t, CPU).dtype == torch.float64


def test_to_device_namedtuple():
    from collections import namedtuple

    Batch = namedtuple("Batch", "x y")
    out = to_device(Batch(np.zeros(2), np.arange(2)), CPU)
    assert isinstance(out, Batch) and out.x.dtype == torch.float32


# ----------------------------------------------------------------------------------------------------
# progress bars
# ----------------------------------------------------------------------------------------------------


def test_progress_false_prints_nothing(capsys):
    X, y = _regression_problem()
    fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=5, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_default_follows_env(monkeypatch, capsys):
    X, y = _regression_problem()
    monkeypatch.setenv("SSLBOOK_PROGRESS", "0")
    fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    monkeypatch.delenv("SSLBOOK_PROGRESS")
    monkeypatch.setenv("CI", "true")
    fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_true_shows_a_bar(capsys):
    X, y = _regression_problem()
    fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=5, progress=True, desc="my-run")
    captured = capsys.readouterr()
    assert "my-run" in captured.err + captured.out


# ----------------------------------------------------------------------------------------------------
# explosion, bad batches, bounded history (#14)
# ----------------------------------------------------------------------------------------------------


def _scripted(values):
    """A loss equal to values[step] (plus 0 * the model's output, so that it has a gradient)."""
    x = np.ones((2, 3), dtype=np.float32)

    def loss_fn(model, batch):
        xb, step = batch
        return (model(xb) * 0).sum() + float(values[step])

    return loss_fn, (lambda step: (x, step))


@pytest.mark.parametrize("first", [2.0, 1e-3, -3.0])
def test_explosion_stops_at_the_documented_ratio(first):
    scale = max(abs(first), 1.0)
    over = [first] * 5 + [1.01e6 * scale] * 3
    under = [first] * 5 + [0.99e6 * scale] * 3
    loss_fn, sample = _scripted(over)
    with pytest.raises(TrainingDivergedError, match=r"exploded.*at step 5 of 8.*explode_ratio=1e\+06"):
        fit(LinearEncoder(3, 1), loss_fn, sample, steps=8, progress=False)
    loss_fn, sample = _scripted(under)  # just below the threshold: no error
    assert len(fit(LinearEncoder(3, 1), loss_fn, sample, steps=8, progress=False).loss) == 8
    loss_fn, sample = _scripted(over)  # the ratio is an argument; None disables the check
    fit(LinearEncoder(3, 1), loss_fn, sample, steps=8, explode_ratio=1.02e6, progress=False)
    fit(LinearEncoder(3, 1), loss_fn, sample, steps=8, explode_ratio=None, progress=False)
    with pytest.raises(TrainingDivergedError, match="step 5 of 8"):
        fit(LinearEncoder(3, 1), loss_fn, sample, steps=8, explode_ratio=1e3, check_every=4, progress=False)


def test_explosion_of_adam_at_a_huge_learning_rate():
    torch.manual_seed(0)
    X, y = _regression_problem()
    with pytest.raises(TrainingDivergedError, match="exploded"):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=300, lr=1e6, progress=False)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "big", True])
def test_explode_ratio_bad_values(bad):
    X, y = _regression_problem()
    with pytest.raises((TypeError, ValueError), match="explode_ratio"):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=2, explode_ratio=bad, progress=False)


def test_sampler_returning_none_or_an_empty_batch():
    X, y = _regression_problem()
    with pytest.raises(TypeError, match=r"returned None at step 2"):
        fit(LinearEncoder(3, 1), _mse, lambda s: None if s == 2 else (X, y), steps=4, progress=False)
    with pytest.raises(ValueError, match=r"empty batch at step 1.*element 0.*\(0, 3\)"):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X[:0], y[:0]) if s == 1 else (X, y), steps=4, progress=False)
    with pytest.raises(ValueError, match=r"empty batch at step 0.*'x'"):
        fit(LinearEncoder(3, 1), lambda m, b: _mse(m, (b["x"], b["y"])),
            lambda s: {"x": torch.zeros(0, 3), "y": torch.zeros(0, 1)}, steps=1, progress=False)


def test_history_is_not_preallocated(monkeypatch):
    """fit(steps=10**10) allocates a bounded loss buffer, not 40 GB up front."""
    import sslbook.train.loop as train_mod

    sizes = []
    real_empty = torch.empty

    def spy(*args, **kwargs):
        t = real_empty(*args, **kwargs)
        sizes.append(t.numel())
        return t

    class Stop(Exception):
        pass

    X, y = _regression_problem()

    def sample(step):
        if step == 7:
            raise Stop
        return X, y

    monkeypatch.setattr(train_mod.torch, "empty", spy)
    with pytest.raises(Stop):
        fit(LinearEncoder(3, 1), _mse, sample, steps=10**10, check_every=10**9, progress=False)
    assert sizes and max(sizes) <= 4096
    monkeypatch.undo()
    # a long check interval still keeps every loss (buffers flushed when full)
    hist = fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=9000, lr=0.01, check_every=10**6, progress=False)
    assert hist.loss.shape == (9000,) and np.isfinite(hist.loss).all()


def test_deterministic_flag_is_set_during_the_run_and_restored():
    X, y = _regression_problem()
    seen = []

    def loss_fn(m, b):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return _mse(m, b)

    before = torch.are_deterministic_algorithms_enabled()
    fit(LinearEncoder(3, 1), loss_fn, lambda s: (X, y), steps=2, deterministic=True, progress=False)
    assert seen == [True, True]
    assert torch.are_deterministic_algorithms_enabled() == before
    with pytest.raises(TypeError, match="deterministic"):
        fit(LinearEncoder(3, 1), _mse, lambda s: (X, y), steps=1, deterministic="yes", progress=False)


def test_explicit_bf16_is_checked_against_the_gpu(monkeypatch):
    from sslbook.train.loop import _precision

    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    cuda = torch.device("cuda")
    with pytest.raises(ValueError, match=r"amp='bf16'.*Tesla T4.*7\.5"):
        _precision(cuda, "bf16")
    assert _precision(cuda, "auto") == "fp16"
    assert _precision(cuda, "fp16") == "fp16"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    assert _precision(cuda, "bf16") == "bf16"
    assert _precision(torch.device("cpu"), "bf16") == "fp32"


def test_to_device_does_not_pin_for_the_cpu():
    t = to_device(np.ones(3, dtype=np.float32), CPU)
    assert not t.is_pinned()


@pytest.mark.cuda
def test_to_device_cuda_pinned_and_device_to_host_blocking():
    gpu = torch.device("cuda")
    t = to_device(np.arange(5.0), gpu)
    assert t.device.type == "cuda"
    back = to_device(t * 2, CPU)  # device -> host: blocking, so the values are there
    np.testing.assert_array_equal(back.numpy(), 2 * np.arange(5.0, dtype=np.float32))


@pytest.mark.cuda
def test_fp16_overflow_is_skipped_by_the_scaler():
    """A step whose scaled gradient overflows is skipped, not an error; the run goes on."""
    X = torch.randn(32, 3)

    def loss_fn(m, b):
        x, step = b
        out = (m(x) ** 2).mean()
        return out * 6e4 if int(step) == 3 else out  # fp16 gradients overflow at the initial scale 2**16

    hist = fit(LinearEncoder(3, 1), loss_fn, lambda s: (X, torch.tensor(s)), steps=10, device="cuda",
               amp="fp16", progress=False)
    assert hist.precision == "fp16" and hist.extra["skipped_steps"] >= 1


@pytest.mark.parametrize("loss", ["xent", "quad"])
def test_train_lm_goes_through_the_compiled_forward(monkeypatch, loss):
    """Under torch.compile, both losses call the compiled module (Quad used to call .features directly)."""
    import sslbook.train.loop as train_mod
    from sslbook.lm import SoftmaxLM
    from sslbook.train import train_lm

    calls = []

    class Spy(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            calls.append(1)
            return self.inner(*args)

    monkeypatch.setattr(train_mod, "_use_compile", lambda compile, device: True)
    monkeypatch.setattr(train_mod.torch, "compile", Spy)
    ctx = np.array([[0, 1], [1, 2], [2, 0]])
    nxt = np.array([1, 2, 0])
    torch.manual_seed(0)
    hist = train_lm(SoftmaxLM(3, 2, 2, encoder="tabular"), lambda s: (ctx, nxt), steps=4, loss=loss, progress=False)
    assert len(calls) == 4 and np.isfinite(hist.loss).all()


def test_train_lm_checkpoint_resumes(tmp_path):
    from sslbook.lm import SoftmaxLM
    from sslbook.train import train_lm

    ctx = np.array([[0, 1], [1, 2], [2, 0]])
    nxt = np.array([1, 2, 0])
    torch.manual_seed(0)
    h = train_lm(SoftmaxLM(3, 2, 2, encoder="tabular"), lambda s: (ctx, nxt), steps=4, loss="quad", progress=False,
                 checkpoint=tmp_path / "lm.pt")
    h2 = train_lm(SoftmaxLM(3, 2, 2, encoder="tabular"), lambda s: (ctx, nxt), steps=6, loss="quad",
                  progress=False, checkpoint=tmp_path / "lm.pt")
    assert h2.extra["resumed_from"] == 4
    np.testing.assert_array_equal(h2.loss[:4], h.loss)


def _cpu_fp16_scaler(monkeypatch):
    """Run fit's fp16 path on the CPU: a CPU gradient scaler, no autocast (the skip logic is what is tested)."""
    import contextlib

    import sslbook.train.loop as train_mod

    real = torch.amp.GradScaler
    monkeypatch.setattr(train_mod, "_precision", lambda device, amp: "fp16")
    monkeypatch.setattr(train_mod.torch.amp, "GradScaler", lambda device: real("cpu"))
    monkeypatch.setattr(train_mod.torch, "autocast", lambda **kw: contextlib.nullcontext())


def test_scaler_skip_is_not_divergence(monkeypatch):
    _cpu_fp16_scaler(monkeypatch)
    X, y = _regression_problem()

    def loss_fn(m, b):
        x, t, step = b
        loss = _mse(m, (x, t))
        return loss * float("inf") if step == 3 else loss  # overflow: the scaler skips this step

    hist = fit(LinearEncoder(3, 1), loss_fn, lambda s: (X, y, s), steps=8, lr=0.05, progress=False)
    assert hist.precision == "fp16" and hist.extra["skipped_steps"] == 1
    assert np.isinf(hist.loss[3]) and np.isfinite(np.delete(hist.loss, 3)).all()
    # the same overflow without a scaler is divergence (the control)
    monkeypatch.undo()
    with pytest.raises(TrainingDivergedError, match="at step 3 of 8"):
        fit(LinearEncoder(3, 1), loss_fn, lambda s: (X, y, s), steps=8, lr=0.05, progress=False)


def test_scaler_skipping_forever_is_divergence(monkeypatch):
    from sslbook.train import MAX_SCALER_SKIPS

    _cpu_fp16_scaler(monkeypatch)
    X, y = _regression_problem()
    with pytest.raises(TrainingDivergedError, match=rf"skipped more than {MAX_SCALER_SKIPS} steps in a row"):
        fit(LinearEncoder(3, 1), lambda m, b: _mse(m, b) * float("inf"), lambda s: (X, y),
            steps=MAX_SCALER_SKIPS + 5, progress=False)


def test_package_exports_every_trainer_once():
    """sslbook.train re-exports each objective's trainer (the names chapters use) from one __all__."""
    import importlib

    import sslbook.train as train

    assert len(train.__all__) == len(set(train.__all__))
    for name in train.__all__:
        assert hasattr(train, name), name
    for module, names in {"contrastive": ["train_contrastive"], "views": ["train_views"],
                          "spectral": ["train_spectral", "spectral_batch_losses"],
                          "pretext": ["PretextRegressor", "fit_pretext_regression"],
                          "adversarial": ["probe_r2", "train_adversarial_probe"],
                          "language_model": ["train_lm", "lm_batches"], "loop": ["fit"],
                          "history": ["History", "TrainingDivergedError"]}.items():
        mod = importlib.import_module(f"sslbook.train.{module}")
        for name in names:
            assert getattr(train, name) is getattr(mod, name) and name in train.__all__, name
