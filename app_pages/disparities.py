"""Disparities: at each step of the referral flow, do people of every race move on alike?"""

from ui.context import page_setup

ctx = page_setup("Disparities")

import streamlit as st  # noqa: E402  (the guard above must run first)

from data_access.metrics.reliability import OJJDP_MIN_BASE, OJJDP_MIN_EVENTS  # noqa: E402
from ui import charts, headlines  # noqa: E402
from ui import disparity_words as dw  # noqa: E402
from ui.components import chart_card_for, withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

st.markdown(
    "This page asks whether people of every race move through LEAD alike: how often an "
    "eligible police contact leads to a referral, and how often a referral leads to "
    "enrollment. It shows each group's rates and counts first, then compares each group "
    "with a reference group."
)

base = fetch("disparities", ctx)
year_phrase = base.facts["year_phrase"]
if base.facts["year_note"]:
    st.info(escape_markdown(base.facts["year_note"]))
elif ctx.period.grain != "year":
    st.info(
        f"Figures on this page cover the whole of {escape_markdown(year_phrase)}, not "
        f"{escape_markdown(ctx.period.phrase)}: one quarter holds too few people of most "
        "groups to judge a difference between them."
    )

races = [r for r in base.facts["races"].split(",") if r]
if not races:
    st.info(
        f"{escape_markdown(ctx.site_name)} has no referrals of known race in {year_phrase} "
        "to compare."
    )
    st.stop()

reference = dw.reference_selector(races)
result = base if reference == "white" else fetch("disparities", ctx, reference=reference)
reference_label = dw.race_label(reference)
for note in result.notes:
    st.info(escape_markdown(note))

# ---------------------------------------------------------------- rates and counts first
st.subheader("Rates at each step, by race")
rates = result.table("rates")
# One chart per row: at half width the reasons and the log-axis title were cut off.
columns = [st.container(), st.container()]
for column, point in zip(columns, (dw.REFERRAL, dw.ENROLLMENT), strict=True):
    frame = dw.rates_frame(rates, point.code)
    if frame.is_empty():
        with column:
            st.info(f"{point.label}: not published for {escape_markdown(ctx.site_name)}.")
        continue
    chart = charts.estimate_chart(
        frame,
        category="group",
        flag="estimate_flag",
        reliability="estimate_reliability",
        subject=f"the share {point.event_label} of {point.base_label}, by race, in "
        f"{ctx.site_name}, {year_phrase}",
        value_label=f"Share {point.event_label}",
        category_label="Race or ethnicity",
        unit="proportion",
    )
    chart = dw.with_counts(
        chart,
        frame,
        {"events": f"People {point.event_label}", "base": f"All {point.base_label}"},
        flag="estimate_flag",
    )
    with column:
        chart_card_for(
            chart,
            title=dw.rates_title(rates, point.code, year_phrase),
            caption=" ".join(
                [
                    dw.unknown_share_words(result.table("unknown_share"), point.code),
                    headlines.caption(
                        ctx, "diversion.rate" if point is dw.REFERRAL else "screening.enrolled"
                    ),
                ]
            ),
            download_name=f"disparity-rates-{point.code}-{year_phrase}-{ctx.site_id}",
            key=f"chart-disparities-rates-{point.code}",
        )

# ---------------------------------------------------------------- ratios
st.subheader("Each group against the reference group")
st.markdown(
    f"A **Relative Rate Index** divides a group's rate at a step by the rate of "
    f"{escape_markdown(reference_label)} people at the same step. 1 means the same rate; "
    "2 means twice as often; 0.5 means half as often. The line through each point is its "
    "95% interval: when it does not cross 1, the difference is unlikely to be chance alone."
)
rri = result.table("rri")
# One chart per row: at half width the reasons and the log-axis title were cut off.
columns = [st.container(), st.container()]
for column, point in zip(columns, (dw.REFERRAL, dw.ENROLLMENT), strict=True):
    frame = dw.forest_frame(rri, point.code)
    if frame.is_empty():
        with column:
            st.info(f"{point.label}: not published for {escape_markdown(ctx.site_name)}.")
        continue
    chart = charts.forest_plot(
        frame,
        category="group",
        flag="reason",
        reliability="unstable",
        reference_label=reference_label,
        subject=f"the relative rate index, {point.label.lower()}, {year_phrase}",
        category_label="Race or ethnicity",
    )
    with column:
        chart_card_for(
            chart,
            title=dw.rri_title(rri, point.code, reference, year_phrase),
            caption=" ".join(
                [
                    dw.unknown_share_words(result.table("unknown_share"), point.code),
                    headlines.caption(ctx, "disparity.rri"),
                ]
            ),
            download_name=f"rri-{point.code}-{year_phrase}-{ctx.site_id}",
            key=f"chart-disparities-rri-{point.code}",
        )
