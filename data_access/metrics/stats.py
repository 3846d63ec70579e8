"""Interval estimators as polars expressions, so every metric stays vectorised.

Each builder takes expressions for the counts and returns expressions for the
estimate and its 95% interval. Rows where a quantity is undefined (a zero
denominator, no events in either group) come back null; the metric modules
mark those rows "not_computable" with a note. Formulas and sources:
reference sections B.1 and C.4, and docs/methods.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# The 97.5th percentile of the standard normal: the multiplier of a two-sided 95% interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval; `corrected` is True where 0.5 was added to every cell."""

    estimate: pl.Expr
    low: pl.Expr
    high: pl.Expr
    corrected: pl.Expr | None = None


def _f(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Float64)


def proportion(x: pl.Expr, n: pl.Expr) -> pl.Expr:
    """x/n, or null when n is 0 or x is outside 0..n."""
    x, n = _f(x), _f(n)
    return pl.when((n > 0) & (x >= 0) & (x <= n)).then(x / n)


def wilson(x: pl.Expr, n: pl.Expr, z: float = Z95) -> Interval:
    """Wilson score interval for a proportion x/n (Wilson 1927; Newcombe 1998 method 3).

    centre = (p + z²/2n) / (1 + z²/n);  half = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n).
    Unlike the Wald interval it stays inside [0, 1] and behaves at x = 0 or x = n.
    """
    x, n = _f(x), _f(n)
    p = proportion(x, n)
    z2 = z * z
    scale = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / scale
    half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / scale
    # Clip only floating-point dust: the exact bounds are 0 at x = 0 and 1 at x = n.
    return Interval(p, (centre - half).clip(0.0, 1.0), (centre + half).clip(0.0, 1.0))


def newcombe_difference(
    a: pl.Expr, n1: pl.Expr, b: pl.Expr, n0: pl.Expr, z: float = Z95
) -> Interval:
    """Risk difference a/n1 − b/n0 with Newcombe's hybrid score interval (1998, method 10).

    With Wilson limits (l1, u1) for p1 and (l0, u0) for p0:
    low  = RD − sqrt((p1 − l1)² + (u0 − p0)²);  high = RD + sqrt((u1 − p1)² + (p0 − l0)²).
    Better coverage than the Wald interval RD ± z·sqrt(p1q1/n1 + p0q0/n0) when counts are small.
    """
    w1, w0 = wilson(a, n1, z), wilson(b, n0, z)
    rd = w1.estimate - w0.estimate
    low = rd - ((w1.estimate - w1.low) ** 2 + (w0.high - w0.estimate) ** 2).sqrt()
    high = rd + ((w1.high - w1.estimate) ** 2 + (w0.estimate - w0.low) ** 2).sqrt()
    return Interval(rd, low, high)


def ratio_of_proportions(
    a: pl.Expr, n1: pl.Expr, b: pl.Expr, n0: pl.Expr, z: float = Z95
) -> Interval:
    """Risk ratio (a/n1)/(b/n0) with the Katz log interval; also the OJJDP RRI.

    SE[ln RR] = sqrt(1/a − 1/n1 + 1/b − 1/n0);  CI = exp(ln RR ± z·SE).
    When a or b is 0 the log is undefined: 0.5 is added to each cell of the
    2×2 table (a + 0.5 of n1 + 1, b + 0.5 of n0 + 1) and the row is flagged.
    Null when either group is empty or neither group has an event (0/0).
    """
    a, n1, b, n0 = _f(a), _f(n1), _f(b), _f(n0)
    valid = (n1 > 0) & (n0 > 0) & (a <= n1) & (b <= n0) & ~((a == 0) & (b == 0))
    corrected = valid & ((a == 0) | (b == 0))
    ca = pl.when(corrected).then(a + 0.5).otherwise(a)
    cb = pl.when(corrected).then(b + 0.5).otherwise(b)
    cn1 = pl.when(corrected).then(n1 + 1.0).otherwise(n1)
    cn0 = pl.when(corrected).then(n0 + 1.0).otherwise(n0)
    log_ratio = ((ca / cn1) / (cb / cn0)).log()
    se = (1.0 / ca - 1.0 / cn1 + 1.0 / cb - 1.0 / cn0).clip(lower_bound=0.0).sqrt()
    return Interval(
        pl.when(valid).then(log_ratio.exp()),
        pl.when(valid).then((log_ratio - z * se).exp()),
        pl.when(valid).then((log_ratio + z * se).exp()),
        corrected,
    )


