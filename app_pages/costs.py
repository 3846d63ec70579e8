"""Costs: what LEAD participants and the comparison group cost the public, and what LEAD saves."""

from ui.context import page_setup

ctx = page_setup("Costs")

import polars as pl  # noqa: E402  (the guard above must run first)
import streamlit as st  # noqa: E402

from briefing import sentences  # noqa: E402
from data_access.disclosure import Protected  # noqa: E402
from data_access.views.costs import (  # noqa: E402
    PUBLIC_CATEGORIES,
    SCOPE_WORDS,
    fiscal_year_words,
    sentence_arguments,
)
from data_access.vocabulary import label as code_label  # noqa: E402
from ui import charts, derive, headlines  # noqa: E402
from ui.components import chart_card_for, kpi, withheld_note  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.derive import derived  # noqa: E402
from ui.text import escape_markdown, join_words  # noqa: E402

DOLLARS = "dollars"
LEAD, COMPARISON = "lead", "comparison"

result = fetch("costs", ctx)
facts = result.facts


def money(value: float | None, flag: str | None = "") -> str:
    """A published dollar figure, or why it is not shown."""
    if flag:
        return "withheld"
    if value is None:
        return "not available"
    return sentences.format_dollars(value)


# Rows, frames and titles below are derived once per content (ui.derive): a rerun asks
# for exactly the same, and each polars call on a few rows costs more than its work.
@derived
def row_of(protected: Protected, **equal) -> dict:
    frame = protected.frame
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    rows = frame.to_dicts()
    return rows[0] if rows else {}


@derived
def in_reading_order(frame: pl.DataFrame) -> pl.DataFrame:
    """LEAD before the comparison group; legal-system categories before health ones."""
    keys = [pl.col("group") != LEAD]
    if "category" in frame.columns:
        rank = {c: i for i, c in enumerate(PUBLIC_CATEGORIES)}
        keys.append(pl.col("category").replace_strict(rank, default=len(rank)))
    return frame.sort(keys, maintain_order=True)


@derived
def year_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("fiscal_year").cast(pl.String))


@derived
def saving_measures(saving: pl.DataFrame) -> pl.DataFrame:
    """Saving and net saving per scope, the low end (marginal) first."""
    measures = pl.concat(
        [
            saving.select(
                "scope",
                pl.lit(name).alias("measure"),
                pl.col(column).alias("estimate"),
                pl.col("saving_flag").alias("estimate_flag"),
            )
            for column, name in (
                ("saving", "Saving"),
                ("net_saving", "After the program's cost (negative: a net cost)"),
            )
        ]
    ).sort(pl.col("scope") != "marginal", maintain_order=True)
    return measures.with_columns(
        pl.col("scope").replace_strict({"marginal": "Marginal", "fully_loaded": "Fully loaded"})
    )


