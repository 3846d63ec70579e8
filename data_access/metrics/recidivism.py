"""Re-arrest and new felony charges of entry cohorts: fixed windows, LEAD against comparison,
the trend across cohorts, and the cumulative re-arrest curve.

The recidivism table holds, per entry cohort (quarter), group and follow-up
length, the number of people with at least one event within that many months
(cumulative counts). A fixed-window rate uses only cohorts whose whole window
has passed by the release's as_of date: everyone in a cohort entered by the
quarter's last day, so the window is complete when quarter end + window <= as_of.
The comparison is quasi-experimental, never a randomized trial (registry caveat).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from data_access.metrics.frames import (
    REFERENCE_COLUMNS,
    aggregate,
    as_columns,
    counts_as_int,
    finish,
    require_columns,
    strict_sum,
)
from data_access.metrics.registry import implements
from data_access.metrics.reliability import (
    NOT_COMPUTABLE,
    STABLE_EVENTS,
    UNSTABLE,
    classify,
    proportion_rules,
    two_group_rules,
    withheld,
)
from data_access.metrics.stats import (
    actuarial_survival,
    newcombe_difference,
    odds_ratio,
    ratio_of_proportions,
    wilson,
)

WINDOWS: tuple[int, ...] = (6, 12, 24, 36)
OUTCOMES: tuple[str, ...] = ("rearrested", "new_felony_charge")
_COHORT_PATTERN = r"^\d{4}-Q[1-4]$"


def as_of_date(as_of: dt.date | str) -> dt.date:
    """The release's as_of as a date; accepts a date, a datetime or 'YYYY-MM-DD'."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise ValueError(f"as_of must be a date or 'YYYY-MM-DD', got {as_of!r}") from None


def window_closes(months: pl.Expr, cohort: str = "cohort") -> pl.Expr:
    """The last day of a cohort's follow-up window: quarter end + `months` months."""
    text = pl.col(cohort).cast(pl.String)
    year = text.str.slice(0, 4).cast(pl.Int32)
    last_month = text.str.slice(6, 1).cast(pl.Int32) * 3
    first_of_last_month = pl.date(year, last_month, 1)
    return first_of_last_month.dt.offset_by(pl.format("{}mo", months)).dt.month_end()


