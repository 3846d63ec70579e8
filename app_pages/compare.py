"""Compare sites: the headline figures of every site in the release, side by side."""

from ui.context import page_setup

ctx = page_setup("Compare sites")

import streamlit as st  # noqa: E402  (the guard above must run first)

from ui import charts, headlines  # noqa: E402
from ui.compare_words import referral_frame, sites_frame  # noqa: E402
from ui.components import chart_card_for, table_data, withheld_note  # noqa: E402
from ui.data import fetch, sites  # noqa: E402
from ui.derive import pairs  # noqa: E402
from ui.text import escape_markdown  # noqa: E402

result = fetch("compare_sites", ctx)
site_table = sites(ctx.database_url, ctx.release.release_id)
names = pairs(site_table, "site_id", "site_name")
order = [s for s in result.facts["sites"].split(",") if s]

st.markdown(
    escape_markdown(
        f"Each site's figures for {ctx.period.phrase}, exactly as that site's own pages show "
        "them. Sites differ in size, eligibility rules and how long they have run, so read "
        "differences with care; nothing here is added up across sites."
    )
)
order_names = {s: names.get(s, s) for s in order}
# Through the table memo, as in the chart cards: the conversion to Arrow happens once.
st.dataframe(
    table_data(sites_frame(result, order_names)), hide_index=True, key="table-compare-sites"
)

chart = charts.bar_chart(
    referral_frame(result, order_names),
    category="site",
    value="referrals",
    subject=f"referrals in {ctx.period.phrase} by site",
    value_label="Referrals",
    category_label="Site",
)
chart_card_for(
    chart,
    title=f"Referrals in {ctx.period.short}, site by site",
    caption=headlines.caption(ctx, "referrals.count"),
    download_name=f"referrals-by-site-{ctx.period.code}",
    key="chart-compare-referrals",
)
withheld_note(headlines.reasons(result))
