"""Costs: per person-year by category, change over time, the difference-in-differences saving
and the program's own cost per participant (reference section E.3).

Person-years: the costs table gives, per fiscal year and group, the people in
the group during the year; each counts as one person-year. Costs carry no
person-level variation here, so there is no sampling interval; the
uncertainty shown is the range between two cost assumptions:

- "marginal": leaves out categories whose cost does not shrink when fewer
  people pass through (police time and courts by default: staffing and
  buildings are fixed in the short run), closer to what a cut would save;
- "fully_loaded": every category except the LEAD program itself.

The LEAD program's cost is never part of the saving; the net saving subtracts
it (program cost per LEAD person-year over the later years).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.metrics.frames import (
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    money_as_float,
    require_columns,
    strict_sum,
)
from data_access.metrics.registry import implements
from data_access.metrics.reliability import (
    INSUFFICIENT,
    MIN_DENOMINATOR,
    NOT_COMPUTABLE,
    classify,
    withheld,
)

PROGRAM = "program"
ALL = "all"
FIXED_COST_CATEGORIES: tuple[str, ...] = ("police", "court")
SCOPES = ("marginal", "fully_loaded")


def _prepare(frame: pl.DataFrame, by: list[str], where: str) -> pl.DataFrame:
    require_columns(
        frame, [*by, "fiscal_year", "group", "category", "persons", "total_cost_usd"], where
    )
    frame = counts_as_int(frame, ["persons"], where)
    frame = money_as_float(frame, ["total_cost_usd"], where)
    return frame.with_columns(pl.col("fiscal_year").cast(pl.Int64))


def _persons_rules(*persons: str) -> list:
    cols = [pl.col(p) for p in persons]
    return [
        (pl.any_horizontal(c == 0 for c in cols), NOT_COMPUTABLE, "no persons in a group"),
        (
            pl.any_horizontal(c < MIN_DENOMINATOR for c in cols),
            INSUFFICIENT,
            f"fewer than {MIN_DENOMINATOR} persons in a group",
        ),
    ]


def _persons_max() -> pl.Expr:
    persons = pl.col("persons")
    return pl.when(persons.null_count() > 0).then(None).otherwise(persons.max()).alias("persons")


def _persons_of_year(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """People in each group and fiscal year: the same on every category row, so take the largest
    and say so when categories disagree."""
    return aggregate(
        frame, keys, [_persons_max(), (pl.col("persons").n_unique() > 1).alias("_persons_differ")]
    )


@implements("costs.per_person_year")
def cost_per_person_year(
    frame: pl.DataFrame, by: str | Sequence[str] | None = None
) -> pl.DataFrame:
    """Cost per person-year by fiscal year, group and category, plus an "all" category row."""
    where = "cost_per_person_year"
    by = as_columns(by)
    frame = _prepare(frame, by, where)
    keys = [*by, "fiscal_year", "group"]
    per_category = aggregate(
        frame,
        [*keys, "category"],
        [strict_sum("total_cost_usd"), _persons_max()],
    ).with_columns(pl.lit(False).alias("_persons_differ"))
    everything = (
        aggregate(frame, keys, [strict_sum("total_cost_usd")])
        .join(_persons_of_year(frame, keys), on=keys, how="left")
        .with_columns(pl.lit(ALL).alias("category"))
    )
    both = pl.concat([per_category, everything.select(per_category.columns)])
    out = both.with_columns(
        pl.col("total_cost_usd").alias("numerator"),
        pl.col("persons").alias("denominator"),
        pl.when(pl.col("persons") > 0)
        .then(pl.col("total_cost_usd") / pl.col("persons"))
        .alias("estimate"),
        pl.lit(None, pl.Float64).alias("ci_low"),
        pl.lit(None, pl.Float64).alias("ci_high"),
    ).with_columns(
        classify(
            [
                (
                    withheld("total_cost_usd", "persons"),
                    NOT_COMPUTABLE,
                    "input withheld or missing",
                ),
                *_persons_rules("persons"),
            ],
            [
                pl.when(pl.col("_persons_differ")).then(
                    pl.lit("categories report different numbers of persons; the largest is used")
                )
            ],
        )  # fmt: skip
    )
    out = out.sort([*keys, pl.col("category") == ALL, "category"], nulls_last=True)
    return finish(out, "costs.per_person_year", [*keys, "category"])


@implements("costs.change_vs_previous_year", "costs.relative_change_vs_previous_year")
def cost_change(frame: pl.DataFrame, by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Change in cost per person-year from the previous fiscal year, absolute and relative.

    `numerator` is this year's cost per person-year and `denominator` the
    previous year's; `persons` and `previous_persons` carry the head counts.
    """
    by = as_columns(by)
    current = cost_per_person_year(frame, by)
    keys = [*by, "group", "category"]
    previous = current.select(
        *keys,
        (pl.col("fiscal_year") + 1).alias("fiscal_year"),
        pl.col("estimate").alias("_previous"),
        pl.col("denominator").alias("previous_persons"),
        pl.lit(True).alias("_has_previous"),
    )
    joined = current.rename({"estimate": "_current", "denominator": "persons"}).join(
        previous, on=[*keys, "fiscal_year"], how="left"
    )
    x, b = pl.col("_current"), pl.col("_previous")
    common = [
        (pl.col("_has_previous").is_null(), NOT_COMPUTABLE, "no previous fiscal year in the data"),
        (x.is_null(), NOT_COMPUTABLE, "this year's cost per person-year is not computable"),
        (b.is_null(), NOT_COMPUTABLE, "the previous year's cost per person-year is not computable"),
        *_persons_rules("persons", "previous_persons"),
    ]
    base = joined.with_columns(
        x.alias("numerator"),
        b.alias("denominator"),
        pl.lit(None, pl.Float64).alias("ci_low"),
        pl.lit(None, pl.Float64).alias("ci_high"),
    )
    absolute = base.with_columns(
        pl.lit("costs.change_vs_previous_year").alias("metric_id"),
        (x - b).alias("estimate"),
        *classify(common),
    )
    relative = base.with_columns(
        pl.lit("costs.relative_change_vs_previous_year").alias("metric_id"),
        pl.when(b > 0).then((x - b) / b).alias("estimate"),
        *classify(
            [
                *common[:3],
                (b == 0, NOT_COMPUTABLE, "the previous year cost nothing: no relative change"),
                *common[3:],
            ]
        ),
    )
    out = pl.concat([absolute, relative]).sort(
        [*by, "fiscal_year", "group", "category", "metric_id"], nulls_last=True
    )
    return finish(
        out,
        pl.col("metric_id"),
        [*by, "fiscal_year", "group", "category"],
        ["persons", "previous_persons"],
    )