def odds_ratio(a: pl.Expr, n1: pl.Expr, b: pl.Expr, n0: pl.Expr, z: float = Z95) -> Interval:
    """Odds ratio (a·d)/(b·c) with Woolf's log interval; Haldane's 0.5 when a cell is 0.

    c = n1 − a and d = n0 − b are the non-events.
    SE[ln OR] = sqrt(1/a + 1/b + 1/c + 1/d);  CI = exp(ln OR ± z·SE).
    Null when a group is empty, or when both groups are all-events or all-non-events.
    """
    a, n1, b, n0 = _f(a), _f(n1), _f(b), _f(n0)
    c, d = n1 - a, n0 - b
    valid = (
        (n1 > 0) & (n0 > 0) & (c >= 0) & (d >= 0) & ~((a == 0) & (b == 0)) & ~((c == 0) & (d == 0))
    )
    corrected = valid & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    shift = pl.when(corrected).then(0.5).otherwise(0.0)
    ca, cb, cc, cd = a + shift, b + shift, c + shift, d + shift
    log_or = ((ca * cd) / (cb * cc)).log()
    se = (1.0 / ca + 1.0 / cb + 1.0 / cc + 1.0 / cd).sqrt()
    return Interval(
        pl.when(valid).then(log_or.exp()),
        pl.when(valid).then((log_or - z * se).exp()),
        pl.when(valid).then((log_or + z * se).exp()),
        corrected,
    )


def poisson_count(d: pl.Expr, z: float = Z95) -> Interval:
    """Byar's approximation to the exact Poisson interval for a count d.

    low  = d·(1 − 1/(9d) − z/(3·sqrt d))³            (0 when d = 0)
    high = (d+1)·(1 − 1/(9(d+1)) + z/(3·sqrt(d+1)))³
    Within about 1% of the exact (Garwood) limits from d = 1 upward.
    """
    d = _f(d)
    d1 = d + 1.0
    low = pl.when(d > 0).then(d * (1.0 - 1.0 / (9.0 * d) - z / (3.0 * d.sqrt())) ** 3)
    high = d1 * (1.0 - 1.0 / (9.0 * d1) + z / (3.0 * d1.sqrt())) ** 3
    valid = d >= 0
    return Interval(
        pl.when(valid).then(d),
        pl.when(valid).then(low.fill_null(0.0).clip(lower_bound=0.0)),
        pl.when(valid).then(high),
    )


def actuarial_survival(
    intervals: pl.DataFrame,
    by: Sequence[str],
    time: str,
    at_risk: str = "at_risk",
    events: str = "events",
    censored: str = "censored",
    z: float = Z95,
) -> pl.DataFrame:
    """Life table from interval counts, with Greenwood variance and a log(−log) band.

    For each interval j ending at `time`: n'_j = N_j − C_j/2 (the censored count
    half), q_j = D_j/n'_j, S(t_k) = Π_{j≤k}(1 − q_j),
    Var S = S² · Σ D_j/(n'_j(n'_j − D_j))   (Greenwood),
    band  = S^exp(±z·σ), σ = sqrt(Σ D_j/(n'_j(n'_j − D_j))) / |ln S|.
    Adds `effective_at_risk`, `survival`, `survival_low`, `survival_high`. The
    band is null while S = 1 (no events yet) or once S = 0.
    """
    group = list(by) or ["_all"]
    frame = intervals if by else intervals.with_columns(pl.lit(0).alias("_all"))
    n_eff = _f(pl.col(at_risk)) - _f(pl.col(censored)) / 2.0
    dead = _f(pl.col(events))
    frame = frame.with_columns(n_eff.alias("effective_at_risk")).with_columns(
        pl.when(pl.col("effective_at_risk") > 0)
        .then(1.0 - dead / pl.col("effective_at_risk"))
        .alias("_step"),
        pl.when(pl.col("effective_at_risk") - dead > 0)
        .then(dead / (pl.col("effective_at_risk") * (pl.col("effective_at_risk") - dead)))
        .alias("_greenwood_term"),
    )
    frame = frame.with_columns(
        pl.col("_step").cum_prod().over(group, order_by=time).alias("survival"),
        # A term that is null because everyone left at risk had the event ends the band.
        pl.col("_greenwood_term")
        .is_null()
        .cum_sum()
        .over(group, order_by=time)
        .alias("_band_broken"),
        pl.col("_greenwood_term").cum_sum().over(group, order_by=time).alias("_greenwood"),
    )
    s = pl.col("survival")
    log_s = s.log()
    sigma = pl.col("_greenwood").sqrt() / log_s.abs()
    band_ok = (s > 0) & (s < 1) & (pl.col("_band_broken") == 0)
    frame = frame.with_columns(
        pl.when(band_ok).then(s ** (z * sigma).exp()).alias("survival_low"),
        pl.when(band_ok).then(s ** (-z * sigma).exp()).alias("survival_high"),
    )
    drop = ["_step", "_greenwood_term", "_greenwood", "_band_broken"] + ([] if by else ["_all"])
    return frame.drop(drop)
