"""Zeros in the bundle's count tables: a zero is written `0`, never left out.

A protected cube lists only the cells that hold people, so a combination with
nobody in it would simply be absent from its count table, and a reader would
have to guess whether absent means zero or not published. The export writes
those zeros as rows: for each site and period of a table, every combination of
the codes that table uses at that site (race groups: the ones published for that
period, since small groups fold into "other_combined" period by period). A
withheld cell is always a row of its own with its reason, so an added row is
never a withheld one, and the numbers the cube published are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SITE = "site_id"
# Columns that name a period (or a cohort, or "open"): zeros are filled within each.
PERIOD_COLUMNS = ("quarter", "year", "cohort12", "year12", "fiscal_year")
# Codes published period by period (small groups fold into a combined group).
PER_PERIOD_CODES = ("race_ethnicity",)
_PRESENT = "__present"


def with_zeros(frame: pl.DataFrame, level: Sequence[str], count: str) -> pl.DataFrame:
    """The count table with a `0` row for every absent combination of its codes."""
    level = [c for c in level if c in frame.columns]
    if frame.is_empty() or not level:
        return frame
    periods = [c for c in level if c in PERIOD_COLUMNS]
    per_period = [c for c in level if c in PER_PERIOD_CODES]
    per_site = [c for c in level if c not in periods and c not in per_period]
    group = [SITE, *periods]
    grid = frame.select(group).unique()
    for column in per_site:
        grid = grid.join(frame.select(SITE, column).unique(), on=SITE, how="inner")
    for column in per_period:
        grid = grid.join(frame.select(*group, column).unique(), on=group, how="inner")
    marked = frame.with_columns(pl.lit(True).alias(_PRESENT))
    filled = grid.join(marked, on=[SITE, *level], how="left", nulls_equal=True)
    flag = f"{count}_flag"
    absent = pl.col(_PRESENT).is_null()
    updates = [pl.when(absent).then(pl.lit(0)).otherwise(pl.col(count)).alias(count)]
    if flag in filled.columns:
        updates.append(pl.when(absent).then(pl.lit("")).otherwise(pl.col(flag)).alias(flag))
    filled = filled.with_columns(updates)
    # Sites in the order they came, then the table's own columns in order.
    order = {site: n for n, site in enumerate(frame[SITE].unique(maintain_order=True))}
    filled = filled.with_columns(
        pl.col(SITE).replace_strict(order, return_dtype=pl.Int64).alias("__site_order")
    )
    return (
        filled.sort(["__site_order", *level], maintain_order=True)
        .select(frame.columns)
        .cast(frame.schema)
    )
