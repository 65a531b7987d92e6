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


# ----------------------------------------------------------------------------------------------------
# Shape / bind_shapes / check_shapes (sslbook._shapes)
# ----------------------------------------------------------------------------------------------------

from sslbook._shapes import Shape, bind_shapes, check_shapes, declared_shapes  # noqa: E402


def test_shape_parses_tokens():
    assert Shape("n d").tokens == ("n", "d") == Shape("(n, d)").tokens == Shape("n,d").tokens
    assert (Shape("n d").min_ndim, Shape("n d").max_ndim) == (2, 2)
    assert (Shape("[S] V").min_ndim, Shape("[S] V").max_ndim) == (1, 2)
    assert (Shape("n ...").min_ndim, Shape("n ...").max_ndim) == (1, None)
    assert (Shape("").min_ndim, Shape("").max_ndim) == (0, 0)
    assert Shape("[S] V 3 *").symbols == ("S", "V")
    assert Shape("n d").describe() == "(n, d)" and Shape("k").describe() == "(k,)"
    assert Shape("[S] V").axis_tokens(1) == ["V"] and Shape("[S] V").axis_tokens(2) == ["S", "V"]
    assert Shape("n ... d").axis_tokens(4) == ["n", "*", "*", "d"]
    with pytest.raises(ValueError, match="do not fit"):
        Shape("n d").axis_tokens(3)


@pytest.mark.parametrize("dims", ["n d!", "n [S]", "... ...", "[S] ...", "n-1"])
def test_shape_rejects_bad_declarations(dims):
    with pytest.raises(ValueError, match="Shape dims"):
        Shape(dims)


def test_shape_rejects_bad_options():
    with pytest.raises(TypeError, match="Shape dims must be a string"):
        Shape(2)
    with pytest.raises(ValueError, match="dtype"):
        Shape("n", dtype="complex")
    with pytest.raises(ValueError, match="simplex"):
        Shape("n", dtype="int", simplex=True)


def test_bind_shapes_converts_and_binds():
    out = bind_shapes({"X": ([[1, 2, 3], [4, 5, 6]], "n d"), "y": ([0, 1], Shape("n", dtype="int")),
                       "b": (None, Shape("d", optional=True))})
    assert out["X"].dtype == np.float64 and out["y"].dtype == np.int64 and out["b"] is None
    assert out.dims == {"n": 2, "d": 3}
    X = np.zeros((2, 3))
    assert bind_shapes({"X": (X, "n d")})["X"] is X  # no copy of float64 input


def test_bind_shapes_mismatch_names_both_arguments_symbol_and_sizes():
    with pytest.raises(ValueError, match=r"^X and y disagree on n: X has n = 2 \(shape \(2, 3\)\), "
                                         r"y has n = 3 \(shape \(3,\)\)$"):
        bind_shapes({"X": (np.zeros((2, 3)), "n d"), "y": (np.zeros(3), "n")})
    with pytest.raises(ValueError, match=r"^W and p disagree on k"):
        bind_shapes({"W": (np.zeros((3, 4)), "d k"), "p": (np.full(5, 0.2), Shape("k", simplex=True))})


def test_bind_shapes_given_dims_literals_and_repeated_symbols():
    with pytest.raises(ValueError, match=r"^theta has V = 3 \(shape \(2, 3\)\), expected V = 4$"):
        bind_shapes({"theta": (np.zeros((2, 3)), "[S] V")}, dims={"V": 4})
    assert bind_shapes({"theta": (np.zeros(4), "[S] V")}, dims={"V": 4}).dims == {"V": 4}
    with pytest.raises(ValueError, match=r"^x must have shape \(n, 2\): size 2 on axis 1, got shape \(3, 3\)"):
        bind_shapes({"x": (np.zeros((3, 3)), "n 2")})
    with pytest.raises(ValueError, match=r"^A must have equal sizes on the axes named m, got shape \(2, 3\)"):
        bind_shapes({"A": (np.zeros((2, 3)), "m m")})
    assert bind_shapes({"A": (np.zeros((3, 3)), "m m")}).dims == {"m": 3}
    assert bind_shapes({"x": (np.zeros((2, 5, 7)), "n ..."), "y": (np.zeros(2), "n")}).dims == {"n": 2}


@pytest.mark.parametrize(("value", "message"), [
    (np.zeros(3), r"^X must have shape \(n, d\) \(2 dimensions\), got shape \(3,\)"),
    (np.zeros((1, 1, 1)), r"^X must have shape \(n, d\) \(2 dimensions\)"),
    (np.zeros((0, 2)), "^X must have at least 1 rows"),
    (np.array([[1.0, np.nan]]), "^X must be finite"),
])
def test_bind_shapes_rejects_rank_emptiness_and_nan(value, message):
    with pytest.raises(ValueError, match=message):
        bind_shapes({"X": (value, "n d")})
    with pytest.raises(ValueError, match=r"^t must have shape \(\[S\], V\) \(1 to 2 dimensions\), got shape \(\)"):
        bind_shapes({"t": (np.float64(1.0), "[S] V")})
    with pytest.raises(ValueError, match=r"\(1 or more dimensions\)"):
        bind_shapes({"t": (np.float64(1.0), "n ...")})


