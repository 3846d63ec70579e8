"""How a cube's earlier publications map onto this release's finest cells (disclosure/earlier.py).

Two rules make every earlier cell a sum of this release's finest cells:

- Only whole periods are published (`whole_periods_only`): a quarter once it has
  ended by the release's as-of date, a year once its fourth quarter has. A
  half-year published in June and the whole year in December would differ by
  the second half, for tables published by year alone; a year that is not over
  is carried in the sums but never shown.
- An earlier cell is the same cell now unless its value changed (a
  correction; screenings pending then and final now): `link_by_quarter` links
  each earlier cell whose true value then equals the sum of this release's
  finest cells under the same key. A changed cell is an unknown change; the
  change itself is guarded by `disclosure.earlier.small_changes`.

Linked columns are named `<column>@<n>`, n counting the earlier publications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.disclosure import UNPUBLISHED, EarlierPublication, rename_levels
from data_access.ledger import Publication

Level = tuple[str, ...]


def loaded_as_published(engine: sa.Engine, publication: Publication) -> bool:
    """Whether the rows an earlier publication was made from are still loaded, unchanged.

    A release replaced since has another checksum: its old rows are gone, and an
    earlier cell is then linked through its published value or reason alone.
    """
    loaded = {r.release_id: r.checksum for r in q.list_releases(engine)}
    return loaded.get(publication.release_id) == publication.checksum


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


def link_by_quarter(
    frame: pl.DataFrame,
    publications: Sequence[Publication],
    *,
    finest_then: Callable[[Publication], pl.DataFrame | None],
    levels_then: Callable[[Publication], Mapping[Level, pl.DataFrame] | None],
    count: str,
) -> tuple[pl.DataFrame, tuple[EarlierPublication, ...]]:
    """This release's finest frame with linked columns, and each earlier publication over them.

    frame: the finest table (with `quarter` and `year`; whole periods only) and `count`.
    finest_then: the earlier release's finest table as computed now from its rows (exact,
        never published), or None when those rows are gone (replaced since).
    levels_then: the earlier publication's published tables by level (None: nothing).

    An earlier cell is linked, as the sum of this release's finest cells with its key,
    exactly when its true value then equals that sum now: every link is then a true
    statement, and a cell that changed (a correction, a screening become final) is an
    unknown change. Without the earlier rows, a withheld cell links when its reason
    fits the value now, and a published one when it equals it.
    """
    earlier: list[EarlierPublication] = []
    for n, publication in enumerate(publications):
        levels = levels_then(publication)
        if not levels:
            continue
        q_col, y_col = f"quarter@{n}", f"year@{n}"
        frame = frame.with_columns(
            pl.col("quarter").alias(q_col), pl.col("quarter").str.slice(0, 4).alias(y_col)
        )
        old = finest_then(publication)
        if old is not None:
            old = old.with_columns(pl.col("quarter").str.slice(0, 4).alias("year"))
        renamed_columns = {"quarter": q_col, "year": y_col}
        kept: dict[Level, pl.DataFrame] = {}
        for level, table in levels.items():
            if old is not None:
                table = _same_value_then_and_now(table, level, old, frame, renamed_columns, count)
            kept[level] = table
        renamed = rename_levels(kept, renamed_columns, {})
        earlier.append(
            EarlierPublication(publication.release_id, publication.k, renamed, dict(levels))
        )
    return frame, tuple(earlier)


def _same_value_then_and_now(
    table: pl.DataFrame,
    level: Level,
    old: pl.DataFrame,
    new: pl.DataFrame,
    renamed: Mapping[str, str],
    count: str,
) -> pl.DataFrame:
    """The rows of an earlier level table whose true value then equals the sum now."""
    columns = list(level)
    if not columns:
        then_total, now_total = old[count].sum(), new[count].sum()
        return table if then_total == now_total else table.head(0)
    then = old.group_by(columns).agg(pl.col(count).sum().alias("_then"))
    now_columns = [renamed.get(c, c) for c in columns]
    now = (
        new.group_by(now_columns)
        .agg(pl.col(count).sum().alias("_now"))
        .rename(dict(zip(now_columns, columns, strict=True)))
    )
    checked = table.join(then, on=columns, how="left").join(now, on=columns, how="left")
    same = pl.col("_then").fill_null(0) == pl.col("_now").fill_null(0)
    return checked.filter(same).drop("_then", "_now")
