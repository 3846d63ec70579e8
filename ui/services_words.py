"""Words for the Services page, written from protected numbers only.

Pure functions that draw nothing: each reads published values (a withheld value is
null with its reason beside it) and never states a withheld number. Shares are
of active participant-months, which is the same as the share of active
participants reached in an average month of the period.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from briefing import sentences
from briefing.sentences import format_count, format_percent
from data_access.disclosure import COMBINED_RACE_CODE, COMBINED_RACE_LABEL, Protected
from data_access.periods import Period, parse_period
from data_access.vocabulary import SERVICES, label
from ui.derive import derived
from ui.headlines import Headline, count_change

UNKNOWN_RACE = "unknown"
SERVICE_CODES = tuple(SERVICES)


def service_name(code: str) -> str:
    return label("service", code)


def race_name(code: str) -> str:
    return COMBINED_RACE_LABEL if code == COMBINED_RACE_CODE else label("race_ethnicity", code)


@derived
def with_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """Service and race codes replaced by their plain-language names, for charts and tables."""
    updates = []
    if "service" in frame.columns:
        updates.append(pl.col("service").map_elements(service_name, return_dtype=pl.String))
    if "race_ethnicity" in frame.columns:
        updates.append(pl.col("race_ethnicity").map_elements(race_name, return_dtype=pl.String))
    return frame.with_columns(updates) if updates else frame


@derived
def caseload_headline(change: Protected, period: Period) -> Headline:
    """The active caseload figure with its change, worded as one caseload ("was", not "were").

    `change` is the "caseload_change" table of the services view (or "change" of the
    caseload_headline view): average monthly active caseload against the previous
    period and a year earlier.
    """
    figure = count_change(change, label="Active caseload", period=period)
    rows = {r["comparison"]: r for r in change.frame.iter_rows(named=True)}
    previous, year_ago = rows.get("previous", {}), rows.get("year_ago", {})
    sentence = sentences.change_sentence(
        "The average monthly active caseload",
        previous.get("current"),
        previous.get("base"),
        period_label=period.phrase,
        previous_label=period.previous().phrase,
        year_ago=year_ago.get("base"),
        year_ago_label=f"in {period.year_earlier().phrase}",
        current_withheld=previous.get("current_flag") or None,
        previous_withheld=previous.get("base_flag") or None,
        year_ago_withheld=year_ago.get("base_flag") or None,
        singular=True,
    )
    return replace(figure, sentence=sentence)


@derived
def ranked_services(uptake: Protected) -> list[str]:
    """Service codes, most-used first (by published share); withheld ones last, in order."""
    frame = uptake.frame
    shown = frame.filter(pl.col("estimate").is_not_null()).sort(
        ["estimate", "service"], descending=[True, False]
    )
    rest = [s for s in frame["service"] if s not in set(shown["service"])]
    return [*shown["service"], *rest]


@derived
def services_in(frame: pl.DataFrame) -> list[str]:
    """The service codes a frame has rows for, in the release's order of services."""
    present = set(frame["service"])
    return [s for s in SERVICE_CODES if s in present]


def span_words(first: str, last: str) -> str:
    """ "in 2011", "in 2011 up to Q4 2011" or "from 2009 to Q4 2011", for a trend's span."""
    if first == last:
        return f"in {first}"
    if last.endswith(f" {first}"):
        return f"in {first} up to {last}"
    return f"from {first} to {last}"


def nobody_active(place: str, when: str, what: str) -> str:
    """Why a chart is not drawn: the place had no active participants `when` ("in 2011").

    An uptake or caseload table without rows means no participant-month at all (a
    withheld count keeps its row, with the reason), e.g. a precinct before LEAD
    worked there or the months of a launch quarter before the first enrollment.
    """
    return (
        f"No participants were active in {place} {when}, so there is no {what} to show. "
        "Choose another period to see it."
    )


