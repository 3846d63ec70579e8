"""One Briefing for one site and period, built from the protected views only.

The briefing page and `python -m briefing` both call `assemble`, so a printed
PDF carries exactly the numbers the page shows. Every figure comes out of a
view's Protected tables (data_access.views.build, the choke point) and is
worded by briefing.sentences; a withheld value travels as its reason, never as
a number. No streamlit here: the command line must run without it.

A briefing is public, always: it is handed to elected officials and may be
passed on, so it uses the public audience whoever asks for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl
import sqlalchemy as sa

from briefing import sentences
from briefing.content import (
    Briefing,
    BriefingChart,
    HeadlineItem,
    headline_item,
    methods_note,
    privacy_note,
)
from briefing.disparity import disparity_paragraph
from data_access import queries as q
from data_access.audience import Audience
from data_access.disclosure import Protected, policy_from_environment
from data_access.periods import MONTH, YEAR, Period, parse_period
from data_access.views import Selection, ViewResult, build
from data_access.views.costs import sentence_arguments
from data_access.views.recidivism import sentence_inputs
from ui import charts

PUBLIC_URL_VARIABLE = "LEAD_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://localhost:8501"
PAGE_PATH = "briefing"
TREND_QUARTERS = 12  # three years of quarters on the referrals chart
TREND_YEARS = 5  # a small site's chart shows years instead
NO_DATA = "no data"


@dataclass(frozen=True)
class Assembled:
    """A Briefing and what only the web page needs beside it.

    chart_tables: the table behind each chart, in the same order (the page's
    "Table view" and CSV download). withheld_reasons: every distinct reason a
    value in the briefing is not shown.
    """

    briefing: Briefing
    chart_tables: tuple[pl.DataFrame, ...]
    withheld_reasons: tuple[str, ...]
    site_id: str
    period: Period


# ------------------------------------------------------------------ addresses and names


def public_base_url() -> str:
    """The dashboard's public address, from LEAD_PUBLIC_URL (default http://localhost:8501)."""
    value = os.environ.get(PUBLIC_URL_VARIABLE, "").strip() or DEFAULT_PUBLIC_URL
    if not value.startswith(("http://", "https://")):
        raise ValueError(
            f"{PUBLIC_URL_VARIABLE} must be an http(s) address such as "
            f"https://lead.example.org; got {value!r}"
        )
    return value.rstrip("/")


def briefing_url(base_url: str, selection: Selection) -> str:
    """The address of the briefing page showing this site, period and release."""
    query = urlencode(
        {"site": selection.site_id, "period": selection.period, "release": selection.release_id}
    )
    return f"{base_url.rstrip('/')}/{PAGE_PATH}?{query}"


def pdf_file_name(site_id: str, period_code: str) -> str:
    """ "briefing-seattle-2025-Q4.pdf"."""
    return f"briefing-{site_id}-{period_code}.pdf"


# ------------------------------------------------------------------ values with reasons


@dataclass(frozen=True)
class _Figure:
    """A published value or the reason it is not shown (missing: both None)."""

    value: float | int | None = None
    withheld: str | None = None


_MISSING = _Figure()


def _reason(row: dict, own_flag: str, fallback_flag: str) -> str:
    return row.get(own_flag) or row.get(fallback_flag) or "withheld"


def _before_launch(period: Period, launched: str) -> bool:
    return period.end_month < launched


