"""Data and methods: every definition, the privacy rules, the data contract, the corrections log.

Also the open-data bundle of the selected site and release: every table the
public pages show, as CSV files with a README and a data dictionary, built on
click by data_access.export from the same views the pages use.
"""

from ui.context import page_setup

ctx = page_setup("Data and methods")

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402  (the guard above must run first)

from data_access import __version__  # noqa: E402
from data_access.contract import TABLES  # noqa: E402
from data_access.disclosure import policy_for_k, policy_from_environment  # noqa: E402
from data_access.export_text import STAFF_LABEL, privacy_rules  # noqa: E402
from data_access.metrics.registry import list_metrics  # noqa: E402
from ui import open_data  # noqa: E402
from ui.components import render_definition  # noqa: E402
from ui.data import fetch  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

# Topics of the metric registry, in the order of the dashboard's pages.
TOPICS = {
    "referrals": "Referrals",
    "screening": "Eligibility screening",
    "diversion": "Diversion",
    "services": "Services",
    "recidivism": "Re-arrest (recidivism)",
    "disparity": "Disparities",
    "costs": "Costs",
}

history = fetch("release_history", ctx)
releases = history.table("releases")
k = releases.k  # the threshold the public figures are protected with; None for staff

st.markdown(
    "Where the numbers on this dashboard come from, how each one is computed, how the people "
    "behind them are protected, and what changed from one data release to the next. "
    "Everything on the other pages can be downloaded here as open data."
)

# ---------------------------------------------------------------- open data
st.header("Open data", anchor="open-data")
place, release_id = escape_markdown(ctx.site_name), escape_markdown(ctx.release.release_id)
st.markdown(
    f"One ZIP file with every table the public pages show for {place}, release "
    f"{release_id}: the same numbers, after the same privacy protection, as CSV files that "
    "open in any spreadsheet. It includes a README (definitions, privacy rules, the "
    "release's date), a data dictionary of every column, and the code lists. A value that "
    "is not published is an empty cell with its reason beside it, never a zero."
)
if ctx.is_staff:
    st.warning(f"{STAFF_LABEL}. This download holds exact counts.", icon=":material/lock:")
st.download_button(
    "Download the open data for "
    + escape_markdown(ctx.site_name)
    + (" (STAFF ONLY, ZIP)" if ctx.is_staff else " (ZIP)"),
    data=lambda: open_data.open_data_zip(
        ctx.database_url, ctx.release.release_id, ctx.release.checksum, ctx.site_id, ctx.audience
    ),
    file_name=open_data.file_name(ctx.release.release_id, ctx.site_id, ctx.audience),
    mime="application/zip",
    on_click="ignore",
    key="download-open-data",
    icon=":material/download:",
)
st.caption(
    "The file is put together when you click, which can take a little while. Counts are "
    "given for every quarter and year; the tables behind the charts for each whole year. "
    "Every site at once, with the chart tables of every quarter too: "
    "`python -m data_access export --out DIR` (docs/open-data.md describes each file and "
    "column)."
)

# ---------------------------------------------------------------- definitions
st.header("How each figure is defined", anchor="definitions")
st.markdown(
    "Each figure on the dashboard is one of these metrics. The same definitions are in the "
    "captions under the charts, in the briefing PDF and in the open-data README."
)
metrics = list_metrics()
for prefix, topic in TOPICS.items():
    chosen = [m for m in metrics if m.id.split(".")[0] == prefix]
    if not chosen:
        continue
    st.subheader(topic, anchor=False)
    for definition in chosen:
        with st.expander(definition.name):
            render_definition(definition)
other = [m for m in metrics if m.id.split(".")[0] not in TOPICS]
if other:
    st.subheader("Other", anchor=False)
    for definition in other:
        with st.expander(definition.name):
            render_definition(definition)

# ---------------------------------------------------------------- privacy
st.header("How people are protected", anchor="privacy")
# Staff see exact figures; the rules shown are the ones the public's figures are protected with.
policy = policy_for_k(k) if k else policy_from_environment()
st.markdown(
    f"No published number may reveal a group of 1 to {policy.k - 1} people, directly or by "
    "arithmetic on anything else published, on any page, chart, download or in the open data. "
    "The rules:"
)
st.markdown("\n".join(f"- {rule}" for rule in privacy_rules(policy)))
if k is None:
    st.info(
        "You are signed in as program staff: the figures you see are exact, and these rules "
        "are not applied to them. The public sees the protected figures."
    )
st.markdown(
    "What remains possible: a hidden value is never pinned to one number, but its range can be "
    f'narrow; "{policy.small_reason}" still tells a reader that a group is not empty; and two '
    "releases that differ slightly can be compared. The full policy, its sources and the risks it "
    "accepts are in docs/privacy.md."
)

# ---------------------------------------------------------------- data contract
st.header("Where the data come from", anchor="data-contract")
st.markdown(
    "Each LEAD site sends a *release*: a folder of tables of exact monthly counts, checked "
    "against the data contract (docs/data-contract.md) before it is loaded. The dashboard "
    "publishes only protected aggregates made from them; no record about a person is ever "
    "received or shown. The tables:"
)
contract = pl.DataFrame(
    [
        {
            "Table": table.name,
            "What it holds": table.description,
            "One row per": table.one_row_per,
            "Required": "yes" if table.required else "no (a site may leave it out)",
        }
        for table in TABLES
    ]
)
st.dataframe(
    contract,
    hide_index=True,
    width="stretch",
    key="methods-contract",
)

# ---------------------------------------------------------------- releases and corrections
st.header("Releases and corrections", anchor="releases")
st.markdown(
    "Every release the dashboard holds, newest first. A correction is published as a new "
    "release, and its notes say what changed; earlier releases stay available from the "
    "Data release menu, so a figure quoted from one can always be checked."
)
frame = releases.frame
st.dataframe(
    frame.select(
        pl.col("release_id").alias("Release"),
        pl.col("as_of").alias("Data through"),
        pl.col("synthetic").alias("Synthetic"),
        pl.col("sites").alias("Sites"),
        pl.col("produced_by").alias("Produced by"),
        pl.col("loaded_at").alias("Loaded"),
    ),
    hide_index=True,
    width="stretch",
    key="methods-releases",
)
st.subheader("Corrections log", anchor=False)
for row in frame.iter_rows(named=True):
    marker = " (shown on this dashboard now)" if row["release_id"] == ctx.release.release_id else ""
    st.markdown(
        f"**{escape_markdown(row['release_id'])}**, data through "
        f"{escape_markdown(row['as_of'])}{marker}"
    )
    st.markdown(escape_markdown(row["notes"]) if row["notes"] else "No notes.")
# Beside the releases: a figure quoted from this page is checked against this software too.
st.caption(f"Dashboard software: LEAD public dashboard, version {__version__}.")
