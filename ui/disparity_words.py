"""Words and display frames for the Disparities page, from protected numbers only.

Each helper reads a table of the `disparities` (or `disparity_headline`) view
and returns text or a frame shaped for ui.charts; none computes a statistic.
The reference-group selector lives here too: ui/context.py binds the global
filters to the URL, and this page's own choice follows the same rules (a
stable code in the URL under "ref", a visible note for a bad value).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from briefing import sentences
from briefing.disparity import rate_ratio_of
from data_access.disclosure import Protected
from data_access.metrics.reliability import INSUFFICIENT, NOT_COMPUTABLE, UNSTABLE
from data_access.views.disparities import (  # noqa: F401  (the page reads them from here)
    DECISION_POINTS,
    ENROLLMENT,
    PRECINCT_REACH,
    REFERRAL,
    race_label,
)
from ui.charts import Chart
from ui.derive import derived
from ui.text import escape_markdown, join_words

REFERENCE_KEY = "ref"
DEFAULT_REFERENCE = "white"
WIDGET = "w_ref"
NOT_SHOWN = "not shown"


# ---------------------------------------------------------------- the reference-group widget


def default_reference(options: list[str]) -> str:
    return DEFAULT_REFERENCE if DEFAULT_REFERENCE in options else options[0]


def reference_selector(options: list[str]) -> str:
    """A selectbox of race codes whose value is carried in the URL under "ref".

    A value in the URL that differs from the one this page last wrote came
    from a pasted link (or the back button) and wins when it is valid; an
    invalid one gets a visible note and the default. The default leaves the
    URL clean. The choice is kept in the session, so it survives page switches.
    """
    default = default_reference(options)
    asked = st.query_params.get(REFERENCE_KEY)
    held = st.session_state.get(f"keep_{REFERENCE_KEY}", default)
    if asked is not None and asked != st.session_state.get(f"url_{REFERENCE_KEY}"):
        if asked in options:
            held = asked
        else:
            st.warning(
                f"The link asked for reference group “{escape_markdown(asked)}”, which is not "
                f"a group counted here. Showing {escape_markdown(race_label(default))} instead.",
                icon=":material/link_off:",
            )
            held = default
    if held not in options:
        held = default
    if st.session_state.get(WIDGET) not in options or held != st.session_state.get(
        f"keep_{REFERENCE_KEY}", default
    ):
        st.session_state[WIDGET] = held
    value = st.selectbox(
        "Compare each group with",
        options,
        key=WIDGET,
        format_func=race_label,
        help="The reference group of every ratio on this page: its rate counts as 1.",
    )
    st.session_state[f"keep_{REFERENCE_KEY}"] = value
    st.session_state[f"url_{REFERENCE_KEY}"] = value
    if value == default:
        if REFERENCE_KEY in st.query_params:
            del st.query_params[REFERENCE_KEY]
    elif st.query_params.get(REFERENCE_KEY) != value:
        st.query_params[REFERENCE_KEY] = value
    return value


# ---------------------------------------------------------------- reasons


def _withheld_words(input_flag: str) -> str:
    if input_flag.startswith("fewer than"):
        # The flag carries the policy's k: "fewer than 16 (zeros withheld too)" -> "fewer than 16".
        return f"too few to show ({input_flag.split(' (')[0]} people)"
    return "withheld to protect privacy"


def rri_reason(row: dict) -> str:
    """Why a group's ratio is not shown, in words ("" when it is shown)."""
    if row["estimate"] is not None:
        return ""
    if row.get("input_flag"):
        return _withheld_words(row["input_flag"])
    if row["reliability"] == INSUFFICIENT:
        return f"too few people to judge ({row['note']})"
    if row["reliability"] == NOT_COMPUTABLE and row["note"]:
        return row["note"]
    return row.get("estimate_flag") or "not available"


def _unstable_words(row: dict) -> str:
    if row["estimate"] is None:
        return ""
    if row.get("estimate_reliability"):
        return row["estimate_reliability"]
    return row["note"] if row["reliability"] == UNSTABLE else ""


# ---------------------------------------------------------------- display frames


