"""Services: the share of active participants each of the eight services reached, and when."""

from ui.context import page_setup

ctx = page_setup("Services")

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402  (the guard above must run first)

from ui import charts, headlines  # noqa: E402
from ui import services_words as say  # noqa: E402
from ui.components import chart_card_for, withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.derive import derived  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

result = fetch("services", ctx)
facts = result.facts
period = ctx.period

st.markdown(
    "LEAD case managers connect participants with housing, counseling, mental health "
    "services, drug treatment, health care, groceries, clothing and job training. For each "
    "service, this page shows the share of active participants who received it in an average "
    "month: every month a person is active counts once, so the share is of "
    "*participant-months*. A low share can mean a service is scarce, not that it is unwanted."
)

if facts["caseload_published"] != "yes":
    st.info(f"{escape_markdown(ctx.site_name)} does not publish caseload or service figures.")
    st.stop()

caseload_caption = f"{facts['caseload_definition']} {ctx.source}"


# The charts' frames, derived once per content (ui.derive): a rerun asks for the same.
@derived
def _in_order(uptake: pl.DataFrame, order: tuple[str, ...]) -> pl.DataFrame:
    """Uptake in the order of the ranked services, with labels."""
    rank = {s: i for i, s in enumerate(order)}
    return say.with_labels(uptake.sort(pl.col("service").replace_strict(rank)))


@derived
def _chosen_trend(trend: pl.DataFrame, chosen: tuple[str, ...]) -> pl.DataFrame:
    """The chosen services over time, in the order chosen, with labels."""
    rank = {s: i for i, s in enumerate(chosen)}
    shown = trend.filter(pl.col("service").is_in(chosen))
    return say.with_labels(shown.sort(pl.col("service").replace_strict(rank), "period"))


@derived
def _one_service(by_race: pl.DataFrame, service: str) -> pl.DataFrame:
    return say.with_labels(by_race.filter(pl.col("service") == service))


uptake_caption = headlines.caption(ctx, "services.uptake")

# ---------------------------------------------------------------- headline figures
caseload = say.caseload_headline(result.table("caseload_change"), period)
has_services = "uptake" in result.tables
figures = [caseload]
if has_services:
    top_name, top_share = say.top_service_text(result.table("uptake"))
    figures.append(
        headlines.Headline(
            label=f"Most-used service, {facts['uptake_short']}",
            value_text=f"{top_name}: {top_share}",
            delta_text=None,
            direction="none",
            sentence="Share of active participants who received it in an average month of "
            f"{facts['uptake_phrase']}.",
        )
    )
headlines.kpi_row(figures)

# ---------------------------------------------------------------- uptake in the period
if not has_services:
    st.info(f"{escape_markdown(ctx.site_name)} does not publish which services participants got.")
else:
    uptake = result.table("uptake")
    order = say.ranked_services(uptake)
    if uptake.frame.is_empty():
        st.info(
            escape_markdown(
                say.nobody_active(ctx.place, f"in {facts['uptake_phrase']}", "service uptake")
            )
        )
    else:
        chart = charts.estimate_chart(
            _in_order(uptake.frame, tuple(order)),
            category="service",
            subject="the share of active participants reached by each service in "
            f"{facts['uptake_short']}",
            value_label="Share of active participants",
            category_label="Service",
        )
        chart_card_for(
            chart,
            title=say.uptake_title(uptake, facts["uptake_short"]),
            caption=uptake_caption,
            download_name=f"service-uptake-{facts['uptake_period']}-{ctx.site_id}",
            key="chart-services-uptake",
        )

    # ------------------------------------------------------------ uptake over time
    trend = result.table("uptake_trend").frame
    grain = facts["trend_grain"]
    trend_last = facts["period_short"] if grain == "quarter" else facts["race_year"]
    trend_span = say.span_words(facts["trend_first_year"], trend_last)
    if trend.is_empty():
        st.info(escape_markdown(say.nobody_active(ctx.place, trend_span, f"uptake by {grain}")))
    else:
        # The period's ranking when it has one; an empty period can follow active ones.
        offered = order or say.services_in(trend)
        chosen = (
            st.multiselect(
                "Services shown over time",
                offered,
                default=offered[:3],
                format_func=say.service_name,
                key="services_trend_choice",
            )
            or offered[:1]
        )
        chart = charts.trend_chart(
            _chosen_trend(trend, tuple(chosen)),
            period="period",
            value="estimate",
            flag="estimate_flag",
            series="service",
            subject=f"the share of active participants reached, by {grain}, in {ctx.place}",
            value_label="Share of active participants",
            period_label_text=grain.capitalize(),
            series_label="Service",
            unit="proportion",
        )
        chart_card_for(
            chart,
            title=say.trend_title(trend, chosen[0], grain),
            caption=uptake_caption,
            download_name=f"service-uptake-by-{grain}-{ctx.site_id}",
            key="chart-services-trend",
        )

    # ------------------------------------------------------------ uptake by race
    st.subheader(f"By race and ethnicity, {facts['race_span']}", anchor=False)
    if "uptake_by_race" not in result.tables:
        st.info(
            "Service uptake by race is published for the whole site only; choose "
            "“All precincts” to see it."
        )
    elif (by_race := result.table("uptake_by_race").frame).is_empty():
        st.info(
            escape_markdown(
                say.nobody_active(ctx.place, f"in {facts['race_year']}", "service uptake by race")
            )
        )
    else:
        service = st.selectbox(
            "Service",
            order or say.services_in(by_race),
            format_func=say.service_name,
            key="services_race_choice",
        )
        chart = charts.estimate_chart(
            _one_service(by_race, service),
            category="race_ethnicity",
            subject=f"the share of active participants of each race who received "
            f"{say.service_name(service).lower()} in {facts['race_year']}",
            value_label="Share of active participants",
            category_label="Race and ethnicity",
        )
        chart_card_for(
            chart,
            title=say.race_title(by_race, service, facts["race_year"]),
            caption=uptake_caption,
            download_name=f"service-uptake-by-race-{facts['race_year']}-{ctx.site_id}",
            key="chart-services-race",
        )
    if "unknown_race" in result.tables:
        st.markdown(
            escape_markdown(
                say.unknown_race_sentence(result.table("unknown_race"), facts["race_year"])
            )
        )

# ---------------------------------------------------------------- active caseload
caseload_trend = result.table("caseload_trend")
if caseload_trend.frame.is_empty():
    caseload_span = say.span_words(facts["trend_first_year"], facts["period_short"])
    st.info(escape_markdown(say.nobody_active(ctx.place, caseload_span, "caseload")))
else:
    chart = charts.trend_chart(
        caseload_trend.frame,
        period="period",
        value="average_active",
        flag="average_active_flag",
        subject=f"the average monthly active caseload in {ctx.place}, by quarter",
        value_label="Participants active in an average month",
        period_label_text="Quarter",
    )
    chart_card_for(
        chart,
        title=headlines.trend_title(
            "Average monthly active caseload", caseload_trend, "average_active", "period"
        ),
        caption=caseload_caption,
        download_name=f"active-caseload-by-quarter-{ctx.site_id}",
        key="chart-services-caseload",
    )

for note in result.notes:
    st.info(note)  # our own words from the view (vocabulary labels, no data)
withheld_note(headlines.reasons(result))
