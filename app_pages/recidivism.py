"""Recidivism: are LEAD participants re-arrested less often than people who were not diverted?"""

from ui.context import page_setup

ctx = page_setup("Recidivism")

import polars as pl  # noqa: E402  (the guard above must run first)
import streamlit as st  # noqa: E402

from briefing import sentences  # noqa: E402
from data_access.views.recidivism import sentence_inputs  # noqa: E402
from ui import charts, derive, headlines  # noqa: E402
from ui.components import chart_card_for, kpi, table_data, withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.derive import derived  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

result = fetch("recidivism", ctx)
headline = fetch("recidivism_headline", ctx)
facts = result.facts

st.markdown(
    "Does diversion to LEAD change how often people are arrested again? Each quarter's "
    "LEAD participants are followed from the day they entered, and so is a **comparison "
    "group**: people who met the same criteria but went through the system as usual "
    "(booked and prosecuted). This page compares the two groups after 6, 12, 24 and 36 months."
)
for note in result.notes:
    st.info(note)  # our own words from the view (vocabulary labels, no data)


def _percent(value) -> str:
    return sentences.format_percent(value)


def _reason(row: dict) -> str:
    """Why an estimate is not shown: the disclosure reason, else the metric's note."""
    return row.get("estimate_flag") or row.get("note") or "not available"


# Frames and rows below are derived once per content (ui.derive): a rerun of the page
# asks for exactly the same, and each polars call on a few rows costs more than its work.
@derived
def _readable(frame: pl.DataFrame) -> pl.DataFrame:
    """Estimates not shown carry a reason the charts can print (words only)."""
    note = pl.col("note") if "note" in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.when(pl.col("estimate").is_null())
        .then(
            pl.when(pl.col("estimate_flag") != "")
            .then(pl.col("estimate_flag"))
            .otherwise(note.fill_null("not available"))
        )
        .otherwise(pl.col("estimate_flag"))
        .alias("estimate_flag")
    )


@derived
def _with_window(frame: pl.DataFrame) -> pl.DataFrame:
    """Readable, with a "6 months" window label."""
    return _readable(frame).with_columns(
        pl.format("{} months", pl.col("window_months")).alias("window")
    )


@derived
def _row(frame: pl.DataFrame, **equal) -> dict:
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.row(0, named=True) if frame.height else {}


@derived
def _months_in_words(table: pl.DataFrame) -> pl.DataFrame:
    # "6 months", not a bare 6: a lone small number in a table reads as a count of people.
    return table.with_columns(pl.col("Months since entry") + " months")


@derived
def _at_risk(curve_frame: pl.DataFrame) -> pl.DataFrame:
    """Number still at risk per group (rows) and interval (columns), "withheld" if so."""
    return (
        curve_frame.select(
            pl.col("group").replace_strict(
                {"lead": "LEAD participants", "comparison": "Comparison group"},
                default=pl.col("group"),
            ),
            pl.format("{} months", pl.col("followup_months")).alias("followup_months"),
            pl.when(pl.col("at_risk").is_not_null())
            .then(pl.col("at_risk").cast(pl.String))
            .otherwise(pl.lit("withheld"))
            .alias("at_risk"),
        )
        .pivot(on="followup_months", index="group", values="at_risk")
        .rename({"group": "Group"})
    )


@derived
def _trend_key(result) -> str | None:
    """The quarterly trend when at least half its estimates are shown, else the yearly."""
    for key in ("trend", "trend_by_year"):
        if key in result.tables:
            frame = result.table(key).frame
            if frame.height and frame["estimate"].is_not_null().mean() >= 0.5:
                return key
    return next((k for k in ("trend", "trend_by_year") if k in result.tables), None)


CAVEATS = (
    sentences.QUASI_EXPERIMENTAL,
    "The comparison group is “system as usual”: people eligible for LEAD who were arrested "
    "and booked in the ordinary way, at times or places where diversion was not offered. "
    "They may differ from participants in ways the data do not show.",
    "Re-arrest counts arrests, not convictions. Arrests reflect police activity as well as "
    "behaviour, so a change in policing changes these figures too.",
    "Odds are not risks. The Seattle evaluation reported “58% lower odds” of arrest (an odds "
    "ratio of about 0.42). When re-arrest is common, an odds ratio makes a reduction look "
    "larger than the change in the share of people re-arrested, so this page leads with the "
    "risk ratio and shows the odds ratio beside it only for comparison.",
    "A window counts only cohorts whose whole window has passed: the 24-month figure leaves "
    "out everyone who entered in the last two years.",
)


def _caveats() -> None:
    st.subheader("Reading these figures")
    st.markdown("\n".join(f"- {escape_markdown(c)}" for c in CAVEATS))


if facts.get("published") != "yes":
    st.info(
        f"{escape_markdown(ctx.site_name)} does not publish re-arrest figures for LEAD "
        "participants and a comparison group, so there is nothing to compare here."
    )
    _caveats()
    st.stop()

inputs = derive.call(sentence_inputs, headline)
window = inputs["window_months"]
st.markdown(escape_markdown(sentences.recidivism_sentence(**inputs)))