def _compared(
    change: Protected, period: Period, launched: str, flags: dict[str, str] | None = None
) -> tuple[_Figure, _Figure, _Figure, bool]:
    """Current, previous and year-earlier figures from a change table (levels.change_figures
    shape), and whether the change rests on a base too small to be stable.

    flags: the count's own withheld reason per period code, when a table has it
    ("fewer than k"); otherwise the change table's reason is used.
    """
    rows = {r["comparison"]: r for r in change.frame.iter_rows(named=True)}
    flags = flags or {}
    first = rows.get("previous") or rows.get("year_ago") or {}
    if first.get("current") is not None:
        current = _Figure(first["current"])
    elif not first:
        current = _MISSING
    else:
        reason = flags.get(period.code) or _reason(first, "current_flag", "relative_change_flag")
        current = _MISSING if reason == NO_DATA else _Figure(None, reason)
    others = []
    unstable = False
    for name, other in (("previous", period.previous()), ("year_ago", period.year_earlier())):
        row = rows.get(name)
        if row is None or _before_launch(other, launched):
            others.append(_MISSING)
            continue
        if row.get("base") is not None:
            others.append(_Figure(row["base"]))
            if name == "previous" and current.value is not None:
                # Both counts shown but the change withheld or flagged: a small base.
                unstable = bool(
                    (row.get("relative_change") is None and row.get("relative_change_flag"))
                    or row.get("relative_change_reliability")
                )
            continue
        reason = flags.get(other.code) or _reason(row, "base_flag", "relative_change_flag")
        others.append(_MISSING if reason == NO_DATA else _Figure(None, reason))
    return current, others[0], others[1], unstable


def _item(
    label: str,
    figures: tuple[_Figure, _Figure, _Figure],
    period: Period,
    *,
    metric_id: str | None = None,
    sentence_label: str | None = None,
    unit: str = sentences.COUNT,
    unstable: bool = False,
    singular: bool = False,
    definition: str | None = None,
    denominator_text: str | None = None,
) -> HeadlineItem:
    current, previous, year_ago = figures
    if period.grain == "year":
        # The year before is both the previous period and the year earlier: say it once.
        year_ago = _MISSING
    item = headline_item(
        metric_id or "referrals.count",
        current.value,
        previous.value,
        period_label=period.phrase,
        previous_label=period.previous().phrase,
        year_ago=year_ago.value,
        year_ago_label=f"in {period.year_earlier().phrase}",
        current_withheld=current.withheld,
        previous_withheld=previous.withheld,
        year_ago_withheld=year_ago.withheld,
        unstable=unstable,
        unit=unit,
        label=label,
        sentence_label=sentence_label,
        singular=singular,
    )
    changes = {}
    if definition is not None:
        changes["definition"] = definition
    if denominator_text is not None:
        changes["denominator_text"] = denominator_text
    return dataclasses.replace(item, **changes) if changes else item


# ------------------------------------------------------------------ the headline figures


def _referrals_item(referrals: ViewResult, period: Period, launched: str) -> HeadlineItem:
    trend = referrals.table("trend").frame
    # The quarterly trend keeps each count's own reason ("fewer than k").
    flags = {r["quarter"]: r["referrals_flag"] for r in trend.iter_rows(named=True)}
    current, previous, year_ago, unstable = _compared(
        referrals.table("change"), period, launched, flags if period.grain != "year" else None
    )
    return _item(
        "Referrals",
        (current, previous, year_ago),
        period,
        metric_id="referrals.count",
        unstable=unstable,
        definition="People referred to LEAD by police or partners in the period.",
    )


def _enrolled(funnel: Protected | None) -> tuple[_Figure, _Figure]:
    """The enrolled count and its share of everyone referred, from one screening funnel."""
    if funnel is None:
        return _MISSING, _MISSING
    rows = funnel.frame.filter(pl.col("stage") == "enrolled").to_dicts()
    if not rows:
        return _MISSING, _MISSING
    row = rows[0]
    reason = row.get("estimate_flag") or "withheld"
    count = _Figure(row["numerator"]) if row["numerator"] is not None else _Figure(None, reason)
    share = _Figure(row["estimate"]) if row["estimate"] is not None else _Figure(None, reason)
    return count, share


def _screening_items(funnels: dict[str, Protected | None], period: Period) -> list[HeadlineItem]:
    now = _enrolled(funnels["current"])
    before = _enrolled(funnels["previous"])
    year = _enrolled(funnels["year_ago"])
    share_unstable = bool(
        funnels["current"] is not None
        and funnels["current"]
        .frame.filter(pl.col("stage") == "enrolled")["estimate_reliability"]
        .fill_null("")
        .str.len_chars()
        .sum()
    )
    enrolled = _item(
        "Enrolled",
        (now[0], before[0], year[0]),
        period,
        metric_id="screening.enrolled",
        sentence_label="Enrollments",
        definition="People referred in the period who enrolled after screening.",
        denominator_text="",
    )
    share = _item(
        "Share enrolled",
        (now[1], before[1], year[1]),
        period,
        metric_id="referrals.enrollment_rate",
        sentence_label="The share of people referred who enrolled",
        unit=sentences.PROPORTION,
        unstable=share_unstable,
        singular=True,
    )
    return [enrolled, share]


