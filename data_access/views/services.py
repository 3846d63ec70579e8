"""Views of service uptake and the active caseload, from the caseload-and-services cubes.

Uptake of a service is the share of active participant-months in which the
service was received (metric services.uptake): served / active, both summed
over the months of the period, with a Wilson 95% interval. Both counts are
read from the *published* cells of one site-year cube (withheld = null, which
stays null), and the shares then pass through protect_derived (complement,
denominator and unstable rules).

The active caseload is published as the average monthly active caseload: the
participant-months active in the period divided by the months of the period
the program was running. It is the closest figure to what LEAD sites report
("clients enrolled at the end of the quarter") that a monthly table allows,
and unlike participant-months it reads as a number of people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl
import sqlalchemy as sa

from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import (
    WITHHELD_COUNT_REASON,
    DerivedKind,
    Protected,
    policy_from_environment,
    protect_derived,
)
from data_access.metrics.stats import wilson
from data_access.periods import Period, parse_period, whole_year_for, whole_year_note
from data_access.views.base import Selection, ViewResult, view, words
from data_access.views.caseload_cube import COUNT, SERVICE_CODES, YES, CaseloadCube
from data_access.views.caseload_cube import caseload_services as _cube
from data_access.views.levels import CHANGE_SCHEMA

# Quarters shown in trends: this many calendar years, ending with the selected period's.
TREND_YEARS = 3
CASELOAD_DEFINITION = (
    "Average monthly active caseload: the number of participants active in a month, "
    "averaged over the months of the period in which the program was running "
    "(participant-months active divided by months)."
)
UNKNOWN_RACE = "unknown"
NO_DATA = "no data for this period"


# ------------------------------------------------------------------ cubes and published cells


def _cubes(
    engine: sa.Engine, selection: Selection, audience: Audience, years: Iterable[int]
) -> tuple[q.Release, dict[int, CaseloadCube]]:
    if audience is Audience.PUBLIC and len(selection.precinct_ids) > 1:
        # A sum over a chosen set of precincts could be subtracted from another set's.
        raise ValueError(
            f"the public may choose one precinct or all, not {len(selection.precinct_ids)}"
        )
    release = q.get_release(engine, selection.release_id)
    cubes = {
        year: _cube(engine, release.release_id, release.checksum, selection.site_id, year, audience)
        for year in sorted(set(years))
    }
    return release, cubes


def _level_frame(
    cubes: dict[int, CaseloadCube], level: Sequence[str], served: str | None = None
) -> pl.DataFrame:
    """A published level's rows over the years (withheld counts are null, reasons in `_flag`).

    With `served`, only the rows of participant-months that received that service.
    """
    flag = f"{COUNT}_flag"
    parts = []
    for cube in cubes.values():
        if cube.counts is None or (served and not cube.has_services):
            continue
        frame = cube.counts.level(level).frame
        if served:
            frame = frame.filter(pl.col(served) == YES).drop(served)
        parts.append(frame.with_columns(pl.col(flag).fill_null("")))
    if not parts:
        columns = [c for c in level if c != served]
        return pl.DataFrame(
            schema={**dict.fromkeys(columns, pl.String), COUNT: pl.Int64, flag: pl.String}
        )
    return pl.concat(parts, how="vertical_relaxed")


def _sum_exact(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Sum over precincts; a sum with a withheld part is withheld (staff output has none)."""
    flag = f"{COUNT}_flag"
    return frame.group_by(by, maintain_order=True).agg(
        pl.when(pl.col(COUNT).null_count() > 0).then(None).otherwise(pl.col(COUNT).sum())
        .alias(COUNT),
        pl.col(flag).filter(pl.col(flag) != "").first().fill_null("").alias(flag),
    )  # fmt: skip


def _place(frame: pl.DataFrame, selection: Selection, by: list[str]) -> pl.DataFrame:
    """Rows of the selected precinct(s): one precinct as published, several (staff) summed."""
    if not selection.precinct_ids:
        return frame
    chosen = frame.filter(pl.col("precinct_id").is_in(list(selection.precinct_ids)))
    return _sum_exact(chosen.drop("precinct_id"), by)


