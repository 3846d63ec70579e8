"""Views of referrals and eligibility screening, from the referral-flow cube."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import DerivedKind, Protected, protect_derived
from data_access.metrics.stats import wilson
from data_access.periods import Period, parse_period, whole_year_for, whole_year_note
from data_access.views.base import Selection, ViewResult, view, words
from data_access.views.levels import change_figures, pick, time_column
from data_access.views.referral_flow import COUNT, ELIGIBLE, EXCLUDED, NONE, referral_flow
from data_access.vocabulary import SCREENING_OUTCOMES


def cube_for(engine: sa.Engine, selection: Selection, audience: Audience):
    """The release and its referral-flow cube; with the selection made site-wide when the
    cube itself is restricted to staff's chosen precincts (its totals are then theirs)."""
    release = q.get_release(engine, selection.release_id)
    if audience is Audience.STAFF and selection.precinct_ids:
        cube = referral_flow(
            engine, release.release_id, release.checksum, selection.site_id, audience,
            selection.precinct_ids,
        )  # fmt: skip
        return release, cube, replace(selection, precinct_ids=())
    cube = referral_flow(engine, release.release_id, release.checksum, selection.site_id, audience)
    return release, cube, selection


def referral_counts(cube, selection: Selection, time: str) -> Protected:
    """Referrals per period (site, or the selected precinct), column `referrals`."""
    if selection.precinct_ids:
        level, equal = ("referred", "precinct_id", time), {"precinct_id": selection.precinct_ids[0]}
    else:
        level, equal = ("referred", time), {}
    return pick(
        cube, level, equal={"referred": "yes", **equal}, drop=("referred", "precinct_id")
    ).subset(rename={COUNT: "referrals"})


_EXCLUSIONS = tuple(c for c in SCREENING_OUTCOMES if c.startswith("excluded_"))
# (stage, metric id, outcomes summed, base stage)
_STAGES = (
    ("referred", "screening.referred", (), "referred"),
    ("excluded", "screening.excluded", ("stage:excluded",)),
    *((code, "screening.excluded", (code,)) for code in _EXCLUSIONS),
    ("eligible", "screening.eligible", ("stage:eligible",)),
    ("enrolled", "screening.enrolled", ("enrolled",)),
    ("declined", "screening.declined", ("declined",)),
    ("pending", "screening.pending", ("pending",)),
)
# Every stage is a share of everyone referred: that base is always published, so
# a withheld "pending" count cannot take the enrolled share down with it.
_BASE: dict[str, str] = {}


def funnel_period(selection: Selection, as_of: dt.date) -> Period:
    """The funnel's period: the selected one, or for one precinct its whole year."""
    period = parse_period(selection.period)
    return whole_year_for(period, as_of) if selection.precinct_ids else period


