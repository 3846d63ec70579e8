"""How a cube's earlier publications map onto this release's finest cells (disclosure/earlier.py).

Two rules make every earlier cell a sum of this release's finest cells:

- Only whole periods are published (`whole_periods_only`): a quarter once it has
  ended by the release's as-of date, a year once its fourth quarter has. A
  half-year published in June and the whole year in December would differ by
  the second half, for tables published by year alone; a year that is not over
  is carried in the sums but never shown.
- A period an earlier release published is the same period now unless its
  finest cells changed (a correction; screenings pending then and final now).
  `quarter_links` compares the two releases' finest tables quarter by quarter;
  the earlier cells of a changed quarter, and of a year holding one, are not
  linked (they are unknown changes, outside what a reader can subtract).

Linked columns are named `<column>@<n>`, n counting the earlier publications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import polars as pl

from data_access.disclosure import UNPUBLISHED, EarlierPublication, rename_levels
from data_access.ledger import Publication

Level = tuple[str, ...]


def quarter_end(quarter: pl.Expr) -> pl.Expr:
    """'YYYY-Qn' -> the last day of that quarter."""
    year = quarter.str.slice(0, 4).cast(pl.Int32)
    number = quarter.str.slice(6, 1).cast(pl.Int32)
    first_of_next = pl.date(year + number // 4, (number % 4) * 3 + 1, 1)
    return first_of_next - pl.duration(days=1)


def whole_periods_only(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Rows of quarters ended by `as_of`; the year UNPUBLISHED where it has not ended."""
    if frame.is_empty():
        return frame
    frame = frame.filter(quarter_end(pl.col("quarter")) <= pl.lit(as_of))
    year_ended = pl.date(pl.col("year").cast(pl.Int32), 12, 31) <= pl.lit(as_of)
    return frame.with_columns(
        pl.when(year_ended).then(pl.col("year")).otherwise(pl.lit(UNPUBLISHED)).alias("year")
    )


def quarter_links(
    new: pl.DataFrame, old: pl.DataFrame, columns: Sequence[str], old_as_of: dt.date
) -> tuple[set[str], set[str]]:
    """Quarters ended by `old_as_of` whose finest rows differ between two releases, and years.

    Returns (changed quarters, changed years): a year changed when any of its quarters did.
    """
    columns = list(columns)
    ended = quarter_end(pl.col("quarter")) <= pl.lit(old_as_of)
    a = new.filter(ended).select(columns)
    b = old.filter(ended).select(columns)
    differ = pl.concat([a.join(b, on=columns, how="anti"), b.join(a, on=columns, how="anti")])
    changed = set(differ["quarter"].unique().to_list())
    return changed, {q[:4] for q in changed}


def link_by_quarter(
    frame: pl.DataFrame,
    publications: Sequence[Publication],
    *,
    finest_then: Callable[[Publication], pl.DataFrame | None],
    levels_then: Callable[[Publication], Mapping[Level, pl.DataFrame] | None],
    columns: Sequence[str],
) -> tuple[pl.DataFrame, tuple[EarlierPublication, ...]]:
    """This release's finest frame with linked columns, and each earlier publication over them.

    frame: the finest table (with `quarter` and `year`; whole periods only) and its count.
    finest_then: the earlier release's finest table as it would be computed now from
        its rows, or None when those rows are gone (the release was replaced since).
    levels_then: the earlier publication's published tables by level (None: nothing).
    columns: the columns compared to decide whether a quarter changed (dimensions, count).
    """
    earlier: list[EarlierPublication] = []
    for n, publication in enumerate(publications):
        levels = levels_then(publication)
        if not levels:
            continue
        old = finest_then(publication)
        if old is not None and not old.is_empty():
            changed_q, changed_y = quarter_links(frame, old, columns, publication.as_of)
        else:  # its rows are gone: link by its published cells (mismatches are dropped)
            changed_q, changed_y = set(), set()
        q_col, y_col = f"quarter@{n}", f"year@{n}"
        ended = quarter_end(pl.col("quarter")) <= pl.lit(publication.as_of)
        year_ended = pl.date(pl.col("quarter").str.slice(0, 4).cast(pl.Int32), 12, 31) <= pl.lit(
            publication.as_of
        )
        frame = frame.with_columns(
            pl.when(ended & ~pl.col("quarter").is_in(list(changed_q)))
            .then(pl.col("quarter"))
            .otherwise(pl.lit(UNPUBLISHED))
            .alias(q_col),
            pl.when(year_ended & ~pl.col("quarter").str.slice(0, 4).is_in(list(changed_y)))
            .then(pl.col("quarter").str.slice(0, 4))
            .otherwise(pl.lit(UNPUBLISHED))
            .alias(y_col),
        )
        renamed = rename_levels(levels, {"quarter": q_col, "year": y_col}, {})
        earlier.append(
            EarlierPublication(publication.release_id, publication.k, renamed, dict(levels))
        )
    return frame, tuple(earlier)
