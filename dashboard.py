"""The LEAD public dashboard (placeholder until the pages land, see issue 5)."""

import streamlit as st

st.set_page_config(page_title="LEAD public dashboard", layout="wide")
st.title("LEAD public dashboard")
st.info("The pages are being built. The data layer is available from the command line.")