def active_counts(cubes: dict[int, CaseloadCube], selection: Selection, time: str) -> pl.DataFrame:
    """Active participant-months per period: columns period, participant_months (+ flag)."""
    level = ("precinct_id", time) if selection.precinct_ids else (time,)
    frame = _place(_level_frame(cubes, level), selection, [time])
    return frame.rename({time: "period"}).sort("period")


def served_counts(cubes: dict[int, CaseloadCube], selection: Selection, time: str) -> pl.DataFrame:
    """Participant-months served per service and period: service, period, served (+ flag).

    A period with caseload but no row for a service served nobody with it (zero).
    """
    parts = []
    for service in SERVICE_CODES:
        if selection.precinct_ids:
            if time != "year":
                raise ValueError("services by precinct are published by year only")
            level: tuple[str, ...] = (service, "precinct_id", "year")
        else:
            level = (service, time)
        frame = _place(_level_frame(cubes, level, served=service), selection, [time])
        parts.append(frame.select(pl.lit(service).alias("service"), pl.all()))
    return (
        pl.concat(parts, how="vertical_relaxed")
        .rename({time: "period", COUNT: "served", f"{COUNT}_flag": "served_flag"})
        .sort("service", "period")
    )


# ------------------------------------------------------------------ derived figures


def _share_frame(counts: pl.DataFrame) -> pl.DataFrame:
    """Wilson share of `numerator` in `denominator`, with the reason a count is unknown."""
    share = wilson(pl.col("numerator"), pl.col("denominator"))
    return counts.with_columns(
        share.estimate.alias("estimate"),
        share.low.alias("ci_low"),
        share.high.alias("ci_high"),
        pl.when(pl.col("count_flag") != "")
        .then(pl.col("count_flag"))
        .when(pl.col("numerator").is_null() | pl.col("denominator").is_null())
        .then(pl.lit(WITHHELD_COUNT_REASON))
        .otherwise(pl.lit(""))
        .alias("count_flag"),
    )


def _protect_shares(
    frame: pl.DataFrame,
    keys: list[str],
    view: str,
    audience: Audience,
    count_flags: dict[str, str] | None = None,
):
    """Shares with their counts; `count_flags` gives each count its own reason's column."""
    return protect_derived(
        _share_frame(frame),
        view=view,
        keys=keys,
        numerator="numerator",
        denominator="denominator",
        estimates=["estimate", "ci_low", "ci_high"],
        kind=DerivedKind.PROPORTION,
        withheld_flags=["count_flag"],
        keep_counts=True,
        count_flags=count_flags,
        audience=audience,
    )


def uptake_table(
    served: pl.DataFrame, active: pl.DataFrame, keys: Sequence[str], view: str, audience: Audience
) -> Protected:
    """Uptake of each service per `keys` (e.g. period, or race), from published counts.

    served: keys + service + served (+ served_flag); active: keys + participant_months
    (+ flag). Every service gets a row for every group that has caseload; a missing
    served row is zero served. A share is unknown where either count is withheld.
    """
    keys = list(keys)
    service_order = pl.DataFrame({"service": list(SERVICE_CODES)})
    grid = active.join(service_order, how="cross")
    rows = grid.join(served, on=[*keys, "service"], how="left", maintain_order="left")
    rows = rows.with_columns(
        pl.when(pl.col("served_flag").is_null())
        .then(pl.col("served").fill_null(0))  # no row at all: nobody served
        .otherwise(pl.col("served"))
        .alias("numerator"),
        pl.col(COUNT).alias("denominator"),
        pl.coalesce(
            pl.when(pl.col("served_flag").fill_null("") != "").then(pl.col("served_flag")),
            pl.when(pl.col(f"{COUNT}_flag") != "").then(pl.col(f"{COUNT}_flag")),
            pl.lit(""),
        ).alias("count_flag"),
    )
    order = {code: i for i, code in enumerate(SERVICE_CODES)}
    rows = rows.sort([*keys, pl.col("service").replace_strict(order)])
    frame = rows.select(
        pl.lit("services.uptake").alias("metric_id"),
        *keys,
        "service",
        pl.col("numerator").cast(pl.Int64),
        pl.col("denominator").cast(pl.Int64),
        "count_flag",
    )
    return _protect_shares(frame, ["metric_id", *keys, "service"], view, audience)