@derived
def pockets_shown(pockets: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The savings by category with a "where" label; and those shown, largest first."""
    frame = pockets.with_columns(
        pl.struct("category", "payer")
        .map_elements(
            lambda r: f"{code_label('category', r['category'])}: {r['payer']}",
            return_dtype=pl.String,
        )
        .alias("where")
    )
    return frame, frame.filter(pl.col("saving").is_not_null()).sort("saving", descending=True)


st.markdown(
    "What the public spent on LEAD participants and on a comparison group of people "
    "handled the usual way (arrest, jail, prosecution): jail, prosecution, public defense, "
    "courts, police time, and ambulance and hospital care. Each person counts as one "
    "person-year in every fiscal year they were in their group."
)

if facts["costs_published"] != "yes":
    st.info(
        f"{escape_markdown(ctx.site_name)} does not publish cost figures, so this page has "
        "nothing to show for it. Other sites' costs are on this page when you choose them."
    )
    st.stop()

year = facts["fiscal_year"]
if not year:
    st.info("No complete fiscal year of costs is published for this site yet.")
    st.stop()
year_words = fiscal_year_words(year)
st.markdown(
    escape_markdown(
        f"Costs are counted by fiscal year, not by quarter. {ctx.period.phrase.capitalize()} "
        f"falls in {fiscal_year_words(facts['selected_fiscal_year'])} (this release treats "
        "fiscal years as calendar years)."
    )
)
for note in result.notes:
    st.info(escape_markdown(note))

# ---------------------------------------------------------------- headline
arguments = derive.call(sentence_arguments, result)
if facts["saving_status"]:
    st.markdown(escape_markdown(facts["saving_status"]))
else:
    st.markdown(f"**{escape_markdown(sentences.cost_sentence(**arguments))}**")

totals = result.table("totals")
lead_total = row_of(totals, fiscal_year=int(year), group=LEAD)
comparison_total = row_of(totals, fiscal_year=int(year), group=COMPARISON)
program_row = row_of(result.table("program"), fiscal_year=int(year))
low_high = sorted(
    v for v in (arguments["saving_marginal"], arguments["saving_fully_loaded"]) if v is not None
)
if len(low_high) == 2:
    saving_text = f"{money(low_high[0])} to {money(low_high[1])}"
elif arguments.get("withheld"):
    saving_text = "withheld"
else:
    saving_text = "not available"
# Two by two: a range such as "$3,878 to $5,437" needs the width of half the page.
columns = [*st.columns(2), *st.columns(2)]
figures = (
    ("Saving per person-year (legal system)", saving_text, facts["followup_year"] and
     f"{year_words} against {facts['baseline_year']}"),
    ("Program cost per participant", money(program_row.get("estimate"),
                                           program_row.get("estimate_flag")), year_words),
    ("Public cost per LEAD person-year", money(lead_total.get("estimate"),
                                               lead_total.get("estimate_flag")), year_words),
    ("Public cost per comparison person-year", money(comparison_total.get("estimate"),
                                                     comparison_total.get("estimate_flag")),
     year_words),
)  # fmt: skip
for column, (label, value, when) in zip(columns, figures, strict=True):
    with column:
        kpi(label, value, help=when or None)

# ---------------------------------------------------------------- by category


def category_title() -> str:
    lead = money(lead_total.get("estimate"), lead_total.get("estimate_flag"))
    comparison = money(comparison_total.get("estimate"), comparison_total.get("estimate_flag"))
    if lead_total.get("estimate") is None or comparison_total.get("estimate") is None:
        return (
            f"{year_words.capitalize()}: public cost per person-year {lead} for LEAD "
            f"participants and {comparison} for the comparison group"
        )
    verb = "less" if lead_total["estimate"] < comparison_total["estimate"] else "more"
    return (
        f"{year_words.capitalize()}: LEAD participants cost the public {lead} per person-year, "
        f"{verb} than the comparison group's {comparison}"
    )


by_category = result.table("by_category")
chart = charts.group_comparison_chart(
    in_reading_order(by_category.frame),
    category="category",
    group="group",
    estimate="estimate",
    ci_low=None,
    ci_high=None,
    subject=f"public cost per person-year by category in {year_words}, LEAD participants "
    "against the comparison group",
    value_label="Cost per person-year",
    category_label="What the money paid for",
    unit=DOLLARS,
)
chart_card_for(
    chart,
    title=category_title(),
    caption=headlines.caption(ctx, "costs.per_person_year"),
    download_name=f"costs-by-category-{year}-{ctx.site_id}",
    key="chart-costs-by-category",
)

# ---------------------------------------------------------------- legal-system trend


@derived
def trend_title(protected: Protected) -> str:
    frame = protected.frame.filter(pl.col("estimate").is_not_null()).sort("fiscal_year")
    parts = []
    for group, name in ((LEAD, "LEAD"), (COMPARISON, "the comparison group")):
        mine = frame.filter(pl.col("group") == group)
        if mine.height >= 2:
            first, last = mine.row(0, named=True), mine.row(-1, named=True)
            parts.append(
                f"{name} from {money(first['estimate'])} in {first['fiscal_year']} to "
                f"{money(last['estimate'])} in {last['fiscal_year']}"
            )
    if not parts:
        return "Legal-system cost per person-year: too few people in each year to show a trend"
    return "Legal-system cost per person-year: " + join_words(parts)


trend = result.table("legal_trend")
chart = charts.trend_chart(
    year_as_text(in_reading_order(trend.frame)),
    period="fiscal_year",
    value="estimate",
    flag="estimate_flag",
    series="group",
    subject=f"legal-system cost per person-year in {ctx.site_name}, by fiscal year",
    value_label="Legal-system cost per person-year",
    period_label_text="Fiscal year",
    series_label="Group",
    unit=DOLLARS,
)
chart_card_for(
    chart,
    title=trend_title(trend),
    caption=headlines.caption(ctx, "costs.per_person_year")
    + " Legal system: jail, prosecution, public defense, courts and police time.",
    download_name=f"costs-legal-trend-{ctx.site_id}",
    key="chart-costs-legal-trend",
)

# ---------------------------------------------------------------- the saving, as a range
st.subheader("What LEAD saves, as a range")
if facts["saving_status"]:
    st.info(escape_markdown(facts["saving_status"]))
else:
    baseline, followup = facts["baseline_year"], facts["followup_year"]
    saving = result.table("saving")
    loaded = row_of(saving, scope="fully_loaded")
    changes = ""
    if loaded.get("lead_pre") is not None:
        changes = (
            f" LEAD participants' legal-system cost per person-year went from "
            f"{money(loaded['lead_pre'])} to {money(loaded['lead_post'])}; the comparison "
            f"group's from {money(loaded['comparison_pre'])} to "
            f"{money(loaded['comparison_post'])}."
        )
    why_baseline = (
        ", and the year LEAD began."
        if baseline == facts["first_year"]
        else "; earlier years had too few. LEAD was already running then, so if costs had "
        "begun to fall, the saving shown understates LEAD's full effect."
    )
    method = (
        f"The saving compares how each group's legal-system cost per person-year changed "
        f"from {fiscal_year_words(baseline)} (the baseline) to {fiscal_year_words(followup)}: "
        f"the comparison group's change minus LEAD's.{changes} "
        f"{fiscal_year_words(baseline).capitalize()} is the baseline because it is the first "
        "year in which both groups had at least 30 people, enough for a dependable cost per "
        f"person{why_baseline} "
        f"{fiscal_year_words(followup).capitalize()} is the follow-up year because it is the "
        "fiscal year of the period you chose (or the latest complete one before it). "
        f"{sentences.QUASI_EXPERIMENTAL}"
    )
    st.markdown(escape_markdown(method))
    st.markdown(
        "- **Marginal** (the low end) counts "
        + escape_markdown(SCOPE_WORDS["marginal"])
        + ".\n- **Fully loaded** (the high end) counts "
        + escape_markdown(SCOPE_WORDS["fully_loaded"])
        + ". Those savings become money only if budgets are cut or the time is put to other "
        "work.\n- The **net** figures take away what the LEAD program itself cost per "
        "participant that year."
    )
    measures = saving_measures(saving.frame)
    chart = charts.group_comparison_chart(
        measures,
        category="scope",
        group="measure",
        ci_low=None,
        ci_high=None,
        subject=f"the legal-system saving per person-year, {fiscal_year_words(followup)} "
        f"against {baseline}, marginal and fully loaded, before and after the program's cost",
        value_label="Saving per person-year",
        category_label="Which costs are counted",
        group_label="Measure",
        unit=DOLLARS,
    )
    low_words = money(arguments["saving_marginal"], arguments.get("withheld"))
    high_words = money(arguments["saving_fully_loaded"], arguments.get("withheld"))
    chart_card_for(
        chart,
        title=f"Saving per person-year, {fiscal_year_words(followup)} against {baseline}: "
        f"{low_words} (marginal) to {high_words} (fully loaded)",
        caption=headlines.caption(ctx, "costs.did_saving"),
        download_name=f"costs-saving-{followup}-{ctx.site_id}",
        key="chart-costs-saving",
    )

    # Which pocket saves (Vera Institute, "The Price of Jails": the wrong-pockets problem).
    pockets = result.table("saving_by_category")
    frame, shown = pockets_shown(pockets.frame)
    if shown.height:
        top = shown.row(0, named=True)
        pocket_title = (
            f"The largest saving is in {code_label('category', top['category']).lower()} "
            f"({money(top['saving'])} per person-year), a cost usually paid by {top['payer']}"
        )
    else:
        pocket_title = "Saving by category: too few people to show"
    chart = charts.bar_chart(
        frame,
        category="where",
        value="saving",
        flag="saving_flag",
        subject=f"the saving per person-year by category and who usually pays, "
        f"{fiscal_year_words(followup)} against {baseline}",
        value_label="Saving per person-year, fully loaded",
        category_label="Spending item",
        unit=DOLLARS,
        sort_by_value=True,
        horizontal=True,
    )
    chart_card_for(
        chart,
        title=pocket_title,
        caption=headlines.caption(ctx, "costs.did_saving")
        + " By category, counting every category (fully loaded), including ambulance and "
        "hospital care.",
        download_name=f"costs-saving-by-category-{followup}-{ctx.site_id}",
        key="chart-costs-pockets",
    )
    st.markdown(
        "**Who saves is not who pays.** LEAD is paid for by its funders, usually a city or "
        "county, while the savings land in other budgets: the jail, the prosecutor, the "
        "public defender, the courts, hospitals and Medicaid. A budget office looking only "
        "at its own books can miss a saving that is real for the public as a whole."
    )

# ---------------------------------------------------------------- program cost
program = result.table("program")


@derived
def first_shown_year(frame: pl.DataFrame) -> dict:
    return frame.filter(pl.col("estimate").is_not_null()).sort("fiscal_year").row(0, named=True)


def program_title(protected: Protected) -> str:
    if not program_row or program_row.get("estimate") is None:
        return f"Program cost per participant in {year_words}: too few participants to show"
    first = first_shown_year(protected.frame)
    title = (
        f"The LEAD program cost {money(program_row['estimate'])} per participant in {year_words}"
    )
    if first["fiscal_year"] != int(year):
        title += f", against {money(first['estimate'])} in {first['fiscal_year']}"
    return title


chart = charts.trend_chart(
    year_as_text(program.frame),
    period="fiscal_year",
    value="estimate",
    flag="estimate_flag",
    subject=f"LEAD program cost per participant in {ctx.site_name}, by fiscal year",
    value_label="Program cost per participant",
    period_label_text="Fiscal year",
    unit=DOLLARS,
)
chart_card_for(
    chart,
    title=program_title(program),
    caption=headlines.caption(ctx, "costs.program_per_participant"),
    download_name=f"costs-program-per-participant-{ctx.site_id}",
    key="chart-costs-program",
)
if "program_per_month" in result.tables:
    per_month = result.table("program_per_month")
    chart = charts.trend_chart(
        year_as_text(per_month.frame),
        period="fiscal_year",
        value="estimate",
        flag="estimate_flag",
        subject=f"LEAD program cost per participant-month in {ctx.site_name}",
        value_label="Program cost per participant-month",
        period_label_text="Fiscal year",
        unit=DOLLARS,
    )
    latest = row_of(per_month, fiscal_year=int(year))
    chart_card_for(
        chart,
        title=f"Staff view: program cost per participant-month, "
        f"{money(latest.get('estimate'), latest.get('estimate_flag'))} in {year_words}",
        caption=headlines.caption(ctx, "costs.program_per_participant_month"),
        download_name=f"costs-program-per-month-{ctx.site_id}",
        key="chart-costs-program-per-month",
    )

withheld_note(headlines.reasons(result))
