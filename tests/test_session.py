"""Tests of sslbook.setup: seeding, the report it prints, and its Session."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import sslbook
from sslbook import Session, setup
from sslbook.session import seed_everything

pytestmark = pytest.mark.usefixtures("restore_rcparams")


def _draws():
    return (
        np.random.rand(5),  # noqa: NPY002 -- the legacy global state is what setup seeds
        torch.rand(5).numpy(),
        [random.random() for _ in range(5)],
    )


def test_setup_returns_session():
    ctx = setup(seed=3, quiet=True)
    assert isinstance(ctx, Session)
    assert ctx.seed == 3
    assert ctx.mode in ("fast", "full")
    assert ctx.mode == sslbook.config.mode()
    assert ctx.fast is (ctx.mode == "fast")
    assert isinstance(ctx.device, torch.device)
    assert ctx.device == sslbook.get_device("auto")
    assert isinstance(ctx.rng, np.random.Generator)


def test_session_mode_follows_env(monkeypatch):
    monkeypatch.setenv("SSLBOOK_FAST", "0")
    ctx = setup(seed=0, quiet=True)
    assert ctx.mode == "full" and not ctx.fast
    monkeypatch.setenv("SSLBOOK_FAST", "1")
    ctx = setup(seed=0, quiet=True)
    assert ctx.mode == "fast" and ctx.fast


def test_setup_is_reproducible():
    ctx1 = setup(seed=5, quiet=True)
    a = _draws()
    r1 = ctx1.rng.standard_normal(5)
    ctx2 = setup(seed=5, quiet=True)
    b = _draws()
    r2 = ctx2.rng.standard_normal(5)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(r1, np.random.default_rng(5).standard_normal(5))


def test_different_seeds_give_different_draws():
    setup(seed=5, quiet=True)
    a = _draws()
    setup(seed=6, quiet=True)
    b = _draws()
    for u, v in zip(a, b, strict=True):
        assert not np.array_equal(u, v)


def test_seed_everything_matches_setup():
    seed_everything(11)
    a = _draws()
    setup(seed=11, quiet=True)
    b = _draws()
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


def test_seed_from_env_when_seed_is_none(monkeypatch):
    monkeypatch.setenv("SSLBOOK_SEED", "17")
    ctx = setup(quiet=True)
    assert ctx.seed == 17
    monkeypatch.delenv("SSLBOOK_SEED")
    assert setup(quiet=True).seed == 0


def test_explicit_seed_wins_over_env(monkeypatch):
    monkeypatch.setenv("SSLBOOK_SEED", "17")
    assert setup(seed=2, quiet=True).seed == 2


def test_bad_env_seed_raises(monkeypatch):
    monkeypatch.setenv("SSLBOOK_SEED", "-4")
    with pytest.raises(ValueError, match="SSLBOOK_SEED"):
        setup(quiet=True)


def test_report_names_device_mode_and_seed(capsys):
    ctx = setup(seed=4)
    out = capsys.readouterr().out
    assert f"device: {ctx.device}" in out
    assert f"mode: {ctx.mode}" in out
    assert "seed: 4" in out
    assert sslbook.__version__ in out


def test_report_hints_on_cpu(monkeypatch, capsys):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: False)
    monkeypatch.setattr(sslbook.device, "mps_available", lambda: False)
    monkeypatch.setenv("SSLBOOK_FAST", "0")
    setup(seed=0)
    assert "SSLBOOK_FAST=1" in capsys.readouterr().out
    monkeypatch.setenv("SSLBOOK_FAST", "1")
    setup(seed=0)
    assert "SSLBOOK_FAST=0" in capsys.readouterr().out


def test_quiet_prints_nothing(capsys):
    setup(seed=4, quiet=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_setup_applies_house_style():
    import matplotlib as mpl

    mpl.rcParams["axes.grid"] = False
    setup(seed=0, quiet=True)
    assert mpl.rcParams["axes.grid"] is True


def test_session_is_frozen():
    ctx = setup(seed=1, quiet=True)
    with pytest.raises(AttributeError):
        ctx.seed = 2  # type: ignore[misc]


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_out_of_range_seed_raises_value_error(bad):
    with pytest.raises(ValueError, match="seed"):
        setup(seed=bad, quiet=True)


@pytest.mark.parametrize("bad", [1.5, "3", True, 3.0])
def test_non_int_seed_raises_type_error(bad):
    with pytest.raises(TypeError, match="seed"):
        setup(seed=bad, quiet=True)


def test_numpy_int_seed_accepted():
    assert setup(seed=np.int64(8), quiet=True).seed == 8


@pytest.mark.parametrize(("bad", "exc"), [(-1, ValueError), (1.5, TypeError)])
def test_seed_everything_validates(bad, exc):
    with pytest.raises(exc, match="seed"):
        seed_everything(bad)