def test_bind_shapes_type_errors_name_the_argument():
    with pytest.raises(TypeError, match="^X must be an array"):
        bind_shapes({"X": (None, "n d")})
    with pytest.raises(TypeError, match="^y must hold integer labels"):
        bind_shapes({"y": ([0.5, 1.0], Shape("n", dtype="int"))})
    with pytest.raises(TypeError, match="^X must be numeric"):
        bind_shapes({"X": (np.array([1j]), "n")})
    with pytest.raises(TypeError, match="the shape of X must be a string or a Shape"):
        bind_shapes({"X": (np.zeros(2), 2)})


def test_simplex_rows_columns_and_tables():
    rows = np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0]])
    bind_shapes({"P": (rows, Shape("s v", simplex=True))})
    bind_shapes({"B": (rows.T, Shape("v s", simplex=True, axis=0))})  # columns sum to one
    bind_shapes({"J": (np.full((2, 3), 1 / 6), Shape("a b", simplex=True, axis=None))})
    with pytest.raises(ValueError, match="^P must be non-negative and sum to 1 on its last axis"):
        bind_shapes({"P": (rows * 1.5, Shape("s v", simplex=True))})
    with pytest.raises(ValueError, match="^B must be non-negative and sum to 1 on axis 0"):
        bind_shapes({"B": (rows, Shape("v s", simplex=True, axis=0))})  # rows, not columns, sum to one
    negative = np.array([1.5, -0.5])  # sums to one, one negative entry
    with pytest.raises(ValueError, match=r"^p must be non-negative.*min entry -0.5"):
        bind_shapes({"p": (negative, Shape("k", simplex=True))})
    with pytest.raises(ValueError, match="^J must be non-negative and sum to 1 in total"):
        bind_shapes({"J": (np.full((2, 3), 1 / 5), Shape("a b", simplex=True, axis=None))})
    with pytest.raises(ValueError, match="^p must hold probability vectors"):
        bind_shapes({"p": (np.zeros((2, 0)), Shape("s k", simplex=True))})
    bind_shapes({"p": (np.array([0.5, 0.5 + 1e-10]), Shape("k", simplex=True))})  # within atol
    with pytest.raises(ValueError, match="sum to 1"):
        bind_shapes({"p": (np.array([0.5, 0.5 + 1e-10]), Shape("k", simplex=True, atol=1e-12))})


def test_check_shapes_decorates_functions():
    @check_shapes(X="n d", y=Shape("n", dtype="int"), W="d k", b=Shape("k", optional=True))
    def f(X, y, W, *, b=None):
        """Doc."""
        return X, y, W, b

    X, y, W, b = f([[1, 2]], [1], W=np.ones((2, 3)))
    assert X.dtype == np.float64 and y.dtype == np.int64 and b is None
    assert f.__doc__ == "Doc." and f.__name__ == "f"
    assert f(X, y, W, b=np.ones(3))[3].shape == (3,)
    assert set(declared_shapes(f)) == {"X", "y", "W", "b"} and declared_shapes(f)["y"].dtype == "int"
    with pytest.raises(ValueError, match="^W and b disagree on k"):
        f(X, y, W, b=np.ones(2))
    with pytest.raises(ValueError, match="^X and W disagree on d"):
        f(X, y, np.ones((3, 3)))
    with pytest.raises(TypeError):  # a wrong call is still a wrong call
        f(X)
    assert declared_shapes(len) is None


def test_check_shapes_rejects_bad_declarations():
    with pytest.raises(TypeError, match=r"\['Z'\] are not parameters"):
        check_shapes(Z="n")(lambda X: X)
    with pytest.raises(TypeError, match="b defaults to None; declare Shape"):
        check_shapes(b="n")(lambda b=None: b)


def test_check_shapes_decorates_classes_and_dataclasses():
    import dataclasses

    @check_shapes(means="k d", weights=Shape("k", simplex=True))
    class Mixture:
        def __init__(self, means, weights):
            self.means, self.weights = means, weights

    m = Mixture([[0, 1], [2, 3]], [0.5, 0.5])
    assert m.means.dtype == np.float64 and set(declared_shapes(Mixture)) == {"means", "weights"}
    with pytest.raises(ValueError, match="^means and weights disagree on k"):
        Mixture(np.zeros((2, 2)), np.full(3, 1 / 3))

    seen = []

    @check_shapes(joint=Shape("a b", simplex=True, axis=None), labels=Shape("a", dtype="int", optional=True))
    @dataclasses.dataclass(frozen=True)
    class Table:
        joint: np.ndarray
        labels: np.ndarray | None = None

        def __post_init__(self):
            seen.append(type(self.joint))

    t = Table([[0.25, 0.25], [0.25, 0.25]])
    assert isinstance(t.joint, np.ndarray) and t.labels is None and seen == [np.ndarray]
    assert Table(t.joint, [0, 1]).labels.dtype == np.int64
    with pytest.raises(ValueError, match="^joint must be non-negative"):
        Table(np.ones((2, 2)))
    with pytest.raises(ValueError, match="^joint and labels disagree on a"):
        Table(t.joint, [0, 1, 1])
