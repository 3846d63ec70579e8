"""The interval estimators, each proved on a worked example with the arithmetic written out."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from data_access.metrics.stats import (
    Z95,
    actuarial_survival,
    newcombe_difference,
    odds_ratio,
    poisson_count,
    ratio_of_proportions,
    wilson,
)


def _eval(interval, **columns) -> pl.DataFrame:
    frame = pl.DataFrame(columns)
    return frame.select(
        interval.estimate.alias("est"), interval.low.alias("lo"), interval.high.alias("hi")
    )


def _cells(a, n1, b, n0):
    return dict(a=a, n1=n1, b=b, n0=n0)


A, N1, B, N0 = pl.col("a"), pl.col("n1"), pl.col("b"), pl.col("n0")


def test_wilson_matches_newcombes_published_examples():
    """Newcombe (1998) Table I, method 3 (score, no continuity correction):
    81/263 -> 0.2553-0.3662; 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611; 1/29 -> 0.0061-0.1718.

    By hand for 81/263: p = 0.30798, z² = 3.8415, 1 + z²/n = 1.014606,
    centre = (0.30798 + 3.8415/526)/1.014606 = 0.31075,
    half = 1.96·sqrt(0.30798·0.69202/263 + 3.8415/(4·263²))/1.014606 = 0.05546,
    so 0.2553 to 0.3662.
    """
    out = _eval(wilson(pl.col("x"), pl.col("n")), x=[81, 15, 0, 1], n=[263, 148, 20, 29]).to_dicts()
    expected = [(0.2553, 0.3662), (0.0624, 0.1605), (0.0, 0.1611), (0.0061, 0.1718)]
    for row, (lo, hi) in zip(out, expected, strict=True):
        assert row["lo"] == pytest.approx(lo, abs=5e-5)
        assert row["hi"] == pytest.approx(hi, abs=5e-5)


def test_wilson_agrees_with_scipy_on_a_grid():
    xs, ns = [], []
    for n in (1, 7, 30, 250):
        for x in sorted({0, 1, n // 3, n - 1, n}):
            xs.append(x)
            ns.append(n)
    out = _eval(wilson(pl.col("x"), pl.col("n")), x=xs, n=ns)
    for x, n, lo, hi in zip(xs, ns, out["lo"], out["hi"], strict=True):
        ci = stats.binomtest(x, n).proportion_ci(method="wilson")
        assert lo == pytest.approx(ci.low, abs=1e-12)
        assert hi == pytest.approx(ci.high, abs=1e-12)


def test_wilson_is_null_for_a_zero_denominator():
    out = _eval(wilson(pl.col("x"), pl.col("n")), x=[0], n=[0]).row(0)
    assert out == (None, None, None)


def test_newcombe_difference_matches_published_example():
    """Newcombe (1998b) example: 56/70 vs 48/80, RD = 0.8 − 0.6 = 0.2, method 10 gives 0.0524 to
    0.3339. Wilson limits: 56/70 -> (0.69183, 0.87695); 48/80 -> (0.49045, 0.70038).
    low  = 0.2 − sqrt((0.8 − 0.69183)² + (0.70038 − 0.6)²) = 0.2 − 0.14757 = 0.05243
    high = 0.2 + sqrt((0.87695 − 0.8)² + (0.6 − 0.49045)²) = 0.2 + 0.13387 = 0.33387
    """
    est, lo, hi = _eval(newcombe_difference(A, N1, B, N0), **_cells([56], [70], [48], [80])).row(0)
    assert est == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=5e-5)
    assert hi == pytest.approx(0.3339, abs=5e-5)


def test_risk_ratio_katz_worked_example():
    """a = 20 of 100, b = 40 of 100: RR = 0.2/0.4 = 0.5.
    SE = sqrt(1/20 − 1/100 + 1/40 − 1/100) = sqrt(0.055) = 0.234521,
    CI = 0.5·exp(∓1.96·0.234521) = 0.5·exp(∓0.459652) = 0.3158 to 0.7918.
    """
    est, lo, hi = _eval(ratio_of_proportions(A, N1, B, N0), **_cells([20], [100], [40], [100])).row(
        0
    )
    assert est == pytest.approx(0.5)
    assert lo == pytest.approx(0.5 * math.exp(-Z95 * math.sqrt(0.055)))
    assert (round(lo, 4), round(hi, 4)) == (0.3158, 0.7918)


def test_rri_reference_worked_example():
    """Reference B.1: a = 60 of 200, b = 30 of 200 -> RRI = 0.30/0.15 = 2.00.
    SE = sqrt(1/60 − 1/200 + 1/30 − 1/200) = sqrt(0.04) = 0.2; CI = 2·exp(∓0.392) = 1.35 to 2.96.
    """
    est, lo, hi = _eval(ratio_of_proportions(A, N1, B, N0), **_cells([60], [200], [30], [200])).row(
        0
    )
    assert (round(est, 2), round(lo, 2), round(hi, 2)) == (2.00, 1.35, 2.96)


def test_odds_ratio_woolf_worked_example():
    """a = 20 of 100 (c = 80), b = 40 of 100 (d = 60): OR = (20·60)/(40·80) = 1200/3200 = 0.375.
    SE = sqrt(1/20 + 1/40 + 1/80 + 1/60) = sqrt(0.1041667) = 0.322749,
    CI = 0.375·exp(∓1.96·0.322749) = 0.375·exp(∓0.632576) = 0.1992 to 0.7059.
    """
    interval = odds_ratio(A, N1, B, N0)
    frame = pl.DataFrame(_cells([20], [100], [40], [100]))
    est, lo, hi, corrected = frame.select(
        interval.estimate.alias("est"),
        interval.low.alias("lo"),
        interval.high.alias("hi"),
        interval.corrected.alias("corrected"),
    ).row(0)
    assert est == pytest.approx(0.375)
    assert (round(lo, 4), round(hi, 4)) == (0.1992, 0.7059)
    assert corrected is False


def test_odds_ratio_adds_half_when_a_cell_is_zero():
    """a = 0 of 50 (c = 50), b = 10 of 50 (d = 40): every cell + 0.5 ->
    OR = (0.5·40.5)/(10.5·50.5) = 20.25/530.25 = 0.03819,
    SE = sqrt(1/0.5 + 1/10.5 + 1/50.5 + 1/40.5) = sqrt(2.13964) = 1.46278,
    CI = 0.03819·exp(∓2.86700) = 0.00217 to 0.6715.
    """
    interval = odds_ratio(A, N1, B, N0)
    frame = pl.DataFrame(_cells([0], [50], [10], [50]))
    est, lo, hi, corrected = frame.select(
        interval.estimate.alias("est"),
        interval.low.alias("lo"),
        interval.high.alias("hi"),
        interval.corrected.alias("corrected"),
    ).row(0)
    assert est == pytest.approx(20.25 / 530.25)
    assert lo == pytest.approx(0.0021718, rel=1e-4)
    assert hi == pytest.approx(0.67153, rel=1e-4)
    assert corrected is True


def test_ratios_are_null_when_neither_group_has_an_event_or_a_group_is_empty():
    frame = pl.DataFrame(_cells([0, 5, 50], [40, 0, 50], [0, 5, 50], [40, 10, 50]))
    rr = frame.select(ratio_of_proportions(A, N1, B, N0).estimate.alias("rr"))["rr"].to_list()
    or_ = frame.select(odds_ratio(A, N1, B, N0).estimate.alias("or"))["or"].to_list()
    assert rr == [None, None, 1.0]
    # All events in both groups: the odds are infinite on both sides.
    assert or_ == [None, None, None]


def test_byar_poisson_interval_is_close_to_exact_limits():
    """Byar for d = 10: low = 10·(1 − 1/90 − 1.96/(3·√10))³ = 10·0.782291³ = 4.787;
    high = 11·(1 − 1/99 + 1.96/(3·√11))³ = 11·1.186890³ = 18.391.
    The exact (Garwood, chi-square) limits are 4.795 and 18.390."""
    ds = [0, 1, 5, 10, 50]
    out = _eval(poisson_count(pl.col("d")), d=ds)
    assert out.row(3)[1] == pytest.approx(4.787, abs=1e-3)
    assert out.row(3)[2] == pytest.approx(18.391, abs=1e-3)
    for d, lo, hi in zip(ds, out["lo"], out["hi"], strict=True):
        exact_lo = 0.0 if d == 0 else stats.chi2.ppf(0.025, 2 * d) / 2
        exact_hi = stats.chi2.ppf(0.975, 2 * d + 2) / 2
        assert lo == pytest.approx(exact_lo, abs=0.02 * max(exact_lo, 1))
        assert hi == pytest.approx(exact_hi, rel=0.01)


def test_life_table_by_hand():
    """Two intervals. (0,6]: N = 150, D = 30, C = 0 -> n' = 150, q = 0.2, S = 0.8.
    (6,12]: N = 120, D = 10, C = 40 -> n' = 120 − 40/2 = 100, q = 0.1, S = 0.8·0.9 = 0.72.
    Greenwood sums: 30/(150·120) = 0.0016667; + 10/(100·90) = 0.0027778.
    At 6: σ = sqrt(0.0016667)/|ln 0.8| = 0.040825/0.223144 = 0.182953,
    band S^exp(±1.96σ) = 0.8^1.43127 = 0.72660 and 0.8^(1/1.43127) = 0.85564.
    """
    intervals = pl.DataFrame(
        {"t": [6, 12], "at_risk": [150, 120], "events": [30, 10], "censored": [0, 40]}
    )
    out = actuarial_survival(intervals, [], "t")
    assert out["effective_at_risk"].to_list() == [150.0, 100.0]
    assert out["survival"].to_list() == pytest.approx([0.8, 0.72])
    sigma6 = math.sqrt(30 / (150 * 120)) / abs(math.log(0.8))
    assert out["survival_low"][0] == pytest.approx(0.8 ** math.exp(Z95 * sigma6))
    assert out["survival_low"][0] == pytest.approx(0.72660, abs=1e-5)
    assert out["survival_high"][0] == pytest.approx(0.85564, abs=1e-5)
    sigma12 = math.sqrt(30 / (150 * 120) + 10 / (100 * 90)) / abs(math.log(0.72))
    assert out["survival_high"][1] == pytest.approx(0.72 ** math.exp(-Z95 * sigma12))


def test_life_table_band_is_null_before_any_event_and_after_everyone_had_one():
    intervals = pl.DataFrame(
        {"t": [1, 2, 3], "at_risk": [40, 40, 0], "events": [0, 40, 0], "censored": [0, 0, 0]}
    )
    out = actuarial_survival(intervals, [], "t")
    assert out["survival"].to_list()[:2] == [1.0, 0.0]
    assert out["survival_low"].to_list() == [None, None, None]


counts = st.integers(min_value=0, max_value=5000)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=40))
def test_wilson_interval_contains_the_estimate_and_stays_in_0_1(pairs):
    x = [min(a, b) for a, b in pairs]
    n = [max(a, b) for a, b in pairs]
    out = _eval(wilson(pl.col("x"), pl.col("n")), x=x, n=n).drop_nulls()
    assert (out["lo"] >= 0).all() and (out["hi"] <= 1).all()
    assert ((out["lo"] <= out["est"] + 1e-12) & (out["est"] <= out["hi"] + 1e-12)).all()


two_groups = st.tuples(counts, st.integers(1, 5000), counts, st.integers(1, 5000)).map(
    lambda t: (min(t[0], t[1]), t[1], min(t[2], t[3]), t[3])
)


@settings(max_examples=120, deadline=None)
@given(st.lists(two_groups, min_size=1, max_size=40))
def test_ratio_and_difference_intervals_contain_their_estimates(rows):
    frame = pl.DataFrame(
        {k: [r[i] for r in rows] for i, k in enumerate(("a", "n1", "b", "n0"))},
        schema={k: pl.Int64 for k in ("a", "n1", "b", "n0")},
    )
    for builder in (ratio_of_proportions, odds_ratio, newcombe_difference):
        interval = builder(A, N1, B, N0)
        out = frame.select(
            interval.estimate.alias("est"), interval.low.alias("lo"), interval.high.alias("hi")
        ).drop_nulls()
        tol = 1e-9 * (1 + out["est"].abs())
        assert ((out["lo"] <= out["est"] + tol) & (out["est"] <= out["hi"] + tol)).all()
    rd = frame.select(newcombe_difference(A, N1, B, N0).low.alias("lo"))
    assert (rd["lo"] >= -1 - 1e-12).all()
