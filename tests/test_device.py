"""Tests of sslbook.device.get_device (and, on a GPU, of training there)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sslbook
import sslbook.device
from sslbook.device import cuda_available, get_device, mps_available


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: False)
    monkeypatch.setattr(sslbook.device, "mps_available", lambda: False)


def test_availability_helpers_return_bools():
    assert cuda_available() is bool(torch.cuda.is_available())
    assert isinstance(mps_available(), bool)


@pytest.mark.parametrize("request_", ["auto", None])
def test_auto_on_cpu_only(cpu_only, request_):
    assert get_device(request_) == torch.device("cpu")


def test_default_argument_is_auto(cpu_only):
    assert get_device() == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: True)
    monkeypatch.setattr(sslbook.device, "mps_available", lambda: True)
    assert get_device("auto").type == "cuda"
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: False)
    assert get_device("auto").type == "mps"


@pytest.mark.parametrize("request_", ["cpu", "cpu:0", torch.device("cpu")])
def test_cpu(request_):
    dev = get_device(request_)
    assert isinstance(dev, torch.device)
    assert dev.type == "cpu"


@pytest.mark.parametrize("request_", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_when_unavailable_raises(cpu_only, request_):
    with pytest.raises(ValueError, match="cuda"):
        get_device(request_)


def test_mps_when_unavailable_raises(cpu_only):
    with pytest.raises(ValueError, match="mps"):
        get_device("mps")


def test_cuda_index_is_kept_when_available(monkeypatch):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: True)
    assert get_device("cuda:1") == torch.device("cuda:1")


@pytest.mark.parametrize("bad", ["gpu", "tpu", "", "CPU", "Auto"])
def test_unknown_string_raises(bad):
    with pytest.raises(ValueError, match="device"):
        get_device(bad)


@pytest.mark.parametrize("bad", [0, 1, 1.0, True, ["cpu"]])
def test_non_string_raises_type_error(bad):
    with pytest.raises(TypeError, match="device"):
        get_device(bad)


# ----------------------------------------------------------------------------------------------------
# On a GPU only (auto-skipped by conftest.py without one)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.cuda
def test_auto_is_cuda_on_a_gpu():
    assert get_device("auto").type == "cuda"
    assert get_device(None).type == "cuda"


@pytest.mark.cuda
def test_fit_runs_on_cuda_in_bf16():
    from sslbook.models import LinearEncoder
    from sslbook.train import fit

    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU does not support bf16")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32))[:, None]
    model = LinearEncoder(4, 1)

    def loss_fn(m, batch):
        xb, yb = batch
        return ((m(xb).float() - yb) ** 2).mean()

    hist = fit(model, loss_fn, lambda step: (X, y), steps=20, lr=0.05, amp="bf16", check_every=5, progress=False)
    assert hist.device.startswith("cuda")
    assert hist.precision == "bf16"
    assert len(hist.loss) == 20
    assert np.all(np.isfinite(hist.loss))
    assert next(model.parameters()).device.type == "cuda"
    assert hist.loss[-1] < hist.loss[0]


# ----------------------------------------------------------------------------------------------------
# cpu_threads: the one save/restore of torch's intra-op threads
# ----------------------------------------------------------------------------------------------------


def test_cpu_threads_sets_and_restores():
    from sslbook.device import cpu_threads

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with cpu_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before


def test_cpu_threads_restores_on_exception():
    from sslbook.device import cpu_threads

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="boom"), cpu_threads(target):
        assert torch.get_num_threads() == target
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_cpu_threads_none_leaves_the_setting(monkeypatch):
    from sslbook.device import cpu_threads

    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    with cpu_threads(None):
        pass
    assert calls == []


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_cpu_threads_rejects_bad_counts(bad, exc):
    from sslbook.device import cpu_threads

    before = torch.get_num_threads()
    with pytest.raises(exc, match="n"), cpu_threads(bad):
        pass
    assert torch.get_num_threads() == before


def test_every_module_uses_cpu_threads():
    """torch.set_num_threads is called in one place only (sslbook.device.cpu_threads)."""
    from pathlib import Path

    import sslbook

    root = Path(sslbook.__file__).parent
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "set_num_threads" in p.read_text())
    assert users == ["device.py"], users
