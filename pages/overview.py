"""Overview: what LEAD is, and the headline figures for the chosen site and period."""

from ui.context import page_setup

ctx = page_setup("LEAD at a glance")

import streamlit as st  # noqa: E402  (the guard above must run first)

from ui import headlines  # noqa: E402
from ui.components import withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

st.markdown(
    "**Law Enforcement Assisted Diversion (LEAD)** lets police officers refer people "
    "suspected of low-level drug, sex-work or poverty offenses to a case manager instead "
    "of booking them into jail. Case managers connect each person to housing, treatment, "
    "health care, food, clothing and job training. This dashboard shows, in public, how "
    "many people LEAD reaches, whether it reduces re-arrest, and whether it is fair across "
    "races and neighbourhoods."
)
st.caption(
    escape_markdown(
        f"{ctx.place}, {ctx.period.phrase} ({ctx.period.span}). Data through "
        f"{ctx.release.as_of:%d %B %Y}, release {ctx.release.release_id}."
    )
)

referrals = fetch("referrals", ctx)
items = [headlines.count_change(referrals.table("change"), label="Referrals", period=ctx.period)]
enrolled = headlines.funnel_enrolled(referrals.table("funnel"), ctx.period)
if enrolled is not None:
    items.append(enrolled)
headlines.kpi_row(items)

st.subheader("Explore")
st.page_link("pages/referrals.py", label="Referrals and screening", icon=":material/call_split:")

withheld_note(headlines.reasons(referrals))