def months_running(code: str, launched: str, as_of: dt.date) -> int:
    """Months of period `code` on or after the launch month and no later than `as_of`."""
    period = parse_period(code)
    last = f"{as_of.year:04d}-{as_of.month:02d}"
    first_month = int(period.start_month[5:])
    months = [
        f"{period.year:04d}-{m:02d}" for m in range(first_month, int(period.end_month[5:]) + 1)
    ]
    return sum(1 for m in months if launched <= m <= last)


def _averages(
    active: pl.DataFrame, launched: str, as_of: dt.date, audience: Audience
) -> pl.DataFrame:
    """Average monthly active caseload per period, from published participant-months.

    The average is rounded to whole people; for the public an average of 1 to k-1
    is withheld as "fewer than k", as a count of that size would be. k is the
    policy's, the same that protected the participant-months it is divided from.
    """
    policy = policy_from_environment()
    months = [months_running(code, launched, as_of) for code in active["period"]]
    frame = active.with_columns(pl.Series("months", months, dtype=pl.Int64))
    average = (pl.col(COUNT) / pl.col("months")).round(0).cast(pl.Int64)
    frame = frame.with_columns(pl.when(pl.col("months") > 0).then(average).alias("average"))
    small = (pl.col("average") > 0) & (pl.col("average") < policy.k)
    if audience is Audience.STAFF:
        small = pl.lit(False)
    return frame.with_columns(
        pl.when(pl.col(f"{COUNT}_flag") != "")
        .then(pl.col(f"{COUNT}_flag"))
        .when(pl.col("months") == 0)
        .then(pl.lit(NO_DATA))
        .when(small.fill_null(False))
        .then(pl.lit(policy.small_reason))
        .otherwise(pl.lit(""))
        .alias("average_flag")
    )


def caseload_trend(
    active: pl.DataFrame, launched: str, as_of: dt.date, view: str, audience: Audience
) -> Protected:
    """Average monthly active caseload per period, beside its participant-months."""
    frame = _averages(active, launched, as_of, audience).filter(pl.col("months") > 0)
    frame = frame.select(
        "period",
        "months",
        COUNT,
        pl.col("average").cast(pl.Float64).alias("average_active"),
        "average_flag",
    )
    return protect_derived(
        frame,
        view=view,
        keys=["period", "months"],
        denominator=COUNT,
        estimates=["average_active"],
        kind=DerivedKind.PER_PERSON,
        withheld_flags=["average_flag"],
        keep_counts=True,
        audience=audience,
    )


def caseload_change(
    active: pl.DataFrame,
    period: Period,
    launched: str,
    as_of: dt.date,
    view: str,
    audience: Audience,
) -> Protected:
    """The average monthly active caseload of the period against the previous period and a
    year earlier, in the shape of levels.change_figures (so headlines.count_change reads it).

    current/base are the averages (whole people); change is their difference;
    relative_change is computed from the unrounded averages.
    """
    averages = _averages(active, launched, as_of, audience)
    exact = (pl.col(COUNT) / pl.col("months")).alias("exact")
    averages = averages.with_columns(pl.when(pl.col("months") > 0).then(exact).otherwise(None))
    value_of = {r["period"]: r for r in averages.iter_rows(named=True)}
    now = value_of.get(period.code, {})
    rows = []
    for name, other in (("previous", period.previous()), ("year_ago", period.year_earlier())):
        then = value_of.get(other.code, {})
        current, base = now.get("average"), then.get("average")
        known = now.get("average_flag") == "" and then.get("average_flag") == ""
        known = known and current is not None and base is not None
        relative = (now["exact"] - then["exact"]) / then["exact"] if known and base else None
        rows.append(
            {
                "comparison": name,
                "period": period.code,
                "base_period": other.code,
                "current": current if now.get("average_flag") == "" else None,
                "base": base if then.get("average_flag") == "" else None,
                "change": current - base if known else None,
                "relative_change": relative,
                "current_flag": now.get("average_flag", NO_DATA),
                "base_flag": then.get("average_flag", NO_DATA),
            }
        )
    table = pl.DataFrame(rows, schema=CHANGE_SCHEMA)
    # current and base are published averages already (withheld = null, reason beside),
    # carried as row labels so a missing base does not hide the current figure.
    return protect_derived(
        table,
        view=view,
        keys=["comparison", "period", "base_period", "current", "base", "current_flag",
              "base_flag"],
        numerator="current",
        denominator="base",
        estimates=["relative_change", "change"],
        kind=DerivedKind.RATE,
        withheld_flags=["current_flag", "base_flag"],
        audience=audience,
    )  # fmt: skip


