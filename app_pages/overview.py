"""Overview: what LEAD is, and the headline figures for the chosen site and period."""

from ui.context import page_setup

ctx = page_setup("LEAD at a glance")

import streamlit as st  # noqa: E402  (the guard above must run first)

from briefing import sentences  # noqa: E402
from briefing.disparity import headline_rate_ratio  # noqa: E402
from data_access.views.costs import sentence_arguments  # noqa: E402
from data_access.views.recidivism import sentence_inputs  # noqa: E402
from ui import headlines  # noqa: E402
from ui.components import withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.services_words import caseload_headline  # noqa: E402
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
caseload = fetch("caseload_headline", ctx)
items = [headlines.count_change(referrals.table("change"), label="Referrals", period=ctx.period)]
enrolled = headlines.funnel_enrolled(referrals.table("funnel"), ctx.period)
if enrolled is not None:
    items.append(enrolled)
if "change" in caseload.tables:
    items.append(caseload_headline(caseload.table("change"), ctx.period))
headlines.kpi_row(items)

st.subheader("Does it work?")
recidivism = fetch("recidivism_headline", ctx)
if recidivism.facts.get("published") == "yes":
    st.markdown(escape_markdown(sentences.recidivism_sentence(**sentence_inputs(recidivism))))
else:
    st.info(f"{escape_markdown(ctx.site_name)} does not publish re-arrest figures.")
st.page_link("app_pages/recidivism.py", label="Re-arrest against the comparison group")

st.subheader("Is it fair?")
disparity = fetch("disparity_headline", ctx)
ratio = headline_rate_ratio(disparity)
st.markdown(
    escape_markdown(
        sentences.rate_ratio_sentence(ratio)
        if ratio is not None
        else f"In {disparity.facts.get('year_phrase', ctx.period.year)}, too few people were "
        "in each group to judge whether any group was treated differently."
    )
)
st.page_link("app_pages/disparities.py", label="Disparities by race, step by step")

st.subheader("What does it cost?")
costs = fetch("cost_headline", ctx)
if costs.facts.get("costs_published") == "yes":
    st.markdown(escape_markdown(sentences.cost_sentence(**sentence_arguments(costs))))
else:
    st.info(f"{escape_markdown(ctx.site_name)} does not publish costs.")
st.page_link("app_pages/costs.py", label="Costs, LEAD against the comparison group")

st.subheader("Explore")
st.page_link("app_pages/referrals.py", label="Referrals and screening")
st.page_link("app_pages/services.py", label="Services")
st.page_link("app_pages/compare.py", label="Compare sites")

withheld_note(
    headlines.reasons(referrals)
    + headlines.reasons(caseload)
    + headlines.reasons(recidivism)
    + headlines.reasons(disparity)
    + headlines.reasons(costs)
)