def _funnel(cube, selection: Selection, time: str, as_of: dt.date, audience: Audience) -> Protected:
    """The screening funnel for the selected period, from published counts only.

    Referred is the published referral total; "excluded (any reason)" and
    "eligible" are the cube's `screen` margins, protected with everything else
    (a sum of outcomes made here could be pinned by subtraction). Shares, with
    Wilson intervals, then go through the complement and size rules.
    """
    period = parse_period(selection.period)
    if selection.precinct_ids:
        place = {"precinct_id": selection.precinct_ids[0]}
        code = funnel_period(selection, as_of).code
        level, grain = ("outcome", "precinct_id", "year"), "year"
        total = pick(cube, ("referred", "precinct_id", "year"), equal={"referred": "yes", **place})
    else:
        place, level, grain, code = {}, ("outcome", time), time, period.code
        total = pick(cube, ("referred", time), equal={"referred": "yes"})
    outcomes = pick(cube, level, equal={grain: code, **place}).frame
    # "Excluded (any reason)" and "eligible" are cube margins of their own, protected with
    # the rest: as sums of outcomes in the view they could be pinned by subtraction.
    stages = pick(cube, ("screen", *level[1:]), equal={grain: code, **place}).frame
    stages = stages.filter(pl.col("screen").is_in([EXCLUDED, ELIGIBLE]))
    published = {r["outcome"]: r[COUNT] for r in outcomes.iter_rows(named=True)}
    reasons = {r["outcome"]: r[f"{COUNT}_flag"] for r in outcomes.iter_rows(named=True)}
    published |= {f"stage:{r['screen']}": r[COUNT] for r in stages.iter_rows(named=True)}
    reasons |= {f"stage:{r['screen']}": r[f"{COUNT}_flag"] for r in stages.iter_rows(named=True)}
    referred_row = total.frame.filter(pl.col(grain) == code)
    counts = {"referred": referred_row[COUNT][0] if referred_row.height else None}
    flags = {"referred": referred_row[f"{COUNT}_flag"][0] if referred_row.height else ""}
    for stage, _, codes, *_ in _STAGES[1:]:
        values = [published.get(c, 0) for c in codes]
        counts[stage] = None if any(v is None for v in values) else sum(values)
        # One outcome keeps its own reason ("fewer than k"); a sum says why it is unknown.
        flags[stage] = reasons.get(codes[0], "") if len(codes) == 1 else ""
    rows = [
        {
            "metric_id": metric,
            "stage": stage,
            "base_stage": _BASE.get(stage, "referred"),
            "numerator": counts[stage],
            "denominator": counts[_BASE.get(stage, "referred")],
            # Each count keeps its own reason; the share is withheld when either is.
            "numerator_flag": flags[stage],
            "denominator_flag": flags[_BASE.get(stage, "referred")],
            "count_flag": flags[stage] or flags[_BASE.get(stage, "referred")],
        }
        for stage, metric, *_ in _STAGES
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "metric_id": pl.String,
            "stage": pl.String,
            "base_stage": pl.String,
            "numerator": pl.Int64,
            "denominator": pl.Int64,
            "numerator_flag": pl.String,
            "denominator_flag": pl.String,
            "count_flag": pl.String,
        },
    )
    share = wilson(pl.col("numerator"), pl.col("denominator"))
    frame = frame.with_columns(
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
        pl.when(pl.col("count_flag") != "")
        .then(pl.col("count_flag"))
        .when(pl.col("numerator").is_null() | pl.col("denominator").is_null())
        .then(pl.lit("based on a withheld count"))
        .otherwise(pl.lit(""))
        .alias("count_flag"),
    )
    return protect_derived(
        frame,
        view="referrals.funnel",
        keys=["metric_id", "stage", "base_stage"],
        numerator="numerator",
        denominator="denominator",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["count_flag"],
        keep_counts=True,
        count_flags={"numerator": "numerator_flag", "denominator": "denominator_flag"},
        audience=audience,
    )


@view("referrals")
def referrals_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Referral trend, breakdowns for the selected period, and the screening funnel."""
    release, cube, selection = cube_for(engine, selection, audience)
    period = parse_period(selection.period)
    time = time_column(period)
    trend = referral_counts(cube, selection, "quarter")
    in_period = referral_counts(cube, selection, time)
    tables: dict[str, Protected] = {
        "trend": trend,
        "change": change_figures(
            in_period,
            time=time,
            count="referrals",
            period=period,
            view="referrals.change",
            audience=audience,
        ),
    }
    notes = []
    if selection.precinct_ids:
        notes.append(
            "Pathways and offenses are published for the whole site only; a single "
            "precinct's breakdown would hold too few people."
        )
    else:
        for column in ("pathway", "offense"):
            tables[f"by_{column}"] = pick(
                cube, (column, time), equal={time: period.code}, drop=(time,)
            ).subset(rows=pl.col(column) != NONE, rename={COUNT: "referrals"})
        tables["by_precinct"] = pick(
            cube, ("referred", "precinct_id", time),
            equal={"referred": "yes", time: period.code}, drop=("referred", time),
        ).subset(rename={COUNT: "referrals"})  # fmt: skip
    tables["funnel"] = _funnel(cube, selection, time, release.as_of, audience)
    funnel = funnel_period(selection, release.as_of)
    if selection.precinct_ids and (year_note := whole_year_note(period, funnel)):
        notes.append(year_note)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    facts = words(
        {
            "period_phrase": period.phrase,
            "period_span": period.span,
            "screening_published": "yes" if "screening" in present else "no",
            "funnel_grain": funnel.grain,
            "funnel_phrase": funnel.phrase,
        }
    )
    return ViewResult("referrals", tables, facts, tuple(notes))