def _period_cost(
    frame: pl.DataFrame, by: list[str], categories: pl.Expr, years: Sequence[int]
) -> pl.DataFrame:
    """Σ cost / Σ persons per group over the given fiscal years and categories."""
    in_years = frame.filter(pl.col("fiscal_year").is_in(list(years)))
    persons = aggregate(
        _persons_of_year(in_years, [*by, "group", "fiscal_year"]),
        [*by, "group"],
        [strict_sum("persons")],
    )
    cost = aggregate(
        in_years.filter(categories), [*by, "group"], [strict_sum("total_cost_usd")]
    ).with_columns(pl.lit(True).alias("_has_cost"))
    # A group with persons but no rows in these categories spent nothing on them.
    return (
        persons.join(cost, on=[*by, "group"], how="left")
        .with_columns(
            pl.when(pl.col("_has_cost").is_null())
            .then(0.0)
            .otherwise(pl.col("total_cost_usd"))
            .alias("total_cost_usd")
        )
        .drop("_has_cost")
    )


@implements("costs.did_saving", "costs.net_saving")
def did_saving(
    frame: pl.DataFrame,
    baseline_years: Sequence[int] | None = None,
    followup_years: Sequence[int] | None = None,
    by: str | Sequence[str] | None = None,
    fixed_cost_categories: Sequence[str] = FIXED_COST_CATEGORIES,
    lead: str = "lead",
    comparison: str = "comparison",
) -> pl.DataFrame:
    """Difference-in-differences saving per person-year, and the net saving after the program.

    pre = the baseline fiscal years (default: the first in the data), post =
    the follow-up years (default: every later year). For each group and period,
    cost per person-year = Σ cost / Σ persons. Saving = (post − pre)_comparison
    − (post − pre)_LEAD, once per scope ("marginal", "fully_loaded"); net
    saving = saving − LEAD program cost per person-year over the post years.
    Columns lead_pre … comparison_post hold the four costs per person-year and
    lead_persons_pre … comparison_persons_post the four head counts.
    """
    where = "did_saving"
    by = as_columns(by)
    frame = _prepare(frame, by, where)
    # With no grouping columns, a constant key lets the same joins serve.
    keys = by or ["_k"]
    frame = frame.with_columns(pl.lit(0).alias("_k"))
    years = sorted(frame["fiscal_year"].drop_nulls().unique().to_list())
    baseline = list(baseline_years) if baseline_years is not None else years[:1]
    followup = (
        list(followup_years)
        if followup_years is not None
        else [y for y in years if y > max(baseline, default=0)]
    )
    if set(baseline) & set(followup):
        overlap = sorted(set(baseline) & set(followup))
        raise ValueError(f"{where}: baseline and follow-up years overlap: {overlap}")

    scopes = {
        "marginal": ~pl.col("category").is_in([PROGRAM, *fixed_cost_categories]),
        "fully_loaded": pl.col("category") != PROGRAM,
    }
    cells = {}
    for period, yrs in (("pre", baseline), ("post", followup)):
        for scope, cats in scopes.items():
            cells[(period, scope)] = _period_cost(frame, keys, cats, yrs)
    program = _period_cost(frame, keys, pl.col("category") == PROGRAM, followup).filter(
        pl.col("group") == lead
    )

    # Without grouping columns there is always one answer per scope, even for no data.
    groups = (
        frame.select(keys).unique() if by else pl.DataFrame({"_k": [0]}, schema={"_k": pl.Int32})
    )
    rows = []
    for scope in SCOPES:
        row = groups.with_columns(pl.lit(scope).alias("scope"))
        for period in ("pre", "post"):
            part = cells[(period, scope)]
            for group_code, name in ((lead, "lead"), (comparison, "comparison")):
                g = part.filter(pl.col("group") == group_code).select(
                    *keys,
                    pl.when(pl.col("persons") > 0)
                    .then(pl.col("total_cost_usd") / pl.col("persons"))
                    .alias(f"{name}_{period}"),
                    pl.col("persons").alias(f"{name}_persons_{period}"),
                )
                row = row.join(g, on=keys, how="left")
        prog = program.select(
            *keys,
            pl.when(pl.col("persons") > 0)
            .then(pl.col("total_cost_usd") / pl.col("persons"))
            .alias("program_per_person_year"),
        )
        row = row.join(prog, on=keys, how="left")
        rows.append(row)
    wide = pl.concat(rows, how="diagonal_relaxed")

    saving = (pl.col("comparison_post") - pl.col("comparison_pre")) - (
        pl.col("lead_post") - pl.col("lead_pre")
    )
    four = ["lead_persons_pre", "lead_persons_post", "comparison_persons_pre",
            "comparison_persons_post"]  # fmt: skip
    four_costs = ["lead_pre", "lead_post", "comparison_pre", "comparison_post"]
    rules = [
        (pl.any_horizontal(pl.col(c).is_null() for c in four), NOT_COMPUTABLE,
         "a group has no data, or withheld data, in the baseline or follow-up years"),
        *_persons_rules(*four),
        (pl.any_horizontal(pl.col(c).is_null() for c in four_costs), NOT_COMPUTABLE,
         "a group's cost is withheld or missing"),
    ]  # fmt: skip
    common = [
        pl.lit(None, pl.Float64).alias("ci_low"),
        pl.lit(None, pl.Float64).alias("ci_high"),
        pl.lit(None, pl.Int64).alias("numerator"),
        pl.lit(None, pl.Int64).alias("denominator"),
        pl.lit(",".join(map(str, baseline))).alias("baseline_years"),
        pl.lit(",".join(map(str, followup))).alias("followup_years"),
    ]
    did = wide.with_columns(
        pl.lit("costs.did_saving").alias("metric_id"), saving.alias("estimate"), *common
    ).with_columns(classify(rules))
    net = wide.with_columns(
        pl.lit("costs.net_saving").alias("metric_id"),
        (saving - pl.col("program_per_person_year")).alias("estimate"),
        *common,
    ).with_columns(
        classify(
            [
                *rules,
                (
                    pl.col("program_per_person_year").is_null(),
                    NOT_COMPUTABLE,
                    "no LEAD program cost recorded for the follow-up years",
                ),
            ]
        )  # fmt: skip
    )
    out = pl.concat([did, net]).sort([*by, "metric_id", "scope"], nulls_last=True)
    return finish(
        out,
        pl.col("metric_id"),
        [*by, "scope", "baseline_years", "followup_years"],
        [*four_costs, *four, "program_per_person_year"],
    )