if missing := dw.not_compared(rri, reference):
    st.caption(escape_markdown(missing))

# ---------------------------------------------------------------- against the population
st.subheader("Referrals against the adult population")
if "population" not in result.tables:
    st.info(f"{escape_markdown(ctx.site_name)} does not publish adult population by race.")
else:
    population = result.table("population")
    frame = dw.representation_frame(population)
    chart = charts.estimate_chart(
        frame,
        category="group",
        flag="reason",
        reliability="unstable",
        subject=f"each group's share of referrals divided by its share of adult residents, "
        f"{year_phrase}",
        value_label="Representation ratio (1 = same share)",
        category_label="Race or ethnicity",
        unit="ratio",
    )
    chart = dw.with_counts(
        chart, frame, {"referrals": "People referred", "population": "Adult residents"},
        flag="estimate_flag",
    )  # fmt: skip
    chart_card_for(
        chart,
        title=dw.representation_title(population, year_phrase),
        caption=headlines.caption(ctx, "disparity.representation_ratio")
        + f" Population figures: {result.facts['population_year']}.",
        download_name=f"representation-{year_phrase}-{ctx.site_id}",
        key="chart-disparities-representation",
    )
    st.caption(
        "Residents are not the people police meet: read this as who reaches LEAD compared "
        "with who lives here, not as a rate of policing."
    )

# ---------------------------------------------------------------- one precinct
if ctx.precinct_ids:
    st.subheader(f"In {escape_markdown(ctx.precinct_label)}")
    frame = None
    if "precinct_rri" in result.tables:
        frame = dw.forest_frame(result.table("precinct_rri"), dw.PRECINCT_REACH.code)
    if frame is None:
        st.info("Choose a single precinct to see its figures by race.")
    elif frame.is_empty():
        # No row at all: nobody reached LEAD there that year (a withheld ratio keeps its row).
        st.info(
            f"Nobody reached LEAD in {escape_markdown(ctx.precinct_label)} in {year_phrase}, "
            "so there are no rates by race to compare. Choose another period to see them."
        )
    else:
        st.markdown(
            "By precinct, referrals are published by race only as referred or not, so this "
            "step counts every referral (police and community) among eligible police contacts "
            "and community referrals. It is not the same measure as the site's first step."
        )
        chart = charts.forest_plot(
            frame,
            category="group",
            flag="reason",
            reliability="unstable",
            reference_label=reference_label,
            subject=f"the relative rate index of reaching LEAD in {ctx.precinct_label}, "
            f"{year_phrase}",
            category_label="Race or ethnicity",
        )
        chart_card_for(
            chart,
            title=dw.rri_title(
                result.table("precinct_rri"), dw.PRECINCT_REACH.code, reference, year_phrase
            ),
            caption=" ".join(
                [
                    dw.unknown_share_words(
                        result.table("precinct_unknown_share"), dw.PRECINCT_REACH.code
                    ),
                    headlines.caption(ctx, "disparity.rri"),
                ]
            ),
            download_name=f"rri-precinct-{ctx.precinct_ids[0]}-{year_phrase}-{ctx.site_id}",
            key="chart-disparities-precinct-rri",
        )

# ---------------------------------------------------------------- what an RRI is and is not
with st.expander("What a Relative Rate Index is, and what it is not", expanded=False):
    st.markdown(
        "- **It is** a comparison of rates at one step, each measured against the people who "
        "reached the step before, so a difference made earlier is not counted again.\n"
        "- **It is not** proof of bias, nor a measure of anyone's intent: groups can differ in "
        "offense, history or need in ways these counts do not show.\n"
        "- **It hides size**: 2 can mean 4 people against 2 or 400 against 200. Read it with "
        "the counts and rates above.\n"
        "- **It needs enough people.** Following the federal Office of Juvenile Justice and "
        "Delinquency Prevention, no ratio is given when either group has fewer than "
        f"{OJJDP_MIN_BASE} people at the step before or has not reached OJJDP's minimum of "
        f"{OJJDP_MIN_EVENTS} who moved on.\n"
        "- **Race unknown** is never a group of its own; its share is printed beside every "
        "result, because a large unknown share can bias the comparison."
    )

withheld_note(headlines.reasons(result))
