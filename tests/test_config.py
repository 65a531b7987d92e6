"""Tests of sslbook.config: fast/full mode, sizes, progress bars, the seed from the environment."""

from __future__ import annotations

import pytest

import sslbook.device
from sslbook import config


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: False)


@pytest.fixture
def with_cuda(monkeypatch):
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: True)


# ----------------------------------------------------------------------------------------------------
# fast_mode / mode
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_fast_mode_true_values(monkeypatch, with_cuda, raw):
    monkeypatch.setenv("SSLBOOK_FAST", raw)
    assert config.fast_mode() is True
    assert config.mode() == "fast"


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", " OFF "])
def test_fast_mode_false_values(monkeypatch, no_cuda, raw):
    # SSLBOOK_FAST wins over CI and over the device
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SSLBOOK_FAST", raw)
    assert config.fast_mode() is False
    assert config.mode() == "full"


@pytest.mark.parametrize("raw", ["2", "maybe", "fast", "-1", "yes please"])
def test_fast_mode_garbage_raises(monkeypatch, raw):
    monkeypatch.setenv("SSLBOOK_FAST", raw)
    with pytest.raises(ValueError, match="SSLBOOK_FAST"):
        config.fast_mode()
    with pytest.raises(ValueError, match="SSLBOOK_FAST"):
        config.mode()


def test_fast_mode_unset_under_ci_is_fast_even_with_cuda(monkeypatch, with_cuda):
    monkeypatch.setenv("CI", "true")
    assert config.fast_mode() is True


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_fast_mode_unset_no_ci_follows_the_device(monkeypatch, empty):
    if empty is not None:
        monkeypatch.setenv("SSLBOOK_FAST", empty)
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: False)
    assert config.fast_mode() is True
    assert config.mode() == "fast"
    monkeypatch.setattr(sslbook.device, "cuda_available", lambda: True)
    assert config.fast_mode() is False
    assert config.mode() == "full"


def test_fast_mode_unset_on_this_cpu_machine():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert config.fast_mode() is True


def test_fast_mode_is_read_at_each_call(monkeypatch):
    monkeypatch.setenv("SSLBOOK_FAST", "1")
    assert config.mode() == "fast"
    monkeypatch.setenv("SSLBOOK_FAST", "0")
    assert config.mode() == "full"


# ----------------------------------------------------------------------------------------------------
# size
# ----------------------------------------------------------------------------------------------------


def test_sizes_registry_is_well_formed():
    assert config.SIZES
    for name, entry in config.SIZES.items():
        chapter, _, what = name.partition(".")
        assert chapter and what and chapter.replace("_", "").isalnum(), name  # "<chapter>.<what>"
        assert isinstance(entry, config.Size)
        assert isinstance(entry.doc, str) and entry.doc
        assert entry.fast > 0 and entry.full > 0
        assert entry.fast <= entry.full, name


@pytest.mark.parametrize("name", sorted(config.SIZES))
def test_size_in_both_modes(monkeypatch, name):
    entry = config.SIZES[name]
    monkeypatch.setenv("SSLBOOK_FAST", "1")
    assert config.size(name) == entry.fast
    monkeypatch.setenv("SSLBOOK_FAST", "0")
    assert config.size(name) == entry.full


def test_size_is_frozen():
    entry = next(iter(config.SIZES.values()))
    with pytest.raises(AttributeError):
        entry.fast = 1  # type: ignore[misc]


@pytest.mark.parametrize("bad", [None, 1, ("ch01.ols_trials",), b"ch01.ols_trials"])
def test_size_non_str_name_raises_type_error(bad):
    with pytest.raises(TypeError, match="name"):
        config.size(bad)


@pytest.mark.parametrize("bad", ["", "ch01", "ch01.nope", "CH01.OLS_TRIALS", "ch01.ols_trials "])
def test_size_unknown_name_raises_value_error(bad):
    with pytest.raises(ValueError, match="name"):
        config.size(bad)


# ----------------------------------------------------------------------------------------------------
# progress_enabled
# ----------------------------------------------------------------------------------------------------


def test_progress_default_on_without_ci():
    assert config.progress_enabled() is True


def test_progress_default_off_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert config.progress_enabled() is False


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("on", True), ("0", False), ("no", False)])
def test_progress_env_wins_over_ci(monkeypatch, raw, expected):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SSLBOOK_PROGRESS", raw)
    assert config.progress_enabled() is expected


def test_progress_garbage_raises(monkeypatch):
    monkeypatch.setenv("SSLBOOK_PROGRESS", "sometimes")
    with pytest.raises(ValueError, match="SSLBOOK_PROGRESS"):
        config.progress_enabled()


# ----------------------------------------------------------------------------------------------------
# seed_from_env
# ----------------------------------------------------------------------------------------------------


def test_seed_default():
    assert config.seed_from_env() == 0
    assert config.seed_from_env(default=7) == 7


def test_seed_empty_means_default(monkeypatch):
    monkeypatch.setenv("SSLBOOK_SEED", " ")
    assert config.seed_from_env(default=3) == 3


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("5", 5), (" 42 ", 42), ("4294967295", 2**32 - 1)])
def test_seed_valid(monkeypatch, raw, expected):
    monkeypatch.setenv("SSLBOOK_SEED", raw)
    assert config.seed_from_env(default=9) == expected


@pytest.mark.parametrize("raw", ["-1", "-100"])
def test_seed_negative_raises(monkeypatch, raw):
    monkeypatch.setenv("SSLBOOK_SEED", raw)
    with pytest.raises(ValueError, match="SSLBOOK_SEED"):
        config.seed_from_env()


@pytest.mark.parametrize("raw", ["1.5", "abc", "3.0", "0x10", "1e3"])
def test_seed_non_int_raises(monkeypatch, raw):
    monkeypatch.setenv("SSLBOOK_SEED", raw)
    with pytest.raises(ValueError, match="SSLBOOK_SEED"):
        config.seed_from_env()