@implements("costs.program_per_participant")
def program_cost_per_participant(
    frame: pl.DataFrame, by: str | Sequence[str] | None = None, lead: str = "lead"
) -> pl.DataFrame:
    """LEAD program cost per participant by fiscal year (program category, LEAD group)."""
    where = "program_cost_per_participant"
    by = as_columns(by)
    frame = _prepare(frame, by, where)
    program = frame.filter((pl.col("category") == PROGRAM) & (pl.col("group") == lead))
    keys = [*by, "fiscal_year"]
    summed = aggregate(program, keys, [strict_sum("total_cost_usd"), _persons_max()])
    out = summed.with_columns(
        pl.col("total_cost_usd").alias("numerator"),
        pl.col("persons").alias("denominator"),
        pl.when(pl.col("persons") > 0)
        .then(pl.col("total_cost_usd") / pl.col("persons"))
        .alias("estimate"),
        pl.lit(None, pl.Float64).alias("ci_low"),
        pl.lit(None, pl.Float64).alias("ci_high"),
    ).with_columns(
        classify(
            [
                (
                    withheld("total_cost_usd", "persons"),
                    NOT_COMPUTABLE,
                    "input withheld or missing",
                ),
                *_persons_rules("persons"),
            ]
        )  # fmt: skip
    )
    return finish(out, "costs.program_per_participant", keys)