@derived
def forest_frame(rri: Protected, decision_point: str) -> pl.DataFrame:
    """One decision point's ratios for ui.charts.forest_plot: labels, reasons, unstable notes."""
    rows = rri.frame.filter(pl.col("decision_point") == decision_point).to_dicts()
    return pl.DataFrame(
        {
            "group": [race_label(r["race_ethnicity"]) for r in rows],
            "estimate": [r["estimate"] for r in rows],
            "ci_low": [r["ci_low"] for r in rows],
            "ci_high": [r["ci_high"] for r in rows],
            "reason": [rri_reason(r) or None for r in rows],
            "unstable": [_unstable_words(r) or None for r in rows],
        },
        schema={
            "group": pl.String,
            "estimate": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "reason": pl.String,
            "unstable": pl.String,
        },
    )


@derived
def rates_frame(rates: Protected, decision_point: str) -> pl.DataFrame:
    """Rates of every known race at one decision point, for ui.charts.estimate_chart."""
    frame = rates.frame.filter(
        (pl.col("race_ethnicity") != "unknown") & (pl.col("decision_point") == decision_point)
    )
    return frame.with_columns(
        pl.col("race_ethnicity").replace_strict(
            {c: race_label(c) for c in frame["race_ethnicity"].unique()}, return_dtype=pl.String
        ).alias("group"),
        pl.col("decision_point").replace_strict(
            {c: d.label for c, d in DECISION_POINTS.items()}, default=pl.col("decision_point")
        ).alias("step"),
    )  # fmt: skip


def _count_text(value: int | None, flag: str) -> str:
    if value is not None:
        return str(value)
    return "withheld" if flag else NOT_SHOWN


def with_counts(chart: Chart, frame: pl.DataFrame, columns: dict[str, str], flag: str) -> Chart:
    """The chart's table with the protected counts behind each row (Burns: counts first).

    `frame` must be in the order the chart drew its rows (one row each);
    `columns` maps a count column of `frame` to its heading.
    """
    if frame.height != chart.table.height:
        raise ValueError("with_counts: the frame and the chart's table differ in rows")
    return Chart(chart.figure, chart.alt, _counted_table(chart.table, frame, columns, flag))


@derived  # the figure cannot be a key, but the table it is shown with can
def _counted_table(
    table: pl.DataFrame, frame: pl.DataFrame, columns: dict[str, str], flag: str
) -> pl.DataFrame:
    extra = [
        pl.Series(
            heading,
            [_count_text(v, f or "") for v, f in zip(frame[column], frame[flag], strict=True)],
            dtype=pl.String,
        )
        for column, heading in columns.items()
    ]
    return table.with_columns(extra)


@derived
def representation_frame(population: Protected) -> pl.DataFrame:
    """Representation ratios by race with the reason a row is not shown."""
    rows = population.frame.to_dicts()
    reasons = []
    for r in rows:
        if r["estimate"] is not None:
            reasons.append(None)
        elif r["reliability"] == INSUFFICIENT:
            reasons.append(f"too few to judge ({r['note']})")
        elif r["estimate_flag"]:
            reasons.append(_withheld_words(r["estimate_flag"]) if r["referrals"] is None else
                           r["estimate_flag"])  # fmt: skip
        else:
            reasons.append(r["note"] or "not available")
    return pl.DataFrame(rows).with_columns(
        pl.Series("group", [race_label(r["race_ethnicity"]) for r in rows], dtype=pl.String),
        pl.Series("reason", reasons, dtype=pl.String),
        pl.Series(
            "unstable",
            [
                (r["estimate_reliability"] or (r["note"] if r["reliability"] == UNSTABLE else ""))
                or None
                if r["estimate"] is not None
                else None
                for r in rows
            ],
            dtype=pl.String,
        ),
    )


# ---------------------------------------------------------------- sentences


