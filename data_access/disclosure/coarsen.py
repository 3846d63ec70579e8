"""Coarsening: design views so that few cells are small in the first place.

Suppression hides small cells; coarsening avoids them. Two rules of the policy:
- precinct-by-race views use quarters or years, never months;
- race groups too small in a view fold into one stated combined group,
  instead of a wall of withheld cells.
Both run on true counts before `protect_counts`, which then protects the
coarsened table (a combined group that is still small is withheld like any cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from data_access.disclosure.policy import (
    Policy,
    PolicyError,
    policy_from_environment,
)
from data_access.vocabulary import label

COMBINED_RACE_CODE = "other_combined"
COMBINED_RACE_LABEL = "Other races (combined)"
TimeGrain = Literal["quarter", "year"]


def quarter_of(month: pl.Expr) -> pl.Expr:
    """'YYYY-MM' -> 'YYYY-Qn' (the contract's cohort format)."""
    number = (month.str.slice(5, 2).cast(pl.Int32) - 1) // 3 + 1
    return month.str.slice(0, 4) + pl.lit("-Q") + number.cast(pl.Utf8)


def year_of(month: pl.Expr) -> pl.Expr:
    """'YYYY-MM' -> 'YYYY'."""
    return month.str.slice(0, 4)


def with_time_levels(frame: pl.DataFrame, month: str = "month") -> pl.DataFrame:
    """Add `quarter` and `year` beside a monthly column, so margins can be declared on them."""
    return frame.with_columns(
        quarter_of(pl.col(month)).alias("quarter"), year_of(pl.col(month)).alias("year")
    )


def coarsen_time(
    frame: pl.DataFrame,
    *,
    keys: Sequence[str],
    counts: Sequence[str],
    to: TimeGrain,
    month: str = "month",
) -> pl.DataFrame:
    """Re-aggregate a monthly table to quarters or years; `month` is replaced by `to`."""
    if month not in keys:
        raise PolicyError(f"{month!r} is not among the keys {list(keys)}; nothing to coarsen.")
    if to not in ("quarter", "year"):
        raise PolicyError(f"time can be coarsened to 'quarter' or 'year', not {to!r}.")
    period = quarter_of(pl.col(month)) if to == "quarter" else year_of(pl.col(month))
    new_keys = [to if k == month else k for k in keys]
    return (
        frame.with_columns(period.alias(to))
        .group_by(new_keys, maintain_order=True)
        .agg(pl.col(c).sum() for c in counts)
    )


@dataclass(frozen=True)
class Coarsened:
    frame: pl.DataFrame
    keys: tuple[str, ...]
    notes: tuple[str, ...]


def enforce_time_floor(
    frame: pl.DataFrame,
    *,
    keys: Sequence[str],
    counts: Sequence[str],
    precinct: str = "precinct_id",
    race: str = "race_ethnicity",
    month: str = "month",
    to: TimeGrain = "quarter",
    refuse: bool = False,
) -> Coarsened:
    """No precinct x race x month cells: coarsen such a view to `to`, or refuse it.

    Views without all three of precinct, race and month pass unchanged.
    """
    if not {precinct, race, month} <= set(keys):
        return Coarsened(frame, tuple(keys), ())
    if refuse:
        raise PolicyError(
            "precinct by race views are published by quarter or year, not by month; "
            f"ask for {to!r} instead of {month!r}."
        )
    coarse = coarsen_time(frame, keys=keys, counts=counts, to=to, month=month)
    new_keys = tuple(to if k == month else k for k in keys)
    note = f"Shown by {to}, not month: precinct by race figures are never published monthly."
    return Coarsened(coarse, new_keys, (note,))


@dataclass(frozen=True)
class Folded:
    frame: pl.DataFrame
    folded: tuple[str, ...]  # the codes combined, in the order of their size
    note: str  # the sentence a page shows under the view ("" when nothing folded)


def fold_small_groups(
    frame: pl.DataFrame,
    *,
    keys: Sequence[str],
    counts: Sequence[str],
    group: str = "race_ethnicity",
    policy: Policy | None = None,
    min_group_total: int | None = None,
    keep_separate: Sequence[str] = ("unknown",),
    combined_code: str = COMBINED_RACE_CODE,
    combined_label: str = COMBINED_RACE_LABEL,
) -> Folded:
    """Fold race groups too small in this view into one combined group.

    The rule (sized on the first count column, over the whole view):
    - a group folds when its total is under `min_group_total` (default k), or
      when more than half of its non-zero cells are from 1 to k-1 (it would be
      mostly withheld);
    - if only one group folds, the next smallest group folds with it: a
      "combined" group of one would just be that group under another name;
    - groups in `keep_separate` ("unknown" race: a data-quality figure, not a
      group of people) never fold;
    - a combined group that is still small is withheld by `protect_counts` like
      any other cell.
    """
    # Read at call time, so LEAD_DISCLOSURE_K applies to every cube and view.
    policy = policy or policy_from_environment()
    if group not in keys:
        raise PolicyError(f"{group!r} is not among the keys {list(keys)}.")
    if not counts:
        raise PolicyError("name at least one count column to fold.")
    size = counts[0]
    threshold = policy.k if min_group_total is None else min_group_total
    per_group = (
        frame.group_by(group)
        .agg(
            pl.col(size).sum().alias("_total"),
            ((pl.col(size) > 0) & (pl.col(size) < policy.k)).sum().alias("_small"),
            (pl.col(size) > 0).sum().alias("_nonzero"),
        )
        .filter(~pl.col(group).is_in(list(keep_separate)))
        .sort(["_total", group])
    )
    foldable = per_group.with_columns(
        ((pl.col("_total") < threshold) | (pl.col("_small") * 2 > pl.col("_nonzero"))).alias(
            "_fold"
        )
    )
    folded = foldable.filter(pl.col("_fold"))[group].to_list()
    if len(folded) == 1:
        others = foldable.filter(~pl.col("_fold"))[group].to_list()
        if others:
            folded.append(others[0])  # the smallest group that did not need folding
    if not folded:
        return Folded(frame, (), "")
    combined = (
        frame.with_columns(
            pl.when(pl.col(group).is_in(folded))
            .then(pl.lit(combined_code))
            .otherwise(pl.col(group))
            .alias(group)
        )
        .group_by(list(keys), maintain_order=True)
        .agg(pl.col(c).sum() for c in counts)
    )
    names = ", ".join(label(group, code) for code in folded)
    note = (
        f"{combined_label} is {names}: each is too small in this view to show on its own "
        f"(fewer than {threshold} people, or mostly fewer than {policy.k} per cell)."
    )
    return Folded(combined, tuple(folded), note)
