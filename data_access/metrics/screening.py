"""The screening funnel: referred, eligible, enrolled, and why people fell out.

Screening outcomes partition the month's referrals: enrolled, excluded for a
reason, declined, or still pending. So referred = the sum of all outcomes,
eligible = referred − exclusions = enrolled + declined + pending.
"""

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
from data_access.vocabulary import SCREENING_OUTCOMES

EXCLUSIONS: tuple[str, ...] = tuple(c for c in SCREENING_OUTCOMES if c.startswith("excluded_"))

# (stage, metric id, numerator outcomes, base stage). A stage's count is the sum of its outcomes.
_STAGES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("referred", "screening.referred", tuple(SCREENING_OUTCOMES), "referred"),
    ("eligible", "screening.eligible", ("enrolled", "declined", "pending"), "referred"),
    ("excluded", "screening.excluded", EXCLUSIONS, "referred"),
    *((code, "screening.excluded", (code,), "referred") for code in EXCLUSIONS),
    ("enrolled", "screening.enrolled", ("enrolled",), "eligible"),
    ("declined", "screening.declined", ("declined",), "eligible"),
    ("pending", "screening.pending", ("pending",), "eligible"),
)


def _outcome_sum(codes: Sequence[str], name: str) -> pl.Expr:
    persons = pl.col("persons").filter(pl.col("outcome").is_in(list(codes)))
    return pl.when(persons.null_count() > 0).then(None).otherwise(persons.sum()).alias(name)


@implements(*{metric for _, metric, _, _ in _STAGES})
def screening_funnel(frame: pl.DataFrame, by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Each funnel stage as a count and a share of the stage before it, with Wilson intervals.

    Input: the screening table summed by `by` and `outcome` (column `persons`).
    Exclusion reasons, all exclusions, and eligibility are shares of everyone
    referred; enrolled, declined and pending are shares of the eligible. The
    referred row is the base of the funnel (share 1, no interval). An outcome
    absent from a group counts as zero; a withheld (null) count withholds
    every share it feeds.
    """
    where = "screening_funnel"
    by = as_columns(by)
    require_columns(frame, [*by, "outcome", "persons"], where)
    frame = counts_as_int(frame, ["persons"], where)
    unknown = sorted(set(frame["outcome"].drop_nulls().unique()) - set(SCREENING_OUTCOMES))
    if unknown or frame["outcome"].null_count():
        raise ValueError(
            f"{where}: column 'outcome' holds codes outside the vocabulary: "
            f"{unknown or [None]}; expected {list(SCREENING_OUTCOMES)}"
        )
    wide = aggregate(frame, by, [_outcome_sum(codes, stage) for stage, _, codes, _ in _STAGES])
    parts = []
    for stage, metric, _, base in _STAGES:
        share = wilson(pl.col(stage), pl.col(base))
        is_base = stage == base
        parts.append(
            wide.select(
                *by,
                pl.lit(metric).alias("metric_id"),
                pl.lit(stage).alias("stage"),
                pl.lit(base).alias("base_stage"),
                pl.col(stage).alias("numerator"),
                pl.col(base).alias("denominator"),
                share.estimate.alias("estimate"),
                (pl.lit(None, pl.Float64) if is_base else share.low).alias("ci_low"),
                (pl.lit(None, pl.Float64) if is_base else share.high).alias("ci_high"),
            ).with_columns(
                *classify(
                    proportion_rules(),
                    [pl.lit("the base of the funnel")] if is_base else [],
                )
            )
        )
    out = pl.concat(parts)
    return finish(out, pl.col("metric_id"), [*by, "stage", "base_stage"])


@implements("referrals.enrollment_rate")
def enrollment_rate(frame: pl.DataFrame, by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Share of referred people who enrolled (`enrolled` / `referrals`), with a Wilson interval."""
    where = "enrollment_rate"
    by = as_columns(by)
    require_columns(frame, [*by, "referrals", "enrolled"], where)
    frame = counts_as_int(frame, ["referrals", "enrolled"], where)
    summed = aggregate(frame, by, [strict_sum("referrals"), strict_sum("enrolled")])
    share = wilson(pl.col("enrolled"), pl.col("referrals"))
    out = summed.with_columns(
        pl.col("enrolled").alias("numerator"),
        pl.col("referrals").alias("denominator"),
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
    ).with_columns(classify(proportion_rules()))
    return finish(out, "referrals.enrollment_rate", by)
