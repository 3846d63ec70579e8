"""Words written from protected numbers: chart titles, headline figures, captions.

Every helper reads published values only (a withheld value is null with a
reason beside it) and says "fewer than k" or "withheld" where a number is not
published. Sentences about changes come from briefing.sentences, so a page and
the briefing PDF word the same numbers the same way.

The frames here hold a few rows: a polars filter or sort costs more in hand-offs
to its thread pool than the work, so the helpers read the rows into Python and
search them there (each polars step was a few per cent of a warm page run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
import streamlit as st

from briefing import sentences
from data_access.disclosure import Protected
from data_access.metrics.registry import get_metric
from data_access.periods import Period, parse_period
from data_access.views import ViewResult
from data_access.vocabulary import label as code_label
from ui.components import kpi
from ui.text import escape_markdown


@dataclass(frozen=True)
class Headline:
    label: str
    value_text: str
    delta_text: str | None
    direction: str
    sentence: str


def _row(frame: pl.DataFrame, column: str, value: str) -> dict | None:
    return next((row for row in frame.iter_rows(named=True) if row[column] == value), None)


def _value_text(value, flag: str | None, unit: str = sentences.COUNT) -> str:
    if flag:
        # "fewer than k (zeros withheld too)" -> "fewer than k"; k comes from the flag.
        return flag.split(" (")[0] if flag.startswith("fewer than") else "withheld"
    if value is None:
        return "not published"
    return sentences.format_value(value, unit)


def count_change(change: Protected, *, label: str, period: Period) -> Headline:
    """A headline count for the period with its change against the previous period."""
    frame = change.frame
    previous = _row(frame, "comparison", "previous") or {}
    year_ago = _row(frame, "comparison", "year_ago") or {}
    current = previous.get("current", year_ago.get("current"))
    current_flag = previous.get("current_flag") or ""
    sentence = sentences.change_sentence(
        label,
        current,
        previous.get("base"),
        period_label=period.phrase,
        previous_label=period.previous().phrase,
        year_ago=year_ago.get("base"),
        year_ago_label=f"in {period.year_earlier().phrase}",
        current_withheld=current_flag or None,
        previous_withheld=(previous.get("base_flag") or None) if previous else "no data",
        year_ago_withheld=(year_ago.get("base_flag") or None) if year_ago else "no data",
    )
    relative = previous.get("relative_change")
    if relative is None:
        delta, direction = None, "none"
    else:
        word = "up" if relative > 0 else "down" if relative < 0 else "no change"
        amount = sentences.format_percent(abs(relative))
        delta = (
            f"{word} {amount} on {period.previous().short}"
            if relative
            else f"no change on {period.previous().short}"
        )
        direction = "up" if relative > 0 else "down" if relative < 0 else "none"
    return Headline(label, _value_text(current, current_flag), delta, direction, sentence)


def kpi_row(items: Iterable[Headline]) -> None:
    """Headline figures side by side, each with its sentence beneath."""
    items = list(items)
    for column, item in zip(st.columns(len(items)), items, strict=True):
        with column:
            kpi(item.label, item.value_text, item.delta_text, direction=item.direction)
            st.caption(escape_markdown(item.sentence))


def trend_title(label: str, protected: Protected, value: str, time: str) -> str:
    """ "Referrals: 112 in Q4 2025, the latest quarter" from the last period of a trend."""
    rows = protected.frame.to_dicts()
    if not rows:
        return f"{label}: no data published"
    # The latest period (polars' order: a null period first, so never the latest).
    last = max(rows, key=lambda r: (r[time] is not None, r[time] or ""))
    latest = parse_period(last[time])
    text = _value_text(last[value], last.get(f"{value}_flag"))
    known = [r for r in rows if r[value] is not None]
    if not known:
        return f"{label} by {time}: every value is too small to publish"
    # The highest value; of equal ones, the latest period.
    peak = max(known, key=lambda r: (r[value], r[time] is None, r[time] or ""))
    peak_text = (
        f"highest was {sentences.format_count(peak[value])} in {parse_period(peak[time]).short}"
    )
    return f"{label}: {text} in {latest.short}; {peak_text}"


def largest_title(
    protected: Protected, column: str, value: str, noun: str, period: Period, ctx
) -> str:
    """ "Most referrals in Q4 2025 came through arrest diversion (55 of those shown)"."""
    known = [r for r in protected.frame.iter_rows(named=True) if (r[value] or 0) > 0]
    if not known:
        return f"{noun} in {period.short}: numbers too small to show"
    top = max(known, key=lambda r: r[value])  # of equal ones, the first in the table
    name = (
        ctx.precinct_names.get(top[column], top[column])
        if column == "precinct_id"
        else code_label(column, top[column])
    )
    return (
        f"By {noun.lower()}, {period.short}: the largest group is "
        f"{name} ({sentences.format_count(top[value])})"
    )


def with_precinct_names(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    """Precinct ids replaced by the names the release gives them (shown as text)."""
    names = ctx.precinct_names
    named = [names.get(p, p) for p in frame["precinct_id"].to_list()]
    return _with_column(frame, pl.Series("precinct_id", named, dtype=frame["precinct_id"].dtype))


def stage_labels(frame: pl.DataFrame) -> pl.DataFrame:
    labels = {
        "referred": "Referred",
        "excluded": "Excluded (all reasons)",
        "eligible": "Eligible",
    }
    stages = frame["stage"].to_list()
    named = [None if s is None else labels.get(s) or code_label("outcome", s) for s in stages]
    return _with_column(frame, pl.Series("stage_label", named, dtype=pl.String))


def _with_column(frame: pl.DataFrame, column: pl.Series) -> pl.DataFrame:
    """frame.with_columns(column) without a query plan: the column replaced or added last."""
    if column.name in frame.columns:
        return frame.clone().replace_column(frame.get_column_index(column.name), column)
    return frame.hstack([column])


def funnel_title(funnel: Protected, when: str) -> str:
    frame = funnel.frame
    referred = _row(frame, "stage", "referred") or {}
    enrolled = _row(frame, "stage", "enrolled") or {}
    if referred.get("numerator") is None:
        return f"Screening in {when}: too few people referred to publish"
    if enrolled.get("estimate") is None:
        return (
            f"Of {sentences.format_count(referred['numerator'])} people referred in {when}, "
            "the number enrolled is withheld"
        )
    return (
        f"Of {sentences.format_count(referred['numerator'])} people referred in {when}, "
        f"{sentences.format_count(enrolled['numerator'])} "
        f"({sentences.format_percent(enrolled['estimate'])}) enrolled"
    )


def caption(ctx, metric_id: str) -> str:
    """Definition, denominator and source of a metric, from the one registry."""
    definition = get_metric(metric_id)
    parts = [f"{definition.name}: {definition.description}"]
    denominator = (definition.denominator or "").strip()
    if denominator and not denominator.lower().startswith(("none", "—", "-")):
        parts.append(f"Out of: {denominator.rstrip('.')}.")
    parts.append(ctx.source)
    return " ".join(parts)


def reasons(result: ViewResult) -> list[str]:
    """Every distinct reason a value on the page is withheld."""
    found: list[str] = []
    for table in result.tables.values():
        frame = table.frame
        for column in frame.columns:
            if column.endswith("_flag"):
                found += [r for r in frame[column].to_list() if r]
    return sorted(set(found))


def funnel_enrolled(funnel: Protected, period: Period) -> Headline | None:
    """The enrolled headline from the screening funnel: count and share of those referred."""
    row = _row(funnel.frame, "stage", "enrolled")
    if row is None:
        return None
    value = _value_text(row["numerator"], row.get("estimate_flag"))
    share = row.get("estimate")
    delta = f"{sentences.format_percent(share)} of those referred" if share is not None else None
    sentence = (
        f"{value} of the people referred in {period.phrase} enrolled "
        f"({sentences.format_percent(share)})."
        if share is not None
        else f"The number enrolled in {period.phrase} is withheld or too small to publish."
    )
    return Headline("Enrolled", value, delta, "none", sentence)