# ------------------------------------------------------------------ periods and words


def _launched(engine: sa.Engine, release_id: str, site_id: str) -> str:
    sites = q.sites(engine, release_id).filter(pl.col("site_id") == site_id)
    return str(sites["launched"][0]) if sites.height else "0000-01"


def _trend_years(period: Period, launched: str) -> list[int]:
    """The calendar years a trend covers: TREND_YEARS of them, none before the launch."""
    first = max(period.year - TREND_YEARS + 1, int(launched[:4]))
    return list(range(first, period.year + 1))


def _last_quarter(period: Period) -> str:
    return period.code if period.grain == "quarter" else f"{period.year}-Q4"


def _comparison_years(period: Period) -> set[int]:
    return {period.year, period.previous().year, period.year_earlier().year}


# ------------------------------------------------------------------ the views


@view("services")
def services_view(engine: sa.Engine, selection: Selection, audience: Audience) -> ViewResult:
    """Service uptake for the period, over time and by race, and the active caseload."""
    period = parse_period(selection.period)
    release = q.get_release(engine, selection.release_id)
    launched = _launched(engine, release.release_id, selection.site_id)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    one_place = bool(selection.precinct_ids)
    # A single precinct's services are published by year only (see caseload_cube).
    uptake_time = "year" if one_place or period.grain == "year" else "quarter"
    trend_time = "year" if one_place else "quarter"
    trend_years = _trend_years(period, launched)
    # Figures by year are for whole years: the latest one, while the period's own runs on.
    whole = whole_year_for(period, release.as_of)
    release, cubes = _cubes(
        engine, selection, audience, {*trend_years, *_comparison_years(period), whole.year}
    )
    uptake_code = period.code if uptake_time == period.grain else whole.code
    facts = {
        "period_phrase": period.phrase,
        "period_short": period.short,
        "caseload_published": "yes" if "caseload" in present else "no",
        "services_published": "yes" if "services" in present else "no",
        "caseload_definition": CASELOAD_DEFINITION,
        "uptake_grain": uptake_time,
        "uptake_period": uptake_code,
        "uptake_phrase": parse_period(uptake_code).phrase,
        "uptake_short": parse_period(uptake_code).short,
        "trend_grain": trend_time,
        "trend_first_year": str(trend_years[0]),
        "race_year": whole.code,
        "race_span": whole.span,
    }
    tables: dict[str, Protected] = {}
    year_note = whole_year_note(period, whole)
    notes: list[str] = [year_note] if year_note else []
    if "caseload" not in present:
        return ViewResult("services", tables, words(facts), ())

    trend_cubes = {y: cubes[y] for y in trend_years}
    quarterly = active_counts(trend_cubes, selection, "quarter")
    tables["caseload_trend"] = caseload_trend(
        quarterly.filter(pl.col("period") <= _last_quarter(period)),
        launched,
        release.as_of,
        "services.caseload_trend",
        audience,
    )
    in_grain = active_counts(cubes, selection, "year" if period.grain == "year" else "quarter")
    tables["caseload_change"] = caseload_change(
        in_grain, period, launched, release.as_of, "services.caseload_change", audience
    )
    if "services" in present:
        active = active_counts(cubes, selection, uptake_time)
        served = served_counts(cubes, selection, uptake_time)
        tables["uptake"] = uptake_table(
            served.filter(pl.col("period") == uptake_code),
            active.filter(pl.col("period") == uptake_code),
            ["period"],
            "services.uptake",
            audience,
        )
        trend_last = _last_quarter(period) if trend_time == "quarter" else whole.code
        trend_active = active_counts(trend_cubes, selection, trend_time)
        trend_served = served_counts(trend_cubes, selection, trend_time)
        tables["uptake_trend"] = uptake_table(
            trend_served.filter(pl.col("period") <= trend_last),
            trend_active.filter(pl.col("period") <= trend_last),
            ["period"],
            "services.uptake_trend",
            audience,
        )
    if one_place:
        notes.append(
            "For a single precinct, service uptake is published by year and not by race: "
            "a precinct's quarterly or race breakdown would hold too few people."
        )
    else:
        race_cube = {whole.year: cubes[whole.year]}
        cube = cubes[whole.year]
        if cube.counts is not None:
            race_tables = _race_tables(race_cube, whole.year, audience)
            # Each says the year it is for (unknown_race has its own year column).
            tables.update(
                {
                    k: t if "year" in t.frame.columns else t.labelled("year", whole.code)
                    for k, t in race_tables.items()
                }  # fmt: skip
            )
            if cube.fold_note:
                notes.append(cube.fold_note)
    return ViewResult("services", tables, words(facts), tuple(notes))