# ------------------------------------------------------------------ headline figures
rates = result.table("rates")
comparison = result.table("comparison")
lead = _row(rates.frame, window_months=window, group="lead")
other = _row(rates.frame, window_months=window, group="comparison")
ratio = _row(comparison.frame, window_months=window, metric_id="recidivism.risk_ratio")


def _shown(row: dict, unit: str) -> str:
    if row.get("estimate") is None:
        reason = _reason(row)
        return reason.split(" (")[0] if reason.startswith("fewer than") else "withheld"
    return (
        sentences.format_value(row["estimate"], unit)
        if unit != "ratio"
        else (sentences.format_ratio(row["estimate"]))
    )


# Short labels (a card cuts long ones); the full wording is in each card's help.
for column, (label, detail, row, unit) in zip(
    st.columns(3),
    (
        ("LEAD re-arrested", f"LEAD participants re-arrested within {window} months", lead,
         "proportion"),
        ("Comparison re-arrested", f"Comparison group re-arrested within {window} months",
         other, "proportion"),
        ("Risk ratio", f"Risk ratio at {window} months: LEAD's risk divided by the comparison "
         "group's", ratio, "ratio"),
    ),
    strict=True,
):  # fmt: skip
    with column:
        kpi(label, _shown(row, unit), help=detail, direction="none")

# ------------------------------------------------------------------ the windows side by side
rate_frame = _with_window(rates.frame)


def _windows_title() -> str:
    if lead.get("estimate") is not None and other.get("estimate") is not None:
        return (
            f"Within {window} months, {_percent(lead['estimate'])} of LEAD participants were "
            f"re-arrested, against {_percent(other['estimate'])} of the comparison group"
        )
    return "Re-arrest by window: too few people to compare the groups at every window"


chart = charts.group_comparison_chart(
    rate_frame,
    category="window",
    group="group",
    subject="the share re-arrested within each window, LEAD against the comparison group",
    value_label="Share re-arrested",
    category_label="Window after entry",
)
chart_card_for(
    chart,
    title=_windows_title(),
    caption=headlines.caption(ctx, "recidivism.rate")
    + f" Windows count every entry cohort whose whole window had passed by {facts['as_of']}.",
    download_name=f"recidivism-windows-{ctx.site_id}",
    key="chart-recidivism-windows",
)

# ------------------------------------------------------------------ LEAD against comparison
compare_frame = _with_window(comparison.frame)


@derived
def _ratios(compare_frame: pl.DataFrame) -> pl.DataFrame:
    return compare_frame.filter(pl.col("metric_id") != "recidivism.risk_difference").with_columns(
        pl.format(
            "{} at {}",
            pl.when(pl.col("metric_id") == "recidivism.risk_ratio")
            .then(pl.lit("Risk ratio"))
            .otherwise(pl.lit("Odds ratio")),
            pl.col("window"),
        ).alias("measure")
    )


@derived
def _differences(compare_frame: pl.DataFrame) -> pl.DataFrame:
    return compare_frame.filter(pl.col("metric_id") == "recidivism.risk_difference")


ratios = _ratios(compare_frame)


def _ratio_title() -> str:
    if ratio.get("estimate") is None:
        return f"LEAD against comparison at {window} months: {_reason(ratio)}"
    rr = ratio["estimate"]
    size = sentences.format_relative_change(abs(rr - 1))
    word = "lower" if rr < 1 else "higher"
    low, high = ratio.get("ci_low"), ratio.get("ci_high")
    clear = low is not None and high is not None and (high < 1 or low > 1)
    verdict = (
        "; the 95% interval does not reach 1 (no difference)"
        if clear
        else "; the 95% interval includes 1, so chance cannot be ruled out"
    )
    return (
        f"At {window} months LEAD participants' re-arrest rate was {size} {word} "
        f"(risk ratio {sentences.format_ratio(rr)}){verdict}"
    )


chart = charts.forest_plot(
    ratios,
    category="measure",
    reference_label="the comparison group",
    subject="the risk ratio and odds ratio of re-arrest, LEAD against the comparison group",
    value_label="Ratio, LEAD against comparison",
    category_label="Measure and window",
)
chart_card_for(
    chart,
    title=_ratio_title(),
    caption=headlines.caption(ctx, "recidivism.risk_ratio")
    + " The odds ratio is shown beside it only to set against the published Seattle "
    "figure (58% lower odds); it overstates the change when re-arrest is common.",
    download_name=f"recidivism-ratios-{ctx.site_id}",
    key="chart-recidivism-ratios",
)

differences = _differences(compare_frame)
difference = _row(differences, window_months=window)


def _difference_title() -> str:
    if difference.get("estimate") is None:
        return f"Difference in re-arrest at {window} months: {_reason(difference)}"
    points = sentences.format_points(abs(difference["estimate"]))
    word = "fewer" if difference["estimate"] < 0 else "more"
    return (
        f"At {window} months, {points} percentage points {word} LEAD participants "
        "were re-arrested than in the comparison group"
    )


