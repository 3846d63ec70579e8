"""Precinct operations, for program staff only: exact counts by precinct and month.

The guard below is the first statement: Streamlit serves this file directly on
a cold server before the router has run, so the page itself must stop any
viewer who is not staff before anything staff-only is drawn. The view it reads
(data_access/views/staff.py) refuses public callers as well.
"""

from ui.context import page_setup

ctx = page_setup("Precinct operations (staff only)", staff_only=True)

import polars as pl  # noqa: E402  (the guard above must run first)
import streamlit as st  # noqa: E402

from data_access.csv_safety import safe_csv_bytes  # noqa: E402
from data_access.disclosure import Protected  # noqa: E402
from ui import charts, headlines  # noqa: E402
from ui.components import chart_card_for, download_file_name, kpi  # noqa: E402
from ui.context import role_statement  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.text import escape_markdown, format_value, period_label  # noqa: E402

EXACT_MARKER = "Staff only: exact counts, not for publication"

result = fetch("staff_operations", ctx)
facts = result.facts
period = ctx.period
window = facts["window_span"]


def _count(protected: Protected, column: str) -> str:
    """The one value of a one-row table, as a reader sees it."""
    frame = protected.frame
    return format_value(frame[column][0], "count") if frame.height else "none"


def _named(protected: Protected) -> pl.DataFrame:
    return headlines.with_precinct_names(protected.frame, ctx)


def _largest(protected: Protected, column: str) -> tuple[str, str] | None:
    """The precinct with the most (name, count in words), or None when every one is 0."""
    frame = _named(protected).filter(pl.col(column) > 0)
    if frame.is_empty():
        return None
    top = frame.sort([column, "precinct_id"], descending=[True, False]).row(0, named=True)
    return str(top["precinct_id"]), format_value(top[column], "count")


def _most_phrase(protected: Protected, column: str, noun: str) -> str:
    top = _largest(protected, column)
    if top is None:
        return "none in any selected precinct"
    return f"most in {top[0]} ({top[1]} {noun})"


def _oldest_pending_title(protected: Protected) -> str:
    """Which referral month the longest wait goes back to: the first thing staff chase."""
    waiting = protected.frame.filter(pl.col("pending") > 0).sort("month")
    if waiting.is_empty():
        return f"No screening pending for people referred {window}"
    oldest = waiting.row(0, named=True)
    place = ctx.precinct_names.get(oldest["precinct_id"], oldest["precinct_id"])
    return (
        "Pending screenings by month of referral: the longest wait is for people referred in "
        f"{period_label(oldest['month'])} "
        f"({format_value(oldest['pending'], 'count')} in {place})"
    )


def _caption(definition: str) -> str:
    return f"{definition} Exact counts for {ctx.place}, {window}. {ctx.source}"


