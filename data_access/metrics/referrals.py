"""Referral counts and how they move: by period and by pathway, offense, precinct or race.

Counts are full enumerations, not samples, so they carry no interval. Changes
are against the previous period and the same period a year earlier; the
rolling three-month average smooths the monthly series.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.metrics import periods
from data_access.metrics.frames import (
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    require_columns,
    strict_sum,
)
from data_access.metrics.registry import implements
from data_access.metrics.reliability import NOT_COMPUTABLE, STABLE_EVENTS, UNSTABLE, classify


@implements("referrals.count")
def referral_counts(
    frame: pl.DataFrame, by: str | Sequence[str] | None = None, count: str = "referrals"
) -> pl.DataFrame:
    """Referrals (or enrollments, with count="enrolled") summed by the given columns.

    The frame's rows are summed within each group, so a monthly frame can be
    shown by pathway over the whole span without another query.
    """
    where = "referral_counts"
    by = as_columns(by)
    require_columns(frame, [*by, count], where)
    frame = counts_as_int(frame, [count], where)
    out = aggregate(frame, by, [strict_sum(count)]).with_columns(
        pl.col(count).alias("numerator"),
        pl.lit(None, dtype=pl.Int64).alias("denominator"),
        pl.col(count).cast(pl.Float64).alias("estimate"),
        pl.lit(None, dtype=pl.Float64).alias("ci_low"),
        pl.lit(None, dtype=pl.Float64).alias("ci_high"),
        *classify([(pl.col(count).is_null(), NOT_COMPUTABLE, "count withheld or missing")]),
    )
    return finish(out, "referrals.count", by)


def roll_up(frame: pl.DataFrame, grain: str, period: str = "month") -> pl.DataFrame:
    """Relabel a YYYY-MM column as quarters or years, so sums group by the coarser period."""
    require_columns(frame, [period], "roll_up")
    periods.grain_of(frame[period], "roll_up")
    return frame.with_columns(periods.month_to(period, grain).alias(period))


_TREND_MEASURES = (
    "referrals.count",
    "referrals.change_vs_previous",
    "referrals.relative_change_vs_previous",
    "referrals.change_vs_year_earlier",
    "referrals.relative_change_vs_year_earlier",
    "referrals.rolling_3_month_average",
)


@implements(*_TREND_MEASURES)
def referral_trend(
    frame: pl.DataFrame,
    period: str = "period",
    by: str | Sequence[str] | None = None,
    count: str = "referrals",
    grain: str | None = None,
) -> pl.DataFrame:
    """Counts per period with changes against the previous period and a year earlier.

    `period` names a column of YYYY-MM, YYYY-Qn or YYYY labels; `grain` rolls a
    monthly column up to "quarter" or "year" first. Periods inside the span
    that have no row count as zero (the query layer drops empty groups); a
    null count stays withheld and so does every change computed from it.
    Monthly series also get a rolling three-month average (this month and the
    two before it, only when all three are known).

    One row per period, group and measure; `metric_id` names the measure.
    For changes, `numerator` is this period's count and `denominator` the count
    it is compared with.
    """
    where = "referral_trend"
    by = as_columns(by)
    require_columns(frame, [period, *by, count], where)
    frame = counts_as_int(frame, [count], where)
    if grain is not None:
        if grain not in periods.PERIODS_PER_YEAR:
            raise ValueError(f"{where}: grain must be one of {list(periods.PERIODS_PER_YEAR)}")
        source_grain = periods.grain_of(frame[period], where)
        if source_grain not in (periods.MONTH, grain):
            raise ValueError(
                f"{where}: {source_grain} labels cannot become {grain} labels; only months roll up"
            )
        if source_grain == periods.MONTH:
            frame = frame.with_columns(periods.month_to(period, grain).alias(period))
    actual_grain = periods.grain_of(frame[period], where)
    per_year = periods.PERIODS_PER_YEAR[actual_grain]

    summed = aggregate(frame, [*by, period], [strict_sum(count)]).with_columns(
        periods.period_index(period, actual_grain).alias("_index")
    )
    grid = _complete_grid(summed, by, actual_grain)
    x = pl.col(count)
    keys = by or ["_all"]
    if not by:
        grid = grid.with_columns(pl.lit(0).alias("_all"))
    grid = grid.with_columns(
        x.shift(1).over(keys, order_by="_index").alias("_previous"),
        x.shift(per_year).over(keys, order_by="_index").alias("_year_earlier"),
        x.shift(1).over(keys, order_by="_index").alias("_lag1"),
        x.shift(2).over(keys, order_by="_index").alias("_lag2"),
        pl.col("_index").min().over(keys).alias("_first"),
    )

    parts = [
        grid.with_columns(
            pl.lit("referrals.count").alias("metric_id"),
            x.cast(pl.Float64).alias("estimate"),
            x.alias("numerator"),
            pl.lit(None, dtype=pl.Int64).alias("denominator"),
            *classify([(x.is_null(), NOT_COMPUTABLE, "count withheld or missing")]),
        )
    ]
    for base, suffix, label in (
        ("_previous", "previous", "previous period"),
        ("_year_earlier", "year_earlier", "same period a year earlier"),
    ):
        parts += _changes(grid, count, base, suffix, label, per_year if base != "_previous" else 1)
    if actual_grain == periods.MONTH:
        known = x.is_not_null() & pl.col("_lag1").is_not_null() & pl.col("_lag2").is_not_null()
        three = x + pl.col("_lag1") + pl.col("_lag2")
        early = pl.col("_index") - pl.col("_first") < 2
        parts.append(
            grid.with_columns(
                pl.lit("referrals.rolling_3_month_average").alias("metric_id"),
                pl.when(known).then(three / 3.0).alias("estimate"),
                pl.when(known).then(three).alias("numerator"),
                pl.lit(None, dtype=pl.Int64).alias("denominator"),
                *classify(
                    [
                        (early, NOT_COMPUTABLE, "fewer than three months of data before this one"),
                        (~known, NOT_COMPUTABLE, "a month in the window is withheld or missing"),
                    ]
                ),
            )
        )
    out = pl.concat(
        [
            p.with_columns(
                pl.lit(None, dtype=pl.Float64).alias("ci_low"),
                pl.lit(None, dtype=pl.Float64).alias("ci_high"),
            ).select(
                "metric_id",
                *by,
                period,
                "_index",
                "estimate",
                "ci_low",
                "ci_high",
                "numerator",
                "denominator",
                "reliability",
                "note",
            )  # fmt: skip
            for p in parts
        ]
    )
    order = {m: i for i, m in enumerate(_TREND_MEASURES)}
    out = out.sort(
        [*by, "_index", pl.col("metric_id").replace_strict(order, return_dtype=pl.Int64)]
    )
    return finish(out, pl.col("metric_id"), [*by, period])


def _complete_grid(summed: pl.DataFrame, by: list[str], grain: str) -> pl.DataFrame:
    """Every group × every period from the first to the last in the data; absent rows are 0."""
    period = [c for c in summed.columns if c not in (*by, "_index")][0]
    count = [c for c in summed.columns if c not in (*by, "_index", period)][0]
    if summed.height == 0:
        return summed
    span = pl.DataFrame(
        {"_index": pl.int_range(summed["_index"].min(), summed["_index"].max() + 1, eager=True)}
    )
    groups = summed.select(by).unique() if by else pl.DataFrame({"_k": [0]})
    grid = groups.join(span, how="cross").drop("_k", strict=False)
    grid = grid.join(summed.drop(period), on=[*by, "_index"], how="left")
    present = summed.select([*by, "_index"]).with_columns(pl.lit(True).alias("_present"))
    grid = grid.join(present, on=[*by, "_index"], how="left")
    return grid.with_columns(
        pl.when(pl.col("_present").is_null()).then(0).otherwise(pl.col(count)).alias(count),
        periods.period_label(pl.col("_index"), grain).alias(period),
    ).drop("_present")


def _changes(
    grid: pl.DataFrame, count: str, base: str, suffix: str, label: str, lag: int
) -> list[pl.DataFrame]:
    x, b = pl.col(count), pl.col(base)
    no_base = pl.col("_index") - pl.col("_first") < lag
    common = [
        (x.is_null(), NOT_COMPUTABLE, "this period's count is withheld or missing"),
        (no_base, NOT_COMPUTABLE, f"no {label} in the data"),
        (b.is_null(), NOT_COMPUTABLE, f"the {label}'s count is withheld or missing"),
    ]
    absolute = grid.with_columns(
        pl.lit(f"referrals.change_vs_{suffix}").alias("metric_id"),
        (x - b).cast(pl.Float64).alias("estimate"),
        x.alias("numerator"),
        b.alias("denominator"),
        *classify(common),
    )
    relative = grid.with_columns(
        pl.lit(f"referrals.relative_change_vs_{suffix}").alias("metric_id"),
        pl.when(b > 0).then((x - b) / b.cast(pl.Float64)).alias("estimate"),
        x.alias("numerator"),
        b.alias("denominator"),
        *classify(
            [
                *common,
                (b == 0, NOT_COMPUTABLE, f"the {label} had none: a relative change is undefined"),
                (
                    b < STABLE_EVENTS,
                    UNSTABLE,
                    f"compared with fewer than {STABLE_EVENTS}: small counts swing widely",
                ),
            ]
        ),
    )
    return [absolute, relative]
