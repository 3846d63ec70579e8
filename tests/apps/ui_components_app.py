"""A tiny page for AppTest: one of each ui.components piece, on small frames with withheld cells."""

from types import SimpleNamespace

import polars as pl
import streamlit as st

from data_access.metrics.registry import get_metric, list_metrics
from ui import charts, components

components.synthetic_banner()

referrals = pl.DataFrame(
    {
        "precinct": ["North", "East **bold** :red[x]", "South", "West"],
        "count": [120, None, 45, 88],
        "count_flag": [None, "fewer than 11", None, None],
    }
)
chart = charts.bar_chart(
    referrals,
    category="precinct",
    subject="referrals by precinct",
    value_label="Referrals",
    category_label="Precinct",
)
components.chart_card(
    "North had the most referrals: 120",
    chart.figure,
    chart.table,
    "Referrals: people referred to LEAD · Source: demo release · Data through 2025-12-31.",
    chart.alt,
    "referrals by precinct",
    key="referrals",
)
components.kpi(
    "Referrals", "214", "up 12% from Q3 2025", "People referred in the quarter", direction="up"
)
components.kpi("Re-arrest within 12 months", "30.0%", "down 4.0 points from 2024", direction="down")
components.withheld_note(
    ["fewer than 11", "fewer than 11", "withheld so a smaller count cannot be worked out"]
)
definition = SimpleNamespace(
    id="referrals",
    name="Referrals",
    description="People referred to LEAD by officers or the community.",
    numerator="People referred in the period",
    denominator="None (a count)",
    unit="people",
    caveats=["Counts from 1 to 10 are withheld."],
    source="Site case management system",
    method="Count of distinct people",
)
components.render_definition(definition)
st.caption(
    components.definition_caption(
        definition, source="Demo site records", as_of="2025-12-31", release_id="demo-1"
    )
)
with st.container(key="registry_definition"):
    components.render_definition(get_metric(list_metrics()[0].id))
