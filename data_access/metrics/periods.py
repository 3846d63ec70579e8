"""Period labels (YYYY-MM, YYYY-Qn, YYYY) as orderable integers, and roll-ups between them.

Changes "against the previous period" and "against the same period a year
earlier" are joins on these integers, not row shifts, so a gap in the data
never pairs a period with the wrong one.
"""

from __future__ import annotations

import polars as pl

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"

# How many periods make a year at each grain.
PERIODS_PER_YEAR = {MONTH: 12, QUARTER: 4, YEAR: 1}

_PATTERNS = {
    MONTH: r"^\d{4}-(0[1-9]|1[0-2])$",
    QUARTER: r"^\d{4}-Q[1-4]$",
    YEAR: r"^\d{4}$",
}


def grain_of(labels: pl.Series, where: str) -> str:
    """The grain all labels share; an error naming the first label that fits none."""
    labels = labels.cast(pl.String).drop_nulls()
    if labels.len() == 0:
        return MONTH
    for grain, pattern in _PATTERNS.items():
        if labels.str.contains(pattern).all():
            return grain
    odd = labels.filter(~labels.str.contains("|".join(f"({p})" for p in _PATTERNS.values())))
    example = odd[0] if odd.len() else labels[0]
    raise ValueError(
        f"{where}: period labels must all be YYYY-MM, all YYYY-Qn or all YYYY; found {example!r}"
    )


def period_index(column: str, grain: str) -> pl.Expr:
    """A consecutive integer per period: year·12 + month − 1, year·4 + quarter − 1, or year."""
    text = pl.col(column).cast(pl.String)
    year = text.str.slice(0, 4).cast(pl.Int64)
    if grain == MONTH:
        return year * 12 + text.str.slice(5, 2).cast(pl.Int64) - 1
    if grain == QUARTER:
        return year * 4 + text.str.slice(6, 1).cast(pl.Int64) - 1
    return year


def period_label(index: pl.Expr, grain: str) -> pl.Expr:
    """The inverse of period_index."""
    if grain == MONTH:
        year, month = index // 12, index % 12 + 1
        return pl.format("{}-{}", year, month.cast(pl.String).str.zfill(2))
    if grain == QUARTER:
        return pl.format("{}-Q{}", index // 4, index % 4 + 1)
    return index.cast(pl.String)


def month_to(column: str, grain: str) -> pl.Expr:
    """Relabel a YYYY-MM column as its quarter (YYYY-Qn) or year (YYYY)."""
    text = pl.col(column).cast(pl.String)
    if grain == MONTH:
        return text
    if grain == QUARTER:
        quarter = (text.str.slice(5, 2).cast(pl.Int64) - 1) // 3 + 1
        return pl.format("{}-Q{}", text.str.slice(0, 4), quarter)
    if grain == YEAR:
        return text.str.slice(0, 4)
    raise ValueError(f"grain must be one of {list(PERIODS_PER_YEAR)}, got {grain!r}")