@derived
def uptake_title(uptake: Protected, when: str) -> str:
    """ "Groceries reached 50% of active participants in an average month of Q4 2025, the
    most of any service" (or "of the services shown" when some are withheld)."""
    frame = uptake.frame
    shown = frame.filter(pl.col("estimate").is_not_null())
    if shown.is_empty():
        return f"Service uptake in {when}: numbers too small to publish"
    top = shown.sort(["estimate", "service"], descending=[True, False]).row(0, named=True)
    which = "any service" if shown.height == frame.height else "the services shown"
    return (
        f"{service_name(top['service'])} reached {format_percent(top['estimate'])} of active "
        f"participants in an average month of {when}, the most of {which}"
    )


@derived
def top_service_text(uptake: Protected) -> tuple[str, str]:
    """The headline figure: ("Groceries", "50%") or ("Most-used service", "not published"),
    or "nobody active" when the period had no participant to serve (no row at all)."""
    if uptake.frame.is_empty():
        return "Most-used service", "nobody active"
    ranked = ranked_services(uptake)
    frame = uptake.frame.filter(pl.col("estimate").is_not_null())
    if frame.is_empty() or not ranked:
        return "Most-used service", "not published"
    top = frame.filter(pl.col("service") == ranked[0]).row(0, named=True)
    return service_name(top["service"]), format_percent(top["estimate"])


@derived
def trend_title(trend: pl.DataFrame, service: str, grain: str) -> str:
    """ "Housing: 35% of active participants in Q4 2025, against 34% in Q1 2023"."""
    rows = trend.filter(pl.col("service") == service).sort("period")
    name = service_name(service)
    shown = rows.filter(pl.col("estimate").is_not_null())
    if shown.is_empty():
        return f"{name} by {grain}: every value is too small to publish"
    last = shown.row(-1, named=True)
    first = shown.row(0, named=True)
    last_when = parse_period(last["period"]).short
    text = f"{name}: {format_percent(last['estimate'])} of active participants in {last_when}"
    if first["period"] != last["period"]:
        first_when = parse_period(first["period"]).short
        text += f", against {format_percent(first['estimate'])} in {first_when}"
    return text


@derived
def race_title(by_race: pl.DataFrame, service: str, when: str) -> str:
    """ "Housing in 2025: from 28% (Asian) to 38% (White) of active participants, by race"."""
    rows = by_race.filter(
        (pl.col("service") == service)
        & (pl.col("race_ethnicity") != UNKNOWN_RACE)
        & pl.col("estimate").is_not_null()
    ).sort(["estimate", "race_ethnicity"])
    name = service_name(service)
    if rows.height < 2:
        return f"{name} by race in {when}: too few people in most groups to compare"
    low, high = rows.row(0, named=True), rows.row(-1, named=True)
    return (
        f"{name} in {when}: from {format_percent(low['estimate'])} "
        f"({race_name(low['race_ethnicity'])}) to {format_percent(high['estimate'])} "
        f"({race_name(high['race_ethnicity'])}) of active participants, by race"
    )


@derived
def unknown_race_sentence(unknown: Protected, when: str) -> str:
    """How much of the caseload has no recorded race, or why that is not shown."""
    rows = unknown.frame
    if rows.is_empty():
        return f"The share of participants with race not recorded in {when} is not published."
    row = rows.row(0, named=True)
    if row["estimate"] is None:
        reason = row.get("estimate_flag") or "not published"
        return (
            f"The share of active participant-months with race not recorded in {when} is "
            f"withheld ({reason})."
        )
    counts = ""
    if row.get("numerator") is not None and row.get("denominator") is not None:
        counts = f" ({format_count(row['numerator'])} of {format_count(row['denominator'])})"
    return (
        f"Race was not recorded for {format_percent(row['estimate'])} of active "
        f"participant-months in {when}{counts}; those participants are shown as "
        "“Race unknown” and are not a group of people."
    )
