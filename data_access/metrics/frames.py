"""The shape every metric takes in and gives back, and the checks at its edge.

Inputs are frames the query layer has already aggregated, named with contract
column names. Outputs are tidy: one row per estimate, with the counts it was
computed from, so disclosure control can decide what may be shown without
re-deriving anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from data_access.metrics.reliability import NOT_COMPUTABLE

# Columns every metric output carries, in this order after its grouping columns.
RESULT_COLUMNS: tuple[str, ...] = (
    "estimate",
    "ci_low",
    "ci_high",
    "numerator",
    "denominator",
    "reliability",
    "note",
)

# Two-group comparisons (LEAD against comparison, a race group against the
# reference group) also carry the other group's cells, so that disclosure can
# withhold the estimate when any of the four cells, or a complement, is small.
REFERENCE_COLUMNS: tuple[str, ...] = ("reference_numerator", "reference_denominator")


def as_columns(by: str | Sequence[str] | None) -> list[str]:
    """Grouping columns as a list; a single name or None are accepted for convenience."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def require_columns(frame: pl.DataFrame, columns: Iterable[str], where: str) -> None:
    """Fail with a message naming the metric, the missing columns and what the frame has."""
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{where}: expected a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: the input frame lacks column(s) {missing}; it has {list(frame.columns)}"
        )


def counts_as_int(frame: pl.DataFrame, columns: Iterable[str], where: str) -> pl.DataFrame:
    """Cast count columns to Int64 (PostgreSQL sums arrive as Decimal) and refuse negatives.

    Nulls stay null: a null count is a withheld or missing cell, never a zero.
    """
    columns = list(columns)
    try:
        frame = frame.with_columns(pl.col(c).cast(pl.Int64) for c in columns)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"{where}: count columns {columns} must hold whole numbers") from exc
    for c in columns:
        if frame.height and (frame[c] < 0).any():
            raise ValueError(f"{where}: column {c!r} holds a negative count")
    return frame


def money_as_float(frame: pl.DataFrame, columns: Iterable[str], where: str) -> pl.DataFrame:
    """Cast money columns to Float64 and refuse negatives; nulls stay null."""
    columns = list(columns)
    try:
        frame = frame.with_columns(pl.col(c).cast(pl.Float64) for c in columns)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"{where}: money columns {columns} must hold numbers") from exc
    for c in columns:
        if frame.height and (frame[c] < 0).any():
            raise ValueError(f"{where}: column {c!r} holds a negative amount")
    return frame


def strict_sum(column: str) -> pl.Expr:
    """Sum that is null when any summed cell is null.

    A total that includes a withheld cell cannot be known; polars' own sum
    would silently treat the withheld cell as zero.
    """
    col = pl.col(column)
    return pl.when(col.null_count() > 0).then(None).otherwise(col.sum()).alias(column)


def aggregate(frame: pl.DataFrame, by: Sequence[str], aggs: Sequence[pl.Expr]) -> pl.DataFrame:
    """Group and aggregate, sorted by the grouping columns so outputs are stable."""
    if not by:
        return frame.select(aggs)
    return frame.group_by(list(by)).agg(aggs).sort(list(by), nulls_last=True)


def finish(
    frame: pl.DataFrame,
    metric_id: str | pl.Expr,
    leading: Sequence[str],
    trailing: Sequence[str] = (),
) -> pl.DataFrame:
    """Order the output columns: metric_id, descriptors, the standard result columns, extras."""
    frame = frame.with_columns(
        metric_id if isinstance(metric_id, pl.Expr) else pl.lit(metric_id).alias("metric_id")
    )
    casts = {
        "estimate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "reliability": pl.String,
        "note": pl.String,
    }
    frame = frame.with_columns(pl.col(c).cast(t) for c, t in casts.items())
    # An estimate that cannot be computed is never shown, whatever arithmetic produced it.
    computable = pl.col("reliability") != NOT_COMPUTABLE
    frame = frame.with_columns(
        pl.when(computable).then(pl.col(c)).alias(c) for c in ("estimate", "ci_low", "ci_high")
    )
    ordered = ["metric_id", *leading, *RESULT_COLUMNS, *trailing]
    return frame.select(list(dict.fromkeys(ordered)))