def prepare(frame: pl.DataFrame, by: Sequence[str], outcome: str, where: str) -> pl.DataFrame:
    if outcome not in OUTCOMES:
        raise ValueError(f"{where}: outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
    require_columns(frame, ["cohort", "followup_months", "cohort_size", outcome, *by], where)
    bad = frame.filter(~pl.col("cohort").cast(pl.String).str.contains(_COHORT_PATTERN))
    if bad.height:
        raise ValueError(f"{where}: cohort must be written YYYY-Qn; found {bad['cohort'][0]!r}")
    frame = counts_as_int(frame, ["followup_months", "cohort_size", outcome], where)
    if frame["followup_months"].null_count():
        raise ValueError(f"{where}: followup_months has missing values")
    return frame


def closed_window_rows(frame: pl.DataFrame, as_of: dt.date, windows: Sequence[int]) -> pl.DataFrame:
    """Rows at a requested window whose window has closed by as_of."""
    return frame.filter(
        pl.col("followup_months").is_in(list(windows))
        & (window_closes(pl.col("followup_months")) <= pl.lit(as_of))
    ).rename({"followup_months": "window_months"})


def _cohort_span() -> list[pl.Expr]:
    return [
        pl.col("cohort").n_unique().cast(pl.Int64).alias("cohorts"),
        pl.col("cohort").min().alias("first_cohort"),
        pl.col("cohort").max().alias("last_cohort"),
    ]


def _with_every_window(
    summed: pl.DataFrame, frame: pl.DataFrame, by: list[str], windows: Sequence[int]
) -> pl.DataFrame:
    """Every group of the input × every requested window, so an unfinished window shows."""
    window_frame = pl.DataFrame(
        {"window_months": list(windows)}, schema={"window_months": pl.Int64}
    )
    groups = frame.select(by).unique() if by else pl.DataFrame({"_k": [0]})
    grid = groups.join(window_frame, how="cross").drop("_k", strict=False)
    return grid.join(summed, on=[*by, "window_months"], how="left").sort(
        [*by, "window_months"], nulls_last=True
    )


@implements("recidivism.rate")
def recidivism_rates(
    frame: pl.DataFrame,
    as_of: dt.date | str,
    windows: Sequence[int] = WINDOWS,
    outcome: str = "rearrested",
    by: str | Sequence[str] | None = ("group",),
) -> pl.DataFrame:
    """Share with an event within each window, over cohorts whose window has closed; Wilson CI.

    Pass by=("group", "cohort") for the trend across cohorts (or use
    recidivism_trend). A window no cohort has completed gets a not_computable
    row saying so.
    """
    where = "recidivism_rates"
    by = as_columns(by)
    frame = prepare(frame, by, outcome, where)
    closed = closed_window_rows(frame, as_of_date(as_of), windows)
    summed = aggregate(
        closed,
        [*by, "window_months"],
        [strict_sum(outcome), strict_sum("cohort_size"), *_cohort_span()],
    )
    grid = _with_every_window(summed, frame, by, windows).with_columns(
        pl.col("cohorts").fill_null(0)
    )
    share = wilson(pl.col(outcome), pl.col("cohort_size"))
    out = grid.with_columns(
        pl.lit(outcome).alias("outcome"),
        pl.col(outcome).alias("numerator"),
        pl.col("cohort_size").alias("denominator"),
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
    ).with_columns(
        classify(
            [
                (
                    pl.col("cohorts") == 0,
                    NOT_COMPUTABLE,
                    "no cohort has completed this window by the as-of date",
                ),
                *proportion_rules(),
            ]
        )
    )
    return finish(
        out,
        "recidivism.rate",
        [*by, "window_months", "outcome"],
        ["cohorts", "first_cohort", "last_cohort"],
    )


def recidivism_trend(
    frame: pl.DataFrame,
    as_of: dt.date | str,
    window: int = 12,
    outcome: str = "rearrested",
    by: str | Sequence[str] | None = ("group",),
) -> pl.DataFrame:
    """The fixed-window rate of each entry cohort; cohorts still inside it are not computable."""
    return recidivism_rates(frame, as_of, (window,), outcome, [*as_columns(by), "cohort"])


def _group_sum(column: str, group: str, name: str) -> pl.Expr:
    values = pl.col(column).filter(pl.col("group") == group)
    return pl.when(values.null_count() > 0).then(None).otherwise(values.sum()).alias(name)


@implements(
    "recidivism.rate",
    "recidivism.risk_difference",
    "recidivism.risk_ratio",
    "recidivism.odds_ratio",
)
def lead_vs_comparison(
    frame: pl.DataFrame,
    as_of: dt.date | str,
    windows: Sequence[int] = WINDOWS,
    outcome: str = "rearrested",
    by: str | Sequence[str] | None = None,
    lead: str = "lead",
    comparison: str = "comparison",
) -> pl.DataFrame:
    """LEAD against the comparison group for each window, over cohorts closed by as_of.

    Rows per window: each group's rate (Wilson), then the risk difference
    (Newcombe), risk ratio (Katz; the headline) and odds ratio (Woolf; beside
    it, to set next to the published "58% lower odds"). The `group` column is
    "lead", "comparison" or "lead_vs_comparison". Comparison rows carry LEAD's
    cells as numerator/denominator and the comparison group's as
    reference_numerator/reference_denominator.
    """
    where = "lead_vs_comparison"
    by = as_columns(by)
    if "group" in by:
        raise ValueError(f"{where}: 'group' is compared, not grouped by; leave it out of by")
    frame = prepare(frame, [*by, "group"], outcome, where)
    closed = closed_window_rows(frame, as_of_date(as_of), windows)
    wide = aggregate(
        closed,
        [*by, "window_months"],
        [
            _group_sum(outcome, lead, "a"),
            _group_sum("cohort_size", lead, "n1"),
            _group_sum(outcome, comparison, "b"),
            _group_sum("cohort_size", comparison, "n0"),
            *_cohort_span(),
        ],
    )
    grid = _with_every_window(wide, frame, by, windows).with_columns(pl.col("cohorts").fill_null(0))
    none_closed = (
        pl.col("cohorts") == 0,
        NOT_COMPUTABLE,
        "no cohort has completed this window by the as-of date",
    )
    cells = [
        pl.col("a").alias("numerator"),
        pl.col("n1").alias("denominator"),
        pl.col("b").alias("reference_numerator"),
        pl.col("n0").alias("reference_denominator"),
    ]
    no_events = (
        (pl.col("a") == 0) & (pl.col("b") == 0),
        NOT_COMPUTABLE,
        "neither group had an event: no ratio",
    )
    parts = []
    for group_code, x, n in ((lead, "a", "n1"), (comparison, "b", "n0")):
        share = wilson(pl.col(x), pl.col(n))
        parts.append(
            grid.with_columns(
                pl.lit("recidivism.rate").alias("metric_id"),
                pl.lit(group_code).alias("group"),
                pl.col(x).alias("numerator"),
                pl.col(n).alias("denominator"),
                pl.lit(None, pl.Int64).alias("reference_numerator"),
                pl.lit(None, pl.Int64).alias("reference_denominator"),
                share.estimate.alias("estimate"),
                share.low.alias("ci_low"),
                share.high.alias("ci_high"),
            ).with_columns(classify([none_closed, *proportion_rules()]))
        )
    a, n1, b, n0 = pl.col("a"), pl.col("n1"), pl.col("b"), pl.col("n0")
    rd = newcombe_difference(a, n1, b, n0)
    rr = ratio_of_proportions(a, n1, b, n0)
    odds = odds_ratio(a, n1, b, n0)
    all_events = (
        (a == n1) & (b == n0),
        NOT_COMPUTABLE,
        "everyone in both groups had an event: no odds ratio",
    )
    comparisons = (
        ("recidivism.risk_difference", rd, []),
        ("recidivism.risk_ratio", rr, [no_events]),
        ("recidivism.odds_ratio", odds, [no_events, all_events]),
    )
    for metric, est, extra_rules in comparisons:
        extra_notes = []
        if est.corrected is not None:
            extra_notes.append(
                pl.when(est.corrected).then(pl.lit("0.5 added to every cell because one was zero"))
            )
        parts.append(
            grid.with_columns(
                pl.lit(metric).alias("metric_id"),
                pl.lit(f"{lead}_vs_{comparison}").alias("group"),
                *cells,
                est.estimate.alias("estimate"),
                est.low.alias("ci_low"),
                est.high.alias("ci_high"),
            ).with_columns(
                # Undefined ratios (no events at all) rank with the other not-computable causes,
                # before the size minimums.
                classify(
                    [none_closed, *two_group_rules()[:3], *extra_rules, *two_group_rules()[3:]],
                    extra_notes,
                )
            )  # fmt: skip
        )
    columns = [*by, "window_months", "group", "metric_id", "estimate", "ci_low", "ci_high",
               "numerator", "denominator", *REFERENCE_COLUMNS, "reliability", "note",
               "cohorts", "first_cohort", "last_cohort"]  # fmt: skip
    out = pl.concat([p.select(columns) for p in parts]).with_columns(
        pl.lit(outcome).alias("outcome")
    )
    order = {m: i for i, m in enumerate([p for p, _, _ in comparisons])}
    out = out.sort(
        [*by, "window_months", pl.col("metric_id").replace_strict(order, default=-1),
         pl.col("group") != lead],
        nulls_last=True,
    )  # fmt: skip
    return finish(
        out,
        pl.col("metric_id"),
        [*by, "window_months", "outcome", "group"],
        [*REFERENCE_COLUMNS, "cohorts", "first_cohort", "last_cohort"],
    )


@implements("recidivism.cumulative_curve")
def cumulative_rearrest_curve(
    frame: pl.DataFrame,
    as_of: dt.date | str,
    outcome: str = "rearrested",
    by: str | Sequence[str] | None = ("group",),
) -> pl.DataFrame:
    """Life-table cumulative share with an event by each follow-up point, with Greenwood bands.

    Follow-up points are the distinct `followup_months` in the frame. A cohort
    is at risk in interval (t_prev, t] if its counts are known and its window
    closed at every point up to t_prev; it contributes its new events if its
    window closed at t too, otherwise its remaining people are censored in the
    interval. Columns `at_risk`, `events` and `censored` give the table behind
    the curve ("number at risk" row); `numerator` is the events so far and
    `denominator` the people followed from entry.
    """
    where = "cumulative_rearrest_curve"
    by = as_columns(by)
    frame = prepare(frame, by, outcome, where)
    as_of = as_of_date(as_of)
    unit = [*by, "cohort"]
    per_cohort = aggregate(
        frame, [*unit, "followup_months"], [strict_sum(outcome), strict_sum("cohort_size")]
    ).with_columns(pl.lit(True).alias("_row"))
    points = pl.DataFrame(
        {"followup_months": sorted(per_cohort["followup_months"].unique().to_list())},
        schema={"followup_months": pl.Int64},
    )
    grid = (
        per_cohort.select(unit)
        .unique()
        .join(points, how="cross")
        .join(per_cohort, on=[*unit, "followup_months"], how="left")
        .with_columns(
            pl.col("cohort_size").max().over(unit).alias("_size"),
            (pl.col("cohort_size").null_count().over(unit) > 0).alias("_size_withheld"),
        )
    )
    observed = (
        pl.col("_row").fill_null(False)
        & pl.col(outcome).is_not_null()
        & ~pl.col("_size_withheld")
        & (window_closes(pl.col("followup_months")) <= pl.lit(as_of))
    )
    entered = ~pl.col("_size_withheld") & (window_closes(pl.lit(0)) <= pl.lit(as_of))
    grid = grid.with_columns(observed.cast(pl.Int64).alias("_observed")).with_columns(
        pl.col("_observed").cum_prod().over(unit, order_by="followup_months").alias("_through")
    )
    grid = grid.with_columns(
        pl.col("_through")
        .shift(1)
        .over(unit, order_by="followup_months")
        .fill_null(entered.cast(pl.Int64))
        .alias("_through_before"),
        pl.col(outcome)
        .shift(1)
        .over(unit, order_by="followup_months")
        .fill_null(0)
        .alias("_before"),
    )
    at_risk_start = pl.col("_through_before") == 1
    at_risk = pl.when(at_risk_start).then(pl.col("_size") - pl.col("_before")).otherwise(0)
    events = (
        pl.when(at_risk_start & (pl.col("_through") == 1))
        .then(pl.col(outcome) - pl.col("_before"))
        .otherwise(0)
    )
    censored = pl.when(at_risk_start & (pl.col("_through") == 0)).then(at_risk).otherwise(0)
    inconsistent = (
        at_risk_start
        & (pl.col("_through") == 1)
        & ((pl.col(outcome) < pl.col("_before")) | (pl.col(outcome) > pl.col("_size")))
    )
    table = aggregate(
        grid.with_columns(
            at_risk.alias("at_risk"),
            events.alias("events"),
            censored.alias("censored"),
            inconsistent.alias("_inconsistent"),
            at_risk_start.alias("_in"),
        ),
        [*by, "followup_months"],
        [
            pl.col("at_risk").sum(),
            pl.col("events").sum(),
            pl.col("censored").sum(),
            pl.col("_inconsistent").any(),
            pl.col("_in").sum().cast(pl.Int64).alias("cohorts"),
        ],
    )
    table = actuarial_survival(table, by, "followup_months")
    keys = by or None
    table = table.with_columns(
        pl.col("events").cum_sum().over(keys, order_by="followup_months").alias("numerator")
        if keys
        else pl.col("events").cum_sum().alias("numerator"),
        pl.col("at_risk").first().over(keys, order_by="followup_months").alias("denominator")
        if keys
        else pl.col("at_risk").first().alias("denominator"),
        (1.0 - pl.col("survival")).alias("estimate"),
        (1.0 - pl.col("survival_high")).alias("ci_low"),
        (1.0 - pl.col("survival_low")).alias("ci_high"),
        pl.lit(outcome).alias("outcome"),
    )
    out = table.with_columns(
        classify(
            [
                (pl.col("_inconsistent"), NOT_COMPUTABLE, "cumulative counts are inconsistent"),
                (pl.col("at_risk") == 0, NOT_COMPUTABLE, "no one left at risk"),
                (withheld("survival"), NOT_COMPUTABLE, "no one left at risk"),
                (
                    pl.col("at_risk") < STABLE_EVENTS,
                    UNSTABLE,
                    f"fewer than {STABLE_EVENTS} people at risk: interpret with caution",
                ),
            ],
            [
                pl.when(pl.col("survival") == 1.0).then(
                    pl.lit("no events yet: the band is undefined")
                )
            ],
        )
    )
    return finish(
        out,
        "recidivism.cumulative_curve",
        [*by, "followup_months", "outcome"],
        ["at_risk", "events", "censored", "effective_at_risk", "cohorts"],
    )