@derived
def rri_title(rri: Protected, decision_point: str, reference: str, when: str) -> str:
    """The finding of one decision point: its largest disparity, in a sentence."""
    point = DECISION_POINTS[decision_point]
    rows = rri.frame.filter(
        (pl.col("decision_point") == decision_point) & (pl.col("race_ethnicity") != reference)
    ).to_dicts()
    shown = [r for r in rows if r["estimate"] is not None]
    if not shown:
        return (
            f"{point.label}, {when}: no group could be compared with "
            f"{race_label(reference)} people (too few people in each group)"
        )
    best = sentences.largest_disparity([rate_ratio_of(r, point.decision) for r in shown])
    return f"{when}: " + sentences.rate_ratio_sentence(best).rstrip(".")


@derived
def unknown_share_words(unknown: Protected, decision_point: str) -> str:
    """ "Race unknown: 2.5% of people referred (11 of 441)." or why it is not shown."""
    point = DECISION_POINTS[decision_point]
    rows = unknown.frame.filter(pl.col("decision_point") == decision_point).to_dicts()
    if not rows:
        return ""
    row = rows[0]
    if row["estimate"] is not None:
        counts = (
            f" ({sentences.format_count(row['unknown'])} of {sentences.format_count(row['total'])})"
            if row["unknown"] is not None and row["total"] is not None
            else ""
        )
        return (
            f"Race unknown: {sentences.format_percent(row['estimate'])} of "
            f"{point.base_label}{counts}."
        )
    if row["unknown_flag"].startswith("fewer than"):
        return f"Race unknown: {row['unknown_flag'].split(' (')[0]} of the {point.base_label}."
    if row["unknown_flag"] == "partly withheld":
        return (
            f"Race unknown: not published for the {point.base_label} (part of the count "
            "is too small to show)."
        )
    reason = row["estimate_flag"] or "not available"
    return f"Race unknown among the {point.base_label}: not shown ({reason})."


@derived
def representation_title(population: Protected, year_phrase: str) -> str:
    """The group most over-represented among referrals against its share of residents."""
    frame = population.frame.filter(pl.col("estimate").is_not_null())
    if frame.is_empty():
        notes = population.frame["note"].to_list()
        if any("unknown race is withheld" in (n or "") for n in notes):
            return (
                f"Referrals against the adult population, {year_phrase}: shares cannot be "
                "worked out, because the number of people of unknown race is too small to publish"
            )
        return f"Referrals against the adult population, {year_phrase}: too few people to compare"
    top = frame.sort("estimate", descending=True).row(0, named=True)
    share = sentences.format_percent(top["referral_share"])
    residents = sentences.format_percent(top["population_share"])
    return (
        f"{year_phrase}: {race_label(top['race_ethnicity'])} people were {share} of referrals "
        f"of known race and {residents} of adult residents "
        f"({sentences.format_ratio(top['estimate'])} times their share)"
    )


@derived
def rates_title(rates: Protected, decision_point: str, year_phrase: str) -> str:
    """How far apart the groups' rates are at one step."""
    point = DECISION_POINTS[decision_point]
    part = rates.frame.filter(
        pl.col("estimate").is_not_null()
        & (pl.col("race_ethnicity") != "unknown")
        & (pl.col("decision_point") == decision_point)
    )
    if part.is_empty():
        return f"{point.label}, {year_phrase}: too few people in each group to show"
    high = part.sort("estimate", descending=True).row(0, named=True)
    low = part.sort("estimate").row(0, named=True)
    if part.height == 1:
        return (
            f"{point.label}, {year_phrase}: {sentences.format_percent(high['estimate'])} for "
            f"{race_label(high['race_ethnicity'])} people; other groups too small to show"
        )
    return (
        f"{point.label}, {year_phrase}: from {sentences.format_percent(low['estimate'])} "
        f"({race_label(low['race_ethnicity'])}) to {sentences.format_percent(high['estimate'])} "
        f"({race_label(high['race_ethnicity'])})"
    )


@derived
def not_compared(rri: Protected, reference: str) -> str:
    """The groups no ratio could be shown for, once, instead of a note per chart."""
    frame = rri.frame.filter(pl.col("estimate").is_null() & (pl.col("race_ethnicity") != reference))
    names = list(dict.fromkeys(race_label(c) for c in frame["race_ethnicity"]))
    if not names:
        return ""
    return (
        f"No ratio is shown for {join_words(names)} at one or more steps: too few people of "
        "these groups passed through them this year to publish or to judge."
    )