with st.container(key="staff-operations"):
    # Who is signed in and what they may do, so a shared screen says whose view it is.
    st.markdown(role_statement())
    st.warning(
        f"**{EXACT_MARKER}.** These figures may include counts from 1 to 10, which the "
        "public pages never show. Do not copy them into reports, slides or messages for anyone "
        "outside the program.",
        icon=":material/lock:",
    )
    st.caption(
        escape_markdown(
            f"{ctx.place}: {period.phrase} ({period.span}), with monthly trends for {window}. "
            "Choose any set of precincts in the sidebar; the choice applies on every page."
        )
    )

    period_total = result.table("period_total")
    # (label, exact value, when): the label stays short enough for a narrow card.
    items = [
        ("Referrals", _count(period_total, "referrals"), period.span),
        ("Enrolled", _count(period_total, "enrolled"), f"of those referred in {period.span}"),
    ]
    if "caseload_latest_total" in result.tables:
        latest_total = result.table("caseload_latest_total")
        items.append(
            (
                "Active caseload",
                _count(latest_total, "active_participants"),
                f"in {facts['caseload_month_span']}",
            )
        )
    if "pending_total" in result.tables:
        items.append(
            (
                "Screenings pending",
                _count(result.table("pending_total"), "pending"),
                f"people referred {window}",
            )
        )
    for column, (label, value, when) in zip(st.columns(len(items)), items, strict=True):
        with column:
            kpi(label, value)
            st.caption(escape_markdown(when))

    st.subheader(f"Exact counts by precinct, {period.phrase}", anchor=False)
    by_precinct = _named(result.table("period_by_precinct"))
    total = period_total.frame.with_columns(pl.lit("All selected precincts").alias("precinct_id"))
    table = pl.concat(
        [
            frame.select(
                pl.col("precinct_id").alias("Precinct"),
                pl.col("referrals").alias("Referrals"),
                pl.col("enrolled").alias("Enrolled"),
                (pl.col("enrolled_share") * 100).round(1).alias("Share enrolled (%)"),
            )
            for frame in (by_precinct, total)
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="staff-period-table",
        alt=f"Exact referrals and enrollments by precinct, {period.phrase}",
    )
    st.download_button(
        "Download this table (CSV)",
        data=lambda: safe_csv_bytes(table),
        file_name=download_file_name(f"staff-precincts-{period.code}-{ctx.site_id}"),
        mime="text/csv",
        on_click="ignore",
        key="staff-period-download",
        icon=":material/download:",
    )

    st.subheader("Referrals and enrollments by precinct and month", anchor=False)
    window_total = result.table("window_total")
    referrals_chart = charts.trend_chart(
        _named(result.table("referrals_by_month")),
        period="month",
        value="referrals",
        series="precinct_id",
        subject=f"referrals by month and precinct, {ctx.site_name}, {window}",
        value_label="Referrals",
        period_label_text="Month",
        series_label="Precinct",
    )
    chart_card_for(
        referrals_chart,
        title=(
            f"Referrals, {window}: {_count(window_total, 'referrals')} in all, "
            + _most_phrase(result.table("window_by_precinct"), "referrals", "referrals")
        ),
        caption=_caption("People referred to LEAD in each month, by the referring precinct."),
        download_name=f"staff-referrals-by-month-{ctx.site_id}",
        key="staff-referrals-monthly",
    )
    enrolled_chart = charts.trend_chart(
        _named(result.table("enrolled_by_month")),
        period="month",
        value="enrolled",
        series="precinct_id",
        subject=f"enrollments by month and precinct, {ctx.site_name}, {window}",
        value_label="Enrolled",
        period_label_text="Month",
        series_label="Precinct",
    )
    share = window_total.frame["enrolled_share"][0] if window_total.height else None
    share_text = f" ({format_value(share, 'proportion')})" if share is not None else ""
    chart_card_for(
        enrolled_chart,
        title=(
            f"Enrollments, {window}: {_count(window_total, 'enrolled')} of "
            f"{_count(window_total, 'referrals')} people referred{share_text}"
        ),
        caption=_caption(
            "People referred in each month who enrolled in LEAD, counted in the month of "
            "referral. Counts for recent months still rise as screening finishes."
        ),
        download_name=f"staff-enrollments-by-month-{ctx.site_id}",
        key="staff-enrollments-monthly",
    )

    st.subheader("Active caseload by precinct", anchor=False)
    if facts["caseload_published"] != "yes":
        st.info(f"{escape_markdown(ctx.site_name)} does not publish caseload figures.")
    else:
        latest = result.table("caseload_latest")
        month_words = facts["caseload_month_span"]
        caseload_chart = charts.trend_chart(
            _named(result.table("caseload_by_month")),
            period="month",
            value="active_participants",
            series="precinct_id",
            subject=f"active participants by month and precinct, {ctx.site_name}, {window}",
            value_label="Active participants",
            period_label_text="Month",
            series_label="Precinct",
        )
        stock_definition = (
            "People case managers counted as active during the month. A caseload is not "
            "added up across months: the same person is active in many."
        )
        chart_card_for(
            caseload_chart,
            title=(
                f"Active caseload, {month_words}: "
                f"{_count(result.table('caseload_latest_total'), 'active_participants')}, "
                + _most_phrase(latest, "active_participants", "active")
            ),
            caption=_caption(stock_definition),
            download_name=f"staff-caseload-by-month-{ctx.site_id}",
            key="staff-caseload-monthly",
        )
        latest_chart = charts.bar_chart(
            _named(latest).drop("month"),
            category="precinct_id",
            value="active_participants",
            subject=f"active participants by precinct in {month_words}",
            value_label="Active participants",
            category_label="Precinct",
        )
        chart_card_for(
            latest_chart,
            title=f"Caseload by precinct, {month_words}: "
            + _most_phrase(latest, "active_participants", "active"),
            caption=_caption(stock_definition),
            download_name=f"staff-caseload-{facts['caseload_month']}-{ctx.site_id}",
            key="staff-caseload-latest",
        )

    st.subheader("Pending screenings", anchor=False)
    if facts["screening_published"] != "yes":
        st.info(f"{escape_markdown(ctx.site_name)} does not publish screening outcomes.")
    else:
        pending_definition = (
            "People referred whose eligibility screening had not finished when the data "
            f"were extracted ({ctx.release.as_of:%d %B %Y}), by month of referral."
        )
        pending_by_precinct = result.table("pending_by_precinct")
        pending_bars = charts.bar_chart(
            _named(pending_by_precinct),
            category="precinct_id",
            value="pending",
            subject=f"screenings pending by precinct, people referred {window}",
            value_label="Screenings pending",
            category_label="Precinct",
        )
        chart_card_for(
            pending_bars,
            title=(
                f"Screenings pending for people referred {window}: "
                f"{_count(result.table('pending_total'), 'pending')}, "
                + _most_phrase(pending_by_precinct, "pending", "pending")
            ),
            caption=_caption(pending_definition),
            download_name=f"staff-pending-by-precinct-{ctx.site_id}",
            key="staff-pending-precinct",
        )
        pending_trend = charts.trend_chart(
            _named(result.table("pending_by_month")),
            period="month",
            value="pending",
            series="precinct_id",
            subject=f"screenings pending by month of referral and precinct, {window}",
            value_label="Screenings pending",
            period_label_text="Month of referral",
            series_label="Precinct",
        )
        chart_card_for(
            pending_trend,
            title=_oldest_pending_title(result.table("pending_by_month")),
            caption=_caption(pending_definition),
            download_name=f"staff-pending-by-month-{ctx.site_id}",
            key="staff-pending-monthly",
        )
    for note in result.notes:
        st.caption(escape_markdown(note))
