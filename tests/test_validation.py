"""Tests of sslbook._validation: the argument checks every public function relies on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslbook._validation import check_array, check_choice, check_float, check_int, check_rng, check_same_length

# ----------------------------------------------------------------------------------------------------
# check_int
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 5, -3, np.int64(7), np.int32(2), np.uint8(3)])
def test_check_int_accepts_integers(value):
    out = check_int("n", value)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 1.0, 2.5, "3", None, np.float64(2.0), [1]])
def test_check_int_rejects_non_integers(value):
    with pytest.raises(TypeError, match="^count must be an integer"):
        check_int("count", value)


def test_check_int_range():
    assert check_int("n", 3, minimum=3, maximum=3) == 3
    with pytest.raises(ValueError, match=r"^n must be >= 4, got 3"):
        check_int("n", 3, minimum=4)
    with pytest.raises(ValueError, match=r"^n must be <= 2, got 3"):
        check_int("n", 3, maximum=2)


# ----------------------------------------------------------------------------------------------------
# check_float
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1.5, -2, np.float32(0.25), np.float64(3.0), np.int64(4)])
def test_check_float_accepts_reals(value):
    out = check_float("x", value)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [True, "1.0", None, 1j, [1.0], np.array([1.0])])
def test_check_float_rejects_non_reals(value):
    with pytest.raises(TypeError, match="^lr must be a real number"):
        check_float("lr", value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), np.nan])
def test_check_float_rejects_non_finite(value):
    with pytest.raises(ValueError, match="^lr must be finite"):
        check_float("lr", value)


def test_check_float_range():
    assert check_float("x", 0.0, minimum=0.0) == 0.0
    with pytest.raises(ValueError, match=r"^x must be > 0.0"):
        check_float("x", 0.0, minimum=0.0, strict_min=True)
    assert check_float("x", 1e-300, minimum=0.0, strict_min=True) == 1e-300
    with pytest.raises(ValueError, match=r"^x must be >= 1.0"):
        check_float("x", 0.5, minimum=1.0)
    with pytest.raises(ValueError, match=r"^x must be <= 1.0"):
        check_float("x", 1.5, maximum=1.0)
    assert check_float("x", 1.0, maximum=1.0) == 1.0


# ----------------------------------------------------------------------------------------------------
# check_choice
# ----------------------------------------------------------------------------------------------------


def test_check_choice():
    assert check_choice("kind", "ols", ("logistic", "ols")) == "ols"
    assert check_choice("kind", "a", iter(["a", "b"])) == "a"  # any iterable of choices
    with pytest.raises(ValueError, match=r"^kind must be one of \('logistic', 'ols'\), got 'OLS'"):
        check_choice("kind", "OLS", ("logistic", "ols"))
    with pytest.raises(TypeError, match="^kind must be one of"):
        check_choice("kind", 1, ("logistic", "ols"))
    with pytest.raises(TypeError, match="^kind must be one of"):
        check_choice("kind", None, ("logistic", "ols"))


# ----------------------------------------------------------------------------------------------------
# check_array
# ----------------------------------------------------------------------------------------------------


def test_check_array_float_conversion():
    out = check_array("X", [[1, 2], [3, 4]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert check_array("X", np.array([True, False])).dtype == np.float64
    assert check_array("X", np.float32(2.0)).shape == ()  # a scalar with ndim=None


def test_check_array_ndim():
    check_array("X", np.zeros((2, 3)), ndim=2)
    check_array("X", np.zeros(3), ndim=(1, 2))
    with pytest.raises(ValueError, match=r"^X must have ndim in \(2,\), got shape \(3,\)"):
        check_array("X", np.zeros(3), ndim=2)
    with pytest.raises(ValueError, match="^X must have ndim"):
        check_array("X", np.zeros((1, 1, 1)), ndim=(1, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_array_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="^X must be finite"):
        check_array("X", [1.0, bad])
    out = check_array("X", [1.0, bad], finite=False)
    assert not np.all(np.isfinite(out))


def test_check_array_min_rows():
    with pytest.raises(ValueError, match="^X must have at least 1 rows"):
        check_array("X", np.zeros((0, 3)))
    with pytest.raises(ValueError, match="^X must have at least 3 rows"):
        check_array("X", np.zeros((2, 3)), min_rows=3)
    assert check_array("X", np.zeros((0, 3)), min_rows=0).shape == (0, 3)


@pytest.mark.parametrize(
    "bad", [np.array([1, "a"], dtype=object), np.array([None, 1.0]), np.array(["a", "b"]), "abc", b"ab", None]
)
def test_check_array_rejects_non_numeric(bad):
    with pytest.raises(TypeError, match="^X must be"):
        check_array("X", bad)


def test_check_array_rejects_ragged_and_complex():
    with pytest.raises(TypeError, match="^X must be"):
        check_array("X", [[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="^X must be numeric"):
        check_array("X", np.array([1 + 2j]))


def test_check_array_integer_labels():
    out = check_array("labels", [0, 1, 2], dtype="int")
    assert out.dtype == np.int64
    out = check_array("labels", np.array([0.0, 1.0, 2.0]), dtype="int")  # integral floats are accepted
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 1, 2])
    assert check_array("labels", np.array([1, 2], dtype=np.uint8), dtype="int").dtype == np.int64
    with pytest.raises(TypeError, match="^labels must hold integer labels"):
        check_array("labels", [0.0, 1.5], dtype="int")
    with pytest.raises(TypeError, match="^labels must hold integer labels"):
        check_array("labels", [0.0, np.nan], dtype="int")
    with pytest.raises(TypeError, match="^labels must hold integer labels"):
        check_array("labels", np.array([True, False]), dtype="int")
    with pytest.raises(TypeError, match="^labels must hold integer labels"):
        check_array("labels", np.array(["0", "1"]), dtype="int")


def test_check_array_accepts_torch_tensors():
    out = check_array("X", torch.ones(2, 3, requires_grad=True))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (2, 3)
    out = check_array("X", torch.ones(2, 3, dtype=torch.float16))
    assert out.dtype == np.float64
    labels = check_array("labels", torch.tensor([0, 1, 2]), dtype="int")
    assert labels.dtype == np.int64
    with pytest.raises(ValueError, match="^X must be finite"):
        check_array("X", torch.tensor([1.0, float("nan")]))


def test_check_array_accepts_bfloat16_tensor():
    out = check_array("X", torch.ones(2, 3, dtype=torch.bfloat16))
    assert out.dtype == np.float64


def test_check_array_does_not_copy_float64():
    X = np.zeros((3, 2))
    assert check_array("X", X) is X


# ----------------------------------------------------------------------------------------------------
# check_same_length
# ----------------------------------------------------------------------------------------------------


def test_check_same_length():
    check_same_length(("a", "b"), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="^a and b must have the same number of rows, got 3 and 2"):
        check_same_length(("a", "b"), np.zeros(3), np.zeros(2))


# ----------------------------------------------------------------------------------------------------
# check_rng
# ----------------------------------------------------------------------------------------------------


def test_check_rng():
    g = np.random.default_rng(0)
    assert check_rng("rng", g) is g
    a = check_rng("rng", 5).standard_normal(3)
    np.testing.assert_array_equal(a, np.random.default_rng(5).standard_normal(3))
    np.testing.assert_array_equal(check_rng("rng", np.int64(5)).standard_normal(3), a)
    fresh = check_rng("rng", None)
    assert isinstance(fresh, np.random.Generator)
    assert not np.array_equal(fresh.standard_normal(8), check_rng("rng", None).standard_normal(8))


@pytest.mark.parametrize(
    ("value", "exc"),
    [(-1, ValueError), (True, TypeError), (1.0, TypeError), ("0", TypeError), (np.random.RandomState(0), TypeError)],
)
def test_check_rng_rejects(value, exc):
    with pytest.raises(exc, match="^rng"):
        check_rng("rng", value)


# ----------------------------------------------------------------------------------------------------
# check_memory / check_work
# ----------------------------------------------------------------------------------------------------


def test_check_memory_limit_and_override(monkeypatch):
    from sslbook._validation import DEFAULT_MAX_BYTES, check_memory

    monkeypatch.delenv("SSLBOOK_MAX_BYTES", raising=False)
    check_memory("n", DEFAULT_MAX_BYTES)  # at the limit: accepted
    with pytest.raises(ValueError, match=r"^n_samples implies about 4 GiB of memory for the table"):
        check_memory("n_samples", DEFAULT_MAX_BYTES + 1, what="the table")
    with pytest.raises(ValueError, match="^n implies"):
        check_memory("n", float("nan"))
    monkeypatch.setenv("SSLBOOK_MAX_BYTES", "1000")
    check_memory("n", 1000)
    with pytest.raises(ValueError, match="SSLBOOK_MAX_BYTES"):
        check_memory("n", 1001)
    monkeypatch.setenv("SSLBOOK_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="^environment variable SSLBOOK_MAX_BYTES"):
        check_memory("n", 1)


def test_check_work_limit_and_override(monkeypatch):
    from sslbook._validation import DEFAULT_MAX_WORK, check_work

    monkeypatch.delenv("SSLBOOK_MAX_WORK", raising=False)
    check_work("n_draws", DEFAULT_MAX_WORK)
    with pytest.raises(ValueError, match="^n_draws implies about"):
        check_work("n_draws", DEFAULT_MAX_WORK * 2)
    monkeypatch.setenv("SSLBOOK_MAX_WORK", "10")
    with pytest.raises(ValueError, match="SSLBOOK_MAX_WORK"):
        check_work("n_draws", 11)
