"""The floor: a page that only draws the dashboard page's figures, precomputed.

    LEAD_BENCH_FLOOR_DIR=DIR streamlit run bench/floor_app.py    # then /?page=referrals

DIR holds <page>.json, written by bench/server_time.py --figures-dir: each chart's
plotly spec, config and alt text exactly as the dashboard page sent them. This
page sends the same figures with the same st.plotly_chart arguments (wide layout,
no Streamlit theme, the page's plotly config, full width), and nothing else: no
database, no filters, no words, no tables. What a real page costs beyond this is
what our code adds; the rest is Streamlit and plotly.js, which no change of ours
can remove.
"""

import json
import os
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="LEAD benchmark floor", layout="wide")


@st.cache_resource(show_spinner=False)
def load_figures(folder: str, page: str) -> list[dict]:
    """The page's figures, read and built once per server (the precomputed part).

    Built into go.Figure objects here, once: st.plotly_chart copies a Figure but
    validates a dict into a new Figure on every run, which would make the floor
    slower than a page that reuses its finished figures.
    """
    charts = json.loads((Path(folder) / f"{page}.json").read_text())
    return [
        {
            "figure": go.Figure(json.loads(c["spec"])),
            "config": json.loads(c["config"] or "{}"),
            "alt": c.get("alt", ""),
        }
        for c in charts
    ]


page = st.query_params.get("page", "overview")
charts = load_figures(os.environ["LEAD_BENCH_FLOOR_DIR"], page)
if not charts:
    st.markdown(f"Page {page} has no chart.")
for number, chart in enumerate(charts):
    st.plotly_chart(
        chart["figure"],
        alt=chart["alt"] or None,
        theme=None,
        config=chart["config"],
        width="stretch",
        key=f"floor-{page}-{number}",
    )
