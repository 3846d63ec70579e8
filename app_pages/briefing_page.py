"""Briefing: the few numbers an elected official needs for one site and period, in sentences,
on screen and as a one- or two-page PDF (the same Briefing the command line prints).

The file is not called briefing.py: Streamlit puts a page's folder on sys.path when it
runs the page by itself, and `import briefing` would then find this page instead of the
briefing package.
"""

from ui.context import page_setup

ctx = page_setup("Briefing")

import streamlit as st  # noqa: E402  (the guard above must run first)

from briefing.assemble import pdf_file_name  # noqa: E402
from briefing.content import SYNTHETIC_EXPLANATION, SYNTHETIC_MARK  # noqa: E402
from ui.briefing_data import fetch_briefing, pdf_for  # noqa: E402
from ui.charts import Chart  # noqa: E402
from ui.components import chart_card_for, kpi, withheld_note  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

# Printing from the browser: no sidebar, toolbar or buttons, and cards kept whole.
st.html(
    """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDownloadButton"], [data-testid="stExpander"] { display: none !important; }
  [data-testid="stMetric"], [data-testid="stPlotlyChart"] { break-inside: avoid; }
  .block-container { padding-top: 0 !important; max-width: 100% !important; }
}
</style>"""
)

assembled, selection, base_url = fetch_briefing(ctx)
briefing = assembled.briefing

st.subheader(
    escape_markdown(f"{briefing.site_name}: {briefing.period_label} ({briefing.period_detail})")
)
st.caption(
    escape_markdown(
        f"Law Enforcement Assisted Diversion: headline figures for elected officials. "
        f"Data through {briefing.as_of_text}; release {briefing.release_id}."
        + (f" {SYNTHETIC_MARK.capitalize()}: {SYNTHETIC_EXPLANATION}" if briefing.synthetic else "")
    )
)
if ctx.precinct_ids:
    st.info(
        f"A briefing covers the whole of {escape_markdown(ctx.site_name)}; the precinct chosen "
        "in the sidebar applies to the other pages only."
    )

st.download_button(
    "Download PDF",
    # A callable: the PDF (and the browser that draws its charts) is made only when asked.
    data=lambda: pdf_for(ctx.database_url, selection, base_url),
    file_name=pdf_file_name(assembled.site_id, assembled.period.code),
    mime="application/pdf",
    on_click="ignore",
    type="primary",
    key="briefing-pdf",
    help="US letter, one or two pages, with the same figures as this page.",
)

# ------------------------------------------------------------------ headline figures
items = briefing.headlines
per_row = 2 if len(items) in (2, 4) else min(3, len(items))
for start in range(0, len(items), per_row):
    row = items[start : start + per_row]
    for column, item in zip(st.columns(per_row), row, strict=False):
        with column:
            note = " ".join(part for part in (item.definition, item.denominator_text) if part)
            kpi(item.label, item.value_text, help=note or None)
            st.markdown(escape_markdown(item.sentence))

st.subheader("Re-arrest: LEAD against the comparison group")
st.markdown(escape_markdown(briefing.recidivism))
st.subheader("Disparities")
st.markdown(escape_markdown(briefing.disparity))
st.subheader("Costs")
st.markdown(escape_markdown(briefing.cost))

KEYS = ("chart-briefing-referrals", "chart-briefing-rearrest")
for index, (chart, table) in enumerate(zip(briefing.charts, assembled.chart_tables, strict=True)):
    chart_card_for(
        Chart(chart.figure, chart.alt_text, table),
        title=chart.title,
        caption=chart.caption,
        download_name=f"briefing-{KEYS[index].rsplit('-', 1)[1]}-{selection.period}-{ctx.site_id}",
        key=KEYS[index],
    )

withheld_note(assembled.withheld_reasons)
st.divider()
st.caption(escape_markdown(briefing.methods_note))
st.caption(escape_markdown(briefing.privacy_note))
st.caption(
    f"This view on the dashboard: [{escape_markdown(briefing.dashboard_url)}]"
    f"({briefing.dashboard_url})"
)