def _race_tables(cubes: dict[int, CaseloadCube], year: int, audience: Audience):
    """Active participant-months by race, the unknown-race share, and uptake by race."""
    cube = cubes[year]
    by_race = _level_frame(cubes, ("year", "race_ethnicity"))
    total = _level_frame(cubes, ("year",))
    tables: dict[str, Protected] = {
        "caseload_by_race": cube.counts.level(("year", "race_ethnicity")).subset(
            columns=["race_ethnicity", COUNT], sort=["race_ethnicity"]
        )
    }
    unknown = by_race.filter(pl.col("race_ethnicity") == UNKNOWN_RACE)
    total_row = total.row(0, named=True) if total.height else {COUNT: None, f"{COUNT}_flag": ""}
    unknown_row = unknown.row(0, named=True) if unknown.height else {COUNT: 0, f"{COUNT}_flag": ""}
    share = pl.DataFrame(
        {
            "metric_id": ["disparity.unknown_race_share"],
            "year": [str(year)],
            "numerator": [unknown_row[COUNT]],
            "denominator": [total_row[COUNT]],
            "count_flag": [unknown_row[f"{COUNT}_flag"] or total_row[f"{COUNT}_flag"]],
            # Each count keeps its own reason: the caseload is published though the
            # unknown part of it is withheld (and is the year's published total).
            "numerator_flag": [unknown_row[f"{COUNT}_flag"] or ""],
            "denominator_flag": [total_row[f"{COUNT}_flag"] or ""],
        },
        schema_overrides={"numerator": pl.Int64, "denominator": pl.Int64},
    )
    tables["unknown_race"] = _protect_shares(
        share,
        ["metric_id", "year"],
        "services.unknown_race",
        audience,
        count_flags={"numerator": "numerator_flag", "denominator": "denominator_flag"},
    )
    if cube.has_services:
        served = []
        for service in SERVICE_CODES:
            frame = _level_frame(cubes, (service, "year", "race_ethnicity"), served=service)
            served.append(frame.select(pl.lit(service).alias("service"), pl.all()))
        served_frame = pl.concat(served, how="vertical_relaxed").rename(
            {COUNT: "served", f"{COUNT}_flag": "served_flag"}
        )
        tables["uptake_by_race"] = uptake_table(
            served_frame.drop("year"),
            by_race.drop("year"),
            ["race_ethnicity"],
            "services.uptake_by_race",
            audience,
        )
    return tables


@view("caseload_headline")
def caseload_headline_view(
    engine: sa.Engine, selection: Selection, audience: Audience
) -> ViewResult:
    """The average monthly active caseload of the period, with its changes (for Overview)."""
    period = parse_period(selection.period)
    release = q.get_release(engine, selection.release_id)
    present = q.published_tables(engine, release.release_id, selection.site_id)
    facts = {
        "period_phrase": period.phrase,
        "caseload_published": "yes" if "caseload" in present else "no",
        "caseload_definition": CASELOAD_DEFINITION,
        "label": "Active caseload",
    }
    if "caseload" not in present:
        return ViewResult("caseload_headline", {}, words(facts))
    launched = _launched(engine, release.release_id, selection.site_id)
    release, cubes = _cubes(engine, selection, audience, _comparison_years(period))
    active = active_counts(cubes, selection, "year" if period.grain == "year" else "quarter")
    change = caseload_change(
        active, period, launched, release.as_of, "caseload_headline.change", audience
    )
    return ViewResult("caseload_headline", {"change": change}, words(facts))
