"""Tests of sslbook.testing: every verification helper passes on a right value and FAILS on a wrong one.

decisions.md, "Thresholds": every assertion must be able to fail, so each helper is fed a deliberately wrong
value (a wrong constant, a swapped sign) and must raise AssertionError.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sslbook.testing import (
    SEEDS,
    MonteCarloCheck,
    SlopeFit,
    across_seeds,
    assert_bound,
    assert_close_mc,
    assert_slope,
    loglog_slope,
)

# ----------------------------------------------------------------------------------------------------
# assert_bound
# ----------------------------------------------------------------------------------------------------


def test_assert_bound_passes_when_measured_below_bound():
    n = np.array([10, 20, 40, 80])
    measured = 1.0 / n
    assert_bound(measured, 2.0 / n)  # correct constant
    assert_bound(measured, measured)  # equality is allowed
    assert_bound(0.5, [1.0, 2.0])  # broadcasting a scalar
    assert assert_bound(measured, 2.0 / n) is None


def test_assert_bound_fails_on_wrong_constant():
    n = np.array([10, 20, 40, 80])
    measured = 1.0 / n
    wrong_bound = 0.5 / n  # bound computed with a wrong constant
    with pytest.raises(AssertionError, match="violated at 4 of 4"):
        assert_bound(measured, wrong_bound)


def test_assert_bound_fails_on_swapped_sign():
    measured = np.array([0.1, 0.2])
    with pytest.raises(AssertionError):
        assert_bound(measured, -np.array([0.3, 0.3]))


def test_assert_bound_reports_name_and_worst_point():
    measured = np.array([1.0, 5.0, 2.0])
    bound = np.array([2.0, 3.0, 1.9])
    with pytest.raises(AssertionError, match=r"my inequality violated at 2 of 3.*measured 5 > bound 3"):
        assert_bound(measured, bound, name="my inequality")


def test_assert_bound_slack_absorbs_round_off_only():
    assert_bound(1.0 + 1e-13, 1.0, slack=1e-12)
    with pytest.raises(AssertionError):
        assert_bound(1.0 + 1e-13, 1.0)
    with pytest.raises(AssertionError):
        assert_bound(1.0 + 1e-9, 1.0, slack=1e-12)


def test_assert_bound_negative_slack_rejected():
    with pytest.raises(ValueError, match="slack"):
        assert_bound(0.0, 1.0, slack=-1e-12)


@pytest.mark.parametrize(("measured", "bound", "argname"), [([np.nan], [1.0], "measured"), ([0.0], [np.inf], "bound")])
def test_assert_bound_rejects_non_finite(measured, bound, argname):
    with pytest.raises(ValueError, match=argname):
        assert_bound(measured, bound)


def test_assert_bound_rejects_non_broadcastable_shapes():
    with pytest.raises(ValueError, match="measured and bound"):
        assert_bound(np.zeros(3), np.ones(2))


def test_assert_bound_rejects_non_numeric():
    with pytest.raises(TypeError, match="measured"):
        assert_bound("0.1", 1.0)


def test_assert_bound_rejects_empty():
    with pytest.raises(ValueError, match="measured"):
        assert_bound(np.array([]), np.array([]))


# ----------------------------------------------------------------------------------------------------
# assert_close_mc
# ----------------------------------------------------------------------------------------------------


def _normal_samples(target, seed=0, n=10_000):
    return np.random.default_rng(seed).normal(target, 1.0, size=n)


@pytest.mark.parametrize("seed", SEEDS)
def test_assert_close_mc_passes_on_correct_target(seed):
    samples = _normal_samples(2.0, seed)
    res = assert_close_mc(samples, 2.0)
    assert isinstance(res, MonteCarloCheck)
    assert res.n == 10_000
    assert res.stderr == pytest.approx(samples.std(ddof=1) / 100)
    assert res.mean == pytest.approx(samples.mean())
    assert res.z == pytest.approx((res.mean - 2.0) / res.stderr)
    assert abs(res.z) <= 3
    assert "z =" in str(res)


@pytest.mark.parametrize("seed", SEEDS)
def test_assert_close_mc_fails_on_wrong_constant(seed):
    # se = 0.01 and the true mean is 2: a target off by 10 % is 20 standard errors away
    samples = _normal_samples(2.0, seed)
    with pytest.raises(AssertionError, match="standard errors away"):
        assert_close_mc(samples, 2.0 * 1.1)


@pytest.mark.parametrize("seed", SEEDS)
def test_assert_close_mc_fails_on_swapped_sign(seed):
    samples = _normal_samples(2.0, seed)
    with pytest.raises(AssertionError):
        assert_close_mc(samples, -2.0)


def test_assert_close_mc_n_se_is_the_tolerance():
    samples = _normal_samples(0.0, 0)
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    target = samples.mean() - 2.5 * se  # exactly 2.5 standard errors away
    assert_close_mc(samples, target, n_se=3.0)
    with pytest.raises(AssertionError):
        assert_close_mc(samples, target, n_se=2.0)


def test_assert_close_mc_constant_samples():
    assert assert_close_mc(np.full(5, 1.5), 1.5).z == 0.0
    with pytest.raises(AssertionError):
        assert_close_mc(np.full(5, 1.5), 1.6)


def test_assert_close_mc_bad_input():
    with pytest.raises(ValueError, match="samples"):
        assert_close_mc([1.0], 1.0)  # fewer than two samples
    with pytest.raises(ValueError, match="samples"):
        assert_close_mc(np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="samples"):
        assert_close_mc([1.0, np.nan], 1.0)
    with pytest.raises(ValueError, match="target"):
        assert_close_mc([1.0, 2.0], np.nan)
    with pytest.raises(TypeError, match="target"):
        assert_close_mc([1.0, 2.0], "1")
    with pytest.raises(ValueError, match="n_se"):
        assert_close_mc([1.0, 2.0], 1.5, n_se=0.0)


# ----------------------------------------------------------------------------------------------------
# loglog_slope / assert_slope
# ----------------------------------------------------------------------------------------------------


def test_loglog_slope_exact_power_law():
    x = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    fit = loglog_slope(x, 3.0 / x)
    assert isinstance(fit, SlopeFit)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12)
    assert fit.intercept == pytest.approx(math.log(3.0), abs=1e-12)
    assert fit.stderr == pytest.approx(0.0, abs=1e-12)
    assert fit.ci_low == pytest.approx(-1.0, abs=1e-10)
    assert fit.ci_high == pytest.approx(-1.0, abs=1e-10)
    assert fit.confidence == 0.95
    assert "slope -1.000" in str(fit) and "95% CI" in str(fit)


@pytest.mark.parametrize("seed", SEEDS)
def test_loglog_slope_ci_contains_truth_for_noisy_data(seed):
    rng = np.random.default_rng(seed)
    x = np.logspace(1, 3, 12)
    y = 3.0 / x * np.exp(0.1 * rng.standard_normal(x.size))
    fit = loglog_slope(x, y)
    # a 95% interval misses the truth in 5% of draws: check its coverage over 400 draws instead of one draw
    # (binomial s.d. 1.1%, so [0.90, 0.99] is more than 4 s.d. either side of 0.95)
    hits = []
    for _ in range(400):
        f = loglog_slope(x, 3.0 / x * np.exp(0.1 * rng.standard_normal(x.size)))
        hits.append(f.ci_low < -1.0 < f.ci_high)
    cover = float(np.mean(hits))
    assert 0.90 <= cover <= 0.99, cover
    assert fit.ci_low < fit.slope < fit.ci_high
    assert fit.stderr > 0
    # a wider interval at a higher confidence level
    wide = loglog_slope(x, y, confidence=0.99)
    assert wide.ci_low < fit.ci_low and wide.ci_high > fit.ci_high


def test_loglog_slope_ci_coverage_is_about_right():
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        x = np.logspace(1, 3, 8)
        y = 3.0 / x * np.exp(0.2 * rng.standard_normal(x.size))
        fit = loglog_slope(x, y, confidence=0.9)
        hits += fit.ci_low <= -1.0 <= fit.ci_high
    # Binomial(200, 0.9): mean 180, sd 4.2
    assert 165 <= hits <= 195


def test_loglog_slope_two_points_has_infinite_ci():
    fit = loglog_slope([1.0, 2.0], [1.0, 0.5])
    assert fit.slope == pytest.approx(-1.0)
    assert fit.ci_low == -math.inf and fit.ci_high == math.inf
    assert fit.stderr == math.inf


def test_loglog_slope_three_points_has_finite_ci():
    fit = loglog_slope([1.0, 2.0, 4.0], [1.0, 0.5, 0.3])
    assert math.isfinite(fit.ci_low) and math.isfinite(fit.ci_high)


@pytest.mark.parametrize(
    ("x", "y", "argname"),
    [
        ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "positive"),
        ([-1.0, 1.0, 2.0], [1.0, 2.0, 3.0], "positive"),
        ([1.0, 2.0, 3.0], [1.0, 0.0, 3.0], "positive"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "x and y"),
        ([1.0], [1.0], "x"),
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "x"),
        ([[1.0, 2.0]], [1.0], "x"),
        ([1.0, np.nan], [1.0, 2.0], "x"),
    ],
)
def test_loglog_slope_bad_input(x, y, argname):
    with pytest.raises(ValueError, match=argname):
        loglog_slope(x, y)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, np.nan])
def test_loglog_slope_confidence_outside_unit_interval(confidence):
    with pytest.raises(ValueError, match="confidence"):
        loglog_slope([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], confidence=confidence)


def test_assert_slope_passes_and_returns_fit():
    x = np.array([10.0, 20.0, 40.0, 80.0])
    fit = assert_slope(x, 3.0 / x, -1.1, -0.9)
    assert fit.slope == pytest.approx(-1.0)


def test_assert_slope_fails_on_wrong_rate():
    x = np.array([10.0, 20.0, 40.0, 80.0])
    with pytest.raises(AssertionError, match="outside the stated range"):
        assert_slope(x, 3.0 / x**0.5, -1.1, -0.9)  # a 1/sqrt(n) rate is not 1/n
    with pytest.raises(AssertionError):
        assert_slope(x, 3.0 * x, -1.1, -0.9)  # swapped sign of the exponent


def test_assert_slope_bad_range():
    x = np.array([10.0, 20.0, 40.0])
    with pytest.raises(ValueError, match="low"):
        assert_slope(x, 1 / x, -0.9, -1.1)
    with pytest.raises(ValueError, match="high"):
        assert_slope(x, 1 / x, -1.1, np.inf)
    with pytest.raises(TypeError, match="low"):
        assert_slope(x, 1 / x, "a", 0.0)


# ----------------------------------------------------------------------------------------------------
# across_seeds
# ----------------------------------------------------------------------------------------------------


def test_seeds_constant():
    assert SEEDS == tuple(range(10))


def test_across_seeds_returns_results():
    calls = []

    def check(seed):
        calls.append(seed)
        return seed * 10

    assert across_seeds(check) == {s: 10 * s for s in range(10)}
    assert calls == list(SEEDS)
    assert across_seeds(check, seeds=(7, 8)) == {7: 70, 8: 80}
    assert across_seeds(check, seeds=iter([5])) == {5: 50}


def test_across_seeds_aggregates_failures_of_every_seed():
    calls = []

    def check(seed):
        calls.append(seed)
        if seed in (1, 3):
            raise AssertionError(f"boom {seed}")
        return seed

    with pytest.raises(AssertionError) as info:
        across_seeds(check)
    msg = str(info.value)
    assert calls == list(SEEDS)  # it did not stop at the first failure
    assert f"2 of {len(SEEDS)} seeds" in msg
    assert "seed 1: boom 1" in msg and "seed 3: boom 3" in msg
    assert "seed 0" not in msg and "seed 2" not in msg and "seed 4" not in msg


def test_across_seeds_with_a_real_statistical_check():
    def check(seed):
        return assert_close_mc(_normal_samples(1.0, seed, n=2000), 1.0)

    assert set(across_seeds(check)) == set(SEEDS)

    def wrong(seed):
        return assert_close_mc(_normal_samples(1.0, seed, n=2000), 1.2)

    with pytest.raises(AssertionError, match=f"{len(SEEDS)} of {len(SEEDS)} seeds"):
        across_seeds(wrong)


def test_across_seeds_lets_other_errors_through():
    def check(seed):
        raise RuntimeError("not an assertion")

    with pytest.raises(RuntimeError):
        across_seeds(check)


def test_across_seeds_bad_input():
    with pytest.raises(TypeError, match="check"):
        across_seeds(42)
    with pytest.raises(ValueError, match="seeds"):
        across_seeds(lambda s: s, seeds=[])
    with pytest.raises(ValueError, match="seeds"):
        across_seeds(lambda s: s, seeds=[0, -1])
    with pytest.raises(TypeError, match="seeds"):
        across_seeds(lambda s: s, seeds=[0, 1.5])


# ----------------------------------------------------------------------------------------------------
# Verification: pin, hold, reject (issue #15). Each method passes on a right value and fails on a wrong one.
# ----------------------------------------------------------------------------------------------------

from sslbook.testing import VERIFICATION_MIME, Verification, samples_to_separate, verify  # noqa: E402


def _v(**kw):
    return Verification("thm-demo", quiet=True, **kw)


def test_verification_pin_passes_and_fails_on_a_wrong_constant():
    v = _v()
    assert v.pin("sum", sum(range(11)), 10 * 11 / 2) == 0.0
    with pytest.raises(AssertionError, match="thm-demo: sum"):
        v.pin("sum", sum(range(11)), 10 * 9 / 2)  # n(n-1)/2: a wrong formula
    with pytest.raises(AssertionError):
        v.pin("near", 1.0 + 1e-8, 1.0)  # beyond the default 1e-10 relative tolerance
    v.pin("near", 1.0 + 1e-8, 1.0, rtol=1e-7)


def test_verification_pin_mc_and_rejects_mc():
    rng = np.random.default_rng(0)
    s = rng.normal(2.0, 1.0, size=samples_to_separate(0.2, 1.0))  # n with power to tell 2.0 from 2.2
    v = _v()
    v.pin_mc("mean", s, 2.0)
    v.rejects_mc("mean + 0.2", s, 2.2)
    with pytest.raises(AssertionError):
        v.pin_mc("mean", s, 2.2)
    with pytest.raises(AssertionError, match="too few samples"):
        v.rejects_mc("mean", s, 2.0)  # the true target is not rejected


def test_samples_to_separate_formula():
    assert samples_to_separate(0.5, 1.0, n_se=3) == 144  # (2 * 3 * 1 / 0.5)^2
    with pytest.raises(ValueError, match="gap"):
        samples_to_separate(0.0, 1.0)


def test_verification_holds_and_rejects_bound():
    n = np.array([10.0, 20.0, 40.0])
    v = _v()
    v.holds("1/n <= 2/n", 1 / n, 2 / n)
    v.rejects_bound("1/(2n)", 1 / n, 0.5 / n)
    with pytest.raises(AssertionError, match="violated"):
        v.holds("wrong", 1 / n, 0.5 / n)
    with pytest.raises(AssertionError, match="also holds"):
        v.rejects_bound("3/n", 1 / n, 3 / n)  # a weaker bound is not rejected


def test_verification_rejects_value_and_generic():
    v = _v()
    v.rejects_value("2x", 2.0, 1.0)
    with pytest.raises(AssertionError, match="cannot tell"):
        v.rejects_value("x", 1.0 + 1e-12, 1.0)
    v.rejects("strict", lambda: assert_bound(1.0, 0.5))
    with pytest.raises(AssertionError, match="no teeth"):
        v.rejects("loose", lambda: assert_bound(0.5, 1.0))
    with pytest.raises(TypeError):
        v.rejects("x", 3)
    with pytest.raises(TypeError):
        v.check("c", 1)
    with pytest.raises(AssertionError, match="c fails"):
        v.check("c", False)


def test_verification_done_needs_a_check_and_a_rejection_or_a_reason():
    with pytest.raises(AssertionError, match="no check"):
        _v().done()
    v = _v()
    v.pin("x", 1.0, 1.0)
    with pytest.raises(AssertionError, match="no false variant"):
        v.done()
    w = _v(no_variants="an existence claim")
    w.check("exists", True)
    rec = w.done()
    assert rec["label"] == "thm-demo" and rec["rejects"] == [] and rec["no_variants"] == "an existence claim"
    with pytest.raises(ValueError, match="label"):
        Verification("")
    with pytest.raises(ValueError, match="no_variants"):
        Verification("x", no_variants="  ")


def test_verify_context_manager_records_and_prints(capsys):
    with verify("thm-demo") as v:
        v.pin("x", 2.0, 2.0)
        v.rejects_value("x + 1", 3.0, 2.0)
    out = capsys.readouterr().out
    assert "thm-demo" in out and "x + 1" in out
    assert v.record()["rejects"][0]["name"] == "x + 1"
    assert VERIFICATION_MIME.startswith("application/")
    # an assertion inside the block propagates and no record is shown
    with pytest.raises(AssertionError):
        with verify("thm-demo") as v:
            v.pin("x", 2.0, 3.0)
    assert "thm-demo" not in capsys.readouterr().out


def test_verification_shape_errors_name_both_arguments():
    """pin / rejects_value / rejects_bound broadcast their two arrays; a mismatch names both (issue #16)."""
    v = verify("thm-shapes")
    with pytest.raises(ValueError, match=r"^value and reference must have broadcastable shapes, got \(2,\) and \(3,\)"):
        v.pin("x", np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="^variant and reference must have broadcastable shapes"):
        v.rejects_value("x", np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="^measured and variant_bound must have broadcastable shapes"):
        v.rejects_bound("x", np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="^measured and bound must have broadcastable shapes"):
        assert_bound(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="^samples must have at least 2 rows"):
        v.rejects_mc("x", np.zeros(1), 0.0)
    v.pin("x", np.ones(3), 1.0)  # broadcasting a scalar reference is valid
    v.rejects("y", lambda: v.pin("y", 1.0, 2.0))
    v.done()