chart = charts.estimate_chart(
    differences,
    category="window",
    subject="the difference in the share re-arrested, LEAD minus the comparison group",
    value_label="LEAD minus comparison",
    category_label="Window after entry",
)
chart_card_for(
    chart,
    title=_difference_title(),
    caption=headlines.caption(ctx, "recidivism.risk_difference"),
    download_name=f"recidivism-difference-{ctx.site_id}",
    key="chart-recidivism-difference",
)

# ------------------------------------------------------------------ the cumulative curve
st.subheader("How re-arrest builds up after entry")
if "curve" not in result.tables:
    st.info(
        f"{escape_markdown(ctx.site_name)} has too few people per quarter to publish the "
        "month-by-month curve without revealing small numbers; the windows above pool every "
        "cohort instead."
    )
else:
    curve = result.table("curve")
    curve_frame = _readable(curve.frame)

    @derived
    def _curve_title(curve_frame: pl.DataFrame) -> str:
        shown = curve_frame.filter(pl.col("estimate").is_not_null())
        common = shown.group_by("followup_months").len().filter(pl.col("len") == 2)
        if common.is_empty():
            return "Cumulative re-arrest: too few people to draw both groups"
        t = common["followup_months"].max()
        at = shown.filter(pl.col("followup_months") == t)
        lead_at = _row(at, group="lead")["estimate"]
        other_at = _row(at, group="comparison")["estimate"]
        return (
            f"By {t} months after entry, {_percent(lead_at)} of LEAD participants had been "
            f"re-arrested, against {_percent(other_at)} of the comparison group"
        )

    chart = charts.cumulative_curve(
        curve_frame,
        time="followup_months",
        group="group",
        reliability="stability",
        subject="the cumulative share re-arrested since entry, LEAD and comparison group",
        value_label="Share re-arrested",
        time_label="Months since entry",
    )
    chart = charts.Chart(chart.figure, chart.alt, _months_in_words(chart.table))
    chart_card_for(
        chart,
        title=_curve_title(curve_frame),
        caption=headlines.caption(ctx, "recidivism.cumulative_curve")
        + (
            f" The curve stops where fewer than {curve.k} people remain at risk or where an "
            "interval's count is withheld."
            if curve.k
            else ""
        ),
        download_name=f"recidivism-curve-{ctx.site_id}",
        key="chart-recidivism-curve",
    )
    at_risk = _at_risk(curve_frame)
    st.markdown("**Number still at risk at the start of each interval (months since entry)**")
    st.dataframe(
        table_data(at_risk),
        hide_index=True,
        width="stretch",
        key="table-recidivism-at-risk",
    )

# ------------------------------------------------------------------ the trend across cohorts
st.subheader("The trend across entry cohorts")
trend_key = _trend_key(result)
if trend_key is None:
    st.info(
        f"{escape_markdown(ctx.site_name)} has too few people per entry quarter or year to "
        "publish a 12-month re-arrest trend."
    )
else:
    trend = result.table(trend_key)
    trend_frame = _readable(trend.frame)
    noun = "quarter" if trend_key == "trend" else "year"
    if trend_frame.is_empty():
        st.info(
            f"No entry cohort up to {facts['trend_until']} has completed 12 months of follow-up."
        )
    else:

        @derived
        def _trend_title(trend_frame: pl.DataFrame) -> str:
            both = (
                trend_frame.filter(pl.col("estimate").is_not_null())
                .group_by("cohort")
                .len()
                .filter(pl.col("len") == 2)
            )
            if both.is_empty():
                return "Re-arrest within 12 months by entry cohort: too few people to compare"
            latest = both["cohort"].max()
            at = trend_frame.filter(pl.col("cohort") == latest)
            return (
                f"Of people who entered in {latest}, {_percent(_row(at, group='lead')['estimate'])}"
                f" of LEAD participants and "
                f"{_percent(_row(at, group='comparison')['estimate'])} of the comparison group "
                "were re-arrested within 12 months"
            )

        chart = charts.trend_chart(
            trend_frame,
            period="cohort",
            value="estimate",
            flag="estimate_flag",
            series="group",
            unit="proportion",
            subject=f"the share re-arrested within 12 months, by entry {noun}",
            value_label="Share re-arrested within 12 months",
            period_label_text=f"Entry {noun}",
        )
        chart_card_for(
            chart,
            title=_trend_title(trend_frame),
            caption=headlines.caption(ctx, "recidivism.rate")
            + f" Entry {noun}s up to {facts['trend_until']} whose 12 months had passed by "
            f"{facts['as_of']}.",
            download_name=f"recidivism-trend-{noun}-{ctx.site_id}",
            key="chart-recidivism-trend",
        )

_caveats()
if facts.get("design") and "curve" not in result.tables:
    st.caption(
        escape_markdown(
            f"Published for {ctx.site_name}: {facts['design']}. Finer breakdowns would "
            "reveal small numbers of people or force the pooled figures to be withheld."
        )
    )
withheld_note(headlines.reasons(result))
