"""Streamlit components the pages are assembled from: chart cards, KPIs, notes, banners.

Every piece of text that may come from data (a precinct name, a site name, a
title built from them) goes through escape_markdown before it reaches a
markdown-rendering element, and tables go to st.dataframe, which shows text as
text. Colour never carries meaning alone: changes are told in words and arrows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, Protocol

import plotly.graph_objects as go
import polars as pl
import pyarrow as pa
import streamlit as st

from data_access.csv_safety import safe_csv_bytes
from ui import charts, theme
from ui.charts import Chart
from ui.text import escape_markdown

# Importing streamlit makes its own plotly template the default; ours wins back here.
theme.register_template()

TABLE_MEMO_SIZE = 256  # chart tables, as many as the charts they belong to


@st.cache_resource(show_spinner=False)
def _chart_memo() -> charts.Memo:
    """The finished charts of the server: a resource, so clearing Streamlit's caches
    (a test, a benchmark's cold run) forgets them as it forgets the view results."""
    return charts.Memo(charts.MEMO_SIZE)


@st.cache_resource(show_spinner=False)
def _table_memo() -> charts.Memo:
    return charts.Memo(TABLE_MEMO_SIZE)


charts.keep_charts_in(_chart_memo)


def table_data(table: pl.DataFrame) -> pl.DataFrame | pa.Table:
    """The table as st.dataframe would convert it (through pandas), converted once.

    st.dataframe turns a polars frame into pandas and then Arrow on every run; given
    the Arrow table it only serializes it. The conversion is pyarrow's from_pandas,
    as Streamlit's own, so the browser receives the same columns, types and index.
    """
    key = charts.content_key(table)
    if key is None:
        return table
    memo = _table_memo()
    arrow = memo.get(key)
    if arrow is None:
        try:
            arrow = pa.Table.from_pandas(table.to_pandas())
        except (pa.ArrowException, TypeError, ValueError):
            return table  # Streamlit's own conversion knows how to fix such columns
        memo.put(key, arrow)
    return arrow


SYNTHETIC_NOTICE = "Synthetic demonstration data: not real LEAD results"
TABLE_VIEW_LABEL = "Table view"
DOWNLOAD_LABEL = "Download this table (CSV)"

Direction = Literal["up", "down", "none"]


class MetricDefinitionLike(Protocol):
    """What the definition helpers need; data_access.metrics.registry.MetricDefinition has it.

    `source` (one string) or `sources` (several), and the optional `interval` and
    `reliability`, are read when present.
    """

    id: str
    name: str
    description: str
    numerator: str
    denominator: str
    unit: str
    caveats: object
    method: str


def _texts(value: object) -> list[str]:
    """A field that may be absent, one string, or several, as a list of non-empty strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if str(v).strip()]  # type: ignore[attr-defined]


def _sources(definition: object) -> list[str]:
    return _texts(getattr(definition, "sources", None)) or _texts(
        getattr(definition, "source", None)
    )


def download_file_name(name: str) -> str:
    """A safe file name ending in .csv: letters, digits, "-" and "_" only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name.removesuffix(".csv")).strip("-_").lower()
    return f"{stem or 'table'}.csv"


def chart_card(
    title: str,
    figure: go.Figure,
    table: pl.DataFrame,
    caption: str,
    alt: str,
    download_name: str,
    key: str,
) -> None:
    """A chart with its finding as title, a caption, a table view and a CSV of that table."""
    if not alt.strip():
        raise ValueError(f"chart_card {key!r}: alt text is required (describe the chart)")
    with st.container(key=f"chart_card_{key}"):
        st.subheader(escape_markdown(title), anchor=False)
        st.plotly_chart(
            figure,
            alt=alt,
            theme=None,
            config=theme.PLOTLY_CONFIG,
            width="stretch",
            key=f"{key}_chart",
        )
        if caption:
            st.caption(escape_markdown(caption))
        with st.expander(TABLE_VIEW_LABEL):
            st.dataframe(
                table_data(table),
                hide_index=True,
                width="stretch",
                alt=f"Table of the numbers in the chart: {alt}",
                key=f"{key}_table",
            )
            st.download_button(
                DOWNLOAD_LABEL,
                data=lambda: safe_csv_bytes(table),
                file_name=download_file_name(download_name),
                mime="text/csv",
                on_click="ignore",
                key=f"{key}_download",
                icon=":material/download:",
            )


def chart_card_for(chart: Chart, *, title: str, caption: str, download_name: str, key: str) -> None:
    """chart_card for a Chart from ui.charts: its figure, alt text and table."""
    chart_card(title, chart.figure, chart.table, caption, chart.alt, download_name, key)


_ARROWS: dict[Direction, Literal["up", "down", "off"]] = {
    "up": "up",
    "down": "down",
    "none": "off",
}


def kpi(
    label: str,
    value_text: str,
    delta_text: str | None = None,
    help: str | None = None,
    *,
    direction: Direction | None = None,
) -> None:
    """A headline figure and its change in words ("up 12% from Q3 2025"), in neutral grey.

    The arrow follows `direction`, never the sign of the text, and the colour is
    always off: whether a rise is good is for the words to say, not red/green.
    """
    st.metric(
        escape_markdown(label),
        escape_markdown(value_text),
        delta=escape_markdown(delta_text) if delta_text else None,
        delta_color="off",
        delta_arrow=_ARROWS[direction] if direction else "off",
        help=escape_markdown(help) if help else None,
        border=True,
    )


def withheld_note(reasons: Iterable[str]) -> None:
    """Why some values are not shown, in one sentence; nothing when none are withheld."""
    distinct = [escape_markdown(r) for r in dict.fromkeys(r for r in reasons if r)]
    if not distinct:
        return
    st.markdown(
        "Some values are not shown, to protect the people they describe. "
        f"Reasons given: {'; '.join(distinct)}. "
        "Each is marked where it would be, in the charts and in the tables."
    )


def synthetic_banner() -> None:
    """The banner every page shows while a synthetic release is displayed."""
    st.warning(SYNTHETIC_NOTICE, icon=":material/science:")


def definition_caption(
    definition: MetricDefinitionLike,
    *,
    source: str | None = None,
    as_of: str | None = None,
    release_id: str | None = None,
) -> str:
    """The caption under a chart: definition, denominator, data source and as_of, in one line.

    `source` is where the data came from (the site's release); the registry's
    sources are method citations and belong on the methods page.
    """
    parts = [
        f"{definition.name}: {definition.description}",
        f"Denominator: {definition.denominator}" if definition.denominator else "",
        f"Source: {source}" if source else "",
        f"Data through {as_of}" if as_of else "",
        f"Release {release_id}" if release_id else "",
    ]
    return " · ".join(p.rstrip(".") for p in parts if p) + "."


def render_definition(definition: MetricDefinitionLike) -> None:
    """One metric's definition as the registry writes it, for the methods page."""
    st.markdown(f"**{escape_markdown(definition.name)}**")
    st.markdown(escape_markdown(definition.description))
    rows = [
        ("Numerator", definition.numerator),
        ("Denominator", definition.denominator),
        ("Unit", definition.unit),
        ("Method", definition.method),
        ("Interval", getattr(definition, "interval", "")),
        ("Reliability", getattr(definition, "reliability", "")),
    ]
    st.markdown("\n".join(f"- {label}: {escape_markdown(value)}" for label, value in rows if value))
    for heading, items in (
        ("Caveats", _texts(definition.caveats)),
        ("Sources", _sources(definition)),
    ):
        if items:
            st.markdown(f"{heading}:\n" + "\n".join(f"- {escape_markdown(i)}" for i in items))