def _caseload_item(caseload: ViewResult, period: Period, launched: str) -> HeadlineItem | None:
    if caseload.facts.get("caseload_published") != "yes" or "change" not in caseload.tables:
        return None
    current, previous, year_ago, unstable = _compared(caseload.table("change"), period, launched)
    return _item(
        "Active caseload",
        (current, previous, year_ago),
        period,
        sentence_label="The average monthly active caseload",
        unstable=unstable,
        singular=True,
        # The full definition is on the Services page; a card has room for one line.
        definition="Participants active in an average month of the period.",
        denominator_text="",
    )


# ------------------------------------------------------------------ the charts


def _quarterly_referrals(referrals: ViewResult, period: Period) -> pl.DataFrame:
    """The last TREND_QUARTERS quarters up to the period's end: quarter, referrals, flag."""
    last = f"{period.year}-Q{period.number if period.grain != 'year' else 4}"
    frame = referrals.table("trend").frame.filter(pl.col("quarter") <= last).sort("quarter")
    return frame.tail(TREND_QUARTERS).rename({"quarter": "period"})


def _yearly_referrals(view, period: Period, launched: str, as_of: dt.date) -> pl.DataFrame:
    """Whole years up to the period's (at most TREND_YEARS), each its own view's count.

    A year's count is the `current` of that year's change table: a published
    value or null with the reason beside it, like the quarterly trend.
    """
    launch = parse_period(launched)  # "2014-05": the first whole year is 2015
    first_full = launch.year + (0 if launch.number == 1 else 1)
    last = period.year if Period(YEAR, period.year).end_date <= as_of else period.year - 1
    rows = []
    for year in range(max(first_full, last - TREND_YEARS + 1), last + 1):
        change = view("referrals", str(year)).table("change").frame.row(0, named=True)
        reason = "" if change["current"] is not None else change["relative_change_flag"]
        rows.append({"period": str(year), "referrals": change["current"], "referrals_flag": reason})
    schema = {"period": pl.String, "referrals": pl.Int64, "referrals_flag": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _referrals_chart(
    referrals: ViewResult, view, period: Period, launched: str, as_of: dt.date, source: str,
    place: str,
) -> tuple[BriefingChart, pl.DataFrame] | None:  # fmt: skip
    frame = _quarterly_referrals(referrals, period)
    grain, grain_word = "quarter", "Quarter"
    if frame.height and frame["referrals"].null_count() * 2 > frame.height:
        # A small site: most quarters are too small to publish, but its years are not.
        yearly = _yearly_referrals(view, period, launched, as_of)
        if yearly.height >= 2 and yearly["referrals"].null_count() * 2 <= yearly.height:
            frame, grain, grain_word = yearly, "year", "Year"
    if frame.is_empty():
        return None
    chart = charts.trend_chart(
        frame,
        period="period",
        value="referrals",
        subject=f"referrals to LEAD in {place}, by {grain}",
        value_label="Referrals",
        period_label_text=grain_word,
    )
    short = {code: parse_period(code).short for code in frame["period"]}
    first, latest = short[frame["period"][0]], short[frame["period"][-1]]
    last_row = frame.row(-1, named=True)
    latest_text = (
        sentences.format_count(last_row["referrals"])
        if last_row["referrals"] is not None
        else (
            str(last_row["referrals_flag"]).split(" (")[0]
            if str(last_row["referrals_flag"]).startswith("fewer")
            else "withheld"
        )
    )
    title = f"Referrals by {grain}, {first} to {latest}: {latest_text} in {latest}"
    known = frame.filter(pl.col("referrals").is_not_null())
    if known.height >= 2:
        peak = known.sort(["referrals", "period"], descending=[True, True]).row(0, named=True)
        low = known.sort(["referrals", "period"], descending=[False, True]).row(0, named=True)
        title += (
            f"; the highest was {sentences.format_count(peak['referrals'])} "
            f"({short[peak['period']]}) and the lowest "
            f"{sentences.format_count(low['referrals'])} ({short[low['period']]})"
        )
    why = (
        " Shown by year because most quarters' counts are too small to publish."
        if grain == "year"
        else ""
    )
    caption = (
        f"People referred to LEAD in each {grain}.{why} A hollow marker on the axis is a count "
        f"withheld to protect privacy. {source}"
    )
    return BriefingChart(chart.figure, title, chart.alt, caption), chart.table


def _rearrest_chart(
    recidivism: ViewResult, headline: dict, source: str
) -> tuple[BriefingChart, pl.DataFrame] | None:
    if "rates" not in recidivism.tables:
        return None
    rates = recidivism.table("rates").frame
    note = pl.col("note") if "note" in rates.columns else pl.lit(None, pl.String)
    frame = rates.with_columns(
        pl.when(pl.col("estimate").is_null())
        .then(
            pl.when(pl.col("estimate_flag") != "")
            .then(pl.col("estimate_flag"))
            .otherwise(note.fill_null("not available"))
        )
        .otherwise(pl.col("estimate_flag"))
        .alias("estimate_flag"),
        pl.format("{} months", pl.col("window_months")).alias("window"),
    ).sort("window_months")
    chart = charts.group_comparison_chart(
        frame,
        category="window",
        group="group",
        subject="the share re-arrested within each window, LEAD against the comparison group",
        value_label="Share re-arrested",
        category_label="Window after entry",
    )
    window = headline["window_months"]
    lead, other = headline.get("lead_rate"), headline.get("comparison_rate")
    if lead is not None and other is not None and not headline.get("withheld"):
        title = (
            f"Within {window} months of entry, {sentences.format_percent(lead)} of LEAD "
            f"participants were re-arrested, against {sentences.format_percent(other)} of the "
            "comparison group"
        )
    else:
        title = (
            "Re-arrest by window after entry: too few people to compare the groups at every window"
        )
    as_of = recidivism.facts.get("as_of", "")
    if as_of:
        day = dt.date.fromisoformat(as_of)
        as_of = f"{day.day} {day:%B %Y}"
    caption = (
        "Share of people arrested again within each window after entering LEAD or the "
        "comparison group, counting only entry cohorts whose whole window had passed"
        + (f" by {as_of}" if as_of else "")
        + f". Whiskers show 95% intervals; the comparison group is hatched. {source}"
    )
    return BriefingChart(chart.figure, title, chart.alt, caption), chart.table


# ------------------------------------------------------------------ the sections


def _recidivism_paragraph(headline: ViewResult) -> tuple[str, dict]:
    arguments = sentence_inputs(headline)
    text = sentences.recidivism_sentence(**arguments)
    first, last = headline.facts.get("first_cohort"), headline.facts.get("last_cohort")
    if headline.facts.get("published") == "yes" and first and last:
        text += (
            f" People counted entered from {parse_period(first).short} to "
            f"{parse_period(last).short}."
        )
    return text, arguments


def _cost_paragraph(costs: ViewResult) -> str:
    return sentences.cost_sentence(**sentence_arguments(costs))


def _reasons(results: list[ViewResult | Protected | None]) -> tuple[str, ...]:
    found: list[str] = []
    for result in results:
        if result is None:
            continue
        tables = result.tables.values() if isinstance(result, ViewResult) else [result]
        for table in tables:
            frame = table.frame
            for column in frame.columns:
                if column.endswith("_flag") and frame[column].dtype == pl.String:
                    found += [r for r in frame[column].drop_nulls().unique().to_list() if r]
    return tuple(sorted(set(found) - {NO_DATA}))


# ------------------------------------------------------------------ the briefing


def _check(selection: Selection) -> Period:
    if selection.precinct_ids:
        raise ValueError(
            "a briefing covers a whole site: leave the precincts out of the selection "
            f"(got {', '.join(selection.precinct_ids)})"
        )
    period = parse_period(selection.period)
    if period.grain == MONTH:
        raise ValueError(
            f"a briefing covers a whole quarter or year; got the month {selection.period!r}"
        )
    return period


def _site(engine: sa.Engine, release: q.Release, site_id: str) -> tuple[str, str]:
    table = q.sites(engine, release.release_id).filter(pl.col("site_id") == site_id)
    if table.is_empty():
        raise q.InvalidFilter("site", site_id, f"not a site of release {release.release_id}")
    row = table.row(0, named=True)
    return row["site_name"], str(row["launched"])


def assemble(
    engine: sa.Engine,
    selection: Selection,
    audience: Audience = Audience.PUBLIC,
    dashboard_url: str | None = None,
) -> Assembled:
    """The briefing of one whole site for one quarter or year, with the page's extras.

    dashboard_url: the dashboard's base address (default: LEAD_PUBLIC_URL, else
    http://localhost:8501); the footer links to its briefing page for this view.
    audience: PUBLIC for anything published (the page and the command line
    always pass it); STAFF gives exact values through the same code.
    """
    period = _check(selection)
    release = q.get_release(engine, selection.release_id)
    site_name, launched = _site(engine, release, selection.site_id)
    base_url = dashboard_url or public_base_url()
    source = (
        f"{'Synthetic demonstration data' if release.synthetic else 'Data'}: release "
        f"{release.release_id}, complete through {release.as_of:%d %B %Y}."
    )

    def view(name: str, code: str | None = None) -> ViewResult:
        chosen = dataclasses.replace(selection, period=code) if code else selection
        return build(name, engine, chosen, audience)

    referrals = view("referrals")
    headlines = [_referrals_item(referrals, period, launched)]
    funnels: dict[str, Protected | None] = {"current": None, "previous": None, "year_ago": None}
    if referrals.facts.get("screening_published") == "yes":
        funnels["current"] = referrals.table("funnel")
        for name, other in (("previous", period.previous()), ("year_ago", period.year_earlier())):
            if not _before_launch(other, launched):
                funnels[name] = view("referrals", other.code).table("funnel")
        headlines += _screening_items(funnels, period)
    caseload = view("caseload_headline")
    caseload_item = _caseload_item(caseload, period, launched)
    if caseload_item is not None:
        headlines.append(caseload_item)

    recidivism_headline = view("recidivism_headline")
    recidivism_text, recidivism_arguments = _recidivism_paragraph(recidivism_headline)
    disparity = view("disparity_headline")
    costs = view("cost_headline")

    built = []
    made = _referrals_chart(referrals, view, period, launched, release.as_of, source, site_name)
    if made is not None:
        built.append(made)
    recidivism = view("recidivism") if recidivism_headline.facts.get("published") == "yes" else None
    if recidivism is not None:
        made = _rearrest_chart(recidivism, recidivism_arguments, source)
        if made is not None:
            built.append(made)

    briefing = Briefing(
        site_name=site_name,
        period_label=sentences.capitalize(period.phrase),
        period_detail=period.span,
        release_id=release.release_id,
        as_of=release.as_of,
        synthetic=release.synthetic,
        headlines=tuple(headlines),
        recidivism=recidivism_text,
        disparity=disparity_paragraph(disparity),
        cost=_cost_paragraph(costs),
        methods_note=methods_note(release.release_id),
        privacy_note=privacy_note(policy_from_environment()),
        dashboard_url=briefing_url(base_url, selection),
        charts=tuple(chart for chart, _ in built),
    )
    reasons = _reasons(
        [referrals, *funnels.values(), caseload, recidivism_headline, disparity, costs]
    )
    return Assembled(
        briefing=briefing,
        chart_tables=tuple(table for _, table in built),
        withheld_reasons=reasons,
        site_id=selection.site_id,
        period=period,
    )


def assemble_briefing(
    engine: sa.Engine,
    selection: Selection,
    audience: Audience = Audience.PUBLIC,
    dashboard_url: str | None = None,
) -> Briefing:
    """Only the Briefing (what the PDF needs); see `assemble`."""
    return assemble(engine, selection, audience, dashboard_url).briefing