def fiscal_year_of_month(month: str = "month", start_month: int = 1) -> pl.Expr:
    """The fiscal year a YYYY-MM month falls in, named by the calendar year it ends in.

    start_month=7 makes July 2023 – June 2024 fiscal year 2024.
    """
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1..12, got {start_month}")
    text = pl.col(month).cast(pl.String)
    year = text.str.slice(0, 4).cast(pl.Int64)
    if start_month == 1:
        return year
    return year + (text.str.slice(5, 2).cast(pl.Int64) >= start_month).cast(pl.Int64)


@implements("costs.program_per_participant_month")
def program_cost_per_participant_month(
    costs: pl.DataFrame,
    caseload: pl.DataFrame,
    by: str | Sequence[str] | None = None,
    fiscal_year_start_month: int = 1,
    lead: str = "lead",
) -> pl.DataFrame:
    """LEAD program cost / participant-months (Σ monthly active participants in the fiscal year).

    `caseload` has `by` + `month` + `active_participants`. The note says when
    the caseload covers fewer than 12 months of the fiscal year.
    """
    where = "program_cost_per_participant_month"
    by = as_columns(by)
    costs = _prepare(costs, by, where)
    require_columns(caseload, [*by, "month", "active_participants"], f"{where} (caseload)")
    caseload = counts_as_int(caseload, ["active_participants"], where)
    keys = [*by, "fiscal_year"]
    months = aggregate(
        caseload.with_columns(fiscal_year_of_month("month", fiscal_year_start_month)
                              .alias("fiscal_year")),
        keys,
        [strict_sum("active_participants"), pl.col("month").n_unique().alias("_months")],
    )  # fmt: skip
    program = aggregate(
        costs.filter((pl.col("category") == PROGRAM) & (pl.col("group") == lead)),
        keys,
        [strict_sum("total_cost_usd")],
    )
    joined = program.join(months, on=keys, how="left")
    pm = pl.col("active_participants")
    out = (
        joined.with_columns(
            pl.col("total_cost_usd").alias("numerator"),
            pm.alias("denominator"),
            pl.when(pm > 0).then(pl.col("total_cost_usd") / pm).alias("estimate"),
            pl.lit(None, pl.Float64).alias("ci_low"),
            pl.lit(None, pl.Float64).alias("ci_high"),
        )
        .with_columns(
            classify(
                [
                    (
                        pl.col("_months").is_null(),
                        NOT_COMPUTABLE,
                        "no caseload recorded for this fiscal year",
                    ),
                    (
                        withheld("total_cost_usd", "active_participants"),
                        NOT_COMPUTABLE,
                        "input withheld or missing",
                    ),
                    (pm == 0, NOT_COMPUTABLE, "no participant-months"),
                    (
                        pm < MIN_DENOMINATOR,
                        INSUFFICIENT,
                        f"fewer than {MIN_DENOMINATOR} participant-months",
                    ),
                ],
                [
                    pl.when(pl.col("_months") < 12).then(
                        pl.format("caseload covers {} of 12 months", pl.col("_months"))
                    )
                ],
            )  # fmt: skip
        )
        .sort(keys, nulls_last=True)
    )
    return finish(out, "costs.program_per_participant_month", keys)
