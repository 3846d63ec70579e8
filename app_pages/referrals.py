"""Referrals and screening: how many people LEAD reached, through which door, and who enrolled."""

from ui.context import page_setup

ctx = page_setup("Referrals and screening")

import streamlit as st  # noqa: E402

from ui import charts, headlines  # noqa: E402
from ui.components import chart_card_for, withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.text import escape_markdown  # noqa: E402  (the guard above must run first)

result = fetch("referrals", ctx)
period = ctx.period

st.markdown(
    "An officer who meets someone suspected of a low-level drug, sex-work or poverty offense "
    "can refer them to a LEAD case manager instead of booking them; officers can also refer "
    "people they know are at risk, and community partners can refer too. Each person is then "
    "screened: people with a history of violent crime, of exploiting minors, or of dealing "
    "beyond subsistence are not eligible."
)

change = result.table("change")
headline = headlines.count_change(change, label="Referrals", period=period)
headlines.kpi_row([headline])

trend = charts.trend_chart(
    result.table("trend").frame,
    period="quarter",
    value="referrals",
    subject=f"referrals to LEAD in {ctx.place}, by quarter",
    value_label="Referrals",
    period_label_text="Quarter",
)
chart_card_for(
    trend,
    title=headlines.trend_title("Referrals", result.table("trend"), "referrals", "quarter"),
    caption=headlines.caption(ctx, "referrals.count"),
    download_name=f"referrals-by-quarter-{ctx.site_id}",
    key="chart-referrals-trend",
)

BREAKDOWNS = (
    ("by_pathway", "pathway", "Pathway", "how people came to LEAD"),
    ("by_offense", "offense", "Offense", "the offense behind the referral"),
    ("by_precinct", "precinct_id", "Precinct", "precinct"),
)
columns = st.columns(2)
shown = [b for b in BREAKDOWNS if b[0] in result.tables]
for index, (key, column, label, words) in enumerate(shown):
    protected = result.table(key)
    frame = headlines.with_precinct_names(protected.frame, ctx) if column == "precinct_id" else None
    chart = charts.bar_chart(
        frame if frame is not None else protected.frame,
        category=column,
        value="referrals",
        subject=f"referrals in {period.phrase} by {words}",
        value_label="Referrals",
        category_label=label,
    )
    with columns[index % 2]:
        chart_card_for(
            chart,
            title=headlines.largest_title(protected, column, "referrals", label, period, ctx),
            caption=headlines.caption(ctx, "referrals.count"),
            download_name=f"referrals-{key}-{period.code}-{ctx.site_id}",
            key=f"chart-referrals-{key}",
        )
for note in result.notes:
    st.info(escape_markdown(note))

st.subheader("Eligibility screening")
if result.facts["screening_published"] != "yes":
    st.info(f"{escape_markdown(ctx.site_name)} does not publish screening outcomes.")
else:
    funnel = result.table("funnel")
    grain_words = result.facts["funnel_phrase"]
    chart = charts.funnel_chart(
        headlines.stage_labels(funnel.frame),
        stage="stage_label",
        value="numerator",
        flag="estimate_flag",
        share="estimate",
        share_flag="estimate_flag",
        subject=f"screening outcomes of people referred in {grain_words}",
        value_label="People",
        share_label="Share of everyone referred",
    )
    chart_card_for(
        chart,
        title=headlines.funnel_title(funnel, grain_words),
        caption=headlines.caption(ctx, "referrals.enrollment_rate"),
        download_name=f"screening-{period.code}-{ctx.site_id}",
        key="chart-screening-funnel",
    )
withheld_note(headlines.reasons(result))
