"""Diversion rate: police referrals to LEAD per contact or arrest LEAD could have diverted."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.metrics.frames import (
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    require_columns,
    strict_sum,
)
from data_access.metrics.registry import implements
from data_access.metrics.reliability import classify, proportion_rules
from data_access.metrics.stats import wilson

# Only these pathways start from a police contact; community referrals do not.
POLICE_PATHWAYS: tuple[str, ...] = ("arrest_diversion", "social_contact")


def police_referrals(referrals: pl.DataFrame) -> pl.DataFrame:
    """Keep referrals that came from a police contact, when the frame says the pathway."""
    if "pathway" not in referrals.columns:
        return referrals
    return referrals.filter(pl.col("pathway").is_in(list(POLICE_PATHWAYS)))


def join_counts(
    left: pl.DataFrame, right: pl.DataFrame, by: list[str], left_count: str, right_count: str
) -> pl.DataFrame:
    """Full join of two aggregated frames; a group absent from one side counts zero there.

    The query layer drops empty groups, so absence means none. A null present
    in the data (withheld) stays null.
    """
    marked_left = left.with_columns(pl.lit(True).alias("_in_left"))
    marked_right = right.with_columns(pl.lit(True).alias("_in_right"))
    if by:
        joined = marked_left.join(marked_right, on=by, how="full", coalesce=True)
    else:
        joined = pl.concat([marked_left, marked_right], how="horizontal")
    return joined.with_columns(
        pl.when(pl.col("_in_left").is_null())
        .then(0)
        .otherwise(pl.col(left_count))
        .alias(left_count),
        pl.when(pl.col("_in_right").is_null())
        .then(0)
        .otherwise(pl.col(right_count))
        .alias(right_count),
    ).drop("_in_left", "_in_right")


@implements("diversion.rate")
def diversion_rate(
    eligible_contacts: pl.DataFrame,
    referrals: pl.DataFrame,
    by: str | Sequence[str] | None = ("race_ethnicity",),
) -> pl.DataFrame:
    """Police referrals / eligible contacts, by race, precinct or any shared columns.

    `eligible_contacts` has `by` + `eligible_contacts`; `referrals` has `by` +
    `referrals` (and `pathway`, in which case community referrals are left out).
    A rate above 1 means the two tables disagree and is marked not computable.
    """
    where = "diversion_rate"
    by = as_columns(by)
    require_columns(eligible_contacts, [*by, "eligible_contacts"], f"{where} (eligible_contacts)")
    require_columns(referrals, [*by, "referrals"], f"{where} (referrals)")
    contacts = counts_as_int(eligible_contacts, ["eligible_contacts"], where)
    refs = counts_as_int(police_referrals(referrals), ["referrals"], where)
    contacts = aggregate(contacts, by, [strict_sum("eligible_contacts")])
    refs = aggregate(refs, by, [strict_sum("referrals")])
    joined = join_counts(contacts, refs, by, "eligible_contacts", "referrals")
    if by:
        joined = joined.sort(by, nulls_last=True)
    rate = wilson(pl.col("referrals"), pl.col("eligible_contacts"))
    out = joined.with_columns(
        pl.col("referrals").alias("numerator"),
        pl.col("eligible_contacts").alias("denominator"),
        rate.estimate.alias("estimate"),
        rate.low.alias("ci_low"),
        rate.high.alias("ci_high"),
    ).with_columns(classify(proportion_rules()))
    return finish(out, "diversion.rate", by)
